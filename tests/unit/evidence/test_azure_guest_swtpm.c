/*
 * Azure guest attestation end to end with a real software TPM as the VM's
 * vTPM (issue 8): swtpm + tpm2-tools, driven by the TPM helper's
 * tests/integration/tpm/swtpm.sh (start, extend, quote, pcrs, stop), plus
 * tpm2-tools directly for the ephemeral key: TPM2_Create of an RSA
 * decryption key, TPM2_Certify by the AK, and TPM2_RSA_Decrypt (OAEP
 * SHA-256) to unwrap the sealed token's inner key. The isolation evidence
 * is a synthetic SNP report (src/devplat/snp_plat.h) whose runtime data
 * carries the swtpm AK as HCLAkPub. Skips, saying so, without the tools.
 * The second test sends that request to a real attestd over HTTPS and hands
 * the sealed answer to an independent client (tests/interop/
 * azure_guest_jose.mjs: node's AES-GCM and `jose` against /certs) after
 * the TPM unwrapped its inner key.
 */
#include "harness.h"

#include "base/codec.h"
#include "claims/claims.h"
#include "crypto/jose.h"
#include "devplat/azure_guest_dev.h"
#include "devplat/snp_plat.h"
#include "devplat/tpm_dev.h"
#include "evidence/azure_cvm.h"
#include "evidence/azure_guest.h"
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct fx {
	char dir[256], script[1024];
	bool up;
	EVP_PKEY *ak;
	struct devplat_tcg_log log;
	struct tpm_pcr_values pcrs;
	/* The confidential VM around the TPM: a synthetic SNP platform whose report binds the AK. */
	struct snp_plat *plat;
	struct snp_plat_leaf leaf;
	STACK_OF(X509) * arks;
	char *text;    /* the AttestationInfo JSON */
	char *tl_text; /* the same VM as Trusted Launch: no isolation evidence, no AikCert */
};

