/*
 * The SQLite backend of the store: one database file in WAL mode (readers
 * never block the writer nor each other), a small pool of connections so
 * worker threads read side by side, every write one BEGIN IMMEDIATE ...
 * COMMIT transaction, and the schema brought forward by numbered
 * migrations recorded in schema_version.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SQ_MAX_CONNS 32

struct sq_store {
	struct store base;
	char *path;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	sqlite3 *conns[SQ_MAX_CONNS];
	bool busy[SQ_MAX_CONNS];
	int nconns;
	int max_conns;
	int busy_timeout_ms;
	atomic_int fault_commit;
};

/*
 * Migrations, oldest first; migration i brings the schema to version i + 1.
 * Never edit one that has shipped: append a new one.
 */
static const char *const MIGRATIONS[] = {
	/* 1: the state of ARCHITECTURE.md "State". */
	"CREATE TABLE providers ("
	"  name TEXT PRIMARY KEY NOT NULL,"
	"  mode INTEGER NOT NULL CHECK (mode BETWEEN 0 AND 2),"
	"  created INTEGER NOT NULL, updated INTEGER NOT NULL,"
	"  settings TEXT NOT NULL DEFAULT '{}');"
	"CREATE TABLE policies ("
	"  provider TEXT NOT NULL REFERENCES providers(name) ON DELETE CASCADE,"
	"  type TEXT NOT NULL, version INTEGER NOT NULL,"
	"  text TEXT, jws TEXT, hash BLOB, signer TEXT, created INTEGER NOT NULL,"
	"  PRIMARY KEY (provider, type, version));"
	"CREATE TABLE policy_certs ("
	"  provider TEXT NOT NULL REFERENCES providers(name) ON DELETE CASCADE,"
	"  thumbprint TEXT NOT NULL, der BLOB NOT NULL, added INTEGER NOT NULL,"
	"  PRIMARY KEY (provider, thumbprint));"
	"CREATE TABLE signing_keys ("
	"  kid TEXT PRIMARY KEY NOT NULL, provider TEXT NOT NULL DEFAULT '',"
	"  blob BLOB NOT NULL, created INTEGER NOT NULL, not_after INTEGER NOT NULL DEFAULT 0,"
	"  state INTEGER NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 2));"
	"CREATE TABLE collateral ("
	"  key TEXT PRIMARY KEY NOT NULL, bytes BLOB NOT NULL,"
	"  issue_date INTEGER NOT NULL, next_update INTEGER NOT NULL);"
	"CREATE TABLE audit_log ("
	"  seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, actor TEXT NOT NULL,"
	"  action TEXT NOT NULL, provider TEXT NOT NULL, detail TEXT,"
	"  prev_hash BLOB NOT NULL, hash BLOB NOT NULL);"
	"CREATE TABLE audit_head ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash BLOB NOT NULL);"
	"INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, zeroblob(32));",
	/* 2: service-wide settings; collateral expiry scans. */
	"CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);"
	"CREATE INDEX collateral_next_update ON collateral (next_update);"
	"CREATE INDEX signing_keys_provider ON signing_keys (provider, created);",
	/*
	 * 3: nothing here. One schema version counts both backends'
	 * migrations (store_schema_latest); PostgreSQL's 3 gives collateral.key
	 * byte order, which SQLite's BINARY key already has.
	 */
	"",
};

#define N_MIGRATIONS ((int)(sizeof(MIGRATIONS) / sizeof(MIGRATIONS[0])))

int store_schema_latest(void)
{
	return N_MIGRATIONS;
}

static struct sq_store *sq(struct store *st)
{
	return (struct sq_store *)st;
}

static int db_fail(sqlite3 *db, struct attest_err *err, const char *what)
{
	int code = sqlite3_extended_errcode(db);

	if ((code & 0xff) == SQLITE_CONSTRAINT)
		return attest_err_set(err, ATTEST_E_CONFLICT, "store.constraint", "%s: %s", what, sqlite3_errmsg(db));
	return attest_err_set(err, ATTEST_E_IO, "store.io", "%s: %s (sqlite %d)", what, sqlite3_errmsg(db), code);
}

static int64_t wall_now(void)
{
	return (int64_t)time(NULL);
}

/* ---- connections ---------------------------------------------------------- */

static int conn_open(struct sq_store *s, sqlite3 **out, struct attest_err *err)
{
	sqlite3 *db = NULL;
	char *msg = NULL;
	int rc = sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK) {
		attest_err_set(err, ATTEST_E_IO, "store.open", "cannot open %s: %s", s->path,
			       db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return ATTEST_E_IO;
	}
	sqlite3_busy_timeout(db, s->busy_timeout_ms);
	/*
	 * WAL: readers see the last commit while a writer works. synchronous =
	 * FULL: an acknowledged write survives a crash of the process or the
	 * machine (issue 9: a policy set survives kill -9).
	 */
	rc = sqlite3_exec(db,
			  "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
			  "PRAGMA secure_delete=ON;",
			  NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		attest_err_set(err, ATTEST_E_IO, "store.open", "cannot configure %s: %s", s->path,
			       msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		sqlite3_close(db);
		return ATTEST_E_IO;
	}
	*out = db;
	return ATTEST_OK;
}

/* Takes a free connection, opening one while under the cap, else waits. */
static int conn_get(struct sq_store *s, sqlite3 **out, struct attest_err *err)
{
	int rc = ATTEST_OK;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		for (int i = 0; i < s->nconns; i++) {
			if (!s->busy[i]) {
				s->busy[i] = true;
				*out = s->conns[i];
				goto out;
			}
		}
		if (s->nconns < s->max_conns) {
			sqlite3 *db = NULL;
			rc = conn_open(s, &db, err);
			if (rc == ATTEST_OK) {
				s->conns[s->nconns] = db;
				s->busy[s->nconns] = true;
				s->nconns++;
				*out = db;
			}
			goto out;
		}
		pthread_cond_wait(&s->cv, &s->mu);
	}
out:
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static void conn_put(struct sq_store *s, sqlite3 *db)
{
	pthread_mutex_lock(&s->mu);
	for (int i = 0; i < s->nconns; i++) {
		if (s->conns[i] == db)
			s->busy[i] = false;
	}
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* ---- statements -------------------------------------------------------------- */

static int prep(sqlite3 *db, const char *sql, sqlite3_stmt **st, struct attest_err *err)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
		return db_fail(db, err, "prepare");
	return ATTEST_OK;
}

static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return s == NULL ? sqlite3_bind_null(st, i) : sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

static int bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
	if (p == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_blob64(st, i, p, (sqlite3_uint64)n, SQLITE_TRANSIENT);
}

/* Runs a statement that returns no rows. */
static int step_done(sqlite3 *db, sqlite3_stmt *st, struct attest_err *err, const char *what)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE)
		return db_fail(db, err, what);
	return ATTEST_OK;
}

