/* attestctl token verify: what a relying party must check of an attestation token. */
#include "cli/cli.h"

#include "base/timeutil.h"
#include "crypto/jose.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

struct token_opts {
	const char *jwks, *issuer, *nonce;
	int64_t at, skew;
};

/* The JWKS from a file, or fetched from a URL (with --cacert). */
static int load_jwks(const struct cli *cli, const char *src, json_t **out)
{
	struct cli_response r = {0};
	json_error_t jerr;
	int rc;

	if (strncmp(src, "https://", 8) != 0 && strncmp(src, "http://", 7) != 0) {
		*out = json_load_file(src, JSON_REJECT_DUPLICATES, &jerr);
		if (*out == NULL)
			cli_error(cli, "JWKS %s: %s", src, jerr.text);
		return *out ? CLI_OK : CLI_LOCAL;
	}
	if ((rc = cli_http(cli, "GET", src, NULL, &r)) != CLI_OK)
		return rc;
	if (r.status != 200) {
		rc = cli_http_fail(cli, "fetching the JWKS", &r);
	} else if ((*out = json_loadb(r.body, r.len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		cli_error(cli, "JWKS from %s is not JSON: %s", src, jerr.text);
		rc = CLI_SERVER;
	}
	cli_response_free(&r);
	return rc;
}

/* The token text: an argument, "-" for stdin, or "@file". Whitespace trimmed. */
static char *read_token(const struct cli *cli, const char *arg)
{
	unsigned char *p = NULL;
	size_t n = 0;

	if (strcmp(arg, "-") != 0 && arg[0] != '@')
		return strdup(arg);
	if (cli_read_file(arg[0] == '@' ? arg + 1 : arg, &p, &n) != CLI_OK) {
		cli_error(cli, "cannot read the token from %s", arg);
		return NULL;
	}
	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' '))
		p[--n] = 0;
	return (char *)p;
}

/* Every check after the signature: issuer, time window, nonce. */
static int check_claims(const json_t *claims, const struct token_opts *o, struct attest_err *err)
{
	const char *iss = json_string_value(json_object_get(claims, "iss"));
	const char *nonce = json_string_value(json_object_get(claims, "nonce"));
	int rc;

	if ((rc = jwt_check_time(claims, o->at, o->skew, JWT_REQUIRE_EXP, err)) != ATTEST_OK)
		return rc;
	if (o->issuer && (iss == NULL || strcmp(iss, o->issuer) != 0))
		return attest_err_set(err, ATTEST_E_VERIFY, "token.issuer", "issuer is \"%s\", expected \"%s\"",
				      iss ? iss : "(absent)", o->issuer);
	if (o->nonce && (nonce == NULL || strcmp(nonce, o->nonce) != 0))
		return attest_err_set(err, ATTEST_E_VERIFY, "token.nonce", "nonce is \"%s\", expected \"%s\"",
				      nonce ? nonce : "(absent)", o->nonce);
	return ATTEST_OK;
}

static int parse_token_opts(const struct cli *cli, int argc, char **argv, struct token_opts *o)
{
	static const struct option opts[] = {
		{"jwks", required_argument, NULL, 'j'},  {"issuer", required_argument, NULL, 'i'},
		{"nonce", required_argument, NULL, 'n'}, {"at", required_argument, NULL, 'a'},
		{"skew", required_argument, NULL, 's'},  {NULL, 0, NULL, 0},
	};
	int ch;

	o->at = time_now();
	o->skew = 60;
	optind = 0; /* GNU getopt: 0 also resets its internal state for a new argv */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'j': o->jwks = optarg; break;
		case 'i': o->issuer = optarg; break;
		case 'n': o->nonce = optarg; break;
		case 's': o->skew = strtoll(optarg, NULL, 10); break;
		case 'a':
			if (cli_parse_time(optarg, &o->at) != CLI_OK)
				return CLI_USAGE;
			break;
		default: return CLI_USAGE;
		}
	}
	if (argc - optind != 1 || (o->jwks == NULL && o->issuer == NULL) || o->skew < 0) {
		cli_error(cli, "usage: attestctl token verify <jwt|-|@file> (--jwks URL|FILE | --issuer URL) "
			       "[--nonce N] [--skew SECONDS] [--at TIME]");
		return CLI_USAGE;
	}
	return CLI_OK;
}

static int cmd_verify_token(struct cli *cli, int argc, char **argv)
{
	struct token_opts o = {0};
	struct jws *jws = NULL;
	json_t *jwks = NULL, *claims = NULL;
	struct attest_err err;
	char *token = NULL, url[2048];
	int rc;

	if ((rc = parse_token_opts(cli, argc, argv, &o)) != CLI_OK)
		return rc;
	if ((token = read_token(cli, argv[optind])) == NULL)
		return CLI_LOCAL;
	if (o.jwks == NULL) /* Azure's convention: the issuer publishes its keys at <issuer>/certs. */
		snprintf(url, sizeof(url), "%s/certs", o.issuer);
	if ((rc = load_jwks(cli, o.jwks ? o.jwks : url, &jwks)) != CLI_OK)
		goto out;
	attest_err_clear(&err);
	/* "none" is never accepted here: an unsigned (draft-policy) token proves nothing. */
	if (jws_parse(token, strlen(token), &jws, &err) != ATTEST_OK ||
	    jws_verify_jwks(jws, jwks, 0, &err) != ATTEST_OK || jwt_claims(jws, &claims, &err) != ATTEST_OK ||
	    check_claims(claims, &o, &err) != ATTEST_OK) {
		cli_error_record(cli, "token refused", &err);
		cli_status(cli, false, "refused: %s", err.name);
		rc = CLI_REFUSED;
		goto out;
	}
	cli_print_json(cli, claims);
	cli_status(cli, true, "token verified: signature (kid %s), %stime window (skew %llds)%s",
		   jws_header_str(jws, "kid") ? jws_header_str(jws, "kid") : "-", o.issuer ? "issuer, " : "",
		   (long long)o.skew, o.nonce ? ", nonce" : "");
out:
	json_decref(claims);
	json_decref(jwks);
	jws_free(jws);
	free(token);
	return rc;
}

static const struct cli_command VERBS[] = {
	{"verify", "verify an attestation token as a relying party must", cmd_verify_token,
	 "Usage: attestctl token verify <jwt | - | @file> (--jwks URL|FILE | --issuer URL) [options]\n\n"
	 "Checks the signature against the JWKS (the key named by the token's kid),\n"
	 "the time window (exp required, nbf, iat) with a stated skew, the issuer and\n"
	 "the nonce. Unsigned tokens (alg none, from draft policies) are refused.\n\n"
	 "Options:\n"
	 "  --jwks URL|FILE   the signing keys (default: <issuer>/certs)\n"
	 "  --issuer URL      the expected iss claim\n"
	 "  --nonce STRING    the expected nonce claim\n"
	 "  --skew SECONDS    clock skew tolerated (default 60)\n"
	 "  --at TIME         check the time window at TIME instead of now\n\n"
	 "Exit 0 when the token verified, 1 when refused.\n"},
	{NULL, NULL, NULL, NULL},
};

const struct cli_noun cli_noun_token = {"token", "verify attestation tokens", VERBS, NULL, NULL};
