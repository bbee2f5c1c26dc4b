#ifndef ATTEST_SERVER_ATTEST_POLICIES_H
#define ATTEST_SERVER_ATTEST_POLICIES_H

/* The policy routes (maa-interface.md §1.4): GET/PUT /policies/{type}, POST /policies/{type}:reset. */

#include "attest/error.h"
#include "server/http.h"

struct pipeline_routes;

int attest_policies_register(struct http_router *r, struct pipeline_routes *pr, struct attest_err *err);

#endif
