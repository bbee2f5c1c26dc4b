/*
 * AST → evaluation plan (see the design note in policy_int.h): identifiers
 * to slots, constant type tests to interned ids, constant issuer tests to
 * issuer codes, static type checks, constant JMESPath queries compiled,
 * and an evaluation order per rule.
 */
#include "policy/policy_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/codec.h"
#include "crypto/crypto.h"

void policy_limits_default(struct policy_limits *lim)
{
	lim->max_bytes = POLICY_DEFAULT_MAX_BYTES;
	lim->max_rules = POLICY_DEFAULT_MAX_RULES;
	lim->max_depth = POLICY_DEFAULT_MAX_DEPTH;
	lim->max_conditions = POLICY_DEFAULT_MAX_CONDITIONS;
	lim->max_string = POLICY_DEFAULT_MAX_STRING;
	lim->max_matches = POLICY_DEFAULT_MAX_MATCHES;
}

const char *policy_section_name(enum policy_section s)
{
	static const char *const N[] = {"configurationrules", "authorizationrules", "issuancerules"};
	return (unsigned)s < 3 ? N[s] : "?";
}

const char *policy_verdict_name(enum policy_verdict v)
{
	static const char *const N[] = {"permit", "deny", "no permit"};
	return (unsigned)v < 3 ? N[v] : "?";
}

const char *pol_func_name(enum pol_func fn)
{
	static const char *const N[] = {"JmesPath",   "JsonToClaimValue", "IsSubsetOf",
					"AppendString", "NegateBool",     "ContainsOnlyValue"};
	return N[fn];
}

const char *pol_op_str(enum pol_op op)
{
	static const char *const N[] = {"==", "!=", "<", "<=", ">", ">="};
	return N[op];
}

const char *pol_prop_name(enum pol_prop p)
{
	static const char *const N[] = {"type", "value", "valueType", "issuer"};
	return N[p];
}

/* §2.9: the old SGX default policy addressed incoming claims by these names. */
const char *pol_type_alias(const char *name)
{
	static const char *const A[][2] = {
		{"$is-debuggable", "x-ms-sgx-is-debuggable"}, {"$sgx-mrsigner", "x-ms-sgx-mrsigner"},
		{"$sgx-mrenclave", "x-ms-sgx-mrenclave"},     {"$product-id", "x-ms-sgx-product-id"},
		{"$svn", "x-ms-sgx-svn"},                     {"$tee", "x-ms-attestation-type"},
	};
	if (name[0] != '$')
		return NULL;
	for (size_t i = 0; i < sizeof(A) / sizeof(A[0]); i++)
		if (strcmp(name, A[i][0]) == 0)
			return A[i][1];
	return NULL;
}

bool pol_type_readonly(const char *type)
{
	return strcmp(type, "pcrs") == 0 || strcmp(type, "events") == 0 || strcmp(type, "bootEvents") == 0;
}

/* ---- Interning ----------------------------------------------------------- */

/*
 * The hash of a claim type: its length and its first and last eight bytes.
 * Claim types share long prefixes ("x-ms-sgx-") and differ near the end, so
 * this separates them as well as a hash over every byte, at a fixed cost per
 * name (the evaluator hashes every incoming claim's type); equal hashes are
 * resolved by comparing the names.
 */
static uint32_t name_hash(const char *s, size_t n)
{
	uint64_t a = 0, b = 0, h;

	if (n >= 8) {
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
	} else {
		memcpy(&a, s, n);
	}
	h = (a * 0x9E3779B97F4A7C15ull) ^ (b * 0xC2B2AE3D27D4EB4Full) ^ ((uint64_t)n * 0x165667B19E3779F9ull);
	h ^= h >> 29;
	return (uint32_t)(h ^ (h >> 32));
}

