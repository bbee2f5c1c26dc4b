/*
 * attestd as a PCCS (issue 12): a real attestd with --pccs serves the real
 * collateral of shared/vectors under the Intel PCS v4 paths, with PCS's
 * bodies, URL-encoded issuer-chain headers and status codes, and two
 * independent clients use it:
 *   - our own PCS client inside a second attestd (B --pcs-url A) verifies
 *     a real SGX and a real TDX quote with collateral fetched from A;
 *   - @phala/dcap-qvl (tests/interop/pccs_dcap_qvl.mjs) fetches the same
 *     quotes' collateral from A with its PCCS client and verifies them,
 *     reaching EXPECTED.md's verdicts.
 * Plus the error paths (400 for malformed parameters, 404 for an unknown
 * FMSPC, identity or CA, 503 + Retry-After while the upstream of a cold
 * item is down), the option being off by default, and serving from the
 * cache in front of a replayed PCS. Every attestd must exit 0 on SIGTERM
 * (in the sanitizer build: no leak, no error on any of these paths).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/codec.h"
#include "collateral/pcs_http.h"
#include "evidence/amd_certs.h"
#include "harness.h"
#include "testutil.h"
#include "test_pcs_server.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#define SGX_VEC	     "sgx/phala-sgx-v3-00a067110000-2023-11"
#define SGX_FM	     "00a067110000"
#define TDX_VEC	     "tdx/phala-tdx-v4-b0c06f000000-2025-06"
#define SNP_VEC	     "snp/gsg-milan-v2-2022-09"
#define SGX_SAME_DAY "sgx/phala-sgx-v3-00a067110000-2025-06" /* the TDX vector's day */
#define V4	     "/sgx/certification/v4"

/*
 * The attestd nodes a test started, so that the teardown stops them when a
 * failed assertion ends the test before its own stop (no node outlives it).
 */
#define MAX_LIVE 8
static struct {
	pid_t pid;
	char dir[256];
} live[MAX_LIVE];

static void live_add(const struct attestd_proc *p)
{
	for (size_t i = 0; i < MAX_LIVE; i++)
		if (live[i].pid == 0) {
			live[i].pid = p->pid;
			snprintf(live[i].dir, sizeof(live[i].dir), "%s", p->dir);
			return;
		}
}

static void live_drop(pid_t pid)
{
	for (size_t i = 0; i < MAX_LIVE; i++)
		if (live[i].pid == pid)
			live[i].pid = 0;
}

static int launch(struct attestd_proc *p, const char *const *flags)
{
	int rc = attestd_launch(p, flags);

	if (rc == 0)
		live_add(p);
	return rc;
}

static int start(struct attestd_proc *p, const char *const *flags)
{
	return attestd_prepare(p) == 0 ? launch(p, flags) : -1;
}

/* SIGTERM and wait; the exit status (0 expected: under ASan no leak, no error). */
static int stop(struct attestd_proc *p)
{
	live_drop(p->pid);
	return attestd_stop(p, SIGTERM);
}

static int stop_leftovers(void **state)
{
	char cmd[300];

	(void)state;
	for (size_t i = 0; i < MAX_LIVE; i++) {
		if (live[i].pid == 0)
			continue;
		kill(live[i].pid, SIGKILL);
		waitpid(live[i].pid, NULL, 0);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", live[i].dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", live[i].dir);
		live[i].pid = 0;
	}
	return 0;
}

static long get(const struct attestd_proc *p, const char *path, struct http_reply *r)
{
	assert_int_equal(http_do(p, "GET", path, NULL, NULL, 0, NULL, r), 0);
	return r->status;
}

/* GET path, expect status, free the reply. */
static void expect(const struct attestd_proc *p, const char *path, long status)
{
	struct http_reply r;

	if (get(p, path, &r) != status)
		fprintf(stderr, "GET %s: %ld, expected %ld: %s\n", path, r.status, status, r.body);
	assert_int_equal(r.status, status);
	http_reply_free(&r);
}

static void assert_body_is(const struct http_reply *r, const char *vectors, const char *rel)
{
	size_t n = 0;
	uint8_t *want = test_read_vector(vectors, rel, &n);

	assert_non_null(want);
	assert_int_equal(r->body_len, n);
	assert_memory_equal(r->body, want, n);
	free(want);
}

