/* The error record: see include/attest/error.h. */
#include "attest/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void attest_err_clear(struct attest_err *err)
{
	if (err == NULL)
		return;
	err->rc = ATTEST_OK;
	err->name[0] = '\0';
	err->msg[0] = '\0';
	err->where[0] = '\0';
}

int attest_err_set(struct attest_err *err, int rc, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err->rc != ATTEST_OK)
		return rc;
	err->rc = rc;
	snprintf(err->name, sizeof(err->name), "%s", name ? name : "error");
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return rc;
}

void attest_err_where(struct attest_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err->where, sizeof(err->where), fmt, ap);
	va_end(ap);
}

void attest_err_prefix(struct attest_err *err, const char *fmt, ...)
{
	char prefix[ATTEST_ERR_MSG_MAX], old[ATTEST_ERR_MSG_MAX];
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	{
	size_t plen;

	memcpy(old, err->msg, sizeof(old));
	plen = strnlen(prefix, sizeof(prefix) - 1);
	memcpy(err->msg, prefix, plen);
	/* The original message is cut, not the prefix, when both do not fit. */
	snprintf(err->msg + plen, sizeof(err->msg) - plen, "%.*s", (int)(sizeof(err->msg) - plen - 1), old);
	}
}

const char *attest_rc_str(int rc)
{
	static const char *const names[] = {
		[ATTEST_OK] = "ok",
		[ATTEST_E_PARSE] = "parse",
		[ATTEST_E_VERIFY] = "verify",
		[ATTEST_E_COLLATERAL] = "collateral",
		[ATTEST_E_POLICY] = "policy",
		[ATTEST_E_NOMEM] = "nomem",
		[ATTEST_E_INVALID] = "invalid",
		[ATTEST_E_NOT_FOUND] = "not_found",
		[ATTEST_E_IO] = "io",
		[ATTEST_E_INTERNAL] = "internal",
		[ATTEST_E_UNSUPPORTED] = "unsupported",
		[ATTEST_E_CONFLICT] = "conflict",
		[ATTEST_E_DENIED] = "denied",
	};

	if (rc < 0 || (size_t)rc >= sizeof(names) / sizeof(names[0]) || names[rc] == NULL)
		return "unknown";
	return names[rc];
}
