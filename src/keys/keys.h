#ifndef ATTEST_KEYS_KEYS_H
#define ATTEST_KEYS_KEYS_H

/*
 * The service's token signing keys.
 *
 * Design:
 * - A signing_key is a private key (RSA-2048 by default, as Azure
 *   Attestation; EC P-256/P-384 too), a self-signed certificate for it
 *   (subject "CN=<issuer URL>" like MAA's), its kid and a ready jws_signer
 *   whose protected header ({"alg","jku","kid","typ":"JWT"}, plus "x5c"
 *   when asked) is encoded once.
 * - kid = base64url (no padding) of the RFC 7638 SHA-256 JWK thumbprint of
 *   the public key: derived from the key alone, so it is stable, verifiable
 *   by any JOSE library (jose's calculateJwkThumbprint), and never collides
 *   between keys. (MAA's kids are opaque 44-character base64 strings whose
 *   derivation is not published; relying parties treat kids as opaque.)
 * - At rest a key is a binary blob: the public part in clear and the
 *   PKCS#8 private key sealed with AES-256-GCM under a 32-byte
 *   key-encryption key (KEK), a random 96-bit nonce per seal (NIST SP
 *   800-38D §8.2.2), and every clear byte before the nonce (magic,
 *   version, kid, times, certificate) as additional authenticated data, so
 *   a blob cannot be re-labelled or spliced. Layout, big-endian:
 *     "ATKB" | u8 version=1 | u8 kid_len | kid | i64 created | i64 retire_at
 *     | i64 last_exp | u32 cert_len | cert DER | nonce[12] | u32 ct_len | ct | tag[16]
 * - The KEK lives in a file (created with mode 0600 when missing, refused
 *   when group/other may read it) holding 32 random bytes.
 * - Private material is zeroized when freed (OPENSSL_clear_free,
 *   mem_free_secret) and never appears in messages or JSON output; it
 *   lives in OpenSSL's secure heap (mlocked, excluded from core dumps:
 *   keys_secure_heap_init) once the process has one.
 * - A keyring holds the current key and earlier ones. Rotation makes a new
 *   current key; the old one stays published in the JWKS until its
 *   retire_at = max(rotation time + max token lifetime, expiry of the last
 *   token it signed), so every token it signed stays verifiable.
 * - Not internally locked: signing and JWKS reads may run in parallel
 *   (last_exp is atomic); add/rotate/import/prune need exclusive access
 *   (the server holds a write lock).
 * - No dependency on store/: the server persists blobs through the store.
 *
 * Error names: keys.generate, keys.kek.io, keys.kek.permissions,
 * keys.kek.size, keys.blob.truncated, keys.blob.magic, keys.blob.version,
 * keys.blob.trailing, keys.blob.decrypt, keys.blob.key, keys.blob.kid,
 * keys.blob (sealing failed), keys.kid.unknown, keys.ring (bad argument,
 * capacity), keys.ring.empty, keys.secure_heap.
 */

#include "attest/error.h"
#include "crypto/jose.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum key_type { KEY_RSA2048, KEY_EC_P256, KEY_EC_P384 };

#define KEK_LEN			   32
#define KEYS_KID_MAX		   64
#define KEYS_DEFAULT_CERT_VALIDITY (365 * 86400)

/* "rsa2048", "p256", "p384" and back (for config files). */
const char *key_type_name(enum key_type t);
int key_type_from_name(const char *name, enum key_type *out);

/* ---- the key-encryption key -------------------------------------------- */

struct kek {
	uint8_t k[KEK_LEN];
};

/*
 * Reads the KEK from path, or creates it (32 random bytes, mode 0600,
 * O_EXCL) when the file does not exist. Errors: keys.kek.io,
 * keys.kek.permissions (readable by group or others), keys.kek.size.
 */
int kek_load_or_create(const char *path, struct kek *out, bool *created, struct attest_err *err);
/* Zeroes the KEK. */
void kek_clear(struct kek *kek);

