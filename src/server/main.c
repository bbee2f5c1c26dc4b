/*
 * attestd: start-up, first-start provisioning, and graceful shutdown.
 *
 * First start (an empty data folder) creates, in order: the data folder
 * (0700), the SQLite store (0600), the default provider, the bootstrap
 * administrator credential (printed once; only its SHA-256 is kept), the
 * KEK file and the first signing key (through keys/), and with --dev a
 * development TLS certificate. SIGTERM/SIGINT stop accepting connections,
 * let the requests in flight finish (up to 30 s), then exit 0.
 */
#include "base/buf.h"
#include "base/codec.h"
#include "base/timeutil.h"
#include "keys/keys.h"
#include "server/changes.h"
#include "server/config.h"
#include "server/devcert.h"
#include "server/http.h"
#include "server/httpd.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/ratelimit.h"
#include "server/routes.h"
#include "server/server.h"
#include "server/signing.h"
#include "store/store.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHUTDOWN_GRACE_MS 30000
#define META_ADMIN_DIGEST "bootstrap_admin_sha256"

int64_t srv_now(const struct srv *srv)
{
	return srv->cfg->fixed_time ? srv->cfg->fixed_time : time_now();
}

static int write_private_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t n = strlen(text);
	ssize_t w;

	if (fd < 0)
		return -1;
	w = write(fd, text, n);
	close(fd);
	return w == (ssize_t)n ? 0 : -1;
}

static int ensure_default_provider(struct srv *srv, struct attest_err *err)
{
	struct store_provider p = {0};
	int rc = store_provider_get(srv->store, srv->cfg->default_provider, &p, err);

	store_provider_clear(&p);
	if (rc != ATTEST_E_NOT_FOUND)
		return rc;
	attest_err_clear(err);
	snprintf(p.name, sizeof(p.name), "%s", srv->cfg->default_provider);
	p.mode = STORE_MODE_AAD;
	p.settings_json = "{}";
	struct store_audit a = {.actor = "attestd", .action = "provider.create", .provider = p.name,
				.detail = "{\"mode\":\"aad\",\"reason\":\"first start\"}", .time = time_now()};
	rc = store_provider_create(srv->store, &p, &a, err);
	if (rc == ATTEST_E_CONFLICT) /* another node created it first */
		rc = ATTEST_OK;
	if (rc == ATTEST_OK)
		srv_log(&srv->log, SRV_LOG_INFO, "created the default provider \"%s\" (mode aad)", p.name);
	return rc;
}

/*
 * The bootstrap administrator credential: made once, printed once, kept as
 * its SHA-256 only, so the store does not hold a usable secret.
 */
static int ensure_admin(struct srv *srv, struct attest_err *err)
{
	char *hex = NULL;
	int rc = store_meta_get(srv->store, META_ADMIN_DIGEST, &hex, err);

	if (rc == ATTEST_E_NOT_FOUND) {
		uint8_t secret[32], digest[32];
		char cred[80], dhex[65];
		unsigned int dl = 0;
		attest_err_clear(err);
		if (RAND_bytes(secret, sizeof(secret)) != 1)
			return attest_err_set(err, ATTEST_E_INTERNAL, "server.admin", "no randomness");
		snprintf(cred, sizeof(cred), "attestd-admin-");
		b64url_encode_to(secret, sizeof(secret), cred + strlen(cred));
		EVP_Digest(cred, strlen(cred), digest, &dl, EVP_sha256(), NULL);
		hex_encode_to(digest, 32, dhex);
		struct store_audit a = {.actor = "attestd", .action = "admin.bootstrap", .time = time_now(),
					.detail = "{\"credential\":\"created; shown once on stdout\"}"};
		rc = store_meta_put(srv->store, META_ADMIN_DIGEST, dhex, true, &a, err);
		if (rc == ATTEST_OK) {
			printf("\nBootstrap administrator credential (shown once; keep it safe):\n  %s\n"
			       "Use it as: Authorization: Bearer <credential> on /management/...\n\n",
			       cred);
			fflush(stdout);
			if (srv->cfg->admin_file[0] != '\0' && write_private_file(srv->cfg->admin_file, cred) != 0)
				srv_log(&srv->log, SRV_LOG_WARN, "cannot write %s", srv->cfg->admin_file);
		}
		OPENSSL_cleanse(cred, sizeof(cred));
		OPENSSL_cleanse(secret, sizeof(secret));
		if (rc == ATTEST_E_CONFLICT) /* another node won the race: use its credential */
			rc = store_meta_get(srv->store, META_ADMIN_DIGEST, &hex, err);
		else if (rc == ATTEST_OK)
			hex = strdup(dhex);
	}
	if (rc != ATTEST_OK)
		return rc;
	if (hex == NULL || hex_decode_to(hex, strlen(hex), srv->admin_digest, 32) != 0)
		rc = attest_err_set(err, ATTEST_E_IO, "server.admin", "stored administrator digest is damaged");
	else
		srv->admin_digest_set = true;
	free(hex);
	return rc;
}

