/*
 * Sweep suite, SGX and Open Enclave (issue 13; STYLE.md habit 9): on every
 * real SGX and OE quote that has collateral, flipping any bit of the quote
 * (header, body, signature, attestation key, QE report and signature, QE
 * authentication data, the PCK chain) and cutting it at any length is
 * refused; so is any flip or cut of the OE reports (oe_report_header_t +
 * quote, every byte) and of synthetic SGX quotes and OE evidence from the
 * development platform. Counts go to the suite's table and JSON report
 * (tests/common/sweep.h); the collateral is swept by test_sweep_collateral.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "sweep.h"
#include "sgx_vectors.h"
#include "test_sweep_intel.h"

#include "evidence/sgx.h"

#define NOW_SYNTH 1750377600LL /* 2025-06-20 */

/* The folder of a vector file ("sgx/x/quote.bin" -> "sgx/x"). */
static void vector_of(const char *file, char *out, size_t cap)
{
	const char *slash = strrchr(file, '/');

	snprintf(out, cap, "%.*s", (int)(slash ? slash - file : (long)strlen(file)), file);
}

static void every_flip_and_cut_of_each_real_sgx_and_oe_quote_is_refused(void **state)
{
	REQUIRE_VECTORS(dir);

	for (size_t i = 0; i < N_SGX_VECTORS; i++) {
		const struct sgx_vector *v = &SGX_VECTORS[i];
		struct test_intel_ctx t;
		char name[256];
		uint8_t *quote;
		size_t len = 0;

		quote = test_read_vector(dir, v->quote, &len);
		assert_non_null(quote);
		/* The two Phala snapshots carry one quote: swept once (test_sweep_collateral sweeps both
		 * sets). */
		if (i > 0) {
			size_t plen = 0;
			uint8_t *prev = test_read_vector(dir, SGX_VECTORS[i - 1].quote, &plen);
			bool dup = prev != NULL && plen == len && memcmp(prev, quote, len) == 0;

			free(prev);
			if (dup) {
				free(quote);
				continue;
			}
		}
		assert_int_equal(test_intel_ctx_init(&t, dir, v->collateral, v->now), 0);
		vector_of(v->quote, name, sizeof(name));
		intel_sweep_evidence(name, "quote", &t.ctx, sgx_verify, quote, len, 0, QUOTE_TEE_SGX,
				     SWEEP_BITS, NULL);
		test_intel_ctx_free(&t);
		free(quote);
	}
}

static void every_flip_and_cut_of_each_real_oe_report_is_refused(void **state)
{
	REQUIRE_VECTORS(dir);

	for (size_t i = 0; i < N_SGX_VECTORS; i++) {
		const struct sgx_vector *v = &SGX_VECTORS[i];
		struct test_intel_ctx t;
		char name[256];
		uint8_t *rep;
		size_t len = 0;

		if (v->oe_report == NULL)
			continue;
		rep = test_read_vector(dir, v->oe_report, &len);
		assert_non_null(rep);
		assert_int_equal(test_intel_ctx_init(&t, dir, v->collateral, v->now), 0);
		vector_of(v->oe_report, name, sizeof(name));
		/* The quote inside is swept bit by bit above; here every byte under the OE path. */
		intel_sweep_evidence(name, "report.bin (oe_verify)", &t.ctx, oe_verify, rep, len,
				     OE_REPORT_HEADER_SIZE, QUOTE_TEE_SGX, SWEEP_BYTES, NULL);
		test_intel_ctx_free(&t);
		free(rep);
	}
}

static uint8_t *synth_sgx_quote(struct intel_synth *s, size_t *len)
{
	struct intel_devplat_enclave e;
	struct intel_devplat_quote q;
	uint8_t body[SGX_REPORT_BODY_SIZE], *out = NULL;

	intel_devplat_enclave_default(&e);
	memset(e.reportdata, 0x5a, sizeof(e.reportdata));
	intel_devplat_report_body(&e, body);
	intel_devplat_quote_default(&q);
	q.body = body;
	q.body_len = sizeof(body);
	assert_int_equal(intel_devplat_make_quote(s->p, &q, &out, len, NULL), ATTEST_OK);
	return out;
}

static void every_flip_and_cut_of_synthetic_sgx_quotes_and_oe_evidence_is_refused(void **state)
{
	static const char *const names[] = {"tenant"};
	static const uint8_t value[] = "acme";
	const uint8_t *values[] = {value};
	const size_t lens[] = {sizeof(value) - 1};
	struct intel_synth s;
	uint8_t *quote, *claims = NULL, *oe = NULL, *rep = NULL;
	size_t len = 0, cl = 0, ol = 0, rl = 0;

	intel_synth_new(&s, NOW_SYNTH);
	quote = synth_sgx_quote(&s, &len);
	intel_sweep_evidence("synthetic/sgx", "quote v3", &s.ctx, sgx_verify, quote, len, 0, QUOTE_TEE_SGX,
			     SWEEP_BYTES, NULL);
	assert_int_equal(intel_devplat_oe_report(quote, len, &rep, &rl), 0);
	intel_sweep_evidence("synthetic/oe", "report (hdr+quote)", &s.ctx, oe_verify, rep, rl,
			     OE_REPORT_HEADER_SIZE, QUOTE_TEE_SGX, SWEEP_BYTES, NULL);
	/* OE evidence: attestation header + quote + custom claims, the claims bound by REPORTDATA. */
	free(quote);
	assert_int_equal(intel_devplat_oe_custom_claims(names, values, lens, 1, &claims, &cl), 0);
	{
		struct intel_devplat_enclave e;
		struct intel_devplat_quote q;
		uint8_t body[SGX_REPORT_BODY_SIZE], h[32];

		/* OE binds the claims buffer: REPORTDATA[0:32] = SHA-256(claims) (formats.md §4.3) */
		EVP_Digest(claims, cl, h, NULL, EVP_sha256(), NULL);
		intel_devplat_enclave_default(&e);
		memset(e.reportdata, 0, sizeof(e.reportdata));
		memcpy(e.reportdata, h, 32);
		intel_devplat_report_body(&e, body);
		intel_devplat_quote_default(&q);
		q.body = body;
		q.body_len = sizeof(body);
		assert_int_equal(intel_devplat_make_quote(s.p, &q, &quote, &len, NULL), ATTEST_OK);
	}
	assert_int_equal(intel_devplat_oe_evidence(quote, len, claims, cl, true, &oe, &ol), 0);
	intel_sweep_evidence("synthetic/oe", "evidence (+claims)", &s.ctx, oe_verify, oe, ol,
			     OE_ATTESTATION_HEADER_SIZE, QUOTE_TEE_SGX, SWEEP_BYTES, NULL);
	free(quote);
	free(claims);
	free(oe);
	free(rep);
	intel_synth_free(&s);
}

static void no_mutation_was_accepted(void **state)
{
	assert_int_equal(sweep_finish("sgx"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_flip_and_cut_of_each_real_sgx_and_oe_quote_is_refused),
	    cmocka_unit_test(every_flip_and_cut_of_each_real_oe_report_is_refused),
	    cmocka_unit_test(every_flip_and_cut_of_synthetic_sgx_quotes_and_oe_evidence_is_refused),
	    cmocka_unit_test(no_mutation_was_accepted), /* prints the table, writes the report */
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
