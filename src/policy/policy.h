#ifndef ATTEST_POLICY_POLICY_H
#define ATTEST_POLICY_POLICY_H

/*
 * The policy engine: Azure Attestation's policy language, versions 1.0 to
 * 1.2 (maa-interface.md §3). A policy text is compiled once into a plan;
 * evaluating a plan is a pure function of the plan and the incoming claim
 * set, safe to run from any number of threads on the same plan.
 *
 *   text ──policy_compile──▶ plan ──policy_eval(plan, incoming)──▶ result
 *                                   (verdict, outgoing, properties, denial, explain)
 *
 * Sections run in the order configurationrules → authorizationrules →
 * issuancerules, each rule in text order, every rule seeing the claims that
 * earlier rules added (§3.3). Issuance rules run only when authorization
 * permitted: any fired deny() gives POLICY_DENY; otherwise at least one fired
 * permit() is needed, else POLICY_NO_PERMIT.
 *
 * Error names (attest_err.name), all with rc ATTEST_E_POLICY unless noted:
 *   compile:  policy.parse (syntax: "expected X, found Y", where = "line L column C"),
 *             policy.lex (bad character, unterminated string, bad number),
 *             policy.too_large, policy.too_many_rules, policy.too_deep,
 *             policy.too_many_conditions, policy.string_too_long,
 *             policy.version (unsupported version),
 *             policy.version_feature (a construct newer than the declared version),
 *             policy.section (duplicate or missing section),
 *             policy.action (action not allowed in its section),
 *             policy.ident (unknown or duplicate identifier),
 *             policy.function (unknown function or wrong number of arguments),
 *             policy.jmespath (a constant JmesPath query that does not compile),
 *             policy.type (a type error visible at compile time, e.g. value < "x").
 *   evaluate: policy.eval.function (a function failed: bad JSON, object to
 *             JsonToClaimValue, ...), policy.eval.type (wrong value type for
 *             an action or function), policy.eval.readonly (issue() of a
 *             read-only claim), policy.eval.too_many_matches (one rule's
 *             matches exceed the limit), policy.eval.too_many_claims,
 *             policy.eval.too_complex (over 2^20 claims tried against
 *             conditions in one evaluation: joins over many claims);
 *             jmespath.* (a query computed at run time that does not compile,
 *             or a JMESPath function given the wrong types: jmespath.h).
 *   JWS:      policy.jws.* (see policy_jws_parse).
 *   (policy.nomem with ATTEST_E_NOMEM when an allocation fails.)
 */

#include "attest/error.h"
#include "claims/claims.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Compilation -------------------------------------------------------- */

/* Bounds applied while compiling; a policy over any of them fails with its own error. */
struct policy_limits {
	size_t max_bytes;         /* policy text size (policy.too_large) */
	unsigned max_rules;       /* rules in all sections (policy.too_many_rules) */
	unsigned max_depth;       /* nesting of function calls (policy.too_deep) */
	unsigned max_conditions;  /* conditions in one rule, tests in one condition (policy.too_many_conditions);
				     never more than POLICY_DEFAULT_MAX_CONDITIONS */
	unsigned max_string;      /* bytes in one string literal (policy.string_too_long) */
	unsigned max_matches;     /* evaluation: action runs of one rule (policy.eval.too_many_matches) */
};

#define POLICY_DEFAULT_MAX_BYTES (256u * 1024)
#define POLICY_DEFAULT_MAX_RULES 2048u
#define POLICY_DEFAULT_MAX_DEPTH 16u
#define POLICY_DEFAULT_MAX_CONDITIONS 64u
#define POLICY_DEFAULT_MAX_STRING (64u * 1024)
#define POLICY_DEFAULT_MAX_MATCHES 1024u

/* The defaults above. */
void policy_limits_default(struct policy_limits *lim);

enum policy_section {
	POLICY_SECTION_CONFIGURATION = 0, /* configurationrules (1.1+) */
	POLICY_SECTION_AUTHORIZATION = 1, /* authorizationrules */
	POLICY_SECTION_ISSUANCE = 2,      /* issuancerules */
};
/* "configurationrules", "authorizationrules", "issuancerules". */
const char *policy_section_name(enum policy_section s);

/* A compiled policy. Immutable once built; reference counted. */
struct policy_plan;

/*
 * Compiles policy text (UTF-8, not necessarily NUL-terminated) into a plan.
 * lim NULL means policy_limits_default(). On success *out is a new plan
 * (one reference, released with policy_plan_free). On failure err names
 * the error and, for text errors, where = "line L column C" (1-based,
 * columns in bytes) and the message says what was expected and what found.
 */