static int run(const struct fx *f, bool driver, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A swtpm.sh command (driver) or a tpm2-tools command line against this swtpm. */
static int run(const struct fx *f, bool driver, const char *fmt, ...)
{
	char args[2048], cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	if (driver)
		snprintf(cmd, sizeof(cmd), "bash '%s' %s", f->script, args);
	else
		snprintf(cmd, sizeof(cmd),
			 "export TPM2TOOLS_TCTI=swtpm:host=127.0.0.1,port=$(cat '%s/port'); %s >/dev/null "
			 "2>>'%s/azg.log'; "
			 "r=$?; tpm2_flushcontext -t >/dev/null 2>&1; tpm2_flushcontext -s >/dev/null 2>&1; "
			 "exit $r",
			 f->dir, args, f->dir);
	return system(cmd);
}

static uint8_t *slurp(const struct fx *f, const char *name, size_t *len)
{
	uint8_t *p = test_read_vector(f->dir, name, len);

	assert_non_null(p);
	return p;
}

/* The synthetic SNP report (a fresh test platform) binding runtime. */
static char *snp_proof(struct snp_plat *plat, const struct snp_plat_leaf *leaf, const char *runtime)
{
	static const uint8_t tcb[8] = {3, 0, 0, 0, 0, 0, 8, 0x73};
	uint8_t chip[64];
	struct devplat_azg_snp spec = {.chip_id = chip, .tcb = tcb};
	char *out;

	memset(chip, 0x5A, sizeof(chip));
	out = devplat_azg_snp_proof(plat, leaf, &spec, runtime);
	assert_non_null(out);
	return out;
}

/* The AttestationInfo of this VM: swtpm's AK, quote, certified key and log; SNP isolation binding the AK. */
static void request_build(struct fx *f)
{
	static const uint8_t tcb[8] = {3, 0, 0, 0, 0, 0, 8, 0x73};
	struct snp_plat_opts o = {.product = AMD_PRODUCT_MILAN,
				  .not_before = 1600000000,
				  .not_after = 2000000000,
				  .key_dir = getenv("ATTEST_BINARY_DIR")};
	uint8_t chip[64];
	struct snp_plat_leaf_spec spec = {.chip_id = chip, .tcb = tcb};
	struct devplat_azg_request rq = {0};
	uint8_t *aik_pub, *enc_pub, *cm, *cs_sig, *qm, *qs;
	size_t apl = 0, epl = 0, cml = 0, csl = 0, qml = 0, qsl = 0;
	char *runtime, *proof;

	memset(chip, 0x5A, sizeof(chip));
	assert_int_equal(snp_plat_new(&o, &f->plat, NULL), 0);
	assert_int_equal(snp_plat_issue(f->plat, &spec, &f->leaf, NULL), 0);
	f->arks = sk_X509_new_null();
	sk_X509_push(f->arks, snp_plat_ark(f->plat));
	runtime = snp_plat_hcl_runtime_json(f->ak);
	proof = snp_proof(f->plat, &f->leaf, runtime);
	aik_pub = slurp(f, "ak.pub", &apl);
	enc_pub = slurp(f, "enc.pub", &epl);
	cm = slurp(f, "certify.msg", &cml);
	cs_sig = slurp(f, "certify.sig", &csl);
	qm = slurp(f, "q.msg", &qml);
	qs = slurp(f, "q.sig", &qsl);
	rq.os_type = "Linux";
	rq.log.p = f->log.log.p, rq.log.n = f->log.log.len;
	rq.aik_pub.p = aik_pub, rq.aik_pub.n = apl;
	rq.quote.p = qm, rq.quote.n = qml;
	rq.quote_sig.p = qs, rq.quote_sig.n = qsl;
	rq.enc_pub.p = enc_pub, rq.enc_pub.n = epl;
	rq.certify.p = cm, rq.certify.n = cml;
	rq.certify_sig.p = cs_sig, rq.certify_sig.n = csl;
	rq.pcr_set = 0xFFFFFF;
	rq.pcrs = &f->pcrs;
	assert_int_equal(devplat_azg_request_json(&rq, &f->tl_text, NULL), 0);
	rq.isolation_type = "SevSnp";
	rq.proof.p = (const uint8_t *)proof, rq.proof.n = strlen(proof);
	rq.runtime.p = (const uint8_t *)runtime, rq.runtime.n = strlen(runtime);
	assert_int_equal(devplat_azg_request_json(&rq, &f->text, NULL), 0);
	free(runtime), free(proof);
	free(aik_pub), free(enc_pub), free(cm), free(cs_sig), free(qm), free(qs);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *src = getenv("ATTEST_SOURCE_DIR");
	struct devplat_boot boot = {.secure_boot = true};
	TPMT_PUBLIC pub;
	char path[512];
	FILE *ext;
	size_t n = 0;
	uint8_t *p;

	*state = f;
	if (system("command -v swtpm >/dev/null && command -v tpm2_certify >/dev/null && "
		   "command -v tpm2_rsadecrypt >/dev/null") != 0) {
		fprintf(stderr, "SKIP: swtpm / tpm2-tools absent (scripts/setup.sh installs them)\n");
		return 0;
	}
	snprintf(f->script, sizeof(f->script), "%s/tests/integration/tpm/swtpm.sh", src ? src : ".");
	snprintf(f->dir, sizeof(f->dir), "/tmp/attest-azg-swtpm-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	if (run(f, true, "start '%s'", f->dir) != 0) {
		fprintf(stderr, "swtpm did not start; see %s\n", f->dir);
		return -1;
	}
	f->up = true;
	p = slurp(f, "ak.pub", &n);
	assert_int_equal(tpm_public_parse(p, n, &pub, NULL), 0);
	assert_int_equal(tpm_public_to_pkey(&pub, &f->ak, NULL), 0);
	free(p);
	/* The VM's measured boot, extended into the TPM. */
	assert_int_equal(devplat_tcg_log_init(&f->log), 0);
	assert_int_equal(devplat_tcg_log_boot(&f->log, &boot), 0);
	snprintf(path, sizeof(path), "%s/extends", f->dir);
	ext = fopen(path, "w");
	assert_non_null(ext);
	for (size_t i = 0; i < f->log.n; i++) {
		char *h1 = hex_encode(f->log.ext[i].sha1, 20), *h2 = hex_encode(f->log.ext[i].sha256, 32);

		fprintf(ext, "%u %s %s\n", f->log.ext[i].pcr, h1, h2);
		free(h1);
		free(h2);
	}
	fclose(ext);
	assert_int_equal(run(f, true, "extend '%s' '%s'", f->dir, path), 0);
	/* The ephemeral key: an unrestricted RSA decryption key, certified by the AK. */
	assert_int_equal(
	    run(f, false, "tpm2_createprimary -C o -g sha256 -G rsa -c '%s/primary.ctx'", f->dir), 0);
	assert_int_equal(
	    run(f, false,
		"tpm2_create -C '%1$s/primary.ctx' -G rsa2048:null:null -a "
		"'decrypt|fixedtpm|fixedparent|sensitivedataorigin|userwithauth' -u '%1$s/enc.pub' "
		"-r '%1$s/enc.priv'",
		f->dir),
	    0);
	assert_int_equal(run(f, false,
			     "tpm2_load -C '%1$s/primary.ctx' -u '%1$s/enc.pub' -r '%1$s/enc.priv' -c "
			     "'%1$s/enc.ctx'",
			     f->dir),
			 0);
	assert_int_equal(
	    run(f, false,
		"tpm2_certify -c '%1$s/enc.ctx' -C '%1$s/ak.ctx' -g sha256 -o '%1$s/certify.msg' "
		"-s '%1$s/certify.sig'",
		f->dir),
	    0);
	/* The quote over SHA-256 PCRs 0-23 with nonce "azg", and the PCR values. */
	assert_int_equal(run(f, true, "quote '%1$s' ak 617a67 '%1$s/q'", f->dir), 0);
	assert_int_equal(run(f, true, "pcrs '%1$s' '%1$s/pcrs.txt'", f->dir), 0);
	snprintf(path, sizeof(path), "%s/pcrs.txt", f->dir);
	ext = fopen(path, "r");
	assert_non_null(ext);
	for (unsigned i = 0; i < TPM_PCR_COUNT; i++) {
		unsigned idx;
		char hex[65];
		uint8_t d[32];

		assert_int_equal(fscanf(ext, "%u %64s", &idx, hex), 2);
		assert_int_equal(hex_decode_to(hex, 64, d, 32), 0);
		assert_int_equal(tpm_pcr_set(&f->pcrs, TPM_BANK_SHA256, idx, d, 32, NULL), 0);
	}
	fclose(ext);
	request_build(f);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->up)
		run(f, true, "stop '%s'", f->dir);
	if (f->dir[0] != 0) {
		char cmd[512];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
		(void)system(cmd);
	}
	EVP_PKEY_free(f->ak);
	devplat_tcg_log_free(&f->log);
	sk_X509_free(f->arks);
	snp_plat_leaf_free(&f->leaf);
	snp_plat_free(f->plat);
	free(f->text);
	free(f->tl_text);
	free(f);
	return 0;
}

