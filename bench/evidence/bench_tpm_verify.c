/*
 * A verifier process for the process-level TPM benchmark (bench_tpm.c runs
 * it beside tpm2_checkquote on the same quote): verifies one TPM quote with
 * a pinned AK, the PCR values, and (optionally) replays a TCG event log
 * against them, then decodes the boot-state claims. Exit 0 = verified.
 *
 *   bench_tpm_verify --ak FILE (PEM SubjectPublicKeyInfo, TPMT_PUBLIC or TPM2B_PUBLIC)
 *                    --quote TPMS_ATTEST --sig TPMT_SIGNATURE
 *                    --pcrs FILE --bank sha1|sha256 (24 raw digests, PCR 0..23)
 *                    [--log EVENTLOG] [--nonce HEX]
 *
 * Without arguments it verifies the Windows GCP Shielded VM quote of
 * $ATTEST_VECTORS once and says so (so scripts/bench.sh can run it).
 */
#include "base/buf.h"
#include "base/codec.h"
#include "evidence/tcg_log.h"
#include "evidence/tpm.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct args {
	const char *ak, *quote, *sig, *pcrs, *bank, *log, *nonce;
};

static uint8_t *load(const char *path, size_t *n)
{
	uint8_t *p = NULL;

	if (path == NULL || file_read_all(path, 64u << 20, &p, n) != 0)
		return NULL;
	return p;
}

static EVP_PKEY *load_ak(const char *path)
{
	size_t n = 0;
	uint8_t *p = load(path, &n);
	EVP_PKEY *k = NULL;
	TPMT_PUBLIC pub;

	if (p == NULL)
		return NULL;
	if (n > 10 && memcmp(p, "-----BEGIN", 10) == 0) {
		BIO *b = BIO_new_mem_buf(p, (int)n);

		k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
		BIO_free(b);
	} else if (tpm_public_parse(p, n, &pub, NULL) == 0) {
		tpm_public_to_pkey(&pub, &k, NULL);
	}
	free(p);
	return k;
}

static int verify(const struct args *a, struct attest_err *err)
{
	size_t ql = 0, sl = 0, pl = 0, ll = 0, nl = 0;
	uint8_t *q = load(a->quote, &ql), *s = load(a->sig, &sl), *pv = load(a->pcrs, &pl);
	uint8_t *lg = a->log ? load(a->log, &ll) : NULL, *nonce = NULL, h[32];
	EVP_PKEY *ak = load_ak(a->ak);
	enum tpm_bank bank = (a->bank && strcmp(a->bank, "sha1") == 0) ? TPM_BANK_SHA1 : TPM_BANK_SHA256;
	struct tpm_pcr_values pcrs;
	struct tcg_log *log = NULL;
	struct tcg_boot_state st;
	int rc = ATTEST_E_INVALID;

	memset(&pcrs, 0, sizeof(pcrs));
	if (q == NULL || s == NULL || pv == NULL || ak == NULL || pl != 24 * tpm_bank_size(bank) ||
	    (a->log && lg == NULL) || (a->nonce && hex_decode(a->nonce, strlen(a->nonce), &nonce, &nl) != 0)) {
		attest_err_set(err, ATTEST_E_INVALID, "cli.input", "unreadable input files or arguments");
		goto out;
	}
	for (unsigned i = 0; i < TPM_PCR_COUNT; i++)
		tpm_pcr_set(&pcrs, bank, i, pv + i * tpm_bank_size(bank), tpm_bank_size(bank), NULL);
	tpm_pkey_spki_sha256(ak, h);
	{
		/* The AK is pinned by the caller (as tpm2_checkquote -u does). */
		struct tpm_aik_trust t = {.registered = (const uint8_t(*)[32])h, .n_registered = 1};
		struct tpm_quote_in in = {.attest = q, .attest_len = ql, .sig = s, .sig_len = sl, .aik = ak,
					  .nonce = nonce, .nonce_len = nl, .required_pcr_mask = 0xFFFFFF,
					  .required_bank = (int)bank, .pcrs = &pcrs};
		struct tpm_quote_out out;

		if ((rc = tpm_quote_verify(&in, &t, &out, err)) != 0)
			goto out;
	}
	if (lg != NULL && ((rc = tcg_log_parse(lg, ll, &log, err)) != 0 || (rc = tcg_log_verify(log, &pcrs, err)) != 0 ||
			   (rc = tcg_boot_state(log, &st, err)) != 0))
		goto out;
	rc = 0;
out:
	free(q);
	free(s);
	free(pv);
	free(lg);
	free(nonce);
	EVP_PKEY_free(ak);
	tcg_log_free(log);
	return rc;
}

