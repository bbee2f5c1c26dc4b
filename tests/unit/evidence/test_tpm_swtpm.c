/*
 * The TPM protocol against a real software TPM: swtpm on loopback driven by
 * tpm2-tools (tests/integration/tpm/swtpm.sh): EK and AIK created in the
 * TPM, PCRs extended to match a generated event log, the quote taken over
 * the service's challenge, the request verified in-process. Negative cases
 * from the same TPM: wrong nonce, a PCR extended after the quote, a
 * tampered log event, an AIK not trusted, a quote signed by another key.
 * Skips (saying so) when swtpm or tpm2-tools are absent (scripts/setup.sh
 * installs them). Labelled "integration".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "test_tpm_lib.h"

#include "base/codec.h"
#include "devplat/tpm_ca.h"
#include "devplat/tpm_dev.h"
#include "evidence/tcg_log.h"
#include "evidence/tpm_protocol.h"

#include <openssl/pem.h>
#include <unistd.h>

struct tpm_fx {
	char dir[256], script[1024];
	bool up;
	struct tpm_context_keys *key; /* the service's context keys */
	struct tpm_seen_set *seen;
	struct tpm_proto_cfg cfg;
	struct devplat_tpm_ca *ca;
	STACK_OF(X509) *roots;
	EVP_PKEY *aik, *aik2, *req_key;
	uint8_t *aik_cert;
	size_t aik_cert_len;
	struct devplat_tcg_log log;
	struct tpm_pcr_values log_pcrs;
};

static int sh(const struct tpm_fx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sh(const struct tpm_fx *f, const char *fmt, ...)
{
	char args[2048], cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "bash '%s' %s", f->script, args);
	return system(cmd);
}

static bool tools_present(void)
{
	return system("command -v swtpm >/dev/null && command -v swtpm_setup >/dev/null && "
		      "command -v tpm2_quote >/dev/null && command -v tpm2_createak >/dev/null") == 0;
}

static uint8_t *slurp(const struct tpm_fx *f, const char *name, size_t *len)
{
	return test_read_vector(f->dir, name, len);
}

static EVP_PKEY *tpm_key(const struct tpm_fx *f, const char *name)
{
	size_t n = 0;
	uint8_t *p = slurp(f, name, &n);
	TPMT_PUBLIC pub;
	EVP_PKEY *k = NULL;

	assert_non_null(p);
	assert_int_equal(tpm_public_parse(p, n, &pub, NULL), 0);
	/* an AK: restricted signing key, fixedTPM/fixedParent (formats.md §7.3) */
	assert_int_equal(pub.objectAttributes & 0x50032, 0x50032);
	assert_int_equal(tpm_public_to_pkey(&pub, &k, NULL), 0);
	free(p);
	return k;
}

