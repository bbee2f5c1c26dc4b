/*
 * Semantics of the policy language (maa-interface.md §3.3-3.7): every
 * example policy evaluated as the reference describes, rule order, multiple
 * matches, absence, deny versus permit, add versus issue, issueproperty,
 * the functions, type errors, explain and the one-line denial text, and the
 * default SGX policy against a real token of the real service.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "policy30.h"
#include "policy_testutil.h"
#include "reference_policies.h"
#include "testutil.h"

#define AUTH_PERMIT "version=1.2; authorizationrules{=> permit();}; "

static struct claim_set *set_of(const char *json_obj)
{
	json_t *o = json_loads(json_obj, 0, NULL);
	struct claim_set *s = claim_set_new();
	const char *k;
	json_t *v;

	assert_non_null(o);
	json_object_foreach(o, k, v)
		assert_int_equal(claim_set_add(s, k, json_incref(v)), 0);
	json_decref(o);
	return s;
}

/* Evaluating text on in must fail with this error name. */
static void eval_fails(const char *text, const struct claim_set *in, const char *name)
{
	struct policy_plan *p = compile_ok(text);
	struct policy_result *r = NULL;
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_not_equal(policy_eval(p, in, 0, &r, &err), 0);
	assert_null(r);
	if (strcmp(err.name, name) != 0)
		fprintf(stderr, "expected %s, got %s: %s\n", name, err.name, err.msg);
	assert_string_equal(err.name, name);
	policy_plan_free(p);
}

/* ---- The reference's examples (§3.7) -------------------------------------- */

static void sgx_pin_example_permits_and_issues_enclave_id(void **state)
{
	struct claim_set *in = sgx_claims(3, false, REF_HEX64_A);
	struct policy_result *r = run(REF_SGX_PIN, in, 0);

	assert_int_equal(r->verdict, POLICY_PERMIT);
	assert_null(r->denial);
	assert_string_equal(set_json(r->outgoing),
			    "{\"enclave-id\":\"b779202618becb636768e5d902f28d524222735fafb539ea9ba07c3fc171a1c2\"}");
	assert_string_equal(json_string_value(claim_set_get(r->outgoing, "enclave-id")),
			    json_string_value(claim_set_get(in, "x-ms-sgx-mrenclave")));
	assert_string_equal(reason(r), "permitted");
	policy_result_free(r);
	claim_set_free(in);
}

static void sgx_pin_example_refuses_low_svn_and_says_why(void **state)
{
	struct claim_set *in = sgx_claims(2, false, REF_HEX64_A);
	struct policy_result *r = run(REF_SGX_PIN, in, 0);

	assert_int_equal(r->verdict, POLICY_NO_PERMIT);
	assert_int_equal(claim_set_count(r->outgoing), 0);
	assert_non_null(r->denial);
	assert_string_equal(r->denial->claim_type, "x-ms-sgx-svn");
	assert_string_equal(r->denial->expected, ">= 3");
	assert_string_equal(r->denial->found, "2");
	assert_string_equal(reason(r), "not permitted: authorizationrules rule 1 (line 3): x-ms-sgx-svn expected >= 3, found 2");
	policy_result_free(r);
	claim_set_free(in);
}

static void sgx_pin_example_refuses_debug_enclave_and_wrong_signer(void **state)
{
	struct claim_set *in = sgx_claims(5, true, REF_HEX64_A);
	struct policy_result *r = run(REF_SGX_PIN, in, 0);

	assert_string_equal(reason(r),
			    "not permitted: authorizationrules rule 1 (line 3): x-ms-sgx-is-debuggable expected == false, found true");
	policy_result_free(r);
	claim_set_free(in);
	in = sgx_claims(5, false, REF_HEX64_B);
	r = run(REF_SGX_PIN, in, 0);
	assert_string_equal(reason(r), "not permitted: authorizationrules rule 1 (line 3): x-ms-sgx-mrsigner expected == \""
				       REF_HEX64_A "\", found \"" REF_HEX64_B "\"");
	policy_result_free(r);
	claim_set_free(in);
}

static void sgx_rotation_example_permits_either_signer_and_pins_tcb(void **state)
{
	const char *signers[] = {REF_HEX64_A, REF_HEX64_B};

	for (int i = 0; i < 2; i++) {
		struct claim_set *in = sgx_claims(1, false, signers[i]);
		struct policy_result *r = run(REF_SGX_ROTATION, in, 0);

		assert_int_equal(r->verdict, POLICY_PERMIT);
		assert_string_equal(policy_prop_str(r->properties, POLICY_PROP_SGX_TCBIDENTIFIER, "x"), "15");
		policy_result_free(r);
		claim_set_free(in);
	}
	{
		struct claim_set *in = sgx_claims(1, false, "2222222222222222222222222222222222222222222222222222222222222222");
		struct policy_result *r = run(REF_SGX_ROTATION, in, 0);

		assert_int_equal(r->verdict, POLICY_NO_PERMIT);
		assert_string_equal(r->denial->claim_type, "x-ms-sgx-mrsigner");
		assert_int_equal(r->denial->rule, 1); /* both rules meet one condition: the first is named */
		policy_result_free(r);
		claim_set_free(in);
	}
}

static void tpm_11_example_sets_properties_and_platform_attested(void **state)
{
	struct claim_set *good = set_of("{\"aikValidated\":true,\"secureBootEnabled\":true,\"bootDebuggingDisabled\":true,"
					"\"notSafeMode\":true}");
	struct claim_set *bad = set_of("{\"aikValidated\":false,\"secureBootEnabled\":true}");
	struct claim_set *partial = set_of("{\"aikValidated\":true,\"secureBootEnabled\":false}");
	struct policy_result *r = run(REF_TPM_11, good, 0);

	assert_int_equal(r->verdict, POLICY_PERMIT);
	assert_int_equal(policy_prop_int(r->properties, POLICY_PROP_REQUIRED_PCR_MASK, 0), 15);
	assert_false(policy_prop_bool(r->properties, POLICY_PROP_REQUIRE_VALID_AIK_CERT, true));
	assert_string_equal(set_json(r->outgoing), "{\"PlatformAttested\":true}");
	policy_result_free(r);
	r = run(REF_TPM_11, bad, 0);
	assert_string_equal(set_json(r->outgoing), "{\"PlatformAttested\":false}");
	policy_result_free(r);
	r = run(REF_TPM_11, partial, 0);
	assert_int_equal(r->verdict, POLICY_PERMIT);
	assert_int_equal(claim_set_count(r->outgoing), 0);
	policy_result_free(r);
	claim_set_free(good);
	claim_set_free(bad);
	claim_set_free(partial);
}

static void configuration_rules_run_alone_before_verification(void **state)
{
	struct policy_plan *p = compile_ok(REF_TPM_11);
	struct claim_set *props = NULL;
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_equal(policy_eval_config(p, &props, &err), 0);
	assert_int_equal(claim_set_count(props), 2);
	assert_int_equal(policy_prop_int(props, POLICY_PROP_REQUIRED_PCR_MASK, 0), 15);
	claim_set_free(props);
	policy_plan_free(p);
	/* Without configuration rules: the §3.5 defaults. */
	p = compile_ok(REF_SGX_PIN);
	assert_int_equal(policy_eval_config(p, &props, &err), 0);
	assert_int_equal(claim_set_count(props), 0);
	assert_true(policy_prop_bool(props, POLICY_PROP_REQUIRE_VALID_AIK_CERT, true));
	assert_int_equal(policy_prop_int(props, POLICY_PROP_REQUIRED_PCR_MASK, POLICY_DEFAULT_REQUIRED_PCR_MASK), 0xFFFFFF);
	assert_string_equal(policy_prop_str(props, POLICY_PROP_SGX_TCBIDENTIFIER, POLICY_DEFAULT_SGX_TCBIDENTIFIER),
			    "azuredefault");
	claim_set_free(props);
	policy_plan_free(p);
}

