/*
 * libcurl GET for the online collateral sources (pcs_http.h). Design note:
 * each request takes an easy handle from a small pool of idle ones (or a
 * new one) and gives it back after, so a burst of cold lookups reuses the
 * handle's open connection, TLS session and parsed CA store instead of a
 * new TLS handshake and trust store per request (OpenSSL 3 makes both
 * costly); a handle is used by one thread at a time.
 */
#include "collateral/pcs_http.h"

#include "base/timeutil.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define PCS_HTTP_DEFAULT_MAX_BODY (4u * 1024 * 1024)

int64_t pcs_http_mono_ms(void)
{
	return (int64_t)(time_mono_ns() / 1000000u);
}

void pcs_http_resp_free(struct pcs_http_resp *r)
{
	if (r == NULL)
		return;
	free(r->body);
	for (size_t i = 0; i < PCS_HTTP_MAX_HEADERS; i++)
		free(r->header[i]);
	memset(r, 0, sizeof(*r));
}

int pcs_http_init(struct pcs_http *h, const struct pcs_http_options *o, const char *prefix,
		  struct attest_err *err)
{
	memset(h, 0, sizeof(*h));
	if (o != NULL)
		h->o = *o;
	h->prefix = prefix;
	if (h->o.connect_timeout_ms <= 0)
		h->o.connect_timeout_ms = 5000;
	if (h->o.timeout_ms <= 0)
		h->o.timeout_ms = 15000;
	if (h->o.max_body == 0)
		h->o.max_body = PCS_HTTP_DEFAULT_MAX_BODY;
	if (h->o.max_wait_ms <= 0)
		h->o.max_wait_ms = h->o.min_interval_ms;
	h->o.ca_file = NULL;
	h->o.ca_pem = NULL;
	h->o.api_key = NULL;
	if (o != NULL && o->ca_file != NULL && (h->ca_file = strdup(o->ca_file)) == NULL)
		goto nomem;
	if (o != NULL && o->ca_pem != NULL) {
		if ((h->ca_pem = malloc(o->ca_pem_len + 1)) == NULL)
			goto nomem;
		memcpy(h->ca_pem, o->ca_pem, o->ca_pem_len);
		h->ca_pem[o->ca_pem_len] = 0;
	}
	if (o != NULL && o->api_key != NULL && (h->o.api_key = strdup(o->api_key)) == NULL)
		goto nomem;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(h->ca_file);
		free(h->ca_pem);
		free((char *)h->o.api_key);
		memset(h, 0, sizeof(*h));
		return attest_err_set(err, ATTEST_E_INTERNAL, "collateral.init", "curl_global_init failed");
	}
	pthread_mutex_init(&h->mu, NULL);
	return ATTEST_OK;
nomem:
	free(h->ca_file);
	free(h->ca_pem);
	free((char *)h->o.api_key);
	memset(h, 0, sizeof(*h));
	return attest_err_set(err, ATTEST_E_NOMEM, "collateral.nomem", "out of memory");
}

void pcs_http_fini(struct pcs_http *h)
{
	if (h == NULL || h->prefix == NULL)
		return;
	for (size_t i = 0; i < h->n_idle; i++)
		curl_easy_cleanup(h->idle[i]);
	free(h->ca_file);
	free(h->ca_pem);
	free((char *)h->o.api_key);
	pthread_mutex_destroy(&h->mu);
	curl_global_cleanup();
	memset(h, 0, sizeof(*h));
}

void pcs_http_stats(struct pcs_http *h, uint64_t *requests, uint64_t *refused)
{
	pthread_mutex_lock(&h->mu);
	if (requests)
		*requests = h->requests;
	if (refused)
		*refused = h->refused;
	pthread_mutex_unlock(&h->mu);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char *pcs_http_url_decode(const char *s, size_t len, size_t *out_len)
{
	char *out = malloc(len + 1);
	size_t o = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		if (len - i < 3 || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) {
			free(out);
			return NULL;
		}
		out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
		i += 2;
	}
	out[o] = 0;
	if (out_len)
		*out_len = o;
	return out;
}

char *pcs_http_url_encode(const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	char *o, *q;

	if (n > (SIZE_MAX - 1) / 3 || (o = malloc(3 * n + 1)) == NULL)
		return NULL;
	q = o;
	for (size_t i = 0; i < n; i++) {
		unsigned c = p[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '_' || c == '.' || c == '~') {
			*q++ = (char)c;
		} else {
			*q++ = '%';
			*q++ = hex[c >> 4];
			*q++ = hex[c & 15];
		}
	}
	*q = 0;
	return o;
}

/* ---- one transfer ---------------------------------------------------------- */

