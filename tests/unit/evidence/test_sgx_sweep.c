/*
 * Mutation sweep on every real SGX / OE vector (STYLE.md habit 9): flipping
 * any single bit of the header, body, signature, attestation key, QE
 * report, its signature, the QE authentication data or any certificate of
 * the PCK chain must be refused, and cutting the quote at any length must
 * be a parse error. Every Nth mutation with ATTEST_SWEEP_STRIDE=N (default
 * 1: exhaustive). Whitespace and NULs around the PEM blocks of the
 * certification data are not signed by anything and are not flipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "claims/claims.h"
#include "collateral/collateral.h"
#include "evidence/intel.h"
#include "evidence/quote.h"
#include "evidence/sgx.h"
#include "sgx_vectors.h"

#include <stdlib.h>
#include <string.h>

static size_t sweep_stride(void)
{
	const char *s = getenv("ATTEST_SWEEP_STRIDE");
	long v = s ? strtol(s, NULL, 10) : 1;

	return v > 0 ? (size_t)v : 1;
}

/* Is byte i of the quote inside a PEM certificate block of the certification data (or outside cert data)? */
static bool is_signed_byte(const struct quote *q, size_t i)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
	size_t off = (size_t)(q->cert_data - q->raw), k;
	bool inside = false;

	if (i < off || i >= off + q->cert_data_len)
		return true;
	for (k = off; k <= i; k++) {
		if (!inside && k + sizeof(begin) - 1 <= off + q->cert_data_len &&
		    memcmp(q->raw + k, begin, sizeof(begin) - 1) == 0)
			inside = true;
		if (inside && k >= sizeof(end) - 1 &&
		    memcmp(q->raw + k - (sizeof(end) - 2), end, sizeof(end) - 1) == 0) {
			if (k == i)
				return true; /* the last byte of the END line */
			inside = false;
		}
	}
	return inside;
}

static void sweep_vector(const char *dir, const struct sgx_vector *v, size_t stride)
{
	struct test_intel_ctx t;
	struct evidence_input in = {0};
	struct quote q;
	struct attest_err err;
	uint8_t *quote, *m;
	size_t len = 0, i, n = 0, refused = 0;
	int bit;

	quote = test_read_vector(dir, v->quote, &len);
	assert_non_null(quote);
	assert_int_equal(quote_parse(quote, len, QUOTE_TEE_SGX, &q, "sgx", NULL), ATTEST_OK);
	assert_int_equal(test_intel_ctx_init(&t, dir, v->collateral, v->now), 0);
	m = malloc(len);
	memcpy(m, quote, len);
	in.evidence = m;
	/* Sanity: the unmodified quote verifies in this context (and warms the cache). */
	{
		struct claim_set *cs = claim_set_new();

		in.evidence_len = len;
		attest_err_clear(&err);
		assert_int_equal(sgx_verify(&t.ctx, &in, cs, &err), ATTEST_OK);
		claim_set_free(cs);
	}
	for (i = 0; i < q.len; i++) {
		if (!is_signed_byte(&q, i))
			continue;
		for (bit = 0; bit < 8; bit++, n++) {
			struct claim_set *cs;
			int rc;

			if (n % stride != 0)
				continue;
			m[i] ^= (uint8_t)(1u << bit);
			cs = claim_set_new();
			attest_err_clear(&err);
			rc = sgx_verify(&t.ctx, &in, cs, &err);
			m[i] ^= (uint8_t)(1u << bit);
			if (rc == ATTEST_OK)
				fail_msg("%s: flipping bit %d of byte %zu still verifies", v->quote, bit, i);
			assert_int_equal(claim_set_count(cs), 0);
			claim_set_free(cs);
			refused++;
		}
	}
	/* Every cut is a parse error, never a crash. */
	for (i = 0; i < len; i += stride) {
		struct claim_set *cs = claim_set_new();

		in.evidence_len = i;
		attest_err_clear(&err);
		assert_int_equal(sgx_verify(&t.ctx, &in, cs, &err), ATTEST_E_PARSE);
		claim_set_free(cs);
	}
	fprintf(stderr, "%s: %zu flips refused, %zu cuts refused\n", v->quote, refused,
		(len + stride - 1) / stride);
	test_intel_ctx_free(&t);
	free(m);
	free(quote);
}

static void every_single_bit_flip_and_every_cut_of_each_real_quote_is_refused(void **state)
{
	REQUIRE_VECTORS(dir);
	size_t i, stride = sweep_stride();

	/* The two Phala vectors carry the same quote: sweep it once. */
	for (i = 1; i < N_SGX_VECTORS; i++)
		sweep_vector(dir, &SGX_VECTORS[i], stride);
}

static void every_flip_of_an_oe_report_header_is_refused(void **state)
{
	REQUIRE_VECTORS(dir);
	const struct sgx_vector *v = &SGX_VECTORS[3];
	struct test_intel_ctx t;
	struct evidence_input in = {0};
	struct attest_err err;
	uint8_t *rep;
	size_t len = 0, i;
	int bit;

	rep = test_read_vector(dir, v->oe_report, &len);
	assert_non_null(rep);
	assert_int_equal(test_intel_ctx_init(&t, dir, v->collateral, v->now), 0);
	in.evidence = rep;
	in.evidence_len = len;
	for (i = 0; i < 16; i++)
		for (bit = 0; bit < 8; bit++) {
			struct claim_set *cs = claim_set_new();

			rep[i] ^= (uint8_t)(1u << bit);
			attest_err_clear(&err);
			assert_int_not_equal(oe_verify(&t.ctx, &in, cs, &err), ATTEST_OK);
			rep[i] ^= (uint8_t)(1u << bit);
			claim_set_free(cs);
		}
	for (i = 0; i < 16 + 1020; i++) {
		struct claim_set *cs = claim_set_new();

		in.evidence_len = i;
		attest_err_clear(&err);
		assert_int_not_equal(oe_verify(&t.ctx, &in, cs, &err), ATTEST_OK);
		claim_set_free(cs);
	}
	test_intel_ctx_free(&t);
	free(rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_single_bit_flip_and_every_cut_of_each_real_quote_is_refused),
	    cmocka_unit_test(every_flip_of_an_oe_report_header_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
