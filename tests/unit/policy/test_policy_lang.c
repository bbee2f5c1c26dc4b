/*
 * The policy language's grammar (maa-interface.md §3.1-3.2): each rule of
 * the grammar accepted and refused, the leniencies, the version gates, the
 * limits, and the line and column each error names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "policy_testutil.h"
#include "reference_policies.h"

#define MIN_POLICY "version=1.0; authorizationrules{=> permit();}; issuancerules{};"

static void reference_examples_compile(void **state)
{
	for (size_t i = 0; i < sizeof(REF_POLICIES) / sizeof(REF_POLICIES[0]); i++) {
		struct policy_plan *p = compile_ok(REF_POLICIES[i].text);

		policy_plan_free(p);
	}
}

static void default_policies_compile_for_every_type(void **state)
{
	static const char *const T[] = {"SgxEnclave", "OpenEnclave", "SevSnpVm", "TdxVm", "Tpm", "AzureGuest",
					"VbsEnclave", "sgxenclave"};

	for (size_t i = 0; i < sizeof(T) / sizeof(T[0]); i++) {
		const char *text = policy_default_text(T[i]);
		struct policy_plan *p;

		assert_non_null(text);
		p = compile_ok(text);
		policy_plan_free(p);
	}
	assert_null(policy_default_text("Nitro"));
	assert_null(policy_default_text(NULL));
}

static void version_statement_sets_version_and_counts(void **state)
{
	struct policy_plan *p = compile_ok(REF_SGX_ROTATION);

	assert_string_equal(policy_plan_version(p), "1.1");
	assert_int_equal(policy_plan_rule_count(p, POLICY_SECTION_CONFIGURATION), 1);
	assert_int_equal(policy_plan_rule_count(p, POLICY_SECTION_AUTHORIZATION), 2);
	assert_int_equal(policy_plan_rule_count(p, POLICY_SECTION_ISSUANCE), 0);
	policy_plan_free(p);
	p = compile_ok("version = 1.2 ;authorizationrules{}; issuancerules{};");
	assert_string_equal(policy_plan_version(p), "1.2");
	policy_plan_free(p);
}

static void version_missing_or_unsupported_fails(void **state)
{
	compile_fails("authorizationrules{=> permit();}; issuancerules{};", "policy.parse", 1, 1);
	compile_fails("version=2.0; authorizationrules{}; issuancerules{};", "policy.version", 1, 9);
	compile_fails("version=1.3; authorizationrules{}; issuancerules{};", "policy.version", 1, 9);
	compile_fails("version=1; authorizationrules{}; issuancerules{};", "policy.parse", 1, 9);
	compile_fails("version=1.0 authorizationrules{}; issuancerules{};", "policy.parse", 1, 13);
	compile_fails("", "policy.parse", 1, 1);
}

static void byte_order_mark_and_crlf_are_accepted(void **state)
{
	policy_plan_free(compile_ok("\xef\xbb\xbfversion=1.0;\r\nauthorizationrules{\r\n=> permit();\r\n};\r\nissuancerules{};\r\n"));
	/* Columns still count from the first character after the mark. */
	compile_fails("\xef\xbb\xbfversion=1.0;\r\nauthorizationrules{\r\n#", "policy.lex", 3, 1);
}

static void keywords_are_case_insensitive(void **state)
{
	struct policy_plan *p = compile_ok("VERSION=1.1; ConfigurationRules{=> IssueProperty(Type=\"a\", VALUE=1);};"
					   "AuthorizationRules{ C:[TYPE==\"x\", Value==TRUE] => PERMIT(); };"
					   "Issuancerules{ c:[type==\"x\"] => ISSUE(type=\"y\", value=c.VALUE); };");
	policy_plan_free(p);
}

static void line_comments_are_ignored(void **state)
{
	struct policy_plan *p = compile_ok("// leading comment\nversion=1.0; // trailing\n"
					   "authorizationrules { // open\n  => permit(); // the rule\n};\n"
					   "issuancerules{}; // end without newline");
	policy_plan_free(p);
}

