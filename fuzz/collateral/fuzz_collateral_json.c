/*
 * Fuzz target: Intel collateral JSON (PCS bodies): TCB Info v2/v3 (SGX and
 * TDX) and Enclave Identity v2 parsers, the signed-span scan, and the TCB
 * evaluation and QE identity check of whatever parses, against a fixed PCK.
 * Input: byte 0 even = TCB Info, odd = Enclave Identity; the rest is the
 * body. Seeds: fuzz/collateral/corpus/fuzz_collateral_json (synthetic
 * bodies from test_sgx_devplat with ATTEST_WRITE_FUZZ_CORPUS=1), plus the
 * real tcb_info.json / qe_identity.json of $ATTEST_VECTORS parsed at start.
 */
#include "attest/error.h"
#include "evidence/pck.h"
#include "evidence/quote.h"
#include "evidence/tcb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run(const uint8_t *p, size_t n, bool identity)
{
	struct attest_err err;

	attest_err_clear(&err);
	if (!identity) {
		struct tcb_info *ti = NULL;

		if (tcb_info_parse(p, n, &ti, "sgx", &err) == ATTEST_OK) {
			struct pck_ext pck;
			struct tcb_verdict v;
			size_t i;

			if (ti->signed_off + ti->signed_len > ti->body_len)
				abort();
			for (i = 1; i < ti->n_levels; i++) /* sorted descending, no duplicates */
				if (memcmp(ti->levels[i - 1].sgx, ti->levels[i].sgx, 16) < 0)
					abort();
			memset(&pck, 0, sizeof(pck));
			memcpy(pck.fmspc, ti->fmspc, 6);
			memcpy(pck.pceid, ti->pceid, 2);
			memset(pck.comp_svn, 5, 16);
			pck.pcesvn = 10;
			attest_err_clear(&err);
			if (ti->id != TCB_INFO_ID_TDX &&
			    tcb_evaluate(ti, &pck, NULL, TCB_UP_TO_DATE, NULL, &v, "sgx", &err) == ATTEST_OK)
				tcb_verdict_free(&v);
			tcb_info_free(ti);
		}
	} else {
		struct qe_identity *qi = NULL;

		if (qe_identity_parse(p, n, &qi, "sgx", &err) == ATTEST_OK) {
			struct sgx_report_body qe;
			enum tcb_status st;

			memset(&qe, 0, sizeof(qe));
			qe.isvsvn = 7;
			memcpy(qe.mrsigner, qi->mrsigner, 32);
			qe.isvprodid = qi->isvprodid;
			memcpy(qe.attributes, qi->attributes, 16);
			qe.miscselect = qi->miscselect;
			attest_err_clear(&err);
			(void)qe_identity_check(qi, &qe, &st, NULL, "sgx", &err);
			qe_identity_free(qi);
		}
	}
}

static void run_file(const char *dir, const char *name, bool identity)
{
	char path[4096];
	FILE *f;
	uint8_t buf[1 << 16];
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "rb")) == NULL)
		return;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	run(buf, n, identity);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const dirs[] = {"sgx/phala-sgx-v3-00a067110000-2025-06",
					   "oe/openenclave-plugin-evidence-00906ed50000-2022-04-26",
					   "tdx/google-tdx-v5-90c06f000000-2026-02"};
	const char *vec = getenv("ATTEST_VECTORS");
	char dir[4096];
	size_t i;

	(void)argc;
	(void)argv;
	for (i = 0; vec != NULL && i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/%s", vec, dirs[i]);
		run_file(dir, "tcb_info.json", false);
		run_file(dir, "qe_identity.json", true);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	run(data + 1, size - 1, data[0] & 1);
	return 0;
}
