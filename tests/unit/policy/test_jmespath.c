/*
 * JMESPath (jmespath.h) against the examples of the JMESPath specification
 * (https://jmespath.org/specification.html and its tutorial): each case is
 * (document, query, expected result). Plus the equals_ignore_case
 * extension, the error cases, and the limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "policy/jmespath.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jcase {
	const char *data;
	const char *query;
	const char *expected;
};

#define PEOPLE                                                                                                     \
	"{\"people\":[{\"first\":\"James\",\"last\":\"d\",\"age\":30},{\"first\":\"Jacob\",\"last\":\"e\",\"age\":50}," \
	"{\"first\":\"Jayden\",\"last\":\"f\",\"age\":20},{\"missing\":\"different\"}],\"foo\":{\"bar\":\"baz\"}}"
#define RESERVATIONS                                                                                               \
	"{\"reservations\":[{\"instances\":[{\"state\":\"running\"},{\"state\":\"stopped\"}]},"                   \
	"{\"instances\":[{\"state\":\"terminated\"},{\"state\":\"running\"}]}]}"
#define MACHINES                                                                                                   \
	"{\"machines\":[{\"name\":\"a\",\"state\":\"running\"},{\"name\":\"b\",\"state\":\"stopped\"},"            \
	"{\"name\":\"b\",\"state\":\"running\"}]}"
#define STATES                                                                                                     \
	"{\"people\":[{\"name\":\"a\",\"state\":{\"name\":\"up\"}},{\"name\":\"b\",\"state\":{\"name\":\"down\"}},"  \
	"{\"name\":\"c\",\"state\":{\"name\":\"up\"}}]}"
#define NUMS "[0,1,2,3,4,5,6,7,8,9]"

static void run_cases(const struct jcase *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct attest_err err;
		struct jmes_expr *e = NULL;
		json_t *data = json_loads(c[i].data, JSON_DECODE_ANY, NULL);
		json_t *want = json_loads(c[i].expected, JSON_DECODE_ANY, NULL);
		json_t *got = NULL;

		attest_err_clear(&err);
		assert_non_null(data);
		assert_non_null(want);
		if (jmes_compile(c[i].query, strlen(c[i].query), &e, &err) != 0 ||
		    jmes_search(e, data, &got, &err) != 0)
			fail_msg("query %s: %s: %s (%s)", c[i].query, err.name, err.msg, err.where);
		if (!json_equal(got, want)) {
			char *g = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);

			fail_msg("query %s on %s: got %s, expected %s", c[i].query, c[i].data, g, c[i].expected);
		}
		json_decref(got);
		json_decref(want);
		json_decref(data);
		jmes_free(e);
	}
}

static void basic_expressions(void **state)
{
	static const struct jcase C[] = {
		{"{\"a\":\"foo\",\"b\":\"bar\",\"c\":\"baz\"}", "a", "\"foo\""},
		{"{\"a\":{\"b\":{\"c\":{\"d\":\"value\"}}}}", "a.b.c.d", "\"value\""},
		{"{\"a\":{\"b\":{\"c\":{\"d\":\"value\"}}}}", "a.b.x", "null"},
		{"[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"]", "[1]", "\"b\""},
		{"[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"]", "[-1]", "\"f\""},
		{"[\"a\",\"b\"]", "[5]", "null"},
		{"{\"a\":{\"b\":{\"c\":[{\"d\":[0,[1,2]]},{\"d\":[3,4]}]}}}", "a.b.c[0].d[1][0]", "1"},
		{"{\"foo bar\":1,\"with\\\"quote\":2}", "\"foo bar\"", "1"},
		{"{\"foo bar\":1,\"with\\\"quote\":2}", "\"with\\\"quote\"", "2"},
		{"{\"a\":null}", "a.b", "null"},
		{"{\"a\":\"x\"}", "a.b", "null"},
		{"{\"a\":{\"b\":1}}", "a[0]", "null"},
		{"{\"a\":1}", "@", "{\"a\":1}"},
		{"{\"a\":1}", "@.a", "1"},
	};
	run_cases(C, sizeof(C) / sizeof(C[0]));
}

static void slices(void **state)
{
	static const struct jcase C[] = {
		{NUMS, "[0:5]", "[0,1,2,3,4]"}, {NUMS, "[5:10]", "[5,6,7,8,9]"}, {NUMS, "[:5]", "[0,1,2,3,4]"},
		{NUMS, "[::2]", "[0,2,4,6,8]"}, {NUMS, "[::-1]", "[9,8,7,6,5,4,3,2,1,0]"}, {NUMS, "[-2:]", "[8,9]"},
		{NUMS, "[8:100]", "[8,9]"},     {NUMS, "[5:2]", "[]"},   {NUMS, "[7:2:-2]", "[7,5,3]"},
		{"{\"a\":1}", "[0:1]", "null"},
	};
	run_cases(C, sizeof(C) / sizeof(C[0]));
}

static void projections(void **state)
{
	static const struct jcase C[] = {
		{PEOPLE, "people[*].first", "[\"James\",\"Jacob\",\"Jayden\"]"},
		{PEOPLE, "people[:2].first", "[\"James\",\"Jacob\"]"},
		{PEOPLE, "people[*].first[0]", "[]"},
		{PEOPLE, "foo[*].bar", "null"},
		{"{\"ops\":{\"functionA\":{\"numArgs\":2},\"functionB\":{\"numArgs\":3},\"functionC\":{\"variadic\":true}}}",
		 "ops.*.numArgs", "[2,3]"},
		{"{\"a\":{\"x\":1,\"y\":2}}", "a.*", "[1,2]"},
		{"{\"x\":{\"n\":1},\"y\":{\"n\":2}}", "*.n", "[1,2]"},
		{RESERVATIONS, "reservations[*].instances[*].state", "[[\"running\",\"stopped\"],[\"terminated\",\"running\"]]"},
		{RESERVATIONS, "reservations[].instances[].state", "[\"running\",\"stopped\",\"terminated\",\"running\"]"},
		{"[[0,1],2,[3],4,[5,[6,7]]]", "[]", "[0,1,2,3,4,5,[6,7]]"},
		{"[[0,1],2,[3],4,[5,[6,7]]]", "[][]", "[0,1,2,3,4,5,6,7]"},
		{"{\"a\":[{\"b\":[1,2]},{\"b\":[3]}]}", "a[*].b[0]", "[1,3]"},
	};
	run_cases(C, sizeof(C) / sizeof(C[0]));
}

static void filters_and_comparisons(void **state)
{
	static const struct jcase C[] = {
		{MACHINES, "machines[?state=='running'].name", "[\"a\",\"b\"]"},
		{MACHINES, "machines[?state!='running'].name", "[\"b\"]"},
		{PEOPLE, "people[?age > `25`].first", "[\"James\",\"Jacob\"]"},
		{PEOPLE, "people[?age <= `30`].first", "[\"James\",\"Jayden\"]"},
		{PEOPLE, "people[?age > `25` && age < `40`].first", "[\"James\"]"},
		{PEOPLE, "people[?age < `25` || first == 'Jacob'].first", "[\"Jacob\",\"Jayden\"]"},
		{PEOPLE, "people[?!age].missing", "[\"different\"]"},
		{"{\"myarray\":[\"foo\",\"foobar\",\"barfoo\",\"bar\",\"baz\",\"barbaz\",\"barfoobaz\"]}",
		 "myarray[?contains(@, 'foo') == `true`]", "[\"foo\",\"foobar\",\"barfoo\",\"barfoobaz\"]"},
		{"{\"a\":\"x\",\"b\":\"x\"}", "a == b", "true"},
		{"{\"a\":1,\"b\":1.0}", "a == b", "true"},
		{"{\"a\":[1,{\"k\":2}],\"b\":[1,{\"k\":2}]}", "a == b", "true"},
		{"{\"a\":\"x\",\"b\":1}", "a < b", "null"},
		{"{\"a\":1,\"b\":2}", "a < b", "true"},
		{"{\"a\":[],\"b\":\"x\"}", "a || b", "\"x\""},
		{"{\"a\":\"\",\"b\":\"x\"}", "a && b", "\"\""},
		{"{\"a\":{\"c\":1},\"b\":\"x\"}", "a && b", "\"x\""},
		{"{\"a\":false}", "!a", "true"},
		{"{\"a\":{}}", "!a", "true"},
		{"[{\"Index\":7,\"D\":\"x\"},{\"Index\":8,\"D\":\"y\"}]", "[? Index == `7`].D | @[0] == 'x'", "true"},
	};
	run_cases(C, sizeof(C) / sizeof(C[0]));
}

static void pipes_multiselect_literals(void **state)
{
	static const struct jcase C[] = {
		{PEOPLE, "people[*].first | [0]", "\"James\""},
		{PEOPLE, "people[*].first[0]", "[]"},
		{STATES, "people[].[name, state.name]", "[[\"a\",\"up\"],[\"b\",\"down\"],[\"c\",\"up\"]]"},
		{STATES, "people[].{Name: name, State: state.name}",
		 "[{\"Name\":\"a\",\"State\":\"up\"},{\"Name\":\"b\",\"State\":\"down\"},{\"Name\":\"c\",\"State\":\"up\"}]"},
		{"{\"a\":1,\"b\":2}", "[a, b]", "[1,2]"},
		{"{\"a\":1,\"b\":2}", "{x: a, \"y z\": b}", "{\"x\":1,\"y z\":2}"},
		{"{\"a\":null}", "a.[b, c]", "null"},
		{"{}", "`{\"a\": [1, \"b\"]}`", "{\"a\":[1,\"b\"]}"},
		{"{}", "`\"with \\` tick\"`", "\"with ` tick\""},
		{"{}", "'raw \\' quote'", "\"raw ' quote\""},
		{"{}", "'no\\escape'", "\"no\\\\escape\""},
		{"{\"a\":{\"b\":1}}", "(a).b", "1"},
		{"{\"a\":[1,2]}", "a | length(@)", "2"},
	};
	run_cases(C, sizeof(C) / sizeof(C[0]));
}

static void builtin_functions(void **state)
{
	static const struct jcase C[] = {
		{"{\"n\":-3}", "abs(n)", "3"},
		{"{}", "abs(`-1.5`)", "1.5"},
		{"{}", "avg(`[1,2,3]`)", "2.0"},
		{"{}", "avg(`[]`)", "null"},
		{"{}", "ceil(`1.2`)", "2"},
		{"{}", "floor(`1.8`)", "1"},
		{"{}", "contains('foobar', 'bar')", "true"},
		{"{}", "contains(`[1,2]`, `3`)", "false"},
		{"{}", "ends_with('foobar', 'bar')", "true"},
		{"{}", "starts_with('foobar', 'bar')", "false"},
		{"{}", "join(', ', `[\"a\",\"b\"]`)", "\"a, b\""},
		{"{\"o\":{\"a\":1,\"b\":2}}", "keys(o)", "[\"a\",\"b\"]"},
		{"{\"o\":{\"a\":1,\"b\":2}}", "values(o)", "[1,2]"},
		{"{}", "length('h\xc3\xa9llo')", "5"},
		{"{\"o\":{\"a\":1}}", "length(o)", "1"},
		{"{\"a\":[{\"b\":1},{\"b\":2}]}", "map(&b, a)", "[1,2]"},
		{"{\"a\":[{\"b\":1},{\"c\":2}]}", "map(&b, a)", "[1,null]"},
		{"{}", "max(`[1,3,2]`)", "3"},
		{"{}", "min(`[\"b\",\"a\"]`)", "\"a\""},
		{"{}", "max(`[]`)", "null"},
		{PEOPLE, "max_by(people[:3], &age).first", "\"Jacob\""},
		{PEOPLE, "min_by(people[:3], &age).first", "\"Jayden\""},
		{PEOPLE, "sort_by(people[:3], &age)[*].first", "[\"Jayden\",\"James\",\"Jacob\"]"},
		{PEOPLE, "sort_by(people[:3], &first)[*].age", "[50,30,20]"},
		{"{}", "merge(`{\"a\":1,\"b\":1}`, `{\"b\":2}`)", "{\"a\":1,\"b\":2}"},
		{"{\"b\":\"x\"}", "not_null(a, b)", "\"x\""},
		{"{}", "reverse(`[1,2,3]`)", "[3,2,1]"},
		{"{}", "reverse('ab\xc3\xa9')", "\"\xc3\xa9" "ba\""},
		{"{}", "sort(`[3,1,2]`)", "[1,2,3]"},
		{"{}", "sort(`[\"b\",\"c\",\"a\"]`)", "[\"a\",\"b\",\"c\"]"},
		{"{}", "sum(`[1,2,3.5]`)", "6.5"},
		{"{}", "sum(`[]`)", "0"},
		{"{}", "to_array(`1`)", "[1]"},
		{"{}", "to_array(`[1]`)", "[1]"},
		{"{}", "to_number('12')", "12"},
		{"{}", "to_number('1.5')", "1.5"},
		{"{}", "to_number('x')", "null"},
		{"{}", "to_string(`[1,2]`)", "\"[1,2]\""},
		{"{}", "to_string('s')", "\"s\""},
		{"{}", "type(`null`)", "\"null\""},
		{"{}", "type(`1`)", "\"number\""},
		{"{}", "type(`{}`)", "\"object\""},
		{"{}", "type(`true`)", "\"boolean\""},
	};
	run_cases(C, sizeof(C) / sizeof(C[0]));
}

static void equals_ignore_case_extension(void **state)
{
	static const struct jcase C[] = {
		{"{\"n\":\"SecureBoot\"}", "equals_ignore_case(n, 'secureboot')", "true"},
		{"{\"n\":\"SecureBoot\"}", "equals_ignore_case(n, 'SecureBoo')", "false"},
		{"{\"Events\":[{\"E\":\"ev_efi_variable_driver_config\",\"v\":1},{\"E\":\"EV_OTHER\",\"v\":2}]}",
		 "Events[?equals_ignore_case(E, 'EV_EFI_VARIABLE_DRIVER_CONFIG')].v", "[1]"},
	};
	run_cases(C, sizeof(C) / sizeof(C[0]));
}

static void compile_fails(const char *q, const char *name)
{
	struct attest_err err;
	struct jmes_expr *e = NULL;

	attest_err_clear(&err);
	if (jmes_compile(q, strlen(q), &e, &err) == 0)
		fail_msg("query %s compiled", q);
	assert_null(e);
	assert_string_equal(err.name, name);
}

static void syntax_errors_are_refused_with_position(void **state)
{
	struct attest_err err;
	struct jmes_expr *e = NULL;

	compile_fails("a[", "jmespath.syntax");
	compile_fails("a.", "jmespath.syntax");
	compile_fails("[?]", "jmespath.syntax");
	compile_fails("a[1:2:0]", "jmespath.syntax");
	compile_fails("a b", "jmespath.syntax");
	compile_fails("'unterminated", "jmespath.syntax");
	compile_fails("`{bad json}`", "jmespath.syntax");
	compile_fails("\"q\"(a)", "jmespath.syntax");
	compile_fails("a[x]", "jmespath.syntax");
	compile_fails("{a}", "jmespath.syntax");
	compile_fails("f(a b)", "jmespath.syntax");
	compile_fails("#", "jmespath.syntax");
	compile_fails("", "jmespath.syntax");
	attest_err_clear(&err);
	assert_int_not_equal(jmes_compile("foo.bar[?", 9, &e, &err), 0);
	assert_string_equal(err.where, "query column 10");
}

/* Found by fuzz_jmespath: a number at the very end of a query that is not NUL-terminated. */
static void query_need_not_be_nul_terminated(void **state)
{
	char *q = malloc(3);
	struct attest_err err;
	struct jmes_expr *e = NULL;

	memcpy(q, "[[7", 3);
	attest_err_clear(&err);
	assert_int_not_equal(jmes_compile(q, 3, &e, &err), 0);
	memcpy(q, "[-7", 3);
	assert_int_not_equal(jmes_compile(q, 3, &e, &err), 0);
	memcpy(q, "[7]", 3);
	assert_int_equal(jmes_compile(q, 3, &e, &err), 0);
	jmes_free(e);
	free(q);
	/* Found by fuzz_policy_parse: an error after an index or a call freed what it had built. */
	compile_fails("@[0]/x", "jmespath.syntax");
	compile_fails("length(@)/x", "jmespath.syntax");
}

