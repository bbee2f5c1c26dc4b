#ifndef ATTEST_SERVER_HTTP_H
#define ATTEST_SERVER_HTTP_H

/*
 * The HTTP layer of attestd as a route handler sees it. Only src/server/
 * knows HTTP (ARCHITECTURE.md); nothing here names libmicrohttpd.
 *
 * Design note. One request is handled start to end on one worker thread:
 * httpd.c reads the whole body (bounded), resolves the provider (host name
 * or /providers/<name>/ prefix), checks api-version, authentication and the
 * provider's rate limit as the route's flags ask, then calls the handler
 * with a request that is complete and a response to fill. The handler
 * returns nothing: it sets resp (status, body, headers) and may leave an
 * error code for logs and metrics. Memory a handler needs only for the
 * request comes from req->arena, released after the response is sent.
 *
 * Routes are registered at start-up (before the daemon starts; the router
 * is read-only while serving, so lookups take no lock). A pattern is a path
 * whose segments are literals or `{name}` (one segment of [A-Za-z0-9._~-],
 * so "SgxEnclave:reset" is not a `{type}`), optionally followed by a literal
 * suffix in the same segment: "/policies/{type}:reset". Literal segments win
 * over parameters. A trailing '/' on the request path is ignored (Gramine
 * asks for "/certs/", MAA §1.2). Registering the same method and pattern
 * again REPLACES the earlier handler: attestd registers its own defaults
 * first, then the attest pipeline's routes (pipeline_routes_register), so a
 * later module can take over a route.
 */

#include "attest/error.h"
#include "base/arena.h"
#include "base/buf.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct srv;            /* the server's shared state: server.h */
struct store_provider; /* store/store.h */

#define HTTP_MAX_PARAMS 4
#define HTTP_MAX_RESP_HEADERS 8
#define HTTP_HEADER_VALUE_MAX 8192 /* PCS issuer-chain headers: two URL-encoded PEM certificates, ~3-4 kB */

/* Roles a caller may hold on the provider a request addresses (issue 9). */
enum http_role {
	HTTP_ROLE_NONE = 0,
	HTTP_ROLE_READER = 1,
	HTTP_ROLE_CONTRIBUTOR = 2,
	HTTP_ROLE_ADMIN = 3,
};

struct http_auth {
	bool authenticated;    /* a credential was presented and verified */
	enum http_role role;   /* on req->provider */
	char subject[128];     /* who: "bootstrap-admin", a token's sub, ... */
};

struct http_request {
	const char *method;  /* "GET", "POST", ... */
	const char *path;    /* path below the provider prefix, "/attest/SgxEnclave" */
	const char *url;     /* path as received, "/providers/p1/attest/SgxEnclave" */
	const uint8_t *body; /* the whole body, NUL-terminated (not counted), never NULL */
	size_t body_len;
	const char *request_id;  /* UUID, sent back as x-ms-request-id */
	const char *api_version; /* the validated ?api-version, or NULL when absent */

	/* The provider addressed (name, mode, settings) and its issuer URL:
	 * "https://host:port" or "https://host:port/providers/<name>". */
	const struct store_provider *provider;
	const char *base_url;

	struct http_auth auth; /* filled for every request that presents a credential */
	int64_t now;           /* the server's clock (fixed by --test-fixed-time) */
	struct srv *srv;       /* store, keyring, config, metrics */
	struct arena *arena;   /* per-request memory */

	size_t nparams; /* values of the pattern's {name} segments */
	const char *param_names[HTTP_MAX_PARAMS];
	const char *param_values[HTTP_MAX_PARAMS];

	/* Labels for metrics and the request log; a handler may set them. */
	const char *label_type; /* attestation type, "" when none */

	void *impl; /* the transport's connection (private to httpd.c) */
};

/* A request header by name (case-insensitive), or NULL. */
const char *http_req_header(const struct http_request *req, const char *name);
/* A query argument by name (decoded), or NULL. */
const char *http_req_query(const struct http_request *req, const char *name);
/* A {name} of the route pattern, or NULL. */
const char *http_req_param(const struct http_request *req, const char *name);

struct http_resp_header {
	char name[64];
	char value[HTTP_HEADER_VALUE_MAX];
};

/*
 * headers[] comes last and only headers[0..nheaders) are ever read: a
 * response may be zeroed up to HTTP_RESPONSE_ZEROED (httpd.c does, per
 * request) instead of all of its ~66 kB.
 */
