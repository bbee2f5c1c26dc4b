/*
 * Mutation sweep of the SEV-SNP verifier (STYLE.md habit 9): on a real v5
 * report, flipping any bit of the signed part or of the signature, or of
 * the VCEK, ASK or ARK, is refused; cutting the report or an extended
 * report at any length is refused cleanly; on synthetic Azure CVM evidence,
 * flipping any bit of the SNP report or the runtime JSON in the HCL report
 * is refused. ATTEST_SWEEP_STRIDE=N tests every Nth mutation (default 1:
 * all of them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "crypto/crypto.h"
#include "devplat/snp_plat.h"
#include "evidence/amd_certs.h"
#include "evidence/azure_cvm.h"
#include "evidence/snp.h"

#include <stdlib.h>
#include <string.h>

#define VEC	"snp/teekit-gcp-milan-v5-reportdata-2025-12"
#define VEC_NOW 1767225600

static size_t stride(void)
{
	const char *s = getenv("ATTEST_SWEEP_STRIDE");
	long v = s ? strtol(s, NULL, 10) : 1;

	return v > 0 ? (size_t)v : 1;
}

struct real {
	uint8_t *report;
	size_t report_len;
	uint8_t *vcek, *ask, *ark; /* DER */
	size_t vcek_len, ask_len, ark_len;
};

static uint8_t *der_of(X509 *x, size_t *n)
{
	return snp_plat_der(x, n);
}

static void real_load(const char *dir, struct real *r)
{
	STACK_OF(X509) *sk = NULL;
	struct amd_chain ch;
	X509 *leaf = NULL;
	uint8_t *pem;
	size_t n;

	r->report = test_read_vector(dir, VEC "/report.bin", &r->report_len);
	assert_non_null(r->report);
	pem = test_read_vector(dir, VEC "/vcek.pem", &n);
	assert_non_null(pem);
	assert_int_equal(amd_cert_load(pem, n, &leaf, "t", NULL), 0);
	free(pem);
	pem = test_read_vector(dir, VEC "/ask_ark_milan.pem", &n);
	assert_non_null(pem);
	assert_int_equal(x509_stack_from_pem(pem, n, &sk, "t", NULL), 0);
	assert_int_equal(amd_chain_classify(sk, &ch, NULL), 0);
	r->vcek = der_of(leaf, &r->vcek_len);
	r->ask = der_of(ch.ask, &r->ask_len);
	r->ark = der_of(ch.ark, &r->ark_len);
	X509_free(leaf);
	sk_X509_pop_free(sk, X509_free);
	free(pem);
}

static void real_free(struct real *r)
{
	free(r->report);
	free(r->vcek);
	free(r->ask);
	free(r->ark);
}

static struct snp_certs real_certs(const struct real *r)
{
	struct snp_certs c;

	memset(&c, 0, sizeof(c));
	c.leaf = r->vcek, c.leaf_len = r->vcek_len;
	c.ask = r->ask, c.ask_len = r->ask_len;
	c.ark = r->ark, c.ark_len = r->ark_len;
	return c;
}

static void unmutated_real_report_verifies(void **state)
{
	struct evidence_ctx ctx = {.now = VEC_NOW};
	struct snp_certs c;
	struct attest_err err;
	struct real r;

	REQUIRE_VECTORS(dir);
	real_load(dir, &r);
	c = real_certs(&r);
	attest_err_clear(&err);
	assert_int_equal(snp_verify_report(&ctx, NULL, r.report, r.report_len, &c, NULL, &err), ATTEST_OK);
	real_free(&r);
}

