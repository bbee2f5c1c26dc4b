/*
 * attestd's transport over libmicrohttpd (httpd.h).
 *
 * Design note. MHD calls on_request several times per request: first with
 * the head (we allocate the request context, check Content-Length against
 * the body limit and answer 413 at once when it is over), then with body
 * chunks (appended to a capped buffer; past the cap the rest is drained and
 * the answer is 413; past the request time limit it is 408), then once
 * with no data: the request is complete and dispatch() runs the route. The
 * log line, the metrics and the in-flight count are settled in
 * on_completed, which MHD calls once per request whatever happened.
 */
#include "server/httpd.h"

#include "base/arena.h"
#include "base/buf.h"
#include "base/codec.h"
#include "base/timeutil.h"
#include "server/auth.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/ratelimit.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REQ_ARENA_MAX (32u * 1024 * 1024)

/*
 * TLS 1.2 and 1.3 only, AEAD ciphers with forward secrecy, no SHA-1 (the
 * Mozilla "intermediate" profile), in GnuTLS priority syntax.
 */
#define HTTPD_TLS_PRIORITIES                                                                                         \
	"SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:"     \
	"-SHA1:-RSA:-DHE-RSA"

const char *const HTTPD_API_VERSIONS[] = {"2018-09-01-preview", "2020-10-01",         "2022-08-01",
					  "2022-09-01-preview", "2023-04-01-preview", "2025-06-01",
					  NULL};

const char *httpd_api_versions_str(void)
{
	return "2018-09-01-preview, 2020-10-01, 2022-08-01, 2022-09-01-preview, 2023-04-01-preview, 2025-06-01";
}

/*
 * Providers change rarely and are read on every request: a small cache
 * with a short lifetime spares a database read per request. Management
 * writes on this node forget the entry at once; changes made by another
 * node sharing the store are seen within PROVIDER_CACHE_NS.
 */
#define PROVIDER_CACHE_SIZE 64
#define PROVIDER_CACHE_NS 1000000000ull

struct provider_slot {
	bool used;
	uint64_t fetched_ns;
	struct store_provider p;
};

struct httpd {
	struct MHD_Daemon *d;
	struct srv *srv;
	atomic_llong inflight;
	struct auth_jwks_cache *jwks_cache; /* providers' issuer keys fetched by URL */
	pthread_mutex_t cache_mu;
	size_t cache_next; /* round-robin victim */
	struct provider_slot cache[PROVIDER_CACHE_SIZE];
};

struct reqctx {
	struct httpd *h;
	uint64_t start_ns;
	char request_id[37];
	struct buf body;
	bool too_big;
	bool timed_out;
	bool answered;
	int status;
	char method[16];
	char path[256];
	char provider[STORE_NAME_MAX];
	char type[32];
	char error_code[64];
	char error_msg[256];
	char client_request_id[80];
	size_t bytes_in;
	size_t bytes_out;
};

/* ---- small helpers --------------------------------------------------------- */

/* snprintf(dst, cap, "%s", src) without printf's machinery: a dozen of these run per request. */
static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void make_uuid(char out[37])
{
	uint8_t b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		memset(b, 0, sizeof(b));
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 (RFC 9562 §5.4) */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* variant 10 */
	/* 8-4-4-4-12 lower-case hex digits (RFC 9562 §4), without printf's cost on every request */
	hex_encode_to(b, 4, out);
	out[8] = '-';
	hex_encode_to(b + 4, 2, out + 9);
	out[13] = '-';
	hex_encode_to(b + 6, 2, out + 14);
	out[18] = '-';
	hex_encode_to(b + 8, 2, out + 19);
	out[23] = '-';
	hex_encode_to(b + 10, 6, out + 24);
	out[36] = '\0';
}

const char *http_req_header(const struct http_request *req, const char *name)
{
	return req->impl ? MHD_lookup_connection_value(req->impl, MHD_HEADER_KIND, name) : NULL;
}

