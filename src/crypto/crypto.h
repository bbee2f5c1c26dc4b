#ifndef ATTEST_CRYPTO_CRYPTO_H
#define ATTEST_CRYPTO_CRYPTO_H

/*
 * Cryptographic primitives over OpenSSL 3 for verifiers: digests, raw
 * signatures in the encodings hardware uses, and X.509 chains with CRLs at a
 * given time. Keys and certificates are OpenSSL objects (EVP_PKEY, X509);
 * the caller owns what it passes and what it gets back.
 *
 * Error names: functions that check something the evidence claims take a
 * `code` prefix from the caller ("sgx.quote.signature", "snp.vcek") so
 * the user sees which check of which format failed; the suffixes are
 * listed with each function.
 */

#include "attest/error.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hash_alg { HASH_SHA1, HASH_SHA256, HASH_SHA384, HASH_SHA512 };

#define HASH_MAX_LEN 64

size_t hash_len(enum hash_alg alg);
const EVP_MD *hash_md(enum hash_alg alg);
/* One-shot digest into out (hash_len(alg) bytes). */
int hash_digest(enum hash_alg alg, const void *p, size_t n, uint8_t *out);
int sha256(const void *p, size_t n, uint8_t out[32]);
int sha384(const void *p, size_t n, uint8_t out[48]);
int sha512(const void *p, size_t n, uint8_t out[64]);

/* Incremental digest (for event-log replay and multi-part messages). */
struct hash_ctx {
	EVP_MD_CTX *md;
	enum hash_alg alg;
};
int hash_init(struct hash_ctx *h, enum hash_alg alg);
int hash_update(struct hash_ctx *h, const void *p, size_t n);
int hash_final(struct hash_ctx *h, uint8_t *out); /* also frees the context */
void hash_ctx_free(struct hash_ctx *h);

/* NIST curves used by hardware. */
enum ec_curve { EC_P256, EC_P384 };

/*
 * An EC public key from raw big-endian affine coordinates x || y (64 bytes
 * for P-256, 96 for P-384), as Intel quotes carry the attestation key.
 * Errors: <code>.key (not a point on the curve).
 */
int ec_pubkey_from_xy(enum ec_curve curve, const uint8_t *xy, size_t len, EVP_PKEY **out, const char *code,
		      struct attest_err *err);

/*
 * ECDSA verification with the signature as raw big-endian r || s (Intel:
 * 64 bytes for P-256). The message is hashed with alg first.
 * Errors: <code> (signature does not verify), <code>.encoding.
 */
int ecdsa_verify_rs_be(EVP_PKEY *key, enum hash_alg alg, const void *msg, size_t msglen, const uint8_t *sig,
		       size_t siglen, const char *code, struct attest_err *err);

/*
 * ECDSA verification with r and s little-endian, each `component_len` bytes
 * wide (AMD SEV-SNP: 72-byte fields of which the curve uses the low 48).
 */
int ecdsa_verify_rs_le(EVP_PKEY *key, enum hash_alg alg, const void *msg, size_t msglen, const uint8_t *r_le,
		       const uint8_t *s_le, size_t component_len, const char *code, struct attest_err *err);

/* ECDSA verification of a DER-encoded signature. */
int ecdsa_verify_der(EVP_PKEY *key, enum hash_alg alg, const void *msg, size_t msglen, const uint8_t *sig,
		     size_t siglen, const char *code, struct attest_err *err);

/* RSA PKCS#1 v1.5 verification. Errors: <code>. */
int rsa_verify_pkcs1(EVP_PKEY *key, enum hash_alg alg, const void *msg, size_t msglen, const uint8_t *sig,
		     size_t siglen, const char *code, struct attest_err *err);

/*
 * RSA-PSS verification, MGF1 with the same hash; salt_len -1 means "digest
 * length", -2 "auto-detect" (OpenSSL's RSA_PSS_SALTLEN_*). Errors: <code>.
 */
int rsa_verify_pss(EVP_PKEY *key, enum hash_alg alg, const void *msg, size_t msglen, const uint8_t *sig,
		   size_t siglen, int salt_len, const char *code, struct attest_err *err);

/* Constant-time comparison. */
bool crypto_memeq(const void *a, const void *b, size_t n);
/*
 * Whether key is of the type id (EVP_PKEY_RSA, EVP_PKEY_EC, ...) that
 * OpenSSL also calls name: the numeric id first (~70 ns), the provider's
 * name lookup (~250 ns, under a lock) only when the id differs.
 */
bool crypto_key_is(EVP_PKEY *key, int id, const char *name);

/*
 * Verification contexts kept for one RSA key (verify_pool.c): a cache that
 * holds a key holds its pool beside it, and checks with that key reuse
 * contexts instead of making one per check (~4 us each). Reference
 * counted; safe for concurrent checks.
 */
struct verify_pool;
struct verify_pool *verify_pool_new(const EVP_PKEY *key);
struct verify_pool *verify_pool_ref(struct verify_pool *p);
void verify_pool_free(struct verify_pool *p); /* drops one reference */
/*
 * 1 when sig is key's RSA signature (padding pad, PSS salt length
 * salt_len) over the md digest of msg, 0 when it is not, -1 when the pool
 * cannot check it (another key, a context that cannot be made). Callers
 * take 1 as verified and ask their ordinary path otherwise, which words
 * every refusal.
 */
int verify_pool_rsa(struct verify_pool *p, EVP_PKEY *key, const EVP_MD *md, int pad, int salt_len,
		    const void *msg, size_t msglen, const uint8_t *sig, size_t siglen);

