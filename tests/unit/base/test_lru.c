/*
 * Unit tests of the one cache skeleton (src/base/lru.h): its bounds,
 * lookups (keys differing in any one byte), both eviction orders,
 * capacity 1, replacement, look()'s three verdicts, lru_add (the first
 * stored wins), eviction counts, release() run exactly once for every
 * slot that leaves, LRU_ORDER_HIT (never-hit entries go first), pinned
 * entries (never evicted; a cache full of them refuses stores), walks,
 * a random script held to a plain model of the caches it replaced (a
 * linear array with ticks, with and without pins), four threads released
 * together by a barrier hammering one cache of reference-counted entries,
 * and four threads pinning the entries they use (under ASan: a slot
 * released twice or used after its release is a report). Its
 * users are tested on top: test_chain_cache (the verified chain cache),
 * test_collateral (the collateral cache), test_policy_jws (the compiled
 * plan cache).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/lru.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- a slot with one owned token, and the release hook's tally ---------- */

#define MAX_TOKENS 8192

/* What release() saw: how many times each token was released. */
struct tally {
	int released[MAX_TOKENS];
	int next; /* tokens handed out so far */
};

struct token {
	int id;
};

struct slot {
	int64_t value;
	struct token *t; /* owned by the entry: release() frees it */
	int32_t key;	 /* the key's index (what pins are set on) */
	uint8_t tag;	 /* an odd size, to test the slot stride */
};

/* Keys whose entries are in use (pinned() says so), by index. */
#define PIN_KEYS 4096

struct pins {
	bool key[PIN_KEYS];
	int asked; /* pinned() calls */
};

static bool slot_pinned(const void *p, void *arg)
{
	const struct slot *s = p;
	struct pins *pins = arg;

	pins->asked++;
	return s->key >= 0 && s->key < PIN_KEYS && pins->key[s->key];
}

static void slot_release(void *p, void *arg)
{
	struct slot *s = p;
	struct tally *y = arg;

	y->released[s->t->id]++;
	free(s->t); /* a second release of the same slot is a double free under ASan */
}

/* A cache of struct slot; with pins, entries whose key is pinned there are never evicted. */
static struct lru *new_pinned_cache(size_t cap, enum lru_order order, struct tally *y, struct pins *pins)
{
	struct lru_type type = {.slot_size = sizeof(struct slot),
				.order = order,
				.release = slot_release,
				.release_arg = y,
				.pinned = pins != NULL ? slot_pinned : NULL,
				.pinned_arg = pins};
	struct lru *l = lru_new(cap, &type);

	assert_non_null(l);
	return l;
}

static struct lru *new_cache(size_t cap, enum lru_order order, struct tally *y)
{
	return new_pinned_cache(cap, order, y, NULL);
}

/* Keys that differ from each other in one byte only: the whole key counts. */
static void key_of(uint8_t k[LRU_KEY_SIZE], int i)
{
	memset(k, 0x5A, LRU_KEY_SIZE);
	k[i % LRU_KEY_SIZE] ^= (uint8_t)(1 + i / LRU_KEY_SIZE);
}

/*
 * Stores value under key i with a new token; returns the token's id and
 * in *stored what lru_put said (a refused token is still the caller's:
 * released here, so done() can count it).
 */
static int put_as(struct lru *l, struct tally *y, int i, int64_t value, bool *stored)
{
	uint8_t k[LRU_KEY_SIZE];
	struct slot s = {.value = value, .key = i, .tag = (uint8_t)i};
	int id;

	assert_true(y->next < MAX_TOKENS);
	assert_non_null(s.t = malloc(sizeof(*s.t)));
	id = s.t->id = y->next++;
	key_of(k, i);
	*stored = lru_put(l, k, &s);
	if (!*stored)
		slot_release(&s, y);
	return id;
}

/* Stores value under key i with a new token (it must be stored); returns the token's id. */
static int put(struct lru *l, struct tally *y, int i, int64_t value)
{
	bool stored;
	int id = put_as(l, y, i, value, &stored);

	assert_true(stored);
	return id;
}

/* One lookup: the verdict to give and what the slot found was. */
struct look {
	enum lru_verdict verdict;
	int calls;
	struct slot seen;
};

static enum lru_verdict look_record(const void *slot, void *arg)
{
	struct look *q = arg;

	q->calls++;
	memcpy(&q->seen, slot, sizeof(q->seen));
	return q->verdict;
}

/* Looks key i up with a look() that says verdict; a hit must find value under key i. */
static bool get_as(struct lru *l, int i, enum lru_verdict verdict, int64_t *value)
{
	uint8_t k[LRU_KEY_SIZE];
	struct look q = {.verdict = verdict};
	bool hit;

	key_of(k, i);
	hit = lru_get(l, k, look_record, &q);
	assert_int_equal(hit, q.calls == 1 && verdict == LRU_HIT);
	if (q.calls == 1) {
		assert_int_equal(q.seen.tag, (uint8_t)i);
		if (value != NULL)
			*value = q.seen.value;
	}
	return hit;
}

static bool has(struct lru *l, int i)
{
	return get_as(l, i, LRU_HIT, NULL);
}

static void expect_stats(struct lru *l, uint64_t hits, uint64_t misses)
{
	struct lru_stats st = {99, 99, 99, 99, 99};

	lru_stats(l, &st);
	assert_int_equal(st.hits, hits);
	assert_int_equal(st.misses, misses);
	assert_int_equal(st.entries, lru_count(l));
}

static uint64_t evictions(struct lru *l)
{
	struct lru_stats st;

	lru_stats(l, &st);
	return st.evictions;
}

