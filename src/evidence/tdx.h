#ifndef ATTEST_EVIDENCE_TDX_H
#define ATTEST_EVIDENCE_TDX_H

/*
 * Intel TDX quotes (v4 with a TDX 1.0 TD report body; v5 with body type 2,
 * TDX 1.0, or 3, TDX 1.5), verified to Intel's root with the TDX TCB status
 * and turned into the claims of Azure Attestation's TDX EAT profile.
 *
 * What is TDX-specific lives here: the TD report bodies (formats.md §1.4,
 * §1.5), the TD attributes, the TDX part of the TCB status algorithm
 * (formats.md §3.5 steps 0, 2-8: TDX TCB components, TDX module identities
 * keyed by the module's major version, TD relaunch) and the EAT-profile
 * claims (maa-interface.md §2.7). The quote header, the signature and
 * certification data, the QE report check, the PCK chain with its CRLs,
 * TCB Info / TD QE identity parsing and verification are the shared Intel
 * layer (evidence/quote.h), not a copy.
 */

#include "attest/error.h"
#include "claims/claims.h"
#include "evidence/evidence.h"
#include "evidence/pck.h"
#include "evidence/quote.h"
#include "evidence/tcb.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- TD report bodies (formats.md §1.4; sgx_report2_body_t) ---------- */

/*
 * The layout (offsets TD_RB_OFF_*, sizes TD10_REPORT_BODY_SIZE /
 * TD15_REPORT_BODY_SIZE, body types QUOTE_BODY_TD10 / QUOTE_BODY_TD15) is
 * described once, in evidence/quote.h; these are the field sizes.
 */
#define TDX_MR_SIZE	     48
#define TDX_SVN_SIZE	     16
#define TDX_REPORT_DATA_SIZE 64
#define TDX_RTMR_COUNT	     4

/* A parsed TD report body. Copies, so it outlives the quote bytes. */
struct tdx_td_report {
	int body_type; /* QUOTE_BODY_TD10 or QUOTE_BODY_TD15 */
	uint8_t tee_tcb_svn[TDX_SVN_SIZE];
	uint8_t mrseam[TDX_MR_SIZE];
	uint8_t mrsignerseam[TDX_MR_SIZE];
	uint8_t seam_attributes[8];
	uint8_t td_attributes[8];
	uint8_t xfam[8];
	uint8_t mrtd[TDX_MR_SIZE];
	uint8_t mrconfigid[TDX_MR_SIZE];
	uint8_t mrowner[TDX_MR_SIZE];
	uint8_t mrownerconfig[TDX_MR_SIZE];
	uint8_t rtmr[TDX_RTMR_COUNT][TDX_MR_SIZE];
	uint8_t report_data[TDX_REPORT_DATA_SIZE];
	/* TDX 1.5 only; zero for TDX 1.0 bodies. */
	uint8_t tee_tcb_svn2[TDX_SVN_SIZE];
	uint8_t mrservicetd[TDX_MR_SIZE];
};

/*
 * Parses a TD report body of body_type (QUOTE_BODY_TD10: exactly 584
 * bytes; QUOTE_BODY_TD15: exactly 648). Errors: tdx.body.size,
 * tdx.body.type.
 */
int tdx_td_report_parse(const uint8_t *p, size_t n, int body_type, struct tdx_td_report *out,
			struct attest_err *err);

/* ---- TDATTRIBUTES (TDX module ABI spec; formats.md §1.4) ------------- */

#define TDX_ATTR_DEBUG		 (1ull << 0)
#define TDX_ATTR_HGS_PLUS_PROF	 (1ull << 4)
#define TDX_ATTR_PERF_PROF	 (1ull << 5)
#define TDX_ATTR_PMT_PROF	 (1ull << 6)
#define TDX_ATTR_ICSSD		 (1ull << 16)
#define TDX_ATTR_SERVTD_EXT	 (1ull << 17)
#define TDX_ATTR_LASS		 (1ull << 27)
#define TDX_ATTR_SEPT_VE_DISABLE (1ull << 28)
#define TDX_ATTR_MIGRATABLE	 (1ull << 29)
#define TDX_ATTR_PKS		 (1ull << 30)
#define TDX_ATTR_KL		 (1ull << 31)
#define TDX_ATTR_TPA		 (1ull << 62)
#define TDX_ATTR_PERFMON	 (1ull << 63)