static void runtime_errors_name_the_function(void **state)
{
	static const struct {
		const char *q, *name;
	} C[] = {
		{"nosuch(@)", "jmespath.function"}, {"abs('x')", "jmespath.type"},    {"length(`1`)", "jmespath.type"},
		{"abs(`1`, `2`)", "jmespath.function"}, {"sort(`[1,\"a\"]`)", "jmespath.type"},
		{"map(a, `[1]`)", "jmespath.type"},     {"sort_by(`[{\"a\":1},{\"a\":\"x\"}]`, &a)", "jmespath.type"},
	};
	json_t *doc = json_object();

	for (size_t i = 0; i < sizeof(C) / sizeof(C[0]); i++) {
		struct attest_err err;
		struct jmes_expr *e = NULL;
		json_t *out = NULL;

		attest_err_clear(&err);
		assert_int_equal(jmes_compile(C[i].q, strlen(C[i].q), &e, &err), 0);
		assert_int_not_equal(jmes_search(e, doc, &out, &err), 0);
		assert_null(out);
		if (strcmp(err.name, C[i].name) != 0)
			fail_msg("query %s: %s, expected %s", C[i].q, err.name, C[i].name);
		jmes_free(e);
	}
	json_decref(doc);
}

static void nesting_is_bounded(void **state)
{
	char q[512];
	struct attest_err err;
	struct jmes_expr *e = NULL;

	memset(q, '(', 200);
	q[200] = 'a';
	memset(q + 201, ')', 200);
	q[401] = '\0';
	attest_err_clear(&err);
	assert_int_not_equal(jmes_compile(q, strlen(q), &e, &err), 0);
	assert_string_equal(err.name, "jmespath.too_deep");
}