/* What lru_add's found() saw. */
struct found {
	int calls;
	struct slot seen;
};

static void found_record(const void *slot, void *arg)
{
	struct found *f = arg;

	f->calls++;
	memcpy(&f->seen, slot, sizeof(f->seen));
}

/* What lru_add did: stored the new slot, found one under the key, or refused (full, all pinned). */
enum added { ADD_STORED, ADD_FOUND, ADD_REFUSED };

/*
 * lru_add of value under key i with a new token. Found: found() must have
 * seen key i's slot (its value in *present). Unless stored, the token is
 * still the caller's: released here, so done() can count it.
 */
static enum added add_as(struct lru *l, struct tally *y, int i, int64_t value, int64_t *present)
{
	uint8_t k[LRU_KEY_SIZE];
	struct slot s = {.value = value, .key = i, .tag = (uint8_t)i};
	struct found f = {0};
	bool stored;

	assert_true(y->next < MAX_TOKENS);
	assert_non_null(s.t = malloc(sizeof(*s.t)));
	s.t->id = y->next++;
	key_of(k, i);
	stored = lru_add(l, k, &s, found_record, &f);
	assert_true(f.calls <= 1 && !(stored && f.calls == 1));
	if (stored)
		return ADD_STORED;
	slot_release(&s, y);
	if (f.calls == 0)
		return ADD_REFUSED;
	assert_int_equal(f.seen.tag, (uint8_t)i);
	if (present != NULL)
		*present = f.seen.value;
	return ADD_FOUND;
}

/* lru_add without pins: true when stored, false when found (refusal is impossible). */
static bool add(struct lru *l, struct tally *y, int i, int64_t value, int64_t *present)
{
	enum added a = add_as(l, y, i, value, present);

	assert_true(a != ADD_REFUSED);
	return a == ADD_STORED;
}

/* Frees l: every token handed out was released exactly once. */
static void done(struct lru *l, struct tally *y)
{
	lru_free(l);
	for (int i = 0; i < y->next; i++)
		if (y->released[i] != 1)
			fail_msg("token %d released %d times", i, y->released[i]);
}

/* ---- bounds and lookups ------------------------------------------------ */

static void capacity_and_slot_size_are_bounded(void **state)
{
	struct lru_type type = {.slot_size = 8};

	(void)state;
	assert_null(lru_new(0, &type));
	assert_null(lru_new(LRU_MAX_CAPACITY + 1, &type));
	assert_null(lru_new(1, NULL));
	type.slot_size = 0;
	assert_null(lru_new(1, &type));
	type.slot_size = LRU_MAX_SLOT + 1;
	assert_null(lru_new(1, &type));
	type.slot_size = LRU_MAX_SLOT;
	lru_free(lru_new(1, &type));
	type.slot_size = 8;
	lru_free(lru_new(LRU_MAX_CAPACITY, &type)); /* allocated, untouched: cheap */
	lru_free(NULL);
}

static void a_stored_key_is_found_with_its_slot(void **state)
{
	struct tally y = {0};
	struct lru *l = new_cache(4, LRU_ORDER_USE, &y);
	int64_t v = 0;

	(void)state;
	put(l, &y, 7, 700);
	assert_true(get_as(l, 7, LRU_HIT, &v));
	assert_int_equal(v, 700);
	assert_int_equal(lru_count(l), 1);
	expect_stats(l, 1, 0);
	done(l, &y);
}

static void an_absent_key_is_a_miss_without_calling_look(void **state)
{
	struct tally y = {0};
	struct lru *l = new_cache(4, LRU_ORDER_USE, &y);
	uint8_t k[LRU_KEY_SIZE];
	struct look q = {.verdict = LRU_HIT};

	(void)state;
	put(l, &y, 1, 100);
	key_of(k, 2);
	assert_false(lru_get(l, k, look_record, &q));
	assert_int_equal(q.calls, 0);
	expect_stats(l, 0, 1);
	done(l, &y);
}

static void a_null_look_hits_every_entry_found(void **state)
{
	struct tally y = {0};
	struct lru *l = new_cache(2, LRU_ORDER_USE, &y);
	uint8_t k[LRU_KEY_SIZE];

	(void)state;
	put(l, &y, 3, 300);
	key_of(k, 3);
	assert_true(lru_get(l, k, NULL, NULL));
	key_of(k, 4);
	assert_false(lru_get(l, k, NULL, NULL));
	expect_stats(l, 1, 1);
	done(l, &y);
}

/* 32 x 8 keys, each differing from the others in one byte: all distinct, all found. */
static void keys_differing_in_any_one_byte_are_distinct(void **state)
{
	enum { N = LRU_KEY_SIZE * 8 };
	struct tally y = {0};
	struct lru *l = new_cache(N, LRU_ORDER_USE, &y);
	int64_t v;

	(void)state;
	for (int i = 0; i < N; i++)
		put(l, &y, i, 1000 + i);
	assert_int_equal(lru_count(l), N);
	for (int i = 0; i < N; i++) {
		assert_true(get_as(l, i, LRU_HIT, &v));
		assert_int_equal(v, 1000 + i);
	}
	assert_false(has(l, N)); /* the next key of the same family was never stored */
	done(l, &y);
}

/* ---- eviction ---------------------------------------------------------- */

