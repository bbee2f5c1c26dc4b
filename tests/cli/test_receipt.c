/*
 * Verification receipts end to end (attestctl receipt export, attestctl
 * verify --receipt): for every real vector (SGX, Open Enclave, TDX,
 * SEV-SNP) and for synthetic evidence of the development platform, a
 * token is issued in-process by attestd's own pipeline (signed RS256),
 * exported as a receipt with the vector's collateral folder as the
 * candidates, and re-verified offline from the receipt alone. Tampered
 * receipts (a collateral byte, a missing item, an altered claim, another
 * policy) are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ctl_run.h"
#include "testutil.h"

#include "base/codec.h"
#include "collateral/bundle.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"
#include "server/pipeline.h"
#include "token/token.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ISSUER	"https://attestd.test:8443"
#define OE_COLL "oe/openenclave-plugin-evidence-00906ed50000-2022-04-26"
#define OE_NOW	1651017600 /* 2022-04-27: the OE collateral is current */

struct fixture {
	EVP_PKEY *key;
	struct jws_signer *signer;
	char tmp[64];
	char jwks[128], req[128], tok[128], rcpt[128];
};

static int sign_rs256(void *arg, const char *jku, const json_t *claims, char **jwt, struct attest_err *err)
{
	struct fixture *f = arg;
	char *text = token_json_dump(claims);
	int rc;

	(void)jku;
	rc = jws_sign(f->signer, text, strlen(text), jwt, err);
	free(text);
	return rc;
}

static void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
	json_t *hdr = json_pack("{s:s,s:s,s:s}", "jku", ISSUER "/certs", "kid", "receipt-kid", "typ", "JWT");
	json_t *jwks = jwks_new(), *jwk = NULL;
	struct attest_err err;
	char *text;

	attest_err_clear(&err);
	if (f == NULL || ctl_path() == NULL || kc == NULL || EVP_PKEY_keygen_init(kc) != 1 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits(kc, 2048) != 1 || EVP_PKEY_keygen(kc, &f->key) != 1 ||
	    jws_signer_new(f->key, JWS_ALG_RS256, hdr, &f->signer, &err) != ATTEST_OK ||
	    jwk_from_key(f->key, "receipt-kid", NULL, &jwk, &err) != ATTEST_OK || jwks_add(jwks, jwk) != 0)
		return -1;
	EVP_PKEY_CTX_free(kc);
	json_decref(hdr);
	snprintf(f->tmp, sizeof(f->tmp), "/tmp/test-receipt-XXXXXX");
	if (mkdtemp(f->tmp) == NULL)
		return -1;
	snprintf(f->jwks, sizeof(f->jwks), "%s/jwks.json", f->tmp);
	snprintf(f->req, sizeof(f->req), "%s/request.json", f->tmp);
	snprintf(f->tok, sizeof(f->tok), "%s/token.jwt", f->tmp);
	snprintf(f->rcpt, sizeof(f->rcpt), "%s/receipt.json", f->tmp);
	text = json_dumps(jwks, 0);
	write_text(f->jwks, text);
	free(text);
	json_decref(jwks);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->tmp);
	if (system(cmd) != 0)
		return -1;
	jws_signer_free(f->signer);
	EVP_PKEY_free(f->key);
	free(f);
	return 0;
}

/*
 * Issues a token for body with attestd's pipeline (collateral from coll_dir,
 * extra anchors from roots when given) at now, and writes request + token.
 */
static void issue(struct fixture *f, enum maa_type type, const char *body, const char *coll_dir,
		  const char *roots, const char *policy, int64_t now)
{
	struct pipeline_ctx *ctx = NULL;
	struct pipeline_attest in = {0};
	struct pipeline_outcome out = {0};
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_equal(pipeline_ctx_new(0, &ctx, &err), ATTEST_OK);
	if (roots != NULL)
		assert_int_equal(pipeline_ctx_load_anchors(ctx, roots, &err), ATTEST_OK);
	assert_int_equal(collateral_file_source_new(coll_dir, &ctx->collateral, &err), ATTEST_OK);
	ctx->collateral_cache = collateral_cache_new(16);
	ctx->collateral->cache = ctx->collateral_cache;
	in.type = type;
	in.body = body;
	in.body_len = strlen(body);
	in.policy_text = policy;
	in.policy_len = policy ? strlen(policy) : 0;
	in.issuer = ISSUER;
	in.now = now;
	in.sign = sign_rs256;
	in.sign_arg = f;
	if (pipeline_attest_run(ctx, &in, &out) != ATTEST_OK)
		fail_msg("the pipeline refused the evidence: %s: %s", out.err.name, out.err.msg);
	write_text(f->req, body);
	write_text(f->tok, out.token);
	pipeline_outcome_clear(&out);
	pipeline_ctx_free(ctx);
}