static void version_1_0_unconditional_properties_are_known_before_verification(void **state)
{
	struct policy_plan *p = compile_ok("version=1.0; authorizationrules{ => permit(); }; issuancerules{"
					   " => issueproperty(type=\"required_pcr_mask\", value=7);"
					   " [type==\"x\"] => issueproperty(type=\"omit_x5c\", value=true);"
					   " => issueproperty(type=\"required_pcr_mask\", value=3); };");
	struct claim_set *props = NULL;
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_equal(policy_eval_config(p, &props, &err), 0);
	assert_int_equal(claim_set_count(props), 2);
	/* The last value issued wins. */
	assert_int_equal(policy_prop_int(props, POLICY_PROP_REQUIRED_PCR_MASK, 0), 3);
	assert_false(policy_prop_bool(props, POLICY_PROP_OMIT_X5C, false));
	claim_set_free(props);
	policy_plan_free(p);
}

#define PCRS_JSON(d7)                                                                                              \
	"{\"PCRs\":[{\"Index\":0,\"Digests\":{\"SHA1\":\"00\",\"SHA256\":\"aa\"}},"                                 \
	"{\"Index\":7,\"Digests\":{\"SHA1\":\"11\",\"SHA256\":\"" d7 "\"}}]}"
#define EVENTS_JSON(var)                                                                                           \
	"{\"Events\":[{\"EventSeq\":1,\"PcrIndex\":7,\"EventTypeString\":\"EV_EFI_VARIABLE_DRIVER_CONFIG\","     \
	"\"ProcessedData\":{\"UnicodeName\":\"SecureBoot\",\"VariableData\":\"" var "\"}},"                       \
	"{\"EventSeq\":2,\"PcrIndex\":7,\"EventTypeString\":\"EV_EFI_VARIABLE_DRIVER_CONFIG\","                    \
	"\"ProcessedData\":{\"UnicodeName\":\"PK\",\"VariableData\":\"AAAA\"}},"                                  \
	"{\"EventSeq\":3,\"PcrIndex\":4,\"EventTypeString\":\"EV_EFI_BOOT_SERVICES_APPLICATION\"}]}"

static struct claim_set *tpm12_claims(const char *pcrs, const char *events)
{
	struct claim_set *s = claim_set_new();

	claim_set_add_int(s, "tpmVersion", 2);
	if (pcrs)
		claim_set_add_str(s, "pcrs", pcrs);
	if (events)
		claim_set_add_str(s, "events", events);
	return s;
}

static void tpm_12_example_derives_secure_boot_from_the_event_log(void **state)
{
	struct claim_set *in = tpm12_claims(PCRS_JSON(REF_HEX64_PCR7), EVENTS_JSON("AQ"));
	struct policy_result *r = run(REF_TPM_12, in, 0);

	assert_int_equal(r->verdict, POLICY_PERMIT);
	assert_string_equal(set_json(r->outgoing), "{\"secureBootEnabled\":true}");
	policy_result_free(r);
	claim_set_free(in);

	in = tpm12_claims(PCRS_JSON(REF_HEX64_PCR7), EVENTS_JSON("AA"));
	r = run(REF_TPM_12, in, 0);
	assert_string_equal(set_json(r->outgoing), "{\"secureBootEnabled\":false}");
	policy_result_free(r);
	claim_set_free(in);

	/* No event log at all: the absence rule issues false. */
	in = tpm12_claims(PCRS_JSON(REF_HEX64_PCR7), NULL);
	r = run(REF_TPM_12, in, 0);
	assert_string_equal(set_json(r->outgoing), "{\"secureBootEnabled\":false}");
	policy_result_free(r);
	claim_set_free(in);
}

static void tpm_12_example_refuses_a_wrong_pcr7(void **state)
{
	struct claim_set *in = tpm12_claims(PCRS_JSON("00"), EVENTS_JSON("AQ"));
	struct policy_result *r = run(REF_TPM_12, in, POLICY_EVAL_EXPLAIN);

	assert_int_equal(r->verdict, POLICY_NO_PERMIT);
	assert_string_equal(reason(r), "not permitted: authorizationrules rule 2 (line 6): pcr7ok expected == true, found false");
	/* The trace shows rule 1 fired and bound c to the pcrs claim. */
	assert_int_equal(r->explain->rules[0].fired, 1);
	assert_int_equal(r->explain->rules[0].nbindings, 1);
	assert_string_equal(r->explain->rules[0].bindings[0].ident, "c");
	assert_string_equal(r->explain->rules[0].bindings[0].type, "pcrs");
	assert_string_equal(r->explain->rules[0].bindings[0].issuer, "AttestationService");
	policy_result_free(r);
	claim_set_free(in);
}

static void vbs_example_checks_enclave_identity(void **state)
{
	struct claim_set *in = set_of("{\"vsmReportPresent\":true,\"enclaveAuthorId\":\"" REF_B64URL_AUTHOR
				      "\",\"enclaveImageId\":\"" REF_B64URL_IMAGE "\",\"enclaveSvn\":1}");
	struct policy_result *r = run(REF_VBS, in, 0);

	assert_int_equal(r->verdict, POLICY_PERMIT);
	policy_result_free(r);
	claim_set_free(in);
	in = set_of("{\"vsmReportPresent\":true,\"enclaveAuthorId\":\"" REF_B64URL_AUTHOR "\",\"enclaveImageId\":\""
		    REF_B64URL_IMAGE "\",\"enclaveSvn\":0}");
	r = run(REF_VBS, in, 0);
	assert_string_equal(reason(r), "not permitted: authorizationrules rule 1 (line 3): enclaveSvn expected >= 1, found 0");
	policy_result_free(r);
	claim_set_free(in);
}

static void snp_example_permits_compliant_container_and_issues_measurement(void **state)
{
	struct claim_set *in = set_of("{\"x-ms-attestation-type\":\"sevsnpvm\",\"x-ms-compliance-status\":\"azure-compliant-uvm\","
				      "\"x-ms-sevsnpvm-is-debuggable\":false,\"x-ms-sevsnpvm-hostdata\":\"" REF_HEX64_HOST "\","
				      "\"x-ms-sevsnpvm-launchmeasurement\":\"abcd\",\"x-ms-sevsnpvm-vmpl\":0}");
	struct policy_result *r = run(REF_SNP, in, 0);

	assert_int_equal(r->verdict, POLICY_PERMIT);
	assert_string_equal(set_json(r->outgoing), "{\"measurement\":\"abcd\"}");
	policy_result_free(r);
	claim_set_free(in);
	in = set_of("{\"x-ms-attestation-type\":\"sevsnpvm\",\"x-ms-compliance-status\":\"azure-compliant-cvm\","
		    "\"x-ms-sevsnpvm-is-debuggable\":false,\"x-ms-sevsnpvm-hostdata\":\"" REF_HEX64_HOST "\"}");
	r = run(REF_SNP, in, 0);
	assert_string_equal(reason(r), "not permitted: authorizationrules rule 1 (line 3): x-ms-compliance-status expected == "
				       "\"azure-compliant-uvm\", found \"azure-compliant-cvm\"");
	policy_result_free(r);
	claim_set_free(in);
}

#define AZVM_OK                                                                                                    \
	"\"secureboot\":true,\"x-ms-azurevm-debuggersdisabled\":true,\"x-ms-azurevm-dbvalidated\":true,"          \
	"\"x-ms-azurevm-dbxvalidated\":true"

static void azureguest_example_denies_on_any_listed_failure(void **state)
{
	struct claim_set *in = set_of("{" AZVM_OK ",\"x-ms-azurevm-signingdisabled\":true}");
	struct policy_result *r = run(REF_AZUREGUEST, in, 0);

	assert_int_equal(r->verdict, POLICY_PERMIT);
	policy_result_free(r);
	claim_set_free(in);
	in = set_of("{" AZVM_OK ",\"x-ms-azurevm-signingdisabled\":false}");
	r = run(REF_AZUREGUEST, in, 0);
	assert_int_equal(r->verdict, POLICY_DENY);
	assert_int_equal(r->denial->rule, 3);
	assert_string_equal(reason(r),
			    "denied by authorizationrules rule 3 (line 5): x-ms-azurevm-signingdisabled expected != false, found false");
	policy_result_free(r);
	claim_set_free(in);
}

