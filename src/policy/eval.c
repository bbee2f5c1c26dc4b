/*
 * The evaluator: a pure function (plan, incoming claims) → result
 * (maa-interface.md §3.3). All state lives in a per-call context: a working
 * claim list (the incoming claims borrowed, then the claims the policy adds,
 * owned), indexed by interned claim type, so a condition with a constant
 * type walks only the claims of that type.
 *
 * Matching: a rule's conditions are tried in the plan's order with
 * backtracking; a condition whose binding nobody reads stops at its first
 * match (which claim matched cannot change the outcome); the action runs
 * once per combination of bindings (§3.3, multiple matches), permit() and
 * deny() once. A rule sees the claims that existed when it started (the
 * claims it adds itself are visible from the next rule on).
 *
 * Reference counts are atomic, so values are lent rather than counted
 * (claims.h): an issue() of an incoming claim's value as it is lends it
 * from the incoming set to the result's set, and explain's final incoming
 * set lends every claim from the incoming, outgoing and properties sets;
 * each set keeps its lenders alive (two atomic operations per set, not per
 * claim). A plan's constants are copied into a result directly, not with
 * json_deep_copy (a hash table per copy).
 *
 * Explain (POLICY_EVAL_EXPLAIN) costs about half as much again as the
 * evaluation (issue 13: under 1 % of an attestation), so nothing in it is
 * allocated or rendered twice: the trace, its texts and the denial live in
 * one arena owned by the result; claim types are the plan's interned names
 * where it has them; binding values are kept alive by the final incoming
 * set; a constant test's "<op> <value>" text is rendered once per plan
 * (pol_test.text); a claim's value once per evaluation (brief_have), by
 * brief.c, which stops at 72 bytes. What is left: the trace arena (a 16 KiB
 * block, zeroed as it is used and on release), the final incoming set, and
 * describing each rule that did not fire.
 */
#include "policy/policy_int.h"

#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WC_STACK 64
/*
 * Claims tried against conditions in one evaluation. Joins of several bound
 * conditions over many claims of one type (which an attester can send as
 * custom claims) grow as a power of the claim count; this bounds the work
 * (about 20 ms) whatever the policy and the claims.
 */
#define POL_MAX_STEPS (1ul << 20)

struct wc {
	const char *type;
	const char *issuer;
	json_t *value;
	int type_id;
	int next;          /* next claim of the same type id, -1 = end */
	uint8_t iss;       /* enum pol_issuer */
	bool ro;           /* read-only (§3.3) */
	bool owned;        /* value (and type when type_owned) belong to the context */
	bool type_owned;
	bool type_plan;    /* type is a constant of the plan (outlives the result) */
	bool virt;         /* a member of x-ms-isolation-tee seen as a dotted claim */
	uint8_t src;       /* enum wc_src: the set that holds the value (final_incoming lends from it) */
};

/*
 * Where a working claim's value lives: an incoming claim (at its own
 * index), a claim the policy issued to outgoing or properties (in the
 * order it issued them), or the context (owned, or a dotted member).
 */
enum wc_src { SRC_CTX = 0, SRC_IN, SRC_OUT, SRC_PROPS };

enum { M_CONTINUE = 0, M_STOP = 1 };

struct ectx {
	const struct policy_plan *plan;
	const struct claim_set *in; /* the incoming claims (NULL: none); the result's sets lend from it */
	struct wc *c;
	size_t n, cap;
	int *head, *tail;
	struct wc cstack[WC_STACK];
	int hstack[2 * WC_STACK];
	const char *brief_s[WC_STACK]; /* see brief_have */
	uint8_t brief_n[WC_STACK];
	struct claim_set *outgoing, *props;
	bool permit, deny;
	bool explain;
	struct attest_err *err;
	int rc;
	/* per rule */
	const struct pol_rule *rule;
	size_t limit;      /* claims visible to the rule */
	int bind[POL_MAX_SLOTS];
	int match_of[POLICY_DEFAULT_MAX_CONDITIONS]; /* claim matched per condition (text index) */
	unsigned firings;
	unsigned long steps; /* claims tried against conditions, all rules (bounded: POL_MAX_STEPS) */
	/* explain */
	struct policy_rule_trace *trace;
	struct policy_denial *denial;
	struct arena *arena; /* the result's: explain and denial texts, bindings, trace */
	char *tp;            /* text pool: the unused end of a chunk of the arena (text_take) */
	size_t tp_left;
	/*
	 * The issuer of the claims the policy adds: CLAIM_ISSUER_POLICY, then
	 * a claim set's own constant for it once one has stored a claim, so
	 * that later adds (to outgoing, properties, the final incoming set)
	 * skip claims.c's string compares.
	 */
	const char *iss_policy;
	/*
	 * Explain: the short rendering of working claim i's value (i <
	 * WC_STACK), made once in the result's arena when a rule that did
	 * not fire names it; a claim is often named by several (a status
	 * tested against each bad value, a signer against each pin).
	 */
	uint64_t brief_have; /* which of brief_s/brief_n (not zeroed, like the stacks) hold one */
};

/*
 * A result and the arena that holds its explain trace and denial (the
 * texts, the bindings, the rule array): one allocation per 16 KiB of
 * trace instead of several per rule, released in one call.
 */
struct result_box {
	struct policy_result pub; /* first: a policy_result * is a result_box * */
	struct arena arena;
};

/* Bound on one result's trace; the trace of the largest plan (2048 rules) stays far below it. */
#define POL_RESULT_ARENA_MAX ((size_t)256 << 20)

/*
 * Texts of the result (explain and denial strings, copied claim types) are
 * carved from chunks of the result's arena: no rounding, no zeroing per
 * string, one arena allocation per POL_TEXT_CHUNK bytes.
 */
#define POL_TEXT_CHUNK 2048

static int nomem(struct ectx *x);

/* n bytes of text storage owned by the result (not zeroed), or NULL. */
static char *text_take(struct ectx *x, size_t n)
{
	char *p;

	if (n > POL_TEXT_CHUNK)
		return arena_alloc(x->arena, n); /* a long text gets its own allocation */
	if (n > x->tp_left) {
		if ((x->tp = arena_alloc(x->arena, POL_TEXT_CHUNK)) == NULL) {
			x->tp_left = 0;
			return NULL;
		}
		x->tp_left = POL_TEXT_CHUNK;
	}
	p = x->tp;
	x->tp += n;
	x->tp_left -= n;
	return p;
}

