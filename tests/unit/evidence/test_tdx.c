/*
 * tdx_verify on every real vector of shared/vectors/tdx at its bundle time:
 * the verdict, advisory IDs and measurements EXPECTED.md lists; the vectors
 * below every TCB level refused with that reason after their signatures
 * verified; the vector without CRLs only with EVIDENCE_NO_REVOCATION (and
 * saying so in a claim); expired collateral; runtime data binding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "tdx_vectors.h"

#include "base/codec.h"
#include "claims/claims.h"
#include "crypto/crypto.h"
#include "evidence/tdx.h"

#include <string.h>

static int verify(const struct tdx_loaded *l, const struct evidence_ctx *ctx, const uint8_t *rt, size_t rtlen,
		  enum evidence_data_type rttype, struct claim_set *out, struct attest_err *err)
{
	struct evidence_input in;

	memset(&in, 0, sizeof(in));
	in.evidence = l->quote;
	in.evidence_len = l->len;
	in.runtime_data = rt;
	in.runtime_data_len = rtlen;
	in.runtime_data_type = rttype;
	attest_err_clear(err);
	return tdx_verify(ctx, &in, out, err);
}

static bool json_array_has(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) if (strcmp(json_string_value(v), s) == 0) return true;
	return false;
}

static void check_verdict(const struct tdx_vector *v, const struct claim_set *set)
{
	const json_t *adv = claim_set_get(set, "tdx_advisory_ids");
	size_t n = 0;

	assert_string_equal(json_string_value(claim_set_get(set, "attester_tcb_status")), v->status);
	assert_string_equal(json_string_value(claim_set_get(set, "tdx_mrtd")), v->mrtd);
	assert_string_equal(json_string_value(claim_set_get(set, "eat_profile")), TDX_EAT_PROFILE);
	assert_string_equal(json_string_value(claim_set_get(set, "x-ms-attestation-type")), "tdxvm");
	assert_true(json_is_array(adv));
	while (v->advisories[n] != NULL) {
		assert_true(json_array_has(adv, v->advisories[n]));
		n++;
	}
	assert_int_equal(json_array_size(adv), n);
	assert_true(json_integer_value(claim_set_get(set, "tdx_tcb_evaluation_data_number")) > 0);
	assert_true(json_is_object(claim_set_get(set, "tdx_collateral")));
}

static void every_real_vector_gets_its_expected_verdict(void **state)
{
	REQUIRE_VECTORS(dir);
	for (size_t i = 0; i < TDX_VECTOR_COUNT; i++) {
		const struct tdx_vector *v = &TDX_VECTORS[i];
		struct tdx_loaded l;
		struct evidence_ctx ctx;
		struct claim_set *set = claim_set_new();
		struct attest_err err;
		int rc;

		assert_int_equal(tdx_vector_load(dir, v, 16, &l), 0);
		tdx_vector_ctx(&l, v, &ctx);
		rc = verify(&l, &ctx, NULL, 0, EVIDENCE_DATA_NONE, set, &err);
		if (v->status != NULL) {
			if (rc != ATTEST_OK)
				fail_msg("%s: %s: %s", v->dir, err.name, err.msg);
			check_verdict(v, set);
			assert_true(json_boolean_value(claim_set_get(set, "tdx_revocation_checked")) ==
				    !v->no_crl);
		} else {
			/* Below every TCB level: refused with that reason, after every signature verified. */
			assert_int_not_equal(rc, ATTEST_OK);
			assert_string_equal(err.name, "tdx.tcb.not_supported");
			assert_int_equal(claim_set_count(set), 0);
		}
		claim_set_free(set);
		tdx_vector_unload(&l);
	}
}

