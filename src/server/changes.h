#ifndef ATTEST_SERVER_CHANGES_H
#define ATTEST_SERVER_CHANGES_H

/*
 * Several attestd nodes on one PostgreSQL store (issue 11): a thread LISTENs
 * for the changes other nodes commit and drops what this node caches —
 * the provider entry, or the signing keys (re-read from the store, so a
 * rotation on one node reaches every node's /certs and tokens). When the
 * listener connection breaks, everything cached is dropped and the
 * listener reopened. Without PostgreSQL this is a no-op.
 */

#include "attest/error.h"

struct srv;
struct srv_changes;

/* Starts the listener when srv->cfg->store_uri is a PostgreSQL store. *out NULL otherwise. */
int srv_changes_start(struct srv *srv, struct srv_changes **out, struct attest_err *err);
void srv_changes_stop(struct srv_changes *c);

#endif