/* A NUL-terminated copy of n bytes of s owned by the result, or NULL. */
static char *text_dup(struct ectx *x, const char *s, size_t n)
{
	char *d = n < SIZE_MAX ? text_take(x, n + 1) : NULL;

	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static uint8_t issuer_of(const char *s)
{
	if (s[0] == 'A' && strcmp(s, CLAIM_ISSUER_SERVICE) == 0)
		return ISS_SERVICE;
	if (s[0] == 'A' && strcmp(s, CLAIM_ISSUER_POLICY) == 0)
		return ISS_POLICY;
	if (s[0] == 'C' && strcmp(s, CLAIM_ISSUER_CUSTOM) == 0)
		return ISS_CUSTOM;
	return ISS_OTHER;
}

static int nomem(struct ectx *x)
{
	attest_err_set(x->err, ATTEST_E_NOMEM, "policy.nomem", "out of memory evaluating the policy");
	return x->rc = ATTEST_E_NOMEM;
}

/* Appends a claim to the working list and links it into its type bucket. */
static int wc_push(struct ectx *x, const struct wc *w)
{
	struct wc *d;

	if (x->n == x->cap) {
		size_t cap = x->cap * 2;
		struct wc *v;

		if (x->n >= 65536)
			return x->rc = attest_err_set(x->err, ATTEST_E_POLICY, "policy.eval.too_many_claims",
						      "the policy added more than 65536 claims");
		if (x->c == x->cstack) {
			v = malloc(cap * sizeof(*v));
			if (v != NULL)
				memcpy(v, x->c, x->n * sizeof(*v));
		} else {
			v = realloc(x->c, cap * sizeof(*v));
		}
		if (v == NULL)
			return nomem(x);
		x->c = v;
		x->cap = cap;
	}
	d = &x->c[x->n];
	*d = *w;
	d->next = -1;
	if (d->type_id >= 0) {
		if (x->tail[d->type_id] < 0)
			x->head[d->type_id] = (int)x->n;
		else
			x->c[x->tail[d->type_id]].next = (int)x->n;
		x->tail[d->type_id] = (int)x->n;
	}
	x->n++;
	return ATTEST_OK;
}

/* §2.6 (inferred): members of an object claim are addressable as "parent.member". */
static int add_dotted(struct ectx *x)
{
	const struct policy_plan *p = x->plan;

	for (unsigned k = 0; k < p->ndotted; k++) {
		unsigned id = p->dotted[k];
		const char *dot = strchr(p->names[id], '.');
		int parent;
		size_t n = x->n;

		if (x->head[id] >= 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			json_t *m;
			struct wc w;

			parent = (int)i;
			if (x->c[parent].virt || strncmp(x->c[parent].type, p->names[id], (size_t)(dot - p->names[id])) != 0 ||
			    x->c[parent].type[dot - p->names[id]] != '\0' || !json_is_object(x->c[parent].value) ||
			    (m = json_object_get(x->c[parent].value, dot + 1)) == NULL)
				continue;
			w = x->c[parent];
			w.type = p->names[id];
			w.type_id = (int)id;
			w.value = m;
			w.virt = true;
			w.src = SRC_CTX;
			if (wc_push(x, &w) != ATTEST_OK)
				return x->rc;
		}
	}
	return ATTEST_OK;
}

static int ctx_init(struct ectx *x, const struct policy_plan *plan, const struct claim_set *in)
{
	size_t nin = in ? claim_set_count(in) : 0;
	unsigned nn = plan->nnames;

	x->plan = plan;
	x->in = nin > 0 ? in : NULL;
	x->c = x->cstack;
	x->cap = WC_STACK;
	if (nn <= WC_STACK) {
		x->head = x->hstack;
		x->tail = x->hstack + WC_STACK;
	} else if ((x->head = malloc(2 * nn * sizeof(int))) == NULL) {
		return nomem(x);
	} else {
		x->tail = x->head + nn;
	}
	for (unsigned i = 0; i < nn; i++)
		x->head[i] = x->tail[i] = -1;
	if (nin > WC_STACK) {
		if (nin > 65536 || (x->c = malloc(2 * nin * sizeof(*x->c))) == NULL)
			return nomem(x);
		x->cap = 2 * nin;
	}
	/*
	 * The incoming claims, borrowed, linked into their type buckets. A
	 * claim set stores its common issuers as shared constants: the issuer
	 * code of the previous claim's pointer is reused without a compare.
	 */
	for (size_t i = 0; i < nin; i++) {
		const struct claim *c = claim_set_at(in, i);
		struct wc *w = &x->c[i];

		w->type = c->type;
		w->issuer = c->issuer;
		w->value = c->value;
		w->type_id = pol_intern_lookup_z(plan, c->type);
		w->next = -1;
		w->iss = i > 0 && c->issuer == x->c[i - 1].issuer ? x->c[i - 1].iss : issuer_of(c->issuer);
		w->ro = w->iss == ISS_SERVICE && (c->type[0] == 'p' || c->type[0] == 'e' || c->type[0] == 'b') &&
			pol_type_readonly(c->type);
		w->owned = w->type_owned = w->type_plan = w->virt = false;
		w->src = SRC_IN;
		if (w->type_id >= 0) {
			if (x->tail[w->type_id] < 0)
				x->head[w->type_id] = (int)i;
			else
				x->c[x->tail[w->type_id]].next = (int)i;
			x->tail[w->type_id] = (int)i;
		}
	}
	x->n = nin;
	return add_dotted(x);
}

static void ctx_free(struct ectx *x)
{
	for (size_t i = 0; i < x->n; i++) {
		if (x->c[i].owned)
			json_decref(x->c[i].value);
		if (x->c[i].type_owned)
			free((char *)x->c[i].type);
	}
	if (x->c != x->cstack)
		free(x->c);
	if (x->head != x->hstack)
		free(x->head);
}

/* ---- Expressions --------------------------------------------------------- */

static const char *value_type_of(const json_t *v) { return pol_value_type_name(v); }

/* Evaluates e; *out is a new reference (NULL = empty value), *ro its read-only mark. */
static int eval_expr(struct ectx *x, const struct pol_expr *e, json_t **out, bool *ro)
{
	*ro = false;
	if (e->kind == EX_CONST) {
		*out = json_incref(e->konst);
		return ATTEST_OK;
	}
	if (e->kind == EX_REF) {
		const struct wc *c = &x->c[x->bind[e->slot]];

		switch (e->prop) {
		case PROP_VALUE:
			*out = json_incref(c->value);
			*ro = c->ro;
			break;
		case PROP_TYPE: *out = json_string(c->type); break;
		case PROP_ISSUER: *out = json_string(c->issuer); break;
		case PROP_VALUETYPE: *out = json_string(value_type_of(c->value)); break;
		}
		return *out ? ATTEST_OK : nomem(x);
	}
	{
		json_t *args[2] = {NULL, NULL};
		bool aro[2] = {false, false};
		int rc = ATTEST_OK;

		for (unsigned i = 0; i < e->nargs && rc == ATTEST_OK; i++)
			rc = eval_expr(x, e->args[i], &args[i], &aro[i]);
		if (rc == ATTEST_OK) {
			rc = pol_call(e->fn, args, aro, e->nargs, e->jmes, out, ro, x->err);
			if (rc != ATTEST_OK) {
				attest_err_where(x->err, "%s rule %u line %u column %u",
						 policy_section_name(x->rule->section), x->rule->index, e->line, e->col);
				x->rc = rc;
			}
		}
		json_decref(args[0]);
		json_decref(args[1]);
		return rc;
	}
}

/* ---- Conditions ---------------------------------------------------------- */

static bool str_test(const char *lhs, enum pol_op op, const json_t *rhs)
{
	bool eq = json_is_string(rhs) && strcmp(lhs, json_string_value(rhs)) == 0;

	return op == OP_EQ ? eq : op == OP_NE ? !eq : false;
}

/* One property test on claim c; sets x->rc on an evaluation error. */
static bool test_match(struct ectx *x, const struct wc *c, const struct pol_test *t)
{
	json_t *rhs;
	bool ro, ok;

	if (t->implied)
		return true;
	if (t->rhs->kind == EX_CONST)
		rhs = t->rhs->konst;
	else if (eval_expr(x, t->rhs, &rhs, &ro) != ATTEST_OK)
		return false;
	switch (t->prop) {
	case PROP_VALUE: ok = rhs != NULL && pol_compare(c->value, t->op, rhs); break;
	case PROP_TYPE: ok = rhs != NULL && str_test(c->type, t->op, rhs); break;
	case PROP_ISSUER: ok = rhs != NULL && str_test(c->issuer, t->op, rhs); break;
	default: ok = rhs != NULL && str_test(value_type_of(c->value), t->op, rhs); break;
	}
	if (t->rhs->kind != EX_CONST)
		json_decref(rhs);
	return ok;
}

static bool cond_match(struct ectx *x, const struct pol_cond *cd, const struct wc *c)
{
	if (cd->issuer >= 0 && c->iss != cd->issuer)
		return false;
	for (unsigned i = 0; i < cd->ntests; i++)
		if (!test_match(x, c, &cd->tests[i]) || x->rc != ATTEST_OK)
			return false;
	return true;
}

/* First candidate of a condition at or after index `from` (bucket or full scan). */
static int cand_first(const struct ectx *x, const struct pol_cond *cd)
{
	int i = cd->type_id >= 0 ? x->head[cd->type_id] : (x->n ? 0 : -1);

	return i >= 0 && (size_t)i < x->limit ? i : -1;
}

static int cand_next(const struct ectx *x, const struct pol_cond *cd, int i)
{
	int j = cd->type_id >= 0 ? x->c[i].next : i + 1;

	return j >= 0 && (size_t)j < x->limit ? j : -1;
}

/* ---- Actions ------------------------------------------------------------- */

static int convert_value_type(struct ectx *x, const struct pol_action *a, json_t **v)
{
	json_t *n = NULL;
	const char *s;

	if (a->value_type < 0 || *v == NULL)
		return ATTEST_OK;
	switch (a->value_type) {
	case VT_STRING:
		if (json_is_string(*v))
			return ATTEST_OK;
		if (json_is_integer(*v)) {
			char buf[32];

			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(*v));
			n = json_string(buf);
		} else if (json_is_boolean(*v)) {
			n = json_string(json_is_true(*v) ? "true" : "false");
		}
		break;
	case VT_INTEGER:
		if (json_is_integer(*v))
			return ATTEST_OK;
		if (json_is_string(*v)) {
			char *end;
			long long ll;

			s = json_string_value(*v);
			ll = strtoll(s, &end, 10);
			if (*s != '\0' && *end == '\0')
				n = json_integer(ll);
		}
		break;
	default:
		if (json_is_boolean(*v))
			return ATTEST_OK;
		if (json_is_string(*v) && (strcmp(json_string_value(*v), "true") == 0 ||
					   strcmp(json_string_value(*v), "false") == 0))
			n = json_boolean(strcmp(json_string_value(*v), "true") == 0);
		break;
	}
	if (n == NULL)
		return x->rc = attest_err_set(x->err, ATTEST_E_POLICY, "policy.eval.type",
					      "%s rule %u (line %u): the value cannot be converted to valueType %s",
					      policy_section_name(x->rule->section), x->rule->index, x->rule->line,
					      a->value_type == VT_STRING    ? "String"
					      : a->value_type == VT_INTEGER ? "Integer"
									    : "Boolean");
	json_decref(*v);
	*v = n;
	return ATTEST_OK;
}