static void tdx_example_checks_debug_tcb_and_mrtd(void **state)
{
	struct claim_set *in = set_of("{\"x-ms-attestation-type\":\"tdxvm\",\"tdx_td_attributes_debug\":false,"
				      "\"attester_tcb_status\":\"UpToDate\",\"tdx_mrtd\":\"" REF_HEX96_MRTD "\"}");
	struct policy_result *r = run(REF_TDX, in, 0);

	assert_int_equal(r->verdict, POLICY_PERMIT);
	policy_result_free(r);
	claim_set_free(in);
	in = set_of("{\"x-ms-attestation-type\":\"tdxvm\",\"tdx_td_attributes_debug\":false,"
		    "\"attester_tcb_status\":\"OutOfDate\",\"tdx_mrtd\":\"" REF_HEX96_MRTD "\"}");
	r = run(REF_TDX, in, 0);
	assert_string_equal(r->denial->claim_type, "attester_tcb_status");
	assert_string_equal(r->denial->found, "\"OutOfDate\"");
	policy_result_free(r);
	claim_set_free(in);
}

static void docs_author_sample_copies_claims_with_issue_claim(void **state)
{
	struct claim_set *in = claim_set_new();
	struct policy_result *r;

	claim_set_add_bool(in, "secureBootEnabled", true);
	claim_set_add_bool(in, "notSafeMode", true);
	claim_set_add_issued(in, "notSafeMode", CLAIM_ISSUER_CUSTOM, json_false());
	r = run(REF_DOCS_AUTHOR, in, 0);
	assert_int_equal(r->verdict, POLICY_PERMIT);
	assert_string_equal(set_json(r->outgoing), "{\"secureBootEnabled\":true,\"notSafeMode\":true}");
	policy_result_free(r);
	claim_set_free(in);
}

/* ---- Semantics (§3.3) ----------------------------------------------------- */

static void later_rules_see_claims_added_by_earlier_rules(void **state)
{
	struct claim_set *in = claim_set_new();
	struct policy_result *r = run(AUTH_PERMIT "issuancerules{ => add(type=\"a\", value=1);"
						  " [type==\"a\", value==1] => issue(type=\"b\", value=true); };",
				      in, 0);

	assert_string_equal(set_json(r->outgoing), "{\"b\":true}");
	policy_result_free(r);
	r = run(AUTH_PERMIT "issuancerules{ [type==\"a\"] => issue(type=\"b\", value=true);"
			    " => add(type=\"a\", value=1); };",
		in, 0);
	assert_int_equal(claim_set_count(r->outgoing), 0);
	policy_result_free(r);
	claim_set_free(in);
}

static void authorization_additions_are_visible_to_issuance(void **state)
{
	struct claim_set *in = claim_set_new();
	struct policy_result *r = run("version=1.0; authorizationrules{ => add(type=\"stage\", value=\"auth\"); => permit(); };"
				      "issuancerules{ c:[type==\"stage\"] => issue(type=\"seen\", value=c.value); };",
				      in, 0);

	assert_string_equal(set_json(r->outgoing), "{\"seen\":\"auth\"}");
	policy_result_free(r);
	claim_set_free(in);
}

static void a_rule_does_not_see_its_own_additions(void **state)
{
	struct claim_set *in = set_of("{\"n\":1}");
	struct policy_result *r = run(AUTH_PERMIT "issuancerules{ c:[type==\"n\"] => add(type=\"n\", value=2);"
						  " c:[type==\"n\"] => issue(type=\"m\", value=c.value); };",
				      in, 0);

	assert_string_equal(set_json(r->outgoing), "{\"m\":[1,2]}");
	policy_result_free(r);
	claim_set_free(in);
}

static void action_runs_once_per_matching_claim(void **state)
{
	struct claim_set *in = claim_set_new();
	struct policy_result *r;

	claim_set_add_str(in, "x", "one");
	claim_set_add_str(in, "y", "unrelated");
	claim_set_add_str(in, "x", "two");
	r = run(AUTH_PERMIT "issuancerules{ c:[type==\"x\"] => issue(type=\"copy\", value=c.value); };", in, 0);
	assert_string_equal(set_json(r->outgoing), "{\"copy\":[\"one\",\"two\"]}");
	policy_result_free(r);
	/* Two identifiers: once per combination. */
	r = run(AUTH_PERMIT "issuancerules{ a:[type==\"x\"] && b:[type==\"x\"] => "
			    "issue(type=\"pair\", value=AppendString(a.value, b.value)); };",
		in, 0);
	assert_string_equal(set_json(r->outgoing), "{\"pair\":[\"oneone\",\"onetwo\",\"twoone\",\"twotwo\"]}");
	policy_result_free(r);
	/* A condition without identifier only needs one match. */
	r = run(AUTH_PERMIT "issuancerules{ [type==\"x\"] => issue(type=\"any\", value=true); };", in, 0);
	assert_string_equal(set_json(r->outgoing), "{\"any\":true}");
	policy_result_free(r);
	claim_set_free(in);
}

static void conditions_can_join_on_another_binding(void **state)
{
	struct claim_set *in = claim_set_new();
	struct policy_result *r;

	claim_set_add_issued(in, "OSName", CLAIM_ISSUER_CUSTOM, json_string("Windows"));
	claim_set_add_str(in, "OSName", "Windows");
	r = run("version=1.0; authorizationrules{ F1:[type==\"OSName\", issuer==\"CustomClaim\"] && "
		"[type==\"OSName\", issuer==\"AttestationService\", value==F1.value] => permit(); }; issuancerules{};",
		in, 0);
	assert_int_equal(r->verdict, POLICY_PERMIT);
	policy_result_free(r);
	claim_set_free(in);
}

static void absence_condition_is_true_only_without_a_match(void **state)
{
	struct claim_set *in = set_of("{\"present\":1}");
	struct policy_result *r = run(AUTH_PERMIT "issuancerules{ ![type==\"missing\"] => issue(type=\"a\", value=true);"
						  " ![type==\"present\"] => issue(type=\"b\", value=true);"
						  " ![type==\"present\", value==2] => issue(type=\"c\", value=true); };",
				      in, 0);

	assert_string_equal(set_json(r->outgoing), "{\"a\":true,\"c\":true}");
	policy_result_free(r);
	claim_set_free(in);
}

static void deny_wins_over_permit_in_any_order(void **state)
{
	struct claim_set *in = set_of("{\"bad\":true}");
	struct policy_result *r = run("version=1.0; authorizationrules{ => permit(); [type==\"bad\", value==true] => deny(); };"
				      "issuancerules{ => issue(type=\"x\", value=1); };",
				      in, 0);

	assert_int_equal(r->verdict, POLICY_DENY);
	assert_int_equal(claim_set_count(r->outgoing), 0); /* issuance does not run */
	assert_string_equal(reason(r), "denied by authorizationrules rule 2 (line 1): bad expected != true, found true");
	policy_result_free(r);
	r = run("version=1.0; authorizationrules{ [type==\"bad\"] => deny(); => permit(); }; issuancerules{};", in, 0);
	assert_int_equal(r->verdict, POLICY_DENY);
	assert_string_equal(reason(r), "denied by authorizationrules rule 1 (line 1): bad expected absent, found true");
	policy_result_free(r);
	r = run("version=1.0; authorizationrules{ => deny(); }; issuancerules{};", in, 0);
	assert_string_equal(reason(r), "denied by authorizationrules rule 1 (line 1)");
	policy_result_free(r);
	claim_set_free(in);
}

static void nothing_fired_is_no_permit(void **state)
{
	struct claim_set *in = claim_set_new();
	struct policy_result *r = run("version=1.0; authorizationrules{}; issuancerules{ => issue(type=\"x\", value=1); };", in, 0);

	assert_int_equal(r->verdict, POLICY_NO_PERMIT);
	assert_int_equal(claim_set_count(r->outgoing), 0);
	assert_string_equal(reason(r), "not permitted: the policy has no permit() rule that could fire");
	policy_result_free(r);
	r = run("version=1.0; authorizationrules{\n [type==\"tee\"] => permit(); }; issuancerules{};", in, 0);
	assert_string_equal(reason(r), "not permitted: authorizationrules rule 1 (line 2): tee expected present, found absent");
	policy_result_free(r);
	claim_set_free(in);
}

