/*
 * Cache of compiled plans keyed by x-ms-policy-hash (ARCHITECTURE.md
 * "Policies"). A small array with LRU ticks under one mutex: entries are
 * few (one per distinct policy text in use), lookups are a hash compare.
 * Compilation happens outside the lock; if two threads compile the same
 * text at once, the first insert wins and the other plan is dropped.
 */
#include "policy/policy.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct cache_entry {
	char hash[POLICY_HASH_B64_LEN + 1];
	struct policy_plan *plan; /* one reference held by the cache */
	uint64_t tick;
};

struct policy_cache {
	pthread_mutex_t lock;
	struct cache_entry *v;
	size_t n, max;
	uint64_t tick;
	struct policy_limits lim;
	struct policy_cache_stats st;
};

struct policy_cache *policy_cache_new(size_t max_entries, const struct policy_limits *lim)
{
	struct policy_cache *c;

	if (max_entries == 0 || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->v = calloc(max_entries, sizeof(*c->v))) == NULL || pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c->v);
		free(c);
		return NULL;
	}
	c->max = max_entries;
	if (lim != NULL)
		c->lim = *lim;
	else
		policy_limits_default(&c->lim);
	return c;
}

void policy_cache_free(struct policy_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		policy_plan_free(c->v[i].plan);
	pthread_mutex_destroy(&c->lock);
	free(c->v);
	free(c);
}

/* Under the lock: the entry of hash, refreshed, or NULL. */
static struct cache_entry *find_locked(struct policy_cache *c, const char *hash)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].hash, hash) == 0) {
			c->v[i].tick = ++c->tick;
			return &c->v[i];
		}
	return NULL;
}

int policy_cache_lookup(struct policy_cache *c, const char *hash, struct policy_plan **out)
{
	struct cache_entry *e;
	int rc = ATTEST_E_NOT_FOUND;

	pthread_mutex_lock(&c->lock);
	if ((e = find_locked(c, hash)) != NULL) {
		*out = policy_plan_ref(e->plan);
		c->st.hits++;
		rc = ATTEST_OK;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* Under the lock: inserts plan (taking a reference), evicting the least recently used entry when full. */
static void insert_locked(struct policy_cache *c, const char *hash, struct policy_plan *plan)
{
	struct cache_entry *e;

	if (c->n < c->max) {
		e = &c->v[c->n++];
	} else {
		e = &c->v[0];
		for (size_t i = 1; i < c->n; i++)
			if (c->v[i].tick < e->tick)
				e = &c->v[i];
		policy_plan_free(e->plan);
		c->st.evictions++;
	}
	memcpy(e->hash, hash, sizeof(e->hash));
	e->plan = policy_plan_ref(plan);
	e->tick = ++c->tick;
}

int policy_cache_get(struct policy_cache *c, const char *text, size_t len, struct policy_plan **out,
		     struct attest_err *err)
{
	char hash[POLICY_HASH_B64_LEN + 1];
	struct policy_plan *plan = NULL;
	struct cache_entry *e;
	int rc;

	if (len > c->lim.max_bytes)
		return attest_err_set(err, ATTEST_E_POLICY, "policy.too_large",
				      "the policy is %zu bytes, over the %zu-byte limit", len, c->lim.max_bytes);
	if (policy_hash_text(text, len, hash) != ATTEST_OK)
		return attest_err_set(err, ATTEST_E_NOMEM, "policy.nomem", "out of memory hashing the policy");
	if (policy_cache_lookup(c, hash, out) == ATTEST_OK)
		return ATTEST_OK;
	if ((rc = policy_compile(text, len, &c->lim, &plan, err)) != ATTEST_OK)
		return rc;
	pthread_mutex_lock(&c->lock);
	c->st.misses++;
	if ((e = find_locked(c, hash)) != NULL) {
		*out = policy_plan_ref(e->plan); /* another thread won the race */
	} else {
		insert_locked(c, hash, plan);
		*out = policy_plan_ref(plan);
	}
	pthread_mutex_unlock(&c->lock);
	policy_plan_free(plan);
	return ATTEST_OK;
}

void policy_cache_stats(struct policy_cache *c, struct policy_cache_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->st;
	out->entries = c->n;
	pthread_mutex_unlock(&c->lock);
}
