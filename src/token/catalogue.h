#ifndef ATTEST_TOKEN_CATALOGUE_H
#define ATTEST_TOKEN_CATALOGUE_H

/*
 * The MAA claim catalogue: for each attestation type, the claims the real
 * service puts in its tokens (maa-interface.md §2.3-§2.7), their JSON
 * types, and the legacy aliases it still emits (§2.9). The catalogue is the
 * "claim mapping" half of registering a type with the pipeline: a verifier
 * produces incoming claims, and only the catalogue's claims (plus what the
 * policy issues) reach a token, with the types MAA's clients deserialise.
 *
 * Design note: the tables are data (one row per claim), so adding a type is
 * adding a table, and a unit test compares them with real MAA tokens.
 */

#include "attest/error.h"
#include "claims/claims.h"

#include <stdbool.h>
#include <stddef.h>

/* The attestation types of the data-plane API (§1.1 `attestationType`). */
enum maa_type {
	MAA_TYPE_SGX_ENCLAVE,
	MAA_TYPE_OPEN_ENCLAVE,
	MAA_TYPE_SEV_SNP_VM,
	MAA_TYPE_TDX_VM,
	MAA_TYPE_TPM,
	MAA_TYPE_AZURE_GUEST,
	MAA_TYPE_COUNT
};

/* JSON type a claim must have in a token. */
enum token_json {
	TOKEN_JSON_STRING,
	TOKEN_JSON_INTEGER,
	TOKEN_JSON_BOOLEAN,
	TOKEN_JSON_OBJECT,
	TOKEN_JSON_ARRAY,
	TOKEN_JSON_ANY,
};

/* Flags of a catalogue row. */
enum {
	/* Every successful verification of the type yields this claim. */
	TOKEN_CLAIM_REQUIRED = 1u << 0,
	/* Lower-case hex of `hex_bytes` bytes (measurements, ids). */
	TOKEN_CLAIM_HEX = 1u << 1,
	/* Set from the request (runtime/init-time data), not by the verifier. */
	TOKEN_CLAIM_FROM_REQUEST = 1u << 2,
};

struct token_claim_def {
	const char *name;
	enum token_json json;
	unsigned flags;
	unsigned hex_bytes; /* with TOKEN_CLAIM_HEX */
};

/* A legacy alias: the token also carries `alias` with the value of `of`. */
struct token_alias_def {
	const char *alias;
	const char *of;
};

/* A claim with a fixed value for every token of the type (EAT profile). */
struct token_const_def {
	const char *name;
	const char *value;
};

struct token_catalogue {
	enum maa_type type;
	const char *path_name; /* "SgxEnclave": the /attest/{type} segment */
	const char *tee;       /* x-ms-attestation-type value: "sgx", "sevsnpvm", ... */
	const struct token_claim_def *claims;
	size_t n_claims;
	const struct token_alias_def *aliases;
	size_t n_aliases;
	const struct token_const_def *consts;
	size_t n_consts;
	bool binary_runtime_is_ehd; /* Binary runtime data is echoed as x-ms-sgx-ehd (SGX, OE) */
	bool has_draft_policy;	    /* the request shape has draftPolicyForAttestation */
};

/* The catalogue of a type; NULL for a value out of range. */
const struct token_catalogue *token_catalogue_get(enum maa_type type);

/*
 * Looks a path segment up ("SgxEnclave"; ASCII case-insensitive, as the
 * service's routing is). Returns ATTEST_OK or ATTEST_E_NOT_FOUND.
 */
int maa_type_from_name(const char *name, size_t len, enum maa_type *out);
const char *maa_type_name(enum maa_type type);

/* The row of `name` in the type's catalogue, or NULL. */
const struct token_claim_def *token_catalogue_find(const struct token_catalogue *cat, const char *name);

/*
 * Checks a value against a catalogue row: JSON type, and for hex claims
 * the length and alphabet. Errors: token.claim.type, token.claim.hex.
 */
int token_claim_check(const struct token_claim_def *def, const json_t *value, struct attest_err *err);

/*
 * Claims MAA derives from the request and the type rather than from the
 * evidence (§1.3.1, §2.2): x-ms-attestation-type, x-ms-runtime /
 * x-ms-inittime for JSON data, x-ms-sgx-ehd for Binary runtime data of the
 * SGX types. Added to `incoming` (issuer AttestationService) after the
 * verifier succeeded, so policies can use them; a claim the verifier
 * already produced is not added twice.
 */
struct attest_request;
int token_add_request_claims(const struct token_catalogue *cat, const struct attest_request *req,
			     struct claim_set *incoming, struct attest_err *err);

#endif