/* The header is the file, URL-encoded (PCS v4), and decodes to it exactly. */
static void assert_chain_header(const struct http_reply *r, const char *hdr, const char *vectors,
				const char *rel)
{
	char v[8192];
	size_t n = 0, got = 0;
	uint8_t *want = test_read_vector(vectors, rel, &n);
	char *pem;

	assert_non_null(want);
	assert_true(http_header(r, hdr, v, sizeof(v)));
	assert_null(strchr(v, '\n'));
	pem = pcs_http_url_decode(v, strlen(v), &got);
	assert_non_null(pem);
	assert_int_equal(got, n);
	assert_memory_equal(pem, want, n);
	free(pem);
	free(want);
}

static int64_t vector_now(const char *vectors, const char *vec)
{
	char rel[256];
	size_t n = 0;
	uint8_t *b;
	json_t *j;
	int64_t now;

	snprintf(rel, sizeof(rel), "%s/bundle.json", vec);
	b = test_read_vector(vectors, rel, &n);
	assert_non_null(b);
	j = json_loadb((const char *)b, n, 0, NULL);
	now = (int64_t)json_integer_value(json_object_get(j, "now_unix"));
	json_decref(j);
	free(b);
	assert_true(now > 0);
	return now;
}

static char *attest_body(const char *vectors, const char *vec)
{
	char rel[256];
	size_t n = 0;
	unsigned char *q;
	char *b64, *body = NULL;

	snprintf(rel, sizeof(rel), "%s/quote.bin", vec);
	q = test_read_vector(vectors, rel, &n);
	b64 = q ? b64url_encode(q, n) : NULL;
	if (b64 && (body = malloc(strlen(b64) + 32)) != NULL)
		sprintf(body, "{\"quote\":\"%s\"}", b64);
	free(b64);
	free(q);
	return body;
}

static long attest(const struct attestd_proc *p, const char *type, const char *body)
{
	const char *const hdrs[] = {"Content-Type: application/json", NULL};
	struct http_reply r;
	char path[128];
	long st;

	snprintf(path, sizeof(path), "/attest/%s?api-version=2022-08-01", type);
	assert_int_equal(http_do(p, "POST", path, hdrs, body, strlen(body), NULL, &r), 0);
	st = r.status;
	if (st != 200)
		fprintf(stderr, "attest %s answered %ld: %s\n", type, st, r.body ? r.body : "");
	http_reply_free(&r);
	return st;
}

static void pccs_routes_are_off_by_default(void **state)
{
	struct attestd_proc a;
	char dir[1024];

	(void)state;
	REQUIRE_VECTORS(vectors);
	snprintf(dir, sizeof(dir), "%s/%s", vectors, SGX_VEC);
	const char *const flags[] = {"--collateral-dir", dir, NULL};
	assert_int_equal(start(&a, flags), 0);
	expect(&a, V4 "/tcb?fmspc=" SGX_FM, 404);
	expect(&a, V4 "/qe/identity", 404);
	assert_int_equal(stop(&a), 0);
	attestd_cleanup(&a);
}

/* A scratch collateral folder: each pair is (name in the folder, file below the vectors). */
static void make_folder(const char *vectors, const char *tmp, const char *const *pairs)
{
	char from[1024], to[1024];

	assert_int_equal(mkdir(tmp, 0700), 0);
	for (size_t i = 0; pairs[i] != NULL; i += 2) {
		snprintf(from, sizeof(from), "%s/%s", vectors, pairs[i + 1]);
		snprintf(to, sizeof(to), "%s/%s", tmp, pairs[i]);
		assert_int_equal(symlink(from, to), 0);
	}
}

static void remove_folder(const char *tmp)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	assert_int_equal(system(cmd), 0);
}

/* An encrypted PPID query (256 bytes of 0xab, or a bad one) in path. */
static void pckcert_path(char *path, size_t cap, const char *byte)
{
	int o = snprintf(path, cap, V4 "/pckcert?encrypted_ppid=");

	for (int i = 0; i < 256; i++)
		o += snprintf(path + o, cap - (size_t)o, "%s", byte);
	snprintf(path + o, cap - (size_t)o,
		 "&cpusvn=00000000000000000000000000000000&pcesvn=0b00&pceid=0000");
}

