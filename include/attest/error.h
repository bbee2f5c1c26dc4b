#ifndef ATTEST_ERROR_H
#define ATTEST_ERROR_H

#include <stddef.h>

/*
 * Error classes. Every fallible function returns ATTEST_OK (0) or one of
 * these; the details go into a caller-supplied struct attest_err.
 */
enum attest_rc {
	ATTEST_OK = 0,
	ATTEST_E_PARSE = 1,      /* input malformed: truncated, bad length, bad encoding */
	ATTEST_E_VERIFY = 2,     /* input well-formed but a signature/chain/binding check failed */
	ATTEST_E_COLLATERAL = 3, /* collateral missing, expired, or not trusted */
	ATTEST_E_POLICY = 4,     /* policy text invalid, or the policy denied */
	ATTEST_E_NOMEM = 5,      /* allocation failed or a size cap was reached */
	ATTEST_E_INVALID = 6,    /* caller error: bad argument or option */
	ATTEST_E_NOT_FOUND = 7,  /* a looked-up object does not exist */
	ATTEST_E_IO = 8,         /* file, database or network failure */
	ATTEST_E_INTERNAL = 9,   /* a library call failed where it should not */
	ATTEST_E_UNSUPPORTED = 10, /* a version or algorithm we do not implement */
	ATTEST_E_CONFLICT = 11,  /* a write conflicts with stored state */
	ATTEST_E_DENIED = 12,    /* authentication or authorisation refused */
};

#define ATTEST_ERR_NAME_MAX 64
#define ATTEST_ERR_MSG_MAX 384
#define ATTEST_ERR_WHERE_MAX 128

/*
 * The error record. `name` is the stable dotted code users and tests match
 * on ("sgx.quote.truncated"); `msg` says what was wrong in words; `where`
 * says where it was found ("quote+0x30", "policy line 3 column 7").
 */
struct attest_err {
	int rc;
	char name[ATTEST_ERR_NAME_MAX];
	char msg[ATTEST_ERR_MSG_MAX];
	char where[ATTEST_ERR_WHERE_MAX];
};

/* Clears the record (rc = ATTEST_OK, empty strings). NULL is allowed. */
void attest_err_clear(struct attest_err *err);

/*
 * Records an error and returns rc, so a failing path reads
 *     return attest_err_set(err, ATTEST_E_PARSE, "sgx.quote.truncated", "...", ...);
 * err may be NULL (the error is then only returned). The first error set
 * wins: a later call does not overwrite a record that already holds one,
 * so the innermost, most precise failure reaches the user.
 */
int attest_err_set(struct attest_err *err, int rc, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Sets `where` (printf-style), overwriting any previous location. */
void attest_err_where(struct attest_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prefixes the message with context ("TCB Info: "), keeping name and rc. */
void attest_err_prefix(struct attest_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The class name of an rc ("parse", "verify", ...), for logs. */
const char *attest_rc_str(int rc);

#endif
