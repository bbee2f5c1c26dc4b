/*
 * Caching collateral source (cached.h). Design note: one mutex guards the
 * table; each entry has its own condition variable, signalled when the
 * one fetch in flight for it ends, so lookups of other keys never wait for
 * a slow upstream. Upstream and persistence calls run without the lock.
 * The table is the one cache skeleton (base/lru.h), used only under the
 * mutex: a slot points to the entry (its condition variable must not
 * move); the key is the item's key text, zero-padded (its own key), or its
 * SHA-256 beyond 32 characters (then the whole text is compared on
 * lookup). An entry a fetch or a waiter holds is pinned (lru's pinned()):
 * a full table evicts the least recently served entry no one holds,
 * entries never served first (LRU_ORDER_HIT: unknown keys asked once evict
 * each other, not the items in use); a table full of held entries serves
 * the lookup from an entry of its own, not kept (never a wait, never an
 * unbounded table; counted as uncached).
 * Every request's parameters are kept in its entry so a refresh can repeat
 * it later. The background refresher is one thread per source, waiting on
 * its own condition variable (monotonic clock) so a stop wakes it at once;
 * it runs the same bounded pass as cached_source_refresh_tick.
 */
#include "collateral/cached.h"

#include "base/buf.h"
#include "base/cur.h"
#include "base/lru.h"
#include "base/timeutil.h"
#include "collateral/amd_collateral.h"
#include "collateral/amd_tcb.h"
#include "crypto/crypto.h"

#include <jansson.h>
#include <openssl/asn1.h>
#include <openssl/x509.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CACHED_DEFAULT_MAX	4096
#define CACHED_DEFAULT_CERT_TTL 86400
#define CACHED_MAGIC		"ACOL"
#define CACHED_FORMAT		1
#define CACHED_DEFAULT_PER_TICK 16
/* An item that came back unchanged is not asked again for refresh_ahead_s/16, within these bounds. */
#define CACHED_UNCHANGED_GAP_MIN 60
#define CACHED_UNCHANGED_GAP_MAX 3600
/* A selected set (early, numbered) the upstream does not serve (404/410) is not asked again for this long. */
#define CACHED_NEGATIVE_TTL 3600

enum cached_slot {
	SLOT_PCK_CRL,
	SLOT_ROOT_CRL,
	SLOT_TCB,
	SLOT_QE,
	SLOT_PCK_CERT,
	SLOT_VCEK,
	SLOT_CHAIN,
	SLOT_AMD_CRL
};

/* One request, kept so it can be repeated (refresh). */
struct creq {
	enum cached_slot slot;
	enum cached_kind kind;
	int ca, tee, qe;
	struct collateral_select sel; /* TCB Info / identities: which set (collateral.h) */
	uint8_t fmspc[6];
	uint8_t ppid[384];
	size_t ppid_len;
	uint8_t cpusvn[16], pceid[2];
	uint16_t pcesvn;
	char product[16];
	uint8_t chip_id[64];
	uint64_t tcb;
	bool vlek;
};

struct centry {
	char *key;
	struct creq rq;
	bool has, inflight, persist_tried, has_rq;
	struct collateral_blob blob;
	int64_t issue_date, next_update;
	int64_t used_at; /* cache clock of the last lookup that served it (refresh_idle_s) */
	int64_t
	    refresh_not_before; /* no background refresh before (unchanged item, failure without back-off) */
	bool last_from_store;	/* the last fetch was answered by persistence */
	uint64_t gen;		/* fetches completed */
	uint64_t pass;		/* last refresh_due pass that saw it */
	unsigned fails;		/* consecutive failed fetches */
	int64_t retry_at;	/* no upstream request before (cache clock; back-off) */
	int last_rc;
	struct attest_err last_err;
	unsigned waiters;
	pthread_cond_t cv;
};

/*
 * What a source's self points to: the cache, and whether lookups through
 * this source may go upstream. The caching source and its cache-only view
 * (cached_source_cache_only) share one cache.
 */
struct cself {
	struct cached *c;
	bool cache_only;
};

struct cached {
	struct cself self_full, self_cache_only;
	struct collateral_source cache_only_src; /* the view; lives as long as the cache */
	struct collateral_source *up;
	bool own_up;
	struct cached_options o;
	struct cached_persist persist;
	bool has_persist;
	pthread_mutex_t mu;
	struct lru *table; /* of struct tslot; used under mu only */
	uint64_t pass;	   /* refresh passes */
	bool refreshing;   /* a refresh pass runs (passes never overlap) */
	struct cached_stats st;
	/* the background refresher (refresh_interval_ms > 0) */
	pthread_t thr;
	bool thr_started;
	atomic_bool stopping;
	pthread_mutex_t rmu; /* guards the refresher's wait */
	pthread_cond_t rcv;  /* signalled to stop it (CLOCK_MONOTONIC) */
	unsigned seed;	     /* jitter (rand_r; only the refresher thread uses it) */
};

enum fetch_mode {
	FETCH_UPSTREAM, /* ask upstream */
	FETCH_PERSIST,	/* cold: persistence first (once per key), then upstream */
	FETCH_REFRESH,	/* refresh: a newer stored copy (another node's refresh), else upstream */
};

/* ---- keys ---------------------------------------------------------------------- */

static void hex_to(const uint8_t *p, size_t n, bool upper, char *out)
{
	const char *d = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = 0;
}

void cached_key_tcb_info(enum collateral_tee tee, const uint8_t fmspc[6], char out[CACHED_KEY_MAX])
{
	/* built by hand, not by snprintf: every TCB Info lookup builds it (a third of a hit's time) */
	memcpy(out, tee == COLLATERAL_TEE_TDX ? "tdx/tcb/" : "sgx/tcb/", 8);
	hex_to(fmspc, 6, true, out + 8); /* 12 digits and the NUL */
}

void cached_key_qe_identity(enum collateral_qe kind, char out[CACHED_KEY_MAX])
{
	static const char *const k[] = {"sgx/qe/identity", "tdx/qe/identity", "sgx/qve/identity",
					"sgx/qae/identity"};

	snprintf(out, CACHED_KEY_MAX, "%s",
		 (unsigned)kind <= COLLATERAL_QAE ? k[kind] : "sgx/unknown/identity");
}

void cached_key_pck_crl(enum collateral_pck_ca ca, char out[CACHED_KEY_MAX])
{
	snprintf(out, CACHED_KEY_MAX, "pck_crl/%s", ca == COLLATERAL_CA_PLATFORM ? "platform" : "processor");
}

void cached_key_pck_cert(const struct collateral_pck_query *q, char out[CACHED_KEY_MAX])
{
	char ppid[2 * 384 + 1] = "", cpusvn[33], pceid[5];

	if (q->ppid_len <= 384)
		hex_to(q->ppid, q->ppid_len, false, ppid);
	hex_to(q->cpusvn, 16, false, cpusvn);
	hex_to(q->pceid, 2, false, pceid);
	snprintf(out, CACHED_KEY_MAX, "sgx/pckcert/%s/%s/%04x/%s", ppid, cpusvn, q->pcesvn, pceid);
}

void cached_key_amd_vcek(const char *product, const uint8_t chip_id[64], uint64_t tcb,
			 char out[CACHED_KEY_MAX])
{
	char hw[129], t[17];
	uint8_t raw[8];

	snp_tcb_to_raw(tcb, raw);
	hex_to(chip_id, 64, false, hw);
	hex_to(raw, 8, false, t);
	snprintf(out, CACHED_KEY_MAX, "amd/%s/vcek/%s/%s", product, hw, t);
}

void cached_key_amd(const char *product, bool crl, bool vlek, char out[CACHED_KEY_MAX])
{
	snprintf(out, CACHED_KEY_MAX, "amd/%s/%s/%s", product, crl ? "crl" : "cert_chain",
		 vlek ? "vlek" : "vcek");
}

