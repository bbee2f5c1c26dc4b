#ifndef ATTEST_TESTS_TPM_TESTLIB_H
#define ATTEST_TESTS_TPM_TESTLIB_H

/*
 * Helpers shared by the TPM tests and benchmarks: loading the real vectors
 * (PCR JSON files, PEM keys) into the library's types. Header-only so each
 * test program stays one file. Include after testutil.h.
 */

#include "evidence/tpm.h"

#include <jansson.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#define GCP_DIR "tpm/gcp-windows-shielded-vm-quote/"
#define AZ_DIR "azure-cvm/"

/* The stride of mutation sweeps ($ATTEST_SWEEP_STRIDE, default 1 = every mutation). */
static inline size_t tpm_test_sweep_stride(void)
{
	const char *s = getenv("ATTEST_SWEEP_STRIDE");
	long v = s ? strtol(s, NULL, 10) : 1;

	return v > 0 ? (size_t)v : 1;
}

static inline int tpm_test_hex(const char *h, uint8_t *out, size_t max)
{
	size_t n = strlen(h);

	if (n % 2 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(h + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return (int)(n / 2);
}

/* go-attestation's pcrs.json: [{index, digest_alg (Go crypto.Hash: 3 SHA1, 5 SHA256), digest_hex}]. */
static inline int tpm_test_load_gcp_pcrs(const char *dir, struct tpm_pcr_values *pcrs)
{
	char path[4096];
	json_t *root, *e;
	size_t i;

	snprintf(path, sizeof(path), "%s/" GCP_DIR "pcrs.json", dir);
	root = json_load_file(path, 0, NULL);
	if (root == NULL)
		return -1;
	memset(pcrs, 0, sizeof(*pcrs));
	json_array_foreach(root, i, e) {
		uint8_t d[64];
		int alg = (int)json_integer_value(json_object_get(e, "digest_alg"));
		int n = tpm_test_hex(json_string_value(json_object_get(e, "digest_hex")), d, sizeof(d));
		enum tpm_bank b = alg == 3 ? TPM_BANK_SHA1 : TPM_BANK_SHA256;

		if (n < 0 || tpm_pcr_set(pcrs, b, (unsigned)json_integer_value(json_object_get(e, "index")),
					 d, (size_t)n, NULL) != 0) {
			json_decref(root);
			return -1;
		}
	}
	json_decref(root);
	return 0;
}

/* azure-cvm/vtpm-pcrs-sha256.json: {"0": hex, ...}. */
static inline int tpm_test_load_azure_pcrs(const char *dir, struct tpm_pcr_values *pcrs)
{
	char path[4096];
	json_t *root, *v;
	const char *k;

	snprintf(path, sizeof(path), "%s/" AZ_DIR "vtpm-pcrs-sha256.json", dir);
	root = json_load_file(path, 0, NULL);
	if (root == NULL)
		return -1;
	memset(pcrs, 0, sizeof(*pcrs));
	json_object_foreach(root, k, v) {
		uint8_t d[32];

		if (tpm_test_hex(json_string_value(v), d, sizeof(d)) != 32 ||
		    tpm_pcr_set(pcrs, TPM_BANK_SHA256, (unsigned)atoi(k), d, 32, NULL) != 0) {
			json_decref(root);
			return -1;
		}
	}
	json_decref(root);
	return 0;
}

static inline EVP_PKEY *tpm_test_load_pem_pubkey(const char *dir, const char *rel)
{
	char path[4096];
	FILE *f;
	EVP_PKEY *k;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	return k;
}

/* RSASSA-SHA256 TPMT_SIGNATURE around a raw 256-byte PKCS#1 signature (Part 2 §11.3.4). */
static inline size_t tpm_test_wrap_rsassa(const uint8_t *raw, size_t n, uint16_t hash, uint8_t *out)
{
	out[0] = 0x00, out[1] = 0x14;
	out[2] = (uint8_t)(hash >> 8), out[3] = (uint8_t)hash;
	out[4] = (uint8_t)(n >> 8), out[5] = (uint8_t)n;
	memcpy(out + 6, raw, n);
	return n + 6;
}

#endif
