#ifndef ATTEST_CRYPTO_JOSE_H
#define ATTEST_CRYPTO_JOSE_H

/*
 * JOSE: JWS compact serialisation (RFC 7515 §7.1), JWT claim-set checks
 * (RFC 7519 §4.1), JWK/JWKS (RFC 7517) for the algorithms attestd uses:
 * RS256, PS256, ES256, ES384 (RFC 7518 §3) and "none" (§3.6, MAA's
 * unsigned policies).
 *
 * Design:
 * - Signing goes through a jws_signer made once per key: it owns the key,
 *   the base64url-encoded protected header ("<b64 header>.") and a
 *   digest-sign context initialised once and copied per token, so a token
 *   costs one payload encoding, one hash and one private-key operation.
 *   A signer is immutable after jws_signer_new and may be shared by threads.
 * - Parsing (jws_parse) validates the whole structure (three segments, the
 *   base64url alphabet without padding, a JSON object header with a string
 *   "alg", no "crit") before anything is verified.
 * - "none" is refused by every verify function unless the caller passes
 *   JWS_ALLOW_NONE; an algorithm must fit the key (RSA ≥ 2048 bits for
 *   RS/PS, P-256 for ES256, P-384 for ES384), so a header cannot steer a
 *   key into another algorithm.
 * - ES signatures travel as raw r || s (RFC 7518 §3.4) and are converted
 *   from/to OpenSSL's DER.
 *
 * Error names: jws.parse.size, jws.parse.segments, jws.parse.base64,
 * jws.parse.header, jws.header.crit, jws.alg.unsupported, jws.alg.none,
 * jws.alg.key (alg does not fit the key), jws.signature, jws.kid.unknown,
 * jwt.claims (payload not a JSON object / bad claim type), jwt.expired,
 * jwt.not_yet_valid, jwt.iat_future, jwt.exp_missing, jwk.parse,
 * jwk.unsupported.
 */

#include "attest/error.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest compact JWS accepted (policies with embedded certificates are the big ones). */
#define JWS_MAX_TOKEN (8u * 1024 * 1024)

enum jws_alg { JWS_ALG_NONE, JWS_ALG_RS256, JWS_ALG_PS256, JWS_ALG_ES256, JWS_ALG_ES384 };

/* "RS256", ...; "none" for JWS_ALG_NONE. */
const char *jws_alg_name(enum jws_alg alg);
/* Parses an "alg" value (case-sensitive, RFC 7515 §4.1.1). Errors: jws.alg.unsupported. */
int jws_alg_from_name(const char *name, enum jws_alg *out, struct attest_err *err);
/* Does alg fit key (type, curve, RSA size)? NONE fits no key. */
bool jws_alg_fits_key(enum jws_alg alg, EVP_PKEY *key);
/* The natural alg of a key: RSA → RS256, P-256 → ES256, P-384 → ES384. */
int jws_alg_for_key(EVP_PKEY *key, enum jws_alg *out);

/* ---- signing ----------------------------------------------------------- */

struct jws_signer;

/*
 * Makes a signer for key (reference taken; the caller keeps its own) with
 * alg, and a protected header {"alg": <alg>, then every member of
 * header_extra in order} (header_extra may be NULL; it must not contain
 * "alg"). For JWS_ALG_NONE key must be NULL.
 */
int jws_signer_new(EVP_PKEY *key, enum jws_alg alg, const json_t *header_extra, struct jws_signer **out,
		   struct attest_err *err);
void jws_signer_free(struct jws_signer *s);
/* The signer's protected header as JSON text (borrowed). */
const char *jws_signer_header(const struct jws_signer *s);

/*
 * Signs payload bytes with the precomputed header; *out is the compact JWS
 * (NUL-terminated, caller frees). Safe to call from several threads on one
 * signer.
 */
int jws_sign(const struct jws_signer *s, const void *payload, size_t len, char **out, struct attest_err *err);
/*
 * Same with another header for this call: {"alg", then header_extra's
 * members} (NULL = the precomputed one). Costs one small JSON dump and
 * encoding more than jws_sign.
 */
int jws_sign_ex(const struct jws_signer *s, const json_t *header_extra, const void *payload, size_t len,
		char **out, struct attest_err *err);
/*
 * Signs claims (a JSON object) serialised compactly with member names
 * sorted (JSON_COMPACT | JSON_SORT_KEYS, as Azure Attestation's tokens).
 */
int jwt_sign(const struct jws_signer *s, const json_t *claims, char **out, struct attest_err *err);
int jwt_sign_ex(const struct jws_signer *s, const json_t *header_extra, const json_t *claims, char **out,
		struct attest_err *err);
/*
 * The serialisation jwt_sign uses: byte for byte json_dumps(v,
 * JSON_COMPACT | JSON_SORT_KEYS), faster. NULL on allocation failure or
 * nesting deeper than 64. *len (optional) gets the length; caller frees.
 */
char *jose_json_dump_sorted(const json_t *v, size_t *len);
/* ---- parsing and verification ------------------------------------------ */

