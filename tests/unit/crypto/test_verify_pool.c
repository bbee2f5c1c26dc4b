/*
 * Kept verification contexts (src/crypto/verify_pool.c): a pool verifies
 * exactly the signatures the ordinary path verifies, for each padding and
 * digest it is asked with, refuses what that path refuses, will not check
 * another key's signatures, and stays correct with threads sharing it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "attest/error.h"
#include "crypto/crypto.h"
#include "testpki.h"

#include <openssl/err.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const char MSG[] = "TPMS_ATTEST or a JWS signing input";

struct signed_msgs {
	EVP_PKEY *key;
	uint8_t pkcs1[256], pss[256], pss_sha1[256];
	size_t n_pkcs1, n_pss, n_pss_sha1;
};

static void sign(EVP_PKEY *key, const EVP_MD *md, int pad, uint8_t *sig, size_t *n)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;

	*n = 256;
	assert_int_equal(EVP_DigestSignInit(ctx, &pctx, md, NULL, key), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, pad), 1);
	if (pad == RSA_PKCS1_PSS_PADDING)
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, n, (const uint8_t *)MSG, sizeof(MSG)), 1);
	EVP_MD_CTX_free(ctx);
}

static void signed_msgs_init(struct signed_msgs *s)
{
	s->key = tp_key_rsa(2048);
	sign(s->key, EVP_sha256(), RSA_PKCS1_PADDING, s->pkcs1, &s->n_pkcs1);
	sign(s->key, EVP_sha256(), RSA_PKCS1_PSS_PADDING, s->pss, &s->n_pss);
	sign(s->key, EVP_sha1(), RSA_PKCS1_PSS_PADDING, s->pss_sha1, &s->n_pss_sha1);
}

static int check(struct verify_pool *p, EVP_PKEY *key, enum hash_alg alg, int pad, const uint8_t *sig,
		 size_t n)
{
	return verify_pool_rsa(p, key, hash_md(alg), pad, RSA_PSS_SALTLEN_AUTO, MSG, sizeof(MSG), sig, n);
}

/* Each padding and digest gets its own contexts: no signature verifies under another's parameters. */
static void a_pool_verifies_what_the_ordinary_path_verifies(void **state)
{
	struct signed_msgs s;
	struct verify_pool *p;
	uint8_t bad[256];

	(void)state;
	signed_msgs_init(&s);
	p = verify_pool_new(s.key);
	assert_non_null(p);
	for (int round = 0; round < 3; round++) { /* the second and third rounds reuse kept contexts */
		assert_int_equal(check(p, s.key, HASH_SHA256, RSA_PKCS1_PADDING, s.pkcs1, s.n_pkcs1), 1);
		assert_int_equal(check(p, s.key, HASH_SHA256, RSA_PKCS1_PSS_PADDING, s.pss, s.n_pss), 1);
		assert_int_equal(check(p, s.key, HASH_SHA1, RSA_PKCS1_PSS_PADDING, s.pss_sha1, s.n_pss_sha1),
				 1);
		assert_int_equal(check(p, s.key, HASH_SHA256, RSA_PKCS1_PSS_PADDING, s.pkcs1, s.n_pkcs1), 0);
		assert_int_equal(check(p, s.key, HASH_SHA256, RSA_PKCS1_PADDING, s.pss, s.n_pss), 0);
		assert_int_equal(
		    check(p, s.key, HASH_SHA256, RSA_PKCS1_PSS_PADDING, s.pss_sha1, s.n_pss_sha1), 0);
		assert_int_equal(check(p, s.key, HASH_SHA1, RSA_PKCS1_PSS_PADDING, s.pss, s.n_pss), 0);
		for (size_t i = 0; i < s.n_pss; i += 37) {
			memcpy(bad, s.pss, s.n_pss);
			bad[i] ^= 0x01;
			assert_int_equal(check(p, s.key, HASH_SHA256, RSA_PKCS1_PSS_PADDING, bad, s.n_pss),
					 0);
		}
		/* A refusal leaves no error queued for the thread's next OpenSSL call, nor does an
		 * acceptance. */
		assert_int_equal(ERR_peek_error(), 0);
		assert_int_equal(check(p, s.key, HASH_SHA256, RSA_PKCS1_PSS_PADDING, s.pss, s.n_pss), 1);
		assert_int_equal(ERR_peek_error(), 0);
		/* The ordinary path agrees on every verdict above. */
		assert_int_equal(
		    rsa_verify_pss(s.key, HASH_SHA256, MSG, sizeof(MSG), s.pss, s.n_pss, -2, "x", NULL),
		    ATTEST_OK);
		assert_int_not_equal(
		    rsa_verify_pss(s.key, HASH_SHA256, MSG, sizeof(MSG), s.pkcs1, s.n_pkcs1, -2, "x", NULL),
		    ATTEST_OK);
	}
	verify_pool_free(p);
	EVP_PKEY_free(s.key);
}

