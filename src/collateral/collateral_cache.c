/*
 * The verified-object cache (collateral.h): a small open array under one
 * mutex (lookups are a few dozen memcmp of 32 bytes; the cache is bounded),
 * entries reference-counted so an evicted object stays valid for whoever
 * still holds it.
 */
#include "collateral/collateral.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct collateral_ref {
	uint8_t key[32];
	void *obj;
	void (*destroy)(void *);
	int64_t not_before, not_after;
	atomic_size_t refs;
	uint64_t last_use;
};

struct collateral_cache {
	pthread_mutex_t mu;
	struct collateral_ref **slots;
	size_t n, max;
	uint64_t tick, hits, misses;
};

struct collateral_cache *collateral_cache_new(size_t max_entries)
{
	struct collateral_cache *c = calloc(1, sizeof(*c));

	if (c == NULL || max_entries == 0)
		goto fail;
	if ((c->slots = calloc(max_entries, sizeof(struct collateral_ref *))) == NULL)
		goto fail;
	if (pthread_mutex_init(&c->mu, NULL) != 0)
		goto fail;
	c->max = max_entries;
	return c;
fail:
	if (c != NULL)
		free(c->slots);
	free(c);
	return NULL;
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
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		collateral_ref_release(c->slots[i]);
	pthread_mutex_destroy(&c->mu);
	free(c->slots);
	free(c);
}

void *collateral_ref_obj(const struct collateral_ref *r)
{
	return r ? r->obj : NULL;
}

/* Removes slot i (caller holds the lock). */
static void drop_slot(struct collateral_cache *c, size_t i)
{
	collateral_ref_release(c->slots[i]);
	c->slots[i] = c->slots[--c->n];
}

struct collateral_ref *collateral_cache_get(struct collateral_cache *c, const uint8_t key[32], int64_t now,
					    void **obj)
{
	struct collateral_ref *r = NULL;
	size_t i;

	if (c == NULL)
		return NULL;
	pthread_mutex_lock(&c->mu);
	for (i = 0; i < c->n; i++) {
		if (memcmp(c->slots[i]->key, key, 32) != 0)
			continue;
		if (now < c->slots[i]->not_before || now > c->slots[i]->not_after) {
			/* Not valid at this time; keep it for other times only if not yet valid. */
			if (now > c->slots[i]->not_after)
				drop_slot(c, i);
			break;
		}
		r = c->slots[i];
		atomic_fetch_add(&r->refs, 1);
		r->last_use = ++c->tick;
		break;
	}
	if (r != NULL)
		c->hits++;
	else
		c->misses++;
	pthread_mutex_unlock(&c->mu);
	if (r != NULL)
		*obj = r->obj;
	return r;
}

/* Evicts the least recently used entry (caller holds the lock; n == max). */
static void evict_one(struct collateral_cache *c)
{
	size_t i, victim = 0;

	for (i = 1; i < c->n; i++)
		if (c->slots[i]->last_use < c->slots[victim]->last_use)
			victim = i;
	drop_slot(c, victim);
}

struct collateral_ref *collateral_cache_put(struct collateral_cache *c, const uint8_t key[32], void *obj,
					    void (*destroy)(void *), int64_t not_before, int64_t not_after)
{
	struct collateral_ref *r = calloc(1, sizeof(*r));
	size_t i;

	if (r == NULL) {
		if (destroy != NULL)
			destroy(obj);
		return NULL;
	}
	memcpy(r->key, key, 32);
	r->obj = obj;
	r->destroy = destroy;
	r->not_before = not_before;
	r->not_after = not_after;
	atomic_init(&r->refs, 1); /* the caller's */
	if (c == NULL)
		return r; /* no cache: a standalone reference */
	pthread_mutex_lock(&c->mu);
	for (i = 0; i < c->n; i++)
		if (memcmp(c->slots[i]->key, key, 32) == 0) {
			drop_slot(c, i);
			break;
		}
	if (c->n == c->max)
		evict_one(c);
	atomic_fetch_add(&r->refs, 1); /* the cache's */
	r->last_use = ++c->tick;
	c->slots[c->n++] = r;
	pthread_mutex_unlock(&c->mu);
	return r;
}

size_t collateral_cache_count(struct collateral_cache *c)
{
	size_t n;

	if (c == NULL)
		return 0;
	pthread_mutex_lock(&c->mu);
	n = c->n;
	pthread_mutex_unlock(&c->mu);
	return n;
}

void collateral_cache_stats(struct collateral_cache *c, uint64_t *hits, uint64_t *misses)
{
	if (c == NULL) {
		*hits = *misses = 0;
		return;
	}
	pthread_mutex_lock(&c->mu);
	*hits = c->hits;
	*misses = c->misses;
	pthread_mutex_unlock(&c->mu);
}
