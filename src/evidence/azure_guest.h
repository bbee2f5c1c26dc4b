#ifndef ATTEST_EVIDENCE_AZURE_GUEST_H
#define ATTEST_EVIDENCE_AZURE_GUEST_H

/*
 * Azure guest attestation (POST /attest/AzureGuest; maa-interface.md
 * §1.3.6 request, §2.6 claims): a VM's vTPM quote, its TCG log and a
 * TPM-held ephemeral encryption key certified by the AIK, plus, for a
 * confidential VM, the isolation evidence (SEV-SNP report + VCEK chain, or
 * a TD quote) whose report data binds the HCL runtime data that carries
 * the vTPM's AIK (formats.md §6.2, §6.4).
 *
 * Design note: the order of checks is
 *   1. the AttestationInfo JSON parses completely (every member decoded);
 *   2. the isolation evidence verifies (SevSnp: report, chain, REPORT_DATA
 *      == SHA-256(RunTimeData); Tdx: TD quote and REPORTDATA), and the
 *      runtime data's HCLAkPub equals the AIK: the vTPM lives in that TEE.
 *      TrustedLaunch carries no isolation evidence and must not claim any;
 *   3. the AIK is trusted: bound by step 2, or registered with the
 *      provider (azure_guest_opts), or its AikCert chains to
 *      ctx->anchors->tpm_roots at ctx->now;
 *   4. the PCR quote verifies with the AIK over the supplied PCR values
 *      (SHA-256 bank, every PCR of PcrSet selected);
 *   5. the TCG log replays to those PCR values;
 *   6. EncKeyPub is certified by the AIK (TPM2_Certify over its Name) and
 *      is an RSA decryption key;
 * and only then are claims added.
 *
 * The response is not a JWT but the sealed token (§1.3.6): the JWT
 * AES-256-GCM-encrypted under a fresh key (AAD "Transport Key"), that key
 * wrapped to EncKeyPub with RSA-OAEP (SHA-256, MGF1-SHA-256, no label; the
 * scheme a TPM2_RSA_Decrypt with TPM_ALG_OAEP/SHA256 undoes), in the
 * envelope {"EncryptedInnerKey","EncryptionParams":{"Iv"},
 * "AuthenticationData","Jwt"} (standard base64 members), base64url-encoded.
 *
 * Error names: azureguest.* (request and bindings), plus tpm.*, tcg.*,
 * snp.*, sevsnpvm.*, tdx.*, hcl.* of the building blocks.
 */

#include "attest/error.h"
#include "claims/claims.h"
#include "evidence/evidence.h"
#include "evidence/snp.h"
#include "evidence/tpm.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/* Limits on the decoded request (far above real requests: ~64 KiB logs). */
#define AZURE_GUEST_MAX_JSON (2u * 1024 * 1024)

/* The kid of the ephemeral key in x-ms-runtime.keys (§2.6). */
#define AZURE_GUEST_ENC_KID "TpmEphemeralEncryptionKey"
/* The AES-GCM additional data of the sealed token (§1.3.6). */
#define AZURE_GUEST_SEAL_AAD "Transport Key"

enum azure_guest_isolation {
	AZURE_GUEST_TRUSTED_LAUNCH = 0,
	AZURE_GUEST_SEV_SNP,
	AZURE_GUEST_TDX,
};

/* One binary member of TpmInfo, decoded. */
struct azure_guest_blob {
	uint8_t *p;
	size_t n;
};

/* The AttestationInfo, decoded; everything owned by the struct. */
struct azure_guest_info {
	char *protocol_version;		      /* a 2.x text */
	char *os_type, *os_distro, *os_build; /* decoded from base64 */
	int64_t os_major, os_minor;
	struct azure_guest_blob tcg_logs;
	json_t *client_payload; /* may be NULL */
	struct azure_guest_blob aik_cert, aik_pub, pcr_quote, pcr_sig, enc_pub, enc_certify, enc_certify_sig;
	uint32_t pcr_set;	    /* bit n = PCR n in PcrSet */
	struct tpm_pcr_values pcrs; /* SHA-256 values of PCRs[] */
	enum azure_guest_isolation isolation;
	bool has_evidence; /* IsolationInfo.Evidence present (non-null) */
	struct azure_guest_blob proof, runtime;
};