static void use_order_evicts_the_least_recently_stored_or_hit(void **state)
{
	struct tally y = {0};
	struct lru *l = new_cache(3, LRU_ORDER_USE, &y);
	int t1, t2;

	(void)state;
	t1 = put(l, &y, 1, 1);
	t2 = put(l, &y, 2, 2);
	put(l, &y, 3, 3);
	assert_true(has(l, 1)); /* 1 is now the most recent: 2 is the least */
	put(l, &y, 4, 4);
	assert_int_equal(y.released[t2], 1);
	assert_int_equal(y.released[t1], 0);
	assert_false(has(l, 2));
	assert_true(has(l, 1) && has(l, 3) && has(l, 4));
	put(l, &y, 5, 5); /* order now 1 3 4 (oldest first): 1 goes */
	assert_int_equal(y.released[t1], 1);
	assert_false(has(l, 1));
	assert_int_equal(lru_count(l), 3);
	assert_int_equal(evictions(l), 2);
	done(l, &y);
}

static void store_order_evicts_the_first_stored_even_if_hit(void **state)
{
	struct tally y = {0};
	struct lru *l = new_cache(3, LRU_ORDER_STORE, &y);

	(void)state;
	put(l, &y, 1, 1);
	put(l, &y, 2, 2);
	put(l, &y, 3, 3);
	assert_true(has(l, 1) && has(l, 1)); /* hits do not renew it */
	put(l, &y, 4, 4);
	assert_false(has(l, 1));
	assert_true(has(l, 2) && has(l, 3) && has(l, 4));
	put(l, &y, 5, 5);
	assert_false(has(l, 2));
	done(l, &y);
}

static void capacity_one_keeps_the_last_stored(void **state)
{
	struct tally y = {0};
	struct lru *l = new_cache(1, LRU_ORDER_USE, &y);

	(void)state;
	for (int i = 0; i < 10; i++) {
		put(l, &y, i, i);
		assert_true(has(l, i));
		assert_int_equal(lru_count(l), 1);
		if (i > 0) {
			assert_false(has(l, i - 1));
			assert_int_equal(y.released[i - 1], 1);
		}
	}
	done(l, &y);
}

/* In both orders a put under a stored key replaces its slot and makes it the most recent. */
static void a_put_under_the_same_key_replaces_and_renews_it(void **state)
{
	static const enum lru_order orders[] = {LRU_ORDER_USE, LRU_ORDER_STORE};

	(void)state;
	for (size_t o = 0; o < 2; o++) {
		struct tally y = {0};
		struct lru *l = new_cache(2, orders[o], &y);
		int64_t v = 0;
		int first;

		first = put(l, &y, 1, 10);
		put(l, &y, 2, 20);
		put(l, &y, 1, 11);
		assert_int_equal(y.released[first], 1); /* the old slot's token, at once */
		assert_int_equal(lru_count(l), 2);
		assert_int_equal(evictions(l), 0); /* a replacement is no eviction */
		assert_true(get_as(l, 1, LRU_HIT, &v));
		assert_int_equal(v, 11);
		put(l, &y, 3, 30); /* 1 was renewed by its replacement: 2 goes */
		assert_false(has(l, 2));
		assert_true(has(l, 1) && has(l, 3));
		done(l, &y);
	}
}

/* ---- look()'s verdicts --------------------------------------------------- */

static void a_miss_verdict_keeps_the_entry(void **state)
{
	struct tally y = {0};
	struct lru *l = new_cache(2, LRU_ORDER_USE, &y);
	int t;

	(void)state;
	t = put(l, &y, 1, 1);
	assert_false(get_as(l, 1, LRU_MISS, NULL));
	assert_int_equal(lru_count(l), 1);
	assert_int_equal(y.released[t], 0);
	assert_true(has(l, 1));
	expect_stats(l, 1, 1);
	done(l, &y);
}

static void a_miss_verdict_does_not_renew_the_entry(void **state)
{
	struct tally y = {0};
	struct lru *l = new_cache(2, LRU_ORDER_USE, &y);

	(void)state;
	put(l, &y, 1, 1);
	put(l, &y, 2, 2);
	assert_false(get_as(l, 1, LRU_MISS, NULL));
	put(l, &y, 3, 3); /* 1 is still the least recent */
	assert_false(has(l, 1));
	assert_true(has(l, 2));
	done(l, &y);
}

static void a_drop_verdict_releases_the_entry_once_and_frees_its_place(void **state)
{
	struct tally y = {0};
	struct lru *l = new_cache(2, LRU_ORDER_USE, &y);
	int t1;

	(void)state;
	t1 = put(l, &y, 1, 1);
	put(l, &y, 2, 2);
	assert_false(get_as(l, 1, LRU_DROP, NULL));
	assert_int_equal(y.released[t1], 1);
	assert_int_equal(lru_count(l), 1);
	assert_false(has(l, 1));
	put(l, &y, 3, 3); /* the dropped entry's place: nothing evicted */
	assert_true(has(l, 2) && has(l, 3));
	assert_int_equal(lru_count(l), 2);
	assert_int_equal(evictions(l), 0);
	expect_stats(l, 2, 2);
	done(l, &y);
}

/* ---- lru_add: the first stored wins ------------------------------------- */

static void add_stores_an_absent_key_and_keeps_the_first_under_a_present_one(void **state)
{
	struct tally y = {0};
	struct lru *l = new_cache(4, LRU_ORDER_USE, &y);
	int64_t present = 0, v = 0;

	(void)state;
	assert_true(add(l, &y, 1, 10, NULL));
	assert_false(add(l, &y, 1, 11, &present)); /* its token is released by add(), not the cache */
	assert_int_equal(present, 10);
	assert_true(get_as(l, 1, LRU_HIT, &v));
	assert_int_equal(v, 10);
	assert_int_equal(lru_count(l), 1);
	expect_stats(l, 1, 0); /* an add is no lookup */
	done(l, &y);
}

