#ifndef ATTEST_POLICY_POLICY_INT_H
#define ATTEST_POLICY_POLICY_INT_H

/*
 * Internals of the policy engine shared by its files.
 *
 * Design note. The parser builds an AST in the plan's arena; the compiler
 * annotates that AST in place into the evaluation plan: claim types named
 * by constant `type ==` tests are interned to small integers (so the
 * evaluator indexes the incoming claims by type once and each condition
 * walks only its own bucket), identifiers become slot numbers, constant
 * JMESPath queries are compiled once, and each rule gets an evaluation
 * order for its conditions (selective constant tests first, conditions that
 * use a binding after the condition that binds it, absence tests last).
 * The plan is immutable after compilation (one exception: the explain
 * cache of constant test texts, filled once under a lock, see pol_test);
 * evaluation keeps all its state in a per-call context.
 */

#include "base/arena.h"
#include "policy/jmespath.h"
#include "policy/policy.h"

#include <stdatomic.h>

enum pol_prop { PROP_TYPE, PROP_VALUE, PROP_VALUETYPE, PROP_ISSUER };
enum pol_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };
enum pol_func {
	FN_JMESPATH,
	FN_JSONTOCLAIMVALUE,
	FN_ISSUBSETOF,
	FN_APPENDSTRING,
	FN_NEGATEBOOL,
	FN_CONTAINSONLYVALUE,
};
enum pol_expr_kind { EX_CONST, EX_REF, EX_CALL };
enum pol_action_kind { ACT_PERMIT, ACT_DENY, ACT_ADD, ACT_ISSUE, ACT_ISSUEPROPERTY };

/* Issuer codes: the three issuers of §3.3 and "anything else". */
enum pol_issuer { ISS_SERVICE, ISS_POLICY, ISS_CUSTOM, ISS_OTHER };

struct pol_expr {
	enum pol_expr_kind kind;
	unsigned line, col;
	json_t *konst;           /* EX_CONST: string, integer or boolean (plan owns) */
	const char *ident;       /* EX_REF */
	int slot;                /* EX_REF: binding slot (compile) */
	enum pol_prop prop;      /* EX_REF */
	enum pol_func fn;        /* EX_CALL */
	struct pol_expr **args;  /* EX_CALL */
	unsigned nargs;
	struct jmes_expr *jmes;  /* FN_JMESPATH with a constant query: compiled once */
};

/* A text of the plan's explain cache: n bytes and a NUL. */
struct pol_text {
	uint32_t n;
	char s[];
};

struct pol_test {
	enum pol_prop prop;
	enum pol_op op;
	struct pol_expr *rhs;
	unsigned line, col;
	bool implied;            /* a constant type== or issuer== test the bucket/issuer code already checks */
	/*
	 * Explain cache (eval.c): "<op> <rhs>" of a test with a constant
	 * right-hand side, rendered by the first evaluation that explains it,
	 * in the plan's arena under explain_lock, published with release
	 * order; NULL until then.
	 */
	_Atomic(const struct pol_text *) text;
};

struct pol_cond {
	bool negated;
	const char *ident;       /* NULL when anonymous */
	int slot;                /* -1 when anonymous */
	bool used;               /* its binding is read by a later condition or the action */
	struct pol_test *tests;
	unsigned ntests;
	unsigned line, col;
	int type_id;             /* interned constant type, -1 = scan every claim */
	const char *type_name;   /* that constant, for explain */
	int issuer;              /* enum pol_issuer of a constant issuer== test, -1 = any */
	bool has_refs;           /* a test reads a binding */
	bool has_calls;          /* a test calls a function */
	unsigned deps;           /* bitmask of slots its tests read */
};

struct pol_action {
	enum pol_action_kind kind;
	unsigned line, col;
	struct pol_expr *type;   /* add/issue/issueproperty with type=/value= */
	struct pol_expr *value;
	int value_type;          /* -1 none, else enum pol_vtype */
	int claim_slot;          /* claim=ident form: slot, else -1 */
	int type_id;             /* interned id of a constant type (-1: not interned or not constant) */
};

struct pol_rule {
	enum policy_section section;
	unsigned index;          /* 1-based within the section */
	unsigned line, col;
	struct pol_cond *conds;
	unsigned nconds;
	unsigned *order;         /* evaluation order of conds (compile) */
	unsigned nslots;
	const char **slot_names;
	struct pol_action action;
};

enum pol_vtype { VT_STRING, VT_INTEGER, VT_BOOLEAN };

#define POL_MAX_SLOTS 32 /* identifiers in one rule (a bitmask tracks dependencies) */

struct policy_plan {
	atomic_int refs;
	struct arena arena;
	char version[4];
	int minor;               /* 0, 1 or 2 */
	struct pol_rule *rules;  /* all rules in evaluation order */
	unsigned nrules;
	unsigned count[3];
	struct policy_limits lim;
	/* Interned claim types: open addressing, power-of-two size. */
	const char **names;
	uint32_t *name_hash;     /* pol_name_hash of each name */
	uint32_t *name_len;
	unsigned nnames;
	unsigned *dotted;        /* ids of interned names containing '.' (§2.6 nested claims) */
	unsigned ndotted;
	int *table;
	unsigned table_size;
	/* Constants to release (jansson values and compiled JMESPath). */
	json_t *konsts;          /* array holding a reference to every constant */
	struct jmes_expr **jmes;
	unsigned njmes;
	char hash[POLICY_HASH_B64_LEN + 1];
	atomic_int explain_lock; /* guards the arena while evaluations fill the explain cache (pol_test) */
};

/* parse.c: text → AST in plan (rules, version); compile.c finishes. */
int pol_parse(struct policy_plan *plan, const char *text, size_t len, struct attest_err *err);
int pol_compile_plan(struct policy_plan *plan, struct attest_err *err);
/* The interned id of a claim type, or -1. */
int pol_intern_lookup(const struct policy_plan *plan, const char *name, size_t len);
/* The same for a NUL-terminated name, hashing and measuring it in one pass. */
int pol_intern_lookup_z(const struct policy_plan *plan, const char *name);
const char *pol_func_name(enum pol_func fn);
const char *pol_op_str(enum pol_op op);
const char *pol_prop_name(enum pol_prop p);
/* Incoming aliases of the old default policy ($is-debuggable, ...), or NULL. */
const char *pol_type_alias(const char *name);
/* Claim types the service issues read-only (§3.3: TPM pcrs, events). */
bool pol_type_readonly(const char *type);

/* functions.c: the version 1.2 functions. *out is a new reference (NULL = empty). */
int pol_call(enum pol_func fn, json_t **args, const bool *ro, unsigned nargs, const struct jmes_expr *query,
	     json_t **out, bool *out_ro, struct attest_err *err);
/* Value comparisons of §3.3 (claim value op rhs). */
bool pol_compare(const json_t *claim_value, enum pol_op op, const json_t *rhs);
/* "String", "Integer", "Boolean", "Set", "JSON". */
const char *pol_value_type_name(const json_t *v);
/*
 * brief.c: the short rendering of a value in explain texts: jansson's
 * compact JSON text of v, cut to POL_BRIEF_MAX - 3 bytes and "..." when
 * longer than POL_BRIEF_MAX. pol_value_brief_to writes it and a NUL into
 * out and returns its length, or -1 when v cannot be rendered (NULL, a
 * string that is not UTF-8); pol_value_brief returns it in a new string
 * (caller frees), NULL on failure.
 */
#define POL_BRIEF_MAX 72
int pol_value_brief_to(const json_t *v, char out[POL_BRIEF_MAX + 2]);
char *pol_value_brief(const json_t *v);

#endif