static void pck_crl_in_both_encodings(const struct attestd_proc *a, const char *vectors)
{
	struct http_reply r;
	char type[128];
	size_t n = 0;
	uint8_t *der = test_read_vector(vectors, SGX_VEC "/pck_crl.der", &n), *out = NULL;
	BIO *bio;
	X509_CRL *crl;
	int len;

	assert_int_equal(get(a, V4 "/pckcrl?ca=processor&encoding=der", &r), 200);
	assert_body_is(&r, vectors, SGX_VEC "/pck_crl.der");
	assert_chain_header(&r, "SGX-PCK-CRL-Issuer-Chain", vectors, SGX_VEC "/pck_crl_issuer_chain.pem");
	assert_true(http_header(&r, "Content-Type", type, sizeof(type)));
	assert_string_equal(type, "application/pkix-crl");
	http_reply_free(&r);
	/* PCS's default encoding is PEM: the same CRL */
	assert_int_equal(get(a, V4 "/pckcrl?ca=PROCESSOR", &r), 200);
	assert_non_null(strstr(r.body, "-----BEGIN X509 CRL-----"));
	bio = BIO_new_mem_buf(r.body, (int)r.body_len);
	crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
	assert_non_null(crl);
	len = i2d_X509_CRL(crl, &out);
	assert_int_equal((size_t)len, n);
	assert_memory_equal(out, der, n);
	OPENSSL_free(out);
	X509_CRL_free(crl);
	BIO_free(bio);
	http_reply_free(&r);
	free(der);
}

static void attestd_serves_the_vector_collateral_as_pcs_v4_does(void **state)
{
	struct attestd_proc a;
	struct http_reply r;
	char dir[1024], type[128], path[1200];
	size_t n = 0;
	uint8_t *der;
	char *hex;

	(void)state;
	REQUIRE_VECTORS(vectors);
	snprintf(dir, sizeof(dir), "%s/%s", vectors, SGX_VEC);
	const char *const flags[] = {"--pccs", "--pccs-pckcert", "--collateral-dir", dir, NULL};
	assert_int_equal(start(&a, flags), 0);

	/* TCB Info: body as PCS sends it, chain header, either case of FMSPC */
	assert_int_equal(get(&a, V4 "/tcb?fmspc=" SGX_FM, &r), 200);
	assert_body_is(&r, vectors, SGX_VEC "/tcb_info.json");
	assert_chain_header(&r, "TCB-Info-Issuer-Chain", vectors, SGX_VEC "/tcb_info_issuer_chain.pem");
	assert_true(http_header(&r, "Content-Type", type, sizeof(type)));
	assert_string_equal(type, "application/json");
	http_reply_free(&r);
	expect(&a, V4 "/tcb?fmspc=00A067110000&update=standard", 200);
	/* QE identity */
	assert_int_equal(get(&a, V4 "/qe/identity", &r), 200);
	assert_body_is(&r, vectors, SGX_VEC "/qe_identity.json");
	assert_chain_header(&r, "SGX-Enclave-Identity-Issuer-Chain", vectors,
			    SGX_VEC "/qe_identity_issuer_chain.pem");
	http_reply_free(&r);
	pck_crl_in_both_encodings(&a, vectors);
	/* Root CA CRL: PCCS's hex text of the DER */
	assert_int_equal(get(&a, V4 "/rootcacrl", &r), 200);
	der = test_read_vector(vectors, SGX_VEC "/root_ca_crl.der", &n);
	hex = hex_encode(der, n);
	assert_string_equal(r.body, hex);
	free(hex);
	free(der);
	http_reply_free(&r);
	/* PCK certificates: the folder has none (the upstream test serves one); malformed queries */
	pckcert_path(path, sizeof(path), "ab");
	expect(&a, path, 404);
	pckcert_path(path, sizeof(path), "xy");
	expect(&a, path, 400);
	expect(&a, V4 "/pckcert?encrypted_ppid=abcd&cpusvn=00&pcesvn=0b00&pceid=0000", 400);

	/* what the folder does not hold, or not for the key asked: 404 as PCS */
	expect(&a, V4 "/tcb?fmspc=00A067110001", 404);
	expect(&a, "/tdx/certification/v4/tcb?fmspc=" SGX_FM, 404); /* the file says "SGX" */
	expect(&a, "/tdx/certification/v4/qe/identity", 404);	    /* its id is "QE", not "TD_QE" */
	expect(&a, V4 "/qve/identity", 404);
	expect(&a, V4 "/tcb?fmspc=" SGX_FM "&update=early", 404); /* no early set in the folder */
	expect(&a, V4 "/pckcrl?ca=platform&encoding=der", 404);	  /* its CRL is the Processor CA's */
	expect(&a, "/vcek/v1/Milan/cert_chain", 404);		  /* no AMD source */
	expect(&a, "/vlek/v1/Turin/crl", 404);
	expect(&a, "/vcek/v1/Rome/cert_chain", 404);
	/* malformed parameters: 400 */
	assert_int_equal(get(&a, V4 "/tcb?fmspc=00a06711000", &r), 400);
	assert_true(http_header(&r, "x-ms-error-code", type, sizeof(type)));
	assert_string_equal(type, "InvalidParameter");
	assert_non_null(strstr(r.body, "pccs.fmspc"));
	http_reply_free(&r);
	expect(&a, V4 "/tcb", 400);
	expect(&a, V4 "/tcb?fmspc=00a0671100zz", 400);
	expect(&a, V4 "/tcb?fmspc=00a0671100001", 400);
	expect(&a, V4 "/tcb?fmspc=" SGX_FM "&update=sometimes", 400);
	expect(&a, V4 "/tcb?fmspc=" SGX_FM "&update=early&tcbEvaluationDataNumber=17", 400);
	expect(&a, V4 "/tcb?fmspc=" SGX_FM "&tcbEvaluationDataNumber=-1", 400);
	expect(&a, V4 "/tcb?fmspc=" SGX_FM "&tcbEvaluationDataNumber=99999999999", 400);
	expect(&a, V4 "/qe/identity?update=late", 400);
	expect(&a, V4 "/pckcrl", 400);
	expect(&a, V4 "/pckcrl?ca=root", 400);
	expect(&a, V4 "/pckcrl?ca=processor&encoding=xml", 400);
	expect(&a, "/vcek/v1/Milan/00?blSPL=1&teeSPL=0&snpSPL=8&ucodeSPL=115", 400);
	expect(&a, "/vcek/v1/Turin/0011223344556677?blSPL=1&teeSPL=0&snpSPL=8&ucodeSPL=115",
	       400); /* no fmcSPL */
	expect(&a, "/vcek/v1/Turin/0011223344556677?fmcSPL=1&blSPL=1&teeSPL=0&snpSPL=300&ucodeSPL=1", 400);
	expect(&a, "/vcek/v1/Turin/0011223344556677?fmcSPL=1&blSPL=1&teeSPL=0&snpSPL=3&ucodeSPL=1", 404);
	/* methods other than GET */
	assert_int_equal(http_do(&a, "POST", V4 "/qe/identity", NULL, "x", 1, NULL, &r), 0);
	assert_int_equal(r.status, 405);
	http_reply_free(&r);
	/* under an explicit provider too */
	expect(&a, "/providers/default" V4 "/qe/identity", 200);
	assert_int_equal(stop(&a), 0);
	attestd_cleanup(&a);
}

