/* attestctl policy: check and test locally; get, set, reset and sign against attestd. */
#include "cli/cli.h"

#include "claims/claims.h"
#include "base/buf.h"
#include "base/codec.h"
#include "policy/policy.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* Compiles a policy file; prints the error with its line and column. */
static int compile_file(const struct cli *cli, const char *path, struct policy_plan **plan)
{
	unsigned char *text = NULL;
	size_t len = 0;
	struct attest_err err;
	int rc;

	if (cli_read_file(path, &text, &len) != CLI_OK) {
		cli_error(cli, "cannot read policy file %s", path);
		return CLI_LOCAL;
	}
	attest_err_clear(&err);
	rc = policy_compile((const char *)text, len, NULL, plan, &err);
	free(text);
	if (rc != ATTEST_OK) {
		cli_error_record(cli, path, &err);
		return CLI_REFUSED;
	}
	return CLI_OK;
}

static int cmd_check(struct cli *cli, int argc, char **argv)
{
	struct policy_plan *plan = NULL;
	json_t *summary;
	int rc;

	if (argc != 2) {
		cli_error(cli, "usage: attestctl policy check <policy-file>");
		return CLI_USAGE;
	}
	if ((rc = compile_file(cli, argv[1], &plan)) != CLI_OK)
		return rc;
	summary = json_pack("{s:s, s:s, s:i, s:i, s:i, s:s}", "file", argv[1], "version",
			    policy_plan_version(plan), "configurationrules",
			    policy_plan_rule_count(plan, POLICY_SECTION_CONFIGURATION), "authorizationrules",
			    policy_plan_rule_count(plan, POLICY_SECTION_AUTHORIZATION), "issuancerules",
			    policy_plan_rule_count(plan, POLICY_SECTION_ISSUANCE), "x-ms-policy-hash",
			    policy_plan_hash(plan));
	cli_print_json(cli, summary);
	json_decref(summary);
	policy_plan_free(plan);
	return CLI_OK;
}

/* Claims from a JSON file (claim_set_from_json's forms). */
static int load_claims(const struct cli *cli, const char *path, struct claim_set **out)
{
	unsigned char *text = NULL;
	size_t n = 0;
	struct attest_err err;
	int rc;

	if (cli_read_file(path, &text, &n) != CLI_OK) {
		cli_error(cli, "cannot read %s", path);
		return CLI_LOCAL;
	}
	attest_err_clear(&err);
	rc = cli_claims_from_json((const char *)text, out, &err);
	free(text);
	if (rc != ATTEST_OK) {
		cli_error_record(cli, path, &err);
		return CLI_USAGE;
	}
	return CLI_OK;
}

/* The explain trace as JSON: one entry per rule. */
static json_t *explain_json(const struct policy_result *r)
{
	json_t *rules = json_array();

	for (size_t i = 0; r->explain && i < r->explain->nrules; i++) {
		const struct policy_rule_trace *t = &r->explain->rules[i];
		json_t *b = json_object();

		for (size_t j = 0; j < t->nbindings; j++)
			json_object_set_new(b, t->bindings[j].ident,
					    json_pack("{s:s, s:O}", "type", t->bindings[j].type, "value",
						      t->bindings[j].value ? t->bindings[j].value : json_null()));
		json_array_append_new(rules, json_pack("{s:s, s:i, s:i, s:i, s:o, s:s?}", "section",
						       policy_section_name(t->section), "rule", t->index, "line",
						       t->line, "fired", t->fired, "bindings", b, "why", t->why));
	}
	return rules;
}

static int cmd_test(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"claims", required_argument, NULL, 'c'}, {"evidence", required_argument, NULL, 'e'},
		{"type", required_argument, NULL, 't'},   {"collateral", required_argument, NULL, 'C'},
		{"at", required_argument, NULL, 'a'},     {"trust-roots", required_argument, NULL, 'd'},
		{NULL, 0, NULL, 0},
	};
	struct cli_verify_opts vo = {0};
	const char *claims_file = NULL;
	struct policy_plan *plan = NULL;
	struct claim_set *incoming = NULL;
	struct policy_result *res = NULL;
	struct attest_err err;
	char reason[1024];
	json_t *report;
	int ch, rc;

	optind = 0; /* GNU getopt: 0 also resets its internal state for a new argv */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': claims_file = optarg; break;
		case 'e': vo.evidence_file = optarg; break;
		case 't': vo.type = optarg; break;
		case 'C': vo.collateral_dir = optarg; break;
		case 'd': vo.trust_roots = optarg; break;
		case 'a':
			if (cli_parse_time(optarg, &vo.at) != CLI_OK) {
				cli_error(cli, "--at takes Unix seconds or an RFC 3339 time, not '%s'", optarg);
				return CLI_USAGE;
			}
			break;
		default: return CLI_USAGE;
		}
	}
	if (optind + 1 != argc || (claims_file == NULL) == (vo.evidence_file == NULL)) {
		cli_error(cli, "usage: attestctl policy test <policy-file> (--claims FILE | --type T --evidence FILE --collateral DIR)");
		return CLI_USAGE;
	}
	if ((rc = compile_file(cli, argv[optind], &plan)) != CLI_OK)
		return rc;
	attest_err_clear(&err);
	if (claims_file)
		rc = load_claims(cli, claims_file, &incoming);
	else if (cli_verify_evidence(cli, &vo, &incoming, &err) != ATTEST_OK) {
		cli_error_record(cli, vo.evidence_file, &err);
		rc = CLI_REFUSED;
	}
	if (rc != CLI_OK)
		goto out;
	if (policy_eval(plan, incoming, POLICY_EVAL_EXPLAIN, &res, &err) != ATTEST_OK) {
		cli_error_record(cli, "policy evaluation", &err);
		rc = CLI_REFUSED;
		goto out;
	}
	policy_result_reason(res, reason, sizeof(reason));
	report = json_pack("{s:s, s:s, s:o, s:o, s:o}", "verdict", policy_verdict_name(res->verdict), "reason",
			   reason, "issued", claim_set_to_json(res->outgoing), "properties",
			   claim_set_to_json(res->properties), "rules", explain_json(res));
	cli_print_json(cli, report);
	json_decref(report);
	cli_status(cli, res->verdict == POLICY_PERMIT, "%s", reason);
	rc = res->verdict == POLICY_PERMIT ? CLI_OK : CLI_REFUSED;
