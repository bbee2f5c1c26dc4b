/*
 * Verification contexts kept for one key (crypto.h, verify_pool_*). Making
 * an OpenSSL verification context and setting its padding costs about 4 us
 * per RSA check, more than the check's own arithmetic beyond the modular
 * exponentiation; a returning client's keys are cached, so their contexts
 * can be too. A context serves one thread at a time: a check takes an idle
 * one made with the same key and parameters (or makes one), hashes the
 * message, verifies the digest and gives the context back. The pool is
 * owned by whoever holds the key (the TPM key cache), never global.
 */
#include "crypto/crypto.h"

#include <openssl/err.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define VERIFY_POOL_IDLE 4 /* idle contexts kept: the threads checking one key at once, in practice */

struct pooled_ctx {
	EVP_PKEY_CTX *ctx;
	const EVP_MD *md;
	int pad, salt_len;
};

struct verify_pool {
	atomic_int refs;
	pthread_mutex_t mu;
	const EVP_PKEY *key; /* the key every context was made from (they hold its references) */
	size_t n;
	struct pooled_ctx idle[VERIFY_POOL_IDLE];
};

struct verify_pool *verify_pool_new(const EVP_PKEY *key)
{
	struct verify_pool *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	atomic_init(&p->refs, 1);
	pthread_mutex_init(&p->mu, NULL);
	p->key = key;
	return p;
}

struct verify_pool *verify_pool_ref(struct verify_pool *p)
{
	if (p != NULL)
		atomic_fetch_add(&p->refs, 1);
	return p;
}

void verify_pool_free(struct verify_pool *p)
{
	if (p == NULL || atomic_fetch_sub(&p->refs, 1) != 1)
		return;
	for (size_t i = 0; i < p->n; i++)
		EVP_PKEY_CTX_free(p->idle[i].ctx);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* An idle context made for these parameters, taken out of the pool; NULL when there is none. */
static EVP_PKEY_CTX *take(struct verify_pool *p, const EVP_MD *md, int pad, int salt_len)
{
	EVP_PKEY_CTX *ctx = NULL;

	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < p->n; i++) {
		if (p->idle[i].md == md && p->idle[i].pad == pad && p->idle[i].salt_len == salt_len) {
			ctx = p->idle[i].ctx;
			p->idle[i] = p->idle[--p->n];
			break;
		}
	}
	pthread_mutex_unlock(&p->mu);
	return ctx;
}

static void give_back(struct verify_pool *p, EVP_PKEY_CTX *ctx, const EVP_MD *md, int pad, int salt_len)
{
	pthread_mutex_lock(&p->mu);
	if (p->n < VERIFY_POOL_IDLE) {
		p->idle[p->n++] = (struct pooled_ctx){.ctx = ctx, .md = md, .pad = pad, .salt_len = salt_len};
		ctx = NULL;
	}
	pthread_mutex_unlock(&p->mu);
	EVP_PKEY_CTX_free(ctx);
}

/*
 * A context checking key's signatures over md digests with these
 * parameters: what EVP_DigestVerifyInit sets up, parameter for parameter
 * as in sig.c (the MGF1 digest set only for a key that is not plain RSA).
 */
static EVP_PKEY_CTX *make(EVP_PKEY *key, const EVP_MD *md, int pad, int salt_len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);

	if (ctx == NULL || EVP_PKEY_verify_init(ctx) != 1 || EVP_PKEY_CTX_set_rsa_padding(ctx, pad) != 1 ||
	    (pad == RSA_PKCS1_PSS_PADDING && EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA &&
	     EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) != 1) ||
	    (pad == RSA_PKCS1_PSS_PADDING && EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, salt_len) != 1) ||
	    EVP_PKEY_CTX_set_signature_md(ctx, md) != 1) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int verify_pool_rsa(struct verify_pool *p, EVP_PKEY *key, const EVP_MD *md, int pad, int salt_len,
		    const void *msg, size_t msglen, const uint8_t *sig, size_t siglen)
{
	uint8_t dg[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	EVP_PKEY_CTX *ctx;
	int ok;

	if (p == NULL || key == NULL || key != p->key || md == NULL || (msg == NULL && msglen > 0) ||
	    sig == NULL)
		return -1;
	if ((ctx = take(p, md, pad, salt_len)) == NULL && (ctx = make(key, md, pad, salt_len)) == NULL) {
		ERR_clear_error();
		return -1;
	}
	ok = EVP_Digest(msg ? msg : (const void *)"", msglen, dg, &dl, md, NULL) == 1 &&
	     EVP_PKEY_verify(ctx, sig, siglen, dg, dl) == 1;
	give_back(p, ctx, md, pad, salt_len);
	ERR_clear_error();
	return ok ? 1 : 0;
}
