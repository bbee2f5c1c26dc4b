#ifndef ATTEST_EVIDENCE_CHAIN_CACHE_H
#define ATTEST_EVIDENCE_CHAIN_CACHE_H

/*
 * The verified-chain cache skeleton shared by the verifiers (the TPM AIK
 * chains and decoded keys, tpm.h; the AMD VCEK/VLEK chains, snp.h): a
 * bounded, thread-safe map from a 32-byte id (a SHA-256 of what was
 * verified, as received) to a fixed-size payload, each entry valid in a
 * window of Unix seconds.
 *
 * Design note: a thin user of the one cache skeleton (base/lru.h: hash
 * lookup, recency list, capacity and eviction, one mutex), whose slot is
 * the entry's window and a copy of the payload. Full, one entry goes: the
 * least recently stored or hit one (CHAIN_CACHE_EVICT_LRU) or the first
 * stored one (CHAIN_CACHE_EVICT_OLDEST, a hit does not renew it).
 *
 * The window is half-open, [valid_from, valid_until): valid_until is the
 * first second the entry no longer holds, i.e. a certificate's notAfter or
 * a CRL's nextUpdate as such (OpenSSL counts a certificate expired from
 * notAfter on, X509_cmp_time), so the last hit is one second before it.
 *
 * A payload is plain bytes plus the references it holds (an EVP_PKEY, an
 * X509): the type's hold() takes the references one more copy needs,
 * release() drops them. The cache holds one copy per entry; a hit copied
 * out holds its own (the caller releases it), so eviction by another
 * thread never frees what a caller still uses. Both callbacks, and the
 * lookup's accept(), run under the cache's lock: they must be short and
 * must not call back into the cache.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds the memory one cache allocates up front (about 4096 x (64 bytes + payload)). */
#define CHAIN_CACHE_MAX_CAPACITY 4096u
/* One payload (struct amd_chain_result is the largest user, ~0.5 KiB). */
#define CHAIN_CACHE_MAX_PAYLOAD 4096u

enum chain_cache_evict {
	CHAIN_CACHE_EVICT_LRU,	  /* full: the entry least recently stored or hit goes */
	CHAIN_CACHE_EVICT_OLDEST, /* full: the entry stored first goes */
};

struct chain_cache_type {
	size_t payload_size; /* 1..CHAIN_CACHE_MAX_PAYLOAD bytes */
	/* The references one more copy of payload needs; false: none taken, no copy is made. NULL: none. */
	bool (*hold)(const void *payload);
	/* Drops what one copy holds. NULL: nothing. */
	void (*release)(void *payload);
	enum chain_cache_evict evict;
};

struct chain_cache;

/*
 * capacity 1..CHAIN_CACHE_MAX_CAPACITY entries of `type` (copied); NULL
 * otherwise, for a payload size out of range, or out of memory.
 */
struct chain_cache *chain_cache_new(size_t capacity, const struct chain_cache_type *type);
/* Releases every entry's payload; NULL is fine. No other thread may use the cache. */
void chain_cache_free(struct chain_cache *c);

/*
 * Looks id up at time now. A hit is an entry stored under id whose window
 * holds now (valid_from <= now < valid_until), that accept(payload, arg)
 * takes (when accept is not NULL: a condition beyond the window, e.g. its
 * root still trusted) and, when out is not NULL, whose payload could be
 * held: *out is then a copy with its own references (the caller releases
 * them with the type's release). Anything else is a miss and leaves *out
 * alone. Counts one hit or one miss.
 */
bool chain_cache_get(struct chain_cache *c, const uint8_t id[32], int64_t now,
		     bool (*accept)(const void *payload, const void *arg), const void *arg, void *out);

/*
 * Stores a copy of payload (taking its own references with hold) under id,
 * valid in [valid_from, valid_until). An entry already under id is
 * replaced (a newer verification of the same bytes); a full cache evicts
 * one (above). false when hold failed: nothing was stored.
 */
bool chain_cache_put(struct chain_cache *c, const uint8_t id[32], int64_t valid_from, int64_t valid_until,
		     const void *payload);

/* Hits and misses of chain_cache_get so far (tests and metrics). */
void chain_cache_stats(struct chain_cache *c, uint64_t *hits, uint64_t *misses);
/* Entries stored now (at most the capacity). */
size_t chain_cache_count(struct chain_cache *c);

#endif