struct http_response {
	int status;            /* 0 = the handler set nothing: answered 500 */
	char content_type[96];
	struct buf body;       /* capped at HTTP_RESP_BODY_MAX */
	char error_code[64];   /* MAA error code of an error answer, for logs/metrics */
	char error_msg[256];   /* its message, for the log line */
	size_t nheaders;
	struct http_resp_header headers[HTTP_MAX_RESP_HEADERS];
};

/* What must be zero in a fresh response: every member before headers[]. */
#define HTTP_RESPONSE_ZEROED offsetof(struct http_response, headers)

#define HTTP_RESP_BODY_MAX (16u * 1024 * 1024)

/* A JSON body ("application/json; charset=utf-8" as MAA sends). Does not steal body. */
int http_resp_json(struct http_response *resp, int status, const json_t *body);
/*
 * The JSON body {"<name>":"<value>"}, byte for byte what http_resp_json
 * writes for that object, without building it: the attest answer
 * {"token": <3 kB JWT>} dumped through jansson cost about 5 % of a whole
 * attestation. Text that needs escaping takes the jansson path; invalid
 * UTF-8 is answered 500 as http_resp_json would.
 */
int http_resp_json_str_member(struct http_response *resp, int status, const char *name, const char *value);
/* Any bytes with a content type. */
int http_resp_bytes(struct http_response *resp, int status, const char *content_type, const void *p, size_t n);
/*
 * MAA's error body {"error":{"code":..,"message":..}} (reference §1.8) plus
 * the x-ms-error-code header. Returns ATTEST_OK.
 */
int http_resp_error(struct http_response *resp, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same from an error record: message "<err->msg> (<err->name>[ at <where>])". */
int http_resp_error_from(struct http_response *resp, int status, const char *code, const struct attest_err *err);
/* An extra response header (Retry-After, Location, ...). Fails when full. */
int http_resp_header(struct http_response *resp, const char *name, const char *value);

typedef void (*http_handler)(struct http_request *req, struct http_response *resp, void *arg);

enum http_route_flags {
	/* ?api-version required and checked (MAA §1.1): missing/unknown → 400. */
	HTTP_ROUTE_API_VERSION = 1u << 0,
	/* Service-wide: not under a provider (/metrics, /healthz, management API). */
	HTTP_ROUTE_SERVICE = 1u << 1,
	/* Needs at least this role on the provider (401 without a credential, 403 with too little). */
	HTTP_ROUTE_READER = 1u << 2,
	HTTP_ROUTE_CONTRIBUTOR = 1u << 3,
	HTTP_ROUTE_ADMIN = 1u << 4,
	/* Counted against the provider's rate limit (429 + Retry-After). Every
	 * provider-scoped route is counted today; the flag stays for clarity. */
	HTTP_ROUTE_RATE_LIMITED = 1u << 5,
	/* Needs reader role only when the provider is not in shared mode (MAA §1.9 policy reads). */
	HTTP_ROUTE_READER_UNLESS_SHARED = 1u << 6,
};

struct http_router;

/* An empty router; NULL when out of memory. */
struct http_router *http_router_new(void);
void http_router_free(struct http_router *r);

/*
 * Registers method + pattern → fn(req, resp, arg). A second registration of
 * the same method and pattern replaces the first. Errors: http.route.pattern
 * (malformed pattern), http.route.full.
 */
int http_router_add(struct http_router *r, const char *method, const char *pattern, unsigned flags,
		    http_handler fn, void *arg, struct attest_err *err);

/* Result of a lookup: the route (or why none). */
enum http_match {
	HTTP_MATCH_OK = 0,
	HTTP_MATCH_NO_PATH = 1,   /* 404 */
	HTTP_MATCH_NO_METHOD = 2, /* path known, method not: 405 */
};

struct http_route_hit {
	http_handler fn;
	void *arg;
	unsigned flags;
	size_t nparams;
	const char *param_names[HTTP_MAX_PARAMS];
	/* [start, start+len) of each value inside the looked-up path */
	size_t param_off[HTTP_MAX_PARAMS];
	size_t param_len[HTTP_MAX_PARAMS];
	char allow[64]; /* methods of the path, for a 405's Allow header */
};

enum http_match http_router_match(const struct http_router *r, const char *method, const char *path,
				  struct http_route_hit *hit);

/*
 * Hook for the attest pipeline (src/server/pipeline*.c, the "token"
 * helper): attestd calls it once at start-up, after its own routes, when it
 * is linked in (a weak reference, so attestd builds before it exists).
 */
int pipeline_routes_register(struct http_router *r, struct srv *srv, struct attest_err *err) __attribute__((weak));

#endif
