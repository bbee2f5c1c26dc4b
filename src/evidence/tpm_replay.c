/*
 * The TPM protocol's replay protection (tpm_protocol.h): a bounded set of
 * the context ids already redeemed, and one such set per provider.
 *
 * Why per provider. A context is recorded once its request verified, and
 * a tenant can produce verified requests at its own rate (it may register
 * its own software AIKs, server/provider_trust.h). With one set per node,
 * a tenant filling it had every other tenant's protocol refused
 * (tpm.context.replay_store) for up to a TTL. Each provider now records
 * into its own set: filling it refuses that provider's requests only.
 *
 * Memory. A set's table is open-addressed (linear probing), kept at most
 * half full, and rebuilt when it would fill: the ids expired by then are
 * dropped and the table is sized for those that stay, so it grows from 16
 * slots as its provider's traffic asks and shrinks back after; a table has
 * at most 4 slots per id it holds, or 16. A provider's set holds at most
 * per_provider ids; each id beyond its first `floor` takes a unit of a
 * pool of `shared` ids common to all providers; at most `providers` sets
 * exist at once, and a set whose ids all expired is dropped at the next
 * sweep (every TPM_REPLAY_SWEEP_EVERY seconds, or at once, at most once a
 * second, when the pool or the set count runs out). So whatever tenants
 * do, the node holds at most providers * floor + shared ids, one tenant
 * at most per_provider, and 1,000 idle providers hold nothing. A deleted
 * or renamed provider's set stays until its ids expire, then goes at the
 * next sweep (its ids still refuse replays meanwhile, which is harmless).
 *
 * Sharing. Each set has its own mutex. The map of sets is under a
 * read-write lock: a request finds its provider's set and records under
 * the read lock (so requests of different providers run in parallel);
 * creating a set and sweeping take the write lock.
 */
#include "evidence/tpm_protocol.h"

#include "base/cur.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- one set --------------------------------------------------------------- */

#define SEEN_MIN_SLOTS 16

struct seen_slot {
	uint8_t id[TPM_PROTO_ID_LEN];
	int64_t expiry;
	bool used;
};

/* Ids beyond the sets' floors, shared by every set of a tpm_replay_sets. */
struct seen_pool {
	atomic_size_t used;
	size_t limit;
};

struct tpm_seen_set {
	pthread_mutex_t lock;
	size_t capacity;	/* ids kept at most */
	size_t floor;		/* ids kept without a unit of the pool */
	struct seen_pool *pool; /* NULL: a set of its own (floor == capacity) */
	size_t nslots;		/* power of two, >= 2 * (count + 1) after an insert */
	size_t count;
	/* The earliest expiry among the ids held (INT64_MAX: none): before it no
	 * rebuild can free a slot, so a set full of live ids refuses at once
	 * instead of rebuilding its table on every check (at most one rebuild
	 * per second of expiries, however hard it is pressed). */
	int64_t earliest;
	struct seen_slot *slots;
};

static struct tpm_seen_set *seen_new(size_t capacity, size_t floor, struct seen_pool *pool)
{
	struct tpm_seen_set *s;

	if (capacity == 0 || capacity > (1u << 24) || floor > capacity)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->slots = calloc(SEEN_MIN_SLOTS, sizeof(*s->slots));
	if (s->slots == NULL || pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s->slots);
		free(s);
		return NULL;
	}
	s->capacity = capacity;
	s->floor = floor;
	s->pool = pool;
	s->nslots = SEEN_MIN_SLOTS;
	s->earliest = INT64_MAX;
	return s;
}

struct tpm_seen_set *tpm_seen_set_new(size_t capacity)
{
	return seen_new(capacity, capacity, NULL);
}

/* Units of the pool count ids held beyond the floor. */
static size_t pool_units(const struct tpm_seen_set *s, size_t count)
{
	return s->pool != NULL && count > s->floor ? count - s->floor : 0;
}

void tpm_seen_set_free(struct tpm_seen_set *s)
{
	if (s == NULL)
		return;
	if (s->pool != NULL)
		atomic_fetch_sub(&s->pool->used, pool_units(s, s->count));
	pthread_mutex_destroy(&s->lock);
	free(s->slots);
	free(s);
}

static bool pool_take(struct seen_pool *p)
{
	size_t v = atomic_load(&p->used);

	while (v < p->limit)
		if (atomic_compare_exchange_weak(&p->used, &v, v + 1))
			return true;
	return false;
}

/* Ids are random: their first bytes are a good hash. */
static size_t slot_of(const struct tpm_seen_set *s, const uint8_t id[TPM_PROTO_ID_LEN])
{
	return (size_t)ld_u64le(id) & (s->nslots - 1);
}