static int probe(const struct policy_plan *plan, const char *name, uint32_t len, uint32_t h)
{
	uint32_t mask = plan->table_size - 1;

	for (uint32_t i = h & mask;; i = (i + 1) & mask) {
		int id = plan->table[i];

		if (id < 0)
			return -1;
		if (plan->name_hash[id] == h && plan->name_len[id] == len && memcmp(plan->names[id], name, len) == 0)
			return id;
	}
}

int pol_intern_lookup(const struct policy_plan *plan, const char *name, size_t len)
{
	if (plan->table_size == 0 || len > UINT32_MAX)
		return -1;
	return probe(plan, name, (uint32_t)len, name_hash(name, len));
}

int pol_intern_lookup_z(const struct policy_plan *plan, const char *name)
{
	return pol_intern_lookup(plan, name, strlen(name));
}

static int intern(struct policy_plan *plan, const char *name, struct attest_err *err)
{
	size_t len = strlen(name);
	int id = pol_intern_lookup(plan, name, len);
	uint32_t mask = plan->table_size - 1, i, h = name_hash(name, len);

	if (id >= 0)
		return id;
	if (plan->nnames * 2 >= plan->table_size || len > UINT32_MAX)
		return attest_err_set(err, ATTEST_E_INTERNAL, "policy.internal", "intern table full"), -1;
	id = (int)plan->nnames++;
	plan->names[id] = name;
	plan->name_hash[id] = h;
	plan->name_len[id] = (uint32_t)len;
	for (i = h & mask; plan->table[i] >= 0; i = (i + 1) & mask)
		;
	plan->table[i] = id;
	return id;
}

static int intern_init(struct policy_plan *plan, struct attest_err *err)
{
	unsigned n = 0, size = 16;

	for (unsigned r = 0; r < plan->nrules; r++)
		n += plan->rules[r].nconds;
	while (size < 2 * n + 2)
		size *= 2;
	plan->names = arena_alloc(&plan->arena, (n + 1) * sizeof(*plan->names));
	plan->name_hash = arena_alloc(&plan->arena, (n + 1) * sizeof(*plan->name_hash));
	plan->name_len = arena_alloc(&plan->arena, (n + 1) * sizeof(*plan->name_len));
	plan->table = arena_alloc(&plan->arena, size * sizeof(*plan->table));
	if (plan->names == NULL || plan->table == NULL || plan->name_hash == NULL || plan->name_len == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "policy.nomem", "out of memory compiling");
	for (unsigned i = 0; i < size; i++)
		plan->table[i] = -1;
	plan->table_size = size;
	return ATTEST_OK;
}

/* ---- Checks and resolution ----------------------------------------------- */

static int fail_expr(struct attest_err *err, unsigned line, unsigned col, const char *name, const char *msg)
{
	attest_err_set(err, ATTEST_E_POLICY, name, "%s", msg);
	attest_err_where(err, "line %u column %u", line, col);
	return ATTEST_E_POLICY;
}

static int slot_of(const struct pol_rule *r, unsigned nbound, const char *ident)
{
	for (unsigned i = 0; i < nbound; i++)
		if (strcmp(r->slot_names[i], ident) == 0)
			return (int)i;
	return -1;
}

static int add_jmes(struct policy_plan *plan, struct jmes_expr *j, struct attest_err *err)
{
	struct jmes_expr **v = realloc(plan->jmes, (plan->njmes + 1) * sizeof(struct jmes_expr *));

	if (v == NULL) {
		jmes_free(j);
		return attest_err_set(err, ATTEST_E_NOMEM, "policy.nomem", "out of memory compiling");
	}
	plan->jmes = v;
	plan->jmes[plan->njmes++] = j;
	return ATTEST_OK;
}

static unsigned func_arity(enum pol_func fn)
{
	return fn == FN_JSONTOCLAIMVALUE || fn == FN_NEGATEBOOL ? 1 : 2;
}

/*
 * Resolves an expression's references against the slots bound so far
 * (nbound) and checks calls; *deps collects the slots it reads.
 */
