/* Shared helpers of the TCB Info / Enclave Identity parsers: see tcb_json.h. */
#include "evidence/tcb_json.h"

#include "base/codec.h"
#include "base/jsonx.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tcbj_err(struct attest_err *err, int rc, const char *prefix, const char *suffix, const char *fmt, ...)
{
	char name[ATTEST_ERR_NAME_MAX], msg[ATTEST_ERR_MSG_MAX];
	va_list ap;

	snprintf(name, sizeof(name), "%s.%s", prefix, suffix);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return attest_err_set(err, rc, name, "%s", msg);
}

static size_t skip_ws(const uint8_t *p, size_t n, size_t i)
{
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
		i++;
	return i;
}

/* End (one past the closing quote) of the string starting at p[i] == '"'; 0 on error. */
static size_t skip_string(const uint8_t *p, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (p[i] == '\\')
			i++;
		else if (p[i] == '"')
			return i + 1;
	}
	return 0;
}

/*
 * End of the JSON value starting at p[i]: objects/arrays by bracket depth
 * (strings skipped with their escapes), scalars up to the next delimiter.
 * Returns 0 when the value runs off the end. Syntax is left to jansson.
 */
static size_t skip_value(const uint8_t *p, size_t n, size_t i)
{
	size_t depth = 0;

	if (i >= n)
		return 0;
	if (p[i] == '"')
		return skip_string(p, n, i);
	if (p[i] != '{' && p[i] != '[') {
		while (i < n && p[i] != ',' && p[i] != '}' && p[i] != ']' && p[i] != ' ' && p[i] != '\n' &&
		       p[i] != '\r' && p[i] != '\t')
			i++;
		return i;
	}
	for (; i < n; i++) {
		if (p[i] == '"') {
			size_t e = skip_string(p, n, i);

			if (e == 0)
				return 0;
			i = e - 1;
		} else if (p[i] == '{' || p[i] == '[') {
			depth++;
		} else if (p[i] == '}' || p[i] == ']') {
			if (--depth == 0)
				return i + 1;
		}
	}
	return 0;
}

/* Finds the raw span of the top-level member whose raw key text is `member`; counts matches. */
static int find_member(const uint8_t *p, size_t n, const char *member, size_t *off, size_t *len,
		       unsigned *count)
{
	size_t i = skip_ws(p, n, 0), klen = strlen(member);

	*count = 0;
	if (i >= n || p[i] != '{')
		return -1;
	i = skip_ws(p, n, i + 1);
	while (i < n && p[i] != '}') {
		size_t ks = i, ke, vs, ve;

		if (p[i] != '"' || (ke = skip_string(p, n, i)) == 0)
			return -1;
		i = skip_ws(p, n, ke);
		if (i >= n || p[i] != ':')
			return -1;
		vs = skip_ws(p, n, i + 1);
		if ((ve = skip_value(p, n, vs)) == 0)
			return -1;
		if (ke - ks - 2 == klen && memcmp(p + ks + 1, member, klen) == 0) {
			(*count)++;
			*off = vs;
			*len = ve - vs;
		}
		i = skip_ws(p, n, ve);
		if (i < n && p[i] == ',')
			i = skip_ws(p, n, i + 1);
	}
	return 0;
}

int tcbj_envelope(const uint8_t *body, size_t len, const char *member, const char *prefix,
		  const char *doc_code, const char *doc_name, uint8_t **copy, size_t *signed_off,
		  size_t *signed_len, json_t **doc, uint8_t sig[64], struct attest_err *err)
{
	char code[ATTEST_ERR_NAME_MAX], sfx[48];
	json_t *outer = NULL, *inner = NULL;
	const char *sighex;
	size_t off = 0, mlen = 0;
	unsigned count = 0;
	uint8_t *cp = NULL;
	int rc;

	snprintf(code, sizeof(code), "%s.%s.parse", prefix, doc_code);
	snprintf(sfx, sizeof(sfx), "%s.parse", doc_code);
	/* The whole body first: valid JSON, no duplicate keys (escaped or not). */
	if ((rc = jsonx_parse((const char *)body, len, &outer, code, doc_name, err)) != ATTEST_OK)
		return rc;
	if (!json_is_object(outer) || json_object_size(outer) != 2 || !json_is_object(json_object_get(outer, member))) {
		rc = tcbj_err(err, ATTEST_E_PARSE, prefix, sfx, "%s body must be {\"%s\":{...},\"signature\":...}",
			      doc_name, member);
		goto out;
	}
	if (find_member(body, len, member, &off, &mlen, &count) != 0 || count != 1) {
		rc = tcbj_err(err, ATTEST_E_PARSE, prefix, sfx,
			      "%s body must hold exactly one literal \"%s\" member (found %u)", doc_name, member, count);
		goto out;
	}
	if (jsonx_get_str(outer, "signature", &sighex, code, doc_name, err) != ATTEST_OK) {
		rc = ATTEST_E_PARSE;
		goto out;
	}
	if (strlen(sighex) != 128 || hex_decode_to(sighex, 128, sig, 64) != ATTEST_OK) {
		snprintf(sfx, sizeof(sfx), "%s.signature", doc_code);
		rc = tcbj_err(err, ATTEST_E_PARSE, prefix, sfx, "%s signature is not 128 hex characters", doc_name);
		goto out;
	}
	/* Parse the very bytes the signature covers (§3.3), not a second copy. */
	if ((rc = jsonx_parse((const char *)body + off, mlen, &inner, code, doc_name, err)) != ATTEST_OK)
		goto out;
	if ((cp = malloc(len + 1)) == NULL) {
		rc = tcbj_err(err, ATTEST_E_NOMEM, prefix, sfx, "out of memory");
		goto out;
	}
	memcpy(cp, body, len);
	cp[len] = 0;
	*copy = cp;
	*signed_off = off;
	*signed_len = mlen;
	*doc = inner;
	inner = NULL; /* transferred */
	rc = ATTEST_OK;
out:
	json_decref(outer);
	json_decref(inner);
	return rc;
}

