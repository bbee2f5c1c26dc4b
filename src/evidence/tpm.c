/*
 * TPM 2.0 quotes: structures through libtss2-mu, keys, signatures, AIK
 * trust and the quote checks. See tpm.h for the contract and the order of
 * the checks.
 */
#include "evidence/tpm.h"

#include "base/cur.h"
#include "crypto/crypto.h"
#include "evidence/chain_cache.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509_vfy.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <tss2/tss2_mu.h>

/* TPM_ALG_ID values (Part 2 §6.3). */
static const struct {
	uint16_t alg;
	size_t size;
	const char *name;
} BANKS[TPM_BANK_COUNT] = {
	[TPM_BANK_SHA1] = {TPM2_ALG_SHA1, 20, "SHA1"},
	[TPM_BANK_SHA256] = {TPM2_ALG_SHA256, 32, "SHA256"},
	[TPM_BANK_SHA384] = {TPM2_ALG_SHA384, 48, "SHA384"},
	[TPM_BANK_SHA512] = {TPM2_ALG_SHA512, 64, "SHA512"},
};

uint16_t tpm_bank_alg(enum tpm_bank bank) { return BANKS[bank].alg; }
size_t tpm_bank_size(enum tpm_bank bank) { return BANKS[bank].size; }
const char *tpm_bank_name(enum tpm_bank bank) { return BANKS[bank].name; }

/* Digests fetched once per process (crypto's hash_md): OpenSSL 3 would fetch EVP_sha*() again per use. */
const EVP_MD *tpm_bank_md(enum tpm_bank bank)
{
	switch (bank) {
	case TPM_BANK_SHA1:
		return hash_md(HASH_SHA1);
	case TPM_BANK_SHA256:
		return hash_md(HASH_SHA256);
	case TPM_BANK_SHA384:
		return hash_md(HASH_SHA384);
	case TPM_BANK_SHA512:
		return hash_md(HASH_SHA512);
	default:
		return NULL;
	}
}

int tpm_bank_from_alg(uint16_t alg)
{
	for (int i = 0; i < TPM_BANK_COUNT; i++)
		if (BANKS[i].alg == alg)
			return i;
	return -1;
}

int tpm_pcr_set(struct tpm_pcr_values *pcrs, enum tpm_bank bank, unsigned index, const uint8_t *d,
		size_t len, struct attest_err *err)
{
	if ((int)bank < 0 || bank >= TPM_BANK_COUNT || index >= TPM_PCR_COUNT)
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.pcrs.index",
				      "PCR %u of bank %d is outside the 24 PCRs of the 4 known banks",
				      index, (int)bank);
	if (len != BANKS[bank].size)
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.pcrs.size",
				      "PCR %u of bank %s has %zu bytes, the bank's digest has %zu", index,
				      BANKS[bank].name, len, BANKS[bank].size);
	memcpy(pcrs->v[bank][index], d, len);
	pcrs->present[bank] |= 1u << index;
	return ATTEST_OK;
}

/* ---- structures ---------------------------------------------------------- */

/*
 * One helper keeps the exact-length rule in one place: libtss2-mu reports
 * how far it read; anything left over is an error. The offset is passed by
 * address so it is read after the unmarshal call (argument evaluation order
 * is unspecified in C).
 */
static int mu_result(TSS2_RC rc, const size_t *offp, size_t n, const char *what, const char *code,
		     struct attest_err *err)
{
	char name[ATTEST_ERR_NAME_MAX];
	size_t off = *offp;

	if (rc != TSS2_RC_SUCCESS) {
		snprintf(name, sizeof(name), "%s.parse", code);
		attest_err_set(err, ATTEST_E_PARSE, name, "%s does not unmarshal (tss2 rc 0x%x) in %zu bytes",
			       what, (unsigned)rc, n);
		attest_err_where(err, "%s", what);
		return ATTEST_E_PARSE;
	}
	if (off != n) {
		snprintf(name, sizeof(name), "%s.trailing", code);
		attest_err_set(err, ATTEST_E_PARSE, name, "%s ends at byte %zu of %zu: %zu trailing bytes",
			       what, off, n, n - off);
		attest_err_where(err, "%s+0x%zx", what, off);
		return ATTEST_E_PARSE;
	}
	return ATTEST_OK;
}

/* A TPM2B's size and bytes into buf (cap bytes): false when cut short or too long for buf. */
static bool tpm2b_read(struct cur *c, uint16_t *size, uint8_t *buf, size_t cap)
{
	return cur_u16be(c, size) == 0 && *size <= cap && cur_copy(c, buf, *size) == 0;
}

/*
 * The TPMS_ATTEST of a well-formed quote (Part 2 §10.12.12, §10.12.1),
 * read directly into the structure libtss2-mu fills: its unmarshaller takes
 * ~0.7 us for these ~150 bytes, once per quote on the hot path. Anything
 * else (another type, a size over its buffer, a cut or trailing byte) is
 * left to libtss2-mu, whose verdicts and errors are the ones reported;
 * fuzz_tpm_attest and test_tpm hold the two to the same structure.
 */
static bool quote_attest_read(const uint8_t *p, size_t n, TPMS_ATTEST *a)
{
	TPML_PCR_SELECTION *sel = &a->attested.quote.pcrSelect;
	struct cur c;

	cur_init(&c, p, n);
	if (cur_u32be(&c, &a->magic) != 0 || cur_u16be(&c, &a->type) != 0 ||
	    a->type != TPM2_ST_ATTEST_QUOTE ||
	    !tpm2b_read(&c, &a->qualifiedSigner.size, a->qualifiedSigner.name,
			sizeof(a->qualifiedSigner.name)) ||
	    !tpm2b_read(&c, &a->extraData.size, a->extraData.buffer, sizeof(a->extraData.buffer)) ||
	    cur_u64be(&c, &a->clockInfo.clock) != 0 || cur_u32be(&c, &a->clockInfo.resetCount) != 0 ||
	    cur_u32be(&c, &a->clockInfo.restartCount) != 0 || cur_u8(&c, &a->clockInfo.safe) != 0 ||
	    cur_u64be(&c, &a->firmwareVersion) != 0 || cur_u32be(&c, &sel->count) != 0 ||
	    sel->count > TPM2_NUM_PCR_BANKS)
		return false;
	for (uint32_t i = 0; i < sel->count; i++) {
		TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];

		if (cur_u16be(&c, &s->hash) != 0 || cur_u8(&c, &s->sizeofSelect) != 0 ||
		    s->sizeofSelect > sizeof(s->pcrSelect) ||
		    cur_copy(&c, s->pcrSelect, s->sizeofSelect) != 0)
			return false;
	}
	return tpm2b_read(&c, &a->attested.quote.pcrDigest.size, a->attested.quote.pcrDigest.buffer,
			  sizeof(a->attested.quote.pcrDigest.buffer)) &&
	       cur_empty(&c);
}