/* Exports the receipt (candidates: coll_dir) and re-verifies it; both must succeed. */
static void round_trip(struct fixture *f, const char *type, const char *coll_dir, const char *roots,
		       const char *policy)
{
	char *out = NULL;
	int rc;

	{
		const char *args[20] = {"receipt",
					"export",
					"--type",
					type,
					"--request",
					f->req,
					"--token",
					f->tok, /* a .json candidate is a bundle */
					strstr(coll_dir, ".json") ? "--bundle" : "--collateral",
					coll_dir,
					"--jwks",
					f->jwks,
					"-O",
					f->rcpt};
		int i = 14;

		if (roots != NULL)
			args[i++] = "--trust-roots", args[i++] = roots;
		if (policy != NULL)
			args[i++] = "--policy", args[i++] = policy;
		args[i] = NULL;
		rc = ctl_run(&out, args, NULL);
	}
	if (rc != 0)
		fail_msg("receipt export exit %d:\n%s", rc, out);
	free(out);
	/* Development anchors in a receipt are used only when allowed. */
	if (roots != NULL) {
		rc = ctl_run(&out, NULL, "verify", "--receipt", f->rcpt, "--jwks", f->jwks, NULL);
		if (rc != 1 || strstr(out, "receipt.dev_roots") == NULL)
			fail_msg("verify --receipt without --allow-dev-roots exit %d:\n%s", rc, out);
		free(out);
	}
	rc = ctl_run(&out, NULL, "verify", "--receipt", f->rcpt, "--jwks", f->jwks,
		     roots ? "--allow-dev-roots" : NULL, NULL);
	if (rc != 0 || strstr(out, "verified: the receipt re-verifies") == NULL ||
	    strstr(out, "token signature verified with the JWKS given") == NULL)
		fail_msg("verify --receipt exit %d:\n%s", rc, out);
	free(out);
}

static char *b64url_file(const char *dir, const char *rel)
{
	size_t n = 0;
	unsigned char *p = test_read_vector(dir, rel, &n);
	char *b64;

	if (p == NULL)
		fail_msg("vector %s is missing", rel);
	b64 = b64url_encode(p, n);
	free(p);
	return b64;
}

static char *member_body(const char *member, const char *b64)
{
	char *body = NULL;

	assert_true(asprintf(&body, "{\"%s\":\"%s\"}", member, b64) > 0);
	return body;
}

/* One real Intel vector: evidence file, type, collateral folder, time. */
static void intel_vector(struct fixture *f, const char *dir, enum maa_type type, const char *type_name,
			 const char *evidence, const char *coll, int64_t now)
{
	char *b64 = b64url_file(dir, evidence),
	     *body = member_body(type == MAA_TYPE_OPEN_ENCLAVE ? "report" : "quote", b64);
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, coll);
	issue(f, type, body, path, NULL, NULL, now);
	round_trip(f, type_name, path, NULL, NULL);
	free(b64);
	free(body);
}

static void sgx_vectors_round_trip(void **state)
{
	struct fixture *f = *state;
	char path[4096], bundle[160], *b64, *body;
	REQUIRE_VECTORS(dir);

	/* The candidates as a collateral bundle (attestctl collateral export) instead of a folder. */
	snprintf(path, sizeof(path), "%s/sgx/phala-sgx-v3-00a067110000-2023-11", dir);
	snprintf(bundle, sizeof(bundle), "%s/candidates.json", f->tmp);
	assert_int_equal(ctl_run(NULL, NULL, "collateral", "export", "--from-dir", path, "-O", bundle, NULL),
			 0);
	b64 = b64url_file(dir, "sgx/phala-sgx-v3-00a067110000-2023-11/quote.bin");
	body = member_body("quote", b64);
	issue(f, MAA_TYPE_SGX_ENCLAVE, body, path, NULL, NULL, 1700611200);
	round_trip(f, "SgxEnclave", bundle, NULL, NULL);
	free(b64);
	free(body);
	intel_vector(*state, dir, MAA_TYPE_SGX_ENCLAVE, "SgxEnclave",
		     "sgx/phala-sgx-v3-00a067110000-2023-11/quote.bin",
		     "sgx/phala-sgx-v3-00a067110000-2023-11", 1700611200);
	intel_vector(*state, dir, MAA_TYPE_SGX_ENCLAVE, "SgxEnclave",
		     "sgx/phala-sgx-v3-00a067110000-2025-06/quote.bin",
		     "sgx/phala-sgx-v3-00a067110000-2025-06", 1750377600);
}