int policy_compile(const char *text, size_t len, const struct policy_limits *lim, struct policy_plan **out,
		   struct attest_err *err);

/* Takes one more reference (thread-safe); returns plan. */
struct policy_plan *policy_plan_ref(struct policy_plan *plan);
/* Drops one reference (thread-safe); the last one frees. NULL is allowed. */
void policy_plan_free(struct policy_plan *plan);

/* "1.0", "1.1" or "1.2": the version the policy declares. */
const char *policy_plan_version(const struct policy_plan *plan);
/* Number of rules per section. */
unsigned policy_plan_rule_count(const struct policy_plan *plan, enum policy_section s);
/* x-ms-policy-hash of the compiled text (policy_hash_text), NUL-terminated. */
const char *policy_plan_hash(const struct policy_plan *plan);
/*
 * Whether evaluating the plan may read incoming claims of this type: a
 * condition names it (or a dotted member of it), or a condition does not
 * name its type and so looks at every claim. A verifier may leave out a
 * costly claim no evaluation reads (the TPM events text).
 */
bool policy_plan_reads(const struct policy_plan *plan, const char *type);

/* ---- Evaluation ------------------------------------------------------- */

enum policy_verdict {
	POLICY_PERMIT = 0,    /* authorization permitted; issuance ran */
	POLICY_DENY = 1,      /* a deny() fired */
	POLICY_NO_PERMIT = 2, /* no deny() and no permit() fired */
};
/* "permit", "deny", "no permit". */
const char *policy_verdict_name(enum policy_verdict v);

/*
 * One identifier binding of a fired rule (explain). Like every string and
 * value of the trace and the denial, these belong to the result (read
 * them, never free them; they last until policy_result_free): the strings
 * may be the plan's, the value is the one result->final_incoming holds.
 */
struct policy_binding {
	char *ident;  /* "c" */
	char *type;   /* the bound claim's type */
	char *issuer; /* and issuer */
	json_t *value;
};

/* What happened to one rule (explain). */
struct policy_rule_trace {
	enum policy_section section;
	unsigned index;        /* 1-based within its section */
	unsigned line, col;    /* where the rule starts */
	unsigned fired;        /* times its action ran (0 = did not fire) */
	struct policy_binding *bindings; /* of the first firing, one per identifier */
	size_t nbindings;
	char *why;             /* rule did not fire: the first unmet condition, short; else NULL */
};

/*
 * Why authorization failed: the rule that denied (POLICY_DENY), or for
 * POLICY_NO_PERMIT the permit() rule that came closest (most conditions
 * met; the first such in text order) and its first unmet condition.
 * claim_type/expected/found may be NULL when there is nothing to name
 * (e.g. a policy with no permit() rule at all).
 */
struct policy_denial {
	enum policy_verdict verdict;
	enum policy_section section;
	unsigned rule;       /* 1-based index in its section; 0 = no rule to name */
	unsigned line, col;
	char *claim_type;    /* the claim looked at */
	char *expected;      /* what the rule tested, e.g. ">= 3", "== false" */
	char *found;         /* what the claim held, e.g. "2", or "absent" */
};

struct policy_explain {
	struct policy_rule_trace *rules; /* every rule in evaluation order */
	size_t nrules;
};

struct policy_result {
	enum policy_verdict verdict;
	/* issue()d claims, issuer AttestationPolicy, in order (empty unless PERMIT). */
	struct claim_set *outgoing;
	/* issueproperty()d claims, in order (see policy_prop_*). */
	struct claim_set *properties;
	/*
	 * Incoming claims plus everything the policy added, in order; set only
	 * with POLICY_EVAL_EXPLAIN. Its values are lent by the incoming,
	 * outgoing and properties sets, which it keeps alive (claims.h): the
	 * caller may free the incoming set before the result.
	 */
	struct claim_set *final_incoming;
	/* Set whenever verdict != POLICY_PERMIT, else NULL. */
	struct policy_denial *denial;
	/* Set only with POLICY_EVAL_EXPLAIN, else NULL. */
	struct policy_explain *explain;
	/*
	 * The plan, referenced until policy_result_free: claim names in
	 * outgoing/properties/final_incoming and in the explain trace that are
	 * constants (or condition types) of the policy point into it
	 * (values are the result's own, or kept alive by its sets). Copy a
	 * claim's type string if it must outlive the result.
	 */
	struct policy_plan *plan;
};

