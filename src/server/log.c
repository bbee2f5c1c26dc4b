/* attestd's log lines (log.h). */
#include "server/log.h"

#include <jansson.h>
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

static void set_str(json_t *o, const char *k, const char *v)
{
	if (v != NULL && v[0] != '\0')
		json_object_set_new(o, k, json_string(v));
}

void srv_log_request_line(const struct srv_log *log, const struct srv_log_request *r)
{
	char ts[64];
	json_t *o;

	(void)log; /* request lines are always written: they are the service's access log */
	now_str(ts, sizeof(ts));
	o = json_object();
	if (o == NULL)
		return;
	set_str(o, "time", ts);
	set_str(o, "kind", "request");
	set_str(o, "request_id", r->request_id);
	set_str(o, "method", r->method);
	set_str(o, "path", r->path);
	json_object_set_new(o, "status", json_integer(r->status));
	json_object_set_new(o, "duration_ms", json_real(r->duration_ms));
	set_str(o, "provider", r->provider);
	set_str(o, "type", r->type);
	set_str(o, "error", r->error_code);
	set_str(o, "message", r->error_msg);
	set_str(o, "client_request_id", r->client_request_id);
	json_object_set_new(o, "bytes_in", json_integer((json_int_t)r->bytes_in));
	json_object_set_new(o, "bytes_out", json_integer((json_int_t)r->bytes_out));
	emit_json(o);
	json_decref(o);
}
