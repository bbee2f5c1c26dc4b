/*
 * Fuzz target: SGX quotes and Open Enclave envelopes through the shared
 * quote parser, the PCK chain extraction and the whole sgx_verify /
 * oe_verify pipeline with the built-in Intel root and no collateral
 * (EVIDENCE_NO_COLLATERAL), so every length, certificate, extension and
 * signature check runs on hostile input.
 *
 * Input: byte 0 selects the mode. 0 mod 3: the rest is a quote (sgx_verify);
 * 1 mod 3: the rest is OE evidence (oe_verify); 2 mod 3: the rest patches a
 * real SGX/OE quote read at start-up from $ATTEST_VECTORS (byte 1 picks the
 * vector, bytes 2-3 the offset, the remaining bytes are XORed in there), so
 * mutations land deep inside real structures.
 * Seeds: fuzz/evidence/corpus/fuzz_sgx_quote (written by test_sgx_devplat
 * with ATTEST_WRITE_FUZZ_CORPUS=1).
 */
#include "attest/error.h"
#include "claims/claims.h"
#include "evidence/quote.h"
#include "evidence/sgx.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NOW 1651017600 /* 2022-04-27: inside the OE vectors' PCK windows */

static const char *const REAL[] = {
    "sgx/phala-sgx-v3-00a067110000-2025-06/quote.bin",
    "oe/azure-samples-oe-sdk-release-00906ed50000-2021-02/quote.bin",
    "oe/azure-sdk-js-oe-report-00906ed50000-2022-01/report.bin",
    "oe/openenclave-plugin-evidence-00906ed50000-2022-04-26/quote.bin",
};
#define N_REAL (sizeof(REAL) / sizeof(REAL[0]))
static uint8_t *real[N_REAL];
static size_t real_len[N_REAL];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *vec = getenv("ATTEST_VECTORS");
	size_t i;

	(void)argc;
	(void)argv;
	for (i = 0; vec != NULL && i < N_REAL; i++) {
		real[i] = test_read_vector(vec, REAL[i], &real_len[i]);
	}
	return 0;
}

static void run(const uint8_t *p, size_t n, bool oe)
{
	struct evidence_ctx ctx = {.now = FUZZ_NOW, .flags = EVIDENCE_NO_COLLATERAL};
	struct evidence_input in = {.evidence = p, .evidence_len = n};
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	struct quote q;

	attest_err_clear(&err);
	if (!oe && quote_parse(p, n, QUOTE_TEE_ANY, &q, "sgx", &err) == ATTEST_OK) {
		const uint8_t *pem;
		size_t pem_len;

		/* Invariants of a parsed quote: everything lies inside the input. */
		if (q.len > n || q.len + q.trailing != n || q.signed_len > q.len)
			abort();
		attest_err_clear(&err);
		(void)quote_pck_chain_pem(&q, &pem, &pem_len, "sgx", &err);
	}
	attest_err_clear(&err);
	if (cs != NULL) {
		int rc = oe ? oe_verify(&ctx, &in, cs, &err) : sgx_verify(&ctx, &in, cs, &err);

		/* Claims only on success, an error name on failure. */
		if ((rc == ATTEST_OK) != (claim_set_count(cs) > 0) ||
		    (rc != ATTEST_OK && err.name[0] == '\0'))
			abort();
	}
	claim_set_free(cs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *m;
	size_t v, off, i;

	if (size < 1)
		return 0;
	if (data[0] % 3 != 2 || size < 4) {
		run(data + 1, size - 1, data[0] % 3 == 1);
		return 0;
	}
	v = data[1] % N_REAL;
	if (real[v] == NULL)
		return 0;
	m = malloc(real_len[v]);
	if (m == NULL)
		return 0;
	memcpy(m, real[v], real_len[v]);
	off = (size_t)(data[2] | data[3] << 8) % real_len[v];
	for (i = 4; i < size && off + i - 4 < real_len[v]; i++)
		m[off + i - 4] ^= data[i];
	run(m, real_len[v], v == 2);
	free(m);
	return 0;
}
