/*
 * Unit tests of the verified-chain cache skeleton (src/evidence/chain_cache.h):
 * the window's edges to the second, accept(), eviction in both orders,
 * capacity 1, replacement, the references a payload holds, and four
 * threads sharing one cache; then the SNP chain cache's window to the
 * second through the verifier, on a synthetic platform (devplat). The TPM
 * AIK chain cache's edges are tested through its verifier in test_tpm;
 * both users also in test_tpm_protocol, test_snp, test_snp_plat and
 * test_sweep_snp.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "devplat/snp_plat.h"
#include "evidence/chain_cache.h"
#include "evidence/evidence.h"
#include "evidence/snp.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
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

/* One lookup and whether it must hit. */
struct probe {
	int64_t now;
	bool hit;
};

static void expect_probes(struct chain_cache *c, uint8_t tag, const struct probe *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (has(c, tag, p[i].now) != p[i].hit)
			fail_msg("id %u at %lld: a %s, expected a %s", tag, (long long)p[i].now,
				 p[i].hit ? "miss" : "hit", p[i].hit ? "hit" : "miss");
}

#define EXPECT_PROBES(c, tag, ...)                                                                           \
	expect_probes(c, tag, (const struct probe[]){__VA_ARGS__},                                           \
		      sizeof((const struct probe[]){__VA_ARGS__}) / sizeof(struct probe))

/* Frees c: every reference its entries held comes back to o. */
static void done(struct chain_cache *c, struct obj *o)
{
	chain_cache_free(c);
	assert_int_equal(atomic_load(&o->refs), 0);
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
	/* Out of its window the entry stays for the times it holds (the last probe). */
	EXPECT_PROBES(c, 1, {999, false}, {1000, true}, {1001, true}, {1999, true}, {2000, false},
		      {2001, false}, {1500, true});
	expect_stats(c, 4, 3);
	done(c, &o);
}

static void an_empty_window_never_hits(void **state)
{
	struct chain_cache *c = chain_cache_new(4, &LRU);
	struct obj o = {0};

	(void)state;
	put(c, &o, 1, 1000, 1000);
	put(c, &o, 2, 1000, 999);
	EXPECT_PROBES(c, 1, {999, false}, {1000, false});
	EXPECT_PROBES(c, 2, {999, false}, {1000, false});
	expect_stats(c, 0, 4);
	done(c, &o);
}

static void an_unknown_id_is_a_miss(void **state)
{
	struct chain_cache *c = chain_cache_new(4, &LRU);
	struct obj o = {0};

	(void)state;
	assert_false(has(c, 1, 0));
	put(c, &o, 1, FOREVER_FROM, FOREVER_UNTIL);
	assert_false(has(c, 2, 0));
	/* Keys that never expire (tpm_key_cache_put) are stored for all time but the last second. */
	EXPECT_PROBES(c, 1, {0, true}, {INT64_MIN, true}, {INT64_MAX - 1, true}, {INT64_MAX, false});
	expect_stats(c, 3, 3);
	done(c, &o);
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
	done(c, &o);
}

/*
 * Runs a script against a fresh cache of `cap` entries: "+n" stores tag n
 * (valid for all time), "n" must hit, "-n" must miss. A hit renews an entry
 * in LRU order; a miss changes nothing.
 */
static void run_script(size_t cap, const struct chain_cache_type *type, const char *script)
{
	struct chain_cache *c = chain_cache_new(cap, type);
	struct obj o = {0};
	const char *p = script;
	char *end;

	assert_non_null(c);
	while (*p != '\0') {
		long v = strtol(p + (*p == '+'), &end, 10), tag = v < 0 ? -v : v;

		assert_true(end > p && tag > 0 && tag < 100);
		if (*p == '+')
			put(c, &o, (uint8_t)tag, FOREVER_FROM, FOREVER_UNTIL);
		else if (has(c, (uint8_t)tag, 0) != (v > 0))
			fail_msg("%s: step \"%.*s\" failed", script, (int)(end - p), p);
		p = end + strspn(end, " ");
	}
	assert_int_equal(chain_cache_count(c), cap);
	assert_int_equal(atomic_load(&o.refs),
			 (int)cap); /* one per entry: the evicted ones' went with them */
	done(c, &o);
}

