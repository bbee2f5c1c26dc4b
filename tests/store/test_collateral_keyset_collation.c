/*
 * Collateral keyset paging (store_collateral_page) on a PostgreSQL database
 * whose collation is not C, and schema migration 3 that makes it cheap
 * (src/store/store_pg.c): the page statement compares keys COLLATE "C" (byte
 * order, as SQLite's BINARY), which an index in the database's linguistic
 * collation cannot serve; since migration 3 the key column is COLLATE "C"
 * and its primary key serves every page.
 *
 * The plans checked are those of the store's own page statements: the test
 * database loads auto_explain for new sessions, and the test reads the plans
 * PostgreSQL logged for the statements the store ran (server.log of the
 * primary that tests/ha/with_pg.sh starts; this program's _postgres entry).
 * It creates, and drops at the end, the database attestd_keyset beside the
 * harness's own. Without that harness only the SQLite case runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/store.h"
#include "testutil.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYSET_DB "attestd_keyset"
/* Enough rows that a page by the index is far cheaper than a scan and sort of all. */
#define GENERATED_ROWS 3000
#define PAGE_ROWS      100

/*
 * Keys whose byte order differs from a linguistic one: ICU and glibc en-US
 * put "a_b" < "a-b" < "ab" < "aB" < "AB" < "B" (punctuation and case weigh
 * less than letters); bytes put "AB" < "B" < "a-b" < "aB" < "a_b" < "ab".
 */
static const char *const LINGUISTIC[] = {
    "a_b", "aB", "ab", "AB", "a-b", "B", "e", "E", "\xc3\xa9" /* e acute */, "Z", "z", "~", "_",
};
#define N_LINGUISTIC (sizeof(LINGUISTIC) / sizeof(LINGUISTIC[0]))
#define N_KEYS	     (N_LINGUISTIC + GENERATED_ROWS)

struct pg_env {
	char admin[1200];   /* conninfo of the harness's database */
	char db[1200];	    /* conninfo of KEYSET_DB */
	char uri[1300];	    /* "pg:" + db, for store_open */
	char log[600];	    /* the primary's server.log */
	char collation[64]; /* how KEYSET_DB was created, for messages */
};

/* ---- keys ------------------------------------------------------------------------- */

static int cmp_bytes(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The test's keys (malloc'd, freed by keys_free), in insertion order. */
static char **keys_new(void)
{
	char **k = calloc(N_KEYS, sizeof(*k));

	assert_non_null(k);
	for (size_t i = 0; i < N_KEYS; i++) {
		char buf[64];

		if (i < N_LINGUISTIC)
			snprintf(buf, sizeof(buf), "%s", LINGUISTIC[i]);
		else
			snprintf(buf, sizeof(buf), "%s/%04zu", LINGUISTIC[i % N_LINGUISTIC],
				 i / N_LINGUISTIC);
		k[i] = strdup(buf);
		assert_non_null(k[i]);
	}
	return k;
}

static void keys_free(char **k)
{
	for (size_t i = 0; i < N_KEYS; i++)
		free(k[i]);
	free(k);
}

/* The keys in byte order (an array the caller frees; the strings stay keys'). */
static char **sorted_by_bytes(char **keys)
{
	char **sorted = malloc(N_KEYS * sizeof(*sorted));

	assert_non_null(sorted);
	memcpy(sorted, keys, N_KEYS * sizeof(*sorted));
	qsort(sorted, N_KEYS, sizeof(*sorted), cmp_bytes);
	return sorted;
}

/* Entry i of the test set: its key's bytes as the document, dates derived from i. */
static struct store_collateral entry(char **keys, size_t i)
{
	struct store_collateral c = {.key = keys[i],
				     .bytes = (uint8_t *)keys[i],
				     .len = strlen(keys[i]),
				     .issue_date = (int64_t)i,
				     .next_update = (int64_t)i + 1000000};
	return c;
}

static void put_all(struct store *st, char **keys)
{
	struct store_collateral *items = calloc(N_KEYS, sizeof(*items));
	struct attest_err err = {0};

	assert_non_null(items);
	for (size_t i = 0; i < N_KEYS; i++)
		items[i] = entry(keys, i);
	if (store_collateral_put_many(st, items, N_KEYS, NULL, &err) != ATTEST_OK)
		fail_msg("collateral put: %s", err.msg);
	free(items);
}