static void add_is_internal_and_issue_reaches_the_token(void **state)
{
	struct claim_set *in = claim_set_new();
	struct policy_result *r = run(AUTH_PERMIT "issuancerules{ => add(type=\"internal\", value=1);"
						  " => issue(type=\"public\", value=2);"
						  " [type==\"internal\", issuer==\"AttestationPolicy\"] && [type==\"public\"] =>"
						  " issue(type=\"both-visible\", value=true); };",
				      in, POLICY_EVAL_EXPLAIN);

	assert_string_equal(set_json(r->outgoing), "{\"public\":2,\"both-visible\":true}");
	assert_non_null(claim_set_find_issued(r->final_incoming, "internal", CLAIM_ISSUER_POLICY));
	assert_non_null(claim_set_find_issued(r->final_incoming, "public", CLAIM_ISSUER_POLICY));
	assert_string_equal(claim_set_at(r->outgoing, 0)->issuer, CLAIM_ISSUER_POLICY);
	policy_result_free(r);
	claim_set_free(in);
}

static void issueproperty_goes_to_properties_and_incoming(void **state)
{
	struct claim_set *in = claim_set_new();
	struct policy_result *r = run(AUTH_PERMIT "issuancerules{ => issueproperty(type=\"omit_x5c\", value=true);"
						  " [type==\"omit_x5c\"] => issue(type=\"seen\", value=true); };",
				      in, 0);

	assert_true(policy_prop_bool(r->properties, POLICY_PROP_OMIT_X5C, false));
	assert_string_equal(set_json(r->outgoing), "{\"seen\":true}");
	policy_result_free(r);
	claim_set_free(in);
}

static void issuer_tests_select_the_issuer(void **state)
{
	struct claim_set *in = claim_set_new();
	struct policy_result *r;

	claim_set_add_issued(in, "k", CLAIM_ISSUER_CUSTOM, json_string("custom"));
	claim_set_add_str(in, "k", "service");
	claim_set_add_issued(in, "k", "SomeoneElse", json_string("other"));
	r = run(AUTH_PERMIT "issuancerules{ c:[type==\"k\", issuer==\"AttestationService\"] => issue(type=\"s\", value=c.value);"
			    " c:[type==\"k\", issuer==\"CustomClaim\"] => issue(type=\"c\", value=c.value);"
			    " c:[type==\"k\", issuer!=\"AttestationService\"] => issue(type=\"n\", value=c.issuer);"
			    " c:[type==\"k\", issuer==\"SomeoneElse\"] => issue(type=\"o\", value=c.value);"
			    " c:[issuer==\"CustomClaim\"] => issue(type=\"t\", value=c.type); };",
		in, 0);
	assert_string_equal(set_json(r->outgoing), "{\"s\":\"service\",\"c\":\"custom\",\"n\":[\"CustomClaim\",\"SomeoneElse\"],"
						   "\"o\":\"other\",\"t\":\"k\"}");
	policy_result_free(r);
	claim_set_free(in);
}

static void value_type_is_tested_and_converted(void **state)
{
	struct claim_set *in = set_of("{\"i\":5,\"s\":\"5\",\"b\":true,\"set\":[1,2],\"obj\":{\"a\":1}}");
	struct policy_result *r = run(
		AUTH_PERMIT "issuancerules{ c:[valueType==\"Integer\"] => issue(type=\"int\", value=c.type);"
			    " c:[valueType==\"Set\"] => issue(type=\"set\", value=c.type);"
			    " c:[valueType==\"JSON\"] => issue(type=\"json\", value=c.type);"
			    " c:[type==\"s\"] => issue(type=\"as-int\", value=c.value, valueType=\"Integer\");"
			    " c:[type==\"i\"] => issue(type=\"as-str\", value=c.value, valueType=\"String\");"
			    " c:[type==\"b\"] => issue(type=\"b-str\", value=c.value, valueType=\"String\");"
			    " => issue(type=\"as-bool\", value=\"true\", valueType=\"Boolean\");"
			    " c:[type==\"i\"] => issue(type=\"vt\", value=c.valueType); };",
		in, 0);

	assert_string_equal(set_json(r->outgoing), "{\"int\":\"i\",\"set\":\"set\",\"json\":\"obj\",\"as-int\":5,\"as-str\":\"5\","
						   "\"b-str\":\"true\",\"as-bool\":true,\"vt\":\"Integer\"}");
	policy_result_free(r);
	eval_fails(AUTH_PERMIT "issuancerules{ => issue(type=\"x\", value=\"five\", valueType=\"Integer\"); };", in,
		   "policy.eval.type");
	claim_set_free(in);
}

static void ordering_on_a_string_claim_does_not_match(void **state)
{
	struct claim_set *in = set_of("{\"x-ms-sgx-svn\":\"3\"}");
	struct policy_result *r = run("version=1.0; authorizationrules{ [type==\"x-ms-sgx-svn\", value>=3] => permit(); };"
				      "issuancerules{};",
				      in, 0);

	assert_int_equal(r->verdict, POLICY_NO_PERMIT);
	assert_string_equal(reason(r), "not permitted: authorizationrules rule 1 (line 1): x-ms-sgx-svn expected >= 3, found \"3\"");
	policy_result_free(r);
	claim_set_free(in);
}

static void values_of_different_types_are_never_equal(void **state)
{
	struct claim_set *in = set_of("{\"n\":7,\"s\":\"7\",\"t\":true}");
	struct policy_result *r = run(AUTH_PERMIT "issuancerules{ [type==\"n\", value==\"7\"] => issue(type=\"a\", value=1);"
						  " [type==\"s\", value==7] => issue(type=\"b\", value=1);"
						  " [type==\"t\", value==\"true\"] => issue(type=\"c\", value=1);"
						  " [type==\"n\", value!=\"7\"] => issue(type=\"d\", value=1); };",
				      in, 0);

	assert_string_equal(set_json(r->outgoing), "{\"d\":1}");
	policy_result_free(r);
	claim_set_free(in);
}

static void set_valued_claim_matches_each_element(void **state)
{
	struct claim_set *in = set_of("{\"x-ms-azurevm-attested-pcrs\":[0,1,2,3,4,5,6,7,11,12,13]}");
	struct policy_result *r = run(AUTH_PERMIT "issuancerules{ [type==\"x-ms-azurevm-attested-pcrs\", value==7] =>"
						  " issue(type=\"pcr7\", value=true);"
						  " [type==\"x-ms-azurevm-attested-pcrs\", value==9] => issue(type=\"pcr9\", value=true);"
						  " [type==\"x-ms-azurevm-attested-pcrs\", value!=9] => issue(type=\"no9\", value=true); };",
				      in, 0);

	assert_string_equal(set_json(r->outgoing), "{\"pcr7\":true,\"no9\":true}");
	policy_result_free(r);
	claim_set_free(in);
}

static void legacy_dollar_names_address_sgx_claims(void **state)
{
	struct claim_set *in = sgx_claims(4, false, REF_HEX64_A);
	struct policy_result *r = run("version=1.0; authorizationrules{ => permit(); }; issuancerules{"
				      " c:[type==\"$is-debuggable\"] => issue(type=\"is-debuggable\", value=c.value);"
				      " c:[type==\"$svn\"] => issue(type=\"svn\", value=c.value);"
				      " c:[type==\"$tee\"] => issue(type=\"tee\", value=c.value); };",
				      in, 0);

	assert_string_equal(set_json(r->outgoing), "{\"is-debuggable\":false,\"svn\":4,\"tee\":\"sgx\"}");
	policy_result_free(r);
	claim_set_free(in);
}

