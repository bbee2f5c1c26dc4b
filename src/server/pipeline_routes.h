#ifndef ATTEST_SERVER_PIPELINE_ROUTES_H
#define ATTEST_SERVER_PIPELINE_ROUTES_H

/*
 * The attest pipeline as attestd serves it: pipeline_routes_register()
 * (the hook http.h declares) builds the long-lived pipeline state from the
 * configuration (trust anchors, collateral folder) and registers
 * POST /attest/{type}, the policy routes and the certificate routes.
 */

#include "server/pipeline.h"
#include "token/catalogue.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct srv;

/*
 * The provider policies last read from the store, so an attestation costs
 * no database read (ARCHITECTURE.md: nothing on the hot path). An entry is
 * dropped when this node changes that policy, and re-read after
 * PIPELINE_POLICY_VIEW_TTL_MS anyway, so a change made through another
 * node sharing the store is in force here within that time. While the
 * store is unreachable, the last view loaded stays in force (degraded
 * operation, issue 11); a type this node never loaded answers 503.
 */
#define PIPELINE_POLICY_VIEWS	    128
#define PIPELINE_POLICY_VIEW_TTL_MS 500

struct pipeline_policy_view {
	bool used;
	char provider[64];
	enum maa_type type;
	uint64_t loaded_ns; /* monotonic */
	char *text;	    /* NULL: the type's default */
	char *signer;	    /* JWK text of the signer, or NULL */
	bool stale_warned;  /* the fallback to this view was logged */
};

/*
 * The providers' registered trust (provider_trust.h) parsed once per
 * settings text: one view per provider, holding the SHA-256 of the
 * settings it was parsed from, so any change (through any node) is parsed
 * again and replaces the provider's view; full, the least recently used
 * view is replaced. Views are reference-counted: a request keeps the one
 * it took even if another request replaces it meanwhile. An lru (base/lru.h)
 * of PIPELINE_TRUST_VIEWS entries (pipeline_routes.c).
 */
#define PIPELINE_TRUST_VIEWS 64

struct lru;

struct pipeline_routes {
	struct srv *srv;
	struct pipeline_ctx *ctx;
	pthread_mutex_t views_lock;
	struct pipeline_policy_view views[PIPELINE_POLICY_VIEWS];
	uint64_t settings_warned_ns; /* last "unreadable provider settings" log line (views_lock) */
	struct lru *trusts;	     /* the trust views (above); its own lock */
};

/*
 * Tells the pipeline a provider's policy for a type changed (after the
 * store committed it), so no cached view of it outlives the change.
 */
void pipeline_routes_policy_changed(struct pipeline_routes *pr, const char *provider, enum maa_type type);

#endif
