#ifndef ATTEST_EVIDENCE_TCB_H
#define ATTEST_EVIDENCE_TCB_H

/*
 * Intel collateral documents and the TCB status algorithm (formats.md §3):
 * TCB Info v2/v3 (id "SGX" and "TDX": tdxtcbcomponents, tdxModule,
 * tdxModuleIdentities), Enclave Identity v2 (QE, TD_QE, QVE, QAE), and
 * Intel QVL's checkTcbLevel / TDX module / relaunch / QE convergence rules.
 *
 * Parsed documents are immutable after parse and own everything they point
 * to (strings borrow from the kept jansson document). They are shared by
 * reference through the collateral cache: never modify one.
 *
 * Signatures (§3.3) are over the exact bytes of the "tcbInfo" /
 * "enclaveIdentity" member as served: the parser locates that byte span in
 * the raw body (signed_off/signed_len) and parses those same bytes; a
 * body with a duplicated top-level member is refused.
 *
 * Error names (prefix "sgx" / "tdx"):
 *   <p>.tcbinfo.parse / .member / .version / .id / .dates / .levels /
 *   .duplicate_level / .signature / .expired / .not_yet_valid / .fmspc / .pceid
 *   <p>.qeid.parse / .member / .version / .id / .signature / .expired /
 *   .not_yet_valid / .mismatch.{miscselect,attributes,mrsigner,isvprodid}
 *   <p>.tcb.not_supported   no TCB level matches (TCB level not supported)
 *   <p>.tcb.tdx_module      TDX module identity missing or mrsigner/attributes differ
 */

#include "attest/error.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pck_ext;

enum tcb_status {
	TCB_UP_TO_DATE = 0,
	TCB_SW_HARDENING_NEEDED,
	TCB_CONFIGURATION_NEEDED,
	TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
	TCB_OUT_OF_DATE,
	TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
	TCB_REVOKED,
	TCB_NOT_SUPPORTED, /* "TCB level not supported": no level matched */
	TCB_TD_RELAUNCH_ADVISED,
	TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED,
};

/* Intel's strings ("UpToDate", ...; TCB_NOT_SUPPORTED is "TcbLevelNotSupported"). */
const char *tcb_status_str(enum tcb_status s);
int tcb_status_parse(const char *s, enum tcb_status *out);

/* Advisory IDs: borrowed strings, in document order. */
struct tcb_advisories {
	const char **ids;
	size_t n;
};

/* ---- TCB Info ---------------------------------------------------------- */

enum tcb_info_id { TCB_INFO_ID_NONE = 0 /* v2 */, TCB_INFO_ID_SGX, TCB_INFO_ID_TDX };

struct tcb_level {
	uint8_t sgx[16];
	uint16_t pcesvn;
	bool has_tdx;
	uint8_t tdx[16];
	int64_t tcb_date;
	enum tcb_status status;
	struct tcb_advisories adv;
};

struct tdx_module_level {
	uint8_t isvsvn;
	int64_t tcb_date;
	enum tcb_status status;
	struct tcb_advisories adv;
};

struct tdx_module_identity {
	char id[16]; /* "TDX_01", ... */
	uint8_t mrsigner[48];
	uint8_t attributes[8];
	uint8_t attributes_mask[8];
	struct tdx_module_level *levels; /* sorted by isvsvn, highest first */
	size_t n_levels;
};

struct tcb_info {
	enum tcb_info_id id;
	int version; /* 2 or 3 */
	int64_t issue_date, next_update;
	uint8_t fmspc[6];
	uint8_t pceid[2];
	int64_t tcb_type;
	int64_t eval_num; /* tcbEvaluationDataNumber */
	bool has_tdx_module;
	uint8_t tdx_module_mrsigner[48];
	uint8_t tdx_module_attributes[8];
	uint8_t tdx_module_attributes_mask[8];
	struct tdx_module_identity *modules;
	size_t n_modules;
	struct tcb_level *levels; /* sorted descending (§3.5 step 1) */
	size_t n_levels;
	uint8_t signature[64]; /* r || s BE */
	uint8_t *body;	       /* copy of the raw PCS body */
	size_t body_len;
	size_t signed_off, signed_len; /* the "tcbInfo" member's bytes in body */
	json_t *doc;		       /* keeps the strings alive */
};

/* Parses a PCS body {"tcbInfo":{...},"signature":"hex"}; *out owned by caller. */
int tcb_info_parse(const uint8_t *body, size_t len, struct tcb_info **out, const char *prefix,
		   struct attest_err *err);
void tcb_info_free(struct tcb_info *ti);
/* Signature by the TCB signing key over the exact member bytes. */
int tcb_info_verify_signature(const struct tcb_info *ti, EVP_PKEY *signer, const char *prefix,
			      struct attest_err *err);

/* ---- Enclave Identity ---------------------------------------------------- */

enum qe_identity_id { QE_ID_QE = 0, QE_ID_TD_QE, QE_ID_QVE, QE_ID_QAE };
const char *qe_identity_id_str(enum qe_identity_id id);

struct qe_tcb_level {
	uint16_t isvsvn;
	int64_t tcb_date;
	enum tcb_status status;
	struct tcb_advisories adv;
};

struct qe_identity {
	enum qe_identity_id id;
	int version;
	int64_t issue_date, next_update;
	int64_t eval_num;
	uint32_t miscselect, miscselect_mask; /* LE u32 of the hex bytes (report order) */
	uint8_t attributes[16], attributes_mask[16];
	uint8_t mrsigner[32];
	uint16_t isvprodid;
	struct qe_tcb_level *levels; /* document order */
	size_t n_levels;
	uint8_t signature[64];
	uint8_t *body;
	size_t body_len;
	size_t signed_off, signed_len;
	json_t *doc;
};

