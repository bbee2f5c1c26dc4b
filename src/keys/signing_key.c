/*
 * One token signing key: generation, self-signed certificate, kid, signer,
 * and the sealed blob format (keys.h describes the layout).
 */
#include "keys/keys.h"
#include "keys/keys_int.h"

#include "base/buf.h"
#include "base/codec.h"
#include "base/cur.h"
#include "crypto/crypto.h"

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BLOB_MAGIC     "ATKB"
#define BLOB_VERSION   1
#define BLOB_NONCE_LEN 12 /* GCM's recommended IV length, SP 800-38D §8.2 */
#define BLOB_TAG_LEN   16
#define BLOB_MAX       (64u * 1024)
/* Certificates are back-dated this much so clocks a little behind accept them. */
#define CERT_BACKDATE 300
/* Signers kept per key for other jku values than the precomputed one (see jku_signer). */
#define SIGNING_KEY_JKU_SIGNERS 8

struct jku_signer {
	char *jku;
	struct jws_signer *signer;
};

struct signing_key {
	char kid[KEYS_KID_MAX];
	EVP_PKEY *pkey; /* private */
	X509 *cert;
	enum jws_alg alg;
	int64_t created;
	int64_t retire_at;
	_Atomic int64_t last_exp;
	struct jws_signer *signer;
	char *jku;		/* the precomputed header's jku (NULL: none) */
	char *x5c_b64;		/* the certificate for header "x5c", when asked */
	pthread_mutex_t jku_mu; /* serialises adding to jku_signers */
	_Atomic size_t n_jku;	/* entries below it are complete and never change */
	struct jku_signer jku_signers[SIGNING_KEY_JKU_SIGNERS];
};

/* A zeroed key with its lock initialised (signing_key_free undoes both). */
static struct signing_key *key_alloc(void)
{
	struct signing_key *k = calloc(1, sizeof(*k));

	if (k != NULL && pthread_mutex_init(&k->jku_mu, NULL) != 0) {
		free(k);
		return NULL;
	}
	return k;
}

static const struct {
	enum key_type t;
	const char *name;
} KEY_TYPES[] = {{KEY_RSA2048, "rsa2048"}, {KEY_EC_P256, "p256"}, {KEY_EC_P384, "p384"}};

const char *key_type_name(enum key_type t)
{
	size_t i;

	for (i = 0; i < sizeof(KEY_TYPES) / sizeof(KEY_TYPES[0]); i++) {
		if (KEY_TYPES[i].t == t)
			return KEY_TYPES[i].name;
	}
	return NULL;
}

int key_type_from_name(const char *name, enum key_type *out)
{
	size_t i;

	for (i = 0; name != NULL && i < sizeof(KEY_TYPES) / sizeof(KEY_TYPES[0]); i++) {
		if (strcmp(KEY_TYPES[i].name, name) == 0) {
			*out = KEY_TYPES[i].t;
			return ATTEST_OK;
		}
	}
	return ATTEST_E_INVALID;
}

/* ---- accessors ------------------------------------------------------------ */

const char *signing_key_kid(const struct signing_key *k)
{
	return k ? k->kid : NULL;
}

X509 *signing_key_cert(const struct signing_key *k)
{
	return k ? k->cert : NULL;
}

EVP_PKEY *signing_key_public(const struct signing_key *k)
{
	return k ? k->pkey : NULL;
}

enum jws_alg signing_key_alg(const struct signing_key *k)
{
	return k->alg;
}

int64_t signing_key_created(const struct signing_key *k)
{
	return k->created;
}

int64_t signing_key_retire_at(const struct signing_key *k)
{
	return k->retire_at;
}

int64_t signing_key_last_exp(const struct signing_key *k)
{
	return atomic_load(&((struct signing_key *)k)->last_exp);
}

int64_t signing_key_not_after(const struct signing_key *k)
{
	return k == NULL ? 0 : x509_time_unix(X509_get0_notAfter(k->cert), 0);
}

void signing_key_set_retire_at(struct signing_key *k, int64_t t)
{
	k->retire_at = t;
}