static void dotted_names_reach_into_the_isolation_tee(void **state)
{
	struct claim_set *in = set_of("{\"x-ms-attestation-type\":\"azurevm\",\"x-ms-isolation-tee\":{\"x-ms-attestation-type\":"
				      "\"sevsnpvm\",\"x-ms-compliance-status\":\"azure-compliant-cvm\"}}");
	struct policy_result *r = run("version=1.0; authorizationrules{"
				      " [type==\"x-ms-isolation-tee.x-ms-compliance-status\", value==\"azure-compliant-cvm\"] =>"
				      " permit(); }; issuancerules{ c:[type==\"x-ms-isolation-tee.x-ms-attestation-type\"] =>"
				      " issue(type=\"tee\", value=c.value); };",
				      in, POLICY_EVAL_EXPLAIN);

	assert_int_equal(r->verdict, POLICY_PERMIT);
	assert_string_equal(set_json(r->outgoing), "{\"tee\":\"sevsnpvm\"}");
	/* The dotted view is not copied into the incoming set. */
	assert_null(claim_set_find(r->final_incoming, "x-ms-isolation-tee.x-ms-attestation-type"));
	policy_result_free(r);
	claim_set_free(in);
}

static void read_only_claims_cannot_be_issued(void **state)
{
	struct claim_set *in = tpm12_claims(PCRS_JSON("00"), EVENTS_JSON("AQ"));
	struct policy_result *r;

	eval_fails(AUTH_PERMIT "issuancerules{ c:[type==\"pcrs\"] => issue(claim=c); };", in, "policy.eval.readonly");
	eval_fails(AUTH_PERMIT "issuancerules{ c:[type==\"events\"] => issue(type=\"x\", value=JmesPath(c.value, \"Events\")); };",
		   in, "policy.eval.readonly");
	/* Reading, adding, and facts derived from them are fine. */
	r = run(AUTH_PERMIT "issuancerules{ c:[type==\"pcrs\"] => add(type=\"copy\", value=c.value);"
			    " c:[type==\"pcrs\"] => issue(type=\"n\", value=JsonToClaimValue(JmesPath(c.value, \"length(PCRs)\")));"
			    " c:[type==\"pcrs\"] => issue(type=\"has0\", value=ContainsOnlyValue(JsonToClaimValue("
			    "JmesPath(c.value, \"PCRs[?Index==`0`].Index\")), 0)); };",
		in, 0);
	assert_string_equal(set_json(r->outgoing), "{\"n\":2,\"has0\":true}");
	policy_result_free(r);
	claim_set_free(in);
}

/* ---- Functions (§3.4) ------------------------------------------------------- */

static void jmespath_function_queries_json_text_and_objects(void **state)
{
	struct claim_set *in = set_of("{\"JsonData\":\"{\\\"values\\\": [0,1,2,3,4]}\",\"JmesPathQuery\":\"values[2]\","
				      "\"x-ms-runtime\":{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\"}]}}");
	struct policy_result *r = run(
		AUTH_PERMIT "issuancerules{ => issue(type=\"lit\", value=JmesPath(\"{\\\"foo\\\": \\\"bar\\\"}\", \"foo\"));"
			    " c1:[type==\"JsonData\"] && c2:[type==\"JmesPathQuery\"] =>"
			    " issue(type=\"dyn\", value=JmesPath(c1.value, c2.value));"
			    " c:[type==\"x-ms-runtime\"] => issue(type=\"kid\", value=JsonToClaimValue(JmesPath(c.value,"
			    " \"keys[0].kid\")));"
			    " => issue(type=\"eic\", value=JmesPath(\"{\\\"a\\\":\\\"SecureBoot\\\"}\","
			    " \"equals_ignore_case(a, 'secureboot')\")); };",
		in, 0);

	assert_string_equal(set_json(r->outgoing), "{\"lit\":\"\\\"bar\\\"\",\"dyn\":\"2\",\"kid\":\"HCLAkPub\",\"eic\":\"true\"}");
	policy_result_free(r);
	claim_set_free(in);
}

static void jmespath_function_errors_fail_the_evaluation(void **state)
{
	struct claim_set *in = set_of("{\"q\":\"a[\",\"doc\":\"not json\"}");

	eval_fails(AUTH_PERMIT "issuancerules{ c:[type==\"doc\"] => issue(type=\"x\", value=JmesPath(c.value, \"a\")); };", in,
		   "policy.eval.function");
	eval_fails(AUTH_PERMIT "issuancerules{ c:[type==\"q\"] => issue(type=\"x\", value=JmesPath(\"{}\", c.value)); };", in,
		   "jmespath.syntax");
	eval_fails(AUTH_PERMIT "issuancerules{ => issue(type=\"x\", value=JmesPath(\"\", \"a\")); };", in, "policy.eval.type");
	eval_fails(AUTH_PERMIT "issuancerules{ => issue(type=\"x\", value=JmesPath(\"{}\", \"abs(`\\\"s\\\"`)\")); };", in,
		   "jmespath.type");
	eval_fails(AUTH_PERMIT "issuancerules{ => issue(type=\"x\", value=JmesPath(\"{}\", \"@ | [@,@] | [@,@] | [@,@] | [@,@] | "
			       "[@,@] | [@,@] | [@,@] | [@,@] | [@,@] | [@,@] | [@,@] | [@,@] | [@,@] | [@,@] | [@,@] | [@,@] | "
			       "[@,@] | [@,@] | [@,@] | [@,@] | [@,@] | [@,@] | [@,@] | [@,@] | [@,@] | [@,@] | [@,@] | [@,@]\")); };",
		   in, "policy.eval.function");
	claim_set_free(in);
}

static void json_to_claim_value_maps_json_types(void **state)
{
	struct claim_set *in = claim_set_new();
	struct policy_result *r = run(AUTH_PERMIT "issuancerules{ => issue(type=\"i\", value=JsonToClaimValue(\"42\"));"
						  " => issue(type=\"w\", value=JsonToClaimValue(\"42.0\"));"
						  " => issue(type=\"b\", value=JsonToClaimValue(\"false\"));"
						  " => issue(type=\"s\", value=JsonToClaimValue(\"\\\"text\\\"\"));"
						  " => issue(type=\"set\", value=JsonToClaimValue(\"[1, \\\"a\\\", true]\"));"
						  " => issue(type=\"none\", value=JsonToClaimValue(\"null\")); };",
				      in, 0);

	assert_string_equal(set_json(r->outgoing), "{\"i\":42,\"w\":42,\"b\":false,\"s\":\"text\",\"set\":[1,\"a\",true]}");
	policy_result_free(r);
	eval_fails(AUTH_PERMIT "issuancerules{ => issue(type=\"x\", value=JsonToClaimValue(\"{\\\"a\\\":1}\")); };", in,
		   "policy.eval.function");
	eval_fails(AUTH_PERMIT "issuancerules{ => issue(type=\"x\", value=JsonToClaimValue(\"1.5\")); };", in,
		   "policy.eval.function");
	eval_fails(AUTH_PERMIT "issuancerules{ => issue(type=\"x\", value=JsonToClaimValue(\"[[1]]\")); };", in,
		   "policy.eval.function");
	eval_fails(AUTH_PERMIT "issuancerules{ => issue(type=\"x\", value=JsonToClaimValue(5)); };", in, "policy.eval.type");
	claim_set_free(in);
}

