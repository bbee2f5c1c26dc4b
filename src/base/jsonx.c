/* JSON helpers: see jsonx.h. */
#include "base/jsonx.h"

#include <string.h>

/* The error of a document the reader refused at byte off, with its line and column. */
static int refused(const char *text, size_t len, const char *why, size_t off, const char *code_prefix,
		   const char *doc, struct attest_err *err)
{
	size_t line = 1, col = 1;

	for (size_t i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	attest_err_set(err, ATTEST_E_PARSE, code_prefix, "%s is not valid JSON: %s", doc, why);
	attest_err_where(err, "%s line %zu column %zu", doc, line, col);
	return ATTEST_E_PARSE;
}

static int too_big(size_t len, const char *code_prefix, const char *doc, struct attest_err *err)
{
	return attest_err_set(err, ATTEST_E_PARSE, code_prefix, "%s is %zu bytes, over the %u-byte limit", doc,
			      len, JSONX_MAX_DOC);
}

int jsonx_parse(const char *text, size_t len, json_t **out, const char *code_prefix,
		const char *doc, struct attest_err *err)
{
	char why[96];
	size_t off = 0;

	*out = NULL;
	if (len > JSONX_MAX_DOC)
		return too_big(len, code_prefix, doc, err);
	if (jsonx_load(text, len, out, why, sizeof(why), &off) == ATTEST_OK)
		return ATTEST_OK;
	return refused(text, len, why, off, code_prefix, doc, err);
}

int jsonx_index(const char *text, size_t len, struct jsonx_doc *out, const char *code_prefix, const char *docname,
		struct attest_err *err)
{
	char why[96];
	size_t off = 0;

	memset(out, 0, sizeof(*out));
	if (len > JSONX_MAX_DOC)
		return too_big(len, code_prefix, docname, err);
	if (jsonx_read(text, len, out, why, sizeof(why), &off) == ATTEST_OK)
		return ATTEST_OK;
	return refused(text, len, why, off, code_prefix, docname, err);
}

static int jsonx_get(const json_t *obj, const char *key, json_type type, json_t **out,
		     const char *code_prefix, const char *doc, struct attest_err *err)
{
	static const char *const type_names[] = {"an object", "an array", "a string", "an integer",
						  "a number", "a boolean", "a boolean", "null"};
	json_t *v = NULL;

	if (!json_is_object(obj))
		return attest_err_set(err, ATTEST_E_PARSE, code_prefix, "%s: expected an object holding \"%s\"",
				      doc, key);
	v = json_object_get(obj, key);
	if (v == NULL)
		return attest_err_set(err, ATTEST_E_PARSE, code_prefix, "%s: member \"%s\" is missing", doc, key);
	if (json_typeof(v) != type && !(type == JSON_TRUE && json_is_boolean(v)))
		return attest_err_set(err, ATTEST_E_PARSE, code_prefix, "%s: member \"%s\" must be %s", doc, key,
				      type_names[type]);
	*out = v;
	return ATTEST_OK;
}

int jsonx_get_str(const json_t *obj, const char *key, const char **out, const char *code_prefix,
		  const char *doc, struct attest_err *err)
{
	json_t *v = NULL;
	int rc = jsonx_get(obj, key, JSON_STRING, &v, code_prefix, doc, err);

	if (rc == ATTEST_OK)
		*out = json_string_value(v);
	return rc;
}

int jsonx_get_int(const json_t *obj, const char *key, int64_t *out, const char *code_prefix,
		  const char *doc, struct attest_err *err)
{
	json_t *v = NULL;
	int rc = jsonx_get(obj, key, JSON_INTEGER, &v, code_prefix, doc, err);

	if (rc == ATTEST_OK)
		*out = (int64_t)json_integer_value(v);
	return rc;
}

int jsonx_get_bool(const json_t *obj, const char *key, bool *out, const char *code_prefix,
		   const char *doc, struct attest_err *err)
{
	json_t *v = NULL;
	int rc = jsonx_get(obj, key, JSON_TRUE, &v, code_prefix, doc, err);

	if (rc == ATTEST_OK)
		*out = json_is_true(v);
	return rc;
}

int jsonx_get_obj(const json_t *obj, const char *key, json_t **out, const char *code_prefix,
		  const char *doc, struct attest_err *err)
{
	return jsonx_get(obj, key, JSON_OBJECT, out, code_prefix, doc, err);
}

int jsonx_get_arr(const json_t *obj, const char *key, json_t **out, const char *code_prefix,
		  const char *doc, struct attest_err *err)
{
	return jsonx_get(obj, key, JSON_ARRAY, out, code_prefix, doc, err);
}

char *jsonx_dump(const json_t *v) { return json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY); }

size_t jsonx_escape_byte(unsigned char c, char out[6])
{
	static const char HEX[] = "0123456789ABCDEF";
	static const char SHORT[][2] = {{'"', '"'},  {'\\', '\\'}, {'\b', 'b'}, {'\f', 'f'},
					{'\n', 'n'}, {'\r', 'r'},  {'\t', 't'}};

	out[0] = '\\';
	for (size_t i = 0; i < sizeof(SHORT) / sizeof(SHORT[0]); i++) {
		if (c == (unsigned char)SHORT[i][0]) {
			out[1] = SHORT[i][1];
			return 2;
		}
	}
	out[1] = 'u';
	out[2] = out[3] = '0';
	out[4] = HEX[c >> 4];
	out[5] = HEX[c & 0xF];
	return 6;
}
