#ifndef ATTEST_DEVPLAT_AZURE_GUEST_DEV_H
#define ATTEST_DEVPLAT_AZURE_GUEST_DEV_H

/*
 * Synthetic Azure guest attestation requests for tests and demos
 * (maa-interface.md §1.3.6): TPM public areas of an AIK and of an
 * ephemeral encryption key, a TPM2_Certify of the latter by the AIK, and
 * the AttestationInfo JSON around caller-made pieces. Never trusted by a
 * production configuration.
 */

#include "attest/error.h"
#include "evidence/tpm.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The marshalled TPMT_PUBLIC (nameAlg SHA-256) of an RSA key: an AIK
 * (restricted signing key, RSASSA-SHA256 scheme) when aik, else an
 * unrestricted decryption key with a NULL scheme. *out is malloc'd.
 */
int devplat_azg_tpm_public(EVP_PKEY *key, bool aik, uint8_t **out, size_t *len, struct attest_err *err);

/*
 * A TPM2_Certify (TPMS_ATTEST type CERTIFY over Name(pub)) signed
 * RSASSA-SHA256 by ak, pub being a marshalled TPMT_PUBLIC. Both malloc'd.
 */
int devplat_azg_certify(EVP_PKEY *ak, const uint8_t *pub, size_t pub_len, uint8_t **attest,
			size_t *attest_len, uint8_t **sig, size_t *sig_len, struct attest_err *err);

struct devplat_azg_bytes {
	const uint8_t *p;
	size_t n;
};

struct devplat_azg_request {
	const char *os_type; /* "Windows" / "Linux" */
	struct devplat_azg_bytes log, aik_cert, aik_pub, quote, quote_sig, enc_pub, certify, certify_sig;
	uint32_t pcr_set;
	const struct tpm_pcr_values *pcrs;	 /* SHA-256 bank values sent in PCRs[] */
	const json_t *client_payload;		 /* may be NULL */
	const char *isolation_type;		 /* NULL: no IsolationInfo */
	struct devplat_azg_bytes proof, runtime; /* Evidence members (absent when p is NULL) */
};

/* The AttestationInfo JSON text (malloc'd). */
int devplat_azg_request_json(const struct devplat_azg_request *r, char **text, struct attest_err *err);

struct snp_plat;
struct snp_plat_leaf;

/* How the synthetic SNP report of a CVM is made (devplat_azg_snp_proof). */
struct devplat_azg_snp {
	const uint8_t *chip_id; /* 64 bytes: the leaf's CHIP_ID */
	const uint8_t *tcb;	/* 8 bytes: every TCB of the report */
	uint32_t vmpl;		/* the HCL's is 0 */
	uint64_t policy_bits;	/* ORed into the guest policy (e.g. SNP_POLICY_DEBUG) */
};

/*
 * IsolationInfo.Evidence.Proof of a SevSnp CVM (maa-interface.md §1.3.3):
 * the {"SnpReport","VcekCertChain"} JSON of an SNP report signed by leaf,
 * whose REPORT_DATA binds runtime (the HCL runtime JSON), with the chain
 * VCEK + ASK of plat. malloc'd; NULL on failure.
 */
char *devplat_azg_snp_proof(const struct snp_plat *plat, const struct snp_plat_leaf *leaf,
			    const struct devplat_azg_snp *spec, const char *runtime);

#endif