/*
 * The secure heap (secmem.c): OpenSSL's CRYPTO_secure_malloc arena,
 * mlock()ed and MADV_DONTDUMP, where OpenSSL keeps the private parts of
 * keys created or loaded after it exists (and its per-thread private
 * DRBGs), and where kek_new puts a KEK. Fixed size: OpenSSL 3.0 does NOT
 * fall back to the normal heap when it is full (key loads and new threads
 * fail), so size it for the keys the process holds (an RSA-2048 key takes
 * about 1.2 KiB, a thread's DRBG under 1 KiB) and watch it.
 * keys_secure_heap_init_size sets it up once per process (thread safe;
 * later calls only report; kek_load_or_create calls it with the default
 * size and carries on without it when it cannot be had): size 0 = the
 * default, else a power of two >= 4096; keys_secure_heap_init(locked, err)
 * is the same with the default size; *locked (optional) tells whether the arena is
 * locked in memory (mlock may fail under RLIMIT_MEMLOCK; it is still
 * excluded from core dumps). Errors: keys.secure_heap (bad size; OpenSSL
 * could not set it up: keys then stay on the normal heap).
 * keys_secure_heap_usage: bytes in use and the arena's size (0, 0 without).
 */
#define KEYS_SECURE_HEAP_SIZE ((size_t)4 << 20) /* ~4,500 RSA-2048 keys (900 bytes each, test_secure_heap)   \
						 */
#define KEYS_SECURE_HEAP_MIN 16
int keys_secure_heap_init_size(size_t size, bool *locked, struct attest_err *err);
int keys_secure_heap_init(bool *locked, struct attest_err *err);
void keys_secure_heap_usage(size_t *used, size_t *size);
/* A zeroed KEK in the secure heap (the normal heap without one; NULL when out of memory); kek_free zeroes and
 * frees it. */
struct kek *kek_new(void);
void kek_free(struct kek *kek);

/* ---- one signing key ---------------------------------------------------- */

struct signing_key;

struct signing_key_opts {
	enum key_type type;
	const char *subject_cn; /* certificate subject CN, e.g. the issuer URL */
	int64_t cert_validity;	/* seconds; 0 = KEYS_DEFAULT_CERT_VALIDITY */
	const char *jku;	/* header "jku" (the /certs URL) or NULL */
	bool header_x5c;	/* put the certificate in every token header */
};

/* Generates a key and its self-signed certificate valid from now. Errors: keys.generate. */
int signing_key_generate(const struct signing_key_opts *opts, int64_t now, struct signing_key **out,
			 struct attest_err *err);
/* Frees, zeroizing the private key. NULL is allowed. */
void signing_key_free(struct signing_key *k);

const char *signing_key_kid(const struct signing_key *k);
X509 *signing_key_cert(const struct signing_key *k);	   /* borrowed */
EVP_PKEY *signing_key_public(const struct signing_key *k); /* borrowed; holds the private part too */
enum jws_alg signing_key_alg(const struct signing_key *k);
int64_t signing_key_created(const struct signing_key *k);
int64_t signing_key_retire_at(const struct signing_key *k); /* 0 = not retiring */
int64_t signing_key_last_exp(const struct signing_key *k);  /* latest exp it signed */
int64_t signing_key_not_after(const struct signing_key *k); /* its certificate's notAfter */
/* The public JWK (kid, kty, n/e or crv/x/y, x5c, x5t, x5t#S256), new reference. */
int signing_key_jwk(const struct signing_key *k, json_t **out, struct attest_err *err);
/*
 * Signs claims (a JSON object) as a JWT with this key's header. The
 * claims' "exp", when present, raises last_exp (atomic).
 */
int signing_key_sign_jwt(struct signing_key *k, const json_t *claims, char **out, struct attest_err *err);
/*
 * Same with the header's "jku" for this call (a provider's own
 * "<base URL>/certs"); NULL or the key's own jku uses the precomputed
 * header. Claims are serialised compact with sorted names (jwt_sign).
 */
