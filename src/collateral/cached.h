#ifndef ATTEST_COLLATERAL_CACHED_H
#define ATTEST_COLLATERAL_CACHED_H

/*
 * A caching collateral source wrapping any upstream source (issue 12): the
 * raw items (bytes + issuer chain) a source returns, kept in memory and,
 * through a persistence callback, durably (attestd adapts it to the store's
 * collateral table: collateral/ must not depend on store/, ARCHITECTURE.md).
 *
 * Keys say what an item covers (cached_key_* below), e.g. "sgx/tcb/00906ED50000",
 * "pck_crl/processor", "amd/Milan/vcek/<hwid>/<tcb>". Each item keeps its
 * issue date and next update read from the item itself: TCB Info and
 * Enclave Identity issueDate/nextUpdate (formats.md §3.7), CRL
 * thisUpdate/nextUpdate; certificates and chains get cert_ttl_s.
 *
 * Behaviour at time now (clock()):
 *   - fresh (now < nextUpdate - refresh_ahead_s): served from memory;
 *   - in the refresh window or, for TCB Info and identities only, up to
 *     grace_s past nextUpdate (stale-while-revalidate): served from memory
 *     while exactly one caller refreshes; if that refresh fails the cached
 *     item is still served. With the background refresher running, callers
 *     leave the refresh window to it and refresh only past nextUpdate, so
 *     no request pays a fetch for an item that is still current. An item
 *     the upstream served already due (nothing newer yet) is not asked
 *     again for refresh_ahead_s/16 (60 s..1 h). CRLs are never served past
 *     their nextUpdate;
 *   - otherwise: fetched upstream, single-flight: one fetch per key however
 *     many callers wait (mutex + condition variable); waiters share its
 *     result, including a failure (negative results are never cached);
 *   - offline: the upstream is never asked; what is cached or imported is
 *     served whatever its age (the verifier judges currency at its own now).
 * An item enters the cache only after its dates parse and the optional
 * validate() hook accepts it (attestd verifies signature and chain there,
 * so a tampered body or chain is refused and never cached); an item read
 * back from persistence is admitted the same way.
 *
 * Thread-safe. Errors: collateral.cache.offline (offline and nothing
 * cached), collateral.cache.backoff (a recent fetch of the key failed and
 * its back-off has not passed), collateral.cache.stale (expired beyond what may be served and
 * the refresh failed: the upstream's error is in the message),
 * collateral.cache.dates (an item without readable dates),
 * collateral.cache.full (an import while every item is held by a fetch or
 * a waiting caller), the upstream's own errors, and whatever validate()
 * reports.
 */

#include "attest/error.h"
#include "collateral/collateral.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cached_kind {
	CACHED_CRL = 0,	    /* PCK CRLs, Root CA CRL, AMD CRLs: never stale */
	CACHED_TCB_INFO,    /* stale-while-revalidate within grace */
	CACHED_QE_IDENTITY, /* stale-while-revalidate within grace */
	CACHED_CERT,	    /* PCK certificates, VCEKs, AMD chains: cert_ttl_s */
};

/*
 * Durable storage of items (bytes is an opaque encoding of data + chain).
 * get: ATTEST_OK with *bytes malloc'd (caller frees), ATTEST_E_NOT_FOUND
 * when absent, anything else is an error (logged in stats, then ignored).
 * Both are called without the cache's lock held.
 */
struct cached_persist {
	void *arg;
	int (*get)(void *arg, const char *key, uint8_t **bytes, size_t *len, int64_t *issue_date,
		   int64_t *next_update, struct attest_err *err);
	int (*put)(void *arg, const char *key, const uint8_t *bytes, size_t len, int64_t issue_date,
		   int64_t next_update, struct attest_err *err);
};

/* One background refresh attempt, as cached_options.on_refresh sees it. */
struct cached_refresh_event {
	const char *key;     /* what the item covers, e.g. "sgx/tcb/00A067110000" */
	bool ok;	     /* a current item is cached (fetched, or a newer stored copy) */
	bool from_store;     /* ok: another node had already refreshed it (read back from persistence) */
	bool advanced;	     /* ok: the new item's nextUpdate is later than the old one's */
	int64_t next_update; /* of the item now cached (Unix seconds) */
	unsigned fails;	     /* !ok: consecutive failures of this key */
	int64_t retry_in_s;  /* !ok: back-off before the key is asked upstream again */
	const struct attest_err *err; /* !ok: why (the upstream's or validate()'s error) */
};

/*
 * One line describing ev for a log ("collateral refresh: sgx/tcb/... ok,
 * next update 2025-07-20T00:00:00Z"); returns true when it is a warning
 * (a failure). out is always NUL-terminated.
 */
bool cached_refresh_event_format(const struct cached_refresh_event *ev, char *out, size_t n);