/* A pool made for one key does not check another key's signatures (-1: the caller's ordinary path does). */
static void a_pool_answers_only_for_its_own_key(void **state)
{
	struct signed_msgs s;
	EVP_PKEY *other = tp_key_rsa(2048);
	struct verify_pool *p;

	(void)state;
	signed_msgs_init(&s);
	p = verify_pool_new(s.key);
	assert_int_equal(check(p, other, HASH_SHA256, RSA_PKCS1_PADDING, s.pkcs1, s.n_pkcs1), -1);
	assert_int_equal(check(NULL, s.key, HASH_SHA256, RSA_PKCS1_PADDING, s.pkcs1, s.n_pkcs1), -1);
	/* References: the pool lives until the last holder lets it go. */
	assert_ptr_equal(verify_pool_ref(p), p);
	verify_pool_free(p);
	assert_int_equal(check(p, s.key, HASH_SHA256, RSA_PKCS1_PADDING, s.pkcs1, s.n_pkcs1), 1);
	verify_pool_free(p);
	EVP_PKEY_free(other);
	EVP_PKEY_free(s.key);
}

struct race {
	struct verify_pool *p;
	struct signed_msgs *s;
	pthread_barrier_t *go;
	int wrong;
};

static void *racer(void *arg)
{
	struct race *r = arg;

	pthread_barrier_wait(r->go);
	for (int i = 0; i < 200; i++) {
		bool pss = i % 2;
		const uint8_t *sig = pss ? r->s->pss : r->s->pkcs1;
		size_t n = pss ? r->s->n_pss : r->s->n_pkcs1;
		int pad = (i / 2) % 2 ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING;
		int want = (pad == RSA_PKCS1_PSS_PADDING) == pss;

		r->wrong += check(r->p, r->s->key, HASH_SHA256, pad, sig, n) != want;
	}
	return NULL;
}

/* Four threads on one pool, mixing paddings and good and bad signatures: every verdict right. */
static void threads_share_one_pool(void **state)
{
	struct signed_msgs s;
	pthread_barrier_t go;
	pthread_t t[4];
	struct race r[4];
	struct verify_pool *p;

	(void)state;
	signed_msgs_init(&s);
	pthread_barrier_init(&go, NULL, 4);
	p = verify_pool_new(s.key);

	for (int i = 0; i < 4; i++) {
		r[i] = (struct race){.p = p, .s = &s, .go = &go};
		assert_int_equal(pthread_create(&t[i], NULL, racer, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(r[i].wrong, 0);
	}
	pthread_barrier_destroy(&go);
	verify_pool_free(p);
	EVP_PKEY_free(s.key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_pool_verifies_what_the_ordinary_path_verifies),
	    cmocka_unit_test(a_pool_answers_only_for_its_own_key),
	    cmocka_unit_test(threads_share_one_pool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