static void add_renews_the_entry_it_finds(void **state)
{
	struct tally y = {0};
	struct lru *l = new_cache(2, LRU_ORDER_USE, &y);

	(void)state;
	assert_true(add(l, &y, 1, 1, NULL));
	assert_true(add(l, &y, 2, 2, NULL));
	assert_false(add(l, &y, 1, 3, NULL)); /* 1 is now the most recent */
	assert_true(add(l, &y, 4, 4, NULL));  /* full: 2 goes */
	assert_false(has(l, 2));
	assert_true(has(l, 1) && has(l, 4));
	assert_int_equal(evictions(l), 1);
	done(l, &y);
}

/* ---- LRU_ORDER_HIT, pins, walks ------------------------------------------ */

static void hit_order_evicts_entries_never_hit_first_the_last_stored_of_them_first(void **state)
{
	struct tally y = {0};
	struct lru *l = new_cache(4, LRU_ORDER_HIT, &y);

	(void)state;
	put(l, &y, 1, 1);
	put(l, &y, 2, 2);
	assert_true(has(l, 1)); /* hit: the most recent */
	assert_true(has(l, 2)); /* hit: now the most recent, 1 next */
	put(l, &y, 3, 3);	/* never hit */
	put(l, &y, 4, 4);	/* never hit, stored last: the least recent */
	put(l, &y, 5, 5);	/* full: 4 goes, not 1 nor 2 */
	assert_int_equal(evictions(l), 1);
	assert_true(has(l, 1) && has(l, 2) && has(l, 3) && has(l, 5));
	/* every entry hit now, in the order 1 2 3 5: the least recently hit goes */
	put(l, &y, 6, 6);
	assert_false(has(l, 1));
	put(l, &y, 7, 7); /* 6 was never hit: it goes before any hit entry */
	assert_false(has(l, 6));
	assert_true(has(l, 2) && has(l, 3) && has(l, 5) && has(l, 7));
	done(l, &y);
}

static void add_under_hit_order_renews_what_it_finds(void **state)
{
	struct tally y = {0};
	struct lru *l = new_cache(2, LRU_ORDER_HIT, &y);

	(void)state;
	assert_true(add(l, &y, 1, 1, NULL));
	assert_true(add(l, &y, 2, 2, NULL));  /* order now 1 (most recent) .. 2 (least) */
	assert_false(add(l, &y, 2, 3, NULL)); /* found: 2 becomes the most recent */
	assert_true(add(l, &y, 3, 3, NULL));  /* full: 1 goes */
	assert_false(has(l, 1));
	assert_true(has(l, 2));
	done(l, &y);
}

static void a_pinned_entry_is_never_evicted_the_next_least_recent_goes(void **state)
{
	static const enum lru_order orders[] = {LRU_ORDER_USE, LRU_ORDER_STORE, LRU_ORDER_HIT};

	(void)state;
	for (size_t o = 0; o < 3; o++) {
		struct tally y = {0};
		struct pins pins = {0};
		struct lru *l = new_pinned_cache(3, orders[o], &y, &pins);
		int t1, t2;

		t1 = put(l, &y, 1, 1);
		t2 = put(l, &y, 2, 2);
		put(l, &y, 3, 3);
		/* under every order 1 or 3 is the least recent; pin both */
		pins.key[1] = pins.key[3] = true;
		put(l, &y, 4, 4);
		assert_int_equal(y.released[t1], 0);
		assert_int_equal(y.released[t2], 1); /* the one not pinned */
		pins.key[1] = pins.key[3] = false;
		pins.key[4] = true;
		assert_true(has(l, 1) && has(l, 3) && has(l, 4));
		assert_int_equal(evictions(l), 1);
		done(l, &y); /* lru_free releases pinned entries too: no user may remain */
	}
}

static void a_full_cache_of_pinned_entries_refuses_stores_and_the_slot_stays_the_callers(void **state)
{
	struct tally y = {0};
	struct pins pins = {0};
	struct lru *l = new_pinned_cache(2, LRU_ORDER_USE, &y, &pins);
	struct lru_stats st;
	bool stored = true;
	int64_t v = 0;
	int t;

	(void)state;
	put(l, &y, 1, 1);
	put(l, &y, 2, 2);
	pins.key[1] = pins.key[2] = true;
	t = put_as(l, &y, 3, 3, &stored);
	assert_false(stored);
	assert_int_equal(y.released[t], 1);			  /* released by put_as: the caller's */
	assert_int_equal(add_as(l, &y, 4, 4, NULL), ADD_REFUSED); /* found() not called */
	assert_int_equal(add_as(l, &y, 1, 9, &v), ADD_FOUND);	  /* a stored key is still found */
	assert_int_equal(v, 1);
	/* nor is a pinned entry replaced or dropped under its user */
	t = put_as(l, &y, 2, 22, &stored);
	assert_false(stored);
	assert_int_equal(y.released[t], 1);
	assert_false(get_as(l, 2, LRU_DROP, NULL));
	assert_true(get_as(l, 2, LRU_HIT, &v));
	assert_int_equal(v, 2);
	lru_stats(l, &st);
	assert_int_equal(st.refused, 3);
	assert_int_equal(st.evictions, 0);
	assert_int_equal(st.entries, 2);
	pins.key[1] = false; /* one let go: the next store evicts it */
	put(l, &y, 5, 5);
	assert_false(has(l, 1));
	assert_true(has(l, 2) && has(l, 5));
	done(l, &y);
}

/* What a walk saw. */
struct walked {
	int keys[16];
	int n, stop_after;
};

static bool walk_record(const void *slot, void *arg)
{
	const struct slot *s = slot;
	struct walked *w = arg;

	w->keys[w->n++] = s->key;
	return w->n != w->stop_after;
}

