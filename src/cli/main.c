/* attestctl: the command-line tool for attestd and for offline verification. */
#include "cli/cli.h"

#include "base/buf.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct cli_noun *const NOUNS[] = {
	&cli_noun_verify, &cli_noun_token, &cli_noun_policy, &cli_noun_attest, &cli_noun_provider,
	&cli_noun_signer, &cli_noun_keys, &cli_noun_dev, &cli_noun_collateral, &cli_noun_receipt, &cli_noun_tpm,
};
#define NNOUNS (sizeof(NOUNS) / sizeof(NOUNS[0]))

static void usage_top(FILE *f)
{
	fprintf(f, "Usage: attestctl [global options] <command> [<verb>] [options]\n\n"
		   "Manage an attestd service and verify attestation evidence and tokens.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < NNOUNS; i++)
		fprintf(f, "  %-10s %s\n", NOUNS[i]->name, NOUNS[i]->summary);
	fprintf(f, "\nGlobal options:\n"
		   "  --url URL         attestd endpoint ($ATTESTD_URL; default https://127.0.0.1:8443)\n"
		   "  --cacert FILE     CA certificate(s) to trust for the endpoint ($ATTESTD_CACERT)\n"
		   "  --token TOKEN     bearer credential for management calls ($ATTESTD_TOKEN)\n"
		   "  --config FILE     JSON config with \"url\", \"cacert\", \"token\"\n"
		   "                    (default $ATTESTCTL_CONFIG or ~/.config/attestctl/config.json)\n"
		   "  -o, --output FMT  table (default) or json\n"
		   "  --no-color        never colour output (also $NO_COLOR)\n"
		   "  -h, --help        this help; `attestctl <command> --help` for a command\n"
		   "  --version         print the version\n\n"
		   "Exit codes: 0 ok/verified, 1 refused (evidence, token or policy; HTTP 400, 401, 403),\n"
		   "2 usage, 3 server error or any other HTTP error (404, 409, 429, 5xx), 4 local error.\n");
}

static void usage_noun(FILE *f, const struct cli_noun *n)
{
	if (n->verbs == NULL) {
		fputs(n->usage, f);
		return;
	}
	fprintf(f, "Usage: attestctl %s <verb> [options]\n\n%s\n\nVerbs:\n", n->name, n->summary);
	for (const struct cli_command *c = n->verbs; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\nRun `attestctl %s <verb> --help` for a verb's options.\n", n->name);
}

/* Loads the JSON config file, if any; a named file that is missing is an error. */
static int load_config(struct cli *cli, const char *path)
{
	char def[4096];
	const char *home = getenv("HOME");
	json_error_t jerr;
	bool named = path != NULL;

	if (path == NULL)
		path = getenv("ATTESTCTL_CONFIG");
	named = named || path != NULL;
	if (path == NULL && home != NULL) {
		snprintf(def, sizeof(def), "%s/.config/attestctl/config.json", home);
		path = def;
	}
	if (path == NULL || (!named && access(path, R_OK) != 0))
		return CLI_OK;
	cli->config = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (cli->config == NULL || !json_is_object(cli->config)) {
		cli_error(cli, "config %s: %s (line %d)", path, cli->config ? "not a JSON object" : jerr.text,
			  jerr.line);
		return CLI_USAGE;
	}
	return CLI_OK;
}

static const char *config_str(const struct cli *cli, const char *key)
{
	return cli->config ? json_string_value(json_object_get(cli->config, key)) : NULL;
}

/* Option, then environment, then config file, then the default. */
static void resolve_settings(struct cli *cli)
{
	if (cli->url == NULL)
		cli->url = getenv("ATTESTD_URL");
	if (cli->url == NULL)
		cli->url = config_str(cli, "url");
	if (cli->url == NULL)
		cli->url = "https://127.0.0.1:8443";
	if (cli->cacert == NULL)
		cli->cacert = getenv("ATTESTD_CACERT");
	if (cli->cacert == NULL)
		cli->cacert = config_str(cli, "cacert");
	if (cli->token == NULL)
		cli->token = getenv("ATTESTD_TOKEN");
	if (cli->token == NULL)
		cli->token = config_str(cli, "token");
}

static int run_noun(struct cli *cli, const struct cli_noun *n, int argc, char **argv)
{
	if (n->verbs == NULL) {
		if (cli_wants_help(argc, argv)) {
			fputs(n->usage, stdout);
			return CLI_OK;
		}
		return n->run(cli, argc, argv);
	}
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage_noun(argc < 2 ? stderr : stdout, n);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	for (const struct cli_command *c = n->verbs; c->name; c++) {
		if (strcmp(c->name, argv[1]) != 0)
			continue;
		if (cli_wants_help(argc - 1, argv + 1)) {
			fputs(c->usage, stdout);
			return CLI_OK;
		}
		return c->run(cli, argc - 1, argv + 1);
	}
	cli_error(cli, "unknown verb '%s' for '%s' (try `attestctl %s --help`)", argv[1], n->name, n->name);
	return CLI_USAGE;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"url", required_argument, NULL, 'u'},    {"cacert", required_argument, NULL, 'c'},
		{"token", required_argument, NULL, 't'},  {"config", required_argument, NULL, 'C'},
		{"output", required_argument, NULL, 'o'}, {"no-color", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct cli cli = {.output = CLI_OUTPUT_TABLE};
	const char *config = NULL;
	bool no_color = getenv("NO_COLOR") != NULL;
	int ch, rc;

	/* '+': stop at the first command word; the rest belongs to the command. */
	while ((ch = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'u': cli.url = optarg; break;
		case 'c': cli.cacert = optarg; break;
		case 't': cli.token = optarg; break;
		case 'C': config = optarg; break;
		case 'n': no_color = true; break;
		case 'o':
			if (strcmp(optarg, "json") == 0)
				cli.output = CLI_OUTPUT_JSON;
			else if (strcmp(optarg, "table") != 0) {
				cli_error(&cli, "--output takes json or table, not '%s'", optarg);
				return CLI_USAGE;
			}
			break;
		case 'h': usage_top(stdout); return CLI_OK;
		case 'V': printf("attestctl %s\n", ATTEST_VERSION); return CLI_OK;
		default: usage_top(stderr); return CLI_USAGE;
		}
	}
	cli.color = !no_color && isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
	if (optind >= argc) {
		usage_top(stderr);
		return CLI_USAGE;
	}
	if ((rc = load_config(&cli, config)) != CLI_OK)
		return rc;
	resolve_settings(&cli);
	rc = CLI_USAGE;
	for (size_t i = 0; i < NNOUNS; i++)
		if (strcmp(NOUNS[i]->name, argv[optind]) == 0) {
			rc = run_noun(&cli, NOUNS[i], argc - optind, argv + optind);
			goto out;
		}
	cli_error(&cli, "unknown command '%s' (try `attestctl --help`)", argv[optind]);
out:
	json_decref(cli.config);
	return rc;
}