static char *col_strdup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t == NULL ? NULL : strdup((const char *)t);
}

static void col_copy(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

static int col_blobdup(sqlite3_stmt *st, int i, uint8_t **out, size_t *len)
{
	const void *p = sqlite3_column_blob(st, i);
	int n = sqlite3_column_bytes(st, i);

	*out = NULL;
	*len = 0;
	if (p == NULL || n <= 0)
		return ATTEST_OK;
	*out = malloc((size_t)n);
	if (*out == NULL)
		return ATTEST_E_NOMEM;
	memcpy(*out, p, (size_t)n);
	*len = (size_t)n;
	return ATTEST_OK;
}

/* ---- transactions ---------------------------------------------------------- */

/* A write: a connection with BEGIN IMMEDIATE (takes the write lock now, not at the first write). */
static int tx_begin(struct sq_store *s, sqlite3 **db, struct attest_err *err)
{
	int rc = conn_get(s, db, err);

	if (rc != ATTEST_OK)
		return rc;
	if (sqlite3_exec(*db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_fail(*db, err, "begin");
		conn_put(s, *db);
		return rc;
	}
	return ATTEST_OK;
}

/* Commits when rc is OK (and no fault is armed), else rolls back; releases the connection. */
static int tx_end(struct sq_store *s, sqlite3 *db, int rc, struct attest_err *err)
{
	if (rc == ATTEST_OK && atomic_exchange(&s->fault_commit, 0) != 0)
		rc = attest_err_set(err, ATTEST_E_IO, "store.fault", "injected failure before commit (test hook)");
	if (rc == ATTEST_OK && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = db_fail(db, err, "commit");
	if (rc != ATTEST_OK && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	conn_put(s, db);
	return rc;
}

/* ---- audit (inside a transaction) -------------------------------------------- */

static int audit_append_in(sqlite3 *db, const struct store_audit *a, struct attest_err *err)
{
	sqlite3_stmt *st = NULL;
	uint8_t prev[32], hash[32];
	int64_t seq = 0, when = a->time ? a->time : wall_now();
	const char *provider = a->provider ? a->provider : "";
	const char *actor = a->actor ? a->actor : "";
	int rc;

	if (a->action == NULL || a->action[0] == '\0' || strlen(a->action) >= STORE_ACTION_MAX ||
	    strlen(actor) >= STORE_ACTOR_MAX || strlen(provider) >= STORE_NAME_MAX)
		return attest_err_set(err, ATTEST_E_INVALID, "store.audit.invalid",
				      "audit entry needs an action; names must fit their columns");
	rc = prep(db, "SELECT seq, hash FROM audit_head WHERE id = 1", &st, err);
	if (rc != ATTEST_OK)
		return rc;
	if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_bytes(st, 1) != 32) {
		rc = attest_err_set(err, ATTEST_E_IO, "store.audit.head", "audit head row is missing or damaged");
		goto out;
	}
	seq = sqlite3_column_int64(st, 0) + 1;
	memcpy(prev, sqlite3_column_blob(st, 1), 32);
	sqlite3_finalize(st);
	st = NULL;

	rc = store_audit_hash(prev, seq, when, actor, a->action, provider, a->detail, hash);
	if (rc != ATTEST_OK)
		goto out;
	rc = prep(db,
		  "INSERT INTO audit_log (seq, time, actor, action, provider, detail, prev_hash, hash)"
		  " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		  &st, err);
	if (rc != ATTEST_OK)
		goto out;
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int64(st, 2, when);
	bind_text(st, 3, actor);
	bind_text(st, 4, a->action);
	bind_text(st, 5, provider);
	bind_text(st, 6, a->detail);
	bind_blob(st, 7, prev, 32);
	bind_blob(st, 8, hash, 32);
	rc = step_done(db, st, err, "audit insert");
	if (rc != ATTEST_OK)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	rc = prep(db, "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", &st, err);
	if (rc != ATTEST_OK)
		goto out;
	sqlite3_bind_int64(st, 1, seq);
	bind_blob(st, 2, hash, 32);
	rc = step_done(db, st, err, "audit head");
out:
	sqlite3_finalize(st);
	return rc;
}

static int maybe_audit(sqlite3 *db, const struct store_audit *a, struct attest_err *err)
{
	return a == NULL ? ATTEST_OK : audit_append_in(db, a, err);
}

/* ---- schema ----------------------------------------------------------------- */

static int read_version(sqlite3 *db, int *out, struct attest_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = prep(db, "SELECT COALESCE(MAX(version), 0) FROM schema_version", &st, err);

	if (rc != ATTEST_OK)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	else
		rc = db_fail(db, err, "schema version");
	sqlite3_finalize(st);
	return rc;
}

/* One migration in its own transaction, re-checking the version under the write lock. */
static int migrate_one(struct sq_store *s, sqlite3 *db, int target, struct attest_err *err)
{
	char *msg = NULL;
	int cur = 0;
	int rc;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, err, "migration begin");
	rc = read_version(db, &cur, err);
	if (rc == ATTEST_OK && cur < target) {
		if (sqlite3_exec(db, MIGRATIONS[target - 1], NULL, NULL, &msg) != SQLITE_OK) {
			rc = attest_err_set(err, ATTEST_E_IO, "store.migrate", "migration %d failed: %s", target,
					    msg ? msg : "?");
			sqlite3_free(msg);
		} else {
			sqlite3_stmt *st = NULL;
			rc = prep(db, "INSERT INTO schema_version (version, applied) VALUES (?, ?)", &st, err);
			if (rc == ATTEST_OK) {
				sqlite3_bind_int(st, 1, target);
				sqlite3_bind_int64(st, 2, wall_now());
				rc = step_done(db, st, err, "schema version");
			}
			sqlite3_finalize(st);
		}
	}
	(void)s;
	if (rc == ATTEST_OK && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = db_fail(db, err, "migration commit");
	if (rc != ATTEST_OK && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int migrate(struct sq_store *s, struct attest_err *err)
{
	sqlite3 *db = NULL;
	int cur = 0;
	int rc = conn_get(s, &db, err);

	if (rc != ATTEST_OK)
		return rc;
	if (sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,"
			     " applied INTEGER NOT NULL)",
			 NULL, NULL, NULL) != SQLITE_OK) {
		rc = attest_err_set(err, ATTEST_E_IO, "store.migrate", "cannot create schema_version: %s",
				    sqlite3_errmsg(db));
		goto out;
	}
	rc = read_version(db, &cur, err);
	if (rc != ATTEST_OK)
		goto out;
	if (cur > N_MIGRATIONS) {
		rc = attest_err_set(err, ATTEST_E_UNSUPPORTED, "store.schema.newer",
				    "%s has schema version %d; this attestd knows up to %d", s->path, cur,
				    N_MIGRATIONS);
		goto out;
	}
	for (int v = cur + 1; v <= N_MIGRATIONS && rc == ATTEST_OK; v++)
		rc = migrate_one(s, db, v, err);
out:
	conn_put(s, db);
	return rc;
}

static int sq_schema_version(struct store *st, int *out, struct attest_err *err)
{
	struct sq_store *s = sq(st);
	sqlite3 *db = NULL;
	int rc = conn_get(s, &db, err);

	if (rc != ATTEST_OK)
		return rc;
	rc = read_version(db, out, err);
	conn_put(s, db);
	return rc;
}

/* ---- meta ------------------------------------------------------------------- */

static int sq_meta_get(struct store *stp, const char *key, char **out, struct attest_err *err)
{
	struct sq_store *s = sq(stp);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = conn_get(s, &db, err);

	if (rc != ATTEST_OK)
		return rc;
	rc = prep(db, "SELECT value FROM meta WHERE key = ?", &st, err);
	if (rc != ATTEST_OK)
		goto out;
	bind_text(st, 1, key);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		*out = col_strdup(st, 0);
		rc = *out ? ATTEST_OK : ATTEST_E_NOMEM;
		break;
	case SQLITE_DONE:
		rc = attest_err_set(err, ATTEST_E_NOT_FOUND, "store.meta.not_found", "no setting \"%s\"", key);
		break;
	default:
		rc = db_fail(db, err, "meta get");
	}
out:
	sqlite3_finalize(st);
	conn_put(s, db);
	return rc;
}

static int sq_meta_put(struct store *stp, const char *key, const char *value, bool only_if_absent,
		       const struct store_audit *audit, struct attest_err *err)
{
	struct sq_store *s = sq(stp);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = tx_begin(s, &db, err);

	if (rc != ATTEST_OK)
		return rc;
	rc = prep(db,
		  only_if_absent ? "INSERT INTO meta (key, value) VALUES (?, ?)"
				 : "INSERT INTO meta (key, value) VALUES (?, ?)"
				   " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
		  &st, err);
	if (rc != ATTEST_OK)
		goto out;
	bind_text(st, 1, key);
	bind_text(st, 2, value);
	if (sqlite3_step(st) != SQLITE_DONE) {
		if ((sqlite3_extended_errcode(db) & 0xff) == SQLITE_CONSTRAINT)
			rc = attest_err_set(err, ATTEST_E_CONFLICT, "store.meta.exists", "setting \"%s\" exists", key);
		else
			rc = db_fail(db, err, "meta put");
		goto out;
	}
	rc = maybe_audit(db, audit, err);
out:
	sqlite3_finalize(st);
	return tx_end(s, db, rc, err);
}

/* ---- providers --------------------------------------------------------------- */

static int provider_row(sqlite3_stmt *st, struct store_provider *p)
{
	memset(p, 0, sizeof(*p));
	col_copy(st, 0, p->name, sizeof(p->name));
	p->mode = (enum store_provider_mode)sqlite3_column_int(st, 1);
	p->created = sqlite3_column_int64(st, 2);
	p->updated = sqlite3_column_int64(st, 3);
	p->settings_json = col_strdup(st, 4);
	return p->settings_json ? ATTEST_OK : ATTEST_E_NOMEM;
}

static const char *settings_or_empty(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "{}";
}

/* Inserts one certificate (idempotent) inside the caller's transaction. */
static int cert_insert(sqlite3 *db, const char *provider, const struct store_cert *c, int64_t when, bool *added,
		       struct attest_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = prep(db,
		      "INSERT INTO policy_certs (provider, thumbprint, der, added) VALUES (?, ?, ?, ?)"
		      " ON CONFLICT(provider, thumbprint) DO NOTHING",
		      &st, err);

	if (rc != ATTEST_OK)
		return rc;
	bind_text(st, 1, provider);
	bind_text(st, 2, c->thumbprint);
	bind_blob(st, 3, c->der, c->der_len);
	sqlite3_bind_int64(st, 4, when);
	if (sqlite3_step(st) != SQLITE_DONE) {
		if (sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_FOREIGNKEY)
			rc = attest_err_set(err, ATTEST_E_NOT_FOUND, "store.provider.not_found", "no provider \"%s\"",
					    provider);
		else
			rc = db_fail(db, err, "cert add");
	} else if (added != NULL) {
		*added = sqlite3_changes(db) > 0;
	}
	sqlite3_finalize(st);
	return rc;
}

static int sq_provider_create(struct store *stp, const struct store_provider *p, const struct store_audit *audit,
			      struct attest_err *err)
{
	struct sq_store *s = sq(stp);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t when = audit && audit->time ? audit->time : wall_now();
	int rc = tx_begin(s, &db, err);

	if (rc != ATTEST_OK)
		return rc;
	rc = prep(db, "INSERT INTO providers (name, mode, created, updated, settings) VALUES (?, ?, ?, ?, ?)", &st,
		  err);
	if (rc != ATTEST_OK)
		goto out;
	bind_text(st, 1, p->name);
	sqlite3_bind_int(st, 2, (int)p->mode);
	sqlite3_bind_int64(st, 3, when);
	sqlite3_bind_int64(st, 4, when);
	bind_text(st, 5, settings_or_empty(p->settings_json));
	if (sqlite3_step(st) != SQLITE_DONE) {
		if (sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_PRIMARYKEY)
			rc = attest_err_set(err, ATTEST_E_CONFLICT, "store.provider.exists",
					    "provider \"%s\" already exists", p->name);
		else
			rc = db_fail(db, err, "provider create");
		goto out;
	}
	for (size_t i = 0; i < p->n_initial_certs && rc == ATTEST_OK; i++)
		rc = cert_insert(db, p->name, &p->initial_certs[i], when, NULL, err);
	if (rc == ATTEST_OK)
		rc = maybe_audit(db, audit, err);
out:
	sqlite3_finalize(st);
	return tx_end(s, db, rc, err);
}

static int sq_provider_get(struct store *stp, const char *name, struct store_provider *out, struct attest_err *err)
{
	struct sq_store *s = sq(stp);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = conn_get(s, &db, err);

	if (rc != ATTEST_OK)
		return rc;
	rc = prep(db, "SELECT name, mode, created, updated, settings FROM providers WHERE name = ?", &st, err);
	if (rc != ATTEST_OK)
		goto out;
	bind_text(st, 1, name);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		rc = provider_row(st, out);
		break;
	case SQLITE_DONE:
		rc = attest_err_set(err, ATTEST_E_NOT_FOUND, "store.provider.not_found", "no provider \"%s\"", name);
		break;
	default:
		rc = db_fail(db, err, "provider get");
	}
out:
	sqlite3_finalize(st);
	conn_put(s, db);
	return rc;
}

/* Grows *arr (of elem bytes) to hold one more; returns the new slot zeroed. */
static void *grow(void **arr, size_t *n, size_t *cap, size_t elem)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		void *p = realloc(*arr, ncap * elem);
		if (p == NULL)
			return NULL;
		*arr = p;
		*cap = ncap;
	}
	memset((char *)*arr + *n * elem, 0, elem);
	return (char *)*arr + (*n)++ * elem;
}

/* Parameters of a list query: texts are bound first, then numbers. */
struct sq_params {
	const char *text[2];
	size_t ntext;
	int64_t num[2];
	size_t nnum;
};

/* Decodes the current row into slot; on failure leaves nothing allocated in it. */
typedef int (*sq_fill_fn)(sqlite3_stmt *st, void *slot);
typedef void (*sq_release_fn)(void *list, size_t n);

/* Runs a list query and decodes every row into a malloc'd array of elem-sized slots. */
static int read_list(struct sq_store *s, const char *sql, const struct sq_params *q, size_t elem, sq_fill_fn fill,
		     sq_release_fn release, void **out, size_t *n, const char *what, struct attest_err *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	void *list = NULL;
	size_t cnt = 0, cap = 0;
	int rc = conn_get(s, &db, err), step = SQLITE_DONE;

	if (rc != ATTEST_OK)
		return rc;
	rc = prep(db, sql, &st, err);
	for (size_t i = 0; rc == ATTEST_OK && q != NULL && i < q->ntext; i++)
		bind_text(st, (int)i + 1, q->text[i]);
	for (size_t i = 0; rc == ATTEST_OK && q != NULL && i < q->nnum; i++)
		sqlite3_bind_int64(st, (int)(q->ntext + i) + 1, q->num[i]);
	while (rc == ATTEST_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		void *slot = grow(&list, &cnt, &cap, elem);
		rc = slot ? fill(st, slot) : ATTEST_E_NOMEM;
		if (rc != ATTEST_OK && slot != NULL)
			cnt--;
	}
	if (rc == ATTEST_OK && step != SQLITE_DONE)
		rc = db_fail(db, err, what);
	sqlite3_finalize(st);
	conn_put(s, db);
	if (rc != ATTEST_OK) {
		release(list, cnt);
		return rc == ATTEST_E_NOMEM ? attest_err_set(err, rc, "store.nomem", "out of memory") : rc;
	}
	*out = list;
	*n = cnt;
	return ATTEST_OK;
}

static int provider_fill(sqlite3_stmt *st, void *slot)
{
	return provider_row(st, slot);
}

static void provider_release(void *list, size_t n)
{
	store_provider_list_free(list, n);
}

static int sq_provider_list(struct store *stp, struct store_provider **out, size_t *n, struct attest_err *err)
{
	return read_list(sq(stp), "SELECT name, mode, created, updated, settings FROM providers ORDER BY name", NULL,
			 sizeof(**out), provider_fill, provider_release, (void **)out, n, "provider list", err);
}

static int sq_provider_update(struct store *stp, const struct store_provider *p, const struct store_audit *audit,
			      struct attest_err *err)
{
	struct sq_store *s = sq(stp);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = tx_begin(s, &db, err);

	if (rc != ATTEST_OK)
		return rc;
	rc = prep(db, "UPDATE providers SET mode = ?, settings = ?, updated = ? WHERE name = ?", &st, err);
	if (rc != ATTEST_OK)
		goto out;
	sqlite3_bind_int(st, 1, (int)p->mode);
	bind_text(st, 2, settings_or_empty(p->settings_json));
	sqlite3_bind_int64(st, 3, audit && audit->time ? audit->time : wall_now());
	bind_text(st, 4, p->name);
	rc = step_done(db, st, err, "provider update");
	if (rc == ATTEST_OK && sqlite3_changes(db) == 0)
		rc = attest_err_set(err, ATTEST_E_NOT_FOUND, "store.provider.not_found", "no provider \"%s\"",
				    p->name);
	if (rc == ATTEST_OK)
		rc = maybe_audit(db, audit, err);
out:
	sqlite3_finalize(st);
	return tx_end(s, db, rc, err);
}

/* Runs a one-statement write with one text bind; *changes gets the rows touched. */
static int exec_bind1(sqlite3 *db, const char *sql, const char *arg, int *changes, struct attest_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = prep(db, sql, &st, err);

	if (rc != ATTEST_OK)
		return rc;
	bind_text(st, 1, arg);
	rc = step_done(db, st, err, "write");
	if (changes != NULL)
		*changes = sqlite3_changes(db);
	sqlite3_finalize(st);
	return rc;
}

static int sq_provider_delete(struct store *stp, const char *name, const struct store_audit *audit,
			      struct attest_err *err)
{
	struct sq_store *s = sq(stp);
	sqlite3 *db = NULL;
	int changes = 0;
	int rc = tx_begin(s, &db, err);

	if (rc != ATTEST_OK)
		return rc;
	/* Policies and certificates go by ON DELETE CASCADE; the provider's own keys with it. */
	rc = exec_bind1(db, "DELETE FROM signing_keys WHERE provider = ? AND provider <> ''", name, NULL, err);
	if (rc == ATTEST_OK)
		rc = exec_bind1(db, "DELETE FROM providers WHERE name = ?", name, &changes, err);
	if (rc == ATTEST_OK && changes == 0)
		rc = attest_err_set(err, ATTEST_E_NOT_FOUND, "store.provider.not_found", "no provider \"%s\"", name);
	if (rc == ATTEST_OK)
		rc = maybe_audit(db, audit, err);
	return tx_end(s, db, rc, err);
}

/* ---- policies ----------------------------------------------------------------- */

static int policy_row(sqlite3_stmt *st, struct store_policy *p)
{
	const void *h;
	int hl;

	memset(p, 0, sizeof(*p));
	col_copy(st, 0, p->provider, sizeof(p->provider));
	col_copy(st, 1, p->type, sizeof(p->type));
	p->version = sqlite3_column_int64(st, 2);
	p->text = col_strdup(st, 3);
	p->jws = col_strdup(st, 4);
	h = sqlite3_column_blob(st, 5);
	hl = sqlite3_column_bytes(st, 5);
	if (h != NULL && hl > 0 && (size_t)hl <= sizeof(p->hash)) {
		memcpy(p->hash, h, (size_t)hl);
		p->hash_len = (size_t)hl;
	}
	p->signer = col_strdup(st, 6);
	p->created = sqlite3_column_int64(st, 7);
	if ((sqlite3_column_type(st, 3) != SQLITE_NULL && p->text == NULL) ||
	    (sqlite3_column_type(st, 4) != SQLITE_NULL && p->jws == NULL) ||
	    (sqlite3_column_type(st, 6) != SQLITE_NULL && p->signer == NULL)) {
		store_policy_clear(p);
		return ATTEST_E_NOMEM;
	}
	return ATTEST_OK;
}

#define POLICY_COLS "provider, type, version, text, jws, hash, signer, created"

static int sq_policy_put(struct store *stp, struct store_policy *p, const struct store_audit *audit,
			 struct attest_err *err)
{
	struct sq_store *s = sq(stp);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t version = 0, when = audit && audit->time ? audit->time : wall_now();
	int rc = tx_begin(s, &db, err);

	if (rc != ATTEST_OK)
		return rc;
	/* The version is max + 1 read under the write lock, so two writers never share one. */
	rc = prep(db, "SELECT COALESCE(MAX(version), 0) FROM policies WHERE provider = ? AND type = ?", &st, err);
	if (rc != ATTEST_OK)
		goto out;
	bind_text(st, 1, p->provider);
	bind_text(st, 2, p->type);
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = db_fail(db, err, "policy version");
		goto out;
	}
	version = sqlite3_column_int64(st, 0) + 1;
	sqlite3_finalize(st);
	st = NULL;
	rc = prep(db, "INSERT INTO policies (" POLICY_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)", &st, err);
	if (rc != ATTEST_OK)
		goto out;
	bind_text(st, 1, p->provider);
	bind_text(st, 2, p->type);
	sqlite3_bind_int64(st, 3, version);
	bind_text(st, 4, p->text);
	bind_text(st, 5, p->jws);
	bind_blob(st, 6, p->hash_len ? p->hash : NULL, p->hash_len);
	bind_text(st, 7, p->signer);
	sqlite3_bind_int64(st, 8, when);
	if (sqlite3_step(st) != SQLITE_DONE) {
		if ((sqlite3_extended_errcode(db)) == SQLITE_CONSTRAINT_FOREIGNKEY)
			rc = attest_err_set(err, ATTEST_E_NOT_FOUND, "store.provider.not_found", "no provider \"%s\"",
					    p->provider);
		else
			rc = db_fail(db, err, "policy put");
		goto out;
	}
	rc = maybe_audit(db, audit, err);
out:
	sqlite3_finalize(st);
	rc = tx_end(s, db, rc, err);
	if (rc == ATTEST_OK) {
		p->version = version;
		p->created = when;
	}
	return rc;
}

