/*
 * attestctl receipt export, attestctl verify --receipt: verification
 * receipts (issue 12, docs/receipts-and-bundles.md). A receipt holds what
 * one attestation relied on: the request (evidence, runtime data, nonce),
 * the policy, the time, the token, and the collateral items the
 * verification used, found by the hashes the token pins
 * (x-ms-sgx-collateral, x-attestd-snp-collateral). Re-verification runs
 * attestd's own pipeline (server/pipeline.h) offline at the token's iat
 * with nothing but the receipt's collateral, and compares the claim set it
 * builds with the token's, claim by claim (jti aside: it is random).
 *
 *   {"format": "attestd-receipt", "version": 1, "type": "SgxEnclave",
 *    "time": "<RFC 3339, the token's iat>", "issuer": "<iss>",
 *    "request": {...the attest request body...}, "policy": "<text>" | null,
 *    "token": "<JWT>", "jwks": {...} (optional), "trust_roots": "<PEM>"
 *    (development anchors, only when the token says x-attestd-development),
 *    "collateral": {<a collateral bundle, collateral/bundle.h>}}
 *
 * Nothing a receipt brings is trusted for itself: the token's signature is
 * checked only against keys the caller gives (--jwks), development
 * anchors are used only with --allow-dev-roots, and everything else is
 * re-verified against the vendors' built-in roots.
 */
#include "cli/cli.h"

#include "attest/attest.h"
#include "base/codec.h"
#include "base/timeutil.h"
#include "collateral/bundle.h"
#include "server/pipeline.h"
#include "token/token.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- re-running the pipeline ---------------------------------------------------------- */

/* The "signature": the claim set, unsigned; compared, never trusted. */
static int capture_sign(void *arg, const char *jku, const json_t *claims, char **jwt, struct attest_err *err)
{
	(void)arg;
	(void)jku;
	if ((*jwt = token_encode_unsigned(claims)) == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "receipt.nomem", "out of memory");
	return ATTEST_OK;
}

/* Development anchors through a private temporary file (pipeline_ctx_load_anchors reads a file). */
static int load_roots(struct pipeline_ctx *ctx, const char *pem, struct attest_err *err)
{
	char path[] = "/tmp/attestctl-roots-XXXXXX";
	int fd = mkstemp(path), rc;
	size_t n = strlen(pem);

	if (fd < 0 || write(fd, pem, n) != (ssize_t)n) {
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		return attest_err_set(err, ATTEST_E_IO, "receipt.io", "cannot write a temporary file");
	}
	close(fd);
	rc = pipeline_ctx_load_anchors(ctx, path, err);
	unlink(path);
	return rc;
}

/*
 * Runs the attestation of r with candidate collateral `coll` at the token's
 * iat; *claims: the claim set built; *used (optional): the items relied on.
 */
