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

/* One top-level member: raw key span (without quotes) and value span. */
struct member_span {
	size_t key_off, key_len, val_off, val_len;
};

/*
 * Scans the outer object {"k":v,"k":v} strictly (one comma between
 * members, nothing but whitespace after the closing brace) and returns up to
 * `max` member spans. Keys with escapes are refused: the signed member is
 * found by its literal name, so an escaped twin could pair a signed object
 * with another one (formats.md §3.3). Values are only delimited here; the
 * caller parses the one it uses.
 */
static int scan_object(const uint8_t *p, size_t n, struct member_span *m, size_t max, size_t *count)
{
	size_t i = skip_ws(p, n, 0), k = 0;

	if (i >= n || p[i] != '{')
		return -1;
	i = skip_ws(p, n, i + 1);
	if (i < n && p[i] == '}')
		goto close;
	for (;;) {
		size_t ks = i, ke, vs, ve;

		if (i >= n || p[i] != '"' || (ke = skip_string(p, n, i)) == 0 ||
		    memchr(p + ks, '\\', ke - ks) != NULL)
			return -1;
		i = skip_ws(p, n, ke);
		if (i >= n || p[i] != ':')
			return -1;
		vs = skip_ws(p, n, i + 1);
		if ((ve = skip_value(p, n, vs)) == 0 || ve == vs || k == max)
			return -1;
		m[k].key_off = ks + 1, m[k].key_len = ke - ks - 2, m[k].val_off = vs, m[k].val_len = ve - vs;
		k++;
		i = skip_ws(p, n, ve);
		if (i < n && p[i] == ',') {
			i = skip_ws(p, n, i + 1);
			continue;
		}
		break;
	}
close:
	if (i >= n || p[i] != '}' || skip_ws(p, n, i + 1) != n)
		return -1;
	*count = k;
	return 0;
}

static bool key_is(const uint8_t *p, const struct member_span *m, const char *name)
{
	return m->key_len == strlen(name) && memcmp(p + m->key_off, name, m->key_len) == 0;
}

int tcbj_envelope(const uint8_t *body, size_t len, const char *member, const char *prefix,
		  const char *doc_code, const char *doc_name, uint8_t **copy, size_t *signed_off,
		  size_t *signed_len, json_t **doc, uint8_t sig[64], struct attest_err *err)
{
	char code[ATTEST_ERR_NAME_MAX], sfx[48];
	struct member_span m[2];
	const struct member_span *obj = NULL, *sg = NULL;
	json_t *inner = NULL;
	size_t count = 0, i;
	uint8_t *cp;
	int rc;

	snprintf(code, sizeof(code), "%s.%s.parse", prefix, doc_code);
	snprintf(sfx, sizeof(sfx), "%s.parse", doc_code);
	if (len > JSONX_MAX_DOC)
		return tcbj_err(err, ATTEST_E_PARSE, prefix, sfx, "%s body is over %u bytes", doc_name,
				JSONX_MAX_DOC);
	/* §3.1: exactly {"<member>":{...},"signature":"<128 hex>"}, each member once. */
	if (scan_object(body, len, m, 2, &count) != 0 || count != 2)
		return tcbj_err(err, ATTEST_E_PARSE, prefix, sfx,
				"%s body must be exactly {\"%s\":{...},\"signature\":\"...\"}", doc_name,
				member);
	for (i = 0; i < 2; i++) {
		if (key_is(body, &m[i], member) && obj == NULL)
			obj = &m[i];
		else if (key_is(body, &m[i], "signature") && sg == NULL)
			sg = &m[i];
	}
	if (obj == NULL || sg == NULL)
		return tcbj_err(err, ATTEST_E_PARSE, prefix, sfx,
				"%s body must hold \"%s\" and \"signature\" once each", doc_name, member);
	snprintf(sfx, sizeof(sfx), "%s.signature", doc_code);
	if (sg->val_len != 130 || body[sg->val_off] != '"' ||
	    hex_decode_to((const char *)body + sg->val_off + 1, 128, sig, 64) != ATTEST_OK)
		return tcbj_err(err, ATTEST_E_PARSE, prefix, sfx,
				"%s signature is not a string of 128 hex characters", doc_name);
	/*
	 * Parse the very bytes the signature covers (§3.3), not a second copy
	 * (jsonx_parse's reader: jansson's acceptance, a fraction of its time
	 * on a cold verification).
	 */
	if ((rc = jsonx_parse((const char *)body + obj->val_off, obj->val_len, &inner, code, doc_name,
			      err)) != ATTEST_OK)
		return rc;
	if (!json_is_object(inner)) {
		json_decref(inner);
		snprintf(sfx, sizeof(sfx), "%s.parse", doc_code);
		return tcbj_err(err, ATTEST_E_PARSE, prefix, sfx, "%s: \"%s\" is not an object", doc_name,
				member);
	}
	if ((cp = malloc(len + 1)) == NULL) {
		json_decref(inner);
		return tcbj_err(err, ATTEST_E_NOMEM, prefix, "internal", "out of memory");
	}
	memcpy(cp, body, len);
	cp[len] = 0;
	*copy = cp;
	*signed_off = obj->val_off;
	*signed_len = obj->val_len;
	*doc = inner; /* transferred */
	return ATTEST_OK;
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

	if (rc != ATTEST_OK || s == NULL)
		return rc != ATTEST_OK ? rc : member_err(j, key, "is not a string");
	if (strlen(s) != 2 * n || hex_decode_to(s, 2 * n, out, n) != ATTEST_OK)
		return member_err(j, key, "is not the expected hex string");
	return ATTEST_OK;
}

int tcbj_date(const struct tcbj *j, const json_t *o, const char *key, int64_t *out)
{
	const char *s = NULL;
	int rc = tcbj_str(j, o, key, &s);

	if (rc != ATTEST_OK || s == NULL)
		return rc != ATTEST_OK ? rc : member_err(j, key, "is not a string");
	if (time_parse_rfc3339(s, out) != ATTEST_OK)
		return member_err(j, key, "is not an ISO-8601 UTC date");
	return ATTEST_OK;
}

int tcbj_status(const struct tcbj *j, const json_t *o, enum tcb_status *out)
{
	const char *s = NULL;
	int rc = tcbj_str(j, o, "tcbStatus", &s);

	if (rc != ATTEST_OK || s == NULL)
		return rc != ATTEST_OK ? rc : member_err(j, "tcbStatus", "is not a string");
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
		return tcbj_err(err, ATTEST_E_COLLATERAL, prefix, sfx, "%s issued %s is not yet valid at %s",
				name, a, t);
	}
	if (now > next) {
		snprintf(sfx, sizeof(sfx), "%s.expired", code);
		return tcbj_err(err, ATTEST_E_COLLATERAL, prefix, sfx,
				"%s expired: nextUpdate %s is before %s", name, b, t);
	}
	return ATTEST_OK;
}
