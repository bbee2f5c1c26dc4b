/* AMD collateral from a KDS-shaped folder: see amd_collateral.h. */
#include "collateral/amd_collateral.h"
#include "collateral/amd_tcb.h"

#include "base/buf.h"
#include "base/codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A product name is a short plain word: nothing of it can climb out of dir. */
static bool product_ok(const char *product)
{
	size_t n = product ? strlen(product) : 0;

	if (n == 0 || n > 16)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((product[i] >= 'A' && product[i] <= 'Z') || (product[i] >= 'a' && product[i] <= 'z')))
			return false;
	return true;
}

static int read_one(const char *path, struct collateral_blob *out, struct attest_err *err)
{
	uint8_t *p = NULL;
	size_t n = 0;
	int rc = file_read_all(path, AMD_FILE_MAX, &p, &n);

	if (rc == ATTEST_E_NOT_FOUND)
		return attest_err_set(err, rc, "collateral.not_found", "no AMD collateral at %s", path);
	if (rc == ATTEST_E_NOMEM)
		return attest_err_set(err, rc, "collateral.too_large", "%s is over %u bytes", path,
				      AMD_FILE_MAX);
	if (rc != ATTEST_OK)
		return attest_err_set(err, ATTEST_E_IO, "collateral.io", "cannot read %s", path);
	memset(out, 0, sizeof(*out));
	out->data = p;
	out->len = n;
	return ATTEST_OK;
}

static int bad_product(const char *product, struct attest_err *err)
{
	return attest_err_set(err, ATTEST_E_INVALID, "collateral.invalid",
			      "\"%s\" is not an AMD product line", product ? product : "(null)");
}

/* Tries each path in turn: the first that exists is read; only not-found moves on. */
static int read_first(char paths[][4096], size_t n, struct collateral_blob *out, struct attest_err *err)
{
	for (size_t i = 0; i < n; i++) {
		struct attest_err e;
		int rc;

		attest_err_clear(&e);
		rc = read_one(paths[i], out, &e);
		if (rc != ATTEST_E_NOT_FOUND || i + 1 == n) {
			if (rc != ATTEST_OK && err != NULL && err->rc == ATTEST_OK)
				*err = e;
			return rc;
		}
	}
	return ATTEST_E_NOT_FOUND;
}

static void lower(const char *in, char *out, size_t len)
{
	size_t i = 0;

	for (; in[i] && i + 1 < len; i++)
		out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] + 32 : in[i]);
	out[i] = '\0';
}

int amd_file_vcek(const char *dir, const char *product, const uint8_t chip_id[64], uint64_t tcb,
		  struct collateral_blob *out, struct attest_err *err)
{
	char hwid[129], tcbhex[17], paths[4][4096];
	uint8_t tcb_bytes[8];
	size_t hwlen;

	if (!product_ok(product))
		return bad_product(product, err);
	/* KDS names Turin VCEKs by the first 8 bytes of CHIP_ID (§5.8). */
	hwlen = amd_product_of(product) == AMD_PRODUCT_TURIN ? 8 : 64;
	hex_encode_to(chip_id, hwlen, hwid);
	snp_tcb_to_raw(tcb, tcb_bytes);
	hex_encode_to(tcb_bytes, 8, tcbhex);
	snprintf(paths[0], sizeof(paths[0]), "%s/vcek/v1/%s/%s/%s.der", dir, product, hwid, tcbhex);
	snprintf(paths[1], sizeof(paths[1]), "%s/vcek/v1/%s/%s.der", dir, product, hwid);
	/* A one-platform folder (shared/vectors/snp/<vector>/): the verifier checks it is the right chip. */
	snprintf(paths[2], sizeof(paths[2]), "%s/vcek.der", dir);
	snprintf(paths[3], sizeof(paths[3]), "%s/vcek.pem", dir);
	return read_first(paths, 4, out, err);
}

int amd_file_cert_chain(const char *dir, const char *product, bool vlek, struct collateral_blob *out,
			struct attest_err *err)
{
	char paths[2][4096], low[32];

	if (!product_ok(product))
		return bad_product(product, err);
	lower(product, low, sizeof(low));
	snprintf(paths[0], sizeof(paths[0]), "%s/%s/v1/%s/cert_chain", dir, vlek ? "vlek" : "vcek", product);
	snprintf(paths[1], sizeof(paths[1]), "%s/ask_ark_%s%s.pem", dir, low, vlek ? "_vlek" : "");
	return read_first(paths, 2, out, err);
}

int amd_file_crl(const char *dir, const char *product, bool vlek, struct collateral_blob *out,
		 struct attest_err *err)
{
	char paths[2][4096];

	if (!product_ok(product))
		return bad_product(product, err);
	snprintf(paths[0], sizeof(paths[0]), "%s/%s/v1/%s/crl", dir, vlek ? "vlek" : "vcek", product);
	snprintf(paths[1], sizeof(paths[1]), "%s/%s_crl_%s.der", dir, vlek ? "vlek" : "vcek", product);
	return read_first(paths, 2, out, err);
}