static void set_functions_compare_sets(void **state)
{
	struct claim_set *in = set_of("{\"have\":[1,2,3],\"want\":[1,3],\"same\":[\"a\",\"a\"],\"empty\":[],\"obj\":{\"a\":1}}");
	struct policy_result *r = run(
		AUTH_PERMIT "issuancerules{ a:[type==\"want\"] && b:[type==\"have\"] => issue(type=\"sub\", value=IsSubsetOf(a.value, b.value));"
			    " a:[type==\"want\"] && b:[type==\"have\"] => issue(type=\"sup\", value=IsSubsetOf(b.value, a.value));"
			    " => issue(type=\"one\", value=IsSubsetOf(2, JsonToClaimValue(\"[1,2]\")));"
			    " c:[type==\"same\"] => issue(type=\"only\", value=ContainsOnlyValue(c.value, \"a\"));"
			    " c:[type==\"have\"] => issue(type=\"notonly\", value=ContainsOnlyValue(c.value, 1));"
			    " c:[type==\"empty\"] => issue(type=\"emptyonly\", value=ContainsOnlyValue(c.value, 1)); };",
		in, 0);

	assert_string_equal(set_json(r->outgoing), "{\"sub\":true,\"sup\":false,\"one\":true,\"only\":true,\"notonly\":false,"
						   "\"emptyonly\":false}");
	policy_result_free(r);
	eval_fails(AUTH_PERMIT "issuancerules{ c:[type==\"obj\"] => issue(type=\"x\", value=IsSubsetOf(c.value, \"a\")); };", in,
		   "policy.eval.type");
	eval_fails(AUTH_PERMIT "issuancerules{ c:[type==\"obj\"] => issue(type=\"x\", value=ContainsOnlyValue(c.value, 1)); };", in,
		   "policy.eval.type");
	claim_set_free(in);
}

static void string_and_bool_functions(void **state)
{
	struct claim_set *in = set_of("{\"os\":\"Windows\",\"flag\":true}");
	struct policy_result *r = run(AUTH_PERMIT "issuancerules{ c:[type==\"os\"] => issue(type=\"s\", value=AppendString(c.value, \"-11\"));"
						  " c:[type==\"flag\"] => issue(type=\"n\", value=NegateBool(c.value));"
						  " [type==\"flag\", value==NegateBool(false)] => issue(type=\"cmp\", value=true); };",
				      in, 0);

	assert_string_equal(set_json(r->outgoing), "{\"s\":\"Windows-11\",\"n\":false,\"cmp\":true}");
	policy_result_free(r);
	eval_fails(AUTH_PERMIT "issuancerules{ c:[type==\"os\"] => issue(type=\"x\", value=NegateBool(c.value)); };", in,
		   "policy.eval.type");
	eval_fails(AUTH_PERMIT "issuancerules{ c:[type==\"flag\"] => issue(type=\"x\", value=AppendString(c.value, \"a\")); };", in,
		   "policy.eval.type");
	eval_fails(AUTH_PERMIT "issuancerules{ c:[type==\"flag\"] => issue(type=c.value, value=1); };", in, "policy.eval.type");
	claim_set_free(in);
}

static void computed_claim_types_are_allowed(void **state)
{
	struct claim_set *in = set_of("{\"prefix\":\"custom\"}");
	struct policy_result *r = run(AUTH_PERMIT "issuancerules{ c:[type==\"prefix\"] => issue(type=AppendString(c.value, \"-claim\"),"
						  " value=1); };",
				      in, 0);

	assert_string_equal(set_json(r->outgoing), "{\"custom-claim\":1}");
	policy_result_free(r);
	claim_set_free(in);
}

/* ---- Limits, purity ----------------------------------------------------------- */

static void match_explosion_is_bounded(void **state)
{
	struct claim_set *in = claim_set_new();

	for (int i = 0; i < 40; i++)
		claim_set_add_int(in, "x", i);
	eval_fails(AUTH_PERMIT "issuancerules{ a:[type==\"x\"] && b:[type==\"x\"] => add(type=\"p\", value=IsSubsetOf(a.value, b.value)); };", in,
		   "policy.eval.too_many_matches");
	claim_set_free(in);
}

static void join_search_is_bounded(void **state)
{
	struct claim_set *in = claim_set_new();

	for (int i = 0; i < 60; i++)
		claim_set_add_issued(in, "x", CLAIM_ISSUER_CUSTOM, json_sprintf("v%d", i));
	/* 60^4 combinations, none of which fires: bounded by steps, not by firings. */
	eval_fails(AUTH_PERMIT "issuancerules{ a:[type==\"x\"] && b:[type==\"x\"] && c:[type==\"x\"] &&"
			       " d:[type==\"x\", value==AppendString(a.value, b.value)] => issue(type=\"p\", value=c.value); };",
		   in, "policy.eval.too_complex");
	claim_set_free(in);
}

static void evaluation_is_pure_and_repeatable(void **state)
{
	struct claim_set *in = sgx_claims(3, false, REF_HEX64_A);
	struct policy_plan *p = compile_ok(policy_default_text("SgxEnclave"));
	size_t n = claim_set_count(in);
	char first[4096];

	for (int i = 0; i < 3; i++) {
		struct policy_result *r = eval_ok(p, in, i == 1 ? POLICY_EVAL_EXPLAIN : 0);

		if (i == 0)
			snprintf(first, sizeof(first), "%s", set_json(r->outgoing));
		else
			assert_string_equal(set_json(r->outgoing), first);
		policy_result_free(r);
	}
	assert_int_equal(claim_set_count(in), n);
	policy_plan_free(p);
	claim_set_free(in);
}

static void result_outlives_its_plan(void **state)
{
	struct claim_set *in = sgx_claims(3, false, REF_HEX64_A);
	struct policy_plan *p = compile_ok(policy_default_text("SgxEnclave"));
	struct policy_result *r = eval_ok(p, in, 0);

	policy_plan_free(p); /* e.g. evicted from the cache while the request still runs */
	assert_string_equal(claim_set_at(r->outgoing, 0)->type, "is-debuggable");
	assert_string_equal(set_json(r->outgoing), "{\"is-debuggable\":false,\"sgx-mrsigner\":\"" REF_HEX64_A "\","
						   "\"sgx-mrenclave\":\"b779202618becb636768e5d902f28d524222735fafb539ea9ba07c3fc171a1c2\","
						   "\"product-id\":7,\"svn\":3,\"tee\":\"sgx\"}");
	policy_result_free(r);
	claim_set_free(in);
}

/* ---- Explain ---------------------------------------------------------------- */

static void explain_records_every_rule(void **state)
{
	struct claim_set *in = sgx_claims(3, false, REF_HEX64_A);
	struct policy_result *r = run(REF_SGX_ROTATION, in, POLICY_EVAL_EXPLAIN);
	struct policy_explain *e = r->explain;

	assert_non_null(e);
	assert_int_equal(e->nrules, 3);
	assert_int_equal(e->rules[0].section, POLICY_SECTION_CONFIGURATION);
	assert_int_equal(e->rules[0].fired, 1);
	assert_int_equal(e->rules[1].section, POLICY_SECTION_AUTHORIZATION);
	assert_int_equal(e->rules[1].index, 1);
	assert_int_equal(e->rules[1].line, 4);
	assert_int_equal(e->rules[1].fired, 1);
	assert_null(e->rules[1].why);
	assert_int_equal(e->rules[2].fired, 0);
	assert_string_equal(e->rules[2].why, "x-ms-sgx-mrsigner expected == \"" REF_HEX64_B "\", found \"" REF_HEX64_A "\"");
	assert_non_null(r->final_incoming);
	policy_result_free(r);
	claim_set_free(in);
}

static void explain_lists_bindings_of_the_first_firing(void **state)
{
	struct claim_set *in = sgx_claims(3, false, REF_HEX64_A);
	struct policy_result *r = run(policy_default_text("SgxEnclave"), in, POLICY_EVAL_EXPLAIN);
	const struct policy_rule_trace *t = &r->explain->rules[6]; /* issuance rule 5: svn */

	assert_int_equal(t->index, 5);
	assert_int_equal(t->nbindings, 1);
	assert_string_equal(t->bindings[0].ident, "c");
	assert_string_equal(t->bindings[0].type, "x-ms-sgx-svn");
	assert_int_equal(json_integer_value(t->bindings[0].value), 3);
	policy_result_free(r);
	claim_set_free(in);
}

/*
 * The final incoming set lends its values from the incoming, outgoing and
 * properties sets instead of counting references to them (issue 13), and
 * keeps those sets alive: the incoming set may go before the result.
 */