/*
 * AES-256-GCM (aead.c): 32-byte keys, 96-bit IVs, 128-bit tags, additional
 * data authenticated beside the text. Each returns 0, or -1 when the
 * arguments are wrong, OpenSSL fails or (open) the tag does not
 * authenticate. An open whose tag fails leaves out zeroed; none writes
 * anything unauthenticated to out.
 */
#define AEAD_KEY_LEN 32
#define AEAD_IV_LEN  12
#define AEAD_TAG_LEN 16
int aead_seal(const uint8_t key[AEAD_KEY_LEN], const uint8_t iv[AEAD_IV_LEN], const uint8_t *aad,
	      size_t aad_len, const uint8_t *in, size_t n, uint8_t *out, uint8_t tag[AEAD_TAG_LEN]);
int aead_open(const uint8_t key[AEAD_KEY_LEN], const uint8_t iv[AEAD_IV_LEN], const uint8_t *aad,
	      size_t aad_len, const uint8_t *in, size_t n, uint8_t *out, const uint8_t tag[AEAD_TAG_LEN]);
/*
 * A key that seals or opens many messages, with its keyed cipher contexts
 * kept (about half the cost of a one-shot on a 100-byte message). Held by
 * whoever holds the key, never global; safe for concurrent use; the key
 * bytes are cleansed on free.
 */
struct aead_key;
struct aead_key *aead_key_new(const uint8_t key[AEAD_KEY_LEN]);
void aead_key_free(struct aead_key *k);
int aead_key_seal(struct aead_key *k, const uint8_t iv[AEAD_IV_LEN], const uint8_t *aad, size_t aad_len,
		  const uint8_t *in, size_t n, uint8_t *out, uint8_t tag[AEAD_TAG_LEN]);
int aead_key_open(struct aead_key *k, const uint8_t iv[AEAD_IV_LEN], const uint8_t *aad, size_t aad_len,
		  const uint8_t *in, size_t n, uint8_t *out, const uint8_t tag[AEAD_TAG_LEN]);

/* ---- X.509 ------------------------------------------------------------ */

/* Loads one DER certificate. Errors: <code>.parse. */
int x509_from_der(const uint8_t *der, size_t len, X509 **out, const char *code, struct attest_err *err);
/*
 * Loads every PEM certificate in text (at least one; anything other than
 * certificates and whitespace between them is an error), in order.
 * Errors: <code>.parse.
 */
int x509_stack_from_pem(const uint8_t *pem, size_t len, STACK_OF(X509) * *out, const char *code,
			struct attest_err *err);
/* One CRL, DER or PEM (sniffed). Errors: <code>.parse. */
int x509_crl_load(const uint8_t *p, size_t len, X509_CRL **out, const char *code, struct attest_err *err);

struct x509_verify_opts {
	int64_t time;		   /* verification time (Unix seconds) */
	STACK_OF(X509) * anchors;  /* trusted roots */
	STACK_OF(X509_CRL) * crls; /* CRLs to apply (may be NULL) */
	bool require_crls;	   /* every CA in the chain must have a current CRL */
	int max_depth;		   /* 0 = default (6) */
	/*
	 * Every certificate of `untrusted` must be on the verified path, or
	 * be an anchor, or another valid self-signed certificate of an
	 * anchor's key: a chain carried in evidence may not hold a corrupted
	 * or unrelated certificate that path building merely skipped.
	 * Errors: <code>.signature (a carried root whose self-signature
	 * fails), <code>.invalid (a certificate off the path).
	 */
	bool exact_chain;
};

/*
 * Verifies leaf → untrusted intermediates → one of anchors at opts->time,
 * including every certificate's validity window, signatures, CA
 * constraints, and revocation by the CRLs given (each CRL's own signature
 * and validity window are checked too). A root matches an anchor by subject
 * and public key, not by certificate hash: Intel's root exists as two
 * certificates of the same key. On success *chain_out (optional) receives
 * the verified chain, leaf first (caller frees with
 * sk_X509_pop_free(chain, X509_free);
 * OSSL_STACK_OF_X509_free is OpenSSL 3.2+, Debian 12 has 3.0).
 *
 * Error names: <code>.expired, <code>.not_yet_valid, <code>.revoked,
 * <code>.signature, <code>.untrusted_root (no path to an anchor / wrong
 * issuer), <code>.crl_missing, <code>.crl_expired, <code>.crl_signature,
 * <code>.invalid (constraints, purpose, depth), each message naming the
 * certificate's subject.
 */
int x509_chain_verify(X509 *leaf, STACK_OF(X509) * untrusted, const struct x509_verify_opts *opts,
		      STACK_OF(X509) * *chain_out, const char *code, struct attest_err *err);

/*
 * Checks one CRL on its own (collateral that is not applied to a chain, or
 * before caching it): issued by `issuer` (name), signed by its key, and
 * current at `time` (thisUpdate <= time < nextUpdate).
 * Errors: <code>.crl_issuer, <code>.crl_signature, <code>.crl_expired.
 */
int x509_crl_verify(X509_CRL *crl, X509 *issuer, int64_t time, const char *code, struct attest_err *err);

/* SHA-256 of the DER encoding (cache keys, x5t#S256). */
int x509_sha256(X509 *cert, uint8_t out[32]);

/* An ASN.1 time (a certificate's or CRL's) as Unix seconds; dflt when t is NULL or not a valid time. */
int64_t x509_time_unix(const ASN1_TIME *t, int64_t dflt);
/* The certificate's subject as a one-line string (caller frees). */
char *x509_subject_str(X509 *cert);

#endif