static void a_walk_visits_every_entry_once_and_stops_when_told(void **state)
{
	struct tally y = {0};
	struct lru *l = new_cache(8, LRU_ORDER_USE, &y);
	struct walked w = {0}, part = {.stop_after = 2}, none = {0};
	int seen[8] = {0};

	(void)state;
	lru_walk(l, walk_record, &none);
	assert_int_equal(none.n, 0);
	for (int i = 1; i <= 6; i++)
		put(l, &y, i, i);
	assert_false(get_as(l, 3, LRU_DROP, NULL)); /* a dropped entry's node is on the free list */
	assert_false(get_as(l, 5, LRU_DROP, NULL));
	put(l, &y, 7, 7); /* reuses a freed node */
	lru_walk(l, walk_record, &w);
	assert_int_equal(w.n, 5);
	for (int i = 0; i < w.n; i++)
		seen[w.keys[i]]++;
	assert_int_equal(seen[3] + seen[5], 0);
	for (int k = 1; k <= 7; k++)
		if (k != 3 && k != 5)
			assert_int_equal(seen[k], 1);
	lru_walk(l, walk_record, &part);
	assert_int_equal(part.n, 2);
	expect_stats(l, 0, 2); /* a walk counts nothing */
	done(l, &y);
}

static void a_walk_renews_nothing(void **state)
{
	struct tally y = {0};
	struct lru *l = new_cache(2, LRU_ORDER_USE, &y);
	struct walked w = {0};

	(void)state;
	put(l, &y, 1, 1);
	put(l, &y, 2, 2);
	lru_walk(l, walk_record, &w); /* sees 1 too: it stays the least recent */
	put(l, &y, 3, 3);
	assert_false(has(l, 1));
	assert_true(has(l, 2) && has(l, 3));
	done(l, &y);
}

/* ---- a random script held to a model of the caches the skeleton replaced ---- */

/*
 * The old caches: an array of keys with ticks, the least tick evicted
 * among the entries not pinned. A use is a new highest tick; a store under
 * LRU_ORDER_HIT a new lowest one (never hit: evicted first, the last
 * stored of them first).
 */
#define MODEL_MAX 1024

struct model {
	int key[MODEL_MAX];
	int64_t value[MODEL_MAX];
	int64_t tick[MODEL_MAX];
	size_t n, cap;
	int64_t now, low;
	uint64_t evictions, refused;
	enum lru_order order;
	const struct pins *pins; /* NULL: nothing pinned */
};

static size_t model_find(const struct model *m, int k)
{
	size_t i;

	for (i = 0; i < m->n && m->key[i] != k; i++)
		;
	return i;
}

static void model_remove(struct model *m, size_t i)
{
	m->n--;
	m->key[i] = m->key[m->n];
	m->value[i] = m->value[m->n];
	m->tick[i] = m->tick[m->n];
}

static bool model_pinned(const struct model *m, size_t i)
{
	return m->pins != NULL && m->pins->key[m->key[i]];
}

/* A store's tick: the highest, or under LRU_ORDER_HIT the lowest. */
static int64_t model_store_tick(struct model *m)
{
	return m->order == LRU_ORDER_HIT ? --m->low : ++m->now;
}

/* false when refused (the key's entry pinned, or full and every entry pinned). */
static bool model_put(struct model *m, int k, int64_t v)
{
	size_t i = model_find(m, k), victim = m->n;

	if (i < m->n && model_pinned(m, i)) {
		m->refused++;
		return false;
	}
	if (i == m->n && m->n == m->cap) {
		for (size_t j = 0; j < m->n; j++)
			if (!model_pinned(m, j) && (victim == m->n || m->tick[j] < m->tick[victim]))
				victim = j;
		if (victim == m->n) {
			m->refused++;
			return false;
		}
		model_remove(m, victim);
		m->evictions++;
		i = m->n;
	}
	if (i == m->n)
		m->n++;
	m->key[i] = k;
	m->value[i] = v;
	m->tick[i] = model_store_tick(m);
	return true;
}

static void model_renew(struct model *m, size_t i)
{
	if (m->order != LRU_ORDER_STORE)
		m->tick[i] = ++m->now;
}

/* What lru_get must answer, and the model's own update. */
static bool model_get(struct model *m, int k, enum lru_verdict verdict, int64_t *value)
{
	size_t i = model_find(m, k);

	if (i == m->n)
		return false;
	*value = m->value[i];
	if (verdict == LRU_DROP && !model_pinned(m, i))
		model_remove(m, i);
	if (verdict != LRU_HIT)
		return false;
	model_renew(m, i);
	return true;
}

/* lru_add: stored when absent (unless refused); else the entry is renewed as by a hit. */
static enum added model_add(struct model *m, int k, int64_t v, int64_t *present)
{
	size_t i = model_find(m, k);

	if (i == m->n)
		return model_put(m, k, v) ? ADD_STORED : ADD_REFUSED;
	*present = m->value[i];
	model_renew(m, i);
	return ADD_FOUND;
}

