#ifndef ATTEST_COLLATERAL_PCS_HTTP_H
#define ATTEST_COLLATERAL_PCS_HTTP_H

/*
 * The HTTPS client shared by the Intel PCS/PCCS source (pcs.c) and the AMD
 * KDS source (kds.c): one libcurl GET with certificate verification,
 * timeouts, a body cap, capture of named response headers, and the
 * upstream's rate limits (issue 12):
 *
 *   - a 429 answer sets a gate from its Retry-After (delta-seconds or an
 *     HTTP-date, RFC 9110 §10.2.3; 60 s when absent): no request leaves
 *     before the gate passes, callers get <prefix>.rate_limited at once;
 *   - min_interval_ms spaces requests to the host (AMD KDS allows about one
 *     request per 10 s per address): a request waits for its slot up to
 *     max_wait_ms, else <prefix>.rate_limited.
 *
 * One pcs_http serves one upstream host (the base URL of its source); it is
 * safe for concurrent use. Errors (prefix "collateral.pcs" or
 * "collateral.kds"): <p>.http (a status other than 200, with the status and
 * URL), <p>.timeout, <p>.io (connection, TLS), <p>.too_large,
 * <p>.rate_limited, <p>.not_found (404, and 410 Gone: PCS no longer serves it).
 */

#include "attest/error.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCS_HTTP_MAX_HEADERS	 2
#define PCS_HTTP_HEADER_MAX	 (64u * 1024) /* an issuer chain is ~2 kB URL-encoded */
#define PCS_HTTP_DEFAULT_RETRY_S 60
#define PCS_HTTP_POOL		 4 /* idle easy handles kept for reuse */

struct pcs_http_options {
	const char *ca_file;   /* PEM bundle to trust; NULL = the system's */
	const uint8_t *ca_pem; /* or PEM bytes (tests); NULL = not used */
	size_t ca_pem_len;
	long connect_timeout_ms; /* 0 = 5000 */
	long timeout_ms;	 /* whole transfer; 0 = 15000 */
	size_t max_body;	 /* 0 = 4 MiB */
	int64_t min_interval_ms; /* 0 = no spacing */
	int64_t max_wait_ms;	 /* longest wait for a slot; 0 = min_interval_ms */
	const char *api_key;	 /* Ocp-Apim-Subscription-Key; NULL none */
};

struct pcs_http {
	struct pcs_http_options o;
	char *ca_file;
	uint8_t *ca_pem;
	const char *prefix; /* "collateral.pcs" / "collateral.kds" (static) */
	pthread_mutex_t mu;
	int64_t gate_ms;	   /* monotonic ms before which nothing is sent (429) */
	int64_t next_slot_ms;	   /* monotonic ms of the next allowed request */
	uint64_t requests;	   /* requests sent (stats, tests) */
	uint64_t refused;	   /* requests refused by a gate without being sent */
	void *idle[PCS_HTTP_POOL]; /* CURL easy handles between requests (keep-alive, TLS sessions) */
	size_t n_idle;
};

struct pcs_http_resp {
	long status;
	uint8_t *body; /* malloc'd, NUL-terminated */
	size_t len;
	char *header[PCS_HTTP_MAX_HEADERS]; /* values of the wanted headers, raw; NULL when absent */
};
void pcs_http_resp_free(struct pcs_http_resp *r);

int pcs_http_init(struct pcs_http *h, const struct pcs_http_options *o, const char *prefix,
		  struct attest_err *err);
void pcs_http_fini(struct pcs_http *h);

/*
 * GET url. wanted: up to PCS_HTTP_MAX_HEADERS header names (NULL-terminated
 * list, matched case-insensitively) whose values land in out->header[i].
 * Returns ATTEST_OK only for status 200 (out filled, owned by the caller).
 */
int pcs_http_get(struct pcs_http *h, const char *url, const char *const *wanted, struct pcs_http_resp *out,
		 struct attest_err *err);

void pcs_http_stats(struct pcs_http *h, uint64_t *requests, uint64_t *refused);

/* Percent-decodes s (RFC 3986 §2.1; '+' stays '+': base64 in PEM uses it). NULL on a bad escape. */
char *pcs_http_url_decode(const char *s, size_t len, size_t *out_len);
/*
 * Percent-encodes every byte but the RFC 3986 unreserved characters, as PCS
 * encodes its issuer-chain headers (what pcs_http_url_decode reads back).
 * malloc'd, NUL-terminated; NULL when out of memory.
 */
char *pcs_http_url_encode(const uint8_t *p, size_t n);

/*
 * Seconds a Retry-After value asks to wait (RFC 9110 §10.2.3: delta-seconds
 * or an HTTP-date), within [0, 86400]; PCS_HTTP_DEFAULT_RETRY_S when NULL,
 * empty or unreadable.
 */
int64_t pcs_http_retry_after_seconds(const char *v);

/* Monotonic milliseconds. */
int64_t pcs_http_mono_ms(void);

#endif