static int rerun(const struct receipt *r, const json_t *token_claims, const struct bundle *coll,
		 json_t **claims, struct bundle **used, struct attest_err *err)
{
	struct pipeline_ctx *ctx = NULL;
	struct pipeline_attest in = {0};
	struct pipeline_outcome out = {0};
	char *body = json_dumps(r->request, JSON_COMPACT);
	json_t *hdr = NULL;
	int rc;

	if (body == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "receipt.nomem", "out of memory");
	if (maa_type_from_name(r->type, strlen(r->type), &in.type) != ATTEST_OK) {
		free(body);
		return attest_err_set(err, ATTEST_E_INVALID, "receipt.type",
				      "unknown attestation type \"%s\"", r->type);
	}
	rc = pipeline_ctx_new(0, &ctx, err);
	if (rc == ATTEST_OK && r->trust_roots != NULL)
		rc = load_roots(ctx, r->trust_roots, err);
	if (rc == ATTEST_OK && (rc = bundle_source_new(coll, &ctx->collateral, err)) == ATTEST_OK) {
		ctx->collateral_cache = collateral_cache_new(64);
		ctx->collateral->cache = ctx->collateral_cache;
	}
	if (rc == ATTEST_OK) {
		in.body = body;
		in.body_len = strlen(body);
		in.policy_text = r->policy;
		in.policy_len = r->policy ? strlen(r->policy) : 0;
		in.policy_signer = json_object_get(token_claims, "x-ms-policy-signer");
		in.issuer = json_string_value(json_object_get(token_claims, "iss"));
		in.now = json_integer_value(json_object_get(token_claims, "iat"));
		in.sign = capture_sign;
		if (in.issuer == NULL || in.now <= 0)
			rc = attest_err_set(err, ATTEST_E_PARSE, "receipt.token",
					    "the token has no iss or iat");
	}
	if (rc == ATTEST_OK && (rc = pipeline_attest_run(ctx, &in, &out)) != ATTEST_OK)
		*err = out.err;
	if (rc == ATTEST_OK)
		rc = token_decode_unverified(out.token, strlen(out.token), &hdr, claims, err);
	if (rc == ATTEST_OK && used != NULL)
		rc = bundle_source_used(ctx->collateral, used, err);
	json_decref(hdr);
	pipeline_outcome_clear(&out);
	pipeline_ctx_free(ctx);
	free(body);
	return rc;
}

/* Lists the claims that differ (jti is random per token); returns how many. */
/*
 * A claim value as JSON with every non-ASCII and control character escaped
 * (a receipt is untrusted: nothing of it reaches the terminal raw), cut to
 * 160 characters. Caller frees.
 */
static char *shown(const json_t *v)
{
	char *t = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_ENSURE_ASCII | JSON_COMPACT) : strdup("(none)");

	if (t != NULL && strlen(t) > 160)
		strcpy(t + 157, "...");
	return t;
}

/* Lists the claims that differ (jti is random per token); returns how many. */
static size_t compare_claims(const struct cli *cli, const json_t *token, const json_t *again, bool print)
{
	const char *name;
	json_t *v;
	size_t n = 0;

	json_object_foreach((json_t *)token, name, v)
	{
		const json_t *w = json_object_get(again, name);

		if (strcmp(name, "jti") == 0 || (w != NULL && json_equal(v, w)))
			continue;
		n++;
		if (print) {
			json_t *key = json_string(name);
			char *k = shown(key), *a = shown(v), *b = shown(w);

			cli_error(cli, "claim %s: the token says %s, re-verification %s%s", k ? k : "?",
				  a ? a : "?", w == NULL ? "does not issue it" : "issues ",
				  w == NULL ? ""
				  : b	    ? b
					    : "?");
			free(k);
			free(a);
			free(b);
			json_decref(key);
		}
	}
	json_object_foreach((json_t *)again, name, v)
	{
		if (json_object_get(token, name) != NULL)
			continue;
		n++;
		if (print) {
			json_t *key = json_string(name);
			char *k = shown(key);

			cli_error(cli, "claim %s: issued by re-verification, absent from the token",
				  k ? k : "?");
			free(k);
			json_decref(key);
		}
	}
	return n;
}

/*
 * The hashes the token pins must name items of `used` (tcbinfohash,
 * qeidhash, the CRL hashes of x-ms-sgx-collateral; every hash of
 * x-attestd-snp-collateral): a receipt carries exactly what was relied on.
 */