/*
 * Parses the AttestationInfo JSON text (n bytes). Errors: azureguest.json,
 * azureguest.member (missing or wrong type, naming it), azureguest.base64,
 * azureguest.protocol_version, azureguest.os_version, azureguest.pcr_set,
 * azureguest.pcrs, azureguest.isolation.type, azureguest.isolation.evidence.
 * *out is filled only on success (azure_guest_info_free).
 */
int azure_guest_info_parse(const uint8_t *p, size_t n, struct azure_guest_info *out, struct attest_err *err);
void azure_guest_info_free(struct azure_guest_info *info);

/*
 * The uniform entry point (evidence.h): in->evidence is the AttestationInfo
 * JSON text (the pipeline's request decoder undoes the base64url). When
 * in->nonce is set the quote's extraData must equal it. Errors beside the
 * building blocks': azureguest.aik.public, azureguest.aik.attributes,
 * azureguest.aik.cert, azureguest.aik.unregistered, azureguest.isolation.unexpected,
 * azureguest.isolation.missing, azureguest.isolation.runtime,
 * azureguest.quote.bank, azureguest.log.empty, azureguest.enckey.*.
 */
int azure_guest_verify(const struct evidence_ctx *ctx, const struct evidence_input *in, struct claim_set *out,
		       struct attest_err *err);

/* What a provider adds to the verification (all optional). */
struct azure_guest_opts {
	/* AIKs registered with the provider, as for the Tpm type (tpm.h):
	 * SHA-256 of each AIK's SubjectPublicKeyInfo DER. Such an AIK needs no
	 * certificate chain and no isolation binding. */
	const uint8_t (*registered_aiks)[32];
	size_t n_registered_aiks;
	/*
	 * Launch measurements Azure publishes for its confidential VM firmware
	 * (SEV-SNP MEASUREMENT or TDX MRTD, 48 bytes each). Only with them can
	 * x-ms-isolation-tee.x-ms-compliance-status be decided: it is
	 * "azure-compliant-cvm" when the verified report was made at VMPL 0 (SNP),
	 * is not debuggable, and its measurement is one of these; else absent.
	 */
	const uint8_t (*cvm_measurements)[48];
	size_t n_cvm_measurements;
	/* SEV-SNP verification options (a shared cache of verified VCEK chains), may be NULL. */
	const struct snp_opts *snp;
};

/*
 * azure_guest_verify with provider options (opts may be NULL). Registered
 * AIKs and CVM measurements not given in opts come from ctx->tenant (the
 * provider's settings in attestd), when set. An AIK that
 * is not bound by isolation evidence, not registered and not certified to
 * a vTPM root is azureguest.aik.unregistered.
 */
int azure_guest_verify_with(const struct evidence_ctx *ctx, const struct azure_guest_opts *opts,
			    const struct evidence_input *in, struct claim_set *out, struct attest_err *err);

/*
 * Seals jwt to enc_pub (RSA public key) as described above. *sealed is the
 * base64url text (malloc'd). Errors: azureguest.seal.*.
 */
int azure_guest_seal(EVP_PKEY *enc_pub, const char *jwt, char **sealed, struct attest_err *err);

/*
 * Seals jwt to the TpmEphemeralEncryptionKey JWK found in the verified
 * claims' x-ms-runtime.keys (what azure_guest_verify added). Errors:
 * azureguest.seal.key (absent or malformed), azureguest.seal.*.
 */
int azure_guest_seal_for_claims(const struct claim_set *claims, const char *jwt, char **sealed,
				struct attest_err *err);

/*
 * The client side: unwraps the inner key with the private key and decrypts
 * and authenticates the JWT. *jwt is malloc'd, NUL-terminated. Errors:
 * azureguest.sealed.base64, azureguest.sealed.json, azureguest.sealed.member,
 * azureguest.sealed.key (the inner key does not unwrap), azureguest.sealed.iv,
 * azureguest.sealed.tag (ciphertext, tag or AAD altered).
 */
int azure_guest_unseal(EVP_PKEY *priv, const char *sealed, size_t len, char **jwt, struct attest_err *err);

/*
 * The same with the inner-key unwrap done by the caller (a TPM:
 * TPM2_RSA_Decrypt, OAEP-SHA256): unwrap writes at most *key_len (512)
 * bytes to key, sets *key_len and returns 0, or returns -1.
 */
typedef int (*azure_guest_unwrap_fn)(void *arg, const uint8_t *wrapped, size_t n, uint8_t *key,
				     size_t *key_len);
int azure_guest_unseal_with(azure_guest_unwrap_fn unwrap, void *arg, const char *sealed, size_t len,
			    char **jwt, struct attest_err *err);

#endif
