/*
 * The official @azure/attestation client (tests/interop/attest_sdk.mjs and policy_sdk.mjs, npm 1.0.0)
 * against a real attestd over HTTPS:
 *  - real SGX / Open Enclave evidence (the requests of the SDK's own test
 *    suite against Azure in 2022), the server's clock fixed at the date of
 *    the Intel collateral in the vectors (--test-fixed-time);
 *  - synthetic SGX evidence from the development platform (src/devplat),
 *    its test root trusted through --trust-roots, at the real time, so the
 *    client checks expiry too;
 *  - policy and signer management: AAD and isolated providers;
 *  - attestTpm: the TPM protocol with a synthetic TPM (src/devplat) whose
 *    AIK CA is trusted through --trust-roots.
 * Each script checks its tokens with signature and issuer validation on and
 * prints one line per check; the test fails when any check fails.
 * Skipped (and says so) when node or tests/interop/node_modules is missing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "harness.h"

#include "crypto/crypto.h"
#include "base/codec.h"
#include "devplat/intel.h"
#include "devplat/tpm_ca.h"
#include "devplat/tpm_dev.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#define OE_COLL "oe/openenclave-plugin-evidence-00906ed50000-2022-04-26"
#define OE_NOW	"1651017600" /* 2022-04-27: that collateral is current */

static const uint8_t PLATFORM_COMPS[16] = {5, 5, 2, 4, 1, 128, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0};

static int group_setup(void **state)
{
	(void)state;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	curl_global_cleanup();
	return 0;
}

