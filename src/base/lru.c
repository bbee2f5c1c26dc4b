/*
 * The cache skeleton (lru.h). Nodes are linked by 32-bit indexes: into
 * their bucket's chain, into the recency list (newest .. oldest), and,
 * once dropped, into the free list (through `older`). Nodes `used` and
 * above were never used: a large cache touches only the memory its
 * entries fill.
 */
#include "base/lru.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define NIL UINT32_MAX
/* `newer` of a node on the free list: never an index (capacities are far below it). */
#define FREED (UINT32_MAX - 1)

struct lru_node {
	uint8_t key[LRU_KEY_SIZE];
	uint32_t chain;	       /* the next node in the same bucket */
	uint32_t newer, older; /* the recency list; older also links the free list */
};

struct lru {
	pthread_mutex_t lock;
	struct lru_type type;
	size_t stride; /* bytes between slots */
	uint32_t cap, n, used;
	unsigned shift;				/* 64 - log2(buckets): the hash's top bits pick the bucket */
	uint32_t newest, oldest, free;		/* heads of the recency and free lists */
	uint64_t mult, hits, misses, evictions; /* mult: the hash's odd multiplier */
	uint64_t refused;
	uint32_t *bucket;
	struct lru_node *node;
	unsigned char *slot;
};

static void *slot_at(const struct lru *l, uint32_t i)
{
	return l->slot + (size_t)i * l->stride;
}

/*
 * The bucket of a key: its four 8-byte words folded into one (each
 * rotated, so equal words do not cancel), then multiplied by the cache's
 * random odd multiplier, the bucket being the product's top bits
 * (multiplicative hashing, Knuth TAOCP 6.4). A difference in any byte of
 * the key changes the product from that byte's place upward, so keys that
 * differ in one byte (fixed names, tests' keys) spread as digests do; and
 * not knowing the multiplier, a client cannot tell which keys share a
 * bucket.
 */
static uint32_t bucket_of(const struct lru *l, const uint8_t key[LRU_KEY_SIZE])
{
	uint64_t w[LRU_KEY_SIZE / 8], h;

	memcpy(w, key, sizeof(w));
	h = w[0] ^ (w[1] << 16 | w[1] >> 48) ^ (w[2] << 32 | w[2] >> 32) ^ (w[3] << 48 | w[3] >> 16);
	return (uint32_t)((h * l->mult) >> l->shift);
}

/* log2 of the buckets: a power of two at least the capacity, and at least 2 (a shift below 64). */
static unsigned bucket_bits(uint32_t cap)
{
	unsigned bits = 1;

	while ((UINT32_C(1) << bits) < cap)
		bits++;
	return bits;
}

struct lru *lru_new(size_t capacity, const struct lru_type *type)
{
	size_t align = alignof(max_align_t), nb;
	struct lru *l;

	if (capacity == 0 || capacity > LRU_MAX_CAPACITY || type == NULL || type->slot_size == 0 ||
	    type->slot_size > LRU_MAX_SLOT)
		return NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->type = *type;
	l->cap = (uint32_t)capacity;
	nb = (size_t)1 << bucket_bits(l->cap);
	l->shift = 64 - bucket_bits(l->cap);
	l->stride = (type->slot_size + align - 1) / align * align;
	l->bucket = malloc(nb * sizeof(*l->bucket)); /* all bounded above: no overflow */
	l->node = malloc(capacity * sizeof(*l->node));
	l->slot = malloc(capacity * l->stride);
	if (l->bucket == NULL || l->node == NULL || l->slot == NULL ||
	    pthread_mutex_init(&l->lock, NULL) != 0) {
		free(l->bucket);
		free(l->node);
		free(l->slot);
		free(l);
		return NULL;
	}
	/* Without randomness a fixed multiplier (2^64 / golden ratio): lookups are still bounded (lru.h). */
	if (getrandom(&l->mult, sizeof(l->mult), GRND_NONBLOCK) != (ssize_t)sizeof(l->mult))
		l->mult = 0x9E3779B97F4A7C15u;
	l->mult |= 1;
	memset(l->bucket, 0xFF, nb * sizeof(*l->bucket)); /* every bucket NIL */
	l->free = l->newest = l->oldest = NIL;
	return l;
}

