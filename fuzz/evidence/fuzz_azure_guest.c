/*
 * libFuzzer target: the AttestationInfo JSON of Azure guest attestation
 * (src/evidence/azure_guest.c, maa-interface.md §1.3.6). The whole input
 * is the JSON text: parsed, then verified with no trust anchors and a
 * registered AIK hash no key has (nothing may verify), and, as a sealed envelope, handed to the unseal
 * parser.
 */
#include "claims/claims.h"
#include "evidence/azure_guest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* No key holder: the unwrap always fails, after the envelope was parsed. */
static int no_unwrap(void *arg, const uint8_t *wrapped, size_t n, uint8_t *key, size_t *key_len)
{
	(void)arg, (void)wrapped, (void)n, (void)key, (void)key_len;
	return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t registered[1][32] = {{0xA5}};
	static const uint8_t measurements[1][48] = {{0x5A}};
	const struct azure_guest_opts opts = {.registered_aiks = registered,
					      .n_registered_aiks = 1,
					      .cvm_measurements = measurements,
					      .n_cvm_measurements = 1};
	struct evidence_ctx ctx = {.now = 1700000000};
	struct evidence_input in;
	struct azure_guest_info info;
	struct claim_set *cs = claim_set_new();
	char *jwt = NULL;

	if (cs == NULL)
		return 0;
	if (azure_guest_info_parse(data, size, &info, NULL) == 0)
		azure_guest_info_free(&info);
	memset(&in, 0, sizeof(in));
	in.evidence = data, in.evidence_len = size;
	/* No AIK root, no forged SNP report, and a registration no key hashes to: nothing can verify. */
	if (azure_guest_verify_with(&ctx, &opts, &in, cs, NULL) == 0)
		abort();
	if (claim_set_count(cs) != 0)
		abort();
	claim_set_free(cs);
	/* The envelope parser up to the key unwrap (no private key: it must fail). */
	if (azure_guest_unseal_with(no_unwrap, NULL, (const char *)data, size, &jwt, NULL) == 0)
		abort();
	return 0;
}
