/*
 * A relying party in a few lines: release a secret only to an enclave whose
 * attestation token verifies and whose measurement is the expected one.
 *
 *   relying_party TOKEN_FILE JWKS_FILE ISSUER MRENCLAVE_HEX [UNIX_TIME]
 *
 * Prints the secret and exits 0 when everything holds; otherwise prints why
 * and exits 1. Uses only libattest's public interface (<attest/attest.h>).
 */
#include <attest/attest.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (p = calloc(1, (size_t)n + 1)) != NULL && fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		p = NULL;
	}
	fclose(f);
	while (p && *p && strchr(" \r\n", p[strlen(p) - 1]))
		p[strlen(p) - 1] = '\0';
	return p;
}

/* The claim `name` of a compact claims JSON text, as the string between its quotes. */
static int claim_equals(const char *claims, const char *name, const char *want)
{
	char key[128];
	const char *p;

	snprintf(key, sizeof(key), "\"%s\":\"", name);
	p = strstr(claims, key);
	return p != NULL && strncmp(p + strlen(key), want, strlen(want)) == 0 && p[strlen(key) + strlen(want)] == '"';
}

int main(int argc, char **argv)
{
	struct attest_token_opts opts = {.skew = 60};
	struct attest_err err = {0};
	char *token, *jwks, *claims = NULL;
	int ok = 0;

	if (argc < 5) {
		fprintf(stderr, "usage: %s TOKEN_FILE JWKS_FILE ISSUER MRENCLAVE_HEX [UNIX_TIME]\n", argv[0]);
		return 2;
	}
	token = slurp(argv[1]);
	jwks = slurp(argv[2]);
	opts.issuer = argv[3];
	opts.now = argc > 5 ? strtoll(argv[5], NULL, 10) : 0;
	if (token == NULL || jwks == NULL) {
		fprintf(stderr, "cannot read %s or %s\n", argv[1], argv[2]);
	} else if (attest_token_verify(token, jwks, &opts, &claims, &err) != ATTEST_OK) {
		fprintf(stderr, "token refused: %s: %s\n", err.name, err.msg);
	} else if (!claim_equals(claims, "x-ms-sgx-mrenclave", argv[4])) {
		fprintf(stderr, "token verified, but the enclave is not the expected one: no secret\n");
	} else if (strstr(claims, "\"x-ms-sgx-is-debuggable\":false") == NULL) {
		fprintf(stderr, "token verified, but the enclave is debuggable: no secret\n");
	} else {
		printf("secret: the-launch-codes\n");
		ok = 1;
	}
	attest_free(claims);
	free(token);
	free(jwks);
	return ok ? 0 : 1;
}