/* Open Enclave: the reports and quotes whose PCK is valid while the published OE collateral is current. */
static void oe_vectors_round_trip(void **state)
{
	static const char *const ev[] = {
	    "oe/azure-samples-oe-sdk-release-00906ed50000-2021-02/report.bin",
	    "oe/azure-sdk-js-oe-report-00906ed50000-2022-01/report.bin",
	    OE_COLL "/quote.bin",
	};
	REQUIRE_VECTORS(dir);
	for (size_t i = 0; i < 3; i++)
		intel_vector(*state, dir, MAA_TYPE_OPEN_ENCLAVE, "OpenEnclave", ev[i], OE_COLL, OE_NOW);
	/* oe/azure-samples-intel-sdk-release-...-2023-02 has a PCK issued after that collateral expired
	 * and no collateral of its own: no time exists at which it verifies. */
}

static void tdx_vectors_round_trip(void **state)
{
	static const struct {
		const char *dir;
		int64_t now;
	} v[] = {
	    {"tdx/automata-zkdcap-tdx-v4-00806f050000-2025-06", 1749095100},
	    {"tdx/google-tdx-v5-90c06f000000-2026-02", 1771459200},
	    {"tdx/phala-tdx-v4-b0c06f000000-2025-06", 1750377600},
	    /* Refused by attestd, so no token and no receipt exist for them: edgeless-...-nocrl ships
	     * no PCK CRL (revocation is never skipped); google-tdx-v4-spr-e4, phala-tappd-tdx-v4 and
	     * phala-tdx-v5-...-outdated are below every TCB level (EXPECTED.md: no matching level).
	     * refused_vectors_have_no_receipt checks that they stay refused. */
	};
	char ev[256];
	REQUIRE_VECTORS(dir);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		snprintf(ev, sizeof(ev), "%s/quote.bin", v[i].dir);
		intel_vector(*state, dir, MAA_TYPE_TDX_VM, "TdxVm", ev, v[i].dir, v[i].now);
	}
}

/*
 * An early TCB Info (the set Intel publishes ahead of a TCB Recovery) read by the verifier is
 * relied on like the standard one: the receipt keeps it under its /early key and re-verifies
 * to the same x-attestd-early-tcb-* claims.
 */
static void receipts_keep_the_early_set(void **state)
{
	struct fixture *f = *state;
	char dir2[160], cmd[8600], *b64, *body, *out = NULL;
	json_t *doc;
	REQUIRE_VECTORS(dir);

	snprintf(dir2, sizeof(dir2), "%s/with-early", f->tmp);
	snprintf(cmd, sizeof(cmd),
		 "rm -rf '%s' && cp -r '%s/sgx/phala-sgx-v3-00a067110000-2025-06' '%s' && "
		 "cp '%s/tcb_info.json' '%s/tcb_info_sgx_00a067110000_early.json'",
		 dir2, dir, dir2, dir2, dir2);
	assert_int_equal(system(cmd), 0);
	b64 = b64url_file(dir, "sgx/phala-sgx-v3-00a067110000-2025-06/quote.bin");
	body = member_body("quote", b64);
	issue(f, MAA_TYPE_SGX_ENCLAVE, body, dir2, NULL, NULL, 1750377600);
	round_trip(f, "SgxEnclave", dir2, NULL, NULL);
	doc = json_load_file(f->rcpt, 0, NULL);
	assert_non_null(doc);
	out = json_dumps(json_object_get(doc, "collateral"), 0);
	assert_non_null(strstr(out, "\"sgx/tcb/00A067110000/early\""));
	free(out);
	json_decref(doc);
	free(b64);
	free(body);
}