static int sq_policy_get(struct store *stp, const char *provider, const char *type, struct store_policy *out,
			 struct attest_err *err)
{
	struct sq_store *s = sq(stp);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = conn_get(s, &db, err);

	if (rc != ATTEST_OK)
		return rc;
	rc = prep(db,
		  "SELECT " POLICY_COLS " FROM policies WHERE provider = ? AND type = ?"
		  " ORDER BY version DESC LIMIT 1",
		  &st, err);
	if (rc != ATTEST_OK)
		goto out;
	bind_text(st, 1, provider);
	bind_text(st, 2, type);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		rc = policy_row(st, out);
		if (rc != ATTEST_OK)
			attest_err_set(err, rc, "store.nomem", "out of memory");
		break;
	case SQLITE_DONE:
		rc = attest_err_set(err, ATTEST_E_NOT_FOUND, "store.policy.not_found",
				    "provider \"%s\" has no stored %s policy", provider, type);
		break;
	default:
		rc = db_fail(db, err, "policy get");
	}
out:
	sqlite3_finalize(st);
	conn_put(s, db);
	return rc;
}

static int policy_fill(sqlite3_stmt *st, void *slot)
{
	return policy_row(st, slot);
}

static void policy_release(void *list, size_t n)
{
	store_policy_list_free(list, n);
}

