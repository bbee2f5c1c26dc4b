/* Time helpers: see timeutil.h. */
#include "base/timeutil.h"

#include "attest/error.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t time_now(void) { return (int64_t)time(NULL); }

uint64_t time_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool take_digits(const char **s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*s)[i]))
			return false;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*out = v;
	return true;
}

static bool take_char(const char **s, char ch)
{
	if (**s != ch)
		return false;
	(*s)++;
	return true;
}

int time_parse_rfc3339(const char *s, int64_t *out)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, sec;

	if (s == NULL)
		return ATTEST_E_PARSE;
	if (!take_digits(&s, 4, &y) || !take_char(&s, '-') || !take_digits(&s, 2, &mo) ||
	    !take_char(&s, '-') || !take_digits(&s, 2, &d) ||
	    !(take_char(&s, 'T') || take_char(&s, 't')) || !take_digits(&s, 2, &h) ||
	    !take_char(&s, ':') || !take_digits(&s, 2, &mi) || !take_char(&s, ':') ||
	    !take_digits(&s, 2, &sec))
		return ATTEST_E_PARSE;
	if (take_char(&s, '.')) {
		if (!isdigit((unsigned char)*s))
			return ATTEST_E_PARSE;
		while (isdigit((unsigned char)*s))
			s++;
	}
	/* The zone: "Z" or "+00:00", and nothing after it. */
	if (!(strcmp(s, "Z") == 0 || strcmp(s, "z") == 0 || strcmp(s, "+00:00") == 0))
		return ATTEST_E_PARSE;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
		return ATTEST_E_PARSE;
	*out = time_from_utc(y, mo, d, h, mi, sec);
	return ATTEST_OK;
}

int64_t time_from_utc(int year, int month, int day, int hour, int minute, int second)
{
	return days_from_civil(year, (unsigned)month, (unsigned)day) * 86400 + hour * 3600 + minute * 60 +
	       second;
}

void time_format_rfc3339(int64_t t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
