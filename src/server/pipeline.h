#ifndef ATTEST_SERVER_PIPELINE_H
#define ATTEST_SERVER_PIPELINE_H

/*
 * The attest pipeline (issue 9, ARCHITECTURE.md "One attestation, end to
 * end"), one generic path for every attestation type:
 *
 *   body ─request decode─▶ evidence_input ─verifier─▶ incoming claims
 *        ─+request claims─▶ policy (compiled, cached) ─▶ outgoing claims
 *        ─token claim set─▶ signed token (or unsigned for a draft policy)
 *
 * Adding a type is one row in the verifier table (pipeline_verifiers.c)
 * plus its claim catalogue (src/token/catalogue.c); nothing else.
 *
 * This layer knows no HTTP: pipeline_attest_run() is what the route
 * handler calls and what the benchmark calls in-process. It reports a
 * refusal as the HTTP status and MAA error code the route answers with
 * (maa-interface.md §1.8), plus the precise error record.
 *
 * Concurrency: a pipeline_ctx is built once and only read while serving
 * (the plan cache and collateral cache lock themselves), so any number of
 * workers may run attestations on it at once.
 */

#include "attest/error.h"
#include "claims/claims.h"
#include "evidence/evidence.h"
#include "token/catalogue.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct policy_cache;
struct policy_plan;
struct collateral_source;
struct collateral_cache;

/* The claim every token carries when development/test anchors are trusted. */
#define PIPELINE_DEV_CLAIM "x-attestd-development"

/* The uniform verifier entry point (evidence.h). */
typedef int (*pipeline_verify_fn)(const struct evidence_ctx *ctx, const struct evidence_input *in,
				  struct claim_set *out, struct attest_err *err);

/* One row of the registration table. */
struct pipeline_verifier {
	enum maa_type type;
	pipeline_verify_fn verify; /* NULL: the type is routed but has no verifier in this build */
	const char *why_missing;   /* said in the 501 answer when verify is NULL */
};

/* The row of a type (never NULL for a valid type). */
const struct pipeline_verifier *pipeline_verifier_find(enum maa_type type);

struct tpm_context_keys;
struct tpm_replay_sets;

/* Long-lived state shared by every attestation. */
struct pipeline_ctx {
	struct policy_cache *plans; /* compiled policies by hash (owned) */
	/* TPM protocol (tpm_protocol.h): the keys sealing service contexts (the
	 * master key shared by every node of the service, this node's epochs
	 * derived from it), and this node's replay sets, one per provider. */
	struct tpm_context_keys *tpm_key;	   /* NULL until set (owned) */
	struct tpm_replay_sets *tpm_replay;	   /* owned */
	struct tpm_aik_cache *tpm_aik_cache;	   /* verified AIK chains, shared by requests (owned) */
	struct evidence_anchors anchors;	   /* extra trust anchors (stacks owned; NULL = built-in) */
	struct collateral_source *collateral;	   /* may be NULL (owned) */
	struct collateral_cache *collateral_cache; /* owned, may be NULL */
	unsigned evidence_flags;		   /* EVIDENCE_* */
	/* Extra (development/test) anchors are trusted: every token says so
	 * with the claim PIPELINE_DEV_CLAIM = true (issue 10). */
	bool development;
};

/*
 * Creates the context: a plan cache of max_plans entries (0 = 256), no
 * anchors, no collateral. The caller may then set anchors and collateral
 * (ownership passes to the context).
 */
int pipeline_ctx_new(size_t max_plans, struct pipeline_ctx **out, struct attest_err *err);
void pipeline_ctx_free(struct pipeline_ctx *ctx);

/*
 * Sets the master key of the TPM service contexts (tpm_protocol.h,
 * tpm_context_keys_new), before the context serves requests: a request
 * borrows the keys for its whole run, so they are not replaced under one.
 * Errors: pipeline.tpm.key (OpenSSL could not derive the first epoch key,
 * or no memory).
 */
int pipeline_ctx_set_tpm_key(struct pipeline_ctx *ctx, const uint8_t key[32], struct attest_err *err);