static int sq_policy_history(struct store *stp, const char *provider, const char *type, struct store_policy **out,
			     size_t *n, struct attest_err *err)
{
	struct sq_params q = {.text = {provider, type}, .ntext = 2};

	return read_list(sq(stp), "SELECT " POLICY_COLS " FROM policies WHERE provider = ? AND type = ? ORDER BY version",
			 &q, sizeof(**out), policy_fill, policy_release, (void **)out, n, "policy history", err);
}

/* ---- policy-management certificates --------------------------------------------- */

static int sq_cert_add(struct store *stp, const struct store_cert *c, bool *added, const struct store_audit *audit,
		       struct attest_err *err)
{
	struct sq_store *s = sq(stp);
	sqlite3 *db = NULL;
	bool was_added = false;
	int rc = tx_begin(s, &db, err);

	if (rc != ATTEST_OK)
		return rc;
	rc = cert_insert(db, c->provider, c, audit && audit->time ? audit->time : wall_now(), &was_added, err);
	if (rc == ATTEST_OK)
		rc = maybe_audit(db, audit, err);
	rc = tx_end(s, db, rc, err);
	if (rc == ATTEST_OK && added != NULL)
		*added = was_added;
	return rc;
}

static int sq_cert_remove(struct store *stp, const char *provider, const char *thumbprint, bool *removed,
			  const struct store_audit *audit, struct attest_err *err)
{
	struct sq_store *s = sq(stp);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = tx_begin(s, &db, err);
	bool was_removed = false;

	if (rc != ATTEST_OK)
		return rc;
	rc = prep(db, "DELETE FROM policy_certs WHERE provider = ? AND thumbprint = ?", &st, err);
	if (rc != ATTEST_OK)
		goto out;
	bind_text(st, 1, provider);
	bind_text(st, 2, thumbprint);
	rc = step_done(db, st, err, "cert remove");
	if (rc != ATTEST_OK)
		goto out;
	was_removed = sqlite3_changes(db) > 0;
	rc = maybe_audit(db, audit, err);
out:
	sqlite3_finalize(st);
	rc = tx_end(s, db, rc, err);
	if (rc == ATTEST_OK && removed != NULL)
		*removed = was_removed;
	return rc;
}

