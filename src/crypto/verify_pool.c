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
	EVP_MD_CTX *mdc; /* the message's digest, kept too (re-initialised per check) */
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
	for (size_t i = 0; i < p->n; i++) {
		EVP_PKEY_CTX_free(p->idle[i].ctx);
		EVP_MD_CTX_free(p->idle[i].mdc);
	}
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* An idle context made for these parameters, taken out of the pool (ctx NULL when there is none). */
static struct pooled_ctx take(struct verify_pool *p, const EVP_MD *md, int pad, int salt_len)
{
	struct pooled_ctx c = {0};

	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < p->n; i++) {
		if (p->idle[i].md == md && p->idle[i].pad == pad && p->idle[i].salt_len == salt_len) {
			c = p->idle[i];
			p->idle[i] = p->idle[--p->n];
			break;
		}
	}
	pthread_mutex_unlock(&p->mu);
	return c;
}

static void pooled_free(struct pooled_ctx *c)
{
	EVP_PKEY_CTX_free(c->ctx);
	EVP_MD_CTX_free(c->mdc);
	c->ctx = NULL;
	c->mdc = NULL;
}

static void give_back(struct verify_pool *p, struct pooled_ctx *c)
{
	pthread_mutex_lock(&p->mu);
	if (p->n < VERIFY_POOL_IDLE) {
		p->idle[p->n++] = *c;
		c->ctx = NULL;
		c->mdc = NULL;
	}
	pthread_mutex_unlock(&p->mu);
	pooled_free(c);
}

/*
 * A context checking key's signatures over md digests with these
 * parameters: what EVP_DigestVerifyInit sets up, parameter for parameter
 * as in sig.c (the MGF1 digest set only for a key that is not plain RSA),
 * and a digest context for the message. 0, or -1 with c freed.
 */
static int make(EVP_PKEY *key, const EVP_MD *md, int pad, int salt_len, struct pooled_ctx *c)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);

	*c = (struct pooled_ctx){
	    .ctx = ctx, .mdc = EVP_MD_CTX_new(), .md = md, .pad = pad, .salt_len = salt_len};
	if (ctx == NULL || c->mdc == NULL || EVP_PKEY_verify_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, pad) != 1 ||
	    (pad == RSA_PKCS1_PSS_PADDING && EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA &&
	     EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) != 1) ||
	    (pad == RSA_PKCS1_PSS_PADDING && EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, salt_len) != 1) ||
	    EVP_PKEY_CTX_set_signature_md(ctx, md) != 1) {
		pooled_free(c);
		return -1;
	}
	return 0;
}

int verify_pool_rsa(struct verify_pool *p, EVP_PKEY *key, const EVP_MD *md, int pad, int salt_len,
		    const void *msg, size_t msglen, const uint8_t *sig, size_t siglen)
{
	uint8_t dg[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	struct pooled_ctx c;
	bool ok;

	if (p == NULL || key == NULL || key != p->key || md == NULL || (msg == NULL && msglen > 0) ||
	    sig == NULL)
		return -1;
	c = take(p, md, pad, salt_len);
	if (c.ctx == NULL && make(key, md, pad, salt_len, &c) != 0) {
		ERR_clear_error();
		return -1;
	}
	ok = EVP_DigestInit_ex(c.mdc, md, NULL) == 1 &&
	     EVP_DigestUpdate(c.mdc, msg ? msg : "", msglen) == 1 &&
	     EVP_DigestFinal_ex(c.mdc, dg, &dl) == 1 && EVP_PKEY_verify(c.ctx, sig, siglen, dg, dl) == 1;
	give_back(p, &c);
	/* A refusal leaves its reasons queued; an acceptance, none (test_verify_pool). */
	if (!ok)
		ERR_clear_error();
	return ok ? 1 : 0;
}
