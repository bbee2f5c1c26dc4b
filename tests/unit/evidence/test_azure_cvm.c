/*
 * Azure confidential VMs (src/evidence/azure_cvm.c): the real HCL reports
 * of shared/vectors/azure-cvm parse and bind as EXPECTED.md says, the SNP
 * one is refused with the VCEK of another chip published beside it, and
 * the SevSnpVm envelope is verified end to end on a real report and on
 * synthetic Azure CVM evidence (src/devplat/snp_plat.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "base/codec.h"
#include "base/cur.h"
#include "claims/claims.h"
#include "crypto/crypto.h"
#include "devplat/snp_plat.h"
#include "evidence/amd_certs.h"
#include "evidence/azure_cvm.h"

#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#define AZ_VCEK_TIME 1700000000 /* inside certs.pem's VCEK validity */

static uint8_t *read_vec(const char *dir, const char *rel, size_t *n)
{
	uint8_t *p = test_read_vector(dir, rel, n);

	assert_non_null(p);
	return p;
}

static void snp_hcl_report_parses_with_expected_fields(void **state)
{
	struct hcl_report h;
	struct snp_report r;
	size_t n = 0;
	uint8_t *p;
	char tcb[17];

	REQUIRE_VECTORS(dir);
	p = read_vec(dir, "azure-cvm/hcl-report-snp.bin", &n);
	assert_int_equal(hcl_report_parse(p, n, &h, NULL), ATTEST_OK);
	assert_int_equal(h.version, 1);
	assert_int_equal(h.report_type, HCL_REPORT_SNP);
	assert_int_equal(h.hash_type, HCL_HASH_SHA256);
	assert_int_equal(h.var_len, 583);
	assert_int_equal(h.report_size, 0x4D4 + 583);
	assert_int_equal(snp_report_parse(h.hw_report, HCL_HW_REPORT_SIZE, &r, NULL), ATTEST_OK);
	assert_int_equal(r.version, 2);
	hex_encode_to(r.reported_tcb, 8, tcb);
	assert_string_equal(tcb, "0300000000000873");
	free(p);
}

