#ifndef ATTEST_SERVER_SERVER_H
#define ATTEST_SERVER_SERVER_H

/*
 * attestd's shared state, passed explicitly to every handler through
 * req->srv (STYLE.md habit 7: no globals). Everything reachable from here is
 * safe for concurrent use by the worker threads: the store serialises its
 * own writes, the keyring is read-mostly behind its own lock, metrics and
 * rate limiters use atomics or their own locks. The configuration is
 * read-only once the daemon runs.
 */

#include "server/config.h"
#include "server/log.h"

#include <stdbool.h>
#include <stdint.h>

struct store;         /* store/store.h */
struct keyring;       /* keys/keys.h (the crypto helper's module) */
struct srv_signing;   /* server/signing.c */
struct http_router;   /* server/http.h */
struct srv_metrics;   /* server/metrics.h */
struct srv_ratelimit; /* server/ratelimit.h */
struct httpd;         /* server/httpd.h */

struct srv {
	const struct srv_config *cfg;
	struct store *store;
	struct keyring *keys;     /* the service-wide token-signing keys (keys/keys.h) */
	struct srv_signing *signing; /* their lock and KEK (signing.c) */
	struct http_router *router;
	struct srv_metrics *metrics;
	struct srv_ratelimit *ratelimit;
	/* SHA-256 of the bootstrap administrator credential (management API). */
	uint8_t admin_digest[32];
	bool admin_digest_set;
	/* Service version sent as x-ms-maa-service-version. */
	const char *service_version;
	struct httpd *httpd;      /* the transport, once listening */
	struct srv_log log;
	int64_t started;          /* wall clock at start (uptime) */
	/* The attest pipeline's long-lived state (policy cache, collateral, anchors):
	 * owned by pipeline*.c, set in pipeline_routes_register, freed by pipeline_shutdown. */
	void *pipeline;
	/* Set once start-up completed (readyz); cleared when shutting down. */
	volatile int ready;
};

/*
 * Called once at shutdown, after the daemon stopped and before the store and
 * keyring are closed, when the pipeline is linked in (weak, like
 * pipeline_routes_register in http.h).
 */
void pipeline_shutdown(struct srv *srv) __attribute__((weak));

/* The server's clock: the fixed test time when configured, else the wall clock. */
int64_t srv_now(const struct srv *srv);

#endif
