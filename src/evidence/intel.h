#ifndef ATTEST_EVIDENCE_INTEL_H
#define ATTEST_EVIDENCE_INTEL_H

/*
 * The Intel DCAP verification pipeline shared by sgx.c, oe.c and tdx.c
 * (formats.md §1.7 order, QVL QuoteVerifier::verify):
 *
 *   parse → PCK chain (+PCK CRL, Root CA CRL) → QE report signature →
 *   QE binding → QE identity → ISV signature → TCB status
 *
 * with collateral fetched through ctx->collateral and every verified piece
 * (PCK chain + CRLs, TCB Info, QE identity) kept in the source's cache,
 * keyed by the SHA-256 of the bytes it covers, for the intersection of the
 * validity windows it relied on. A warm call costs the QE report signature
 * and the ISV signature plus hashing.
 *
 * Format-specific checks (TD attributes, runtime data, claims) stay in the
 * callers. TDX: pass expected_tee QUOTE_TEE_TDX; the TDX TCB inputs
 * (TEE_TCB_SVN, MRSIGNERSEAM, ...) are read from the TD body here.
 *
 * Errors beyond those of quote.h / pck.h / tcb.h:
 *   <p>.collateral.missing     ctx has no collateral source (and NO_COLLATERAL not set)
 *   <p>.collateral.<item>      fetching an item failed (tcb_info, qe_identity, pck_crl, root_ca_crl,
 *                              pck_cert)
 *   <p>.tcbinfo.chain.<x509>   TCB Info issuer chain does not verify at now
 *   <p>.qeid.chain.<x509>      QE identity issuer chain does not verify at now
 *   <p>.crl.<what>             a CRL unreadable / issuer chain wrong
 *   <p>.tcb.not_supported      TCB level not supported (no level matches)
 *   <p>.tcb.revoked            final status Revoked
 *
 * Early TCB (issue 12): after a verdict, the source's early set
 * (collateral_get_tcb_info_ex with update=early) is fetched, verified exactly
 * like the standard TCB Info (issuer chain with the Root CA CRL, signature,
 * validity, id/FMSPC/PCE ID, TDX module) and evaluated with the same QE
 * status. It never changes the verdict: a set that fails any check is
 * reported as a warning (res->early_err), an absent one not at all.
 *
 * SGX TCB baseline (ctx->sgx_tcb_baseline = N > 0, SGX quotes only;
 * docs/tcb-baselines.md): the TCB Info and QE identity of evaluation data
 * number N are used when the source serves them (then the verdict is
 * evaluated against them; a set that says another number is not used),
 * else the standard ones (only these with ctx->sgx_tcb_baseline_floor).
 * Refusals:
 *   <p>.tcb.baseline_collateral  the standard set used is older than N
 *   <p>.tcb.below_baseline       status OutOfDate / OutOfDateConfigurationNeeded under set N
 */

#include "attest/error.h"
#include "evidence/evidence.h"
#include "evidence/pck.h"
#include "evidence/quote.h"
#include "evidence/tcb.h"

#include <stdbool.h>
#include <stdint.h>

/* SHA-256 of the collateral bytes used (MAA's x-ms-sgx-collateral, §2.3). */
struct intel_collateral_hashes {
	uint8_t quote[32];
	uint8_t tcb_info[32];	       /* tcbinfohash: the TCB Info body */
	uint8_t tcb_info_certs[32];    /* tcbinfocertshash: its issuer chain */
	uint8_t tcb_info_crl[32];      /* tcbinfocrlhash: the Root CA CRL */
	uint8_t qe_identity[32];       /* qeidhash */
	uint8_t qe_identity_certs[32]; /* qeidcertshash */
	uint8_t qe_identity_crl[32];   /* qeidcrlhash: the Root CA CRL */
	uint8_t pck_crl[32];
	uint8_t pck_chain[32]; /* the quote's certification data */
};

enum intel_early_state {
	INTEL_EARLY_NONE = 0, /* the source serves no early set (or collateral not evaluated) */
	INTEL_EARLY_SAME,     /* the early set gives the same status */
	INTEL_EARLY_DEMOTES,  /* the early set gives another status */
	INTEL_EARLY_FAILED,   /* an early set came but did not verify: a warning, not a refusal */
};

struct intel_quote_result {
	struct quote quote; /* parsed; pointers into the caller's bytes */
	struct pck_ext pck; /* SGX extension of the verified PCK */
	enum pck_ca pck_ca;
	bool collateral_evaluated;  /* false with EVIDENCE_NO_COLLATERAL */
	bool revocation_checked;    /* false with EVIDENCE_NO_REVOCATION */
	struct tcb_verdict verdict; /* status, levels, advisory IDs */
	int64_t tcb_eval_num;	    /* TCB Info tcbEvaluationDataNumber */
	int64_t qe_eval_num;
	int64_t tcb_info_issue_date, tcb_info_next_update;
	int64_t collateral_expiry; /* earliest end of any window relied on */
	struct intel_collateral_hashes hashes;
	struct intel_quote_refs *refs; /* cached objects the verdict borrows from */
	/* SGX TCB baseline enforced (0: none), and whether set N itself was evaluated. */
	uint32_t tcb_baseline;
	bool tcb_baseline_by_number;
	/* Early TCB: the verdict under the early set (claims: intel_add_early_claims). */
	enum intel_early_state early_state;
	struct tcb_verdict early; /* EARLY_SAME / EARLY_DEMOTES */
	int64_t early_eval_num;
	struct tcb_behind early_behind; /* components below the early set's newest UpToDate level */
	struct attest_err early_err;	/* EARLY_FAILED: why the early set was not used */
};

/*
 * Verifies an Intel ECDSA quote end to end (see above). On ATTEST_OK *res
 * holds the verdict: status is never TCB_NOT_SUPPORTED or TCB_REVOKED
 * (those are errors <p>.tcb.not_supported / <p>.tcb.revoked, raised after
 * every signature verified; the error message names the PCK SVNs and the
 * TCB evaluation number). Free with intel_quote_result_free (also after
 * failure: safe on a zeroed result).
 */
int intel_quote_verify(const struct evidence_ctx *ctx, const uint8_t *quote, size_t len,
		       uint32_t expected_tee, struct intel_quote_result *res, const char *prefix,
		       struct attest_err *err);
void intel_quote_result_free(struct intel_quote_result *res);

/* Fills the TDX TCB inputs from a parsed TD quote (body type 2/3). */
void intel_tdx_tcb_input(const struct quote *q, struct tcb_tdx_input *out);

/* Adds the x-ms-sgx-collateral object claim (lower-case hex digests). */
struct claim_set;
int intel_add_collateral_claim(struct claim_set *out, const char *type,
			       const struct intel_collateral_hashes *h);
/*
 * Adds the early TCB claims (docs/claims-sgx.md, docs/claims-tdx.md), only
 * when the early set demotes the platform: x-attestd-early-tcb-status,
 * x-attestd-early-tcb-evaluationdatanumber, x-attestd-early-tcb-behind
 * (array of {component, index, category, type, svn, required}),
 * x-attestd-early-tcb-advisory-ids; or x-attestd-early-tcb-warning (the
 * error code only; res->early_err has the message) when an early set did
 * not verify. The enforced
 * baseline adds no claim: tokens stay Azure's (the policy hash names it).
 */
int intel_add_early_claims(struct claim_set *out, const struct intel_quote_result *res);

#endif
