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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- TD report bodies (formats.md §1.4; sgx_report2_body_t) ---------- */

#define TDX_TEE_TYPE 0x00000081u

/* v5 body descriptor types (formats.md §1.5). */
#define TDX_BODY_TYPE_SGX 1
#define TDX_BODY_TYPE_TD10 2
#define TDX_BODY_TYPE_TD15 3

#define TDX_TD10_REPORT_SIZE 584
#define TDX_TD15_REPORT_SIZE 648

#define TDX_MR_SIZE 48
#define TDX_SVN_SIZE 16
#define TDX_REPORT_DATA_SIZE 64
#define TDX_RTMR_COUNT 4

/* Field offsets in the TD report body, named after sgx_report2_body_t. */
enum tdx_td_report_offset {
	TDX_OFF_TEE_TCB_SVN = 0,
	TDX_OFF_MRSEAM = 16,
	TDX_OFF_MRSIGNERSEAM = 64,
	TDX_OFF_SEAMATTRIBUTES = 112,
	TDX_OFF_TDATTRIBUTES = 120,
	TDX_OFF_XFAM = 128,
	TDX_OFF_MRTD = 136,
	TDX_OFF_MRCONFIGID = 184,
	TDX_OFF_MROWNER = 232,
	TDX_OFF_MROWNERCONFIG = 280,
	TDX_OFF_RTMR0 = 328,
	TDX_OFF_REPORTDATA = 520,
	TDX_OFF_TEE_TCB_SVN2 = 584, /* TDX 1.5 only */
	TDX_OFF_MRSERVICETD = 600,  /* TDX 1.5 only */
};