int tpm_attest_parse(const uint8_t *p, size_t n, TPMS_ATTEST *out, struct attest_err *err)
{
	TPMS_ATTEST a;
	size_t off = 0;
	int rc;

	memset(&a, 0, sizeof(a));
	if (p == NULL)
		n = 0;
	if (quote_attest_read(p, n, &a)) {
		*out = a;
		return ATTEST_OK;
	}
	memset(&a, 0, sizeof(a));
	rc = mu_result(Tss2_MU_TPMS_ATTEST_Unmarshal(p, n, &off, &a), &off, n, "TPMS_ATTEST",
		       "tpm.attest", err);
	if (rc == ATTEST_OK)
		*out = a;
	return rc;
}

/* An RSASSA or RSAPSS TPMT_SIGNATURE (Part 2 §11.3.4), as quote_attest_read; other schemes: libtss2-mu. */
static bool rsa_signature_read(const uint8_t *p, size_t n, TPMT_SIGNATURE *s)
{
	struct cur c;

	cur_init(&c, p, n);
	if (cur_u16be(&c, &s->sigAlg) != 0 || (s->sigAlg != TPM2_ALG_RSASSA && s->sigAlg != TPM2_ALG_RSAPSS))
		return false;
	/* rsassa and rsapss are the same TPMS_SIGNATURE_RSA. */
	return cur_u16be(&c, &s->signature.rsassa.hash) == 0 &&
	       tpm2b_read(&c, &s->signature.rsassa.sig.size, s->signature.rsassa.sig.buffer,
			  sizeof(s->signature.rsassa.sig.buffer)) &&
	       cur_empty(&c);
}

int tpm_signature_parse(const uint8_t *p, size_t n, TPMT_SIGNATURE *out, struct attest_err *err)
{
	TPMT_SIGNATURE s;
	size_t off = 0;
	int rc;

	memset(&s, 0, sizeof(s));
	if (p == NULL)
		n = 0;
	if (rsa_signature_read(p, n, &s)) {
		*out = s;
		return ATTEST_OK;
	}
	memset(&s, 0, sizeof(s));
	rc = mu_result(Tss2_MU_TPMT_SIGNATURE_Unmarshal(p, n, &off, &s), &off, n, "TPMT_SIGNATURE",
		       "tpm.signature", err);
	if (rc == ATTEST_OK)
		*out = s;
	return rc;
}

int tpm_public_parse(const uint8_t *p, size_t n, TPMT_PUBLIC *out, struct attest_err *err)
{
	TPM2B_PUBLIC b;
	size_t off = 0;
	int rc;

	memset(&b, 0, sizeof(b));
	if (p == NULL)
		n = 0;
	/* TPM2B_PUBLIC when the first u16 is the size of the rest (Part 2 §12.2.5). */
	if (n >= 2 && ld_u16be(p) == n - 2)
		rc = mu_result(Tss2_MU_TPM2B_PUBLIC_Unmarshal(p, n, &off, &b), &off, n, "TPM2B_PUBLIC",
			       "tpm.public", err);
	else
		rc = mu_result(Tss2_MU_TPMT_PUBLIC_Unmarshal(p, n, &off, &b.publicArea), &off, n,
			       "TPMT_PUBLIC", "tpm.public", err);
	if (rc == ATTEST_OK)
		*out = b.publicArea;
	return rc;
}

int tpm_creation_data_parse(const uint8_t *p, size_t n, TPMS_CREATION_DATA *out,
			    struct attest_err *err)
{
	TPMS_CREATION_DATA c;
	size_t off = 0;
	int rc;

	memset(&c, 0, sizeof(c));
	if (p == NULL)
		n = 0;
	rc = mu_result(Tss2_MU_TPMS_CREATION_DATA_Unmarshal(p, n, &off, &c), &off, n,
		       "TPMS_CREATION_DATA", "tpm.creation", err);
	if (rc == ATTEST_OK)
		*out = c;
	return rc;
}

/* ---- keys ---------------------------------------------------------------- */

static int pkey_from_params(const char *type, OSSL_PARAM_BLD *bld, EVP_PKEY **out)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *key = NULL;
	int ok = params != NULL && ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
		 EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) == 1;

	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	if (!ok)
		return -1;
	*out = key;
	return 0;
}

static int rsa_pkey(const TPMT_PUBLIC *pub, EVP_PKEY **out, struct attest_err *err)
{
	const TPM2B_PUBLIC_KEY_RSA *n = &pub->unique.rsa;
	uint32_t e = pub->parameters.rsaDetail.exponent;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *bn_n = BN_bin2bn(n->buffer, n->size, NULL);
	BIGNUM *bn_e = BN_new();
	int rc = ATTEST_OK;

	/* An exponent of 0 means the default, 2^16 + 1 (Part 2 §12.2.3.5). */
	if (e == 0)
		e = 65537;
	if (n->size == 0 || n->size * 8u != pub->parameters.rsaDetail.keyBits)
		rc = attest_err_set(err, ATTEST_E_PARSE, "tpm.public.key",
				    "RSA modulus has %u bytes, keyBits says %u", n->size,
				    pub->parameters.rsaDetail.keyBits);
	else if (bld == NULL || bn_n == NULL || bn_e == NULL || BN_set_word(bn_e, e) != 1 ||
		 OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1 ||
		 OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1 ||
		 pkey_from_params("RSA", bld, out) != 0)
		rc = attest_err_set(err, ATTEST_E_PARSE, "tpm.public.key",
				    "the RSA public key of the TPM public area is not usable");
	BN_free(bn_n);
	BN_free(bn_e);
	OSSL_PARAM_BLD_free(bld);
	return rc;
}

static int ecc_pkey(const TPMT_PUBLIC *pub, EVP_PKEY **out, struct attest_err *err)
{
	const TPMS_ECC_POINT *pt = &pub->unique.ecc;
	const char *group;
	size_t fl;
	uint8_t point[1 + 2 * 66];
	OSSL_PARAM_BLD *bld;
	int rc = ATTEST_OK;

	switch (pub->parameters.eccDetail.curveID) {
	case TPM2_ECC_NIST_P256:
		group = "prime256v1";
		fl = 32;
		break;
	case TPM2_ECC_NIST_P384:
		group = "secp384r1";
		fl = 48;
		break;
	case TPM2_ECC_NIST_P521:
		group = "secp521r1";
		fl = 66;
		break;
	default:
		return attest_err_set(err, ATTEST_E_UNSUPPORTED, "tpm.public.unsupported",
				      "ECC curve 0x%04x is not supported",
				      pub->parameters.eccDetail.curveID);
	}
	if (pt->x.size > fl || pt->y.size > fl)
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.public.key",
				      "ECC point coordinates (%u, %u bytes) exceed the %zu-byte field",
				      pt->x.size, pt->y.size, fl);
	/* Uncompressed SEC1 point; TPM coordinates may drop leading zeros. */
	memset(point, 0, sizeof(point));
	point[0] = 0x04;
	memcpy(point + 1 + fl - pt->x.size, pt->x.buffer, pt->x.size);
	memcpy(point + 1 + 2 * fl - pt->y.size, pt->y.buffer, pt->y.size);
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * fl) != 1 ||
	    pkey_from_params("EC", bld, out) != 0)
		rc = attest_err_set(err, ATTEST_E_PARSE, "tpm.public.key",
				    "the ECC public point of the TPM public area is not on curve %s",
				    group);
	OSSL_PARAM_BLD_free(bld);
	return rc;
}