static void every_bit_of_the_report_is_covered(void **state)
{
	struct snp_chain_cache *cache = snp_chain_cache_new(2);
	struct snp_opts o = {.cache = cache};
	struct evidence_ctx ctx = {.now = VEC_NOW};
	size_t step = stride(), tried = 0;
	struct snp_certs c;
	struct real r;

	REQUIRE_VECTORS(dir);
	real_load(dir, &r);
	c = real_certs(&r);
	/* The chain is cached after the first call, so each flip costs the report's own checks. */
	for (size_t bit = 0; bit < SNP_REPORT_SIZE * 8; bit += step) {
		int rc;

		r.report[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		rc = snp_verify_report(&ctx, &o, r.report, r.report_len, &c, NULL, NULL);
		r.report[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (rc == ATTEST_OK)
			fail_msg("report bit %zu (byte 0x%zx) flipped still verifies", bit, bit / 8);
		tried++;
	}
	assert_true(tried > 0);
	assert_int_equal(snp_verify_report(&ctx, &o, r.report, r.report_len, &c, NULL, NULL), ATTEST_OK);
	snp_chain_cache_free(cache);
	real_free(&r);
}

/* Flips every step-th bit of one certificate (DER) and expects a refusal each time. */
static void sweep_cert(struct real *r, uint8_t *der, size_t len, const char *what)
{
	/* AMD's ARK-Milan, parsed once: the same trust as the built-in default, without re-reading it per
	 * flip. */
	STACK_OF(X509) *arks = sk_X509_new_null();
	struct evidence_anchors anchors = {.amd_arks = arks};
	struct evidence_ctx ctx = {.now = VEC_NOW, .anchors = &anchors};
	size_t step = stride();
	X509 *ark = NULL;

	assert_int_equal(amd_builtin_cert(AMD_PRODUCT_MILAN, AMD_ROLE_ARK, &ark, NULL), ATTEST_OK);
	sk_X509_push(arks, ark);

	for (size_t bit = 0; bit < len * 8; bit += step) {
		struct snp_certs c;
		int rc;

		der[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		c = real_certs(r);
		rc = snp_verify_report(&ctx, NULL, r->report, r->report_len, &c, NULL, NULL);
		der[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (rc == ATTEST_OK)
			fail_msg("%s bit %zu (byte 0x%zx) flipped still verifies", what, bit, bit / 8);
	}
	sk_X509_pop_free(arks, X509_free);
}

static void every_bit_of_the_vcek_is_covered(void **state)
{
	struct real r;

	REQUIRE_VECTORS(dir);
	real_load(dir, &r);
	sweep_cert(&r, r.vcek, r.vcek_len, "VCEK");
	real_free(&r);
}

static void every_bit_of_the_ask_is_covered(void **state)
{
	struct real r;

	REQUIRE_VECTORS(dir);
	real_load(dir, &r);
	sweep_cert(&r, r.ask, r.ask_len, "ASK");
	real_free(&r);
}

static void every_bit_of_the_supplied_ark_is_covered(void **state)
{
	struct real r;

	REQUIRE_VECTORS(dir);
	real_load(dir, &r);
	sweep_cert(&r, r.ark, r.ark_len, "ARK");
	real_free(&r);
}

static void truncation_at_every_length_is_refused_cleanly(void **state)
{
	struct evidence_ctx ctx = {.now = VEC_NOW};
	struct snp_certs c;
	struct real r;

	REQUIRE_VECTORS(dir);
	real_load(dir, &r);
	c = real_certs(&r);
	for (size_t len = 0; len < r.report_len; len++) {
		uint8_t *cut = malloc(len ? len : 1); /* exactly len bytes, so ASan sees any over-read */
		struct attest_err err;

		memcpy(cut, r.report, len);
		attest_err_clear(&err);
		assert_int_equal(snp_verify_report(&ctx, NULL, cut, len, &c, NULL, &err), ATTEST_E_PARSE);
		assert_string_equal(err.name, "snp.report.truncated");
		free(cut);
	}
	real_free(&r);
}

/* report || GHCB table {VCEK, ASK, ARK}. */
static uint8_t *extended(const struct real *r, size_t *len)
{
	const uint8_t *guid[3] = {SNP_GUID_VCEK, SNP_GUID_ASK, SNP_GUID_ARK};
	const uint8_t *der[3] = {r->vcek, r->ask, r->ark};
	size_t dl[3] = {r->vcek_len, r->ask_len, r->ark_len};
	size_t off = 4 * 24;
	uint8_t *out, *t;

	*len = SNP_REPORT_SIZE + off + dl[0] + dl[1] + dl[2];
	out = calloc(1, *len);
	memcpy(out, r->report, SNP_REPORT_SIZE);
	t = out + SNP_REPORT_SIZE;
	for (int i = 0; i < 3; i++) {
		memcpy(t + 24 * i, guid[i], 16);
		for (int k = 0; k < 4; k++) {
			t[24 * i + 16 + k] = (uint8_t)(off >> (8 * k));
			t[24 * i + 20 + k] = (uint8_t)(dl[i] >> (8 * k));
		}
		memcpy(t + off, der[i], dl[i]);
		off += dl[i];
	}
	return out;
}

static void extended_report_cut_at_every_length_is_refused(void **state)
{
	struct evidence_ctx ctx = {.now = VEC_NOW};
	size_t n, step = stride();
	struct real r;
	uint8_t *ext;

	REQUIRE_VECTORS(dir);
	real_load(dir, &r);
	ext = extended(&r, &n);
	{
		struct evidence_input in = {.evidence = ext, .evidence_len = n};
		struct claim_set *cs = claim_set_new();

		assert_int_equal(snp_verify(&ctx, &in, cs, NULL), ATTEST_OK);
		claim_set_free(cs);
	}
	for (size_t len = 0; len < n; len += step) {
		uint8_t *cut = malloc(len ? len : 1);
		struct evidence_input in = {.evidence = cut, .evidence_len = len};
		struct claim_set *cs = claim_set_new();

		memcpy(cut, ext, len);
		if (snp_verify(&ctx, &in, cs, NULL) == ATTEST_OK && len != SNP_REPORT_SIZE)
			fail_msg("extended report cut at %zu bytes verifies", len);
		assert_int_equal(claim_set_count(cs), 0);
		claim_set_free(cs);
		free(cut);
	}
	free(ext);
	real_free(&r);
}

static void every_bit_of_a_synthetic_hcl_report_body_is_covered(void **state)
{
	static const uint8_t tcb[8] = {3, 0, 0, 0, 0, 0, 8, 0x73};
	struct snp_plat_opts o = {.product = AMD_PRODUCT_MILAN,
				  .not_before = 1600000000,
				  .not_after = 2000000000,
				  .key_dir = getenv("ATTEST_BINARY_DIR")};
	struct snp_chain_cache *cache = snp_chain_cache_new(2);
	struct snp_opts so = {.cache = cache};
	struct evidence_anchors anchors = {0};
	struct evidence_ctx ctx = {.now = 1700000000, .anchors = &anchors};
	uint8_t chip[64];
	struct snp_plat_leaf_spec spec = {.chip_id = chip, .tcb = tcb};
	struct snp_plat *plat = NULL;
	struct snp_plat_leaf leaf;
	struct snp_certs c;
	struct snp_report r;
	size_t n, step = stride(), dlen, alen;
	uint8_t *hcl, *der, *ask;
	char runtime[] = "{\"keys\":[],\"vm-configuration\":{\"secure-boot\":true}}";

	memset(chip, 0x11, sizeof(chip));
	assert_int_equal(snp_plat_new(&o, &plat, NULL), 0);
	assert_int_equal(snp_plat_issue(plat, &spec, &leaf, NULL), 0);
	anchors.amd_arks = sk_X509_new_null();
	sk_X509_push(anchors.amd_arks, snp_plat_ark(plat));
	snp_plat_report_defaults(plat, chip, tcb, false, &r);
	assert_int_equal(snp_plat_hcl_report(&r, leaf.key, runtime, &hcl, &n, NULL), 0);
	der = snp_plat_der(leaf.cert, &dlen);
	memset(&c, 0, sizeof(c));
	c.leaf = der, c.leaf_len = dlen;
	ask = snp_plat_der(snp_plat_ask(plat), &alen);
	c.ask = ask, c.ask_len = alen;
	assert_int_equal(azure_cvm_snp_verify(&ctx, &so, hcl, n, &c, NULL, NULL, NULL, NULL), ATTEST_OK);
	/* The hardware report (signed) and the runtime JSON (bound): everything after the unmeasured header.
	 */
	for (size_t bit = HCL_OFF_HW_REPORT * 8; bit < n * 8; bit += step) {
		int rc;

		hcl[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		rc = azure_cvm_snp_verify(&ctx, &so, hcl, n, &c, NULL, NULL, NULL, NULL);
		hcl[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (rc == ATTEST_OK)
			fail_msg("HCL bit %zu (byte 0x%zx) flipped still verifies", bit, bit / 8);
	}
	free(der);
	free(ask);
	free(hcl);
	sk_X509_free(anchors.amd_arks);
	snp_plat_leaf_free(&leaf);
	snp_plat_free(plat);
	snp_chain_cache_free(cache);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(unmutated_real_report_verifies),
	    cmocka_unit_test(every_bit_of_the_report_is_covered),
	    cmocka_unit_test(every_bit_of_the_vcek_is_covered),
	    cmocka_unit_test(every_bit_of_the_ask_is_covered),
	    cmocka_unit_test(every_bit_of_the_supplied_ark_is_covered),
	    cmocka_unit_test(truncation_at_every_length_is_refused_cleanly),
	    cmocka_unit_test(extended_report_cut_at_every_length_is_refused),
	    cmocka_unit_test(every_bit_of_a_synthetic_hcl_report_body_is_covered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
