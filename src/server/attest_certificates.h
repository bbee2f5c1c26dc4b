#ifndef ATTEST_SERVER_ATTEST_CERTIFICATES_H
#define ATTEST_SERVER_ATTEST_CERTIFICATES_H

/*
 * The policy-management certificate routes (maa-interface.md §1.5):
 * GET /certificates, POST /certificates:add, POST /certificates:remove.
 */

#include "attest/error.h"
#include "server/http.h"

struct pipeline_routes;

int attest_certificates_register(struct http_router *r, struct pipeline_routes *pr, struct attest_err *err);

#endif