static int check_pins(const json_t *claims, const struct bundle *used, struct attest_err *err)
{
	static const char *const sgx[] = {"tcbinfohash", "qeidhash", "tcbinfocrlhash", "qeidcrlhash"};
	const json_t *pins[2] = {json_object_get(claims, "x-ms-sgx-collateral"),
				 json_object_get(claims, "x-attestd-snp-collateral")};

	for (int p = 0; p < 2; p++) {
		const char *name;
		json_t *v;

		json_object_foreach((json_t *)pins[p], name, v)
		{
			uint8_t h[32];
			bool listed = p == 1;
			const char *hex = json_string_value(v);

			for (size_t i = 0; i < 4 && !listed; i++)
				listed = strcmp(name, sgx[i]) == 0;
			if (!listed)
				continue;
			if (hex == NULL || strlen(hex) != 64 || hex_decode_to(hex, 64, h, 32) != 0 ||
			    bundle_find_sha256(used, h) == NULL)
				return attest_err_set(
				    err, ATTEST_E_VERIFY, "receipt.pin",
				    "the token pins %s %s, which no collateral item used has", name,
				    hex ? hex : "(not a string)");
		}
	}
	return ATTEST_OK;
}

/* ---- the file ------------------------------------------------------------------------------ */

/* The token's iat as RFC 3339 (malloc'd), or NULL. */
static char *iat_text(const json_t *claims)
{
	char when[40];

	time_format_rfc3339(json_integer_value(json_object_get(claims, "iat")), when, sizeof(when));
	return strdup(when);
}

/* Reads a receipt file (structure, members, every digest). */
static int receipt_load(const char *path, struct receipt *r, struct attest_err *err)
{
	unsigned char *text = NULL;
	size_t len = 0;
	int rc;

	if (cli_read_file(path, &text, &len) != CLI_OK)
		return attest_err_set(err, ATTEST_E_IO, "cli.read", "cannot read %s", path);
	rc = receipt_parse((const char *)text, len, r, err);
	free(text);
	return rc;
}

/* ---- attestctl verify --receipt ------------------------------------------------------------ */

static int token_claims(const struct receipt *r, json_t **claims, struct attest_err *err)
{
	json_t *hdr = NULL;
	int rc = token_decode_unverified(r->token, strlen(r->token), &hdr, claims, err);

	json_decref(hdr);
	return rc;
}

/* The receipt's "time" is the token's iat: the time everything is re-verified at. */
static int check_time(const struct receipt *r, const json_t *claims, struct attest_err *err)
{
	const char *iss = json_string_value(json_object_get(claims, "iss"));
	char when[40];

	time_format_rfc3339(json_integer_value(json_object_get(claims, "iat")), when, sizeof(when));
	if (r->time != NULL && strcmp(r->time, when) != 0)
		return attest_err_set(err, ATTEST_E_VERIFY, "receipt.time",
				      "the receipt says %s, the token was issued at %s", r->time, when);
	/* Likewise its issuer is the token's (the one re-verification issues as). */
	if (r->issuer != NULL && (iss == NULL || strcmp(r->issuer, iss) != 0))
		return attest_err_set(err, ATTEST_E_VERIFY, "receipt.issuer",
				      "the receipt names issuer %s, the token %s", r->issuer,
				      iss ? iss : "none");
	return ATTEST_OK;
}

/*
 * The token's signature, at its own iat, against a JWKS the caller trusts
 * (--jwks FILE), never the receipt's own: whoever forged a receipt would
 * bring a key of their own.
 */
static int token_signature(const struct receipt *r, const char *jwks_file, int64_t iat,
			   struct attest_err *err)
{
	struct attest_token_opts o = {.now = iat, .skew = 60};
	unsigned char *jwks = NULL;
	size_t n = 0;
	int rc;

	if (jwks_file == NULL)
		return ATTEST_OK;
	if (cli_read_file(jwks_file, &jwks, &n) != CLI_OK)
		return attest_err_set(err, ATTEST_E_IO, "cli.read", "cannot read %s", jwks_file);
	rc = attest_token_verify(r->token, (const char *)jwks, &o, NULL, err);
	free(jwks);
	return rc;
}

/*
 * Development anchors travel in the receipt only for development tokens,
 * and are used only when the caller allows them: otherwise anyone could
 * re-verify synthetic evidence against roots of their own.
 */