static uint32_t next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* One step of the script: a put, an add, a lookup, or (with pins) a key pinned or unpinned. */
static void model_step(struct lru *l, struct tally *y, struct model *m, struct pins *pins, int k, int step,
		       uint32_t *seed)
{
	static const enum lru_verdict verdicts[] = {LRU_HIT, LRU_HIT, LRU_HIT, LRU_MISS, LRU_DROP};
	uint32_t op = next_rand(seed) % (pins != NULL ? 7 : 6);
	int64_t want = -1, got = -1;

	if (op == 0) {
		bool stored, want_stored = model_put(m, k, step);

		put_as(l, y, k, step, &stored);
		if (stored != want_stored)
			fail_msg("cap %zu order %d step %d put %d: lru %d, model %d", m->cap, (int)m->order,
				 step, k, stored, want_stored);
	} else if (op == 1) {
		enum added want_a = model_add(m, k, step, &want), a = add_as(l, y, k, step, &got);

		if (a != want_a || got != want)
			fail_msg("cap %zu order %d step %d add %d: lru %d %lld, model %d %lld", m->cap,
				 (int)m->order, step, k, (int)a, (long long)got, (int)want_a,
				 (long long)want);
	} else if (op == 6) {
		pins->key[k] = !pins->key[k];
	} else {
		enum lru_verdict v = verdicts[next_rand(seed) % 5];
		bool hit = model_get(m, k, v, &want);

		if (get_as(l, k, v, &got) != hit || got != want)
			fail_msg("cap %zu order %d step %d key %d: lru %lld, model %lld", m->cap,
				 (int)m->order, step, k, (long long)got, (long long)want);
	}
}

/* A walk's keys, counted per key: each stored key exactly once, no other. */
struct walk_count {
	int count[PIN_KEYS];
	int n;
};

static bool walk_count(const void *slot, void *arg)
{
	struct walk_count *w = arg;

	w->count[((const struct slot *)slot)->key]++;
	w->n++;
	return true;
}

static void walk_matches_model(struct lru *l, const struct model *m)
{
	struct walk_count *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	lru_walk(l, walk_count, w);
	assert_int_equal(w->n, m->n);
	for (size_t i = 0; i < m->n; i++)
		assert_int_equal(w->count[m->key[i]], 1);
	free(w);
}

static void run_against_model(size_t cap, enum lru_order order, bool pinning, uint32_t seed)
{
	struct tally *y = calloc(1, sizeof(*y));
	struct model *m = calloc(1, sizeof(*m));
	struct pins *pins = pinning ? calloc(1, sizeof(*pins)) : NULL;
	struct lru_stats st;
	struct lru *l;
	int keys = (int)cap * 2 + 1, steps = cap * 6 > 1500 ? (int)cap * 6 : 1500;

	assert_non_null(y);
	assert_non_null(m);
	assert_true(!pinning || pins != NULL);
	assert_true(cap <= MODEL_MAX && keys <= PIN_KEYS);
	m->cap = cap;
	m->order = order;
	m->pins = pins;
	l = new_pinned_cache(cap, order, y, pins);
	for (int step = 0; step < steps; step++) {
		model_step(l, y, m, pins, (int)(next_rand(&seed) % (uint32_t)keys), step, &seed);
		assert_int_equal(lru_count(l), m->n);
		if (step % 97 == 0)
			walk_matches_model(l, m);
	}
	lru_stats(l, &st);
	assert_int_equal(st.evictions, m->evictions);
	assert_int_equal(st.refused, m->refused);
	done(l, y);
	free(pins);
	free(m);
	free(y);
}

static void a_random_script_matches_the_linear_model(void **state)
{
	/* 1000: a table of 1024 buckets, chains of several entries unlinked from their middle. */
	static const size_t caps[] = {1, 2, 3, 5, 8, 13, 64, 1000};

	(void)state;
	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		run_against_model(caps[c], LRU_ORDER_USE, false, 0x9E3779B9u + (uint32_t)c);
		run_against_model(caps[c], LRU_ORDER_STORE, false, 0x7F4A7C15u + (uint32_t)c);
		run_against_model(caps[c], LRU_ORDER_HIT, false, 0x2545F491u + (uint32_t)c);
	}
}

/*
 * The same with keys pinned and unpinned along the script: evictions skip
 * them, a put over one or a drop of one leaves it, stores may be refused.
 */
static void a_random_script_with_pins_matches_the_linear_model(void **state)
{
	static const size_t caps[] = {1, 2, 3, 5, 8, 13, 64, 1000};

	(void)state;
	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		run_against_model(caps[c], LRU_ORDER_USE, true, 0x1B873593u + (uint32_t)c);
		run_against_model(caps[c], LRU_ORDER_STORE, true, 0xCC9E2D51u + (uint32_t)c);
		run_against_model(caps[c], LRU_ORDER_HIT, true, 0x85EBCA6Bu + (uint32_t)c);
	}
}

/* ---- four threads on a barrier ------------------------------------------- */

/* A reference-counted object, as the collateral cache's entries are. */
struct robj {
	atomic_int refs;
	uint8_t tag;
	uint8_t scratch[15];
};

static atomic_int robj_alive;

static void robj_put_ref(struct robj *o)
{
	if (atomic_fetch_sub(&o->refs, 1) == 1) {
		atomic_fetch_sub(&robj_alive, 1);
		free(o);
	}
}

struct rslot {
	struct robj *o;
	uint8_t tag;
};

static void rslot_release(void *slot, void *arg)
{
	(void)arg;
	robj_put_ref(((struct rslot *)slot)->o);
}

struct rlook {
	uint8_t want;
	bool drop;
	struct robj *got;
	atomic_int *wrong; /* slots found under another key's tag */
};

static enum lru_verdict rlook(const void *slot, void *arg)
{
	const struct rslot *s = slot;
	struct rlook *q = arg;

	if (s->tag != q->want || s->o->tag != q->want) {
		atomic_fetch_add(q->wrong, 1); /* another key's slot */
		return LRU_MISS;
	}
	if (q->drop)
		return LRU_DROP;
	atomic_fetch_add(&s->o->refs, 1); /* the caller's, under the lock */
	q->got = s->o;
	return LRU_HIT;
}