int signing_key_sign_jwt_jku(struct signing_key *k, const json_t *claims, const char *jku, char **out,
			     struct attest_err *err);

/*
 * Seals the key into a blob (layout above); *blob is malloc'd, caller
 * frees (it holds no clear private material).
 */
int signing_key_export(const struct signing_key *k, const struct kek *kek, uint8_t **blob, size_t *len,
		       struct attest_err *err);
/*
 * Opens a blob: validates the whole layout, decrypts and authenticates,
 * checks that the private key matches the certificate and the kid. opts
 * gives jku/header_x5c for the rebuilt signer (type, subject and validity
 * come from the blob). Errors: keys.blob.*.
 */
int signing_key_import(const uint8_t *blob, size_t len, const struct kek *kek,
		       const struct signing_key_opts *opts, struct signing_key **out, struct attest_err *err);

/* ---- the keyring -------------------------------------------------------- */

struct keyring;

struct keyring_opts {
	struct signing_key_opts key; /* for generated keys */
	int64_t max_token_lifetime;  /* seconds; a rotated key stays published at least this long */
};

int keyring_new(const struct keyring_opts *opts, struct keyring **out, struct attest_err *err);
void keyring_free(struct keyring *r);

/*
 * Generates a key of opts->key.type and makes it current; the previous
 * current key gets retire_at = max(now + max_token_lifetime, its last_exp).
 * *kid_out (optional) receives the new kid (borrowed from the ring).
 */
int keyring_add_generated(struct keyring *r, int64_t now, const char **kid_out, struct attest_err *err);
/* Same as keyring_add_generated (the name the server's rotation calls). */
int keyring_rotate(struct keyring *r, int64_t now, const char **kid_out, struct attest_err *err);

/* Seals key kid. Errors: keys.kid.unknown and signing_key_export's. */
int keyring_export_blob(const struct keyring *r, const char *kid, const struct kek *kek, uint8_t **blob,
			size_t *len, struct attest_err *err);
/*
 * Opens a blob into the ring (a kid already present is replaced). After
 * importing every stored blob the current key is the newest not retiring.
 */
int keyring_import_blob(struct keyring *r, const uint8_t *blob, size_t len, const struct kek *kek,
			struct attest_err *err);

/* The key that signs now, or NULL for an empty ring. */
struct signing_key *keyring_current(const struct keyring *r);
size_t keyring_count(const struct keyring *r);
struct signing_key *keyring_key(const struct keyring *r, size_t i);
struct signing_key *keyring_find(const struct keyring *r, const char *kid);

/* {"keys": [...]} of every key still published at now (current first). */
int keyring_jwks(const struct keyring *r, int64_t now, json_t **out, struct attest_err *err);
/*
 * Signs claims with the current key: header {"alg","jku","kid","typ":"JWT"}
 * (+"x5c" when configured), claims compact with sorted member names.
 * Errors: keys.ring.empty and signing errors.
 */
int keyring_sign_jwt(const struct keyring *r, const json_t *claims, char **out, struct attest_err *err);
/* Same with a per-call jku (per-provider base URL); NULL = the ring's. */
int keyring_sign_jwt_jku(const struct keyring *r, const json_t *claims, const char *jku, char **out,
			 struct attest_err *err);
/*
 * Drops keys whose retire_at has passed (never the current key); returns
 * how many were dropped. Their kids are gone from the ring afterwards, so
 * the server deletes the same kids from its store: call
 * keyring_retired_kids first to learn them.
 */
size_t keyring_prune(struct keyring *r, int64_t now);
/* Calls fn(kid, arg) for every key that keyring_prune(now) would drop. */
void keyring_retired_kids(const struct keyring *r, int64_t now, void (*fn)(const char *kid, void *arg),
			  void *arg);

#endif
