#ifndef ATTEST_SERVER_LOG_H
#define ATTEST_SERVER_LOG_H

/*
 * attestd's logs, all on stderr: leveled lines for operators ("time level
 * message", or JSON with --json-logs) and exactly one JSON line per request
 * (time, request id, method, path, status, duration, provider, type, error)
 * that log shippers parse. Each line is written with one write(2) so
 * concurrent workers never interleave within a line.
 */

#include "server/config.h"

#include <stddef.h>
#include <stdint.h>

struct srv_log {
	enum srv_log_level level;
	bool json;
};

void srv_log(const struct srv_log *log, enum srv_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

struct srv_log_request {
	const char *request_id;
	const char *method;
	const char *path;
	int status;
	double duration_ms;
	const char *provider;
	const char *type;
	const char *error_code;
	const char *error_msg;
	const char *client_request_id;
	size_t bytes_in;
	size_t bytes_out;
};

void srv_log_request_line(const struct srv_log *log, const struct srv_log_request *r);

/*
 * The request line's JSON text (no newline) with the given time string,
 * into out: its length, or 0 when it does not fit in cap bytes. Members
 * with a NULL, empty or non-UTF-8 string value are left out.
 */
size_t srv_log_request_format(const struct srv_log_request *r, const char *time, char *out, size_t cap);

#endif