/* The three issuers as constants (a binding's issuer string), else NULL. */
static const char *issuer_const(uint8_t iss)
{
	return iss == ISS_SERVICE  ? CLAIM_ISSUER_SERVICE
	       : iss == ISS_POLICY ? CLAIM_ISSUER_POLICY
	       : iss == ISS_CUSTOM ? CLAIM_ISSUER_CUSTOM
				   : NULL;
}

/*
 * A claim's type as the result may keep it: a constant of the plan (the
 * result holds a reference to the plan) when it is one, or when the plan
 * interned the same name (every type a condition names), else a copy in
 * the result's arena.
 */
static char *result_type(struct ectx *x, const struct wc *c)
{
	if (c->type_plan)
		return (char *)c->type;
	if (c->type_id >= 0)
		return (char *)x->plan->names[c->type_id];
	return text_dup(x, c->type, strlen(c->type));
}

/*
 * The first firing's bindings (explain). Strings live in the plan (the
 * identifier, constant types; the result holds a reference to the plan),
 * in static storage (the three issuers) or in the result's arena; values
 * are borrowed: the result's final incoming set keeps each alive (a claim
 * the policy added by holding it, any other by keeping the set that lends
 * it; a dotted member through its parent object).
 */
static int trace_bindings(struct ectx *x)
{
	const struct pol_rule *r = x->rule;
	struct policy_rule_trace *t = x->trace;

	if (t == NULL || t->fired != 1 || r->nslots == 0)
		return ATTEST_OK;
	if ((t->bindings = arena_alloc(x->arena, r->nslots * sizeof(*t->bindings))) == NULL)
		return nomem(x);
	for (unsigned s = 0; s < r->nslots; s++) {
		struct policy_binding *b = &t->bindings[t->nbindings];
		const struct wc *c;
		const char *iss;

		if (x->bind[s] < 0)
			continue;
		c = &x->c[x->bind[s]];
		iss = issuer_const(c->iss);
		b->ident = (char *)r->slot_names[s];
		b->type = result_type(x, c);
		b->issuer = iss != NULL ? (char *)iss : text_dup(x, c->issuer, strlen(c->issuer));
		if (b->type == NULL || b->issuer == NULL)
			return nomem(x);
		b->value = c->value; /* kept by the final incoming set, built before the result is returned */
		t->nbindings++;
	}
	return ATTEST_OK;
}

static int record_deny(struct ectx *x);

/*
 * A result's own copy of an uncounted value (a plan's constant, or one of
 * jansson's true/false/null, which are never counted and never freed).
 * Scalars are copied directly: json_deep_copy sets up a hash table for its
 * loop detection (jansson 2.14) even for a string, an allocation and a
 * release per issued constant that were most of the evaluation's mallocs.
 * A copied string was valid UTF-8 when the plan was compiled.
 */