static bool node_ready(char *script, size_t cap)
{
	const char *src = getenv("ATTEST_SOURCE_DIR");
	char mod[1200];

	snprintf(script, cap, "%s/tests/interop/pccs_dcap_qvl.mjs", src ? src : ".");
	snprintf(mod, sizeof(mod), "%s/tests/interop/node_modules/@phala/dcap-qvl/package.json",
		 src ? src : ".");
	if (system("node --version >/dev/null 2>&1") != 0) {
		fprintf(stderr,
			"SKIP (dcap-qvl part): node is not installed (scripts/setup.sh installs it)\n");
		return false;
	}
	if (access(mod, R_OK) != 0 || access(script, R_OK) != 0) {
		fprintf(
		    stderr,
		    "SKIP (dcap-qvl part): tests/interop/node_modules is absent (run scripts/setup.sh)\n");
		return false;
	}
	return true;
}

/* dcap-qvl fetches the vector's collateral from a and verifies its quote; returns node's exit status. */
static int run_dcap_qvl(const struct attestd_proc *a, const char *script, const char *vectors,
			const char *vec, const char *crl_vec, int64_t now, const char *status)
{
	char dir[1024], nows[32], crl[1024], crl_chain[1024];
	pid_t pid;
	int st = 0;

	snprintf(dir, sizeof(dir), "%s/%s", vectors, vec);
	snprintf(nows, sizeof(nows), "%lld", (long long)now);
	snprintf(crl, sizeof(crl), "%s/%s/pck_crl.der", vectors, crl_vec);
	snprintf(crl_chain, sizeof(crl_chain), "%s/%s/pck_crl_issuer_chain.pem", vectors, crl_vec);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setenv("PCCS_URL", a->base, 1);
		setenv("VECTOR_DIR", dir, 1);
		setenv("NOW", nows, 1);
		setenv("EXPECTED_STATUS", status, 1);
		setenv("PCK_CRL_FILE", crl, 1);
		setenv("PCK_CRL_CHAIN_FILE", crl_chain, 1);
		setenv("NODE_EXTRA_CA_CERTS", a->cacert, 1);
		unsetenv("HTTPS_PROXY");
		unsetenv("https_proxy");
		unsetenv("LD_PRELOAD"); /* node is not instrumented */
		execlp("node", "node", script, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * A serves the folder dir as a PCCS; B (our PCS client) attests vec's
 * quote with A as its only collateral source; dcap-qvl verifies it from A
 * too (receiving crl_vec's PCK CRL for the CA it asks, see below).
 */
static void quote_verifies_with_attestd_as_pccs(const char *vectors, const char *dir, const char *vec,
						const char *crl_vec, const char *type,
						const char *dcap_status)
{
	struct attestd_proc a, b;
	char now_s[32], script[1024];
	int64_t now = vector_now(vectors, vec);
	char *body = attest_body(vectors, vec);

	assert_non_null(body);
	snprintf(now_s, sizeof(now_s), "%lld", (long long)now);
	const char *const fa[] = {"--pccs", "--collateral-dir", dir, NULL};
	assert_int_equal(start(&a, fa), 0);
	const char *const fb[] = {"--pcs-url", a.base, "--collateral-ca-file", a.cacert, "--test-fixed-time",
				  now_s,       NULL};
	assert_int_equal(start(&b, fb), 0);
	assert_int_equal(attest(&b, type, body), 200);
	assert_int_equal(attest(&b, type, body), 200); /* warm: from B's cache */
	if (node_ready(script, sizeof(script)))
		assert_int_equal(run_dcap_qvl(&a, script, vectors, vec, crl_vec, now, dcap_status), 0);
	assert_int_equal(stop(&b), 0);
	attestd_cleanup(&b);
	assert_int_equal(stop(&a), 0);
	attestd_cleanup(&a);
	free(body);
}

static void our_pcs_client_and_dcap_qvl_verify_an_sgx_quote_with_collateral_from_attestd(void **state)
{
	char dir[1024];

	(void)state;
	REQUIRE_VECTORS(vectors);
	snprintf(dir, sizeof(dir), "%s/%s", vectors, SGX_VEC);
	quote_verifies_with_attestd_as_pccs(vectors, dir, SGX_VEC, SGX_VEC, "SgxEnclave",
					    "ConfigurationAndSWHardeningNeeded");
}

static void our_pcs_client_and_dcap_qvl_verify_a_tdx_quote_with_collateral_from_attestd(void **state)
{
	/*
	 * Every TDX PCK certificate here is issued by the Platform CA, which our
	 * client asks for; dcap-qvl 0.3.9 reads the issuer as the Processor CA
	 * (its issuer-name check does not match) and asks ca=processor, which
	 * PCS answers with the Processor CA's CRL. attestd refuses to pass one
	 * CA's CRL off as the other's, so the folder holds both, as PCS does:
	 * the Processor CA CRL of the same day comes from the SGX vector.
	 */
	static const char *const pairs[] = {"tcb_info.json",
					    TDX_VEC "/tcb_info.json",
					    "tcb_info_issuer_chain.pem",
					    TDX_VEC "/tcb_info_issuer_chain.pem",
					    "qe_identity.json",
					    TDX_VEC "/qe_identity.json",
					    "qe_identity_issuer_chain.pem",
					    TDX_VEC "/qe_identity_issuer_chain.pem",
					    "root_ca_crl.der",
					    TDX_VEC "/root_ca_crl.der",
					    "pck_crl_platform.der",
					    TDX_VEC "/pck_crl.der",
					    "pck_crl_platform_issuer_chain.pem",
					    TDX_VEC "/pck_crl_issuer_chain.pem",
					    "pck_crl_processor.der",
					    SGX_SAME_DAY "/pck_crl.der",
					    "pck_crl_processor_issuer_chain.pem",
					    SGX_SAME_DAY "/pck_crl_issuer_chain.pem",
					    NULL};
	char tmp[300];

	(void)state;
	REQUIRE_VECTORS(vectors);
	snprintf(tmp, sizeof(tmp), "/tmp/attestd-pccs-tdx-%d", (int)getpid());
	make_folder(vectors, tmp, pairs);
	quote_verifies_with_attestd_as_pccs(vectors, tmp, TDX_VEC, SGX_SAME_DAY, "TdxVm", "UpToDate");
	remove_folder(tmp);
}

/*
 * In front of an online upstream (a replayed PCS), the PCCS routes serve
 * the cache: a repeat costs no upstream request, a cached item survives an
 * outage, an item never fetched answers 503 + Retry-After meanwhile.
 */
static void pccs_serves_the_cache_in_front_of_an_upstream_and_its_outages(void **state)
{
	struct tps up = {0};
	struct attestd_proc a;
	struct http_reply r;
	char ca[512], route[256], ra[32], path[1200], url[TPS_URL_MAX];
	unsigned n;
	FILE *f;

	(void)state;
	REQUIRE_VECTORS(vectors);
	assert_true(tps_add_intel(&up, vectors, SGX_VEC));
	snprintf(route, sizeof(route), "%s/root_ca_crl.der", SGX_VEC);
	assert_true(tps_route_file(&up, vectors, V4 "/rootcacrl", route, NULL, NULL, "application/pkix-crl"));
	/* any PEM stands in for a PCK certificate: attestd passes it through */
	assert_true(tps_route_file(&up, vectors, V4 "/pckcert", SGX_VEC "/tcb_info_issuer_chain.pem",
				   "SGX-PCK-Certificate-Issuer-Chain", SGX_VEC "/pck_crl_issuer_chain.pem",
				   "application/x-pem-file"));
	assert_true(tps_route_file(&up, vectors, "/vcek/v1/Milan/*", SNP_VEC "/vcek.der", NULL, NULL,
				   "application/pkix-cert"));
	assert_true(tps_start(&up));
	assert_int_equal(attestd_prepare(&a), 0);
	snprintf(ca, sizeof(ca), "%s/upstream-ca.pem", a.dir);
	f = fopen(ca, "w");
	fputs(up.cert_pem, f);
	fclose(f);
	const char *const flags[] = {"--pccs",
				     "--pccs-pckcert",
				     "--pccs-fetch",
				     "--pcs-url",
				     up.base,
				     "--kds-url",
				     up.base,
				     "--collateral-ca-file",
				     ca,
				     "--test-fixed-time",
				     "1700611200",
				     NULL};
	{ /* without pccs_fetch (the default) anonymous readers get what the node holds, and nobody is asked */
		struct attestd_proc c;
		const char *const cflags[] = {"--pccs", "--pcs-url", up.base, "--kds-url", up.base,
					      "--collateral-ca-file", ca, "--test-fixed-time", "1700611200", NULL};

		assert_int_equal(start(&c, cflags), 0);
		assert_int_equal(get(&c, V4 "/tcb?fmspc=" SGX_FM, &r), 404);
		assert_non_null(strstr(r.body, "collateral.cache.miss"));
		http_reply_free(&r);
		assert_int_equal(atomic_load(&up.requests), 0);
		assert_int_equal(stop(&c), 0);
		attestd_cleanup(&c);
	}
	assert_int_equal(launch(&a, flags), 0);
	assert_int_equal(get(&a, V4 "/tcb?fmspc=" SGX_FM, &r), 200);
	assert_body_is(&r, vectors, SGX_VEC "/tcb_info.json");
	assert_chain_header(&r, "TCB-Info-Issuer-Chain", vectors, SGX_VEC "/tcb_info_issuer_chain.pem");
	http_reply_free(&r);
	n = atomic_load(&up.requests);
	assert_int_equal(n, 1);
	expect(&a, V4 "/tcb?fmspc=" SGX_FM, 200);
	assert_int_equal(atomic_load(&up.requests), n); /* from the cache */
	expect(&a, V4 "/rootcacrl", 200);		/* PCCS hex from upstream, decoded, re-served */
	/* a PCK certificate lookup is forwarded with the same parameters */
	pckcert_path(path, sizeof(path), "ab");
	assert_int_equal(get(&a, path, &r), 200);
	assert_body_is(&r, vectors, SGX_VEC "/tcb_info_issuer_chain.pem");
	assert_chain_header(&r, "SGX-PCK-Certificate-Issuer-Chain", vectors,
			    SGX_VEC "/pck_crl_issuer_chain.pem");
	http_reply_free(&r);
	tps_last_url(&up, url, sizeof(url));
	assert_non_null(strstr(url, "cpusvn=00000000000000000000000000000000"));
	assert_non_null(strstr(url, "pcesvn=0b00"));
	assert_non_null(strstr(url, "encrypted_ppid=abababab"));
	/* the KDS path: the SPLs become the reported TCB and the same KDS request upstream */
	{
		char vp[512], other[512];
		int o = snprintf(vp, sizeof(vp), "/vcek/v1/Milan/");
		struct amd_cert_ext e;
		size_t dl = 0;
		unsigned char *der = test_read_vector(vectors, SNP_VEC "/vcek.der", &dl);
		const unsigned char *dp = der;
		X509 *vcek = d2i_X509(NULL, &dp, (long)dl);

		assert_non_null(vcek);
		assert_int_equal(amd_cert_ext_parse(vcek, &e, NULL), ATTEST_OK);
		X509_free(vcek);
		free(der);
		for (size_t i = 0; i < e.hwid_len; i++)
			o += snprintf(vp + o, sizeof(vp) - (size_t)o, "%02x", e.hwid[i]);
		snprintf(vp + o, sizeof(vp) - (size_t)o, "?blSPL=%lld&teeSPL=%lld&snpSPL=%lld&ucodeSPL=%lld",
			 (long long)e.spl[AMD_SPL_BL], (long long)e.spl[AMD_SPL_TEE], (long long)e.spl[AMD_SPL_SNP],
			 (long long)e.spl[AMD_SPL_UCODE]);
		assert_int_equal(get(&a, vp, &r), 200);
		assert_body_is(&r, vectors, SNP_VEC "/vcek.der");
		http_reply_free(&r);
		tps_last_url(&up, url, sizeof(url));
		assert_non_null(strstr(url, vp));
		/* what the upstream answers for another chip or TCB is not passed off as that chip's */
		snprintf(other, sizeof(other), "%s", vp);
		other[strlen("/vcek/v1/Milan/")] = other[strlen("/vcek/v1/Milan/")] == '0' ? '1' : '0';
		assert_int_equal(get(&a, other, &r), 404);
		assert_non_null(strstr(r.body, "pccs.kds.hwid"));
		http_reply_free(&r);
		snprintf(other, sizeof(other), "%s", vp);
		*strstr(other, "ucodeSPL=") = '\0';
		strcat(other, "ucodeSPL=1");
		assert_int_equal(get(&a, other, &r), 404);
		assert_non_null(strstr(r.body, "pccs.kds.tcb"));
		http_reply_free(&r);
	}
	atomic_store(&up.status, 503);
	expect(&a, V4 "/tcb?fmspc=" SGX_FM, 200); /* cached: the outage is invisible */
	assert_int_equal(get(&a, V4 "/pckcrl?ca=processor&encoding=der", &r), 503);
	assert_true(http_header(&r, "Retry-After", ra, sizeof(ra)));
	assert_non_null(strstr(r.body, "collateral."));
	assert_null(strstr(r.body, up.base)); /* anonymous readers never see the upstream's address */
	http_reply_free(&r);
	atomic_store(&up.status, 0);
	expect(&a, V4 "/pckcrl?ca=processor&encoding=der", 503); /* backing off after the failure */
	atomic_store(&up.status, 404);
	expect(&a, V4 "/qe/identity", 404); /* the upstream's 404 is a 404 */
	assert_int_equal(stop(&a), 0);
	attestd_cleanup(&a);
	tps_stop(&up);
}

static bool log_has(const struct attestd_proc *p, const char *needle)
{
	char path[400];
	size_t n = 0;
	char *text;
	bool found;
	FILE *f;

	snprintf(path, sizeof(path), "%s/err", p->dir);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	text = calloc(1, 1 << 20);
	n = fread(text, 1, (1 << 20) - 1, f);
	fclose(f);
	text[n] = 0;
	found = strstr(text, needle) != NULL;
	free(text);
	return found;
}

static bool wait_requests(struct tps *up, unsigned want, int ms)
{
	for (int i = 0; i < ms / 50 && atomic_load(&up->requests) < want; i++)
		harness_sleep_ms(50);
	return atomic_load(&up->requests) >= want;
}

/*
 * attestd's background refresher (collateral_refresh_interval): a day
 * before the TCB Info, QE identity and PCK CRL reach their nextUpdate,
 * attestations are served from the cache without paying a fetch, and the
 * refresher asks upstream in the background; during an outage each due
 * item costs one request (then backs off) and attestation goes on.
 */
static void attestd_refreshes_collateral_due_soon_in_the_background_and_rides_out_an_outage(void **state)
{
	struct tps up = {0};
	struct attestd_proc a;
	char ca[512], route[256];
	unsigned n0, due;
	char *body;
	FILE *f;

	(void)state;
	REQUIRE_VECTORS(vectors);
	assert_true(tps_add_intel(&up, vectors, SGX_VEC));
	snprintf(route, sizeof(route), "%s/root_ca_crl.der", SGX_VEC);
	assert_true(tps_route_file(&up, vectors, V4 "/rootcacrl", route, NULL, NULL, "application/pkix-crl"));
	assert_true(tps_start(&up));
	body = attest_body(vectors, SGX_VEC);
	assert_non_null(body);
	assert_int_equal(attestd_prepare(&a), 0);
	snprintf(ca, sizeof(ca), "%s/upstream-ca.pem", a.dir);
	f = fopen(ca, "w");
	fputs(up.cert_pem, f);
	fclose(f);
	/* the vector's day: nothing is due; what attestation needs is fetched and written to the store */
	const char *const day0[] = {"--pcs-url",
				    up.base,
				    "--collateral-ca-file",
				    ca,
				    "--test-fixed-time",
				    "1700611200",
				    "--collateral-refresh-interval",
				    "1",
				    NULL};
	assert_int_equal(launch(&a, day0), 0);
	assert_int_equal(attest(&a, "SgxEnclave", body), 200);
	/* TCB Info, QE identity, PCK CRL, Root CA CRL (and the early TCB Info where the verifier asks) */
	n0 = atomic_load(&up.requests);
	assert_true(n0 >= 4);
	harness_sleep_ms(1500);
	assert_int_equal(atomic_load(&up.requests), n0); /* ticks with nothing due send nothing */
	assert_int_equal(stop(&a), 0);
	/*
	 * 2023-12-20T12:00:00Z: TCB Info, QE identity and PCK CRL reach their
	 * nextUpdate within the day (the Root CA CRL in 2024). The upstream is
	 * down: attestation is served from the store, each due item is tried
	 * once in the background, then backs off.
	 */
	const char *const day28[] = {"--pcs-url",
				     up.base,
				     "--collateral-ca-file",
				     ca,
				     "--test-fixed-time",
				     "1703073600",
				     "--collateral-refresh-interval",
				     "1",
				     NULL};
	atomic_store(&up.status, 503);
	assert_int_equal(launch(&a, day28), 0);
	assert_int_equal(attest(&a, "SgxEnclave", body), 200);
	due = n0 - 1; /* all but the Root CA CRL */
	assert_true(wait_requests(&up, n0 + due, 15000));
	harness_sleep_ms(2500);
	assert_int_equal(atomic_load(&up.requests), n0 + due); /* no storm: once each */
	assert_true(log_has(&a, "collateral refresh: sgx/tcb/00A067110000 failed: collateral.pcs.http"));
	assert_true(log_has(&a, "collateral refresh: pck_crl/processor failed"));
	{
		struct http_reply r;
		char line[128];

		assert_int_equal(get(&a, "/metrics", &r), 200);
		snprintf(line, sizeof(line), "attestd_collateral_refresh_total{result=\"failed\"} %u\n", due);
		assert_non_null(strstr(r.body, line));
		assert_non_null(strstr(r.body, "attestd_collateral_refresh_total{result=\"ok\"} 0\n"));
		http_reply_free(&r);
	}
	assert_int_equal(attest(&a, "SgxEnclave", body), 200); /* still served, no request paid */
	assert_int_equal(atomic_load(&up.requests), n0 + due);
	assert_int_equal(stop(&a), 0);
	/* the upstream is back: the refresher fetches the due items before anyone pays for it */
	atomic_store(&up.status, 0);
	assert_int_equal(launch(&a, day28), 0);
	assert_int_equal(attest(&a, "SgxEnclave", body), 200);
	assert_true(wait_requests(&up, n0 + 2 * due, 15000));
	harness_sleep_ms(2500);
	assert_int_equal(atomic_load(&up.requests),
			 n0 + 2 * due); /* unchanged upstream: not asked again at every tick */
	assert_true(log_has(&a, "collateral refresh: sgx/tcb/00A067110000 unchanged upstream"));
	{
		struct http_reply r;
		char line[128];

		assert_int_equal(get(&a, "/metrics", &r), 200);
		snprintf(line, sizeof(line), "attestd_collateral_refresh_total{result=\"ok\"} %u\n", due);
		assert_non_null(strstr(r.body, line));
		http_reply_free(&r);
	}
	assert_int_equal(stop(&a), 0);
	attestd_cleanup(&a);
	tps_stop(&up);
	free(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(pccs_routes_are_off_by_default, stop_leftovers),
	    cmocka_unit_test_teardown(attestd_serves_the_vector_collateral_as_pcs_v4_does, stop_leftovers),
	    cmocka_unit_test_teardown(
		our_pcs_client_and_dcap_qvl_verify_an_sgx_quote_with_collateral_from_attestd, stop_leftovers),
	    cmocka_unit_test_teardown(
		our_pcs_client_and_dcap_qvl_verify_a_tdx_quote_with_collateral_from_attestd, stop_leftovers),
	    cmocka_unit_test_teardown(pccs_serves_the_cache_in_front_of_an_upstream_and_its_outages,
				      stop_leftovers),
	    cmocka_unit_test_teardown(
		attestd_refreshes_collateral_due_soon_in_the_background_and_rides_out_an_outage,
		stop_leftovers),
	};
	int failed;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return failed;
}