static int check_dev_roots(const struct receipt *r, const json_t *claims, bool allow, struct attest_err *err)
{
	if (r->trust_roots == NULL)
		return ATTEST_OK;
	if (!json_is_true(json_object_get(claims, "x-attestd-development")))
		return attest_err_set(
		    err, ATTEST_E_VERIFY, "receipt.dev_roots",
		    "the receipt brings trust anchors but its token is not a development token");
	if (!allow)
		return attest_err_set(
		    err, ATTEST_E_VERIFY, "receipt.dev_roots",
		    "the receipt brings its own (development) trust anchors: re-verify with "
		    "--allow-dev-roots only if you trust them");
	return ATTEST_OK;
}

int cli_receipt_verify(const struct cli *cli, const struct cli_receipt_opts *o)
{
	struct receipt r;
	struct attest_err err;
	json_t *claims = NULL, *again = NULL;
	size_t diff;
	int rc;

	attest_err_clear(&err);
	if (receipt_load(o->path, &r, &err) != ATTEST_OK) {
		cli_error_record(cli, "receipt", &err);
		return err.rc == ATTEST_E_IO ? CLI_LOCAL : CLI_REFUSED;
	}
	if ((rc = token_claims(&r, &claims, &err)) == ATTEST_OK &&
	    (rc = check_time(&r, claims, &err)) == ATTEST_OK &&
	    (rc = check_dev_roots(&r, claims, o->allow_dev_roots, &err)) == ATTEST_OK &&
	    (rc = token_signature(&r, o->jwks_file, json_integer_value(json_object_get(claims, "iat")),
				  &err)) == ATTEST_OK &&
	    (rc = check_pins(claims, r.collateral, &err)) == ATTEST_OK)
		rc = rerun(&r, claims, r.collateral, &again, NULL, &err);
	if (rc != ATTEST_OK) {
		cli_error_record(cli, "refused", &err);
		cli_status(cli, false, "refused: %s", err.name);
		rc = err.rc == ATTEST_E_IO ? CLI_LOCAL : CLI_REFUSED;
	} else if ((diff = compare_claims(cli, claims, again, true)) != 0) {
		cli_status(cli, false,
			   "different: %zu claim(s) of the token are not what re-verification issues", diff);
		rc = CLI_REFUSED;
	} else {
		if (cli->output == CLI_OUTPUT_JSON)
			cli_print_json(cli, again);
		cli_status(cli, true, "verified: the receipt re-verifies to the token's %zu claims; %s",
			   json_object_size(claims),
			   o->jwks_file
			       ? "token signature verified with the JWKS given"
			       : "token signature NOT verified (give --jwks with the issuer's keys)");
		rc = CLI_OK;
	}
	json_decref(claims);
	json_decref(again);
	receipt_clear(&r);
	return rc;
}

/* ---- attestctl receipt export --------------------------------------------------------------- */

struct export_opts {
	const char *type, *request, *evidence, *token, *policy, *coll_dir, *bundle, *roots, *jwks, *out;
};

static int read_text(const char *path, char **out)
{
	unsigned char *p = NULL;
	size_t n = 0;

	*out = NULL;
	if (path == NULL)
		return CLI_OK;
	if (cli_read_file(path, &p, &n) != CLI_OK)
		return CLI_LOCAL;
	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		p[--n] = '\0';
	*out = (char *)p; /* cli_read_file NUL-terminates */
	return CLI_OK;
}