static json_t *konst_copy(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING: return json_stringn_nocheck(json_string_value(v), json_string_length(v));
	case JSON_INTEGER: return json_integer(json_integer_value(v));
	case JSON_REAL: return json_real(json_real_value(v));
	case JSON_TRUE:
	case JSON_FALSE:
	case JSON_NULL: return v; /* jansson's singletons: uncounted, shared by every value of the kind */
	default: return json_deep_copy(v);
	}
}

static int emit(struct ectx *x, const char *type, bool type_owned, bool type_in_plan, int type_id, json_t *value,
		bool ro)
{
	const struct pol_rule *r = x->rule;
	struct wc w = {0};
	struct claim_set *dst = r->action.kind == ACT_ISSUE          ? x->outgoing
				: r->action.kind == ACT_ISSUEPROPERTY ? x->props
								      : NULL;

	if (value->refcount == (size_t)-1) {
		/* A constant of the plan (see plan_konsts_immortal): results get their own copy. */
		json_t *copy = konst_copy(value);

		if (copy == NULL) {
			if (type_owned)
				free((char *)type);
			return nomem(x);
		}
		value = copy;
	}
	if (r->action.kind == ACT_ISSUE && ro && !json_is_boolean(value) && !json_is_integer(value)) {
		x->rc = attest_err_set(x->err, ATTEST_E_POLICY, "policy.eval.readonly",
				       "issuancerules rule %u (line %u): claim \"%.60s\" would copy a read-only "
				       "value (pcrs, events) into the token",
				       r->index, r->line, type);
		if (type_owned)
			free((char *)type);
		json_decref(value);
		return x->rc;
	}
	/*
	 * A type owned by the context is copied; anything else lives in the
	 * plan or the incoming set. An issued value's one reference goes to
	 * the result's set, which outlives the context: the working claim
	 * borrows it (one reference count fewer to take and drop, both atomic).
	 */
	if (dst != NULL) {
		const char *iss = x->iss_policy;
		int rc = type_owned || !type_in_plan ? claim_set_add_issued(dst, type, iss, value)
						     : claim_set_add_borrowed(dst, type, iss, value);

		if (rc != ATTEST_OK) { /* the set has dropped the value */
			if (type_owned)
				free((char *)type);
			return nomem(x);
		}
		x->iss_policy = claim_set_at(dst, claim_set_count(dst) - 1)->issuer;
	}
	w.type = type;
	w.type_owned = type_owned;
	w.type_plan = !type_owned && type_in_plan;
	w.issuer = x->iss_policy;
	w.iss = ISS_POLICY;
	w.value = value; /* transferred: to the set (issued) or to the working claim (added) */
	w.owned = dst == NULL;
	w.src = dst == NULL ? SRC_CTX : dst == x->outgoing ? SRC_OUT : SRC_PROPS;
	w.ro = ro && !json_is_boolean(value) && !json_is_integer(value);
	w.type_id = type_id != -2 ? type_id : pol_intern_lookup_z(x->plan, type);
	if (wc_push(x, &w) != ATTEST_OK) {
		if (type_owned)
			free((char *)type);
		if (w.owned)
			json_decref(value);
		return x->rc;
	}
	return ATTEST_OK;
}

/* The error of issue() copying a read-only value (pcrs, events) into the token. */
static int readonly_error(struct ectx *x, const char *type)
{
	const struct pol_rule *r = x->rule;

	return x->rc = attest_err_set(x->err, ATTEST_E_POLICY, "policy.eval.readonly",
				      "issuancerules rule %u (line %u): claim \"%.60s\" would copy a read-only "
				      "value (pcrs, events) into the token",
				      r->index, r->line, type);
}

/*
 * issue() or issueproperty() of an incoming claim's value as it is
 * (value=c.value, or claim=c) into dst: the result's set lends the value
 * from the incoming set, which it keeps alive (claims.h), instead of
 * counting a reference to it (two atomic operations per issued claim).
 * type: the plan's name (the result holds the plan), or NULL for the
 * incoming claim's own. The working claim borrows the value too.
 */
static int emit_lent(struct ectx *x, struct claim_set *dst, int at, const char *type, int type_id)
{
	const struct wc *c = &x->c[at];
	struct wc w = {0};

	if (x->rule->action.kind == ACT_ISSUE && c->ro && !json_is_boolean(c->value) && !json_is_integer(c->value))
		return readonly_error(x, type != NULL ? type : c->type);
	if (claim_set_add_lent_issued(dst, x->in, (size_t)at, type, x->iss_policy) != ATTEST_OK)
		return nomem(x);
	x->iss_policy = claim_set_at(dst, claim_set_count(dst) - 1)->issuer;
	w.type = type != NULL ? type : c->type;
	w.type_plan = type != NULL;
	w.issuer = x->iss_policy;
	w.iss = ISS_POLICY;
	w.value = c->value; /* the incoming set's, kept alive by dst */
	w.src = dst == x->outgoing ? SRC_OUT : SRC_PROPS;
	w.ro = c->ro && !json_is_boolean(c->value) && !json_is_integer(c->value);
	w.type_id = type_id;
	return wc_push(x, &w);
}

/* Whether valueType (a->value_type, -1: none) leaves v as it is. */
static bool value_type_keeps(const struct pol_action *a, const json_t *v)
{
	return a->value_type < 0 || (a->value_type == VT_STRING && json_is_string(v)) ||
	       (a->value_type == VT_INTEGER && json_is_integer(v)) ||
	       (a->value_type == VT_BOOLEAN && json_is_boolean(v));
}