static int load_tls(struct srv *srv, char **cert, char **key, struct attest_err *err)
{
	const struct srv_config *cfg = srv->cfg;
	uint8_t *c = NULL, *k = NULL;
	size_t n;

	if (cfg->tls_cert[0] != '\0' || cfg->tls_key[0] != '\0') {
		if (file_read_all(cfg->tls_cert, 1024 * 1024, &c, &n) != 0 ||
		    file_read_all(cfg->tls_key, 1024 * 1024, &k, &n) != 0) {
			free(c);
			return attest_err_set(err, ATTEST_E_IO, "server.tls", "cannot read tls_cert %s / tls_key %s",
					      cfg->tls_cert, cfg->tls_key);
		}
		*cert = (char *)c;
		*key = (char *)k;
		return ATTEST_OK;
	}
	if (!cfg->dev)
		return attest_err_set(err, ATTEST_E_INVALID, "server.tls",
				      "no TLS certificate: give --tls-cert and --tls-key, or --dev for a development one");
	char dir[SRV_PATH_MAX + 8];
	bool created = false;
	snprintf(dir, sizeof(dir), "%s/tls", cfg->data_dir);
	int rc = devcert_load_or_create(dir, time_now(), cert, key, &created, err);
	if (rc == ATTEST_OK && created)
		srv_log(&srv->log, SRV_LOG_INFO, "created a development TLS certificate: %s/dev-cert.pem", dir);
	return rc;
}

static int register_routes(struct srv *srv, struct attest_err *err)
{
	int rc = routes_meta_register(srv->router, srv, err);

	if (rc == ATTEST_OK)
		rc = routes_policy_register(srv->router, srv, err);
	if (rc == ATTEST_OK)
		rc = routes_mgmt_register(srv->router, srv, err);
	rc = rc == ATTEST_OK ? routes_pccs_register(srv->router, srv, err) : rc;
	rc = rc == ATTEST_OK ? routes_collateral_register(srv->router, srv, err) : rc;
	/* The attest pipeline registers last, so it can take over routes (http.h). */
	if (rc == ATTEST_OK && pipeline_routes_register != NULL)
		rc = pipeline_routes_register(srv->router, srv, err);
	else if (rc == ATTEST_OK)
		srv_log(&srv->log, SRV_LOG_WARN, "the attest pipeline is not built in: no /attest routes");
	return rc;
}

static void print_banner(const struct srv *srv, int port)
{
	const struct srv_config *cfg = srv->cfg;

	printf("attestd %s listening on https://%s:%d (issuer %s, %s store, data %s)\n", ATTEST_VERSION, cfg->listen,
	       port, cfg->public_url, cfg->store_uri, cfg->data_dir);
	if (cfg->dev && cfg->tls_cert[0] == '\0')
		printf("Try it:\n  curl --cacert %s/tls/dev-cert.pem %s/certs\n"
		       "  curl --cacert %s/tls/dev-cert.pem %s/.well-known/openid-configuration\n",
		       cfg->data_dir, cfg->public_url, cfg->data_dir, cfg->public_url);
	else
		printf("Try it:\n  curl %s/certs\n", cfg->public_url);
	fflush(stdout);
	if (cfg->port_file[0] != '\0') {
		char num[16];
		snprintf(num, sizeof(num), "%d\n", port);
		if (write_private_file(cfg->port_file, num) != 0)
			srv_log(&srv->log, SRV_LOG_WARN, "cannot write %s", cfg->port_file);
	}
}

