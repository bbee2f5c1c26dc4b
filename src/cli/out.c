/* attestctl output: errors, status lines, JSON or tables; colour only on a terminal. */
#include "cli/cli.h"

#include <stdarg.h>
#include <string.h>

#define RED "\033[31m"
#define GREEN "\033[32m"
#define BOLD "\033[1m"
#define RESET "\033[0m"

void cli_error(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout); /* what was printed before comes before the error, even through one pipe */
	fprintf(stderr, "%sattestctl: ", cli && cli->color ? RED : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", cli && cli->color ? RESET : "");
}

void cli_error_record(const struct cli *cli, const char *what, const struct attest_err *err)
{
	if (err->where[0])
		cli_error(cli, "%s: %s: %s (at %s)", what, err->name, err->msg, err->where);
	else
		cli_error(cli, "%s: %s: %s", what, err->name, err->msg);
}

void cli_status(const struct cli *cli, bool ok, const char *fmt, ...)
{
	va_list ap;
	FILE *f = cli->output == CLI_OUTPUT_JSON ? stderr : stdout;

	fflush(stdout);
	if (cli->color)
		fputs(ok ? GREEN BOLD : RED BOLD, f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fprintf(f, "%s\n", cli->color ? RESET : "");
}

/* A scalar as table text: strings bare, everything else as compact JSON. */
static void print_scalar(FILE *f, const json_t *v)
{
	char *s;

	if (json_is_string(v)) {
		fputs(json_string_value(v), f);
		return;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
	if (s)
		fputs(s, f);
	free(s);
}

void cli_print_json(const struct cli *cli, const json_t *v)
{
	const char *key;
	json_t *val;
	size_t width = 0;

	if (cli->output == CLI_OUTPUT_JSON || !json_is_object(v)) {
		json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
		fputc('\n', stdout);
		return;
	}
	json_object_foreach((json_t *)v, key, val)
		if (strlen(key) > width)
			width = strlen(key);
	json_object_foreach((json_t *)v, key, val) {
		printf("%s%-*s%s  ", cli->color ? BOLD : "", (int)width, key, cli->color ? RESET : "");
		print_scalar(stdout, val);
		fputc('\n', stdout);
	}
}
