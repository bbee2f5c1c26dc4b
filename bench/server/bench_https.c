/*
 * GET /certs over HTTPS with keep-alive, on 1 and 2 worker threads: a real
 * attestd (this build's binary) driven by wrk (Debian's, installed by
 * scripts/setup.sh). Beside it, the floor measured in this run: the
 * cryptography one such request needs (TLS record protection of the
 * response) plus the handler's copy of the cached JWKS, on one core, i.e.
 * the rate if HTTP parsing, TLS framing, syscalls and threads cost
 * nothing. wrk runs on the same 2 cores, so it takes a share of them.
 * Reports, never asserts.
 *
 * Environment: ATTEST_BENCH_SECONDS (default 5), ATTEST_BENCH_CONNECTIONS
 * (default 32).
 */
#include "../../tests/integration/harness.h"

#include "base/timeutil.h"
#include "keys/keys.h"

#include <libgen.h>
#include <openssl/evp.h>
#include <limits.h>

/* The attestd next to this benchmark: <build>/bench/bench_https → <build>/src/server/attestd. */
static int find_binary(void)
{
	char self[PATH_MAX], dir[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (getenv("ATTEST_BINARY_DIR") != NULL)
		return 0;
	if (n <= 0)
		return -1;
	self[n] = '\0';
	snprintf(dir, sizeof(dir), "%s/..", dirname(self));
	setenv("ATTEST_BINARY_DIR", dir, 1);
	return 0;
}

/*
 * The floor of one keep-alive GET /certs: the cryptography it needs (TLS
 * record protection, AES-256-GCM, of the response: ~200 bytes of head and
 * the JWKS) plus the handler's own work (a copy of the cached JWKS text).
 * Returns requests per second on one core.
 */
static double floor_per_s(size_t *jwks_len)
{
	struct keyring_opts ro = {.key = {.type = KEY_RSA2048, .subject_cn = "https://127.0.0.1:8443"},
				  .max_token_lifetime = 28800};
	struct keyring *ring = NULL;
	struct attest_err err = {0};
	json_t *jwks = NULL;
	char *text = NULL;
	uint8_t key[32] = {1}, iv[12] = {2}, tag[16], *ct;
	uint64_t t0, t1;
	int n = 0, outl;

	if (keyring_new(&ro, &ring, &err) != 0 || keyring_add_generated(ring, time_now(), NULL, &err) != 0 ||
	    keyring_jwks(ring, time_now(), &jwks, &err) != 0 || (text = json_dumps(jwks, JSON_COMPACT)) == NULL) {
		fprintf(stderr, "floor: %s\n", err.msg);
		keyring_free(ring);
		return 0;
	}
	*jwks_len = strlen(text);
	ct = malloc(*jwks_len + 256);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	t0 = time_mono_ns();
	do {
		for (int i = 0; i < 1000; i++, n++) {
			char *copy = malloc(*jwks_len + 200);
			memcpy(copy, "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
				     "x-ms-request-id: 00000000-0000-4000-8000-000000000000\r\n\r\n", 120);
			memcpy(copy + 120, text, *jwks_len);
			EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv);
			EVP_EncryptUpdate(c, ct, &outl, (const uint8_t *)copy, (int)(*jwks_len + 120));
			EVP_EncryptFinal_ex(c, ct + outl, &outl);
			EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag);
			free(copy);
		}
		t1 = time_mono_ns();
	} while (t1 - t0 < 1000000000ull);
	EVP_CIPHER_CTX_free(c);
	free(ct);
	free(text);
	json_decref(jwks);
	keyring_free(ring);
	return (double)n / ((double)(t1 - t0) / 1e9);
}

/* Runs wrk; fills req/s and latency percentiles (ms). */
static int run_wrk(const char *url, int seconds, int conns, double *rps, char *lat, size_t latcap)
{
	char cmd[512], line[512];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "wrk -t2 -c%d -d%ds --latency '%s' 2>&1", conns, seconds, url);
	f = popen(cmd, "r");
	if (f == NULL)
		return -1;
	*rps = 0;
	lat[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL) {
		double v;
		char unit[8];
		if (sscanf(line, "Requests/sec: %lf", &v) == 1)
			*rps = v;
		if (sscanf(line, " 50%% %lf%7s", &v, unit) == 2 || sscanf(line, " 99%% %lf%7s", &v, unit) == 2) {
			size_t l = strlen(lat);
			snprintf(lat + l, latcap - l, "%sp%s %.3g%s", l ? ", " : "", strstr(line, "50%") ? "50" : "99", v,
				 unit);
		}
	}
	return pclose(f) == 0 && *rps > 0 ? 0 : -1;
}

int main(void)
{
	const char *sec_s = getenv("ATTEST_BENCH_SECONDS"), *conn_s = getenv("ATTEST_BENCH_CONNECTIONS");
	int seconds = sec_s ? atoi(sec_s) : 5, conns = conn_s ? atoi(conn_s) : 32;
	double floor_rate;
	size_t jwks_len = 0;

	if (system("wrk --version >/dev/null 2>&1") > 256) {
		printf("bench_https: wrk is not installed (scripts/setup.sh installs it); skipped\n");
		return 0;
	}
	if (find_binary() != 0)
		return 0;
	floor_rate = floor_per_s(&jwks_len);
	printf("GET /certs, HTTPS keep-alive, wrk -t2 -c%d -d%ds (this machine: %ld cores; wrk shares them)\n", conns,
	       seconds, sysconf(_SC_NPROCESSORS_ONLN));
	printf("  floor, one core (AES-256-GCM of the %zu-byte response + the cached JWKS copy): %.0f /s\n", jwks_len + 120,
	       floor_rate);
	for (int workers = 1; workers <= 2; workers++) {
		struct attestd_proc p;
		char w[8], url[200], lat[128];
		double rps = 0;
		snprintf(w, sizeof(w), "%d", workers);
		const char *const extra[] = {"--workers", w, "--log-level", "error", NULL};
		if (attestd_prepare(&p) != 0) {
			printf("bench_https: attestd is not built; skipped\n");
			return 0;
		}
		/* The request log goes to a file: its cost is part of the service. */
		if (attestd_launch(&p, extra) != 0) {
			attestd_cleanup(&p);
			return 0;
		}
		snprintf(url, sizeof(url), "%s/certs", p.base);
		if (run_wrk(url, seconds, conns, &rps, lat, sizeof(lat)) == 0)
			printf("  attestd, %d worker%s: %.0f requests/s (%.1f%% of the floor), latency %s\n", workers,
			       workers > 1 ? "s" : " ", rps, 100.0 * rps / floor_rate, lat);
		else
			printf("  attestd, %d worker%s: wrk failed\n", workers, workers > 1 ? "s" : "");
		attestd_stop(&p, SIGTERM);
		attestd_cleanup(&p);
	}
	return 0;
}