/* Attribute groups: TUD 3:0, TUP 15:4, SEC 31:16, reserved 55:32, OTHER 63:56. */
#define TDX_ATTR_TUD_MASK      0x000000000000000full
#define TDX_ATTR_RESERVED_MASK 0x00ffffff00000000ull

struct tdx_td_attributes {
	uint64_t raw;	  /* u64 LE of the 8 bytes */
	bool debug;	  /* bit 0 DEBUG */
	bool under_debug; /* any bit of the TUD group (dbgstat) */
	bool sept_ve_disable;
	bool pks;
	bool key_locker;
	bool perfmon;
	bool migratable;
	/* Bits this code does not name (for "unknown bits" reporting). */
	uint64_t unknown;
};

void tdx_td_attributes_decode(const uint8_t attr[8], struct tdx_td_attributes *out);

/* ---- The TDX part of the TCB status (formats.md §3.5, Intel QVL) ------ */

/*
 * The TDX step of the TCB algorithm, called by tcb_evaluate() (tcb.c) once
 * the generic preconditions (TCB Info id vs tee_type, version, FMSPC,
 * PCE ID) hold, with the TCB Info's levels sorted highest first:
 *
 *   4.1.2.4.11   the TDX module: MRSIGNERSEAM equal to tdxModule.mrsigner
 *                (or, with a major version in TEE_TCB_SVN[1], to the
 *                mrsigner of identity "TDX_%02X"), SEAMATTRIBUTES zero and
 *                equal to its attributes
 *   4.1.2.4.17   sgxLevel: first level the PCK SVNs reach; tdxLevel: first
 *                of those that TEE_TCB_SVN reaches (bytes 2..15 only when a
 *                major version is present); TDX module status from its
 *                identity's levels; module convergence; TD relaunch (TDX 1.5
 *                bodies); QE convergence
 *
 * On ATTEST_OK *out is filled (out->adv.ids is malloc'd, its strings
 * borrowed from ti / qe_level; tcb_verdict_free() frees it), including when
 * out->status is TCB_NOT_SUPPORTED (no level matches: the caller refuses).
 * Errors: <p>.tcb.tdx_module (the module is not the one the TCB Info
 * describes, or no identity for its major version),
 * <p>.tcbinfo.tdx_module_identities (major version > 0 but the TCB Info has
 * no tdxModuleIdentities, QVL TCB_INFO_MISMATCH), <p>.tcbinfo.tdx_module
 * (neither), <p>.tcbinfo.tdx_module_status (a module level status other than
 * UpToDate/OutOfDate/Revoked), <p>.tcb.nomem.
 */
int tdx_tcb_evaluate(const struct tcb_info *ti, const struct pck_ext *pck, const struct tcb_tdx_input *tdx,
		     enum tcb_status qe_status, const struct qe_tcb_level *qe_level, struct tcb_verdict *out,
		     const char *prefix, struct attest_err *err);

/* The TCB Info's identity "TDX_<major, 2 hex digits>" (case-insensitive id), or NULL. */
const struct tdx_module_identity *tdx_tcb_module_identity(const struct tcb_info *ti, uint8_t major);

/* ---- Claims (maa-interface.md §2.7) ----------------------------------- */

#define TDX_EAT_PROFILE "https://aka.ms/maa-eat-profile-tdxvm"

/*
 * Adds the TD report claims of the TDX EAT profile (eat_profile, dbgstat,
 * intuse, every tdx_* claim) to set. Lower-case hex of the raw report bytes
 * for byte fields; tdx_seamsvn = TEE_TCB_SVN[0]. TDX 1.5 bodies also add
 * tdx_tee_tcb_svn2 and tdx_mrservicetd.
 */
int tdx_claims_add_report(struct claim_set *set, const struct tdx_td_report *td, struct attest_err *err);

/* ---- The entry point -------------------------------------------------- */

/*
 * Verifies a TD quote (in->evidence) at ctx->now against the collateral of
 * ctx->collateral and the Intel roots of ctx->anchors, binds runtime data
 * (SHA-256 = REPORTDATA[0:32]) and, only when everything verified and the
 * status is one Intel defines for a platform, adds the claims to out.
 */
int tdx_verify(const struct evidence_ctx *ctx, const struct evidence_input *in, struct claim_set *out,
	       struct attest_err *err);

#endif
