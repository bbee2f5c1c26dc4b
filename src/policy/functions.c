/*
 * Values and functions of the policy language: comparisons (§3.3), the
 * version 1.2 functions (§3.4, DOCS/claim-rule-functions), configuration
 * property getters (§3.5) and the one-line denial text.
 *
 * Values are jansson values: String, Integer, Boolean; a JSON array of
 * primitives is a set of claim values (what JsonToClaimValue makes of an
 * array; an incoming integer array such as x-ms-azurevm-attested-pcrs is
 * one too); objects and other arrays are JSON.
 */
#include "policy/policy_int.h"

#include "base/jsonx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_primitive(const json_t *v) { return json_is_string(v) || json_is_integer(v) || json_is_boolean(v); }

static bool is_set(const json_t *v)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v))
		return false;
	for (i = 0; i < json_array_size(v) && ((e) = json_array_get(v, i)) != NULL; i++)
		if (!is_primitive(e))
			return false;
	return true;
}

const char *pol_value_type_name(const json_t *v)
{
	enum claim_value_type t = claim_value_type(v);

	return t == CLAIM_VT_INVALID ? "JSON" : claim_value_type_name(t);
}

static bool scalar_eq(const json_t *a, const json_t *b)
{
	if (json_is_string(a) && json_is_string(b))
		return json_string_length(a) == json_string_length(b) &&
		       memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
	if (json_is_integer(a) && json_is_integer(b))
		return json_integer_value(a) == json_integer_value(b);
	if (json_is_boolean(a) && json_is_boolean(b))
		return json_is_true(a) == json_is_true(b);
	if (json_typeof(a) == json_typeof(b))
		return json_equal(a, b);
	return false; /* different types are never equal: 7 is not "7" */
}

bool pol_compare(const json_t *cv, enum pol_op op, const json_t *rhs)
{
	if (cv == NULL || rhs == NULL)
		return false;
	if (json_is_array(cv) && !json_is_array(rhs)) {
		/* A set-valued claim stands for one claim per element (§3.4). */
		size_t i;
		json_t *e;
		bool any = false;

		for (i = 0; i < json_array_size(cv) && ((e) = json_array_get(cv, i)) != NULL; i++)
			if (scalar_eq(e, rhs))
				any = true;
		return op == OP_EQ ? any : op == OP_NE ? !any : false;
	}
	switch (op) {
	case OP_EQ: return scalar_eq(cv, rhs);
	case OP_NE: return !scalar_eq(cv, rhs);
	default: break;
	}
	/* Ordering: Integer only; any other type simply does not satisfy the test. */
	if (!json_is_integer(cv) || !json_is_integer(rhs))
		return false;
	{
		json_int_t a = json_integer_value(cv), b = json_integer_value(rhs);

		switch (op) {
		case OP_LT: return a < b;
		case OP_LE: return a <= b;
		case OP_GT: return a > b;
		default: return a >= b;
		}
	}
}

/* ---- Functions (§3.4) ------------------------------------------------------ */

static int fn_fail(struct attest_err *err, const char *name, enum pol_func fn, const char *what)
{
	return attest_err_set(err, ATTEST_E_POLICY, name, "%s: %s", pol_func_name(fn), what);
}

/* JSON text (string) or an already structured value. New reference. */
static int json_arg(enum pol_func fn, const json_t *a, json_t **out, struct attest_err *err)
{
	json_error_t je;

	if (json_is_object(a) || json_is_array(a)) {
		*out = json_incref((json_t *)a);
		return ATTEST_OK;
	}
	if (!json_is_string(a) || json_string_length(a) == 0)
		return fn_fail(err, "policy.eval.type", fn, "the JSON argument must be a non-empty string");
	if (json_string_length(a) > JSONX_MAX_DOC)
		return fn_fail(err, "policy.eval.function", fn, "the JSON argument is too large");
	*out = json_loadb(json_string_value(a), json_string_length(a), JSON_DECODE_ANY, &je);
	if (*out == NULL) {
		char msg[200];

		snprintf(msg, sizeof(msg), "the argument is not valid JSON (%s)", je.text);
		return fn_fail(err, "policy.eval.function", fn, msg);
	}
	return ATTEST_OK;
}