int tpm_public_to_pkey(const TPMT_PUBLIC *pub, EVP_PKEY **out, struct attest_err *err)
{
	if (pub->type == TPM2_ALG_RSA)
		return rsa_pkey(pub, out, err);
	if (pub->type == TPM2_ALG_ECC)
		return ecc_pkey(pub, out, err);
	return attest_err_set(err, ATTEST_E_UNSUPPORTED, "tpm.public.unsupported",
			      "public area of type 0x%04x is neither RSA nor ECC", pub->type);
}

int tpm_public_name(const TPMT_PUBLIC *pub, uint8_t *name, size_t cap, size_t *len,
		    struct attest_err *err)
{
	uint8_t buf[sizeof(TPMT_PUBLIC)];
	size_t off = 0;
	int bank = tpm_bank_from_alg(pub->nameAlg);
	unsigned int dlen = 0;

	if (bank < 0)
		return attest_err_set(err, ATTEST_E_UNSUPPORTED, "tpm.public.name_alg",
				      "nameAlg 0x%04x is not a supported hash", pub->nameAlg);
	if (cap < 2 + tpm_bank_size(bank) ||
	    Tss2_MU_TPMT_PUBLIC_Marshal(pub, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS)
		return attest_err_set(err, ATTEST_E_INTERNAL, "tpm.public.name",
				      "cannot marshal the public area to compute its Name");
	name[0] = (uint8_t)(pub->nameAlg >> 8);
	name[1] = (uint8_t)pub->nameAlg;
	if (EVP_Digest(buf, off, name + 2, &dlen, tpm_bank_md(bank), NULL) != 1)
		return attest_err_set(err, ATTEST_E_INTERNAL, "tpm.public.name", "digest failed");
	*len = 2 + dlen;
	return ATTEST_OK;
}

/* ---- SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) ------------------------------ */

/*
 * OpenSSL 3's i2d_PUBKEY runs the encoder machinery (~200 us a call here);
 * the SPKI of an RSA or EC key is small enough to write directly (RFC 3279
 * §2.3.1, RFC 5480 §2). tests/unit/evidence/test_tpm.c checks the bytes
 * against i2d_PUBKEY.
 */
struct der {
	uint8_t *p;
	size_t n, cap;
};

static int der_put(struct der *d, const void *src, size_t n)
{
	if (n > d->cap - d->n)
		return -1;
	memcpy(d->p + d->n, src, n);
	d->n += n;
	return 0;
}

static int der_hdr(struct der *d, uint8_t tag, size_t len)
{
	uint8_t h[4] = {tag};

	if (len < 0x80) {
		h[1] = (uint8_t)len;
		return der_put(d, h, 2);
	}
	if (len < 0x100) {
		h[1] = 0x81, h[2] = (uint8_t)len;
		return der_put(d, h, 3);
	}
	if (len > 0xFFFF)
		return -1;
	h[1] = 0x82, h[2] = (uint8_t)(len >> 8), h[3] = (uint8_t)len;
	return der_put(d, h, 4);
}

static size_t der_hdr_len(size_t len) { return len < 0x80 ? 2 : len < 0x100 ? 3 : 4; }

/* INTEGER content of a big-endian unsigned value: minimal, with a 0 when the top bit is set. */
static size_t int_len(const uint8_t *v, size_t n, size_t *skip)
{
	size_t i = 0;

	while (i + 1 < n && v[i] == 0)
		i++;
	*skip = i;
	return (n - i) + ((v[i] & 0x80) ? 1 : 0);
}

static int der_int(struct der *d, const uint8_t *v, size_t n)
{
	size_t skip, len = int_len(v, n, &skip);
	static const uint8_t zero;

	return der_hdr(d, 0x02, len) || ((v[skip] & 0x80) && der_put(d, &zero, 1)) ||
	       der_put(d, v + skip, n - skip);
}

static const uint8_t ALG_RSA[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
				  0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
static const uint8_t ALG_P256[] = {0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
				   0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t ALG_P384[] = {0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
				   0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
static const uint8_t ALG_P521[] = {0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
				   0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23};

/* The public parameters in one export (EVP_PKEY_get_*_param runs one export per call). */
static int spki_rsa(const OSSL_PARAM *params, struct der *d)
{
	const OSSL_PARAM *pn = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_N);
	const OSSL_PARAM *pe = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_E);
	BIGNUM *n = NULL, *e = NULL;
	uint8_t nb[1024], eb[16];
	int nl, el, rc = -1;
	size_t s1, s2, rsa_len, bit_len;

	if (pn == NULL || pe == NULL || OSSL_PARAM_get_BN(pn, &n) != 1 || OSSL_PARAM_get_BN(pe, &e) != 1 ||
	    BN_num_bytes(n) > (int)sizeof(nb) || BN_num_bytes(e) > (int)sizeof(eb))
		goto out;
	nl = BN_bn2bin(n, nb);
	el = BN_bn2bin(e, eb);
	if (nl <= 0 || el <= 0)
		goto out;
	rsa_len = der_hdr_len(int_len(nb, (size_t)nl, &s1)) + int_len(nb, (size_t)nl, &s1) +
		  der_hdr_len(int_len(eb, (size_t)el, &s2)) + int_len(eb, (size_t)el, &s2);
	bit_len = 1 + der_hdr_len(rsa_len) + rsa_len;
	rc = der_hdr(d, 0x30, sizeof(ALG_RSA) + der_hdr_len(bit_len) + bit_len) ||
	     der_put(d, ALG_RSA, sizeof(ALG_RSA)) || der_hdr(d, 0x03, bit_len) || der_put(d, "", 1) ||
	     der_hdr(d, 0x30, rsa_len) || der_int(d, nb, (size_t)nl) || der_int(d, eb, (size_t)el);
out:
	BN_free(n);
	BN_free(e);
	return rc ? -1 : 0;
}

static int spki_ec(const OSSL_PARAM *params, struct der *d)
{
	const OSSL_PARAM *pg = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_GROUP_NAME);
	const OSSL_PARAM *pp = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_PUB_KEY);
	const char *group = NULL;
	const void *pt = NULL;
	size_t ptl = 0, bit_len, alg_len;
	const uint8_t *alg;

