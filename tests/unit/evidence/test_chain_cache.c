/*
 * Unit tests of the verified-chain cache skeleton (src/evidence/chain_cache.h):
 * the window's edges to the second, accept(), eviction in both orders,
 * capacity 1, replacement, the references a payload holds, and four
 * threads sharing one cache. The real users (the TPM AIK chains and keys,
 * the SNP chains) are tested through their verifiers in test_tpm,
 * test_tpm_protocol, test_snp, test_snp_plat and test_sweep_snp.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "evidence/chain_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

/* A reference-counted object, as an EVP_PKEY or an X509 is for the real users. */
struct obj {
	atomic_int refs;
	atomic_bool refuse; /* hold() fails, as an up-reference may */
};

/* A payload: plain bytes and one reference. Its odd size tests the payload stride. */
struct payload {
	int64_t value;
	struct obj *o;
	uint8_t tag;
};

static bool obj_hold(const void *p)
{
	const struct payload *pl = p;

	if (atomic_load(&pl->o->refuse))
		return false;
	atomic_fetch_add(&pl->o->refs, 1);
	return true;
}

static void obj_release(void *p)
{
	struct payload *pl = p;

	atomic_fetch_sub(&pl->o->refs, 1);
}

static const struct chain_cache_type LRU = {.payload_size = sizeof(struct payload),
					    .hold = obj_hold,
					    .release = obj_release,
					    .evict = CHAIN_CACHE_EVICT_LRU};
static const struct chain_cache_type OLDEST = {.payload_size = sizeof(struct payload),
					       .hold = obj_hold,
					       .release = obj_release,
					       .evict = CHAIN_CACHE_EVICT_OLDEST};

#define FOREVER_FROM  INT64_MIN
#define FOREVER_UNTIL INT64_MAX

static void id_of(uint8_t id[32], uint8_t tag)
{
	memset(id, 0xA5, 32);
	id[31] = tag; /* ids differ only in their last byte: the whole id is compared */
}

static void put(struct chain_cache *c, struct obj *o, uint8_t tag, int64_t from, int64_t until)
{
	uint8_t id[32];
	struct payload p = {.value = tag * 1000, .o = o, .tag = tag};

	id_of(id, tag);
	assert_true(chain_cache_put(c, id, from, until, &p));
}

/* Whether tag is a hit at now; a hit's payload must be the one stored under it. */
static bool has(struct chain_cache *c, uint8_t tag, int64_t now)
{
	uint8_t id[32];
	struct payload p = {0};

	id_of(id, tag);
	if (!chain_cache_get(c, id, now, NULL, NULL, &p)) {
		assert_null(p.o); /* a miss leaves *out alone */
		return false;
	}
	assert_int_equal(p.tag, tag);
	assert_int_equal(p.value, tag * 1000);
	obj_release(&p);
	return true;
}

static void expect_stats(struct chain_cache *c, uint64_t hits, uint64_t misses)
{
	uint64_t h = 99, m = 99;

	chain_cache_stats(c, &h, &m);
	assert_int_equal(h, hits);
	assert_int_equal(m, misses);
}

static void capacity_and_payload_size_are_bounded(void **state)
{
	struct chain_cache_type empty = LRU, huge = LRU;

	(void)state;
	empty.payload_size = 0;
	huge.payload_size = CHAIN_CACHE_MAX_PAYLOAD + 1;
	assert_null(chain_cache_new(0, &LRU));
	assert_null(chain_cache_new(CHAIN_CACHE_MAX_CAPACITY + 1, &LRU));
	assert_null(chain_cache_new(4, NULL));
	assert_null(chain_cache_new(4, &empty));
	assert_null(chain_cache_new(4, &huge));
	chain_cache_free(chain_cache_new(CHAIN_CACHE_MAX_CAPACITY, &LRU));
	chain_cache_free(NULL);
}