static void lru_eviction_spares_what_was_hit(void **state)
{
	(void)state;
	/* 1 hit after 2 and 3 were stored: 2 is the least recently used, then 3. */
	run_script(3, &LRU, "+1 +2 +3 1 +4 -2 3 4 1 +5 -3 4 1 5");
}

static void oldest_eviction_ignores_hits(void **state)
{
	(void)state;
	/* 1 hit does not renew it; 2 stored again does. */
	run_script(3, &OLDEST, "+1 +2 +3 1 +4 -1 2 3 4 +2 +5 -3 2 4 5");
}

static void capacity_one_keeps_the_last_stored(void **state)
{
	(void)state;
	run_script(1, &LRU, "+1 1 +2 -1 2 +2 2");
	run_script(1, &OLDEST, "+1 1 +2 -1 2 +2 2");
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
	done(c, &b);
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
	done(c, &o);
}

/* ---- the SNP chain cache's window, through the verifier --------------------- */

#define SNP_NOW 1700000000

/* A Milan platform, a VCEK valid [SNP_NOW - 10, SNP_NOW + 1000), a report it signed, a CRL. */
struct snp_world {
	struct snp_plat *plat;
	struct snp_plat_leaf leaf;
	STACK_OF(X509) * arks;
	struct evidence_anchors anchors;
	struct snp_chain_cache *cache;
	uint8_t report[SNP_REPORT_SIZE];
	uint8_t *vcek, *ask, *crl; /* DER */
	size_t vcek_len, ask_len, crl_len;
};

/* Once for the program (RSA-4096 keys: seconds without a key folder); each test gets a fresh cache. */
static struct snp_world SNP;

static int snp_world_new(void **state)
{
	static const uint8_t tcb[8] = {3, 0, 0, 0, 0, 0, 8, 0x73};
	uint8_t chip[64];
	/* The RSA-4096 CA keys are kept in the build folder between runs (ctest sets it). */
	struct snp_plat_opts o = {.product = AMD_PRODUCT_MILAN,
				  .not_before = 1600000000,
				  .not_after = 2000000000,
				  .key_dir = getenv("ATTEST_BINARY_DIR")};
	struct snp_plat_leaf_spec spec = {
	    .chip_id = chip, .tcb = tcb, .not_before = SNP_NOW - 10, .not_after = SNP_NOW + 1000};
	struct snp_world *w = &SNP;
	struct snp_report r;
	X509_CRL *crl = NULL;

	(void)state;
	memset(chip, 0x11, sizeof(chip));
	if (snp_plat_new(&o, &w->plat, NULL) != ATTEST_OK ||
	    snp_plat_issue(w->plat, &spec, &w->leaf, NULL) != ATTEST_OK)
		return -1;
	w->arks = sk_X509_new_null();
	if (w->arks == NULL || sk_X509_push(w->arks, snp_plat_ark(w->plat)) != 1)
		return -1;
	w->anchors.amd_arks = w->arks;
	snp_plat_report_defaults(w->plat, chip, tcb, false, &r);
	snp_plat_report_encode(&r, w->report);
	if (snp_plat_report_sign(w->report, w->leaf.key, NULL) != ATTEST_OK ||
	    snp_plat_crl(w->plat, false, false, SNP_NOW - 100, SNP_NOW + 100, &crl, NULL) != ATTEST_OK)
		return -1;
	w->vcek = snp_plat_der(w->leaf.cert, &w->vcek_len);
	w->ask = snp_plat_der(snp_plat_ask(w->plat), &w->ask_len);
	w->crl = snp_plat_crl_der(crl, &w->crl_len);
	X509_CRL_free(crl);
	return w->vcek != NULL && w->ask != NULL && w->crl != NULL ? 0 : -1;
}