static int cert_fill(sqlite3_stmt *st, void *slot)
{
	struct store_cert *c = slot;

	col_copy(st, 0, c->provider, sizeof(c->provider));
	col_copy(st, 1, c->thumbprint, sizeof(c->thumbprint));
	c->added = sqlite3_column_int64(st, 3);
	return col_blobdup(st, 2, &c->der, &c->der_len);
}

static void cert_release(void *list, size_t n)
{
	store_cert_list_free(list, n);
}

static int sq_cert_list(struct store *stp, const char *provider, struct store_cert **out, size_t *n,
			struct attest_err *err)
{
	struct sq_params q = {.text = {provider}, .ntext = 1};

	return read_list(sq(stp),
			 "SELECT provider, thumbprint, der, added FROM policy_certs WHERE provider = ?"
			 " ORDER BY added, thumbprint",
			 &q, sizeof(**out), cert_fill, cert_release, (void **)out, n, "cert list", err);
}

/* ---- signing keys ---------------------------------------------------------------- */

static int sq_key_put(struct store *stp, const struct store_key *k, const struct store_audit *audit,
		      struct attest_err *err)
{
	struct sq_store *s = sq(stp);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = tx_begin(s, &db, err);

	if (rc != ATTEST_OK)
		return rc;
	rc = prep(db,
		  "INSERT INTO signing_keys (kid, provider, blob, created, not_after, state) VALUES (?, ?, ?, ?, ?, ?)",
		  &st, err);
	if (rc != ATTEST_OK)
		goto out;
	bind_text(st, 1, k->kid);
	bind_text(st, 2, k->provider);
	bind_blob(st, 3, k->blob, k->blob_len);
	sqlite3_bind_int64(st, 4, k->created ? k->created : wall_now());
	sqlite3_bind_int64(st, 5, k->not_after);
	sqlite3_bind_int(st, 6, (int)k->state);
	if (sqlite3_step(st) != SQLITE_DONE) {
		if (sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_PRIMARYKEY)
			rc = attest_err_set(err, ATTEST_E_CONFLICT, "store.key.exists", "key \"%s\" already exists",
					    k->kid);
		else
			rc = db_fail(db, err, "key put");
		goto out;
	}
	rc = maybe_audit(db, audit, err);
out:
	sqlite3_finalize(st);
	return tx_end(s, db, rc, err);
}