/* The vectors attestd refuses: receipt export cannot make a receipt of a token that does not exist. */
static void refused_vectors_have_no_receipt(void **state)
{
	static const char *const v[] = {
	    "tdx/edgeless-tdx-v4-00806f050000-2023-02-nocrl", "tdx/google-tdx-v4-spr-e4-50806f000000-2023-07",
	    "tdx/phala-tappd-tdx-v4-b0c06f000000-2025-06", "tdx/phala-tdx-v5-90c06f000000-outdated-2026-02"};
	static const int64_t now[] = {1676678400, 1688173200, 1750377600, 1771459200};
	REQUIRE_VECTORS(dir);
	for (size_t i = 0; i < 4; i++) {
		struct pipeline_ctx *ctx = NULL;
		struct pipeline_attest in = {0};
		struct pipeline_outcome out = {0};
		struct attest_err err;
		char rel[256], path[4096], *b64, *body;

		attest_err_clear(&err);
		snprintf(rel, sizeof(rel), "%s/quote.bin", v[i]);
		snprintf(path, sizeof(path), "%s/%s", dir, v[i]);
		b64 = b64url_file(dir, rel);
		body = member_body("quote", b64);
		assert_int_equal(pipeline_ctx_new(0, &ctx, &err), ATTEST_OK);
		assert_int_equal(collateral_file_source_new(path, &ctx->collateral, &err), ATTEST_OK);
		in.type = MAA_TYPE_TDX_VM;
		in.body = body;
		in.body_len = strlen(body);
		in.issuer = ISSUER;
		in.now = now[i];
		in.sign = sign_rs256;
		in.sign_arg = *state;
		assert_int_not_equal(pipeline_attest_run(ctx, &in, &out), ATTEST_OK);
		assert_int_equal(out.status, 400);
		pipeline_outcome_clear(&out);
		pipeline_ctx_free(ctx);
		free(b64);
		free(body);
	}
}

/* SevSnpVm with only the SnpReport: the VCEK and ASK/ARK come from the collateral (and so the receipt). */
static void snp_vectors_round_trip(void **state)
{
	static const char *const v[] = {"snp/gsg-milan-v2-2022-09",
					"snp/teekit-gcp-milan-v5-reportdata-2025-12",
					"snp/teekit-gcp-milan-v5-x25519-2025-12"};
	static const int64_t now[] = {1700000000, 1767225600, 1767225600};
	struct fixture *f = *state;
	char rel[256], path[4096], *env = NULL, *r64, *e64, *body;
	REQUIRE_VECTORS(dir);
	for (size_t i = 0; i < 3; i++) {
		snprintf(rel, sizeof(rel), "%s/report.bin", v[i]);
		r64 = b64url_file(dir, rel);
		assert_true(asprintf(&env, "{\"SnpReport\":\"%s\"}", r64) > 0);
		e64 = b64url_encode((const uint8_t *)env, strlen(env));
		body = member_body("report", e64);
		snprintf(path, sizeof(path), "%s/%s", dir, v[i]);
		issue(f, MAA_TYPE_SEV_SNP_VM, body, path, NULL, NULL, now[i]);
		round_trip(f, "SevSnpVm", path, NULL, NULL);
		free(r64);
		free(env);
		free(e64);
		free(body);
	}
}

static void expect_refused(struct fixture *f, json_t *doc, const char *why);

