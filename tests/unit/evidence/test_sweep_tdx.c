/*
 * Sweep suite, TDX (issue 13; STYLE.md habit 9): on every real TD quote,
 * flipping any bit of the signed region (header, v5 descriptor, TD report
 * body) or of the signing material (ISV signature, attestation key, QE
 * report and signature, QE authentication data, the certification data
 * with the PCK chain, and the length and type fields between them) is
 * refused, and so is every cut inside the quote structure; likewise every
 * byte of synthetic v4 and v5 TD quotes of the development platform.
 *
 * For the vectors below every TCB level the refusal must come from the
 * flip, not from the TCB status: "tdx.tcb.not_supported" is reached only
 * after every signature verified, so a mutant reaching it counts as
 * accepted. Cuts inside the trailing bytes after the structure keep the
 * verdict (QVL ignores them, formats.md §1.7) and count as same content,
 * as do flips inside the PEM text that leave every certificate's DER
 * unchanged. The collateral is swept by test_sweep_collateral.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "sweep.h"
#include "tdx_vectors.h"
#include "test_sweep_intel.h"

#include "evidence/tdx.h"

#define NOW_SYNTH 1750377600LL /* 2025-06-20 */

static void every_flip_and_cut_of_each_real_td_quote_is_refused(void **state)
{
	REQUIRE_VECTORS(dir);

	for (size_t i = 0; i < TDX_VECTOR_COUNT; i++) {
		const struct tdx_vector *v = &TDX_VECTORS[i];
		struct tdx_loaded l;
		struct evidence_ctx ctx;

		assert_int_equal(tdx_vector_load(dir, v, 64, &l), 0);
		memset(&ctx, 0, sizeof(ctx));
		tdx_vector_ctx(&l, v, &ctx);
		intel_sweep_evidence(v->dir, "quote", &ctx, tdx_verify, l.quote, l.len, 0, QUOTE_TEE_TDX,
				     SWEEP_BITS, v->status == NULL ? "tdx.tcb.not_supported" : NULL);
		tdx_vector_unload(&l);
	}
}

static void every_flip_and_cut_of_synthetic_td_quotes_is_refused(void **state)
{
	struct intel_synth s;
	struct tdx_devplat_td td;

	intel_synth_new(&s, NOW_SYNTH);
	tdx_devplat_td_default(&td);
	memset(td.report_data, 0xa5, sizeof(td.report_data));
	for (int version = 4; version <= 5; version++) {
		uint8_t *quote = NULL;
		size_t len = 0;

		assert_int_equal(tdx_devplat_make_quote(s.p, version, &td, NULL, 0, &quote, &len, NULL),
				 ATTEST_OK);
		intel_sweep_evidence("synthetic/tdx", version == 4 ? "quote v4" : "quote v5", &s.ctx,
				     tdx_verify, quote, len, 0, QUOTE_TEE_TDX, SWEEP_BYTES, NULL);
		free(quote);
	}
	intel_synth_free(&s);
}

static void no_mutation_was_accepted(void **state)
{
	assert_int_equal(sweep_finish("tdx"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_flip_and_cut_of_each_real_td_quote_is_refused),
	    cmocka_unit_test(every_flip_and_cut_of_synthetic_td_quotes_is_refused),
	    cmocka_unit_test(no_mutation_was_accepted), /* prints the table, writes the report */
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