/*
 * Pages through the whole cache max entries at a time and checks it is
 * every key exactly once, in byte order, each with its own document and
 * dates. Returns the number of page statements run.
 */
static size_t page_all_in_byte_order(struct store *st, char **keys, size_t max)
{
	char **want = sorted_by_bytes(keys);
	char after[64] = "";
	size_t seen = 0, pages = 0, n;

	do {
		struct store_collateral *list = NULL;
		struct attest_err err = {0};

		n = 0;
		if (store_collateral_page(st, pages ? after : NULL, max, &list, &n, &err) != ATTEST_OK)
			fail_msg("page %zu: %s", pages, err.msg);
		pages++;
		assert_true(n <= max);
		for (size_t i = 0; i < n; i++, seen++) {
			assert_true(seen < N_KEYS);
			assert_string_equal(list[i].key, want[seen]);
			assert_int_equal(list[i].len, strlen(want[seen]));
			assert_memory_equal(list[i].bytes, want[seen], list[i].len);
			assert_int_equal(list[i].next_update - list[i].issue_date, 1000000);
			assert_true(list[i].issue_date >= 0 && list[i].issue_date < (int64_t)N_KEYS);
			assert_string_equal(keys[list[i].issue_date], want[seen]);
		}
		if (n > 0)
			snprintf(after, sizeof(after), "%s", list[n - 1].key);
		store_collateral_list_free(list, n);
	} while (n == max);
	assert_int_equal(seen, N_KEYS);
	free(want);
	return pages;
}

/* The unbounded list (an export in one piece) holds the same keys in the same order. */
static void expect_list_in_byte_order(struct store *st, char **keys)
{
	char **want = sorted_by_bytes(keys);
	struct store_collateral *list = NULL;
	struct attest_err err = {0};
	size_t n = 0;

	assert_int_equal(store_collateral_list(st, &list, &n, &err), ATTEST_OK);
	assert_int_equal(n, N_KEYS);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(list[i].key, want[i]);
	store_collateral_list_free(list, n);
	free(want);
}

/* ---- PostgreSQL helpers ---------------------------------------------------------- */

static const char *pg_uri(void)
{
	const char *u = getenv("ATTEST_TEST_STORE_URI");

	return u != NULL && strncmp(u, "postgres", 8) == 0 ? u : NULL;
}

/* The harness's connection parameters with dbname replaced (a conninfo string). */
static void conninfo_for(const char *uri, const char *dbname, char *out, size_t cap)
{
	char *errmsg = NULL;
	PQconninfoOption *opts = PQconninfoParse(uri, &errmsg);
	size_t used = 0;

	if (opts == NULL)
		fail_msg("cannot parse %s: %s", uri, errmsg ? errmsg : "?");
	out[0] = '\0';
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || o->val[0] == '\0' || (dbname && strcmp(o->keyword, "dbname") == 0))
			continue;
		/* The harness's values are host names, ports and words: no quote or backslash to escape. */
		assert_null(strpbrk(o->val, "'\\"));
		used += (size_t)snprintf(out + used, cap - used, "%s='%s' ", o->keyword, o->val);
		assert_true(used < cap);
	}
	if (dbname)
		used += (size_t)snprintf(out + used, cap - used, "dbname='%s'", dbname);
	assert_true(used < cap);
	PQconninfoFree(opts);
}

/* NOTICEs (a schema dropped with its tables, ...) are not the test's output. */
static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static PGconn *pg_connect(const char *conninfo)
{
	PGconn *c = PQconnectdb(conninfo);

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connect %s: %s", conninfo, PQerrorMessage(c));
	PQsetNoticeProcessor(c, quiet, NULL);
	return c;
}

/* Runs sql; true when it succeeded (its error in why, when given). */
static bool pg_try(const char *conninfo, const char *sql, char *why, size_t cap)
{
	PGconn *c = pg_connect(conninfo);
	PGresult *r = PQexec(c, sql);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok && why)
		snprintf(why, cap, "%s", PQresultErrorMessage(r));
	PQclear(r);
	PQfinish(c);
	return ok;
}

static void pg_run(const char *conninfo, const char *sql)
{
	char why[512];

	if (!pg_try(conninfo, sql, why, sizeof(why)))
		fail_msg("%s: %s", sql, why);
}

/* The first column of the first row of sql, as text. */
static void pg_value(const char *conninfo, const char *sql, char *out, size_t cap)
{
	PGconn *c = pg_connect(conninfo);
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1)
		fail_msg("%s: %s", sql, PQresultErrorMessage(r));
	snprintf(out, cap, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
}

