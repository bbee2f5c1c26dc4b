#ifndef ATTEST_DEVPLAT_INTEL_H
#define ATTEST_DEVPLAT_INTEL_H

/*
 * A synthetic Intel DCAP platform for tests, fuzz seeds and demos: a test
 * "Intel SGX Root CA" (never trusted by production configurations), a PCK
 * Platform or Processor CA, PCK certificates carrying the SGX extension,
 * an "Intel SGX TCB Signing" certificate, CRLs, signed TCB Info (SGX or
 * TDX, v2 or v3) and Enclave Identities with chosen levels, and quotes
 * (v3/v4/v5, any body: SGX bodies built here, TD bodies by devplat/tdx*.c)
 * whose QE report is signed by the PCK key and bound to the attestation key.
 *
 * Everything lives in one struct intel_devplat; every generated blob is
 * malloc'd and owned by the caller. Keys are fresh P-256 keys per platform.
 */

#include "attest/error.h"
#include "collateral/collateral.h"
#include "evidence/pck.h"
#include "evidence/quote.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct intel_devplat;

struct intel_devplat_opts {
	int64_t now;	/* reference time: certs valid now-365d..now+365d */
	enum pck_ca ca; /* Processor (5 extension entries) or Platform (7) */
	uint8_t fmspc[6];
	uint8_t pceid[2];
	uint8_t comp_svn[16]; /* the PCK certificate's TCB components */
	uint16_t pcesvn;
	bool revoke_pck;		       /* list the PCK serial in the PCK CRL */
	bool revoke_pck_ca;		       /* list the PCK CA serial in the Root CA CRL */
	int64_t pck_not_before, pck_not_after; /* 0: the defaults above */
	/*
	 * NULL: fresh keys. Else load the root, CA, PCK, TCB-signing and
	 * attestation keys from this folder (root.key, pck_ca.key, pck.key,
	 * tcb_signing.key, attestation.key, PEM), creating them (0600) on first
	 * use, so processes sharing the folder share one dev PKI (certificates
	 * re-issued from the same keys chain to the same root by subject+key).
	 */
	const char *key_dir;
};

/* Fills sensible defaults: now, Processor CA, FMSPC 00906ED50000, comps 5.. */
void intel_devplat_opts_default(struct intel_devplat_opts *o, int64_t now);

int intel_devplat_new(const struct intel_devplat_opts *opts, struct intel_devplat **out,
		      struct attest_err *err);
void intel_devplat_free(struct intel_devplat *p);

/* The test root as trust anchors (new stack; caller frees with OSSL_STACK_OF_X509_free). */
STACK_OF(X509) * intel_devplat_roots(const struct intel_devplat *p);
/* PEM of the PCK chain (PCK, CA, root) as quotes carry it; caller frees. */
int intel_devplat_pck_chain_pem(const struct intel_devplat *p, char **pem, size_t *len);

/* ---- collateral ------------------------------------------------------------ */

struct intel_devplat_tcb_level {
	uint8_t sgx[16];
	uint16_t pcesvn;
	bool has_tdx;
	uint8_t tdx[16];
	const char *status;	/* Intel string, e.g. "SWHardeningNeeded" */
	const char *advisories; /* comma-separated IDs, or NULL */
	const char *date;	/* tcbDate; NULL = "2024-01-01T00:00:00Z" */
};

struct intel_devplat_module_level {
	uint8_t isvsvn;
	const char *status;
	const char *advisories;
};

struct intel_devplat_module {
	const char *id; /* "TDX_01" */
	uint8_t mrsigner[48];
	uint8_t attributes[8];
	uint8_t attributes_mask[8];
	const struct intel_devplat_module_level *levels;
	size_t n_levels;
};

struct intel_devplat_tcb_info {
	int version;			 /* 2 or 3 */
	const char *id;			 /* "SGX" or "TDX" (v3) */
	int64_t issue_date, next_update; /* 0: now-1d, now+29d */
	int64_t eval_num;		 /* 0: 17 */
	const uint8_t *fmspc;		 /* NULL: the platform's */
	const struct intel_devplat_tcb_level *levels;
	size_t n_levels;
	bool has_tdx_module; /* TDX: tdxModule object */
	uint8_t tdx_module_mrsigner[48];
	uint8_t tdx_module_attributes[8];
	const struct intel_devplat_module *modules; /* tdxModuleIdentities */
	size_t n_modules;
};

struct intel_devplat_qe_level {
	uint16_t isvsvn;
	const char *status;
	const char *advisories;
};

struct intel_devplat_qe_identity {
	const char *id; /* "QE" or "TD_QE" */
	int64_t issue_date, next_update;
	int64_t eval_num;
	uint8_t mrsigner[32];
	uint16_t isvprodid;
	uint32_t miscselect, miscselect_mask;
	uint8_t attributes[16], attributes_mask[16];
	const struct intel_devplat_qe_level *levels;
	size_t n_levels;
};

/* Intel's QE identity values (mrsigner 8C4F..., prodid 1, masks) with one UpToDate level at isvsvn 8. */
void intel_devplat_qe_identity_default(struct intel_devplat_qe_identity *q);

/* Signed PCS bodies {"tcbInfo":...,"signature":...} / {"enclaveIdentity":...}. */
int intel_devplat_tcb_info(const struct intel_devplat *p, const struct intel_devplat_tcb_info *spec,
			   char **body, size_t *len, struct attest_err *err);