#define POLICY_EVAL_EXPLAIN 0x1u /* record a trace of every rule in result->explain */

/*
 * Evaluates plan on the incoming claims (not modified; may be shared). On
 * success (ATTEST_OK, whatever the verdict) *out is a new result owned by
 * the caller (policy_result_free). A deny or missing permit is a verdict,
 * not an error; an error (policy.eval.*) means the policy could not be
 * evaluated on these claims, which the caller reports as a policy failure
 * too (MAA PolicyEvaluationError).
 */
int policy_eval(const struct policy_plan *plan, const struct claim_set *incoming, unsigned flags,
		struct policy_result **out, struct attest_err *err);

/*
 * Runs only the configuration rules (on no claims), then the issuance
 * rules that are an unconditional issueproperty() (how version 1.0
 * policies set properties), and returns the property set they issue: what
 * the pipeline needs before it verifies evidence (x-ms-sgx-tcbidentifier,
 * required_pcr_mask, require_valid_aik_cert). *out is a new claim set
 * owned by the caller.
 */
int policy_eval_config(const struct policy_plan *plan, struct claim_set **out, struct attest_err *err);

void policy_result_free(struct policy_result *r);

/*
 * The denial as one line, e.g.
 *   deny() fired in authorizationrules rule 2 (line 4): claim x-ms-azurevm-signingdisabled is false
 *   no permit: authorizationrules rule 1 (line 3) needs x-ms-sgx-svn >= 3, found 2
 * Writes at most n bytes including the NUL; returns the length it wanted
 * (like snprintf). For a PERMIT result writes "permitted".
 */
size_t policy_result_reason(const struct policy_result *r, char *buf, size_t n);

/* ---- Configuration properties (§3.5) ----------------------------------- */

#define POLICY_PROP_REQUIRE_VALID_AIK_CERT "require_valid_aik_cert"   /* Boolean, default true */
#define POLICY_PROP_REQUIRED_PCR_MASK "required_pcr_mask"             /* Integer, default 0xFFFFFF */
#define POLICY_PROP_SGX_TCBIDENTIFIER "x-ms-sgx-tcbidentifier"        /* String, default "azuredefault" */
#define POLICY_PROP_REPORT_VALIDITY_MINUTES "report_validity_in_minutes" /* Integer, default 1440 */
#define POLICY_PROP_OMIT_X5C "omit_x5c"                               /* Boolean, default false */

#define POLICY_DEFAULT_REQUIRED_PCR_MASK 0xFFFFFF
#define POLICY_DEFAULT_SGX_TCBIDENTIFIER "azuredefault"
#define POLICY_DEFAULT_REPORT_VALIDITY_MINUTES 1440

/*
 * The last value issued for a property, or dflt when the property was not
 * issued or has another type. props may be NULL. Strings are borrowed from props.
 */
bool policy_prop_bool(const struct claim_set *props, const char *name, bool dflt);
int64_t policy_prop_int(const struct claim_set *props, const char *name, int64_t dflt);
const char *policy_prop_str(const struct claim_set *props, const char *name, const char *dflt);

/* ---- Default policies (§3.6) ----------------------------------------- */

/*
 * The default policy text of an attestation type ("SgxEnclave",
 * "OpenEnclave", "SevSnpVm", "TdxVm", "Tpm", "AzureGuest", "VbsEnclave";
 * case-insensitive), or NULL for an unknown type. Static storage. The SGX
 * default is byte for byte the text the real service returns after a
 * reset, so its x-ms-policy-hash matches.
 */
const char *policy_default_text(const char *attestation_type);

/* ---- Hashes (§3.8) ---------------------------------------------------- */

#define POLICY_HASH_B64_LEN 43 /* base64url, no padding, of a SHA-256 digest */

/*
 * x-ms-policy-hash of policy text: b64url(SHA-256(ASCII of b64url(text))).
 * out receives POLICY_HASH_B64_LEN characters and a NUL.
 */
int policy_hash_text(const char *text, size_t len, char out[POLICY_HASH_B64_LEN + 1]);
/* The same from the AttestationPolicy member exactly as carried in a JWS. */
int policy_hash_b64(const char *b64, size_t len, char out[POLICY_HASH_B64_LEN + 1]);
/* x-ms-policy-token-hash: b64url(SHA-256(ASCII of the whole submitted JWS)). */
int policy_token_hash(const char *jws, size_t len, char out[POLICY_HASH_B64_LEN + 1]);