/* An SNP receipt holds the VCEK and chain the token pins; another VCEK in its place is refused. */
static void snp_receipt_pins_its_collateral(void **state)
{
	struct fixture *f = *state;
	char path[4096], *r64, *env = NULL, *e64, *body, hex[65], *enc;
	json_t *doc, *items, *it, *hdr = NULL, *claims = NULL, *pins;
	const char *tok;
	struct attest_err err;
	size_t i, n = 0;
	uint8_t h[32];
	unsigned char *other;
	REQUIRE_VECTORS(dir);

	attest_err_clear(&err);
	r64 = b64url_file(dir, "snp/gsg-milan-v2-2022-09/report.bin");
	assert_true(asprintf(&env, "{\"SnpReport\":\"%s\"}", r64) > 0);
	e64 = b64url_encode((const uint8_t *)env, strlen(env));
	body = member_body("report", e64);
	snprintf(path, sizeof(path), "%s/snp/gsg-milan-v2-2022-09", dir);
	issue(f, MAA_TYPE_SEV_SNP_VM, body, path, NULL, NULL, 1700000000);
	round_trip(f, "SevSnpVm", path, NULL, NULL);
	doc = json_load_file(f->rcpt, 0, NULL);
	assert_non_null(doc);
	tok = json_string_value(json_object_get(doc, "token"));
	assert_int_equal(token_decode_unverified(tok, strlen(tok), &hdr, &claims, &err), ATTEST_OK);
	pins = json_object_get(claims, "x-attestd-snp-collateral");
	assert_non_null(json_object_get(pins, "vcekhash"));
	assert_non_null(json_object_get(pins, "certchainhash"));
	items = json_object_get(json_object_get(doc, "collateral"), "items");
	assert_int_equal(json_array_size(items), 2);
	/* Another chip's VCEK (well-formed, its own digest) under this key. */
	other = test_read_vector(dir, "snp/teekit-gcp-milan-v5-reportdata-2025-12/vcek.pem", &n);
	assert_non_null(other);
	sha256(other, n, h);
	hex_encode_to(h, 32, hex);
	enc = b64std_encode(other, n);
	json_array_foreach(items, i, it)
	{
		if (strcmp(json_string_value(json_object_get(it, "kind")), "amd_vcek") != 0)
			continue;
		assert_string_equal(json_string_value(json_object_get(it, "sha256")),
				    json_string_value(json_object_get(pins, "vcekhash")));
		json_object_set_new(it, "data", json_string(enc));
		json_object_set_new(it, "sha256", json_string(hex));
	}
	expect_refused(f, doc, "receipt.pin");
	free(enc);
	free(other);
	json_decref(hdr);
	json_decref(claims);
	json_decref(doc);
	free(r64);
	free(env);
	free(e64);
	free(body);
}

/* The development platform (attestctl dev init): synthetic SGX, TDX and SNP evidence, its anchors in the
 * receipt. */
static void synthetic_evidence_round_trips(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *kind, *type;
		enum maa_type t;
	} v[] = {{"sgx", "SgxEnclave", MAA_TYPE_SGX_ENCLAVE},
		 {"tdx", "TdxVm", MAA_TYPE_TDX_VM},
		 {"snp", "SevSnpVm", MAA_TYPE_SEV_SNP_VM}};
	char dev[128], roots[160], coll[160], ev[160], *body, *b64;
	size_t n = 0;
	unsigned char *p;

	snprintf(dev, sizeof(dev), "%s/dev", f->tmp);
	snprintf(roots, sizeof(roots), "%s/roots.pem", dev);
	snprintf(coll, sizeof(coll), "%s/collateral", dev);
	assert_int_equal(ctl_run(NULL, NULL, "dev", "init", "--dir", dev, NULL), 0);
	for (size_t i = 0; i < 3; i++) {
		snprintf(ev, sizeof(ev), "%s/evidence-%s", f->tmp, v[i].kind);
		assert_int_equal(
		    ctl_run(NULL, NULL, "dev", "evidence", v[i].kind, "--dir", dev, "-o", ev, NULL), 0);
		p = test_read_vector("/", ev + 1, &n);
		assert_non_null(p);
		/* SGX/TDX: the quote; SevSnpVm: Azure's JSON envelope, base64url as the request carries it.
		 */
		b64 = b64url_encode(p, n);
		body = member_body(v[i].t == MAA_TYPE_SEV_SNP_VM ? "report" : "quote", b64);
		issue(f, v[i].t, body, coll, roots, NULL, time(NULL));
		round_trip(f, v[i].type, coll, roots, NULL);
		free(p);
		free(b64);
		free(body);
	}
}

/* ---- tampering ------------------------------------------------------------------------- */