static void single_equals_in_condition_means_equality(void **state)
{
	struct claim_set *in = claim_set_new();
	struct policy_result *r;

	claim_set_add_bool(in, "secureBootEnabled", true);
	r = run("version=1.0; authorizationrules{[type=\"secureBootEnabled\", value=true] => permit();}; issuancerules{};",
		in, 0);
	assert_int_equal(r->verdict, POLICY_PERMIT);
	policy_result_free(r);
	claim_set_free(in);
}

static void positional_type_in_issue_is_accepted(void **state)
{
	struct claim_set *in = claim_set_new();
	struct policy_result *r = run("version=1.0; authorizationrules{=> permit();};"
				      "issuancerules{ => issue(\"PlatformAttested\", value=true); };",
				      in, 0);

	assert_string_equal(set_json(r->outgoing), "{\"PlatformAttested\":true}");
	policy_result_free(r);
	claim_set_free(in);
}

static void rule_and_section_semicolons_are_optional(void **state)
{
	struct policy_plan *p = compile_ok(REF_DOCS_AUTHOR);

	assert_int_equal(policy_plan_rule_count(p, POLICY_SECTION_ISSUANCE), 2);
	policy_plan_free(p);
	p = compile_ok("version=1.0; authorizationrules{=> permit()} issuancerules{}");
	policy_plan_free(p);
}

static void empty_sections_and_missing_configuration_are_valid(void **state)
{
	struct policy_plan *p = compile_ok("version=1.1; authorizationrules{}; issuancerules{};");

	assert_int_equal(policy_plan_rule_count(p, POLICY_SECTION_AUTHORIZATION), 0);
	policy_plan_free(p);
}

static void sections_may_come_in_any_order(void **state)
{
	struct policy_plan *p = compile_ok("version=1.1; issuancerules{}; authorizationrules{=>permit();};"
					   "configurationrules{};");
	policy_plan_free(p);
}

static void section_errors_name_the_section(void **state)
{
	compile_fails("version=1.0; authorizationrules{}; authorizationrules{}; issuancerules{};", "policy.section", 1,
		      36);
	compile_fails("version=1.0; issuancerules{};", "policy.section", 1, 30);
	compile_fails("version=1.0; authorizationrules{};", "policy.section", 1, 35);
	compile_fails("version=1.0; authorizationrules{}; issuancerules{}; otherrules{};", "policy.parse", 1, 53);
	compile_fails("version=1.0; authorizationrules{ => permit();", "policy.parse", 1, 46);
	compile_fails("version=1.0; authorizationrules => permit();", "policy.parse", 1, 33);
}

static void configurationrules_need_version_1_1(void **state)
{
	compile_fails("version=1.0;\nconfigurationrules{};\nauthorizationrules{}; issuancerules{};",
		      "policy.version_feature", 2, 1);
}

static void absence_operator_needs_version_1_2(void **state)
{
	compile_fails("version=1.1; authorizationrules{\n  ![type==\"a\"] => permit();}; issuancerules{};",
		      "policy.version_feature", 2, 3);
	policy_plan_free(compile_ok("version=1.2; authorizationrules{ ![type==\"a\"] => permit();}; issuancerules{};"));
}

static void function_calls_need_version_1_2(void **state)
{
	compile_fails("version=1.1; authorizationrules{ => permit();};\nissuancerules{ => issue(type=\"a\", "
		      "value=NegateBool(true)); };",
		      "policy.version_feature", 2, 41);
}

static void condition_grammar_is_enforced(void **state)
{
	/* missing ']' */
	compile_fails("version=1.0;\nauthorizationrules{\n  [type==\"a\" => permit();}; issuancerules{};", "policy.parse", 3,
		      14);
	/* unknown property */
	compile_fails("version=1.0; authorizationrules{ [kind==\"a\"] => permit();}; issuancerules{};", "policy.parse",
		      1, 35);
	/* missing operator */
	compile_fails("version=1.0; authorizationrules{ [type \"a\"] => permit();}; issuancerules{};", "policy.parse",
		      1, 40);
	/* identifier without ':' */
	compile_fails("version=1.0; authorizationrules{ c [type==\"a\"] => permit();}; issuancerules{};", "policy.parse",
		      1, 36);
	/* '&&' without a second condition */
	compile_fails("version=1.0; authorizationrules{ [type==\"a\"] && => permit();}; issuancerules{};",
		      "policy.parse", 1, 49);
	/* no '=>' */
	compile_fails("version=1.0; authorizationrules{ [type==\"a\"] permit();}; issuancerules{};", "policy.parse", 1,
		      46);
	/* empty condition */
	compile_fails("version=1.0; authorizationrules{ [] => permit();}; issuancerules{};", "policy.parse", 1, 35);
}

