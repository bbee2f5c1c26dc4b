#ifndef ATTEST_EVIDENCE_SGX_H
#define ATTEST_EVIDENCE_SGX_H

/*
 * Intel SGX (DCAP ECDSA quotes v3/v4/v5 with an SGX body) and Open Enclave
 * evidence: the entry points behind POST /attest/SgxEnclave and
 * POST /attest/OpenEnclave (maa-interface.md §1.3.2, claims §2.3).
 *
 * sgx_verify: in->evidence is the raw quote.
 * oe_verify:  in->evidence is an OE report (oe_report_header_t + quote,
 *             formats.md §4.1), or OE evidence: optional
 *             oe_attestation_header_t (format UUID) + quote + custom claims
 *             (§4.2, §4.3), or a bare quote.
 *
 * Runtime data (in->runtime_data): SHA-256 must equal REPORTDATA[0:32]
 * (sgx.runtime_data.mismatch). Binary → x-ms-sgx-ehd (base64url); JSON →
 * parsed into x-ms-runtime (sgx.runtime_data.json when not JSON).
 * Init-time data: SHA-256 must equal CONFIGID[0:32] (sgx.init_data.mismatch);
 * JSON → x-ms-inittime.
 *
 * Claims (incoming, issuer AttestationService): x-ms-attestation-type "sgx",
 * x-ms-sgx-is-debuggable, -mrenclave, -mrsigner, -product-id, -svn,
 * -report-data, -ehd, -config-id, -config-svn, -isv-extended-product-id,
 * -isv-family-id (KSS fields when KSS is set or the field is non-zero),
 * x-ms-sgx-collateral {qeidcertshash, qeidcrlhash, qeidhash, quotehash,
 * tcbinfocertshash, tcbinfocrlhash, tcbinfohash}, x-ms-runtime,
 * x-ms-inittime, and the TCB verdict: x-ms-sgx-tcb-status (Intel string),
 * x-ms-sgx-advisory-ids (array), x-ms-sgx-tcb-evaluation-data-number,
 * x-ms-sgx-platform-tcb-status (the matched level's, before QE
 * convergence), x-ms-sgx-qe-tcb-status, x-ms-sgx-fmspc, x-ms-sgx-pceid,
 * x-ms-sgx-revocation-checked (false with EVIDENCE_NO_REVOCATION or
 * EVIDENCE_NO_COLLATERAL; the latter reports x-ms-sgx-tcb-status
 * "NotEvaluated" and no collateral claims).
 * oe_verify adds x-ms-oe-custom-claims {name: base64url value} when the
 * evidence carries custom claims. Early TCB warnings (intel.h,
 * intel_add_early_claims; docs/claims-sgx.md): x-attestd-early-tcb-status,
 * -evaluationdatanumber, -behind, -advisory-ids when the source's early TCB
 * Info demotes the platform, x-attestd-early-tcb-warning when it did not
 * verify. ctx->sgx_tcb_baseline is enforced (sgx.tcb.below_baseline,
 * sgx.tcb.baseline_collateral; docs/tcb-baselines.md).
 */

#include "attest/error.h"
#include "claims/claims.h"
#include "evidence/evidence.h"

int sgx_verify(const struct evidence_ctx *ctx, const struct evidence_input *in, struct claim_set *out,
	       struct attest_err *err);
int oe_verify(const struct evidence_ctx *ctx, const struct evidence_input *in, struct claim_set *out,
	      struct attest_err *err);

/* OE format UUIDs (formats.md §4.2), bytes as stored. */
extern const uint8_t OE_FORMAT_UUID_SGX_ECDSA[16];
extern const uint8_t OE_FORMAT_UUID_LEGACY_REPORT_REMOTE[16];
extern const uint8_t OE_FORMAT_UUID_RAW_SGX_QUOTE_ECDSA[16];

#define OE_REPORT_HEADER_SIZE	      16
#define OE_REPORT_HEADER_VERSION      1
#define OE_REPORT_TYPE_SGX_LOCAL      1
#define OE_REPORT_TYPE_SGX_REMOTE     2
#define OE_ATTESTATION_HEADER_SIZE    32
#define OE_ATTESTATION_HEADER_VERSION 3
#define OE_CUSTOM_CLAIMS_VERSION      1

#endif