const char *http_req_query(const struct http_request *req, const char *name)
{
	return req->impl ? MHD_lookup_connection_value(req->impl, MHD_GET_ARGUMENT_KIND, name) : NULL;
}

int64_t httpd_inflight(const struct httpd *h)
{
	return atomic_load(&((struct httpd *)h)->inflight);
}

/* ---- sending ------------------------------------------------------------------ */

static enum MHD_Result send_response(struct MHD_Connection *c, struct reqctx *rq, struct http_response *resp,
				     const char *allow)
{
	struct MHD_Response *r;
	size_t len = 0;
	uint8_t *body;
	enum MHD_Result ok;

	if (resp->status == 0)
		http_resp_error(resp, 500, "InternalError", "the handler produced no response");
	if (resp->body.max == 0)
		buf_init(&resp->body, HTTP_RESP_BODY_MAX);
	body = buf_steal(&resp->body, &len);
	r = MHD_create_response_from_buffer(len, body ? body : (uint8_t *)"", body ? MHD_RESPMEM_MUST_FREE
										  : MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	if (resp->content_type[0] != '\0')
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	MHD_add_response_header(r, "x-ms-request-id", rq->request_id);
	MHD_add_response_header(r, "x-ms-maa-service-version", rq->h->srv->service_version);
	if (allow != NULL && allow[0] != '\0')
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	for (size_t i = 0; i < resp->nheaders; i++)
		MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
	rq->status = resp->status;
	rq->bytes_out = len;
	rq->answered = true;
	copy_str(rq->error_code, sizeof(rq->error_code), resp->error_code);
	copy_str(rq->error_msg, sizeof(rq->error_msg), resp->error_msg);
	ok = MHD_queue_response(c, (unsigned int)resp->status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result send_error(struct MHD_Connection *c, struct reqctx *rq, int status, const char *code,
				  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static enum MHD_Result send_error(struct MHD_Connection *c, struct reqctx *rq, int status, const char *code,
				  const char *fmt, ...)
{
	struct http_response resp;
	char msg[512];
	va_list ap;
	enum MHD_Result ok;

	memset(&resp, 0, HTTP_RESPONSE_ZEROED);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	http_resp_error(&resp, status, code, "%s", msg);
	ok = send_response(c, rq, &resp, NULL);
	buf_free(&resp.body);
	return ok;
}

/* ---- provider, api-version, auth, rate ------------------------------------------ */

static bool valid_name(const char *s, size_t n)
{
	if (n == 0 || n >= STORE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		      ch == '_'))
			return false;
	}
	return true;
}

/*
 * Which provider a request addresses (issue 9): "/providers/<name>/..." by
 * path, "<name>.<domain>" by host when a domain is configured, else the
 * default provider. *path is what the router sees; *base_url the issuer.
 */
static int resolve_provider(struct srv *srv, struct MHD_Connection *c, const char *url, char name[STORE_NAME_MAX],
			    const char **path, char *base_url, size_t cap, bool *explicit_provider)
{
	const struct srv_config *cfg = srv->cfg;
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);

	*explicit_provider = false;
	*path = url;
	if (strncmp(url, "/providers/", 11) == 0) {
		const char *seg = url + 11, *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);
		if (!valid_name(seg, n))
			return -1;
		memcpy(name, seg, n);
		name[n] = '\0';
		*path = end ? end : "/";
		*explicit_provider = true;
		snprintf(base_url, cap, "%s/providers/%s", cfg->public_url, name);
		return 0;
	}
	if (cfg->domain[0] != '\0' && host != NULL) {
		const char *dot = strchr(host, '.');
		size_t hl = strcspn(host, ":");
		size_t dl = strlen(cfg->domain);
		if (dot != NULL && (size_t)(dot - host) < hl && hl - (size_t)(dot - host) - 1 == dl &&
		    strncasecmp(dot + 1, cfg->domain, dl) == 0 && valid_name(host, (size_t)(dot - host))) {
			memcpy(name, host, (size_t)(dot - host));
			name[dot - host] = '\0';
			*explicit_provider = true;
			snprintf(base_url, cap, "https://%.200s", host);
			return 0;
		}
	}
	copy_str(name, STORE_NAME_MAX, cfg->default_provider);
	copy_str(base_url, cap, cfg->public_url);
	return 0;
}