static int member_err(const struct tcbj *j, const char *key, const char *what)
{
	char sfx[48];

	snprintf(sfx, sizeof(sfx), "%s.member", j->code);
	return tcbj_err(j->err, ATTEST_E_PARSE, j->prefix, sfx, "%s: member \"%s\" %s", j->name, key, what);
}

int tcbj_str(const struct tcbj *j, const json_t *o, const char *key, const char **out)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		return member_err(j, key, "is missing or not a string");
	*out = json_string_value(v);
	return ATTEST_OK;
}

int tcbj_int(const struct tcbj *j, const json_t *o, const char *key, int64_t min, int64_t max, int64_t *out)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return member_err(j, key, "is missing or not an integer");
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return member_err(j, key, "is out of range");
	*out = (int64_t)json_integer_value(v);
	return ATTEST_OK;
}

int tcbj_hex(const struct tcbj *j, const json_t *o, const char *key, uint8_t *out, size_t n)
{
	const char *s = NULL;
	int rc = tcbj_str(j, o, key, &s);

	if (rc != ATTEST_OK)
		return rc;
	if (strlen(s) != 2 * n || hex_decode_to(s, 2 * n, out, n) != ATTEST_OK)
		return member_err(j, key, "is not the expected hex string");
	return ATTEST_OK;
}

int tcbj_date(const struct tcbj *j, const json_t *o, const char *key, int64_t *out)
{
	const char *s = NULL;
	int rc = tcbj_str(j, o, key, &s);

	if (rc != ATTEST_OK)
		return rc;
	if (time_parse_rfc3339(s, out) != ATTEST_OK)
		return member_err(j, key, "is not an ISO-8601 UTC date");
	return ATTEST_OK;
}

int tcbj_status(const struct tcbj *j, const json_t *o, enum tcb_status *out)
{
	const char *s = NULL;
	int rc = tcbj_str(j, o, "tcbStatus", &s);

	if (rc != ATTEST_OK)
		return rc;
	if (tcb_status_parse(s, out) != ATTEST_OK || *out == TCB_NOT_SUPPORTED)
		return member_err(j, "tcbStatus", "is not a known TCB status");
	return ATTEST_OK;
}

int tcbj_advisories(const struct tcbj *j, const json_t *o, struct tcb_advisories *adv)
{
	const json_t *a = json_object_get(o, "advisoryIDs");
	size_t i;

	adv->ids = NULL;
	adv->n = 0;
	if (a == NULL)
		return ATTEST_OK;
	if (!json_is_array(a))
		return member_err(j, "advisoryIDs", "is not an array");
	if (json_array_size(a) == 0)
		return ATTEST_OK;
	if ((adv->ids = calloc(json_array_size(a), sizeof(*adv->ids))) == NULL)
		return member_err(j, "advisoryIDs", "cannot be stored (out of memory)");
	for (i = 0; i < json_array_size(a); i++) {
		if (!json_is_string(json_array_get(a, i))) {
			free(adv->ids);
			adv->ids = NULL;
			return member_err(j, "advisoryIDs", "holds a non-string");
		}
		adv->ids[adv->n++] = json_string_value(json_array_get(a, i));
	}
	return ATTEST_OK;
}

int tcbj_check_window(int64_t issue, int64_t next, int64_t now, const char *prefix, const char *code,
		      const char *name, struct attest_err *err)
{
	char a[32], b[32], t[32], sfx[48];

	time_format_rfc3339(issue, a, sizeof(a));
	time_format_rfc3339(next, b, sizeof(b));
	time_format_rfc3339(now, t, sizeof(t));
	if (now < issue) {
		snprintf(sfx, sizeof(sfx), "%s.not_yet_valid", code);
		return tcbj_err(err, ATTEST_E_COLLATERAL, prefix, sfx, "%s issued %s is not yet valid at %s", name, a, t);
	}
	if (now > next) {
		snprintf(sfx, sizeof(sfx), "%s.expired", code);
		return tcbj_err(err, ATTEST_E_COLLATERAL, prefix, sfx, "%s expired: nextUpdate %s is before %s", name, b,
				t);
	}
	return ATTEST_OK;
}
