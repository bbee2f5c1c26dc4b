#ifndef ATTEST_EVIDENCE_VBS_H
#define ATTEST_EVIDENCE_VBS_H

/*
 * VBS enclave attestation reports (EnclaveGetAttestationReport; Windows
 * SDK winnt.h VBS_ENCLAVE_REPORT_*, formats.md §7.8), as carried in the
 * `vsm_report` of MAA's TPM/VBS protocol (maa-interface.md §1.3.5).
 *
 * What is verified (docs/vbs.md says what is not):
 *  - structure: package header sizes agree (PackageSize = 24 + statement +
 *    signature), ReportSize == SignedStatementSize, versions are 1, the
 *    signature scheme is 1 (RSA-PSS SHA-256), every variable-data block
 *    fits and the blocks end exactly at the statement's end;
 *  - binding: EnclaveData == SHA-512(UTF-8 text of `report_signed`);
 *  - signature: RSA-PSS/SHA-256 over the signed statement, only when the
 *    caller has the report signing key (the secure kernel's IDK, whose
 *    distribution Microsoft does not document; see docs/vbs.md).
 */

#include "attest/error.h"
#include "claims/claims.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VBS_PKG_HEADER_SIZE 24
#define VBS_REPORT_FIXED_SIZE 224 /* ReportSize, ReportVersion, EnclaveData[64], ENCLAVE_IDENTITY[152] */
#define VBS_REPORT_VERSION 1
#define VBS_SIGNATURE_SCHEME_SHA256_RSA_PSS_SHA256 1

/* ENCLAVE_IDENTITY Flags. */
#define VBS_FLAG_FULL_DEBUG_ENABLED 0x1u
#define VBS_FLAG_DYNAMIC_DEBUG_ENABLED 0x2u
#define VBS_FLAG_DYNAMIC_DEBUG_ACTIVE 0x4u

#define VBS_MAX_MODULES 64

struct vbs_module {
	uint8_t unique_id[32], author_id[32], family_id[16], image_id[16];
	uint32_t svn;
	char name[128]; /* UTF-8 of the NUL-terminated WCHAR name (ASCII range kept) */
};

struct vbs_report {
	const uint8_t *statement; /* into the caller's bytes */
	size_t statement_len;
	const uint8_t *signature;
	size_t signature_len;
	uint32_t signature_scheme;
	uint8_t enclave_data[64];
	uint8_t owner_id[32], unique_id[32], author_id[32], family_id[16], image_id[16];
	uint32_t enclave_svn, secure_kernel_svn, platform_svn, flags, signing_level, enclave_type;
	size_t n_modules;
	struct vbs_module modules[VBS_MAX_MODULES];
};

/*
 * Parses a whole package. Errors: vbs.report.truncated, vbs.report.size,
 * vbs.report.version, vbs.report.scheme, vbs.report.vardata.
 */
int vbs_report_parse(const uint8_t *p, size_t n, struct vbs_report *out, struct attest_err *err);

/*
 * EnclaveData == SHA-512(report_signed) (the JSON text exactly as the
 * client serialised it). Errors: vbs.report.binding.
 */
int vbs_report_check_binding(const struct vbs_report *r, const uint8_t *report_signed, size_t len,
			     struct attest_err *err);

/* RSA-PSS SHA-256 over the statement with key. Errors: vbs.report.signature. */
int vbs_report_verify_signature(const struct vbs_report *r, EVP_PKEY *key, struct attest_err *err);

/*
 * The enclave claims (maa-interface.md §2.4): vbsReportPresent,
 * enclaveAuthorId, enclaveImageId, enclaveOwnerId, enclaveFamilyId,
 * enclaveUniqueId (base64url), enclaveSvn (primary module's SVN, else
 * the identity's), enclavePlatformSvn, enclaveSecureKernelSvn,
 * enclaveFlags, enclaveDebuggable, and vbsReportSignatureVerified.
 * The "primary module" is the first MODULE block when present.
 */
int vbs_report_claims(const struct vbs_report *r, bool signature_verified, struct claim_set *out);

#endif
