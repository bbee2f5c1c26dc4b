#ifndef ATTEST_SERVER_ROUTES_H
#define ATTEST_SERVER_ROUTES_H

/*
 * attestd's own routes, one registration function per file:
 *   routes_meta.c    GET /certs, GET /.well-known/openid-configuration (MAA §1.6),
 *                    GET /healthz, GET /readyz, GET /metrics
 *   routes_policy.c  GET /policies/{type} placeholder until the pipeline's (§1.4)
 *   routes_mgmt.c    the management API: /management/providers[/{name}], audit
 */

#include "attest/error.h"

#include <stdbool.h>

struct http_router;
struct srv;

int routes_meta_register(struct http_router *r, struct srv *srv, struct attest_err *err);
int routes_policy_register(struct http_router *r, struct srv *srv, struct attest_err *err);
int routes_mgmt_register(struct http_router *r, struct srv *srv, struct attest_err *err);
/* routes_pccs.c: the PCS v4 / PCCS and AMD KDS read API from the collateral cache (issue 12; option pccs). */
int routes_pccs_register(struct http_router *r, struct srv *srv, struct attest_err *err);
/* routes_collateral.c: POST/GET /management/collateral, collateral bundles (issue 12). */
int routes_collateral_register(struct http_router *r, struct srv *srv, struct attest_err *err);

/* Names a provider may have: a DNS label (host addressing), 1..63 of [a-z0-9-], no leading/trailing '-'. */
bool routes_provider_name_ok(const char *name);

#endif
