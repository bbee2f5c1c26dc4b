/*
 * The TPM protocol's sealed service context (tpm_protocol.h) and the keys
 * that seal it.
 *
 * Why epochs. A context is sealed with AES-256-GCM and a random 96-bit IV.
 * NIST SP 800-38D §8.3 allows at most 2^32 random-IV invocations of one
 * key (the chance of two equal IVs must stay below 2^-32; an equal pair
 * reveals GHASH's key H and so allows forged contexts), and anyone may ask
 * for contexts. The service's stored key is therefore never a GCM key: it
 * is the master key of HKDF-SHA256 (RFC 5869), and each process seals
 * under an epoch subkey derived from it and a fresh random 16-byte epoch
 * id, which the context carries in clear (authenticated). A process moves
 * to a new random epoch after TPM_CONTEXT_SEALS_PER_EPOCH seals, and every
 * start is a new epoch, so no subkey comes near the bound whatever the
 * number of nodes, restarts or contexts. Any node holding the master key
 * opens any node's context: it derives the epoch's subkey once and keeps it
 * in a small cache. IVs stay random within an epoch rather than counted:
 * a process that forks carries its epoch into both children, whose random
 * IVs stay apart (each counts its own share of seals) where counters
 * would repeat.
 *
 * Sharing. One struct tpm_context_keys serves every worker thread. Its
 * mutex guards the current epoch, its seal count and the cache; the
 * crypto runs outside it, on an epoch key held by a reference (an epoch
 * evicted from the cache while a thread uses it is freed by the last
 * holder). Each epoch key is a crypto/aead.c key, whose kept cipher
 * contexts are themselves safe for concurrent use.
 */
#include "evidence/tpm_protocol.h"

#include "base/codec.h"
#include "base/cur.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* ---- format --------------------------------------------------------------- */

/*
 * Version 2 (this file seals it):
 *   magic 'TPC2' (4) || epoch id (16) || IV (12) || ciphertext || tag (16)
 * with magic || epoch id as GCM's additional data. The plaintext is
 *   version 2 (1) || provider length (1) || provider (<= 63) || id (16) ||
 *   issued (u64 BE) || expiry (u64 BE) || challenge length (1) ||
 *   challenge (<= 32).
 * The provider is the name of the provider (tenant) whose init issued the
 * context, so a context is redeemed only where it was issued: it travels
 * inside the ciphertext (the tag covers it; nobody but the service reads
 * it), and a mismatch is told apart from an altered context
 * (tpm.context.provider, not tpm.context.auth). The provider joined the
 * plaintext before TPC2 was ever released, so the magic and the inner
 * version stayed.
 * Version 1 ('TPC1': magic || IV || ciphertext || tag under the master key
 * itself) is refused, see tpm_context_open.
 */
static const uint8_t CONTEXT_MAGIC[4] = {'T', 'P', 'C', '2'};
static const uint8_t CONTEXT_MAGIC_V1[4] = {'T', 'P', 'C', '1'};
#define CONTEXT_VERSION	   2
#define CONTEXT_EPOCH_OFF  4
#define CONTEXT_IV_OFF	   (CONTEXT_EPOCH_OFF + TPM_CONTEXT_EPOCH_LEN)
#define CONTEXT_TEXT_OFF   (CONTEXT_IV_OFF + AEAD_IV_LEN)
#define CONTEXT_AAD_LEN	   CONTEXT_IV_OFF /* magic || epoch id */
#define CONTEXT_OVERHEAD   (CONTEXT_TEXT_OFF + AEAD_TAG_LEN)
#define CONTEXT_PLAIN_MAX                                                                                    \
	(1 + 1 + TPM_CONTEXT_PROVIDER_MAX + TPM_PROTO_ID_LEN + 8 + 8 + 1 + TPM_PROTO_CHALLENGE_LEN)
#define CONTEXT_SEALED_MAX (CONTEXT_OVERHEAD + CONTEXT_PLAIN_MAX)

