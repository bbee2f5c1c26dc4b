/*
 * The router and the response helpers of http.h. Transport-free: the unit
 * tests drive them directly.
 */
#include "server/http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTTP_MAX_ROUTES 128
#define HTTP_MAX_SEGS 12
#define HTTP_SEG_MAX 64

struct route_seg {
	bool param;
	char name[HTTP_SEG_MAX];   /* literal text, or the parameter's name */
	char suffix[HTTP_SEG_MAX]; /* literal after "}" in the same segment */
};

struct route {
	char method[8];
	char pattern[256];
	unsigned flags;
	http_handler fn;
	void *arg;
	size_t nsegs;
	struct route_seg segs[HTTP_MAX_SEGS];
	int score; /* literal characters: the more, the more specific */
};

struct http_router {
	size_t n;
	struct route routes[HTTP_MAX_ROUTES];
};

struct http_router *http_router_new(void)
{
	return calloc(1, sizeof(struct http_router));
}

void http_router_free(struct http_router *r)
{
	free(r);
}

static bool param_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '~' || c == '-';
}

/* Parses "/a/{b}:c" into segments. */
static int parse_pattern(struct route *rt, const char *pattern, struct attest_err *err)
{
	const char *p = pattern;

	if (p[0] != '/' || strlen(pattern) >= sizeof(rt->pattern))
		return attest_err_set(err, ATTEST_E_INVALID, "http.route.pattern", "pattern \"%s\" must start with '/'",
				      pattern);
	rt->nsegs = 0;
	rt->score = 0;
	while (*p == '/') {
		const char *seg = ++p, *end = strchr(seg, '/');
		size_t len = end ? (size_t)(end - seg) : strlen(seg);
		struct route_seg *s;

		if (len == 0 && end == NULL)
			break; /* trailing slash or "/" alone */
		if (len == 0 || len >= HTTP_SEG_MAX || rt->nsegs == HTTP_MAX_SEGS)
			return attest_err_set(err, ATTEST_E_INVALID, "http.route.pattern",
					      "pattern \"%s\" has an empty, long or extra segment", pattern);
		s = &rt->segs[rt->nsegs++];
		memset(s, 0, sizeof(*s));
		if (seg[0] == '{') {
			const char *close = memchr(seg, '}', len);
			if (close == NULL || close == seg + 1)
				return attest_err_set(err, ATTEST_E_INVALID, "http.route.pattern",
						      "pattern \"%s\": unclosed or empty {name}", pattern);
			s->param = true;
			memcpy(s->name, seg + 1, (size_t)(close - seg - 1));
			memcpy(s->suffix, close + 1, len - (size_t)(close - seg) - 1);
			rt->score += (int)strlen(s->suffix);
		} else {
			memcpy(s->name, seg, len);
			rt->score += (int)len + 1000; /* a literal segment beats any parameter */
		}
		p = seg + len;
	}
	return ATTEST_OK;
}

int http_router_add(struct http_router *r, const char *method, const char *pattern, unsigned flags,
		    http_handler fn, void *arg, struct attest_err *err)
{
	struct route rt;
	int rc;

	memset(&rt, 0, sizeof(rt));
	if (method == NULL || strlen(method) >= sizeof(rt.method) || fn == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "http.route.pattern", "route needs a method and a handler");
	rc = parse_pattern(&rt, pattern, err);
	if (rc != ATTEST_OK)
		return rc;
	snprintf(rt.method, sizeof(rt.method), "%s", method);
	snprintf(rt.pattern, sizeof(rt.pattern), "%s", pattern);
	rt.flags = flags;
	rt.fn = fn;
	rt.arg = arg;
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->routes[i].method, method) == 0 && strcmp(r->routes[i].pattern, pattern) == 0) {
			r->routes[i] = rt; /* a later module takes the route over */
			return ATTEST_OK;
		}
	}
	if (r->n == HTTP_MAX_ROUTES)
		return attest_err_set(err, ATTEST_E_NOMEM, "http.route.full", "more than %d routes", HTTP_MAX_ROUTES);
	r->routes[r->n++] = rt;
	return ATTEST_OK;
}

struct path_segs {
	size_t n;
	size_t off[HTTP_MAX_SEGS];
	size_t len[HTTP_MAX_SEGS];
};