static int setup(void **state)
{
	struct tpm_fx *f = calloc(1, sizeof(*f));
	const char *src = getenv("ATTEST_SOURCE_DIR");
	struct devplat_boot boot = {.secure_boot = true, .vbs = true, .extra_events = 8};
	X509 *cert = NULL;
	unsigned char *der = NULL;
	FILE *ext;
	int n;

	*state = f;
	if (!tools_present()) {
		fprintf(stderr, "SKIP: swtpm / tpm2-tools absent (scripts/setup.sh installs them)\n");
		return 0;
	}
	snprintf(f->script, sizeof(f->script), "%s/tests/integration/tpm/swtpm.sh", src ? src : ".");
	snprintf(f->dir, sizeof(f->dir), "/tmp/attest-swtpm-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	if (sh(f, "start '%s'", f->dir) != 0 || sh(f, "ak2 '%s'", f->dir) != 0) {
		fprintf(stderr, "swtpm did not start; see %s\n", f->dir);
		return -1;
	}
	f->up = true;
	f->aik = tpm_key(f, "ak.pub");
	f->aik2 = tpm_key(f, "ak2.pub");
	f->req_key = EVP_RSA_gen(2048);
	/* The test plays the AIK CA (a privacy CA / vendor AK CA). */
	assert_int_equal(devplat_tpm_ca_new("AIK CA", time(NULL) - 3600, time(NULL) + 86400, &f->ca, NULL), 0);
	assert_int_equal(devplat_tpm_ca_issue(f->ca, f->aik, "swtpm AIK", time(NULL) - 3600, time(NULL) + 86400,
					      &cert, NULL),
			 0);
	n = i2d_X509(cert, &der);
	f->aik_cert = malloc((size_t)n);
	memcpy(f->aik_cert, der, (size_t)n);
	f->aik_cert_len = (size_t)n;
	OPENSSL_free(der);
	X509_free(cert);
	f->roots = sk_X509_new_null();
	sk_X509_push(f->roots, f->ca->cert);
	{
		uint8_t key[TPM_PROTO_KEY_LEN];

		memset(key, 0x5A, sizeof(key));
		f->key = tpm_context_keys_new(key);
		assert_non_null(f->key);
	}
	f->seen = tpm_seen_set_new(64);
	tpm_proto_cfg_defaults(&f->cfg);
	f->cfg.service_key = f->key;
	f->cfg.now = time(NULL);
	f->cfg.replay = tpm_seen_set_check;
	f->cfg.replay_arg = f->seen;
	f->cfg.aik_roots = f->roots;
	/* The boot the TPM measures: a log, and the same digests extended into the TPM. */
	assert_int_equal(devplat_tcg_log_init(&f->log), 0);
	assert_int_equal(devplat_tcg_log_boot(&f->log, &boot), 0);
	devplat_tcg_log_pcrs(&f->log, &f->log_pcrs);
	{
		char path[512];

		snprintf(path, sizeof(path), "%s/extends", f->dir);
		ext = fopen(path, "w");
		for (size_t i = 0; i < f->log.n; i++) {
			char h1[41], h256[65];

			hex_encode_to(f->log.ext[i].sha1, 20, h1);
			hex_encode_to(f->log.ext[i].sha256, 32, h256);
			fprintf(ext, "%u %s %s\n", f->log.ext[i].pcr, h1, h256);
		}
		fclose(ext);
	}
	assert_int_equal(sh(f, "extend '%s' '%s/extends'", f->dir, f->dir), 0);
	return 0;
}

static int teardown(void **state)
{
	struct tpm_fx *f = *state;

	if (f->up) {
		sh(f, "stop '%s'", f->dir);
		{
			char cmd[600];

			snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
			(void)!system(cmd);
		}
	}
	tpm_seen_set_free(f->seen);
	tpm_context_keys_free(f->key);
	sk_X509_free(f->roots);
	devplat_tpm_ca_free(f->ca);
	EVP_PKEY_free(f->aik);
	EVP_PKEY_free(f->aik2);
	EVP_PKEY_free(f->req_key);
	free(f->aik_cert);
	if (f->up)
		devplat_tcg_log_free(&f->log);
	free(f);
	return 0;
}