static void query_size_is_bounded(void **state)
{
	char *q = malloc(JMES_MAX_QUERY + 2);
	struct attest_err err;
	struct jmes_expr *e = NULL;

	memset(q, 'a', JMES_MAX_QUERY + 1);
	q[JMES_MAX_QUERY + 1] = '\0';
	attest_err_clear(&err);
	assert_int_not_equal(jmes_compile(q, strlen(q), &e, &err), 0);
	assert_string_equal(err.name, "jmespath.too_large");
	free(q);
}

/* A short query can build an exponentially large value by sharing: it is measured before use. */
static void shared_results_are_measured_before_serialising(void **state)
{
	char q[1024];
	size_t n = 0;
	struct attest_err err;
	struct jmes_expr *e = NULL;
	json_t *doc = json_object(), *out = NULL, *s = NULL;

	n += (size_t)snprintf(q + n, sizeof(q) - n, "@");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(q + n, sizeof(q) - n, " | [@,@]");
	attest_err_clear(&err);
	assert_int_equal(jmes_compile(q, n, &e, &err), 0);
	assert_int_equal(jmes_search(e, doc, &out, &err), 0);
	assert_false(jmes_value_within(out, JMES_MAX_RESULT_ITEMS));
	jmes_free(e);
	/* to_string and == on it stay cheap. */
	n += (size_t)snprintf(q + n, sizeof(q) - n, " | [to_string(@), @ == @]");
	assert_int_equal(jmes_compile(q, n, &e, &err), 0);
	assert_int_equal(jmes_search(e, doc, &s, &err), 0);
	assert_true(json_is_null(json_array_get(s, 0)));
	assert_true(json_is_false(json_array_get(s, 1)));
	assert_true(jmes_value_within(doc, 1));
	json_decref(s);
	json_decref(out);
	json_decref(doc);
	jmes_free(e);
}

