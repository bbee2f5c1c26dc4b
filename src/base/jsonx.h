#ifndef ATTEST_BASE_JSONX_H
#define ATTEST_BASE_JSONX_H

/*
 * JSON helpers over jansson for untrusted documents: each getter checks the
 * member's presence and type and records a named error that says which
 * member of which document was wrong. `doc` names the document in messages
 * ("TCB Info"), `code_prefix` starts the error name ("sgx.tcbinfo").
 */

#include "attest/error.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest JSON document accepted from the network or a file. */
#define JSONX_MAX_DOC (4u * 1024 * 1024)

/*
 * Parses text (not NUL-terminated, at most JSONX_MAX_DOC) refusing duplicate
 * keys, with jsonx_load. On failure (ATTEST_E_PARSE) the error is named
 * code_prefix, its message is "<doc> is not valid JSON: <why>" (or says the
 * document is over the size limit) and where is "<doc> line L column C"
 * (1-based, bytes); *out is left NULL.
 */
int jsonx_parse(const char *text, size_t len, json_t **out, const char *code_prefix,
		const char *doc, struct attest_err *err);

/*
 * The reader behind jsonx_parse (json_read.c): accepts exactly the
 * documents json_loadb(JSON_REJECT_DUPLICATES | JSON_DECODE_ANY |
 * JSON_ALLOW_NUL) accepts (at most JSONX_MAX_DOC bytes) and builds the same
 * values, several times faster on long strings; one difference: jansson
 * skips a NUL byte after a number or literal, this reader refuses a NUL
 * anywhere outside a string. On failure (ATTEST_E_PARSE) msg (optional)
 * gets a short reason and *offset (optional) the byte offset where it was
 * found. *out is the caller's (json_decref) on success, NULL otherwise.
 */
int jsonx_load(const char *text, size_t len, json_t **out, char *msg, size_t msglen, size_t *offset);
/*
 * jsonx_load with flags. JSONX_NO_NUL refuses a string (key or value) that
 * holds a NUL byte (an escaped \u0000), as json_loadb does without
 * JSON_ALLOW_NUL: for documents whose strings are read as C strings (JOSE
 * headers, JWT claims), where a NUL would silently shorten them.
 */
#define JSONX_NO_NUL 0x1u
int jsonx_loadf(const char *text, size_t len, unsigned flags, json_t **out, char *msg, size_t msglen,
		size_t *offset);

/* ---- Reading without building values ------------------------------------ */

enum jsonx_kind {
	JSONX_NULL,
	JSONX_FALSE,
	JSONX_TRUE,
	JSONX_INTEGER,
	JSONX_REAL,
	JSONX_STRING,
	JSONX_ARRAY,
	JSONX_OBJECT,
};

/*
 * One value of a document jsonx_read indexed, in document order: an
 * object's members follow it as key (a JSONX_STRING) then value, an array's
 * elements follow it, and `end` is the index just past the value and all it
 * holds. Strings are not copied: a string's value is in the text, or in the
 * document's own buffer when it had escapes to decode.
 */
struct jsonx_node {
	uint8_t kind;    /* enum jsonx_kind */
	uint8_t escaped; /* string: its value is in doc->esc, not in the text */
	uint32_t count;  /* object: members; array: elements */
	uint32_t end;
	uint32_t off, len; /* string: its value; any other value: its text */
	union {
		int64_t i;
		double d;
	} num;
};

struct jsonx_doc {
	const char *text;
	struct jsonx_node *nodes; /* nodes[0] is the document's value */
	uint32_t n, cap;
	char *esc; /* decoded escaped strings */
	size_t esc_len, esc_cap;
};

/*
 * The reader behind jsonx_load, without the values: the same documents
 * accepted (same rules, same limits), indexed into doc (the caller's:
 * jsonx_doc_free, also after a failure). text must outlive doc. Errors as
 * jsonx_load.
 */
int jsonx_read(const char *text, size_t len, struct jsonx_doc *doc, char *msg, size_t msglen, size_t *offset);
/* jsonx_read with jsonx_parse's error (code_prefix, "<doc> is not valid JSON: ...", line and column). */
int jsonx_index(const char *text, size_t len, struct jsonx_doc *doc, const char *code_prefix,
		const char *docname, struct attest_err *err);
void jsonx_doc_free(struct jsonx_doc *doc);

/* The member key of obj, or NULL (absent, or obj NULL or not an object). */
const struct jsonx_node *jsonx_member(const struct jsonx_doc *doc, const struct jsonx_node *obj,
				      const char *key);
/* Whether v is a value of that kind (false for NULL). */
bool jsonx_is(const struct jsonx_node *v, enum jsonx_kind kind);
/* Whether v is the string s, byte for byte (a value with a NUL inside never equals s). */
bool jsonx_str_is(const struct jsonx_doc *doc, const struct jsonx_node *v, const char *s);
/* A string's value and length (it may hold NUL bytes), or NULL when v is not a string. */
const char *jsonx_str(const struct jsonx_doc *doc, const struct jsonx_node *v, size_t *len);
/* The exact text of a value that is not a string (an object as sent, a number as written). */
const char *jsonx_text(const struct jsonx_doc *doc, const struct jsonx_node *v, size_t *len);
/*
 * Iteration: the first element of an array (or the first key of an
 * object), then the next one after cur, NULL at the end. An object's
 * value is the node after its key (key + 1).
 */
const struct jsonx_node *jsonx_first(const struct jsonx_doc *doc, const struct jsonx_node *container);
const struct jsonx_node *jsonx_next(const struct jsonx_doc *doc, const struct jsonx_node *container,
				    const struct jsonx_node *cur);
/* The value as a jansson value (new reference), or NULL when out of memory. */
json_t *jsonx_json(const struct jsonx_doc *doc, const struct jsonx_node *v);

int jsonx_get_str(const json_t *obj, const char *key, const char **out, const char *code_prefix,
		  const char *doc, struct attest_err *err);
int jsonx_get_int(const json_t *obj, const char *key, int64_t *out, const char *code_prefix,
		  const char *doc, struct attest_err *err);
int jsonx_get_bool(const json_t *obj, const char *key, bool *out, const char *code_prefix,
		   const char *doc, struct attest_err *err);
int jsonx_get_obj(const json_t *obj, const char *key, json_t **out, const char *code_prefix,
		  const char *doc, struct attest_err *err);
int jsonx_get_arr(const json_t *obj, const char *key, json_t **out, const char *code_prefix,
		  const char *doc, struct attest_err *err);

/* Serialises compactly with keys in insertion order; caller frees. */
char *jsonx_dump(const json_t *v);

/*
 * The escape of a byte that cannot stand in a JSON string as it is ('"',
 * '\\' or a control character, RFC 8259 §7), written as jansson writes it
 * ("\n", "\u001F"); its length (2 or 6).
 */
size_t jsonx_escape_byte(unsigned char c, char out[6]);

#endif
