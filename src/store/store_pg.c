/*
 * The PostgreSQL backend of the store (issue 11): several attestd nodes share
 * one database, whose replication gives the high availability.
 *
 * - A small pool of libpq connections per node; a broken connection is reset
 *   when it is next taken, with a bounded back-off, so a node rides out a
 *   database restart or a fail-over to a promoted standby.
 * - Every write is one transaction (BEGIN ... COMMIT). Writers that must see
 *   each other's results serialise on row locks: the audit head row (FOR
 *   UPDATE) for the audit chain, and a transaction-scoped advisory lock per
 *   (provider, type) for policy versions.
 * - Migrations run under a session advisory lock, so several nodes starting
 *   at once apply each migration exactly once.
 * - Every write that changes what nodes cache sends NOTIFY attestd_changes
 *   inside its transaction (delivered only if it commits); store_pg_listener
 *   lets a node wait for them (store_pg.h).
 *
 * The schema and semantics are those of the SQLite backend (store_sqlite.c),
 * with BIGINT for integers, BYTEA for blobs and collateral keys COLLATE "C"
 * (byte order, as SQLite's BINARY; migration 3); the audit chain hash is the
 * shared store_audit_hash, so a log verifies the same on either backend.
 */
#include "store/store_pg.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#define PG_MAX_CONNS 32
#define PG_MAX_PARAMS 10
/* A session advisory lock id for migrations: "attestd" in ASCII. */
#define PG_MIGRATION_LOCK "61747465737464"
#define PG_NOTIFY_CHANNEL "attestd_changes"

struct pg_store {
	struct store base;
	char *conninfo;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	PGconn *conns[PG_MAX_CONNS];
	bool busy[PG_MAX_CONNS];
	int nconns;
	int max_conns;
	atomic_int fault_commit;
	_Atomic int64_t down_until_ms; /* reconnection back-off: fail fast until then */
	_Atomic int64_t backoff_ms;
};

static const char *const MIGRATIONS[] = {
	/* 1: as the SQLite backend's migration 1. */
	"CREATE TABLE providers ("
	"  name TEXT PRIMARY KEY NOT NULL,"
	"  mode INTEGER NOT NULL CHECK (mode BETWEEN 0 AND 2),"
	"  created BIGINT NOT NULL, updated BIGINT NOT NULL,"
	"  settings TEXT NOT NULL DEFAULT '{}');"
	"CREATE TABLE policies ("
	"  provider TEXT NOT NULL REFERENCES providers(name) ON DELETE CASCADE,"
	"  type TEXT NOT NULL, version BIGINT NOT NULL,"
	"  text TEXT, jws TEXT, hash BYTEA, signer TEXT, created BIGINT NOT NULL,"
	"  PRIMARY KEY (provider, type, version));"
	"CREATE TABLE policy_certs ("
	"  provider TEXT NOT NULL REFERENCES providers(name) ON DELETE CASCADE,"
	"  thumbprint TEXT NOT NULL, der BYTEA NOT NULL, added BIGINT NOT NULL,"
	"  PRIMARY KEY (provider, thumbprint));"
	"CREATE TABLE signing_keys ("
	"  kid TEXT PRIMARY KEY NOT NULL, provider TEXT NOT NULL DEFAULT '',"
	"  blob BYTEA NOT NULL, created BIGINT NOT NULL, not_after BIGINT NOT NULL DEFAULT 0,"
	"  state INTEGER NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 2));"
	"CREATE TABLE collateral ("
	"  key TEXT PRIMARY KEY NOT NULL, bytes BYTEA NOT NULL,"
	"  issue_date BIGINT NOT NULL, next_update BIGINT NOT NULL);"
	"CREATE TABLE audit_log ("
	"  seq BIGINT PRIMARY KEY, time BIGINT NOT NULL, actor TEXT NOT NULL,"
	"  action TEXT NOT NULL, provider TEXT NOT NULL, detail TEXT,"
	"  prev_hash BYTEA NOT NULL, hash BYTEA NOT NULL);"
	"CREATE TABLE audit_head ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, hash BYTEA NOT NULL);"
	"INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));",
	/* 2: as the SQLite backend's migration 2. */
	"CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);"
	"CREATE INDEX collateral_next_update ON collateral (next_update);"
	"CREATE INDEX signing_keys_provider ON signing_keys (provider, created);",
	/*
	 * 3: collateral keys compare as bytes (SQLite's BINARY), so the primary
	 * key serves the keyset page (pg_collateral_page) on a database of any
	 * collation: under an ICU or libc linguistic default (even libc
	 * "C.UTF-8"), an index in that collation cannot answer
	 * `key COLLATE "C" > $1 ORDER BY key COLLATE "C"` and each page was a
	 * full scan and sort. The column itself takes COLLATE "C" rather than
	 * gaining a second index on (key COLLATE "C"): one index serves both
	 * the lookups by key and the pages (no extra index to write on every
	 * collateral put), the table is not rewritten (a collation change of a
	 * text column keeps its bytes; only collateral_pkey is rebuilt, which a
	 * new index would cost too), and the rebuilt unique index cannot reject
	 * a row, since a deterministic collation (every database default is
	 * one) calls two texts equal only when their bytes are. The column's
	 * statistics go with the type change; ANALYZE takes them again. Setting
	 * a column's collation to the one it has is a no-op: the migration may
	 * run again.
	 */
	"ALTER TABLE collateral ALTER COLUMN key TYPE TEXT COLLATE \"C\"; ANALYZE collateral (key);",
};

#define PG_N_MIGRATIONS ((int)(sizeof(MIGRATIONS) / sizeof(MIGRATIONS[0])))

static struct pg_store *pg(struct store *st) { return (struct pg_store *)st; }

static int64_t wall_now(void) { return (int64_t)time(NULL); }

static int64_t audit_time(const struct store_audit *a) { return a && a->time ? a->time : wall_now(); }

/* ---- parameters and results ------------------------------------------------- */

/* Parameters of one statement: text, integers (as text) and binary blobs. */
struct pgq {
	const char *vals[PG_MAX_PARAMS];
	int lens[PG_MAX_PARAMS];
	int fmts[PG_MAX_PARAMS];
	char nums[PG_MAX_PARAMS][24];
	int n;
};

static void pq_text(struct pgq *q, const char *s)
{
	q->vals[q->n] = s; /* NULL is SQL NULL */
	q->lens[q->n] = 0;
	q->fmts[q->n++] = 0;
}

static void pq_int(struct pgq *q, int64_t v)
{
	snprintf(q->nums[q->n], sizeof(q->nums[0]), "%lld", (long long)v);
	pq_text(q, q->nums[q->n]);
}

/* A blob sent in binary format; NULL p is SQL NULL, (non-NULL, 0) an empty bytea. */
static void pq_blob(struct pgq *q, const void *p, size_t n)
{
	q->vals[q->n] = p;
	q->lens[q->n] = (int)n;
	q->fmts[q->n++] = 1;
}

/* Maps a failed result to the store's error names. */
static int pq_fail(PGconn *c, PGresult *res, const char *what, struct attest_err *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(c);
	size_t len = strcspn(msg ? msg : "", "\n");

	if (state && strcmp(state, "23505") == 0)
		return attest_err_set(err, ATTEST_E_CONFLICT, "store.constraint", "%s: %.*s", what, (int)len, msg);
	if (state && strcmp(state, "23503") == 0)
		return attest_err_set(err, ATTEST_E_NOT_FOUND, "store.provider.not_found", "%s: %.*s", what,
				      (int)len, msg);
	if (PQstatus(c) != CONNECTION_OK)
		return attest_err_set(err, ATTEST_E_IO, "store.unavailable", "%s: the database is unreachable: %.*s",
				      what, (int)len, msg ? msg : "");
	return attest_err_set(err, ATTEST_E_IO, "store.io", "%s: %.*s (sqlstate %s)", what, (int)len, msg ? msg : "",
			      state ? state : "?");
}

