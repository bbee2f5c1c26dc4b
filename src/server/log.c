/* attestd's log lines (log.h). */
#include "server/log.h"

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* "2026-11-28T03:40:00.123Z" */
static void now_str(char *out, size_t cap)
{
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000));
}

static void write_line(const char *s, size_t n)
{
	/* One write per line: stderr is unbuffered, and a single write is not interleaved. */
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void emit_json(json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));

	if (text != NULL) {
		size_t n = strlen(text);
		char *line = malloc(n + 2);
		if (line != NULL) {
			memcpy(line, text, n + 1);
			line[n] = '\n';
			line[n + 1] = '\0';
			write_line(line, n + 1);
			free(line);
		}
		free(text);
	}
}

void srv_log(const struct srv_log *log, enum srv_log_level level, const char *fmt, ...)
{
	char ts[64], msg[2048], line[2200];
	va_list ap;

	if (log != NULL && level > log->level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	now_str(ts, sizeof(ts));
	if (log != NULL && log->json) {
		json_t *o = json_pack("{s:s,s:s,s:s}", "time", ts, "level", srv_log_level_name(level), "msg", msg);
		if (o != NULL)
			emit_json(o);
		json_decref(o);
		return;
	}
	int n = snprintf(line, sizeof(line), "%s %-5s %s\n", ts, srv_log_level_name(level), msg);
	if (n > 0)
		write_line(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/*
 * The access line is written without building a JSON value: one line per
 * request through jansson cost about 2 % of an attestation. The text is
 * byte for byte what json_dumps(JSON_COMPACT | JSON_PRESERVE_ORDER |
 * JSON_REAL_PRECISION(6)) wrote for the object the line used to be built
 * as (tests/unit/server/test_http_fast.c holds the two equal).
 */
struct line_writer {
	char *p;
	size_t len, cap;
	bool over;
};

static void lw_put(struct line_writer *w, const char *s, size_t n)
{
	if (w->over || n > w->cap - w->len) {
		w->over = true;
		return;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

/* The length a UTF-8 lead byte announces, 0 for a byte no sequence starts with (RFC 3629 §4). */
static size_t utf8_lead_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c < 0xc2) /* continuation bytes, and 0xc0/0xc1 (overlong) */
		return 0;
	if (c < 0xe0)
		return 2;
	if (c < 0xf0)
		return 3;
	return c < 0xf5 ? 4 : 0;
}

/* Length of the UTF-8 sequence at s (RFC 3629 §4: no overlongs, surrogates or > U+10FFFF), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len = utf8_lead_len(s[0]);
	uint32_t cp;

	if (len <= 1 || len > n)
		return len > n ? 0 : len;
	cp = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* json_string() refuses text that is not UTF-8, and the member was then left out. */
static bool utf8_valid(const char *s, size_t n)
{
	for (size_t i = 0, k; i < n; i += k) {
		k = utf8_seq((const unsigned char *)s + i, n - i);
		if (k == 0)
			return false;
	}
	return true;
}

/* A JSON string as jansson writes it: '"', '\\' and controls escaped, UTF-8 kept (RFC 8259 §7). */
static void lw_string(struct line_writer *w, const char *s, size_t n)
{
	static const char HEX[] = "0123456789ABCDEF";
	size_t run = 0;

	lw_put(w, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = {'\\', 'u', '0', '0', HEX[c >> 4], HEX[c & 15]};
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		lw_put(w, s + run, i - run);
		run = i + 1;
		esc[1] = c == '"'    ? '"'
			 : c == '\\' ? '\\'
			 : c == '\b' ? 'b'
			 : c == '\f' ? 'f'
			 : c == '\n' ? 'n'
			 : c == '\r' ? 'r'
			 : c == '\t' ? 't'
				     : 'u';
		if (esc[1] == 'u')
			elen = 6;
		lw_put(w, esc, elen);
	}
	lw_put(w, s + run, n - run);
	lw_put(w, "\"", 1);
}

/* ,"key":"value" (no comma first); left out when v is NULL, empty or not UTF-8. */
static void lw_member_str(struct line_writer *w, const char *k, const char *v)
{
	size_t n = v != NULL ? strlen(v) : 0;

	if (n == 0 || !utf8_valid(v, n))
		return;
	lw_put(w, w->len > 1 ? ",\"" : "\"", w->len > 1 ? 2 : 1);
	lw_put(w, k, strlen(k));
	lw_put(w, "\":", 2);
	lw_string(w, v, n);
}

static void lw_member_int(struct line_writer *w, const char *k, long long v)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%lld", v);

	lw_put(w, w->len > 1 ? ",\"" : "\"", w->len > 1 ? 2 : 1);
	lw_put(w, k, strlen(k));
	lw_put(w, "\":", 2);
	lw_put(w, num, (size_t)n);
}

/*
 * A real as jansson 2.14 writes it with JSON_REAL_PRECISION(6): "%.6g",
 * ".0" added when there is neither '.' nor 'e', the exponent without '+'
 * or leading zeros ("1e8", "1.5e-7"). attestd never sets a locale, so the
 * decimal point is '.'. NaN and infinities are no JSON: left out, as
 * json_real() refused them.
 */
static void lw_member_real(struct line_writer *w, const char *k, double v)
{
	char num[48], *e;
	int n;

	if (!isfinite(v))
		return;
	n = snprintf(num, sizeof(num) - 2, "%.6g", v);
	if (n <= 0 || (size_t)n >= sizeof(num) - 2)
		return;
	e = strchr(num, 'e');
	if (e == NULL && strchr(num, '.') == NULL) {
		memcpy(num + n, ".0", 3);
		n += 2;
	}
	if (e != NULL) {
		char *from = e + 1, *to = e + 1;

		if (*from == '-')
			from++, to++;
		else if (*from == '+')
			from++;
		while (*from == '0' && from[1] != '\0')
			from++;
		memmove(to, from, strlen(from) + 1);
		n = (int)strlen(num);
	}
	lw_put(w, w->len > 1 ? ",\"" : "\"", w->len > 1 ? 2 : 1);
	lw_put(w, k, strlen(k));
	lw_put(w, "\":", 2);
	lw_put(w, num, (size_t)n);
}

/* Room the line can need: every string escaped 6 bytes per byte, plus names and numbers. */
static size_t request_line_bound(const struct srv_log_request *r, const char *time)
{
	const char *s[] = {time,	  r->request_id, r->method,	      r->path, r->provider, r->type,
			   r->error_code, r->error_msg,	 r->client_request_id};
	size_t n = 512;

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		n += s[i] != NULL ? 6 * strlen(s[i]) : 0;
	return n;
}

size_t srv_log_request_format(const struct srv_log_request *r, const char *time, char *out, size_t cap)
{
	struct line_writer w = {out, 0, cap, false};

	lw_put(&w, "{", 1);
	lw_member_str(&w, "time", time);
	lw_member_str(&w, "kind", "request");
	lw_member_str(&w, "request_id", r->request_id);
	lw_member_str(&w, "method", r->method);
	lw_member_str(&w, "path", r->path);
	lw_member_int(&w, "status", r->status);
	lw_member_real(&w, "duration_ms", r->duration_ms);
	lw_member_str(&w, "provider", r->provider);
	lw_member_str(&w, "type", r->type);
	lw_member_str(&w, "error", r->error_code);
	lw_member_str(&w, "message", r->error_msg);
	lw_member_str(&w, "client_request_id", r->client_request_id);
	lw_member_int(&w, "bytes_in", (long long)r->bytes_in);
	lw_member_int(&w, "bytes_out", (long long)r->bytes_out);
	lw_put(&w, "}", 1);
	return w.over ? 0 : w.len;
}

void srv_log_request_line(const struct srv_log *log, const struct srv_log_request *r)
{
	char ts[64], stack[4096];
	size_t cap, n;
	char *line;

	(void)log; /* request lines are always written: they are the service's access log */
	now_str(ts, sizeof(ts));
	cap = request_line_bound(r, ts);
	line = cap <= sizeof(stack) ? stack : malloc(cap);
	if (line == NULL)
		return;
	n = srv_log_request_format(r, ts, line, cap - 1);
	if (n > 0) {
		line[n] = '\n';
		write_line(line, n + 1);
	}
	if (line != stack)
		free(line);
}