static int fire(struct ectx *x)
{
	const struct pol_rule *r = x->rule;
	const struct pol_action *a = &r->action;
	json_t *type = NULL, *value = NULL;
	bool tro, vro;
	const char *tname;
	bool towned = false;
	struct claim_set *dst;

	if (++x->firings > x->plan->lim.max_matches)
		return x->rc = attest_err_set(x->err, ATTEST_E_POLICY, "policy.eval.too_many_matches",
					      "%s rule %u (line %u) matched more than %u times",
					      policy_section_name(r->section), r->index, r->line, x->plan->lim.max_matches);
	if (x->trace != NULL) {
		x->trace->fired = x->firings;
		if (trace_bindings(x) != ATTEST_OK)
			return x->rc;
	}
	if (a->kind == ACT_PERMIT || a->kind == ACT_DENY) {
		if (a->kind == ACT_PERMIT) {
			x->permit = true;
		} else if (!x->deny) {
			x->deny = true;
			if (record_deny(x) != ATTEST_OK)
				return x->rc;
		}
		return M_STOP;
	}
	dst = a->kind == ACT_ISSUE ? x->outgoing : a->kind == ACT_ISSUEPROPERTY ? x->props : NULL;
	if (a->claim_slot >= 0) {
		int at = x->bind[a->claim_slot];
		const struct wc *c = &x->c[at];

		if (dst != NULL && c->src == SRC_IN)
			return emit_lent(x, dst, at, NULL, c->type_id) == ATTEST_OK ? M_CONTINUE : x->rc;
		return emit(x, c->type, false, false, c->type_id, json_incref(c->value), c->ro) == ATTEST_OK ? M_CONTINUE
													     : x->rc;
	}
	/* issue(type="<constant>", value=c.value) of an incoming claim's value, kept as it is. */
	if (dst != NULL && a->value->kind == EX_REF && a->value->prop == PROP_VALUE && a->type->kind == EX_CONST &&
	    json_is_string(a->type->konst)) {
		int at = x->bind[a->value->slot];
		const struct wc *c = &x->c[at];

		if (c->src == SRC_IN && !json_is_null(c->value) && value_type_keeps(a, c->value))
			return emit_lent(x, dst, at, json_string_value(a->type->konst), a->type_id) == ATTEST_OK
				   ? M_CONTINUE
				   : x->rc;
	}
	if (eval_expr(x, a->type, &type, &tro) != ATTEST_OK || eval_expr(x, a->value, &value, &vro) != ATTEST_OK)
		goto fail;
	if (!json_is_string(type)) {
		attest_err_set(x->err, ATTEST_E_POLICY, "policy.eval.type", "%s rule %u (line %u): the claim type is a %s, not a string",
			       policy_section_name(r->section), r->index, r->line, value_type_of(type));
		x->rc = ATTEST_E_POLICY;
		goto fail;
	}
	if (value == NULL || json_is_null(value)) { /* §3.3: adding an empty value is a no-op */
		json_decref(type);
		json_decref(value);
		return M_CONTINUE;
	}
	if (convert_value_type(x, a, &value) != ATTEST_OK)
		goto fail;
	if (a->type->kind == EX_CONST) {
		tname = json_string_value(a->type->konst); /* the plan outlives the evaluation */
	} else if ((tname = strdup(json_string_value(type))) == NULL) {
		nomem(x);
		goto fail;
	} else {
		towned = true;
	}
	json_decref(type);
	/* -2: a computed type, looked up now; a constant's id was resolved at compile time.
	 * emit() takes tname: into the working list, or freed on failure. */
	if (emit(x, tname, towned, !towned, towned ? -2 : a->type_id, value, vro) != ATTEST_OK)
		return x->rc;
	return M_CONTINUE; // NOLINT(clang-analyzer-unix.Malloc)
fail:
	json_decref(type);
	json_decref(value);
	return x->rc ? x->rc : ATTEST_E_POLICY;
}

/* ---- Matching ------------------------------------------------------------ */

static int match(struct ectx *x, unsigned k)
{
	const struct pol_rule *r = x->rule;
	const struct pol_cond *cd;
	unsigned ci;
	bool found = false;

	if (k == r->nconds)
		return fire(x);
	ci = r->order[k];
	cd = &r->conds[ci];
	for (int i = cand_first(x, cd); i >= 0; i = cand_next(x, cd, i)) {
		int rc;

		if (++x->steps > POL_MAX_STEPS) {
			attest_err_set(x->err, ATTEST_E_POLICY, "policy.eval.too_complex",
				       "%s rule %u (line %u): evaluation took more than %lu steps (a join over too many claims)",
				       policy_section_name(r->section), r->index, r->line, POL_MAX_STEPS);
			return x->rc = ATTEST_E_POLICY;
		}
		if (!cond_match(x, cd, &x->c[i])) {
			if (x->rc != ATTEST_OK)
				return x->rc;
			continue;
		}
		if (cd->negated) {
			found = true;
			break;
		}
		if (cd->slot >= 0)
			x->bind[cd->slot] = i;
		x->match_of[ci] = i;
		rc = match(x, k + 1);
		if (rc != M_CONTINUE || !cd->used)
			return rc;
	}
	if (cd->negated && !found) {
		x->match_of[ci] = -1;
		return match(x, k + 1);
	}
	return M_CONTINUE;
}

static int trace_why(struct ectx *x);

static int run_rule(struct ectx *x, const struct pol_rule *r, struct policy_rule_trace *t)
{
	int rc;

	x->rule = r;
	x->limit = x->n;
	x->firings = 0;
	x->trace = t;
	for (unsigned s = 0; s < r->nslots; s++)
		x->bind[s] = -1;
	if (t != NULL) {
		t->section = r->section;
		t->index = r->index;
		t->line = r->line;
		t->col = r->col;
	}
	rc = match(x, 0);
	if (rc != M_CONTINUE && rc != M_STOP)
		return rc;
	if (t != NULL && t->fired == 0)
		return trace_why(x);
	return ATTEST_OK;
}

/* ---- Explain ---------------------------------------------------------------- */

/*
 * A piece of an explain text: either a string that outlives the text being
 * built (ext: a constant, a claim's type or issuer) or bytes in buf (a
 * value's short rendering with its operator). Copyable (no pointer into
 * itself).
 */
#define PIECE_CAP (16 + POL_BRIEF_MAX + 2) /* "valueType != " and a brief */
_Static_assert(PIECE_CAP >= sizeof("valueType != ") - 1 + POL_BRIEF_MAX + 2, "room for a test's text");

struct piece {
	const char *ext; /* NULL: the text is buf */
	size_t n;        /* its length */
	char buf[PIECE_CAP];
};

static const char *piece_str(const struct piece *p) { return p->ext != NULL ? p->ext : p->buf; }

static void piece_ext(struct piece *p, const char *s)
{
	p->ext = s;
	p->n = strlen(s);
}

/* Appends s to the text in p->buf (the sizes above leave room; cut if not). */
static void piece_add(struct piece *p, const char *s, size_t n)
{
	if (n > sizeof(p->buf) - 1 - p->n)
		n = sizeof(p->buf) - 1 - p->n;
	memcpy(p->buf + p->n, s, n);
	p->n += n;
	p->buf[p->n] = '\0';
}

static const char *negate_op(enum pol_op op)
{
	static const char *const N[] = {"!=", "==", ">=", ">", "<=", "<"};
	return N[op];
}

/* The short rendering of v into p (ATTEST_OK), or policy.nomem as before when v cannot be rendered. */
static int piece_brief(struct ectx *x, struct piece *p, const json_t *v)
{
	int n = pol_value_brief_to(v, p->buf);

	p->ext = NULL;
	if (n < 0)
		return nomem(x);
	p->n = (size_t)n;
	return ATTEST_OK;
}

/* "<op> <rhs>" of a test, prefixed with the property unless it is the value: rendered now. */
static int test_text_render(struct ectx *x, const struct pol_test *t, bool negate, struct piece *out)
{
	json_t *rhs = NULL;
	bool ro;
	const char *op = negate ? negate_op(t->op) : pol_op_str(t->op);
	int n;

	if (t->rhs->kind == EX_CONST)
		rhs = json_incref(t->rhs->konst);
	else if (eval_expr(x, t->rhs, &rhs, &ro) != ATTEST_OK)
		x->rc = ATTEST_OK, attest_err_clear(x->err); /* explain only: describe what we can */
	out->ext = NULL;
	out->n = 0;
	if (t->prop != PROP_VALUE) {
		piece_add(out, pol_prop_name(t->prop), strlen(pol_prop_name(t->prop)));
		piece_add(out, " ", 1);
	}
	piece_add(out, op, strlen(op));
	piece_add(out, " ", 1);
	if (rhs == NULL) {
		piece_add(out, "(error)", 7);
		return ATTEST_OK;
	}
	/* The rendering goes straight after the prefix (at most "valueType != "): PIECE_CAP leaves room. */
	n = pol_value_brief_to(rhs, out->buf + out->n);
	json_decref(rhs);
	if (n < 0)
		return nomem(x);
	out->n += (size_t)n;
	return ATTEST_OK;
}