/*
 * Runs sql with q's parameters (q may be NULL); results in text format. On
 * success *out holds the result (PQclear it); on failure the error is set.
 */
static int pq_exec(PGconn *c, const char *sql, const struct pgq *q, PGresult **out, const char *what,
		   struct attest_err *err)
{
	/* Without parameters, the simple protocol: it also runs several statements (migrations). */
	PGresult *res = q ? PQexecParams(c, sql, q->n, NULL, q->vals, q->lens, q->fmts, 0) : PQexec(c, sql);
	ExecStatusType st = PQresultStatus(res);
	int rc;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (out)
			*out = res;
		else
			PQclear(res);
		return ATTEST_OK;
	}
	rc = pq_fail(c, res, what, err);
	PQclear(res);
	return rc;
}

/* Rows a command changed. */
static long pq_changes(PGresult *res) { return strtol(PQcmdTuples(res), NULL, 10); }

static int64_t col_i64(const PGresult *r, int row, int col) { return strtoll(PQgetvalue(r, row, col), NULL, 10); }

static char *col_strdup(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : strdup(PQgetvalue(r, row, col));
}

static void col_copy(const PGresult *r, int row, int col, char *dst, size_t cap)
{
	snprintf(dst, cap, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

/* A bytea column (text format) into malloc'd bytes; NULL/empty give (NULL, 0). */
static int col_bytea(const PGresult *r, int row, int col, uint8_t **out, size_t *len)
{
	unsigned char *raw;
	size_t n = 0;

	*out = NULL;
	*len = 0;
	if (PQgetisnull(r, row, col))
		return ATTEST_OK;
	raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), &n);
	if (raw == NULL)
		return ATTEST_E_NOMEM;
	if (n > 0 && (*out = malloc(n)) != NULL) {
		memcpy(*out, raw, n);
		*len = n;
	}
	PQfreemem(raw);
	return n > 0 && *out == NULL ? ATTEST_E_NOMEM : ATTEST_OK;
}

/* Exactly 32 bytes of a bytea column into dst; false when it is not 32 bytes. */
static bool col_hash32(const PGresult *r, int row, int col, uint8_t dst[32])
{
	uint8_t *p = NULL;
	size_t n = 0;
	bool ok = col_bytea(r, row, col, &p, &n) == ATTEST_OK && n == 32;

	if (ok)
		memcpy(dst, p, 32);
	free(p);
	return ok;
}

/* ---- connections --------------------------------------------------------------- */

