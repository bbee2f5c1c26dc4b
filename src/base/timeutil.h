#ifndef ATTEST_BASE_TIMEUTIL_H
#define ATTEST_BASE_TIMEUTIL_H

/*
 * Time as int64 seconds since the Unix epoch, UTC. "Now" is always a
 * parameter of verification (ARCHITECTURE.md): library code never reads the
 * clock itself, except through time_now() called by the server or CLI.
 */

#include <stddef.h>
#include <stdint.h>

int64_t time_now(void);

/*
 * Parses an RFC 3339 / ISO 8601 UTC timestamp as Intel and Microsoft write
 * them: "2023-11-22T00:00:00Z", optional fractional seconds, "Z" or
 * "+00:00". Anything else is ATTEST_E_PARSE.
 */
int time_parse_rfc3339(const char *s, int64_t *out);

/*
 * Seconds since the epoch of a UTC date and time whose fields the caller
 * has checked (month 1-12, a day the month has, 0-23, 0-59, 0-60): no
 * text in between, for parsers that read the fields themselves.
 */
int64_t time_from_utc(int year, int month, int day, int hour, int minute, int second);

/* Formats as "2023-11-22T00:00:00Z" into out (at least 21 bytes). */
void time_format_rfc3339(int64_t t, char *out, size_t outlen);

/* Monotonic nanoseconds, for benchmarks and latency metrics. */
uint64_t time_mono_ns(void);

#endif
