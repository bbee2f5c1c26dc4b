/*
 * AES-256-GCM (src/crypto/aead.c): the published test vectors, a kept key
 * that gives exactly what a one-shot gives, refusals that leave nothing
 * behind (and a context that still works after one), argument checks, and
 * threads sharing one kept key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "crypto/crypto.h"

#include <limits.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void unhex(const char *h, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* McGrew and Viega, "The Galois/Counter Mode of Operation", test cases 13, 14 and 16 (AES-256). */
static void published_vectors_seal_and_open(void **state)
{
	uint8_t zero[32] = {0}, tag[16], ct[60], pt[60], key[32], iv[12], aad[20], p[60], want_c[60],
		want_t[16];

	(void)state;
	assert_int_equal(aead_seal(zero, zero, NULL, 0, NULL, 0, NULL, tag), 0); /* case 13 */
	unhex("530f8afbc74536b9a963b4f1c4cb738b", want_t, 16);
	assert_memory_equal(tag, want_t, 16);
	assert_int_equal(aead_seal(zero, zero, NULL, 0, zero, 16, ct, tag), 0); /* case 14 */
	unhex("cea7403d4d606b6e074ec5d3baf39d18", want_c, 16);
	unhex("d0d1c8a799996bf0265b98b5d48ab919", want_t, 16);
	assert_memory_equal(ct, want_c, 16);
	assert_memory_equal(tag, want_t, 16);
	unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", key, 32); /* case 16 */
	unhex("cafebabefacedbaddecaf888", iv, 12);
	unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2", aad, 20);
	unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	      p, 60);
	unhex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	      "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
	      want_c, 60);
	unhex("76fc6ece0f4e1768cddf8853bb2d551b", want_t, 16);
	assert_int_equal(aead_seal(key, iv, aad, 20, p, 60, ct, tag), 0);
	assert_memory_equal(ct, want_c, 60);
	assert_memory_equal(tag, want_t, 16);
	assert_int_equal(aead_open(key, iv, aad, 20, ct, 60, pt, tag), 0);
	assert_memory_equal(pt, p, 60);
}

/* Every length from 0 to 100 and every additional-data length to 9, under random keys and IVs. */
static void kept_key_gives_what_a_one_shot_gives(void **state)
{
	uint8_t key[32], iv[12], aad[9], p[100], c1[100], c2[100], t1[16], t2[16], back[100];
	struct aead_key *k;

	(void)state;
	for (int round = 0; round < 4; round++) {
		assert_int_equal(RAND_bytes(key, sizeof(key)), 1);
		k = aead_key_new(key);
		assert_non_null(k);
		for (size_t n = 0; n <= sizeof(p); n++) {
			size_t al = n % (sizeof(aad) + 1);

			assert_int_equal(RAND_bytes(iv, sizeof(iv)), 1);
			assert_int_equal(RAND_bytes(aad, sizeof(aad)), 1);
			assert_int_equal(RAND_bytes(p, sizeof(p)), 1);
			assert_int_equal(aead_seal(key, iv, aad, al, p, n, c1, t1), 0);
			assert_int_equal(aead_key_seal(k, iv, aad, al, p, n, c2, t2), 0);
			assert_memory_equal(c1, c2, n);
			assert_memory_equal(t1, t2, 16);
			assert_int_equal(aead_key_open(k, iv, aad, al, c2, n, back, t2), 0);
			assert_memory_equal(back, p, n);
		}
		aead_key_free(k);
	}
}

/*
 * Any flipped bit of the text, the tag, the additional data or the IV is
 * refused, out is left zeroed, and the same kept key opens the genuine
 * message straight after (a failed message does not spoil its context).
 */
static void altered_messages_are_refused_and_the_key_still_works(void **state)
{
	uint8_t key[32] = {1}, iv[12] = {2}, aad[4] = {'T', 'P', 'C', '1'}, p[66], c[66], t[16], out[66];
	uint8_t zero[66] = {0};
	struct aead_key *k = aead_key_new(key);

	(void)state;
	assert_non_null(k);
	memset(p, 0x5c, sizeof(p));
	assert_int_equal(aead_key_seal(k, iv, aad, sizeof(aad), p, sizeof(p), c, t), 0);
	for (size_t bit = 0; bit < 8 * (sizeof(c) + sizeof(t) + sizeof(aad) + sizeof(iv)); bit++) {
		uint8_t *field = c;
		size_t at = bit / 8;

		if (at >= sizeof(c))
			at -= sizeof(c), field = t;
		if (field == t && at >= sizeof(t))
			at -= sizeof(t), field = aad;
		if (field == aad && at >= sizeof(aad))
			at -= sizeof(aad), field = iv;
		field[at] ^= (uint8_t)(1u << (bit % 8));
		memset(out, 0xee, sizeof(out));
		assert_int_equal(aead_key_open(k, iv, aad, sizeof(aad), c, sizeof(c), out, t), -1);
		assert_memory_equal(out, zero, sizeof(out));
		field[at] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(aead_key_open(k, iv, aad, sizeof(aad), c, sizeof(c), out, t), 0);
		assert_memory_equal(out, p, sizeof(p));
	}
	/* a message sealed under another key */
	key[0] ^= 1;
	assert_int_equal(aead_open(key, iv, aad, sizeof(aad), c, sizeof(c), out, t), -1);
	aead_key_free(k);
}