static bool seen_has(const struct tpm_seen_set *s, const uint8_t id[TPM_PROTO_ID_LEN])
{
	for (size_t i = slot_of(s, id); s->slots[i].used; i = (i + 1) & (s->nslots - 1))
		if (memcmp(s->slots[i].id, id, TPM_PROTO_ID_LEN) == 0)
			return true;
	return false;
}

static void slot_insert(struct tpm_seen_set *s, const uint8_t id[TPM_PROTO_ID_LEN], int64_t expiry)
{
	size_t i = slot_of(s, id);

	while (s->slots[i].used)
		i = (i + 1) & (s->nslots - 1);
	memcpy(s->slots[i].id, id, TPM_PROTO_ID_LEN);
	s->slots[i].expiry = expiry;
	s->slots[i].used = true;
	s->count++;
	if (expiry < s->earliest)
		s->earliest = expiry;
}

/*
 * Rebuilds the table without the ids expired at now (open addressing has
 * no cheap delete), sized to stay at most half full with `room` more ids;
 * the pool gets back the units of the ids dropped. -1, the table
 * unchanged, when out of memory. Under s->lock.
 */
static int seen_rebuild(struct tpm_seen_set *s, int64_t now, size_t room)
{
	struct seen_slot *old = s->slots, *fresh;
	size_t live = 0, n = SEEN_MIN_SLOTS, old_n = s->nslots, before = s->count;

	for (size_t i = 0; i < old_n; i++)
		live += old[i].used && old[i].expiry > now;
	while (n < 2 * (live + room))
		n *= 2;
	if ((fresh = calloc(n, sizeof(*fresh))) == NULL)
		return -1;
	s->slots = fresh;
	s->nslots = n;
	s->count = 0;
	s->earliest = INT64_MAX;
	for (size_t i = 0; i < old_n; i++)
		if (old[i].used && old[i].expiry > now)
			slot_insert(s, old[i].id, old[i].expiry);
	free(old);
	if (s->pool != NULL)
		atomic_fetch_sub(&s->pool->used, pool_units(s, before) - pool_units(s, s->count));
	return 0;
}

/* One unit of the pool for an id beyond the floor; first the set's own expired ids go. Under s->lock. */
static bool seen_charge(struct tpm_seen_set *s, int64_t now)
{
	if (s->pool == NULL || s->count < s->floor || pool_take(s->pool))
		return true;
	if (now >= s->earliest)
		(void)seen_rebuild(s, now, 1); /* out of memory: the set is as it was, still charged */
	return s->count < s->floor || pool_take(s->pool);
}

/*
 * An id is kept TPM_REPLAY_GRACE seconds past its context's expiry. Each
 * request checks against the clock it started with (tpm_proto_cfg.now):
 * two requests that began in the context's last second with one context
 * must still meet in the set when the second records, even if a request
 * with a later clock swept the set in between (review6's finding 10). The
 * grace outlasts a request (the connection timeout, 30 s by default);
 * a context is refused as expired on its own, so keeping its id longer
 * costs only memory (ids live 360 s instead of 300).
 */
static int64_t kept_until(int64_t expiry)
{
	return expiry > INT64_MAX - TPM_REPLAY_GRACE ? INT64_MAX : expiry + TPM_REPLAY_GRACE;
}

/*
 * Records id: 0 new, 1 seen, -1 refused (full of live ids, the pool
 * empty: *pool_empty, or out of memory). Under no lock; takes s->lock.
 */
