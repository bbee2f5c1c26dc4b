#ifndef ATTEST_DEVPLAT_TPM_DEV_H
#define ATTEST_DEVPLAT_TPM_DEV_H

/*
 * Synthetic TPM evidence for tests, benchmarks and demos (never trusted by
 * a production configuration):
 *  - a TCG crypto-agile event log builder (SHA-1 + SHA-256 banks) that
 *    records what each event extends, so a real TPM (swtpm) or the software
 *    quote below can be brought to the same PCR values;
 *  - a "software TPM" quote: a TPMS_ATTEST marshalled by libtss2-mu and
 *    signed RSASSA-SHA256 by an RSA key;
 *  - a VBS enclave report signed RSA-PSS by a test key;
 *  - the client side of MAA's TPM protocol: the signed request message.
 */

#include "attest/error.h"
#include "base/buf.h"
#include "evidence/tpm.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- event log builder ---------------------------------------------------- */

#define DEVPLAT_TCG_MAX_EVENTS 512

struct devplat_tcg_extend {
	uint32_t pcr;
	uint8_t sha1[20];
	uint8_t sha256[32];
};

struct devplat_tcg_log {
	struct buf log; /* the log bytes */
	size_t n;
	struct devplat_tcg_extend ext[DEVPLAT_TCG_MAX_EVENTS];
};

/* Starts a crypto-agile log (Spec ID Event03 with SHA-1 and SHA-256). */
int devplat_tcg_log_init(struct devplat_tcg_log *l);
void devplat_tcg_log_free(struct devplat_tcg_log *l);
/* Appends an event whose digests are H(data) in both banks. */
int devplat_tcg_log_add(struct devplat_tcg_log *l, uint32_t pcr, uint32_t type, const void *data, size_t len);
/* Appends an event whose digests cover something else (an image). */
int devplat_tcg_log_add_digests(struct devplat_tcg_log *l, uint32_t pcr, uint32_t type, const void *data,
				size_t len, const uint8_t sha1[20], const uint8_t sha256[32]);

/* The PCR values the log produces (what a TPM holds after the extends). */
void devplat_tcg_log_pcrs(const struct devplat_tcg_log *l, struct tpm_pcr_values *out);

/* UEFI_VARIABLE_DATA of an EFI_GLOBAL_VARIABLE variable, appended to out. */
int devplat_uefi_global_var(struct buf *out, const char *name, const void *data, size_t len);
/* A SIPA record {type, size, data}, appended to out. */
int devplat_sipa(struct buf *out, uint32_t type, const void *data, uint32_t len);

/* Boot settings of the synthetic Windows-like boot. */
struct devplat_boot {
	bool secure_boot;
	bool boot_debugging;
	bool safe_mode;
	bool vbs;
	int extra_events; /* filler image-load events (benchmarks use ~60 events in all) */
};

/* A whole boot: CRTM version, SecureBoot/PK/KEK/db in PCR 7, separators,
 * EFI actions, images, and a Windows SIPA trust boundary in PCR 12-14. */
int devplat_tcg_log_boot(struct devplat_tcg_log *l, const struct devplat_boot *b);

/* ---- software quote -------------------------------------------------------- */

/*
 * A TPM2_Quote over `mask` PCRs of `bank` with extraData = nonce, signed
 * RSASSA-SHA256 (RSA key) or ECDSA-SHA256 (P-256 key). *attest / *sig are
 * malloc'd (caller frees).
 */
int devplat_tpm_quote(EVP_PKEY *ak, const struct tpm_pcr_values *pcrs, enum tpm_bank bank, uint32_t mask,
		      const uint8_t *nonce, size_t nonce_len, uint8_t **attest, size_t *attest_len,
		      uint8_t **sig, size_t *sig_len, struct attest_err *err);

/*
 * A TPM2_Certify of `key` (RSA) by the AK: *pub = marshalled TPMT_PUBLIC of
 * key (nameAlg SHA-256), *attest = TPMS_ATTEST (TPM_ST_ATTEST_CERTIFY over
 * its Name), *sig = the AK's TPMT_SIGNATURE. All malloc'd.
 */
int devplat_tpm_certify(EVP_PKEY *ak, EVP_PKEY *key, uint8_t **pub, size_t *pub_len, uint8_t **attest,
			size_t *attest_len, uint8_t **sig, size_t *sig_len, struct attest_err *err);

/* ---- VBS report ------------------------------------------------------------ */

struct devplat_vbs_identity {
	uint8_t owner_id[32], unique_id[32], author_id[32], family_id[16], image_id[16];
	uint32_t enclave_svn, secure_kernel_svn, platform_svn, flags;
	const char *module_name; /* adds one MODULE block when non-NULL */
};

/* A VBS_ENCLAVE_REPORT package with EnclaveData = enclave_data, signed RSA-PSS-SHA256. */
int devplat_vbs_report(EVP_PKEY *key, const uint8_t enclave_data[64], const struct devplat_vbs_identity *id,
		       struct buf *out, struct attest_err *err);

/* ---- protocol client ------------------------------------------------------- */

struct devplat_tpm_attestation {
	const uint8_t *quote, *sig;
	size_t quote_len, sig_len;
	const struct tpm_pcr_values *pcrs;
	const uint8_t *log;
	size_t log_len;
	const uint8_t *log_before; /* v2: another TCG log sent before `log` (may be NULL) */
	size_t log_before_len;
	EVP_PKEY *aik;
	const uint8_t *aik_cert_der; /* may be NULL */
	size_t aik_cert_len;
};

struct devplat_tpm_request {
	int version;            /* 1 or 2 */
	const char *challenge;  /* from the init response (base64url) */
	const char *service_context;
	const char *rp_id, *rp_data;
	const struct devplat_tpm_attestation *current;
	const struct devplat_tpm_attestation *boot; /* may be NULL */
	EVP_PKEY *request_key;  /* signs the JWS; its public JWK goes in the message */
	/* v2 other_keys[0] with a tpm_certify proof (all NULL: no other key). */
	EVP_PKEY *other_key;
	const uint8_t *other_pub, *other_attest, *other_sig;
	size_t other_pub_len, other_attest_len, other_sig_len;
	const json_t *custom_claims; /* array or NULL */
	/* VBS: a report over SHA-512(report_signed) is made with this key and identity. */
	EVP_PKEY *vbs_key;
	const struct devplat_vbs_identity *vbs_identity;
};

/*
 * One attestation in the v2 current_attestation layout (quote, signature,
 * pcrs, logs, aik_pub, aik_cert): what tpm_verify and `attestctl verify Tpm`
 * take offline. JSON text, caller frees.
 */
int devplat_tpm_attestation_json(const struct devplat_tpm_attestation *a, char **out, struct attest_err *err);

/* The request message {"request": JWS} as JSON text (caller frees). */
int devplat_tpm_request_build(const struct devplat_tpm_request *rq, char **msg, struct attest_err *err);

#endif