static bool api_version_known(const char *v)
{
	for (size_t i = 0; HTTPD_API_VERSIONS[i] != NULL; i++) {
		if (strcmp(v, HTTPD_API_VERSIONS[i]) == 0)
			return true;
	}
	return false;
}

/* Bearer credential → role. Only the bootstrap administrator is known here. */
static void authenticate(struct srv *srv, struct MHD_Connection *c, struct http_auth *auth)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	uint8_t d[32];
	unsigned int dl = 0;

	memset(auth, 0, sizeof(*auth));
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0 || !srv->admin_digest_set)
		return;
	h += 7;
	if (EVP_Digest(h, strlen(h), d, &dl, EVP_sha256(), NULL) != 1 || dl != 32)
		return;
	if (CRYPTO_memcmp(d, srv->admin_digest, 32) == 0) {
		auth->authenticated = true;
		auth->role = HTTP_ROLE_ADMIN;
		snprintf(auth->subject, sizeof(auth->subject), "bootstrap-admin");
	}
}

static enum http_role role_needed(unsigned flags, const struct store_provider *p)
{
	if (flags & HTTP_ROUTE_ADMIN)
		return HTTP_ROLE_ADMIN;
	if (flags & HTTP_ROUTE_CONTRIBUTOR)
		return HTTP_ROLE_CONTRIBUTOR;
	if (flags & HTTP_ROUTE_READER)
		return HTTP_ROLE_READER;
	if ((flags & HTTP_ROUTE_READER_UNLESS_SHARED) && p != NULL && p->mode != STORE_MODE_SHARED)
		return HTTP_ROLE_READER;
	return HTTP_ROLE_NONE;
}

/*
 * The provider's own rate (settings "rate_limit", "rate_burst"), else the
 * service's. Settings that cannot name either (no "rate_", and no '\\'
 * that could spell it escaped) are not parsed: most providers set neither,
 * and this runs on every request.
 */
static void provider_rate(const struct srv_config *cfg, const struct store_provider *p, double *rate, int *burst)
{
	const char *text = p ? p->settings_json : NULL;
	bool may_set = text != NULL && (strstr(text, "rate_") != NULL || strchr(text, '\\') != NULL);
	json_t *s = may_set ? json_loads(text, 0, NULL) : NULL;
	json_t *r = json_object_get(s, "rate_limit"), *b = json_object_get(s, "rate_burst");

	*rate = json_is_number(r) ? json_number_value(r) : cfg->rate_limit;
	*burst = json_is_integer(b) ? (int)json_integer_value(b) : cfg->rate_burst;
	json_decref(s);
}

/* ---- provider cache ----------------------------------------------------------------- */

static int provider_copy(const struct store_provider *from, struct store_provider *to)
{
	*to = *from;
	to->initial_certs = NULL;
	to->n_initial_certs = 0;
	to->settings_json = strdup(from->settings_json ? from->settings_json : "{}");
	return to->settings_json ? ATTEST_OK : ATTEST_E_NOMEM;
}

