#ifndef ATTEST_EVIDENCE_TCB_JSON_H
#define ATTEST_EVIDENCE_TCB_JSON_H

/*
 * Internal helpers shared by tcbinfo.c and qeid.c: the signed-span scan of
 * a PCS body (formats.md §3.3) and typed member getters with named errors.
 */

#include "attest/error.h"
#include "evidence/tcb.h"

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Parses a PCS body {"<member>":{...},"signature":"<128 hex>"}: copies the
 * body, finds the raw byte span of the top-level member (exactly one), parses
 * that span (the bytes the signature covers) into *doc, and decodes the
 * signature. Error names <prefix>.<doc_code>.parse / .signature.
 */
int tcbj_envelope(const uint8_t *body, size_t len, const char *member, const char *prefix,
		  const char *doc_code, const char *doc_name, uint8_t **copy, size_t *signed_off,
		  size_t *signed_len, json_t **doc, uint8_t sig[64], struct attest_err *err);

int tcbj_err(struct attest_err *err, int rc, const char *prefix, const char *suffix, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Member getters; errors <prefix>.<doc_code>.member naming doc_name and key. */
struct tcbj {
	const char *prefix;
	const char *code; /* "tcbinfo" / "qeid" */
	const char *name; /* "TCB Info" / "QE Identity" */
	struct attest_err *err;
};
int tcbj_str(const struct tcbj *j, const json_t *o, const char *key, const char **out);
int tcbj_int(const struct tcbj *j, const json_t *o, const char *key, int64_t min, int64_t max, int64_t *out);
int tcbj_hex(const struct tcbj *j, const json_t *o, const char *key, uint8_t *out, size_t n);
int tcbj_date(const struct tcbj *j, const json_t *o, const char *key, int64_t *out);
int tcbj_status(const struct tcbj *j, const json_t *o, enum tcb_status *out);
/* advisoryIDs (optional): array of strings; *adv->ids malloc'd. */
int tcbj_advisories(const struct tcbj *j, const json_t *o, struct tcb_advisories *adv);

/* Validity: issueDate < now... QVL checks now in [issueDate, nextUpdate]. */
int tcbj_check_window(int64_t issue, int64_t next, int64_t now, const char *prefix, const char *code,
		      const char *name, struct attest_err *err);

#endif