static int resolve_expr(struct policy_plan *plan, struct pol_rule *r, unsigned nbound, const bool *negated,
			struct pol_expr *e, unsigned *deps, bool *calls, struct attest_err *err)
{
	char msg[ATTEST_ERR_MSG_MAX];
	int rc;

	if (e->kind == EX_REF) {
		e->slot = slot_of(r, nbound, e->ident);
		if (e->slot < 0) {
			snprintf(msg, sizeof(msg), "identifier '%.40s' is not bound by an earlier condition of this rule",
				 e->ident);
			return fail_expr(err, e->line, e->col, "policy.ident", msg);
		}
		if (negated[e->slot]) {
			snprintf(msg, sizeof(msg), "identifier '%.40s' names an absence condition (!), which binds no claim",
				 e->ident);
			return fail_expr(err, e->line, e->col, "policy.ident", msg);
		}
		*deps |= 1u << e->slot;
		return ATTEST_OK;
	}
	if (e->kind != EX_CALL)
		return ATTEST_OK;
	*calls = true;
	if (e->nargs != func_arity(e->fn)) {
		snprintf(msg, sizeof(msg), "%s takes %u argument%s, not %u", pol_func_name(e->fn), func_arity(e->fn),
			 func_arity(e->fn) == 1 ? "" : "s", e->nargs);
		return fail_expr(err, e->line, e->col, "policy.function", msg);
	}
	for (unsigned i = 0; i < e->nargs; i++)
		if ((rc = resolve_expr(plan, r, nbound, negated, e->args[i], deps, calls, err)) != ATTEST_OK)
			return rc;
	if (e->fn == FN_JMESPATH && e->args[1]->kind == EX_CONST) {
		const json_t *q = e->args[1]->konst;
		struct attest_err jerr;

		if (!json_is_string(q))
			return fail_expr(err, e->args[1]->line, e->args[1]->col, "policy.type",
					 "JmesPath's query must be a string");
		attest_err_clear(&jerr);
		if (jmes_compile(json_string_value(q), json_string_length(q), &e->jmes, &jerr) != ATTEST_OK) {
			snprintf(msg, sizeof(msg), "JmesPath query: %.250s (%.60s)", jerr.msg, jerr.where);
			return fail_expr(err, e->args[1]->line, e->args[1]->col, "policy.jmespath", msg);
		}
		if ((rc = add_jmes(plan, e->jmes, err)) != ATTEST_OK)
			return rc;
	}
	return ATTEST_OK;
}

/* Static type checks of one property test (§3.3: ordering is for Integer only). */
static int check_test(const struct pol_test *t, struct attest_err *err)
{
	bool ordering = t->op != OP_EQ && t->op != OP_NE;
	const json_t *k = t->rhs->kind == EX_CONST ? t->rhs->konst : NULL;
	char msg[200];

	if (ordering && t->prop != PROP_VALUE) {
		snprintf(msg, sizeof(msg), "'%s' compares integers; %s is a string", pol_op_str(t->op),
			 pol_prop_name(t->prop));
		return fail_expr(err, t->line, t->col, "policy.type", msg);
	}
	if (ordering && k != NULL && !json_is_integer(k)) {
		snprintf(msg, sizeof(msg), "'%s' compares integers; the value given is a %s", pol_op_str(t->op),
			 json_is_string(k) ? "string" : "boolean");
		return fail_expr(err, t->rhs->line, t->rhs->col, "policy.type", msg);
	}
	if (t->prop != PROP_VALUE && k != NULL && !json_is_string(k)) {
		snprintf(msg, sizeof(msg), "%s is a string; it cannot equal a %s", pol_prop_name(t->prop),
			 json_is_integer(k) ? "integer" : "boolean");
		return fail_expr(err, t->rhs->line, t->rhs->col, "policy.type", msg);
	}
	if (t->prop == PROP_VALUETYPE && k != NULL && strcmp(json_string_value(k), "String") != 0 &&
	    strcmp(json_string_value(k), "Integer") != 0 && strcmp(json_string_value(k), "Boolean") != 0 &&
	    strcmp(json_string_value(k), "Set") != 0 && strcmp(json_string_value(k), "JSON") != 0)
		return fail_expr(err, t->rhs->line, t->rhs->col, "policy.type",
				 "valueType is one of \"String\", \"Integer\", \"Boolean\" (or \"Set\", \"JSON\")");
	return ATTEST_OK;
}