void signing_key_free(struct signing_key *k)
{
	if (k == NULL)
		return;
	jws_signer_free(k->signer);
	free(k->jku);
	free(k->x5c_b64);
	for (size_t i = 0; i < atomic_load(&k->n_jku); i++) {
		jws_signer_free(k->jku_signers[i].signer);
		free(k->jku_signers[i].jku);
	}
	pthread_mutex_destroy(&k->jku_mu);
	/* EVP_PKEY_free clears the private key's bignums (BN_clear_free). */
	EVP_PKEY_free(k->pkey);
	X509_free(k->cert);
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

/* ---- generation ----------------------------------------------------------- */

static EVP_PKEY *generate_pkey(enum key_type t)
{
	switch (t) {
	case KEY_RSA2048:
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	case KEY_EC_P256:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	case KEY_EC_P384:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	}
	return NULL;
}

static int cert_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (ext == NULL)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* A self-signed end-entity certificate for pkey: CN=cn, valid [now-5min, now+validity]. */
static X509 *self_signed_cert(EVP_PKEY *pkey, const char *cn, int64_t now, int64_t validity)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	uint8_t serial[16];
	BIGNUM *bn = NULL;
	const EVP_MD *md = EVP_PKEY_get_bits(pkey) == 384 ? EVP_sha384() : EVP_sha256();
	bool ok = false;

	if (x == NULL || name == NULL || RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f; /* RFC 5280 §4.1.2.2: positive, at most 20 octets */
	serial[0] |= 0x40;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL &&
	     X509_set_version(x, 2) &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) &&
	     X509_set_subject_name(x, name) && X509_set_issuer_name(x, name) &&
	     ASN1_TIME_set(X509_getm_notBefore(x), (time_t)(now - CERT_BACKDATE)) != NULL &&
	     ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(now + validity)) != NULL &&
	     X509_set_pubkey(x, pkey) && cert_ext(x, NID_basic_constraints, "critical,CA:FALSE") &&
	     cert_ext(x, NID_key_usage, "critical,digitalSignature") &&
	     cert_ext(x, NID_subject_key_identifier, "hash") && X509_sign(x, pkey, md) > 0;
out:
	BN_free(bn);
	X509_NAME_free(name);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* kid = base64url(RFC 7638 SHA-256 thumbprint). */
static int derive_kid(EVP_PKEY *pkey, char kid[KEYS_KID_MAX])
{
	uint8_t tp[32];

	if (jwk_thumbprint(pkey, tp) != ATTEST_OK)
		return ATTEST_E_INTERNAL;
	b64url_encode_to(tp, sizeof(tp), kid); /* 43 characters + NUL */
	return ATTEST_OK;
}

/* The token header members after "alg": {"jku"?, "kid", "typ":"JWT", "x5c"?} as MAA tokens carry. */
static json_t *header_members(const struct signing_key *k, const char *jku)
{
	json_t *hdr = json_object();

	if (hdr == NULL || (jku != NULL && json_object_set_new(hdr, "jku", json_string(jku)) != 0) ||
	    json_object_set_new(hdr, "kid", json_string(k->kid)) != 0 ||
	    json_object_set_new(hdr, "typ", json_string("JWT")) != 0 ||
	    (k->x5c_b64 != NULL && json_object_set_new(hdr, "x5c", json_pack("[s]", k->x5c_b64)) != 0)) {
		json_decref(hdr);
		return NULL;
	}
	return hdr;
}

/* Builds k->signer with the precomputed header for opts->jku. */
static int build_signer(struct signing_key *k, const struct signing_key_opts *opts, struct attest_err *err)
{
	json_t *hdr;
	int rc;

	if (opts->jku != NULL && (k->jku = strdup(opts->jku)) == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "keys.generate", "out of memory");
	if (opts->header_x5c) {
		unsigned char *der = NULL;
		int n = i2d_X509(k->cert, &der);

		k->x5c_b64 = n > 0 ? b64std_encode(der, (size_t)n) : NULL;
		OPENSSL_free(der);
		if (k->x5c_b64 == NULL)
			return attest_err_set(err, ATTEST_E_NOMEM, "keys.generate", "out of memory");
	}
	hdr = header_members(k, k->jku);
	if (hdr == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "keys.generate", "cannot build the token header");
	rc = jws_signer_new(k->pkey, k->alg, hdr, &k->signer, err);
	json_decref(hdr);
	return rc;
}

