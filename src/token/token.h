#ifndef ATTEST_TOKEN_TOKEN_H
#define ATTEST_TOKEN_TOKEN_H

/*
 * MAA attestation tokens: the JWT header and claim set exactly as Azure
 * Attestation issues them (maa-interface.md §2; real ones in
 * vectors/maa-tokens). This module builds the JSON; signing is the
 * keyring's (src/keys), so the library stays free of key storage. A draft
 * policy token is encoded here, unsigned (alg "none", empty signature).
 *
 * Serialisation: compact JSON with members sorted by name, as the real
 * service writes them.
 */

#include "attest/error.h"
#include "claims/claims.h"
#include "token/catalogue.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define TOKEN_ATTEST_LIFETIME 28800 /* 8 hours (§5) */
#define TOKEN_MGMT_LIFETIME   3600  /* policy / certificate results (§2.8) */
#define TOKEN_MAA_VERSION     "1.0" /* x-ms-ver */
#define TOKEN_JTI_BYTES	      32    /* jti: 64 hex characters */

struct token_attest_params {
	const struct token_catalogue *cat;
	const char *issuer;		  /* provider base URL, no trailing '/' */
	int64_t now;			  /* iat = nbf */
	const uint8_t *jti;		  /* TOKEN_JTI_BYTES, or NULL for a random id */
	const char *policy_hash;	  /* x-ms-policy-hash (base64url) */
	const json_t *policy_signer;	  /* JWK of the policy's signer, or NULL */
	const struct claim_set *incoming; /* verifier + request claims (token_add_request_claims) */
	const struct claim_set *issued;	  /* claims the policy issued; NULL or empty for none */
	const char *nonce;		  /* request nonce, or NULL */
};

/*
 * Builds the claim set of an attestation token (§2.2-§2.7): registered
 * claims; x-ms-ver, x-ms-attestation-type, x-ms-policy-hash,
 * x-ms-policy-signer, nonce; the catalogue's claims taken from the
 * verifier's (AttestationService) incoming claims, type-checked; the legacy
 * aliases and constant claims of the type; claims named x-attestd-* (this
 * service's own); then every claim the policy issued, both at top level
 * (where it does not shadow a claim above) and in the x-ms-policy object
 * (present only when the policy issued something, as in real tokens).
 * On success *out is a new object owned by the caller; the values in it
 * are shared by reference with p->incoming, p->issued and p->policy_signer
 * (read-only: change only its top-level members).
 * Errors: token.claim.missing / .type / .hex (ATTEST_E_INTERNAL: a verifier
 * broke its contract), token.param (ATTEST_E_INVALID), token.nomem.
 */
int token_attest_claims(const struct token_attest_params *p, json_t **out, struct attest_err *err);

/*
 * The claim set of a management result token (§2.8): iat, nbf, exp
 * (1 hour), iss; the caller adds its result members. NULL on allocation
 * failure.
 */
json_t *token_mgmt_claims(const char *issuer, int64_t now);

/* The JWS header MAA signs with: {"alg", "jku", "kid", "typ": "JWT"} (§2.1). */
json_t *token_header(const char *alg, const char *jku, const char *kid);

/*
 * A deep copy of v whose objects list their members sorted by name, so a
 * serialiser that keeps insertion order writes them as MAA does. NULL on
 * allocation failure.
 */
json_t *token_json_sorted(const json_t *v);

/* Compact, member-sorted JSON text (caller frees). */
char *token_json_dump(const json_t *v);

/*
 * "b64url(header).b64url(payload)" of the two JSON values: the signing
 * input. Caller frees.
 */
char *token_signing_input(const json_t *header, const json_t *payload);

/*
 * An unsigned token (draft policy, §1.3.1): header {"alg":"none","typ":"JWT"},
 * the payload, and an empty signature. Caller frees.
 */
char *token_encode_unsigned(const json_t *payload);

/*
 * Splits a compact JWS and decodes its header and payload without checking
 * the signature (tests, diagnostics; never for trust decisions). Both must
 * be JSON objects. Errors: token.decode.parts, .base64, .json.
 */
int token_decode_unverified(const char *jwt, size_t len, json_t **header, json_t **payload,
			    struct attest_err *err);

#endif