static int snp_world_free(void **state)
{
	struct snp_world *w = &SNP;

	(void)state;
	free(w->vcek);
	free(w->ask);
	free(w->crl);
	sk_X509_free(w->arks);
	snp_plat_leaf_free(&w->leaf);
	snp_plat_free(w->plat);
	return 0;
}

static int snp_cache_fresh(void **state)
{
	SNP.cache = snp_chain_cache_new(4);
	*state = &SNP;
	return SNP.cache == NULL ? -1 : 0;
}

static int snp_cache_drop(void **state)
{
	(void)state;
	snp_chain_cache_free(SNP.cache);
	SNP.cache = NULL;
	return 0;
}

/* The report verified at now through the cache, with the CRL or without; the error's name, "" when it
 * verifies. */
static const char *snp_at(struct snp_world *w, int64_t now, bool with_crl)
{
	static struct attest_err err;
	struct evidence_ctx ctx = {.now = now, .anchors = &w->anchors};
	struct snp_opts o = {.cache = w->cache};
	struct snp_certs c = {.leaf = w->vcek,
			      .leaf_len = w->vcek_len,
			      .ask = w->ask,
			      .ask_len = w->ask_len,
			      .crl = with_crl ? w->crl : NULL,
			      .crl_len = with_crl ? w->crl_len : 0};

	attest_err_clear(&err);
	return snp_verify_report(&ctx, &o, w->report, SNP_REPORT_SIZE, &c, NULL, &err) == ATTEST_OK
		   ? ""
		   : err.name;
}

static void expect_snp_stats(struct snp_world *w, uint64_t hits, uint64_t misses)
{
	uint64_t h = 99, m = 99;

	snp_chain_cache_stats(w->cache, &h, &m);
	assert_int_equal(h, hits);
	assert_int_equal(m, misses);
}

static void snp_chain_hits_until_one_second_before_the_crl_next_update(void **state)
{
	struct snp_world *w = *state;

	assert_string_equal(snp_at(w, SNP_NOW, true), ""); /* verified, cached */
	assert_string_equal(snp_at(w, SNP_NOW + 99, true), "");
	expect_snp_stats(w, 1, 1);
	/* From nextUpdate on the cached chain is not used: verified in full, and refused. */
	assert_string_equal(snp_at(w, SNP_NOW + 100, true), "snp.crl_expired");
	expect_snp_stats(w, 1, 2);
}

static void snp_chain_hits_inside_the_vcek_validity_to_the_second(void **state)
{
	struct snp_world *w = *state;

	assert_string_equal(snp_at(w, SNP_NOW, false), "");	  /* verified, cached */
	assert_string_equal(snp_at(w, SNP_NOW - 10, false), "");  /* notBefore */
	assert_string_equal(snp_at(w, SNP_NOW + 999, false), ""); /* notAfter - 1 */
	expect_snp_stats(w, 2, 1);
	assert_string_equal(snp_at(w, SNP_NOW - 11, false), "snp.chain.not_yet_valid");
	assert_string_equal(snp_at(w, SNP_NOW + 1000, false), "snp.chain.expired");
	expect_snp_stats(w, 2, 3);
	/* The refusals stored nothing: the chain still hits inside its window. */
	assert_string_equal(snp_at(w, SNP_NOW + 500, false), "");
	expect_snp_stats(w, 3, 3);
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
	    cmocka_unit_test_setup_teardown(snp_chain_hits_until_one_second_before_the_crl_next_update,
					    snp_cache_fresh, snp_cache_drop),
	    cmocka_unit_test_setup_teardown(snp_chain_hits_inside_the_vcek_validity_to_the_second,
					    snp_cache_fresh, snp_cache_drop),
	};

	return cmocka_run_group_tests(tests, snp_world_new, snp_world_free);
}