static int sq_key_set_state(struct store *stp, const char *kid, enum store_key_state state, int64_t not_after,
			    const struct store_audit *audit, struct attest_err *err)
{
	struct sq_store *s = sq(stp);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc;

	if ((unsigned)state > STORE_KEY_RETIRED)
		return attest_err_set(err, ATTEST_E_INVALID, "store.key.invalid", "unknown key state %d", (int)state);
	rc = tx_begin(s, &db, err);
	if (rc != ATTEST_OK)
		return rc;
	rc = prep(db, "UPDATE signing_keys SET state = ?, not_after = ? WHERE kid = ?", &st, err);
	if (rc != ATTEST_OK)
		goto out;
	sqlite3_bind_int(st, 1, (int)state);
	sqlite3_bind_int64(st, 2, not_after);
	bind_text(st, 3, kid);
	rc = step_done(db, st, err, "key state");
	if (rc == ATTEST_OK && sqlite3_changes(db) == 0)
		rc = attest_err_set(err, ATTEST_E_NOT_FOUND, "store.key.not_found", "no key \"%s\"", kid);
	if (rc == ATTEST_OK)
		rc = maybe_audit(db, audit, err);
out:
	sqlite3_finalize(st);
	return tx_end(s, db, rc, err);
}

static int key_fill(sqlite3_stmt *st, void *slot)
{
	struct store_key *k = slot;

	col_copy(st, 0, k->kid, sizeof(k->kid));
	col_copy(st, 1, k->provider, sizeof(k->provider));
	k->created = sqlite3_column_int64(st, 3);
	k->not_after = sqlite3_column_int64(st, 4);
	k->state = (enum store_key_state)sqlite3_column_int(st, 5);
	return col_blobdup(st, 2, &k->blob, &k->blob_len);
}

static void key_release(void *list, size_t n)
{
	store_key_list_free(list, n);
}

static int sq_key_list(struct store *stp, const char *provider, struct store_key **out, size_t *n,
		       struct attest_err *err)
{
	struct sq_params q = {.text = {provider}, .ntext = 1};

	return read_list(sq(stp),
			 "SELECT kid, provider, blob, created, not_after, state FROM signing_keys WHERE provider = ?"
			 " ORDER BY created, kid",
			 &q, sizeof(**out), key_fill, key_release, (void **)out, n, "key list", err);
}

/* ---- collateral cache ---------------------------------------------------------------- */

static int sq_collateral_put(struct store *stp, const struct store_collateral *items, size_t n,
			     const struct store_audit *audit, struct attest_err *err)
{
	struct sq_store *s = sq(stp);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = tx_begin(s, &db, err);

	if (rc != ATTEST_OK)
		return rc;
	rc = prep(db,
		  "INSERT INTO collateral (key, bytes, issue_date, next_update) VALUES (?, ?, ?, ?)"
		  " ON CONFLICT(key) DO UPDATE SET bytes = excluded.bytes, issue_date = excluded.issue_date,"
		  " next_update = excluded.next_update",
		  &st, err);
	for (size_t i = 0; i < n && rc == ATTEST_OK; i++) {
		const struct store_collateral *c = &items[i];

		sqlite3_reset(st);
		bind_text(st, 1, c->key);
		/* An empty document is stored as an empty blob, not NULL (NOT NULL column). */
		if (c->len == 0)
			sqlite3_bind_zeroblob(st, 2, 0);
		else
			bind_blob(st, 2, c->bytes, c->len);
		sqlite3_bind_int64(st, 3, c->issue_date);
		sqlite3_bind_int64(st, 4, c->next_update);
		rc = step_done(db, st, err, "collateral put");
	}
	if (rc == ATTEST_OK)
		rc = maybe_audit(db, audit, err);
	sqlite3_finalize(st);
	return tx_end(s, db, rc, err);
}

