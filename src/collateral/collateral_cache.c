/*
 * The verified-object cache (collateral.h): a user of the one cache
 * skeleton (base/lru.h) whose slot is one pointer to a reference-counted
 * entry. The cache holds one reference per entry and a lookup takes one
 * more for the caller under the skeleton's lock, so an entry evicted or
 * replaced meanwhile stays valid for whoever still holds it.
 */
#include "collateral/collateral.h"

#include "base/lru.h"

#include <stdatomic.h>
#include <stdlib.h>

struct collateral_ref {
	void *obj;
	void (*destroy)(void *);
	int64_t not_before, not_after; /* a hit needs not_before <= now <= not_after */
	atomic_size_t refs;
};

struct collateral_cache {
	struct lru *lru;
};

/* The skeleton's release hook: the cache's reference goes. */
static void slot_release(void *slot, void *arg)
{
	(void)arg;
	collateral_ref_release(*(struct collateral_ref **)slot);
}

static const struct lru_type COLLATERAL_SLOT = {
    .slot_size = sizeof(struct collateral_ref *), .order = LRU_ORDER_USE, .release = slot_release};

struct collateral_cache *collateral_cache_new(size_t max_entries)
{
	struct collateral_cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	if ((c->lru = lru_new(max_entries, &COLLATERAL_SLOT)) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

void collateral_ref_release(struct collateral_ref *r)
{
	if (r == NULL)
		return;
	if (atomic_fetch_sub(&r->refs, 1) == 1) {
		if (r->destroy != NULL)
			r->destroy(r->obj);
		free(r);
	}
}

void collateral_cache_free(struct collateral_cache *c)
{
	if (c == NULL)
		return;
	lru_free(c->lru);
	free(c);
}

void *collateral_ref_obj(const struct collateral_ref *r)
{
	return r ? r->obj : NULL;
}

/* One lookup's time and, on a hit, the caller's new reference. */
struct ref_look {
	int64_t now;
	struct collateral_ref *hit;
};

static enum lru_verdict ref_look(const void *slot, void *arg)
{
	struct collateral_ref *r = *(struct collateral_ref *const *)slot;
	struct ref_look *q = arg;

	/* Not valid at this time; kept for other times only if not yet valid. */
	if (q->now < r->not_before)
		return LRU_MISS;
	if (q->now > r->not_after)
		return LRU_DROP;
	atomic_fetch_add(&r->refs, 1);
	q->hit = r;
	return LRU_HIT;
}

struct collateral_ref *collateral_cache_get(struct collateral_cache *c, const uint8_t key[32], int64_t now,
					    void **obj)
{
	struct ref_look q = {.now = now};

	if (c == NULL || !lru_get(c->lru, key, ref_look, &q))
		return NULL;
	*obj = q.hit->obj;
	return q.hit;
}

struct collateral_ref *collateral_cache_put(struct collateral_cache *c, const uint8_t key[32], void *obj,
					    void (*destroy)(void *), int64_t not_before, int64_t not_after)
{
	struct collateral_ref *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		if (destroy != NULL)
			destroy(obj);
		return NULL;
	}
	r->obj = obj;
	r->destroy = destroy;
	r->not_before = not_before;
	r->not_after = not_after;
	if (c == NULL) {
		atomic_init(&r->refs, 1); /* no cache: a standalone reference, the caller's */
		return r;
	}
	atomic_init(&r->refs, 2); /* the caller's and the cache's, before any other thread can see it */
	lru_put(c->lru, key, &r);
	return r;
}

size_t collateral_cache_count(struct collateral_cache *c)
{
	return c != NULL ? lru_count(c->lru) : 0;
}

void collateral_cache_stats(struct collateral_cache *c, uint64_t *hits, uint64_t *misses)
{
	struct lru_stats st;

	if (c == NULL) {
		*hits = *misses = 0;
		return;
	}
	lru_stats(c->lru, &st);
	*hits = st.hits;
	*misses = st.misses;
}