static int fn_jmespath(json_t **args, const struct jmes_expr *pre, json_t **out, struct attest_err *err)
{
	struct jmes_expr *own = NULL;
	json_t *doc = NULL, *res = NULL;
	char *text;
	int rc;

	if (pre == NULL) {
		if (!json_is_string(args[1]) || json_string_length(args[1]) == 0)
			return fn_fail(err, "policy.eval.type", FN_JMESPATH, "the query must be a non-empty string");
		if (jmes_compile(json_string_value(args[1]), json_string_length(args[1]), &own, err) != ATTEST_OK) {
			attest_err_prefix(err, "JmesPath: ");
			return ATTEST_E_POLICY;
		}
		pre = own;
	}
	if ((rc = json_arg(FN_JMESPATH, args[0], &doc, err)) != ATTEST_OK)
		goto out;
	if ((rc = jmes_search(pre, doc, &res, err)) != ATTEST_OK) {
		attest_err_prefix(err, "JmesPath: ");
		rc = ATTEST_E_POLICY;
		goto out;
	}
	/* The result is JSON text, a string claim (§3.4); one whose text would be huge is refused. */
	if (!jmes_value_within(res, JMES_MAX_RESULT_ITEMS)) {
		rc = fn_fail(err, "policy.eval.function", FN_JMESPATH, "the query's result is too large");
		goto out;
	}
	text = json_dumps(res, JSON_ENCODE_ANY | JSON_COMPACT);
	if (text == NULL || (*out = json_string(text)) == NULL)
		rc = attest_err_set(err, ATTEST_E_NOMEM, "policy.nomem", "out of memory in JmesPath");
	free(text);
out:
	json_decref(res);
	json_decref(doc);
	jmes_free(own);
	return rc;
}

static int fn_json_to_claim_value(json_t *arg, json_t **out, struct attest_err *err)
{
	json_t *v = NULL;
	int rc;

	if (!json_is_string(arg))
		return fn_fail(err, "policy.eval.type", FN_JSONTOCLAIMVALUE, "the argument must be JSON text (a string)");
	if ((rc = json_arg(FN_JSONTOCLAIMVALUE, arg, &v, err)) != ATTEST_OK)
		return rc;
	if (json_is_null(v)) {
		json_decref(v);
		*out = NULL; /* empty: add/issue of it is a no-op */
		return ATTEST_OK;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);

		json_decref(v);
		if (d != (double)(json_int_t)d || d > 9.2e18 || d < -9.2e18)
			return fn_fail(err, "policy.eval.function", FN_JSONTOCLAIMVALUE,
				       "a number with a fraction is not a claim value");
		v = json_integer((json_int_t)d);
	} else if (json_is_object(v) || (json_is_array(v) && !is_set(v))) {
		json_decref(v);
		return fn_fail(err, "policy.eval.function", FN_JSONTOCLAIMVALUE,
			       "a JSON object (or an array holding one) is not a claim value");
	}
	*out = v;
	return v ? ATTEST_OK : attest_err_set(err, ATTEST_E_NOMEM, "policy.nomem", "out of memory");
}

/* A set argument: an array of primitives, or one primitive as a set of one. */
static bool set_arg(const json_t *a) { return is_set(a) || is_primitive(a); }

static bool set_has(const json_t *set, const json_t *v)
{
	size_t i;
	json_t *e;

	if (!json_is_array(set))
		return scalar_eq(set, v);
	for (i = 0; i < json_array_size(set) && ((e) = json_array_get(set, i)) != NULL; i++)
		if (scalar_eq(e, v))
			return true;
	return false;
}

static int fn_is_subset_of(json_t **args, json_t **out, struct attest_err *err)
{
	size_t i;
	json_t *e;
	bool sub = true;

	if (!set_arg(args[0]) || !set_arg(args[1]))
		return fn_fail(err, "policy.eval.type", FN_ISSUBSETOF, "both arguments must be sets of values");
	if (json_is_array(args[0])) {
		for (i = 0; i < json_array_size(args[0]) && ((e) = json_array_get(args[0], i)) != NULL; i++)
			if (!set_has(args[1], e))
				sub = false;
	} else {
		sub = set_has(args[1], args[0]);
	}
	*out = json_boolean(sub);
	return ATTEST_OK;
}

static int fn_contains_only_value(json_t **args, json_t **out, struct attest_err *err)
{
	size_t i;
	json_t *e;
	bool only;

	if (!set_arg(args[0]) || !is_primitive(args[1]))
		return fn_fail(err, "policy.eval.type", FN_CONTAINSONLYVALUE,
			       "the arguments must be a set and a single value");
	if (!json_is_array(args[0])) {
		only = scalar_eq(args[0], args[1]);
	} else {
		only = json_array_size(args[0]) > 0;
		for (i = 0; i < json_array_size(args[0]) && ((e) = json_array_get(args[0], i)) != NULL; i++)
			if (!scalar_eq(e, args[1]))
				only = false;
	}
	*out = json_boolean(only);
	return ATTEST_OK;
}