static int issuer_code(const char *s)
{
	if (strcmp(s, CLAIM_ISSUER_SERVICE) == 0)
		return ISS_SERVICE;
	if (strcmp(s, CLAIM_ISSUER_POLICY) == 0)
		return ISS_POLICY;
	if (strcmp(s, CLAIM_ISSUER_CUSTOM) == 0)
		return ISS_CUSTOM;
	return -1;
}

/* Constant type== and issuer== tests become the condition's bucket and issuer code. */
static int index_cond(struct policy_plan *plan, struct pol_cond *c, struct attest_err *err)
{
	for (unsigned i = 0; i < c->ntests; i++) {
		struct pol_test *t = &c->tests[i];
		const json_t *k = t->rhs->kind == EX_CONST ? t->rhs->konst : NULL;

		if (k == NULL || t->op != OP_EQ)
			continue;
		if (t->prop == PROP_TYPE && c->type_id < 0) {
			const char *name = json_string_value(k);
			const char *alias = pol_type_alias(name);

			c->type_name = alias ? alias : name;
			if ((c->type_id = intern(plan, c->type_name, err)) < 0)
				return ATTEST_E_INTERNAL;
			t->implied = true;
		} else if (t->prop == PROP_ISSUER && c->issuer < 0 && issuer_code(json_string_value(k)) >= 0) {
			c->issuer = issuer_code(json_string_value(k));
			t->implied = true;
		}
	}
	return ATTEST_OK;
}

/* Cost class for ordering: cheap selective tests first, absence tests last. */
static unsigned cond_class(const struct pol_cond *c)
{
	if (c->negated)
		return 3;
	if (c->has_refs || c->has_calls)
		return 2;
	return c->type_id >= 0 ? 0 : 1;
}

