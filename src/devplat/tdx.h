#ifndef ATTEST_DEVPLAT_TDX_H
#define ATTEST_DEVPLAT_TDX_H

/*
 * Synthetic TD quotes (v4 with a TDX 1.0 body; v5 with body type 2 or 3) on
 * top of the synthetic Intel platform of devplat/intel.h: this file builds
 * the TD report body and the TD QE, intel_devplat_make_quote signs. Also the
 * TDX collateral defaults (TDX TCB Info v3 with tdxModule and a TDX_01
 * identity, TD_QE identity) that tests and demos start from. Test use only:
 * everything chains to the synthetic root.
 */

#include "attest/error.h"
#include "devplat/intel.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A TD report body in sgx_report2_body_t terms (formats.md §1.4). */
struct tdx_devplat_td {
	int body_type; /* QUOTE_BODY_TD10 or QUOTE_BODY_TD15 */
	uint8_t tee_tcb_svn[16];
	uint8_t mrseam[48];
	uint8_t mrsignerseam[48];
	uint8_t seam_attributes[8];
	uint64_t td_attributes;
	uint64_t xfam;
	uint8_t mrtd[48], mrconfigid[48], mrowner[48], mrownerconfig[48];
	uint8_t rtmr[4][48];
	uint8_t report_data[64];
	uint8_t tee_tcb_svn2[16]; /* TD15 only */
	uint8_t mrservicetd[48];  /* TD15 only */
};

/*
 * A production TD: TDX 1.0 body, TEE_TCB_SVN 05 01 02 (module 1.5, SVN 5,
 * late microcode 2), SEPT_VE_DISABLE, XFAM 0x61ae7, fixed MRTD/RTMRs,
 * MRSIGNERSEAM zero (Intel-signed module).
 */
void tdx_devplat_td_default(struct tdx_devplat_td *td);

/* Serialises the body: 584 bytes (TD10) or 648 (TD15) into out; returns the length. */
size_t tdx_devplat_td_body(const struct tdx_devplat_td *td, uint8_t out[648]);

/* Intel's TD QE: mrsigner DC9E2A7C..., isvprodid 2, flags 0x15, isvsvn 4. */
void tdx_devplat_td_qe_default(struct intel_devplat_enclave *e);

/* TD_QE identity with Intel's values and one UpToDate level at isvsvn 4. */
void tdx_devplat_td_qe_identity_default(struct intel_devplat_qe_identity *q);

/*
 * A TDX TCB Info spec: id "TDX", v3, tdxModule {mrsigner 0, attributes 0},
 * the given levels and module identities (may be 0).
 */
void tdx_devplat_tcb_info_default(struct intel_devplat_tcb_info *t,
				  const struct intel_devplat_tcb_level *levels, size_t n_levels,
				  const struct intel_devplat_module *modules, size_t n_modules);

/*
 * Builds and signs a TD quote of `version` (4: body must be TD10; 5: TD10 or
 * TD15 with the v5 descriptor) with the TD QE (qe NULL: the default) and
 * `trailing` zero bytes after the signature data. *out malloc'd.
 */
int tdx_devplat_make_quote(const struct intel_devplat *p, int version, const struct tdx_devplat_td *td,
			   const struct intel_devplat_enclave *qe, size_t trailing, uint8_t **out,
			   size_t *len, struct attest_err *err);

#endif