/* TPM2_RSA_Decrypt (OAEP, SHA-256) of the wrapped inner key by the TPM-held key. */
static int tpm_unwrap(void *arg, const uint8_t *wrapped, size_t n, uint8_t *key, size_t *key_len)
{
	const struct fx *f = arg;
	char path[512];
	FILE *w;
	uint8_t *p;
	size_t m = 0;

	snprintf(path, sizeof(path), "%s/wrapped.bin", f->dir);
	w = fopen(path, "wb");
	if (w == NULL || fwrite(wrapped, 1, n, w) != n) {
		if (w)
			fclose(w);
		return -1;
	}
	fclose(w);
	if (run(f, false, "tpm2_rsadecrypt -c '%1$s/enc.ctx' -s oaep -o '%1$s/inner.bin' '%1$s/wrapped.bin'",
		f->dir) != 0)
		return -1;
	p = test_read_vector(f->dir, "inner.bin", &m);
	if (p == NULL || m > *key_len) {
		free(p);
		return -1;
	}
	memcpy(key, p, m);
	*key_len = m;
	free(p);
	return 0;
}

static void swtpm_vm_attests_and_only_its_tpm_unseals_the_token(void **state)
{
	struct fx *f = *state;
	struct evidence_anchors anchors = {0};
	struct evidence_ctx ctx = {.now = 1700000000, .anchors = &anchors};
	struct evidence_input in = {0};
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	char *sealed = NULL, *jwt = NULL;
	const json_t *k;

	if (!f->up)
		skip();
	anchors.amd_arks = f->arks;
	in.evidence = (const uint8_t *)f->text, in.evidence_len = strlen(f->text);
	in.nonce = "azg";
	attest_err_clear(&err);
	assert_int_equal(azure_guest_verify(&ctx, &in, cs, &err), ATTEST_OK);
	assert_true(json_is_true(claim_set_get(cs, "secureboot")));
	assert_int_equal(json_array_size(claim_set_get(cs, "x-ms-azurevm-attested-pcrs")), 24);
	k = json_array_get(json_object_get(claim_set_get(cs, "x-ms-runtime"), "keys"), 0);
	assert_string_equal(json_string_value(json_object_get(k, "kid")), AZURE_GUEST_ENC_KID);
	/* Another nonce than the one the TPM quoted is refused. */
	{
		struct claim_set *none = claim_set_new();

		in.nonce = "azh";
		attest_err_clear(&err);
		assert_int_equal(azure_guest_verify(&ctx, &in, none, &err), ATTEST_E_VERIFY);
		assert_string_equal(err.name, "tpm.quote.nonce");
		claim_set_free(none);
	}
	/* The sealed token opens only inside this TPM. */
	assert_int_equal(azure_guest_seal_for_claims(cs, "eyJhbGciOiJub25lIn0.eyJ4IjoxfQ.", &sealed, &err),
			 0);
	attest_err_clear(&err);
	assert_int_equal(azure_guest_unseal_with(tpm_unwrap, f, sealed, strlen(sealed), &jwt, &err),
			 ATTEST_OK);
	assert_string_equal(jwt, "eyJhbGciOiJub25lIn0.eyJ4IjoxfQ.");
	free(jwt);
	claim_set_free(cs);
	free(sealed);
}

