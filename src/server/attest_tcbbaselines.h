#ifndef ATTEST_SERVER_ATTEST_TCBBASELINES_H
#define ATTEST_SERVER_ATTEST_TCBBASELINES_H

/* GET /tcbbaselines/{type} (maa-interface.md §1.7): the SGX TCB baselines a policy can select. */

#include "attest/error.h"
#include "server/http.h"

struct pipeline_routes;

int attest_tcbbaselines_register(struct http_router *r, struct pipeline_routes *pr, struct attest_err *err);

#endif
