/*
 * The synthetic Intel PKI (devplat/intel.h): a test root, a PCK Platform or
 * Processor CA, a PCK certificate with the SGX extension (formats.md §2.1),
 * the TCB Signing certificate, CRLs. Test use only.
 */
#include "devplat/intel_internal.h"

#include "base/buf.h"
#include "base/codec.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#define YEAR (365 * 86400LL)

void intel_devplat_opts_default(struct intel_devplat_opts *o, int64_t now)
{
	static const uint8_t fmspc[6] = {0x00, 0x90, 0x6e, 0xd5, 0x00, 0x00};
	static const uint8_t comps[16] = {5, 5, 2, 4, 1, 128, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0};

	memset(o, 0, sizeof(*o));
	o->now = now;
	o->ca = PCK_CA_PROCESSOR;
	memcpy(o->fmspc, fmspc, 6);
	memcpy(o->comp_svn, comps, 16);
	o->pcesvn = 11;
}

/* ---- a tiny DER writer for the SGX extension ------------------------------ */

static int der_tlv(struct buf *out, uint8_t tag, const uint8_t *v, size_t n)
{
	uint8_t hdr[6];
	size_t h = 0;

	hdr[h++] = tag;
	if (n < 0x80) {
		hdr[h++] = (uint8_t)n;
	} else if (n < 0x100) {
		hdr[h++] = 0x81;
		hdr[h++] = (uint8_t)n;
	} else {
		hdr[h++] = 0x82;
		hdr[h++] = (uint8_t)(n >> 8);
		hdr[h++] = (uint8_t)n;
	}
	if (buf_append(out, hdr, h) != 0 || (n && buf_append(out, v, n) != 0))
		return -1;
	return 0;
}

/* OID 1.2.840.113741.1.13.1[.a[.b]] */
static int der_sgx_oid(struct buf *out, int a, int b)
{
	uint8_t o[11] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};
	size_t n = 9;

	if (a > 0)
		o[n++] = (uint8_t)a;
	if (b > 0)
		o[n++] = (uint8_t)b;
	return der_tlv(out, 0x06, o, n);
}

static int der_uint(struct buf *out, uint8_t tag, unsigned v)
{
	uint8_t b[3];
	size_t n = 0;

	/* Minimal two's complement: a leading 00 when the high bit is set. */
	if (v > 0xff) {
		if (v & 0x8000)
			b[n++] = 0;
		b[n++] = (uint8_t)(v >> 8);
	} else if (v & 0x80) {
		b[n++] = 0;
	}
	b[n++] = (uint8_t)v;
	return der_tlv(out, tag, b, n);
}

/* SEQUENCE { OID …a[.b], <value TLV> } appended to out. */
static int der_pair(struct buf *out, int a, int b, const struct buf *value)
{
	struct buf e;
	int rc;

	buf_init(&e, 1 << 16);
	rc = der_sgx_oid(&e, a, b) || buf_append(&e, value->p, value->len) || der_tlv(out, 0x30, e.p, e.len);
	buf_free(&e);
	return rc ? -1 : 0;
}

static int pair_octets(struct buf *out, int a, const uint8_t *v, size_t n)
{
	struct buf val;
	int rc;

	buf_init(&val, 1024);
	rc = der_tlv(&val, 0x04, v, n) || der_pair(out, a, 0, &val);
	buf_free(&val);
	return rc;
}

static int tcb_value(struct buf *val, const struct intel_devplat_opts *o)
{
	struct buf seq, v;
	int i, rc = 0;

	buf_init(&seq, 1 << 14);
	buf_init(&v, 64);
	for (i = 1; i <= 18 && rc == 0; i++) {
		buf_reset(&v);
		if (i <= 16)
			rc = der_uint(&v, 0x02, o->comp_svn[i - 1]);
		else if (i == 17)
			rc = der_uint(&v, 0x02, o->pcesvn);
		else
			rc = der_tlv(&v, 0x04, o->comp_svn, 16); /* CPUSVN = the components (§2.1) */
		rc = rc || der_pair(&seq, 2, i, &v);
	}
	rc = rc || der_tlv(val, 0x30, seq.p, seq.len);
	buf_free(&seq);
	buf_free(&v);
	return rc;
}