static int compile_rule(struct policy_plan *plan, struct pol_rule *r, struct attest_err *err)
{
	bool negated[POL_MAX_SLOTS] = {false};
	unsigned nbound = 0, used = 0, k = 0;
	struct pol_action *a = &r->action;
	int rc;

	r->slot_names = arena_alloc(&plan->arena, POL_MAX_SLOTS * sizeof(char *));
	r->order = arena_alloc(&plan->arena, (r->nconds + 1) * sizeof(unsigned));
	if (r->slot_names == NULL || r->order == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "policy.nomem", "out of memory compiling");
	for (unsigned i = 0; i < r->nconds; i++) {
		struct pol_cond *c = &r->conds[i];
		unsigned deps = 0;
		bool calls = false;

		for (unsigned j = 0; j < c->ntests; j++) {
			if ((rc = resolve_expr(plan, r, nbound, negated, c->tests[j].rhs, &deps, &calls, err)) != ATTEST_OK ||
			    (rc = check_test(&c->tests[j], err)) != ATTEST_OK)
				return rc;
		}
		c->deps = deps;
		c->has_refs = deps != 0;
		c->has_calls = calls;
		used |= deps;
		if ((rc = index_cond(plan, c, err)) != ATTEST_OK)
			return rc;
		if (c->ident != NULL) {
			if (slot_of(r, nbound, c->ident) >= 0)
				return fail_expr(err, c->line, c->col, "policy.ident",
						 "an identifier is bound twice in one rule");
			if (nbound >= POL_MAX_SLOTS)
				return fail_expr(err, c->line, c->col, "policy.too_many_conditions",
						 "too many identifiers in one rule");
			negated[nbound] = c->negated;
			r->slot_names[nbound] = c->ident;
			c->slot = (int)nbound++;
		}
	}
	r->nslots = nbound;
	if (a->claim_slot == -2) {
		a->claim_slot = slot_of(r, nbound, a->value->ident);
		if (a->claim_slot < 0 || negated[a->claim_slot])
			return fail_expr(err, a->value->line, a->value->col, "policy.ident",
					 "claim= names an identifier that no (positive) condition of this rule binds");
		used |= 1u << a->claim_slot;
		a->value = NULL;
	} else if (a->type != NULL) {
		unsigned deps = 0;
		bool calls = false;

		if ((rc = resolve_expr(plan, r, nbound, negated, a->type, &deps, &calls, err)) != ATTEST_OK ||
		    (rc = resolve_expr(plan, r, nbound, negated, a->value, &deps, &calls, err)) != ATTEST_OK)
			return rc;
		if (a->type->kind == EX_CONST && !json_is_string(a->type->konst))
			return fail_expr(err, a->type->line, a->type->col, "policy.type", "a claim type must be a string");
		used |= deps;
	}
	for (unsigned i = 0; i < r->nconds; i++)
		r->conds[i].used = r->conds[i].slot >= 0 && (used & (1u << r->conds[i].slot)) != 0;
	/* Stable order by class; a condition only reads slots bound earlier in
	 * text, and a binder's class is never above the class of a reader of it
	 * except for class 2 readers of class 2 binders, which stay in text order. */
	for (unsigned cls = 0; cls < 4; cls++)
		for (unsigned i = 0; i < r->nconds; i++)
			if (cond_class(&r->conds[i]) == cls)
				r->order[k++] = i;
	return ATTEST_OK;
}

int pol_compile_plan(struct policy_plan *plan, struct attest_err *err)
{
	int rc;

	if ((rc = intern_init(plan, err)) != ATTEST_OK)
		return rc;
	for (unsigned i = 0; i < plan->nrules; i++)
		if ((rc = compile_rule(plan, &plan->rules[i], err)) != ATTEST_OK)
			return rc;
	/* Once every name is interned: the ids of constant action types, and the dotted names. */
	for (unsigned i = 0; i < plan->nrules; i++) {
		struct pol_action *a = &plan->rules[i].action;

		a->type_id = a->type != NULL && a->type->kind == EX_CONST
				     ? pol_intern_lookup(plan, json_string_value(a->type->konst), json_string_length(a->type->konst))
				     : -1;
	}
	if ((plan->dotted = arena_alloc(&plan->arena, (plan->nnames + 1) * sizeof(unsigned))) == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "policy.nomem", "out of memory compiling");
	for (unsigned id = 0; id < plan->nnames; id++)
		if (strchr(plan->names[id], '.') != NULL)
			plan->dotted[plan->ndotted++] = id;
	return ATTEST_OK;
}

/*
 * Constants of a compiled plan are read by every thread that evaluates it.
 * jansson's json_incref reads the reference count without an atomic load
 * before its atomic increment, which is a data race between threads; a
 * value whose count is (size_t)-1 is never counted (jansson's "static"
 * values). So a compiled plan's constants are made uncounted while the plan
 * lives (the evaluator copies them before they go into a result, which may
 * outlive the plan) and counted again, with the one reference the konsts
 * array holds, when the plan is freed.
 */
static void plan_konsts_immortal(struct policy_plan *plan, bool on)
{
	size_t i;
	json_t *v;

	for (i = 0; i < json_array_size(plan->konsts) && ((v) = json_array_get(plan->konsts, i)) != NULL; i++)
		v->refcount = on ? (size_t)-1 : 1;
}

/* ---- Public ------------------------------------------------------------- */

int policy_compile(const char *text, size_t len, const struct policy_limits *lim, struct policy_plan **out,
		   struct attest_err *err)
{
	struct policy_plan *plan = calloc(1, sizeof(*plan));
	int rc;

