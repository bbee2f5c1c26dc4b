#ifndef ATTEST_CLI_CLI_H
#define ATTEST_CLI_CLI_H

/*
 * attestctl: `attestctl <noun> <verb> [options]`. Each command is a
 * function of (global options, argc, argv) returning an exit code that
 * scripts can rely on:
 *   0  success (for verify commands: the evidence or token verified)
 *   1  refused: the evidence, token or policy did not pass
 *   2  usage error (unknown command or option, missing argument)
 *   3  the server could not be reached or answered with an error
 *   4  a local failure (file not readable, out of memory)
 */

#include "attest/error.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

enum { CLI_OK = 0, CLI_REFUSED = 1, CLI_USAGE = 2, CLI_SERVER = 3, CLI_LOCAL = 4 };

enum cli_output { CLI_OUTPUT_TABLE, CLI_OUTPUT_JSON };

struct cli {
	const char *url;    /* attestd base URL (--url, $ATTESTD_URL, config "url") */
	const char *cacert; /* CA bundle for the server (--cacert, $ATTESTD_CACERT, config) */
	const char *token;  /* bearer credential (--token, $ATTESTD_TOKEN, config) */
	enum cli_output output;
	bool color; /* only when stdout is a terminal and NO_COLOR is unset */
	json_t *config; /* the config file's object, or NULL */
};

/* One command: name, one-line summary, handler, and its help text. */
struct cli_command {
	const char *name;
	const char *summary;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *usage; /* full help, printed by --help */
};

/* A noun: its verbs (NULL-terminated by name). */
struct cli_noun {
	const char *name;
	const char *summary;
	const struct cli_command *verbs; /* NULL: the noun is itself a command (`run`) */
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *usage;
};

/* Nouns implemented in cmd_*.c. */
extern const struct cli_noun cli_noun_verify;
extern const struct cli_noun cli_noun_token;
extern const struct cli_noun cli_noun_policy;
extern const struct cli_noun cli_noun_attest;
extern const struct cli_noun cli_noun_provider;
extern const struct cli_noun cli_noun_signer;
extern const struct cli_noun cli_noun_keys;
extern const struct cli_noun cli_noun_dev;
extern const struct cli_noun cli_noun_collateral;
extern const struct cli_noun cli_noun_receipt;
extern const struct cli_noun cli_noun_tpm;

/* ---- output (out.c) ---- */

/* Prints an error to stderr: "attestctl: <what>" (red on a terminal). */
void cli_error(const struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints an error record: name, message and where. */
void cli_error_record(const struct cli *cli, const char *what, const struct attest_err *err);
/* Prints a JSON value: pretty JSON, or "key  value" rows for tables. */
void cli_print_json(const struct cli *cli, const json_t *v);
/* A status line ("verified", "refused") coloured green or red on a terminal. */
void cli_status(const struct cli *cli, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- helpers (util.c) ---- */

/* Reads a whole file or "-" for stdin (at most 64 MiB). */
int cli_read_file(const char *path, unsigned char **out, size_t *len);
/* Parses a time given as Unix seconds or RFC 3339. */
int cli_parse_time(const char *s, int64_t *out);
/* Finds --help / -h among args. */
bool cli_wants_help(int argc, char **argv);
/* The JSON payload of a compact JWT, NOT verified (for display); NULL if malformed. */
json_t *cli_jwt_payload(const char *jwt);
/* The MAA API version attestctl sends. */
#define CLI_API_VERSION "2022-08-01"

/*
 * Verifies evidence of an attestation type offline (verify.c), filling a
 * new claim set. collateral_dir may be NULL with no_collateral.
 */
struct cli_verify_opts {
	const char *type;
	const char *evidence_file;
	const char *collateral_dir;
	const char *runtime_data_file;
	const char *nonce;
	int64_t at;
	bool no_collateral;
	bool no_revocation;
	const char *trust_roots; /* DEVELOPMENT ONLY: extra Intel roots (PEM file) */
};
struct claim_set;
/* Claims from their public JSON form ({type: value}); *out is a new set. */
int cli_claims_from_json(const char *text, struct claim_set **out, struct attest_err *err);
int cli_verify_evidence(const struct cli *cli, const struct cli_verify_opts *o, struct claim_set **out,
			struct attest_err *err);

/* ---- collateral bundles (cmd_collateral.c) ---- */

struct bundle;
/* The collateral items of a folder in the file source's layout (unrecognised files are reported). */
int cli_bundle_from_dir(const struct cli *cli, const char *dir, struct bundle **out, struct attest_err *err);
/* A bundle file ("-" = stdin), structure and digests checked. */
int cli_bundle_load(const char *path, struct bundle **out, struct attest_err *err);
/* Writes JSON (indented) to path or "-"; CLI_OK or CLI_LOCAL. */
int cli_write_json(const char *path, const json_t *doc);

/*
 * Re-verifies a receipt offline at its time (cmd_receipt.c): CLI_OK same
 * claims, CLI_REFUSED otherwise. jwks_file: the issuer's keys, trusted
 * (NULL: the signature is not checked, and it says so); allow_dev_roots:
 * use the development anchors a receipt may carry.
 */
struct cli_receipt_opts {
	const char *path;
	const char *jwks_file;
	bool allow_dev_roots;
	bool no_signature_check; /* required when jwks_file is NULL (verify.c checks) */
};
int cli_receipt_verify(const struct cli *cli, const struct cli_receipt_opts *o);

/* ---- HTTP client (http.c) ---- */

struct cli_response {
	long status;
	char *body; /* NUL-terminated, owned */
	size_t len;
};
void cli_response_free(struct cli_response *r);
/*
 * Sends method path (joined to cli->url) with an optional JSON body and the
 * bearer token; returns CLI_OK with the response (any status), or CLI_SERVER
 * when the server could not be reached (message printed).
 */
int cli_http(const struct cli *cli, const char *method, const char *path, const char *body,
	     struct cli_response *out);
/* For a non-2xx response: prints MAA's error body and returns CLI_SERVER (or CLI_REFUSED for 400 on attest). */
int cli_http_fail(const struct cli *cli, const char *what, const struct cli_response *r);

#endif