int qe_identity_parse(const uint8_t *body, size_t len, struct qe_identity **out, const char *prefix,
		      struct attest_err *err);
void qe_identity_free(struct qe_identity *qi);
int qe_identity_verify_signature(const struct qe_identity *qi, EVP_PKEY *signer, const char *prefix,
				 struct attest_err *err);

/* Validity window (§3.7): issueDate < now <= nextUpdate ... as QVL checkDateCorrectness. */
int tcb_info_check_time(const struct tcb_info *ti, int64_t now, const char *prefix, struct attest_err *err);
int qe_identity_check_time(const struct qe_identity *qi, int64_t now, const char *prefix,
			   struct attest_err *err);

struct sgx_report_body;

/*
 * QE identity check (§3.6) of a QE report: miscselect/attributes under mask,
 * mrsigner, isvprodid (each mismatch its own error), then the status of the
 * first level (document order) with isvsvn <= the report's: UpToDate,
 * OutOfDate, Revoked, or TCB_NOT_SUPPORTED when none; *level (optional)
 * gets that level or NULL.
 */
int qe_identity_check(const struct qe_identity *qi, const struct sgx_report_body *qe_report,
		      enum tcb_status *status, const struct qe_tcb_level **level, const char *prefix,
		      struct attest_err *err);

/* ---- TCB evaluation (§3.5, §3.6) ---------------------------------------- */

/* TDX inputs, from the TD report body (NULL for SGX). */
struct tcb_tdx_input {
	int quote_version;
	enum { TCB_TD10 = 2, TCB_TD15 = 3 } body_type;
	uint8_t tee_tcb_svn[16];
	uint8_t tee_tcb_svn2[16]; /* TDX 1.5 only */
	uint8_t mrsignerseam[48];
	uint8_t seamattributes[8];
};

struct tcb_verdict {
	enum tcb_status status;		   /* final, converged with the QE status */
	enum tcb_status platform;	   /* level status before QE convergence */
	enum tcb_status qe;		   /* QE identity status */
	enum tcb_status module;		   /* TDX module status (TDX only) */
	const struct tcb_level *sgx_level; /* borrowed from the TCB Info */
	const struct tcb_level *tdx_level;
	const struct tdx_module_level *module_level;
	int64_t tcb_date; /* of the chosen platform level */
	/* union of the platform, module and QE levels' advisory IDs (owned array, borrowed strings) */
	struct tcb_advisories adv;
};

/*
 * The whole algorithm: preconditions (id vs tee, fmspc, pceId, TDX module
 * mrsigner/attributes), level match on the PCK SVNs (and TEE_TCB_SVN), TDX
 * module status, relaunch, QE convergence. qe_level may be NULL.
 * Returns ATTEST_OK with out->status TCB_NOT_SUPPORTED when nothing
 * matches: callers fail with <p>.tcb.not_supported (tcb_verdict_require()).
 * Free with tcb_verdict_free.
 */
int tcb_evaluate(const struct tcb_info *ti, const struct pck_ext *pck, const struct tcb_tdx_input *tdx,
		 enum tcb_status qe_status, const struct qe_tcb_level *qe_level, struct tcb_verdict *out,
		 const char *prefix, struct attest_err *err);
void tcb_verdict_free(struct tcb_verdict *v);

/* Status convergence with the QE status (§3.6 table). */
enum tcb_status tcb_converge_with_qe(enum tcb_status platform, enum tcb_status qe);

/* ---- Which component is behind (issue 12, early TCB warnings) ------------ */

enum tcb_component_kind {
	TCB_COMPONENT_SGX = 0,	  /* sgxtcbcomponents[index] against the PCK's CPUSVN component */
	TCB_COMPONENT_PCE,	  /* PCESVN */
	TCB_COMPONENT_TDX,	  /* tdxtcbcomponents[index] against TEE_TCB_SVN[index] */
	TCB_COMPONENT_TDX_MODULE, /* TEE_TCB_SVN[0] against the module identity's isvsvn */
};

/* Names as Intel serves them ("sgx", "pcesvn", "tdx", "tdx_module"). */
const char *tcb_component_kind_str(enum tcb_component_kind k);

struct tcb_behind_item {
	enum tcb_component_kind kind;
	int index; /* component index, -1 for PCESVN */
	const char
	    *category; /* TCB Info "category" / "type" of the component (v3), borrowed; NULL when absent */
	const char *type;
	unsigned have, need;
};

#define TCB_BEHIND_MAX (16 + 1 + 16 + 1)

struct tcb_behind {
	const struct tcb_level *target; /* the level the platform must reach; NULL when none */
	struct tcb_behind_item items[TCB_BEHIND_MAX];
	size_t n;
};

/*
 * Which of the platform's TCB components are below the newest UpToDate
 * level of ti (the first in descending order; levels[0] when none is
 * UpToDate): each SGX component and the PCESVN of the PCK certificate,
 * and with tdx the TEE_TCB_SVN components (bytes 0 and 1 are the module's
 * when its major version is non-zero, judged against the highest UpToDate
 * level of its module identity instead, formats.md §3.5). Pure; strings
 * borrow from ti. An empty list: nothing is behind.
 */
void tcb_behind_compute(const struct tcb_info *ti, const struct pck_ext *pck, const struct tcb_tdx_input *tdx,
			struct tcb_behind *out);

#endif