static void expression_grammar_is_enforced(void **state)
{
	/* identifier.property with an unknown property */
	compile_fails("version=1.0; authorizationrules{ c:[type==\"a\"] && [type==\"b\", value==c.colour] => permit();};"
		      " issuancerules{};",
		      "policy.parse", 1, 72);
	/* no value after the operator */
	compile_fails("version=1.0; authorizationrules{ [type==\"a\", value==] => permit();}; issuancerules{};",
		      "policy.parse", 1, 53);
	/* a bare identifier is not a value */
	compile_fails("version=1.0; authorizationrules{ [type==\"a\", value==yes] => permit();}; issuancerules{};",
		      "policy.parse", 1, 53);
	/* an unclosed call */
	compile_fails("version=1.2; authorizationrules{ [type==\"a\", value==NegateBool(true] => permit();}; "
		      "issuancerules{};",
		      "policy.parse", 1, 68);
	/* a call with an empty argument */
	compile_fails("version=1.2; authorizationrules{ [type==\"a\", value==AppendString(\"x\",)] => permit();}; "
		      "issuancerules{};",
		      "policy.parse", 1, 70);
}

static void condition_with_every_operator_compiles(void **state)
{
	policy_plan_free(compile_ok("version=1.0; authorizationrules{ [type==\"a\", value==1] && [type!=\"b\", value!=2] && "
				    "[type==\"c\", value<3] && [type==\"c\", value<=3] && [type==\"c\", value>3] && "
				    "[type==\"c\", value>=-3] && [type==\"d\", valueType==\"Integer\", issuer==\"CustomClaim\"]"
				    " => permit(); }; issuancerules{};"));
}

static void action_grammar_is_enforced(void **state)
{
	compile_fails("version=1.0; authorizationrules{ => allow();}; issuancerules{};", "policy.parse", 1, 37);
	compile_fails("version=1.0; authorizationrules{ => permit(1);}; issuancerules{};", "policy.parse", 1, 44);
	compile_fails("version=1.0; authorizationrules{ => permit();}; issuancerules{ => issue(type=\"a\"); };",
		      "policy.parse", 1, 67);
	compile_fails("version=1.0; authorizationrules{ => permit();}; issuancerules{ => issue(type=\"a\", value=1, "
		      "value=2); };",
		      "policy.parse", 1, 92);
	compile_fails("version=1.0; authorizationrules{ => permit();}; issuancerules{ => issue(type=\"a\", value=1, "
		      "valueType=\"Float\"); };",
		      "policy.parse", 1, 102);
	compile_fails("version=1.0; authorizationrules{ => permit();}; issuancerules{ => issue(type=\"a\", "
		      "value=1, colour=2); };",
		      "policy.parse", 1, 92);
	policy_plan_free(compile_ok("version=1.0; authorizationrules{ => permit();}; issuancerules{ => issue(value=1, "
				    "type=\"a\", valueType=\"String\"); };"));
}

static void actions_are_checked_against_their_section(void **state)
{
	compile_fails("version=1.0; authorizationrules{ => issue(type=\"a\", value=1);}; issuancerules{};",
		      "policy.action", 1, 37);
	compile_fails("version=1.0; authorizationrules{}; issuancerules{ => permit(); };", "policy.action", 1, 54);
	compile_fails("version=1.0; authorizationrules{}; issuancerules{ => deny(); };", "policy.action", 1, 54);
	compile_fails("version=1.1; configurationrules{ => add(type=\"a\", value=1); }; authorizationrules{}; "
		      "issuancerules{};",
		      "policy.action", 1, 37);
	compile_fails("version=1.1; configurationrules{ => permit(); }; authorizationrules{}; issuancerules{};",
		      "policy.action", 1, 37);
}