	if (pg == NULL || pp == NULL || OSSL_PARAM_get_utf8_string_ptr(pg, &group) != 1 ||
	    OSSL_PARAM_get_octet_string_ptr(pp, &pt, &ptl) != 1 || ptl == 0 || ((const uint8_t *)pt)[0] != 0x04)
		return -1;
	if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
		alg = ALG_P256, alg_len = sizeof(ALG_P256);
	else if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
		alg = ALG_P384, alg_len = sizeof(ALG_P384);
	else if (strcmp(group, "secp521r1") == 0 || strcmp(group, "P-521") == 0)
		alg = ALG_P521, alg_len = sizeof(ALG_P521);
	else
		return -1;
	bit_len = 1 + ptl;
	return der_hdr(d, 0x30, alg_len + der_hdr_len(bit_len) + bit_len) || der_put(d, alg, alg_len) ||
			       der_hdr(d, 0x03, bit_len) || der_put(d, "", 1) || der_put(d, pt, ptl)
		       ? -1
		       : 0;
}

int tpm_pkey_spki_sha256(EVP_PKEY *key, uint8_t out[32])
{
	uint8_t buf[1200];
	struct der d = {buf, 0, sizeof(buf)};
	int type = EVP_PKEY_get_base_id(key), ok, direct = 0;
	OSSL_PARAM *params = NULL;

	if ((type == EVP_PKEY_RSA || type == EVP_PKEY_EC) &&
	    EVP_PKEY_todata(key, EVP_PKEY_PUBLIC_KEY, &params) == 1)
		direct = (type == EVP_PKEY_RSA ? spki_rsa(params, &d) : spki_ec(params, &d)) == 0;
	OSSL_PARAM_free(params);
	if (direct) {
		ok = sha256(buf, d.n, out) == ATTEST_OK;
	} else {
		/* Other key types: OpenSSL's encoder. */
		unsigned char *der = NULL;
		int n = i2d_PUBKEY(key, &der);

		ok = n > 0 && sha256(der, (size_t)n, out) == ATTEST_OK;
		OPENSSL_free(der);
	}
	return ok ? 0 : -1;
}

/* ---- signatures ---------------------------------------------------------- */

/* DER ECDSA-Sig-Value from the TPM's r and s. */
static int ecdsa_der(const TPMS_SIGNATURE_ECC *e, unsigned char **der, int *len)
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(e->signatureR.buffer, e->signatureR.size, NULL);
	BIGNUM *sv = BN_bin2bn(e->signatureS.buffer, e->signatureS.size, NULL);

	if (s == NULL || r == NULL || sv == NULL || ECDSA_SIG_set0(s, r, sv) != 1) {
		BN_free(r);
		BN_free(sv);
		ECDSA_SIG_free(s);
		return -1;
	}
	*der = NULL;
	*len = i2d_ECDSA_SIG(s, der);
	ECDSA_SIG_free(s);
	return *len > 0 ? 0 : -1;
}

static int scheme_error(const char *code, struct attest_err *err, const char *what, unsigned v)
{
	char name[ATTEST_ERR_NAME_MAX];

	snprintf(name, sizeof(name), "%s.scheme", code);
	return attest_err_set(err, ATTEST_E_UNSUPPORTED, name, "%s (0x%04x)", what, v);
}

int tpm_signature_verify(EVP_PKEY *key, const TPMT_SIGNATURE *sig, const uint8_t *msg, size_t len,
			 const char *code, struct attest_err *err)
{
	return tpm_signature_verify_pooled(key, NULL, sig, msg, len, code, err);
}

int tpm_signature_verify_pooled(EVP_PKEY *key, struct verify_pool *pool, const TPMT_SIGNATURE *sig,
				const uint8_t *msg, size_t len, const char *code, struct attest_err *err)
{
	const TPMS_SIGNATURE_RSA *rsa = NULL;
	uint16_t hash;
	int bank, key_type = EVP_PKEY_get_base_id(key), ok = 0;
	const unsigned char *s;
	unsigned char *der = NULL;
	int slen;
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx = NULL;

	switch (sig->sigAlg) {
	case TPM2_ALG_RSASSA:
		rsa = &sig->signature.rsassa;
		break;
	case TPM2_ALG_RSAPSS:
		rsa = &sig->signature.rsapss;
		break;
	case TPM2_ALG_ECDSA:
		break;
	default:
		return scheme_error(code, err, "signature scheme is not RSASSA, RSAPSS or ECDSA",
				    sig->sigAlg);
	}
	hash = rsa ? rsa->hash : sig->signature.ecdsa.hash;
	bank = tpm_bank_from_alg(hash);
	if (bank < 0)
		return scheme_error(code, err, "signature hash is not supported", hash);
	if ((rsa != NULL) != (key_type == EVP_PKEY_RSA))
		return scheme_error(code, err, "signature scheme does not fit the key type",
				    sig->sigAlg);
	if (rsa) {
		s = rsa->sig.buffer;
		slen = rsa->sig.size;
		/* The key's kept contexts verify; anything else, refusals included, goes the ordinary way. */
		if (pool != NULL && verify_pool_rsa(pool, key, tpm_bank_md(bank),
						    sig->sigAlg == TPM2_ALG_RSAPSS ? RSA_PKCS1_PSS_PADDING
										   : RSA_PKCS1_PADDING,
						    RSA_PSS_SALTLEN_AUTO, msg, len, s, (size_t)slen) == 1)
			return ATTEST_OK;
	} else {
		if (ecdsa_der(&sig->signature.ecdsa, &der, &slen) != 0)
			return attest_err_set(err, ATTEST_E_PARSE, code, "ECDSA r/s are not encodable");
		s = der;
	}
	md = EVP_MD_CTX_new();
	/*
	 * An RSA key (EVP_PKEY_RSA, checked above) verifies PKCS#1 v1.5 unless
	 * told otherwise, and PSS's MGF1 digest defaults to the message digest
	 * (a TPM uses its scheme's one hash for both): no provider parameter is
	 * set that is already in place (a round trip costs ~2 us).
	 */
	if (md != NULL && EVP_DigestVerifyInit(md, &pctx, tpm_bank_md(bank), NULL, key) == 1) {
		ok = 1;
		if (sig->sigAlg == TPM2_ALG_RSAPSS)
			/* TPMs differ in salt length: accept any (formats.md §7.2). */
			ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
			     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) == 1;
		ok = ok && EVP_DigestVerify(md, s, (size_t)slen, msg, len) == 1;
	}
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	if (!ok)
		return attest_err_set(err, ATTEST_E_VERIFY, code,
				      "the %s/%s signature does not verify with the key",
				      sig->sigAlg == TPM2_ALG_ECDSA ? "ECDSA"
				      : sig->sigAlg == TPM2_ALG_RSAPSS ? "RSAPSS" : "RSASSA",
				      tpm_bank_name(bank));
	return ATTEST_OK;
}

/* ---- AIK trust ----------------------------------------------------------- */

static const char *x509_err_suffix(int e)
{
	switch (e) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return "expired";
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return "not_yet_valid";
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		return "signature";
	case X509_V_ERR_CERT_REVOKED:
		return "revoked";
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return "untrusted_root";
	default:
		return "invalid";
	}
}