#define NEED_TPM(f)                                                                                \
	do {                                                                                       \
		if (!(f)->up) {                                                                    \
			fprintf(stderr, "SKIP: no software TPM\n");                                \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

/* The TPM's SHA-256 PCRs now, as the client reads them. */
static void read_pcrs(struct tpm_fx *f, struct tpm_pcr_values *out)
{
	char path[512], line[256];
	FILE *fp;

	memset(out, 0, sizeof(*out));
	assert_int_equal(sh(f, "pcrs '%s' '%s/pcrs.txt'", f->dir, f->dir), 0);
	snprintf(path, sizeof(path), "%s/pcrs.txt", f->dir);
	fp = fopen(path, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		unsigned idx;
		char hex[80];
		uint8_t d[32];

		if (sscanf(line, "%u %79s", &idx, hex) == 2 && tpm_test_hex(hex, d, 32) == 32)
			tpm_pcr_set(out, TPM_BANK_SHA256, idx, d, 32, NULL);
	}
	fclose(fp);
	assert_int_equal(out->present[TPM_BANK_SHA256], 0xFFFFFF);
}

struct round {
	char *challenge, *context;
	uint8_t *quote, *sig;
	size_t quote_len, sig_len;
	struct tpm_pcr_values pcrs;
};

static void round_free(struct round *r)
{
	free(r->challenge);
	free(r->context);
	free(r->quote);
	free(r->sig);
}

/* init, then tpm2_quote over the challenge (or over `nonce_hex` when given) with `ak`. */
static void round_start(struct tpm_fx *f, struct round *r, const char *ak, const char *nonce_hex)
{
	const char *init = "{\"type\":\"aikcert\"}";
	struct tpm_proto_msg m;
	char *body = NULL, hex[2 * TPM_PROTO_CHALLENGE_LEN + 1];
	json_t *resp;
	uint8_t *ch = NULL;
	size_t chl = 0;

	memset(r, 0, sizeof(*r));
	assert_int_equal(tpm_proto_msg_parse(init, strlen(init), &m, NULL), 0);
	assert_int_equal(tpm_proto_init(&f->cfg, &m, &body, NULL), 0);
	resp = json_loads(body, 0, NULL);
	r->challenge = strdup(json_string_value(json_object_get(resp, "challenge")));
	r->context = strdup(json_string_value(json_object_get(resp, "service_context")));
	assert_int_equal(b64_decode(r->challenge, strlen(r->challenge), &ch, &chl), 0);
	hex_encode_to(ch, chl, hex);
	assert_int_equal(sh(f, "quote '%s' %s %s '%s/q'", f->dir, ak, nonce_hex ? nonce_hex : hex, f->dir), 0);
	r->quote = slurp(f, "q.msg", &r->quote_len);
	r->sig = slurp(f, "q.sig", &r->sig_len);
	assert_non_null(r->quote);
	assert_non_null(r->sig);
	read_pcrs(f, &r->pcrs);
	free(ch);
	free(body);
	json_decref(resp);
	tpm_proto_msg_free(&m);
}

static int submit_v(struct tpm_fx *f, struct round *r, const uint8_t *log, size_t log_len, int version,
		    struct tpm_proto_result *res, struct attest_err *err)
{
	struct devplat_tpm_attestation cur = {
		.quote = r->quote, .quote_len = r->quote_len, .sig = r->sig, .sig_len = r->sig_len,
		.pcrs = &r->pcrs, .log = log, .log_len = log_len, .aik = f->aik,
		.aik_cert_der = f->aik_cert, .aik_cert_len = f->aik_cert_len};
	struct devplat_tpm_request rq = {.version = version, .challenge = r->challenge, .service_context = r->context,
					 .rp_data = "bm9uY2U", .current = &cur, .request_key = f->req_key};
	struct tpm_proto_msg m;
	char *msg = NULL;
	int rc;

	assert_int_equal(devplat_tpm_request_build(&rq, &msg, NULL), 0);
	attest_err_clear(err);
	assert_int_equal(tpm_proto_msg_parse(msg, strlen(msg), &m, NULL), 0);
	rc = tpm_proto_request(&f->cfg, &m, res, err);
	tpm_proto_msg_free(&m);
	free(msg);
	return rc;
}

/*
 * What the AIK CA checks before it certifies the AIK (the privacy-CA step):
 * the EK certificate chains to the TPM vendor's CA (swtpm's local CA) and
 * certifies the EK, and the AIK lives in the same TPM as that EK
 * (TPM2_MakeCredential to the EK for the AIK's name, recovered by
 * TPM2_ActivateCredential).
 */
static void ek_chains_to_the_vendor_ca_and_the_aik_shares_its_tpm(void **state)
{
	struct tpm_fx *f = *state;
	size_t n = 0;
	uint8_t *der, *ekpub;
	const unsigned char *q;
	X509 *ekcert, *issuer, *root;
	STACK_OF(X509) *roots = sk_X509_new_null(), *chain = sk_X509_new_null();
	TPMT_PUBLIC pub;
	EVP_PKEY *ek = NULL;
	struct tpm_aik_trust t = {.now = time(NULL), .require_valid_aik_cert = true};
	bool validated, registered;
	struct attest_err err;
	char path[512];
	FILE *fp;

	NEED_TPM(f);
	der = slurp(f, "ek-cert.der", &n);
	assert_non_null(der);
	q = der;
	ekcert = d2i_X509(NULL, &q, (long)n);
	assert_non_null(ekcert);
	snprintf(path, sizeof(path), "%s/localca/issuercert.pem", f->dir);
	fp = fopen(path, "r");
	issuer = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/localca/swtpm-localca-rootca-cert.pem", f->dir);
	fp = fopen(path, "r");
	root = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(issuer);
	assert_non_null(root);
	sk_X509_push(roots, root);
	sk_X509_push(chain, issuer);
	t.roots = roots;
	ekpub = slurp(f, "ek.pub", &n);
	assert_int_equal(tpm_public_parse(ekpub, n, &pub, NULL), 0);
	assert_int_equal(tpm_public_to_pkey(&pub, &ek, NULL), 0);
	attest_err_clear(&err);
	if (tpm_aik_check(ek, ekcert, chain, &t, &validated, &registered, &err) != 0)
		fail_msg("EK certificate: %s: %s", err.name, err.msg);
	assert_true(validated);
	/* the EK certificate is not a certificate of the AIK */
	attest_err_clear(&err);
	assert_int_equal(tpm_aik_check(f->aik, ekcert, chain, &t, &validated, &registered, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.aik.cert_key_mismatch");
	/* credential activation */
	assert_int_equal(sh(f, "activate '%s' ak", f->dir), 0);
	X509_free(ekcert);
	sk_X509_pop_free(roots, X509_free);
	sk_X509_pop_free(chain, X509_free);
	EVP_PKEY_free(ek);
	free(der);
	free(ekpub);
}

static int submit(struct tpm_fx *f, struct round *r, const uint8_t *log, size_t log_len,
		  struct tpm_proto_result *res, struct attest_err *err)
{
	return submit_v(f, r, log, log_len, 2, res, err);
}

/* The same real quote in a v1 request: the Windows platform claim blob (PCP). */
static void real_tpm_quote_in_a_v1_platform_claim_verifies(void **state)
{
	struct tpm_fx *f = *state;
	struct round r;
	struct tpm_proto_result res;
	struct attest_err err;

	NEED_TPM(f);
	round_start(f, &r, "ak", NULL);
	if (submit_v(f, &r, f->log.log.p, f->log.log.len, 1, &res, &err) != 0)
		fail_msg("%s: %s (%s)", err.name, err.msg, err.where);
	assert_int_equal(res.version, 1);
	assert_true(json_is_true(claim_set_get(res.claims, "secureBootEnabled")));
	tpm_proto_result_free(&res);
	round_free(&r);
}

static void real_tpm_quote_over_the_challenge_verifies_with_its_log(void **state)
{
	struct tpm_fx *f = *state;
	struct round r;
	struct tpm_proto_result res;
	struct attest_err err;

	NEED_TPM(f);
	round_start(f, &r, "ak", NULL);
	/* the TPM holds what the log says */
	assert_memory_equal(r.pcrs.v[TPM_BANK_SHA256], f->log_pcrs.v[TPM_BANK_SHA256],
			    sizeof(r.pcrs.v[TPM_BANK_SHA256]));
	if (submit(f, &r, f->log.log.p, f->log.log.len, &res, &err) != 0)
		fail_msg("%s: %s (%s)", err.name, err.msg, err.where);
	assert_true(json_is_true(claim_set_get(res.claims, "aikValidated")));
	assert_true(json_is_true(claim_set_get(res.claims, "secureBootEnabled")));
	assert_true(json_is_true(claim_set_get(res.claims, "bootDebuggingDisabled")));
	assert_true(json_is_true(claim_set_get(res.claims, "vbsEnabled")));
	assert_string_equal(res.rp_data, "bm9uY2U");
	tpm_proto_result_free(&res);
	round_free(&r);
}

static void real_tpm_quote_over_another_nonce_is_refused(void **state)
{
	struct tpm_fx *f = *state;
	struct round r;
	struct tpm_proto_result res;
	struct attest_err err;

	NEED_TPM(f);
	round_start(f, &r, "ak", "00112233445566778899");
	assert_int_equal(submit(f, &r, f->log.log.p, f->log.log.len, &res, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.quote.nonce");
	round_free(&r);
}

static void pcr_extended_after_the_quote_is_refused(void **state)
{
	struct tpm_fx *f = *state;
	struct round r;
	struct tpm_proto_result res;
	struct attest_err err;
	char path[512];
	FILE *fp;

	NEED_TPM(f);
	round_start(f, &r, "ak", NULL);
	snprintf(path, sizeof(path), "%s/late", f->dir);
	fp = fopen(path, "w");
	fprintf(fp, "23 %040d %064d\n", 7, 7);
	fclose(fp);
	assert_int_equal(sh(f, "extend '%s' '%s'", f->dir, path), 0);
	read_pcrs(f, &r.pcrs); /* the client sends what the TPM holds now */
	assert_int_equal(submit(f, &r, f->log.log.p, f->log.log.len, &res, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.quote.pcr_digest");
	round_free(&r);
}

static void tampered_log_event_is_refused(void **state)
{
	struct tpm_fx *f = *state;
	struct round r;
	struct tpm_proto_result res;
	struct attest_err err;
	struct tcg_log *parsed = NULL;
	uint8_t *copy = malloc(f->log.log.len);
	size_t at = 0;

	NEED_TPM(f);
	round_start(f, &r, "ak", NULL);
	/* flip the BootDebugging byte inside the SIPA event: data no longer hashes to its digest */
	memcpy(copy, f->log.log.p, f->log.log.len);
	assert_int_equal(tcg_log_parse(copy, f->log.log.len, &parsed, NULL), 0);
	for (size_t i = 0; i < parsed->n_events; i++)
		if (parsed->events[i].type == EV_EVENT_TAG)
			at = (size_t)(parsed->events[i].data - copy) + 16; /* container hdr + leaf hdr */
	tcg_log_free(parsed);
	assert_true(at > 0);
	copy[at] ^= 1;
	assert_int_equal(submit(f, &r, copy, f->log.log.len, &res, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tcg.event.digest");
	/* and a tampered digest: the replay names the PCR and an event */
	memcpy(copy, f->log.log.p, f->log.log.len);
	copy[f->log.log.len - 40] ^= 1; /* inside the last events' digests */
	round_free(&r);
	round_start(f, &r, "ak", NULL);
	assert_int_not_equal(submit(f, &r, copy, f->log.log.len, &res, &err), 0);
	assert_true(strncmp(err.name, "tcg.", 4) == 0);
	free(copy);
	round_free(&r);
}

static void aik_without_trusted_certificate_is_refused(void **state)
{
	struct tpm_fx *f = *state;
	struct round r;
	struct tpm_proto_result res;
	struct attest_err err;
	STACK_OF(X509) *none = sk_X509_new_null();

	NEED_TPM(f);
	round_start(f, &r, "ak", NULL);
	f->cfg.aik_roots = none;
	assert_int_equal(submit(f, &r, f->log.log.p, f->log.log.len, &res, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.aik.cert.untrusted_root");
	f->cfg.aik_roots = f->roots;
	sk_X509_free(none);
	round_free(&r);
}

static void quote_signed_by_another_tpm_key_is_refused(void **state)
{
	struct tpm_fx *f = *state;
	struct round r;
	struct tpm_proto_result res;
	struct attest_err err;

	NEED_TPM(f);
	round_start(f, &r, "ak2", NULL); /* signed by AK2, presented with AK1 */
	assert_int_equal(submit(f, &r, f->log.log.p, f->log.log.len, &res, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.quote.signature");
	round_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ek_chains_to_the_vendor_ca_and_the_aik_shares_its_tpm),
		cmocka_unit_test(real_tpm_quote_over_the_challenge_verifies_with_its_log),
		cmocka_unit_test(real_tpm_quote_in_a_v1_platform_claim_verifies),
		cmocka_unit_test(real_tpm_quote_over_another_nonce_is_refused),
		cmocka_unit_test(tampered_log_event_is_refused),
		cmocka_unit_test(aik_without_trusted_certificate_is_refused),
		cmocka_unit_test(quote_signed_by_another_tpm_key_is_refused),
		/* last: it changes PCR 23 for good */
		cmocka_unit_test(pcr_extended_after_the_quote_is_refused),
	};
	setenv("TSS2_LOG", "all+NONE", 1);
	return cmocka_run_group_tests(tests, setup, teardown);
}