/* "/early" or "/eval<N>" after the key of a selected set; the standard set keeps its plain key. */
static void key_select_suffix(const struct collateral_select *sel, char out[CACHED_KEY_MAX])
{
	size_t n = strlen(out);

	collateral_select_suffix(sel, '/', out + n, CACHED_KEY_MAX - n);
}

static void key_for(const struct creq *r, char out[CACHED_KEY_MAX])
{
	struct collateral_pck_query q;

	switch (r->slot) {
	case SLOT_PCK_CRL:
		cached_key_pck_crl((enum collateral_pck_ca)r->ca, out);
		break;
	case SLOT_ROOT_CRL:
		snprintf(out, CACHED_KEY_MAX, "root_ca_crl");
		break;
	case SLOT_TCB:
		cached_key_tcb_info((enum collateral_tee)r->tee, r->fmspc, out);
		key_select_suffix(&r->sel, out);
		break;
	case SLOT_QE:
		cached_key_qe_identity((enum collateral_qe)r->qe, out);
		key_select_suffix(&r->sel, out);
		break;
	case SLOT_PCK_CERT:
		memset(&q, 0, sizeof(q));
		q.ppid = r->ppid;
		q.ppid_len = r->ppid_len;
		q.cpusvn = r->cpusvn;
		q.pcesvn = r->pcesvn;
		q.pceid = r->pceid;
		cached_key_pck_cert(&q, out);
		break;
	case SLOT_VCEK:
		cached_key_amd_vcek(r->product, r->chip_id, r->tcb, out);
		break;
	case SLOT_CHAIN:
		cached_key_amd(r->product, false, r->vlek, out);
		break;
	case SLOT_AMD_CRL:
		cached_key_amd(r->product, true, r->vlek, out);
		break;
	}
}

/* ---- blobs, encoding, dates ------------------------------------------------------ */

static int blob_copy(const struct collateral_blob *in, struct collateral_blob *out)
{
	struct collateral_blob b = {0};

	if ((b.data = malloc(in->len + 1)) == NULL)
		return ATTEST_E_NOMEM;
	memcpy(b.data, in->data, in->len);
	b.data[in->len] = 0;
	b.len = in->len;
	if (in->chain != NULL) {
		if ((b.chain = malloc(in->chain_len + 1)) == NULL) {
			free(b.data);
			return ATTEST_E_NOMEM;
		}
		memcpy(b.chain, in->chain, in->chain_len);
		b.chain[in->chain_len] = 0;
		b.chain_len = in->chain_len;
	}
	*out = b;
	return ATTEST_OK;
}

