/*
 * docs/policy-language.md is checked: every ```policy block compiles, and a
 * policy followed by ```claims and ```expect blocks evaluates as the guide
 * says (verdict, then the outgoing claims as JSON or the denial line).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "policy_testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *read_doc(void)
{
	const char *src = getenv("ATTEST_SOURCE_DIR");
	char path[4096];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/docs/policy-language.md", src ? src : ".");
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s (set ATTEST_SOURCE_DIR)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The next fenced block at or after *pos: its info string and body (in place, NUL-terminated). */
static bool next_block(char **pos, char **info, char **body, bool adjacent)
{
	char *p = *pos, *end;

	if (adjacent) {
		while (*p == '\n' || *p == ' ')
			p++;
		if (strncmp(p, "```", 3) != 0)
			return false;
	} else if ((p = strstr(p, "\n```")) == NULL) {
		return false;
	} else {
		p++;
	}
	*info = p + 3;
	if ((p = strchr(*info, '\n')) == NULL)
		return false;
	*p = '\0';
	*body = p + 1;
	if ((end = strstr(*body, "\n```")) == NULL)
		return false;
	end[1] = '\0';
	*pos = end + 4;
	while (**pos && **pos != '\n')
		(*pos)++;
	return true;
}

static struct claim_set *claims_of(const char *text)
{
	json_error_t je;
	json_t *doc = json_loads(text, 0, &je), *v, *e;
	struct claim_set *s = claim_set_new();
	const char *k;
	size_t i;

	if (doc == NULL)
		fail_msg("claims block is not JSON: %s", je.text);
	if (json_is_object(doc)) {
		json_object_foreach(doc, k, v)
			assert_int_equal(claim_set_add(s, k, json_incref(v)), 0);
	} else {
		json_array_foreach(doc, i, e) {
			const char *iss = json_string_value(json_object_get(e, "issuer"));

			assert_int_equal(claim_set_add_issued(s, json_string_value(json_object_get(e, "type")),
							      iss ? iss : CLAIM_ISSUER_SERVICE,
							      json_incref(json_object_get(e, "value"))),
					 0);
		}
	}
	json_decref(doc);
	return s;
}

static void check_expectation(const char *policy, const char *claims, char *expect, int index)
{
	struct policy_plan *p = compile_ok(policy);
	struct claim_set *in = claims_of(claims);
	struct policy_result *r = eval_ok(p, in, POLICY_EVAL_EXPLAIN);
	char *nl = strchr(expect, '\n'), *rest;

	assert_non_null(nl);
	*nl = '\0';
	rest = nl + 1;
	if (strcmp(policy_verdict_name(r->verdict), expect) != 0)
		fail_msg("example %d: verdict %s, the guide says %s (%s)", index, policy_verdict_name(r->verdict), expect,
			 reason(r));
	if (rest[0] == '{') {
		json_t *want = json_loads(rest, 0, NULL), *got = claim_set_to_json(r->outgoing);

		assert_non_null(want);
		if (!json_equal(want, got))
			fail_msg("example %d: outgoing %s, the guide says %s", index, set_json(r->outgoing), rest);
		json_decref(want);
		json_decref(got);
	} else {
		char *end = strchr(rest, '\n');

		if (end)
			*end = '\0';
		if (strcmp(reason(r), rest) != 0)
			fail_msg("example %d: reason\n  %s\nthe guide says\n  %s", index, reason(r), rest);
	}
	policy_result_free(r);
	claim_set_free(in);
	policy_plan_free(p);
}

static void every_policy_in_the_guide_compiles_and_behaves_as_shown(void **state)
{
	char *doc = read_doc(), *pos = doc, *info, *body;
	int policies = 0, examples = 0;

	while (next_block(&pos, &info, &body, false)) {
		char *cinfo, *claims, *einfo, *expect, *after;

		if (strcmp(info, "policy") != 0)
			continue;
		policies++;
		policy_plan_free(compile_ok(body));
		after = pos;
		if (!next_block(&after, &cinfo, &claims, true) || strcmp(cinfo, "claims") != 0)
			continue;
		if (!next_block(&after, &einfo, &expect, true) || strcmp(einfo, "expect") != 0)
			fail_msg("a claims block without an expect block after policy %d", policies);
		check_expectation(body, claims, expect, policies);
		examples++;
		pos = after;
	}
	fprintf(stderr, "policy-language.md: %d policies compiled, %d examples evaluated\n", policies, examples);
	assert_true(policies >= 15);
	assert_true(examples >= 14);
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_policy_in_the_guide_compiles_and_behaves_as_shown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