out:
	policy_result_free(res);
	claim_set_free(incoming);
	policy_plan_free(plan);
	return rc;
}

/* Prints the policy text carried in a PolicyResult token (x-ms-policy). */
static int print_policy_result(const struct cli *cli, const char *what, const struct cli_response *r)
{
	json_t *body = json_loads(r->body, 0, NULL);
	const char *token = json_string_value(json_object_get(body, "token"));
	json_t *claims = token ? cli_jwt_payload(token) : NULL;
	const char *pol = json_string_value(json_object_get(claims, "x-ms-policy"));
	json_t *inner = pol ? cli_jwt_payload(pol) : NULL;
	const char *b64 = json_string_value(json_object_get(inner, "AttestationPolicy"));
	unsigned char *text = NULL;
	size_t n = 0;
	int rc = CLI_OK;

	if (claims == NULL) {
		cli_error(cli, "%s: the server's answer carries no PolicyResult token", what);
		rc = CLI_SERVER;
	} else if (cli->output == CLI_OUTPUT_JSON || b64 == NULL ||
		   b64_decode(b64, strlen(b64), &text, &n) != ATTEST_OK) {
		cli_print_json(cli, claims);
	} else {
		fwrite(text, 1, n, stdout);
		if (n == 0 || text[n - 1] != '\n')
			fputc('\n', stdout);
	}
	free(text);
	json_decref(inner);
	json_decref(claims);
	json_decref(body);
	return rc;
}

static int cmd_get(struct cli *cli, int argc, char **argv)
{
	struct cli_response r = {0};
	char path[256];
	int rc;

	if (argc != 2) {
		cli_error(cli, "usage: attestctl policy get <attestation-type>");
		return CLI_USAGE;
	}
	snprintf(path, sizeof(path), "/policies/%s?api-version=%s", argv[1], CLI_API_VERSION);
	if ((rc = cli_http(cli, "GET", path, NULL, &r)) != CLI_OK)
		return rc;
	rc = r.status == 200 ? print_policy_result(cli, "policy get", &r) : cli_http_fail(cli, "policy get", &r);
	cli_response_free(&r);
	return rc;
}

/* Builds the policy JWS of text (NULL = reset), signed when key and cert are given. */
static int make_policy_jws(const struct cli *cli, const char *text, size_t len, const char *key_file,
			   const char *cert_file, char **jws)
{
	unsigned char *key = NULL, *cert = NULL;
	size_t klen, clen;
	struct attest_err err;
	int rc;

	attest_err_clear(&err);
	if ((key_file == NULL) != (cert_file == NULL)) {
		cli_error(cli, "--signing-key and --signing-cert go together");
		return CLI_USAGE;
	}
	if (key_file == NULL)
		rc = policy_jws_unsigned(text, len, jws, &err);
	else if (cli_read_file(key_file, &key, &klen) != CLI_OK || cli_read_file(cert_file, &cert, &clen) != CLI_OK) {
		cli_error(cli, "cannot read %s or %s", key_file, cert_file);
		rc = -1;
	} else {
		rc = policy_jws_signed(text, len, (const char *)key, (const char *)cert, jws, &err);
	}
	if (key)
		mem_free_secret(key, klen);
	free(cert);
	if (rc > 0)
		cli_error_record(cli, "policy signing", &err);
	return rc == 0 ? CLI_OK : CLI_LOCAL;
}

struct sign_opts {
	const char *key, *cert;
};

static int parse_sign_opts(const struct cli *cli, int argc, char **argv, struct sign_opts *so)
{
	static const struct option opts[] = {
		{"signing-key", required_argument, NULL, 'k'},
		{"signing-cert", required_argument, NULL, 'c'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	optind = 0; /* GNU getopt: 0 also resets its internal state for a new argv */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'k')
			so->key = optarg;
		else if (ch == 'c')
			so->cert = optarg;
		else
			return CLI_USAGE;
	}
	return CLI_OK;
}