/* ---- verified AIK chain cache (tpm.h) ------------------------------------- */

/* A verified chain, as cached: what a hit must still match. */
struct aik_chain {
	uint8_t spki[32]; /* SHA-256 of the certified key's SPKI (tpm_pkey_spki_sha256) */
	X509 *anchor;	  /* the root the chain ended at (a cached copy holds a reference) */
};

/* What one chain verification established, and the cache key it goes under. */
struct aik_verified {
	uint8_t key[32];		 /* SHA-256 of the certificate DER, then each intermediate's */
	int64_t valid_from, valid_until; /* every certificate of the chain is valid in [from, until) */
	struct aik_chain c;		 /* anchor borrowed from the trusted roots */
};

/* A key decoded from a JWK, as cached. */
struct aik_key {
	uint8_t spki[32];	  /* tpm_pkey_spki_sha256 of the key */
	EVP_PKEY *key;		  /* a cached copy holds a reference */
	struct verify_pool *pool; /* its kept verification contexts (a copy holds a reference), or NULL */
};

struct tpm_aik_cache {
	struct chain_cache *chains; /* aik_verified.key -> struct aik_chain */
	struct chain_cache *keys;   /* SHA-256 of the JWK's exact text -> struct aik_key */
};

static bool aik_chain_hold(const void *payload)
{
	return X509_up_ref(((const struct aik_chain *)payload)->anchor) == 1;
}

static void aik_chain_release(void *payload)
{
	X509_free(((struct aik_chain *)payload)->anchor);
}

static bool aik_key_hold(const void *payload)
{
	const struct aik_key *k = payload;

	if (EVP_PKEY_up_ref(k->key) != 1)
		return false;
	verify_pool_ref(k->pool);
	return true;
}

static void aik_key_release(void *payload)
{
	struct aik_key *k = payload;

	verify_pool_free(k->pool); /* before the key: its contexts hold references to it */
	EVP_PKEY_free(k->key);
}

static const struct chain_cache_type AIK_CHAIN_TYPE = {.payload_size = sizeof(struct aik_chain),
						       .hold = aik_chain_hold,
						       .release = aik_chain_release,
						       .evict = CHAIN_CACHE_EVICT_LRU};
/* Keys go in the order they came (tpm.h): a hit does not renew one. */
static const struct chain_cache_type AIK_KEY_TYPE = {.payload_size = sizeof(struct aik_key),
						     .hold = aik_key_hold,
						     .release = aik_key_release,
						     .evict = CHAIN_CACHE_EVICT_OLDEST};

struct tpm_aik_cache *tpm_aik_cache_new(size_t capacity)
{
	struct tpm_aik_cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->chains = chain_cache_new(capacity, &AIK_CHAIN_TYPE);
	c->keys = chain_cache_new(capacity, &AIK_KEY_TYPE);
	if (c->chains == NULL || c->keys == NULL) {
		tpm_aik_cache_free(c);
		return NULL;
	}
	return c;
}

void tpm_aik_cache_free(struct tpm_aik_cache *c)
{
	if (c == NULL)
		return;
	chain_cache_free(c->chains);
	chain_cache_free(c->keys);
	free(c);
}

void tpm_aik_cache_stats(struct tpm_aik_cache *c, uint64_t *hits, uint64_t *misses)
{
	chain_cache_stats(c->chains, hits, misses);
}

static bool root_trusted(STACK_OF(X509) * roots, X509 *anchor)
{
	for (int i = 0; roots != NULL && i < sk_X509_num(roots); i++)
		if (X509_cmp(sk_X509_value(roots, i), anchor) == 0)
			return true;
	return false;
}

/* What a cached chain must match beyond its window: the AIK, and roots that still include its own. */
struct aik_want {
	const uint8_t *spki;
	STACK_OF(X509) * roots;
};

static bool aik_chain_accept(const void *payload, const void *arg)
{
	const struct aik_chain *e = payload;
	const struct aik_want *w = arg;

	return memcmp(e->spki, w->spki, 32) == 0 && root_trusted(w->roots, e->anchor);
}

/*
 * A hit: the same certificate bytes, verified before to a root that is
 * still trusted, inside the chain's validity window, certifying the AIK
 * (spki is the AIK's hash). A key mismatch is a miss: the full check then
 * words the refusal exactly as without a cache.
 */
static bool aik_cache_get(struct tpm_aik_cache *c, const uint8_t key[32], const uint8_t spki[32],
			  const struct tpm_aik_trust *trust)
{
	struct aik_want w = {.spki = spki, .roots = trust->roots};

	return chain_cache_get(c->chains, key, trust->now, aik_chain_accept, &w, NULL);
}

/* Stores a verified chain; the cache takes its own reference on v->c.anchor. */
static void aik_cache_put(struct tpm_aik_cache *c, const struct aik_verified *v)
{
	chain_cache_put(c->chains, v->key, v->valid_from, v->valid_until, &v->c);
}

EVP_PKEY *tpm_key_cache_get_pooled(struct tpm_aik_cache *c, const uint8_t id[32], uint8_t spki[32],
				   struct verify_pool **pool)
{
	struct aik_key k;

	/* Keys do not expire: a window of all time. */
	if (!chain_cache_get(c->keys, id, 0, NULL, NULL, &k))
		return NULL;
	memcpy(spki, k.spki, 32);
	if (pool != NULL)
		*pool = k.pool; /* the reference the copy holds */
	else
		verify_pool_free(k.pool);
	return k.key; /* the reference the copy holds */
}

EVP_PKEY *tpm_key_cache_get(struct tpm_aik_cache *c, const uint8_t id[32], uint8_t spki[32])
{
	return tpm_key_cache_get_pooled(c, id, spki, NULL);
}

int tpm_public_area_id(const uint8_t *area, size_t n, uint8_t id[32])
{
	static const char prefix[] = "attestd TPM public area";
	struct hash_ctx h;

	if ((area == NULL && n > 0) || hash_init(&h, HASH_SHA256) != ATTEST_OK)
		return -1;
	if (hash_update(&h, prefix, sizeof(prefix)) != ATTEST_OK || hash_update(&h, area, n) != ATTEST_OK) {
		hash_ctx_free(&h);
		return -1;
	}
	return hash_final(&h, id) == ATTEST_OK ? 0 : -1;
}

void tpm_key_cache_put(struct tpm_aik_cache *c, const uint8_t id[32], EVP_PKEY *key, const uint8_t spki[32])
{
	/* The pool is the cache's: the stored copy holds it, each copy handed out takes a reference. */
	struct aik_key k = {.key = key, .pool = verify_pool_new(key)};

	memcpy(k.spki, spki, 32);
	chain_cache_put(c->keys, id, INT64_MIN, INT64_MAX, &k);
	verify_pool_free(k.pool);
}

