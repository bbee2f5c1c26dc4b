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

#endif
