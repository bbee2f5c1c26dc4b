/*
 * libFuzzer target: Azure's SevSnpVm request envelope and the HCL report
 * (src/evidence/azure_cvm.c). The first byte chooses what the rest is:
 * even = the envelope (JSON or base64url of it) given to sevsnpvm_verify,
 * odd = an HCL report (parse, bind, runtime JSON and HCLAkPub, and the
 * SNP-in-HCL verification).
 */
#include "claims/claims.h"
#include "evidence/azure_cvm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void hcl(const uint8_t *p, size_t n)
{
	struct evidence_ctx ctx = {.now = 1700000000};
	struct hcl_report h;
	json_t *rt = NULL;
	EVP_PKEY *ak = NULL;
	struct snp_certs certs;

	if (hcl_report_parse(p, n, &h, NULL) != 0)
		return;
	(void)hcl_report_bind(&h, NULL);
	if (hcl_runtime_parse(&h, &rt, &ak, NULL) == 0) {
		json_decref(rt);
		EVP_PKEY_free(ak);
	}
	memset(&certs, 0, sizeof(certs));
	if (azure_cvm_snp_verify(&ctx, NULL, p, n, &certs, NULL, NULL, NULL, NULL) == 0)
		abort();
}

static void envelope(const uint8_t *p, size_t n)
{
	struct evidence_ctx ctx = {.now = 1700000000};
	struct evidence_input in;
	struct claim_set *cs = claim_set_new();

	if (cs == NULL)
		return;
	memset(&in, 0, sizeof(in));
	in.evidence = p, in.evidence_len = n;
	in.runtime_data = (const uint8_t *)"{}", in.runtime_data_len = 2,
	in.runtime_data_type = EVIDENCE_DATA_JSON;
	if (sevsnpvm_verify(&ctx, &in, cs, NULL) == 0)
		abort();
	claim_set_free(cs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (size == 0)
		return 0;
	copy = malloc(size - 1 ? size - 1 : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data + 1, size - 1);
	if (data[0] & 1)
		hcl(copy, size - 1);
	else
		envelope(copy, size - 1);
	free(copy);
	return 0;
}