/* Splits a request path; a trailing '/' is ignored. False when it has too many or empty segments. */
static bool split_path(const char *path, struct path_segs *ps)
{
	size_t i = 0, total = strlen(path);

	ps->n = 0;
	if (total == 0 || path[0] != '/')
		return false;
	if (total > 1 && path[total - 1] == '/')
		total--;
	if (total > 1 && path[total - 1] == '/')
		return false; /* "//" at the end is an empty segment */
	i = 1;
	while (i < total) {
		size_t start = i;
		while (i < total && path[i] != '/')
			i++;
		if (i == start || ps->n == HTTP_MAX_SEGS)
			return false; /* "//" or too deep */
		ps->off[ps->n] = start;
		ps->len[ps->n] = i - start;
		ps->n++;
		i++;
	}
	return true;
}

static bool seg_match(const struct route_seg *s, const char *p, size_t len, struct http_route_hit *hit)
{
	size_t sl;

	if (!s->param)
		return strlen(s->name) == len && memcmp(s->name, p, len) == 0;
	sl = strlen(s->suffix);
	if (len <= sl || memcmp(p + len - sl, s->suffix, sl) != 0)
		return false;
	for (size_t i = 0; i < len - sl; i++) {
		if (!param_char(p[i]))
			return false;
	}
	if (hit != NULL && hit->nparams < HTTP_MAX_PARAMS) {
		hit->param_names[hit->nparams] = s->name;
		hit->param_len[hit->nparams] = len - sl;
		hit->nparams++;
	}
	return true;
}

static bool route_match(const struct route *rt, const char *path, const struct path_segs *ps,
			struct http_route_hit *hit)
{
	if (rt->nsegs != ps->n)
		return false;
	if (hit != NULL)
		hit->nparams = 0;
	for (size_t i = 0; i < ps->n; i++) {
		size_t before = hit ? hit->nparams : 0;
		if (!seg_match(&rt->segs[i], path + ps->off[i], ps->len[i], hit))
			return false;
		if (hit != NULL && hit->nparams > before)
			hit->param_off[hit->nparams - 1] = ps->off[i];
	}
	return true;
}

static void allow_add(char *allow, size_t cap, const char *method)
{
	if (strstr(allow, method) != NULL)
		return;
	if (allow[0] != '\0')
		strncat(allow, ", ", cap - strlen(allow) - 1);
	strncat(allow, method, cap - strlen(allow) - 1);
}

enum http_match http_router_match(const struct http_router *r, const char *method, const char *path,
				  struct http_route_hit *hit)
{
	const struct route *best = NULL;
	struct path_segs ps;
	bool path_known = false;

	memset(hit, 0, sizeof(*hit));
	if (!split_path(path, &ps))
		return HTTP_MATCH_NO_PATH;
	if (strcmp(method, "HEAD") == 0)
		method = "GET"; /* HEAD is GET without a body (RFC 9110 §9.3.2) */
	for (size_t i = 0; i < r->n; i++) {
		const struct route *rt = &r->routes[i];
		if (!route_match(rt, path, &ps, NULL))
			continue;
		path_known = true;
		allow_add(hit->allow, sizeof(hit->allow), rt->method);
		if (strcmp(rt->method, method) == 0 && (best == NULL || rt->score > best->score))
			best = rt;
	}
	if (best == NULL)
		return path_known ? HTTP_MATCH_NO_METHOD : HTTP_MATCH_NO_PATH;
	route_match(best, path, &ps, hit);
	hit->fn = best->fn;
	hit->arg = best->arg;
	hit->flags = best->flags;
	return HTTP_MATCH_OK;
}

/* ---- responses -------------------------------------------------------------- */

static void resp_reset_body(struct http_response *resp)
{
	if (resp->body.max == 0)
		buf_init(&resp->body, HTTP_RESP_BODY_MAX);
	buf_reset(&resp->body);
}

int http_resp_bytes(struct http_response *resp, int status, const char *content_type, const void *p, size_t n)
{
	resp_reset_body(resp);
	if (n > 0 && buf_append(&resp->body, p, n) != 0)
		return ATTEST_E_NOMEM;
	resp->status = status;
	snprintf(resp->content_type, sizeof(resp->content_type), "%s", content_type ? content_type : "");
	return ATTEST_OK;
}

int http_resp_json(struct http_response *resp, int status, const json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
	int rc;

	if (text == NULL)
		return http_resp_error(resp, 500, "InternalError", "cannot serialise the response");
	rc = http_resp_bytes(resp, status, "application/json; charset=utf-8", text, strlen(text));
	free(text);
	return rc;
}

#define ONES  UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/*
 * Are the 8 bytes at p all plain: 0x20..0x7e, not '"' or '\\'? The
 * "has a byte less than / equal to" bit tricks (exact as a whole-word
 * answer); a byte >= 0x7f has its high bit set in x or in x + 1.
 */
