#ifndef ATTEST_EVIDENCE_AZURE_CVM_H
#define ATTEST_EVIDENCE_AZURE_CVM_H

/*
 * Azure confidential VMs (formats.md §6): the HCL attestation report that
 * the paravisor writes to vTPM NV index 0x01400001 (a header, the signed
 * hardware report, and the runtime JSON whose hash is in the hardware
 * report's REPORT_DATA), and Azure Attestation's SevSnpVm request
 * (maa-interface.md §1.3.3). The Azure guest verifier (azure_guest.c)
 * builds on hcl_report_parse / hcl_report_bind / hcl_runtime_ak_pub /
 * azure_cvm_snp_verify.
 *
 * Error names: hcl.* (HCL report), sevsnpvm.* (request envelope), plus
 * the snp.* names of the SNP verifier.
 */

#include "attest/error.h"
#include "claims/claims.h"
#include "evidence/evidence.h"
#include "evidence/snp.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/* HCL report layout (§6.2), offsets from its start, all LE. */
#define HCL_SIGNATURE	     0x414C4348u /* "HCLA" */
#define HCL_OFF_SIGNATURE    0x000u
#define HCL_OFF_VERSION	     0x004u
#define HCL_OFF_REPORT_SIZE  0x008u
#define HCL_OFF_REQUEST_TYPE 0x00Cu
#define HCL_OFF_RESERVED     0x010u
#define HCL_OFF_HW_REPORT    0x020u
#define HCL_HW_REPORT_SIZE   1184u
#define HCL_OFF_DATA_SIZE    0x4C0u
#define HCL_OFF_DATA_VERSION 0x4C4u
#define HCL_OFF_REPORT_TYPE  0x4C8u
#define HCL_OFF_HASH_TYPE    0x4CCu
#define HCL_OFF_VAR_SIZE     0x4D0u
#define HCL_OFF_VAR_DATA     0x4D4u
#define HCL_DATA_HEADER_SIZE 20u

#define HCL_VERSION_MAX		    2u
#define HCL_TDREPORT_SIZE	    1024u
#define HCL_TDREPORT_OFF_REPORTDATA 128u

enum hcl_report_type { HCL_REPORT_SNP = 2, HCL_REPORT_TVM = 3, HCL_REPORT_TDX = 4 };
enum hcl_hash_type { HCL_HASH_SHA256 = 1, HCL_HASH_SHA384 = 2, HCL_HASH_SHA512 = 3 };

/* A parsed HCL report; pointers borrow from the input. */
struct hcl_report {
	uint32_t version;
	uint32_t report_size;
	uint32_t request_type;
	const uint8_t *hw_report; /* HCL_HW_REPORT_SIZE bytes: SNP report or TDREPORT (zero-padded) */
	uint32_t data_size;
	uint32_t data_version;
	uint32_t report_type;	 /* enum hcl_report_type */
	uint32_t hash_type;	 /* enum hcl_hash_type */
	const uint8_t *var_data; /* the runtime JSON */
	size_t var_len;
};

/*
 * Parses an HCL report (the NV index may be longer than ReportSize: the
 * tail is ignored). Checks the signature, version 1..2, ReportSize ==
 * 0x4D4 + VariableDataSize, DataSize == 20 + VariableDataSize, HclData
 * version 1, known report and hash types, the reserved header bytes, and
 * that a TDREPORT's padding is zero. Errors: hcl.truncated, hcl.signature,
 * hcl.version, hcl.size, hcl.report_type, hcl.hash_type, hcl.reserved.
 */
int hcl_report_parse(const uint8_t *p, size_t n, struct hcl_report *out, struct attest_err *err);

/*
 * The binding (§6.2): the hardware report's report data (SNP REPORT_DATA,
 * TDX REPORTMACSTRUCT.reportdata) starts with H(VariableData) for the
 * report's hash type, and the rest of its 64 bytes is zero.
 * Errors: hcl.binding, hcl.report_type (TVM has no hardware report).
 */