/* key, bytes, issue_date, next_update of the current row. */
static int collateral_fill(sqlite3_stmt *st, void *slot)
{
	struct store_collateral *c = slot;
	int rc;

	c->key = col_strdup(st, 0);
	rc = col_blobdup(st, 1, &c->bytes, &c->len);
	c->issue_date = sqlite3_column_int64(st, 2);
	c->next_update = sqlite3_column_int64(st, 3);
	if (rc != ATTEST_OK || c->key == NULL) {
		store_collateral_clear(c);
		return ATTEST_E_NOMEM;
	}
	return ATTEST_OK;
}

static void collateral_release(void *list, size_t n)
{
	store_collateral_list_free(list, n);
}

#define COLLATERAL_COLS "key, bytes, issue_date, next_update"

static int sq_collateral_get(struct store *stp, const char *key, struct store_collateral *out,
			     struct attest_err *err)
{
	struct sq_params q = {.text = {key}, .ntext = 1};
	struct store_collateral *list = NULL;
	size_t n = 0;
	int rc = read_list(sq(stp), "SELECT " COLLATERAL_COLS " FROM collateral WHERE key = ?", &q, sizeof(*list),
			   collateral_fill, collateral_release, (void **)&list, &n, "collateral get", err);

	if (rc != ATTEST_OK)
		return rc;
	if (n == 0)
		rc = attest_err_set(err, ATTEST_E_NOT_FOUND, "store.collateral.not_found", "no cached \"%s\"", key);
	else
		*out = list[0];
	free(list);
	return rc;
}

/* Keyset page: the primary key's index serves both the bound and the order (BINARY: byte order). */
static int sq_collateral_page(struct store *stp, const char *after, size_t max, struct store_collateral **out,
			      size_t *n, struct attest_err *err)
{
	struct sq_params q = {.text = {after ? after : ""},
			      .ntext = 1,
			      .num = {max == 0 || max > (size_t)INT64_MAX ? -1 : (int64_t)max},
			      .nnum = 1};

	return read_list(sq(stp), "SELECT " COLLATERAL_COLS " FROM collateral WHERE key > ? ORDER BY key LIMIT ?", &q,
			 sizeof(**out), collateral_fill, collateral_release, (void **)out, n, "collateral list", err);
}

static int sq_collateral_purge(struct store *stp, int64_t before, size_t *purged, struct attest_err *err)
{
	struct sq_store *s = sq(stp);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int changes = 0;
	int rc = tx_begin(s, &db, err);

	if (rc != ATTEST_OK)
		return rc;
	rc = prep(db, "DELETE FROM collateral WHERE next_update < ?", &st, err);
	if (rc == ATTEST_OK) {
		sqlite3_bind_int64(st, 1, before);
		rc = step_done(db, st, err, "collateral purge");
		changes = sqlite3_changes(db);
	}
	sqlite3_finalize(st);
	rc = tx_end(s, db, rc, err);
	if (rc == ATTEST_OK && purged != NULL)
		*purged = (size_t)changes;
	return rc;
}

/* ---- audit log ------------------------------------------------------------------------ */

static int sq_audit_append(struct store *stp, const struct store_audit *audit, struct attest_err *err)
{
	struct sq_store *s = sq(stp);
	sqlite3 *db = NULL;
	int rc = tx_begin(s, &db, err);

	if (rc != ATTEST_OK)
		return rc;
	rc = audit_append_in(db, audit, err);
	return tx_end(s, db, rc, err);
}

static int audit_row(sqlite3_stmt *st, struct store_audit_row *r)
{
	memset(r, 0, sizeof(*r));
	r->seq = sqlite3_column_int64(st, 0);
	r->time = sqlite3_column_int64(st, 1);
	col_copy(st, 2, r->actor, sizeof(r->actor));
	col_copy(st, 3, r->action, sizeof(r->action));
	col_copy(st, 4, r->provider, sizeof(r->provider));
	r->detail = col_strdup(st, 5);
	if (sqlite3_column_bytes(st, 6) == 32)
		memcpy(r->prev_hash, sqlite3_column_blob(st, 6), 32);
	if (sqlite3_column_bytes(st, 7) == 32)
		memcpy(r->hash, sqlite3_column_blob(st, 7), 32);
	return sqlite3_column_type(st, 5) != SQLITE_NULL && r->detail == NULL ? ATTEST_E_NOMEM : ATTEST_OK;
}

#define AUDIT_COLS "seq, time, actor, action, provider, detail, prev_hash, hash"

static int audit_fill(sqlite3_stmt *st, void *slot)
{
	return audit_row(st, slot);
}

static void audit_release(void *list, size_t n)
{
	store_audit_list_free(list, n);
}

static int sq_audit_list(struct store *stp, int64_t after_seq, size_t max, struct store_audit_row **out, size_t *n,
			 struct attest_err *err)
{
	struct sq_params q = {.num = {after_seq, max ? (int64_t)max : -1}, .nnum = 2};

	return read_list(sq(stp), "SELECT " AUDIT_COLS " FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?", &q,
			 sizeof(**out), audit_fill, audit_release, (void **)out, n, "audit list", err);
}

/* Checks one row against the running chain; *prev advances to its hash. */
static int audit_check_row(sqlite3_stmt *st, int64_t expect_seq, uint8_t prev[32], struct attest_err *err)
{
	struct store_audit_row r;
	uint8_t h[32];
	int rc = audit_row(st, &r);

	if (rc != ATTEST_OK) {
		free(r.detail);
		return attest_err_set(err, rc, "store.nomem", "out of memory");
	}
	if (r.seq != expect_seq)
		rc = attest_err_set(err, ATTEST_E_VERIFY, "store.audit.tampered",
				    "audit row %lld follows row %lld: rows are missing or were inserted",
				    (long long)r.seq, (long long)expect_seq - 1);
	else if (sqlite3_column_bytes(st, 6) != 32 || sqlite3_column_bytes(st, 7) != 32 ||
		 memcmp(r.prev_hash, prev, 32) != 0)
		rc = attest_err_set(err, ATTEST_E_VERIFY, "store.audit.tampered",
				    "audit row %lld does not chain to the row before it", (long long)r.seq);
	else if ((rc = store_audit_hash(prev, r.seq, r.time, r.actor, r.action, r.provider, r.detail, h)) != 0)
		rc = attest_err_set(err, rc, "store.audit.hash", "cannot hash audit row");
	else if (memcmp(h, r.hash, 32) != 0)
		rc = attest_err_set(err, ATTEST_E_VERIFY, "store.audit.tampered",
				    "audit row %lld was altered: its hash does not match its contents", (long long)r.seq);
	if (rc != ATTEST_OK)
		attest_err_where(err, "audit_log seq %lld", (long long)r.seq);
	else
		memcpy(prev, h, 32);
	free(r.detail);
	return rc;
}