/* SHA-256 over the certificate's DER, then each intermediate's (the cache key). */
static int aik_cache_key(X509 *cert, const uint8_t *der, size_t der_len, STACK_OF(X509) * chain,
			 uint8_t key[32])
{
	struct hash_ctx h;
	int ok = hash_init(&h, HASH_SHA256) == ATTEST_OK;

	for (int i = -1; ok && i < (chain ? sk_X509_num(chain) : 0); i++) {
		unsigned char *enc = NULL;
		int n;

		if (i < 0 && der != NULL) {
			ok = hash_update(&h, der, der_len) == ATTEST_OK;
			continue;
		}
		n = i2d_X509(i < 0 ? cert : sk_X509_value(chain, i), &enc);
		ok = n > 0 && hash_update(&h, enc, (size_t)n) == ATTEST_OK;
		OPENSSL_free(enc);
	}
	if (!ok) {
		hash_ctx_free(&h);
		return -1;
	}
	return hash_final(&h, key) == ATTEST_OK ? 0 : -1;
}

/* The window in which every certificate of the verified chain is valid, and its root. */
static void chain_window(STACK_OF(X509) * chain, struct aik_verified *e)
{
	e->valid_from = INT64_MIN;
	e->valid_until = INT64_MAX;
	for (int i = 0; i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);
		int64_t nb = x509_time_unix(X509_get0_notBefore(x), INT64_MAX);
		/* X509_cmp_time: a certificate is expired from notAfter on (a time <= now is past). */
		int64_t na = x509_time_unix(X509_get0_notAfter(x), INT64_MIN);

		if (nb > e->valid_from)
			e->valid_from = nb;
		if (na < e->valid_until)
			e->valid_until = na;
	}
	e->c.anchor = sk_X509_value(chain, sk_X509_num(chain) - 1);
}

/*
 * The AIK certificate chain to one of the roots at `now`. Done with
 * OpenSSL's verifier directly: AIK certificates carry TCG extensions and
 * no CRLs are published for the test CAs. On success, `e` (optional) gets
 * the chain's window and root (borrowed from a root of `roots`).
 */
static int aik_chain_verify(X509 *cert, STACK_OF(X509) * chain, STACK_OF(X509) * roots, int64_t now,
			    struct aik_verified *e, struct attest_err *err)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	char name[ATTEST_ERR_NAME_MAX];
	int rc = ATTEST_OK, x = 0;

	if (store == NULL || ctx == NULL) {
		rc = attest_err_set(err, ATTEST_E_NOMEM, "tpm.aik.cert", "out of memory");
		goto out;
	}
	for (int i = 0; roots != NULL && i < sk_X509_num(roots); i++)
		X509_STORE_add_cert(store, sk_X509_value(roots, i));
	if (X509_STORE_CTX_init(ctx, store, cert, chain) != 1) {
		rc = attest_err_set(err, ATTEST_E_INTERNAL, "tpm.aik.cert", "verifier init failed");
		goto out;
	}
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)now);
	if (X509_verify_cert(ctx) != 1) {
		char *subj = X509_NAME_oneline(X509_get_subject_name(cert), NULL, 0);

		x = X509_STORE_CTX_get_error(ctx);
		snprintf(name, sizeof(name), "tpm.aik.cert.%s", x509_err_suffix(x));
		rc = attest_err_set(err, ATTEST_E_VERIFY, name,
				    "AIK certificate %s does not chain to a trusted root: %s",
				    subj ? subj : "?", X509_verify_cert_error_string(x));
		OPENSSL_free(subj);
	} else if (e != NULL) {
		chain_window(X509_STORE_CTX_get0_chain(ctx), e);
	}
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}

/* The AIK's certificate, as given or as DER (decoded here: the cache missed). */
struct aik_cert_in {
	X509 *cert;
	const uint8_t *der;
	size_t der_len;
	STACK_OF(X509) * chain;
};

static int aik_cert_decode(const struct aik_cert_in *c, X509 **owned, struct attest_err *err)
{
	const unsigned char *q = c->der;

	*owned = NULL;
	if (c->der_len > LONG_MAX || (*owned = d2i_X509(NULL, &q, (long)c->der_len)) == NULL ||
	    q != c->der + c->der_len) {
		X509_free(*owned);
		*owned = NULL;
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.aik.cert.parse",
				      "aik_cert is not one DER certificate");
	}
	return ATTEST_OK;
}

/*
 * Whether the certificate chains to a root and certifies the AIK (aik_h:
 * its SPKI hash), through the cache when there is one. Returns ATTEST_OK,
 * tpm.aik.cert.parse (fatal whatever the policy), or the chain's or key's
 * refusal in *cert_err.
 */
static int aik_cert_check(EVP_PKEY *aik, const uint8_t aik_h[32], const struct aik_cert_in *c,
			  const struct tpm_aik_trust *trust, struct attest_err *cert_err)
{
	struct aik_verified e = {0};
	bool keyed = trust->cache != NULL && aik_cache_key(c->cert, c->der, c->der_len, c->chain, e.key) == 0;
	X509 *owned = NULL, *cert = c->cert;
	int rc;

	if (keyed && aik_cache_get(trust->cache, e.key, aik_h, trust))
		return ATTEST_OK;
	if (cert == NULL) {
		if ((rc = aik_cert_decode(c, &owned, cert_err)) != ATTEST_OK)
			return rc;
		cert = owned;
	}
	rc = aik_chain_verify(cert, c->chain, trust->roots, trust->now, &e, cert_err);
	if (rc == ATTEST_OK && keyed && tpm_pkey_spki_sha256(X509_get0_pubkey(cert), e.c.spki) == 0)
		aik_cache_put(trust->cache, &e);
	if (rc == ATTEST_OK && EVP_PKEY_eq(X509_get0_pubkey(cert), aik) != 1)
		rc = attest_err_set(cert_err, ATTEST_E_VERIFY, "tpm.aik.cert_key_mismatch",
				    "the AIK certificate certifies another key than the AIK");
	X509_free(owned);
	return rc;
}

/* tpm_aik_check with the AIK's SPKI hash already computed (h). */
static int aik_check_h(EVP_PKEY *aik, const uint8_t h[32], const struct aik_cert_in *c,
		       const struct tpm_aik_trust *trust, bool *cert_validated, bool *registered,
		       struct attest_err *err)
{
	struct attest_err cert_err;
	bool have_cert = c->cert != NULL || c->der != NULL;
	int rc = ATTEST_OK;