static void no_crl_vector_needs_revocation_checking_turned_off(void **state)
{
	const struct tdx_vector *v = &TDX_VECTORS[1];
	struct tdx_loaded l;
	struct evidence_ctx ctx;
	struct claim_set *set;
	struct attest_err err;

	REQUIRE_VECTORS(dir);
	set = claim_set_new();
	assert_true(v->no_crl);
	assert_int_equal(tdx_vector_load(dir, v, 0, &l), 0);
	tdx_vector_ctx(&l, v, &ctx);
	ctx.flags = 0; /* the default */
	assert_int_not_equal(verify(&l, &ctx, NULL, 0, EVIDENCE_DATA_NONE, set, &err), ATTEST_OK);
	assert_true(strncmp(err.name, "tdx.", 4) == 0);
	assert_int_equal(claim_set_count(set), 0);
	ctx.flags = EVIDENCE_NO_REVOCATION;
	assert_int_equal(verify(&l, &ctx, NULL, 0, EVIDENCE_DATA_NONE, set, &err), ATTEST_OK);
	assert_true(json_is_false(claim_set_get(set, "tdx_revocation_checked")));
	assert_string_equal(json_string_value(claim_set_get(set, "attester_tcb_status")), "UpToDate");
	claim_set_free(set);
	tdx_vector_unload(&l);
}

static void revocation_off_is_visible_on_a_vector_with_crls(void **state)
{
	const struct tdx_vector *v = &TDX_VECTORS[5];
	struct tdx_loaded l;
	struct evidence_ctx ctx;
	struct claim_set *set;
	struct attest_err err;

	REQUIRE_VECTORS(dir);
	set = claim_set_new();
	assert_int_equal(tdx_vector_load(dir, v, 0, &l), 0);
	tdx_vector_ctx(&l, v, &ctx);
	assert_int_equal(verify(&l, &ctx, NULL, 0, EVIDENCE_DATA_NONE, set, &err), ATTEST_OK);
	assert_true(json_is_true(claim_set_get(set, "tdx_revocation_checked")));
	claim_set_free(set);
	set = claim_set_new();
	ctx.flags = EVIDENCE_NO_REVOCATION;
	assert_int_equal(verify(&l, &ctx, NULL, 0, EVIDENCE_DATA_NONE, set, &err), ATTEST_OK);
	assert_true(json_is_false(claim_set_get(set, "tdx_revocation_checked")));
	claim_set_free(set);
	tdx_vector_unload(&l);
}

static void forty_days_later_the_collateral_has_expired(void **state)
{
	REQUIRE_VECTORS(dir);
	for (size_t i = 0; i < TDX_VECTOR_COUNT; i++) {
		const struct tdx_vector *v = &TDX_VECTORS[i];
		struct tdx_loaded l;
		struct evidence_ctx ctx;
		struct claim_set *set = claim_set_new();
		struct attest_err err;

		assert_int_equal(tdx_vector_load(dir, v, 16, &l), 0);
		tdx_vector_ctx(&l, v, &ctx);
		ctx.now += 40 * 86400;
		assert_int_not_equal(verify(&l, &ctx, NULL, 0, EVIDENCE_DATA_NONE, set, &err), ATTEST_OK);
		assert_string_not_equal(err.name, "tdx.tcb.not_supported");
		assert_int_equal(claim_set_count(set), 0);
		claim_set_free(set);
		tdx_vector_unload(&l);
	}
}