/* lru_add found an entry: a reference to it for the caller, in place of its own. */
static void rfound(const void *slot, void *arg)
{
	const struct rslot *s = slot;
	struct rlook *q = arg;

	if (s->tag != q->want || s->o->tag != q->want)
		atomic_fetch_add(q->wrong, 1);
	atomic_fetch_add(&s->o->refs, 1);
	q->got = s->o;
}

#define THREADS 4
#define OPS	20000
#define KEYS	24

struct race {
	struct lru *l;
	pthread_barrier_t go;
	atomic_int wrong;
	atomic_uint_fast64_t gets;
};

static void *race_thread(void *arg)
{
	struct race *r = arg;
	uint32_t seed = (uint32_t)(uintptr_t)&seed | 1u;

	pthread_barrier_wait(&r->go);
	for (int i = 0; i < OPS; i++) {
		uint8_t k[LRU_KEY_SIZE];
		struct rlook q = {.want = (uint8_t)(next_rand(&seed) % KEYS), .wrong = &r->wrong};

		q.drop = next_rand(&seed) % 16 == 0;
		key_of(k, q.want);
		atomic_fetch_add(&r->gets, 1);
		if (!lru_get(r->l, k, rlook, &q)) {
			struct robj *o = calloc(1, sizeof(*o));
			struct rslot s;

			if (o == NULL)
				continue;
			atomic_init(&o->refs, 2); /* this thread's and the cache's */
			atomic_fetch_add(&robj_alive, 1);
			o->tag = q.want;
			s.o = o;
			s.tag = q.want;
			q.got = o;
			if (i % 2 == 0) {
				lru_put(r->l, k, &s);
			} else if (!lru_add(r->l, k, &s, rfound, &q)) {
				/* Another thread's came first: q.got is a reference to it; o was never
				 * shared. */
				atomic_fetch_sub(&robj_alive, 1);
				free(o);
			}
		}
		if (q.got->tag != q.want)
			atomic_fetch_add(&r->wrong, 1);
		memset(q.got->scratch, i, sizeof(q.got->scratch)); /* freed memory here trips ASan */
		robj_put_ref(q.got);
	}
	return NULL;
}

static void race(enum lru_order order)
{
	struct lru_type type = {.slot_size = sizeof(struct rslot), .order = order, .release = rslot_release};
	struct race r = {0};
	pthread_t t[THREADS];
	struct lru_stats st;

	assert_non_null(r.l = lru_new(8, &type));
	assert_int_equal(pthread_barrier_init(&r.go, NULL, THREADS), 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, race_thread, &r), 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	pthread_barrier_destroy(&r.go);
	assert_int_equal(atomic_load(&r.wrong), 0);
	lru_stats(r.l, &st);
	assert_int_equal(st.hits + st.misses, atomic_load(&r.gets));
	assert_true(st.hits > 0 && st.misses > 0);
	assert_true(lru_count(r.l) <= 8);
	assert_int_equal(atomic_load(&robj_alive), (int)lru_count(r.l)); /* the cache's only */
	lru_free(r.l);
	assert_int_equal(atomic_load(&robj_alive), 0); /* each released exactly once */
}

static void four_threads_on_a_barrier_share_one_cache(void **state)
{
	(void)state;
	race(LRU_ORDER_USE);
}

static void four_threads_on_a_barrier_share_one_store_order_cache(void **state)
{
	(void)state;
	race(LRU_ORDER_STORE);
}

/* ---- four threads pinning what they use ------------------------------------- */

/*
 * An entry in use is pinned, not reference counted (as the caching
 * collateral source's entries are while a fetch or a waiter holds them):
 * the cache frees an entry as it leaves, so one evicted under its user
 * would be a use after free (ASan) and a release while users > 0 (counted).
 */
struct pobj {
	atomic_int users;
	uint8_t tag;
	uint8_t scratch[15];
};

struct pslot {
	struct pobj *o;
	uint8_t tag;
};

struct prace {
	struct lru *l;
	pthread_barrier_t go;
	atomic_int wrong, freed_in_use, alive, refused;
};

static void pslot_release(void *slot, void *arg)
{
	struct pobj *o = ((struct pslot *)slot)->o;
	struct prace *r = arg;

	if (atomic_load(&o->users) != 0)
		atomic_fetch_add(&r->freed_in_use, 1);
	atomic_fetch_sub(&r->alive, 1);
	free(o);
}

static bool pslot_pinned(const void *slot, void *arg)
{
	(void)arg;
	return atomic_load(&((const struct pslot *)slot)->o->users) > 0;
}

/* A lookup or add that found the entry: one more user, under the lock. */
struct puse {
	uint8_t want;
	struct pobj *got;
	atomic_int *wrong;
};

static enum lru_verdict plook(const void *slot, void *arg)
{
	const struct pslot *s = slot;
	struct puse *q = arg;

	if (s->tag != q->want || s->o->tag != q->want) {
		atomic_fetch_add(q->wrong, 1);
		return LRU_MISS;
	}
	atomic_fetch_add(&s->o->users, 1);
	q->got = s->o;
	return LRU_HIT;
}

static void pfound(const void *slot, void *arg)
{
	(void)plook(slot, arg);
}

/* Key `want`'s object with this thread as one of its users; *own: a private one (the cache was full of
 * pinned). */
static struct pobj *puse_take(struct prace *r, uint8_t want, bool *own)
{
	uint8_t k[LRU_KEY_SIZE];
	struct puse q = {.want = want, .wrong = &r->wrong};
	struct pslot s = {.tag = want};