/* Completes a key whose pkey and cert are set: alg, kid, signer. */
static int key_finish(struct signing_key *k, const struct signing_key_opts *opts, struct attest_err *err)
{
	if (jws_alg_for_key(k->pkey, &k->alg) != ATTEST_OK)
		return attest_err_set(err, ATTEST_E_UNSUPPORTED, "keys.generate",
				      "signing keys are RSA (2048 bits or more) or EC P-256/P-384");
	if (derive_kid(k->pkey, k->kid) != ATTEST_OK)
		return attest_err_set(err, ATTEST_E_INTERNAL, "keys.generate", "cannot derive the kid");
	return build_signer(k, opts, err);
}

int signing_key_generate(const struct signing_key_opts *opts, int64_t now, struct signing_key **out,
			 struct attest_err *err)
{
	struct signing_key *k;
	int64_t validity;
	int rc;

	if (opts == NULL || out == NULL || key_type_name(opts->type) == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "keys.generate",
				      "signing_key_generate: bad argument");
	validity = opts->cert_validity > 0 ? opts->cert_validity : KEYS_DEFAULT_CERT_VALIDITY;
	k = key_alloc();
	if (k == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "keys.generate", "out of memory");
	k->created = now;
	k->pkey = generate_pkey(opts->type);
	if (k->pkey != NULL)
		k->cert =
		    self_signed_cert(k->pkey, opts->subject_cn ? opts->subject_cn : "attestd", now, validity);
	if (k->pkey == NULL || k->cert == NULL) {
		signing_key_free(k);
		ERR_clear_error();
		return attest_err_set(err, ATTEST_E_INTERNAL, "keys.generate",
				      "key or certificate generation failed");
	}
	rc = key_finish(k, opts, err);
	if (rc != ATTEST_OK) {
		signing_key_free(k);
		return rc;
	}
	*out = k;
	return ATTEST_OK;
}

int signing_key_jwk(const struct signing_key *k, json_t **out, struct attest_err *err)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	int rc;

	if (certs == NULL || sk_X509_push(certs, k->cert) <= 0) {
		sk_X509_free(certs);
		return attest_err_set(err, ATTEST_E_NOMEM, "keys.generate", "out of memory");
	}
	rc = jwk_from_key(k->pkey, k->kid, certs, out, err);
	sk_X509_free(certs); /* the certificate stays the key's */
	return rc;
}

int signing_key_sign_jwt(struct signing_key *k, const json_t *claims, char **out, struct attest_err *err)
{
	return signing_key_sign_jwt_jku(k, claims, NULL, out, err);
}

/* The kept signer for jku among the first n entries, or NULL. */
static const struct jws_signer *jku_find(const struct signing_key *k, size_t n, const char *jku)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(k->jku_signers[i].jku, jku) == 0)
			return k->jku_signers[i].signer;
	}
	return NULL;
}

/*
 * The signer whose precomputed header carries jku, or NULL. Every token a
 * key signs for one issuer has the same header, and encoding it per token
 * cost about 1 % of an attestation (issue 13). Up to SIGNING_KEY_JKU_SIGNERS
 * issuers are kept for the key's life (the service's and a few providers');
 * beyond that the caller encodes the header per token. Entries are never
 * replaced, so a signer returned stays valid until signing_key_free, and
 * readers take no lock: an entry is complete before n_jku counts it.
 */
static const struct jws_signer *jku_signer(struct signing_key *k, const char *jku)
{
	const struct jws_signer *found = jku_find(k, atomic_load(&k->n_jku), jku); /* no lock to read */
	struct jku_signer *slot;
	size_t n;
	json_t *hdr;

	if (found != NULL)
		return found;
	pthread_mutex_lock(&k->jku_mu);
	n = atomic_load(&k->n_jku);
	found = jku_find(k, n, jku); /* another thread may have added it */
	if (found == NULL && n < SIGNING_KEY_JKU_SIGNERS) {
		slot = &k->jku_signers[n];
		hdr = header_members(k, jku);
		slot->jku = strdup(jku);
		if (hdr != NULL && slot->jku != NULL &&
		    jws_signer_new(k->pkey, k->alg, hdr, &slot->signer, NULL) == ATTEST_OK) {
			found = slot->signer;
			atomic_store(&k->n_jku, n + 1); /* publishes the complete entry */
		} else {
			free(slot->jku);
			slot->jku = NULL;
		}
		json_decref(hdr);
	}
	pthread_mutex_unlock(&k->jku_mu);
	return found;
}

