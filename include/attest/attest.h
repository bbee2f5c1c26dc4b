#ifndef ATTEST_ATTEST_H
#define ATTEST_ATTEST_H

/*
 * libattest: what a relying party or an embedder needs, offline.
 *
 *   - verify evidence (SGX, Open Enclave, TDX, SEV-SNP) into claims, against
 *     the vendors' built-in roots and a folder of collateral;
 *   - evaluate an Azure Attestation policy on claims;
 *   - verify an attestation token (attestd's or Azure Attestation's)
 *     against a JWKS, with issuer, time window and nonce.
 *
 * The interface is deliberately small and stable: opaque handles, JSON
 * text in and out (claims as one JSON object {type: value}), every result
 * malloc'd and released with attest_free(). Every call fills a struct
 * attest_err (<attest/error.h>) on failure with a stable dotted name
 * ("sgx.quote.signature", "jwt.expired", ...) and a message.
 * Handles are safe to share between threads.
 */

#include <attest/error.h>

#include <stddef.h>
#include <stdint.h>

/* The library's version string, e.g. "0.1.0". */
const char *attest_version(void);

/* Releases anything libattest returned. NULL is allowed. */
void attest_free(void *p);

/* ---- evidence ---------------------------------------------------------- */

struct attest_verifier;

/* Options of a verifier; zero-initialise, then set what you need. */
struct attest_verifier_opts {
	/* Folder of collateral (TCB Info, QE identity, CRLs, VCEK, ...); NULL for none. */
	const char *collateral_dir;
	/* Verification time, Unix seconds; 0 = the current time at each call. */
	int64_t now;
	/* ATTEST_VERIFY_* flags. */
	unsigned flags;
	/*
	 * DEVELOPMENT AND TESTS ONLY: a PEM file of extra roots trusted beside
	 * the vendors' built-in ones (e.g. data/devplat/roots.pem of
	 * `attestctl dev init`), each taken by its subject's common name as an
	 * Intel SGX root ("Intel SGX Root CA"), an AMD root ("ARK-Milan",
	 * "ARK-Genoa", "ARK-Turin") or otherwise a TPM AIK root. NULL in
	 * production.
	 */
	const char *extra_roots_pem;
};

/* Skip CRL checks (only for evidence whose vendor published no CRLs). */
#define ATTEST_VERIFY_NO_REVOCATION 0x1u
/*
 * Check signatures and the chain to the vendor root only; the TCB status is
 * reported as not evaluated. A debugging aid for when collateral is out of
 * reach: never a basis for trusting evidence.
 */
#define ATTEST_VERIFY_NO_COLLATERAL 0x2u

int attest_verifier_new(const struct attest_verifier_opts *opts, struct attest_verifier **out,
			struct attest_err *err);
void attest_verifier_free(struct attest_verifier *v);

/*
 * Verifies evidence of an Azure Attestation type: "SgxEnclave" (a DCAP
 * quote), "OpenEnclave" (an OE report or evidence), "TdxVm" (a TD quote),
 * "SevSnpVm" (Azure's envelope), "SevSnp" (a raw ATTESTATION_REPORT) or
 * "Tpm" (the JSON of one TPM attestation: quote, signature, PCRs, logs and
 * AIK, see docs/claims-tpm.md; runtime_data is then the expected nonce).
 * runtime_data (may be NULL) must be bound to the evidence as Azure
 * Attestation binds it. On success *claims_json is the claims as one JSON
 * object (attest_free).
 */
int attest_verify_evidence(struct attest_verifier *v, const char *type, const uint8_t *evidence, size_t len,
			   const uint8_t *runtime_data, size_t runtime_len, char **claims_json,
			   struct attest_err *err);

/* ---- policy ------------------------------------------------------------ */

/*
 * Evaluates policy text (Azure Attestation's language, 1.0 to 1.2) on
 * claims (a JSON object {type: value}; an array value gives one claim per
 * element). *permitted is 1 when authorization permitted. On success
 * *issued_json (may be NULL) receives the issued claims as a JSON object
 * and *reason (may be NULL) one line saying why it was permitted or not.
 */
int attest_policy_evaluate(const char *policy, size_t policy_len, const char *claims_json, int *permitted,
			   char **issued_json, char **reason, struct attest_err *err);

/* ---- tokens ------------------------------------------------------------ */

struct attest_token_opts {
	const char *issuer; /* expected "iss", or NULL not to check */
	const char *nonce;  /* expected "nonce", or NULL */
	int64_t now;        /* 0 = current time */
	int64_t skew;       /* seconds of clock skew tolerated; negative = 60 */
};

/*
 * Verifies a compact JWS token: the signature with the key of its kid in
 * jwks_json (a JWKS document as /certs serves it; x5c-only keys work),
 * never alg "none"; exp (required), nbf and iat against now with skew;
 * then issuer and nonce when asked. On success *claims_json (may be NULL)
 * receives the token's claims.
 */
int attest_token_verify(const char *token, const char *jwks_json, const struct attest_token_opts *opts,
			char **claims_json, struct attest_err *err);

#endif
