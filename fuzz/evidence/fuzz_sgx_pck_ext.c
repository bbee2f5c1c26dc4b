/*
 * Fuzz target: the PCK SGX extension DER decoder (pck_ext_decode), our own
 * bounds-checked ASN.1 reader. Seeds: fuzz/evidence/corpus/fuzz_sgx_pck_ext
 * (extensions of synthetic Processor- and Platform-CA PCKs).
 */
#include "attest/error.h"
#include "evidence/pck.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pck_ext ext;
	struct attest_err err;

	attest_err_clear(&err);
	if (pck_ext_decode(data, size, &ext, "sgx", &err) == ATTEST_OK) {
		if (ext.n_entries != 5 && ext.n_entries != 7)
			abort();
	} else if (err.name[0] == '\0') {
		abort();
	}
	return 0;
}
