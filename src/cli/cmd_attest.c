/* attestctl attest: send evidence to attestd and print the token's claims or the refusal. */
#include "cli/cli.h"

#include "base/buf.h"
#include "base/codec.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The request member that carries the evidence, per MAA type (maa-interface.md §1.3). */
static const char *evidence_member(const char *type)
{
	if (strcasecmp(type, "SgxEnclave") == 0 || strcasecmp(type, "TdxVm") == 0)
		return "quote";
	if (strcasecmp(type, "OpenEnclave") == 0 || strcasecmp(type, "SevSnpVm") == 0)
		return "report";
	return NULL;
}

/* {"data": b64url, "dataType": "Binary"|"JSON"} of a file. */
static json_t *data_object(const unsigned char *p, size_t n, bool json)
{
	char *b64 = b64url_encode(p, n);
	json_t *o = b64 ? json_pack("{s:s, s:s}", "data", b64, "dataType", json ? "JSON" : "Binary") : NULL;

	free(b64);
	return o;
}

struct attest_opts {
	const char *runtime_file, *inittime_file, *nonce, *draft_file, *save_token;
	bool runtime_json, inittime_json;
};

static int parse_attest_opts(const struct cli *cli, int argc, char **argv, struct attest_opts *o)
{
	static const struct option opts[] = {
		{"runtime-data", required_argument, NULL, 'r'}, {"runtime-json", no_argument, NULL, 'R'},
		{"inittime-data", required_argument, NULL, 'i'}, {"inittime-json", no_argument, NULL, 'I'},
		{"nonce", required_argument, NULL, 'n'},         {"draft-policy", required_argument, NULL, 'd'},
		{"save-token", required_argument, NULL, 's'},    {NULL, 0, NULL, 0},
	};
	int ch;

	optind = 0; /* GNU getopt: 0 also resets its internal state for a new argv */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'r': o->runtime_file = optarg; break;
		case 'R': o->runtime_json = true; break;
		case 'i': o->inittime_file = optarg; break;
		case 'I': o->inittime_json = true; break;
		case 'n': o->nonce = optarg; break;
		case 'd': o->draft_file = optarg; break;
		case 's': o->save_token = optarg; break;
		default: return CLI_USAGE;
		}
	}
	if (argc - optind != 2) {
		cli_error(cli, "usage: attestctl attest <type> <evidence-file> [options] (see --help)");
		return CLI_USAGE;
	}
	return CLI_OK;
}

/* Adds member `key` = data object of a file, when the file is given. */
static int add_data_file(const struct cli *cli, json_t *req, const char *key, const char *file, bool json)
{
	unsigned char *p = NULL;
	size_t n = 0;
	json_t *o;

	if (file == NULL)
		return CLI_OK;
	if (cli_read_file(file, &p, &n) != CLI_OK) {
		cli_error(cli, "cannot read %s", file);
		return CLI_LOCAL;
	}
	o = data_object(p, n, json);
	free(p);
	return json_object_set_new(req, key, o) == 0 ? CLI_OK : CLI_LOCAL;
}

/* The request body for type from the evidence file and options. */
static int build_request(const struct cli *cli, const char *type, const char *file, const struct attest_opts *o,
			 char **body)
{
	const char *member = evidence_member(type);
	unsigned char *ev = NULL, *draft = NULL;
	size_t evlen = 0, dlen = 0;
	json_t *req = json_object();
	char *b64 = NULL;
	int rc = CLI_LOCAL;

	if (member == NULL) {
		cli_error(cli, "attest: unknown or unsupported type '%s' (SgxEnclave, OpenEnclave, TdxVm, SevSnpVm)", type);
		rc = CLI_USAGE;
		goto out;
	}
	if (cli_read_file(file, &ev, &evlen) != CLI_OK) {
		cli_error(cli, "cannot read evidence file %s", file);
		goto out;
	}
	/*
	 * SevSnpVm's report is a base64url JSON document: a file that holds it
	 * encoded (as clients keep it) is sent as is, the JSON itself (what
	 * `attestctl dev evidence snp` writes) is encoded here.
	 */
	if (strcasecmp(type, "SevSnpVm") == 0 && ev[strspn((const char *)ev, " \t\r\n")] != '{')
		json_object_set_new(req, member, json_stringn((const char *)ev, strcspn((const char *)ev, "\r\n")));
	else if ((b64 = b64url_encode(ev, evlen)) != NULL)
		json_object_set_new(req, member, json_string(b64));
	if (add_data_file(cli, req, "runtimeData", o->runtime_file, o->runtime_json) != CLI_OK ||
	    add_data_file(cli, req, "initTimeData", o->inittime_file, o->inittime_json) != CLI_OK)
		goto out;
	if (o->nonce)
		json_object_set_new(req, "nonce", json_string(o->nonce));
	if (o->draft_file) {
		if (cli_read_file(o->draft_file, &draft, &dlen) != CLI_OK) {
			cli_error(cli, "cannot read %s", o->draft_file);
			goto out;
		}
		json_object_set_new(req, "draftPolicyForAttestation", json_stringn((const char *)draft, dlen));
	}
	*body = json_dumps(req, JSON_COMPACT);
	rc = *body ? CLI_OK : CLI_LOCAL;
out:
	free(b64);
	free(ev);
	free(draft);
	json_decref(req);
	return rc;
}