static void wrong_arguments_are_refused(void **state)
{
	uint8_t key[32] = {3}, iv[12] = {0}, t[16] = {0}, b[4] = {0};
	struct aead_key *k = aead_key_new(key);

	(void)state;
	assert_int_equal(aead_key_seal(NULL, iv, NULL, 0, b, 4, b, t), -1);
	assert_int_equal(aead_key_seal(k, NULL, NULL, 0, b, 4, b, t), -1);
	assert_int_equal(aead_key_seal(k, iv, NULL, 0, b, 4, b, NULL), -1);
	assert_int_equal(aead_key_open(k, iv, NULL, 0, b, 4, b, NULL), -1);
	assert_int_equal(aead_key_seal(k, iv, NULL, 1, b, 4, b, t), -1);    /* additional data missing */
	assert_int_equal(aead_key_seal(k, iv, NULL, 0, NULL, 4, b, t), -1); /* text missing */
	assert_int_equal(aead_key_seal(k, iv, NULL, 0, b, 4, NULL, t), -1);
	assert_int_equal(aead_key_seal(k, iv, NULL, 0, b, (size_t)INT_MAX + 1, b, t), -1);
	assert_int_equal(aead_key_seal(k, iv, b, (size_t)INT_MAX + 1, b, 4, b, t), -1);
	aead_key_free(NULL);
	aead_key_free(k);
}

struct racer {
	struct aead_key *k;
	const uint8_t *key;
	pthread_barrier_t *go;
	int id, failures;
};

/* Each thread seals and opens its own messages on the shared key and checks them against one-shots. */
static void *race(void *arg)
{
	struct racer *r = arg;
	uint8_t iv[12] = {0}, p[48], c[48], c1[48], t[16], t1[16], back[48];

	pthread_barrier_wait(r->go);
	for (int i = 0; i < 2000; i++) {
		iv[0] = (uint8_t)r->id, iv[1] = (uint8_t)i, iv[2] = (uint8_t)(i >> 8);
		memset(p, r->id + i, sizeof(p));
		if (aead_key_seal(r->k, iv, iv, 3, p, sizeof(p), c, t) != 0 ||
		    aead_seal(r->key, iv, iv, 3, p, sizeof(p), c1, t1) != 0 ||
		    memcmp(c, c1, sizeof(c)) != 0 || memcmp(t, t1, sizeof(t)) != 0 ||
		    aead_key_open(r->k, iv, iv, 3, c, sizeof(c), back, t) != 0 ||
		    memcmp(back, p, sizeof(p)) != 0)
			r->failures++;
		t[i % 16] ^= 1; /* and a refusal now and then, between the others' messages */
		if (i % 7 == 0 && aead_key_open(r->k, iv, iv, 3, c, sizeof(c), back, t) != -1)
			r->failures++;
	}
	return NULL;
}

static void threads_share_one_kept_key(void **state)
{
	uint8_t key[32] = {7};
	struct aead_key *k = aead_key_new(key);
	pthread_barrier_t go;
	pthread_t t[4];
	struct racer r[4];

	(void)state;
	assert_non_null(k);
	pthread_barrier_init(&go, NULL, 4);
	for (int i = 0; i < 4; i++) {
		r[i] = (struct racer){.k = k, .key = key, .go = &go, .id = i};
		assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(r[i].failures, 0);
	}
	pthread_barrier_destroy(&go);
	aead_key_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(published_vectors_seal_and_open),
	    cmocka_unit_test(kept_key_gives_what_a_one_shot_gives),
	    cmocka_unit_test(altered_messages_are_refused_and_the_key_still_works),
	    cmocka_unit_test(wrong_arguments_are_refused),
	    cmocka_unit_test(threads_share_one_kept_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
