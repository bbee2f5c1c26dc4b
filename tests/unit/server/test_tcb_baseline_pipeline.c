/*
 * The provider's SGX TCB baseline through the attest pipeline
 * (src/server/pipeline.c, attest_tcbbaselines.c; docs/tcb-baselines.md):
 * the policy's configuration rule x-ms-sgx-tcbidentifier selects one of the
 * baselines GET /tcbbaselines lists, the pipeline hands its evaluation data
 * number to SGX and Open Enclave verification, and a platform below it is
 * refused with its own error; an identifier the endpoint does not list is
 * refused rather than ignored. The synthetic platform is current under the
 * standard set (17) and OutOfDate under set 15, which its folder serves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "devplat_fixture.h"
#include "testutil.h"

#include "base/codec.h"
#include "collateral/collateral.h"
#include "devplat/intel.h"
#include "server/tcb_baselines.h"
#include "server/pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOW    1750377600LL
#define ISSUER "https://attestd.test"

#define POLICY_SELECTING(id)                                                                                 \
	"version=1.1; configurationrules { => issueproperty(type=\"x-ms-sgx-tcbidentifier\", value=\"" id    \
	"\"); }; authorizationrules { => permit(); }; issuancerules { };"

struct fixture {
	struct devplat_fixture plat; /* its folder is the pipeline's collateral */
	struct pipeline_ctx *ctx;
	char *sgx_body, *oe_body;
	json_t *claims; /* of the last token signed */
};

static int capture_sign(void *arg, const char *jku, const json_t *claims, char **jwt, struct attest_err *err)
{
	struct fixture *f = arg;

	(void)jku;
	(void)err;
	json_decref(f->claims);
	f->claims = json_deep_copy(claims);
	*jwt = strdup("e30.e30.c2ln");
	return *jwt && f->claims ? ATTEST_OK : ATTEST_E_NOMEM;
}

/* The platform's levels: its own level has `status`; ti numbered eval. */
static void tcb_levels(struct intel_devplat_tcb_info *ti, struct intel_devplat_tcb_level l[1], int64_t eval,
		       const char *status)
{
	memset(l, 0, sizeof(l[0]));
	memset(ti, 0, sizeof(*ti));
	memcpy(l[0].sgx, DEVPLAT_FIXTURE_COMPS, 16);
	l[0].pcesvn = DEVPLAT_FIXTURE_PCESVN;
	l[0].status = status;
	ti->version = 3;
	ti->id = "SGX";
	ti->levels = l;
	ti->n_levels = 1;
	ti->eval_num = eval;
}

/* One TCB Info of the platform's levels: its own level has `status`. */
static char *tcb_info(struct intel_devplat *p, int64_t eval, const char *status, size_t *len)
{
	struct intel_devplat_tcb_level l[1];
	struct intel_devplat_tcb_info ti;
	char *b = NULL;

	tcb_levels(&ti, l, eval, status);
	assert_int_equal(intel_devplat_tcb_info(p, &ti, &b, len, NULL), ATTEST_OK);
	return b;
}

static char *body_of(const char *member, const uint8_t *bytes, size_t len)
{
	char *b64 = b64url_encode(bytes, len), *body = NULL;

	assert_non_null(b64);
	assert_true(asprintf(&body, "{\"%s\":\"%s\"}", member, b64) > 0);
	free(b64);
	return body;
}

/* Writes a numbered set `eval` (TCB Info and QE identity) in which the platform has `status`. */
static void serve_set(struct fixture *f, uint32_t eval, const char *status)
{
	struct collateral_select sel = {COLLATERAL_UPDATE_STANDARD, eval};
	struct intel_devplat_qe_identity qi;
	size_t len = 0;
	char *b = tcb_info(f->plat.p, eval, status, &len);

	assert_int_equal(intel_devplat_write_selected(f->plat.dir, true, &sel, b, len, NULL), ATTEST_OK);
	free(b);
	intel_devplat_qe_identity_default(&qi);
	qi.eval_num = eval;
	assert_int_equal(intel_devplat_qe_identity(f->plat.p, &qi, &b, &len, NULL), ATTEST_OK);
	assert_int_equal(intel_devplat_write_selected(f->plat.dir, false, &sel, b, len, NULL), ATTEST_OK);
	free(b);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct intel_devplat_qe_identity qi;
	struct intel_devplat_tcb_level l[1];
	struct intel_devplat_tcb_info ti;
	STACK_OF(X509) * roots;
	uint8_t *q = NULL, *oe = NULL;
	size_t qlen = 0, oelen = 0;

	assert_non_null(f);
	assert_int_equal(devplat_fixture_up(&f->plat, NULL, NOW, "baseline", 32), ATTEST_OK);
	/* The standard set (17) and numbered set 15, under which the platform is OutOfDate. */
	tcb_levels(&ti, l, 17, "UpToDate");
	intel_devplat_qe_identity_default(&qi);
	assert_int_equal(devplat_fixture_write_standard(&f->plat, &ti, &qi, 0, 0), ATTEST_OK);
	serve_set(f, 15, "OutOfDate");

	assert_int_equal(pipeline_ctx_new(0, &f->ctx, NULL), ATTEST_OK);
	roots = intel_devplat_roots(f->plat.p);
	while (sk_X509_num(roots) > 0)
		assert_true(sk_X509_push(f->ctx->anchors.intel_sgx_roots, sk_X509_shift(roots)) > 0);
	sk_X509_free(roots);
	assert_int_equal(collateral_file_source_new(f->plat.dir, &f->ctx->collateral, NULL), ATTEST_OK);
	f->ctx->collateral_cache = collateral_cache_new(32);
	f->ctx->collateral->cache = f->ctx->collateral_cache;

	assert_int_equal(devplat_fixture_sgx_quote(f->plat.p, 3, &q, &qlen), ATTEST_OK);
	assert_int_equal(intel_devplat_oe_report(q, qlen, &oe, &oelen), ATTEST_OK);
	f->sgx_body = body_of("quote", q, qlen);
	f->oe_body = body_of("report", oe, oelen);
	free(q);
	free(oe);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pipeline_ctx_free(f->ctx);
	devplat_fixture_down(&f->plat);
	json_decref(f->claims);
	free(f->sgx_body);
	free(f->oe_body);
	free(f);
	return 0;
}