static void put_u32be(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int cached_encode(const struct collateral_blob *b, uint8_t **out, size_t *len, struct attest_err *err)
{
	size_t n;
	uint8_t *p;

	if (b->len > UINT32_MAX || b->chain_len > UINT32_MAX)
		return attest_err_set(err, ATTEST_E_NOMEM, "collateral.too_large",
				      "item too large to persist");
	n = 5 + 4 + b->len + 4 + b->chain_len;
	if ((p = malloc(n)) == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "collateral.nomem", "out of memory");
	memcpy(p, CACHED_MAGIC, 4);
	p[4] = CACHED_FORMAT;
	put_u32be(p + 5, (uint32_t)b->len);
	memcpy(p + 9, b->data, b->len);
	put_u32be(p + 9 + b->len, (uint32_t)b->chain_len);
	if (b->chain_len > 0)
		memcpy(p + 13 + b->len, b->chain, b->chain_len);
	*out = p;
	*len = n;
	return ATTEST_OK;
}

int cached_decode(const uint8_t *p, size_t len, struct collateral_blob *out, struct attest_err *err)
{
	struct cur c;
	const uint8_t *magic, *data, *chain;
	uint8_t ver;
	uint32_t dl, cl;
	struct collateral_blob view = {0};

	cur_init(&c, p, len);
	if (cur_take(&c, 4, &magic) || memcmp(magic, CACHED_MAGIC, 4) != 0 || cur_u8(&c, &ver) ||
	    ver != CACHED_FORMAT || cur_u32be(&c, &dl) || cur_take(&c, dl, &data) || cur_u32be(&c, &cl) ||
	    cur_take(&c, cl, &chain) || !cur_empty(&c))
		return attest_err_set(err, ATTEST_E_PARSE, "collateral.cache.encoding",
				      "persisted item is not a format-1 collateral record (%zu bytes)", len);
	view.data = (uint8_t *)data;
	view.len = dl;
	view.chain = cl > 0 ? (uint8_t *)chain : NULL;
	view.chain_len = cl;
	if (blob_copy(&view, out) != ATTEST_OK)
		return attest_err_set(err, ATTEST_E_NOMEM, "collateral.nomem", "out of memory");
	return ATTEST_OK;
}

/* §3.7: TCB Info and identities carry issueDate/nextUpdate in their signed member. */
static int json_dates(const struct collateral_blob *b, const char *member, int64_t *iss, int64_t *nu)
{
	json_t *doc = json_loadb((const char *)b->data, b->len, 0, NULL);
	json_t *m = json_object_get(doc, member);
	const char *i = json_string_value(json_object_get(m, "issueDate"));
	const char *n = json_string_value(json_object_get(m, "nextUpdate"));
	int rc = -1;

	if (i != NULL && n != NULL && time_parse_rfc3339(i, iss) == 0 && time_parse_rfc3339(n, nu) == 0)
		rc = 0;
	json_decref(doc);
	return rc;
}

int cached_item_dates(enum cached_kind kind, const struct collateral_blob *b, int64_t now, int64_t cert_ttl_s,
		      int64_t *issue_date, int64_t *next_update, struct attest_err *err)
{
	X509_CRL *crl = NULL;
	int rc = -1;

	switch (kind) {
	case CACHED_CRL:
		if (x509_crl_load(b->data, b->len, &crl, "collateral.cache.crl", NULL) == ATTEST_OK) {
			*issue_date = x509_time_unix(X509_CRL_get0_lastUpdate(crl), INT64_MIN);
			*next_update = x509_time_unix(X509_CRL_get0_nextUpdate(crl), INT64_MIN);
			rc = *issue_date != INT64_MIN && *next_update != INT64_MIN ? 0 : -1;
		}
		X509_CRL_free(crl);
		break;
	case CACHED_TCB_INFO:
		rc = json_dates(b, "tcbInfo", issue_date, next_update);
		break;
	case CACHED_QE_IDENTITY:
		rc = json_dates(b, "enclaveIdentity", issue_date, next_update);
		break;
	case CACHED_CERT:
		*issue_date = now;
		*next_update = now + cert_ttl_s;
		rc = 0;
		break;
	}
	if (rc != 0 || *next_update < *issue_date)
		return attest_err_set(err, ATTEST_E_COLLATERAL, "collateral.cache.dates",
				      "item has no readable issue date / next update (kind %d)", (int)kind);
	return ATTEST_OK;
}

/* ---- table ----------------------------------------------------------------------- */

static void entry_free(struct centry *e)
{
	collateral_blob_free(&e->blob);
	pthread_cond_destroy(&e->cv);
	free(e->key);
	free(e);
}

static struct centry *entry_new(const char *key)
{
	struct centry *e = calloc(1, sizeof(*e));

	if (e == NULL || (e->key = strdup(key)) == NULL) {
		free(e);
		return NULL;
	}
	if (pthread_cond_init(&e->cv, NULL) != 0) {
		free(e->key);
		free(e);
		return NULL;
	}
	return e;
}

/*
 * A slot: the entry, and whether its table key is the SHA-256 of its key
 * text. A zero-padded text is its own table key, so an equal table key is
 * an equal text and a lookup need not read the entry's text (a cache miss
 * on a large table); a hashed one is compared whole.
 */
struct tslot {
	struct centry *e;
	bool hashed;
};

static struct centry *slot_entry(const void *slot)
{
	return ((const struct tslot *)slot)->e;
}

/* The table lets go of an entry (evicted, or at the end): no one holds it (pinned below). */
static void slot_release(void *slot, void *arg)
{
	(void)arg;
	entry_free(slot_entry(slot));
}

/* Held: a fetch in flight, or callers waiting on it or fetching it (their pointers must stay valid). */
static bool slot_pinned(const void *slot, void *arg)
{
	const struct centry *e = slot_entry(slot);

	(void)arg;
	return e->inflight || e->waiters > 0;
}

static const struct lru_type CACHED_SLOT = {.slot_size = sizeof(struct tslot),
					    .order = LRU_ORDER_HIT,
					    .release = slot_release,
					    .pinned = slot_pinned};

/* An item's key text as the table keys it. */
struct tkey {
	uint8_t k[LRU_KEY_SIZE]; /* the text zero-padded, or its SHA-256 beyond 32 characters */
	bool hashed;
};

static bool table_key(const char *key, struct tkey *out)
{
	size_t n = strnlen(key, LRU_KEY_SIZE + 1);

	if ((out->hashed = n > LRU_KEY_SIZE))
		return sha256(key, strlen(key), out->k) == ATTEST_OK;
	memcpy(out->k, key, n);
	memset(out->k + n, 0, LRU_KEY_SIZE - n);
	return true;
}

/* One lookup in the table: the key text wanted, and the entry found. */
struct table_find {
	const char *key;
	bool hashed;
	struct centry *e;
	bool other; /* the table key holds another text (a SHA-256 equal to another key) */
};

/*
 * Finding an entry is not serving it: a miss for the skeleton, so the
 * entry is renewed only when an item is served from it (table_served).
 */
static enum lru_verdict table_look(const void *slot, void *arg)
{
	const struct tslot *s = slot;
	struct table_find *q = arg;

	if (s->hashed == q->hashed && (!q->hashed || strcmp(s->e->key, q->key) == 0))
		q->e = s->e;
	else
		q->other = true;
	return LRU_MISS;
}

/* The entry of key, or NULL (under the lock). */
static struct centry *find(struct cached *c, const char *key, const struct tkey *tk, bool *other)
{
	struct table_find q = {.key = key, .hashed = tk->hashed};

	lru_get(c->table, tk->k, table_look, &q);
	if (other != NULL)
		*other = q.other;
	return q.e;
}

/*
 * The entry of key, added if absent (under the lock), or NULL out of
 * memory. *own: the entry could not enter the table (every entry held, or
 * its table key taken by another text) and is the caller's to free.
 */
static struct centry *find_or_add(struct cached *c, const char *key, const struct tkey *tk, bool *own)
{
	bool other = false;
	struct centry *e = find(c, key, tk, &other);
	struct tslot s;

	*own = false;
	if (e != NULL)
		return e;
	if ((e = entry_new(key)) == NULL)
		return NULL;
	s = (struct tslot){.e = e, .hashed = tk->hashed};
	*own = other || !lru_put(c->table, tk->k, &s);
	return e;
}

/* An item was served from key's entry: the most recently used (under the lock). */
static void table_served(struct cached *c, const struct tkey *tk)
{
	lru_get(c->table, tk->k, NULL, NULL);
}

static int64_t now_of(struct cached *c)
{
	return c->o.clock ? c->o.clock(c->o.clock_arg) : time_now();
}

static bool has_up(const struct cached *c)
{
	return c->up != NULL || c->o.amd_upstream != NULL;
}

/* ---- upstream, persistence ----------------------------------------------------------- */

static int call_upstream(struct cached *c, const struct creq *r, struct collateral_blob *out,
			 struct attest_err *err)
{
	bool amd = r->slot == SLOT_VCEK || r->slot == SLOT_CHAIN || r->slot == SLOT_AMD_CRL;
	struct collateral_source *u = amd && c->o.amd_upstream != NULL ? c->o.amd_upstream : c->up;
	struct collateral_pck_query q = {r->ppid, r->ppid_len, r->cpusvn, r->pcesvn, r->pceid};

	if (u == NULL)
		return attest_err_set(err, ATTEST_E_NOT_FOUND, "collateral.not_found",
				      "no upstream for this item");
	switch (r->slot) {
	case SLOT_PCK_CRL:
		return collateral_get_pck_crl(u, (enum collateral_pck_ca)r->ca, out, err);
	case SLOT_ROOT_CRL:
		return collateral_get_root_ca_crl(u, out, err);
	case SLOT_TCB:
		return collateral_get_tcb_info_ex(u, (enum collateral_tee)r->tee, r->fmspc, &r->sel, out,
						  err);
	case SLOT_QE:
		return collateral_get_qe_identity_ex(u, (enum collateral_qe)r->qe, &r->sel, out, err);
	case SLOT_PCK_CERT:
		return collateral_get_pck_cert(u, &q, out, err);
	case SLOT_VCEK:
		return collateral_get_amd_vcek(u, r->product, r->chip_id, r->tcb, out, err);
	case SLOT_CHAIN:
		return collateral_get_amd_cert_chain(u, r->product, r->vlek, out, err);
	case SLOT_AMD_CRL:
		return collateral_get_amd_crl(u, r->product, r->vlek, out, err);
	}
	return attest_err_set(err, ATTEST_E_INTERNAL, "collateral.cache.slot", "unknown slot");
}

/* Reads dates, runs validate(): 0 when the item may be cached. */
static int admit(struct cached *c, const char *key, enum cached_kind kind, const struct collateral_blob *b,
		 int64_t now, int64_t *iss, int64_t *nu, struct attest_err *err)
{
	int rc = cached_item_dates(kind, b, now, c->o.cert_ttl_s, iss, nu, err);

	if (rc == ATTEST_OK && c->o.validate != NULL)
		rc = c->o.validate(c->o.validate_arg, key, kind, b, now, err);
	return rc;
}

static void persist_put(struct cached *c, const char *key, const struct collateral_blob *b, int64_t iss,
			int64_t nu)
{
	uint8_t *enc = NULL;
	size_t n = 0;
	int rc;

	if (!c->has_persist || c->persist.put == NULL)
		return;
	rc = cached_encode(b, &enc, &n, NULL);
	if (rc == ATTEST_OK)
		rc = c->persist.put(c->persist.arg, key, enc, n, iss, nu, NULL);
	free(enc);
	if (rc != ATTEST_OK) {
		pthread_mutex_lock(&c->mu);
		c->st.persist_errors++;
		pthread_mutex_unlock(&c->mu);
	}
}

/* Loads key from persistence into *b (0), or fails (not found or unreadable). */
static int persist_get(struct cached *c, const char *key, struct collateral_blob *b, int64_t *iss,
		       int64_t *nu)
{
	uint8_t *enc = NULL;
	size_t n = 0;
	int rc;

	if (!c->has_persist || c->persist.get == NULL)
		return ATTEST_E_NOT_FOUND;
	rc = c->persist.get(c->persist.arg, key, &enc, &n, iss, nu, NULL);
	if (rc == ATTEST_OK)
		rc = cached_decode(enc, n, b, NULL);
	free(enc);
	return rc;
}

/* ---- the lookup ------------------------------------------------------------------------ */

/* May the cached item be served at now, and is it due for a refresh? (under the lock) */
static bool servable(const struct cached *c, const struct centry *e, int64_t now, bool *due, bool *stale)
{
	bool swr = e->rq.kind == CACHED_TCB_INFO || e->rq.kind == CACHED_QE_IDENTITY;

	*due = now >= e->next_update - c->o.refresh_ahead_s;
	*stale = now > e->next_update;
	if (!e->has)
		return false;
	if (c->o.offline || !has_up(c))
		return true;
	if (!*stale)
		return true;
	/* §3.7 windows: never a CRL past nextUpdate; identities and TCB Info within the grace. */
	return swr && now <= e->next_update + c->o.grace_s;
}

/* Installs a fetched or loaded item (under the lock; takes b). */
static void install(struct centry *e, struct collateral_blob *b, int64_t iss, int64_t nu)
{
	collateral_blob_free(&e->blob);
	e->blob = *b; /* transferred */
	memset(b, 0, sizeof(*b));
	e->has = true;
	e->issue_date = iss;
	e->next_update = nu;
}

/* Back-off bookkeeping after an upstream fetch (under the lock). */
static void note_outcome(struct cached *c, struct centry *e, bool ok, int64_t now)
{
	int64_t wait;

	if (ok || c->o.backoff_min_s <= 0) {
		e->fails = 0;
		e->retry_at = 0;
		return;
	}
	wait = c->o.backoff_min_s;
	for (unsigned i = 1; i < e->fails + 1 && wait < c->o.backoff_max_s; i++)
		wait *= 2;
	if (wait > c->o.backoff_max_s)
		wait = c->o.backoff_max_s;
	e->fails++;
	e->retry_at = now + wait;
}

/*
 * The fetcher's work, lock released: persistence first (once per entry),
 * then upstream. Returns with the lock held and the entry updated.
 */
/* How long an item that is due but has nothing newer upstream waits before it is asked again. */
static int64_t unchanged_gap(const struct cached *c)
{
	int64_t g = c->o.refresh_ahead_s / 16;

	return g < CACHED_UNCHANGED_GAP_MIN   ? CACHED_UNCHANGED_GAP_MIN
	       : g > CACHED_UNCHANGED_GAP_MAX ? CACHED_UNCHANGED_GAP_MAX
					      : g;
}

/*
 * A newer copy of e in persistence (FETCH_REFRESH): one whose nextUpdate
 * is later than have_nu and that is not itself due, admitted like any
 * item. 0 and *b filled, or not found (nothing usable stored).
 */
static int persist_newer(struct cached *c, const char *key, enum cached_kind kind, int64_t have_nu,
			 int64_t now, struct collateral_blob *b, int64_t *iss, int64_t *nu, bool *refused)
{
	if (persist_get(c, key, b, iss, nu) != ATTEST_OK)
		return ATTEST_E_NOT_FOUND;
	if (*nu > have_nu && now < *nu - c->o.refresh_ahead_s) {
		if (admit(c, key, kind, b, now, iss, nu, NULL) == ATTEST_OK && *nu > have_nu)
			return ATTEST_OK;
		*refused = true;
	}
	collateral_blob_free(b);
	return ATTEST_E_NOT_FOUND;
}

static void fetch_locked(struct cached *c, struct centry *e, enum fetch_mode mode)
{
	struct collateral_blob b = {0};
	struct attest_err ferr;
	int64_t iss = 0, nu = 0, now, have_nu = e->has ? e->next_update : INT64_MIN;
	int rc = ATTEST_E_NOT_FOUND;
	bool from_persist = false, refused = false, persist_refused = false,
	     upstream = !c->o.offline && has_up(c), try_persist = mode == FETCH_PERSIST;
	struct creq rq = e->rq;

	e->inflight = true;
	attest_err_clear(&ferr);
	pthread_mutex_unlock(&c->mu);
	now = now_of(c);
	if (try_persist && persist_get(c, e->key, &b, &iss, &nu) == ATTEST_OK) {
		/*
		 * A stored row is admitted like a fetched item (dates read from the
		 * item itself, validate() again, once per key and process): the
		 * collateral table is shared state, not a trust anchor.
		 */
		if (admit(c, e->key, rq.kind, &b, now, &iss, &nu, NULL) == ATTEST_OK) {
			rc = ATTEST_OK;
			from_persist = true;
		} else {
			collateral_blob_free(&b);
			persist_refused = true;
		}
	}
	if (mode == FETCH_REFRESH && c->has_persist &&
	    persist_newer(c, e->key, rq.kind, have_nu, now, &b, &iss, &nu, &persist_refused) == ATTEST_OK) {
		rc = ATTEST_OK;
		from_persist = true;
	}
	if (!from_persist && upstream) {
		rc = call_upstream(c, &rq, &b, &ferr);
		if (rc == ATTEST_OK &&
		    (rc = admit(c, e->key, rq.kind, &b, now, &iss, &nu, &ferr)) != ATTEST_OK) {
			collateral_blob_free(&b); /* refused items are never cached */
			refused = true;
		} else if (rc == ATTEST_OK) {
			persist_put(c, e->key, &b, iss, nu);
		}
	} else if (!from_persist) {
		attest_err_set(&ferr, ATTEST_E_NOT_FOUND, "collateral.cache.offline",
			       "offline: %s is neither cached nor imported", e->key);
	}
	pthread_mutex_lock(&c->mu);
	if (try_persist)
		e->persist_tried = true;
	c->st.rejected += persist_refused;
	if (from_persist)
		c->st.persist_loads++;
	else if (upstream) {
		c->st.upstream_fetches++;
		c->st.upstream_failures += rc != ATTEST_OK;
		c->st.rejected += refused;
	}
	if (upstream && !from_persist)
		note_outcome(c, e, rc == ATTEST_OK, now);
	/*
	 * What the upstream just served is already due (it has nothing newer
	 * yet): do not ask again at every lookup or tick, but after a gap.
	 */
	if (upstream && !from_persist && rc == ATTEST_OK && now >= nu - c->o.refresh_ahead_s)
		e->refresh_not_before = now + unchanged_gap(c);
	/*
	 * A selected set the upstream does not serve (no early set published,
	 * a number it no longer keeps) is asked again only after a while:
	 * verifiers ask for it on every attestation.
	 */
	if (upstream && !from_persist && rc == ATTEST_E_NOT_FOUND && collateral_select_is_special(&rq.sel) &&
	    e->retry_at < now + CACHED_NEGATIVE_TTL)
		e->retry_at = now + CACHED_NEGATIVE_TTL;
	if (rc == ATTEST_OK)
		install(e, &b, iss, nu);
	e->last_rc = rc;
	e->last_err = ferr;
	e->last_from_store = from_persist;
	e->gen++;
	e->inflight = false;
	pthread_cond_broadcast(&e->cv);
}

static int copy_out(struct cached *c, struct centry *e, struct collateral_blob *out, struct attest_err *err)
{
	e->used_at = now_of(c);
	if (blob_copy(&e->blob, out) != ATTEST_OK)
		return attest_err_set(err, ATTEST_E_NOMEM, "collateral.nomem", "out of memory");
	return ATTEST_OK;
}

/* Copies a failure record for a caller (the first error set wins in err). */
static int fail_with(const struct attest_err *f, int rc, struct attest_err *err)
{
	if (err != NULL && err->rc == ATTEST_OK && f->rc != ATTEST_OK)
		*err = *f;
	return rc != ATTEST_OK ? rc : ATTEST_E_COLLATERAL;
}

static int lookup_entry(struct cached *c, struct centry *e, const struct creq *rq, bool cache_only,
			struct collateral_blob *out, struct attest_err *err);

static int lookup(struct cached *c, const struct creq *rq, bool cache_only, struct collateral_blob *out,
		  struct attest_err *err)
{
	char key[CACHED_KEY_MAX];
	struct tkey tk;
	struct centry *e;
	bool own = false;
	int rc;

	key_for(rq, key);
	if (!table_key(key, &tk))
		return attest_err_set(err, ATTEST_E_INTERNAL, "collateral.cache.key",
				      "cannot hash the key %.64s...", key);
	pthread_mutex_lock(&c->mu);
	/* A cache-only lookup neither adds an entry (nothing to evict others) nor asks anyone. */
	if (cache_only && ((e = find(c, key, &tk, NULL)) == NULL || !e->has)) {
		pthread_mutex_unlock(&c->mu);
		return attest_err_set(err, ATTEST_E_NOT_FOUND, "collateral.cache.miss",
				      "%s is not in this node's cache (cache-only lookup)", key);
	}
	if (!cache_only && (e = find_or_add(c, key, &tk, &own)) == NULL) {
		pthread_mutex_unlock(&c->mu);
		return attest_err_set(err, ATTEST_E_NOMEM, "collateral.nomem", "out of memory");
	}
	/*
	 * own: no other caller can see e, so this lookup neither waits nor is
	 * waited on, and what it fetches is served but not kept.
	 */
	c->st.uncached += own;
	rc = lookup_entry(c, e, rq, cache_only, out, err);
	if (rc == ATTEST_OK && !own)
		table_served(c, &tk);
	pthread_mutex_unlock(&c->mu);
	if (own)
		entry_free(e);
	return rc;
}

/* The lookup's work on its entry e (under the lock, released only while fetching or waiting). */
static int lookup_entry(struct cached *c, struct centry *e, const struct creq *rq, bool cache_only,
			struct collateral_blob *out, struct attest_err *err)
{
	const char *key = e->key;
	bool due, stale, fetched = false;
	int64_t now;
	int rc;

	if (!e->has_rq) {
		e->rq = *rq;
		e->has_rq = true;
	}
	for (;;) {
		now = now_of(c);
		if (servable(c, e, now, &due, &stale)) {
			/*
			 * Stale-while-revalidate: this caller refreshes, others are served.
			 * With a background refresher, a caller refreshes only what is past
			 * its nextUpdate (within the grace): before that, the refresher does
			 * it and no request pays the fetch.
			 */
			bool fetch = due && !cache_only && !e->inflight && !c->o.offline && has_up(c) &&
				     now >= e->retry_at && now >= e->refresh_not_before &&
				     (!c->thr_started || stale);

			if (fetch)
				fetch_locked(c, e, FETCH_UPSTREAM);
			if (!servable(c, e, now_of(c), &due, &stale))
				continue;
			if (stale)
				c->st.stale_served++;
			else if (!fetched) /* what this caller fetched itself is not a hit */
				c->st.hits++;
			rc = copy_out(c, e, out, err);
			break;
		}
		if (e->inflight) { /* single-flight: wait for the fetch in progress and share its result */
			uint64_t gen = e->gen;

			c->st.waits++;
			e->waiters++;
			while (e->inflight)
				pthread_cond_wait(&e->cv, &c->mu);
			e->waiters--;
			if (e->gen != gen && !servable(c, e, now_of(c), &due, &stale)) {
				/* share the fetch's outcome rather than fetching again: one request per key
				 */
				if (e->last_rc != ATTEST_OK)
					rc = fail_with(&e->last_err, e->last_rc, err);
				else
					rc = attest_err_set(
					    err, ATTEST_E_COLLATERAL, "collateral.cache.stale",
					    "%s as served upstream is already past its nextUpdate", key);
				break;
			}
			continue;
		}
		if (cache_only) { /* what it held expired (or a fetch for it failed) meanwhile */
			rc =
			    attest_err_set(err, ATTEST_E_NOT_FOUND, "collateral.cache.miss",
					   "%s is not current in this node's cache (cache-only lookup)", key);
			break;
		}
		if (!e->persist_tried && !e->has && c->has_persist) {
			fetch_locked(c, e, FETCH_PERSIST);
			continue;
		}
		if (c->o.offline || !has_up(c)) {
			rc = attest_err_set(err, ATTEST_E_NOT_FOUND, "collateral.cache.offline",
					    "offline: %s is neither cached nor imported", key);
			break;
		}
		if (now < e->retry_at && e->last_rc == ATTEST_E_NOT_FOUND) {
			/* what the upstream does not have stays not found while the key backs off */
			rc = fail_with(&e->last_err, e->last_rc, err);
			break;
		}
		if (now < e->retry_at) {
			rc = attest_err_set(
			    err, ATTEST_E_IO, "collateral.cache.backoff",
			    "%s: upstream failed %u time(s), next try in %lld s; last: %s: %s", key, e->fails,
			    (long long)(e->retry_at - now), e->last_err.name, e->last_err.msg);
			break;
		}
		e->waiters++; /* keeps e from eviction while we fetch */
		fetch_locked(c, e, FETCH_UPSTREAM);
		e->waiters--;
		if (e->last_rc != ATTEST_OK && e->has) {
			rc = attest_err_set(err, ATTEST_E_COLLATERAL, "collateral.cache.stale",
					    "%s expired and could not be refreshed: %s: %s", key,
					    e->last_err.name, e->last_err.msg);
			break;
		}
		if (e->last_rc != ATTEST_OK) {
			rc = fail_with(&e->last_err, e->last_rc, err);
			break;
		}
		fetched = true;
		/* loop: the new item is servable unless it is already expired upstream */
		if (!servable(c, e, now_of(c), &due, &stale)) {
			rc = attest_err_set(err, ATTEST_E_COLLATERAL, "collateral.cache.stale",
					    "%s as served upstream is already past its nextUpdate", key);
			break;
		}
	}
	return rc;
}

/* ---- slots ------------------------------------------------------------------------------ */

static int lookup_self(void *self, const struct creq *rq, struct collateral_blob *out, struct attest_err *err)
{
	const struct cself *s = self;

	return lookup(s->c, rq, s->cache_only, out, err);
}

static int s_pck_crl(void *self, enum collateral_pck_ca ca, struct collateral_blob *out,
		     struct attest_err *err)
{
	struct creq r = {.slot = SLOT_PCK_CRL, .kind = CACHED_CRL, .ca = (int)ca};

	return lookup_self(self, &r, out, err);
}

static int s_root_crl(void *self, struct collateral_blob *out, struct attest_err *err)
{
	struct creq r = {.slot = SLOT_ROOT_CRL, .kind = CACHED_CRL};

	return lookup_self(self, &r, out, err);
}

static int s_tcb(void *self, enum collateral_tee tee, const uint8_t fmspc[6], struct collateral_blob *out,
		 struct attest_err *err)
{
	struct creq r = {.slot = SLOT_TCB, .kind = CACHED_TCB_INFO, .tee = (int)tee};

	memcpy(r.fmspc, fmspc, 6);
	return lookup_self(self, &r, out, err);
}

static int s_qe(void *self, enum collateral_qe kind, struct collateral_blob *out, struct attest_err *err)
{
	struct creq r = {.slot = SLOT_QE, .kind = CACHED_QE_IDENTITY, .qe = (int)kind};

	return lookup_self(self, &r, out, err);
}

static int s_tcb_ex(void *self, enum collateral_tee tee, const uint8_t fmspc[6],
		    const struct collateral_select *sel, struct collateral_blob *out, struct attest_err *err)
{
	struct creq r = {.slot = SLOT_TCB, .kind = CACHED_TCB_INFO, .tee = (int)tee};

	if (sel != NULL)
		r.sel = *sel;
	memcpy(r.fmspc, fmspc, 6);
	return lookup_self(self, &r, out, err);
}

static int s_qe_ex(void *self, enum collateral_qe kind, const struct collateral_select *sel,
		   struct collateral_blob *out, struct attest_err *err)
{
	struct creq r = {.slot = SLOT_QE, .kind = CACHED_QE_IDENTITY, .qe = (int)kind};

	if (sel != NULL)
		r.sel = *sel;
	return lookup_self(self, &r, out, err);
}

static int s_pck_cert(void *self, const struct collateral_pck_query *q, struct collateral_blob *out,
		      struct attest_err *err)
{
	struct creq r = {.slot = SLOT_PCK_CERT, .kind = CACHED_CERT};

	if (q == NULL || q->ppid == NULL || q->cpusvn == NULL || q->pceid == NULL ||
	    q->ppid_len > sizeof(r.ppid))
		return attest_err_set(err, ATTEST_E_INVALID, "collateral.invalid", "incomplete PCK query");
	memcpy(r.ppid, q->ppid, q->ppid_len);
	r.ppid_len = q->ppid_len;
	memcpy(r.cpusvn, q->cpusvn, 16);
	memcpy(r.pceid, q->pceid, 2);
	r.pcesvn = q->pcesvn;
	return lookup_self(self, &r, out, err);
}

static int product_copy(struct creq *r, const char *product, struct attest_err *err)
{
	size_t n = product ? strlen(product) : 0;

	if (n == 0 || n >= sizeof(r->product) ||
	    strspn(product, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != n)
		return attest_err_set(err, ATTEST_E_INVALID, "collateral.invalid",
				      "product name is not a plain word");
	memcpy(r->product, product, n + 1);
	return ATTEST_OK;
}

static int s_vcek(void *self, const char *product, const uint8_t chip_id[64], uint64_t tcb,
		  struct collateral_blob *out, struct attest_err *err)
{
	struct creq r = {.slot = SLOT_VCEK, .kind = CACHED_CERT, .tcb = tcb};
	int rc = product_copy(&r, product, err);

	if (rc != ATTEST_OK)
		return rc;
	memcpy(r.chip_id, chip_id, 64);
	return lookup_self(self, &r, out, err);
}

static int s_chain(void *self, const char *product, bool vlek, struct collateral_blob *out,
		   struct attest_err *err)
{
	struct creq r = {.slot = SLOT_CHAIN, .kind = CACHED_CERT, .vlek = vlek};
	int rc = product_copy(&r, product, err);

	return rc != ATTEST_OK ? rc : lookup_self(self, &r, out, err);
}

static int s_amd_crl(void *self, const char *product, bool vlek, struct collateral_blob *out,
		     struct attest_err *err)
{
	struct creq r = {.slot = SLOT_AMD_CRL, .kind = CACHED_CRL, .vlek = vlek};
	int rc = product_copy(&r, product, err);

	return rc != ATTEST_OK ? rc : lookup_self(self, &r, out, err);
}

static void refresher_stop(struct cached *c);
static int refresher_start(struct cached *c, struct attest_err *err);

static void s_free(void *self)
{
	const struct cself *s = self;
	struct cached *c = s != NULL && !s->cache_only ? s->c : NULL;

	if (c == NULL) /* the cache-only view is part of its cache, freed with it */
		return;
	refresher_stop(c);
	lru_free(c->table); /* every entry, once (slot_release) */
	if (c->own_up && c->up != NULL) {
		collateral_source_free(c->up);
		free(c->up);
	}
	if (c->o.own_amd_upstream && c->o.amd_upstream != NULL) {
		collateral_source_free(c->o.amd_upstream);
		free(c->o.amd_upstream);
	}
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static const struct collateral_source_ops CACHED_OPS = {
    .name = "cached",
    .pck_crl = s_pck_crl,
    .root_ca_crl = s_root_crl,
    .tcb_info = s_tcb,
    .qe_identity = s_qe,
    .tcb_info_ex = s_tcb_ex,
    .qe_identity_ex = s_qe_ex,
    .pck_cert = s_pck_cert,
    .amd_vcek = s_vcek,
    .amd_cert_chain = s_chain,
    .amd_crl = s_amd_crl,
    .free = s_free,
};

int cached_source_new(struct collateral_source *upstream, bool own_upstream, const struct cached_options *o,
		      struct collateral_source **out, struct attest_err *err)
{
	struct cached *c;
	struct collateral_source *src;

	if ((c = calloc(1, sizeof(*c))) == NULL || (src = calloc(1, sizeof(*src))) == NULL) {
		free(c);
		return attest_err_set(err, ATTEST_E_NOMEM, "collateral.nomem", "out of memory");
	}
	if (o != NULL)
		c->o = *o;
	if (c->o.max_entries == 0)
		c->o.max_entries = CACHED_DEFAULT_MAX;
	if (c->o.max_entries > LRU_MAX_CAPACITY) {
		size_t max = c->o.max_entries;

		free(c);
		free(src);
		return attest_err_set(err, ATTEST_E_INVALID, "collateral.cache.max_entries",
				      "max_entries %zu is above %u", max, LRU_MAX_CAPACITY);
	}
	if ((c->table = lru_new(c->o.max_entries, &CACHED_SLOT)) == NULL) {
		free(c);
		free(src);
		return attest_err_set(err, ATTEST_E_NOMEM, "collateral.nomem", "out of memory");
	}
	if (c->o.cert_ttl_s <= 0)
		c->o.cert_ttl_s = CACHED_DEFAULT_CERT_TTL;
	if (c->o.backoff_max_s <= 0)
		c->o.backoff_max_s = 300;
	if (c->o.backoff_max_s < c->o.backoff_min_s)
		c->o.backoff_max_s = c->o.backoff_min_s;
	if (c->o.refresh_max_per_tick == 0)
		c->o.refresh_max_per_tick = CACHED_DEFAULT_PER_TICK;
	if (c->o.persist != NULL) {
		c->persist = *c->o.persist;
		c->has_persist = true;
		c->o.persist = NULL;
	}
	c->up = upstream;
	c->own_up = own_upstream;
	pthread_mutex_init(&c->mu, NULL);
	c->self_full = (struct cself){.c = c, .cache_only = false};
	c->self_cache_only = (struct cself){.c = c, .cache_only = true};
	c->cache_only_src.ops = &CACHED_OPS;
	c->cache_only_src.self = &c->self_cache_only;
	src->ops = &CACHED_OPS;
	src->self = &c->self_full;
	src->cache = upstream ? upstream->cache : NULL;
	if (c->o.refresh_interval_ms > 0 && refresher_start(c, err) != ATTEST_OK) {
		c->own_up = false; /* the caller keeps its upstreams on failure */
		c->o.own_amd_upstream = false;
		s_free(&c->self_full);
		free(src);
		return err != NULL && err->rc != ATTEST_OK ? err->rc : ATTEST_E_INTERNAL;
	}
	*out = src;
	return ATTEST_OK;
}

static struct cached *cached_of(const struct collateral_source *cs)
{
	return cs != NULL && cs->ops == &CACHED_OPS ? ((const struct cself *)cs->self)->c : NULL;
}

struct collateral_source *cached_source_cache_only(struct collateral_source *cs)
{
	struct cached *c = cached_of(cs);

	return c != NULL ? &c->cache_only_src : cs;
}

void cached_source_set_offline(struct collateral_source *cs, bool offline)
{
	struct cached *c = cached_of(cs);

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->o.offline = offline;
	pthread_mutex_unlock(&c->mu);
}

/* The request an imported key stands for (so a later refresh can repeat it); false if unknown. */
static bool req_of_key(const char *key, enum cached_kind kind, struct creq *r)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	if (strcmp(key, "pck_crl/processor") == 0 || strcmp(key, "pck_crl/platform") == 0) {
		r->slot = SLOT_PCK_CRL;
		r->ca = key[8] == 'p' && key[9] == 'l' ? COLLATERAL_CA_PLATFORM : COLLATERAL_CA_PROCESSOR;
		return true;
	}
	if (strcmp(key, "root_ca_crl") == 0) {
		r->slot = SLOT_ROOT_CRL;
		return true;
	}
	return false;
}

/* cached_source_import and cached_source_install: write through to persistence or not. */
static int import_item(struct collateral_source *cs, const char *key, enum cached_kind kind,
		       const struct collateral_blob *b, bool persist, struct attest_err *err)
{
	struct cached *c = cached_of(cs);
	struct collateral_blob copy = {0};
	struct tkey tk;
	struct centry *e;
	struct creq r;
	int64_t iss = 0, nu = 0;
	bool own;
	int rc;

	if (c == NULL || key == NULL || b == NULL || b->data == NULL || strlen(key) >= CACHED_KEY_MAX)
		return attest_err_set(err, ATTEST_E_INVALID, "collateral.invalid", "bad import arguments");
	if (!table_key(key, &tk))
		return attest_err_set(err, ATTEST_E_INTERNAL, "collateral.cache.key", "cannot hash the key");
	if ((rc = admit(c, key, kind, b, now_of(c), &iss, &nu, err)) != ATTEST_OK)
		return rc;
	if (blob_copy(b, &copy) != ATTEST_OK)
		return attest_err_set(err, ATTEST_E_NOMEM, "collateral.nomem", "out of memory");
	if (persist)
		persist_put(c, key, b, iss, nu);
	pthread_mutex_lock(&c->mu);
	if ((e = find_or_add(c, key, &tk, &own)) == NULL || own) {
		pthread_mutex_unlock(&c->mu);
		collateral_blob_free(&copy);
		if (e == NULL)
			return attest_err_set(err, ATTEST_E_NOMEM, "collateral.nomem", "out of memory");
		entry_free(e);
		return attest_err_set(err, ATTEST_E_NOMEM, "collateral.cache.full",
				      "%s not cached: every entry of the cache (%zu) is in use", key,
				      c->o.max_entries);
	}
	if (!e->has_rq) {
		e->has_rq = req_of_key(key, kind, &r);
		e->rq = r;
	}
	e->rq.kind = kind;
	install(e, &copy, iss, nu);
	e->persist_tried = true;
	e->used_at = now_of(c);
	pthread_mutex_unlock(&c->mu);
	return ATTEST_OK;
}

int cached_source_import(struct collateral_source *cs, const char *key, enum cached_kind kind,
			 const struct collateral_blob *b, struct attest_err *err)
{
	return import_item(cs, key, kind, b, true, err);
}

int cached_source_install(struct collateral_source *cs, const char *key, enum cached_kind kind,
			  const struct collateral_blob *b, struct attest_err *err)
{
	return import_item(cs, key, kind, b, false, err);
}

int cached_source_invalidate(struct collateral_source *cs, const char *key)
{
	struct cached *c = cached_of(cs);
	struct tkey tk;
	struct centry *e;
	int rc = ATTEST_E_NOT_FOUND;

	if (c == NULL || key == NULL || !table_key(key, &tk))
		return ATTEST_E_INVALID;
	pthread_mutex_lock(&c->mu);
	if ((e = find(c, key, &tk, NULL)) != NULL && e->has) {
		collateral_blob_free(&e->blob);
		e->has = false;
		e->persist_tried = true; /* do not read the same item back from persistence */
		rc = ATTEST_OK;
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* A refresh pass's search for the most urgent entry it may refresh. */
struct due_walk {
	const struct cached *c;
	uint64_t pass;
	int64_t now;
	struct centry *best;
};

static bool due_visit(const void *slot, void *arg)
{
	struct due_walk *w = arg;
	struct centry *e = slot_entry(slot);
	int64_t now = w->now;

	if (e->pass == w->pass || !e->has || !e->has_rq || e->inflight || now < e->retry_at ||
	    now < e->refresh_not_before || now < e->next_update - w->c->o.refresh_ahead_s)
		return true;
	if (w->c->o.refresh_idle_s > 0 && now - e->used_at > w->c->o.refresh_idle_s)
		return true; /* nobody asks for it any more: let it expire */
	if (w->best == NULL || e->next_update < w->best->next_update)
		w->best = e;
	return true;
}

/* The most urgent entry this pass may refresh at now (under the lock), or NULL: one walk of the table. */
static struct centry *next_due(struct cached *c, uint64_t pass, int64_t now)
{
	struct due_walk w = {.c = c, .pass = pass, .now = now};

	lru_walk(c->table, due_visit, &w);
	return w.best;
}

/*
 * Refreshes e (under the lock, e held by the caller) and describes the
 * outcome in *ev (key copied into keybuf, error into *ferr).
 */
static void refresh_one(struct cached *c, struct centry *e, int64_t now, struct cached_refresh_event *ev,
			char *keybuf, struct attest_err *ferr)
{
	int64_t have_nu = e->next_update;

	fetch_locked(c, e, FETCH_REFRESH);
	memset(ev, 0, sizeof(*ev));
	snprintf(keybuf, CACHED_KEY_MAX, "%s", e->key);
	ev->key = keybuf;
	ev->ok = e->last_rc == ATTEST_OK;
	ev->next_update = e->next_update;
	if (ev->ok) {
		ev->from_store = e->last_from_store;
		ev->advanced = e->next_update > have_nu;
		c->st.refresh_ok++;
		c->st.refresh_from_store += ev->from_store;
		if (!ev->advanced) /* the upstream has nothing newer yet: do not ask every tick */
			e->refresh_not_before = now + unchanged_gap(c);
		return;
	}
	c->st.refresh_failed++;
	if (e->retry_at <= now) /* no back-off configured: still not at every tick */
		e->refresh_not_before = now + unchanged_gap(c);
	*ferr = e->last_err;
	ev->err = ferr;
	ev->fails = e->fails;
	ev->retry_in_s = (e->retry_at > e->refresh_not_before ? e->retry_at : e->refresh_not_before) - now;
}

static void refresh_pass(struct cached *c, size_t max, size_t *refreshed, size_t *failed)
{
	size_t ok = 0, bad = 0;
	uint64_t pass;

	if (max == 0)
		max = c->o.refresh_max_per_tick;
	pthread_mutex_lock(&c->mu);
	if (c->refreshing) {
		pthread_mutex_unlock(&c->mu);
		goto out;
	}
	c->refreshing = true;
	pass = ++c->pass;
	c->st.refresh_passes++;
	while (ok + bad < max && !c->o.offline && has_up(c) && !atomic_load(&c->stopping)) {
		int64_t now = now_of(c);
		struct centry *e = next_due(c, pass, now);
		struct cached_refresh_event ev;
		struct attest_err ferr;
		char key[CACHED_KEY_MAX];

		if (e == NULL)
			break;
		e->pass = pass;
		e->waiters++; /* keeps e from eviction while unlocked */
		refresh_one(c, e, now, &ev, key, &ferr);
		e->waiters--;
		if (ev.ok)
			ok++;
		else
			bad++;
		if (c->o.on_refresh != NULL) {
			pthread_mutex_unlock(&c->mu);
			c->o.on_refresh(c->o.on_refresh_arg, &ev);
			pthread_mutex_lock(&c->mu);
		}
		if (!ev.ok) /* an outage or a 429 costs one request per pass, not one per item */
			break;
	}
	c->refreshing = false;
	pthread_mutex_unlock(&c->mu);
out:
	if (refreshed)
		*refreshed = ok;
	if (failed)
		*failed = bad;
}

void cached_source_refresh_tick(struct collateral_source *cs, size_t max, size_t *refreshed, size_t *failed)
{
	struct cached *c = cached_of(cs);

	if (c == NULL) {
		if (refreshed)
			*refreshed = 0;
		if (failed)
			*failed = 0;
		return;
	}
	refresh_pass(c, max, refreshed, failed);
}

void cached_source_refresh_due(struct collateral_source *cs, size_t *refreshed, size_t *failed)
{
	cached_source_refresh_tick(cs, SIZE_MAX, refreshed, failed);
}

bool cached_refresh_event_format(const struct cached_refresh_event *ev, char *out, size_t n)
{
	char when[40];

	time_format_rfc3339(ev->next_update, when, sizeof(when));
	if (ev->ok) {
		snprintf(out, n, "collateral refresh: %s %s, next update %s", ev->key,
			 ev->from_store ? "taken from the store (refreshed by another node)"
			 : ev->advanced ? "refreshed"
					: "unchanged upstream (nothing newer yet)",
			 when);
		return false;
	}
	snprintf(
	    out, n,
	    "collateral refresh: %s failed: %s: %s; %u failure(s) in a row, next try in %lld s; the cached "
	    "item (next update %s) is served while it may be",
	    ev->key, ev->err ? ev->err->name : "?", ev->err ? ev->err->msg : "?", ev->fails,
	    (long long)ev->retry_in_s, when);
	return true;
}

/* ---- the background refresher ------------------------------------------------------------ */

/* The next wait: interval +- 10 %, uniformly (nodes sharing an upstream drift apart). */
static int64_t jittered_ms(struct cached *c)
{
	int64_t iv = c->o.refresh_interval_ms, span = iv / 5;

	if (span <= 0)
		return iv;
	return iv - iv / 10 + (int64_t)((uint64_t)rand_r(&c->seed) % (uint64_t)(span + 1));
}

static void *refresher_main(void *arg)
{
	struct cached *c = arg;
	struct timespec ts;

	pthread_mutex_lock(&c->rmu);
	while (!atomic_load(&c->stopping)) {
		int64_t ms = jittered_ms(c);

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)(ms / 1000);
		ts.tv_nsec += (long)(ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		/* 0: signalled (stop) or spurious; anything else (ETIMEDOUT, an error) ends the wait */
		for (int w = 0; !atomic_load(&c->stopping) && w == 0;)
			w = pthread_cond_timedwait(&c->rcv, &c->rmu, &ts);
		if (atomic_load(&c->stopping))
			break;
		pthread_mutex_unlock(&c->rmu);
		refresh_pass(c, 0, NULL, NULL);
		pthread_mutex_lock(&c->rmu);
	}
	pthread_mutex_unlock(&c->rmu);
	return NULL;
}

static int refresher_start(struct cached *c, struct attest_err *err)
{
	pthread_condattr_t ca;
	int rc;

	c->seed = (unsigned)(time_mono_ns() ^ (uintptr_t)c);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	rc = pthread_cond_init(&c->rcv, &ca);
	pthread_condattr_destroy(&ca);
	if (rc != 0)
		return attest_err_set(err, ATTEST_E_INTERNAL, "collateral.cache.thread",
				      "cannot create the refresher's condition variable");
	pthread_mutex_init(&c->rmu, NULL);
	if (pthread_create(&c->thr, NULL, refresher_main, c) != 0) {
		pthread_cond_destroy(&c->rcv);
		pthread_mutex_destroy(&c->rmu);
		return attest_err_set(err, ATTEST_E_INTERNAL, "collateral.cache.thread",
				      "cannot start the background refresher");
	}
	c->thr_started = true;
	return ATTEST_OK;
}

/* Stops and joins the refresher (a fetch in flight finishes first). */
static void refresher_stop(struct cached *c)
{
	if (!c->thr_started)
		return;
	pthread_mutex_lock(&c->rmu);
	atomic_store(&c->stopping, true);
	pthread_cond_broadcast(&c->rcv);
	pthread_mutex_unlock(&c->rmu);
	pthread_join(c->thr, NULL);
	pthread_cond_destroy(&c->rcv);
	pthread_mutex_destroy(&c->rmu);
	c->thr_started = false;
}

void cached_source_stats(const struct collateral_source *cs, struct cached_stats *out)
{
	struct cached *c = cached_of(cs);

	memset(out, 0, sizeof(*out));
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	*out = c->st;
	pthread_mutex_unlock(&c->mu);
}

int cached_source_metrics(const struct collateral_source *cs, struct buf *out)
{
	struct cached_stats st;
	size_t items;
	int rc = 0;

	if (cached_of(cs) == NULL)
		return ATTEST_OK;
	cached_source_stats(cs, &st);
	items = cached_source_count(cs);
	rc |= buf_printf(
	    out,
	    "# HELP attestd_collateral_lookups_total Collateral lookups answered from the cache.\n"
	    "# TYPE attestd_collateral_lookups_total counter\n"
	    "attestd_collateral_lookups_total{result=\"hit\"} %llu\n"
	    "attestd_collateral_lookups_total{result=\"stale\"} %llu\n"
	    "attestd_collateral_lookups_total{result=\"wait\"} %llu\n",
	    (unsigned long long)st.hits, (unsigned long long)st.stale_served, (unsigned long long)st.waits);
	rc |= buf_printf(out,
			 "# HELP attestd_collateral_upstream_requests_total Requests to PCS/PCCS/KDS.\n"
			 "# TYPE attestd_collateral_upstream_requests_total counter\n"
			 "attestd_collateral_upstream_requests_total{result=\"ok\"} %llu\n"
			 "attestd_collateral_upstream_requests_total{result=\"failed\"} %llu\n",
			 (unsigned long long)(st.upstream_fetches - st.upstream_failures),
			 (unsigned long long)st.upstream_failures);
	rc |=
	    buf_printf(out,
		       "# HELP attestd_collateral_refresh_total Background refreshes ahead of next update.\n"
		       "# TYPE attestd_collateral_refresh_total counter\n"
		       "attestd_collateral_refresh_total{result=\"ok\"} %llu\n"
		       "attestd_collateral_refresh_total{result=\"from_store\"} %llu\n"
		       "attestd_collateral_refresh_total{result=\"failed\"} %llu\n"
		       "# HELP attestd_collateral_refresh_passes_total Background refresh passes.\n"
		       "# TYPE attestd_collateral_refresh_passes_total counter\n"
		       "attestd_collateral_refresh_passes_total %llu\n",
		       (unsigned long long)(st.refresh_ok - st.refresh_from_store),
		       (unsigned long long)st.refresh_from_store, (unsigned long long)st.refresh_failed,
		       (unsigned long long)st.refresh_passes);
	rc |= buf_printf(
	    out,
	    "# HELP attestd_collateral_uncached_total Lookups that could not keep their item: every "
	    "item was held by a fetch or a waiting caller (max_entries too small for the load).\n"
	    "# TYPE attestd_collateral_uncached_total counter\n"
	    "attestd_collateral_uncached_total %llu\n",
	    (unsigned long long)st.uncached);
	rc |= buf_printf(
	    out,
	    "# HELP attestd_collateral_rejected_total Items refused (dates, signature, chain).\n"
	    "# TYPE attestd_collateral_rejected_total counter\n"
	    "attestd_collateral_rejected_total %llu\n"
	    "# HELP attestd_collateral_store_total Items read back from the store, and store errors.\n"
	    "# TYPE attestd_collateral_store_total counter\n"
	    "attestd_collateral_store_total{result=\"load\"} %llu\n"
	    "attestd_collateral_store_total{result=\"error\"} %llu\n"
	    "# HELP attestd_collateral_items Items in the collateral cache.\n"
	    "# TYPE attestd_collateral_items gauge\n"
	    "attestd_collateral_items %zu\n",
	    (unsigned long long)st.rejected, (unsigned long long)st.persist_loads,
	    (unsigned long long)st.persist_errors, items);
	return rc == 0 ? ATTEST_OK : ATTEST_E_NOMEM;
}

size_t cached_source_count(const struct collateral_source *cs)
{
	struct cached *c = cached_of(cs);
	size_t n;

	if (c == NULL)
		return 0;
	pthread_mutex_lock(&c->mu);
	n = lru_count(c->table);
	pthread_mutex_unlock(&c->mu);
	return n;
}