struct jws {
	json_t *header;	  /* the protected header (owned) */
	enum jws_alg alg; /* from header "alg" */
	uint8_t *payload; /* decoded payload (owned, NUL-terminated) */
	size_t payload_len;
	uint8_t *sig; /* decoded signature (owned; raw r||s for ES) */
	size_t sig_len;
	char *signing_input; /* "<b64 header>.<b64 payload>" (owned, unless borrowed) */
	size_t signing_input_len;
	bool signing_input_borrowed; /* jws_parse_view: it is the caller's token, read only */
};

/* Parses a compact JWS (not NUL-terminated, len bytes). *out: jws_free. */
int jws_parse(const char *token, size_t len, struct jws **out, struct attest_err *err);
/*
 * jws_parse without copying the signing input (a large request's payload):
 * it points into token, which must outlive *out and stay unchanged.
 */
int jws_parse_view(const char *token, size_t len, struct jws **out, struct attest_err *err);
void jws_free(struct jws *j);

/* A string member of the protected header ("alg", "kid", "jku", "typ"), or NULL. */
const char *jws_header_str(const struct jws *j, const char *name);
/*
 * The header's "x5c" as certificates (RFC 7515 §4.1.6: standard base64
 * DER, leaf first). *out is NULL when absent. Errors: jws.parse.header.
 */
int jws_header_x5c(const struct jws *j, STACK_OF(X509) * *out, struct attest_err *err);

#define JWS_ALLOW_NONE 0x1u /* accept alg "none" (unsigned MAA policies only) */

/*
 * Verifies the signature with key (NULL only for an allowed "none").
 * Errors: jws.alg.none, jws.alg.key, jws.signature.
 */
int jws_verify(const struct jws *j, EVP_PKEY *key, unsigned flags, struct attest_err *err);
/* The same, RS256 and PS256 checked through key's kept contexts when pool is not NULL (crypto.h). */
struct verify_pool;
int jws_verify_pooled(const struct jws *j, EVP_PKEY *key, struct verify_pool *pool, unsigned flags,
		      struct attest_err *err);
/*
 * Verifies against a JWKS: the key with the header's kid, or, without a
 * kid, any key that fits the alg. Errors: jws.kid.unknown and jws_verify's.
 */
int jws_verify_jwks(const struct jws *j, const json_t *jwks, unsigned flags, struct attest_err *err);

/* ---- JWT claim sets ----------------------------------------------------- */

/* The payload as a JSON object (new reference). Errors: jwt.claims. */
int jwt_claims(const struct jws *j, json_t **out, struct attest_err *err);

#define JWT_REQUIRE_EXP 0x1u

/*
 * Checks exp / nbf / iat (NumericDate, RFC 7519 §2) against now with skew
 * seconds of tolerance: exp <= now - skew is expired, nbf > now + skew is
 * not yet valid, iat > now + skew is issued in the future. Absent claims
 * are not checked unless required. Errors: jwt.expired, jwt.not_yet_valid,
 * jwt.iat_future, jwt.exp_missing, jwt.claims (not a number).
 */
int jwt_check_time(const json_t *claims, int64_t now, int64_t skew, unsigned flags, struct attest_err *err);
/* Sets iat = nbf = now and exp = now + lifetime on claims. */
int jwt_set_times(json_t *claims, int64_t now, int64_t lifetime);

/* ---- JWK / JWKS --------------------------------------------------------- */

/*
 * A public JWK for key: kty and n/e (RSA) or crv/x/y (EC), plus kid when
 * given, and when certs is given (leaf first, the leaf holding key) x5c
 * (standard base64 DER), x5t (base64url SHA-1 of the leaf's DER) and
 * x5t#S256. Never includes private members.
 */
int jwk_from_key(EVP_PKEY *key, const char *kid, STACK_OF(X509) * certs, json_t **out,
		 struct attest_err *err);
/*
 * jwk_from_key's JWK of an RSA public key given as its big-endian modulus
 * and exponent (as a TPM public area carries them), without exporting
 * them from an OpenSSL key (~15 us). Leading zero octets are dropped
 * (RFC 7518 §6.3.1). Errors: jwk.unsupported (a zero n or e).
 */
int jwk_from_rsa_raw(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen, const char *kid,
		     json_t **out, struct attest_err *err);
/*
 * The public key of a JWK: from n/e or crv/x/y, or from x5c[0] when the key
 * members are absent (MAA's /certs). Errors: jwk.parse, jwk.unsupported.
 */
int jwk_to_key(const json_t *jwk, EVP_PKEY **out, struct attest_err *err);
/* RFC 7638 SHA-256 thumbprint of the key's public JWK. */
int jwk_thumbprint(EVP_PKEY *key, uint8_t out[32]);

/* {"keys": []} (new reference). */
json_t *jwks_new(void);
/* Appends jwk (reference stolen) to jwks' "keys". */
int jwks_add(json_t *jwks, json_t *jwk);
/* The key with this kid (borrowed), or NULL. */
const json_t *jwks_find(const json_t *jwks, const char *kid);

#endif