static int run(struct srv *srv, struct srv_config *cfg, sigset_t *sigs)
{
	struct attest_err err = {0};
	char *cert = NULL, *key = NULL;
	int port = 0, sig = 0, lsock = -1, rc;

	rc = store_make_private_dir(cfg->data_dir, &err);
	if (rc == ATTEST_OK)
		rc = store_open(cfg->store_uri, NULL, &srv->store, &err);
	if (rc == ATTEST_OK)
		rc = ensure_default_provider(srv, &err);
	if (rc == ATTEST_OK)
		rc = ensure_admin(srv, &err);
	if (rc == ATTEST_OK)
		rc = srv_signing_open(srv, &err);
	if (rc == ATTEST_OK)
		rc = load_tls(srv, &cert, &key, &err);
	if (rc == ATTEST_OK)
		rc = register_routes(srv, &err);
	if (rc == ATTEST_OK)
		rc = httpd_listen(cfg, &lsock, &port, &err);
	/* What depends on the port (the public URL) is set before any worker reads it. */
	if (rc == ATTEST_OK)
		srv_config_finish(cfg, port);
	/* On failure the socket is left to the exit below: libmicrohttpd may have closed it already. */
	if (rc == ATTEST_OK)
		rc = httpd_start(srv, cert, key, lsock, &srv->httpd, &err);
	if (key != NULL)
		mem_free_secret(key, strlen(key));
	free(cert);
	if (rc != ATTEST_OK) {
		srv_log(&srv->log, SRV_LOG_ERROR, "cannot start: %s (%s%s%s)", err.msg, err.name, err.where[0] ? " at " : "",
			err.where);
		return 1;
	}
	struct srv_changes *changes = NULL;
	if (srv_changes_start(srv, &changes, &err) != ATTEST_OK)
		srv_log(&srv->log, SRV_LOG_WARN, "%s: caches rely on their 1 s lifetime", err.msg);
	srv->ready = 1;
	print_banner(srv, port);
	srv_log(&srv->log, SRV_LOG_INFO, "ready: %d workers, body limit %zu bytes, timeout %d s",
		cfg->workers > 0 ? cfg->workers : (int)sysconf(_SC_NPROCESSORS_ONLN), cfg->max_body, cfg->conn_timeout);
	while (sigwait(sigs, &sig) != 0 || (sig != SIGTERM && sig != SIGINT))
		;
	srv->ready = 0;
	srv_log(&srv->log, SRV_LOG_INFO, "signal %d: finishing %lld request(s) in flight, then stopping", sig,
		(long long)httpd_inflight(srv->httpd));
	srv_changes_stop(changes);
	int64_t left = httpd_stop(srv->httpd, SHUTDOWN_GRACE_MS);
	srv->httpd = NULL;
	if (left > 0)
		srv_log(&srv->log, SRV_LOG_WARN, "%lld request(s) cut short after %d ms", (long long)left,
			SHUTDOWN_GRACE_MS);
	srv_log(&srv->log, SRV_LOG_INFO, "stopped");
	return 0;
}

int main(int argc, char **argv)
{
	static struct srv_config cfg;
	struct srv srv;
	struct attest_err err = {0}, kerr = {0};
	bool exit_now = false, locked = false;
	sigset_t sigs;
	int code;

	srv_config_defaults(&cfg);
	if (srv_config_from_args(&cfg, argc, argv, &exit_now, &err) != ATTEST_OK) {
		fprintf(stderr, "attestd: %s%s%s\n", err.msg, err.where[0] ? " at " : "", err.where);
		return 2;
	}
	if (exit_now)
		return 0;
	srv_config_finish(&cfg, cfg.port);
	/*
	 * Signing keys and the KEK live in this process's memory: no core dump
	 * (and no ptrace by other users) may carry them out. ATTESTD_ALLOW_CORE=1
	 * allows cores when debugging a crash on a machine with test keys.
	 */
	if (getenv("ATTESTD_ALLOW_CORE") == NULL)
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* libtss2-mu logs malformed input to stderr by default: attacker-controlled noise in our logs. */
	setenv("TSS2_LOG", "all+NONE", 0);
	curl_global_init(CURL_GLOBAL_DEFAULT); /* before any thread: providers' issuer keys are fetched with libcurl */
	memset(&srv, 0, sizeof(srv));
	srv.cfg = &cfg;
	srv.log.level = cfg.log_level;
	srv.log.json = cfg.json_logs;
	srv.service_version = ATTEST_VERSION;
	srv.started = time_now();
	if (cfg.fixed_time != 0)
		srv_log(&srv.log, SRV_LOG_WARN, "TEST ONLY: the clock is fixed at %lld (--test-fixed-time)",
			(long long)cfg.fixed_time);
	/* Private keys live in OpenSSL's secure heap (mlocked, left out of core dumps): set it up first. */
	if (keys_secure_heap_init(&locked, &kerr) != ATTEST_OK) {
		srv_log(&srv.log, SRV_LOG_ERROR, "%s", kerr.msg);
		return 1;
	}
	if (!locked)
		srv_log(&srv.log, SRV_LOG_WARN, "the secure heap for private keys could not be locked in memory "
						"(RLIMIT_MEMLOCK, see `ulimit -l`): keys may be swapped out; they stay "
						"out of core dumps");
	/* Signals go to sigwait in this thread only: block them before any thread starts. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	srv.router = http_router_new();
	srv.metrics = srv_metrics_new();
	srv.ratelimit = srv_ratelimit_new();
	if (srv.router == NULL || srv.metrics == NULL || srv.ratelimit == NULL)
		code = 1;
	else
		code = run(&srv, &cfg, &sigs);
	if (pipeline_shutdown != NULL)
		pipeline_shutdown(&srv);
	srv_signing_close(&srv);
	store_close(srv.store);
	http_router_free(srv.router);
	srv_metrics_free(srv.metrics);
	srv_ratelimit_free(srv.ratelimit);
	curl_global_cleanup();
	return code;
}
