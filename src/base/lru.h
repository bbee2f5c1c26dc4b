#ifndef ATTEST_BASE_LRU_H
#define ATTEST_BASE_LRU_H

/*
 * The one cache skeleton: a bounded, thread-safe map from a 32-byte key
 * (a SHA-256 of what was verified, or a fixed name) to a fixed-size slot,
 * evicting the least recently used (or the first stored) entry when full.
 * Every cache is a thin user of it: the verified-chain cache
 * (evidence/chain_cache.h: TPM AIK chains and keys, AMD VCEK/VLEK chains),
 * the collateral cache (collateral/collateral.h, reference-counted
 * objects), the compiled-plan cache (policy/cache.c), attestd's trust and
 * policy views (server/pipeline_routes.c) and the caching collateral
 * source (collateral/cached.c: entries pinned while in use, walked by its
 * refresher). What a slot holds, what makes a lookup a hit (a validity
 * window, a condition of the caller's) and how a slot lets go of what it
 * references are the user's: a lookup hands the slot to the user's look()
 * under the lock, and the type's release() runs exactly once for every
 * slot that leaves the cache (evicted, replaced, dropped by look(), or at
 * lru_free).
 *
 * Design note: every array is allocated at lru_new (no allocation after
 * it, so lru_put fails only when every entry is pinned): `capacity` nodes (key, bucket chain, the
 * recency list's links, as 32-bit indexes), their slots `stride` bytes
 * apart (aligned for any type), and a power-of-two bucket table at least
 * as large as the capacity. One mutex guards it all: a lookup is a hash,
 * usually one 32-byte compare and a few index writes, far less than the
 * signature checks a hit saves. The hash is seeded per cache from
 * getrandom(), so keys chosen by a client (digests of its own evidence)
 * cannot be ground offline into one bucket; even then a lookup costs at
 * most a scan of the capacity, what the caches did before this skeleton.
 *
 * A user whose entries are in use beyond the lock (a fetch in flight, a
 * caller waiting on the entry) says so through the type's pinned(): a full
 * cache evicts the least recent entry that is not pinned, walking from the
 * least recent end past the pinned ones (as many as the user has in use at
 * once), and stores nothing when every entry is pinned. Nothing else
 * releases a pinned entry either: a put under its key is refused, an
 * LRU_DROP verdict on it is a plain miss. lru_free releases every entry:
 * no user may remain.
 *
 * look(), found(), release(), pinned() and a walk's visit() run under the
 * cache's lock: they must be short and must not call back into the cache.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LRU_KEY_SIZE 32u
/* Bounds the arrays allocated at lru_new (about 64 bytes plus the slot per entry). */
#define LRU_MAX_CAPACITY (1u << 20)
/* One slot (evidence/chain_cache.h's largest: its window plus a 4 KiB payload). */
#define LRU_MAX_SLOT 8192u

enum lru_order {
	LRU_ORDER_USE,	 /* full: the entry least recently stored or hit goes */
	LRU_ORDER_STORE, /* full: the entry stored first goes (a hit does not renew it) */
	/*
	 * full: an entry never hit goes first (the last stored of them), then
	 * the entry least recently hit: a store enters the entry as the least
	 * recent, a hit (or lru_add finding it) makes it the most recent. So
	 * keys asked once and never served (a flood of unknown keys) evict
	 * each other, not the entries in use.
	 */
	LRU_ORDER_HIT,
};

/* What look() makes of the entry found under a key. */
enum lru_verdict {
	LRU_HIT,  /* a hit: counted; LRU_ORDER_USE makes the entry the most recent */
	LRU_MISS, /* a miss: counted; the entry stays as it was */
	LRU_DROP, /* a miss: counted; the entry leaves the cache now (release() runs), unless pinned */
};

struct lru_type {
	size_t slot_size; /* 1..LRU_MAX_SLOT bytes */
	enum lru_order order;
	/* Lets go of what one slot holds as it leaves the cache; arg is release_arg. NULL: nothing. */
	void (*release)(void *slot, void *arg);
	void *release_arg;
	/* Is the entry in use (not to be evicted)? arg is pinned_arg. NULL: nothing is ever pinned. */
	bool (*pinned)(const void *slot, void *arg);
	void *pinned_arg;
};

struct lru;

/*
 * A cache of 1..LRU_MAX_CAPACITY entries of `type` (copied); NULL for a
 * capacity or slot size out of range, or out of memory.
 */
struct lru *lru_new(size_t capacity, const struct lru_type *type);
/* Releases every entry's slot once; NULL is fine. No other thread may use the cache. */
void lru_free(struct lru *l);

/*
 * Looks key up. An absent key is a miss (look() is not called). An entry
 * under key is handed to look(slot, arg), whose verdict decides (above);
 * look NULL: every entry found is a hit. look() may copy the slot out and
 * take references for the caller: it runs under the lock, so no other
 * thread can evict the entry meanwhile. true for a hit. Counts one hit or
 * one miss.
 */
bool lru_get(struct lru *l, const uint8_t key[LRU_KEY_SIZE],
	     enum lru_verdict (*look)(const void *slot, void *arg), void *arg);

/*
 * Stores a copy of slot's slot_size bytes under key, as the most recent
 * entry (LRU_ORDER_HIT: the least recent): what slot references now
 * belongs to the cache (release() lets go of it). An entry already under
 * key is replaced (its slot released); a full cache first evicts one
 * entry (above). true when stored. It fails (false: nothing stored, what
 * slot references stays the caller's) only with a type that pins: when
 * the entry under key is pinned, or the cache is full and every entry is
 * pinned; otherwise never: the storage is allocated at lru_new.
 */
bool lru_put(struct lru *l, const uint8_t key[LRU_KEY_SIZE], const void *slot);

/*
 * lru_put unless an entry is already under key (the first one stored
 * wins): then that entry's slot is handed to found(slot, arg) under the
 * lock (found may take a reference for the caller; NULL: nothing), the
 * entry is renewed as by a hit (LRU_ORDER_USE, LRU_ORDER_HIT), and slot is
 * not stored (what it references stays the caller's). true when slot was
 * stored; false without calling found() when the cache is full and every
 * entry is pinned. Counts neither a hit nor a miss.
 */
bool lru_add(struct lru *l, const uint8_t key[LRU_KEY_SIZE], const void *slot,
	     void (*found)(const void *slot, void *arg), void *arg);

/*
 * Hands every entry's slot to visit(slot, arg) under the lock, once each,
 * in no particular order (the order of storage: the arrays are read in
 * sequence), until visit returns false: for a user's pass over what it
 * holds (the collateral refresher's search for due items). Renews
 * nothing, counts nothing; the cache cannot change meanwhile.
 */
void lru_walk(struct lru *l, bool (*visit)(const void *slot, void *arg), void *arg);

struct lru_stats {
	uint64_t hits, misses; /* of lru_get */
	uint64_t evictions;    /* entries that went because the cache was full */
	size_t entries;	       /* stored now */
	uint64_t refused;      /* stores refused: the key's entry pinned, or full of pinned entries */
};

/* The counts so far, read together (tests and metrics). */
void lru_stats(struct lru *l, struct lru_stats *out);
/* Entries stored now (at most the capacity). */
size_t lru_count(struct lru *l);

#endif