static int run(struct fixture *f, enum maa_type type, const char *policy, struct pipeline_outcome *out)
{
	struct pipeline_attest in = {0};

	json_decref(f->claims);
	f->claims = NULL;
	in.type = type;
	in.body = type == MAA_TYPE_OPEN_ENCLAVE ? f->oe_body : f->sgx_body;
	in.body_len = strlen(in.body);
	in.policy_text = policy;
	in.policy_len = policy ? strlen(policy) : 0;
	in.issuer = ISSUER;
	in.now = NOW;
	in.sign = capture_sign;
	in.sign_arg = f;
	return pipeline_attest_run(f->ctx, &in, out);
}

static void the_default_policy_enforces_the_azure_default_baseline(void **state)
{
	struct fixture *f = *state;
	struct pipeline_outcome out;

	/* Set 10 is not served: the standard set (17) is newer, its verdict stands. */
	if (run(f, MAA_TYPE_SGX_ENCLAVE, NULL, &out) != ATTEST_OK)
		fail_msg("%d %s: %s", out.status, out.err.name, out.err.msg);
	assert_non_null(json_object_get(f->claims, "x-ms-sgx-mrenclave"));
	assert_null(json_object_get(f->claims, "x-attestd-early-tcb-status"));
	pipeline_outcome_clear(&out);
}

static void azures_default_is_a_floor_a_chosen_10_is_evaluated_against_set_10(void **state)
{
	struct fixture *f = *state;
	struct pipeline_outcome out;

	serve_set(f, 10, "OutOfDate");
	/* Default and "azuredefault": set 10 is not asked for; the standard set is newer. */
	assert_int_equal(run(f, MAA_TYPE_SGX_ENCLAVE, NULL, &out), ATTEST_OK);
	pipeline_outcome_clear(&out);
	assert_int_equal(run(f, MAA_TYPE_SGX_ENCLAVE, POLICY_SELECTING("azuredefault"), &out), ATTEST_OK);
	pipeline_outcome_clear(&out);
	/* "10" chosen: the platform is below set 10. */
	assert_int_not_equal(run(f, MAA_TYPE_SGX_ENCLAVE, POLICY_SELECTING("10"), &out), ATTEST_OK);
	assert_int_equal(out.status, 400);
	assert_string_equal(out.err.name, "sgx.tcb.below_baseline");
	pipeline_outcome_clear(&out);
	/* ... and a policy selecting 15 looks at set 15 only. */
	serve_set(f, 15, "UpToDate");
	assert_int_equal(run(f, MAA_TYPE_SGX_ENCLAVE, POLICY_SELECTING("15"), &out), ATTEST_OK);
	pipeline_outcome_clear(&out);
}

static void a_policy_selecting_baseline_15_refuses_a_platform_below_it(void **state)
{
	struct fixture *f = *state;
	struct pipeline_outcome out;

	assert_int_not_equal(run(f, MAA_TYPE_SGX_ENCLAVE, POLICY_SELECTING("15"), &out), ATTEST_OK);
	assert_int_equal(out.status, 400);
	assert_string_equal(out.code, "InvalidParameter");
	assert_string_equal(out.err.name, "sgx.tcb.below_baseline");
	assert_null(f->claims);
	pipeline_outcome_clear(&out);
	/* Open Enclave evidence is SGX evidence: the same baseline applies. */
	assert_int_not_equal(run(f, MAA_TYPE_OPEN_ENCLAVE, POLICY_SELECTING("15"), &out), ATTEST_OK);
	assert_string_equal(out.err.name, "sgx.tcb.below_baseline");
	pipeline_outcome_clear(&out);
}