static int fn_append_string(json_t **args, json_t **out, struct attest_err *err)
{
	size_t a, b;
	char *s;

	if (!json_is_string(args[0]) || !json_is_string(args[1]))
		return fn_fail(err, "policy.eval.type", FN_APPENDSTRING, "both arguments must be strings");
	a = json_string_length(args[0]);
	b = json_string_length(args[1]);
	if ((s = malloc(a + b + 1)) == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "policy.nomem", "out of memory");
	memcpy(s, json_string_value(args[0]), a);
	memcpy(s + a, json_string_value(args[1]), b);
	*out = json_stringn_nocheck(s, a + b);
	free(s);
	return ATTEST_OK;
}

int pol_call(enum pol_func fn, json_t **args, const bool *ro, unsigned nargs, const struct jmes_expr *query,
	     json_t **out, bool *out_ro, struct attest_err *err)
{
	int rc;

	*out = NULL;
	*out_ro = false;
	for (unsigned i = 0; i < nargs; i++)
		if (args[i] == NULL)
			return fn_fail(err, "policy.eval.type", fn, "an argument is empty");
	switch (fn) {
	case FN_JMESPATH:
		rc = fn_jmespath(args, query, out, err);
		*out_ro = ro[0] || ro[1];
		break;
	case FN_JSONTOCLAIMVALUE:
		rc = fn_json_to_claim_value(args[0], out, err);
		*out_ro = ro[0];
		break;
	case FN_ISSUBSETOF: rc = fn_is_subset_of(args, out, err); break;
	case FN_APPENDSTRING:
		rc = fn_append_string(args, out, err);
		*out_ro = ro[0] || ro[1];
		break;
	case FN_NEGATEBOOL:
		if (!json_is_boolean(args[0]))
			return fn_fail(err, "policy.eval.type", fn, "the argument must be a Boolean");
		*out = json_boolean(!json_is_true(args[0]));
		rc = ATTEST_OK;
		break;
	default: rc = fn_contains_only_value(args, out, err); break;
	}
	if (rc == ATTEST_OK && *out == NULL && fn != FN_JSONTOCLAIMVALUE)
		rc = attest_err_set(err, ATTEST_E_NOMEM, "policy.nomem", "out of memory");
	return rc;
}

/* ---- Properties (§3.5) ---------------------------------------------------- */

static const json_t *prop_last(const struct claim_set *props, const char *name)
{
	const json_t *v = NULL;

	if (props == NULL)
		return NULL;
	for (size_t i = 0; i < claim_set_count(props); i++) {
		const struct claim *c = claim_set_at(props, i);

		if (strcmp(c->type, name) == 0)
			v = c->value;
	}
	return v;
}

bool policy_prop_bool(const struct claim_set *props, const char *name, bool dflt)
{
	const json_t *v = prop_last(props, name);

	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

int64_t policy_prop_int(const struct claim_set *props, const char *name, int64_t dflt)
{
	const json_t *v = prop_last(props, name);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

const char *policy_prop_str(const struct claim_set *props, const char *name, const char *dflt)
{
	const json_t *v = prop_last(props, name);

	return json_is_string(v) ? json_string_value(v) : dflt;
}

/* ---- The denial in one line ------------------------------------------------ */

size_t policy_result_reason(const struct policy_result *r, char *buf, size_t n)
{
	const struct policy_denial *d = r->denial;
	char where[96] = "";
	int k;

	if (r->verdict == POLICY_PERMIT || d == NULL)
		k = snprintf(buf, n, "%s", r->verdict == POLICY_PERMIT ? "permitted" : policy_verdict_name(r->verdict));
	else {
		if (d->rule != 0)
			snprintf(where, sizeof(where), "%s rule %u (line %u)", policy_section_name(d->section), d->rule,
				 d->line);
		if (d->verdict == POLICY_DENY)
			k = d->claim_type ? snprintf(buf, n, "denied by %s: %s expected %s, found %s", where, d->claim_type,
						     d->expected, d->found)
					  : snprintf(buf, n, "denied by %s", where);
		else if (d->rule == 0)
			k = snprintf(buf, n, "not permitted: the policy has no permit() rule that could fire");
		else
			k = snprintf(buf, n, "not permitted: %s: %s expected %s, found %s", where, d->claim_type,
				     d->expected, d->found);
	}
	return k < 0 ? 0 : (size_t)k;
}