/* The bound stays far below SP 800-38D §8.3's 2^32 random IVs per key (tpm_protocol.h derives it). */
_Static_assert(TPM_CONTEXT_SEALS_PER_EPOCH >= 1 && TPM_CONTEXT_SEALS_PER_EPOCH <= (UINT64_C(1) << 28),
	       "an epoch key may seal at most 2^28 contexts (IV collision chance <= 2^-41)");

/* HKDF info prefix: what the subkey is for, and the format it seals (RFC 5869 §3.2). */
static const char EPOCH_LABEL[] = "attestd tpm context v2";

/* ---- epoch keys ------------------------------------------------------------ */

struct epoch_key {
	uint8_t id[TPM_CONTEXT_EPOCH_LEN];
	struct aead_key *key;
	atomic_uint refs; /* one for the cache while it holds the epoch, one per thread using it */
	uint64_t used;	  /* when last found (the keyring's clock), for eviction */
};

struct tpm_context_keys {
	pthread_mutex_t mu;
	EVP_KDF *hkdf; /* fetched once; shared read-only by the threads deriving */
	uint8_t master[TPM_PROTO_KEY_LEN];
	uint64_t seals_per_epoch;
	size_t capacity; /* epochs kept at most, the current one included */
	/* under mu: */
	struct epoch_key *current; /* seals; always in cache[], never evicted while current */
	uint64_t sealed;	   /* seals under current */
	uint64_t clock, rotations;
	size_t n;
	struct epoch_key **cache;
	atomic_uint_fast64_t derived; /* subkey derivations, for stats */
};

/*
 * subkey = HKDF-SHA256(IKM = master, no salt, info = label || epoch id)
 * (RFC 5869): the master is already a uniform key, so extraction needs no
 * salt (§3.1); the epoch id in info makes each epoch's key an independent
 * PRF output (§3.2). -1 when OpenSSL fails (out is then zeroed).
 */
static int hkdf_epoch(EVP_KDF *kdf, const uint8_t master[TPM_PROTO_KEY_LEN],
		      const uint8_t epoch[TPM_CONTEXT_EPOCH_LEN], uint8_t out[AEAD_KEY_LEN])
{
	EVP_KDF_CTX *kc = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
	uint8_t info[sizeof(EPOCH_LABEL) - 1 + TPM_CONTEXT_EPOCH_LEN];
	OSSL_PARAM params[4];
	int ok;

	memcpy(info, EPOCH_LABEL, sizeof(EPOCH_LABEL) - 1);
	memcpy(info + sizeof(EPOCH_LABEL) - 1, epoch, TPM_CONTEXT_EPOCH_LEN);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)master, TPM_PROTO_KEY_LEN);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, sizeof(info));
	params[3] = OSSL_PARAM_construct_end();
	ok = kc != NULL && EVP_KDF_derive(kc, out, AEAD_KEY_LEN, params) == 1;
	EVP_KDF_CTX_free(kc);
	if (!ok) {
		ERR_clear_error();
		OPENSSL_cleanse(out, AEAD_KEY_LEN);
	}
	return ok ? 0 : -1;
}

int tpm_context_epoch_key(const uint8_t master[TPM_PROTO_KEY_LEN], const uint8_t epoch[TPM_CONTEXT_EPOCH_LEN],
			  uint8_t out[AEAD_KEY_LEN])
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	int rc = hkdf_epoch(kdf, master, epoch, out);

	EVP_KDF_free(kdf);
	return rc;
}

/* A new epoch key for id, held once (by the caller); NULL when it cannot be derived. */
static struct epoch_key *epoch_new(struct tpm_context_keys *k, const uint8_t id[TPM_CONTEXT_EPOCH_LEN])
{
	struct epoch_key *e = calloc(1, sizeof(*e));
	uint8_t sub[AEAD_KEY_LEN];
	bool ok;

	atomic_fetch_add(&k->derived, 1);
	ok =
	    e != NULL && hkdf_epoch(k->hkdf, k->master, id, sub) == 0 && (e->key = aead_key_new(sub)) != NULL;
	OPENSSL_cleanse(sub, sizeof(sub));
	if (!ok) {
		free(e);
		return NULL;
	}
	memcpy(e->id, id, TPM_CONTEXT_EPOCH_LEN);
	atomic_init(&e->refs, 1);
	return e;
}