int signing_key_sign_jwt_jku(struct signing_key *k, const json_t *claims, const char *jku, char **out,
			     struct attest_err *err)
{
	const json_t *exp = json_object_get(claims, "exp");
	const struct jws_signer *signer;
	json_t *hdr = NULL;
	int rc;

	if (k == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "keys.ring.empty", "no signing key");
	signer = k->signer;
	/* The precomputed header serves the usual jku; another has its own signer, or one header encoding. */
	if (jku != NULL && (k->jku == NULL || strcmp(jku, k->jku) != 0)) {
		signer = jku_signer(k, jku);
		hdr = signer == NULL ? header_members(k, jku) : NULL;
		if (signer == NULL && hdr == NULL)
			return attest_err_set(err, ATTEST_E_NOMEM, "keys.generate", "out of memory");
		if (signer == NULL)
			signer = k->signer;
	}
	rc = jwt_sign_ex(signer, hdr, claims, out, err);
	json_decref(hdr);
	if (rc == ATTEST_OK && json_is_integer(exp)) {
		int64_t e = (int64_t)json_integer_value(exp), cur = atomic_load(&k->last_exp);

		/* Raise last_exp to e unless another signer raised it further. */
		while (e > cur && !atomic_compare_exchange_weak(&k->last_exp, &cur, e))
			;
	}
	return rc;
}

/* ---- the sealed blob ------------------------------------------------------ */

