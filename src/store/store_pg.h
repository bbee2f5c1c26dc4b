#ifndef ATTEST_STORE_STORE_PG_H
#define ATTEST_STORE_STORE_PG_H

/*
 * The PostgreSQL backend of store.h (issue 11) and its change
 * notifications. conninfo is a libpq connection string or URI
 * ("postgresql://user@127.0.0.1:5432/attestd", "host=... dbname=...").
 */

#include "store/store.h"

/* Opens a pool on conninfo and migrates the schema (safe when several nodes start at once). */
int store_pg_open(const char *conninfo, const struct store_open_opts *opts, struct store **out,
		  struct attest_err *err);

/*
 * A dedicated connection that LISTENs for the changes other nodes commit.
 * Payloads are "<kind>:<what>": provider:<name>, policy:<provider>/<type>,
 * cert:<provider>, key:<kid or provider>, meta:<key>.
 */
struct store_pg_listener;

int store_pg_listener_open(const char *conninfo, struct store_pg_listener **out, struct attest_err *err);
/*
 * Waits up to timeout_ms for one notification: ATTEST_OK with its payload,
 * ATTEST_E_NOT_FOUND on time-out (no error recorded), or ATTEST_E_IO
 * (store.listener.lost) when the connection broke: the caller must then
 * assume it missed changes, re-read everything it caches, and reopen.
 */
int store_pg_listener_wait(struct store_pg_listener *l, int timeout_ms, char *payload, size_t cap,
			   struct attest_err *err);
void store_pg_listener_free(struct store_pg_listener *l);

#endif