/* The provider by name, from the cache or the store. *out: store_provider_clear. */
static int provider_lookup(struct httpd *h, const char *name, struct store_provider *out, struct attest_err *err)
{
	uint64_t now = time_mono_ns();
	struct store_provider fresh = {0};
	int rc;

	pthread_mutex_lock(&h->cache_mu);
	for (size_t i = 0; i < PROVIDER_CACHE_SIZE; i++) {
		struct provider_slot *s = &h->cache[i];
		if (s->used && strcmp(s->p.name, name) == 0 && now - s->fetched_ns < PROVIDER_CACHE_NS) {
			rc = provider_copy(&s->p, out);
			pthread_mutex_unlock(&h->cache_mu);
			return rc == ATTEST_OK ? rc : attest_err_set(err, rc, "server.nomem", "out of memory");
		}
	}
	pthread_mutex_unlock(&h->cache_mu);
	rc = store_provider_get(h->srv->store, name, &fresh, err);
	if (rc != ATTEST_OK && strcmp(err->name, "store.unavailable") == 0) {
		/* The database is down (issue 11): keep serving the provider as last seen. */
		int stale = ATTEST_E_NOT_FOUND;
		pthread_mutex_lock(&h->cache_mu);
		for (size_t i = 0; i < PROVIDER_CACHE_SIZE && stale != ATTEST_OK; i++) {
			if (h->cache[i].used && strcmp(h->cache[i].p.name, name) == 0)
				stale = provider_copy(&h->cache[i].p, out);
		}
		pthread_mutex_unlock(&h->cache_mu);
		if (stale == ATTEST_OK) {
			attest_err_clear(err);
			return ATTEST_OK;
		}
	}
	if (rc != ATTEST_OK)
		return rc;
	pthread_mutex_lock(&h->cache_mu);
	struct provider_slot *victim = &h->cache[h->cache_next++ % PROVIDER_CACHE_SIZE];
	for (size_t i = 0; i < PROVIDER_CACHE_SIZE; i++) {
		if (h->cache[i].used && strcmp(h->cache[i].p.name, name) == 0)
			victim = &h->cache[i];
	}
	store_provider_clear(&victim->p);
	victim->used = provider_copy(&fresh, &victim->p) == ATTEST_OK;
	victim->fetched_ns = now;
	pthread_mutex_unlock(&h->cache_mu);
	*out = fresh; /* transferred */
	return ATTEST_OK;
}

void httpd_provider_changed(struct httpd *h, const char *name)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->cache_mu);
	for (size_t i = 0; i < PROVIDER_CACHE_SIZE; i++) {
		if (h->cache[i].used && (name == NULL || strcmp(h->cache[i].p.name, name) == 0)) {
			store_provider_clear(&h->cache[i].p);
			h->cache[i].used = false;
		}
	}
	pthread_mutex_unlock(&h->cache_mu);
}

/* ---- dispatch ------------------------------------------------------------------ */

struct dispatch {
	char auth_failure[ATTEST_ERR_MSG_MAX + ATTEST_ERR_NAME_MAX + 8]; /* why a bearer token was refused */
	struct http_request req;
	struct store_provider prov;
	bool have_prov;
	struct arena arena;
	char base_url[512];
	const char *allow;
	struct http_response resp; /* last: zeroed up to its headers (DISPATCH_ZEROED) */
};

/* A fresh dispatch needs zeros up to resp's headers: the ~66 kB of header slots are written before read. */
#define DISPATCH_ZEROED (offsetof(struct dispatch, resp) + HTTP_RESPONSE_ZEROED)

/*
 * A bearer token that is not the administrator's is checked against the
 * provider's own issuer (auth.h). A bad token does not fail the request by
 * itself: it leaves the caller anonymous, and the reason is given if the
 * route needs a role.
 */
static void provider_bearer(struct httpd *h, struct dispatch *d)
{
	const char *hdr = http_req_header(&d->req, MHD_HTTP_HEADER_AUTHORIZATION);
	struct attest_err err = {0};
	json_t *settings;

	if (d->req.auth.authenticated || hdr == NULL || strncasecmp(hdr, "Bearer ", 7) != 0)
		return;
	settings = json_loads(d->prov.settings_json ? d->prov.settings_json : "{}", 0, NULL);
	if (auth_verify_bearer(settings, hdr + 7, d->req.now, h->jwks_cache, &d->req.auth, &err) != ATTEST_OK) {
		snprintf(d->auth_failure, sizeof(d->auth_failure), "%s (%s)", err.msg, err.name);
		srv_log(&h->srv->log, SRV_LOG_DEBUG, "request %s: bearer refused: %s", d->req.request_id, d->auth_failure);
	}
	json_decref(settings);
}