struct xfer {
	struct pcs_http_resp *r;
	size_t cap;
	bool too_large;
	const char *const *wanted;
	char *retry_after;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;
	uint8_t *nb;

	if (n > x->cap || x->r->len > x->cap - n) {
		x->too_large = true;
		return 0; /* aborts the transfer */
	}
	nb = realloc(x->r->body, x->r->len + n + 1);
	if (nb == NULL)
		return 0;
	memcpy(nb + x->r->len, p, n);
	x->r->body = nb;
	x->r->len += n;
	nb[x->r->len] = 0;
	return n;
}

/* Copies a header value without surrounding blanks and the CRLF. */
static char *header_value(const char *v, size_t n)
{
	char *s;

	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if ((s = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(s, v, n);
	s[n] = 0;
	return s;
}

/* Keeps the headers asked for (the last occurrence wins; a new response after a redirect resets). */
static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;
	const char *colon = memchr(p, ':', n);
	size_t name_len;
	char **slot = NULL;

	if (n > PCS_HTTP_HEADER_MAX || colon == NULL)
		return n > PCS_HTTP_HEADER_MAX ? 0 : n;
	name_len = (size_t)(colon - p);
	for (size_t i = 0; x->wanted != NULL && x->wanted[i] != NULL && i < PCS_HTTP_MAX_HEADERS; i++)
		if (strlen(x->wanted[i]) == name_len && strncasecmp(p, x->wanted[i], name_len) == 0)
			slot = &x->r->header[i];
	if (name_len == 11 && strncasecmp(p, "Retry-After", 11) == 0)
		slot = &x->retry_after;
	if (slot != NULL) {
		free(*slot);
		if ((*slot = header_value(colon + 1, n - name_len - 1)) == NULL)
			return 0;
	}
	return n;
}

/* Seconds to wait from a Retry-After value (RFC 9110 §10.2.3), default when absent or unreadable. */
int64_t pcs_http_retry_after_seconds(const char *v)
{
	char *end;
	long long s;
	time_t t;

	if (v == NULL || *v == 0)
		return PCS_HTTP_DEFAULT_RETRY_S;
	if (isdigit((unsigned char)v[0])) {
		errno = 0;
		s = strtoll(v, &end, 10);
		if (errno == 0 && *end == 0 && s >= 0)
			return s > 86400 ? 86400 : s;
		return PCS_HTTP_DEFAULT_RETRY_S;
	}
	t = curl_getdate(v, NULL);
	if (t < 0)
		return PCS_HTTP_DEFAULT_RETRY_S;
	s = (long long)t - (long long)time_now();
	return s < 0 ? 0 : (s > 86400 ? 86400 : s);
}

/*
 * Waits for this request's slot: refuses while a 429 gate is up, and
 * spaces requests min_interval_ms apart (reserving the slot under the lock
 * so concurrent callers queue in order).
 */
static int take_slot(struct pcs_http *h, const char *url, struct attest_err *err)
{
	int64_t now, start, wait_ms;
	struct timespec ts;

	pthread_mutex_lock(&h->mu);
	now = pcs_http_mono_ms();
	if (now < h->gate_ms) {
		h->refused++;
		wait_ms = h->gate_ms - now;
		pthread_mutex_unlock(&h->mu);
		return attest_err_set(err, ATTEST_E_IO, h->prefix,
				      "%s: upstream asked to wait %lld ms more (429 Retry-After): %s",
				      "rate_limited", (long long)wait_ms, url);
	}
	start = h->next_slot_ms > now ? h->next_slot_ms : now;
	if (start - now > h->o.max_wait_ms) {
		h->refused++;
		pthread_mutex_unlock(&h->mu);
		return attest_err_set(err, ATTEST_E_IO, h->prefix,
				      "rate_limited: next request slot in %lld ms: %s",
				      (long long)(start - now), url);
	}
	h->next_slot_ms = start + h->o.min_interval_ms;
	h->requests++;
	pthread_mutex_unlock(&h->mu);
	if (start > now) {
		ts.tv_sec = (time_t)((start - now) / 1000);
		ts.tv_nsec = (long)((start - now) % 1000) * 1000000L;
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
	return ATTEST_OK;
}

static void set_gate(struct pcs_http *h, int64_t seconds)
{
	pthread_mutex_lock(&h->mu);
	int64_t until = pcs_http_mono_ms() + seconds * 1000;
	if (until > h->gate_ms)
		h->gate_ms = until;
	pthread_mutex_unlock(&h->mu);
}

/* An idle handle (options reset, connection kept) or a new one. */
static CURL *easy_take(struct pcs_http *h)
{
	CURL *c = NULL;

	pthread_mutex_lock(&h->mu);
	if (h->n_idle > 0)
		c = h->idle[--h->n_idle];
	pthread_mutex_unlock(&h->mu);
	if (c != NULL) {
		curl_easy_reset(c);
		return c;
	}
	return curl_easy_init();
}

static void easy_give_back(struct pcs_http *h, CURL *c)
{
	pthread_mutex_lock(&h->mu);
	if (h->n_idle < PCS_HTTP_POOL) {
		h->idle[h->n_idle++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&h->mu);
	if (c != NULL)
		curl_easy_cleanup(c);
}

static CURL *easy_new(struct pcs_http *h, const char *url, struct xfer *x, struct curl_slist **hdrs)
{
	CURL *c = easy_take(h);
	char key[512];

	if (c == NULL)
		return NULL;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->o.connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->o.timeout_ms);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "attestd/" ATTEST_VERSION);
	if (h->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
	if (h->ca_pem != NULL) {
		struct curl_blob blob = {h->ca_pem, h->o.ca_pem_len, CURL_BLOB_COPY};
		curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (h->o.api_key != NULL) {
		snprintf(key, sizeof(key), "Ocp-Apim-Subscription-Key: %s", h->o.api_key);
		*hdrs = curl_slist_append(NULL, key);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
	}
	return c;
}

/* Maps a finished transfer to an rc: curl failures, then the status. */
static int classify(struct pcs_http *h, CURLcode cc, const struct xfer *x, long status, const char *url,
		    struct attest_err *err)
{
	if (x->too_large)
		return attest_err_set(err, ATTEST_E_NOMEM, h->prefix, "too_large: body over %zu bytes: %s",
				      h->o.max_body, url);
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return attest_err_set(err, ATTEST_E_IO, h->prefix, "timeout: no answer within %ld ms: %s",
				      h->o.timeout_ms, url);
	if (cc != CURLE_OK)
		return attest_err_set(err, ATTEST_E_IO, h->prefix, "io: %s: %s", curl_easy_strerror(cc), url);
	if (status == 429) {
		set_gate(h, pcs_http_retry_after_seconds(x->retry_after));
		return attest_err_set(err, ATTEST_E_IO, h->prefix, "rate_limited: 429, retry after %s s: %s",
				      x->retry_after ? x->retry_after : "(default)", url);
	}
	/* 410 Gone: PCS no longer serves that item (an old tcbEvaluationDataNumber): not found either. */
	if (status == 404 || status == 410)
		return attest_err_set(err, ATTEST_E_NOT_FOUND, h->prefix, "not_found: %ld: %s", status, url);
	if (status != 200)
		return attest_err_set(err, ATTEST_E_IO, h->prefix, "http: status %ld: %s", status, url);
	return ATTEST_OK;
}

/*
 * attest_err_set takes one name; the sub-code is the message's first word.
 * This rewrites the name to "<prefix>.<word>" so callers match on the name.
 */
static void name_from_msg(struct attest_err *err, const char *prefix)
{
	const char *colon;

	if (err == NULL || strcmp(err->name, prefix) != 0 || (colon = strchr(err->msg, ':')) == NULL)
		return;
	snprintf(err->name, sizeof(err->name), "%s.%.*s", prefix, (int)(colon - err->msg), err->msg);
	memmove(err->msg, colon + 2, strlen(colon + 2) + 1);
}

int pcs_http_get(struct pcs_http *h, const char *url, const char *const *wanted, struct pcs_http_resp *out,
		 struct attest_err *err)
{
	struct pcs_http_resp r = {0};
	struct xfer x = {&r, h->o.max_body, false, wanted, NULL};
	struct curl_slist *hdrs = NULL;
	CURL *c;
	CURLcode cc;
	long status = 0;
	int rc;

	if ((rc = take_slot(h, url, err)) != ATTEST_OK) {
		name_from_msg(err, h->prefix);
		return rc;
	}
	if ((c = easy_new(h, url, &x, &hdrs)) == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "collateral.nomem", "curl_easy_init failed");
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	easy_give_back(h, c);
	curl_slist_free_all(hdrs);
	r.status = status;
	rc = classify(h, cc, &x, status, url, err);
	free(x.retry_after);
	if (rc != ATTEST_OK) {
		name_from_msg(err, h->prefix);
		if (err != NULL)
			attest_err_where(err, "%.120s", url);
		pcs_http_resp_free(&r);
		return rc;
	}
	if (r.body == NULL && (r.body = calloc(1, 1)) == NULL) {
		pcs_http_resp_free(&r);
		return attest_err_set(err, ATTEST_E_NOMEM, "collateral.nomem", "out of memory");
	}
	*out = r; /* transferred */
	return ATTEST_OK;
}