static void identifiers_must_be_bound_earlier_in_the_rule(void **state)
{
	compile_fails("version=1.0; authorizationrules{ => permit();};\nissuancerules{ => issue(type=\"a\", "
		      "value=c.value); };",
		      "policy.ident", 2, 41);
	compile_fails("version=1.0; authorizationrules{ => permit();};\nissuancerules{ [type==\"b\", value==c.value] "
		      "&& c:[type==\"a\"] => issue(type=\"a\", value=1); };",
		      "policy.ident", 2, 35);
	compile_fails("version=1.0; authorizationrules{ => permit();};\nissuancerules{ c:[type==\"a\"] && "
		      "c:[type==\"b\"] => issue(claim=c); };",
		      "policy.ident", 2, 33);
	compile_fails("version=1.2; authorizationrules{ => permit();};\nissuancerules{ !c:[type==\"a\"] => "
		      "issue(claim=c); };",
		      "policy.ident", 2, 46);
	compile_fails("version=1.0; authorizationrules{ => permit();};\nissuancerules{ => issue(claim=d); };",
		      "policy.ident", 2, 31);
}

static void string_literals_and_escapes(void **state)
{
	struct claim_set *in = claim_set_new();
	struct policy_result *r = run("version=1.0; authorizationrules{=>permit();}; issuancerules{"
				      "=> issue(type=\"q\", value=\"a \\\"quoted\\\" \\\\ word\"); };",
				      in, 0);

	assert_string_equal(json_string_value(claim_set_get(r->outgoing, "q")), "a \"quoted\" \\ word");
	policy_result_free(r);
	claim_set_free(in);
	compile_fails("version=1.0; authorizationrules{=>permit();};\nissuancerules{ => issue(type=\"q, value=1); };",
		      "policy.lex", 2, 30);
	compile_fails("version=1.0; authorizationrules{=>permit();}; issuancerules{ => issue(type=\"\xff\", value=1); };",
		      "policy.lex", 1, 76);
}

static void lexer_refuses_unknown_characters(void **state)
{
	compile_fails("version=1.0;\nauthorizationrules{ #=> permit();}; issuancerules{};", "policy.lex", 2, 21);
	compile_fails("version=1.0; authorizationrules{ [type==\"a\"] || [type==\"b\"] => permit();}; issuancerules{};",
		      "policy.lex", 1, 46);
	compile_fails("version=1.0; authorizationrules{ [type==\"a\", value==99999999999999999999] => permit();}; "
		      "issuancerules{};",
		      "policy.lex", 1, 53);
}

static void functions_are_checked_at_compile_time(void **state)
{
	compile_fails("version=1.2; authorizationrules{=>permit();}; issuancerules{ => issue(type=\"a\", "
		      "value=Upper(\"x\")); };",
		      "policy.function", 1, 87);
	compile_fails("version=1.2; authorizationrules{=>permit();}; issuancerules{ => issue(type=\"a\", "
		      "value=NegateBool(true, false)); };",
		      "policy.function", 1, 87);
	compile_fails("version=1.2; authorizationrules{=>permit();}; issuancerules{ => issue(type=\"a\", "
		      "value=JmesPath(\"{}\", \"a[\")); };",
		      "policy.jmespath", 1, 102);
	policy_plan_free(compile_ok("version=1.2; authorizationrules{=>permit();}; issuancerules{ => issue(type=\"a\", "
				    "value=jmespath(\"{}\", \"a\")); };"));
}