/* ---- A source serving the AMD slots only --------------------------------- */

static int src_vcek(void *self, const char *product, const uint8_t chip_id[64], uint64_t tcb,
		    struct collateral_blob *out, struct attest_err *err)
{
	return amd_file_vcek(self, product, chip_id, tcb, out, err);
}

static int src_chain(void *self, const char *product, bool vlek, struct collateral_blob *out,
		     struct attest_err *err)
{
	return amd_file_cert_chain(self, product, vlek, out, err);
}

static int src_crl(void *self, const char *product, bool vlek, struct collateral_blob *out,
		   struct attest_err *err)
{
	return amd_file_crl(self, product, vlek, out, err);
}

static void src_free(void *self)
{
	free(self);
}

static const struct collateral_source_ops AMD_FILE_OPS = {
    .name = "amd-file",
    .amd_vcek = src_vcek,
    .amd_cert_chain = src_chain,
    .amd_crl = src_crl,
    .free = src_free,
};

int amd_file_source_new(const char *dir, struct collateral_source **out, struct attest_err *err)
{
	struct collateral_source *s = calloc(1, sizeof(*s));
	char *d = dir ? strdup(dir) : NULL;

	if (s == NULL || d == NULL) {
		free(s);
		free(d);
		return attest_err_set(err, ATTEST_E_NOMEM, "collateral.nomem", "out of memory");
	}
	s->ops = &AMD_FILE_OPS;
	s->self = d;
	*out = s;
	return ATTEST_OK;
}

static int no_slot(const char *what, struct attest_err *err)
{
	return attest_err_set(err, ATTEST_E_NOT_FOUND, "collateral.not_found",
			      "the collateral source serves no AMD %s", what);
}

int collateral_get_amd_vcek(struct collateral_source *src, const char *product, const uint8_t chip_id[64],
			    uint64_t tcb, struct collateral_blob *out, struct attest_err *err)
{
	if (src == NULL || src->ops == NULL || src->ops->amd_vcek == NULL)
		return no_slot("VCEK", err);
	return src->ops->amd_vcek(src->self, product, chip_id, tcb, out, err);
}

int collateral_get_amd_cert_chain(struct collateral_source *src, const char *product, bool vlek,
				  struct collateral_blob *out, struct attest_err *err)
{
	if (src == NULL || src->ops == NULL || src->ops->amd_cert_chain == NULL)
		return no_slot("certificate chain", err);
	return src->ops->amd_cert_chain(src->self, product, vlek, out, err);
}

int collateral_get_amd_crl(struct collateral_source *src, const char *product, bool vlek,
			   struct collateral_blob *out, struct attest_err *err)
{
	if (src == NULL || src->ops == NULL || src->ops->amd_crl == NULL)
		return no_slot("CRL", err);
	return src->ops->amd_crl(src->self, product, vlek, out, err);
}

/* ---- KDS URLs ---------------------------------------------------------------- */

#define KDS_HOST "https://kdsintf.amd.com"

static int url_done(int n, char *out, size_t outlen)
{
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen > 0)
			out[0] = '\0';
		return -1;
	}
	return n;
}

int amd_kds_vcek_url(const char *host, const char *product, const uint8_t chip_id[64], const uint8_t tcb[8],
		     char *out, size_t outlen)
{
	enum amd_product p;
	struct snp_tcb t;
	char hwid[129];
	int n;

	if (outlen > 0)
		out[0] = '\0';
	if (!product_ok(product))
		return -1;
	if (host == NULL)
		host = KDS_HOST;
	/* KDS takes the SPLs of REPORTED_TCB in the product's layout (§5.5). */
	p = amd_product_of(product);
	if (!snp_tcb_fields(p, tcb, &t))
		return -1;
	if (p == AMD_PRODUCT_TURIN) {
		hex_encode_to(chip_id, 8, hwid);
		n = snprintf(out, outlen,
			     "%s/vcek/v1/Turin/%s?fmcSPL=%u&blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u", host,
			     hwid, t.fmc, t.bootloader, t.tee, t.snp, t.microcode);
	} else {
		hex_encode_to(chip_id, 64, hwid);
		n = snprintf(out, outlen, "%s/vcek/v1/%s/%s?blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u", host,
			     product, hwid, t.bootloader, t.tee, t.snp, t.microcode);
	}
	return url_done(n, out, outlen);
}

int amd_kds_url(const char *host, const char *product, bool vlek, bool crl, char *out, size_t outlen)
{
	if (outlen > 0)
		out[0] = '\0';
	if (!product_ok(product))
		return -1;
	return url_done(snprintf(out, outlen, "%s/%s/v1/%s/%s", host ? host : KDS_HOST,
				 vlek ? "vlek" : "vcek", product, crl ? "crl" : "cert_chain"),
			out, outlen);
}