/* The request body: the file as sent, or {"quote"|"report": base64url(evidence)}. */
static json_t *request_of(const struct export_opts *o)
{
	unsigned char *p = NULL;
	size_t n = 0;
	json_t *req = NULL;
	char *b64;

	if (o->request != NULL) {
		if (cli_read_file(o->request, &p, &n) == CLI_OK)
			req = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, NULL);
	} else if (cli_read_file(o->evidence, &p, &n) == CLI_OK && strcasecmp(o->type, "SevSnpVm") == 0) {
		/* As `attestctl attest` sends it: Azure's report is already base64url text. */
		req = json_pack("{s:s%}", "report", (const char *)p, strcspn((const char *)p, "\r\n"));
	} else if (p != NULL && (b64 = b64url_encode(p, n)) != NULL) {
		bool quote = strcasecmp(o->type, "SgxEnclave") == 0 || strcasecmp(o->type, "TdxVm") == 0;

		req = json_pack("{s:s}", quote ? "quote" : "report", b64);
		free(b64);
	}
	free(p);
	return json_is_object(req) ? req : (json_decref(req), NULL);
}

static int export_collect(const struct cli *cli, const struct export_opts *o, struct receipt *r,
			  struct bundle **cand, struct attest_err *err)
{
	json_error_t jerr;

	if ((r->type = strdup(o->type)) == NULL || (r->request = request_of(o)) == NULL)
		return attest_err_set(err, ATTEST_E_IO, "cli.read", "cannot read the request (%s)",
				      o->request ? o->request : o->evidence);
	if (read_text(o->token, &r->token) != CLI_OK || read_text(o->policy, &r->policy) != CLI_OK ||
	    read_text(o->roots, &r->trust_roots) != CLI_OK)
		return attest_err_set(err, ATTEST_E_IO, "cli.read",
				      "cannot read the token, policy or roots file");
	if (o->jwks != NULL && (r->jwks = json_load_file(o->jwks, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return attest_err_set(err, ATTEST_E_PARSE, "cli.read", "%s: %s", o->jwks, jerr.text);
	if (o->bundle != NULL)
		return cli_bundle_load(o->bundle, cand, err);
	if (o->coll_dir != NULL)
		return cli_bundle_from_dir(cli, o->coll_dir, cand, err);
	return (*cand = bundle_new()) ? ATTEST_OK
				      : attest_err_set(err, ATTEST_E_NOMEM, "cli.nomem", "out of memory");
}

static int export_run(const struct cli *cli, const struct export_opts *o)
{
	struct receipt r = {0};
	struct bundle *cand = NULL;
	struct attest_err err;
	json_t *claims = NULL, *again = NULL, *doc = NULL;
	int rc;

	attest_err_clear(&err);
	if (export_collect(cli, o, &r, &cand, &err) != ATTEST_OK) {
		cli_error_record(cli, "receipt export", &err);
		rc = err.rc == ATTEST_E_IO ? CLI_LOCAL : CLI_REFUSED;
		goto out;
	}
	if (token_claims(&r, &claims, &err) != ATTEST_OK ||
	    rerun(&r, claims, cand, &again, &r.collateral, &err) != ATTEST_OK ||
	    check_pins(claims, r.collateral, &err) != ATTEST_OK) {
		cli_error_record(cli, "receipt export: the attestation does not re-verify", &err);
		rc = CLI_REFUSED;
		goto out;
	}
	if (compare_claims(cli, claims, again, true) != 0) {
		cli_status(
		    cli, false,
		    "refused: the evidence, policy and collateral given do not reach the token's claims");
		rc = CLI_REFUSED;
		goto out;
	}
	r.time = iat_text(claims);
	r.issuer = json_string_value(json_object_get(claims, "iss"))
		       ? strdup(json_string_value(json_object_get(claims, "iss")))
		       : NULL;
	doc = receipt_to_json(&r);
	rc = doc ? cli_write_json(o->out, doc) : CLI_LOCAL;
	if (rc == CLI_OK && strcmp(o->out, "-") != 0)
		cli_status(cli, true, "receipt written to %s (%zu collateral item(s))", o->out,
			   r.collateral->n);
	else if (rc != CLI_OK)
		cli_error(cli, "cannot write %s", o->out);
out:
	json_decref(doc);
	json_decref(claims);
	json_decref(again);
	bundle_free(cand);
	receipt_clear(&r);
	return rc;
}

static int cmd_export(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"type", required_argument, NULL, 'y'},
	    {"request", required_argument, NULL, 'r'},
	    {"evidence", required_argument, NULL, 'e'},
	    {"token", required_argument, NULL, 't'},
	    {"policy", required_argument, NULL, 'p'},
	    {"collateral", required_argument, NULL, 'c'},
	    {"bundle", required_argument, NULL, 'b'},
	    {"trust-roots", required_argument, NULL, 'R'},
	    {"jwks", required_argument, NULL, 'j'},
	    {"out", required_argument, NULL, 'O'},
	    {NULL, 0, NULL, 0},
	};
	struct export_opts o = {.out = "-"};
	int ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "O:", opts, NULL)) != -1) {
		switch (ch) {
		case 'y':
			o.type = optarg;
			break;
		case 'r':
			o.request = optarg;
			break;
		case 'e':
			o.evidence = optarg;
			break;
		case 't':
			o.token = optarg;
			break;
		case 'p':
			o.policy = optarg;
			break;
		case 'c':
			o.coll_dir = optarg;
			break;
		case 'b':
			o.bundle = optarg;
			break;
		case 'R':
			o.roots = optarg;
			break;
		case 'j':
			o.jwks = optarg;
			break;
		case 'O':
			o.out = optarg;
			break;
		default:
			return CLI_USAGE;
		}
	}
	if (argc != optind || o.type == NULL || o.token == NULL ||
	    (o.request == NULL) == (o.evidence == NULL) || (o.coll_dir != NULL && o.bundle != NULL)) {
		cli_error(cli,
			  "usage: attestctl receipt export --type TYPE (--request FILE | --evidence FILE) "
			  "--token FILE [--policy FILE] [--collateral DIR | --bundle FILE] [-O FILE]");
		return CLI_USAGE;
	}
	return export_run(cli, &o);
}

