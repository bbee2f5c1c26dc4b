/*
 * Fuzz target: TD quotes (v4/v5) through the shared quote parser, the TD
 * report body parser and claims, and the whole tdx_verify pipeline with the
 * built-in Intel root and no collateral (EVIDENCE_NO_COLLATERAL), so every
 * certificate, signature and length check runs on hostile input.
 *
 * Input: byte 0 selects the mode. Even: the rest is a quote. Odd: the rest
 * patches a real TDX vector (read at start-up from $ATTEST_VECTORS/tdx):
 * byte 1 picks the vector, bytes 2-3 the offset (LE), the remaining bytes
 * are XORed in there, so mutations land deep inside real structures.
 * Seeds: synthetic quotes in fuzz/evidence/corpus/fuzz_tdx_quote (written
 * by test_tdx_devplat with ATTEST_WRITE_FUZZ_CORPUS=1).
 */
#include "attest/error.h"
#include "claims/claims.h"
#include "evidence/quote.h"
#include "evidence/tdx.h"
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_REAL 16
#define FUZZ_NOW 1750377600 /* 2025-06-20: inside most real PCK windows */

static uint8_t *real[MAX_REAL];
static size_t real_len[MAX_REAL];
static size_t n_real;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *vec = getenv("ATTEST_VECTORS");
	char path[4096];
	struct dirent *e;
	DIR *d;

	if (vec == NULL)
		return 0;
	snprintf(path, sizeof(path), "%s/tdx", vec);
	d = opendir(path);
	while (d != NULL && (e = readdir(d)) != NULL && n_real < MAX_REAL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "tdx/%s/quote.bin", e->d_name);
		real[n_real] = test_read_vector(vec, path, &real_len[n_real]);
		if (real[n_real] != NULL)
			n_real++;
	}
	if (d != NULL)
		closedir(d);
	return 0;
}

/* Parser invariants: whatever parses has a TD body the TD parser accepts. */
static void parse_path(const uint8_t *q, size_t n)
{
	struct quote pq;
	struct tdx_td_report td;
	struct attest_err err;

	attest_err_clear(&err);
	if (quote_parse(q, n, QUOTE_TEE_TDX, &pq, "tdx", &err) != ATTEST_OK) {
		if (err.name[0] == '\0')
			__builtin_trap(); /* every failure names itself */
		return;
	}
	if (pq.len > n || pq.len + pq.trailing != n)
		__builtin_trap();
	if (tdx_td_report_parse(pq.body, pq.body_len, (int)pq.body_type, &td, &err) != ATTEST_OK)
		__builtin_trap(); /* quote_parse already checked the body type and size */
	{
		struct claim_set *set = claim_set_new();

		if (set != NULL && tdx_claims_add_report(set, &td, &err) != ATTEST_OK &&
		    err.rc != ATTEST_E_NOMEM)
			__builtin_trap();
		claim_set_free(set);
	}
}

static void verify_path(const uint8_t *q, size_t n)
{
	struct evidence_ctx ctx = {.now = FUZZ_NOW, .flags = EVIDENCE_NO_COLLATERAL};
	struct evidence_input in;
	struct claim_set *set = claim_set_new();
	struct attest_err err;
	int rc;

	if (set == NULL)
		return;
	memset(&in, 0, sizeof(in));
	in.evidence = q;
	in.evidence_len = n;
	attest_err_clear(&err);
	rc = tdx_verify(&ctx, &in, set, &err);
	if (rc != ATTEST_OK && (claim_set_count(set) != 0 || err.name[0] == '\0'))
		__builtin_trap(); /* a refusal adds no claims and names itself */
	claim_set_free(set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *q;
	size_t n, off;

	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0 || n_real == 0) {
		parse_path(data + 1, size - 1);
		verify_path(data + 1, size - 1);
		return 0;
	}
	if (size < 4)
		return 0;
	n = real_len[data[1] % n_real];
	q = malloc(n);
	if (q == NULL)
		return 0;
	memcpy(q, real[data[1] % n_real], n);
	off = (size_t)(data[2] | data[3] << 8) % n;
	for (size_t i = 4; i < size && off < n; i++, off++)
		q[off] ^= data[i];
	parse_path(q, n);
	verify_path(q, n);
	free(q);
	return 0;
}