struct cached_options {
	int64_t grace_s;	 /* stale-while-revalidate past nextUpdate (TCB Info, identities); 0 none */
	int64_t refresh_ahead_s; /* refresh this long before nextUpdate; 0 = at nextUpdate */
	int64_t cert_ttl_s;	 /* lifetime of items without a nextUpdate; 0 = 86400 */
	bool offline;
	/*
	 * Back-off after a failed fetch of a key: no new upstream request for
	 * it before backoff_min_s, doubling per consecutive failure up to
	 * backoff_max_s (0 = 300); meanwhile a servable item is served and
	 * otherwise collateral.cache.backoff names the last failure.
	 * 0 = off (every lookup without a servable item asks upstream).
	 */
	int64_t backoff_min_s;
	int64_t backoff_max_s;
	/*
	 * Items held at most; 0 = 4096, above 1,048,576 (LRU_MAX_CAPACITY)
	 * collateral.cache.max_entries. Full: the item least recently served
	 * goes, items never served first; items a fetch or a waiting caller
	 * holds never go (a lookup finding every item held is served without
	 * keeping what it fetched; an import is collateral.cache.full).
	 */
	size_t max_entries;
	int64_t (*clock)(void *arg); /* Unix seconds; NULL = time_now() */
	void *clock_arg;
	/* Optional: accepts an item before it is cached (0) or refuses it (an rc). */
	int (*validate)(void *arg, const char *key, enum cached_kind kind, const struct collateral_blob *b,
			int64_t now, struct attest_err *err);
	void *validate_arg;
	const struct cached_persist *persist; /* copied; NULL = memory only */
	/*
	 * Optional upstream for the AMD slots (amd_vcek, amd_cert_chain,
	 * amd_crl), so one cached source serves every verifier: Intel slots
	 * from `upstream` (PCS), AMD slots from this one (KDS). Freed with
	 * the cached source when own_amd_upstream.
	 */
	struct collateral_source *amd_upstream;
	bool own_amd_upstream;
	/*
	 * Background refresh ahead of next update: with refresh_interval_ms > 0
	 * cached_source_new starts a thread owned by the source that runs
	 * cached_source_refresh_tick every interval (each wait drawn uniformly
	 * in [interval - interval/10, interval + interval/10], so nodes sharing
	 * an upstream drift apart); collateral_source_free stops and joins it,
	 * waking it from its wait at once (a fetch in flight finishes first,
	 * bounded by the upstream's timeouts). See cached_source_refresh_tick
	 * for what a tick does.
	 */
	int64_t refresh_interval_ms;
	size_t refresh_max_per_tick; /* fetches per tick at most; 0 = 16 */
	/* Items nobody asked for in this long are left to expire, not refreshed; 0 = refresh all. */
	int64_t refresh_idle_s;
	/* Called once per background refresh attempt (logs, metrics), without the cache's lock. */
	void (*on_refresh)(void *arg, const struct cached_refresh_event *ev);
	void *on_refresh_arg;
};

/*
 * Wraps upstream (may be NULL: then only cached and imported items are
 * served, as offline). With own_upstream the cached source frees it.
 * *out: free with collateral_source_free() then free(). The wrapper's
 * `cache` member (verified objects) is set to upstream->cache.
 */
int cached_source_new(struct collateral_source *upstream, bool own_upstream, const struct cached_options *o,
		      struct collateral_source **out, struct attest_err *err);

/* Switches offline mode on or off at run time. */
void cached_source_set_offline(struct collateral_source *cs, bool offline);

/*
 * Imports an item under key (cached_key_*), e.g. from a bundle: its dates
 * are read and validate() runs as for a fetched item; it replaces what is
 * cached and is written through to persistence.
 */
int cached_source_import(struct collateral_source *cs, const char *key, enum cached_kind kind,
			 const struct collateral_blob *b, struct attest_err *err);
/*
 * The same without the write to persistence: for an item the caller has
 * already stored itself (attestd's collateral import stores a whole bundle
 * and its audit row in one transaction), so it is written once.
 */
int cached_source_install(struct collateral_source *cs, const char *key, enum cached_kind kind,
			  const struct collateral_blob *b, struct attest_err *err);

/* Drops key from memory (e.g. after the verifier refused it); 0 or ATTEST_E_NOT_FOUND. */
int cached_source_invalidate(struct collateral_source *cs, const char *key);

/*
 * Refreshes every item whose refresh window has opened (nextUpdate -
 * refresh_ahead_s <= now), one fetch per item; for a timer thread in
 * attestd ("background refresh ahead of next update"). *refreshed and
 * *failed (optional) count the outcomes. Does nothing offline.
 */
void cached_source_refresh_due(struct collateral_source *cs, size_t *refreshed, size_t *failed);

/*
 * One bounded refresh pass (what the background thread runs; a tick
 * attestd or a test may also call): at most max fetches (0 = the
 * option's refresh_max_per_tick), one at a time, most urgent first
 * (earliest nextUpdate), only of items whose refresh window has opened,
 * that no caller is fetching, whose back-off has passed, and that were
 * asked for within refresh_idle_s. Before asking upstream it reads the
 * key back from persistence: a newer copy another node stored is taken
 * instead of a fetch (nodes sharing a store refresh each item about
 * once). The pass stops at the first failure (an outage or a 429 costs
 * one request per tick, not one per item); the failed key backs off as
 * after any failed fetch and stays served while servable (grace). An
 * item that came back unchanged (the upstream has nothing newer yet) is
 * not asked again for refresh_ahead_s/16 (60 s..1 h). Passes never
 * overlap: a call while another runs returns at once with zero counts.
 * Does nothing offline. on_refresh sees every attempt.
 */