/* Checks what the route's flags ask before its handler runs; false when already answered in resp. */
static bool precheck(struct httpd *h, struct dispatch *d, unsigned flags, bool explicit_provider)
{
	struct srv *srv = h->srv;
	struct http_request *req = &d->req;
	struct attest_err err = {0};

	if (flags & HTTP_ROUTE_SERVICE) {
		if (explicit_provider) {
			http_resp_error(&d->resp, 404, "NotFound", "%s is not a provider operation", req->path);
			return false;
		}
	} else {
		int rc = provider_lookup(h, d->prov.name, &d->prov, &err);
		if (rc != ATTEST_OK) {
			if (rc == ATTEST_E_NOT_FOUND) {
				http_resp_error(&d->resp, 404, "ProviderNotFound", "no attestation provider \"%s\"",
						d->prov.name);
			} else if (strcmp(err.name, "store.unavailable") == 0) {
				http_resp_header(&d->resp, "Retry-After", "1");
				http_resp_error_from(&d->resp, 503, "ServiceUnavailable", &err);
			} else
				http_resp_error_from(&d->resp, 500, "InternalError", &err);
			return false;
		}
		d->have_prov = true;
		req->provider = &d->prov;
		provider_bearer(h, d);
	}
	if (flags & HTTP_ROUTE_API_VERSION) {
		const char *v = http_req_query(req, "api-version");
		if (v == NULL || *v == '\0') {
			http_resp_error(&d->resp, 400, "MissingApiVersionParameter",
					"The api-version query parameter is required. Supported versions: %s",
					httpd_api_versions_str());
			return false;
		}
		if (!api_version_known(v)) {
			http_resp_error(&d->resp, 400, "InvalidApiVersionParameter",
					"The api-version '%.64s' is not supported. Supported versions: %s", v,
					httpd_api_versions_str());
			return false;
		}
		req->api_version = v;
	}
	enum http_role need = role_needed(flags, req->provider);
	if (need > req->auth.role) {
		if (!req->auth.authenticated) {
			http_resp_header(&d->resp, "WWW-Authenticate", "Bearer");
			if (d->auth_failure[0] != '\0')
				http_resp_error(&d->resp, 401, "Unauthorized", "%s", d->auth_failure);
			else
				http_resp_error(&d->resp, 401, "Unauthorized", "this operation needs a bearer token");
		} else {
			http_resp_error(&d->resp, 403, "Forbidden", "the caller's role does not allow this operation");
		}
		return false;
	}
	/* Every provider operation counts against its provider's limit (issue 9). */
	if (d->have_prov) {
		double rate;
		int burst, retry = 1;
		provider_rate(srv->cfg, &d->prov, &rate, &burst);
		if (!srv_ratelimit_take(srv->ratelimit, d->prov.name, rate, burst, time_mono_ns(), &retry)) {
			char ra[16];
			snprintf(ra, sizeof(ra), "%d", retry);
			http_resp_header(&d->resp, "Retry-After", ra);
			http_resp_error(&d->resp, 429, "TooManyRequests",
					"provider \"%s\" is limited to %.6g requests per second; retry after %d s",
					d->prov.name, rate, retry);
			return false;
		}
	}
	return true;
}

static void route(struct srv *srv, struct MHD_Connection *c, struct reqctx *rq, const char *url, const char *method,
		  struct dispatch *d)
{
	struct http_request *req = &d->req;
	struct http_route_hit hit;
	bool explicit_provider = false;
	const char *path = url;
	char names[HTTP_MAX_PARAMS][64];