static int put_be(struct buf *b, uint64_t v, int bytes)
{
	uint8_t t[8];
	int i;

	for (i = 0; i < bytes; i++)
		t[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	return buf_append(b, t, (size_t)bytes);
}

/* AES-256-GCM seal of pt with aad; writes nonce | u32 ct_len | ct | tag to b. */
static int seal(struct buf *b, const struct kek *kek, const uint8_t *pt, size_t ptlen)
{
	uint8_t nonce[BLOB_NONCE_LEN], tag[BLOB_TAG_LEN];
	uint8_t *ct = malloc(ptlen + 1);
	int rc = ATTEST_E_INTERNAL;

	/* Everything written so far (magic .. certificate) is authenticated. */
	if (ct == NULL || ptlen > UINT32_MAX || RAND_bytes(nonce, sizeof(nonce)) != 1 ||
	    aead_seal(kek->k, nonce, b->p, b->len, pt, ptlen, ct, tag) != 0)
		goto out;
	if (buf_append(b, nonce, sizeof(nonce)) != 0 || put_be(b, (uint64_t)ptlen, 4) != 0 ||
	    buf_append(b, ct, ptlen) != 0 || buf_append(b, tag, sizeof(tag)) != 0) {
		rc = ATTEST_E_NOMEM;
		goto out;
	}
	rc = ATTEST_OK;
out:
	free(ct); /* ciphertext: not secret */
	return rc;
}

int signing_key_export(const struct signing_key *k, const struct kek *kek, uint8_t **blob, size_t *len,
		       struct attest_err *err)
{
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	unsigned char *pk = NULL, *cert = NULL;
	int pklen = 0, certlen;
	size_t pkcap = 0;
	size_t kidlen;
	struct buf b;
	int rc = ATTEST_E_INTERNAL;

	if (k == NULL || kek == NULL || blob == NULL || len == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "keys.blob", "signing_key_export: bad argument");
	buf_init(&b, BLOB_MAX);
	kidlen = strlen(k->kid);
	certlen = i2d_X509(k->cert, &cert);
	p8 = EVP_PKEY2PKCS8(k->pkey);
	/* the PKCS#8 plaintext in the secure heap (secmem.c), encoded in place */
	if (p8 != NULL && (pklen = i2d_PKCS8_PRIV_KEY_INFO(p8, NULL)) > 0 &&
	    (pk = OPENSSL_secure_malloc((size_t)pklen)) != NULL) {
		unsigned char *w = pk;

		pkcap = (size_t)pklen;
		if (i2d_PKCS8_PRIV_KEY_INFO(p8, &w) != pklen)
			pklen = 0;
	}
	if (certlen <= 0 || pklen <= 0 || pk == NULL)
		goto out;
	if (buf_append(&b, BLOB_MAGIC, 4) != 0 || buf_append_u8(&b, BLOB_VERSION) != 0 ||
	    buf_append_u8(&b, (uint8_t)kidlen) != 0 || buf_append(&b, k->kid, kidlen) != 0 ||
	    put_be(&b, (uint64_t)k->created, 8) != 0 || put_be(&b, (uint64_t)k->retire_at, 8) != 0 ||
	    put_be(&b, (uint64_t)signing_key_last_exp(k), 8) != 0 || put_be(&b, (uint64_t)certlen, 4) != 0 ||
	    buf_append(&b, cert, (size_t)certlen) != 0) {
		rc = ATTEST_E_NOMEM;
		goto out;
	}
	rc = seal(&b, kek, pk, (size_t)pklen);
out:
	if (pk != NULL)
		OPENSSL_secure_clear_free(pk, pkcap);
	PKCS8_PRIV_KEY_INFO_free(p8);
	OPENSSL_free(cert);
	ERR_clear_error();
	if (rc != ATTEST_OK) {
		buf_free(&b);
		return attest_err_set(err, rc, "keys.blob", "cannot seal the signing key");
	}
	*blob = buf_steal(&b, len);
	return ATTEST_OK;
}

/* The clear fields of a blob, pointing into it. */
struct blob_view {
	const uint8_t *kid, *cert, *nonce, *ct, *tag;
	size_t kid_len, cert_len, ct_len, aad_len;
	uint64_t created, retire_at, last_exp;
};

static int blob_err(struct attest_err *err, const char *name, const char *what, size_t off)
{
	attest_err_set(err, ATTEST_E_PARSE, name, "signing key blob: %s", what);
	attest_err_where(err, "blob+%zu", off);
	return ATTEST_E_PARSE;
}

/* Validates the whole layout (sizes, version, no trailing bytes) before anything is used. */
static int blob_parse(const uint8_t *blob, size_t len, struct blob_view *v, struct attest_err *err)
{
	struct cur c;
	const uint8_t *magic;
	uint8_t version, kid_len;
	uint32_t cert_len, ct_len;

	memset(v, 0, sizeof(*v));
	cur_init(&c, blob, len);
	if (cur_take(&c, 4, &magic) != 0 || cur_u8(&c, &version) != 0)
		return blob_err(err, "keys.blob.truncated", "too short for its header", c.off);
	if (memcmp(magic, BLOB_MAGIC, 4) != 0)
		return blob_err(err, "keys.blob.magic", "does not start with \"ATKB\"", 0);
	if (version != BLOB_VERSION)
		return blob_err(err, "keys.blob.version", "unknown version", 4);
	if (cur_u8(&c, &kid_len) != 0 || kid_len == 0 || kid_len >= KEYS_KID_MAX ||
	    cur_take(&c, kid_len, &v->kid) != 0 || cur_u64be(&c, &v->created) != 0 ||
	    cur_u64be(&c, &v->retire_at) != 0 || cur_u64be(&c, &v->last_exp) != 0 ||
	    cur_u32be(&c, &cert_len) != 0 || cur_take(&c, cert_len, &v->cert) != 0)
		return blob_err(err, "keys.blob.truncated", "truncated in its clear part", c.off);
	v->kid_len = kid_len;
	v->cert_len = cert_len;
	v->aad_len = c.off;
	if (cur_take(&c, BLOB_NONCE_LEN, &v->nonce) != 0 || cur_u32be(&c, &ct_len) != 0 || ct_len == 0 ||
	    cur_take(&c, ct_len, &v->ct) != 0 || cur_take(&c, BLOB_TAG_LEN, &v->tag) != 0)
		return blob_err(err, "keys.blob.truncated", "truncated in its sealed part", c.off);
	v->ct_len = ct_len;
	if (!cur_empty(&c))
		return blob_err(err, "keys.blob.trailing", "trailing bytes after the tag", c.off);
	return ATTEST_OK;
}

/* Decrypts and authenticates into the secure heap; *pt (ct_len bytes) is freed by the caller with
 * OPENSSL_secure_clear_free. */
static int blob_open(const uint8_t *blob, const struct blob_view *v, const struct kek *kek, uint8_t **pt,
		     struct attest_err *err)
{
	uint8_t *out = OPENSSL_secure_malloc(v->ct_len + 16);

	if (out == NULL ||
	    aead_open(kek->k, v->nonce, blob, v->aad_len, v->ct, v->ct_len, out, v->tag) != 0) {
		if (out != NULL)
			OPENSSL_secure_clear_free(out, v->ct_len + 16);
		return attest_err_set(
		    err, ATTEST_E_VERIFY, "keys.blob.decrypt",
		    "signing key blob does not authenticate under this KEK (wrong KEK or altered blob)");
	}
	*pt = out;
	return ATTEST_OK;
}

/* Rebuilds the key from an authenticated blob view and its plaintext. */
static int blob_key(const struct blob_view *v, const uint8_t *pt, const struct signing_key_opts *opts,
		    struct signing_key *k, struct attest_err *err)
{
	const unsigned char *p = pt;
	PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)v->ct_len);
	struct attest_err inner;
	int rc;

	if (p8 != NULL)
		k->pkey = EVP_PKCS82PKEY(p8);
	PKCS8_PRIV_KEY_INFO_free(p8);
	attest_err_clear(&inner);
	if (k->pkey == NULL || (size_t)(p - pt) != v->ct_len)
		return attest_err_set(err, ATTEST_E_PARSE, "keys.blob.key",
				      "sealed private key is not PKCS#8");
	if (x509_from_der(v->cert, v->cert_len, &k->cert, "keys.blob.key", err) != ATTEST_OK)
		return ATTEST_E_PARSE;
	if (X509_check_private_key(k->cert, k->pkey) != 1)
		return attest_err_set(err, ATTEST_E_VERIFY, "keys.blob.key",
				      "sealed private key does not match the blob's certificate");
	k->created = (int64_t)v->created;
	k->retire_at = (int64_t)v->retire_at;
	atomic_store(&k->last_exp, (int64_t)v->last_exp);
	rc = key_finish(k, opts, &inner);
	if (rc != ATTEST_OK)
		return attest_err_set(err, rc, "keys.blob.key", "%s", inner.msg);
	if (strlen(k->kid) != v->kid_len || memcmp(k->kid, v->kid, v->kid_len) != 0)
		return attest_err_set(err, ATTEST_E_VERIFY, "keys.blob.kid",
				      "blob kid does not match its key");
	return ATTEST_OK;
}

int signing_key_import(const uint8_t *blob, size_t len, const struct kek *kek,
		       const struct signing_key_opts *opts, struct signing_key **out, struct attest_err *err)
{
	static const struct signing_key_opts none = {0};
	struct blob_view v;
	struct signing_key *k = NULL;
	uint8_t *pt = NULL;
	int rc;

	if (blob == NULL || kek == NULL || out == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "keys.blob", "signing_key_import: bad argument");
	rc = blob_parse(blob, len, &v, err);
	if (rc == ATTEST_OK)
		rc = blob_open(blob, &v, kek, &pt, err);
	if (rc != ATTEST_OK)
		return rc;
	k = key_alloc();
	if (k == NULL)
		rc = attest_err_set(err, ATTEST_E_NOMEM, "keys.blob", "out of memory");
	else
		rc = blob_key(&v, pt, opts ? opts : &none, k, err);
	OPENSSL_secure_clear_free(pt, v.ct_len + 16);
	ERR_clear_error();
	if (rc != ATTEST_OK) {
		signing_key_free(k);
		return rc;
	}
	*out = k;
	return ATTEST_OK;
}