static void ordering_comparison_on_non_integer_is_a_type_error(void **state)
{
	compile_fails("version=1.0;\nauthorizationrules{ [type==\"a\", value>=\"3\"] => permit();}; issuancerules{};",
		      "policy.type", 2, 40);
	compile_fails("version=1.0;\nauthorizationrules{ [type==\"a\", value<true] => permit();}; issuancerules{};",
		      "policy.type", 2, 39);
	compile_fails("version=1.0;\nauthorizationrules{ [type>\"a\"] => permit();}; issuancerules{};", "policy.type",
		      2, 22);
	compile_fails("version=1.0;\nauthorizationrules{ [type==7] => permit();}; issuancerules{};", "policy.type", 2,
		      28);
	compile_fails("version=1.0;\nauthorizationrules{ [valueType==\"Float\"] => permit();}; issuancerules{};",
		      "policy.type", 2, 33);
	compile_fails("version=1.0; authorizationrules{=>permit();};\nissuancerules{ => issue(type=5, value=1); };",
		      "policy.type", 2, 30);
}

static void errors_name_line_and_column_across_lines(void **state)
{
	compile_fails("version=1.0;\n"
		      "authorizationrules\n"
		      "{\n"
		      "    [type==\"x-ms-sgx-is-debuggable\", value==false] &&\n"
		      "    [type==\"x-ms-sgx-svn\" value>=3] => permit();\n"
		      "};\n"
		      "issuancerules{};",
		      "policy.parse", 5, 27);
}

static void parse_error_message_says_expected_and_found(void **state)
{
	struct attest_err err;
	struct policy_plan *p = NULL;
	const char *t = "version=1.0; authorizationrules{ [type==\"a\" value==1] => permit(); }; issuancerules{};";

	attest_err_clear(&err);
	assert_int_equal(policy_compile(t, strlen(t), NULL, &p, &err), ATTEST_E_POLICY);
	assert_string_equal(err.msg, "expected ',' or ']' in a condition, found 'value'");
	assert_string_equal(err.where, "line 1 column 45");
}

static void limit_on_policy_size(void **state)
{
	struct policy_limits lim;
	struct attest_err err;
	struct policy_plan *p = NULL;

	policy_limits_default(&lim);
	lim.max_bytes = 32;
	attest_err_clear(&err);
	assert_int_equal(policy_compile(MIN_POLICY, strlen(MIN_POLICY), &lim, &p, &err), ATTEST_E_POLICY);
	assert_string_equal(err.name, "policy.too_large");
}

static void limit_on_rule_count(void **state)
{
	struct policy_limits lim;
	struct attest_err err;
	struct policy_plan *p = NULL;
	const char *t = "version=1.0; authorizationrules{=>permit(); =>permit();}; issuancerules{=> "
			"issue(type=\"a\", value=1);};";

	policy_limits_default(&lim);
	lim.max_rules = 2;
	attest_err_clear(&err);
	assert_int_equal(policy_compile(t, strlen(t), &lim, &p, &err), ATTEST_E_POLICY);
	assert_string_equal(err.name, "policy.too_many_rules");
	assert_string_equal(err.where, "line 1 column 73");
	lim.max_rules = 3;
	assert_int_equal(policy_compile(t, strlen(t), &lim, &p, &err), 0);
	policy_plan_free(p);
}

static void limit_on_nesting_depth(void **state)
{
	char text[2048];
	size_t n = 0;

	n += (size_t)snprintf(text + n, sizeof(text) - n,
			      "version=1.2; authorizationrules{=>permit();}; issuancerules{ => issue(type=\"a\", value=");
	for (int i = 0; i < 17; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "NegateBool(");
	n += (size_t)snprintf(text + n, sizeof(text) - n, "true");
	for (int i = 0; i < 17; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, ")");
	snprintf(text + n, sizeof(text) - n, "); };");
	compile_fails(text, "policy.too_deep", 1, 263);
}

static void limit_on_conditions_per_rule(void **state)
{
	char text[8192];
	size_t n = (size_t)snprintf(text, sizeof(text), "version=1.0; authorizationrules{ [type==\"a\"]");

	for (unsigned i = 0; i < POLICY_DEFAULT_MAX_CONDITIONS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, " && [type==\"a\"]");
	snprintf(text + n, sizeof(text) - n, " => permit(); }; issuancerules{};");
	compile_fails(text, "policy.too_many_conditions", 0, 0);
}