/* Drops one hold; the last frees the epoch (its aead key cleanses its bytes). */
static void epoch_put(struct epoch_key *e)
{
	if (e != NULL && atomic_fetch_sub(&e->refs, 1) == 1) {
		aead_key_free(e->key);
		free(e);
	}
}

/* The cached epoch id with one more hold for the caller, or NULL. Under mu. */
static struct epoch_key *cache_find(struct tpm_context_keys *k, const uint8_t id[TPM_CONTEXT_EPOCH_LEN])
{
	struct epoch_key *e = NULL;

	/* The common case first: a context this process sealed in its current epoch. */
	if (memcmp(k->current->id, id, TPM_CONTEXT_EPOCH_LEN) == 0)
		e = k->current;
	for (size_t i = 0; e == NULL && i < k->n; i++)
		if (memcmp(k->cache[i]->id, id, TPM_CONTEXT_EPOCH_LEN) == 0)
			e = k->cache[i];
	if (e != NULL) {
		atomic_fetch_add(&e->refs, 1);
		e->used = ++k->clock;
	}
	return e;
}

/*
 * Adds e, taking over one hold of the caller's. When full, the epoch found
 * least recently goes, never the current one (capacity >= 2). Under mu.
 */
static void cache_add(struct tpm_context_keys *k, struct epoch_key *e)
{
	if (k->n == k->capacity) {
		size_t victim = k->n;

		for (size_t i = 0; i < k->n; i++)
			if (k->cache[i] != k->current &&
			    (victim == k->n || k->cache[i]->used < k->cache[victim]->used))
				victim = i;
		epoch_put(k->cache[victim]);
		k->cache[victim] = k->cache[--k->n];
	}
	e->used = ++k->clock;
	k->cache[k->n++] = e;
}

/* Starts a new random epoch: the next seals use it. Under mu. */
static int rotate(struct tpm_context_keys *k)
{
	uint8_t id[TPM_CONTEXT_EPOCH_LEN];
	struct epoch_key *e;

	if (RAND_bytes(id, sizeof(id)) != 1 || (e = epoch_new(k, id)) == NULL) {
		ERR_clear_error();
		return -1;
	}
	cache_add(k,
		  e); /* the cache takes our hold; the old current, pinned during the add, is now ordinary */
	k->current = e;
	k->sealed = 0;
	k->rotations++;
	return 0;
}

struct tpm_context_keys *tpm_context_keys_new_bounded(const uint8_t master[TPM_PROTO_KEY_LEN],
						      uint64_t seals_per_epoch, size_t epochs_kept)
{
	struct tpm_context_keys *k;

	if (master == NULL || seals_per_epoch == 0 || epochs_kept < 2 || epochs_kept > 1024)
		return NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	if ((k->cache = calloc(epochs_kept, sizeof(struct epoch_key *))) == NULL ||
	    pthread_mutex_init(&k->mu, NULL) != 0) {
		free(k->cache);
		free(k);
		return NULL;
	}
	memcpy(k->master, master, sizeof(k->master));
	k->seals_per_epoch = seals_per_epoch;
	k->capacity = epochs_kept;
	atomic_init(&k->derived, 0);
	/* The first epoch now, so a keyring that exists can seal. */
	if ((k->hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL || rotate(k) != 0) {
		ERR_clear_error();
		tpm_context_keys_free(k);
		return NULL;
	}
	return k;
}

struct tpm_context_keys *tpm_context_keys_new(const uint8_t master[TPM_PROTO_KEY_LEN])
{
	return tpm_context_keys_new_bounded(master, TPM_CONTEXT_SEALS_PER_EPOCH, TPM_CONTEXT_EPOCHS_KEPT);
}

void tpm_context_keys_free(struct tpm_context_keys *k)
{
	if (k == NULL)
		return;
	for (size_t i = 0; i < k->n; i++)
		epoch_put(k->cache[i]);
	free(k->cache);
	EVP_KDF_free(k->hkdf);
	pthread_mutex_destroy(&k->mu);
	OPENSSL_cleanse(k->master, sizeof(k->master));
	free(k);
}

void tpm_context_keys_stats(struct tpm_context_keys *k, struct tpm_context_keys_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&k->mu);
	out->epochs_kept = k->n;
	out->rotations = k->rotations;
	out->sealed = k->sealed;
	memcpy(out->epoch, k->current->id, TPM_CONTEXT_EPOCH_LEN);
	pthread_mutex_unlock(&k->mu);
	out->derived = atomic_load(&k->derived);
}