	if (resolve_provider(srv, c, url, d->prov.name, &path, d->base_url, sizeof(d->base_url), &explicit_provider) != 0) {
		http_resp_error(&d->resp, 404, "NotFound", "malformed provider name in the path");
		return;
	}
	req->path = path;
	req->base_url = d->base_url;
	switch (http_router_match(srv->router, method, path, &hit)) {
	case HTTP_MATCH_NO_PATH:
		http_resp_error(&d->resp, 404, "NotFound", "no operation at %s %s", method, path);
		return;
	case HTTP_MATCH_NO_METHOD:
		d->allow = arena_strdup(&d->arena, hit.allow);
		http_resp_error(&d->resp, 405, "MethodNotAllowed", "%s is not allowed on %s (allowed: %s)", method,
				path, hit.allow);
		return;
	case HTTP_MATCH_OK:
		break;
	}
	req->nparams = hit.nparams;
	for (size_t i = 0; i < hit.nparams; i++) {
		size_t n = hit.param_len[i] < sizeof(names[i]) - 1 ? hit.param_len[i] : sizeof(names[i]) - 1;
		memcpy(names[i], path + hit.param_off[i], n);
		names[i][n] = '\0';
		req->param_names[i] = hit.param_names[i];
		req->param_values[i] = arena_strdup(&d->arena, names[i]);
	}
	bool go = precheck(rq->h, d, hit.flags, explicit_provider);
	/* Only providers that exist become metric labels: invented names cannot grow the series. */
	if (d->have_prov)
		copy_str(rq->provider, sizeof(rq->provider), d->prov.name);
	if (!go)
		return;
	hit.fn(req, &d->resp, hit.arg);
	if (req->label_type != NULL)
		copy_str(rq->type, sizeof(rq->type), req->label_type);
}

static enum MHD_Result dispatch(struct httpd *h, struct MHD_Connection *c, struct reqctx *rq, const char *url,
				const char *method)
{
	struct srv *srv = h->srv;
	struct dispatch *d = malloc(sizeof(*d));
	enum MHD_Result ok;

	if (d == NULL)
		return MHD_NO;
	memset(d, 0, DISPATCH_ZEROED);
	arena_init(&d->arena, REQ_ARENA_MAX);
	buf_init(&d->resp.body, HTTP_RESP_BODY_MAX);
	if (buf_append(&rq->body, "", 0) != 0) { /* a NUL-terminated, never-NULL body */
		buf_free(&d->resp.body);
		free(d);
		return MHD_NO;
	}
	d->req.method = method;
	d->req.url = url;
	d->req.body = rq->body.p ? rq->body.p : (const uint8_t *)"";
	d->req.body_len = rq->body.len;
	d->req.request_id = rq->request_id;
	d->req.now = srv_now(srv);
	d->req.srv = srv;
	d->req.arena = &d->arena;
	d->req.impl = c;
	d->req.label_type = NULL;
	authenticate(srv, c, &d->req.auth);
	route(srv, c, rq, url, method, d);
	ok = send_response(c, rq, &d->resp, d->allow);
	buf_free(&d->resp.body);
	if (d->have_prov)
		store_provider_clear(&d->prov);
	arena_release(&d->arena);
	free(d);
	return ok;
}

/* ---- MHD callbacks ------------------------------------------------------------------ */

static struct reqctx *reqctx_new(struct httpd *h, struct MHD_Connection *c, const char *url, const char *method)
{
	struct reqctx *rq = calloc(1, sizeof(*rq));
	const char *cid;

	if (rq == NULL)
		return NULL;
	rq->h = h;
	rq->start_ns = time_mono_ns();
	make_uuid(rq->request_id);
	buf_init(&rq->body, h->srv->cfg->max_body + 1);
	copy_str(rq->method, sizeof(rq->method), method);
	copy_str(rq->path, sizeof(rq->path), url);
	cid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-ms-client-request-id");
	if (cid != NULL)
		copy_str(rq->client_request_id, sizeof(rq->client_request_id), cid);
	atomic_fetch_add(&h->inflight, 1);
	return rq;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct httpd *h = cls;
	struct reqctx *rq = *con_cls;
	const struct srv_config *cfg = h->srv->cfg;

