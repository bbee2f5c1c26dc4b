/*
 * AES-256-GCM (crypto.h, aead_*), NIST SP 800-38D with 96-bit IVs and
 * 128-bit tags, over OpenSSL's EVP interface.
 *
 * A key that seals and opens many small messages (the TPM protocol's
 * service contexts, one per request) keeps its keyed cipher contexts:
 * making a context, fetching the cipher and expanding the key cost about
 * twice the cipher's own work on a 100-byte message. A kept context is
 * re-armed with only a fresh IV (EVP_CipherInit_ex with no cipher and no
 * key keeps the key schedule). A context serves one thread at a time; the
 * key holds up to AEAD_KEY_IDLE idle ones.
 */
#include "crypto/crypto.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define AEAD_KEY_IDLE 4 /* idle contexts kept: the threads sealing or opening at once, in practice */

struct aead_key {
	pthread_mutex_t mu;
	EVP_CIPHER *cipher;	   /* fetched once: EVP_aes_256_gcm() would fetch it again on every init */
	uint8_t key[AEAD_KEY_LEN]; /* to key a new context when none is idle; cleansed on free */
	size_t n;
	EVP_CIPHER_CTX *idle[AEAD_KEY_IDLE];
};

struct aead_key *aead_key_new(const uint8_t key[AEAD_KEY_LEN])
{
	struct aead_key *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return NULL;
	if ((k->cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL)) == NULL) {
		free(k);
		ERR_clear_error();
		return NULL;
	}
	pthread_mutex_init(&k->mu, NULL);
	memcpy(k->key, key, AEAD_KEY_LEN);
	return k;
}

void aead_key_free(struct aead_key *k)
{
	if (k == NULL)
		return;
	for (size_t i = 0; i < k->n; i++)
		EVP_CIPHER_CTX_free(k->idle[i]);
	EVP_CIPHER_free(k->cipher);
	pthread_mutex_destroy(&k->mu);
	OPENSSL_cleanse(k->key, sizeof(k->key));
	free(k);
}

/* An idle keyed context, or a new one keyed now; NULL when OpenSSL cannot make one. */
static EVP_CIPHER_CTX *take(struct aead_key *k)
{
	EVP_CIPHER_CTX *c = NULL;

	pthread_mutex_lock(&k->mu);
	if (k->n > 0)
		c = k->idle[--k->n];
	pthread_mutex_unlock(&k->mu);
	if (c != NULL)
		return c;
	if ((c = EVP_CIPHER_CTX_new()) != NULL && EVP_CipherInit_ex(c, k->cipher, NULL, k->key, NULL, 1) == 1)
		return c;
	EVP_CIPHER_CTX_free(c);
	return NULL;
}

static void give_back(struct aead_key *k, EVP_CIPHER_CTX *c)
{
	pthread_mutex_lock(&k->mu);
	if (k->n < AEAD_KEY_IDLE) {
		k->idle[k->n++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&k->mu);
	EVP_CIPHER_CTX_free(c);
}

/*
 * One message through a keyed context: enc seals in into out and writes
 * the tag; !enc opens in into out and checks tag. A context whose
 * message failed is re-armed like any other by the next IV (every init
 * resets the GHASH and counter state), so it goes back to the pool.
 */
static bool run(EVP_CIPHER_CTX *c, int enc, const uint8_t iv[AEAD_IV_LEN], const uint8_t *aad, size_t aad_len,
		const uint8_t *in, size_t n, uint8_t *out, uint8_t tag[AEAD_TAG_LEN])
{
	uint8_t none[1]; /* where Final writes nothing when there was no text */
	int len = 0, fin = 0;

	return EVP_CipherInit_ex(c, NULL, NULL, NULL, iv, enc) == 1 &&
	       (aad_len == 0 || EVP_CipherUpdate(c, NULL, &len, aad, (int)aad_len) == 1) &&
	       (n == 0 || EVP_CipherUpdate(c, out, &len, in, (int)n) == 1) &&
	       (enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, AEAD_TAG_LEN, tag) == 1) &&
	       EVP_CipherFinal_ex(c, n ? out + len : none, &fin) == 1 &&
	       (!enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, AEAD_TAG_LEN, tag) == 1);
}

static int aead_crypt(struct aead_key *k, int enc, const uint8_t iv[AEAD_IV_LEN], const uint8_t *aad,
		      size_t aad_len, const uint8_t *in, size_t n, uint8_t *out, uint8_t tag[AEAD_TAG_LEN])
{
	EVP_CIPHER_CTX *c;
	bool ok;

	if (k == NULL || iv == NULL || tag == NULL || n > INT_MAX || aad_len > INT_MAX ||
	    (aad == NULL && aad_len > 0) || ((in == NULL || out == NULL) && n > 0))
		return -1;
	if ((c = take(k)) == NULL) {
		ERR_clear_error();
		return -1;
	}
	ok = run(c, enc, iv, aad, aad_len, in, n, out, tag);
	give_back(k, c);
	if (!ok) {
		ERR_clear_error();
		if (!enc && n > 0)
			OPENSSL_cleanse(out, n); /* nothing unauthenticated is left for the caller */
	}
	return ok ? 0 : -1;
}

int aead_key_seal(struct aead_key *k, const uint8_t iv[AEAD_IV_LEN], const uint8_t *aad, size_t aad_len,
		  const uint8_t *in, size_t n, uint8_t *out, uint8_t tag[AEAD_TAG_LEN])
{
	return aead_crypt(k, 1, iv, aad, aad_len, in, n, out, tag);
}

int aead_key_open(struct aead_key *k, const uint8_t iv[AEAD_IV_LEN], const uint8_t *aad, size_t aad_len,
		  const uint8_t *in, size_t n, uint8_t *out, const uint8_t tag[AEAD_TAG_LEN])
{
	uint8_t t[AEAD_TAG_LEN];

	if (tag == NULL)
		return -1;
	memcpy(t, tag, sizeof(t)); /* EVP's SET_TAG takes a non-const pointer */
	return aead_crypt(k, 0, iv, aad, aad_len, in, n, out, t);
}

/* The one-shot forms: a key kept for one message. */
int aead_seal(const uint8_t key[AEAD_KEY_LEN], const uint8_t iv[AEAD_IV_LEN], const uint8_t *aad,
	      size_t aad_len, const uint8_t *in, size_t n, uint8_t *out, uint8_t tag[AEAD_TAG_LEN])
{
	struct aead_key *k = aead_key_new(key);
	int rc = aead_key_seal(k, iv, aad, aad_len, in, n, out, tag);

	aead_key_free(k);
	return rc;
}

int aead_open(const uint8_t key[AEAD_KEY_LEN], const uint8_t iv[AEAD_IV_LEN], const uint8_t *aad,
	      size_t aad_len, const uint8_t *in, size_t n, uint8_t *out, const uint8_t tag[AEAD_TAG_LEN])
{
	struct aead_key *k = aead_key_new(key);
	int rc = aead_key_open(k, iv, aad, aad_len, in, n, out, tag);

	aead_key_free(k);
	return rc;
}
