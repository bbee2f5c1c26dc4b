#ifndef ATTEST_EVIDENCE_EVIDENCE_H
#define ATTEST_EVIDENCE_EVIDENCE_H

/*
 * What every evidence verifier shares: one entry point of the same shape
 * per format (ARCHITECTURE.md, "Evidence verifiers"):
 *
 *   int <format>_verify(const struct evidence_ctx *ctx,
 *                       const struct evidence_input *in,
 *                       struct claim_set *out, struct attest_err *err);
 *
 * context in (trust anchors, collateral source, time, options), evidence
 * bytes in, claims or a precise error out. A verifier parses the whole
 * input and validates its structure before verifying anything, and
 * verifies every signature before it trusts a field the signature covers.
 * It adds claims to `out` only after everything verified.
 */

#include "attest/error.h"
#include "claims/claims.h"

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct collateral_source; /* src/collateral/collateral.h */

/* Options (flags of evidence_ctx). */
enum {
	/*
	 * Skip CRL checks. Off by default; only for evidence whose vendor
	 * published no CRLs. Verifiers that honour it say so in a claim.
	 */
	EVIDENCE_NO_REVOCATION = 1u << 0,
	/*
	 * Check signatures and chains to the vendor root only; report the TCB
	 * status as not evaluated (attestctl verify --no-collateral). attestd
	 * never sets it.
	 */
	EVIDENCE_NO_COLLATERAL = 1u << 1,
};

/* Trust anchors by vendor. Each stack may be NULL (then the built-in root). */
struct evidence_anchors {
	STACK_OF(X509) *intel_sgx_roots;
	STACK_OF(X509) *amd_arks;
	STACK_OF(X509) *tpm_roots; /* AIK / EK issuers */
};

/* What one tenant (an attestd provider) trusts beyond the vendors' roots: its settings. */
struct evidence_tenant {
	const uint8_t (*registered_aiks)[32]; /* SHA-256 of each AIK's SubjectPublicKeyInfo DER */
	size_t n_registered_aiks;
	const uint8_t (*cvm_measurements)[48]; /* SNP MEASUREMENT / TDX MRTD Azure publishes */
	size_t n_cvm_measurements;
};

struct tpm_aik_cache;

struct evidence_ctx {
	int64_t now;                          /* verification time, Unix seconds */
	const struct evidence_anchors *anchors;
	struct collateral_source *collateral; /* may be NULL for formats that need none */
	unsigned flags;
	/*
	 * The provider's SGX TCB baseline (x-ms-sgx-tcbidentifier,
	 * docs/tcb-baselines.md): the Intel tcbEvaluationDataNumber that SGX
	 * and Open Enclave verification enforces; 0 = none (attestctl, libattest
	 * callers that do not set it). TDX is not affected.
	 */
	uint32_t sgx_tcb_baseline;
	/*
	 * With a baseline: only require the standard set to be at least that
	 * new, asking the source for no numbered set (Azure's default baseline,
	 * "azuredefault": attestd has no lagging THIM collateral to evaluate).
	 */
	bool sgx_tcb_baseline_floor;
	const struct evidence_tenant *tenant; /* NULL: nothing registered */
	/*
	 * Keys decoded from TPM public areas, shared by requests (tpm.h's key
	 * cache, keyed by the SHA-256 of the area's bytes; may be NULL): an
	 * Azure guest's AIK and ephemeral key are made once per VM, not per
	 * request. Only keys whose evidence verified are stored.
	 */
	struct tpm_aik_cache *tpm_keys;
};

/* How runtime / init-time data is to be read (MAA's DataType). */
enum evidence_data_type { EVIDENCE_DATA_NONE, EVIDENCE_DATA_BINARY, EVIDENCE_DATA_JSON };

/* What a request carries besides the evidence bytes. */
struct evidence_input {
	const uint8_t *evidence;
	size_t evidence_len;
	const uint8_t *runtime_data; /* may be NULL */
	size_t runtime_data_len;
	enum evidence_data_type runtime_data_type;
	const uint8_t *init_data; /* may be NULL */
	size_t init_data_len;
	enum evidence_data_type init_data_type;
	const char *nonce; /* may be NULL */
};

#endif