	if (rq == NULL) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		rq = reqctx_new(h, c, url, method);
		if (rq == NULL)
			return MHD_NO;
		*con_cls = rq;
		/* Refuse an announced oversized body before reading a byte of it. */
		if (cl != NULL && strtoull(cl, NULL, 10) > cfg->max_body)
			return send_error(c, rq, 413, "RequestEntityTooLarge",
					  "request body of %s bytes is over the %zu-byte limit", cl, cfg->max_body);
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		rq->bytes_in += *upload_data_size;
		if (!rq->answered && !rq->too_big && !rq->timed_out &&
		    buf_append(&rq->body, upload_data, *upload_data_size) != 0) {
			rq->too_big = true;
			buf_free(&rq->body);
		}
		*upload_data_size = 0;
		/*
		 * A body that trickles in for longer than the timeout is answered
		 * 408 and not processed. libmicrohttpd cannot answer in the middle
		 * of a body, so the rest is drained (into nothing); a client that
		 * stalls completely is cut off by the idle timeout instead.
		 */
		uint64_t elapsed = time_mono_ns() - rq->start_ns, limit = (uint64_t)cfg->conn_timeout * 1000000000ull;
		if (!rq->timed_out && elapsed > limit) {
			rq->timed_out = true;
			buf_free(&rq->body);
		}
		/* A body that never ends (endless chunks) is not drained forever: drop the connection. */
		if (rq->timed_out && elapsed > 3 * limit)
			return MHD_NO;
		return MHD_YES;
	}
	if (rq->answered)
		return MHD_YES;
	if (rq->timed_out)
		return send_error(c, rq, 408, "RequestTimeout", "request body not received within %d s",
				  cfg->conn_timeout);
	if (rq->too_big)
		return send_error(c, rq, 413, "RequestEntityTooLarge", "request body is over the %zu-byte limit",
				  cfg->max_body);
	(void)version;
	return dispatch(h, c, rq, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct httpd *h = cls;
	struct reqctx *rq = *con_cls;
	double secs;

	(void)c;
	if (rq == NULL)
		return;
	secs = (double)(time_mono_ns() - rq->start_ns) / 1e9;
	if (!rq->answered)
		rq->status = toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? 408 : 499; /* client went away */
	struct srv_log_request line = {
		.request_id = rq->request_id,
		.method = rq->method,
		.path = rq->path,
		.status = rq->status,
		.duration_ms = secs * 1000.0,
		.provider = rq->provider,
		.type = rq->type,
		.error_code = rq->error_code,
		.error_msg = rq->error_msg,
		.client_request_id = rq->client_request_id,
		.bytes_in = rq->bytes_in,
		.bytes_out = rq->bytes_out,
	};
	srv_log_request_line(&h->srv->log, &line);
	srv_metrics_observe(h->srv->metrics, rq->provider, rq->type, rq->status, secs);
	buf_free(&rq->body);
	free(rq);
	*con_cls = NULL;
	atomic_fetch_sub(&h->inflight, 1);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct httpd *h = cls;
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	/* TLS handshakes aborted by clients are routine (platform notes, gotcha 10). */
	srv_log(&h->srv->log, SRV_LOG_DEBUG, "libmicrohttpd: %s", msg);
}

/* ---- start / stop ---------------------------------------------------------------- */

static int bind_addr(const char *listen, int port, struct sockaddr_storage *ss, struct attest_err *err)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, listen, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		return ATTEST_OK;
	}
	if (inet_pton(AF_INET6, listen, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		return ATTEST_OK;
	}
	return attest_err_set(err, ATTEST_E_INVALID, "httpd.start", "listen address \"%s\" is not an IP address", listen);
}