void cached_source_refresh_tick(struct collateral_source *cs, size_t max, size_t *refreshed, size_t *failed);

struct cached_stats {
	uint64_t hits;		   /* served from memory (fresh or within the refresh window) */
	uint64_t stale_served;	   /* served past nextUpdate under the grace */
	uint64_t upstream_fetches; /* upstream calls made */
	uint64_t upstream_failures;
	uint64_t waits;		/* callers that waited for another caller's fetch */
	uint64_t persist_loads; /* items read back from persistence */
	uint64_t persist_errors;
	uint64_t rejected; /* items refused by dates or validate() */
	/* refresh passes (background thread or cached_source_refresh_tick) */
	uint64_t refresh_ok;	     /* items refreshed */
	uint64_t refresh_from_store; /* of which read back from persistence (another node's refresh) */
	uint64_t refresh_failed;
	uint64_t refresh_passes;
	/* lookups served without keeping their item: every item of the table held (max_entries) */
	uint64_t uncached;
};
void cached_source_stats(const struct collateral_source *cs, struct cached_stats *out);
size_t cached_source_count(const struct collateral_source *cs);

struct buf;
/*
 * Appends the counters above in the Prometheus text format (0.0.4) to out
 * (base/buf.h): attestd_collateral_lookups_total{result=hit|stale|wait},
 * attestd_collateral_upstream_requests_total{result=ok|failed},
 * attestd_collateral_refresh_total{result=ok|from_store|failed},
 * attestd_collateral_refresh_passes_total, attestd_collateral_uncached_total,
 * attestd_collateral_rejected_total,
 * attestd_collateral_store_total{result=load|error}, attestd_collateral_items.
 * Nothing for a source that is not a cached one. 0 or ATTEST_E_NOMEM (out full).
 */
/*
 * A view of the caching source cs that only serves what the cache holds
 * current: a miss (or an expired item) is collateral.cache.miss
 * (ATTEST_E_NOT_FOUND), with no upstream request, no store read and no new
 * cache entry. For anonymous readers (attestd's PCCS read API), who must
 * not make the node ask PCS/KDS on their behalf. Lives as long as cs; not
 * freed by the caller. A source that is not a caching one is returned as is.
 */
struct collateral_source *cached_source_cache_only(struct collateral_source *cs);

int cached_source_metrics(const struct collateral_source *cs, struct buf *out);

/* ---- keys (what an item covers) ---------------------------------------------- */
#define CACHED_KEY_MAX 1024
/* "sgx/tcb/<FMSPC upper hex>" or "tdx/tcb/..." */
void cached_key_tcb_info(enum collateral_tee tee, const uint8_t fmspc[6], char out[CACHED_KEY_MAX]);
/* "sgx/qe/identity", "tdx/qe/identity", "sgx/qve/identity", "sgx/qae/identity" */
void cached_key_qe_identity(enum collateral_qe kind, char out[CACHED_KEY_MAX]);
/* "pck_crl/processor", "pck_crl/platform"; "root_ca_crl" */
void cached_key_pck_crl(enum collateral_pck_ca ca, char out[CACHED_KEY_MAX]);
/* "sgx/pckcert/<PPID>/<CPUSVN>/<PCESVN, 4 hex>/<PCEID>", lower-case hex (PPID "" when over 384 bytes) */
void cached_key_pck_cert(const struct collateral_pck_query *q, char out[CACHED_KEY_MAX]);
/* "amd/<Product>/vcek/<CHIP_ID, 128 hex>/<REPORTED_TCB bytes, 16 hex>" (tcb: the u64 form, amd_tcb.h) */
void cached_key_amd_vcek(const char *product, const uint8_t chip_id[64], uint64_t tcb,
			 char out[CACHED_KEY_MAX]);
/* "amd/<Product>/cert_chain/<vcek|vlek>", "amd/<Product>/crl/<vcek|vlek>" */
void cached_key_amd(const char *product, bool crl, bool vlek, char out[CACHED_KEY_MAX]);

/* Encoding of an item for persistence: "ACOL" 1 | u32 len | data | u32 len | chain (BE). */
int cached_encode(const struct collateral_blob *b, uint8_t **out, size_t *len, struct attest_err *err);
int cached_decode(const uint8_t *p, size_t len, struct collateral_blob *out, struct attest_err *err);

/* Reads (issue date, next update) of an item of the given kind at now. Error: collateral.cache.dates. */
int cached_item_dates(enum cached_kind kind, const struct collateral_blob *b, int64_t now, int64_t cert_ttl_s,
		      int64_t *issue_date, int64_t *next_update, struct attest_err *err);

#endif