/* The GCP vector's SHA-1 PCRs (pcrs.json) as 24 raw digests, into a temp file. */
static int self_run(void)
{
	const char *dir = getenv("ATTEST_VECTORS");
	char path[4096], pcrs[] = "/tmp/bench_tpm_verify_XXXXXX";
	uint8_t *p = NULL, raw[24 * 20];
	size_t n = 0;
	struct attest_err err;
	struct args a;
	FILE *f;
	int fd, rc;

	if (dir == NULL) {
		printf("bench_tpm_verify: ATTEST_VECTORS not set; nothing to verify\n");
		return 0;
	}
	snprintf(path, sizeof(path), "%s/tpm/gcp-windows-shielded-vm-quote/pcrs.json", dir);
	if (file_read_all(path, 1 << 20, &p, &n) != 0)
		return 1;
	{
		json_error_t je;
		json_t *arr = json_loadb((const char *)p, n, 0, &je), *e;
		size_t i;

		json_array_foreach(arr, i, e) {
			unsigned idx = (unsigned)json_integer_value(json_object_get(e, "index"));
			const char *hx = json_string_value(json_object_get(e, "digest_hex"));

			if (idx < 24 && hx)
				hex_decode_to(hx, strlen(hx), raw + idx * 20, 20);
		}
		json_decref(arr);
	}
	free(p);
	fd = mkstemp(pcrs);
	f = fdopen(fd, "wb");
	fwrite(raw, 1, sizeof(raw), f);
	fclose(f);
	{
		static char ak[4096], q[4096], s[4096], lg[4096];

		snprintf(ak, sizeof(ak), "%s/tpm/gcp-windows-shielded-vm-quote/ak_public.tpmt_public.bin", dir);
		snprintf(q, sizeof(q), "%s/tpm/gcp-windows-shielded-vm-quote/quote.tpms_attest.bin", dir);
		snprintf(s, sizeof(s), "%s/tpm/gcp-windows-shielded-vm-quote/quote.tpmt_signature.bin", dir);
		snprintf(lg, sizeof(lg), "%s/tpm/gcp-windows-shielded-vm-quote/binary_bios_measurements.bin", dir);
		a = (struct args){.ak = ak, .quote = q, .sig = s, .pcrs = pcrs, .bank = "sha1", .log = lg};
	}
	attest_err_clear(&err);
	rc = verify(&a, &err);
	remove(pcrs);
	printf("bench_tpm_verify: GCP Shielded VM quote + 21-event log: %s%s%s\n", rc ? "REFUSED " : "verified",
	       rc ? err.name : "", rc ? "" : "");
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct args a = {0};
	struct attest_err err;

	if (argc == 1)
		return self_run();
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (!strcmp(k, "--ak"))
			a.ak = v;
		else if (!strcmp(k, "--quote"))
			a.quote = v;
		else if (!strcmp(k, "--sig"))
			a.sig = v;
		else if (!strcmp(k, "--pcrs"))
			a.pcrs = v;
		else if (!strcmp(k, "--bank"))
			a.bank = v;
		else if (!strcmp(k, "--log"))
			a.log = v;
		else if (!strcmp(k, "--nonce"))
			a.nonce = v;
	}
	attest_err_clear(&err);
	if (verify(&a, &err) != 0) {
		fprintf(stderr, "refused: %s: %s\n", err.name, err.msg);
		return 1;
	}
	return 0;
}