static void snp_hcl_runtime_json_is_bound_to_report_data(void **state)
{
	struct hcl_report h;
	struct attest_err err;
	uint8_t digest[32];
	size_t n = 0;
	uint8_t *p;

	REQUIRE_VECTORS(dir);
	p = read_vec(dir, "azure-cvm/hcl-report-snp.bin", &n);
	assert_int_equal(hcl_report_parse(p, n, &h, NULL), ATTEST_OK);
	assert_int_equal(hcl_report_bind(&h, NULL), ATTEST_OK);
	assert_int_equal(sha256(h.var_data, h.var_len, digest), 0);
	assert_memory_equal(digest, h.hw_report + SNP_OFF_REPORT_DATA, 32);
	/* One changed byte of the runtime JSON breaks the binding. */
	p[HCL_OFF_VAR_DATA + 10] ^= 0x20;
	assert_int_equal(hcl_report_parse(p, n, &h, NULL), ATTEST_OK);
	attest_err_clear(&err);
	assert_int_equal(hcl_report_bind(&h, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "hcl.binding");
	free(p);
}

static void snp_hcl_runtime_json_carries_an_ak_that_is_not_akpub_pem(void **state)
{
	EVP_PKEY *ak = NULL, *other = NULL;
	struct hcl_report h;
	json_t *rt = NULL;
	size_t n = 0, m = 0;
	uint8_t *p, *pem;
	BIO *b;

	REQUIRE_VECTORS(dir);
	p = read_vec(dir, "azure-cvm/hcl-report-snp.bin", &n);
	assert_int_equal(hcl_report_parse(p, n, &h, NULL), ATTEST_OK);
	assert_int_equal(hcl_runtime_parse(&h, &rt, &ak, NULL), ATTEST_OK);
	assert_non_null(json_object_get(rt, "vm-configuration"));
	assert_int_equal(EVP_PKEY_get_bits(ak), 2048);
	/* EXPECTED.md: the AK in akpub.pem comes from another VM. */
	pem = read_vec(dir, "azure-cvm/akpub.pem", &m);
	b = BIO_new_mem_buf(pem, (int)m);
	other = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	assert_non_null(other);
	assert_int_not_equal(EVP_PKEY_eq(ak, other), 1);
	{
		struct attest_err err;

		attest_err_clear(&err);
		assert_int_equal(hcl_runtime_ak_matches(&h, other, &err), ATTEST_E_VERIFY);
		assert_string_equal(err.name, "hcl.ak_mismatch");
		assert_int_equal(hcl_runtime_ak_matches(&h, ak, NULL), ATTEST_OK);
	}
	BIO_free(b);
	EVP_PKEY_free(other);
	EVP_PKEY_free(ak);
	json_decref(rt);
	free(pem);
	free(p);
}

static void snp_hcl_report_is_refused_with_the_vcek_of_another_chip(void **state)
{
	struct evidence_ctx ctx = {.now = AZ_VCEK_TIME};
	struct claim_set *cs;
	STACK_OF(X509) *sk = NULL;
	struct snp_certs certs;
	struct snp_report r;
	struct amd_chain ch;
	struct attest_err err;
	size_t n = 0, m = 0;
	uint8_t *p, *pem;

	REQUIRE_VECTORS(dir);
	cs = claim_set_new();
	p = read_vec(dir, "azure-cvm/hcl-report-snp.bin", &n);
	pem = read_vec(dir, "azure-cvm/certs.pem", &m);
	memset(&certs, 0, sizeof(certs));
	certs.chain = pem, certs.chain_len = m;
	attest_err_clear(&err);
	assert_int_equal(azure_cvm_snp_verify(&ctx, NULL, p, n, &certs, cs, NULL, NULL, &err),
			 ATTEST_E_VERIFY);
	assert_string_equal(err.name, "snp.vcek.chip_id");
	assert_int_equal(claim_set_count(cs), 0);
	/* And the report's signature does not verify with that VCEK either. */
	assert_int_equal(x509_stack_from_pem(pem, m, &sk, "t", NULL), 0);
	assert_int_equal(amd_chain_classify(sk, &ch, NULL), 0);
	assert_int_equal(snp_report_parse(p + HCL_OFF_HW_REPORT, SNP_REPORT_SIZE, &r, NULL), 0);
	assert_int_equal(ecdsa_verify_rs_le(X509_get0_pubkey(ch.leaf), HASH_SHA384, r.signed_bytes,
					    SNP_SIGNED_SIZE, r.sig_r, r.sig_s, 72, "t", NULL),
			 ATTEST_E_VERIFY);
	sk_X509_pop_free(sk, X509_free);
	claim_set_free(cs);
	free(pem);
	free(p);
}

static void tdx_hcl_report_parses_and_binds(void **state)
{
	struct hcl_report h;
	json_t *rt = NULL;
	size_t n = 0;
	uint8_t *p;

	REQUIRE_VECTORS(dir);
	p = read_vec(dir, "azure-cvm/hcl-report-tdx.bin", &n);
	assert_int_equal(hcl_report_parse(p, n, &h, NULL), ATTEST_OK);
	assert_int_equal(h.version, 2);
	assert_int_equal(h.report_type, HCL_REPORT_TDX);
	assert_int_equal(h.hw_report[0], 0x81); /* REPORTMACSTRUCT type: TDX */
	assert_int_equal(hcl_report_bind(&h, NULL), ATTEST_OK);
	assert_int_equal(hcl_runtime_parse(&h, &rt, NULL, NULL), ATTEST_OK);
	assert_non_null(json_object_get(rt, "user-data"));
	json_decref(rt);
	free(p);
}

static void var_data_sample_is_runtime_json_with_hclakpub(void **state)
{
	struct hcl_report h;
	EVP_PKEY *ak = NULL;
	size_t n = 0;
	uint8_t *p;

	REQUIRE_VECTORS(dir);
	p = read_vec(dir, "azure-cvm/var-data.bin", &n);
	memset(&h, 0, sizeof(h));
	h.var_data = p, h.var_len = n;
	assert_int_equal(hcl_runtime_parse(&h, NULL, &ak, NULL), ATTEST_OK);
	EVP_PKEY_free(ak);
	free(p);
}

/* ---- HCL structure ------------------------------------------------------------ */

static void hcl_truncated_at_every_length_is_refused(void **state)
{
	size_t n = 0;
	uint8_t *p;

	REQUIRE_VECTORS(dir);
	p = read_vec(dir, "azure-cvm/hcl-report-snp.bin", &n);
	for (size_t len = 0; len < 0x4D4 + 583; len++) {
		struct hcl_report h;
		struct attest_err err;
		uint8_t *copy = malloc(len ? len : 1);

		memcpy(copy, p, len);
		attest_err_clear(&err);
		assert_int_equal(hcl_report_parse(copy, len, &h, &err), ATTEST_E_PARSE);
		assert_string_equal(err.name, len < 4 ? "hcl.truncated" : "hcl.truncated");
		free(copy);
	}
	free(p);
}

static void hcl_header_rules_are_enforced(void **state)
{
	static const struct {
		size_t off;
		uint8_t v;
		const char *name;
	} M[] = {
	    {HCL_OFF_SIGNATURE, 0x41, "hcl.signature"},	 {HCL_OFF_VERSION, 3, "hcl.version"},
	    {HCL_OFF_VERSION, 0, "hcl.version"},	 {HCL_OFF_REPORT_SIZE, 0x1C, "hcl.size"},
	    {HCL_OFF_DATA_SIZE, 0, "hcl.size"},		 {HCL_OFF_DATA_VERSION, 2, "hcl.version"},
	    {HCL_OFF_REPORT_TYPE, 5, "hcl.report_type"}, {HCL_OFF_HASH_TYPE, 4, "hcl.hash_type"},
	    {HCL_OFF_HASH_TYPE, 0, "hcl.hash_type"},	 {HCL_OFF_RESERVED + 3, 1, "hcl.reserved"},
	    {HCL_OFF_VAR_SIZE + 2, 1, "hcl.truncated"},
	};
	size_t n = 0;
	uint8_t *p;

	REQUIRE_VECTORS(dir);
	p = read_vec(dir, "azure-cvm/hcl-report-snp.bin", &n);
	for (size_t i = 0; i < sizeof(M) / sizeof(M[0]); i++) {
		uint8_t *q = malloc(n);
		struct hcl_report h;
		struct attest_err err;

		memcpy(q, p, n);
		q[M[i].off] = M[i].v;
		attest_err_clear(&err);
		assert_int_not_equal(hcl_report_parse(q, n, &h, &err), ATTEST_OK);
		if (strcmp(err.name, M[i].name) != 0)
			fail_msg("offset 0x%zx: got %s, want %s", M[i].off, err.name, M[i].name);
		free(q);
	}
	free(p);
}

static void tdx_padding_must_be_zero(void **state)
{
	struct hcl_report h;
	struct attest_err err;
	size_t n = 0;
	uint8_t *p;

	REQUIRE_VECTORS(dir);
	p = read_vec(dir, "azure-cvm/hcl-report-tdx.bin", &n);
	p[HCL_OFF_HW_REPORT + HCL_TDREPORT_SIZE + 5] = 1;
	attest_err_clear(&err);
	assert_int_equal(hcl_report_parse(p, n, &h, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "hcl.reserved");
	free(p);
}

/* ---- SevSnpVm envelope ------------------------------------------------------------ */

/* {"SnpReport": b64url(report), "VcekCertChain": b64url(chain)} as a string (caller frees). */
static char *envelope(const uint8_t *report, size_t rlen, const uint8_t *chain, size_t clen)
{
	char *r = b64url_encode(report, rlen), *c = chain ? b64url_encode(chain, clen) : NULL;
	size_t n = strlen(r) + (c ? strlen(c) : 0) + 64;
	char *out = malloc(n);

	if (c)
		snprintf(out, n, "{\"SnpReport\":\"%s\",\"VcekCertChain\":\"%s\"}", r, c);
	else
		snprintf(out, n, "{\"SnpReport\":\"%s\"}", r);
	free(r);
	free(c);
	return out;
}

static void sevsnpvm_envelope_of_a_real_report_verifies(void **state)
{
	struct evidence_ctx ctx = {.now = 1767225600};
	struct claim_set *cs;
	struct evidence_input in;
	struct attest_err err;
	size_t rn = 0, vn = 0, cn = 0;
	uint8_t *report, *vcek, *chain, *both;
	char *env, *wrapped;

	REQUIRE_VECTORS(dir);
	cs = claim_set_new();
	report = read_vec(dir, "snp/teekit-gcp-milan-v5-reportdata-2025-12/report.bin", &rn);
	vcek = read_vec(dir, "snp/teekit-gcp-milan-v5-reportdata-2025-12/vcek.pem", &vn);
	chain = read_vec(dir, "snp/teekit-gcp-milan-v5-reportdata-2025-12/ask_ark_milan.pem", &cn);
	both = malloc(vn + cn); /* Azure's order: VCEK, ASK, ARK */
	memcpy(both, vcek, vn);
	memcpy(both + vn, chain, cn);
	env = envelope(report, rn, both, vn + cn);
	memset(&in, 0, sizeof(in));
	in.evidence = (const uint8_t *)env, in.evidence_len = strlen(env);
	attest_err_clear(&err);
	assert_int_equal(sevsnpvm_verify(&ctx, &in, cs, &err), ATTEST_OK);
	assert_string_equal(json_string_value(claim_set_get(cs, "x-ms-attestation-type")), "sevsnpvm");
	assert_int_equal(json_integer_value(claim_set_get(cs, "x-ms-sevsnpvm-vmpl")), 1);
	assert_null(claim_set_get(cs, "x-ms-runtime"));
	/* The same envelope base64url-wrapped once more is accepted. */
	wrapped = b64url_encode((const uint8_t *)env, strlen(env));
	in.evidence = (const uint8_t *)wrapped, in.evidence_len = strlen(wrapped);
	assert_int_equal(sevsnpvm_verify(&ctx, &in, cs, NULL), ATTEST_OK);
	/* Pretty-printed (fast scanner) and with a null member (jansson) it verifies the same. */
	{
		size_t n = strlen(env) + 64;
		char *pretty = malloc(n), *comma = strchr(env, ',');

		snprintf(pretty, n, "\n{ %.*s ,\n  %s", (int)(comma - env - 1), env + 1, comma + 1);
		in.evidence = (const uint8_t *)pretty, in.evidence_len = strlen(pretty);
		assert_int_equal(sevsnpvm_verify(&ctx, &in, cs, NULL), ATTEST_OK);
		snprintf(pretty, n, "{\"Endorsements\":null,%s", env + 1);
		in.evidence = (const uint8_t *)pretty, in.evidence_len = strlen(pretty);
		assert_int_equal(sevsnpvm_verify(&ctx, &in, cs, NULL), ATTEST_OK);
		free(pretty);
		in.evidence = (const uint8_t *)wrapped, in.evidence_len = strlen(wrapped);
	}
	/* A chain that is not base64 is found out when it is needed (it is not in a cache). */
	{
		char *r64 = b64url_encode(report, rn);
		size_t n = strlen(r64) + 64;
		char *bad = malloc(n);
		struct claim_set *none = claim_set_new();
		struct evidence_input bin = in;

		snprintf(bad, n, "{\"SnpReport\":\"%s\",\"VcekCertChain\":\"!!\"}", r64);
		bin.evidence = (const uint8_t *)bad, bin.evidence_len = strlen(bad);
		attest_err_clear(&err);
		assert_int_equal(sevsnpvm_verify(&ctx, &bin, none, &err), ATTEST_E_PARSE);
		assert_string_equal(err.name, "snp.chain.base64");
		assert_int_equal(claim_set_count(none), 0);
		claim_set_free(none);
		free(bad);
		free(r64);
	}
	/* Runtime data that is not what REPORT_DATA holds is refused. */
	in.runtime_data = (const uint8_t *)"{}", in.runtime_data_len = 2,
	in.runtime_data_type = EVIDENCE_DATA_JSON;
	attest_err_clear(&err);
	assert_int_equal(sevsnpvm_verify(&ctx, &in, cs, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "snp.binding.runtime");
	free(wrapped);
	free(env);
	free(both);
	free(chain);
	free(vcek);
	free(report);
	claim_set_free(cs);
}

static void sevsnpvm_envelope_of_the_azure_report_with_foreign_vcek_is_refused(void **state)
{
	struct evidence_ctx ctx = {.now = AZ_VCEK_TIME};
	struct claim_set *cs;
	struct evidence_input in;
	struct attest_err err;
	struct hcl_report h;
	size_t n = 0, m = 0;
	uint8_t *p, *pem;
	char *env;

	REQUIRE_VECTORS(dir);
	cs = claim_set_new();
	p = read_vec(dir, "azure-cvm/hcl-report-snp.bin", &n);
	pem = read_vec(dir, "azure-cvm/certs.pem", &m);
	assert_int_equal(hcl_report_parse(p, n, &h, NULL), 0);
	env = envelope(h.hw_report, SNP_REPORT_SIZE, pem, m);
	memset(&in, 0, sizeof(in));
	in.evidence = (const uint8_t *)env, in.evidence_len = strlen(env);
	in.runtime_data = h.var_data, in.runtime_data_len = h.var_len,
	in.runtime_data_type = EVIDENCE_DATA_JSON;
	attest_err_clear(&err);
	assert_int_equal(sevsnpvm_verify(&ctx, &in, cs, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "snp.vcek.chip_id");
	assert_int_equal(claim_set_count(cs), 0);
	free(env);
	free(pem);
	free(p);
	claim_set_free(cs);
}

static void sevsnpvm_envelope_errors_are_named(void **state)
{
	static const struct {
		const char *text;
		const char *name;
	} M[] = {
	    {"not json", "sevsnpvm.json"},
	    {"[1]", "sevsnpvm.json"},
	    {"{}", "sevsnpvm.member"},
	    {"{\"SnpReport\":5}", "sevsnpvm.member"},
	    {"{\"SnpReport\":\"!!\"}", "sevsnpvm.base64"},
	    {"{\"SnpReport\":\"AAAA\",\"Endorsements\":\"bm90IGpzb24\"}", "sevsnpvm.endorsements"},
	    {"{\"SnpReport\":\"AAAA\"}", "snp.report.truncated"},
	    {"{\"SnpReport\":\"AAAA\",\"SnpReport\":\"AAAA\"}", "sevsnpvm.json"},
	    {"{\"SnpReport\":\"AAAA\",}", "sevsnpvm.json"},
	    {"{\"SnpReport\":\"AAAA\"} x", "sevsnpvm.json"},
	    {"{\"SnpReport\":\"AAAA\",\"VcekCertChain\":7}", "sevsnpvm.member"},
	};

	for (size_t i = 0; i < sizeof(M) / sizeof(M[0]); i++) {
		struct evidence_ctx ctx = {.now = 1};
		struct claim_set *cs = claim_set_new();
		struct evidence_input in;
		struct attest_err err;

		memset(&in, 0, sizeof(in));
		in.evidence = (const uint8_t *)M[i].text, in.evidence_len = strlen(M[i].text);
		attest_err_clear(&err);
		assert_int_not_equal(sevsnpvm_verify(&ctx, &in, cs, &err), ATTEST_OK);
		if (strcmp(err.name, M[i].name) != 0)
			fail_msg("%s: got %s, want %s", M[i].text, err.name, M[i].name);
		claim_set_free(cs);
	}
}

/* ---- Synthetic Azure CVM ------------------------------------------------------------ */

struct synth {
	struct snp_plat *plat;
	struct snp_plat_leaf leaf;
	STACK_OF(X509) * arks;
	struct evidence_anchors anchors;
	struct evidence_ctx ctx;
	EVP_PKEY *ak;
	char *runtime;
	uint8_t *hcl;
	size_t hcl_len;
	char *chain_pem;
	struct snp_report r;
};

static void synth_new(struct synth *s)
{
	static const uint8_t tcb[8] = {3, 0, 0, 0, 0, 0, 8, 0x73};
	struct snp_plat_opts o = {.product = AMD_PRODUCT_MILAN,
				  .not_before = 1600000000,
				  .not_after = 2000000000,
				  .key_dir = getenv("ATTEST_BINARY_DIR")};
	uint8_t chip[64];
	struct snp_plat_leaf_spec spec = {.chip_id = chip, .tcb = tcb};
	char *a, *b;

	memset(s, 0, sizeof(*s));
	memset(chip, 0x5A, sizeof(chip));
	assert_int_equal(snp_plat_new(&o, &s->plat, NULL), 0);
	assert_int_equal(snp_plat_issue(s->plat, &spec, &s->leaf, NULL), 0);
	s->arks = sk_X509_new_null();
	sk_X509_push(s->arks, snp_plat_ark(s->plat));
	s->anchors.amd_arks = s->arks;
	s->ctx.now = 1700000000;
	s->ctx.anchors = &s->anchors;
	s->ak = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	s->runtime = snp_plat_hcl_runtime_json(s->ak);
	assert_non_null(s->runtime);
	snp_plat_report_defaults(s->plat, chip, tcb, false, &s->r);
	memset(s->r.host_data, 0, 32);
	assert_int_equal(snp_plat_hcl_report(&s->r, s->leaf.key, s->runtime, &s->hcl, &s->hcl_len, NULL), 0);
	a = snp_plat_pem(s->leaf.cert);
	b = snp_plat_pem(snp_plat_ask(s->plat));
	s->chain_pem = malloc(strlen(a) + strlen(b) + 1);
	strcpy(s->chain_pem, a);
	strcat(s->chain_pem, b);
	free(a);
	free(b);
}

static void synth_free(struct synth *s)
{
	free(s->chain_pem);
	free(s->hcl);
	free(s->runtime);
	EVP_PKEY_free(s->ak);
	sk_X509_free(s->arks);
	snp_plat_leaf_free(&s->leaf);
	snp_plat_free(s->plat);
}

static void synthetic_hcl_report_verifies_and_yields_the_ak(void **state)
{
	struct claim_set *cs = claim_set_new();
	struct snp_certs certs = {0};
	struct attest_err err;
	struct hcl_report h;
	EVP_PKEY *ak = NULL;
	struct synth s;
	const json_t *rt;

	synth_new(&s);
	certs.chain = (const uint8_t *)s.chain_pem, certs.chain_len = strlen(s.chain_pem);
	attest_err_clear(&err);
	assert_int_equal(azure_cvm_snp_verify(&s.ctx, NULL, s.hcl, s.hcl_len, &certs, cs, NULL, &h, &err),
			 ATTEST_OK);
	rt = claim_set_get(cs, "x-ms-runtime");
	assert_non_null(rt);
	assert_non_null(json_object_get(rt, "vm-configuration"));
	assert_int_equal(hcl_runtime_parse(&h, NULL, &ak, NULL), ATTEST_OK);
	assert_int_equal(EVP_PKEY_eq(ak, s.ak), 1);
	assert_int_equal(hcl_runtime_ak_matches(&h, s.ak, NULL), ATTEST_OK);
	EVP_PKEY_free(ak);
	/* Change the runtime JSON after signing: the binding fails. */
	s.hcl[HCL_OFF_VAR_DATA + 3] ^= 1;
	attest_err_clear(&err);
	assert_int_equal(azure_cvm_snp_verify(&s.ctx, NULL, s.hcl, s.hcl_len, &certs, NULL, NULL, NULL, &err),
			 ATTEST_E_VERIFY);
	assert_string_equal(err.name, "hcl.binding");
	claim_set_free(cs);
	synth_free(&s);
}

static void hcl_runtime_that_is_not_json_or_lacks_the_ak_is_refused(void **state)
{
	static const struct {
		const char *json;
		const char *name;
	} M[] = {{"not json", "hcl.runtime.json"},
		 {"[1,2]", "hcl.runtime.json"},
		 {"{\"keys\":[{\"kid\":\"Other\"}]}", "hcl.runtime.ak"},
		 {"{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
		  "hcl.runtime.ak"}};
	struct snp_certs certs = {0};
	struct synth s;

	synth_new(&s);
	certs.chain = (const uint8_t *)s.chain_pem, certs.chain_len = strlen(s.chain_pem);
	for (size_t i = 0; i < sizeof(M) / sizeof(M[0]); i++) {
		struct hcl_report h;
		struct attest_err err;
		EVP_PKEY *ak = NULL;
		uint8_t *hcl = NULL;
		size_t n = 0;
		int rc;

		assert_int_equal(snp_plat_hcl_report(&s.r, s.leaf.key, M[i].json, &hcl, &n, NULL), 0);
		attest_err_clear(&err);
		rc = azure_cvm_snp_verify(&s.ctx, NULL, hcl, n, &certs, NULL, NULL, &h, &err);
		if (rc == ATTEST_OK) {
			rc = hcl_runtime_parse(&h, NULL, &ak, &err);
			EVP_PKEY_free(ak);
		}
		assert_int_equal(rc, ATTEST_E_PARSE);
		assert_string_equal(err.name, M[i].name);
		free(hcl);
	}
	synth_free(&s);
}

static void sevsnpvm_with_json_runtime_and_inittime_binds_both(void **state)
{
	struct claim_set *cs = claim_set_new();
	struct evidence_input in;
	struct attest_err err;
	struct synth s;
	const char init[] = "{\"policy\":\"x\"}";
	uint8_t report[SNP_REPORT_SIZE];
	char *env;

	synth_new(&s);
	/* Re-sign with HOST_DATA = SHA-256(init-time data). */
	assert_int_equal(sha256(init, strlen(init), s.r.host_data), 0);
	snp_plat_report_encode(&s.r, report);
	assert_int_equal(snp_plat_report_sign(report, s.leaf.key, NULL), 0);
	env = envelope(report, sizeof(report), (const uint8_t *)s.chain_pem, strlen(s.chain_pem));
	memset(&in, 0, sizeof(in));
	in.evidence = (const uint8_t *)env, in.evidence_len = strlen(env);
	in.runtime_data = (const uint8_t *)s.runtime, in.runtime_data_len = strlen(s.runtime);
	in.runtime_data_type = EVIDENCE_DATA_JSON;
	in.init_data = (const uint8_t *)init, in.init_data_len = strlen(init),
	in.init_data_type = EVIDENCE_DATA_JSON;
	attest_err_clear(&err);
	assert_int_equal(sevsnpvm_verify(&s.ctx, &in, cs, &err), ATTEST_OK);
	assert_non_null(json_object_get(claim_set_get(cs, "x-ms-runtime"), "keys"));
	assert_string_equal(json_string_value(json_object_get(claim_set_get(cs, "x-ms-inittime"), "policy")),
			    "x");
	/* Other init-time data: refused. */
	in.init_data_len--;
	attest_err_clear(&err);
	assert_int_equal(sevsnpvm_verify(&s.ctx, &in, cs, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "snp.binding.inittime");
	free(env);
	claim_set_free(cs);
	synth_free(&s);
}

static void sevsnpvm_with_a_whole_hcl_report_as_runtime_data(void **state)
{
	struct claim_set *cs = claim_set_new();
	struct evidence_input in;
	struct attest_err err;
	struct synth s;
	char *env;

	synth_new(&s);
	env = envelope(s.hcl + HCL_OFF_HW_REPORT, SNP_REPORT_SIZE, (const uint8_t *)s.chain_pem,
		       strlen(s.chain_pem));
	memset(&in, 0, sizeof(in));
	in.evidence = (const uint8_t *)env, in.evidence_len = strlen(env);
	in.runtime_data = s.hcl, in.runtime_data_len = s.hcl_len, in.runtime_data_type = EVIDENCE_DATA_BINARY;
	attest_err_clear(&err);
	assert_int_equal(sevsnpvm_verify(&s.ctx, &in, cs, &err), ATTEST_OK);
	assert_non_null(json_object_get(claim_set_get(cs, "x-ms-runtime"), "keys"));
	/* An HCL report wrapping another SNP report is refused. */
	s.hcl[HCL_OFF_HW_REPORT + SNP_OFF_GUEST_SVN] ^= 1;
	attest_err_clear(&err);
	assert_int_equal(sevsnpvm_verify(&s.ctx, &in, cs, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "sevsnpvm.hcl");
	free(env);
	claim_set_free(cs);
	synth_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(snp_hcl_report_parses_with_expected_fields),
	    cmocka_unit_test(snp_hcl_runtime_json_is_bound_to_report_data),
	    cmocka_unit_test(snp_hcl_runtime_json_carries_an_ak_that_is_not_akpub_pem),
	    cmocka_unit_test(snp_hcl_report_is_refused_with_the_vcek_of_another_chip),
	    cmocka_unit_test(tdx_hcl_report_parses_and_binds),
	    cmocka_unit_test(var_data_sample_is_runtime_json_with_hclakpub),
	    cmocka_unit_test(hcl_truncated_at_every_length_is_refused),
	    cmocka_unit_test(hcl_header_rules_are_enforced),
	    cmocka_unit_test(tdx_padding_must_be_zero),
	    cmocka_unit_test(sevsnpvm_envelope_of_a_real_report_verifies),
	    cmocka_unit_test(sevsnpvm_envelope_of_the_azure_report_with_foreign_vcek_is_refused),
	    cmocka_unit_test(sevsnpvm_envelope_errors_are_named),
	    cmocka_unit_test(synthetic_hcl_report_verifies_and_yields_the_ak),
	    cmocka_unit_test(hcl_runtime_that_is_not_json_or_lacks_the_ak_is_refused),
	    cmocka_unit_test(sevsnpvm_with_json_runtime_and_inittime_binds_both),
	    cmocka_unit_test(sevsnpvm_with_a_whole_hcl_report_as_runtime_data),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