static void expect_sql(const char *conninfo, const char *sql, const char *want)
{
	char got[256];

	pg_value(conninfo, sql, got, sizeof(got));
	if (strcmp(got, want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", sql, got, want);
}

#define KEY_COLLATION                                                                                        \
	"SELECT c.collname FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation"                \
	" WHERE a.attrelid = 'collateral'::regclass AND a.attname = 'key'"

static struct store *open_store(const struct pg_env *e)
{
	struct store *st = NULL;
	struct attest_err err = {0};

	if (store_open(e->uri, NULL, &st, &err) != ATTEST_OK)
		fail_msg("cannot open %s: %s", e->uri, err.msg);
	return st;
}

static int schema_version(struct store *st)
{
	struct attest_err err = {0};
	int v = -1;

	assert_int_equal(store_schema_version(st, &v, &err), ATTEST_OK);
	return v;
}

/* ---- the plans PostgreSQL logged ------------------------------------------------- */

/* Sessions opened from now on log the plan of every statement they run (auto_explain). */
static void plans_logged(const struct pg_env *e, bool on)
{
	pg_run(e->admin, on ? "ALTER DATABASE " KEYSET_DB " SET session_preload_libraries = 'auto_explain'"
			    : "ALTER DATABASE " KEYSET_DB " RESET ALL");
	if (on)
		pg_run(e->admin, "ALTER DATABASE " KEYSET_DB " SET auto_explain.log_min_duration = 0");
}

static long log_size(const struct pg_env *e)
{
	FILE *f = fopen(e->log, "rb");
	long n;

	if (f == NULL)
		fail_msg("cannot read %s", e->log);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	fclose(f);
	return n;
}

/* What the server logged after offset `from` (malloc'd, NUL-terminated). */
static char *log_since(const struct pg_env *e, long from)
{
	FILE *f = fopen(e->log, "rb");
	long to;
	char *text;

	if (f == NULL)
		fail_msg("cannot read %s", e->log);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	to = ftell(f);
	assert_true(to >= from);
	text = malloc((size_t)(to - from) + 1);
	assert_non_null(text);
	assert_int_equal(fseek(f, from, SEEK_SET), 0);
	assert_int_equal(fread(text, 1, (size_t)(to - from), f), (size_t)(to - from));
	text[to - from] = '\0';
	fclose(f);
	return text;
}

struct page_plans {
	size_t n;	/* page statements whose plan was logged */
	size_t by_pkey; /* ... reading only rows after the key, through collateral_pkey, never the table */
	size_t in_key_order;  /* ... of those, read in index order (no sort) */
	size_t first_sorted;  /* the first page statement (from 0) not read in index order; n if none */
	size_t scan_and_sort; /* ... scanning the whole table and sorting it */
	char first[4096];     /* the first and the last such plan, for the report */
	char last[4096];
};

/*
 * Reads auto_explain's records: "LOG:  duration: ... plan:" followed by
 * tab-indented lines, "Query Text: ..." first, then the plan. A page
 * statement is the one reading collateral by key with a LIMIT. Near the
 * end of the cache, with few rows left after the key, the planner may
 * fetch them through a bitmap of the same index and sort those few: that
 * reads no more than the rest of the cache, not all of it, so it counts as
 * by_pkey but not in_key_order.
 */
static struct page_plans page_plans_in(const char *log)
{
	struct page_plans p = {0};

	p.first_sorted = SIZE_MAX;
	for (const char *q = strstr(log, "\tQuery Text: "); q != NULL; q = strstr(q + 1, "\tQuery Text: ")) {
		const char *end = q, *eol = strchr(q, '\n');
		char block[4096];
		size_t len;
		bool pkey;

		if (eol == NULL)
			break;
		/* The record runs to the next line that does not start with a tab. */
		while ((end = strchr(end + 1, '\n')) != NULL && end[1] == '\t')
			;
		len = end ? (size_t)(end - q) : strlen(q);
		if (len >= sizeof(block))
			len = sizeof(block) - 1;
		memcpy(block, q, len);
		block[len] = '\0';
		block[eol - q] = '\0'; /* the query text alone, for the match below */
		if (strstr(block, "FROM collateral WHERE key") == NULL || strstr(block, "LIMIT") == NULL)
			continue;
		block[eol - q] = '\n';
		if (++p.n == 1)
			snprintf(p.first, sizeof(p.first), "%s", block);
		snprintf(p.last, sizeof(p.last), "%s", block);
		pkey =
		    strstr(block, "Scan using collateral_pkey") || strstr(block, "Scan on collateral_pkey");
		if (pkey && strstr(block, "Index Cond: (key > ") && !strstr(block, "Seq Scan")) {
			p.by_pkey++;
			if (!strstr(block, "Sort"))
				p.in_key_order++;
		}
		if (pkey && strstr(block, "Sort") && p.first_sorted == SIZE_MAX)
			p.first_sorted = p.n - 1;
		if (strstr(block, "Seq Scan on collateral") && strstr(block, "Sort Key"))
			p.scan_and_sort++;
	}
	if (p.first_sorted == SIZE_MAX)
		p.first_sorted = p.n;
	return p;
}

/* Pages through everything with st (opened while plans are logged) and returns the plans of its pages. */
static struct page_plans page_and_read_plans(const struct pg_env *e, struct store *st, char **keys,
					     size_t max)
{
	long from = log_size(e);
	size_t pages = page_all_in_byte_order(st, keys, max);
	char *log = log_since(e, from);
	struct page_plans p = page_plans_in(log);

	free(log);
	assert_int_equal(p.n, pages);
	return p;
}

/*
 * Every page of max entries read through the primary key, none scanning
 * the table; every page with more than a quarter of the cache after its
 * key (the first: all of it) read in index order.
 */
static void expect_all_by_pkey(const struct page_plans *p, size_t max)
{
	assert_true(p->n > 0);
	assert_int_equal(p->by_pkey, p->n);
	assert_int_equal(p->scan_and_sort, 0);
	assert_non_null(strstr(p->first, "Index Scan using collateral_pkey"));
	assert_null(strstr(p->first, "Sort"));
	if (p->first_sorted * max < N_KEYS * 3 / 4)
		fail_msg("page %zu of %zu (%zu keys left) sorted: %s", p->first_sorted, p->n,
			 N_KEYS - p->first_sorted * max, p->last);
}

/* ---- fixtures -------------------------------------------------------------------- */

/*
 * KEYSET_DB, created with a linguistic collation: ICU "en-US" (the server
 * must be built with ICU, as Debian's is), else glibc's en_US.UTF-8; when
 * neither exists the PostgreSQL tests skip and say so. Without PostgreSQL
 * *state stays NULL.
 */
static int group_setup(void **state)
{
	static const char *const creates[][2] = {
	    {"ICU en-US",
	     "CREATE DATABASE " KEYSET_DB " TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
	     " LOCALE 'C.UTF-8'"},
	    {"libc en_US.UTF-8", "CREATE DATABASE " KEYSET_DB " TEMPLATE template0 LOCALE 'en_US.UTF-8'"},
	};
	struct pg_env *e;
	const char *dir = getenv("PG_TEST_PRIMARY_DIR");
	char why[512] = "";

	*state = NULL;
	if (pg_uri() == NULL || dir == NULL)
		return 0;
	e = calloc(1, sizeof(*e));
	assert_non_null(e);
	conninfo_for(pg_uri(), NULL, e->admin, sizeof(e->admin));
	conninfo_for(pg_uri(), KEYSET_DB, e->db, sizeof(e->db));
	snprintf(e->uri, sizeof(e->uri), "pg:%s", e->db);
	snprintf(e->log, sizeof(e->log), "%s/server.log", dir);
	pg_run(e->admin, "DROP DATABASE IF EXISTS " KEYSET_DB " WITH (FORCE)");
	for (size_t i = 0; i < sizeof(creates) / sizeof(creates[0]) && e->collation[0] == '\0'; i++)
		if (pg_try(e->admin, creates[i][1], why, sizeof(why)))
			snprintf(e->collation, sizeof(e->collation), "%s", creates[i][0]);
	if (e->collation[0] == '\0') {
		fprintf(stderr, "SKIP: this PostgreSQL has neither ICU nor the en_US.UTF-8 locale (%s)\n",
			why);
		free(e);
		return 0;
	}
	*state = e;
	return 0;
}

static int group_teardown(void **state)
{
	struct pg_env *e = *state;

	if (e != NULL) {
		pg_run(e->admin, "DROP DATABASE IF EXISTS " KEYSET_DB " WITH (FORCE)");
		free(e);
	}
	return 0;
}

/* Each PostgreSQL test starts from an empty database, plans not logged. */
static int pg_setup(void **state)
{
	struct pg_env *e = *state;

	if (e != NULL) {
		plans_logged(e, false);
		pg_run(e->db, "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
	}
	return 0;
}

static struct pg_env *require_pg(void **state)
{
	if (*state == NULL) {
		fprintf(stderr,
			"SKIP: needs a PostgreSQL with a linguistic collation (tests/ha/with_pg.sh; the "
			"_postgres entry of this test)\n");
		skip();
	}
	return *state;
}

/* ---- PostgreSQL ------------------------------------------------------------------ */

/* The database really orders keys otherwise than bytes do, or nothing below would be shown. */
static void the_database_collation_is_not_byte_order(void **state)
{
	struct pg_env *e = require_pg(state);

	fprintf(stderr, "database %s: %s\n", KEYSET_DB, e->collation);
	expect_sql(e->db, "SELECT ('aB' < 'a_b')::text", "false");
	expect_sql(e->db, "SELECT ('aB' < 'a_b' COLLATE \"C\")::text", "true");
	expect_sql(e->db, "SELECT ('B' < 'a')::text", "false");
	expect_sql(e->db,
		   "SELECT datcollate <> 'C' OR datlocprovider = 'i' FROM pg_database"
		   " WHERE datname = '" KEYSET_DB "'",
		   "t");
}

/*
 * On a fresh store every page statement is read through the primary key
 * (neither a scan of the table nor a sort), and the pages hold every key
 * once, in byte order.
 */
static void pages_are_read_through_the_key_index_in_byte_order(void **state)
{
	struct pg_env *e = require_pg(state);
	char **keys = keys_new();
	struct store *st = open_store(e);
	struct page_plans p;

	expect_sql(e->db, KEY_COLLATION, "C");
	put_all(st, keys);
	store_close(st);
	pg_run(e->db, "ANALYZE collateral");
	plans_logged(e, true);
	st = open_store(e);
	p = page_and_read_plans(e, st, keys, PAGE_ROWS);
	fprintf(stderr,
		"%zu pages of %d: %zu through collateral_pkey, %zu of them in its order; the first and the "
		"last:\n%s\n%s\n",
		p.n, PAGE_ROWS, p.by_pkey, p.in_key_order, p.first, p.last);
	expect_all_by_pkey(&p, PAGE_ROWS);
	/* The route's largest page (512 and one to see if more remain), and small pages (431 statements). */
	p = page_and_read_plans(e, st, keys, 513);
	fprintf(stderr, "pages of 513: %zu, %zu through collateral_pkey, %zu in its order\n", p.n, p.by_pkey,
		p.in_key_order);
	expect_all_by_pkey(&p, 513);
	p = page_and_read_plans(e, st, keys, 7);
	expect_all_by_pkey(&p, 7);
	expect_list_in_byte_order(st, keys);
	store_close(st);
	keys_free(keys);
}

/*
 * Schema version 2 by hand: the key column back in the database's
 * collation, as migration 1 created it, and version 3 unrecorded.
 */
static void to_version_2(const struct pg_env *e)
{
	pg_run(e->db, "BEGIN; ALTER TABLE collateral ALTER COLUMN key TYPE TEXT COLLATE \"default\";"
		      " DELETE FROM schema_version WHERE version > 2; ANALYZE collateral; COMMIT");
	expect_sql(e->db, KEY_COLLATION, "default");
	expect_sql(e->db, "SELECT MAX(version)::text FROM schema_version", "2");
}

/*
 * A store at schema version 2 (key in the database's collation) pages by a
 * scan and sort of the whole table; opening it migrates the key to byte
 * order, keeps every row, and pages through the index from then on, with
 * no ANALYZE by hand. The migration may run again.
 */
static void a_version_2_store_migrates_keeps_its_rows_and_pages_by_the_index(void **state)
{
	struct pg_env *e = require_pg(state);
	char **keys = keys_new();
	struct store *st = open_store(e);
	struct page_plans p;

	put_all(st, keys);
	store_close(st);
	plans_logged(e, true);
	st = open_store(e);
	to_version_2(e); /* under the open store */
	p = page_and_read_plans(e, st, keys, PAGE_ROWS);
	fprintf(stderr, "schema 2: %zu pages, %zu scanned and sorted; the first:\n%s\n", p.n, p.scan_and_sort,
		p.first);
	assert_int_equal(p.scan_and_sort, p.n);
	assert_int_equal(p.by_pkey, 0);
	store_close(st);

	st = open_store(e);
	assert_int_equal(schema_version(st), store_schema_latest());
	assert_int_equal(store_schema_latest(), 3);
	expect_sql(e->db, KEY_COLLATION, "C");
	p = page_and_read_plans(e, st, keys, PAGE_ROWS);
	fprintf(stderr,
		"migrated: %zu pages, %zu through collateral_pkey, %zu in its order; the first:\n%s\n", p.n,
		p.by_pkey, p.in_key_order, p.first);
	expect_all_by_pkey(&p, PAGE_ROWS);
	store_close(st);

	/* Applied again over its own result (version 3 unrecorded), it changes nothing. */
	pg_run(e->db, "DELETE FROM schema_version WHERE version > 2");
	st = open_store(e);
	assert_int_equal(schema_version(st), store_schema_latest());
	expect_sql(e->db, KEY_COLLATION, "C");
	assert_int_equal(page_all_in_byte_order(st, keys, 1000), N_KEYS / 1000 + 1);
	store_close(st);
	keys_free(keys);
}

struct opener {
	const struct pg_env *e;
	struct store *st;
	struct attest_err err;
	int rc;
};

static void *open_thread(void *arg)
{
	struct opener *o = arg;

	o->rc = store_open(o->e->uri, NULL, &o->st, &o->err);
	return NULL;
}

/*
 * Nodes starting together on a version 2 database: one applies migration 3
 * (the others wait on the advisory lock, then find it done), every one
 * opens at version 3, and the rows are all there.
 */
static void nodes_starting_together_migrate_a_version_2_store_once(void **state)
{
	struct pg_env *e = require_pg(state);
	char **keys = keys_new();
	struct store *st = open_store(e);
	struct opener o[3] = {{.e = e}, {.e = e}, {.e = e}};
	pthread_t t[3];

	put_all(st, keys);
	store_close(st);
	to_version_2(e);
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&t[i], NULL, open_thread, &o[i]), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		if (o[i].rc != ATTEST_OK)
			fail_msg("node %d: %s: %s", i, o[i].err.name, o[i].err.msg);
	}
	expect_sql(e->db, "SELECT count(*)::text FROM schema_version WHERE version = 3", "1");
	expect_sql(e->db, KEY_COLLATION, "C");
	for (int i = 0; i < 3; i++)
		assert_int_equal(schema_version(o[i].st), store_schema_latest());
	assert_int_equal(page_all_in_byte_order(o[2].st, keys, 1000), N_KEYS / 1000 + 1);
	for (int i = 0; i < 3; i++)
		store_close(o[i].st);
	keys_free(keys);
}

/* ---- SQLite ---------------------------------------------------------------------- */

/*
 * SQLite's key is BINARY already: its migration 3 changes nothing, so a
 * version 2 file opens at version 3 with its rows, paged in byte order.
 */
static void a_version_2_sqlite_store_migrates_and_keeps_its_rows(void **state)
{
	char dir[] = "/tmp/attest-keyset-XXXXXX", path[300], uri[320], cmd[400];
	char **keys = keys_new();
	struct store *st = NULL;
	struct attest_err err = {0};
	sqlite3 *db = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state.db", dir);
	snprintf(uri, sizeof(uri), "sqlite:%s", path);
	assert_int_equal(store_open(uri, NULL, &st, &err), ATTEST_OK);
	put_all(st, keys);
	store_close(st);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DELETE FROM schema_version WHERE version > 2", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(store_open(uri, NULL, &st, &err), ATTEST_OK);
	assert_int_equal(schema_version(st), store_schema_latest());
	assert_int_equal(page_all_in_byte_order(st, keys, PAGE_ROWS), N_KEYS / PAGE_ROWS + 1);
	store_close(st);
	keys_free(keys);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_version_2_sqlite_store_migrates_and_keeps_its_rows),
	    cmocka_unit_test_setup(the_database_collation_is_not_byte_order, pg_setup),
	    cmocka_unit_test_setup(pages_are_read_through_the_key_index_in_byte_order, pg_setup),
	    cmocka_unit_test_setup(a_version_2_store_migrates_keeps_its_rows_and_pages_by_the_index,
				   pg_setup),
	    cmocka_unit_test_setup(nodes_starting_together_migrate_a_version_2_store_once, pg_setup),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