/* ---- a real attestd and an independent client (node + jose) ------------------------ */

/* tests/interop with node and jose, or NULL (the test then skips, saying so). */
static const char *interop_dir(char *out, size_t cap)
{
	const char *src = getenv("ATTEST_SOURCE_DIR");
	char probe[1200];

	snprintf(out, cap, "%s/tests/interop", src ? src : ".");
	snprintf(probe, sizeof(probe), "%s/node_modules/jose/package.json", out);
	if (access(probe, R_OK) != 0 || system("node --version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "SKIP: node or %s is missing (npm ci in tests/interop)\n", probe);
		return NULL;
	}
	return out;
}

static void put_file(const struct fx *f, const char *name, const void *p, size_t n, char *path, size_t cap)
{
	FILE *w;

	snprintf(path, cap, "%s/%s", f->dir, name);
	w = fopen(path, "wb");
	assert_non_null(w);
	assert_int_equal(fwrite(p, 1, n, w), n);
	fclose(w);
}

/* POST <prefix>/attest/AzureGuest: the status, and the body (malloc'd). */
static long attest_post(const struct attestd_proc *p, const char *prefix, const char *text, char **body_out)
{
	const char *headers[] = {"Content-Type: application/json", NULL};
	char *b = b64url_encode((const uint8_t *)text, strlen(text)), *body = NULL, path[256];
	struct http_reply r;
	long status;

	snprintf(path, sizeof(path), "%s/attest/AzureGuest?api-version=2020-10-01", prefix);
	assert_true(asprintf(&body, "{\"AttestationInfo\":\"%s\"}", b) > 0);
	assert_int_equal(http_do(p, "POST", path, headers, body, strlen(body), NULL, &r), 0);
	status = r.status;
	*body_out = r.body;
	r.body = NULL; /* transferred */
	http_reply_free(&r);
	free(body);
	free(b);
	return status;
}

/* POST /attest/AzureGuest; the sealed "token" of a 200 answer (malloc'd). */
static char *attest_over_https(const struct attestd_proc *p, const char *prefix, const char *text)
{
	char *body = NULL, *token;
	long status = attest_post(p, prefix, text, &body);
	json_t *doc;

	if (status != 200)
		fail_msg("AzureGuest: %ld %s", status, body);
	doc = json_loads(body, 0, NULL);
	assert_true(json_is_string(json_object_get(doc, "token")));
	token = strdup(json_string_value(json_object_get(doc, "token")));
	json_decref(doc);
	free(body);
	return token;
}

/* base64url modulus of the TPM-held EncKeyPub, as a JWK names it. */
static char *enc_modulus(const struct fx *f)
{
	size_t n = 0;
	uint8_t *p = slurp(f, "enc.pub", &n);
	TPMT_PUBLIC pub;
	EVP_PKEY *key = NULL;
	json_t *jwk = NULL;
	char *out;

	assert_int_equal(tpm_public_parse(p, n, &pub, NULL), 0);
	assert_int_equal(tpm_public_to_pkey(&pub, &key, NULL), 0);
	assert_int_equal(jwk_from_key(key, "k", NULL, &jwk, NULL), 0);
	out = strdup(json_string_value(json_object_get(jwk, "n")));
	json_decref(jwk);
	EVP_PKEY_free(key);
	free(p);
	return out;
}

static void attestd_answer_is_opened_by_the_tpm_and_verified_with_jose(void **state)
{
	struct fx *f = *state;
	char dir[1024], ark[512], sealedf[512], cjwt[512], inner[512], cmd[4096];
	struct attestd_proc p;
	struct attest_err err;
	char *pem, *token, *jwt = NULL, *n;
	int st;

	if (!f->up || interop_dir(dir, sizeof(dir)) == NULL)
		skip();
	/* attestd trusts the synthetic AMD root (development anchors, --trust-roots). */
	pem = snp_plat_pem(snp_plat_ark(f->plat));
	put_file(f, "ark.pem", pem, strlen(pem), ark, sizeof(ark));
	free(pem);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	{
		const char *extra[] = {"--trust-roots", ark, NULL};

		assert_int_equal(attestd_start(&p, extra), 0);
	}
	token = attest_over_https(&p, "", f->text);
	/* The VM side: the TPM unwraps the inner key (left in inner.bin); the C unseal for comparison. */
	attest_err_clear(&err);
	assert_int_equal(azure_guest_unseal_with(tpm_unwrap, f, token, strlen(token), &jwt, &err), ATTEST_OK);
	put_file(f, "sealed.txt", token, strlen(token), sealedf, sizeof(sealedf));
	put_file(f, "c.jwt", jwt, strlen(jwt), cjwt, sizeof(cjwt));
	snprintf(inner, sizeof(inner), "%s/inner.bin", f->dir);
	n = enc_modulus(f);
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && env -u HTTPS_PROXY -u https_proxy -u HTTP_PROXY -u http_proxy "
		 "NODE_EXTRA_CA_CERTS='%s' ATTESTD_URL='%s' SEALED_FILE='%s' INNER_KEY_FILE='%s' "
		 "C_JWT_FILE='%s' ENC_N='%s' node azure_guest_jose.mjs 2>&1",
		 dir, p.cacert, p.base, sealedf, inner, cjwt, n);
	fflush(stderr);
	st = system(cmd);
	assert_int_equal(attestd_stop(&p, SIGTERM), 0);
	attestd_cleanup(&p);
	curl_global_cleanup();
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	free(n);
	free(jwt);
	free(token);
}