/* ---- sealing ------------------------------------------------------------------ */

static void put_u64be(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* The current epoch, held and counted as one seal; first a new one
 * when the current one has sealed its share. */
static struct epoch_key *epoch_for_seal(struct tpm_context_keys *k)
{
	struct epoch_key *e = NULL;

	pthread_mutex_lock(&k->mu);
	if (k->sealed < k->seals_per_epoch || rotate(k) == 0) {
		e = k->current;
		k->sealed++;
		atomic_fetch_add(&e->refs, 1);
	}
	pthread_mutex_unlock(&k->mu);
	return e;
}

int tpm_context_seal(struct tpm_context_keys *keys, const char *provider, const uint8_t id[TPM_PROTO_ID_LEN],
		     int64_t issued, int64_t expiry, const uint8_t *challenge, size_t challenge_len,
		     char **ctx_b64, struct attest_err *err)
{
	uint8_t plain[CONTEXT_PLAIN_MAX], sealed[CONTEXT_SEALED_MAX];
	size_t pl = 0, provider_len = provider != NULL ? strnlen(provider, TPM_CONTEXT_PROVIDER_MAX + 1) : 0;
	struct epoch_key *e;
	int rc;
	char *s;

	if (keys == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "tpm.context.seal", "no service key");
	if (challenge_len > TPM_PROTO_CHALLENGE_LEN)
		return attest_err_set(err, ATTEST_E_INVALID, "tpm.context.seal", "challenge too long");
	if (provider == NULL || provider_len > TPM_CONTEXT_PROVIDER_MAX)
		return attest_err_set(err, ATTEST_E_INVALID, "tpm.context.seal",
				      "the provider name is missing or longer than %d bytes",
				      TPM_CONTEXT_PROVIDER_MAX);
	if ((e = epoch_for_seal(keys)) == NULL)
		return attest_err_set(err, ATTEST_E_INTERNAL, "tpm.context.seal",
				      "a new key epoch could not be derived");
	plain[pl++] = CONTEXT_VERSION;
	plain[pl++] = (uint8_t)provider_len;
	memcpy(plain + pl, provider, provider_len);
	pl += provider_len;
	memcpy(plain + pl, id, TPM_PROTO_ID_LEN);
	pl += TPM_PROTO_ID_LEN;
	put_u64be(plain + pl, (uint64_t)issued);
	pl += 8;
	put_u64be(plain + pl, (uint64_t)expiry);
	pl += 8;
	plain[pl++] = (uint8_t)challenge_len;
	memcpy(plain + pl, challenge, challenge_len);
	pl += challenge_len;
	memcpy(sealed, CONTEXT_MAGIC, sizeof(CONTEXT_MAGIC));
	memcpy(sealed + CONTEXT_EPOCH_OFF, e->id, TPM_CONTEXT_EPOCH_LEN);
	rc = RAND_bytes(sealed + CONTEXT_IV_OFF, AEAD_IV_LEN) == 1 &&
		     aead_key_seal(e->key, sealed + CONTEXT_IV_OFF, sealed, CONTEXT_AAD_LEN, plain, pl,
				   sealed + CONTEXT_TEXT_OFF, sealed + CONTEXT_TEXT_OFF + pl) == 0
		 ? 0
		 : -1;
	epoch_put(e);
	OPENSSL_cleanse(plain, sizeof(plain));
	if (rc != 0) {
		ERR_clear_error();
		return attest_err_set(err, ATTEST_E_INTERNAL, "tpm.context.seal", "sealing failed");
	}
	if ((s = b64url_encode(sealed, CONTEXT_OVERHEAD + pl)) == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "tpm.context.seal", "out of memory");
	*ctx_b64 = s;
	return ATTEST_OK;
}

/* ---- opening ------------------------------------------------------------------ */

/*
 * The plaintext's fields into c; the provider's name stays in plain
 * (*provider, *provider_len point into it).
 */
static int context_decode(const uint8_t *plain, size_t pl, struct tpm_context *c, const uint8_t **provider,
			  size_t *provider_len, struct attest_err *err)
{
	struct cur k;
	uint8_t version, clen, plen;
	uint64_t issued, expiry;

	cur_init(&k, plain, pl);
	if (cur_u8(&k, &version) || version != CONTEXT_VERSION)
		return attest_err_set(err, ATTEST_E_VERIFY, "tpm.context.version",
				      "service_context has an unknown version");
	if (cur_u8(&k, &plen) || plen > TPM_CONTEXT_PROVIDER_MAX || cur_take(&k, plen, provider) ||
	    cur_copy(&k, c->id, TPM_PROTO_ID_LEN) || cur_u64be(&k, &issued) || cur_u64be(&k, &expiry) ||
	    cur_u8(&k, &clen) || clen > TPM_PROTO_CHALLENGE_LEN || cur_copy(&k, c->challenge, clen) ||
	    !cur_empty(&k))
		return attest_err_set(err, ATTEST_E_VERIFY, "tpm.context.encoding",
				      "service_context content is malformed");
	*provider_len = plen;
	c->issued = (int64_t)issued;
	c->expiry = (int64_t)expiry;
	c->challenge_len = clen;
	return ATTEST_OK;
}

/* The context was issued by the provider it is redeemed at (names compared exactly, as routed). */
static int context_provider_check(const uint8_t *issuer, size_t issuer_len, const char *provider,
				  struct attest_err *err)
{
	size_t n = strnlen(provider, TPM_CONTEXT_PROVIDER_MAX + 1);

	if (n != issuer_len || memcmp(issuer, provider, n) != 0)
		return attest_err_set(
		    err, ATTEST_E_VERIFY, "tpm.context.provider",
		    "service_context was issued by another provider's init; a context is redeemed "
		    "only at the provider that issued it: start again with an init message there");
	return ATTEST_OK;
}

/* base64url text (with or without "=" padding) into raw; the errors of tpm_context_open. */
static int context_unwrap(const char *ctx_b64, size_t ctx_len, uint8_t *raw, size_t cap, size_t *n,
			  struct attest_err *err)
{
	size_t data_len = ctx_len; /* its characters without "=" padding */

	while (ctx_b64 != NULL && data_len > 0 && ctx_len - data_len < 2 && ctx_b64[data_len - 1] == '=')
		data_len--;
	/* Decoded on the stack: a context that does not fit was not issued here. */
	if (ctx_b64 != NULL && data_len > (cap - 3) / 3 * 4 + 3)
		return attest_err_set(err, ATTEST_E_VERIFY, "tpm.context.encoding",
				      "service_context was not issued by this service (too long)");
	if (ctx_b64 == NULL || b64_decode_to(ctx_b64, ctx_len, raw, cap, n) != 0)
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.context.encoding",
				      "service_context is not base64url");
	if (*n >= sizeof(CONTEXT_MAGIC_V1) && memcmp(raw, CONTEXT_MAGIC_V1, sizeof(CONTEXT_MAGIC_V1)) == 0)
		return attest_err_set(err, ATTEST_E_VERIFY, "tpm.context.version",
				      "service_context is a version 1 context (sealed before this service's "
				      "upgrade), no longer accepted; start again with an init message");
	if (*n < CONTEXT_OVERHEAD || *n - CONTEXT_OVERHEAD > CONTEXT_PLAIN_MAX ||
	    memcmp(raw, CONTEXT_MAGIC, sizeof(CONTEXT_MAGIC)) != 0)
		return attest_err_set(err, ATTEST_E_VERIFY, "tpm.context.encoding",
				      "service_context was not issued by this service");
	return ATTEST_OK;
}