/* A fresh receipt of the 2025 SGX vector in f->rcpt; returns the parsed document. */
static json_t *sgx_receipt(struct fixture *f, const char *dir, const char *policy)
{
	json_t *doc;
	char keep[160];

	/* The default-policy receipt is made (and round-tripped) once, then reused by each tampering. */
	snprintf(keep, sizeof(keep), "%s/sgx-receipt.json", f->tmp);
	if (policy == NULL && access(keep, R_OK) == 0) {
		doc = json_load_file(keep, 0, NULL);
		assert_non_null(doc);
		return doc;
	}
	if (policy == NULL) {
		intel_vector(f, dir, MAA_TYPE_SGX_ENCLAVE, "SgxEnclave",
			     "sgx/phala-sgx-v3-00a067110000-2025-06/quote.bin",
			     "sgx/phala-sgx-v3-00a067110000-2025-06", 1750377600);
		doc = json_load_file(f->rcpt, 0, NULL);
		assert_non_null(doc);
		assert_int_equal(json_dump_file(doc, keep, 0), 0);
		return doc;
	} else {
		char *b64 = b64url_file(dir, "sgx/phala-sgx-v3-00a067110000-2025-06/quote.bin");
		char *body = member_body("quote", b64), path[4096], pfile[160];

		snprintf(path, sizeof(path), "%s/sgx/phala-sgx-v3-00a067110000-2025-06", dir);
		snprintf(pfile, sizeof(pfile), "%s/policy.txt", f->tmp);
		write_text(pfile, policy);
		issue(f, MAA_TYPE_SGX_ENCLAVE, body, path, NULL, policy, 1750377600);
		round_trip(f, "SgxEnclave", path, NULL, pfile);
		free(b64);
		free(body);
	}
	doc = json_load_file(f->rcpt, 0, NULL);
	assert_non_null(doc);
	return doc;
}

/* Writes doc as the receipt and expects verify --receipt to refuse it, saying `why`. */
static void expect_refused(struct fixture *f, json_t *doc, const char *why)
{
	char *out = NULL;
	int rc;

	assert_int_equal(json_dump_file(doc, f->rcpt, 0), 0);
	rc = ctl_run(&out, NULL, "verify", "--receipt", f->rcpt, "--jwks", f->jwks, NULL);
	if (rc != 1 || strstr(out, why) == NULL)
		fail_msg("verify --receipt exit %d (want 1), output:\n%s\n(wanted \"%s\")", rc, out, why);
	free(out);
}

/* The same without a trusted JWKS: the re-verification alone must catch it. */
static void expect_refused_unsigned(struct fixture *f, json_t *doc, const char *why)
{
	char *out = NULL;
	int rc;

	assert_int_equal(json_dump_file(doc, f->rcpt, 0), 0);
	rc = ctl_run(&out, NULL, "verify", "--receipt", f->rcpt, "--no-signature-check", NULL);
	if (rc != 1 || strstr(out, why) == NULL)
		fail_msg("verify --receipt exit %d (want 1), output:\n%s\n(wanted \"%s\")", rc, out, why);
	free(out);
}

static json_t *item_of(json_t *doc, const char *key)
{
	size_t i;
	json_t *it;

	json_array_foreach(json_object_get(json_object_get(doc, "collateral"), "items"), i, it)
	{
		if (strcmp(json_string_value(json_object_get(it, "key")), key) == 0)
			return it;
	}
	fail_msg("the receipt holds no %s", key);
	return NULL;
}

/* A TCB Info with one byte changed (its sha256 updated, so only the signature can tell). */
static void altered_collateral_is_refused(void **state)
{
	REQUIRE_VECTORS(dir);
	json_t *doc = sgx_receipt(*state, dir, NULL), *it = item_of(doc, "sgx/tcb/00A067110000");
	uint8_t *data = NULL, h[32];
	size_t n = 0;
	char hex[65], *b64, *at;

	assert_int_equal(b64_decode(json_string_value(json_object_get(it, "data")),
				    strlen(json_string_value(json_object_get(it, "data"))), &data, &n),
			 0);
	at = strstr((char *)data, "\"tcbEvaluationDataNumber\":");
	assert_non_null(at);
	at += strlen("\"tcbEvaluationDataNumber\":");
	*at = *at == '1' ? '2' : '1';
	sha256(data, n, h);
	hex_encode_to(h, 32, hex);
	b64 = b64std_encode(data, n);
	json_object_set_new(it, "data", json_string(b64));
	json_object_set_new(it, "sha256", json_string(hex));
	/* The token pins the original TCB Info: caught before anything is verified. */
	expect_refused(*state, doc, "receipt.pin");
	free(b64);
	free(data);
	json_decref(doc);
}

static void receipt_with_a_wrong_digest_is_refused(void **state)
{
	REQUIRE_VECTORS(dir);
	json_t *doc = sgx_receipt(*state, dir, NULL), *it = item_of(doc, "sgx/qe/identity");

	json_object_set_new(it, "sha256",
			    json_string("00000000000000000000000000000000"
					"00000000000000000000000000000000"));
	expect_refused(*state, doc, "bundle.digest");
	json_decref(doc);
}

