#ifndef ATTEST_SERVER_METRICS_H
#define ATTEST_SERVER_METRICS_H

/*
 * Prometheus metrics (text exposition format 0.0.4): requests and their
 * latency per provider, attestation type and result, as a counter and a
 * histogram. Label values come only from resolved providers, registered
 * types and status codes, and the number of series is capped, so a client
 * cannot grow memory by inventing labels.
 */

#include "base/buf.h"

#include <stdint.h>

struct srv_metrics;

struct srv_metrics *srv_metrics_new(void);
void srv_metrics_free(struct srv_metrics *m);

/* Records one finished request. result is e.g. "200", "400"; type "" when none. */
void srv_metrics_observe(struct srv_metrics *m, const char *provider, const char *type, int status,
			 double seconds);

/* Appends the exposition text to out (plus process-wide gauges given). */
int srv_metrics_render(struct srv_metrics *m, struct buf *out, int64_t inflight, int64_t uptime_s);

#endif