/* tests/interop, when node and the SDK are installed; else skips the test. */
static const char *interop_dir(char *out, size_t cap)
{
	const char *src = getenv("ATTEST_SOURCE_DIR");
	char probe[1200];

	snprintf(out, cap, "%s/tests/interop", src ? src : ".");
	snprintf(probe, sizeof(probe), "%s/node_modules/@azure/attestation/package.json", out);
	if (access(probe, R_OK) != 0 || system("node --version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "SKIP: node or %s is missing (npm ci in tests/interop)\n", probe);
		return NULL;
	}
	return out;
}

/* Runs a script with env ("K=V K=V"), printing its output; returns its exit status. */
static int run_node(const char *dir, const char *script, const char *env, const char *cacert)
{
	char cmd[8192];
	int st;

	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && env -u HTTPS_PROXY -u https_proxy -u HTTP_PROXY -u http_proxy "
		 "NODE_EXTRA_CA_CERTS='%s' %s "
		 "node %s 2>&1",
		 dir, cacert, env, script);
	fflush(stderr);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void real_evidence_through_the_official_client(void **state)
{
	char dir[1024], coll[1200], env[4096];
	const char *vectors = test_vectors_dir();
	struct attestd_proc p;

	if (interop_dir(dir, sizeof(dir)) == NULL)
		skip();
	if (vectors == NULL) {
		fprintf(stderr, "SKIP: ../shared/vectors is absent; set ATTEST_VECTORS\n");
		skip();
	}
	snprintf(coll, sizeof(coll), "%s/" OE_COLL, vectors);
	{
		const char *extra[] = {"--test-fixed-time", OE_NOW, "--collateral-dir", coll, NULL};

		assert_int_equal(attestd_start(&p, extra), 0);
	}
	snprintf(env, sizeof(env), "ATTESTD_URL='%s' MODE=real ATTEST_VECTORS='%s'", p.base, vectors);
	assert_int_equal(run_node(dir, "attest_sdk.mjs", env, p.cacert), 0);
	/* The same through a provider addressed by path prefix: issuer and jku follow it. */
	snprintf(env, sizeof(env), "ATTESTD_URL='%s/providers/default' MODE=real ATTEST_VECTORS='%s'", p.base,
		 vectors);
	assert_int_equal(run_node(dir, "attest_sdk.mjs", env, p.cacert), 0);
	assert_int_equal(attestd_stop(&p, SIGTERM), 0);
	attestd_cleanup(&p);
}

/* ---- synthetic evidence --------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

static void write_hex(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char hex[129];

	for (size_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", p[i]);
	write_file(dir, name, hex, 2 * n);
}

/*
 * A synthetic platform at `now`: collateral folder, trusted root PEM, and an
 * enclave's quote / OE report whose REPORTDATA binds runtime.bin (JSON).
 */
static void synthetic_evidence(const char *dir, int64_t now)
{
	struct intel_devplat_opts o;
	struct intel_devplat *plat = NULL;
	struct intel_devplat_tcb_level level = {0};
	struct intel_devplat_tcb_info ti = {0};
	struct intel_devplat_qe_identity qe;
	struct intel_devplat_enclave e;
	struct intel_devplat_quote q;
	uint8_t body[SGX_REPORT_BODY_SIZE], *quote = NULL, *report = NULL;
	size_t qlen = 0, rlen = 0, tl = 0, ql = 0;
	char *tb = NULL, *qb = NULL, path[1024];
	static const char runtime[] =
	    "{\"jwk\":{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\",\"y\":\"BBBB\"},\"app\":\"demo\"}";
	STACK_OF(X509) * roots;
	FILE *f;

	intel_devplat_opts_default(&o, now);
	memcpy(o.comp_svn, PLATFORM_COMPS, 16);
	assert_int_equal(intel_devplat_new(&o, &plat, NULL), 0);
	memcpy(level.sgx, PLATFORM_COMPS, 16);
	level.pcesvn = o.pcesvn;
	level.status = "UpToDate";
	ti.version = 3;
	ti.id = "SGX";
	ti.levels = &level;
	ti.n_levels = 1;
	intel_devplat_qe_identity_default(&qe);
	assert_int_equal(intel_devplat_tcb_info(plat, &ti, &tb, &tl, NULL), 0);
	assert_int_equal(intel_devplat_qe_identity(plat, &qe, &qb, &ql, NULL), 0);
	assert_int_equal(intel_devplat_write_collateral(plat, dir, tb, tl, qb, ql, 0, 0, NULL), 0);
	intel_devplat_enclave_default(&e);
	RAND_bytes(e.mrenclave, sizeof(e.mrenclave)); /* a fresh enclave per run */
	assert_int_equal(sha256(runtime, strlen(runtime), e.reportdata), 0);
	intel_devplat_report_body(&e, body);
	intel_devplat_quote_default(&q);
	q.version = 3;
	q.body = body;
	q.body_len = sizeof(body);
	assert_int_equal(intel_devplat_make_quote(plat, &q, &quote, &qlen, NULL), 0);
	assert_int_equal(intel_devplat_oe_report(quote, qlen, &report, &rlen), 0);
	write_file(dir, "quote.bin", quote, qlen);
	write_file(dir, "report.bin", report, rlen);
	write_file(dir, "runtime.bin", runtime, strlen(runtime));
	write_hex(dir, "mrenclave.txt", e.mrenclave, 32);
	write_hex(dir, "mrsigner.txt", e.mrsigner, 32);
	roots = intel_devplat_roots(plat);
	snprintf(path, sizeof(path), "%s/roots.pem", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < sk_X509_num(roots); i++)
		PEM_write_X509(f, sk_X509_value(roots, i));
	fclose(f);
	sk_X509_pop_free(roots, X509_free);
	free(tb);
	free(qb);
	free(quote);
	free(report);
	intel_devplat_free(plat);
}

static void synthetic_evidence_through_the_official_client(void **state)
{
	char dir[1024], evdir[] = "/tmp/attest-synth-XXXXXX", roots[1100], env[2048], cmd[1200];
	struct attestd_proc p;

	if (interop_dir(dir, sizeof(dir)) == NULL)
		skip();
	assert_non_null(mkdtemp(evdir));
	synthetic_evidence(evdir, (int64_t)time(NULL));
	snprintf(roots, sizeof(roots), "%s/roots.pem", evdir);
	{
		const char *extra[] = {"--trust-roots", roots, "--collateral-dir", evdir, NULL};

		assert_int_equal(attestd_start(&p, extra), 0);
	}
	snprintf(env, sizeof(env), "ATTESTD_URL='%s' MODE=synthetic SYNTH_DIR='%s'", p.base, evdir);
	assert_int_equal(run_node(dir, "attest_sdk.mjs", env, p.cacert), 0);
	assert_int_equal(attestd_stop(&p, SIGTERM), 0);
	attestd_cleanup(&p);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", evdir);
	assert_int_equal(system(cmd), 0);
}

/* ---- policy management ----------------------------------------------------------- */

/* A self-signed RSA-2048 signer certificate (a CA, as MAA asks of chain roots), PEM files. */
static void make_signer(const char *dir, const char *name)
{
	EVP_PKEY *key = EVP_RSA_gen(2048);
	X509 *cert = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	char path[1200];
	FILE *f;

	assert_non_null(key);
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), (long)(time(NULL) & 0x7fffffff));
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)name, -1, -1, 0);
	X509_set_subject_name(cert, n);
	X509_set_issuer_name(cert, n);
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 86400L * 30);
	X509_set_pubkey(cert, key);
	X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
	X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(cert, key, EVP_sha256()) > 0);
	snprintf(path, sizeof(path), "%s/%s.key", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	snprintf(path, sizeof(path), "%s/%s.pem", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	PEM_write_X509(f, cert);
	fclose(f);
	X509_NAME_free(n);
	X509_free(cert);
	EVP_PKEY_free(key);
}

/* PUT /management/providers/<name> {"mode":"isolated","policyCertificates":[<pem>]}. */
static void create_isolated_provider(const struct attestd_proc *p, const char *name, const char *pem_path)
{
	char auth[256], path[128], pem[8192];
	const char *headers[] = {auth, "Content-Type: application/json", NULL};
	json_t *body;
	char *text;
	struct http_reply r;
	FILE *f = fopen(pem_path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(pem, 1, sizeof(pem) - 1, f);
	fclose(f);
	pem[n] = '\0';
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", p->admin);
	snprintf(path, sizeof(path), "/management/providers/%s", name);
	body = json_pack("{s:s, s:[s]}", "mode", "isolated", "policyCertificates", pem);
	text = json_dumps(body, JSON_COMPACT);
	assert_int_equal(http_do(p, "PUT", path, headers, text, strlen(text), NULL, &r), 0);
	if (r.status != 201 && r.status != 200)
		fail_msg("create provider: %ld %s", r.status, r.body);
	http_reply_free(&r);
	free(text);
	json_decref(body);
}

static void policies_and_signers_through_the_official_client(void **state)
{
	char dir[1024], keys[] = "/tmp/attest-signers-XXXXXX", env[4096], iso[1200], cmd[1200];
	struct attestd_proc p;

	if (interop_dir(dir, sizeof(dir)) == NULL)
		skip();
	assert_non_null(mkdtemp(keys));
	make_signer(keys, "signer1");
	make_signer(keys, "signer2");
	make_signer(keys, "rogue");
	assert_int_equal(attestd_start(&p, NULL), 0);
	snprintf(iso, sizeof(iso), "%s/signer1.pem", keys);
	create_isolated_provider(&p, "iso", iso);
	snprintf(env, sizeof(env),
		 "AAD_URL='%s' ISO_URL='%s/providers/iso' ADMIN_TOKEN='%s' "
		 "SIGNER1_KEY=%s/signer1.key SIGNER1_CERT=%s/signer1.pem SIGNER2_KEY=%s/signer2.key "
		 "SIGNER2_CERT=%s/signer2.pem ROGUE_KEY=%s/rogue.key ROGUE_CERT=%s/rogue.pem",
		 p.base, p.base, p.admin, keys, keys, keys, keys, keys, keys);
	assert_int_equal(run_node(dir, "policy_sdk.mjs", env, p.cacert), 0);
	assert_int_equal(attestd_stop(&p, SIGTERM), 0);
	attestd_cleanup(&p);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", keys);
	assert_int_equal(system(cmd), 0);
}

/* ---- TPM ------------------------------------------------------------------------- */

/* Leg 1 over HTTPS: the challenge and sealed context (malloc'd). */
static void tpm_leg1(const struct attestd_proc *p, char **challenge, char **context)
{
	const char *headers[] = {"Content-Type: application/json", NULL};
	static const char body[] = "{\"data\":\"eyJwYXlsb2FkIjp7InR5cGUiOiJhaWtjZXJ0In19\"}";
	struct http_reply r;
	json_t *doc, *msg;
	uint8_t *raw = NULL;
	size_t len = 0;
	const char *data;

	assert_int_equal(
	    http_do(p, "POST", "/attest/Tpm?api-version=2020-10-01", headers, body, strlen(body), NULL, &r),
	    0);
	if (r.status != 200)
		fail_msg("TPM leg 1: %ld %s", r.status, r.body);
	doc = http_json(&r);
	data = json_string_value(json_object_get(doc, "data"));
	assert_non_null(data);
	assert_int_equal(b64_decode(data, strlen(data), &raw, &len), 0);
	msg = json_loadb((const char *)raw, len, 0, NULL);
	assert_non_null(msg);
	*challenge = strdup(json_string_value(json_object_get(json_object_get(msg, "payload"), "challenge")));
	*context =
	    strdup(json_string_value(json_object_get(json_object_get(msg, "payload"), "service_context")));
	json_decref(msg);
	json_decref(doc);
	free(raw);
	http_reply_free(&r);
}

static void tpm_through_the_official_client(void **state)
{
	char dir[1024], work[] = "/tmp/attest-tpm-XXXXXX", roots[1100], reqf[1100], env[2048], cmd[1200];
	struct devplat_tpm_ca *ca = NULL;
	struct devplat_boot boot = {.secure_boot = true, .extra_events = 2};
	struct devplat_tcg_log log;
	struct tpm_pcr_values pcrs;
	EVP_PKEY *aik = EVP_RSA_gen(2048), *req_key = EVP_RSA_gen(2048);
	X509 *aik_cert = NULL;
	unsigned char *der = NULL;
	int der_len;
	char *challenge = NULL, *context = NULL, *msg = NULL;
	uint8_t *ch = NULL, *quote = NULL, *sig = NULL;
	size_t chl = 0, ql = 0, sl = 0;
	struct devplat_tpm_attestation cur = {0};
	struct devplat_tpm_request rq = {0};
	struct attestd_proc p;
	FILE *f;
	int64_t now = (int64_t)time(NULL);

	if (interop_dir(dir, sizeof(dir)) == NULL)
		skip();
	assert_non_null(mkdtemp(work));
	assert_int_equal(devplat_tpm_ca_new("Test AIK CA", now - 86400, now + 86400 * 30, &ca, NULL), 0);
	assert_int_equal(devplat_tpm_ca_issue(ca, aik, "Test AIK", now - 3600, now + 86400, &aik_cert, NULL),
			 0);
	der_len = i2d_X509(aik_cert, &der);
	snprintf(roots, sizeof(roots), "%s/aik-ca.pem", work);
	f = fopen(roots, "w");
	assert_non_null(f);
	PEM_write_X509(f, ca->cert);
	fclose(f);
	{
		const char *extra[] = {"--trust-roots", roots, NULL};

		assert_int_equal(attestd_start(&p, extra), 0);
	}
	assert_int_equal(devplat_tcg_log_init(&log), 0);
	assert_int_equal(devplat_tcg_log_boot(&log, &boot), 0);
	devplat_tcg_log_pcrs(&log, &pcrs);
	tpm_leg1(&p, &challenge, &context);
	assert_int_equal(b64_decode(challenge, strlen(challenge), &ch, &chl), 0);
	assert_int_equal(
	    devplat_tpm_quote(aik, &pcrs, TPM_BANK_SHA256, 0xFFFFFF, ch, chl, &quote, &ql, &sig, &sl, NULL),
	    0);
	cur.quote = quote, cur.quote_len = ql, cur.sig = sig, cur.sig_len = sl, cur.pcrs = &pcrs;
	cur.log = log.log.p, cur.log_len = log.log.len, cur.aik = aik, cur.aik_cert_der = der;
	cur.aik_cert_len = (size_t)der_len;
	rq.version = 2, rq.challenge = challenge, rq.service_context = context,
	rq.rp_id = "https://rp.example";
	rq.rp_data = "cnBkYXRh", rq.current = &cur, rq.request_key = req_key;
	assert_int_equal(devplat_tpm_request_build(&rq, &msg, NULL), 0);
	snprintf(reqf, sizeof(reqf), "%s/request.json", work);
	f = fopen(reqf, "w");
	assert_non_null(f);
	fprintf(f, "{\"payload\":%s}", msg);
	fclose(f);
	snprintf(env, sizeof(env), "ATTESTD_URL='%s' TPM_REQUEST_FILE='%s'", p.base, reqf);
	assert_int_equal(run_node(dir, "attest_tpm.mjs", env, p.cacert), 0);
	assert_int_equal(attestd_stop(&p, SIGTERM), 0);
	attestd_cleanup(&p);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work);
	assert_int_equal(system(cmd), 0);
	free(msg);
	free(ch);
	free(quote);
	free(sig);
	free(challenge);
	free(context);
	OPENSSL_free(der);
	X509_free(aik_cert);
	EVP_PKEY_free(aik);
	EVP_PKEY_free(req_key);
	devplat_tcg_log_free(&log);
	devplat_tpm_ca_free(ca);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(real_evidence_through_the_official_client),
	    cmocka_unit_test(synthetic_evidence_through_the_official_client),
	    cmocka_unit_test(policies_and_signers_through_the_official_client),
	    cmocka_unit_test(tpm_through_the_official_client),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
