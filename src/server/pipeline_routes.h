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

struct srv;

struct pipeline_routes {
	struct srv *srv;
	struct pipeline_ctx *ctx;
};

/*
 * Tells the pipeline a provider's policy for a type changed (after the
 * store committed it), so no cached view of it outlives the change.
 */
void pipeline_routes_policy_changed(struct pipeline_routes *pr, const char *provider, enum maa_type type);

#endif