/* This build's attestctl against p (a provider's prefix, "" for the default) as administrator; its exit
 * status. */
static int attestctl_at(const struct attestd_proc *p, const char *prefix, const char *args)
{
	const char *bin = getenv("ATTEST_BINARY_DIR");
	char cmd[4096];
	int st;

	snprintf(cmd, sizeof(cmd),
		 "ATTESTD_URL='%s%s' ATTESTD_CACERT='%s' ATTESTD_TOKEN='%s' '%s/src/cli/attestctl' %s "
		 ">>'%s/ctl.log' "
		 "2>&1",
		 p->base, prefix, p->cacert, p->admin, bin ? bin : ".", args, p->dir);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int attestctl(const struct attestd_proc *p, const char *args)
{
	return attestctl_at(p, "", args);
}

/* The hex launch measurement of this VM's SNP report, as the verifier claims it (malloc'd). */
static char *launch_measurement(const struct fx *f)
{
	struct evidence_anchors anchors = {.amd_arks = f->arks};
	struct evidence_ctx ctx = {.now = (int64_t)time(NULL), .anchors = &anchors};
	struct evidence_input in = {0};
	struct claim_set *cs = claim_set_new();
	char *out;

	in.evidence = (const uint8_t *)f->text, in.evidence_len = strlen(f->text);
	assert_int_equal(azure_guest_verify(&ctx, &in, cs, NULL), ATTEST_OK);
	out = strdup(json_string_value(
	    json_object_get(claim_set_get(cs, "x-ms-isolation-tee"), "x-ms-sevsnpvm-launchmeasurement")));
	claim_set_free(cs);
	return out;
}

/* The payload text of a compact JWS (malloc'd, NUL-terminated). */
static char *jwt_payload_text(const char *jwt)
{
	const char *a = strchr(jwt, '.'), *b = a ? strchr(a + 1, '.') : NULL;
	uint8_t *raw = NULL;
	size_t n = 0;
	char *out;

	assert_non_null(b);
	assert_int_equal(b64_decode(a + 1, (size_t)(b - a - 1), &raw, &n), 0);
	out = strndup((const char *)raw, n);
	free(raw);
	return out;
}

static void a_provider_that_registered_the_ak_accepts_the_trusted_launch_vm(void **state)
{
	struct fx *f = *state;
	char settings[512], arg[1024], ark[512], *body = NULL, *token, *jwt = NULL, *b64, *pem;
	uint8_t h[32];
	struct attestd_proc p;
	struct attest_err err;
	FILE *w;

	if (!f->up)
		skip();
	/* The provider's settings register the swtpm AK by its SPKI hash (provider_trust.h). */
	assert_int_equal(tpm_pkey_spki_sha256(f->ak, h), 0);
	b64 = b64std_encode(h, 32);
	snprintf(settings, sizeof(settings), "%s/settings.json", f->dir);
	w = fopen(settings, "w");
	assert_non_null(w);
	fprintf(w, "{\"tpm\":{\"registeredAiks\":[\"%s\"]}}", b64);
	fclose(w);
	pem = snp_plat_pem(snp_plat_ark(f->plat));
	put_file(f, "ark.pem", pem, strlen(pem), ark, sizeof(ark));
	free(pem);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	{
		const char *extra[] = {"--trust-roots", ark, NULL};

		assert_int_equal(attestd_start(&p, extra), 0);
	}
	snprintf(arg, sizeof(arg), "provider create vmfleet --mode aad --settings @%s", settings);
	assert_int_equal(attestctl(&p, arg), 0);
	/* Registered there: accepted without AikCert and without isolation evidence; the TPM opens the
	 * answer. */
	token = attest_over_https(&p, "/providers/vmfleet", f->tl_text);
	attest_err_clear(&err);
	assert_int_equal(azure_guest_unseal_with(tpm_unwrap, f, token, strlen(token), &jwt, &err), ATTEST_OK);
	/* Not registered with the default provider: refused with its own code. */
	assert_int_equal(attest_post(&p, "", f->tl_text, &body), 400);
	assert_non_null(strstr(body, "azureguest.aik.unregistered"));
	/* A provider listing this VM's launch measurement: the nested compliance status reaches the token. */
	{
		char *meas = launch_measurement(f), *payload;

		snprintf(arg, sizeof(arg),
			 "provider create cvmfleet --mode aad --settings "
			 "'{\"azureGuest\":{\"cvmMeasurements\":[\"%s\"]}}'",
			 meas);
		assert_int_equal(attestctl(&p, arg), 0);
		free(token), free(jwt);
		token = attest_over_https(&p, "/providers/cvmfleet", f->text);
		jwt = NULL;
		assert_int_equal(azure_guest_unseal_with(tpm_unwrap, f, token, strlen(token), &jwt, &err),
				 ATTEST_OK);
		payload = jwt_payload_text(jwt);
		assert_non_null(strstr(payload, "\"x-ms-compliance-status\":\"azure-compliant-cvm\""));
		free(payload);
		/* The same VM at the default provider, which lists nothing: no compliance status. */
		free(token), free(jwt);
		token = attest_over_https(&p, "", f->text);
		jwt = NULL;
		assert_int_equal(azure_guest_unseal_with(tpm_unwrap, f, token, strlen(token), &jwt, &err),
				 ATTEST_OK);
		payload = jwt_payload_text(jwt);
		assert_null(strstr(payload, "x-ms-compliance-status"));
		free(payload);
		free(meas);
	}
	/* An SKR-style policy on the nested claim (dotted name, maa-interface.md §2.6): permits only there.
	 */
	{
		static const char policy[] = "version=1.0;\nauthorizationrules {\n"
					     "    [type==\"x-ms-isolation-tee.x-ms-compliance-status\", "
					     "value==\"azure-compliant-cvm\"] => "
					     "permit();\n};\nissuancerules { };\n";
		char path[512];

		put_file(f, "compliant.policy", policy, strlen(policy), path, sizeof(path));
		snprintf(arg, sizeof(arg), "policy set AzureGuest '%s'", path);
		assert_int_equal(attestctl_at(&p, "/providers/cvmfleet", arg), 0);
		assert_int_equal(attestctl_at(&p, "", arg), 0);
		free(token);
		token = attest_over_https(&p, "/providers/cvmfleet", f->text);
		free(body);
		assert_int_equal(attest_post(&p, "", f->text, &body), 400);
	}
	/* A malformed registration is refused when written. */
	assert_int_not_equal(
	    attestctl(&p, "provider update vmfleet --settings '{\"tpm\":{\"registeredAiks\":[\"AAAA\"]}}'"),
	    0);
	/* Settings that no longer register this AK: the provider's next attestation is refused. */
	assert_int_equal(
	    attestctl(&p,
		      "provider update vmfleet --settings "
		      "'{\"tpm\":{\"registeredAiks\":[\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"]}}'"),
	    0);
	free(body);
	body = NULL;
	assert_int_equal(attest_post(&p, "/providers/vmfleet", f->tl_text, &body), 400);
	assert_non_null(strstr(body, "azureguest.aik.unregistered"));
	assert_int_equal(attestd_stop(&p, SIGTERM), 0);
	attestd_cleanup(&p);
	curl_global_cleanup();
	free(body), free(token), free(jwt), free(b64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(swtpm_vm_attests_and_only_its_tpm_unseals_the_token),
	    cmocka_unit_test(attestd_answer_is_opened_by_the_tpm_and_verified_with_jose),
	    cmocka_unit_test(a_provider_that_registered_the_ak_accepts_the_trusted_launch_vm),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