static int seen_record(struct tpm_seen_set *s, const uint8_t id[TPM_PROTO_ID_LEN], int64_t expiry,
		       int64_t now, bool *pool_empty)
{
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if (seen_has(s, id)) {
		rc = 1;
		goto out;
	}
	if (s->count >= s->capacity && now >= s->earliest)
		(void)seen_rebuild(s, now, 1); /* frees at least the earliest id (or the set stays full) */
	if (s->count >= s->capacity) {
		rc = -1; /* full of live ids: refuse rather than forget one */
		goto out;
	}
	/* Room first: a rebuild drops expired ids and so changes what the new id is charged. */
	if (2 * (s->count + 1) > s->nslots && seen_rebuild(s, now, 1) != 0) {
		rc = -1;
		goto out;
	}
	if (!seen_charge(s, now)) {
		*pool_empty = true;
		rc = -1;
		goto out;
	}
	slot_insert(s, id, kept_until(expiry));
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int tpm_seen_set_check(void *arg, const uint8_t id[TPM_PROTO_ID_LEN], int64_t expiry, int64_t now)
{
	bool pool_empty = false;

	return seen_record(arg, id, expiry, now, &pool_empty);
}

int tpm_seen_set_peek(void *arg, const uint8_t id[TPM_PROTO_ID_LEN], int64_t now)
{
	struct tpm_seen_set *s = arg;
	bool rc;

	(void)now; /* an expired id's context is refused as expired before this */
	pthread_mutex_lock(&s->lock);
	rc = seen_has(s, id);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

size_t tpm_seen_set_slots(struct tpm_seen_set *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->nslots;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* ---- one set per provider --------------------------------------------------- */

struct replay_entry {
	struct replay_entry *next;
	struct tpm_seen_set *set;
	char name[TPM_CONTEXT_PROVIDER_MAX + 1];
};

struct tpm_replay_sets {
	pthread_rwlock_t lock;
	struct tpm_replay_limits lim;
	struct seen_pool pool;
	_Atomic int64_t last_sweep; /* when the sets were last swept (now's clock) */
	/* under lock: */
	size_t n; /* sets */
	size_t nbuckets;
	struct replay_entry **bucket;
};

/*
 * The map's lock prefers writers where the C library can: glibc's default
 * lets a steady stream of readers (requests, each holding the lock well
 * under a microsecond) keep a sweep or a new provider's set waiting.
 */
static int replay_lock_init(pthread_rwlock_t *lock)
{
	pthread_rwlockattr_t a;
	int rc;

	if (pthread_rwlockattr_init(&a) != 0)
		return -1;
#ifdef __GLIBC__
	(void)pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
	rc = pthread_rwlock_init(lock, &a);
	pthread_rwlockattr_destroy(&a);
	return rc;
}

struct tpm_replay_sets *tpm_replay_sets_new(const struct tpm_replay_limits *lim)
{
	struct tpm_replay_sets *r;
	size_t nb = 16;

	if (lim == NULL || lim->per_provider == 0 || lim->per_provider > (1u << 24) ||
	    lim->floor > lim->per_provider || lim->providers == 0 || lim->providers > (1u << 20) ||
	    lim->shared > (1u << 28))
		return NULL;
	while (nb < lim->providers / 2)
		nb *= 2;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((r->bucket = calloc(nb, sizeof(*r->bucket))) == NULL || replay_lock_init(&r->lock) != 0) {
		free(r->bucket);
		free(r);
		return NULL;
	}
	r->lim = *lim;
	r->nbuckets = nb;
	atomic_init(&r->pool.used, 0);
	r->pool.limit = lim->shared;
	atomic_init(&r->last_sweep, INT64_MIN);
	return r;
}

void tpm_replay_sets_free(struct tpm_replay_sets *r)
{
	if (r == NULL)
		return;
	for (size_t b = 0; b < r->nbuckets; b++) {
		for (struct replay_entry *e = r->bucket[b], *next; e != NULL; e = next) {
			next = e->next;
			tpm_seen_set_free(e->set);
			free(e);
		}
	}
	pthread_rwlock_destroy(&r->lock);
	free(r->bucket);
	free(r);
}

/* FNV-1a: provider names are short and chosen by the operator. */
static size_t bucket_of(const struct tpm_replay_sets *r, const char *name)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
		h = (h ^ *p) * UINT64_C(1099511628211);
	return (size_t)h & (r->nbuckets - 1);
}

/* The provider's set, or NULL. Under lock (either). */
static struct tpm_seen_set *find(const struct tpm_replay_sets *r, const char *name)
{
	for (struct replay_entry *e = r->bucket[bucket_of(r, name)]; e != NULL; e = e->next)
		if (strcmp(e->name, name) == 0)
			return e->set;
	return NULL;
}

/*
 * Drops every id expired at now and every set left empty. Under the write
 * lock (no set is in use).
 */
static void sweep_locked(struct tpm_replay_sets *r, int64_t now)
{
	atomic_store(&r->last_sweep, now);
	for (size_t b = 0; b < r->nbuckets; b++) {
		for (struct replay_entry **pe = &r->bucket[b]; *pe != NULL;) {
			struct replay_entry *e = *pe;

			if (now >= e->set->earliest)
				(void)seen_rebuild(e->set, now, 0);
			if (e->set->count > 0) {
				pe = &e->next;
				continue;
			}
			*pe = e->next;
			tpm_seen_set_free(e->set);
			free(e);
			r->n--;
		}
	}
}

/* Sweeps when due (every TPM_REPLAY_SWEEP_EVERY s) or when forced (at most once a second). */
static void sweep(struct tpm_replay_sets *r, int64_t now, bool forced)
{
	int64_t last = atomic_load(&r->last_sweep);

	if (last == INT64_MIN && !forced) {
		/* the first record starts the clock (nothing to sweep yet) */
		(void)atomic_compare_exchange_strong(&r->last_sweep, &last, now);
		return;
	}
	if (now <= last || (!forced && now - last < TPM_REPLAY_SWEEP_EVERY))
		return;
	if (!atomic_compare_exchange_strong(&r->last_sweep, &last, now))
		return; /* another thread sweeps */
	pthread_rwlock_wrlock(&r->lock);
	sweep_locked(r, now);
	pthread_rwlock_unlock(&r->lock);
}

/* Records into the provider's set, creating it; -1 when no set can be made. */
static int record_new_provider(struct tpm_replay_sets *r, const char *name,
			       const uint8_t id[TPM_PROTO_ID_LEN], int64_t expiry, int64_t now,
			       bool *pool_empty)
{
	struct tpm_seen_set *s;
	struct replay_entry *e;
	int rc = -1;

	pthread_rwlock_wrlock(&r->lock);
	if ((s = find(r, name)) == NULL) {
		if (r->n >= r->lim.providers && now > atomic_load(&r->last_sweep))
			sweep_locked(r, now);
		if (r->n >= r->lim.providers || (e = calloc(1, sizeof(*e))) == NULL)
			goto out;
		if ((e->set = seen_new(r->lim.per_provider, r->lim.floor, &r->pool)) == NULL) {
			free(e);
			goto out;
		}
		memcpy(e->name, name, strlen(name) + 1);
		e->next = r->bucket[bucket_of(r, name)];
		r->bucket[bucket_of(r, name)] = e;
		r->n++;
		s = e->set;
	}
	rc = seen_record(s, id, expiry, now, pool_empty);
out:
	pthread_rwlock_unlock(&r->lock);
	return rc;
}

int tpm_replay_sets_check(struct tpm_replay_sets *r, const char *provider, const uint8_t id[TPM_PROTO_ID_LEN],
			  int64_t expiry, int64_t now)
{
	const char *name = provider != NULL ? provider : TPM_CONTEXT_NO_PROVIDER;
	struct tpm_seen_set *s;
	bool pool_empty = false;
	int rc;

	if (strnlen(name, TPM_CONTEXT_PROVIDER_MAX + 1) > TPM_CONTEXT_PROVIDER_MAX)
		return -1;
	sweep(r, now, false);
	for (int attempt = 0;; attempt++) {
		pthread_rwlock_rdlock(&r->lock);
		s = find(r, name);
		rc = s != NULL ? seen_record(s, id, expiry, now, &pool_empty) : 0;
		pthread_rwlock_unlock(&r->lock);
		if (s == NULL)
			rc = record_new_provider(r, name, id, expiry, now, &pool_empty);
		/* The pool ran out: other sets may hold expired ids; sweep once and try again. */
		if (rc != -1 || !pool_empty || attempt > 0 || now <= atomic_load(&r->last_sweep))
			return rc;
		sweep(r, now, true);
		pool_empty = false;
	}
}

int tpm_replay_sets_peek(struct tpm_replay_sets *r, const char *provider, const uint8_t id[TPM_PROTO_ID_LEN],
			 int64_t now)
{
	const char *name = provider != NULL ? provider : TPM_CONTEXT_NO_PROVIDER;
	struct tpm_seen_set *s;
	int rc = 0;

	pthread_rwlock_rdlock(&r->lock);
	if ((s = find(r, name)) != NULL)
		rc = tpm_seen_set_peek(s, id, now);
	pthread_rwlock_unlock(&r->lock);
	return rc;
}

int tpm_replay_scope_check(void *arg, const uint8_t id[TPM_PROTO_ID_LEN], int64_t expiry, int64_t now)
{
	const struct tpm_replay_scope *sc = arg;

	return tpm_replay_sets_check(sc->sets, sc->provider, id, expiry, now);
}

int tpm_replay_scope_peek(void *arg, const uint8_t id[TPM_PROTO_ID_LEN], int64_t now)
{
	const struct tpm_replay_scope *sc = arg;

	return tpm_replay_sets_peek(sc->sets, sc->provider, id, now);
}

void tpm_replay_sets_stats(struct tpm_replay_sets *r, struct tpm_replay_sets_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_rwlock_rdlock(&r->lock);
	out->providers = r->n;
	for (size_t b = 0; b < r->nbuckets; b++) {
		for (const struct replay_entry *e = r->bucket[b]; e != NULL; e = e->next) {
			pthread_mutex_lock(&e->set->lock);
			out->ids += e->set->count;
			out->slots += e->set->nslots;
			pthread_mutex_unlock(&e->set->lock);
		}
	}
	out->shared_used = atomic_load(&r->pool.used);
	pthread_rwlock_unlock(&r->lock);
}
