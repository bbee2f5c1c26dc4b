/*
 * The verified-chain cache skeleton (chain_cache.h). The ids and windows
 * sit in one compact array (the scan touches 64 bytes an entry), the
 * payloads in another, each `stride` bytes apart so every payload is
 * aligned for any type.
 */
#include "evidence/chain_cache.h"

#include <pthread.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct chain_entry {
	uint8_t id[32];
	int64_t valid_from, valid_until; /* a hit needs valid_from <= now < valid_until */
	uint64_t tick;			 /* when stored (and, LRU, last hit): the least goes */
};

struct chain_cache {
	pthread_mutex_t lock;
	struct chain_cache_type type;
	size_t cap, n; /* entries 0..n-1 are live */
	size_t stride; /* bytes between payloads */
	uint64_t tick, hits, misses;
	struct chain_entry *e;
	unsigned char *payload;
};

struct chain_cache *chain_cache_new(size_t capacity, const struct chain_cache_type *type)
{
	struct chain_cache *c;
	size_t align = alignof(max_align_t);

	if (capacity == 0 || capacity > CHAIN_CACHE_MAX_CAPACITY || type == NULL || type->payload_size == 0 ||
	    type->payload_size > CHAIN_CACHE_MAX_PAYLOAD)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->type = *type;
	c->cap = capacity;
	c->stride = (type->payload_size + align - 1) / align * align;
	c->e = calloc(capacity, sizeof(*c->e));
	c->payload = calloc(capacity, c->stride); /* both bounded above: no overflow */
	if (c->e == NULL || c->payload == NULL || pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c->e);
		free(c->payload);
		free(c);
		return NULL;
	}
	return c;
}

static void *payload_at(const struct chain_cache *c, size_t i)
{
	return c->payload + i * c->stride;
}

void chain_cache_free(struct chain_cache *c)
{
	if (c == NULL)
		return;
	if (c->type.release != NULL)
		for (size_t i = 0; i < c->n; i++)
			c->type.release(payload_at(c, i));
	pthread_mutex_destroy(&c->lock);
	free(c->e);
	free(c->payload);
	free(c);
}

/* The live entry stored under id, or c->n (caller holds the lock). */
static size_t find(const struct chain_cache *c, const uint8_t id[32])
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (memcmp(c->e[i].id, id, 32) == 0)
			break;
	return i;
}

bool chain_cache_get(struct chain_cache *c, const uint8_t id[32], int64_t now,
		     bool (*accept)(const void *payload, const void *arg), const void *arg, void *out)
{
	bool hit = false;
	size_t i;

	pthread_mutex_lock(&c->lock);
	i = find(c, id);
	if (i < c->n) {
		const struct chain_entry *e = &c->e[i];
		void *p = payload_at(c, i);

		/* Outside the window what was verified no longer holds: a miss, verified in full. */
		hit = now >= e->valid_from && now < e->valid_until && (accept == NULL || accept(p, arg)) &&
		      (out == NULL || c->type.hold == NULL || c->type.hold(p));
	}
	if (hit) {
		if (out != NULL) /* with the references just held */
			memcpy(out, payload_at(c, i), c->type.payload_size);
		if (c->type.evict == CHAIN_CACHE_EVICT_LRU)
			c->e[i].tick = ++c->tick;
		c->hits++;
	} else {
		c->misses++;
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

/* Where id goes (caller holds the lock): its own entry, a free one, or the one to evict. */
static size_t slot_for(struct chain_cache *c, const uint8_t id[32], bool *replace)
{
	size_t i = find(c, id), victim = 0;

	*replace = true;
	if (i < c->n)
		return i;
	if (c->n < c->cap) {
		*replace = false;
		return c->n++;
	}
	for (i = 1; i < c->n; i++)
		if (c->e[i].tick < c->e[victim].tick)
			victim = i;
	return victim;
}

bool chain_cache_put(struct chain_cache *c, const uint8_t id[32], int64_t valid_from, int64_t valid_until,
		     const void *payload)
{
	struct chain_entry *e;
	bool replace;
	size_t i;

	/* The entry's own references, taken before the lock: hold() is a reference count. */
	if (c->type.hold != NULL && !c->type.hold(payload))
		return false;
	pthread_mutex_lock(&c->lock);
	i = slot_for(c, id, &replace);
	if (replace && c->type.release != NULL)
		c->type.release(payload_at(c, i));
	e = &c->e[i];
	memcpy(e->id, id, 32);
	e->valid_from = valid_from;
	e->valid_until = valid_until;
	e->tick = ++c->tick;
	memcpy(payload_at(c, i), payload, c->type.payload_size); /* the references held above */
	pthread_mutex_unlock(&c->lock);
	return true;
}

void chain_cache_stats(struct chain_cache *c, uint64_t *hits, uint64_t *misses)
{
	pthread_mutex_lock(&c->lock);
	*hits = c->hits;
	*misses = c->misses;
	pthread_mutex_unlock(&c->lock);
}

size_t chain_cache_count(struct chain_cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->n;
	pthread_mutex_unlock(&c->lock);
	return n;
}
