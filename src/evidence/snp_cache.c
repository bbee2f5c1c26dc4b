/*
 * The verified-chain cache: see snp.h. A fixed array of entries under one
 * mutex; lookups are a linear scan of at most `capacity` 32-byte keys, which
 * costs less than hashing the chain did. Full: the oldest entry goes.
 */
#include "evidence/snp_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct cache_entry {
	bool used;
	uint8_t key[32];
	uint64_t seq; /* insertion order, for eviction */
	struct amd_chain_result res;
};

struct snp_chain_cache {
	pthread_mutex_t lock;
	size_t cap;
	uint64_t seq;
	uint64_t hits, misses;
	struct cache_entry *v;
};

/* A linear scan: 4096 keys cost ~20 us, a tenth of the floor. */
#define SNP_CACHE_MAX_CAPACITY 4096u

struct snp_chain_cache *snp_chain_cache_new(size_t capacity)
{
	struct snp_chain_cache *c;

	if (capacity == 0 || capacity > SNP_CACHE_MAX_CAPACITY)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->v = calloc(capacity, sizeof(*c->v));
	if (c->v == NULL || pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c->v);
		free(c);
		return NULL;
	}
	c->cap = capacity;
	return c;
}

void snp_chain_cache_free(struct snp_chain_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->cap; i++)
		if (c->v[i].used)
			EVP_PKEY_free(c->v[i].res.leaf_key);
	pthread_mutex_destroy(&c->lock);
	free(c->v);
	free(c);
}

void snp_chain_cache_stats(struct snp_chain_cache *c, uint64_t *hits, uint64_t *misses)
{
	pthread_mutex_lock(&c->lock);
	*hits = c->hits;
	*misses = c->misses;
	pthread_mutex_unlock(&c->lock);
}

bool snp_chain_cache_get(struct snp_chain_cache *c, const uint8_t key[32], int64_t now,
			 struct amd_chain_result *out)
{
	bool found = false;

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->cap; i++) {
		struct cache_entry *e = &c->v[i];

		if (!e->used || memcmp(e->key, key, 32) != 0)
			continue;
		/* Outside the window the chain (or its CRL) no longer holds: a miss. */
		if (now >= e->res.valid_from && now < e->res.valid_until &&
		    EVP_PKEY_up_ref(e->res.leaf_key)) {
			*out = e->res;
			found = true;
		}
		break;
	}
	if (found)
		c->hits++;
	else
		c->misses++;
	pthread_mutex_unlock(&c->lock);
	return found;
}

void snp_chain_cache_put(struct snp_chain_cache *c, const uint8_t key[32], const struct amd_chain_result *res)
{
	struct cache_entry *slot = NULL;

	if (!EVP_PKEY_up_ref(res->leaf_key))
		return;
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->cap && slot == NULL; i++)
		if (c->v[i].used && memcmp(c->v[i].key, key, 32) == 0)
			slot = &c->v[i]; /* replace: a newer verification of the same bytes */
	for (size_t i = 0; i < c->cap && slot == NULL; i++)
		if (!c->v[i].used)
			slot = &c->v[i];
	if (slot == NULL) {
		slot = &c->v[0];
		for (size_t i = 1; i < c->cap; i++)
			if (c->v[i].seq < slot->seq)
				slot = &c->v[i];
	}
	if (slot->used)
		EVP_PKEY_free(slot->res.leaf_key);
	slot->used = true;
	memcpy(slot->key, key, 32);
	slot->seq = ++c->seq;
	slot->res = *res; /* the up-reference above now belongs to the entry */
	pthread_mutex_unlock(&c->lock);
}
