/*
 * The store's contract (src/store/store.h), written once against the
 * interface: every test opens a fresh store through store_open(uri) and
 * uses only store_* calls, so the same suite runs on any backend. Today the
 * URI is a SQLite file in a fresh temporary folder; a PostgreSQL backend
 * adds its scheme in fresh_uri(). Tests that must reach under the interface
 * (to tamper with rows, or check file modes) say which backend they need
 * and skip on others.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/store.h"
#include "testutil.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fixture {
	char dir[256];
	char path[300];
	char uri[320];
	struct store *st;
};

static void rm_tree(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

/*
 * A new, empty store for one test: a SQLite file in a fresh folder, or,
 * when ATTEST_TEST_STORE_URI names another store (a PostgreSQL database),
 * that store emptied with store_test_reset.
 */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *uri = getenv("ATTEST_TEST_STORE_URI");
	struct attest_err err = {0};

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/attest-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/state.db", f->dir);
	if (uri != NULL && uri[0] != '\0')
		snprintf(f->uri, sizeof(f->uri), "%s", uri);
	else
		snprintf(f->uri, sizeof(f->uri), "sqlite:%s", f->path);
	if (store_open(f->uri, NULL, &f->st, &err) != ATTEST_OK)
		fail_msg("cannot open %s: %s", f->uri, err.msg);
	if (uri != NULL && uri[0] != '\0' && store_test_reset(f->st, &err) != ATTEST_OK)
		fail_msg("cannot reset %s: %s", f->uri, err.msg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->st);
	rm_tree(f->dir);
	free(f);
	return 0;
}

static bool is_sqlite(const struct fixture *f)
{
	return strncmp(f->uri, "sqlite:", 7) == 0;
}

/* Runs SQL directly on the SQLite file (tampering, as an attacker with file access would). */
static void sqlite_exec(const struct fixture *f, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("sql failed: %s: %s", sql, msg);
	sqlite3_close(db);
}

static struct store_audit audit_at(const char *action, const char *provider, int64_t t)
{
	struct store_audit a = {.actor = "tester", .action = action, .provider = provider, .detail = "{\"k\":1}",
				.time = t};
	return a;
}

static void create_provider(struct store *st, const char *name, enum store_provider_mode mode)
{
	struct store_provider p = {.mode = mode, .settings_json = "{\"rate\":5}"};
	struct store_audit a = audit_at("provider.create", name, 1000);
	struct attest_err err = {0};

	snprintf(p.name, sizeof(p.name), "%s", name);
	assert_int_equal(store_provider_create(st, &p, &a, &err), ATTEST_OK);
}

static int64_t audit_count(struct store *st)
{
	struct store_audit_row *rows = NULL;
	struct attest_err err = {0};
	size_t n = 0;

	assert_int_equal(store_audit_list(st, 0, 0, &rows, &n, &err), ATTEST_OK);
	store_audit_list_free(rows, n);
	return (int64_t)n;
}

/* ---- schema ------------------------------------------------------------- */

static void fresh_store_is_at_the_latest_schema_version(void **state)
{
	struct fixture *f = *state;
	struct attest_err err = {0};
	int v = -1;

	assert_int_equal(store_schema_version(f->st, &v, &err), ATTEST_OK);
	assert_int_equal(v, store_schema_latest());
	assert_true(v >= 2);
}

static void test_reset_empties_every_table(void **state)
{
	struct fixture *f = *state;
	struct store_provider *list = NULL;
	struct attest_err err = {0};
	int64_t rows = -1;
	size_t n = 9;

	create_provider(f->st, "x", STORE_MODE_AAD);
	assert_int_equal(store_test_reset(f->st, &err), ATTEST_OK);
	assert_int_equal(store_provider_list(f->st, &list, &n, &err), ATTEST_OK);
	assert_int_equal(n, 0);
	store_provider_list_free(list, n);
	assert_int_equal(store_audit_verify(f->st, &rows, &err), ATTEST_OK);
	assert_int_equal(rows, 0);
	create_provider(f->st, "x", STORE_MODE_AAD);
	assert_int_equal(store_audit_verify(f->st, &rows, &err), ATTEST_OK);
	assert_int_equal(rows, 1);
}

static void migrations_are_idempotent_on_reopen(void **state)
{
	struct fixture *f = *state;
	struct store_provider got = {0};
	struct attest_err err = {0};
	int v = -1;

	create_provider(f->st, "p1", STORE_MODE_AAD);
	store_close(f->st);
	for (int i = 0; i < 3; i++) {
		f->st = NULL;
		assert_int_equal(store_open(f->uri, NULL, &f->st, &err), ATTEST_OK);
		assert_int_equal(store_schema_version(f->st, &v, &err), ATTEST_OK);
		assert_int_equal(v, store_schema_latest());
		if (i < 2)
			store_close(f->st);
	}
	assert_int_equal(store_provider_get(f->st, "p1", &got, &err), ATTEST_OK);
	assert_string_equal(got.settings_json, "{\"rate\":5}");
	store_provider_clear(&got);
	assert_int_equal(audit_count(f->st), 1);
}

