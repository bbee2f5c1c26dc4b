/*
 * Cache of compiled plans keyed by x-ms-policy-hash (ARCHITECTURE.md
 * "Policies"): a user of the one cache skeleton (base/lru.h), whose slot
 * is one plan reference and its hash. Compilation happens outside the
 * lock; if two threads compile the same text at once, the first insert
 * wins (lru_add) and the other plan is dropped.
 *
 * The skeleton's key is the hash's first 32 characters (192 of its 256
 * bits; a shorter text is padded with zeros), and a lookup compares the
 * whole hash kept in the slot, so a text that only shares that prefix
 * never finds another policy's plan.
 */
#include "policy/policy.h"

#include "base/lru.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(POLICY_HASH_B64_LEN >= LRU_KEY_SIZE, "a hash text fills a key");

struct plan_slot {
	struct policy_plan *plan; /* one reference held by the cache */
	char hash[POLICY_HASH_B64_LEN + 1];
};

struct policy_cache {
	struct lru *lru;
	struct policy_limits lim;
	atomic_uint_fast64_t misses; /* plans compiled and offered to the cache */
};

/* The skeleton's release hook: the cache's reference goes. */
static void slot_release(void *slot, void *arg)
{
	(void)arg;
	policy_plan_free(((struct plan_slot *)slot)->plan);
}

static const struct lru_type PLAN_SLOT = {
    .slot_size = sizeof(struct plan_slot), .order = LRU_ORDER_USE, .release = slot_release};

struct policy_cache *policy_cache_new(size_t max_entries, const struct policy_limits *lim)
{
	struct policy_cache *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->lru = lru_new(max_entries, &PLAN_SLOT)) == NULL) {
		free(c);
		return NULL;
	}
	if (lim != NULL)
		c->lim = *lim;
	else
		policy_limits_default(&c->lim);
	atomic_init(&c->misses, 0);
	return c;
}

void policy_cache_free(struct policy_cache *c)
{
	if (c == NULL)
		return;
	lru_free(c->lru);
	free(c);
}

/* The skeleton's key of a hash text (above). */
static void key_of(const char *hash, uint8_t key[LRU_KEY_SIZE])
{
	size_t n = strnlen(hash, LRU_KEY_SIZE);

	memcpy(key, hash, n);
	memset(key + n, 0, LRU_KEY_SIZE - n);
}

/* One lookup: the whole hash wanted and, on a hit, a new reference to its plan. */
struct plan_look {
	const char *hash;
	struct policy_plan *plan;
};

static enum lru_verdict plan_look(const void *slot, void *arg)
{
	const struct plan_slot *s = slot;
	struct plan_look *q = arg;

	if (strcmp(s->hash, q->hash) != 0)
		return LRU_MISS;
	q->plan = policy_plan_ref(s->plan);
	return LRU_HIT;
}

/* A lookup under key (key_of(hash)). */
static int lookup(struct policy_cache *c, const uint8_t key[LRU_KEY_SIZE], const char *hash,
		  struct policy_plan **out)
{
	struct plan_look q = {.hash = hash};

	if (!lru_get(c->lru, key, plan_look, &q))
		return ATTEST_E_NOT_FOUND;
	*out = q.plan;
	return ATTEST_OK;
}

int policy_cache_lookup(struct policy_cache *c, const char *hash, struct policy_plan **out)
{
	uint8_t key[LRU_KEY_SIZE];

	key_of(hash, key);
	return lookup(c, key, hash, out);
}

/* lru_add found a plan under the key: the caller takes it if it is the same hash. */
static void plan_found(const void *slot, void *arg)
{
	(void)plan_look(slot, arg);
}

int policy_cache_get(struct policy_cache *c, const char *text, size_t len, struct policy_plan **out,
		     struct attest_err *err)
{
	char hash[POLICY_HASH_B64_LEN + 1];
	struct plan_slot s = {0};
	struct plan_look q = {.hash = hash};
	uint8_t key[LRU_KEY_SIZE];
	int rc;

	if (len > c->lim.max_bytes)
		return attest_err_set(err, ATTEST_E_POLICY, "policy.too_large",
				      "the policy is %zu bytes, over the %zu-byte limit", len,
				      c->lim.max_bytes);
	if (policy_hash_text(text, len, hash) != ATTEST_OK)
		return attest_err_set(err, ATTEST_E_NOMEM, "policy.nomem",
				      "out of memory hashing the policy");
	memcpy(key, hash, sizeof(key)); /* key_of: the hash is POLICY_HASH_B64_LEN > 32 characters */
	if (lookup(c, key, hash, out) == ATTEST_OK)
		return ATTEST_OK;
	if ((rc = policy_compile(text, len, &c->lim, &s.plan, err)) != ATTEST_OK)
		return rc;
	atomic_fetch_add(&c->misses, 1);
	memcpy(s.hash, hash, sizeof(s.hash));
	/*
	 * The caller's reference is taken before the plan is shared: once
	 * stored, another thread may evict it at any time. Stored, the
	 * compile's reference is the cache's.
	 */
	*out = policy_plan_ref(s.plan);
	if (!lru_add(c->lru, key, &s, plan_found, &q)) {
		policy_plan_free(s.plan); /* not stored: the compile's reference goes */
		if (q.plan != NULL) {	  /* another thread won the race: its plan */
			policy_plan_free(*out);
			*out = q.plan;
		}
	}
	return ATTEST_OK;
}

void policy_cache_stats(struct policy_cache *c, struct policy_cache_stats *out)
{
	struct lru_stats st;

	lru_stats(c->lru, &st);
	out->hits = st.hits;
	out->misses = atomic_load(&c->misses);
	out->evictions = st.evictions;
	out->entries = st.entries;
}