	*cert_validated = false;
	*registered = false;
	attest_err_clear(&cert_err);
	for (size_t i = 0; i < trust->n_registered; i++)
		if (CRYPTO_memcmp(trust->registered[i], h, 32) == 0)
			*registered = true;
	if (have_cert) {
		rc = aik_cert_check(aik, h, c, trust, &cert_err);
		if (rc != ATTEST_OK && strcmp(cert_err.name, "tpm.aik.cert.parse") == 0) {
			attest_err_set(err, cert_err.rc, cert_err.name, "%s", cert_err.msg);
			return cert_err.rc;
		}
		*cert_validated = rc == ATTEST_OK;
	}
	if (trust->require_valid_aik_cert) {
		if (!have_cert)
			return attest_err_set(err, ATTEST_E_VERIFY, "tpm.aik.cert_required",
					      "require_valid_aik_cert is true and no AIK certificate was given");
		if (!*cert_validated) {
			attest_err_set(err, cert_err.rc, cert_err.name, "%s", cert_err.msg);
			return cert_err.rc;
		}
		return ATTEST_OK;
	}
	if (*registered || *cert_validated)
		return ATTEST_OK;
	return attest_err_set(err, ATTEST_E_VERIFY, "tpm.aik.untrusted",
			      "the AIK is not registered for this tenant and %s",
			      !have_cert ? "no AIK certificate was given" : cert_err.msg);
}

int tpm_aik_check(EVP_PKEY *aik, X509 *cert, STACK_OF(X509) *chain, const struct tpm_aik_trust *trust,
		  bool *cert_validated, bool *registered, struct attest_err *err)
{
	struct aik_cert_in c = {.cert = cert, .chain = chain};
	uint8_t h[32];

	if (tpm_pkey_spki_sha256(aik, h) != 0)
		return attest_err_set(err, ATTEST_E_INTERNAL, "tpm.aik.key", "cannot encode the AIK");
	return aik_check_h(aik, h, &c, trust, cert_validated, registered, err);
}

/* ---- PCR digest and quote ------------------------------------------------ */

int tpm_pcr_digest(const TPML_PCR_SELECTION *sel, const struct tpm_pcr_values *pcrs, uint16_t alg,
		   uint8_t *out, size_t *outlen, struct attest_err *err)
{
	int hb = tpm_bank_from_alg(alg);
	EVP_MD_CTX *md;
	uint8_t vals[TPM_PCR_COUNT * TPM_PCR_MAX_DIGEST]; /* one selection's values */
	size_t n = 0;
	unsigned int dlen = 0;
	int rc = ATTEST_OK;

	if (hb < 0)
		return attest_err_set(err, ATTEST_E_UNSUPPORTED, "tpm.quote.pcr_bank",
				      "digest algorithm 0x%04x is not supported", alg);
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, tpm_bank_md(hb), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return attest_err_set(err, ATTEST_E_INTERNAL, "tpm.quote.pcr_digest", "digest init failed");
	}
	/* The values are gathered and hashed a bank's worth at a time, not one update per PCR. */
	for (uint32_t i = 0; i < sel->count && rc == ATTEST_OK; i++) {
		const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
		int b = tpm_bank_from_alg(s->hash);

		if (b < 0) {
			rc = attest_err_set(err, ATTEST_E_UNSUPPORTED, "tpm.quote.pcr_bank",
					    "selection %u names bank 0x%04x, not a supported hash", i, s->hash);
			break;
		}
		for (unsigned pcr = 0; pcr < 8u * s->sizeofSelect; pcr++) {
			if (!(s->pcrSelect[pcr / 8] & (1u << (pcr % 8))))
				continue;
			if (pcr >= TPM_PCR_COUNT || !(pcrs->present[b] & (1u << pcr))) {
				rc = attest_err_set(err, ATTEST_E_VERIFY, "tpm.quote.pcr_missing",
						    "the quote selects %s PCR %u but no value was supplied for it",
						    tpm_bank_name(b), pcr);
				break;
			}
			memcpy(vals + n, pcrs->v[b][pcr], tpm_bank_size(b));
			n += tpm_bank_size(b);
		}
		EVP_DigestUpdate(md, vals, n);
		n = 0;
	}
	if (rc == ATTEST_OK) {
		if (EVP_DigestFinal_ex(md, out, &dlen) != 1)
			rc = attest_err_set(err, ATTEST_E_INTERNAL, "tpm.quote.pcr_digest", "digest failed");
		*outlen = dlen;
	}
	EVP_MD_CTX_free(md);
	return rc;
}

static void selection_masks(const TPML_PCR_SELECTION *sel, uint32_t masks[TPM_BANK_COUNT])
{
	memset(masks, 0, sizeof(uint32_t) * TPM_BANK_COUNT);
	for (uint32_t i = 0; i < sel->count; i++) {
		const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
		int b = tpm_bank_from_alg(s->hash);

		for (unsigned j = 0; b >= 0 && j < s->sizeofSelect && j < 3; j++)
			masks[b] |= (uint32_t)s->pcrSelect[j] << (8 * j);
	}
}

static int check_pcr_mask(const uint32_t masks[TPM_BANK_COUNT], uint32_t need, int bank,
			  struct attest_err *err)
{
	if (bank >= 0 && bank < TPM_BANK_COUNT) {
		if ((masks[bank] & need) == need)
			return ATTEST_OK;
		return attest_err_set(err, ATTEST_E_VERIFY, "tpm.quote.pcr_mask",
				      "the quote's %s selection 0x%06x does not cover required_pcr_mask 0x%06x (missing 0x%06x)",
				      tpm_bank_name(bank), masks[bank], need, need & ~masks[bank]);
	}
	for (int b = 0; b < TPM_BANK_COUNT; b++)
		if ((masks[b] & need) == need)
			return ATTEST_OK;
	return attest_err_set(err, ATTEST_E_VERIFY, "tpm.quote.pcr_mask",
			      "no bank of the quote selects every PCR of required_pcr_mask 0x%06x", need);
}

int tpm_quote_verify(const struct tpm_quote_in *in, const struct tpm_aik_trust *trust,
		     struct tpm_quote_out *out, struct attest_err *err)
{
	struct tpm_quote_out r;
	struct aik_cert_in cert = {.cert = in->aik_cert,
				   .chain = in->aik_chain,
				   .der = in->aik_cert ? NULL : in->aik_cert_der,
				   .der_len = in->aik_cert ? 0 : in->aik_cert_der_len};
	TPMT_SIGNATURE sig;
	const TPMS_QUOTE_INFO *q;
	uint8_t digest[TPM_PCR_MAX_DIGEST];
	size_t dlen = 0;
	int rc;