/* Is node i's entry in use (the type's pinned())? */
static bool pinned(const struct lru *l, uint32_t i)
{
	return l->type.pinned != NULL && l->type.pinned(slot_at(l, i), l->type.pinned_arg);
}

static void release(struct lru *l, uint32_t i)
{
	if (l->type.release != NULL)
		l->type.release(slot_at(l, i), l->type.release_arg);
}

void lru_free(struct lru *l)
{
	if (l == NULL)
		return;
	for (uint32_t i = l->newest; i != NIL; i = l->node[i].older)
		release(l, i);
	pthread_mutex_destroy(&l->lock);
	free(l->bucket);
	free(l->node);
	free(l->slot);
	free(l);
}

/* The node stored under key in bucket b, or NIL (caller holds the lock). */
static uint32_t find(const struct lru *l, uint32_t b, const uint8_t key[LRU_KEY_SIZE])
{
	uint32_t i;

	for (i = l->bucket[b]; i != NIL; i = l->node[i].chain)
		if (memcmp(l->node[i].key, key, LRU_KEY_SIZE) == 0)
			break;
	return i;
}

static inline void list_unlink(struct lru *l, uint32_t i)
{
	struct lru_node *e = &l->node[i];

	if (e->newer != NIL)
		l->node[e->newer].older = e->older;
	else
		l->newest = e->older;
	if (e->older != NIL)
		l->node[e->older].newer = e->newer;
	else
		l->oldest = e->newer;
}

static inline void list_push_newest(struct lru *l, uint32_t i)
{
	l->node[i].newer = NIL;
	l->node[i].older = l->newest;
	if (l->newest != NIL)
		l->node[l->newest].newer = i;
	else
		l->oldest = i;
	l->newest = i;
}

static inline void list_push_oldest(struct lru *l, uint32_t i)
{
	l->node[i].older = NIL;
	l->node[i].newer = l->oldest;
	if (l->oldest != NIL)
		l->node[l->oldest].older = i;
	else
		l->newest = i;
	l->oldest = i;
}

/* A stored entry's place: the most recent, or under LRU_ORDER_HIT the least (never hit yet). */
static inline void list_push_stored(struct lru *l, uint32_t i)
{
	if (l->type.order == LRU_ORDER_HIT)
		list_push_oldest(l, i);
	else
		list_push_newest(l, i);
}

/* A hit on node i: under LRU_ORDER_USE and LRU_ORDER_HIT it becomes the most recent. */
static inline void renew(struct lru *l, uint32_t i)
{
	if (l->type.order != LRU_ORDER_STORE && l->newest != i) {
		list_unlink(l, i);
		list_push_newest(l, i);
	}
}

/* Takes node i out of its bucket's chain (caller holds the lock). */
static void chain_unlink(struct lru *l, uint32_t i)
{
	uint32_t *at = &l->bucket[bucket_of(l, l->node[i].key)];

	while (*at != i)
		at = &l->node[*at].chain;
	*at = l->node[i].chain;
}

/* Node i leaves the cache: unlinked, its slot released, back on the free list. */
static void drop(struct lru *l, uint32_t i)
{
	chain_unlink(l, i);
	list_unlink(l, i);
	release(l, i);
	l->node[i].newer = FREED;
	l->node[i].older = l->free;
	l->free = i;
	l->n--;
}

bool lru_get(struct lru *l, const uint8_t key[LRU_KEY_SIZE],
	     enum lru_verdict (*look)(const void *slot, void *arg), void *arg)
{
	enum lru_verdict v = LRU_MISS;
	uint32_t i;