/*
 * Opens raw (n bytes, its layout checked) into plain under its epoch's
 * key: a cached one, or one derived now (*fresh), which the caller keeps
 * (epoch_keep) only once the whole context proved good, so neither
 * made-up epoch ids nor expired contexts of old epochs ever displace a
 * live epoch from the cache (they cost a derivation each). *held is the
 * epoch, held for the caller, on success.
 */
static int context_unseal(struct tpm_context_keys *k, const uint8_t *raw, size_t n, uint8_t *plain,
			  struct epoch_key **held, bool *fresh, struct attest_err *err)
{
	struct epoch_key *e;

	pthread_mutex_lock(&k->mu);
	e = cache_find(k, raw + CONTEXT_EPOCH_OFF);
	pthread_mutex_unlock(&k->mu);
	*fresh = e == NULL;
	if (e == NULL && (e = epoch_new(k, raw + CONTEXT_EPOCH_OFF)) == NULL) {
		attest_err_set(err, ATTEST_E_INTERNAL, "tpm.context.derive",
			       "the key of the service_context's epoch could not be derived");
		return ATTEST_E_INTERNAL;
	}
	/* The GCM tag authenticates everything: nothing is read before it checks. */
	if (aead_key_open(e->key, raw + CONTEXT_IV_OFF, raw, CONTEXT_AAD_LEN, raw + CONTEXT_TEXT_OFF,
			  n - CONTEXT_OVERHEAD, plain, raw + n - AEAD_TAG_LEN) != 0) {
		epoch_put(e);
		attest_err_set(err, ATTEST_E_VERIFY, "tpm.context.auth",
			       "service_context does not authenticate under the service key");
		return ATTEST_E_VERIFY;
	}
	*held = e;
	return ATTEST_OK;
}

