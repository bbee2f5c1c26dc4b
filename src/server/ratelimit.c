/* Token buckets per provider (ratelimit.h). */
#include "server/ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RL_MAX_BUCKETS 4096

struct bucket {
	char provider[64];
	double tokens;
	uint64_t last_ns;
};

struct srv_ratelimit {
	pthread_mutex_t mu;
	size_t n;
	struct bucket b[RL_MAX_BUCKETS];
};

struct srv_ratelimit *srv_ratelimit_new(void)
{
	struct srv_ratelimit *rl = calloc(1, sizeof(*rl));

	if (rl != NULL)
		pthread_mutex_init(&rl->mu, NULL);
	return rl;
}

void srv_ratelimit_free(struct srv_ratelimit *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->mu);
	free(rl);
}

static struct bucket *bucket_of(struct srv_ratelimit *rl, const char *provider, int burst, uint64_t now_ns)
{
	for (size_t i = 0; i < rl->n; i++) {
		if (strcmp(rl->b[i].provider, provider) == 0)
			return &rl->b[i];
	}
	if (rl->n == RL_MAX_BUCKETS)
		return NULL;
	struct bucket *b = &rl->b[rl->n++];
	snprintf(b->provider, sizeof(b->provider), "%s", provider);
	b->tokens = burst;
	b->last_ns = now_ns;
	return b;
}

bool srv_ratelimit_take(struct srv_ratelimit *rl, const char *provider, double rate, int burst, uint64_t now_ns,
			int *retry_after_s)
{
	struct bucket *b;
	bool ok = true;

	if (rl == NULL || rate <= 0)
		return true;
	if (burst < 1)
		burst = 1;
	pthread_mutex_lock(&rl->mu);
	b = bucket_of(rl, provider, burst, now_ns);
	if (b != NULL) {
		double elapsed = now_ns > b->last_ns ? (double)(now_ns - b->last_ns) / 1e9 : 0;
		b->tokens += elapsed * rate;
		if (b->tokens > burst)
			b->tokens = burst;
		b->last_ns = now_ns;
		if (b->tokens >= 1) {
			b->tokens -= 1;
		} else {
			ok = false;
			/* Retry-After is whole seconds (RFC 9110 §10.2.3); round up, at least 1. */
			double wait = (1 - b->tokens) / rate;
			*retry_after_s = wait < 1 ? 1 : (int)ceil(wait);
		}
	}
	pthread_mutex_unlock(&rl->mu);
	return ok;
}