/*
 * The cached text of a test with a constant right-hand side: the first
 * evaluation that needs it renders it into the plan's arena (the plan is
 * shared by concurrent evaluations: the arena is taken under the plan's
 * explain_lock, the text published with release order, read with acquire
 * order). NULL when the plan's arena is full: the caller renders it.
 */
static const struct pol_text *test_text_cached(struct ectx *x, const struct pol_test *t)
{
	/* The cache is the one mutable part of a plan (policy_int.h). */
	struct pol_test *mt = (struct pol_test *)t;
	struct policy_plan *plan = (struct policy_plan *)x->plan;
	const struct pol_text *c = atomic_load_explicit(&mt->text, memory_order_acquire);
	struct piece pc;

	if (c != NULL)
		return c;
	if (test_text_render(x, t, false, &pc) != ATTEST_OK)
		return NULL;
	while (atomic_exchange_explicit(&plan->explain_lock, 1, memory_order_acquire) != 0)
		sched_yield();
	c = atomic_load_explicit(&mt->text, memory_order_relaxed);
	if (c == NULL) {
		struct pol_text *n = arena_alloc(&plan->arena, sizeof(*n) + pc.n + 1);

		if (n != NULL) {
			n->n = (uint32_t)pc.n;
			memcpy(n->s, pc.buf, pc.n + 1);
			atomic_store_explicit(&mt->text, n, memory_order_release);
		}
		c = n;
	}
	atomic_store_explicit(&plan->explain_lock, 0, memory_order_release);
	return c;
}

/* "<op> <rhs>" of a test: from the plan's cache when the right-hand side is a constant. */
static int test_text(struct ectx *x, const struct pol_test *t, bool negate, struct piece *out)
{
	if (!negate && t->rhs->kind == EX_CONST) {
		const struct pol_text *c = test_text_cached(x, t);

		if (c != NULL) {
			out->ext = c->s;
			out->n = c->n;
			return ATTEST_OK;
		}
		if (x->rc != ATTEST_OK)
			return x->rc;
	}
	return test_text_render(x, t, negate, out);
}

/* The short rendering of working claim i's value, from the cache when it was made before. */
static int claim_brief(struct ectx *x, int i, struct piece *out)
{
	char *d;
	int n;

	if (i >= WC_STACK)
		return piece_brief(x, out, x->c[i].value);
	if (x->brief_have & (1ull << i)) {
		out->ext = x->brief_s[i];
		out->n = x->brief_n[i];
		return ATTEST_OK;
	}
	/* Rendered straight into the result's text pool; the unused end goes back to it (nothing was taken since). */
	_Static_assert(POL_BRIEF_MAX + 2 <= POL_TEXT_CHUNK && POL_BRIEF_MAX <= UINT8_MAX,
		       "a brief fits a chunk and brief_n");
	if ((d = text_take(x, POL_BRIEF_MAX + 2)) == NULL)
		return nomem(x);
	if ((n = pol_value_brief_to(x->c[i].value, d)) < 0)
		return nomem(x);
	x->tp = d + n + 1;
	x->tp_left += POL_BRIEF_MAX + 2 - ((size_t)n + 1);
	x->brief_s[i] = out->ext = d;
	x->brief_n[i] = (uint8_t)n;
	out->n = (size_t)n;
	x->brief_have |= 1ull << i;
	return ATTEST_OK;
}

static int prop_brief(struct ectx *x, int i, enum pol_prop p, struct piece *out)
{
	const struct wc *c = &x->c[i];

	switch (p) {
	case PROP_VALUE: return claim_brief(x, i, out);
	case PROP_TYPE: piece_ext(out, c->type); break;
	case PROP_ISSUER: piece_ext(out, c->issuer); break;
	default: piece_ext(out, value_type_of(c->value)); break;
	}
	return ATTEST_OK;
}

/*
 * The first unmet condition of a rule: the claim type it names, what it
 * tested and what the claim held. The pieces borrow from the plan and the
 * working claims: valid during the evaluation, copied into the result.
 */
struct unmet {
	unsigned met;                /* conditions met before the first unmet one (text order) */
	const struct pol_cond *cond; /* NULL: all met */
	const char *claim_type;
	struct piece expected, found;
};

/* Describes why condition cd has no match: the first claim of its type and the test it fails. */
static int describe_unmet(struct ectx *x, const struct pol_cond *cd, struct unmet *u)
{
	/* The condition's constant type (its text is the plan's interned name), or any type. */
	u->claim_type = cd->type_id >= 0 ? x->plan->names[cd->type_id] : "(any type)";
	if (cd->negated) {
		for (int i = cand_first(x, cd); i >= 0; i = cand_next(x, cd, i))
			if (cond_match(x, cd, &x->c[i])) {
				piece_ext(&u->expected, "absent");
				return claim_brief(x, i, &u->found);
			}
	}
	for (int i = cand_first(x, cd); i >= 0; i = cand_next(x, cd, i)) {
		const struct wc *c = &x->c[i];

		if (cd->issuer >= 0 && c->iss != cd->issuer)
			continue;
		for (unsigned j = 0; j < cd->ntests; j++)
			if (!test_match(x, c, &cd->tests[j])) {
				if (x->rc != ATTEST_OK) {
					x->rc = ATTEST_OK;
					attest_err_clear(x->err);
				}
				if (test_text(x, &cd->tests[j], false, &u->expected) != ATTEST_OK)
					return x->rc;
				return prop_brief(x, i, cd->tests[j].prop, &u->found);
			}
	}
	/* No claim of the type (or issuer) at all. */
	piece_ext(&u->found, "absent");
	for (unsigned j = 0; j < cd->ntests; j++)
		if (!cd->tests[j].implied || j + 1 == cd->ntests) {
			if (!cd->tests[j].implied)
				return test_text(x, &cd->tests[j], false, &u->expected);
			piece_ext(&u->expected, "present");
			return ATTEST_OK;
		}
	return nomem(x); /* a condition without tests matches any claim: as before, nothing to name */
}