/* ---- Policy JWS (§3.8, §1.4) ----------------------------------------- */

#define POLICY_JWS_ALLOW_TEXT 0x1u  /* a body that is not a compact JWS is raw policy text (AAD mode) */
#define POLICY_JWS_ALLOW_EMPTY 0x2u /* an empty payload (reset) is accepted; text is then NULL */

struct policy_jws {
	bool is_text;        /* the body was raw policy text, not a JWS */
	bool is_signed;      /* alg other than "none", signature verified with the header key */
	char alg[16];        /* "none", "RS256", "ES256", ...; "" for raw text */
	char *text;          /* policy text, NUL-terminated (NULL for an empty payload) */
	size_t text_len;
	char *policy_b64;    /* the AttestationPolicy value as carried (NULL for raw text / empty) */
	char hash[POLICY_HASH_B64_LEN + 1];       /* x-ms-policy-hash of the policy ("" if empty) */
	char token_hash[POLICY_HASH_B64_LEN + 1]; /* x-ms-policy-token-hash of the body */
	/*
	 * Signed only: the signer as the JWK reported in x-ms-policy-signer
	 * ({"kty", "x5c"} from the x5c header, or the jwk header), and the
	 * x5c array of standard-base64 DER certificates (leaf first; NULL when
	 * the key came as a jwk). Whether the signer is trusted (isolated mode)
	 * is the caller's decision.
	 */
	json_t *signer_jwk;
	json_t *x5c;
};

/*
 * Parses a policy body as PUT /policies/{type} or :reset receives it. A
 * signed JWS has its signature checked with the key of its own x5c[0] (or
 * jwk header); "RS256", "PS256", "ES256" and "ES384" are accepted, and
 * Microsoft's misspelt docs sample alg "RSA256" is refused consistently
 * (policy.jws.alg). A trailing newline after the token is ignored (the
 * token hash covers the body exactly as given). *out is owned by the caller.
 * Errors: policy.jws.format (not three base64url segments / bad JSON),
 * policy.jws.alg (unsupported alg), policy.jws.key (no usable x5c/jwk),
 * policy.jws.signature (does not verify), policy.jws.payload (no
 * AttestationPolicy string / bad base64url / not UTF-8),
 * policy.jws.empty (empty payload without POLICY_JWS_ALLOW_EMPTY),
 * policy.jws.text (not a JWS without POLICY_JWS_ALLOW_TEXT).
 */
int policy_jws_parse(const char *body, size_t len, unsigned flags, struct policy_jws **out,
		     struct attest_err *err);
void policy_jws_free(struct policy_jws *j);

/*
 * The unsigned policy JWS of text: b64url({"alg":"none"}) "."
 * b64url({"AttestationPolicy":"<b64url(text)>"}) "." ; text NULL gives the
 * empty-payload reset JWS "eyJhbGciOiJub25lIn0..". Caller frees *out.
 */
int policy_jws_unsigned(const char *text, size_t len, char **out, struct attest_err *err);

/*
 * The signed policy JWS of text (NULL = reset) with the private key in PEM
 * (RSA → RS256, EC P-256 → ES256) and header x5c = the PEM certificates in
 * cert_pem (leaf first). Caller frees *out.
 */
int policy_jws_signed(const char *text, size_t len, const char *key_pem, const char *cert_pem, char **out,
		      struct attest_err *err);

/* ---- Cache of compiled plans ------------------------------------------- */

/*
 * A bounded cache of plans keyed by x-ms-policy-hash, least recently used
 * evicted first. Safe for concurrent use by several threads (a lock inside
 * the object); plans handed out are references that stay valid after
 * eviction until the caller frees them.
 */
struct policy_cache;

struct policy_cache *policy_cache_new(size_t max_entries, const struct policy_limits *lim);
void policy_cache_free(struct policy_cache *c);

/*
 * The plan of text: from the cache, or compiled and inserted. *out is a new
 * reference (policy_plan_free). Compile errors are returned, not cached.
 */
int policy_cache_get(struct policy_cache *c, const char *text, size_t len, struct policy_plan **out,
		     struct attest_err *err);
/* The cached plan of a hash, or ATTEST_E_NOT_FOUND (no error recorded). */
int policy_cache_lookup(struct policy_cache *c, const char *hash, struct policy_plan **out);

struct policy_cache_stats {
	uint64_t hits, misses, evictions;
	size_t entries;
};
void policy_cache_stats(struct policy_cache *c, struct policy_cache_stats *out);

#endif