static void limit_on_string_length(void **state)
{
	struct policy_limits lim;
	struct attest_err err;
	struct policy_plan *p = NULL;
	const char *t = "version=1.0; authorizationrules{ [type==\"0123456789abcdef0\"] => permit();}; issuancerules{};";

	policy_limits_default(&lim);
	lim.max_string = 16;
	attest_err_clear(&err);
	assert_int_equal(policy_compile(t, strlen(t), &lim, &p, &err), ATTEST_E_POLICY);
	assert_string_equal(err.name, "policy.string_too_long");
	assert_string_equal(err.where, "line 1 column 41");
}

static void nul_byte_in_policy_is_refused(void **state)
{
	static const char t[] = "version=1.0; authorizationrules{ => permit();}; \0issuancerules{};";
	struct attest_err err;
	struct policy_plan *p = NULL;

	attest_err_clear(&err);
	assert_int_equal(policy_compile(t, sizeof(t) - 1, NULL, &p, &err), ATTEST_E_POLICY);
	assert_string_equal(err.name, "policy.lex");
}

static void plan_hash_is_the_policy_hash(void **state)
{
	struct policy_plan *p = compile_ok(MIN_POLICY);
	char h[POLICY_HASH_B64_LEN + 1];

	policy_hash_text(MIN_POLICY, strlen(MIN_POLICY), h);
	assert_string_equal(policy_plan_hash(p), h);
	/* The same text as the recorded GET /policies after a set (vectors/maa-tokens cpp-2022-11-17, 03). */
	assert_string_equal(h, "z0FRjKS0ssQTNur1V6BV8WIrh9M3fzgTo0EfHRvapWU");
	assert_ptr_equal(policy_plan_ref(p), p);
	policy_plan_free(p);
	policy_plan_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reference_examples_compile),
		cmocka_unit_test(default_policies_compile_for_every_type),
		cmocka_unit_test(version_statement_sets_version_and_counts),
		cmocka_unit_test(version_missing_or_unsupported_fails),
		cmocka_unit_test(byte_order_mark_and_crlf_are_accepted),
		cmocka_unit_test(keywords_are_case_insensitive),
		cmocka_unit_test(line_comments_are_ignored),
		cmocka_unit_test(single_equals_in_condition_means_equality),
		cmocka_unit_test(positional_type_in_issue_is_accepted),
		cmocka_unit_test(rule_and_section_semicolons_are_optional),
		cmocka_unit_test(empty_sections_and_missing_configuration_are_valid),
		cmocka_unit_test(sections_may_come_in_any_order),
		cmocka_unit_test(section_errors_name_the_section),
		cmocka_unit_test(configurationrules_need_version_1_1),
		cmocka_unit_test(absence_operator_needs_version_1_2),
		cmocka_unit_test(function_calls_need_version_1_2),
		cmocka_unit_test(condition_grammar_is_enforced),
		cmocka_unit_test(expression_grammar_is_enforced),
		cmocka_unit_test(condition_with_every_operator_compiles),
		cmocka_unit_test(action_grammar_is_enforced),
		cmocka_unit_test(actions_are_checked_against_their_section),
		cmocka_unit_test(identifiers_must_be_bound_earlier_in_the_rule),
		cmocka_unit_test(string_literals_and_escapes),
		cmocka_unit_test(lexer_refuses_unknown_characters),
		cmocka_unit_test(functions_are_checked_at_compile_time),
		cmocka_unit_test(ordering_comparison_on_non_integer_is_a_type_error),
		cmocka_unit_test(errors_name_line_and_column_across_lines),
		cmocka_unit_test(parse_error_message_says_expected_and_found),
		cmocka_unit_test(limit_on_policy_size),
		cmocka_unit_test(limit_on_rule_count),
		cmocka_unit_test(limit_on_nesting_depth),
		cmocka_unit_test(limit_on_conditions_per_rule),
		cmocka_unit_test(limit_on_string_length),
		cmocka_unit_test(nul_byte_in_policy_is_refused),
		cmocka_unit_test(plan_hash_is_the_policy_hash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