/* Greedy text-order walk of a rule's conditions (diagnostics only). */
static int find_unmet(struct ectx *x, const struct pol_rule *r, struct unmet *u)
{
	u->met = 0;
	u->cond = NULL;
	x->rule = r;
	for (unsigned s = 0; s < POL_MAX_SLOTS; s++)
		x->bind[s] = -1;
	for (unsigned k = 0; k < r->nconds; k++) {
		const struct pol_cond *cd = &r->conds[k];
		int hit = -1;

		for (int i = cand_first(x, cd); i >= 0 && hit < 0; i = cand_next(x, cd, i))
			if (cond_match(x, cd, &x->c[i]))
				hit = i;
		if (x->rc != ATTEST_OK) { /* diagnostics only: an error here is not the evaluation's */
			x->rc = ATTEST_OK;
			attest_err_clear(x->err);
		}
		if ((hit >= 0) == cd->negated) {
			u->cond = cd;
			return describe_unmet(x, cd, u);
		}
		if (cd->slot >= 0)
			x->bind[cd->slot] = hit;
		u->met++;
	}
	return ATTEST_OK;
}

static int trace_why(struct ectx *x)
{
	struct unmet u;
	const struct pol_rule *r = x->rule;
	size_t lim = x->limit;
	int rc;

	if (r->nconds == 1) {
		/*
		 * match() has just tried this one condition on every claim it
		 * may see and found none (or, negated, found one): it is the
		 * unmet one, with no binding before it. Only its description
		 * is left to make.
		 */
		u.met = 0;
		u.cond = &r->conds[0];
		rc = describe_unmet(x, u.cond, &u);
	} else {
		rc = find_unmet(x, r, &u);
	}
	x->limit = lim;
	if (rc != ATTEST_OK)
		return rc;
	if (u.cond != NULL) {
		/* "<claim type> expected <expected>, found <found>" */
		size_t ctn = u.cond->type_id >= 0 ? x->plan->name_len[u.cond->type_id] : strlen(u.claim_type);
		char *d = text_take(x, ctn + 10 + u.expected.n + 8 + u.found.n + 1);

		if ((x->trace->why = d) != NULL) {
			memcpy(d, u.claim_type, ctn);
			d += ctn;
			memcpy(d, " expected ", 10);
			d += 10;
			memcpy(d, piece_str(&u.expected), u.expected.n);
			d += u.expected.n;
			memcpy(d, ", found ", 8);
			d += 8;
			memcpy(d, piece_str(&u.found), u.found.n);
			d[u.found.n] = '\0';
		}
	} else {
		static const char ADDED[] = "matched only after its own additions";

		x->trace->why = text_dup(x, ADDED, sizeof(ADDED) - 1);
	}
	return x->trace->why != NULL ? ATTEST_OK : nomem(x);
}

static int denial_new(struct ectx *x, enum policy_verdict v, const struct pol_rule *r)
{
	if ((x->denial = arena_alloc(x->arena, sizeof(*x->denial))) == NULL)
		return nomem(x);
	x->denial->verdict = v;
	x->denial->section = POLICY_SECTION_AUTHORIZATION;
	if (r != NULL) {
		x->denial->section = r->section;
		x->denial->rule = r->index;
		x->denial->line = r->line;
		x->denial->col = r->col;
	}
	return ATTEST_OK;
}

/* The denial's three texts, copied into the result's arena. */
static int denial_texts(struct ectx *x, const char *claim_type, const struct piece *expected,
			const struct piece *found)
{
	struct policy_denial *d = x->denial;

	if ((d->claim_type = text_dup(x, claim_type, strlen(claim_type))) == NULL ||
	    (d->expected = text_dup(x, piece_str(expected), expected->n)) == NULL ||
	    (d->found = text_dup(x, piece_str(found), found->n)) == NULL)
		return nomem(x);
	return ATTEST_OK;
}

/* The first deny() that fired: the claim its first positive typed condition matched. */
static int record_deny(struct ectx *x)
{
	const struct pol_rule *r = x->rule;

	if (denial_new(x, POLICY_DENY, r) != ATTEST_OK)
		return x->rc;
	for (unsigned k = 0; k < r->nconds; k++) {
		const struct pol_cond *cd = &r->conds[k];
		const struct wc *c;
		struct piece expected, found;

		if (cd->negated || x->match_of[k] < 0)
			continue;
		c = &x->c[x->match_of[k]];
		if (piece_brief(x, &found, c->value) != ATTEST_OK)
			return x->rc;
		piece_ext(&expected, "absent");
		for (unsigned j = 0; j < cd->ntests; j++)
			if (!cd->tests[j].implied && cd->tests[j].prop == PROP_VALUE) {
				if (test_text(x, &cd->tests[j], true, &expected) != ATTEST_OK)
					return x->rc;
				break;
			}
		return denial_texts(x, c->type, &expected, &found);
	}
	return ATTEST_OK;
}

/* No permit: the permit() rule that came closest, and its first unmet condition. */
static int record_no_permit(struct ectx *x)
{
	struct unmet best, u;
	const struct pol_rule *best_rule = NULL;
	int rc = ATTEST_OK;

	x->limit = x->n;
	for (unsigned i = 0; i < x->plan->nrules && rc == ATTEST_OK; i++) {
		const struct pol_rule *r = &x->plan->rules[i];

		if (r->action.kind != ACT_PERMIT)
			continue;
		rc = find_unmet(x, r, &u);
		if (rc == ATTEST_OK && u.cond != NULL && (best_rule == NULL || u.met > best.met)) {
			best = u;
			best_rule = r;
		}
	}
	if (rc == ATTEST_OK && denial_new(x, POLICY_NO_PERMIT, best_rule) == ATTEST_OK && best_rule != NULL)
		denial_texts(x, best.claim_type, &best.expected, &best.found);
	return x->rc;
}

/* ---- Driver ---------------------------------------------------------------- */

static int run_section(struct ectx *x, enum policy_section s, struct policy_explain *ex)
{
	/* The plan stores rules section by section, in evaluation order (parse.c). */
	unsigned first = 0;

	for (unsigned k = 0; k < (unsigned)s; k++)
		first += x->plan->count[k];
	for (unsigned i = first; i < first + x->plan->count[s]; i++) {
		const struct pol_rule *r = &x->plan->rules[i];
		struct policy_rule_trace *t = NULL;
		int rc;

		if (ex != NULL)
			t = &ex->rules[ex->nrules++];
		else if (x->deny && s == POLICY_SECTION_AUTHORIZATION)
			break; /* the outcome is decided; explain mode records every rule */
		if ((rc = run_rule(x, r, t)) != ATTEST_OK)
			return rc;
	}
	return ATTEST_OK;
}

/*
 * Version 1.0 policies set properties with issueproperty() in issuancerules
 * (§3.3). Those without conditions depend on no claim, so they are known
 * before verification too: policy_eval_config runs them after the
 * configuration rules.
 */
static int run_unconditional_properties(struct ectx *x)
{
	for (unsigned i = 0; i < x->plan->nrules; i++) {
		const struct pol_rule *r = &x->plan->rules[i];
		int rc;

		if (r->section == POLICY_SECTION_ISSUANCE && r->action.kind == ACT_ISSUEPROPERTY && r->nconds == 0 &&
		    (rc = run_rule(x, r, NULL)) != ATTEST_OK)
			return rc;
	}
	return ATTEST_OK;
}