int hcl_report_bind(const struct hcl_report *h, struct attest_err *err);

/*
 * The runtime JSON (a new reference, an object) and, when ak_pub is not
 * NULL, the vTPM attestation key: the RSA JWK with kid "HCLAkPub" in
 * "keys". Errors: hcl.runtime.json, hcl.runtime.ak (absent or malformed).
 */
int hcl_runtime_parse(const struct hcl_report *h, json_t **json, EVP_PKEY **ak_pub, struct attest_err *err);

/*
 * The vTPM binding (formats.md §6.4): the attestation key a TPM quote was
 * checked with must be the HCLAkPub of the (bound) runtime data.
 * Errors: hcl.runtime.* as above, hcl.ak_mismatch.
 */
int hcl_runtime_ak_matches(const struct hcl_report *h, EVP_PKEY *tpm_ak, struct attest_err *err);

/* An RSA public key from a JWK object (kty RSA, n, e base64url). Errors: <code>. */
int jwk_rsa_public(const json_t *jwk, EVP_PKEY **out, const char *code, struct attest_err *err);

/*
 * An Azure CVM's SEV-SNP evidence: the HCL report (hcl, n bytes) with the
 * VCEK chain (certs, as in snp_verify_report). Verifies the SNP report,
 * then the HCL binding, and adds the SNP claims plus x-ms-runtime (the
 * runtime JSON). On success *res (optional) holds the SNP result and
 * *hcl_out (optional) the parsed HCL report (borrowing from hcl).
 */
int azure_cvm_snp_verify(const struct evidence_ctx *ctx, const struct snp_opts *opts, const uint8_t *hcl,
			 size_t n, const struct snp_certs *certs, struct claim_set *out,
			 struct snp_result *res, struct hcl_report *hcl_out, struct attest_err *err);

/* The SevSnpVm envelope (§1.3.3), decoded; pointers owned by the struct. */
struct sevsnpvm_envelope {
	uint8_t *report; /* SnpReport bytes */
	size_t report_len;
	uint8_t *chain; /* VcekCertChain: PEM text */
	size_t chain_len;
	uint8_t *endorsements; /* Endorsements: JSON text, NULL when absent */
	size_t endorsements_len;
	/*
	 * Filled instead of chain by the verifier's own parse (decoded only on a
	 * chain-cache miss): the base64 text, borrowed from the input or text.
	 */
	const char *chain_b64;
	size_t chain_b64_len;
	uint8_t *text; /* the decoded envelope when it came base64url-wrapped */
};

/*
 * Decodes the envelope: JSON text, or base64url of it (both alphabets),
 * with members SnpReport (required), VcekCertChain and Endorsements
 * (optional), each base64url. Errors: sevsnpvm.json, sevsnpvm.member
 * (missing or not a string), sevsnpvm.base64, sevsnpvm.endorsements.
 */
int sevsnpvm_envelope_parse(const uint8_t *p, size_t n, struct sevsnpvm_envelope *out,
			    struct attest_err *err);
void sevsnpvm_envelope_free(struct sevsnpvm_envelope *e);

/*
 * POST /attest/SevSnpVm: in->evidence is the envelope. The SNP report is
 * verified with the VcekCertChain (or, without one, the VCEK from the
 * collateral source); runtime data is bound to REPORT_DATA and init-time
 * data to HOST_DATA (§1.3.1) and emitted as x-ms-runtime / x-ms-inittime
 * when JSON. Runtime data may also be a whole HCL report (it starts with
 * "HCLA"): its hardware report must be the SnpReport and its runtime JSON
 * is bound and emitted. Adds the x-ms-sevsnpvm-* claims.
 */
int sevsnpvm_verify(const struct evidence_ctx *ctx, const struct evidence_input *in, struct claim_set *out,
		    struct attest_err *err);
int sevsnpvm_verify_ex(const struct evidence_ctx *ctx, const struct snp_opts *opts,
		       const struct evidence_input *in, struct claim_set *out, struct attest_err *err);

#endif
