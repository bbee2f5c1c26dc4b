/*
 * libFuzzer target: TPM structures as a verifier receives them from the
 * network: TPMS_ATTEST, TPMT_SIGNATURE and TPMT_PUBLIC/TPM2B_PUBLIC through
 * libtss2-mu (src/evidence/tpm.c), and the quote check over whatever
 * parses. Input: u16 BE length of the TPMS_ATTEST, the TPMS_ATTEST, then
 * the TPMT_SIGNATURE; the same bytes are also tried as a public area.
 * tpm_attest_parse and tpm_signature_parse read quotes and RSA signatures
 * themselves: they must accept exactly what libtss2-mu accepts, into the
 * same structure (abort otherwise).
 */
#include "evidence/tpm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_mu.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *fixed_key(void)
{
	/* One RSA key per process: the point is the parsers, not key generation. */
	static EVP_PKEY *k;

	if (k == NULL)
		k = EVP_RSA_gen(2048);
	return k;
}

/* The parsers against libtss2-mu on the same bytes: the same verdict and structure. */
static void same_as_tss2(const uint8_t *p, size_t n, const uint8_t *sp, size_t sn)
{
	TPMS_ATTEST a, ra;
	TPMT_SIGNATURE s, rs;
	size_t off = 0;
	bool ok, ref;

	memset(&a, 0, sizeof(a));
	memset(&ra, 0, sizeof(ra));
	ok = tpm_attest_parse(p, n, &a, NULL) == 0;
	ref = Tss2_MU_TPMS_ATTEST_Unmarshal(p, n, &off, &ra) == TSS2_RC_SUCCESS && off == n;
	if (ok != ref || (ok && memcmp(&a, &ra, sizeof(a)) != 0))
		abort();
	memset(&s, 0, sizeof(s));
	memset(&rs, 0, sizeof(rs));
	off = 0;
	ok = tpm_signature_parse(sp, sn, &s, NULL) == 0;
	ref = Tss2_MU_TPMT_SIGNATURE_Unmarshal(sp, sn, &off, &rs) == TSS2_RC_SUCCESS && off == sn;
	if (ok != ref || (ok && memcmp(&s, &rs, sizeof(s)) != 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TPMS_ATTEST a;
	TPMT_SIGNATURE s;
	TPMT_PUBLIC p;
	EVP_PKEY *k = NULL;
	size_t alen;
	struct tpm_pcr_values pcrs;

	setenv("TSS2_LOG", "all+NONE", 0);
	if (tpm_public_parse(data, size, &p, NULL) == 0 && tpm_public_to_pkey(&p, &k, NULL) == 0) {
		uint8_t name[80];
		size_t nl;

		tpm_public_name(&p, name, sizeof(name), &nl, NULL);
		EVP_PKEY_free(k);
	}
	if (size < 2)
		return 0;
	alen = (size_t)data[0] << 8 | data[1];
	if (alen > size - 2)
		return 0;
	same_as_tss2(data + 2, alen, data + 2 + alen, size - 2 - alen);
	if (tpm_attest_parse(data + 2, alen, &a, NULL) == 0 && a.type == TPM2_ST_ATTEST_QUOTE) {
		uint8_t d[64];
		size_t dl;

		memset(&pcrs, 0, sizeof(pcrs));
		memset(pcrs.present, 0xff, sizeof(pcrs.present));
		tpm_pcr_digest(&a.attested.quote.pcrSelect, &pcrs, TPM2_ALG_SHA256, d, &dl, NULL);
	}
	if (tpm_signature_parse(data + 2 + alen, size - 2 - alen, &s, NULL) == 0) {
		struct tpm_quote_in in = {.attest = data + 2, .attest_len = alen, .sig = data + 2 + alen,
					  .sig_len = size - 2 - alen, .aik = fixed_key(), .pcrs = &pcrs,
					  .required_bank = -1};
		struct tpm_aik_trust t = {0};
		struct tpm_quote_out out;

		memset(&pcrs, 0, sizeof(pcrs));
		if (tpm_quote_verify(&in, &t, &out, NULL) == 0)
			abort(); /* a random input cannot carry a valid signature of this key */
	}
	return 0;
}
