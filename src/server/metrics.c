/* Request counters and latency histograms (metrics.h). */
#include "server/metrics.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_MAX_SERIES 512
#define METRICS_LABEL_MAX 64

/* Seconds; the last bucket is +Inf. */
static const double BUCKETS[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define N_BUCKETS (sizeof(BUCKETS) / sizeof(BUCKETS[0]))

struct series {
	char provider[METRICS_LABEL_MAX];
	char type[METRICS_LABEL_MAX];
	int status;
	uint64_t count;
	double sum;
	uint64_t buckets[N_BUCKETS]; /* cumulative when rendered */
};

struct srv_metrics {
	pthread_mutex_t mu;
	size_t n;
	uint64_t dropped; /* observations that found no free series */
	struct series s[METRICS_MAX_SERIES];
};

struct srv_metrics *srv_metrics_new(void)
{
	struct srv_metrics *m = calloc(1, sizeof(*m));

	if (m != NULL)
		pthread_mutex_init(&m->mu, NULL);
	return m;
}

void srv_metrics_free(struct srv_metrics *m)
{
	if (m == NULL)
		return;
	pthread_mutex_destroy(&m->mu);
	free(m);
}

static struct series *find(struct srv_metrics *m, const char *provider, const char *type, int status)
{
	for (size_t i = 0; i < m->n; i++) {
		struct series *s = &m->s[i];
		if (s->status == status && strcmp(s->provider, provider) == 0 && strcmp(s->type, type) == 0)
			return s;
	}
	if (m->n == METRICS_MAX_SERIES)
		return NULL;
	struct series *s = &m->s[m->n++];
	snprintf(s->provider, sizeof(s->provider), "%s", provider);
	snprintf(s->type, sizeof(s->type), "%s", type);
	s->status = status;
	return s;
}

void srv_metrics_observe(struct srv_metrics *m, const char *provider, const char *type, int status, double seconds)
{
	struct series *s;

	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	s = find(m, provider ? provider : "", type ? type : "", status);
	if (s == NULL) {
		m->dropped++;
	} else {
		s->count++;
		s->sum += seconds;
		for (size_t b = 0; b < N_BUCKETS; b++) {
			if (seconds <= BUCKETS[b]) {
				s->buckets[b]++;
				break;
			}
		}
	}
	pthread_mutex_unlock(&m->mu);
}

static const char *result_of(int status)
{
	if (status < 400)
		return "success";
	if (status == 429)
		return "throttled";
	if (status < 500)
		return "client_error";
	return "server_error";
}

/* Label values are names we validated ([A-Za-z0-9._~-]), but escape anyway (exposition format). */
static void put_label(struct buf *out, const char *v)
{
	for (const char *p = v; *p; p++) {
		if (*p == '\\' || *p == '"')
			buf_append_u8(out, '\\');
		if (*p == '\n')
			buf_append_str(out, "\\n");
		else
			buf_append_u8(out, (uint8_t)*p);
	}
}

static void labels(struct buf *out, const struct series *s)
{
	buf_append_str(out, "provider=\"");
	put_label(out, s->provider);
	buf_append_str(out, "\",type=\"");
	put_label(out, s->type);
	buf_printf(out, "\",status=\"%d\",result=\"%s\"", s->status, result_of(s->status));
}

int srv_metrics_render(struct srv_metrics *m, struct buf *out, int64_t inflight, int64_t uptime_s)
{
	pthread_mutex_lock(&m->mu);
	buf_append_str(out, "# HELP attestd_requests_total Requests answered, by provider, attestation type and result.\n"
			    "# TYPE attestd_requests_total counter\n");
	for (size_t i = 0; i < m->n; i++) {
		buf_append_str(out, "attestd_requests_total{");
		labels(out, &m->s[i]);
		buf_printf(out, "} %llu\n", (unsigned long long)m->s[i].count);
	}
	buf_append_str(out, "# HELP attestd_request_duration_seconds Time from request head to response queued.\n"
			    "# TYPE attestd_request_duration_seconds histogram\n");
	for (size_t i = 0; i < m->n; i++) {
		const struct series *s = &m->s[i];
		uint64_t cum = 0;
		for (size_t b = 0; b < N_BUCKETS; b++) {
			cum += s->buckets[b];
			buf_append_str(out, "attestd_request_duration_seconds_bucket{");
			labels(out, s);
			buf_printf(out, ",le=\"%g\"} %llu\n", BUCKETS[b], (unsigned long long)cum);
		}
		buf_append_str(out, "attestd_request_duration_seconds_bucket{");
		labels(out, s);
		buf_printf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)s->count);
		buf_append_str(out, "attestd_request_duration_seconds_sum{");
		labels(out, s);
		buf_printf(out, "} %.6f\n", s->sum);
		buf_append_str(out, "attestd_request_duration_seconds_count{");
		labels(out, s);
		buf_printf(out, "} %llu\n", (unsigned long long)s->count);
	}
	buf_printf(out,
		   "# HELP attestd_metrics_series_dropped_total Observations not recorded: series cap reached.\n"
		   "# TYPE attestd_metrics_series_dropped_total counter\nattestd_metrics_series_dropped_total %llu\n",
		   (unsigned long long)m->dropped);
	pthread_mutex_unlock(&m->mu);
	buf_printf(out,
		   "# HELP attestd_requests_in_flight Requests being handled now.\n"
		   "# TYPE attestd_requests_in_flight gauge\nattestd_requests_in_flight %lld\n"
		   "# HELP attestd_uptime_seconds Seconds since start.\n"
		   "# TYPE attestd_uptime_seconds gauge\nattestd_uptime_seconds %lld\n",
		   (long long)inflight, (long long)uptime_s);
	return out->len < out->max ? 0 : -1;
}