static void a_hit_needs_now_inside_the_half_open_window(void **state)
{
	struct chain_cache *c = chain_cache_new(4, &LRU);
	struct obj o = {0};

	(void)state;
	/* notBefore 1000, notAfter 2000: valid from 1000 through 1999 (expired from 2000 on). */
	put(c, &o, 1, 1000, 2000);
	assert_false(has(c, 1, 999));
	assert_true(has(c, 1, 1000));
	assert_true(has(c, 1, 1001));
	assert_true(has(c, 1, 1999));
	assert_false(has(c, 1, 2000));
	assert_false(has(c, 1, 2001));
	/* Out of its window the entry stays for the times it holds. */
	assert_true(has(c, 1, 1500));
	expect_stats(c, 4, 3);
	chain_cache_free(c);
	assert_int_equal(atomic_load(&o.refs), 0);
}

static void an_empty_window_never_hits(void **state)
{
	struct chain_cache *c = chain_cache_new(4, &LRU);
	struct obj o = {0};

	(void)state;
	put(c, &o, 1, 1000, 1000);
	put(c, &o, 2, 1000, 999);
	assert_false(has(c, 1, 1000));
	assert_false(has(c, 1, 999));
	assert_false(has(c, 2, 999));
	assert_false(has(c, 2, 1000));
	expect_stats(c, 0, 4);
	chain_cache_free(c);
	assert_int_equal(atomic_load(&o.refs), 0);
}

static void an_unknown_id_is_a_miss(void **state)
{
	struct chain_cache *c = chain_cache_new(4, &LRU);
	struct obj o = {0};

	(void)state;
	assert_false(has(c, 1, 0));
	put(c, &o, 1, FOREVER_FROM, FOREVER_UNTIL);
	assert_false(has(c, 2, 0));
	assert_true(has(c, 1, 0));
	assert_true(has(c, 1, INT64_MIN));
	expect_stats(c, 2, 2);
	chain_cache_free(c);
}

static bool tag_is(const void *payload, const void *arg)
{
	return ((const struct payload *)payload)->tag == *(const uint8_t *)arg;
}

static void accept_decides_beyond_the_window(void **state)
{
	struct chain_cache *c = chain_cache_new(4, &LRU);
	struct obj o = {0};
	uint8_t id[32], want = 7;

	(void)state;
	id_of(id, 1);
	put(c, &o, 1, 1000, 2000);
	assert_false(chain_cache_get(c, id, 1500, tag_is, &want, NULL));
	want = 1;
	assert_true(chain_cache_get(c, id, 1500, tag_is, &want, NULL));
	assert_int_equal(atomic_load(&o.refs), 1); /* out NULL: nothing held for the caller */
	/* The window is checked too: accept does not widen it. */
	assert_false(chain_cache_get(c, id, 2000, tag_is, &want, NULL));
	expect_stats(c, 1, 2);
	chain_cache_free(c);
}

static void lru_eviction_spares_what_was_hit(void **state)
{
	struct chain_cache *c = chain_cache_new(3, &LRU);
	struct obj o = {0};

	(void)state;
	put(c, &o, 1, FOREVER_FROM, FOREVER_UNTIL);
	put(c, &o, 2, FOREVER_FROM, FOREVER_UNTIL);
	put(c, &o, 3, FOREVER_FROM, FOREVER_UNTIL);
	assert_true(has(c, 1, 0)); /* 1 is now the most recently used; 2 the least */
	put(c, &o, 4, FOREVER_FROM, FOREVER_UNTIL);
	assert_false(has(c, 2, 0));
	assert_true(has(c, 3, 0)); /* order now: 1, 3 */
	assert_true(has(c, 4, 0)); /* 1, 3, 4 */
	assert_true(has(c, 1, 0)); /* 3, 4, 1 */
	put(c, &o, 5, FOREVER_FROM, FOREVER_UNTIL);
	assert_false(has(c, 3, 0));
	assert_true(has(c, 4, 0) && has(c, 1, 0) && has(c, 5, 0));
	assert_int_equal(chain_cache_count(c), 3);
	chain_cache_free(c);
	assert_int_equal(atomic_load(&o.refs), 0);
}