static void a_policy_selecting_azuredefault_or_10_accepts_it(void **state)
{
	struct fixture *f = *state;
	struct pipeline_outcome out;

	assert_int_equal(run(f, MAA_TYPE_SGX_ENCLAVE, POLICY_SELECTING("10"), &out), ATTEST_OK);
	assert_non_null(f->claims);
	pipeline_outcome_clear(&out);
	assert_int_equal(run(f, MAA_TYPE_OPEN_ENCLAVE, POLICY_SELECTING("azuredefault"), &out), ATTEST_OK);
	assert_non_null(f->claims);
	pipeline_outcome_clear(&out);
}

static void an_identifier_the_endpoint_does_not_list_is_refused(void **state)
{
	struct fixture *f = *state;
	struct pipeline_outcome out;

	assert_int_not_equal(run(f, MAA_TYPE_SGX_ENCLAVE, POLICY_SELECTING("12"), &out), ATTEST_OK);
	assert_int_equal(out.status, 400);
	assert_string_equal(out.code, "PolicyEvaluationError");
	assert_string_equal(out.err.name, "policy.config.tcbidentifier");
	pipeline_outcome_clear(&out);
}

/* docs/claims-sgx.md's example: the early claims reach the policy and the token. */
static void early_claims_reach_the_policy_and_the_token(void **state)
{
	static const char policy[] = "version=1.1; authorizationrules { => permit(); }; issuancerules {"
				     " c:[type==\"x-attestd-early-tcb-status\", value==\"OutOfDate\"] =>"
				     " issue(type=\"tcb-recovery-pending\", value=true); };";
	struct fixture *f = *state;
	struct intel_devplat_tcb_level l[1];
	struct intel_devplat_tcb_info ti = {0};
	struct collateral_select early = {COLLATERAL_UPDATE_EARLY, 0};
	struct pipeline_outcome out;
	char *b = NULL;
	size_t len = 0;

	memset(l, 0, sizeof(l));
	memcpy(l[0].sgx, DEVPLAT_FIXTURE_COMPS, 16);
	l[0].pcesvn = DEVPLAT_FIXTURE_PCESVN;
	l[0].status = "UpToDate";
	ti.version = 3;
	ti.id = "SGX";
	ti.levels = l;
	ti.n_levels = 1;
	ti.eval_num = 17;
	assert_int_equal(intel_devplat_tcb_info_demoting(f->plat.p, &ti, 0, 0, &b, &len, NULL), ATTEST_OK);
	assert_int_equal(intel_devplat_write_selected(f->plat.dir, true, &early, b, len, NULL), ATTEST_OK);
	free(b);
	if (run(f, MAA_TYPE_SGX_ENCLAVE, policy, &out) != ATTEST_OK)
		fail_msg("%d %s: %s", out.status, out.err.name, out.err.msg);
	assert_string_equal(json_string_value(json_object_get(f->claims, "x-attestd-early-tcb-status")),
			    "OutOfDate");
	assert_int_equal(
	    json_integer_value(json_object_get(f->claims, "x-attestd-early-tcb-evaluationdatanumber")), 18);
	assert_true(json_is_array(json_object_get(f->claims, "x-attestd-early-tcb-behind")));
	assert_true(json_is_true(json_object_get(f->claims, "tcb-recovery-pending")));
	pipeline_outcome_clear(&out);
}

static void the_lookup_is_the_endpoints_table(void **state)
{
	const struct tcb_baseline *b = NULL, *all;
	struct attest_err err;
	size_t n = 0;

	(void)state;
	all = tcb_baselines(&n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(tcb_baseline_lookup(all[i].id, &b, &err), ATTEST_OK);
		assert_ptr_equal(b, &all[i]);
	}
	assert_int_equal(tcb_baseline_lookup("15", &b, &err), ATTEST_OK);
	assert_int_equal(b->eval_num, 15);
	assert_int_equal(tcb_baseline_lookup("azuredefault", &b, &err), ATTEST_OK);
	assert_int_equal(b->eval_num, 10);
	assert_int_equal(tcb_baseline_lookup(NULL, &b, &err), ATTEST_OK);
	assert_string_equal(b->id, TCB_BASELINE_AZURE_DEFAULT);
	attest_err_clear(&err);
	assert_int_equal(tcb_baseline_lookup("16", &b, &err), ATTEST_E_POLICY);
	assert_string_equal(err.name, "policy.config.tcbidentifier");
	assert_int_equal(tcb_baseline_lookup("", &b, &err), ATTEST_E_POLICY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(the_default_policy_enforces_the_azure_default_baseline, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(azures_default_is_a_floor_a_chosen_10_is_evaluated_against_set_10,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(a_policy_selecting_baseline_15_refuses_a_platform_below_it, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(a_policy_selecting_azuredefault_or_10_accepts_it, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(an_identifier_the_endpoint_does_not_list_is_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(early_claims_reach_the_policy_and_the_token, setup, teardown),
	    cmocka_unit_test(the_lookup_is_the_endpoints_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