/* A parsed TD report body. Copies, so it outlives the quote bytes. */
struct tdx_td_report {
	int body_type; /* TDX_BODY_TYPE_TD10 or TDX_BODY_TYPE_TD15 */
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
 * Parses a TD report body of body_type (TDX_BODY_TYPE_TD10: exactly 584
 * bytes; TDX_BODY_TYPE_TD15: exactly 648). Errors: tdx.body.size,
 * tdx.body.type.
 */
int tdx_td_report_parse(const uint8_t *p, size_t n, int body_type, struct tdx_td_report *out,
			struct attest_err *err);

/* ---- TDATTRIBUTES (TDX module ABI spec; formats.md §1.4) ------------- */

#define TDX_ATTR_DEBUG (1ull << 0)
#define TDX_ATTR_HGS_PLUS_PROF (1ull << 4)
#define TDX_ATTR_PERF_PROF (1ull << 5)
#define TDX_ATTR_PMT_PROF (1ull << 6)
#define TDX_ATTR_ICSSD (1ull << 16)
#define TDX_ATTR_SERVTD_EXT (1ull << 17)
#define TDX_ATTR_LASS (1ull << 27)
#define TDX_ATTR_SEPT_VE_DISABLE (1ull << 28)
#define TDX_ATTR_MIGRATABLE (1ull << 29)
#define TDX_ATTR_PKS (1ull << 30)
#define TDX_ATTR_KL (1ull << 31)
#define TDX_ATTR_TPA (1ull << 62)
#define TDX_ATTR_PERFMON (1ull << 63)

/* Attribute groups: TUD 3:0, TUP 15:4, SEC 31:16, reserved 55:32, OTHER 63:56. */
#define TDX_ATTR_TUD_MASK 0x000000000000000full
#define TDX_ATTR_RESERVED_MASK 0x00ffffff00000000ull

struct tdx_td_attributes {
	uint64_t raw; /* u64 LE of the 8 bytes */
	bool debug;       /* bit 0 DEBUG */
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
 * Statuses as Intel's QVL names them for a TDX quote. The first seven are
 * TCB Info tcbStatus strings; the relaunch pair comes from step 7; the last
 * ones are QVL verdicts that are failures, not statuses.
 */
enum tdx_tcb_status {
	TDX_TCB_UP_TO_DATE,
	TDX_TCB_SW_HARDENING_NEEDED,
	TDX_TCB_CONFIGURATION_NEEDED,
	TDX_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
	TDX_TCB_OUT_OF_DATE,
	TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
	TDX_TCB_REVOKED,
	TDX_TCB_TD_RELAUNCH_ADVISED,
	TDX_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED,
	TDX_TCB_NOT_SUPPORTED,    /* "TCB level not supported" */
	TDX_TCB_MODULE_MISMATCH,  /* TDX_MODULE_MISMATCH */
	TDX_TCB_INFO_MISMATCH,    /* TCB_INFO_MISMATCH: module major > 0 but no identities */
	TDX_TCB_UNRECOGNIZED,     /* a status string QVL does not know */
};

/* The Intel name ("UpToDate", ..., "TDRelaunchAdvised", "TcbLevelNotSupported"). */
const char *tdx_tcb_status_str(enum tdx_tcb_status s);
/* Parses a TCB Info / module identity tcbStatus string; TDX_TCB_UNRECOGNIZED otherwise. */
enum tdx_tcb_status tdx_tcb_status_parse(const char *s);

/* QE identity verdict (formats.md §3.6). */
enum tdx_qe_status { TDX_QE_UP_TO_DATE, TDX_QE_OUT_OF_DATE, TDX_QE_REVOKED, TDX_QE_NOT_SUPPORTED };

/* One tcbLevels[] entry of a TDX TCB Info, as the TDX step reads it. */
struct tdx_tcb_level {
	uint8_t sgx_svn[16];
	uint16_t pcesvn;
	uint8_t tdx_svn[16];
	enum tdx_tcb_status status;
	const char *const *advisory_ids; /* borrowed */
	size_t n_advisory_ids;
};

/* One tcbLevels[] entry of a TDX module identity. */
struct tdx_module_level {
	uint16_t isvsvn;
	enum tdx_tcb_status status;
	const char *const *advisory_ids;
	size_t n_advisory_ids;
};

/* tdxModule (legacy, major version 0) or one of tdxModuleIdentities[]. */
struct tdx_module_identity {
	const char *id; /* "TDX_01", ...; NULL for tdxModule */
	uint8_t mrsigner[TDX_MR_SIZE];
	uint8_t attributes[8];
	uint8_t attributes_mask[8];
	const struct tdx_module_level *levels; /* any order: sorted by the step */
	size_t n_levels;
};

/* Everything the TDX step needs; all pointers borrowed. */
struct tdx_tcb_input {
	int quote_version;                  /* 4 or 5 */
	const struct tdx_td_report *td;     /* the verified TD report */
	const uint8_t *pck_sgx_svn;         /* 16 component SVNs of the PCK certificate */
	uint16_t pck_pcesvn;
	const struct tdx_tcb_level *levels; /* any order: sorted by the step */
	size_t n_levels;
	const struct tdx_module_identity *tdx_module; /* tdxModule */
	const struct tdx_module_identity *identities; /* tdxModuleIdentities (may be 0) */
	size_t n_identities;
	bool has_identities;                /* the member was present */
	enum tdx_qe_status qe_status;
	const char *const *qe_advisory_ids;
	size_t n_qe_advisory_ids;
};

#define TDX_MAX_TCB_LEVELS 256
#define TDX_MAX_ADVISORY_IDS 128

struct tdx_tcb_result {
	enum tdx_tcb_status status; /* final, converged */
	enum tdx_tcb_status sgx_status;
	enum tdx_tcb_status tdx_level_status;
	enum tdx_tcb_status module_status;
	const struct tdx_tcb_level *sgx_level; /* NULL when none matched */
	const struct tdx_tcb_level *tdx_level;
	const struct tdx_module_identity *module_identity;
	const struct tdx_module_level *module_level;
	/* Union of the chosen platform, module and QE levels' advisory IDs, in that order. */
	const char *advisory_ids[TDX_MAX_ADVISORY_IDS];
	size_t n_advisory_ids;
};

/*
 * Runs the TDX TCB algorithm: module preconditions (MRSIGNERSEAM and
 * SEAMATTRIBUTES against tdxModule or the identity of the module's major
 * version), level matching on the PCK SVNs and TEE_TCB_SVN, module status,
 * convergence, TD relaunch (body type 3) and QE convergence, exactly as
 * Intel's QVL orders them. Returns 0 and fills *out whatever the status,
 * including TDX_TCB_NOT_SUPPORTED and TDX_TCB_MODULE_MISMATCH (the caller
 * refuses those); fails only on malformed input: duplicated TCB levels
 * (tdx.tcbinfo.duplicate_level) or too many levels/advisories.
 */
int tdx_tcb_evaluate(const struct tdx_tcb_input *in, struct tdx_tcb_result *out, struct attest_err *err);

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