static void oldest_eviction_ignores_hits(void **state)
{
	struct chain_cache *c = chain_cache_new(3, &OLDEST);
	struct obj o = {0};

	(void)state;
	put(c, &o, 1, FOREVER_FROM, FOREVER_UNTIL);
	put(c, &o, 2, FOREVER_FROM, FOREVER_UNTIL);
	put(c, &o, 3, FOREVER_FROM, FOREVER_UNTIL);
	assert_true(has(c, 1, 0)); /* a hit does not renew 1 */
	put(c, &o, 4, FOREVER_FROM, FOREVER_UNTIL);
	assert_false(has(c, 1, 0));
	assert_true(has(c, 2, 0) && has(c, 3, 0) && has(c, 4, 0));
	put(c, &o, 2, FOREVER_FROM, FOREVER_UNTIL); /* stored again: now the newest */
	put(c, &o, 5, FOREVER_FROM, FOREVER_UNTIL);
	assert_false(has(c, 3, 0));
	assert_true(has(c, 2, 0) && has(c, 4, 0) && has(c, 5, 0));
	chain_cache_free(c);
	assert_int_equal(atomic_load(&o.refs), 0);
}

static void capacity_one_keeps_the_last_stored(void **state)
{
	struct chain_cache *c = chain_cache_new(1, &LRU);
	struct obj o = {0};

	(void)state;
	put(c, &o, 1, FOREVER_FROM, FOREVER_UNTIL);
	assert_true(has(c, 1, 0));
	put(c, &o, 2, FOREVER_FROM, FOREVER_UNTIL);
	assert_false(has(c, 1, 0));
	assert_true(has(c, 2, 0));
	assert_int_equal(chain_cache_count(c), 1);
	assert_int_equal(atomic_load(&o.refs), 1); /* 1's reference went with it */
	chain_cache_free(c);
	assert_int_equal(atomic_load(&o.refs), 0);
}

static void a_put_under_the_same_id_replaces_the_entry(void **state)
{
	struct chain_cache *c = chain_cache_new(2, &LRU);
	struct obj a = {0}, b = {0};

	(void)state;
	put(c, &a, 1, 1000, 2000);
	put(c, &b, 1, 3000, 4000);
	assert_int_equal(chain_cache_count(c), 1);
	assert_int_equal(atomic_load(&a.refs), 0); /* the replaced payload was released */
	assert_int_equal(atomic_load(&b.refs), 1);
	assert_false(has(c, 1, 1500)); /* the old window went with it */
	assert_true(has(c, 1, 3500));
	chain_cache_free(c);
	assert_int_equal(atomic_load(&b.refs), 0);
}

static void payload_references_are_held_per_copy(void **state)
{
	struct chain_cache *c = chain_cache_new(2, &LRU);
	struct obj o = {0}, other = {0};
	struct payload got = {0}, p = {.o = &other, .tag = 2};
	uint8_t id[32];

	(void)state;
	put(c, &o, 1, FOREVER_FROM, FOREVER_UNTIL);
	assert_int_equal(atomic_load(&o.refs), 1); /* the cache's own */
	id_of(id, 1);
	assert_true(chain_cache_get(c, id, 0, NULL, NULL, &got));
	assert_ptr_equal(got.o, &o);
	assert_int_equal(atomic_load(&o.refs), 2); /* and the caller's copy */
	obj_release(&got);
	/* A hold that fails on the way out is a miss: the caller gets no unheld copy. */
	atomic_store(&o.refuse, true);
	memset(&got, 0, sizeof(got));
	assert_false(chain_cache_get(c, id, 0, NULL, NULL, &got));
	assert_null(got.o);
	/* A hold that fails on the way in stores nothing, and leaves an entry under that id alone. */
	assert_false(chain_cache_put(c, id, 0, 1, &(struct payload){.o = &o, .tag = 9}));
	atomic_store(&o.refuse, false);
	assert_true(has(c, 1, 0));
	id_of(id, 2);
	atomic_store(&other.refuse, true);
	assert_false(chain_cache_put(c, id, FOREVER_FROM, FOREVER_UNTIL, &p));
	assert_int_equal(chain_cache_count(c), 1);
	expect_stats(c, 2, 1);
	chain_cache_free(c);
	assert_int_equal(atomic_load(&o.refs), 0);
	assert_int_equal(atomic_load(&other.refs), 0);
}