static int cmd_attest(struct cli *cli, int argc, char **argv)
{
	struct attest_opts o = {0};
	struct cli_response r = {0};
	char *body = NULL, path[256];
	json_t *resp = NULL, *claims = NULL;
	const char *token;
	int rc;

	if ((rc = parse_attest_opts(cli, argc, argv, &o)) != CLI_OK)
		return rc;
	if ((rc = build_request(cli, argv[optind], argv[optind + 1], &o, &body)) != CLI_OK)
		return rc;
	snprintf(path, sizeof(path), "/attest/%s?api-version=%s", argv[optind], CLI_API_VERSION);
	if ((rc = cli_http(cli, "POST", path, body, &r)) != CLI_OK)
		goto out;
	if (r.status != 200) {
		rc = cli_http_fail(cli, "attest", &r);
		cli_status(cli, false, "refused");
		goto out;
	}
	resp = json_loads(r.body, 0, NULL);
	token = json_string_value(json_object_get(resp, "token"));
	claims = token ? cli_jwt_payload(token) : NULL;
	if (claims == NULL) {
		cli_error(cli, "attest: the server's answer carries no token");
		rc = CLI_SERVER;
		goto out;
	}
	if (o.save_token) {
		FILE *f = fopen(o.save_token, "w");

		if (f == NULL || fprintf(f, "%s\n", token) < 0 || fclose(f) != 0) {
			cli_error(cli, "cannot write the token to %s", o.save_token);
			rc = CLI_LOCAL;
			goto out;
		}
	}
	if (cli->output == CLI_OUTPUT_JSON)
		json_object_set_new(claims, "_token", json_string(token));
	cli_print_json(cli, claims);
	cli_status(cli, true, "attested: token issued (verify it with `attestctl token verify`)");
out:
	json_decref(claims);
	json_decref(resp);
	cli_response_free(&r);
	free(body);
	return rc;
}

const struct cli_noun cli_noun_attest = {
	"attest", "send evidence to attestd and print the token's claims", NULL, cmd_attest,
	"Usage: attestctl attest <type> <evidence-file> [options]\n\n"
	"Sends evidence to attestd (POST /attest/<type>) and prints the claims of the\n"
	"token it returns, or the refusal and its reason. Types: SgxEnclave (quote file),\n"
	"OpenEnclave (OE report), TdxVm (quote), SevSnpVm (the base64url JSON report\n"
	"document Azure's tools produce).\n\n"
	"Options:\n"
	"  --runtime-data FILE   runtime data bound to the evidence (sent as Binary)\n"
	"  --runtime-json        send the runtime data as JSON (emitted as x-ms-runtime)\n"
	"  --inittime-data FILE  init-time data; --inittime-json as above\n"
	"  --nonce STRING        copied into the token's nonce claim\n"
	"  --draft-policy FILE   evaluate this policy text instead (the token is unsigned)\n"
	"  --save-token FILE     also write the token itself to FILE\n"
	"  -o json               print the claims and the token itself as JSON\n\n"
	"Exit 0 when a token was issued, 1 when the service refused, 3 on server errors.\n"};