static int config_value(struct buf *val)
{
	struct buf seq, v;
	int i, rc = 0;

	buf_init(&seq, 1024);
	buf_init(&v, 16);
	for (i = 1; i <= 3 && rc == 0; i++) {
		uint8_t t = 0xff;

		buf_reset(&v);
		rc = der_tlv(&v, 0x01, &t, 1) || der_pair(&seq, 7, i, &v);
	}
	rc = rc || der_tlv(val, 0x30, seq.p, seq.len);
	buf_free(&seq);
	buf_free(&v);
	return rc;
}

/* The SGX extension value (DER), 5 or 7 entries by CA type. */
int intel_devplat_sgx_extension(const struct intel_devplat_opts *o, const uint8_t ppid[16], struct buf *out)
{
	static const uint8_t instance[16] = {0x11, 0x22, 0x33, 0x44};
	struct buf body, val;
	int rc;

	buf_init(&body, 1 << 15);
	buf_init(&val, 1 << 14);
	rc = pair_octets(&body, 1, ppid, 16);
	rc = rc || tcb_value(&val, o) || der_pair(&body, 2, 0, &val);
	rc = rc || pair_octets(&body, 3, o->pceid, 2) || pair_octets(&body, 4, o->fmspc, 6);
	buf_reset(&val);
	rc = rc || der_uint(&val, 0x0a, o->ca == PCK_CA_PLATFORM ? 1 : 0) || der_pair(&body, 5, 0, &val);
	if (o->ca == PCK_CA_PLATFORM) {
		rc = rc || pair_octets(&body, 6, instance, 16);
		buf_reset(&val);
		rc = rc || config_value(&val) || der_pair(&body, 7, 0, &val);
	}
	rc = rc || der_tlv(out, 0x30, body.p, body.len);
	buf_free(&body);
	buf_free(&val);
	return rc ? -1 : 0;
}

/* ---- certificates ------------------------------------------------------------ */

EVP_PKEY *intel_devplat_keygen(void)
{
	return EVP_EC_gen("P-256");
}

/* dir/name's P-256 key, created (mode 0600, never overwritten) when absent; fresh when dir is NULL. */
static EVP_PKEY *load_or_create_key(const char *dir, const char *name)
{
	char path[4096];
	EVP_PKEY *k = NULL;
	FILE *f;
	int fd;

	if (dir == NULL)
		return intel_devplat_keygen();
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "r")) != NULL) {
		k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
		return k;
	}
	if ((k = intel_devplat_keygen()) == NULL)
		return NULL;
	/* O_EXCL: a concurrent creator wins and we read its key instead. */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0) {
		EVP_PKEY_free(k);
		if ((f = fopen(path, "r")) == NULL)
			return NULL;
		k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
		return k;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		EVP_PKEY_free(k);
		return NULL;
	}
	if (!PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL)) {
		EVP_PKEY_free(k);
		k = NULL;
	}
	fclose(f);
	return k;
}

static X509_NAME *intel_name(const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	if (n == NULL)
		return NULL;
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"Intel Corporation", -1, -1,
				   0);
	X509_NAME_add_entry_by_txt(n, "L", MBSTRING_ASC, (const unsigned char *)"Santa Clara", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "ST", MBSTRING_ASC, (const unsigned char *)"CA", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0);
	return n;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static int add_sgx_ext(X509 *cert, const struct buf *der)
{
	ASN1_OBJECT *obj = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	int ok = 0;

	if (obj && os && ASN1_OCTET_STRING_set(os, der->p, (int)der->len))
		ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
	if (ext)
		ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	return ok ? 0 : -1;
}

/*
 * Issues a certificate: subject CN `cn`, key `key`, signed by issuer_key
 * (issuer NULL = self-signed), valid [nb, na], CA or leaf extensions,
 * optionally the SGX extension.
 */