static int sq_audit_verify(struct store *stp, int64_t *rows, struct attest_err *err)
{
	struct sq_store *s = sq(stp);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	uint8_t prev[32] = {0}, head_hash[32];
	int64_t seq = 0, head_seq = 0;
	int rc = conn_get(s, &db, err), step = SQLITE_DONE;

	if (rc != ATTEST_OK)
		return rc;
	/* One read transaction: the rows and the head are one snapshot. */
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	rc = prep(db, "SELECT seq, hash FROM audit_head WHERE id = 1", &st, err);
	if (rc == ATTEST_OK) {
		if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_bytes(st, 1) != 32) {
			rc = attest_err_set(err, ATTEST_E_VERIFY, "store.audit.tampered", "audit head row is missing");
		} else {
			head_seq = sqlite3_column_int64(st, 0);
			memcpy(head_hash, sqlite3_column_blob(st, 1), 32);
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc == ATTEST_OK)
		rc = prep(db, "SELECT " AUDIT_COLS " FROM audit_log ORDER BY seq", &st, err);
	while (rc == ATTEST_OK && (step = sqlite3_step(st)) == SQLITE_ROW)
		rc = audit_check_row(st, ++seq, prev, err);
	if (rc == ATTEST_OK && step != SQLITE_DONE)
		rc = db_fail(db, err, "audit verify");
	if (rc == ATTEST_OK && seq < head_seq)
		rc = attest_err_set(err, ATTEST_E_VERIFY, "store.audit.truncated",
				    "audit log ends at row %lld but %lld rows were written", (long long)seq,
				    (long long)head_seq);
	else if (rc == ATTEST_OK && (seq != head_seq || memcmp(prev, head_hash, 32) != 0))
		rc = attest_err_set(err, ATTEST_E_VERIFY, "store.audit.tampered",
				    "audit log does not end where its head says (row %lld)", (long long)head_seq);
	sqlite3_finalize(st);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	conn_put(s, db);
	if (rc == ATTEST_OK && rows != NULL)
		*rows = seq;
	return rc;
}

static int sq_test_reset(struct store *stp, struct attest_err *err)
{
	struct sq_store *s = sq(stp);
	sqlite3 *db = NULL;
	int rc = tx_begin(s, &db, err);

	if (rc != ATTEST_OK)
		return rc;
	if (sqlite3_exec(db,
			 "DELETE FROM policies; DELETE FROM policy_certs; DELETE FROM providers;"
			 "DELETE FROM signing_keys; DELETE FROM collateral; DELETE FROM meta; DELETE FROM audit_log;"
			 "UPDATE audit_head SET seq = 0, hash = zeroblob(32) WHERE id = 1;",
			 NULL, NULL, NULL) != SQLITE_OK)
		rc = db_fail(db, err, "test reset");
	return tx_end(s, db, rc, err);
}

static void sq_fault_next_commit(struct store *stp)
{
	atomic_store(&sq(stp)->fault_commit, 1);
}

/* ---- open / close ---------------------------------------------------------------------- */

static void sq_close(struct store *stp)
{
	struct sq_store *s = sq(stp);

	for (int i = 0; i < s->nconns; i++)
		sqlite3_close(s->conns[i]);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s->path);
	free(s);
}

static const struct store_ops SQLITE_OPS = {
	.name = "sqlite",
	.close = sq_close,
	.schema_version = sq_schema_version,
	.meta_get = sq_meta_get,
	.meta_put = sq_meta_put,
	.provider_create = sq_provider_create,
	.provider_get = sq_provider_get,
	.provider_list = sq_provider_list,
	.provider_update = sq_provider_update,
	.provider_delete = sq_provider_delete,
	.policy_put = sq_policy_put,
	.policy_get = sq_policy_get,
	.policy_history = sq_policy_history,
	.cert_add = sq_cert_add,
	.cert_remove = sq_cert_remove,
	.cert_list = sq_cert_list,
	.key_put = sq_key_put,
	.key_set_state = sq_key_set_state,
	.key_list = sq_key_list,
	.collateral_put = sq_collateral_put,
	.collateral_get = sq_collateral_get,
	.collateral_purge = sq_collateral_purge,
	.collateral_page = sq_collateral_page,
	.audit_append = sq_audit_append,
	.audit_list = sq_audit_list,
	.audit_verify = sq_audit_verify,
	.fault_next_commit = sq_fault_next_commit,
	.test_reset = sq_test_reset,
};

/*
 * Creates the file 0600 before SQLite sees it: SQLite gives its -wal and
 * -shm companions the database file's own mode, so they are private too.
 */
static int create_private_file(const char *path, struct attest_err *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	struct stat sb;

	if (fd < 0)
		return attest_err_set(err, ATTEST_E_IO, "store.open", "cannot create %s: %s", path, strerror(errno));
	if (fstat(fd, &sb) == 0 && sb.st_uid == geteuid() && (sb.st_mode & 077) != 0)
		(void)fchmod(fd, 0600);
	close(fd);
	return ATTEST_OK;
}

int store_sqlite_open(const char *path, const struct store_open_opts *opts, struct store **out,
		      struct attest_err *err)
{
	struct sq_store *s;
	int rc;

	if (path == NULL || path[0] == '\0')
		return attest_err_set(err, ATTEST_E_INVALID, "store.uri", "no SQLite file given");
	rc = create_private_file(path, err);
	if (rc != ATTEST_OK)
		return rc;
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->path = strdup(path)) == NULL) {
		free(s);
		return attest_err_set(err, ATTEST_E_NOMEM, "store.nomem", "out of memory");
	}
	s->base.ops = &SQLITE_OPS;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->max_conns = opts && opts->max_connections > 0 ? opts->max_connections : 4;
	if (s->max_conns > SQ_MAX_CONNS)
		s->max_conns = SQ_MAX_CONNS;
	s->busy_timeout_ms = opts && opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : 5000;
	atomic_init(&s->fault_commit, 0);
	rc = migrate(s, err);
	if (rc != ATTEST_OK) {
		sq_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return ATTEST_OK;
}