static bool word_plain(const char *p)
{
	uint64_t x, q, b;

	memcpy(&x, p, 8);
	q = x ^ (ONES * '"');
	b = x ^ (ONES * '\\');
	return ((((x - ONES * 0x20) & ~x) | ((q - ONES) & ~q) | ((b - ONES) & ~b) | x | (x + ONES)) &
		HIGHS) == 0;
}

/* True when jansson writes s unchanged inside quotes: printable ASCII other than '"' and '\\'. */
static bool json_plain(const char *s, size_t n)
{
	size_t i = 0;

	for (; n - i >= 8; i += 8) {
		if (!word_plain(s + i))
			return false;
	}
	for (; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			return false;
	}
	return true;
}

int http_resp_json_str_member(struct http_response *resp, int status, const char *name, const char *value)
{
	json_t *body;
	int rc;
	size_t nl, vl;

	if (name == NULL || value == NULL) /* json_pack refused NULL strings too */
		return http_resp_error(resp, 500, "InternalError", "out of memory");
	nl = strlen(name);
	vl = strlen(value);
	if (json_plain(name, nl) && json_plain(value, vl)) {
		resp_reset_body(resp);
		if (buf_append(&resp->body, "{\"", 2) != 0 || buf_append(&resp->body, name, nl) != 0 ||
		    buf_append(&resp->body, "\":\"", 3) != 0 || buf_append(&resp->body, value, vl) != 0 ||
		    buf_append(&resp->body, "\"}", 2) != 0)
			return http_resp_error(resp, 500, "InternalError", "out of memory");
		resp->status = status;
		snprintf(resp->content_type, sizeof(resp->content_type), "%s",
			 "application/json; charset=utf-8");
		return ATTEST_OK;
	}
	/* Text that needs escaping (or is not UTF-8) goes the general way. */
	body = json_pack("{s:s}", name, value);
	if (body == NULL)
		return http_resp_error(resp, 500, "InternalError", "out of memory");
	rc = http_resp_json(resp, status, body);
	json_decref(body);
	return rc;
}

int http_resp_header(struct http_response *resp, const char *name, const char *value)
{
	struct http_resp_header *h;

	/* Too long is refused on both paths (replacing must not truncate silently). */
	if (strlen(name) >= sizeof(h->name) || strlen(value) >= sizeof(h->value))
		return ATTEST_E_NOMEM;
	for (size_t i = 0; i < resp->nheaders; i++) {
		if (strcasecmp(resp->headers[i].name, name) == 0) {
			snprintf(resp->headers[i].value, sizeof(resp->headers[i].value), "%s", value);
			return ATTEST_OK;
		}
	}
	if (resp->nheaders == HTTP_MAX_RESP_HEADERS)
		return ATTEST_E_NOMEM;
	h = &resp->headers[resp->nheaders++];
	snprintf(h->name, sizeof(h->name), "%s", name);
	snprintf(h->value, sizeof(h->value), "%s", value);
	return ATTEST_OK;
}

static int resp_error_msg(struct http_response *resp, int status, const char *code, const char *msg)
{
	json_t *body = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
	int rc;

	if (body == NULL)
		return ATTEST_E_NOMEM;
	rc = http_resp_json(resp, status, body);
	json_decref(body);
	snprintf(resp->error_code, sizeof(resp->error_code), "%s", code);
	snprintf(resp->error_msg, sizeof(resp->error_msg), "%s", msg);
	/* 2025-06-01 adds x-ms-error-code with the same value as "code" (reference §1.8). */
	http_resp_header(resp, "x-ms-error-code", code);
	return rc;
}

int http_resp_error(struct http_response *resp, int status, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return resp_error_msg(resp, status, code, msg);
}

int http_resp_error_from(struct http_response *resp, int status, const char *code, const struct attest_err *err)
{
	char msg[ATTEST_ERR_MSG_MAX + ATTEST_ERR_NAME_MAX + ATTEST_ERR_WHERE_MAX + 16];

	if (err == NULL || err->name[0] == '\0')
		return resp_error_msg(resp, status, code, "request failed");
	if (err->where[0] != '\0')
		snprintf(msg, sizeof(msg), "%s (%s at %s)", err->msg, err->name, err->where);
	else
		snprintf(msg, sizeof(msg), "%s (%s)", err->msg, err->name);
	return resp_error_msg(resp, status, code, msg);
}

const char *http_req_param(const struct http_request *req, const char *name)
{
	for (size_t i = 0; i < req->nparams; i++) {
		if (strcmp(req->param_names[i], name) == 0)
			return req->param_values[i];
	}
	return NULL;
}
