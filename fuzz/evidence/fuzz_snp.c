/*
 * libFuzzer target: the SEV-SNP report parser and the extended-report
 * certificate table (src/evidence/snp_report.c), then the whole uniform
 * entry point on the same bytes (certificate DER and AMD extension parsing,
 * chain building against the built-in roots). Nothing may crash, leak or
 * read out of bounds; a report that is not signed by AMD never verifies.
 */
#include "claims/claims.h"
#include "evidence/snp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evidence_ctx ctx = {.now = 1767225600};
	struct evidence_input in;
	struct snp_report r;
	struct snp_cert_table t;
	struct claim_set *cs;
	/* An exact-size copy, so ASan sees any read past the input. */
	uint8_t *copy = malloc(size ? size : 1);

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	(void)snp_report_parse(copy, size < SNP_REPORT_SIZE ? size : SNP_REPORT_SIZE, &r, NULL);
	if (size > SNP_REPORT_SIZE)
		(void)snp_cert_table_parse(copy + SNP_REPORT_SIZE, size - SNP_REPORT_SIZE, &t, NULL);
	memset(&in, 0, sizeof(in));
	in.evidence = copy, in.evidence_len = size;
	cs = claim_set_new();
	if (cs != NULL && snp_verify(&ctx, &in, cs, NULL) == 0)
		abort(); /* nothing made up can carry AMD's signature */
	claim_set_free(cs);
	free(copy);
	return 0;
}