X509 *intel_devplat_issue(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, long serial,
			  int64_t nb, int64_t na, bool ca, const struct buf *sgx_ext)
{
	X509 *x = X509_new();
	X509_NAME *name = intel_name(cn);
	bool ok = x != NULL && name != NULL;

	ok = ok && X509_set_version(x, 2) && ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	ok = ok && X509_set_subject_name(x, name) &&
	     X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	ok = ok && ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb) &&
	     ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na);
	ok = ok && X509_set_pubkey(x, key);
	ok = ok && add_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash") == 0;
	ok = ok && add_ext(x, issuer ? issuer : x, NID_authority_key_identifier, "keyid:always") == 0;
	ok = ok && add_ext(x, issuer ? issuer : x, NID_basic_constraints,
			   ca ? "critical,CA:TRUE,pathlen:1" : "critical,CA:FALSE") == 0;
	ok = ok &&
	     add_ext(x, issuer ? issuer : x, NID_key_usage,
		     ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,nonRepudiation") == 0;
	ok = ok && add_ext(x, issuer ? issuer : x, NID_crl_distribution_points,
			   "URI:https://certificates.example.invalid/devplat.crl") == 0;
	ok = ok && (sgx_ext == NULL || add_sgx_ext(x, sgx_ext) == 0);
	ok = ok && X509_sign(x, issuer_key, EVP_sha256()) > 0;
	X509_NAME_free(name);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* A CRL by issuer, valid [this, next], listing the given serials. */
X509_CRL *intel_devplat_crl(X509 *issuer, EVP_PKEY *key, int64_t this_update, int64_t next_update,
			    const long *revoked, size_t n_revoked)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	X509V3_CTX ctx;
	X509_EXTENSION *aki;
	bool ok = crl && t && num;
	size_t i;

	ok = ok && X509_CRL_set_version(crl, 1) &&
	     X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
	ok = ok && ASN1_TIME_set(t, (time_t)this_update) && X509_CRL_set1_lastUpdate(crl, t);
	ok = ok && ASN1_TIME_set(t, (time_t)next_update) && X509_CRL_set1_nextUpdate(crl, t);
	for (i = 0; ok && i < n_revoked; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *sn = ASN1_INTEGER_new();

		ok = r && sn && ASN1_INTEGER_set(sn, revoked[i]) && X509_REVOKED_set_serialNumber(r, sn) &&
		     ASN1_TIME_set(t, (time_t)this_update) && X509_REVOKED_set_revocationDate(r, t) &&
		     X509_CRL_add0_revoked(crl, r);
		if (!ok)
			X509_REVOKED_free(r);
		ASN1_INTEGER_free(sn);
	}
	ok = ok && ASN1_INTEGER_set(num, 1) && X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0);
	if (ok) {
		X509V3_set_ctx(&ctx, issuer, NULL, NULL, crl, 0);
		aki = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
		ok = aki && X509_CRL_add_ext(crl, aki, -1);
		X509_EXTENSION_free(aki);
	}
	ok = ok && X509_CRL_sort(crl) && X509_CRL_sign(crl, key, EVP_sha256()) > 0;
	ASN1_TIME_free(t);
	ASN1_INTEGER_free(num);
	if (!ok) {
		X509_CRL_free(crl);
		return NULL;
	}
	return crl;
}

