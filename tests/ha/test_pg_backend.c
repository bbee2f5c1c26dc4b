/*
 * The PostgreSQL backend beyond the shared store suite (which runs on it too,
 * see tests/ha/CMakeLists.txt): tampering found by audit verification,
 * change notifications between nodes, migrations when nodes start at once,
 * riding out a database restart, and a fail-over to the synchronous standby
 * that loses no acknowledged write. Needs tests/ha/with_pg.sh around it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/store_pg.h"
#include "testutil.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *uri(void) { return getenv("ATTEST_TEST_STORE_URI"); }

static struct store *open_reset(void)
{
	struct attest_err err = {0};
	struct store *st = NULL;

	if (store_open(uri(), NULL, &st, &err) != ATTEST_OK)
		fail_msg("cannot open %s: %s", uri(), err.msg);
	if (store_test_reset(st, &err) != ATTEST_OK)
		fail_msg("reset: %s", err.msg);
	return st;
}

static void sql(const char *conninfo, const char *text)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r;

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connect: %s", PQerrorMessage(c));
	r = PQexec(c, text);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", text, PQresultErrorMessage(r));
	PQclear(r);
	PQfinish(c);
}

static int run(const char *cmd)
{
	int rc = system(cmd);

	return rc;
}

static void pg_ctl(const char *dir, const char *action)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "runuser -u postgres -- %s/pg_ctl -D %s/data -w -t 30 -m immediate %s >/dev/null 2>&1",
		 getenv("PG_BIN"), dir, action);
	if (run(cmd) != 0)
		fail_msg("pg_ctl %s failed", action);
}

static struct store_audit audit(const char *action, const char *provider)
{
	struct store_audit a = {.actor = "test", .action = action, .provider = provider, .time = 1700000000};
	return a;
}

static void create(struct store *st, const char *name)
{
	struct store_provider p = {.mode = STORE_MODE_AAD};
	struct store_audit a = audit("provider.create", name);
	struct attest_err err = {0};

	snprintf(p.name, sizeof(p.name), "%s", name);
	if (store_provider_create(st, &p, &a, &err) != ATTEST_OK)
		fail_msg("create %s: %s", name, err.msg);
}

static void put_policy(struct store *st, const char *provider, const char *text)
{
	struct store_policy p = {.text = (char *)text};
	struct store_audit a = audit("policy.set", provider);
	struct attest_err err = {0};

	snprintf(p.provider, sizeof(p.provider), "%s", provider);
	snprintf(p.type, sizeof(p.type), "SgxEnclave");
	if (store_policy_put(st, &p, &a, &err) != ATTEST_OK)
		fail_msg("policy put: %s", err.msg);
}

static int setup(void **state)
{
	if (uri() == NULL || strncmp(uri(), "postgres", 8) != 0) {
		fprintf(stderr, "SKIP: run through tests/ha/with_pg.sh (ATTEST_TEST_STORE_URI unset)\n");
		return -1;
	}
	return 0;
}

static void audit_verify_detects_rows_edited_in_the_database(void **state)
{
	struct store *st = open_reset();
	struct attest_err err = {0};
	int64_t rows = 0;

	create(st, "a");
	create(st, "b");
	create(st, "c");
	assert_int_equal(store_audit_verify(st, &rows, &err), ATTEST_OK);
	assert_int_equal(rows, 3);
	sql(uri(), "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2");
	assert_int_equal(store_audit_verify(st, &rows, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "store.audit.tampered");
	assert_string_equal(err.where, "audit_log seq 2");
	store_close(st);
}

static void audit_verify_detects_deleted_rows(void **state)
{
	struct store *st = open_reset();
	struct attest_err err = {0};
	int64_t rows = 0;

	create(st, "a");
	create(st, "b");
	sql(uri(), "DELETE FROM audit_log WHERE seq = 2");
	assert_int_equal(store_audit_verify(st, &rows, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "store.audit.truncated");
	store_close(st);
}

static void a_committed_change_notifies_other_nodes_and_a_rolled_back_one_does_not(void **state)
{
	struct store *node1 = open_reset();
	struct store_pg_listener *node2 = NULL;
	struct attest_err err = {0};
	char payload[256] = "";

	assert_int_equal(store_pg_listener_open(uri(), &node2, &err), ATTEST_OK);
	create(node1, "tenant");
	assert_int_equal(store_pg_listener_wait(node2, 1000, payload, sizeof(payload), &err), ATTEST_OK);
	assert_string_equal(payload, "provider:tenant");
	put_policy(node1, "tenant", "version=1.0; authorizationrules{=>permit();}; issuancerules{};");
	assert_int_equal(store_pg_listener_wait(node2, 1000, payload, sizeof(payload), &err), ATTEST_OK);
	assert_string_equal(payload, "policy:tenant/SgxEnclave");
	/* A write that fails before commit sends nothing. */
	store_fault_next_commit(node1);
	{
		struct store_policy p = {.text = "x"};
		snprintf(p.provider, sizeof(p.provider), "tenant");
		snprintf(p.type, sizeof(p.type), "SgxEnclave");
		assert_int_not_equal(store_policy_put(node1, &p, NULL, &err), ATTEST_OK);
	}
	attest_err_clear(&err);
	assert_int_equal(store_pg_listener_wait(node2, 300, payload, sizeof(payload), &err), ATTEST_E_NOT_FOUND);
	store_pg_listener_free(node2);
	store_close(node1);
}