/* Flatten doubles a real list per stage: construction is bounded. */
static void built_values_are_bounded(void **state)
{
	char q[1024];
	size_t n = 0;
	struct attest_err err;
	struct jmes_expr *e = NULL;
	json_t *doc = json_pack("[i]", 1), *out = NULL;

	n += (size_t)snprintf(q + n, sizeof(q) - n, "@");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(q + n, sizeof(q) - n, " | [@,@] | []");
	attest_err_clear(&err);
	assert_int_equal(jmes_compile(q, n, &e, &err), 0);
	assert_int_not_equal(jmes_search(e, doc, &out, &err), 0);
	assert_null(out);
	assert_string_equal(err.name, "jmespath.too_large");
	json_decref(doc);
	jmes_free(e);
}

static void compiled_query_is_reusable(void **state)
{
	struct attest_err err;
	struct jmes_expr *e = NULL;
	json_t *a = json_pack("{s:i}", "x", 1), *b = json_pack("{s:i}", "x", 2), *ra, *rb;

	attest_err_clear(&err);
	assert_int_equal(jmes_compile("x", 1, &e, &err), 0);
	assert_int_equal(jmes_search(e, a, &ra, &err), 0);
	assert_int_equal(jmes_search(e, b, &rb, &err), 0);
	assert_int_equal(json_integer_value(ra), 1);
	assert_int_equal(json_integer_value(rb), 2);
	json_decref(rb);
	assert_int_equal(jmes_search(e, NULL, &rb, &err), 0);
	assert_true(json_is_null(rb));
	json_decref(rb);
	json_decref(ra);
	json_decref(a);
	json_decref(b);
	jmes_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(basic_expressions),
		cmocka_unit_test(slices),
		cmocka_unit_test(projections),
		cmocka_unit_test(filters_and_comparisons),
		cmocka_unit_test(pipes_multiselect_literals),
		cmocka_unit_test(builtin_functions),
		cmocka_unit_test(equals_ignore_case_extension),
		cmocka_unit_test(syntax_errors_are_refused_with_position),
		cmocka_unit_test(query_need_not_be_nul_terminated),
		cmocka_unit_test(runtime_errors_name_the_function),
		cmocka_unit_test(nesting_is_bounded),
		cmocka_unit_test(query_size_is_bounded),
		cmocka_unit_test(shared_results_are_measured_before_serialising),
		cmocka_unit_test(built_values_are_bounded),
		cmocka_unit_test(compiled_query_is_reusable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
