/*
 * SEV-SNP claims in MAA policies (src/evidence/snp_claims.c with
 * src/policy): the claims of the real reports are what a tenant's policy
 * can test — debug refused, a minimum SNP firmware and microcode SVN
 * (x-ms-sevsnpvm-min-*), a pinned launch measurement.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "claims/claims.h"
#include "evidence/snp.h"
#include "policy/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Claims of one real vector (report.bin + VCEK + chain at its fixed time). */
static struct claim_set *vector_claims(const char *dir, const char *vec, const char *vcek, int64_t now)
{
	struct evidence_ctx ctx = {.now = now};
	struct claim_set *cs = claim_set_new();
	struct snp_result *res = calloc(1, sizeof(*res));
	struct snp_certs c;
	uint8_t *report, *leaf, *chain;
	size_t rn = 0, ln = 0, cn = 0;
	char rel[512];

	snprintf(rel, sizeof(rel), "%s/report.bin", vec);
	report = test_read_vector(dir, rel, &rn);
	snprintf(rel, sizeof(rel), "%s/%s", vec, vcek);
	leaf = test_read_vector(dir, rel, &ln);
	snprintf(rel, sizeof(rel), "%s/ask_ark_milan.pem", vec);
	chain = test_read_vector(dir, rel, &cn);
	assert_non_null(report);
	assert_non_null(leaf);
	assert_non_null(chain);
	memset(&c, 0, sizeof(c));
	c.leaf = leaf, c.leaf_len = ln, c.chain = chain, c.chain_len = cn;
	assert_int_equal(snp_verify_report(&ctx, NULL, report, rn, &c, res, NULL), ATTEST_OK);
	assert_int_equal(snp_claims_add(res, cs, NULL), ATTEST_OK);
	free(res);
	free(report);
	free(leaf);
	free(chain);
	return cs;
}

static enum policy_verdict run(const char *text, const struct claim_set *cs, struct claim_set **issued)
{
	struct policy_plan *plan = NULL;
	struct policy_result *r = NULL;
	struct attest_err err;
	enum policy_verdict v;

	attest_err_clear(&err);
	if (policy_compile(text, strlen(text), NULL, &plan, &err) != ATTEST_OK)
		fail_msg("policy does not compile: %s (%s)", err.msg, err.where);
	assert_int_equal(policy_eval(plan, cs, 0, &r, &err), ATTEST_OK);
	v = r->verdict;
	if (issued != NULL) {
		*issued = claim_set_new();
		for (size_t i = 0; i < claim_set_count(r->outgoing); i++) {
			const struct claim *c = claim_set_at(r->outgoing, i);

			claim_set_add(*issued, c->type, json_incref(c->value));
		}
	}
	policy_result_free(r);
	policy_plan_free(plan);
	return v;
}

static const char NO_DEBUG[] = "version=1.0;\n"
			       "authorizationrules {\n"
			       "  [type==\"x-ms-sevsnpvm-is-debuggable\", value==false] => permit();\n"
			       "};\n"
			       "issuancerules { };\n";

static void debuggable_guest_is_refused_by_a_no_debug_policy(void **state)
{
	struct claim_set *debug, *nodebug;

	REQUIRE_VECTORS(dir);
	debug = vector_claims(dir, "snp/gsg-milan-v2-2022-09", "vcek.der", 1700000000);
	nodebug = vector_claims(dir, "snp/teekit-gcp-milan-v5-reportdata-2025-12", "vcek.pem", 1767225600);
	assert_int_equal(run(NO_DEBUG, debug, NULL), POLICY_NO_PERMIT);
	assert_int_equal(run(NO_DEBUG, nodebug, NULL), POLICY_PERMIT);
	claim_set_free(debug);
	claim_set_free(nodebug);
}

static void minimum_tcb_is_checked_through_the_min_claims(void **state)
{
	static const char MIN27[] =
	    "version=1.0;\n"
	    "authorizationrules {\n"
	    "  [type==\"x-ms-sevsnpvm-min-snpfw-svn\", value>=27] &&\n"
	    "  [type==\"x-ms-sevsnpvm-min-microcode-svn\", value>=222] => permit();\n"
	    "};\n"
	    "issuancerules {\n"
	    "  c:[type==\"x-ms-sevsnpvm-reported-tcb\"] => issue(type=\"tcb\", value=c.value);\n"
	    "};\n";
	static const char MIN28[] = "version=1.0;\n"
				    "authorizationrules {\n"
				    "  [type==\"x-ms-sevsnpvm-min-snpfw-svn\", value>=28] => permit();\n"
				    "};\n"
				    "issuancerules { };\n";
	struct claim_set *v5, *v2, *issued = NULL;

	REQUIRE_VECTORS(dir);
	v5 = vector_claims(dir, "snp/teekit-gcp-milan-v5-reportdata-2025-12", "vcek.pem", 1767225600);
	v2 = vector_claims(dir, "snp/gsg-milan-v2-2022-09", "vcek.der", 1700000000);
	assert_int_equal(run(MIN27, v5, &issued), POLICY_PERMIT);
	assert_string_equal(json_string_value(claim_set_get(issued, "tcb")), "0400000000001bde");
	assert_int_equal(run(MIN28, v5, NULL), POLICY_NO_PERMIT);
	assert_int_equal(run(MIN27, v2, NULL), POLICY_NO_PERMIT); /* snp 5, ucode 68 */
	claim_set_free(issued);
	claim_set_free(v5);
	claim_set_free(v2);
}

static void launch_measurement_can_be_pinned(void **state)
{
	static const char PIN[] = "version=1.0;\n"
				  "authorizationrules {\n"
				  "  [type==\"x-ms-sevsnpvm-launchmeasurement\", "
				  "value==\"b747d55452e0b9e9079770a49e397c5e6d9573581e246da7"
				  "baac4f28b5cdc5b1b6d19251b8ee600fd16a3708f58406f3\"] => permit();\n"
				  "};\n"
				  "issuancerules { };\n";
	struct claim_set *v5, *v2;

	REQUIRE_VECTORS(dir);
	v5 = vector_claims(dir, "snp/teekit-gcp-milan-v5-reportdata-2025-12", "vcek.pem", 1767225600);
	v2 = vector_claims(dir, "snp/gsg-milan-v2-2022-09", "vcek.der", 1700000000);
	assert_int_equal(run(PIN, v5, NULL), POLICY_PERMIT);
	assert_int_equal(run(PIN, v2, NULL), POLICY_NO_PERMIT);
	claim_set_free(v5);
	claim_set_free(v2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(debuggable_guest_is_refused_by_a_no_debug_policy),
	    cmocka_unit_test(minimum_tcb_is_checked_through_the_min_claims),
	    cmocka_unit_test(launch_measurement_can_be_pinned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