	*own = false;
	key_of(k, want);
	if (lru_get(r->l, k, plook, &q))
		return q.got;
	if ((s.o = calloc(1, sizeof(*s.o))) == NULL)
		return NULL;
	atomic_init(&s.o->users, 1); /* this thread's, before the cache can see it */
	s.o->tag = want;
	atomic_fetch_add(&r->alive, 1);
	if (lru_add(r->l, k, &s, pfound, &q))
		return s.o;
	atomic_fetch_sub(&r->alive, 1);
	free(s.o);
	if (q.got != NULL)
		return q.got; /* another thread's came first */
	atomic_fetch_add(&r->refused, 1);
	if ((s.o = calloc(1, sizeof(*s.o))) != NULL) { /* never shared: this thread's alone */
		s.o->tag = want;
		*own = true;
	}
	return s.o;
}

static void *prace_thread(void *arg)
{
	struct prace *r = arg;
	uint32_t seed = (uint32_t)(uintptr_t)&seed | 1u;

	pthread_barrier_wait(&r->go);
	for (int i = 0; i < OPS / 2; i++) {
		uint8_t a = (uint8_t)(next_rand(&seed) % KEYS),
			b = (uint8_t)((a + 1 + next_rand(&seed) % (KEYS - 1)) % KEYS);
		bool own_a, own_b;
		struct pobj *oa = puse_take(r, a, &own_a), *ob = oa ? puse_take(r, b, &own_b) : NULL;

		/* both held at once: up to eight pins on four entries, so stores are refused at times */
		if (oa != NULL && oa->tag != a)
			atomic_fetch_add(&r->wrong, 1);
		if (ob != NULL && ob->tag != b)
			atomic_fetch_add(&r->wrong, 1);
		if (oa != NULL)
			memset(oa->scratch, i, sizeof(oa->scratch)); /* freed memory here trips ASan */
		if (ob != NULL)
			memset(ob->scratch, i, sizeof(ob->scratch));
		if (ob != NULL && own_b)
			free(ob);
		else if (ob != NULL)
			atomic_fetch_sub(&ob->users, 1);
		if (oa != NULL && own_a)
			free(oa);
		else if (oa != NULL)
			atomic_fetch_sub(&oa->users, 1);
	}
	return NULL;
}

static void four_threads_pinning_what_they_use_never_lose_it_to_eviction(void **state)
{
	static const enum lru_order orders[] = {LRU_ORDER_USE, LRU_ORDER_HIT};

	(void)state;
	for (size_t o = 0; o < 2; o++) {
		struct prace r = {0};
		struct lru_type type = {.slot_size = sizeof(struct pslot),
					.order = orders[o],
					.release = pslot_release,
					.release_arg = &r,
					.pinned = pslot_pinned};
		pthread_t t[THREADS];
		struct lru_stats st;

		assert_non_null(r.l = lru_new(4, &type));
		assert_int_equal(pthread_barrier_init(&r.go, NULL, THREADS), 0);
		for (int i = 0; i < THREADS; i++)
			assert_int_equal(pthread_create(&t[i], NULL, prace_thread, &r), 0);
		for (int i = 0; i < THREADS; i++)
			assert_int_equal(pthread_join(t[i], NULL), 0);
		pthread_barrier_destroy(&r.go);
		lru_stats(r.l, &st);
		assert_int_equal(atomic_load(&r.wrong), 0);
		assert_int_equal(atomic_load(&r.freed_in_use), 0);
		assert_int_equal(st.refused, (uint64_t)atomic_load(&r.refused));
		assert_true(st.evictions > 0);
		assert_int_equal(atomic_load(&r.alive), (int)lru_count(r.l));
		lru_free(r.l);
		assert_int_equal(atomic_load(&r.alive), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(capacity_and_slot_size_are_bounded),
	    cmocka_unit_test(a_stored_key_is_found_with_its_slot),
	    cmocka_unit_test(an_absent_key_is_a_miss_without_calling_look),
	    cmocka_unit_test(a_null_look_hits_every_entry_found),
	    cmocka_unit_test(keys_differing_in_any_one_byte_are_distinct),
	    cmocka_unit_test(use_order_evicts_the_least_recently_stored_or_hit),
	    cmocka_unit_test(store_order_evicts_the_first_stored_even_if_hit),
	    cmocka_unit_test(capacity_one_keeps_the_last_stored),
	    cmocka_unit_test(a_put_under_the_same_key_replaces_and_renews_it),
	    cmocka_unit_test(a_miss_verdict_keeps_the_entry),
	    cmocka_unit_test(a_miss_verdict_does_not_renew_the_entry),
	    cmocka_unit_test(a_drop_verdict_releases_the_entry_once_and_frees_its_place),
	    cmocka_unit_test(add_stores_an_absent_key_and_keeps_the_first_under_a_present_one),
	    cmocka_unit_test(add_renews_the_entry_it_finds),
	    cmocka_unit_test(hit_order_evicts_entries_never_hit_first_the_last_stored_of_them_first),
	    cmocka_unit_test(add_under_hit_order_renews_what_it_finds),
	    cmocka_unit_test(a_pinned_entry_is_never_evicted_the_next_least_recent_goes),
	    cmocka_unit_test(a_full_cache_of_pinned_entries_refuses_stores_and_the_slot_stays_the_callers),
	    cmocka_unit_test(a_walk_visits_every_entry_once_and_stops_when_told),
	    cmocka_unit_test(a_walk_renews_nothing),
	    cmocka_unit_test(a_random_script_matches_the_linear_model),
	    cmocka_unit_test(a_random_script_with_pins_matches_the_linear_model),
	    cmocka_unit_test(four_threads_on_a_barrier_share_one_cache),
	    cmocka_unit_test(four_threads_on_a_barrier_share_one_store_order_cache),
	    cmocka_unit_test(four_threads_pinning_what_they_use_never_lose_it_to_eviction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