static void explain_result_outlives_its_incoming_set(void **state)
{
	struct claim_set *in = policy30_sgx_claims(3, false, REF_HEX64_A);
	struct policy_plan *p = compile_ok(POLICY30);
	struct policy_result *r = eval_ok(p, in, POLICY_EVAL_EXPLAIN);
	const struct policy_rule_trace *t = NULL;
	char *before;

	assert_non_null(in);
	before = strdup(set_json(r->final_incoming));
	claim_set_free(in); /* the caller's reference: the result still holds one */
	policy_plan_free(p);
	assert_string_equal(set_json(r->final_incoming), before);
	assert_string_equal(json_string_value(claim_set_get(r->final_incoming, "x-ms-sgx-report-data")),
			    "cfd0d2b5ee52b87e9d5bd6a1d5e6dfa9b13c3dd6d5c2ba1dcf2bdd56ca1c2f0b"
			    "0000000000000000000000000000000000000000000000000000000000000000");
	for (size_t i = 0; i < r->explain->nrules && t == NULL; i++)
		if (r->explain->rules[i].nbindings > 0 && strcmp(r->explain->rules[i].bindings[0].type, "nonce") == 0)
			t = &r->explain->rules[i];
	assert_non_null(t); /* c:[type=="nonce"] => issue(type="echo", ...) */
	assert_string_equal(json_string_value(t->bindings[0].value), "5e2a1f");
	free(before);
	policy_result_free(r); /* releases the incoming set: ASan reports a leak or a double free */
}

static void explain_counts_no_reference_per_claim(void **state)
{
	struct claim_set *in = policy30_sgx_claims(3, false, REF_HEX64_A);
	struct policy_plan *p = compile_ok(POLICY30);
	struct policy_result *r;
	const json_t *report, *vendor;

	assert_non_null(in);
	report = claim_set_get(in, "x-ms-sgx-report-data"); /* read by no rule */
	assert_int_equal(report->refcount, 1);
	r = eval_ok(p, in, POLICY_EVAL_EXPLAIN);
	vendor = claim_set_get(r->outgoing, "vendor"); /* issued: "contoso" */
	assert_ptr_equal(claim_set_get(r->final_incoming, "x-ms-sgx-report-data"), report);
	assert_ptr_equal(claim_set_find_issued(r->final_incoming, "vendor", CLAIM_ISSUER_POLICY)->value, vendor);
	assert_int_equal(report->refcount, 1);
	assert_int_equal(vendor->refcount, 1);
	assert_int_equal(claim_set_count(r->final_incoming), 41);
	policy_result_free(r);
	assert_int_equal(report->refcount, 1);
	policy_plan_free(p);
	claim_set_free(in);
}

/* Issued constants are the result's own counted copies, equal to the policy's, and outlive the plan. */
static void issued_constants_are_the_results_own_copies(void **state)
{
	struct claim_set *in = set_of("{\"x\": 1}");
	struct policy_plan *p = compile_ok("version=1.2; authorizationrules{=> permit();}; issuancerules{\n"
					   "=> issue(type=\"s\", value=\"caf\u00e9 \\\"q\\\"\");\n"
					   "=> issue(type=\"i\", value=-42);\n"
					   "=> issue(type=\"t\", value=true);\n"
					   "=> issue(type=\"f\", value=false);\n"
					   "=> issueproperty(type=\"p\", value=\"prop\");\n"
					   "};");
	struct policy_result *r = eval_ok(p, in, 0), *again = eval_ok(p, in, POLICY_EVAL_EXPLAIN);
	const json_t *s = claim_set_get(r->outgoing, "s");

	assert_string_equal(set_json(r->outgoing),
			    "{\"s\":\"caf\u00e9 \\\"q\\\"\",\"i\":-42,\"t\":true,\"f\":false}");
	assert_string_equal(json_string_value(s), "caf\u00e9 \"q\"");
	assert_int_equal(json_string_length(s), strlen("caf\u00e9 \"q\""));
	assert_int_equal(s->refcount, 1); /* counted: not the plan's uncounted constant */
	assert_int_equal(claim_set_get(r->outgoing, "i")->refcount, 1);
	assert_ptr_not_equal(claim_set_get(again->outgoing, "s"), s); /* each result its own */
	assert_string_equal(json_string_value(claim_set_get(r->properties, "p")), "prop");
	policy_plan_free(p); /* the results keep the plan; their values are theirs */
	policy_result_free(again);
	assert_string_equal(json_string_value(s), "caf\u00e9 \"q\"");
	assert_true(json_is_true(claim_set_get(r->outgoing, "t")));
	policy_result_free(r);
	claim_set_free(in);
}

/*
 * issue(value=c.value) and issue(claim=c) of an incoming claim lend its value
 * (no reference count; the outgoing set keeps the incoming set alive); a value
 * valueType converts, or a read-only one, goes the ordinary way.
 */
static void issued_incoming_values_are_lent_not_counted(void **state)
{
	struct claim_set *in = set_of("{\"s\": \"text\", \"n\": 7, \"o\": {\"k\": [1, 2]}}");
	struct claim_set *ro = tpm12_claims(PCRS_JSON("00"), EVENTS_JSON("AQ"));
	json_t *sv = (json_t *)claim_set_get(in, "s"), *ov = (json_t *)claim_set_get(in, "o");
	struct policy_result *r = run(AUTH_PERMIT "issuancerules{ c:[type==\"s\"] => issue(type=\"s2\", value=c.value);"
					      " c:[type==\"o\"] => issue(claim=c);"
					      " c:[type==\"n\"] => issue(type=\"n-str\", value=c.value, valueType=\"String\");"
					      " c:[type==\"n\"] => issueproperty(type=\"n\", value=c.value, valueType=\"Integer\"); };",
				      in, POLICY_EVAL_EXPLAIN);

	assert_ptr_equal(claim_set_get(r->outgoing, "s2"), sv);
	assert_ptr_equal(claim_set_get(r->outgoing, "o"), ov);
	assert_ptr_equal(claim_set_get(r->properties, "n"), claim_set_get(in, "n"));
	assert_int_equal(sv->refcount, 1);
	assert_int_equal(ov->refcount, 1);
	assert_string_equal(claim_set_find(r->outgoing, "s2")->issuer, CLAIM_ISSUER_POLICY);
	assert_string_equal(claim_set_find(r->outgoing, "o")->issuer, CLAIM_ISSUER_POLICY);
	claim_set_free(in); /* the result's sets keep the values alive */
	assert_string_equal(set_json(r->outgoing), "{\"s2\":\"text\",\"o\":{\"k\":[1,2]},\"n-str\":\"7\"}");
	assert_string_equal(set_json(r->final_incoming),
			    "{\"s\":\"text\",\"n\":[7,7],\"o\":[{\"k\":[1,2]},{\"k\":[1,2]}],\"s2\":\"text\","
			    "\"n-str\":\"7\"}");
	policy_result_free(r);
	/* Read-only values stay refused on the lending path too. */
	eval_fails(AUTH_PERMIT "issuancerules{ c:[type==\"pcrs\"] => issue(type=\"x\", value=c.value); };", ro,
		   "policy.eval.readonly");
	claim_set_free(ro);
}

/* A claim named by several rules that did not fire reads the same in each, before and past 64 claims. */
static void explain_names_a_claim_the_same_in_every_rule(void **state)
{
	for (int pad = 0; pad <= 70; pad += 70) {
		struct claim_set *in = claim_set_new();
		struct policy_result *r;

		for (int i = 0; i < pad; i++)
			assert_int_equal(claim_set_add_int(in, "pad", i), 0);
		assert_int_equal(claim_set_add_str(in, "status", "Up\"ToDate\""), 0);
		r = run(AUTH_PERMIT "issuancerules{ [type==\"status\", value==\"a\"] => issue(type=\"x\", value=1);"
				    " [type==\"status\", value==\"b\"] => issue(type=\"x\", value=2);"
				    " ![type==\"status\"] => issue(type=\"x\", value=3); };",
			in, POLICY_EVAL_EXPLAIN);
		assert_string_equal(r->explain->rules[1].why, "status expected == \"a\", found \"Up\\\"ToDate\\\"\"");
		assert_string_equal(r->explain->rules[2].why, "status expected == \"b\", found \"Up\\\"ToDate\\\"\"");
		assert_string_equal(r->explain->rules[3].why, "status expected absent, found \"Up\\\"ToDate\\\"\"");
		policy_result_free(r);
		claim_set_free(in);
	}
}