int intel_devplat_new(const struct intel_devplat_opts *opts, struct intel_devplat **out,
		      struct attest_err *err)
{
	static const uint8_t ppid[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	struct intel_devplat *p = calloc(1, sizeof(*p));
	struct buf ext;
	int64_t now = opts->now;
	bool ok;

	if (p == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "devplat.nomem", "out of memory");
	p->o = *opts;
	memcpy(p->ppid, ppid, 16);
	buf_init(&ext, 1 << 15);
	p->root_key = load_or_create_key(opts->key_dir, "root.key");
	p->ca_key = load_or_create_key(opts->key_dir, "pck_ca.key");
	p->pck_key = load_or_create_key(opts->key_dir, "pck.key");
	p->tcb_key = load_or_create_key(opts->key_dir, "tcb_signing.key");
	p->att_key = load_or_create_key(opts->key_dir, "attestation.key");
	ok = p->root_key && p->ca_key && p->pck_key && p->tcb_key && p->att_key;
	ok = ok && intel_devplat_sgx_extension(opts, p->ppid, &ext) == 0;
	ok = ok && (p->root = intel_devplat_issue("Intel SGX Root CA", p->root_key, NULL, p->root_key, 1,
						  now - 10 * YEAR, now + 10 * YEAR, true, NULL)) != NULL;
	ok = ok &&
	     (p->ca = intel_devplat_issue(
		  opts->ca == PCK_CA_PLATFORM ? "Intel SGX PCK Platform CA" : "Intel SGX PCK Processor CA",
		  p->ca_key, p->root, p->root_key, 2, now - 5 * YEAR, now + 5 * YEAR, true, NULL)) != NULL;
	ok = ok && (p->tcb = intel_devplat_issue("Intel SGX TCB Signing", p->tcb_key, p->root, p->root_key, 3,
						 now - 5 * YEAR, now + 5 * YEAR, false, NULL)) != NULL;
	ok = ok && (p->pck = intel_devplat_issue(
			"Intel SGX PCK Certificate", p->pck_key, p->ca, p->ca_key, 100,
			opts->pck_not_before ? opts->pck_not_before : now - YEAR,
			opts->pck_not_after ? opts->pck_not_after : now + YEAR, false, &ext)) != NULL;
	ok = ok && intel_devplat_att_key_xy(p->att_key, p->att_xy) == 0;
	buf_free(&ext);
	if (!ok) {
		intel_devplat_free(p);
		return attest_err_set(err, ATTEST_E_INTERNAL, "devplat.pki",
				      "building the synthetic Intel PKI failed");
	}
	*out = p;
	return ATTEST_OK;
}

void intel_devplat_free(struct intel_devplat *p)
{
	if (p == NULL)
		return;
	X509_free(p->root);
	X509_free(p->ca);
	X509_free(p->pck);
	X509_free(p->tcb);
	EVP_PKEY_free(p->root_key);
	EVP_PKEY_free(p->ca_key);
	EVP_PKEY_free(p->pck_key);
	EVP_PKEY_free(p->tcb_key);
	EVP_PKEY_free(p->att_key);
	free(p);
}

STACK_OF(X509) * intel_devplat_roots(const struct intel_devplat *p)
{
	STACK_OF(X509) *s = sk_X509_new_null();

	if (s == NULL || !X509_up_ref(p->root))
		goto fail;
	if (!sk_X509_push(s, p->root)) {
		X509_free(p->root);
		goto fail;
	}
	return s;
fail:
	sk_X509_free(s);
	return NULL;
}

int intel_devplat_pem(X509 *const *certs, size_t n, char **pem, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long l;
	size_t i;

	if (b == NULL)
		return ATTEST_E_NOMEM;
	for (i = 0; i < n; i++)
		if (!PEM_write_bio_X509(b, certs[i])) {
			BIO_free(b);
			return ATTEST_E_INTERNAL;
		}
	l = BIO_get_mem_data(b, &data);
	*pem = malloc((size_t)l + 1);
	if (*pem == NULL) {
		BIO_free(b);
		return ATTEST_E_NOMEM;
	}
	memcpy(*pem, data, (size_t)l);
	(*pem)[l] = '\0';
	*len = (size_t)l;
	BIO_free(b);
	return ATTEST_OK;
}

int intel_devplat_pck_chain_pem(const struct intel_devplat *p, char **pem, size_t *len)
{
	X509 *c[3] = {p->pck, p->ca, p->root};

	return intel_devplat_pem(c, 3, pem, len);
}

/* x || y of a P-256 key, big-endian. */
int intel_devplat_att_key_xy(EVP_PKEY *key, uint8_t xy[64])
{
	BIGNUM *x = NULL, *y = NULL;
	int rc = -1;

	if (EVP_PKEY_get_bn_param(key, "qx", &x) && EVP_PKEY_get_bn_param(key, "qy", &y) &&
	    BN_bn2binpad(x, xy, 32) == 32 && BN_bn2binpad(y, xy + 32, 32) == 32)
		rc = 0;
	BN_free(x);
	BN_free(y);
	return rc;
}

/* ECDSA P-256 / SHA-256 over msg as r || s big-endian. */
int intel_devplat_sign(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t sig[64])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t der[80];
	size_t dlen = sizeof(der);
	const unsigned char *pp = der;
	ECDSA_SIG *s = NULL;
	const BIGNUM *r, *sv;
	int rc = -1;

	if (md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestSign(md, der, &dlen, msg, len) == 1 &&
	    (s = d2i_ECDSA_SIG(NULL, &pp, (long)dlen)) != NULL) {
		ECDSA_SIG_get0(s, &r, &sv);
		if (BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(sv, sig + 32, 32) == 32)
			rc = 0;
	}
	ECDSA_SIG_free(s);
	EVP_MD_CTX_free(md);
	return rc;
}