/* Keeps a freshly derived epoch key in the cache, unless another thread kept its epoch meanwhile. */
static void epoch_keep(struct tpm_context_keys *k, struct epoch_key *e)
{
	struct epoch_key *kept;

	pthread_mutex_lock(&k->mu);
	if ((kept = cache_find(k, e->id)) == NULL) {
		atomic_fetch_add(&e->refs, 1); /* the cache's own hold, beside the caller's */
		cache_add(k, e);
	}
	pthread_mutex_unlock(&k->mu);
	epoch_put(kept);
}

int tpm_context_open(struct tpm_context_keys *keys, const char *provider, const char *ctx_b64, size_t ctx_len,
		     int64_t now, struct tpm_context *out, struct attest_err *err)
{
	uint8_t raw[CONTEXT_SEALED_MAX + 3], plain[CONTEXT_PLAIN_MAX];
	const uint8_t *issuer = NULL;
	struct epoch_key *e = NULL;
	size_t n = 0, issuer_len = 0;
	struct tpm_context c;
	bool fresh = false;
	int rc;

	if (keys == NULL || provider == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "tpm.proto.config",
				      keys == NULL ? "no service key"
						   : "no provider to redeem the context at");
	memset(&c, 0, sizeof(c));
	if ((rc = context_unwrap(ctx_b64, ctx_len, raw, sizeof(raw), &n, err)) != ATTEST_OK ||
	    (rc = context_unseal(keys, raw, n, plain, &e, &fresh, err)) != ATTEST_OK)
		return rc;
	rc = context_decode(plain, n - CONTEXT_OVERHEAD, &c, &issuer, &issuer_len, err);
	if (rc == ATTEST_OK)
		rc = context_provider_check(issuer, issuer_len, provider, err);
	OPENSSL_cleanse(plain, sizeof(plain));
	if (rc == ATTEST_OK && now >= c.expiry)
		rc = attest_err_set(err, ATTEST_E_VERIFY, "tpm.context.expired",
				    "the challenge expired %lld s ago; start again with an init message",
				    (long long)(now - c.expiry));
	if (rc == ATTEST_OK && fresh)
		epoch_keep(keys, e);
	epoch_put(e);
	if (rc != ATTEST_OK)
		return rc;
	*out = c;
	return ATTEST_OK;
}