static void reason_is_truncated_safely(void **state)
{
	struct claim_set *in = sgx_claims(2, false, REF_HEX64_A);
	struct policy_result *r = run(REF_SGX_PIN, in, 0);
	char small[16];
	size_t want = policy_result_reason(r, small, sizeof(small));

	assert_true(want > sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	policy_result_free(r);
	claim_set_free(in);
}

static void long_values_are_abbreviated_in_reasons(void **state)
{
	struct claim_set *in = set_of("{\"blob\":\"0123456789012345678901234567890123456789012345678901234567890123456789"
				      "0123456789\"}");
	struct policy_result *r = run("version=1.0; authorizationrules{ [type==\"blob\", value==\"x\"] => permit(); }; issuancerules{};",
				      in, 0);

	assert_non_null(strstr(r->denial->found, "..."));
	assert_true(strlen(r->denial->found) <= 72);
	policy_result_free(r);
	claim_set_free(in);
}

/* ---- The real service's default policy against its own token -------------- */

static void default_sgx_policy_reproduces_real_token_policy_claims(void **state)
{
	REQUIRE_VECTORS(dir);
	size_t len = 0;
	unsigned char *text = test_read_vector(
		dir, "maa-tokens/js-2022-01-28-sharedwus/exchanges/03-attest-SgxEnclave-binary-runtime/token.claims.json", &len);
	json_t *doc, *claims, *expected, *v;
	struct claim_set *in = claim_set_new();
	struct policy_result *r;
	const char *k;
	json_t *got;

	assert_non_null(text);
	doc = json_loadb((const char *)text, len, 0, NULL);
	claims = json_object_get(doc, "claims");
	expected = json_object_get(claims, "x-ms-policy");
	assert_non_null(expected);
	/* The incoming claims are the token's x-ms-* claims (what the service derived from the quote). */
	json_object_foreach(claims, k, v)
		if (strncmp(k, "x-ms-sgx-", 9) == 0 || strcmp(k, "x-ms-attestation-type") == 0)
			claim_set_add(in, k, json_incref(v));
	r = run(policy_default_text("SgxEnclave"), in, 0);
	assert_int_equal(r->verdict, POLICY_PERMIT);
	got = claim_set_to_json(r->outgoing);
	assert_true(json_equal(got, expected));
	assert_string_equal(policy_prop_str(r->properties, POLICY_PROP_SGX_TCBIDENTIFIER, ""), "azuredefault");
	json_decref(got);
	policy_result_free(r);
	claim_set_free(in);
	json_decref(doc);
	free(text);
}

/* policy_plan_reads: a named type, a dotted member of it, or a condition that names no type. */
static void plan_reads_the_types_its_conditions_can_match(void **state)
{
	static const struct {
		const char *text;
		bool events, boot;
	} cases[] = {
	    {"version=1.0; authorizationrules{=> permit();}; issuancerules{};", false, false},
	    {"version=1.2; authorizationrules{c:[type==\"events\"] => permit();}; issuancerules{};", true, false},
	    {"version=1.2; authorizationrules{c:[type==\"secureBootEnabled\", value==true] => permit();};"
	     " issuancerules{c:[type==\"bootEvents\"] => add(type=\"x\", value=true);};",
	     false, true},
	    {"version=1.2; authorizationrules{c:[type==\"events.Events\"] => permit();}; issuancerules{};", true, false},
	    {"version=1.2; authorizationrules{c:[issuer==\"AttestationService\"] => permit();}; issuancerules{};", true, true},
	    {"version=1.2; authorizationrules{![type==\"events\"] => permit();}; issuancerules{};", true, false},
	    {"version=1.2; authorizationrules{c:[type==\"eventsX\"] => permit();}; issuancerules{};", false, false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy_plan *p = compile_ok(cases[i].text);

		assert_int_equal(policy_plan_reads(p, "events"), cases[i].events);
		assert_int_equal(policy_plan_reads(p, "bootEvents"), cases[i].boot);
		policy_plan_free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sgx_pin_example_permits_and_issues_enclave_id),
		cmocka_unit_test(sgx_pin_example_refuses_low_svn_and_says_why),
		cmocka_unit_test(sgx_pin_example_refuses_debug_enclave_and_wrong_signer),
		cmocka_unit_test(sgx_rotation_example_permits_either_signer_and_pins_tcb),
		cmocka_unit_test(tpm_11_example_sets_properties_and_platform_attested),
		cmocka_unit_test(configuration_rules_run_alone_before_verification),
		cmocka_unit_test(version_1_0_unconditional_properties_are_known_before_verification),
		cmocka_unit_test(tpm_12_example_derives_secure_boot_from_the_event_log),
		cmocka_unit_test(tpm_12_example_refuses_a_wrong_pcr7),
		cmocka_unit_test(vbs_example_checks_enclave_identity),
		cmocka_unit_test(snp_example_permits_compliant_container_and_issues_measurement),
		cmocka_unit_test(azureguest_example_denies_on_any_listed_failure),
		cmocka_unit_test(tdx_example_checks_debug_tcb_and_mrtd),
		cmocka_unit_test(docs_author_sample_copies_claims_with_issue_claim),
		cmocka_unit_test(later_rules_see_claims_added_by_earlier_rules),
		cmocka_unit_test(authorization_additions_are_visible_to_issuance),
		cmocka_unit_test(a_rule_does_not_see_its_own_additions),
		cmocka_unit_test(action_runs_once_per_matching_claim),
		cmocka_unit_test(conditions_can_join_on_another_binding),
		cmocka_unit_test(absence_condition_is_true_only_without_a_match),
		cmocka_unit_test(deny_wins_over_permit_in_any_order),
		cmocka_unit_test(nothing_fired_is_no_permit),
		cmocka_unit_test(add_is_internal_and_issue_reaches_the_token),
		cmocka_unit_test(issueproperty_goes_to_properties_and_incoming),
		cmocka_unit_test(issuer_tests_select_the_issuer),
		cmocka_unit_test(value_type_is_tested_and_converted),
		cmocka_unit_test(ordering_on_a_string_claim_does_not_match),
		cmocka_unit_test(values_of_different_types_are_never_equal),
		cmocka_unit_test(set_valued_claim_matches_each_element),
		cmocka_unit_test(legacy_dollar_names_address_sgx_claims),
		cmocka_unit_test(dotted_names_reach_into_the_isolation_tee),
		cmocka_unit_test(read_only_claims_cannot_be_issued),
		cmocka_unit_test(jmespath_function_queries_json_text_and_objects),
		cmocka_unit_test(jmespath_function_errors_fail_the_evaluation),
		cmocka_unit_test(json_to_claim_value_maps_json_types),
		cmocka_unit_test(set_functions_compare_sets),
		cmocka_unit_test(string_and_bool_functions),
		cmocka_unit_test(computed_claim_types_are_allowed),
		cmocka_unit_test(match_explosion_is_bounded),
		cmocka_unit_test(join_search_is_bounded),
		cmocka_unit_test(evaluation_is_pure_and_repeatable),
		cmocka_unit_test(result_outlives_its_plan),
		cmocka_unit_test(plan_reads_the_types_its_conditions_can_match),
		cmocka_unit_test(explain_records_every_rule),
		cmocka_unit_test(explain_lists_bindings_of_the_first_firing),
		cmocka_unit_test(explain_result_outlives_its_incoming_set),
		cmocka_unit_test(explain_counts_no_reference_per_claim),
		cmocka_unit_test(issued_constants_are_the_results_own_copies),
		cmocka_unit_test(issued_incoming_values_are_lent_not_counted),
		cmocka_unit_test(explain_names_a_claim_the_same_in_every_rule),
		cmocka_unit_test(reason_is_truncated_safely),
		cmocka_unit_test(long_values_are_abbreviated_in_reasons),
		cmocka_unit_test(default_sgx_policy_reproduces_real_token_policy_claims),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