/*
 * The TPM protocol's state as Prometheus text appended to out (GET
 * /metrics): the replay sets (providers, ids, the shared pool and its
 * limit) and the context keys (epochs kept, started, keys derived).
 */
struct buf;
void pipeline_tpm_metrics(struct pipeline_ctx *ctx, struct buf *out);

/*
 * Loads extra trust anchors from a PEM file, beside the built-in vendor
 * roots (never instead of them), and marks the context as development (every
 * token then carries PIPELINE_DEV_CLAIM). Sorted by what they anchor: a certificate whose subject names Intel
 * SGX goes to the Intel roots, one naming AMD (ARK-*) to the AMD roots, any other to the TPM roots. Errors:
 * pipeline.anchors (file unreadable or not PEM).
 */
int pipeline_ctx_load_anchors(struct pipeline_ctx *ctx, const char *pem_file, struct attest_err *err);

/*
 * Signs a token's claim set with header {"alg", "jku", "kid", "typ":"JWT"}.
 * jku is the issuer's /certs URL. *jwt is malloc'd.
 */
typedef int (*pipeline_sign_fn)(void *arg, const char *jku, const json_t *claims, char **jwt,
				struct attest_err *err);

struct pipeline_attest {
	enum maa_type type;
	const char *body; /* request body (JSON), body_len bytes */
	size_t body_len;
	/* The provider's policy for the type: its text, or NULL for the default. */
	const char *policy_text;
	size_t policy_len;
	const json_t *policy_signer; /* JWK of the policy's signer, or NULL */
	const char *issuer;	     /* provider base URL (iss; jku = issuer + "/certs") */
	/* The provider's name as the route resolved it: a TPM service context
	 * is bound to it, and its replay set is this provider's. NULL: no
	 * provider (offline tools), TPM_CONTEXT_NO_PROVIDER. */
	const char *provider;
	int64_t now;
	pipeline_sign_fn sign;
	void *sign_arg;
	bool explain; /* evaluate with the policy engine's explain trace */
	/* What the provider registered (AIKs, CVM measurements; server/provider_trust.h), or NULL. */
	const struct evidence_tenant *tenant;
};

struct pipeline_outcome {
	int status;	       /* 200, or the HTTP status of the refusal */
	char code[48];	       /* MAA error code ("InvalidParameter", ...), "" on success */
	struct attest_err err; /* what was wrong, when status != 200 */
	char *token;	       /* the token on success (malloc'd) */
	char *body;	       /* Tpm: the whole response body (JSON text, malloc'd) */
	bool unsigned_token;   /* a draft-policy token (alg none) */
	char stage[16];	       /* where it ended: "request", "verify", "policy", "token", "sign", "done" */
};

/*
 * Runs one attestation. Always fills *out (release with
 * pipeline_outcome_clear); returns ATTEST_OK when a token was issued, else
 * the error class of out->err. Refusals and their answers:
 *   request body malformed             400 InvalidParameter  (request.*)
 *   draft policy does not compile      400 PolicyParsingError (policy.*)
 *   no verifier for the type           501 NotImplemented
 *   evidence refused by the verifier   400 InvalidParameter  (<format>.*)
 *   policy denied / could not evaluate 400 PolicyEvaluationError (policy.deny, policy.eval.*)
 *   stored policy broken, signing, out of memory, verifier contract  500 InternalError
 *   the provider's TPM replay set full of live contexts (overload)   503 ServiceUnavailable
 * Tpm is the two-leg protocol of maa-interface.md §1.3.5: an init message
 * answers a challenge, a request message is verified (tpm_proto_request with
 * the policy's configuration properties), evaluated and its token wrapped as
 * {"report": jwt}; either way out->body is the response body.
 */
int pipeline_attest_run(const struct pipeline_ctx *ctx, const struct pipeline_attest *in,
			struct pipeline_outcome *out);
void pipeline_outcome_clear(struct pipeline_outcome *out);

/* The plan of the provider's policy text (NULL = the type's default) via the cache. */
int pipeline_plan_get(const struct pipeline_ctx *ctx, enum maa_type type, const char *text, size_t len,
		      struct policy_plan **out, struct attest_err *err);

#endif