static void schema_written_by_a_newer_version_is_refused(void **state)
{
	struct fixture *f = *state;
	struct store *other = NULL;
	struct attest_err err = {0};
	char sql[128];

	if (!is_sqlite(f))
		skip();
	snprintf(sql, sizeof(sql), "INSERT INTO schema_version (version, applied) VALUES (%d, 0)",
		 store_schema_latest() + 1);
	sqlite_exec(f, sql);
	assert_int_equal(store_open(f->uri, NULL, &other, &err), ATTEST_E_UNSUPPORTED);
	assert_string_equal(err.name, "store.schema.newer");
	assert_null(other);
}

static void unknown_store_scheme_is_refused(void **state)
{
	struct store *st = NULL;
	struct attest_err err = {0};

	assert_int_not_equal(store_open("mongodb://x/y", NULL, &st, &err), ATTEST_OK);
	assert_string_equal(err.name, "store.uri");
	assert_null(st);
}

static void data_folder_and_database_files_are_private(void **state)
{
	struct fixture *f = *state;
	struct attest_err err = {0};
	struct stat sb;
	char sub[400], wal[400];

	if (!is_sqlite(f))
		skip();
	snprintf(sub, sizeof(sub), "%s/a/b", f->dir);
	assert_int_equal(store_make_private_dir(sub, &err), ATTEST_OK);
	assert_int_equal(stat(sub, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	/* A folder that exists with loose permissions is tightened. */
	assert_int_equal(chmod(sub, 0755), 0);
	assert_int_equal(store_make_private_dir(sub, &err), ATTEST_OK);
	assert_int_equal(stat(sub, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);

	create_provider(f->st, "p1", STORE_MODE_AAD); /* makes the WAL exist */
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_int_equal(stat(wal, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(wal, sizeof(wal), "%s-shm", f->path);
	assert_int_equal(stat(wal, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
}

static void database_runs_in_wal_mode(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	if (!is_sqlite(f))
		skip();
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* ---- providers ---------------------------------------------------------- */

static void provider_lifecycle_create_list_update_delete(void **state)
{
	struct fixture *f = *state;
	struct store_provider got = {0}, *list = NULL;
	struct store_audit a = audit_at("provider.update", "beta", 2000);
	struct attest_err err = {0};
	size_t n = 0;

	create_provider(f->st, "beta", STORE_MODE_AAD);
	create_provider(f->st, "alpha", STORE_MODE_SHARED);
	assert_int_equal(store_provider_list(f->st, &list, &n, &err), ATTEST_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "alpha");
	assert_int_equal(list[0].mode, STORE_MODE_SHARED);
	assert_string_equal(list[1].name, "beta");
	assert_int_equal(list[1].created, 1000);
	store_provider_list_free(list, n);

	struct store_provider upd = {.name = "beta", .mode = STORE_MODE_ISOLATED, .settings_json = "{\"x\":true}"};
	assert_int_equal(store_provider_update(f->st, &upd, &a, &err), ATTEST_OK);
	assert_int_equal(store_provider_get(f->st, "beta", &got, &err), ATTEST_OK);
	assert_int_equal(got.mode, STORE_MODE_ISOLATED);
	assert_string_equal(got.settings_json, "{\"x\":true}");
	assert_int_equal(got.created, 1000);
	assert_int_equal(got.updated, 2000);
	store_provider_clear(&got);

	a.action = "provider.delete";
	assert_int_equal(store_provider_delete(f->st, "beta", &a, &err), ATTEST_OK);
	assert_int_equal(store_provider_get(f->st, "beta", &got, &err), ATTEST_E_NOT_FOUND);
	assert_string_equal(err.name, "store.provider.not_found");
	assert_int_equal(audit_count(f->st), 4);
}

static void creating_an_existing_provider_conflicts_and_writes_no_audit_row(void **state)
{
	struct fixture *f = *state;
	struct store_provider p = {.name = "dup", .mode = STORE_MODE_AAD};
	struct store_audit a = audit_at("provider.create", "dup", 1);
	struct attest_err err = {0};

	create_provider(f->st, "dup", STORE_MODE_AAD);
	assert_int_equal(store_provider_create(f->st, &p, &a, &err), ATTEST_E_CONFLICT);
	assert_string_equal(err.name, "store.provider.exists");
	assert_int_equal(audit_count(f->st), 1);
}

static void updating_or_deleting_a_missing_provider_is_not_found(void **state)
{
	struct fixture *f = *state;
	struct store_provider p = {.name = "ghost", .mode = STORE_MODE_AAD};
	struct store_audit a = audit_at("provider.update", "ghost", 1);
	struct attest_err err = {0};

	assert_int_equal(store_provider_update(f->st, &p, &a, &err), ATTEST_E_NOT_FOUND);
	attest_err_clear(&err);
	assert_int_equal(store_provider_delete(f->st, "ghost", &a, &err), ATTEST_E_NOT_FOUND);
	assert_int_equal(audit_count(f->st), 0);
}

static void provider_name_must_be_bounded(void **state)
{
	struct fixture *f = *state;
	struct store_provider p = {.mode = STORE_MODE_AAD};
	struct attest_err err = {0};

	assert_int_equal(store_provider_create(f->st, &p, NULL, &err), ATTEST_E_INVALID);
	assert_string_equal(err.name, "store.name");
}

/* ---- policies ------------------------------------------------------------ */

static void policy_versions_increase_and_history_is_kept(void **state)
{
	struct fixture *f = *state;
	struct store_policy p = {.provider = "p", .type = "SgxEnclave"}, got = {0}, *hist = NULL;
	struct store_audit a = audit_at("policy.set", "p", 3000);
	struct attest_err err = {0};
	size_t n = 0;

	create_provider(f->st, "p", STORE_MODE_AAD);
	p.text = "version=1.0; authorizationrules{=>permit();};";
	p.jws = "eyJhbGciOiJub25lIn0.e30.";
	memset(p.hash, 0xab, 32);
	p.hash_len = 32;
	assert_int_equal(store_policy_put(f->st, &p, &a, &err), ATTEST_OK);
	assert_int_equal(p.version, 1);
	assert_int_equal(p.created, 3000);
	p.text = "version=1.0; authorizationrules{=>deny();};";
	p.signer = "{\"kty\":\"RSA\"}";
	assert_int_equal(store_policy_put(f->st, &p, &a, &err), ATTEST_OK);
	assert_int_equal(p.version, 2);
	/* A reset is a version whose text is NULL. */
	p.text = NULL;
	p.jws = NULL;
	p.signer = NULL;
	p.hash_len = 0;
	assert_int_equal(store_policy_put(f->st, &p, &a, &err), ATTEST_OK);
	assert_int_equal(p.version, 3);

	assert_int_equal(store_policy_get(f->st, "p", "SgxEnclave", &got, &err), ATTEST_OK);
	assert_int_equal(got.version, 3);
	assert_null(got.text);
	store_policy_clear(&got);

	assert_int_equal(store_policy_history(f->st, "p", "SgxEnclave", &hist, &n, &err), ATTEST_OK);
	assert_int_equal(n, 3);
	assert_string_equal(hist[0].text, "version=1.0; authorizationrules{=>permit();};");
	assert_int_equal(hist[0].hash_len, 32);
	assert_int_equal(hist[0].hash[31], 0xab);
	assert_null(hist[0].signer);
	assert_string_equal(hist[1].signer, "{\"kty\":\"RSA\"}");
	assert_null(hist[2].text);
	store_policy_list_free(hist, n);

	/* Types are separate histories. */
	assert_int_equal(store_policy_get(f->st, "p", "Tpm", &got, &err), ATTEST_E_NOT_FOUND);
	assert_string_equal(err.name, "store.policy.not_found");
}

static void policy_of_an_unknown_provider_is_refused(void **state)
{
	struct fixture *f = *state;
	struct store_policy p = {.provider = "nobody", .type = "SgxEnclave", .text = "x"};
	struct attest_err err = {0};

	assert_int_equal(store_policy_put(f->st, &p, NULL, &err), ATTEST_E_NOT_FOUND);
	assert_string_equal(err.name, "store.provider.not_found");
}

static void deleting_a_provider_removes_its_policies_certs_and_keys(void **state)
{
	struct fixture *f = *state;
	struct store_policy p = {.provider = "gone", .type = "Tpm", .text = "t"}, got = {0};
	uint8_t der[] = {0x30, 0x03, 0x02, 0x01, 0x01}, blob[] = {1, 2, 3};
	struct store_cert c = {.provider = "gone", .thumbprint = "0123456789abcdef0123456789abcdef01234567",
			       .der = der, .der_len = sizeof(der)};
	struct store_key k = {.kid = "k-gone", .provider = "gone", .blob = blob, .blob_len = 3};
	struct store_cert *certs = NULL;
	struct store_key *keys = NULL;
	struct attest_err err = {0};
	size_t n = 99;

	create_provider(f->st, "gone", STORE_MODE_ISOLATED);
	assert_int_equal(store_policy_put(f->st, &p, NULL, &err), ATTEST_OK);
	assert_int_equal(store_cert_add(f->st, &c, NULL, NULL, &err), ATTEST_OK);
	assert_int_equal(store_key_put(f->st, &k, NULL, &err), ATTEST_OK);
	assert_int_equal(store_provider_delete(f->st, "gone", NULL, &err), ATTEST_OK);
	/* Re-creating the name starts from nothing. */
	create_provider(f->st, "gone", STORE_MODE_AAD);
	assert_int_equal(store_policy_get(f->st, "gone", "Tpm", &got, &err), ATTEST_E_NOT_FOUND);
	assert_int_equal(store_cert_list(f->st, "gone", &certs, &n, &err), ATTEST_OK);
	assert_int_equal(n, 0);
	store_cert_list_free(certs, n);
	assert_int_equal(store_key_list(f->st, "gone", &keys, &n, &err), ATTEST_OK);
	assert_int_equal(n, 0);
	store_key_list_free(keys, n);
}

static void provider_created_with_certificates_is_one_transaction(void **state)
{
	struct fixture *f = *state;
	uint8_t der[] = {0x30, 0x01, 0x00};
	struct store_cert certs[2] = {
		{.thumbprint = "1111111111111111111111111111111111111111", .der = der, .der_len = sizeof(der)},
		{.thumbprint = "2222222222222222222222222222222222222222", .der = der, .der_len = sizeof(der)},
	};
	struct store_provider p = {.name = "iso", .mode = STORE_MODE_ISOLATED, .initial_certs = certs,
				   .n_initial_certs = 2},
			      got = {0};
	struct store_audit a = audit_at("provider.create", "iso", 7);
	struct store_cert *list = NULL;
	struct attest_err err = {0};
	size_t n = 0;

	store_fault_next_commit(f->st);
	assert_int_equal(store_provider_create(f->st, &p, &a, &err), ATTEST_E_IO);
	assert_int_equal(store_provider_get(f->st, "iso", &got, &err), ATTEST_E_NOT_FOUND);
	assert_int_equal(store_cert_list(f->st, "iso", &list, &n, &err), ATTEST_OK);
	assert_int_equal(n, 0);
	store_cert_list_free(list, n);

	assert_int_equal(store_provider_create(f->st, &p, &a, &err), ATTEST_OK);
	assert_int_equal(store_cert_list(f->st, "iso", &list, &n, &err), ATTEST_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[1].provider, "iso");
	store_cert_list_free(list, n);
	assert_int_equal(audit_count(f->st), 1);
}

/* ---- certificates, keys, collateral, meta --------------------------------- */

static void certificate_add_and_remove_are_idempotent(void **state)
{
	struct fixture *f = *state;
	uint8_t der[] = {0x30, 0x82, 0x01, 0x00, 0xaa};
	struct store_cert c = {.provider = "iso", .thumbprint = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", .der = der,
			       .der_len = sizeof(der)};
	struct store_cert *list = NULL;
	struct attest_err err = {0};
	bool changed = false;
	size_t n = 0;

	create_provider(f->st, "iso", STORE_MODE_ISOLATED);
	assert_int_equal(store_cert_add(f->st, &c, &changed, NULL, &err), ATTEST_OK);
	assert_true(changed);
	assert_int_equal(store_cert_add(f->st, &c, &changed, NULL, &err), ATTEST_OK);
	assert_false(changed);
	assert_int_equal(store_cert_list(f->st, "iso", &list, &n, &err), ATTEST_OK);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].der_len, sizeof(der));
	assert_memory_equal(list[0].der, der, sizeof(der));
	store_cert_list_free(list, n);
	assert_int_equal(store_cert_remove(f->st, "iso", c.thumbprint, &changed, NULL, &err), ATTEST_OK);
	assert_true(changed);
	assert_int_equal(store_cert_remove(f->st, "iso", c.thumbprint, &changed, NULL, &err), ATTEST_OK);
	assert_false(changed);
	/* A certificate without a proper thumbprint is refused before the backend. */
	snprintf(c.thumbprint, sizeof(c.thumbprint), "short");
	assert_int_equal(store_cert_add(f->st, &c, &changed, NULL, &err), ATTEST_E_INVALID);
}

static void signing_keys_are_listed_per_provider_with_their_state(void **state)
{
	struct fixture *f = *state;
	uint8_t b1[] = {9, 9, 9}, b2[] = {7};
	struct store_key k1 = {.kid = "kid-1", .provider = "", .blob = b1, .blob_len = 3, .created = 10};
	struct store_key k2 = {.kid = "kid-2", .provider = "", .blob = b2, .blob_len = 1, .created = 20};
	struct store_key *list = NULL;
	struct attest_err err = {0};
	size_t n = 0;

	assert_int_equal(store_key_put(f->st, &k1, NULL, &err), ATTEST_OK);
	assert_int_equal(store_key_put(f->st, &k2, NULL, &err), ATTEST_OK);
	assert_int_equal(store_key_put(f->st, &k2, NULL, &err), ATTEST_E_CONFLICT);
	assert_string_equal(err.name, "store.key.exists");
	assert_int_equal(store_key_set_state(f->st, "kid-1", STORE_KEY_RETIRING, 5000, NULL, &err), ATTEST_OK);
	assert_int_equal(store_key_list(f->st, "", &list, &n, &err), ATTEST_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].kid, "kid-1");
	assert_int_equal(list[0].state, STORE_KEY_RETIRING);
	assert_int_equal(list[0].not_after, 5000);
	assert_memory_equal(list[0].blob, b1, 3);
	assert_string_equal(list[1].kid, "kid-2");
	assert_int_equal(list[1].state, STORE_KEY_ACTIVE);
	store_key_list_free(list, n);
	attest_err_clear(&err);
	assert_int_equal(store_key_set_state(f->st, "nope", STORE_KEY_RETIRED, 0, NULL, &err), ATTEST_E_NOT_FOUND);
	assert_string_equal(err.name, "store.key.not_found");
}

static void collateral_is_replaced_by_key_and_purged_after_next_update(void **state)
{
	struct fixture *f = *state;
	uint8_t v1[] = "one", v2[] = "two!";
	struct store_collateral c = {.key = "sgx/tcb/00906ED50000", .bytes = v1, .len = 3, .issue_date = 100,
				     .next_update = 200};
	struct store_collateral got = {0};
	struct attest_err err = {0};
	size_t purged = 0;

	assert_int_equal(store_collateral_put(f->st, &c, &err), ATTEST_OK);
	c.bytes = v2;
	c.len = 4;
	c.next_update = 300;
	assert_int_equal(store_collateral_put(f->st, &c, &err), ATTEST_OK);
	assert_int_equal(store_collateral_get(f->st, c.key, &got, &err), ATTEST_OK);
	assert_int_equal(got.len, 4);
	assert_memory_equal(got.bytes, "two!", 4);
	assert_int_equal(got.next_update, 300);
	store_collateral_clear(&got);
	assert_int_equal(store_collateral_purge(f->st, 300, &purged, &err), ATTEST_OK);
	assert_int_equal(purged, 0);
	assert_int_equal(store_collateral_purge(f->st, 301, &purged, &err), ATTEST_OK);
	assert_int_equal(purged, 1);
	assert_int_equal(store_collateral_get(f->st, c.key, &got, &err), ATTEST_E_NOT_FOUND);
}

static void collateral_list_returns_every_entry_by_key(void **state)
{
	struct fixture *f = *state;
	uint8_t a[] = "crl", b[] = "tcb-info";
	struct store_collateral c1 = {.key = "sgx/tcb/00906ED50000", .bytes = b, .len = 8, .issue_date = 1,
				      .next_update = 2};
	struct store_collateral c2 = {.key = "sgx/pckcrl/platform", .bytes = a, .len = 3, .issue_date = 3,
				      .next_update = 4};
	struct store_collateral *list = NULL;
	struct attest_err err = {0};
	size_t n = 99;

	assert_int_equal(store_collateral_list(f->st, &list, &n, &err), ATTEST_OK);
	assert_int_equal(n, 0);
	store_collateral_list_free(list, n);
	assert_int_equal(store_collateral_put(f->st, &c1, &err), ATTEST_OK);
	assert_int_equal(store_collateral_put(f->st, &c2, &err), ATTEST_OK);
	assert_int_equal(store_collateral_list(f->st, &list, &n, &err), ATTEST_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].key, "sgx/pckcrl/platform");
	assert_int_equal(list[0].len, 3);
	assert_memory_equal(list[0].bytes, "crl", 3);
	assert_int_equal(list[0].issue_date, 3);
	assert_int_equal(list[0].next_update, 4);
	assert_string_equal(list[1].key, "sgx/tcb/00906ED50000");
	assert_memory_equal(list[1].bytes, "tcb-info", 8);
	store_collateral_list_free(list, n);
	/* Byte order (what pages by strcmp need), not a locale's: '_' (0x5F) before 'a'. */
	c1.key = "x/tcba";
	c2.key = "x/tcb_z";
	assert_int_equal(store_collateral_put(f->st, &c1, &err), ATTEST_OK);
	assert_int_equal(store_collateral_put(f->st, &c2, &err), ATTEST_OK);
	assert_int_equal(store_collateral_list(f->st, &list, &n, &err), ATTEST_OK);
	assert_int_equal(n, 4);
	assert_string_equal(list[2].key, "x/tcb_z");
	assert_string_equal(list[3].key, "x/tcba");
	store_collateral_list_free(list, n);
}

/* The page after `after` of at most max entries holds exactly these keys (space-separated, in order). */
static void expect_page(struct store *st, const char *after, size_t max, const char *want)
{
	struct store_collateral *list = NULL;
	struct attest_err err = {0};
	char got[128] = "";
	size_t n = 99, used = 0;

	assert_int_equal(store_collateral_page(st, after, max, &list, &n, &err), ATTEST_OK);
	for (size_t i = 0; i < n && used < sizeof(got); i++) {
		assert_memory_equal(list[i].bytes, "v", 1);
		used += (size_t)snprintf(got + used, sizeof(got) - used, "%s%s", i ? " " : "", list[i].key);
	}
	store_collateral_list_free(list, n);
	assert_string_equal(got, want);
}

/* Pages by a keyset (key > after, byte order, at most max): each key once, none skipped, in order. */
static void collateral_pages_start_after_a_key_and_stop_at_the_limit(void **state)
{
	static const char *const keys[] = {"ab", "a_b", "a/b", "aB", "b"}; /* byte order: a/b aB a_b ab b */
	struct fixture *f = *state;
	uint8_t v[] = "v";
	struct store_collateral c = {.bytes = v, .len = 1, .issue_date = 1, .next_update = 2};
	struct attest_err err = {0};

	expect_page(f->st, NULL, 2, "");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		c.key = (char *)keys[i];
		assert_int_equal(store_collateral_put(f->st, &c, &err), ATTEST_OK);
	}
	expect_page(f->st, NULL, 2, "a/b aB");
	expect_page(f->st, "aB", 2, "a_b ab");
	expect_page(f->st, "ab", 2, "b");
	expect_page(f->st, "b", 2, "");
	/* `after` need not be a stored key; 0 is no limit. */
	expect_page(f->st, "a0", 0, "aB a_b ab b");
	expect_page(f->st, "", 0, "a/b aB a_b ab b");
}

static void collateral_put_many_stores_all_with_one_audit_row_or_nothing(void **state)
{
	struct fixture *f = *state;
	uint8_t a[] = "crl", b[] = "tcb";
	struct store_collateral items[2] = {{.key = "k/one", .bytes = a, .len = 3, .issue_date = 1, .next_update = 9},
					    {.key = "k/two", .bytes = b, .len = 3, .issue_date = 2, .next_update = 9}};
	struct store_audit au = audit_at("collateral.import", "", 40);
	struct store_collateral *list = NULL;
	struct attest_err err = {0};
	size_t n = 0;

	store_fault_next_commit(f->st);
	assert_int_equal(store_collateral_put_many(f->st, items, 2, &au, &err), ATTEST_E_IO);
	attest_err_clear(&err);
	assert_int_equal(store_collateral_list(f->st, &list, &n, &err), ATTEST_OK);
	assert_int_equal(n, 0);
	store_collateral_list_free(list, n);
	assert_int_equal(audit_count(f->st), 0);
	/* An item without a key refuses the whole batch before anything is written. */
	items[1].key = "";
	assert_int_equal(store_collateral_put_many(f->st, items, 2, &au, &err), ATTEST_E_INVALID);
	assert_string_equal(err.name, "store.collateral.invalid");
	attest_err_clear(&err);
	items[1].key = "k/two";
	assert_int_equal(store_collateral_put_many(f->st, items, 2, &au, &err), ATTEST_OK);
	assert_int_equal(store_collateral_list(f->st, &list, &n, &err), ATTEST_OK);
	assert_int_equal(n, 2);
	store_collateral_list_free(list, n);
	assert_int_equal(audit_count(f->st), 1);
}

static void meta_only_if_absent_has_one_winner(void **state)
{
	struct fixture *f = *state;
	struct attest_err err = {0};
	char *v = NULL;

	assert_int_equal(store_meta_put(f->st, "admin", "first", true, NULL, &err), ATTEST_OK);
	assert_int_equal(store_meta_put(f->st, "admin", "second", true, NULL, &err), ATTEST_E_CONFLICT);
	assert_string_equal(err.name, "store.meta.exists");
	assert_int_equal(store_meta_get(f->st, "admin", &v, &err), ATTEST_OK);
	assert_string_equal(v, "first");
	free(v);
	assert_int_equal(store_meta_put(f->st, "admin", "third", false, NULL, &err), ATTEST_OK);
	assert_int_equal(store_meta_get(f->st, "admin", &v, &err), ATTEST_OK);
	assert_string_equal(v, "third");
	free(v);
	attest_err_clear(&err);
	assert_int_equal(store_meta_get(f->st, "missing", &v, &err), ATTEST_E_NOT_FOUND);
}

/* ---- transactions ---------------------------------------------------------- */

static void failed_write_rolls_back_the_change_and_its_audit_row(void **state)
{
	struct fixture *f = *state;
	struct store_provider p = {.name = "half", .mode = STORE_MODE_AAD}, got = {0};
	struct store_policy pol = {.provider = "p", .type = "SgxEnclave", .text = "a"}, *hist = NULL;
	struct store_audit a = audit_at("provider.create", "half", 5);
	struct attest_err err = {0};
	int64_t rows = 0;
	size_t n = 0;

	create_provider(f->st, "p", STORE_MODE_AAD);
	store_fault_next_commit(f->st);
	assert_int_equal(store_provider_create(f->st, &p, &a, &err), ATTEST_E_IO);
	assert_string_equal(err.name, "store.fault");
	attest_err_clear(&err);
	assert_int_equal(store_provider_get(f->st, "half", &got, &err), ATTEST_E_NOT_FOUND);
	assert_int_equal(audit_count(f->st), 1);

	/* A failed policy write consumes no version. */
	store_fault_next_commit(f->st);
	assert_int_not_equal(store_policy_put(f->st, &pol, &a, &err), ATTEST_OK);
	assert_int_equal(store_policy_put(f->st, &pol, &a, &err), ATTEST_OK);
	assert_int_equal(pol.version, 1);
	assert_int_equal(store_policy_history(f->st, "p", "SgxEnclave", &hist, &n, &err), ATTEST_OK);
	assert_int_equal(n, 1);
	store_policy_list_free(hist, n);

	/* The chain is intact after the rollback. */
	assert_int_equal(store_audit_verify(f->st, &rows, &err), ATTEST_OK);
	assert_int_equal(rows, 2);
	/* The handle still works: the write lock was released. */
	assert_int_equal(store_provider_create(f->st, &p, &a, &err), ATTEST_OK);
}

static void invalid_audit_entry_rolls_back_the_change(void **state)
{
	struct fixture *f = *state;
	struct store_provider p = {.name = "noaudit", .mode = STORE_MODE_AAD}, got = {0};
	struct store_audit a = {.actor = "x", .action = ""};
	struct attest_err err = {0};

	assert_int_equal(store_provider_create(f->st, &p, &a, &err), ATTEST_E_INVALID);
	assert_string_equal(err.name, "store.audit.invalid");
	assert_int_equal(store_provider_get(f->st, "noaudit", &got, &err), ATTEST_E_NOT_FOUND);
}

/* ---- audit log --------------------------------------------------------------- */

static void fill_audit(struct store *st, int rows)
{
	struct attest_err err = {0};

	for (int i = 0; i < rows; i++) {
		char detail[64];
		struct store_audit a = {.actor = "admin", .action = "test.op", .provider = "p", .detail = detail,
					.time = 100 + i};
		snprintf(detail, sizeof(detail), "{\"i\":%d}", i);
		assert_int_equal(store_audit_append(st, &a, &err), ATTEST_OK);
	}
}

static void audit_log_chains_and_verifies(void **state)
{
	struct fixture *f = *state;
	struct store_audit_row *rows = NULL;
	struct attest_err err = {0};
	uint8_t zero[32] = {0}, h[32];
	int64_t checked = 0;
	size_t n = 0;

	assert_int_equal(store_audit_verify(f->st, &checked, &err), ATTEST_OK);
	assert_int_equal(checked, 0);
	fill_audit(f->st, 5);
	assert_int_equal(store_audit_verify(f->st, &checked, &err), ATTEST_OK);
	assert_int_equal(checked, 5);
	assert_int_equal(store_audit_list(f->st, 2, 2, &rows, &n, &err), ATTEST_OK);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].seq, 3);
	assert_string_equal(rows[0].detail, "{\"i\":2}");
	assert_int_equal(rows[0].time, 102);
	/* Each row's hash is the documented function of the previous hash and its fields. */
	assert_int_equal(store_audit_hash(rows[0].prev_hash, rows[0].seq, rows[0].time, rows[0].actor,
					  rows[0].action, rows[0].provider, rows[0].detail, h),
			 ATTEST_OK);
	assert_memory_equal(h, rows[0].hash, 32);
	assert_memory_equal(rows[1].prev_hash, rows[0].hash, 32);
	assert_memory_not_equal(rows[0].hash, zero, 32);
	store_audit_list_free(rows, n);
}

static void audit_hash_separates_fields(void **state)
{
	uint8_t prev[32] = {0}, a[32], b[32], c[32];

	assert_int_equal(store_audit_hash(prev, 1, 1, "ab", "c", "", NULL, a), ATTEST_OK);
	assert_int_equal(store_audit_hash(prev, 1, 1, "a", "bc", "", NULL, b), ATTEST_OK);
	assert_int_equal(store_audit_hash(prev, 1, 1, "ab", "c", "", "", c), ATTEST_OK);
	assert_memory_not_equal(a, b, 32);
	assert_memory_not_equal(a, c, 32);
}

static void expect_tampered(struct fixture *f, const char *sql, const char *name)
{
	struct attest_err err = {0};
	int64_t rows = -1;

	fill_audit(f->st, 5);
	sqlite_exec(f, sql);
	assert_int_equal(store_audit_verify(f->st, &rows, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, name);
	assert_int_equal(rows, -1);
}

static void audit_verify_detects_an_edited_row(void **state)
{
	if (!is_sqlite(*state))
		skip();
	expect_tampered(*state, "UPDATE audit_log SET detail = '{\"i\":99}' WHERE seq = 3", "store.audit.tampered");
}

static void audit_verify_detects_an_edited_actor_even_with_rehash_of_that_row_only(void **state)
{
	struct fixture *f = *state;
	struct store_audit_row *rows = NULL;
	struct attest_err err = {0};
	uint8_t h[32];
	char sql[256], hex[65];
	size_t n = 0;

	if (!is_sqlite(f))
		skip();
	fill_audit(f->st, 4);
	/* The attacker recomputes row 2's own hash after editing it: row 3 no longer chains. */
	assert_int_equal(store_audit_list(f->st, 1, 1, &rows, &n, &err), ATTEST_OK);
	assert_int_equal(store_audit_hash(rows[0].prev_hash, 2, rows[0].time, "mallory", rows[0].action,
					  rows[0].provider, rows[0].detail, h),
			 ATTEST_OK);
	store_audit_list_free(rows, n);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	snprintf(sql, sizeof(sql), "UPDATE audit_log SET actor = 'mallory', hash = x'%s' WHERE seq = 2", hex);
	sqlite_exec(f, sql);
	assert_int_equal(store_audit_verify(f->st, NULL, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "store.audit.tampered");
	assert_non_null(strstr(err.msg, "row 3"));
}

static void audit_verify_detects_a_deleted_middle_row(void **state)
{
	if (!is_sqlite(*state))
		skip();
	expect_tampered(*state, "DELETE FROM audit_log WHERE seq = 2", "store.audit.tampered");
}

static void audit_verify_detects_deleted_last_rows(void **state)
{
	if (!is_sqlite(*state))
		skip();
	expect_tampered(*state, "DELETE FROM audit_log WHERE seq >= 4", "store.audit.truncated");
}

static void audit_verify_detects_an_inserted_row(void **state)
{
	if (!is_sqlite(*state))
		skip();
	expect_tampered(*state,
			"INSERT INTO audit_log (seq, time, actor, action, provider, detail, prev_hash, hash)"
			" VALUES (6, 1, 'x', 'y', '', NULL, zeroblob(32), zeroblob(32))",
			"store.audit.tampered");
}

static void audit_verify_detects_a_reordered_time(void **state)
{
	if (!is_sqlite(*state))
		skip();
	expect_tampered(*state, "UPDATE audit_log SET time = time + 1 WHERE seq = 5", "store.audit.tampered");
}

/* ---- concurrency ------------------------------------------------------------- */

struct reader_arg {
	struct store *st;
	atomic_int *stop;
	int reads;
	int failures;
	size_t last_seen;
};

static void *reader(void *p)
{
	struct reader_arg *r = p;

	while (!atomic_load(r->stop)) {
		struct store_provider *list = NULL;
		struct attest_err err = {0};
		size_t n = 0;

		if (store_provider_list(r->st, &list, &n, &err) != ATTEST_OK || n < r->last_seen)
			r->failures++;
		else
			r->last_seen = n;
		store_provider_list_free(list, n);
		r->reads++;
	}
	return NULL;
}

static void concurrent_readers_see_committed_writes_without_errors(void **state)
{
	struct fixture *f = *state;
	struct store *second = NULL;
	struct reader_arg args[4];
	pthread_t th[4];
	atomic_int stop;
	struct attest_err err = {0};

	atomic_init(&stop, 0);
	/* Two readers on this handle's pool, two on a second handle of the same file. */
	assert_int_equal(store_open(f->uri, NULL, &second, &err), ATTEST_OK);
	for (int i = 0; i < 4; i++) {
		args[i] = (struct reader_arg){.st = i < 2 ? f->st : second, .stop = &stop};
		assert_int_equal(pthread_create(&th[i], NULL, reader, &args[i]), 0);
	}
	for (int i = 0; i < 20; i++) {
		char name[16];
		snprintf(name, sizeof(name), "c%02d", i);
		create_provider(f->st, name, STORE_MODE_AAD);
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(args[i].failures, 0);
		assert_true(args[i].reads > 0);
	}
	/* Every reader handle sees the last commit afterwards. */
	struct store_provider *list = NULL;
	size_t n = 0;
	assert_int_equal(store_provider_list(second, &list, &n, &err), ATTEST_OK);
	assert_int_equal(n, 20);
	store_provider_list_free(list, n);
	store_close(second);
	assert_int_equal(store_audit_verify(f->st, NULL, &err), ATTEST_OK);
}

struct writer_arg {
	struct store *st;
	int id;
	int failures;
};

static void *writer(void *p)
{
	struct writer_arg *w = p;

	for (int i = 0; i < 10; i++) {
		struct store_policy pol = {.provider = "w", .type = "SgxEnclave", .text = "x"};
		struct store_audit a = {.actor = "w", .action = "policy.set", .provider = "w"};
		struct attest_err err = {0};
		if (store_policy_put(w->st, &pol, &a, &err) != ATTEST_OK)
			w->failures++;
	}
	return NULL;
}

static void concurrent_writers_get_distinct_versions_and_one_chain(void **state)
{
	struct fixture *f = *state;
	struct writer_arg args[3];
	struct store_policy *hist = NULL;
	pthread_t th[3];
	struct attest_err err = {0};
	int64_t rows = 0;
	size_t n = 0;

	create_provider(f->st, "w", STORE_MODE_AAD);
	for (int i = 0; i < 3; i++) {
		args[i] = (struct writer_arg){.st = f->st, .id = i};
		assert_int_equal(pthread_create(&th[i], NULL, writer, &args[i]), 0);
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(args[i].failures, 0);
	}
	assert_int_equal(store_policy_history(f->st, "w", "SgxEnclave", &hist, &n, &err), ATTEST_OK);
	assert_int_equal(n, 30);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(hist[i].version, (int64_t)i + 1);
	store_policy_list_free(hist, n);
	assert_int_equal(store_audit_verify(f->st, &rows, &err), ATTEST_OK);
	assert_int_equal(rows, 31);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(fresh_store_is_at_the_latest_schema_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_empties_every_table, setup, teardown),
		cmocka_unit_test_setup_teardown(migrations_are_idempotent_on_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(schema_written_by_a_newer_version_is_refused, setup, teardown),
		cmocka_unit_test(unknown_store_scheme_is_refused),
		cmocka_unit_test_setup_teardown(data_folder_and_database_files_are_private, setup, teardown),
		cmocka_unit_test_setup_teardown(database_runs_in_wal_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(provider_lifecycle_create_list_update_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(creating_an_existing_provider_conflicts_and_writes_no_audit_row, setup,
						teardown),
		cmocka_unit_test_setup_teardown(updating_or_deleting_a_missing_provider_is_not_found, setup, teardown),
		cmocka_unit_test_setup_teardown(provider_name_must_be_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(policy_versions_increase_and_history_is_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(policy_of_an_unknown_provider_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(deleting_a_provider_removes_its_policies_certs_and_keys, setup,
						teardown),
		cmocka_unit_test_setup_teardown(provider_created_with_certificates_is_one_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(certificate_add_and_remove_are_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(signing_keys_are_listed_per_provider_with_their_state, setup, teardown),
		cmocka_unit_test_setup_teardown(collateral_is_replaced_by_key_and_purged_after_next_update, setup,
						teardown),
		cmocka_unit_test_setup_teardown(collateral_list_returns_every_entry_by_key, setup, teardown),
		cmocka_unit_test_setup_teardown(collateral_pages_start_after_a_key_and_stop_at_the_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(collateral_put_many_stores_all_with_one_audit_row_or_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(meta_only_if_absent_has_one_winner, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_write_rolls_back_the_change_and_its_audit_row, setup, teardown),
		cmocka_unit_test_setup_teardown(invalid_audit_entry_rolls_back_the_change, setup, teardown),
		cmocka_unit_test_setup_teardown(audit_log_chains_and_verifies, setup, teardown),
		cmocka_unit_test(audit_hash_separates_fields),
		cmocka_unit_test_setup_teardown(audit_verify_detects_an_edited_row, setup, teardown),
		cmocka_unit_test_setup_teardown(audit_verify_detects_an_edited_actor_even_with_rehash_of_that_row_only,
						setup, teardown),
		cmocka_unit_test_setup_teardown(audit_verify_detects_a_deleted_middle_row, setup, teardown),
		cmocka_unit_test_setup_teardown(audit_verify_detects_deleted_last_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(audit_verify_detects_an_inserted_row, setup, teardown),
		cmocka_unit_test_setup_teardown(audit_verify_detects_a_reordered_time, setup, teardown),
		cmocka_unit_test_setup_teardown(concurrent_readers_see_committed_writes_without_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(concurrent_writers_get_distinct_versions_and_one_chain, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
