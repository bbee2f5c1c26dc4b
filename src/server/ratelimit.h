#ifndef ATTEST_SERVER_RATELIMIT_H
#define ATTEST_SERVER_RATELIMIT_H

/*
 * Per-provider token buckets (issue 9: 429 with Retry-After). A provider's
 * rate comes from its settings ("rate_limit" requests/s, "rate_burst"),
 * else the service default; 0 means unlimited. Buckets are keyed by
 * provider name (resolved, so bounded by the providers that exist).
 */

#include <stdbool.h>
#include <stdint.h>

struct srv_ratelimit;

struct srv_ratelimit *srv_ratelimit_new(void);
void srv_ratelimit_free(struct srv_ratelimit *rl);

/*
 * Takes one token from provider's bucket at monotonic time now_ns. Returns
 * true when allowed; otherwise *retry_after_s is the whole seconds until a
 * token is available (at least 1).
 */
bool srv_ratelimit_take(struct srv_ratelimit *rl, const char *provider, double rate, int burst, uint64_t now_ns,
			int *retry_after_s);

#endif