int intel_devplat_qe_identity(const struct intel_devplat *p, const struct intel_devplat_qe_identity *spec,
			      char **body, size_t *len, struct attest_err *err);

/*
 * Writes a collateral folder in the layout of shared/vectors/sgx/<v>/ (the
 * file source's): tcb_info.json, qe_identity.json, both issuer chains,
 * pck_crl.der + chain, root_ca_crl.der. CRLs valid crl_this..crl_next
 * (0: now-1d..now+29d).
 */
int intel_devplat_write_collateral(const struct intel_devplat *p, const char *dir, const char *tcb_info,
				   size_t tcb_info_len, const char *qe_identity, size_t qe_identity_len,
				   int64_t crl_this, int64_t crl_next, struct attest_err *err);

/*
 * A TCB Recovery in the making (issue 12, early TCB warnings): the levels
 * of `base` under a new newest UpToDate level, base's newest level with one
 * component raised one above both that level and the platform: component
 * 0-15 an SGX TCB component, 16-31 TDX component (component - 16) (base must
 * be TDX), -1 the PCESVN. Every level of base that was UpToDate,
 * SWHardeningNeeded or ConfigurationNeeded (and both) becomes OutOfDate
 * (OutOfDateConfigurationNeeded) with advisory INTEL-SA-EARLY, so a
 * platform current under base is demoted under the result. Signed, with
 * tcbEvaluationDataNumber eval_num (0: base's number + 1).
 */
int intel_devplat_tcb_info_demoting(const struct intel_devplat *p, const struct intel_devplat_tcb_info *base,
				    int component, int64_t eval_num, char **body, size_t *len,
				    struct attest_err *err);

/*
 * Writes a selected set (collateral.h) as the file source serves it:
 * tcb_info_early.json / tcb_info_eval<N>.json (tcb) or
 * qe_identity_early.json / qe_identity_eval<N>.json; the issuer chain is
 * the standard one the folder already has.
 */
int intel_devplat_write_selected(const char *dir, bool tcb, const struct collateral_select *sel,
				 const char *body, size_t len, struct attest_err *err);

/*
 * Writes the PCK certificate as the file source serves it for certification
 * data types 1-3: collateral_file_pck_name (pck_<hex of a clear PPID>.pem,
 * pck_<SHA-256 hex of an encrypted one>.pem) plus
 * pck_cert_issuer_chain.pem (CA, root).
 */
int intel_devplat_write_pck_cert(const struct intel_devplat *p, const char *dir, const uint8_t *ppid,
				 size_t ppid_len, struct attest_err *err);

/* ---- quotes ------------------------------------------------------------------ */

/* An enclave (the ISV body or the QE report), in sgx_report_body_t terms. */
struct intel_devplat_enclave {
	uint8_t cpusvn[16];
	uint32_t miscselect;
	uint64_t flags; /* ATTRIBUTES.FLAGS */
	uint64_t xfrm;
	uint8_t mrenclave[32];
	uint8_t mrsigner[32];
	uint8_t configid[64];
	uint16_t isvprodid, isvsvn, configsvn;
	uint8_t isvextprodid[16], isvfamilyid[16];
	uint8_t reportdata[64];
};

/* A production enclave: INIT|MODE64BIT, xfrm 7, fixed mrenclave/mrsigner, prodid 1, svn 1. */
void intel_devplat_enclave_default(struct intel_devplat_enclave *e);
/* Intel's QE (mrsigner 8C4F..., prodid 1, flags 0x15, svn 8). */
void intel_devplat_qe_default(struct intel_devplat_enclave *e);
void intel_devplat_report_body(const struct intel_devplat_enclave *e, uint8_t out[SGX_REPORT_BODY_SIZE]);

struct intel_devplat_quote {
	int version;			/* 3, 4 or 5 */
	uint32_t tee_type;		/* QUOTE_TEE_SGX / QUOTE_TEE_TDX */
	enum quote_body_type body_type; /* v5 descriptor; implied for v3/v4 */
	const uint8_t *body;		/* body bytes (384 / 584 / 648) */
	size_t body_len;
	struct intel_devplat_enclave qe; /* the QE report (reportdata is filled in) */
	const uint8_t *qe_auth;		 /* NULL: 32 bytes 00..1f */
	size_t qe_auth_len;
	uint16_t qe_svn_header; /* header qe_svn (v3) */
	size_t trailing;	/* zero bytes appended after the signature data */
	uint16_t cert_type;	/* 0 / 5: PCK chain; 1..3: PPID (ppid below), 4: PCK leaf */
	const uint8_t *ppid;
	size_t ppid_len;
};

void intel_devplat_quote_default(struct intel_devplat_quote *q);

/* Builds and signs a quote; *out malloc'd. */
int intel_devplat_make_quote(const struct intel_devplat *p, const struct intel_devplat_quote *spec,
			     uint8_t **out, size_t *len, struct attest_err *err);

/* OE wrappers: legacy report (oe_report_header_t + quote) and evidence (attestation header + quote + claims).
 */
int intel_devplat_oe_report(const uint8_t *quote, size_t quote_len, uint8_t **out, size_t *len);
int intel_devplat_oe_evidence(const uint8_t *quote, size_t quote_len, const uint8_t *claims,
			      size_t claims_len, bool with_header, uint8_t **out, size_t *len);
/* An OE custom claims buffer (§4.3) of n (name, value) pairs. */
int intel_devplat_oe_custom_claims(const char *const *names, const uint8_t *const *values,
				   const size_t *value_lens, size_t n, uint8_t **out, size_t *len);

#endif