int httpd_listen(const struct srv_config *cfg, int *fd, int *bound_port, struct attest_err *err)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, s = -1, e;
	int rc = bind_addr(cfg->listen, cfg->port, &ss, err);

	if (rc != ATTEST_OK)
		return rc;
	sl = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	/* As libmicrohttpd binds with MHD_OPTION_LISTENING_ADDRESS_REUSE 1 and without dual stack. */
	if ((s = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    (ss.ss_family == AF_INET6 && setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
	    bind(s, (struct sockaddr *)&ss, sl) != 0 || listen(s, SOMAXCONN) != 0 ||
	    getsockname(s, (struct sockaddr *)&ss, &sl) != 0) {
		e = errno;
		if (s >= 0)
			close(s);
		return attest_err_set(err, ATTEST_E_IO, "httpd.start", "cannot listen on %s port %d: %s",
				      cfg->listen, cfg->port, strerror(e));
	}
	*bound_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						     : ((struct sockaddr_in *)&ss)->sin_port);
	*fd = s;
	return ATTEST_OK;
}

int httpd_start(struct srv *srv, const char *cert_pem, const char *key_pem, int listen_fd, struct httpd **out,
		struct attest_err *err)
{
	const struct srv_config *cfg = srv->cfg;
	struct httpd *h;
	/*
	 * poll, not epoll: libmicrohttpd 0.9.75's epoll thread pool can abort in
	 * MHD_quiesce_daemon ("Failed to remove listen FD from epoll set"), seen
	 * once on SIGTERM in the sanitizer run.
	 */
	unsigned int flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_TLS | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	long workers = cfg->workers > 0 ? cfg->workers : sysconf(_SC_NPROCESSORS_ONLN);
	size_t pool = cfg->max_header * 2 < 32768 ? 32768 : cfg->max_header * 2;

	if (strchr(cfg->listen, ':') != NULL)
		flags |= MHD_USE_IPv6;
	if (workers < 1)
		workers = 1;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "httpd.start", "out of memory");
	h->srv = srv;
	atomic_init(&h->inflight, 0);
	pthread_mutex_init(&h->cache_mu, NULL);
	h->jwks_cache = auth_jwks_cache_new();
	/* Published before the workers start (their creation orders it before their reads of srv->httpd). */
	*out = h;
	/*
	 * MHD_OPTION_CONNECTION_MEMORY_LIMIT bounds the request head: a head
	 * that does not fit is refused by libmicrohttpd itself (431/414).
	 */
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET,
				(MHD_socket)listen_fd, MHD_OPTION_HTTPS_MEM_KEY, key_pem,
				MHD_OPTION_HTTPS_MEM_CERT, cert_pem, MHD_OPTION_HTTPS_PRIORITIES,
				HTTPD_TLS_PRIORITIES, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)workers,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)cfg->conn_timeout,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->max_connections,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool, MHD_OPTION_NOTIFY_COMPLETED,
				on_completed, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h, MHD_OPTION_END);
	if (h->d == NULL) {
		*out = NULL;
		pthread_mutex_destroy(&h->cache_mu);
		auth_jwks_cache_free(h->jwks_cache);
		free(h);
		return attest_err_set(err, ATTEST_E_IO, "httpd.start",
				      "cannot serve on %s port %d (the TLS key or certificate is invalid)",
				      cfg->listen, cfg->port);
	}
	return ATTEST_OK;
}

int64_t httpd_stop(struct httpd *h, int grace_ms)
{
	int64_t left;
	MHD_socket s;

	if (h == NULL)
		return 0;
	/* Stop accepting; connections already open keep being served. */
	s = MHD_quiesce_daemon(h->d);
	if (s != MHD_INVALID_SOCKET)
		close(s);
	for (int waited = 0; atomic_load(&h->inflight) > 0 && waited < grace_ms; waited += 10) {
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
	left = atomic_load(&h->inflight);
	MHD_stop_daemon(h->d);
	for (size_t i = 0; i < PROVIDER_CACHE_SIZE; i++)
		store_provider_clear(&h->cache[i].p);
	pthread_mutex_destroy(&h->cache_mu);
	auth_jwks_cache_free(h->jwks_cache);
	free(h);
	return left;
}