	memset(&r, 0, sizeof(r));
	if (in->aik == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "tpm.aik.missing", "no AIK public key given");
	/* 1. Structure. */
	if ((rc = tpm_attest_parse(in->attest, in->attest_len, &r.attest, err)) != ATTEST_OK ||
	    (rc = tpm_signature_parse(in->sig, in->sig_len, &sig, err)) != ATTEST_OK)
		return rc;
	/* 2. Signature over the TPMS_ATTEST bytes (Part 3 §18.4). */
	if ((rc = tpm_signature_verify_pooled(in->aik, in->aik_pool, &sig, in->attest, in->attest_len,
					      "tpm.quote.signature", err)) != ATTEST_OK)
		return rc;
	r.sig_alg = sig.sigAlg;
	r.sig_hash = sig.sigAlg == TPM2_ALG_ECDSA ? sig.signature.ecdsa.hash : sig.signature.rsassa.hash;
	/* 3. The AIK itself. */
	if (in->aik_pub_hash != NULL)
		memcpy(r.aik_pub_hash, in->aik_pub_hash, 32);
	else if (tpm_pkey_spki_sha256(in->aik, r.aik_pub_hash) != 0)
		return attest_err_set(err, ATTEST_E_INTERNAL, "tpm.aik.key", "cannot encode the AIK");
	if ((rc = aik_check_h(in->aik, r.aik_pub_hash, &cert, trust, &r.aik_cert_validated, &r.aik_registered,
			      err)) != ATTEST_OK)
		return rc;
	/* 4. A TPM-generated quote (TPM_GENERATED_VALUE guards against signing forged data). */
	if (r.attest.magic != TPM2_GENERATED_VALUE)
		return attest_err_set(err, ATTEST_E_VERIFY, "tpm.quote.magic",
				      "magic is 0x%08x, not TPM_GENERATED_VALUE 0xff544347", r.attest.magic);
	if (r.attest.type != TPM2_ST_ATTEST_QUOTE)
		return attest_err_set(err, ATTEST_E_VERIFY, "tpm.quote.type",
				      "attestation type 0x%04x is not TPM_ST_ATTEST_QUOTE 0x8018", r.attest.type);
	/* 5. Freshness. */
	if (!in->skip_nonce && (r.attest.extraData.size != in->nonce_len ||
	    (in->nonce_len > 0 && CRYPTO_memcmp(r.attest.extraData.buffer, in->nonce, in->nonce_len) != 0)))
		return attest_err_set(err, ATTEST_E_VERIFY, "tpm.quote.nonce",
				      "extraData (%u bytes) is not the expected nonce (%zu bytes)",
				      r.attest.extraData.size, in->nonce_len);
	/* 6. Coverage. */
	q = &r.attest.attested.quote;
	selection_masks(&q->pcrSelect, r.selected);
	if ((rc = check_pcr_mask(r.selected, in->required_pcr_mask, in->required_bank, err)) != ATTEST_OK)
		return rc;
	/* 7. The values the caller supplied are the ones the TPM quoted. */
	if (in->pcrs == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "tpm.quote.pcr_missing", "no PCR values given");
	if ((rc = tpm_pcr_digest(&q->pcrSelect, in->pcrs, r.sig_hash, digest, &dlen, err)) != ATTEST_OK)
		return rc;
	if (dlen != q->pcrDigest.size || CRYPTO_memcmp(digest, q->pcrDigest.buffer, dlen) != 0)
		return attest_err_set(err, ATTEST_E_VERIFY, "tpm.quote.pcr_digest",
				      "pcrDigest of the quote differs from the digest of the supplied PCR values");
	*out = r;
	return ATTEST_OK;
}

/* ---- creation and certify attestations ----------------------------------- */

static int signed_attest(EVP_PKEY *signer, struct verify_pool *pool, const uint8_t *attest, size_t attest_len,
			 const uint8_t *sig, size_t sig_len, TPM2_ST type, const char *code, TPMS_ATTEST *a,
			 struct attest_err *err)
{
	TPMT_SIGNATURE s;
	char name[ATTEST_ERR_NAME_MAX];
	int rc;

	if ((rc = tpm_attest_parse(attest, attest_len, a, err)) != ATTEST_OK ||
	    (rc = tpm_signature_parse(sig, sig_len, &s, err)) != ATTEST_OK)
		return rc;
	snprintf(name, sizeof(name), "%s.signature", code);
	if ((rc = tpm_signature_verify_pooled(signer, pool, &s, attest, attest_len, name, err)) != ATTEST_OK)
		return rc;
	snprintf(name, sizeof(name), "%s.type", code);
	if (a->magic != TPM2_GENERATED_VALUE || a->type != type)
		return attest_err_set(err, ATTEST_E_VERIFY, name,
				      "magic 0x%08x / type 0x%04x is not a TPM-generated 0x%04x attestation",
				      a->magic, a->type, type);
	return ATTEST_OK;
}

int tpm_creation_verify(const TPMT_PUBLIC *pub, EVP_PKEY *signer, const uint8_t *attest,
			size_t attest_len, const uint8_t *sig, size_t sig_len,
			const uint8_t *creation_data, size_t creation_data_len, struct attest_err *err)
{
	TPMS_ATTEST a;
	TPMS_CREATION_DATA cd;
	uint8_t name[2 + TPM_PCR_MAX_DIGEST], h[TPM_PCR_MAX_DIGEST];
	size_t nlen = 0;
	unsigned int hlen = 0;
	int rc, bank;

	if ((rc = signed_attest(signer, NULL, attest, attest_len, sig, sig_len, TPM2_ST_ATTEST_CREATION,
				"tpm.creation", &a, err)) != ATTEST_OK ||
	    (rc = tpm_creation_data_parse(creation_data, creation_data_len, &cd, err)) != ATTEST_OK ||
	    (rc = tpm_public_name(pub, name, sizeof(name), &nlen, err)) != ATTEST_OK)
		return rc;
	if (a.attested.creation.objectName.size != nlen ||
	    memcmp(a.attested.creation.objectName.name, name, nlen) != 0)
		return attest_err_set(err, ATTEST_E_VERIFY, "tpm.creation.name",
				      "the creation attestation names another object than this key");
	bank = tpm_bank_from_alg(pub->nameAlg);
	if (EVP_Digest(creation_data, creation_data_len, h, &hlen, tpm_bank_md(bank), NULL) != 1 ||
	    a.attested.creation.creationHash.size != hlen ||
	    memcmp(a.attested.creation.creationHash.buffer, h, hlen) != 0)
		return attest_err_set(err, ATTEST_E_VERIFY, "tpm.creation.hash",
				      "creationHash is not the digest of the creation data");
	return ATTEST_OK;
}

int tpm_certify_verify(const TPMT_PUBLIC *pub, EVP_PKEY *aik, struct verify_pool *aik_pool,
		       const uint8_t *attest, size_t attest_len, const uint8_t *sig, size_t sig_len,
		       struct attest_err *err)
{
	TPMS_ATTEST a;
	uint8_t name[2 + TPM_PCR_MAX_DIGEST];
	size_t nlen = 0;
	int rc;

	if ((rc = signed_attest(aik, aik_pool, attest, attest_len, sig, sig_len, TPM2_ST_ATTEST_CERTIFY,
				"tpm.certify", &a, err)) != ATTEST_OK ||
	    (rc = tpm_public_name(pub, name, sizeof(name), &nlen, err)) != ATTEST_OK)
		return rc;
	if (a.attested.certify.name.size != nlen || memcmp(a.attested.certify.name.name, name, nlen) != 0)
		return attest_err_set(err, ATTEST_E_VERIFY, "tpm.certify.name",
				      "the certification names another object than this key");
	return ATTEST_OK;
}
