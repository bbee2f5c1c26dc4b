/*
 * libFuzzer target: what the TPM protocol reads before any signature
 * (src/evidence/tpm_protocol*.c, vbs.c): the request body (envelope,
 * payload wrapping, message kind), a sealed service_context, the PCP
 * platform claim blob, the VBS report parser, and
 * the JSON evidence reader of tpm_verify (up to its signature check).
 */
#include "evidence/tpm_protocol.h"
#include "evidence/vbs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key_bytes[TPM_PROTO_KEY_LEN] = {1};
	static struct tpm_context_keys *key; /* made once: a keyring's set-up is not what is fuzzed */
	struct tpm_proto_msg m;
	struct tpm_context c;
	struct tpm_pcp_blob b;
	struct vbs_report *r = malloc(sizeof(*r));
	char *text = malloc(size + 1);

	if (key == NULL && (key = tpm_context_keys_new(key_bytes)) == NULL)
		abort();
	if (text == NULL || r == NULL)
		goto out;
	memcpy(text, data, size);
	text[size] = '\0';
	if (tpm_proto_msg_parse(text, size, &m, NULL) == 0)
		tpm_proto_msg_free(&m);
	/* at provider "fuzz": one seed context is its, another is another provider's */
	tpm_context_open(key, "fuzz", text, size, 0, &c, NULL);
	tpm_pcp_blob_parse(data, size, &b, NULL);
	{
		struct evidence_ctx ctx = {.now = 0, .flags = EVIDENCE_NO_COLLATERAL};
		struct evidence_input in = {.evidence = data, .evidence_len = size};
		struct claim_set *cs = claim_set_new();

		setenv("TSS2_LOG", "all+NONE", 0);
		tpm_verify(&ctx, &in, cs, NULL);
		claim_set_free(cs);
	}
	vbs_report_parse(data, size, r, NULL);
out:
	free(text);
	free(r);
	return 0;
}