/* Library code prints nothing: the server's NOTICEs are dropped. */
static void notice_drop(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Opens one connection (libpq's connect_timeout bounds the wait); NULL on failure. */
static PGconn *conn_open(const char *conninfo)
{
	PGconn *c = PQconnectdb(conninfo);

	if (PQstatus(c) == CONNECTION_OK) {
		PQsetNoticeProcessor(c, notice_drop, NULL);
		return c;
	}
	PQfinish(c);
	return NULL;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A healthy connection: a broken one is reset (a restarted or promoted
 * server). Reconnection backs off (100 ms doubling to 5 s) across calls:
 * while the database is down, callers fail at once with store.unavailable
 * instead of each waiting out a connect, so a node serving from its caches
 * stays fast and the database is not hammered when it comes back.
 */
static int conn_heal(struct pg_store *s, PGconn **c, struct attest_err *err)
{
	int64_t now = mono_ms();

	if (*c != NULL && PQstatus(*c) == CONNECTION_OK)
		return ATTEST_OK;
	if (now < atomic_load(&s->down_until_ms))
		return attest_err_set(err, ATTEST_E_IO, "store.unavailable",
				      "PostgreSQL is unreachable (next reconnection attempt in %lld ms)",
				      (long long)(atomic_load(&s->down_until_ms) - now));
	if (*c != NULL) {
		PQreset(*c); /* keeps the notice processor */
		if (PQstatus(*c) != CONNECTION_OK) {
			PQfinish(*c);
			*c = NULL;
		}
	}
	if (*c == NULL)
		*c = conn_open(s->conninfo);
	if (*c == NULL) {
		int64_t backoff = atomic_load(&s->backoff_ms);

		backoff = backoff == 0 ? 100 : backoff * 2 > 5000 ? 5000 : backoff * 2;
		atomic_store(&s->backoff_ms, backoff);
		atomic_store(&s->down_until_ms, mono_ms() + backoff);
		return attest_err_set(err, ATTEST_E_IO, "store.unavailable",
				      "cannot connect to PostgreSQL (retrying in %lld ms)", (long long)backoff);
	}
	atomic_store(&s->backoff_ms, 0);
	return ATTEST_OK;
}

static int conn_get(struct pg_store *s, PGconn **out, int *slot, struct attest_err *err)
{
	int rc;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		for (int i = 0; i < s->nconns; i++)
			if (!s->busy[i]) {
				*slot = i;
				goto found;
			}
		if (s->nconns < s->max_conns) {
			*slot = s->nconns++;
			s->conns[*slot] = NULL;
			goto found;
		}
		pthread_cond_wait(&s->cv, &s->mu);
	}
found:
	s->busy[*slot] = true;
	pthread_mutex_unlock(&s->mu);
	/* Connecting happens outside the lock: other threads keep their connections meanwhile. */
	rc = conn_heal(s, &s->conns[*slot], err);
	*out = s->conns[*slot];
	if (rc != ATTEST_OK) {
		pthread_mutex_lock(&s->mu);
		s->busy[*slot] = false;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
	}
	return rc;
}

static void conn_put(struct pg_store *s, int slot)
{
	pthread_mutex_lock(&s->mu);
	s->busy[slot] = false;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/*
 * A statement that is safe to repeat (BEGIN, a read) on a pooled connection:
 * a connection that went stale while idle (the server restarted, or a
 * standby was promoted behind the same address) shows it only when used,
 * so one failure on a broken connection heals it and tries once more.
 */
static int pq_exec_retry(struct pg_store *s, int slot, const char *sql, const struct pgq *q, PGresult **out,
			 const char *what, struct attest_err *err)
{
	struct attest_err first;
	int rc;

	attest_err_clear(&first);
	rc = pq_exec(s->conns[slot], sql, q, out, what, &first);
	if (rc == ATTEST_OK || PQstatus(s->conns[slot]) == CONNECTION_OK) {
		if (rc != ATTEST_OK && err != NULL && err->rc == ATTEST_OK)
			*err = first;
		return rc;
	}
	if ((rc = conn_heal(s, &s->conns[slot], err)) != ATTEST_OK)
		return rc;
	return pq_exec(s->conns[slot], sql, q, out, what, err);
}

/* ---- transactions ------------------------------------------------------------- */

struct pg_tx {
	PGconn *c;
	int slot;
};

static int tx_begin(struct pg_store *s, struct pg_tx *tx, struct attest_err *err)
{
	int rc = conn_get(s, &tx->c, &tx->slot, err);

	if (rc != ATTEST_OK)
		return rc;
	rc = pq_exec_retry(s, tx->slot, "BEGIN", NULL, NULL, "begin", err);
	tx->c = s->conns[tx->slot];
	if (rc != ATTEST_OK)
		conn_put(s, tx->slot);
	return rc;
}

/* Commits when rc is OK (and no fault is armed), else rolls back; releases the connection. */
static int tx_end(struct pg_store *s, struct pg_tx *tx, int rc, struct attest_err *err)
{
	if (rc == ATTEST_OK && atomic_exchange(&s->fault_commit, 0) != 0)
		rc = attest_err_set(err, ATTEST_E_IO, "store.fault", "injected failure before commit (test hook)");
	if (rc == ATTEST_OK)
		rc = pq_exec(tx->c, "COMMIT", NULL, NULL, "commit", err);
	if (rc != ATTEST_OK && PQtransactionStatus(tx->c) != PQTRANS_IDLE)
		PQclear(PQexec(tx->c, "ROLLBACK"));
	conn_put(s, tx->slot);
	return rc;
}

/* Tells other nodes what changed; delivered with the transaction's commit. */
static int tx_notify(struct pg_tx *tx, const char *kind, const char *what, struct attest_err *err)
{
	char payload[256];
	struct pgq q = {.n = 0};

	snprintf(payload, sizeof(payload), "%s:%s", kind, what ? what : "");
	pq_text(&q, PG_NOTIFY_CHANNEL);
	pq_text(&q, payload);
	return pq_exec(tx->c, "SELECT pg_notify($1, $2)", &q, NULL, "notify", err);
}

/* ---- audit (inside a transaction) ------------------------------------------- */

static int audit_append_in(PGconn *c, const struct store_audit *a, struct attest_err *err)
{
	const char *provider = a->provider ? a->provider : "", *actor = a->actor ? a->actor : "";
	int64_t seq, when = audit_time(a);
	uint8_t prev[32], hash[32];
	PGresult *res = NULL;
	struct pgq q = {.n = 0};
	int rc;

	if (a->action == NULL || a->action[0] == '\0' || strlen(a->action) >= STORE_ACTION_MAX ||
	    strlen(actor) >= STORE_ACTOR_MAX || strlen(provider) >= STORE_NAME_MAX)
		return attest_err_set(err, ATTEST_E_INVALID, "store.audit.invalid",
				      "audit entry needs an action; names must fit their columns");
	/* FOR UPDATE: concurrent appenders on any node queue here, so the chain stays linear. */
	rc = pq_exec(c, "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE", NULL, &res, "audit head", err);
	if (rc != ATTEST_OK)
		return rc;
	if (PQntuples(res) != 1 || !col_hash32(res, 0, 1, prev)) {
		PQclear(res);
		return attest_err_set(err, ATTEST_E_IO, "store.audit.head", "audit head row is missing or damaged");
	}
	seq = col_i64(res, 0, 0) + 1;
	PQclear(res);
	rc = store_audit_hash(prev, seq, when, actor, a->action, provider, a->detail, hash);
	if (rc != ATTEST_OK)
		return rc;
	pq_int(&q, seq);
	pq_int(&q, when);
	pq_text(&q, actor);
	pq_text(&q, a->action);
	pq_text(&q, provider);
	pq_text(&q, a->detail);
	pq_blob(&q, prev, 32);
	pq_blob(&q, hash, 32);
	rc = pq_exec(c,
		     "INSERT INTO audit_log (seq, time, actor, action, provider, detail, prev_hash, hash)"
		     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
		     &q, NULL, "audit insert", err);
	if (rc != ATTEST_OK)
		return rc;
	q.n = 0;
	pq_int(&q, seq);
	pq_blob(&q, hash, 32);
	return pq_exec(c, "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", &q, NULL, "audit head", err);
}

static int maybe_audit(struct pg_tx *tx, const struct store_audit *a, struct attest_err *err)
{
	return a == NULL ? ATTEST_OK : audit_append_in(tx->c, a, err);
}

/* ---- schema ------------------------------------------------------------------- */

static int read_version(PGconn *c, int *out, struct attest_err *err)
{
	PGresult *res = NULL;
	int rc = pq_exec(c, "SELECT COALESCE(MAX(version), 0) FROM schema_version", NULL, &res, "schema version", err);

	if (rc == ATTEST_OK) {
		*out = (int)col_i64(res, 0, 0);
		PQclear(res);
	}
	return rc;
}

static int migrate_one(PGconn *c, int target, struct attest_err *err)
{
	struct pgq q = {.n = 0};
	int cur = 0;
	int rc = pq_exec(c, "BEGIN", NULL, NULL, "migration begin", err);

	if (rc == ATTEST_OK)
		rc = read_version(c, &cur, err);
	if (rc == ATTEST_OK && cur < target) {
		rc = pq_exec(c, MIGRATIONS[target - 1], NULL, NULL, "migration", err);
		pq_int(&q, target);
		pq_int(&q, wall_now());
		if (rc == ATTEST_OK)
			rc = pq_exec(c, "INSERT INTO schema_version (version, applied) VALUES ($1, $2)", &q, NULL,
				     "schema version", err);
	}
	if (rc == ATTEST_OK)
		rc = pq_exec(c, "COMMIT", NULL, NULL, "migration commit", err);
	else
		PQclear(PQexec(c, "ROLLBACK"));
	if (rc != ATTEST_OK)
		attest_err_prefix(err, "migration %d: ", target);
	return rc;
}

/* Brings the schema forward under a session advisory lock (nodes starting together). */
static int migrate(struct pg_store *s, struct attest_err *err)
{
	PGconn *c = NULL;
	int slot, cur = 0, rc = conn_get(s, &c, &slot, err);

	if (rc != ATTEST_OK)
		return rc;
	rc = pq_exec(c, "SELECT pg_advisory_lock(x'" PG_MIGRATION_LOCK "'::bigint)", NULL, NULL, "migration lock",
		     err);
	if (rc != ATTEST_OK)
		goto out;
	rc = pq_exec(c,
		     "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)",
		     NULL, NULL, "schema_version", err);
	if (rc == ATTEST_OK)
		rc = read_version(c, &cur, err);
	if (rc == ATTEST_OK && cur > PG_N_MIGRATIONS)
		rc = attest_err_set(err, ATTEST_E_UNSUPPORTED, "store.schema.newer",
				    "the database has schema version %d; this attestd knows up to %d", cur,
				    PG_N_MIGRATIONS);
	for (int v = cur + 1; rc == ATTEST_OK && v <= PG_N_MIGRATIONS; v++)
		rc = migrate_one(c, v, err);
	PQclear(PQexec(c, "SELECT pg_advisory_unlock(x'" PG_MIGRATION_LOCK "'::bigint)"));
out:
	conn_put(s, slot);
	return rc;
}

/* ---- one-connection reads ------------------------------------------------------ */

/* Runs a read on a pooled connection. */
static int read_q(struct pg_store *s, const char *sql, const struct pgq *q, PGresult **out, const char *what,
		  struct attest_err *err)
{
	PGconn *c = NULL;
	int slot, rc = conn_get(s, &c, &slot, err);

	if (rc != ATTEST_OK)
		return rc;
	rc = pq_exec_retry(s, slot, sql, q, out, what, err);
	conn_put(s, slot);
	return rc;
}

/* One write statement in its own transaction, with an audit row and a notification. */
static int write_one(struct pg_store *s, const char *sql, const struct pgq *q, long *changes,
		     const struct store_audit *audit, const char *notify_kind, const char *notify_what,
		     const char *what, struct attest_err *err)
{
	struct pg_tx tx;
	PGresult *res = NULL;
	int rc = tx_begin(s, &tx, err);

	if (rc != ATTEST_OK)
		return rc;
	rc = pq_exec(tx.c, sql, q, &res, what, err);
	if (rc == ATTEST_OK && changes)
		*changes = pq_changes(res);
	PQclear(res);
	if (rc == ATTEST_OK)
		rc = maybe_audit(&tx, audit, err);
	if (rc == ATTEST_OK && notify_kind)
		rc = tx_notify(&tx, notify_kind, notify_what, err);
	return tx_end(s, &tx, rc, err);
}

/* ---- list reads ------------------------------------------------------------- */

/*
 * A read whose rows become an array: fill() decodes row i into element i of
 * list (elem bytes each); release() frees a partly filled array. On success
 * *out (NULL-terminated room for one more) and *n are the caller's.
 */
typedef int (*pg_fill_fn)(const PGresult *r, int row, void *list);
typedef void (*pg_release_fn)(void *list, size_t n);

static int read_list(struct pg_store *s, const char *sql, const struct pgq *q, size_t elem, pg_fill_fn fill,
		     pg_release_fn release, void **out, size_t *n, const char *what, struct attest_err *err)
{
	PGresult *res = NULL;
	void *list;
	int rc = read_q(s, sql, q, &res, what, err), rows;

	if (rc != ATTEST_OK)
		return rc;
	rows = PQntuples(res);
	list = calloc((size_t)rows + 1, elem);
	for (int i = 0; list && i < rows && rc == ATTEST_OK; i++)
		rc = fill(res, i, list);
	PQclear(res);
	if (list == NULL || rc != ATTEST_OK) {
		if (list)
			release(list, (size_t)rows);
		return attest_err_set(err, ATTEST_E_NOMEM, "store.nomem", "out of memory");
	}
	*out = list;
	*n = (size_t)rows;
	return ATTEST_OK;
}

static int pg_schema_version(struct store *st, int *out, struct attest_err *err)
{
	struct pg_store *s = pg(st);
	PGconn *c = NULL;
	int slot, rc = conn_get(s, &c, &slot, err);

	if (rc != ATTEST_OK)
		return rc;
	rc = read_version(c, out, err);
	conn_put(s, slot);
	return rc;
}

/* ---- meta -------------------------------------------------------------------- */

static int pg_meta_get(struct store *st, const char *key, char **out, struct attest_err *err)
{
	struct pgq q = {.n = 0};
	PGresult *res = NULL;
	int rc;

	pq_text(&q, key);
	rc = read_q(pg(st), "SELECT value FROM meta WHERE key = $1", &q, &res, "meta get", err);
	if (rc != ATTEST_OK)
		return rc;
	if (PQntuples(res) == 0)
		rc = attest_err_set(err, ATTEST_E_NOT_FOUND, "store.meta.not_found", "no setting \"%s\"", key);
	else if ((*out = col_strdup(res, 0, 0)) == NULL)
		rc = attest_err_set(err, ATTEST_E_NOMEM, "store.nomem", "out of memory");
	PQclear(res);
	return rc;
}

static int pg_meta_put(struct store *st, const char *key, const char *value, bool only_if_absent,
		       const struct store_audit *audit, struct attest_err *err)
{
	struct pgq q = {.n = 0};
	long changes = 0;
	int rc;

	pq_text(&q, key);
	pq_text(&q, value);
	rc = write_one(pg(st),
		       only_if_absent ? "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING"
				      : "INSERT INTO meta (key, value) VALUES ($1, $2)"
					" ON CONFLICT (key) DO UPDATE SET value = excluded.value",
		       &q, &changes, audit, "meta", key, "meta put", err);
	/* DO NOTHING keeps the transaction alive; "exists" is then decided by the count. */
	if (rc == ATTEST_OK && only_if_absent && changes == 0)
		rc = attest_err_set(err, ATTEST_E_CONFLICT, "store.meta.exists", "setting \"%s\" exists", key);
	return rc;
}

/* ---- providers ------------------------------------------------------------------ */

#define PROVIDER_COLS "name, mode, created, updated, settings"

static int provider_row(const PGresult *r, int row, struct store_provider *p)
{
	memset(p, 0, sizeof(*p));
	col_copy(r, row, 0, p->name, sizeof(p->name));
	p->mode = (enum store_provider_mode)col_i64(r, row, 1);
	p->created = col_i64(r, row, 2);
	p->updated = col_i64(r, row, 3);
	p->settings_json = col_strdup(r, row, 4);
	return p->settings_json ? ATTEST_OK : ATTEST_E_NOMEM;
}

static const char *settings_or_empty(const char *s) { return s != NULL && s[0] != '\0' ? s : "{}"; }

static int cert_insert(PGconn *c, const char *provider, const struct store_cert *cert, int64_t when, bool *added,
		       struct attest_err *err)
{
	struct pgq q = {.n = 0};
	PGresult *res = NULL;
	int rc;

	pq_text(&q, provider);
	pq_text(&q, cert->thumbprint);
	pq_blob(&q, cert->der ? (const void *)cert->der : (const void *)"", cert->der_len);
	pq_int(&q, when);
	rc = pq_exec(c,
		     "INSERT INTO policy_certs (provider, thumbprint, der, added) VALUES ($1, $2, $3, $4)"
		     " ON CONFLICT (provider, thumbprint) DO NOTHING",
		     &q, &res, "cert add", err);
	if (rc == ATTEST_OK && added)
		*added = pq_changes(res) > 0;
	PQclear(res);
	if (rc == ATTEST_E_NOT_FOUND) {
		attest_err_clear(err);
		rc = attest_err_set(err, ATTEST_E_NOT_FOUND, "store.provider.not_found", "no provider \"%s\"", provider);
	}
	return rc;
}

static int pg_provider_create(struct store *st, const struct store_provider *p, const struct store_audit *audit,
			      struct attest_err *err)
{
	struct pg_store *s = pg(st);
	int64_t when = audit_time(audit);
	struct pgq q = {.n = 0};
	struct pg_tx tx;
	int rc = tx_begin(s, &tx, err);

	if (rc != ATTEST_OK)
		return rc;
	pq_text(&q, p->name);
	pq_int(&q, p->mode);
	pq_int(&q, when);
	pq_int(&q, when);
	pq_text(&q, settings_or_empty(p->settings_json));
	rc = pq_exec(tx.c, "INSERT INTO providers (" PROVIDER_COLS ") VALUES ($1, $2, $3, $4, $5)", &q, NULL,
		     "provider create", err);
	if (rc == ATTEST_E_CONFLICT) {
		attest_err_clear(err);
		rc = attest_err_set(err, ATTEST_E_CONFLICT, "store.provider.exists", "provider \"%s\" already exists",
				    p->name);
	}
	for (size_t i = 0; i < p->n_initial_certs && rc == ATTEST_OK; i++)
		rc = cert_insert(tx.c, p->name, &p->initial_certs[i], when, NULL, err);
	if (rc == ATTEST_OK)
		rc = maybe_audit(&tx, audit, err);
	if (rc == ATTEST_OK)
		rc = tx_notify(&tx, "provider", p->name, err);
	return tx_end(s, &tx, rc, err);
}

static int pg_provider_get(struct store *st, const char *name, struct store_provider *out, struct attest_err *err)
{
	struct pgq q = {.n = 0};
	PGresult *res = NULL;
	int rc;

	pq_text(&q, name);
	rc = read_q(pg(st), "SELECT " PROVIDER_COLS " FROM providers WHERE name = $1", &q, &res, "provider get", err);
	if (rc != ATTEST_OK)
		return rc;
	if (PQntuples(res) == 0)
		rc = attest_err_set(err, ATTEST_E_NOT_FOUND, "store.provider.not_found", "no provider \"%s\"", name);
	else if (provider_row(res, 0, out) != ATTEST_OK)
		rc = attest_err_set(err, ATTEST_E_NOMEM, "store.nomem", "out of memory");
	PQclear(res);
	return rc;
}

static int fill_provider(const PGresult *r, int row, void *list)
{
	return provider_row(r, row, (struct store_provider *)list + row);
}

static void release_providers(void *list, size_t n) { store_provider_list_free(list, n); }

static int pg_provider_list(struct store *st, struct store_provider **out, size_t *n, struct attest_err *err)
{
	return read_list(pg(st), "SELECT " PROVIDER_COLS " FROM providers ORDER BY name", NULL, sizeof(**out),
			 fill_provider, release_providers, (void **)out, n, "provider list", err);
}

/* "not found" must be decided before the audit row is written, in the same transaction. */
static int pg_provider_update_tx(struct store *st, const struct store_provider *p, const struct store_audit *audit,
				 struct attest_err *err)
{
	struct pg_store *s = pg(st);
	struct pgq q = {.n = 0};
	PGresult *res = NULL;
	struct pg_tx tx;
	int rc = tx_begin(s, &tx, err);

	if (rc != ATTEST_OK)
		return rc;
	pq_int(&q, p->mode);
	pq_text(&q, settings_or_empty(p->settings_json));
	pq_int(&q, audit_time(audit));
	pq_text(&q, p->name);
	rc = pq_exec(tx.c, "UPDATE providers SET mode = $1, settings = $2, updated = $3 WHERE name = $4", &q, &res,
		     "provider update", err);
	if (rc == ATTEST_OK && pq_changes(res) == 0)
		rc = attest_err_set(err, ATTEST_E_NOT_FOUND, "store.provider.not_found", "no provider \"%s\"",
				    p->name);
	PQclear(res);
	if (rc == ATTEST_OK)
		rc = maybe_audit(&tx, audit, err);
	if (rc == ATTEST_OK)
		rc = tx_notify(&tx, "provider", p->name, err);
	return tx_end(s, &tx, rc, err);
}

static int pg_provider_delete(struct store *st, const char *name, const struct store_audit *audit,
			      struct attest_err *err)
{
	struct pg_store *s = pg(st);
	struct pgq q = {.n = 0};
	PGresult *res = NULL;
	struct pg_tx tx;
	int rc = tx_begin(s, &tx, err);

	if (rc != ATTEST_OK)
		return rc;
	pq_text(&q, name);
	/* Policies and certificates go by ON DELETE CASCADE; the provider's own keys with it. */
	rc = pq_exec(tx.c, "DELETE FROM signing_keys WHERE provider = $1 AND provider <> ''", &q, NULL,
		     "provider delete", err);
	if (rc == ATTEST_OK)
		rc = pq_exec(tx.c, "DELETE FROM providers WHERE name = $1", &q, &res, "provider delete", err);
	if (rc == ATTEST_OK && pq_changes(res) == 0)
		rc = attest_err_set(err, ATTEST_E_NOT_FOUND, "store.provider.not_found", "no provider \"%s\"", name);
	PQclear(res);
	if (rc == ATTEST_OK)
		rc = maybe_audit(&tx, audit, err);
	if (rc == ATTEST_OK)
		rc = tx_notify(&tx, "provider", name, err);
	return tx_end(s, &tx, rc, err);
}

/* ---- policies ---------------------------------------------------------------------- */

#define POLICY_COLS "provider, type, version, text, jws, hash, signer, created"

static int policy_row(const PGresult *r, int row, struct store_policy *p)
{
	uint8_t *h = NULL;
	size_t hl = 0;
	int rc;

	memset(p, 0, sizeof(*p));
	col_copy(r, row, 0, p->provider, sizeof(p->provider));
	col_copy(r, row, 1, p->type, sizeof(p->type));
	p->version = col_i64(r, row, 2);
	p->text = col_strdup(r, row, 3);
	p->jws = col_strdup(r, row, 4);
	rc = col_bytea(r, row, 5, &h, &hl);
	if (rc == ATTEST_OK && hl <= sizeof(p->hash) && h != NULL) {
		memcpy(p->hash, h, hl);
		p->hash_len = hl;
	}
	free(h);
	p->signer = col_strdup(r, row, 6);
	p->created = col_i64(r, row, 7);
	if (rc != ATTEST_OK || (!PQgetisnull(r, row, 3) && p->text == NULL) ||
	    (!PQgetisnull(r, row, 4) && p->jws == NULL) || (!PQgetisnull(r, row, 6) && p->signer == NULL)) {
		store_policy_clear(p);
		return ATTEST_E_NOMEM;
	}
	return ATTEST_OK;
}

static int pg_policy_put(struct store *st, struct store_policy *p, const struct store_audit *audit,
			 struct attest_err *err)
{
	struct pg_store *s = pg(st);
	int64_t version = 0, when = audit_time(audit);
	char what[STORE_NAME_MAX + STORE_TYPE_MAX + 2];
	struct pgq q = {.n = 0};
	PGresult *res = NULL;
	struct pg_tx tx;
	int rc = tx_begin(s, &tx, err);

	if (rc != ATTEST_OK)
		return rc;
	snprintf(what, sizeof(what), "%s/%s", p->provider, p->type);
	/* Writers of one (provider, type) on any node queue here, so two never share a version. */
	pq_text(&q, what);
	rc = pq_exec(tx.c, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", &q, NULL, "policy lock", err);
	q.n = 0;
	pq_text(&q, p->provider);
	pq_text(&q, p->type);
	if (rc == ATTEST_OK)
		rc = pq_exec(tx.c, "SELECT COALESCE(MAX(version), 0) FROM policies WHERE provider = $1 AND type = $2",
			     &q, &res, "policy version", err);
	if (rc == ATTEST_OK)
		version = col_i64(res, 0, 0) + 1;
	PQclear(res);
	pq_int(&q, version);
	pq_text(&q, p->text);
	pq_text(&q, p->jws);
	pq_blob(&q, p->hash_len ? p->hash : NULL, p->hash_len);
	pq_text(&q, p->signer);
	pq_int(&q, when);
	if (rc == ATTEST_OK)
		rc = pq_exec(tx.c, "INSERT INTO policies (" POLICY_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", &q,
			     NULL, "policy put", err);
	if (rc == ATTEST_E_NOT_FOUND) {
		attest_err_clear(err);
		rc = attest_err_set(err, ATTEST_E_NOT_FOUND, "store.provider.not_found", "no provider \"%s\"",
				    p->provider);
	}
	if (rc == ATTEST_OK)
		rc = maybe_audit(&tx, audit, err);
	if (rc == ATTEST_OK)
		rc = tx_notify(&tx, "policy", what, err);
	rc = tx_end(s, &tx, rc, err);
	if (rc == ATTEST_OK) {
		p->version = version;
		p->created = when;
	}
	return rc;
}

static int pg_policy_get(struct store *st, const char *provider, const char *type, struct store_policy *out,
			 struct attest_err *err)
{
	struct pgq q = {.n = 0};
	PGresult *res = NULL;
	int rc;

	pq_text(&q, provider);
	pq_text(&q, type);
	rc = read_q(pg(st),
		    "SELECT " POLICY_COLS " FROM policies WHERE provider = $1 AND type = $2 ORDER BY version DESC LIMIT 1",
		    &q, &res, "policy get", err);
	if (rc != ATTEST_OK)
		return rc;
	if (PQntuples(res) == 0)
		rc = attest_err_set(err, ATTEST_E_NOT_FOUND, "store.policy.not_found",
				    "provider \"%s\" has no stored %s policy", provider, type);
	else if (policy_row(res, 0, out) != ATTEST_OK)
		rc = attest_err_set(err, ATTEST_E_NOMEM, "store.nomem", "out of memory");
	PQclear(res);
	return rc;
}

static int fill_policy(const PGresult *r, int row, void *list)
{
	return policy_row(r, row, (struct store_policy *)list + row);
}

static void release_policies(void *list, size_t n) { store_policy_list_free(list, n); }

static int pg_policy_history(struct store *st, const char *provider, const char *type, struct store_policy **out,
			     size_t *n, struct attest_err *err)
{
	struct pgq q = {.n = 0};

	pq_text(&q, provider);
	pq_text(&q, type);
	return read_list(pg(st), "SELECT " POLICY_COLS " FROM policies WHERE provider = $1 AND type = $2 ORDER BY version",
			 &q, sizeof(**out), fill_policy, release_policies, (void **)out, n, "policy history", err);
}

/* ---- policy-management certificates ---------------------------------------------- */

static int pg_cert_add(struct store *st, const struct store_cert *c, bool *added, const struct store_audit *audit,
		       struct attest_err *err)
{
	struct pg_store *s = pg(st);
	bool was_added = false;
	struct pg_tx tx;
	int rc = tx_begin(s, &tx, err);

	if (rc != ATTEST_OK)
		return rc;
	rc = cert_insert(tx.c, c->provider, c, audit_time(audit), &was_added, err);
	if (rc == ATTEST_OK)
		rc = maybe_audit(&tx, audit, err);
	if (rc == ATTEST_OK)
		rc = tx_notify(&tx, "cert", c->provider, err);
	rc = tx_end(s, &tx, rc, err);
	if (rc == ATTEST_OK && added)
		*added = was_added;
	return rc;
}

static int pg_cert_remove(struct store *st, const char *provider, const char *thumbprint, bool *removed,
			  const struct store_audit *audit, struct attest_err *err)
{
	struct pgq q = {.n = 0};
	long changes = 0;
	int rc;

	pq_text(&q, provider);
	pq_text(&q, thumbprint);
	rc = write_one(pg(st), "DELETE FROM policy_certs WHERE provider = $1 AND thumbprint = $2", &q, &changes, audit,
		       "cert", provider, "cert remove", err);
	if (rc == ATTEST_OK && removed)
		*removed = changes > 0;
	return rc;
}

static int fill_cert(const PGresult *r, int row, void *list)
{
	struct store_cert *c = (struct store_cert *)list + row;

	col_copy(r, row, 0, c->provider, sizeof(c->provider));
	col_copy(r, row, 1, c->thumbprint, sizeof(c->thumbprint));
	c->added = col_i64(r, row, 3);
	return col_bytea(r, row, 2, &c->der, &c->der_len);
}

static void release_certs(void *list, size_t n) { store_cert_list_free(list, n); }

static int pg_cert_list(struct store *st, const char *provider, struct store_cert **out, size_t *n,
			struct attest_err *err)
{
	struct pgq q = {.n = 0};

	pq_text(&q, provider);
	return read_list(pg(st),
			 "SELECT provider, thumbprint, der, added FROM policy_certs WHERE provider = $1 ORDER BY added, thumbprint",
			 &q, sizeof(**out), fill_cert, release_certs, (void **)out, n, "cert list", err);
}

/* ---- signing keys ------------------------------------------------------------------ */

static int pg_key_put(struct store *st, const struct store_key *k, const struct store_audit *audit,
		      struct attest_err *err)
{
	struct pgq q = {.n = 0};
	int rc;

	pq_text(&q, k->kid);
	pq_text(&q, k->provider);
	pq_blob(&q, k->blob ? (const void *)k->blob : (const void *)"", k->blob_len);
	pq_int(&q, k->created ? k->created : wall_now());
	pq_int(&q, k->not_after);
	pq_int(&q, k->state);
	rc = write_one(pg(st),
		       "INSERT INTO signing_keys (kid, provider, blob, created, not_after, state)"
		       " VALUES ($1, $2, $3, $4, $5, $6)",
		       &q, NULL, audit, "key", k->provider, "key put", err);
	if (rc == ATTEST_E_CONFLICT && err && strcmp(err->name, "store.constraint") == 0) {
		attest_err_clear(err);
		rc = attest_err_set(err, ATTEST_E_CONFLICT, "store.key.exists", "key \"%s\" already exists", k->kid);
	}
	return rc;
}

static int pg_key_set_state(struct store *st, const char *kid, enum store_key_state state, int64_t not_after,
			    const struct store_audit *audit, struct attest_err *err)
{
	struct pg_store *s = pg(st);
	struct pgq q = {.n = 0};
	PGresult *res = NULL;
	struct pg_tx tx;
	int rc;

	if ((unsigned)state > STORE_KEY_RETIRED)
		return attest_err_set(err, ATTEST_E_INVALID, "store.key.invalid", "unknown key state %d", (int)state);
	if ((rc = tx_begin(s, &tx, err)) != ATTEST_OK)
		return rc;
	pq_int(&q, state);
	pq_int(&q, not_after);
	pq_text(&q, kid);
	rc = pq_exec(tx.c, "UPDATE signing_keys SET state = $1, not_after = $2 WHERE kid = $3", &q, &res, "key state",
		     err);
	if (rc == ATTEST_OK && pq_changes(res) == 0)
		rc = attest_err_set(err, ATTEST_E_NOT_FOUND, "store.key.not_found", "no key \"%s\"", kid);
	PQclear(res);
	if (rc == ATTEST_OK)
		rc = maybe_audit(&tx, audit, err);
	if (rc == ATTEST_OK)
		rc = tx_notify(&tx, "key", kid, err);
	return tx_end(s, &tx, rc, err);
}

static int fill_key(const PGresult *r, int row, void *list)
{
	struct store_key *k = (struct store_key *)list + row;

	col_copy(r, row, 0, k->kid, sizeof(k->kid));
	col_copy(r, row, 1, k->provider, sizeof(k->provider));
	k->created = col_i64(r, row, 3);
	k->not_after = col_i64(r, row, 4);
	k->state = (enum store_key_state)col_i64(r, row, 5);
	return col_bytea(r, row, 2, &k->blob, &k->blob_len);
}

static void release_keys(void *list, size_t n) { store_key_list_free(list, n); }

static int pg_key_list(struct store *st, const char *provider, struct store_key **out, size_t *n,
		       struct attest_err *err)
{
	struct pgq q = {.n = 0};

	pq_text(&q, provider);
	return read_list(pg(st),
			 "SELECT kid, provider, blob, created, not_after, state FROM signing_keys WHERE provider = $1"
			 " ORDER BY created, kid",
			 &q, sizeof(**out), fill_key, release_keys, (void **)out, n, "key list", err);
}

/* ---- collateral cache ----------------------------------------------------------------- */

static int pg_collateral_put(struct store *st, const struct store_collateral *items, size_t n,
			     const struct store_audit *audit, struct attest_err *err)
{
	struct pg_store *s = pg(st);
	struct pg_tx tx;
	int rc = tx_begin(s, &tx, err);

	if (rc != ATTEST_OK)
		return rc;
	for (size_t i = 0; i < n && rc == ATTEST_OK; i++) {
		struct pgq q = {.n = 0};

		pq_text(&q, items[i].key);
		/* An empty document is stored as an empty bytea, not NULL (NOT NULL column). */
		pq_blob(&q, items[i].len ? (const void *)items[i].bytes : (const void *)"", items[i].len);
		pq_int(&q, items[i].issue_date);
		pq_int(&q, items[i].next_update);
		rc = pq_exec(tx.c,
			     "INSERT INTO collateral (key, bytes, issue_date, next_update) VALUES ($1, $2, $3, $4)"
			     " ON CONFLICT (key) DO UPDATE SET bytes = excluded.bytes, issue_date = excluded.issue_date,"
			     " next_update = excluded.next_update",
			     &q, NULL, "collateral put", err);
	}
	if (rc == ATTEST_OK)
		rc = maybe_audit(&tx, audit, err);
	return tx_end(s, &tx, rc, err);
}

static int fill_collateral(const PGresult *r, int row, void *list)
{
	struct store_collateral *c = (struct store_collateral *)list + row;
	int rc;

	c->key = col_strdup(r, row, 0);
	rc = col_bytea(r, row, 1, &c->bytes, &c->len);
	c->issue_date = col_i64(r, row, 2);
	c->next_update = col_i64(r, row, 3);
	return rc == ATTEST_OK && c->key != NULL ? ATTEST_OK : ATTEST_E_NOMEM;
}

static void release_collateral(void *list, size_t n) { store_collateral_list_free(list, n); }

#define COLLATERAL_COLS "key, bytes, issue_date, next_update"

static int pg_collateral_get(struct store *st, const char *key, struct store_collateral *out,
			     struct attest_err *err)
{
	struct store_collateral *list = NULL;
	struct pgq q = {.n = 0};
	size_t n = 0;
	int rc;

	pq_text(&q, key);
	rc = read_list(pg(st), "SELECT " COLLATERAL_COLS " FROM collateral WHERE key = $1", &q, sizeof(*list),
		       fill_collateral, release_collateral, (void **)&list, &n, "collateral get", err);
	if (rc != ATTEST_OK)
		return rc;
	if (n == 0)
		rc = attest_err_set(err, ATTEST_E_NOT_FOUND, "store.collateral.not_found", "no cached \"%s\"", key);
	else
		*out = list[0];
	free(list);
	return rc;
}

/*
 * Keyset page in byte order (COLLATE "C", as SQLite's BINARY), whatever the
 * database's collation; the column's own collation since migration 3, so
 * collateral_pkey serves it (the COLLATE clauses keep the order explicit).
 */
static int pg_collateral_page(struct store *st, const char *after, size_t max, struct store_collateral **out,
			      size_t *n, struct attest_err *err)
{
	struct pgq q = {.n = 0};

	pq_text(&q, after ? after : "");
	pq_int(&q, max == 0 || max > (size_t)INT64_MAX ? INT64_MAX : (int64_t)max);
	return read_list(pg(st),
			 "SELECT " COLLATERAL_COLS " FROM collateral WHERE key COLLATE \"C\" > $1"
			 " ORDER BY key COLLATE \"C\" LIMIT $2",
			 &q, sizeof(**out), fill_collateral, release_collateral, (void **)out, n, "collateral list",
			 err);
}

static int pg_collateral_purge(struct store *st, int64_t before, size_t *purged, struct attest_err *err)
{
	struct pgq q = {.n = 0};
	long changes = 0;
	int rc;

	pq_int(&q, before);
	rc = write_one(pg(st), "DELETE FROM collateral WHERE next_update < $1", &q, &changes, NULL, NULL, NULL,
		       "collateral purge", err);
	if (rc == ATTEST_OK && purged)
		*purged = (size_t)changes;
	return rc;
}

/* ---- audit log ------------------------------------------------------------------------ */

static int pg_audit_append(struct store *st, const struct store_audit *audit, struct attest_err *err)
{
	struct pg_store *s = pg(st);
	struct pg_tx tx;
	int rc;

	if (audit == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "store.audit.invalid", "no audit entry given");
	if ((rc = tx_begin(s, &tx, err)) != ATTEST_OK)
		return rc;
	rc = audit_append_in(tx.c, audit, err);
	return tx_end(s, &tx, rc, err);
}

#define AUDIT_COLS "seq, time, actor, action, provider, detail, prev_hash, hash"

static int audit_row(const PGresult *r, int row, struct store_audit_row *a)
{
	memset(a, 0, sizeof(*a));
	a->seq = col_i64(r, row, 0);
	a->time = col_i64(r, row, 1);
	col_copy(r, row, 2, a->actor, sizeof(a->actor));
	col_copy(r, row, 3, a->action, sizeof(a->action));
	col_copy(r, row, 4, a->provider, sizeof(a->provider));
	a->detail = col_strdup(r, row, 5);
	/* A damaged hash column reads as zeros; verification then names the row. */
	if (!col_hash32(r, row, 6, a->prev_hash))
		memset(a->prev_hash, 0xff, 32);
	if (!col_hash32(r, row, 7, a->hash))
		memset(a->hash, 0xff, 32);
	return !PQgetisnull(r, row, 5) && a->detail == NULL ? ATTEST_E_NOMEM : ATTEST_OK;
}

static int fill_audit(const PGresult *r, int row, void *list)
{
	return audit_row(r, row, (struct store_audit_row *)list + row);
}

static void release_audit(void *list, size_t n) { store_audit_list_free(list, n); }

static int pg_audit_list(struct store *st, int64_t after_seq, size_t max, struct store_audit_row **out, size_t *n,
			 struct attest_err *err)
{
	struct pgq q = {.n = 0};

	pq_int(&q, after_seq);
	pq_int(&q, max ? (int64_t)max : INT64_MAX);
	return read_list(pg(st), "SELECT " AUDIT_COLS " FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2", &q,
			 sizeof(**out), fill_audit, release_audit, (void **)out, n, "audit list", err);
}

/* Checks row i against the running chain; prev advances to its hash. */
static int audit_check_row(const PGresult *r, int i, int64_t expect_seq, uint8_t prev[32], struct attest_err *err)
{
	struct store_audit_row a;
	uint8_t h[32];
	int rc = audit_row(r, i, &a);

	if (rc != ATTEST_OK)
		rc = attest_err_set(err, rc, "store.nomem", "out of memory");
	else if (a.seq != expect_seq)
		rc = attest_err_set(err, ATTEST_E_VERIFY, "store.audit.tampered",
				    "audit row %lld follows row %lld: rows are missing or were inserted",
				    (long long)a.seq, (long long)expect_seq - 1);
	else if (memcmp(a.prev_hash, prev, 32) != 0)
		rc = attest_err_set(err, ATTEST_E_VERIFY, "store.audit.tampered",
				    "audit row %lld does not chain to the row before it", (long long)a.seq);
	else if ((rc = store_audit_hash(prev, a.seq, a.time, a.actor, a.action, a.provider, a.detail, h)) != 0)
		rc = attest_err_set(err, rc, "store.audit.hash", "cannot hash audit row");
	else if (memcmp(h, a.hash, 32) != 0)
		rc = attest_err_set(err, ATTEST_E_VERIFY, "store.audit.tampered",
				    "audit row %lld was altered: its hash does not match its contents", (long long)a.seq);
	if (rc != ATTEST_OK)
		attest_err_where(err, "audit_log seq %lld", (long long)a.seq);
	else
		memcpy(prev, h, 32);
	free(a.detail);
	return rc;
}

static int pg_audit_verify(struct store *st, int64_t *rows, struct attest_err *err)
{
	struct pg_store *s = pg(st);
	uint8_t prev[32] = {0}, head_hash[32];
	PGresult *head = NULL, *res = NULL;
	int64_t seq = 0, head_seq = 0;
	struct pg_tx tx;
	int rc = tx_begin(s, &tx, err);

	if (rc != ATTEST_OK)
		return rc;
	/* One snapshot for the head and the rows (REPEATABLE READ). */
	rc = pq_exec(tx.c, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", NULL, NULL, "audit verify", err);
	if (rc == ATTEST_OK)
		rc = pq_exec(tx.c, "SELECT seq, hash FROM audit_head WHERE id = 1", NULL, &head, "audit head", err);
	if (rc == ATTEST_OK) {
		if (PQntuples(head) != 1 || !col_hash32(head, 0, 1, head_hash))
			rc = attest_err_set(err, ATTEST_E_VERIFY, "store.audit.tampered", "audit head row is missing");
		else
			head_seq = col_i64(head, 0, 0);
	}
	if (rc == ATTEST_OK)
		rc = pq_exec(tx.c, "SELECT " AUDIT_COLS " FROM audit_log ORDER BY seq", NULL, &res, "audit verify", err);
	for (int i = 0; rc == ATTEST_OK && i < PQntuples(res); i++)
		rc = audit_check_row(res, i, ++seq, prev, err);
	if (rc == ATTEST_OK && seq < head_seq)
		rc = attest_err_set(err, ATTEST_E_VERIFY, "store.audit.truncated",
				    "audit log ends at row %lld but %lld rows were written", (long long)seq,
				    (long long)head_seq);
	else if (rc == ATTEST_OK && (seq != head_seq || memcmp(prev, head_hash, 32) != 0))
		rc = attest_err_set(err, ATTEST_E_VERIFY, "store.audit.tampered",
				    "audit log does not end where its head says (row %lld)", (long long)head_seq);
	PQclear(head);
	PQclear(res);
	/* A read: nothing to commit, but ending it cleanly releases the snapshot. */
	tx_end(s, &tx, ATTEST_OK, NULL);
	if (rc == ATTEST_OK && rows)
		*rows = seq;
	return rc;
}

/* Test hook: empties every table and restarts the audit chain. */
static int pg_test_reset(struct store *st, struct attest_err *err)
{
	struct pg_store *s = pg(st);
	struct pg_tx tx;
	int rc = tx_begin(s, &tx, err);

	if (rc != ATTEST_OK)
		return rc;
	rc = pq_exec(tx.c,
		     "TRUNCATE providers, policies, policy_certs, signing_keys, collateral, audit_log, meta;"
		     "UPDATE audit_head SET seq = 0, hash = decode(repeat('00', 32), 'hex') WHERE id = 1",
		     NULL, NULL, "test reset", err);
	return tx_end(s, &tx, rc, err);
}

/* ---- handle ------------------------------------------------------------------------ */

static void pg_fault_next_commit(struct store *st) { atomic_store(&pg(st)->fault_commit, 1); }

static void pg_close(struct store *st)
{
	struct pg_store *s = pg(st);

	for (int i = 0; i < s->nconns; i++)
		PQfinish(s->conns[i]);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	if (s->conninfo) /* it may carry a password */
		explicit_bzero(s->conninfo, strlen(s->conninfo));
	free(s->conninfo);
	free(s);
}

static const struct store_ops PG_OPS = {
	.name = "postgres",
	.close = pg_close,
	.schema_version = pg_schema_version,
	.meta_get = pg_meta_get,
	.meta_put = pg_meta_put,
	.provider_create = pg_provider_create,
	.provider_get = pg_provider_get,
	.provider_list = pg_provider_list,
	.provider_update = pg_provider_update_tx,
	.provider_delete = pg_provider_delete,
	.policy_put = pg_policy_put,
	.policy_get = pg_policy_get,
	.policy_history = pg_policy_history,
	.cert_add = pg_cert_add,
	.cert_remove = pg_cert_remove,
	.cert_list = pg_cert_list,
	.key_put = pg_key_put,
	.key_set_state = pg_key_set_state,
	.key_list = pg_key_list,
	.collateral_put = pg_collateral_put,
	.collateral_get = pg_collateral_get,
	.collateral_purge = pg_collateral_purge,
	.collateral_page = pg_collateral_page,
	.audit_append = pg_audit_append,
	.audit_list = pg_audit_list,
	.audit_verify = pg_audit_verify,
	.fault_next_commit = pg_fault_next_commit,
	.test_reset = pg_test_reset,
};

int store_pg_open(const char *conninfo, const struct store_open_opts *opts, struct store **out,
		  struct attest_err *err)
{
	struct pg_store *s = calloc(1, sizeof(*s));
	int rc;

	if (s == NULL || (s->conninfo = strdup(conninfo)) == NULL) {
		free(s);
		return attest_err_set(err, ATTEST_E_NOMEM, "store.nomem", "out of memory");
	}
	s->base.ops = &PG_OPS;
	s->max_conns = opts && opts->max_connections > 0 ? opts->max_connections : 4;
	if (s->max_conns > PG_MAX_CONNS)
		s->max_conns = PG_MAX_CONNS;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	rc = migrate(s, err);
	if (rc != ATTEST_OK) {
		pg_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return ATTEST_OK;
}

/* ---- change notifications ---------------------------------------------------------------- */

struct store_pg_listener {
	PGconn *c;
};

int store_pg_listener_open(const char *conninfo, struct store_pg_listener **out, struct attest_err *err)
{
	struct store_pg_listener *l = calloc(1, sizeof(*l));
	int rc;

	if (l == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "store.nomem", "out of memory");
	l->c = conn_open(conninfo);
	if (l->c == NULL) {
		free(l);
		return attest_err_set(err, ATTEST_E_IO, "store.unavailable", "cannot connect to PostgreSQL to listen");
	}
	rc = pq_exec(l->c, "LISTEN " PG_NOTIFY_CHANNEL, NULL, NULL, "listen", err);
	if (rc != ATTEST_OK) {
		store_pg_listener_free(l);
		return rc;
	}
	*out = l;
	return ATTEST_OK;
}

int store_pg_listener_wait(struct store_pg_listener *l, int timeout_ms, char *payload, size_t cap,
			   struct attest_err *err)
{
	PGnotify *n;
	fd_set fds;
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	int sock;

	if (!PQconsumeInput(l->c) || PQstatus(l->c) != CONNECTION_OK)
		return attest_err_set(err, ATTEST_E_IO, "store.listener.lost",
				      "the notification connection was lost: re-read all cached state");
	if ((n = PQnotifies(l->c)) == NULL) {
		sock = PQsocket(l->c);
		if (sock < 0)
			return attest_err_set(err, ATTEST_E_IO, "store.listener.lost", "no notification socket");
		FD_ZERO(&fds);
		FD_SET(sock, &fds);
		if (select(sock + 1, &fds, NULL, NULL, &tv) < 0)
			return attest_err_set(err, ATTEST_E_IO, "store.listener.lost", "waiting for notifications failed");
		if (!PQconsumeInput(l->c) || PQstatus(l->c) != CONNECTION_OK)
			return attest_err_set(err, ATTEST_E_IO, "store.listener.lost",
					      "the notification connection was lost: re-read all cached state");
		n = PQnotifies(l->c);
	}
	if (n == NULL)
		return ATTEST_E_NOT_FOUND; /* timed out: nothing changed */
	snprintf(payload, cap, "%s", n->extra ? n->extra : "");
	PQfreemem(n);
	return ATTEST_OK;
}

void store_pg_listener_free(struct store_pg_listener *l)
{
	if (l == NULL)
		return;
	PQfinish(l->c);
	free(l);
}