static int send_policy(struct cli *cli, const char *what, const char *method, const char *path, const char *jws)
{
	struct cli_response r = {0};
	int rc = cli_http(cli, method, path, jws, &r);

	if (rc != CLI_OK)
		return rc;
	rc = r.status == 200 ? print_policy_result(cli, what, &r) : cli_http_fail(cli, what, &r);
	cli_response_free(&r);
	return rc;
}

static int cmd_set_or_sign(struct cli *cli, int argc, char **argv, bool send)
{
	struct sign_opts so = {0};
	unsigned char *text = NULL;
	size_t len = 0;
	char *jws = NULL, path[256];
	int rc, want = send ? 2 : 1;

	if (parse_sign_opts(cli, argc, argv, &so) != CLI_OK || argc - optind != want) {
		cli_error(cli, send ? "usage: attestctl policy set <type> <policy-file> [--signing-key K --signing-cert C]"
				    : "usage: attestctl policy sign <policy-file> [--signing-key K --signing-cert C]");
		return CLI_USAGE;
	}
	if (cli_read_file(argv[argc - 1], &text, &len) != CLI_OK) {
		cli_error(cli, "cannot read policy file %s", argv[argc - 1]);
		return CLI_LOCAL;
	}
	rc = make_policy_jws(cli, (const char *)text, len, so.key, so.cert, &jws);
	if (rc == CLI_OK && send) {
		snprintf(path, sizeof(path), "/policies/%s?api-version=%s", argv[optind], CLI_API_VERSION);
		rc = send_policy(cli, "policy set", "PUT", path, jws);
	} else if (rc == CLI_OK) {
		printf("%s\n", jws);
	}
	free(jws);
	free(text);
	return rc;
}

static int cmd_set(struct cli *cli, int argc, char **argv) { return cmd_set_or_sign(cli, argc, argv, true); }
static int cmd_sign(struct cli *cli, int argc, char **argv) { return cmd_set_or_sign(cli, argc, argv, false); }

static int cmd_reset(struct cli *cli, int argc, char **argv)
{
	struct sign_opts so = {0};
	char *jws = NULL, path[256];
	int rc;

	if (parse_sign_opts(cli, argc, argv, &so) != CLI_OK || argc - optind != 1) {
		cli_error(cli, "usage: attestctl policy reset <type> [--signing-key K --signing-cert C]");
		return CLI_USAGE;
	}
	rc = make_policy_jws(cli, NULL, 0, so.key, so.cert, &jws);
	if (rc == CLI_OK) {
		snprintf(path, sizeof(path), "/policies/%s:reset?api-version=%s", argv[optind], CLI_API_VERSION);
		rc = send_policy(cli, "policy reset", "POST", path, jws);
	}
	free(jws);
	return rc;
}

static const struct cli_command VERBS[] = {
	{"check", "parse and lint a policy file locally", cmd_check,
	 "Usage: attestctl policy check <policy-file>\n\n"
	 "Compiles the policy locally. Errors name the line and column, what was\n"
	 "expected and what was found. Exit 0 when it compiles, 1 when it does not.\n"},
	{"test", "evaluate a policy against claims or evidence, with the explain trace", cmd_test,
	 "Usage: attestctl policy test <policy-file> --claims FILE\n"
	 "       attestctl policy test <policy-file> --type TYPE --evidence FILE --collateral DIR [--at TIME] [--trust-roots FILE]\n\n"
	 "Evaluates the policy on incoming claims (a JSON object {type: value} or an\n"
	 "array of {type, value, issuer}) or on the claims of evidence verified offline,\n"
	 "and prints the verdict, the issued claims and what every rule did.\n"
	 "Exit 0 when the policy permits, 1 when it denies.\n"},
	{"get", "print a provider's current policy", cmd_get,
	 "Usage: attestctl policy get <attestation-type>\n\n"
	 "Prints the policy text in force for SgxEnclave, OpenEnclave, TdxVm, SevSnpVm, Tpm or AzureGuest.\n"},
	{"set", "set a policy (unsigned, or signed with --signing-key/--signing-cert)", cmd_set,
	 "Usage: attestctl policy set <attestation-type> <policy-file> [--signing-key KEY.pem --signing-cert CERT.pem]\n\n"
	 "Sends the policy as a JWS: unsigned (alg none), or signed with the key whose\n"
	 "certificate is carried in x5c (required by isolated providers).\n"},
	{"reset", "revert a policy to the default", cmd_reset,
	 "Usage: attestctl policy reset <attestation-type> [--signing-key KEY.pem --signing-cert CERT.pem]\n"},
	{"sign", "print the JWS of a policy file, signed or unsigned", cmd_sign,
	 "Usage: attestctl policy sign <policy-file> [--signing-key KEY.pem --signing-cert CERT.pem]\n\n"
	 "Prints the policy JWS that `policy set` would send, e.g. for use with other clients.\n"},
	{NULL, NULL, NULL, NULL},
};

const struct cli_noun cli_noun_policy = {"policy", "check, test, get, set, reset and sign policies", VERBS, NULL, NULL};