static void warm_verification_gives_the_same_claims(void **state)
{
	const struct tdx_vector *v = &TDX_VECTORS[0];
	struct tdx_loaded l;
	struct evidence_ctx ctx;
	struct attest_err err;
	json_t *a, *b;

	REQUIRE_VECTORS(dir);
	assert_int_equal(tdx_vector_load(dir, v, 16, &l), 0);
	tdx_vector_ctx(&l, v, &ctx);
	for (int round = 0; round < 2; round++) {
		struct claim_set *set = claim_set_new();

		assert_int_equal(verify(&l, &ctx, NULL, 0, EVIDENCE_DATA_NONE, set, &err), ATTEST_OK);
		if (round == 0)
			a = claim_set_to_json(set);
		else
			b = claim_set_to_json(set);
		claim_set_free(set);
	}
	assert_true(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	tdx_vector_unload(&l);
}

static void runtime_data_not_in_report_data_is_refused(void **state)
{
	const struct tdx_vector *v = &TDX_VECTORS[5];
	struct tdx_loaded l;
	struct evidence_ctx ctx;
	struct claim_set *set;
	struct attest_err err;
	const char *rt = "{\"key\":\"not the one bound\"}";

	REQUIRE_VECTORS(dir);
	set = claim_set_new();
	assert_int_equal(tdx_vector_load(dir, v, 0, &l), 0);
	tdx_vector_ctx(&l, v, &ctx);
	assert_int_equal(verify(&l, &ctx, (const uint8_t *)rt, strlen(rt), EVIDENCE_DATA_JSON, set, &err),
			 ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tdx.runtime_data.mismatch");
	assert_int_equal(claim_set_count(set), 0);
	claim_set_free(set);
	tdx_vector_unload(&l);
}

static void sgx_quote_is_not_a_td_quote(void **state)
{
	struct tdx_loaded l;
	struct evidence_ctx ctx;
	struct claim_set *set;
	struct attest_err err;
	const struct tdx_vector sgx = {"sgx/phala-sgx-v3-00a067110000-2025-06", NULL, {NULL}, false, NULL};

	REQUIRE_VECTORS(dir);
	set = claim_set_new();
	if (tdx_vector_load(dir, &sgx, 0, &l) != 0) {
		tdx_vector_unload(&l);
		claim_set_free(set);
		skip();
	}
	tdx_vector_ctx(&l, &sgx, &ctx);
	assert_int_equal(verify(&l, &ctx, NULL, 0, EVIDENCE_DATA_NONE, set, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "tdx.quote.tee_type");
	claim_set_free(set);
	tdx_vector_unload(&l);
}

static void assert_lower_hex(const json_t *v, size_t chars)
{
	const char *s = json_string_value(v);

	assert_non_null(s);
	assert_int_equal(strlen(s), chars);
	for (size_t i = 0; i < chars; i++)
		assert_true((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'));
}

/* maa-interface.md §2.7: every claim of the profile, with its JSON type and size. */
static void claims_have_the_profile_formats(void **state)
{
	static const struct {
		const char *name;
		size_t hex_chars;
	} hex[] = {
	    {"tdx_mrseam", 96},	       {"tdx_mrsignerseam", 96}, {"tdx_mrtd", 96},
	    {"tdx_rtmr0", 96},	       {"tdx_rtmr1", 96},	 {"tdx_rtmr2", 96},
	    {"tdx_rtmr3", 96},	       {"tdx_mrconfigid", 96},	 {"tdx_mrowner", 96},
	    {"tdx_mrownerconfig", 96}, {"tdx_report_data", 128}, {"tdx_seam_attributes", 16},
	    {"tdx_td_attributes", 16}, {"tdx_tee_tcb_svn", 32},	 {"tdx_xfam", 16},
	    {"tdx_tee_tcb_svn2", 32},  {"tdx_mrservicetd", 96},
	};
	static const char *const bools[] = {
	    "tdx_td_attributes_debug",		"tdx_td_attributes_key_locker",
	    "tdx_td_attributes_perfmon",	"tdx_td_attributes_protection_keys",
	    "tdx_td_attributes_septve_disable", "tdx_revocation_checked"};
	const struct tdx_vector *v = &TDX_VECTORS[3]; /* v5, TDX 1.5 body */
	struct tdx_loaded l;
	struct evidence_ctx ctx;
	struct claim_set *set;
	struct attest_err err;

	REQUIRE_VECTORS(dir);
	set = claim_set_new();
	assert_int_equal(tdx_vector_load(dir, v, 0, &l), 0);
	tdx_vector_ctx(&l, v, &ctx);
	assert_int_equal(verify(&l, &ctx, NULL, 0, EVIDENCE_DATA_NONE, set, &err), ATTEST_OK);
	for (size_t i = 0; i < sizeof(hex) / sizeof(hex[0]); i++)
		assert_lower_hex(claim_set_get(set, hex[i].name), hex[i].hex_chars);
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
		assert_true(json_is_boolean(claim_set_get(set, bools[i])));
	assert_string_equal(json_string_value(claim_set_get(set, "dbgstat")), "disabled");
	assert_string_equal(json_string_value(claim_set_get(set, "intuse")), "generic");
	assert_int_equal(json_integer_value(claim_set_get(set, "tdx_seamsvn")), 0x0b);
	assert_string_equal(json_string_value(claim_set_get(set, "tdx_tee_tcb_svn2")),
			    "0d010400000000000000000000000000");
	for (size_t i = 0; i < claim_set_count(set); i++)
		assert_string_equal(claim_set_at(set, i)->issuer, CLAIM_ISSUER_SERVICE);
	claim_set_free(set);
	tdx_vector_unload(&l);
}

/* formats.md §1.5: QVL accepts exactly (2, 584) and (3, 648) for a TD. */
static void v5_body_descriptor_must_match_a_td_body(void **state)
{
	static const struct {
		uint16_t type;
		uint32_t size;
	} bad[] = {{2, 648}, {3, 584}, {1, 384}, {4, 648}, {3, 0xffffffffu}};
	const struct tdx_vector *v = &TDX_VECTORS[3]; /* v5, body type 3 */
	struct tdx_loaded l;
	struct evidence_ctx ctx;
	struct attest_err err;

	REQUIRE_VECTORS(dir);
	assert_int_equal(tdx_vector_load(dir, v, 0, &l), 0);
	tdx_vector_ctx(&l, v, &ctx);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct claim_set *set = claim_set_new();
		uint8_t saved[6];

		memcpy(saved, l.quote + 48, 6);
		l.quote[48] = (uint8_t)bad[i].type;
		l.quote[49] = (uint8_t)(bad[i].type >> 8);
		for (int k = 0; k < 4; k++)
			l.quote[50 + k] = (uint8_t)(bad[i].size >> (8 * k));
		assert_int_equal(verify(&l, &ctx, NULL, 0, EVIDENCE_DATA_NONE, set, &err), ATTEST_E_PARSE);
		assert_true(strncmp(err.name, "tdx.quote.", 10) == 0);
		memcpy(l.quote + 48, saved, 6);
		claim_set_free(set);
	}
	tdx_vector_unload(&l);
}

/* attestctl's offline check: chains and signatures only, no TCB claims. */
static void without_collateral_only_signatures_are_checked(void **state)
{
	const struct tdx_vector *v = &TDX_VECTORS[2]; /* below every level with collateral */
	struct tdx_loaded l;
	struct evidence_ctx ctx;
	struct claim_set *set;
	struct attest_err err;

	REQUIRE_VECTORS(dir);
	set = claim_set_new();
	assert_int_equal(tdx_vector_load(dir, v, 0, &l), 0);
	tdx_vector_ctx(&l, v, &ctx);
	ctx.collateral = NULL;
	ctx.flags = EVIDENCE_NO_COLLATERAL;
	if (verify(&l, &ctx, NULL, 0, EVIDENCE_DATA_NONE, set, &err) != ATTEST_OK)
		fail_msg("%s: %s", err.name, err.msg);
	assert_true(json_is_false(claim_set_get(set, "tdx_collateral_evaluated")));
	assert_null(claim_set_get(set, "attester_tcb_status"));
	assert_string_equal(json_string_value(claim_set_get(set, "tdx_mrtd")), v->mrtd);
	claim_set_free(set);
	tdx_vector_unload(&l);
}

static void init_time_data_is_refused(void **state)
{
	struct evidence_ctx ctx;
	struct evidence_input in;
	struct claim_set *set = claim_set_new();
	struct attest_err err;
	const uint8_t q[8] = {4};

	memset(&ctx, 0, sizeof(ctx));
	memset(&in, 0, sizeof(in));
	in.evidence = q;
	in.evidence_len = sizeof(q);
	in.init_data = q;
	in.init_data_len = 1;
	attest_err_clear(&err);
	assert_int_equal(tdx_verify(&ctx, &in, set, &err), ATTEST_E_UNSUPPORTED);
	assert_string_equal(err.name, "tdx.init_data.unsupported");
	claim_set_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_real_vector_gets_its_expected_verdict),
	    cmocka_unit_test(no_crl_vector_needs_revocation_checking_turned_off),
	    cmocka_unit_test(revocation_off_is_visible_on_a_vector_with_crls),
	    cmocka_unit_test(forty_days_later_the_collateral_has_expired),
	    cmocka_unit_test(warm_verification_gives_the_same_claims),
	    cmocka_unit_test(runtime_data_not_in_report_data_is_refused),
	    cmocka_unit_test(sgx_quote_is_not_a_td_quote),
	    cmocka_unit_test(claims_have_the_profile_formats),
	    cmocka_unit_test(v5_body_descriptor_must_match_a_td_body),
	    cmocka_unit_test(without_collateral_only_signatures_are_checked),
	    cmocka_unit_test(init_time_data_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