struct opener {
	struct store *st;
	int rc;
};

static void *open_thread(void *arg)
{
	struct opener *o = arg;
	struct attest_err err = {0};

	o->rc = store_open(uri(), NULL, &o->st, &err);
	return NULL;
}

static void nodes_starting_together_migrate_once(void **state)
{
	pthread_t t[3];
	struct opener o[3] = {{0}};
	int v = 0;
	struct attest_err err = {0};

	/* From an empty database: every table dropped. */
	sql(uri(), "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, open_thread, &o[i]);
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(o[i].rc, ATTEST_OK);
	}
	assert_int_equal(store_schema_version(o[0].st, &v, &err), ATTEST_OK);
	assert_int_equal(v, store_schema_latest());
	for (int i = 0; i < 3; i++)
		store_close(o[i].st);
}

static void a_node_rides_out_a_database_restart(void **state)
{
	struct store *st = open_reset();
	struct store_provider p;
	struct attest_err err = {0};

	create(st, "before");
	pg_ctl(getenv("PG_TEST_PRIMARY_DIR"), "restart");
	/* The pooled connection is stale; the store heals it on use. */
	assert_int_equal(store_provider_get(st, "before", &p, &err), ATTEST_OK);
	store_provider_clear(&p);
	create(st, "after");
	store_close(st);
}

static void promoting_the_standby_loses_no_acknowledged_policy_write(void **state)
{
	struct store *st = open_reset(), *promoted = NULL;
	struct store_policy got;
	struct attest_err err = {0};
	int64_t rows = 0;

	/*
	 * Synchronous replication: a commit is acknowledged only once the
	 * standby has it, which is what makes a fail-over lose nothing.
	 */
	sql(uri(), "ALTER SYSTEM SET synchronous_standby_names = '*'");
	sql(uri(), "SELECT pg_reload_conf()");
	create(st, "ha");
	for (int i = 0; i < 20; i++) {
		char text[64];
		snprintf(text, sizeof(text), "policy %d", i);
		put_policy(st, "ha", text);
	}
	/* The primary dies without a clean shutdown; the standby takes over. */
	pg_ctl(getenv("PG_TEST_PRIMARY_DIR"), "stop");
	pg_ctl(getenv("PG_TEST_STANDBY_DIR"), "promote");
	assert_int_equal(store_open(getenv("PG_TEST_STANDBY_URI"), NULL, &promoted, &err), ATTEST_OK);
	assert_int_equal(store_policy_get(promoted, "ha", "SgxEnclave", &got, &err), ATTEST_OK);
	assert_int_equal(got.version, 20);
	assert_string_equal(got.text, "policy 19");
	store_policy_clear(&got);
	assert_int_equal(store_audit_verify(promoted, &rows, &err), ATTEST_OK);
	assert_int_equal(rows, 21);
	/* The old primary is gone: writes through it fail cleanly, not crash. */
	attest_err_clear(&err);
	assert_int_not_equal(store_audit_append(st, &(struct store_audit){.actor = "t", .action = "x"}, &err),
			     ATTEST_OK);
	assert_string_equal(err.name, "store.unavailable");
	store_close(st);
	store_close(promoted);
}

int main(void)
{
	/* The fail-over test ends the primary: it runs last. */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(audit_verify_detects_rows_edited_in_the_database),
		cmocka_unit_test(audit_verify_detects_deleted_rows),
		cmocka_unit_test(a_committed_change_notifies_other_nodes_and_a_rolled_back_one_does_not),
		cmocka_unit_test(nodes_starting_together_migrate_once),
		cmocka_unit_test(a_node_rides_out_a_database_restart),
		cmocka_unit_test(promoting_the_standby_loses_no_acknowledged_policy_write),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