	if (plan == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "policy.nomem", "out of memory compiling");
	atomic_init(&plan->refs, 1);
	if (lim != NULL)
		plan->lim = *lim;
	else
		policy_limits_default(&plan->lim);
	/* The arena is bounded too: a policy within the size limit cannot take more. */
	arena_init(&plan->arena, 64 * (plan->lim.max_bytes + 4096));
	plan->konsts = json_array();
	if (plan->konsts == NULL) {
		rc = attest_err_set(err, ATTEST_E_NOMEM, "policy.nomem", "out of memory compiling");
		goto out;
	}
	if ((rc = pol_parse(plan, text, len, err)) != ATTEST_OK || (rc = pol_compile_plan(plan, err)) != ATTEST_OK)
		goto out;
	if ((rc = policy_hash_text(text, len, plan->hash)) != ATTEST_OK) {
		attest_err_set(err, rc, "policy.nomem", "out of memory hashing the policy");
		goto out;
	}
	plan_konsts_immortal(plan, true);
	*out = plan;
	plan = NULL; /* transferred */
out:
	policy_plan_free(plan);
	return rc;
}

struct policy_plan *policy_plan_ref(struct policy_plan *plan)
{
	atomic_fetch_add(&plan->refs, 1);
	return plan;
}

void policy_plan_free(struct policy_plan *plan)
{
	if (plan == NULL || atomic_fetch_sub(&plan->refs, 1) != 1)
		return;
	for (unsigned i = 0; i < plan->njmes; i++)
		jmes_free(plan->jmes[i]);
	free(plan->jmes);
	plan_konsts_immortal(plan, false);
	json_decref(plan->konsts);
	arena_release(&plan->arena);
	free(plan);
}

const char *policy_plan_version(const struct policy_plan *plan) { return plan->version; }

unsigned policy_plan_rule_count(const struct policy_plan *plan, enum policy_section s)
{
	return (unsigned)s < 3 ? plan->count[s] : 0;
}

const char *policy_plan_hash(const struct policy_plan *plan) { return plan->hash; }

bool policy_plan_reads(const struct policy_plan *plan, const char *type)
{
	size_t n = strlen(type);

	for (unsigned i = 0; i < plan->nrules; i++) {
		for (unsigned k = 0; k < plan->rules[i].nconds; k++) {
			int id = plan->rules[i].conds[k].type_id;
			const char *name = id >= 0 ? plan->names[id] : NULL;

			/* An unnamed type scans every claim; "type.member" reads type (§2.6 dotted claims). */
			if (name == NULL || (strncmp(name, type, n) == 0 && (name[n] == '\0' || name[n] == '.')))
				return true;
		}
	}
	return false;
}

/* ---- Hashes (§3.8) ------------------------------------------------------- */

/* crypto.h's sha256 (the digest fetched once): OpenSSL 3's SHA256() fetches it on every call, ~1 us here. */
static int b64url_sha256(const void *p, size_t n, char out[POLICY_HASH_B64_LEN + 1])
{
	uint8_t d[32];
	int rc = sha256(p, n, d);

	if (rc == ATTEST_OK)
		b64url_encode_to(d, sizeof(d), out);
	return rc;
}

int policy_hash_b64(const char *b64, size_t len, char out[POLICY_HASH_B64_LEN + 1])
{
	return b64url_sha256(b64, len, out);
}

int policy_token_hash(const char *jws, size_t len, char out[POLICY_HASH_B64_LEN + 1])
{
	return b64url_sha256(jws, len, out);
}

int policy_hash_text(const char *text, size_t len, char out[POLICY_HASH_B64_LEN + 1])
{
	char *b64 = b64url_encode((const uint8_t *)text, len);
	int rc;

	if (b64 == NULL)
		return ATTEST_E_NOMEM;
	rc = b64url_sha256(b64, strlen(b64), out);
	free(b64);
	return rc;
}
