/*
 * libFuzzer target: the TCG event log parser (legacy and crypto-agile),
 * replay of every bank, verification against the log's own replay (so the
 * data-binding checks and claim decoding run), SIPA walking, and the
 * events / pcrs JSON (src/evidence/tcg_log.c, tcg_claims.c, sipa.c).
 * The texts are written by hand: each must be byte for byte what jansson
 * dumps for the same tree (tcg_text_ref.h), both filters, or the target
 * aborts.
 */
#include "evidence/tcg_log.h"
#include "tcg_text_ref.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tcg_log *log = NULL;
	struct tpm_pcr_values pcrs;
	struct tcg_boot_state st;
	struct claim_set *cs;
	char *s;

	if (tcg_log_parse(data, size, &log, NULL) != 0)
		return 0;
	memset(&pcrs, 0, sizeof(pcrs));
	for (int b = 0; b < TPM_BANK_COUNT; b++) {
		uint8_t v[TPM_PCR_COUNT][TPM_PCR_MAX_DIGEST];

		if (tcg_log_replay(log, (enum tpm_bank)b, v, NULL) != 0)
			continue;
		for (unsigned i = 0; i < TPM_PCR_COUNT; i++)
			tpm_pcr_set(&pcrs, (enum tpm_bank)b, i, v[i], tpm_bank_size(b), NULL);
	}
	/* The log against its own replay: only the data-binding checks can fail. */
	tcg_log_verify(log, &pcrs, NULL);
	if (tcg_boot_state(log, &st, NULL) == 0) {
		cs = claim_set_new();
		tcg_boot_state_claims(&st, cs);
		claim_set_free(cs);
	}
	for (int v = 0; v < 2; v++) {
		char *want = tcg_ref_events_text(log, v == 1);

		s = tcg_events_json(log, v == 1);
		/* a text past TCG_JSON_MAX is refused whole; anything else is the reference's */
		if (want == NULL || (s == NULL ? strlen(want) <= TCG_JSON_MAX : strcmp(s, want) != 0))
			abort();
		free(want);
		free(s);
	}
	s = tcg_pcrs_json(&pcrs);
	{
		char *want = tcg_ref_pcrs_text(&pcrs);

		if (s == NULL || want == NULL || strcmp(s, want) != 0)
			abort();
		free(want);
	}
	free(s);
	tcg_log_free(log);
	return 0;
}