static void a_type_without_references_copies_plain_bytes(void **state)
{
	static const struct chain_cache_type PLAIN = {.payload_size = 3, .evict = CHAIN_CACHE_EVICT_LRU};
	struct chain_cache *c = chain_cache_new(2, &PLAIN);
	uint8_t id[32], v[3] = {1, 2, 3}, out[4] = {9, 9, 9, 9};

	(void)state;
	id_of(id, 1);
	assert_true(chain_cache_put(c, id, FOREVER_FROM, FOREVER_UNTIL, v));
	assert_true(chain_cache_get(c, id, 0, NULL, NULL, out));
	assert_memory_equal(out, v, 3);
	assert_int_equal(out[3], 9); /* exactly payload_size bytes */
	chain_cache_free(c);
}

/* ---- threads ------------------------------------------------------------- */

#define RACE_THREADS 4
#define RACE_ROUNDS  100000
#define RACE_IDS     8

struct race {
	struct chain_cache *c;
	pthread_barrier_t *start;
	struct obj *o;
	int t;
	int bad; /* hits whose payload is not the one stored under their id */
	uint64_t gets;
};

static void *race_thread(void *arg)
{
	struct race *r = arg;

	pthread_barrier_wait(r->start); /* all four at once, not one after the other */
	for (int i = 0; i < RACE_ROUNDS; i++) {
		/* Runs of 8 lookups of one id: hits while others evict around it. */
		uint8_t tag = (uint8_t)((i / 8 + 2 * r->t) % RACE_IDS), id[32];
		struct payload p = {0};

		id_of(id, tag);
		r->gets++;
		if (chain_cache_get(r->c, id, 1500, NULL, NULL, &p)) {
			if (p.tag != tag || p.value != tag * 1000 || p.o != r->o)
				r->bad++;
			obj_release(&p);
		} else {
			p = (struct payload){.value = tag * 1000, .o = r->o, .tag = tag};
			if (!chain_cache_put(r->c, id, 1000, 2000, &p))
				r->bad++;
		}
	}
	return NULL;
}

static void four_threads_share_one_cache(void **state)
{
	struct chain_cache *c = chain_cache_new(4, &LRU);
	struct obj o = {0};
	struct race r[RACE_THREADS];
	pthread_t t[RACE_THREADS];
	pthread_barrier_t start;
	uint64_t hits, misses, gets = 0;

	(void)state;
	assert_int_equal(pthread_barrier_init(&start, NULL, RACE_THREADS), 0);
	for (int i = 0; i < RACE_THREADS; i++) {
		r[i] = (struct race){.c = c, .start = &start, .o = &o, .t = i};
		assert_int_equal(pthread_create(&t[i], NULL, race_thread, &r[i]), 0);
	}
	for (int i = 0; i < RACE_THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(r[i].bad, 0);
		gets += r[i].gets;
	}
	pthread_barrier_destroy(&start);
	chain_cache_stats(c, &hits, &misses);
	assert_int_equal(hits + misses, gets);
	assert_true(hits > 0 && misses >= RACE_IDS); /* each id's first lookup misses */
	assert_int_equal(chain_cache_count(c), 4);
	assert_int_equal(atomic_load(&o.refs), 4); /* one per entry: every copy handed out came back */
	chain_cache_free(c);
	assert_int_equal(atomic_load(&o.refs), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(capacity_and_payload_size_are_bounded),
	    cmocka_unit_test(a_hit_needs_now_inside_the_half_open_window),
	    cmocka_unit_test(an_empty_window_never_hits),
	    cmocka_unit_test(an_unknown_id_is_a_miss),
	    cmocka_unit_test(accept_decides_beyond_the_window),
	    cmocka_unit_test(lru_eviction_spares_what_was_hit),
	    cmocka_unit_test(oldest_eviction_ignores_hits),
	    cmocka_unit_test(capacity_one_keeps_the_last_stored),
	    cmocka_unit_test(a_put_under_the_same_id_replaces_the_entry),
	    cmocka_unit_test(payload_references_are_held_per_copy),
	    cmocka_unit_test(a_type_without_references_copies_plain_bytes),
	    cmocka_unit_test(four_threads_share_one_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