	pthread_mutex_lock(&l->lock);
	i = find(l, bucket_of(l, key), key);
	if (i != NIL)
		v = look != NULL ? look(slot_at(l, i), arg) : LRU_HIT;
	if (v == LRU_HIT) {
		renew(l, i);
		l->hits++;
	} else {
		if (v == LRU_DROP && !pinned(l, i)) /* a pinned entry stays: a miss */
			drop(l, i);
		l->misses++;
	}
	pthread_mutex_unlock(&l->lock);
	return v == LRU_HIT;
}

/* The entry a full cache evicts: the least recent one not pinned, or NIL (all pinned). */
static uint32_t victim(const struct lru *l)
{
	uint32_t i = l->oldest;

	while (i != NIL && pinned(l, i))
		i = l->node[i].newer;
	return i;
}

/*
 * A node for key, new in bucket b, its slot not yet written (lock held;
 * key absent), or NIL when the cache is full and every entry pinned.
 */
static uint32_t insert(struct lru *l, uint32_t b, const uint8_t key[LRU_KEY_SIZE])
{
	uint32_t i;

	if (l->n == l->cap) { /* full: the oldest in the cache's order goes, unless pinned */
		if ((i = victim(l)) == NIL) {
			l->refused++;
			return NIL;
		}
		drop(l, i);
		l->evictions++;
	}
	if (l->free != NIL) {
		i = l->free;
		l->free = l->node[i].older;
	} else {
		i = l->used++;
	}
	memcpy(l->node[i].key, key, LRU_KEY_SIZE);
	l->node[i].chain = l->bucket[b];
	l->bucket[b] = i;
	l->n++;
	return i;
}

bool lru_put(struct lru *l, const uint8_t key[LRU_KEY_SIZE], const void *slot)
{
	uint32_t b, i;

	pthread_mutex_lock(&l->lock);
	b = bucket_of(l, key);
	if ((i = find(l, b, key)) != NIL && pinned(l, i)) {
		l->refused++; /* the stored entry is in use: it is not released under its user */
		pthread_mutex_unlock(&l->lock);
		return false;
	} else if (i != NIL) {
		/* A put under a stored key: its slot replaced (the old one released), placed as stored. */
		release(l, i);
		list_unlink(l, i);
	} else if ((i = insert(l, b, key)) == NIL) {
		pthread_mutex_unlock(&l->lock);
		return false;
	}
	memcpy(slot_at(l, i), slot, l->type.slot_size);
	list_push_stored(l, i);
	pthread_mutex_unlock(&l->lock);
	return true;
}

bool lru_add(struct lru *l, const uint8_t key[LRU_KEY_SIZE], const void *slot,
	     void (*found)(const void *slot, void *arg), void *arg)
{
	uint32_t b, i;
	bool stored;

	pthread_mutex_lock(&l->lock);
	b = bucket_of(l, key);
	i = find(l, b, key);
	if (i == NIL) {
		if ((stored = (i = insert(l, b, key)) != NIL)) {
			memcpy(slot_at(l, i), slot, l->type.slot_size);
			list_push_stored(l, i);
		}
	} else {
		stored = false;
		if (found != NULL)
			found(slot_at(l, i), arg);
		renew(l, i);
	}
	pthread_mutex_unlock(&l->lock);
	return stored;
}

void lru_walk(struct lru *l, bool (*visit)(const void *slot, void *arg), void *arg)
{
	/* in storage order: the node and slot arrays read in sequence, not by the recency links */
	pthread_mutex_lock(&l->lock);
	for (uint32_t i = 0; i < l->used; i++)
		if (l->node[i].newer != FREED && !visit(slot_at(l, i), arg))
			break;
	pthread_mutex_unlock(&l->lock);
}

void lru_stats(struct lru *l, struct lru_stats *out)
{
	pthread_mutex_lock(&l->lock);
	out->hits = l->hits;
	out->misses = l->misses;
	out->evictions = l->evictions;
	out->refused = l->refused;
	out->entries = l->n;
	pthread_mutex_unlock(&l->lock);
}

size_t lru_count(struct lru *l)
{
	size_t n;

	pthread_mutex_lock(&l->lock);
	n = l->n;
	pthread_mutex_unlock(&l->lock);
	return n;
}