/*
 * Incoming claims plus the policy's, for explain. No value is reference
 * counted (issue 13: two atomic operations per claim were most of what
 * explain still cost): the incoming claims and the issued ones are lent
 * by the incoming, outgoing and properties sets, which this set keeps
 * alive (claims.h, lending), and the references the context owns (the
 * claims add() made) are handed over. Types: a lent claim's own in its
 * set (the incoming set, outgoing or properties: kept alive, their names
 * the plan's, theirs or the incoming set's); for the claims add() made the
 * plan's names where the plan has them (the result holds the plan), else a
 * copy in the result's arena (released after this set in
 * policy_result_free). This set then keeps alive every value the
 * bindings of the trace point to.
 */
static int final_incoming(struct ectx *x, const struct claim_set *in, struct claim_set **out)
{
	struct claim_set *s = claim_set_new();
	size_t count = 0, nout = 0, nprops = 0;

	for (size_t i = 0; i < x->n; i++)
		count += !x->c[i].virt;
	if (s == NULL || claim_set_reserve(s, count) != ATTEST_OK) {
		claim_set_free(s);
		return nomem(x);
	}
	/* The incoming claims come first in the working list, in their order. */
	if (in != NULL && claim_set_count(in) > 0 &&
	    claim_set_add_lent_range(s, in, 0, claim_set_count(in), 0) != ATTEST_OK) {
		claim_set_free(s);
		return nomem(x);
	}
	for (size_t i = in != NULL ? claim_set_count(in) : 0; i < x->n; i++) {
		struct wc *c = &x->c[i];
		const char *type;
		size_t run = 1;
		int rc;

		if (c->src == SRC_OUT || c->src == SRC_PROPS) {
			/*
			 * A run of claims issued to one set, in its order: lent with
			 * that set's names (the plan's, its own copies, or the
			 * incoming set's: all outlive this set).
			 */
			bool out_set = c->src == SRC_OUT;
			size_t *at = out_set ? &nout : &nprops;

			while (i + run < x->n && x->c[i + run].src == c->src)
				run++;
			rc = claim_set_add_lent_range(s, out_set ? x->outgoing : x->props, *at, run, CLAIM_LEND_NAMES);
			*at += run;
			i += run - 1;
		} else if (c->virt) {
			continue;
		} else {
			type = c->type_plan ? c->type : c->type_id >= 0 ? x->plan->names[c->type_id] : result_type(x, c);
			if (type == NULL) {
				claim_set_free(s);
				return nomem(x);
			}
			/* The context's reference goes to the set (which drops it if the add fails). */
			rc = claim_set_add_borrowed(s, type, c->issuer, c->owned ? c->value : json_incref(c->value));
			c->owned = false;
		}
		if (rc != ATTEST_OK) {
			claim_set_free(s);
			return nomem(x);
		}
	}
	*out = s;
	return ATTEST_OK;
}

void policy_result_free(struct policy_result *r)
{
	struct result_box *box = (struct result_box *)r;

	if (r == NULL)
		return;
	claim_set_free(r->outgoing);
	claim_set_free(r->properties);
	claim_set_free(r->final_incoming); /* before the arena its types live in */
	policy_plan_free(r->plan);         /* after the sets that borrow from it */
	arena_release(&box->arena);        /* the trace, the denial */
	free(box);
}

static int evaluate(const struct policy_plan *plan, const struct claim_set *incoming, unsigned flags, bool config_only,
		    struct policy_result **out, struct attest_err *err)
{
	struct ectx x;
	struct result_box *box = calloc(1, sizeof(*box));
	struct policy_result *res = box ? &box->pub : NULL;
	struct policy_explain *ex = NULL;
	int rc;

	/* Not one memset: the context carries stack arrays that need no zeroing (cstack to brief_n). */
	memset(&x, 0, offsetof(struct ectx, cstack));
	memset(&x.outgoing, 0, sizeof(x) - offsetof(struct ectx, outgoing));
	x.err = err;
	x.explain = (flags & POLICY_EVAL_EXPLAIN) != 0;
	x.iss_policy = CLAIM_ISSUER_POLICY;
	if (box != NULL)
		arena_init(&box->arena, POL_RESULT_ARENA_MAX);
	if (res == NULL || (res->outgoing = claim_set_new()) == NULL || (res->properties = claim_set_new()) == NULL) {
		policy_result_free(res);
		return attest_err_set(err, ATTEST_E_NOMEM, "policy.nomem", "out of memory evaluating the policy");
	}
	x.arena = &box->arena;
	x.outgoing = res->outgoing;
	x.props = res->properties;
	res->plan = policy_plan_ref((struct policy_plan *)plan);
	if (x.explain) {
		size_t rules_size = plan->nrules * sizeof(*ex->rules);

		/* In the result's arena, zeroed; the result owns it from here on. */
		res->explain = ex = arena_alloc(x.arena, sizeof(*ex));
		if (ex == NULL || (rules_size != 0 && (ex->rules = arena_alloc(x.arena, rules_size)) == NULL)) {
			rc = nomem(&x);
			goto out;
		}
	}
	if ((rc = ctx_init(&x, plan, incoming)) != ATTEST_OK ||
	    (rc = run_section(&x, POLICY_SECTION_CONFIGURATION, ex)) != ATTEST_OK)
		goto out;
	if (config_only) {
		rc = run_unconditional_properties(&x);
		goto out;
	}
	if ((rc = run_section(&x, POLICY_SECTION_AUTHORIZATION, ex)) != ATTEST_OK)
		goto out;
	if (x.deny)
		res->verdict = POLICY_DENY;
	else if (!x.permit)
		res->verdict = POLICY_NO_PERMIT;
	if (res->verdict == POLICY_NO_PERMIT && (rc = record_no_permit(&x)) != ATTEST_OK)
		goto out;
	if (res->verdict == POLICY_PERMIT && (rc = run_section(&x, POLICY_SECTION_ISSUANCE, ex)) != ATTEST_OK)
		goto out;
	if (x.explain && (rc = final_incoming(&x, incoming, &res->final_incoming)) != ATTEST_OK)
		goto out;
	res->denial = x.denial; /* in the result's arena */
out:
	ctx_free(&x);
	if (rc != ATTEST_OK) {
		policy_result_free(res);
		return rc;
	}
	*out = res;
	return ATTEST_OK;
}

int policy_eval(const struct policy_plan *plan, const struct claim_set *incoming, unsigned flags,
		struct policy_result **out, struct attest_err *err)
{
	return evaluate(plan, incoming, flags, false, out, err);
}

int policy_eval_config(const struct policy_plan *plan, struct claim_set **out, struct attest_err *err)
{
	struct policy_result *r = NULL;
	int rc = evaluate(plan, NULL, 0, true, &r, err);

	if (rc != ATTEST_OK || r == NULL)
		return rc != ATTEST_OK ? rc : ATTEST_E_INTERNAL;
	*out = r->properties;
	r->properties = NULL; /* transferred */
	policy_result_free(r);
	return ATTEST_OK;
}