static const struct cli_command VERBS[] = {
    {"export", "write the receipt of one attestation (re-verified before it is written)", cmd_export,
     "Usage: attestctl receipt export --type TYPE (--request FILE | --evidence FILE) --token FILE\n"
     "                                [--policy FILE] [--collateral DIR | --bundle FILE] [options]\n\n"
     "Writes a verification receipt (docs/receipts-and-bundles.md): the request, the policy,\n"
     "the time (the token's iat), the token, and the collateral items the verification\n"
     "relied on, found among the candidates given by the hashes the token pins. The\n"
     "attestation is re-run offline first: a receipt is written only if it reaches the\n"
     "token's claims. `attestctl verify --receipt FILE` re-verifies it later.\n\n"
     "  --type TYPE          SgxEnclave, OpenEnclave, TdxVm, SevSnpVm\n"
     "  --request FILE       the attest request body as sent (JSON)\n"
     "  --evidence FILE      or the evidence alone (sent as \"quote\" / \"report\")\n"
     "  --token FILE         the token attestd issued\n"
     "  --policy FILE        the provider's policy for the type (default: the type's default)\n"
     "  --collateral DIR     candidate collateral: a folder (attestd --collateral-dir layout)\n"
     "  --bundle FILE        or a collateral bundle (attestctl collateral export)\n"
     "  --trust-roots FILE   DEVELOPMENT: the extra anchors attestd trusted (x-attestd-development)\n"
     "  --jwks FILE          the issuer's /certs, kept in the receipt for reference\n"
     "                       (verify --receipt trusts only the --jwks it is given)\n"
     "  -O, --out FILE       where to write (default standard output)\n\n"
     "Exit 0 written, 1 the attestation does not re-verify to the token, 2 usage, 4 local error.\n"},
    {NULL, NULL, NULL, NULL},
};

const struct cli_noun cli_noun_receipt = {
    "receipt", "verification receipts: export one (verify it with `attestctl verify --receipt`)", VERBS, NULL,
    NULL};
