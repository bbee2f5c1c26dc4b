/* attestctl helpers: files, times, help detection. */
#include "cli/cli.h"

#include "base/buf.h"
#include "base/codec.h"
#include "base/timeutil.h"
#include "claims/claims.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CLI_MAX_FILE (64u * 1024 * 1024)

int cli_read_file(const char *path, unsigned char **out, size_t *len)
{
	struct buf b;
	unsigned char chunk[8192];
	size_t n;

	if (strcmp(path, "-") != 0)
		return file_read_all(path, CLI_MAX_FILE, out, len) == ATTEST_OK ? CLI_OK : CLI_LOCAL;
	buf_init(&b, CLI_MAX_FILE);
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		if (buf_append(&b, chunk, n) != ATTEST_OK) {
			buf_free(&b);
			return CLI_LOCAL;
		}
	*out = buf_steal(&b, len);
	return *out ? CLI_OK : CLI_LOCAL;
}

int cli_parse_time(const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == 0 && end != s && *end == '\0' && v >= 0) {
		*out = v;
		return CLI_OK;
	}
	return time_parse_rfc3339(s, out) == ATTEST_OK ? CLI_OK : CLI_USAGE;
}

bool cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	}
	return false;
}

json_t *cli_jwt_payload(const char *jwt)
{
	const char *dot1 = strchr(jwt, '.'), *dot2;
	unsigned char *raw = NULL;
	size_t n = 0;
	json_t *doc;

	if (dot1 == NULL || (dot2 = strchr(dot1 + 1, '.')) == NULL)
		return NULL;
	if (b64_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &raw, &n) != ATTEST_OK)
		return NULL;
	doc = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
	free(raw);
	return doc;
}

int cli_claims_from_json(const char *text, struct claim_set **out, struct attest_err *err)
{
	json_error_t jerr;
	json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	int rc;

	if (doc == NULL)
		return attest_err_set(err, ATTEST_E_PARSE, "cli.claims", "claims are not JSON: %s", jerr.text);
	rc = claim_set_from_json(doc, out, err);
	json_decref(doc);
	return rc;
}