/* Re-verification happens at the token's iat, as its issuer: a receipt claiming others is refused. */
static void receipt_time_must_be_the_tokens(void **state)
{
	REQUIRE_VECTORS(dir);
	json_t *doc = sgx_receipt(*state, dir, NULL);

	assert_string_equal(json_string_value(json_object_get(doc, "time")), "2025-06-20T00:00:00Z");
	json_object_set_new(doc, "time", json_string("2025-06-21T00:00:00Z"));
	expect_refused(*state, doc, "receipt.time");
	json_object_set_new(doc, "time", json_string("2025-06-20T00:00:00Z"));
	json_object_set_new(doc, "issuer", json_string("https://elsewhere.test"));
	expect_refused(*state, doc, "receipt.issuer");
	json_decref(doc);
}

static void missing_collateral_is_refused(void **state)
{
	REQUIRE_VECTORS(dir);
	json_t *doc = sgx_receipt(*state, dir, NULL),
	       *items = json_object_get(json_object_get(doc, "collateral"), "items");
	size_t i;
	json_t *it;

	json_array_foreach(items, i, it)
	{
		if (strcmp(json_string_value(json_object_get(it, "key")), "pck_crl/processor") == 0)
			break;
	}
	assert_true(i < json_array_size(items));
	json_array_remove(items, i);
	/* The PCK CRL is not pinned by MAA's claim: re-verification finds it missing. */
	expect_refused(*state, doc, "refused");
	json_decref(doc);
}

/* A claim changed in the token: the signature (with a trusted JWKS) or the comparison (without) catches it.
 */
static void altered_token_claims_are_refused(void **state)
{
	struct fixture *f = *state;
	REQUIRE_VECTORS(dir);
	json_t *doc = sgx_receipt(f, dir, NULL), *hdr = NULL, *payload = NULL;
	const char *tok = json_string_value(json_object_get(doc, "token"));
	struct attest_err err;
	char *forged, *unsig, *pay;

	attest_err_clear(&err);
	assert_int_equal(token_decode_unverified(tok, strlen(tok), &hdr, &payload, &err), ATTEST_OK);
	json_object_set_new(payload, "x-ms-sgx-is-debuggable", json_true());
	unsig = token_encode_unsigned(payload);
	/* header.payload.signature: the altered payload between the original header and signature. */
	pay = unsig + strcspn(unsig, ".") + 1;
	assert_true(asprintf(&forged, "%.*s.%.*s%s", (int)strcspn(tok, "."), tok, (int)strcspn(pay, "."), pay,
			     strrchr(tok, '.')) > 0);
	json_object_set_new(doc, "token", json_string(forged));
	expect_refused(f, doc, "jws.signature");
	expect_refused_unsigned(
	    f, doc, "claim \"x-ms-sgx-is-debuggable\": the token says true, re-verification issues false");
	free(forged);
	free(unsig);
	json_decref(hdr);
	json_decref(payload);
	json_decref(doc);
}

/* The receipt's policy is part of what is re-verified: another policy gives other claims. */
static void another_policy_is_refused(void **state)
{
	REQUIRE_VECTORS(dir);
	json_t *doc =
	    sgx_receipt(*state, dir,
			"version=1.0;authorizationrules{=>permit();};issuancerules{=>issue(type=\"team\", "
			"value=\"blue\");};");

	json_object_set_new(doc, "policy",
			    json_string("version=1.0;authorizationrules{=>permit();};issuancerules{=>"
					"issue(type=\"team\", value=\"red\");};"));
	json_object_del(doc, "jwks");
	expect_refused(*state, doc, "different");
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sgx_vectors_round_trip),
	    cmocka_unit_test(oe_vectors_round_trip),
	    cmocka_unit_test(tdx_vectors_round_trip),
	    cmocka_unit_test(receipts_keep_the_early_set),
	    cmocka_unit_test(refused_vectors_have_no_receipt),
	    cmocka_unit_test(snp_vectors_round_trip),
	    cmocka_unit_test(synthetic_evidence_round_trips),
	    cmocka_unit_test(snp_receipt_pins_its_collateral),
	    cmocka_unit_test(altered_collateral_is_refused),
	    cmocka_unit_test(receipt_with_a_wrong_digest_is_refused),
	    cmocka_unit_test(receipt_time_must_be_the_tokens),
	    cmocka_unit_test(missing_collateral_is_refused),
	    cmocka_unit_test(altered_token_claims_are_refused),
	    cmocka_unit_test(another_policy_is_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
