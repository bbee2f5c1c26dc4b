/*
 * The verified-chain cache (chain_cache.h): a user of the one cache
 * skeleton (base/lru.h). Its slot is the entry's window followed by the
 * payload; the payload starts on a max_align_t boundary (the skeleton
 * aligns slots likewise), so it is aligned for any type.
 */
#include "evidence/chain_cache.h"

#include "base/lru.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct chain_window {
	int64_t valid_from, valid_until; /* a hit needs valid_from <= now < valid_until */
};

/* Where the payload starts in a slot. */
#define PAYLOAD_AT                                                                                           \
	((sizeof(struct chain_window) + alignof(max_align_t) - 1) / alignof(max_align_t) *                   \
	 alignof(max_align_t))

_Static_assert(PAYLOAD_AT + CHAIN_CACHE_MAX_PAYLOAD <= LRU_MAX_SLOT, "a slot holds the largest payload");
_Static_assert(CHAIN_CACHE_MAX_CAPACITY <= LRU_MAX_CAPACITY, "the skeleton holds the largest capacity");

struct chain_cache {
	struct lru *lru;
	struct chain_cache_type type;
};

/* The skeleton's release hook: the type's release() on the slot's payload. */
static void slot_release(void *slot, void *arg)
{
	const struct chain_cache *c = arg;

	c->type.release((unsigned char *)slot + PAYLOAD_AT);
}

struct chain_cache *chain_cache_new(size_t capacity, const struct chain_cache_type *type)
{
	struct lru_type lt = {.order = LRU_ORDER_USE};
	struct chain_cache *c;

	/* Its own bounds (a payload size of 0 wraps round, refused); lru_new refuses capacity 0. */
	if (type == NULL || type->payload_size - 1 >= CHAIN_CACHE_MAX_PAYLOAD ||
	    capacity > CHAIN_CACHE_MAX_CAPACITY)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->type = *type;
	lt.slot_size = PAYLOAD_AT + type->payload_size; /* <= LRU_MAX_SLOT: both bounded above */
	if (type->evict == CHAIN_CACHE_EVICT_OLDEST)
		lt.order = LRU_ORDER_STORE;
	if (type->release != NULL) {
		lt.release = slot_release;
		lt.release_arg = c;
	}
	if ((c->lru = lru_new(capacity, &lt)) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

void chain_cache_free(struct chain_cache *c)
{
	if (c == NULL)
		return;
	lru_free(c->lru);
	free(c);
}

/* One lookup's conditions and where a hit goes. */
struct chain_look {
	const struct chain_cache *c;
	int64_t now;
	bool (*accept)(const void *payload, const void *arg);
	const void *arg;
	void *out;
};

static enum lru_verdict chain_look(const void *slot, void *arg)
{
	const struct chain_look *q = arg;
	const struct chain_window *w = slot;
	const void *p = (const unsigned char *)slot + PAYLOAD_AT;

	/* Outside the window what was verified no longer holds: a miss, verified in full. */
	if (q->now < w->valid_from || q->now >= w->valid_until ||
	    (q->accept != NULL && !q->accept(p, q->arg)))
		return LRU_MISS;
	if (q->out == NULL)
		return LRU_HIT;
	if (q->c->type.hold != NULL && !q->c->type.hold(p))
		return LRU_MISS;
	memcpy(q->out, p, q->c->type.payload_size); /* with the references just held */
	return LRU_HIT;
}

bool chain_cache_get(struct chain_cache *c, const uint8_t id[32], int64_t now,
		     bool (*accept)(const void *payload, const void *arg), const void *arg, void *out)
{
	struct chain_look q = {.c = c, .now = now, .accept = accept, .arg = arg, .out = out};

	return lru_get(c->lru, id, chain_look, &q);
}

bool chain_cache_put(struct chain_cache *c, const uint8_t id[32], int64_t valid_from, int64_t valid_until,
		     const void *payload)
{
	alignas(max_align_t) unsigned char slot[PAYLOAD_AT + CHAIN_CACHE_MAX_PAYLOAD];
	struct chain_window w = {.valid_from = valid_from, .valid_until = valid_until};

	/* The entry's own references, taken before the lock: hold() is a reference count. */
	if (c->type.hold != NULL && !c->type.hold(payload))
		return false;
	memcpy(slot, &w, sizeof(w));
	memcpy(slot + PAYLOAD_AT, payload, c->type.payload_size);
	lru_put(c->lru, id, slot); /* the references held above now belong to the entry */
	return true;
}

void chain_cache_stats(struct chain_cache *c, uint64_t *hits, uint64_t *misses)
{
	struct lru_stats st;

	lru_stats(c->lru, &st);
	*hits = st.hits;
	*misses = st.misses;
}

size_t chain_cache_count(struct chain_cache *c)
{
	return lru_count(c->lru);
}
