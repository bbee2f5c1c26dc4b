/*
 * The strict DER reader of Intel's certificate profile and its chain
 * verification (src/crypto/x509_der.h):
 *  - every profile rule refuses a validly signed certificate or CRL that
 *    breaks it, with its own code (the DER is rebuilt here and re-signed
 *    with the test keys, so only the rule under test is broken);
 *  - every chain rule gives the error name x509_chain_verify gives;
 *  - differential: on the real Intel chains and CRLs (sgx, tdx, oe), the
 *    synthetic platform's, at the vector's time, at the edges of every
 *    validity window and with bits flipped, the DER verifier
 *    (pck_der_chain_verify) and OpenSSL's X509_verify_cert (x509_chain_verify,
 *    through openssl_verdict below) reach the same verdict;
 *  - the collateral import's checks (evidence/pck.h): an issuer chain is
 *    the signer and at most a trusted root (intel_der_signer_verify), a CRL
 *    on its own is judged as the chain walk judges it (intel_der_crl_verify,
 *    beside OpenSSL's x509_crl_verify), and no flipped bit or cut of a real
 *    CRL passes that check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sweep.h"
#include "testutil.h"

#include "base/buf.h"
#include "base/codec.h"
#include "crypto/crypto.h"
#include "crypto/x509_der.h"
#include "devplat/intel.h"
#include "devplat/intel_internal.h"
#include "evidence/pck.h"

#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define T0  1750377600 /* 2025-06-20 */
#define DAY 86400

/* DER building: each builder returns a new buffer and frees the ones it is given. ------------- */

static struct buf B(const char *hex) {
	struct buf b;
	uint8_t *raw = NULL;
	size_t n = 0;

	buf_init(&b, 1 << 20);
	assert_int_equal(hex_decode(hex, strlen(hex), &raw, &n), ATTEST_OK);
	assert_int_equal(buf_append(&b, raw, n), ATTEST_OK);
	free(raw);
	return b;
}

static struct buf
S(const char *s) {
	struct buf b;

	buf_init(&b, 1 << 20);
	assert_int_equal(buf_append(&b, s, strlen(s)), ATTEST_OK);
	return b;
}

static struct buf
RAW(const uint8_t *p, size_t n) {
	struct buf b;

	buf_init(&b, 1 << 20);
	assert_int_equal(buf_append(&b, p, n), ATTEST_OK);
	return b;
}

static struct buf
CAT(struct buf a, struct buf b) {
	assert_int_equal(buf_append(&a, b.p, b.len), ATTEST_OK);
	buf_free(&b);
	return a;
}

/* tag ‖ DER length ‖ content. */
static struct buf
T(uint8_t tag, struct buf content) {
	struct buf b;
	uint8_t h[6];
	size_t hl = 0, n = content.len;

	buf_init(&b, 1 << 20);
	h[hl++] = tag;
	if (n < 0x80) {
		h[hl++] = (uint8_t)n;
	} else if (n < 0x100) {
		h[hl++] = 0x81, h[hl++] = (uint8_t)n;
	} else {
		h[hl++] = 0x82, h[hl++] = (uint8_t)(n >> 8), h[hl++] = (uint8_t)n;
	}
	assert_int_equal(buf_append(&b, h, hl), ATTEST_OK);
	return CAT(b, content);
}

static struct buf
EMPTY(void) {
	return S("");
}

/* Extension ::= SEQUENCE { OID (whole TLV, hex), [critical TRUE], OCTET STRING { value } } */
static struct buf
EXT(const char *oid_tlv, bool critical, struct buf value) {
	return T(0x30, CAT(CAT(B(oid_tlv), critical ? B("0101ff") : EMPTY()), T(0x04, value)));
}

#define OID_AKI		 "0603551d23"
#define OID_SKI		 "0603551d0e"
#define OID_KU		 "0603551d0f"
#define OID_BC		 "0603551d13"
#define OID_CRLDP	 "0603551d1f"
#define ALG_ECDSA_SHA256 "300a06082a8648ce3d040302"

/* Top-level TLVs of a DER SEQUENCE's contents (trusted input: our own DER). */
struct elts {
	const uint8_t *p[16];
	size_t n[16];
	size_t count;
};

static size_t tlv_len(const uint8_t *p, size_t *hdr)
{
	size_t n = p[1], k;

	*hdr = 2;
	if (n & 0x80) {
		k = n & 0x7f;
		n = 0;
		for (size_t i = 0; i < k; i++)
			n = n << 8 | p[2 + i];
		*hdr += k;
	}
	return n;
}

static void split(const uint8_t *p, size_t n, struct elts *e)
{
	size_t hdr, off = 0;

	e->count = 0;
	while (off < n) {
		size_t len = tlv_len(p + off, &hdr);

		assert_true(e->count < 16);
		e->p[e->count] = p + off;
		e->n[e->count++] = hdr + len;
		off += hdr + len;
	}
}

/* The contents of the first TLV of p. */
static const uint8_t *contents(const uint8_t *p, size_t *n)
{
	size_t hdr;

	*n = tlv_len(p, &hdr);
	return p + hdr;
}

/* SEQUENCE { tbs, algorithm (hex), BIT STRING { 0, ECDSA(key, SHA-256, tbs) } }. */
static struct buf sign_tbs(struct buf tbs, EVP_PKEY *key, const char *alg)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t sig[80];
	size_t siglen = sizeof(sig);

	assert_non_null(md);
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &siglen, tbs.p, tbs.len), 1);
	EVP_MD_CTX_free(md);
	return T(0x30, CAT(CAT(tbs, B(alg)), T(0x03, CAT(B("00"), RAW(sig, siglen)))));
}

/*
 * The signed object der (certificate or CRL) with element k of its signed
 * part replaced by rep (rep.len 0: removed; k == count: appended), signed
 * again by key.
 */
static struct buf remake_at(const struct buf *der, size_t k, struct buf rep, EVP_PKEY *key, bool insert)
{
	struct elts outer, tbs;
	struct buf body = EMPTY();
	const uint8_t *c;
	size_t n;

	c = contents(der->p, &n);
	split(c, n, &outer);
	c = contents(outer.p[0], &n);
	split(c, n, &tbs);
	for (size_t i = 0; i < tbs.count; i++) {
		if (i == k)
			body = CAT(body, RAW(rep.p, rep.len));
		if (i != k || insert)
			body = CAT(body, RAW(tbs.p[i], tbs.n[i]));
	}
	if (k >= tbs.count)
		body = CAT(body, RAW(rep.p, rep.len));
	buf_free(&rep);
	return sign_tbs(T(0x30, body), key, ALG_ECDSA_SHA256);
}

static struct buf remake(const struct buf *der, size_t k, struct buf rep, EVP_PKEY *key)
{
	return remake_at(der, k, rep, key, false);
}

/* The same with rep inserted before element k. */
static struct buf insert_at(const struct buf *der, size_t k, struct buf rep, EVP_PKEY *key)
{
	return remake_at(der, k, rep, key, true);
}

/* The test PKI: an Intel-profile root, CA and leaf from the synthetic platform's issuer. ---------- */

struct pki {
	EVP_PKEY *root_key, *ca_key, *leaf_key, *other_key;
	X509 *root, *ca, *leaf;
	struct buf root_der, ca_der, leaf_der;
	struct buf ca_crl, root_crl; /* by the CA (PCK CRL) and by the root */
	struct x509_der_cert *root_view;
};

static struct pki *P;

static struct buf der_of_x509(X509 *x)
{
	unsigned char *p = NULL;
	int n = i2d_X509(x, &p);
	struct buf b;

	assert_true(n > 0);
	b = RAW(p, (size_t)n);
	OPENSSL_free(p);
	return b;
}

static struct buf der_of_crl(X509_CRL *c)
{
	unsigned char *p = NULL;
	int n = i2d_X509_CRL(c, &p);
	struct buf b;

	assert_true(n > 0);
	b = RAW(p, (size_t)n);
	OPENSSL_free(p);
	X509_CRL_free(c);
	return b;
}

static struct buf crl_by(X509 *issuer, EVP_PKEY *key, int64_t this_update, int64_t next_update, long revoked)
{
	X509_CRL *c = intel_devplat_crl(issuer, key, this_update, next_update, &revoked, revoked ? 1 : 0);

	assert_non_null(c);
	return der_of_crl(c);
}

static int pki_setup(void **state)
{
	(void)state;
	P = calloc(1, sizeof(*P));
	P->root_key = intel_devplat_keygen();
	P->ca_key = intel_devplat_keygen();
	P->leaf_key = intel_devplat_keygen();
	P->other_key = intel_devplat_keygen();
	P->root = intel_devplat_issue("Intel SGX Root CA", P->root_key, NULL, P->root_key, 1, T0 - 365 * DAY,
				      T0 + 3650 * DAY, true, NULL);
	P->ca = intel_devplat_issue("Intel SGX PCK Processor CA", P->ca_key, P->root, P->root_key, 2,
				    T0 - 365 * DAY, T0 + 3650 * DAY, true, NULL);
	P->leaf = intel_devplat_issue("Intel SGX PCK Certificate", P->leaf_key, P->ca, P->ca_key, 100,
				      T0 - 30 * DAY, T0 + 365 * DAY, false, NULL);
	assert_non_null(P->leaf);
	P->root_der = der_of_x509(P->root);
	P->ca_der = der_of_x509(P->ca);
	P->leaf_der = der_of_x509(P->leaf);
	P->ca_crl = crl_by(P->ca, P->ca_key, T0 - DAY, T0 + 29 * DAY, 0);
	P->root_crl = crl_by(P->root, P->root_key, T0 - DAY, T0 + 29 * DAY, 0);
	assert_int_equal(x509_der_cert_parse(P->root_der.p, P->root_der.len, &P->root_view, "t", NULL),
			 ATTEST_OK);
	return 0;
}

static int pki_teardown(void **state)
{
	(void)state;
	x509_der_cert_free(P->root_view);
	buf_free(&P->root_der), buf_free(&P->ca_der), buf_free(&P->leaf_der);
	buf_free(&P->ca_crl), buf_free(&P->root_crl);
	X509_free(P->root), X509_free(P->ca), X509_free(P->leaf);
	EVP_PKEY_free(P->root_key), EVP_PKEY_free(P->ca_key), EVP_PKEY_free(P->leaf_key);
	EVP_PKEY_free(P->other_key);
	free(P);
	return 0;
}

static struct buf ski_of(X509 *x)
{
	const ASN1_OCTET_STRING *id = X509_get0_subject_key_id(x);

	assert_non_null(id);
	return RAW(ASN1_STRING_get0_data(id), (size_t)ASN1_STRING_length(id));
}

/* The five extensions of an Intel leaf (PCK profile) issued by the CA, minus `skip`, plus extra. */
static struct buf leaf_exts(const char *skip, struct buf extra)
{
	struct buf l = EMPTY();

	if (strcmp(skip, "aki") != 0)
		l = CAT(l, EXT(OID_AKI, false, T(0x30, T(0x80, ski_of(P->ca)))));
	if (strcmp(skip, "ski") != 0)
		l = CAT(l, EXT(OID_SKI, false, T(0x04, ski_of(P->leaf))));
	if (strcmp(skip, "ku") != 0)
		l = CAT(l, EXT(OID_KU, true, B("030206c0")));
	if (strcmp(skip, "bc") != 0)
		l = CAT(l, EXT(OID_BC, true, B("3000")));
	if (strcmp(skip, "crldp") != 0)
		l = CAT(l, EXT(OID_CRLDP, false,
			       T(0x30, T(0x30, T(0xa0, T(0xa0, T(0x86, S("https://x.invalid/crl"))))))));
	return T(0xa3, T(0x30, CAT(l, extra)));
}

/* The CA's extensions (issued by the root), with its basicConstraints and keyUsage given. */
static struct buf ca_exts(struct buf bc, struct buf ku, struct buf extra)
{
	struct buf l = EXT(OID_AKI, false, T(0x30, T(0x80, ski_of(P->root))));

	l = CAT(l, EXT(OID_SKI, false, T(0x04, ski_of(P->ca))));
	if (ku.len)
		l = CAT(l, EXT(OID_KU, true, ku));
	else
		buf_free(&ku);
	if (bc.len)
		l = CAT(l, EXT(OID_BC, true, bc));
	else
		buf_free(&bc);
	l = CAT(l, EXT(OID_CRLDP, false,
		       T(0x30, T(0x30, T(0xa0, T(0xa0, T(0x86, S("https://x.invalid/crl"))))))));
	return T(0xa3, T(0x30, CAT(l, extra)));
}

/* TBSCertificate element indexes. */
enum { E_VERSION, E_SERIAL, E_ALG, E_ISSUER, E_VALIDITY, E_SUBJECT, E_SPKI, E_EXTS };
/* TBSCertList element indexes (no revoked entries in the test CRLs). */
enum { L_VERSION, L_ALG, L_ISSUER, L_THIS, L_NEXT, L_EXTS };

static const char *parse_cert(const struct buf *der)
{
	static struct attest_err err;
	struct x509_der_cert *x = NULL;
	int rc;

	attest_err_clear(&err);
	rc = x509_der_cert_parse(der->p, der->len, &x, "t", &err);
	x509_der_cert_free(x);
	return rc == ATTEST_OK ? "ok" : err.name;
}

static const char *parse_crl(const struct buf *der)
{
	static struct attest_err err;
	struct x509_der_crl *c = NULL;
	int rc;

	attest_err_clear(&err);
	rc = x509_der_crl_parse(der->p, der->len, &c, "t", &err);
	x509_der_crl_free(c);
	return rc == ATTEST_OK ? "ok" : err.name;
}

/* A leaf (issued by the CA) with element k replaced; its verdict under the reader. */
static const char *leaf_with(size_t k, struct buf rep)
{
	struct buf x = remake(&P->leaf_der, k, rep, P->ca_key);
	const char *r = parse_cert(&x);

	buf_free(&x);
	return r;
}

/* Tests: the reader -------------------------------------------------------------------------------- */

static void the_synthetic_chain_and_its_crls_parse(void **state)
{
	struct buf rebuilt;

	(void)state;
	assert_string_equal(parse_cert(&P->root_der), "ok");
	assert_string_equal(parse_cert(&P->ca_der), "ok");
	assert_string_equal(parse_cert(&P->leaf_der), "ok");
	assert_string_equal(parse_crl(&P->ca_crl), "ok");
	assert_string_equal(parse_crl(&P->root_crl), "ok");
	/* The rebuilding machinery itself keeps a certificate valid. */
	rebuilt = remake(&P->leaf_der, E_EXTS, leaf_exts("", EMPTY()), P->ca_key);
	assert_string_equal(parse_cert(&rebuilt), "ok");
	buf_free(&rebuilt);
}

static void version_other_than_v3_is_refused(void **state)
{
	(void)state;
	assert_string_equal(leaf_with(E_VERSION, B("a003020101")), "t.der.version");
	/* v1: the version absent altogether. */
	assert_string_equal(leaf_with(E_VERSION, EMPTY()), "t.der.tag");
}

static void serial_must_be_positive_minimal_and_at_most_20_octets(void **state)
{
	(void)state;
	assert_string_equal(leaf_with(E_SERIAL, B("020100")), "t.der.serial");
	assert_string_equal(leaf_with(E_SERIAL, B("0201ff")), "t.der.serial");
	assert_string_equal(leaf_with(E_SERIAL, B("02020001")), "t.der.serial");
	assert_string_equal(leaf_with(E_SERIAL, B("021501"
						  "0000000000000000000000000000000000000000")),
			    "t.der.serial");
	/* Intel's form: 20 octets of value with the sign octet. */
	assert_string_equal(leaf_with(E_SERIAL, B("021500"
						  "8000000000000000000000000000000000000001")),
			    "ok");
}

static void signature_algorithm_must_be_ecdsa_with_sha256_without_parameters(void **state)
{
	struct buf x, y;

	(void)state;
	assert_string_equal(leaf_with(E_ALG, B("300c06082a8648ce3d0403020500")), "t.der.algorithm");
	assert_string_equal(leaf_with(E_ALG, B("300a06082a8648ce3d040303")), "t.der.algorithm");
	/* The outer algorithm differs from the TBS's. */
	x = remake(&P->leaf_der, E_ALG, B(ALG_ECDSA_SHA256), P->ca_key);
	{
		struct elts outer;
		size_t n;
		const uint8_t *c = contents(x.p, &n);

		split(c, n, &outer);
		y = T(0x30, CAT(CAT(RAW(outer.p[0], outer.n[0]), B("300a06082a8648ce3d040303")),
				RAW(outer.p[2], outer.n[2])));
	}
	assert_string_equal(parse_cert(&y), "t.der.algorithm");
	buf_free(&x);
	buf_free(&y);
}

static struct buf NAME1(const char *cn) {
	return T(0x30, T(0x31, T(0x30, CAT(B("0603550403"), T(0x0c, S(cn))))));
}

static void
names_must_be_single_valued_utf8_or_printable_and_not_empty(void **state)
{
	(void)state;
	assert_string_equal(leaf_with(E_ISSUER, B("3000")), "t.der.name");
	assert_string_equal(
	    leaf_with(E_SUBJECT, T(0x30, T(0x31, CAT(T(0x30, CAT(B("0603550403"), T(0x0c, S("a")))),
						     T(0x30, CAT(B("060355040a"), T(0x0c, S("b")))))))),
	    "t.der.name");
	assert_string_equal(
	    leaf_with(E_SUBJECT, T(0x30, T(0x31, T(0x30, CAT(B("0603550403"), T(0x1e, B("0041"))))))),
	    "t.der.name");
	assert_string_equal(
	    leaf_with(E_SUBJECT, T(0x30, T(0x31, T(0x30, CAT(B("0603550403"), T(0x0c, B("c0af"))))))),
	    "t.der.name");
	assert_string_equal(
	    leaf_with(E_SUBJECT, T(0x30, T(0x31, T(0x30, CAT(B("0603550403"), T(0x13, S("a@b"))))))),
	    "t.der.name");
	assert_string_equal(
	    leaf_with(E_SUBJECT, T(0x30, T(0x31, T(0x30, CAT(B("06035504"), T(0x0c, S("a"))))))),
	    "t.der.name");
	assert_string_equal(leaf_with(E_SUBJECT, NAME1("Intel SGX PCK Certificate")), "ok");
}

static struct buf VALIDITY(uint8_t t1, const char *a, uint8_t t2, const char *b) {
	return T(0x30, CAT(T(t1, S(a)), T(t2, S(b))));
}

static void
validity_must_be_rfc5280_utc_or_generalized_time(void **state)
{
	(void)state;
	assert_string_equal(leaf_with(E_VALIDITY, VALIDITY(0x17, "250101000000Z", 0x17, "300101000000Z")),
			    "ok");
	assert_string_equal(leaf_with(E_VALIDITY, VALIDITY(0x17, "250101000000Z", 0x18, "20500101000000Z")),
			    "ok");
	assert_string_equal(leaf_with(E_VALIDITY, VALIDITY(0x17, "2501010000Z", 0x17, "300101000000Z")),
			    "t.der.time");
	assert_string_equal(leaf_with(E_VALIDITY, VALIDITY(0x17, "250101000000+0100", 0x17, "300101000000Z")),
			    "t.der.time");
	assert_string_equal(leaf_with(E_VALIDITY, VALIDITY(0x18, "20250101000000Z", 0x17, "300101000000Z")),
			    "t.der.time");
	assert_string_equal(leaf_with(E_VALIDITY, VALIDITY(0x17, "250230000000Z", 0x17, "300101000000Z")),
			    "t.der.time");
	assert_string_equal(leaf_with(E_VALIDITY, VALIDITY(0x17, "250229000000Z", 0x17, "300101000000Z")),
			    "t.der.time");
	assert_string_equal(leaf_with(E_VALIDITY, VALIDITY(0x17, "240229000000Z", 0x17, "300101000000Z")),
			    "ok");
	assert_string_equal(leaf_with(E_VALIDITY, VALIDITY(0x17, "250101000060Z", 0x17, "300101000000Z")),
			    "t.der.time");
	assert_string_equal(leaf_with(E_VALIDITY, VALIDITY(0x18, "20500101000000.5Z", 0x17, "300101000000Z")),
			    "t.der.time");
	assert_string_equal(leaf_with(E_VALIDITY, VALIDITY(0x04, "250101000000Z", 0x17, "300101000000Z")),
			    "t.der.time");
}

static void the_key_must_be_an_uncompressed_p256_point_on_the_curve(void **state)
{
	uint8_t xy[64];
	char hex[200];
	struct buf b;

	(void)state;
	memset(xy, 0x11, sizeof(xy));
	hex_encode_to(xy, 64, hex);
	b = CAT(B("3059301306072a8648ce3d020106082a8648ce3d030107034200"
		  "04"),
		B(hex));
	assert_string_equal(leaf_with(E_SPKI, b), "t.der.key");
	/* Compressed point. */
	hex_encode_to(xy, 32, hex);
	assert_string_equal(leaf_with(E_SPKI, CAT(B("3039301306072a8648ce3d020106082a8648ce3d030107032200"
						    "02"),
						  B(hex))),
			    "t.der.spki");
	/* P-384 named curve. */
	assert_string_equal(leaf_with(E_SPKI, T(0x30, CAT(B("301006072a8648ce3d020106052b81040022"),
							  T(0x03, CAT(B("0004"), RAW(xy, 64)))))),
			    "t.der.spki");
}

static void unique_identifiers_are_refused(void **state)
{
	(void)state;
	assert_string_equal(leaf_with(E_EXTS, CAT(B("810200ff"), leaf_exts("", EMPTY()))), "t.der.unique_id");
	assert_string_equal(leaf_with(E_EXTS, CAT(B("820200ff"), leaf_exts("", EMPTY()))), "t.der.unique_id");
}

static void extensions_are_unique_der_and_octet_strings(void **state)
{
	(void)state;
	/* Absent. */
	assert_string_equal(leaf_with(E_EXTS, EMPTY()), "t.der.extension");
	/* The same OID twice. */
	assert_string_equal(leaf_with(E_EXTS, leaf_exts("", EXT(OID_BC, true, B("3000")))),
			    "t.der.extension");
	/* critical FALSE encoded (DER omits the DEFAULT). */
	assert_string_equal(
	    leaf_with(E_EXTS, leaf_exts("bc", T(0x30, CAT(CAT(B(OID_BC), B("010100")), T(0x04, B("3000")))))),
	    "t.der.extension");
	/* critical TRUE not as 0xff. */
	assert_string_equal(
	    leaf_with(E_EXTS, leaf_exts("bc", T(0x30, CAT(CAT(B(OID_BC), B("010101")), T(0x04, B("3000")))))),
	    "t.der.extension");
	/* extnValue not an OCTET STRING. */
	assert_string_equal(leaf_with(E_EXTS, leaf_exts("bc", T(0x30, CAT(B(OID_BC), T(0x03, B("003000")))))),
			    "t.der.tag");
	/* An extension OpenSSL would act on but Intel's profile has no place for. */
	assert_string_equal(leaf_with(E_EXTS, leaf_exts("", EXT("0603551d1e", true, B("3000")))),
			    "t.der.extension");
	/* An unknown non-critical extension is ignored (RFC 5280 4.2). */
	assert_string_equal(leaf_with(E_EXTS, leaf_exts("", EXT("06032a0304", false, B("0500")))), "ok");
}

static void key_identifiers_basic_constraints_key_usage_and_crl_dp_are_in_intels_form(void **state)
{
	(void)state;
	assert_string_equal(
	    leaf_with(E_EXTS, leaf_exts("aki", EXT(OID_AKI, true, T(0x30, T(0x80, ski_of(P->ca)))))),
	    "t.der.key_identifier");
	assert_string_equal(
	    leaf_with(E_EXTS, leaf_exts("aki", EXT(OID_AKI, false,
						   T(0x30, CAT(T(0x80, ski_of(P->ca)), B("820101")))))),
	    "t.der.key_identifier");
	assert_string_equal(leaf_with(E_EXTS, leaf_exts("ski", EXT(OID_SKI, false, B("0400")))),
			    "t.der.key_identifier");
	assert_string_equal(leaf_with(E_EXTS, leaf_exts("bc", EXT(OID_BC, true, B("3003010100")))),
			    "t.der.basic_constraints");
	assert_string_equal(leaf_with(E_EXTS, leaf_exts("bc", EXT(OID_BC, true, B("3003020100")))),
			    "t.der.basic_constraints");
	assert_string_equal(leaf_with(E_EXTS, leaf_exts("ku", EXT(OID_KU, true, B("030200c0")))),
			    "t.der.key_usage");
	assert_string_equal(leaf_with(E_EXTS, leaf_exts("ku", EXT(OID_KU, true, B("030205c0")))),
			    "t.der.key_usage");
	assert_string_equal(leaf_with(E_EXTS, leaf_exts("ku", EXT(OID_KU, true, B("03020000")))),
			    "t.der.key_usage");
	/* A distribution point with reasons. */
	assert_string_equal(
	    leaf_with(E_EXTS,
		      leaf_exts("crldp", EXT(OID_CRLDP, false,
					     T(0x30, T(0x30, CAT(T(0xa0, T(0xa0, T(0x86, S("https://x")))),
								 B("810206c0"))))))),
	    "t.der.crl_dp");
}

static void lengths_are_definite_minimal_and_nothing_trails(void **state)
{
	struct buf x = remake(&P->leaf_der, E_SERIAL, B("020164"), P->ca_key), y;

	(void)state;
	/* Trailing byte after the certificate. */
	y = CAT(RAW(x.p, x.len), B("00"));
	assert_string_equal(parse_cert(&y), "t.der.trailing");
	buf_free(&y);
	/* Truncated. */
	y = RAW(x.p, x.len - 1);
	assert_string_equal(parse_cert(&y), "t.der.length");
	buf_free(&y);
	/* Indefinite length. */
	y = RAW(x.p, x.len);
	y.p[1] = 0x80;
	assert_string_equal(parse_cert(&y), "t.der.length");
	buf_free(&y);
	/* A long-form length where the short form fits (the serial). */
	assert_string_equal(leaf_with(E_SERIAL, B("02810164")), "t.der.length");
	/* Something after the extensions inside the TBS. */
	assert_string_equal(leaf_with(E_EXTS + 1, B("0500")), "t.der.trailing");
	buf_free(&x);
}

static void the_signature_value_must_be_a_der_ecdsa_sig_value(void **state)
{
	struct elts outer;
	struct buf y;
	size_t n;
	const uint8_t *c = contents(P->leaf_der.p, &n);

	(void)state;
	split(c, n, &outer);
	/* BIT STRING with unused bits. */
	y = T(0x30, CAT(CAT(RAW(outer.p[0], outer.n[0]), B(ALG_ECDSA_SHA256)), B("030301"
										 "3000")));
	assert_string_equal(parse_cert(&y), "t.der.signature_value");
	buf_free(&y);
	/* r non-minimal. */
	y = T(0x30, CAT(CAT(RAW(outer.p[0], outer.n[0]), B(ALG_ECDSA_SHA256)), B("030a0030070202000102010"
										 "1")));
	assert_string_equal(parse_cert(&y), "t.der.signature_value");
	buf_free(&y);
}

static struct buf crl_exts(struct buf list)
{
	return T(0xa0, T(0x30, list));
}

/* The root CRL with revoked entries `list` inserted before crlExtensions. */
static const char *crl_entries(struct buf list)
{
	struct buf x = insert_at(&P->root_crl, L_EXTS, list, P->root_key);
	const char *r = parse_crl(&x);

	buf_free(&x);
	return r;
}

static const char *crl_with(size_t k, struct buf rep)
{
	struct buf x = remake(&P->root_crl, k, rep, P->root_key);
	const char *r = parse_crl(&x);

	buf_free(&x);
	return r;
}

static void crls_must_be_v2_with_next_update_number_and_aki(void **state)
{
	(void)state;
	assert_string_equal(crl_with(L_VERSION, B("020100")), "t.der.version");
	assert_string_equal(crl_with(L_VERSION, EMPTY()), "t.der.tag");
	assert_string_equal(crl_with(L_NEXT, EMPTY()), "t.der.time");
	assert_string_equal(
	    crl_with(L_EXTS, crl_exts(EXT(OID_AKI, false, T(0x30, T(0x80, ski_of(P->root)))))),
	    "t.der.crl_extension");
	assert_string_equal(crl_with(L_EXTS, crl_exts(EXT("0603551d14", false, B("020101")))),
			    "t.der.crl_extension");
	assert_string_equal(
	    crl_with(L_EXTS, crl_exts(CAT(EXT("0603551d14", true, B("020101")),
					  EXT(OID_AKI, false, T(0x30, T(0x80, ski_of(P->root))))))),
	    "t.der.crl_extension");
	/* An issuing distribution point makes it a partial CRL. */
	assert_string_equal(
	    crl_with(L_EXTS, crl_exts(CAT(CAT(EXT("0603551d14", false, B("020101")),
					      EXT(OID_AKI, false, T(0x30, T(0x80, ski_of(P->root))))),
					  EXT("0603551d1c", true, B("3003810101ff"))))),
	    "t.der.crl_extension");
	assert_string_equal(
	    crl_with(L_EXTS, crl_exts(CAT(EXT("0603551d14", false, B("020101")),
					  EXT(OID_AKI, false, T(0x30, T(0x80, ski_of(P->root))))))),
	    "ok");
}

static struct buf ENTRY(const char *serial_tlv, struct buf exts) {
	return T(0x30, CAT(CAT(B(serial_tlv), T(0x17, S("250601000000Z"))), exts));
}

static void
crl_entries_have_positive_serials_and_known_extensions(void **state)
{
	(void)state;
	assert_string_equal(crl_entries(T(0x30, ENTRY("0201ff", EMPTY()))), "t.der.entry");
	assert_string_equal(
	    crl_entries(T(0x30, ENTRY("020105", T(0x30, EXT("0603551d1d", true, B("3000")))))),
	    "t.der.entry");
	assert_string_equal(
	    crl_entries(T(0x30, ENTRY("020105", T(0x30, EXT("0603551d15", false, B("0a0107")))))),
	    "t.der.entry");
	assert_string_equal(
	    crl_entries(T(0x30, ENTRY("020105", T(0x30, EXT("0603551d15", false, B("0a0101")))))), "ok");
}

/* Tests: chains ------------------------------------------------------------------------------------ */

struct views {
	struct x509_der_cert *leaf, *ca;
	struct x509_der_crl *ca_crl, *root_crl;
};

static void views_load(struct views *v, const struct buf *leaf, const struct buf *ca,
		       const struct buf *ca_crl, const struct buf *root_crl)
{
	memset(v, 0, sizeof(*v));
	assert_int_equal(x509_der_cert_parse(leaf->p, leaf->len, &v->leaf, "t", NULL), ATTEST_OK);
	assert_int_equal(x509_der_cert_parse(ca->p, ca->len, &v->ca, "t", NULL), ATTEST_OK);
	if (ca_crl)
		assert_int_equal(x509_der_crl_parse(ca_crl->p, ca_crl->len, &v->ca_crl, "t", NULL),
				 ATTEST_OK);
	if (root_crl)
		assert_int_equal(x509_der_crl_parse(root_crl->p, root_crl->len, &v->root_crl, "t", NULL),
				 ATTEST_OK);
}

static void views_free(struct views *v)
{
	x509_der_cert_free(v->leaf), x509_der_cert_free(v->ca);
	x509_der_crl_free(v->ca_crl), x509_der_crl_free(v->root_crl);
}

/* The DER verifier's verdict on leaf ← ca ← root at t with the two CRLs. */
static const char *der_verdict(const struct buf *leaf, const struct buf *ca, const struct buf *ca_crl,
			       const struct buf *root_crl, int64_t t)
{
	static char name[ATTEST_ERR_NAME_MAX];
	const struct x509_der_cert *anchors[1] = {P->root_view};
	struct attest_err err;
	struct views v;
	struct x509_der_crl *crls[2];
	struct x509_der_verify_opts o = {.time = t, .anchors = anchors, .n_anchors = 1, .require_crls = true};
	const struct x509_der_cert *path[2];
	int rc;

	views_load(&v, leaf, ca, ca_crl, root_crl);
	crls[0] = v.ca_crl, crls[1] = v.root_crl;
	o.crls = crls, o.n_crls = 2;
	path[0] = v.leaf, path[1] = v.ca;
	attest_err_clear(&err);
	rc = x509_der_chain_verify(path, 2, &o, NULL, "t", &err);
	snprintf(name, sizeof(name), "%s", rc == ATTEST_OK ? "ok" : err.name);
	views_free(&v);
	return name;
}

/* OpenSSL's verdict (x509_chain_verify) on the same. */
static const char *ossl_verdict(const struct buf *leaf, const struct buf *ca, const struct buf *ca_crl,
				const struct buf *root_crl, int64_t t)
{
	static char name[ATTEST_ERR_NAME_MAX];
	STACK_OF(X509) *untrusted = sk_X509_new_null(), *anchors = sk_X509_new_null();
	STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
	struct x509_verify_opts o = {.time = t, .require_crls = true};
	struct attest_err err;
	X509 *l = NULL, *c = NULL;
	X509_CRL *c1 = NULL, *c2 = NULL;
	int rc;

	attest_err_clear(&err);
	rc = x509_from_der(leaf->p, leaf->len, &l, "t", &err);
	if (rc == ATTEST_OK)
		rc = x509_from_der(ca->p, ca->len, &c, "t", &err);
	if (rc == ATTEST_OK && ca_crl)
		rc = x509_crl_load(ca_crl->p, ca_crl->len, &c1, "t", &err);
	if (rc == ATTEST_OK && root_crl)
		rc = x509_crl_load(root_crl->p, root_crl->len, &c2, "t", &err);
	if (rc == ATTEST_OK) {
		sk_X509_push(untrusted, c);
		sk_X509_push(anchors, P->root);
		if (c1)
			sk_X509_CRL_push(crls, c1);
		if (c2)
			sk_X509_CRL_push(crls, c2);
		o.anchors = anchors;
		o.crls = crls;
		rc = x509_chain_verify(l, untrusted, &o, NULL, "t", &err);
	}
	snprintf(name, sizeof(name), "%s", rc == ATTEST_OK ? "ok" : err.name);
	sk_X509_free(untrusted), sk_X509_free(anchors), sk_X509_CRL_free(crls);
	X509_free(l), X509_free(c), X509_CRL_free(c1), X509_CRL_free(c2);
	return name;
}

/* Both verifiers give `want`. */
static void expect_both(const struct buf *leaf, const struct buf *ca, const struct buf *ca_crl,
			const struct buf *root_crl, int64_t t, const char *want)
{
	char d[ATTEST_ERR_NAME_MAX];

	snprintf(d, sizeof(d), "%s", der_verdict(leaf, ca, ca_crl, root_crl, t));
	assert_string_equal(d, want);
	assert_string_equal(ossl_verdict(leaf, ca, ca_crl, root_crl, t), want);
}

/* The profile asks more than OpenSSL: the DER verifier refuses with want, OpenSSL accepts. */
static void expect_der_stricter(const struct buf *leaf, const struct buf *ca, const char *want)
{
	char d[ATTEST_ERR_NAME_MAX];

	snprintf(d, sizeof(d), "%s", der_verdict(leaf, ca, &P->ca_crl, &P->root_crl, T0));
	assert_string_equal(d, want);
	assert_string_equal(ossl_verdict(leaf, ca, &P->ca_crl, &P->root_crl, T0), "ok");
}

static void a_valid_chain_verifies_and_its_windows_are_half_open(void **state)
{
	int64_t nb = T0 - 30 * DAY, na = T0 + 365 * DAY;

	(void)state;
	expect_both(&P->leaf_der, &P->ca_der, &P->ca_crl, &P->root_crl, T0, "ok");
	expect_both(&P->leaf_der, &P->ca_der, &P->ca_crl, &P->root_crl, nb - 1, "t.crl_expired");
	/* notBefore <= t < notAfter, thisUpdate <= t < nextUpdate, as OpenSSL judges them. */
	expect_both(&P->leaf_der, &P->ca_der, &P->ca_crl, &P->root_crl, T0 - DAY, "ok");
	expect_both(&P->leaf_der, &P->ca_der, &P->ca_crl, &P->root_crl, T0 - DAY - 1, "t.crl_expired");
	expect_both(&P->leaf_der, &P->ca_der, &P->ca_crl, &P->root_crl, T0 + 29 * DAY - 1, "ok");
	expect_both(&P->leaf_der, &P->ca_der, &P->ca_crl, &P->root_crl, T0 + 29 * DAY, "t.crl_expired");
	expect_both(&P->leaf_der, &P->ca_der, NULL, NULL, T0, "t.crl_missing");
	(void)na;
}

static void validity_of_each_certificate_is_checked(void **state)
{
	struct buf crl1, crl2, early, late;

	(void)state;
	/* CRLs valid across the leaf's window edges. */
	crl1 = crl_by(P->ca, P->ca_key, T0 - 3000 * DAY, T0 + 3000 * DAY, 0);
	crl2 = crl_by(P->root, P->root_key, T0 - 3000 * DAY, T0 + 3000 * DAY, 0);
	expect_both(&P->leaf_der, &P->ca_der, &crl1, &crl2, T0 - 30 * DAY, "ok");
	expect_both(&P->leaf_der, &P->ca_der, &crl1, &crl2, T0 - 30 * DAY - 1, "t.not_yet_valid");
	expect_both(&P->leaf_der, &P->ca_der, &crl1, &crl2, T0 + 365 * DAY - 1, "ok");
	expect_both(&P->leaf_der, &P->ca_der, &crl1, &crl2, T0 + 365 * DAY, "t.expired");
	/* The CA expired / not yet valid while the leaf is fine. */
	early = remake(&P->ca_der, E_VALIDITY, VALIDITY(0x17, "200101000000Z", 0x17, "250101000000Z"),
		       P->root_key);
	late = remake(&P->ca_der, E_VALIDITY, VALIDITY(0x17, "300101000000Z", 0x17, "400101000000Z"),
		      P->root_key);
	expect_both(&P->leaf_der, &early, &crl1, &crl2, T0, "t.expired");
	expect_both(&P->leaf_der, &late, &crl1, &crl2, T0, "t.not_yet_valid");
	buf_free(&crl1), buf_free(&crl2), buf_free(&early), buf_free(&late);
}

static void issuer_names_key_identifiers_and_signatures_link_the_chain(void **state)
{
	struct buf x;

	(void)state;
	/* Issuer name not the CA's subject. */
	x = remake(&P->leaf_der, E_ISSUER, NAME1("Intel SGX PCK Platform CA"), P->ca_key);
	expect_both(&x, &P->ca_der, &P->ca_crl, &P->root_crl, T0, "t.untrusted_root");
	buf_free(&x);
	/* AKI not the CA's SKI. */
	x = remake(&P->leaf_der, E_EXTS,
		   leaf_exts("aki", EXT(OID_AKI, false, T(0x30, T(0x80, B("0102030405"))))), P->ca_key);
	expect_both(&x, &P->ca_der, &P->ca_crl, &P->root_crl, T0, "t.untrusted_root");
	buf_free(&x);
	/* Signed by another key. */
	x = remake(&P->leaf_der, E_SERIAL, B("020165"), P->other_key);
	expect_both(&x, &P->ca_der, &P->ca_crl, &P->root_crl, T0, "t.signature");
	buf_free(&x);
	x = remake(&P->ca_der, E_SERIAL, B("020103"), P->other_key);
	expect_both(&P->leaf_der, &x, &P->ca_crl, &P->root_crl, T0, "t.signature");
	buf_free(&x);
	/* The CA names an issuer that is no anchor. */
	x = remake(&P->ca_der, E_ISSUER, NAME1("Intel SGX Root CA 2"), P->root_key);
	expect_both(&P->leaf_der, &x, &P->ca_crl, &P->root_crl, T0, "t.untrusted_root");
	buf_free(&x);
}

static void issuers_must_be_cas_allowed_to_sign_within_their_path_length(void **state)
{
	struct buf ca, root, rootcrl;

	(void)state;
	/* CA without basicConstraints cA. */
	ca = remake(&P->ca_der, E_EXTS, ca_exts(B("3000"), B("03020106"), EMPTY()), P->root_key);
	expect_both(&P->leaf_der, &ca, &P->ca_crl, &P->root_crl, T0, "t.invalid");
	buf_free(&ca);
	/* CA whose keyUsage lacks keyCertSign. */
	ca = remake(&P->ca_der, E_EXTS, ca_exts(B("30030101ff"), B("03020102"), EMPTY()), P->root_key);
	expect_both(&P->leaf_der, &ca, &P->ca_crl, &P->root_crl, T0, "t.invalid");
	buf_free(&ca);
	/* CA without keyUsage at all (OpenSSL tolerates it). */
	ca = remake(&P->ca_der, E_EXTS, ca_exts(B("30030101ff"), EMPTY(), EMPTY()), P->root_key);
	expect_der_stricter(&P->leaf_der, &ca, "t.invalid");
	buf_free(&ca);
	/* CA without cRLSign signs the PCK CRL. */
	ca = remake(&P->ca_der, E_EXTS, ca_exts(B("30030101ff"), B("03020204"), EMPTY()), P->root_key);
	expect_both(&P->leaf_der, &ca, &P->ca_crl, &P->root_crl, T0, "t.invalid");
	buf_free(&ca);
	/* An unknown critical extension on the leaf. */
	ca = remake(&P->leaf_der, E_EXTS, leaf_exts("", EXT("06032a0304", true, B("0500"))), P->ca_key);
	expect_both(&ca, &P->ca_der, &P->ca_crl, &P->root_crl, T0, "t.invalid");
	buf_free(&ca);
	/* A root with pathLenConstraint 0 above a CA: the anchor's constraint applies too. */
	root = remake(&P->root_der, E_EXTS,
		      T(0xa3, T(0x30, CAT(CAT(EXT(OID_SKI, false, T(0x04, ski_of(P->root))),
					      EXT(OID_BC, true, B("30060101ff020100"))),
					  EXT(OID_KU, true, B("03020106"))))),
		      P->root_key);
	{
		X509 *saved = P->root, *r = NULL;
		struct x509_der_cert *saved_view = P->root_view;

		assert_int_equal(x509_from_der(root.p, root.len, &r, "t", NULL), ATTEST_OK);
		assert_int_equal(x509_der_cert_parse(root.p, root.len, &P->root_view, "t", NULL), ATTEST_OK);
		P->root = r;
		rootcrl = crl_by(r, P->root_key, T0 - DAY, T0 + 29 * DAY, 0);
		expect_both(&P->leaf_der, &P->ca_der, &P->ca_crl, &rootcrl, T0, "t.invalid");

		x509_der_cert_free(P->root_view);
		X509_free(r);
		buf_free(&rootcrl);
		P->root = saved;
		P->root_view = saved_view;
	}
	buf_free(&root);
}

static void revocation_is_checked_against_each_issuers_crl(void **state)
{
	struct buf pck_rev, ca_rev, other, twin_crl, future;
	X509 *twin;

	(void)state;
	pck_rev = crl_by(P->ca, P->ca_key, T0 - DAY, T0 + 29 * DAY, 100);
	ca_rev = crl_by(P->root, P->root_key, T0 - DAY, T0 + 29 * DAY, 2);
	expect_both(&P->leaf_der, &P->ca_der, &pck_rev, &P->root_crl, T0, "t.revoked");
	expect_both(&P->leaf_der, &P->ca_der, &P->ca_crl, &ca_rev, T0, "t.revoked");
	/* Another serial listed: not revoked. */
	other = crl_by(P->ca, P->ca_key, T0 - DAY, T0 + 29 * DAY, 101);
	expect_both(&P->leaf_der, &P->ca_der, &other, &P->root_crl, T0, "ok");
	/* Signed by another key under the CA's name and key identifier. */
	buf_free(&other);
	other = crl_by(P->ca, P->other_key, T0 - DAY, T0 + 29 * DAY, 0);
	expect_both(&P->leaf_der, &P->ca_der, &other, &P->root_crl, T0, "t.crl_signature");
	/* A CRL whose AKI names another key: not the CA's CRL (issue #4). */
	twin = intel_devplat_issue("Intel SGX PCK Processor CA", P->other_key, P->root, P->root_key, 7,
				   T0 - DAY, T0 + DAY, true, NULL);
	twin_crl = crl_by(twin, P->other_key, T0 - DAY, T0 + 29 * DAY, 0);
	expect_both(&P->leaf_der, &P->ca_der, &twin_crl, &P->root_crl, T0, "t.crl_missing");
	/* Not yet valid. */
	future = crl_by(P->ca, P->ca_key, T0 + DAY, T0 + 29 * DAY, 0);
	expect_both(&P->leaf_der, &P->ca_der, &future, &P->root_crl, T0, "t.crl_expired");
	/* Only one of the two CRLs. */
	expect_both(&P->leaf_der, &P->ca_der, &P->ca_crl, NULL, T0, "t.crl_missing");
	X509_free(twin);
	buf_free(&pck_rev), buf_free(&ca_rev), buf_free(&other), buf_free(&twin_crl), buf_free(&future);
}

static void unknown_critical_crl_and_entry_extensions_refuse(void **state)
{
	struct buf crl, ent;

	(void)state;
	crl = remake(&P->ca_crl, L_EXTS,
		     crl_exts(CAT(CAT(EXT("0603551d14", false, B("020101")),
				      EXT(OID_AKI, false, T(0x30, T(0x80, ski_of(P->ca))))),
				  EXT("06032a0304", true, B("0500")))),
		     P->ca_key);
	expect_both(&P->leaf_der, &P->ca_der, &crl, &P->root_crl, T0, "t.invalid");
	ent = insert_at(&P->ca_crl, L_EXTS,
			T(0x30, ENTRY("020105", T(0x30, EXT("06032a0304", true, B("0500"))))), P->ca_key);
	expect_both(&P->leaf_der, &P->ca_der, &ent, &P->root_crl, T0, "t.invalid");
	buf_free(&crl), buf_free(&ent);
}

/* Runs the chain leaf <- ca <- root with the given parsed CRLs at t; the error name or "ok". */
static const char *verify_with(struct x509_der_crl *ca_crl, struct x509_der_crl *root_crl,
			       const struct buf *ca, int64_t t)
{
	static char name[ATTEST_ERR_NAME_MAX];
	const struct x509_der_cert *anchors[1] = {P->root_view};
	struct x509_der_crl *crls[2] = {ca_crl, root_crl};
	struct x509_der_verify_opts o = {
	    .time = t, .anchors = anchors, .n_anchors = 1, .crls = crls, .n_crls = 2, .require_crls = true};
	struct x509_der_cert *leaf = NULL, *cav = NULL;
	const struct x509_der_cert *path[2];
	struct attest_err err;
	int rc;

	assert_int_equal(x509_der_cert_parse(P->leaf_der.p, P->leaf_der.len, &leaf, "t", NULL), ATTEST_OK);
	assert_int_equal(x509_der_cert_parse(ca->p, ca->len, &cav, "t", NULL), ATTEST_OK);
	path[0] = leaf, path[1] = cav;
	attest_err_clear(&err);
	rc = x509_der_chain_verify(path, 2, &o, NULL, "t", &err);
	snprintf(name, sizeof(name), "%s", rc == ATTEST_OK ? "ok" : err.name);
	x509_der_cert_free(leaf), x509_der_cert_free(cav);
	return name;
}

static void a_crl_verified_once_remembers_its_signature_per_key(void **state)
{
	struct x509_der_crl *pck = NULL, *root = NULL;
	unsigned char *spki = NULL;
	int n = i2d_PUBKEY(P->other_key, &spki);
	/* A CA of the same name and key identifier whose key is another (signed by the root). */
	struct buf other_ca = remake(&P->ca_der, E_SPKI, RAW(spki, (size_t)n), P->root_key);

	(void)state;
	OPENSSL_free(spki);
	assert_int_equal(x509_der_crl_parse(P->ca_crl.p, P->ca_crl.len, &pck, "t", NULL), ATTEST_OK);
	assert_int_equal(x509_der_crl_parse(P->root_crl.p, P->root_crl.len, &root, "t", NULL), ATTEST_OK);
	assert_false(pck->sig_ok);
	assert_false(root->sig_ok);
	assert_string_equal(verify_with(pck, root, &P->ca_der, T0), "ok");
	assert_true(pck->sig_ok);
	assert_true(root->sig_ok);
	/* The PCK CRL remembered the CA's key: under another CA key it is checked again, and fails. */
	assert_string_equal(verify_with(pck, root, &other_ca, T0), "t.crl_signature");
	/* Remembered or not, its window is judged on every use. */
	assert_string_equal(verify_with(pck, root, &P->ca_der, T0 + 40 * DAY), "t.crl_expired");
	x509_der_crl_free(pck), x509_der_crl_free(root);
	buf_free(&other_ca);
}

/* Issuer chains and CRLs on their own (the collateral import, pck.h) ------------------------------ */

/* The PEM of up to three certificates (NULL: none), parsed with the anchors into *out. */
static int chain_from(const struct buf *a, const struct buf *b, const struct buf *c,
		      const struct intel_der_anchors *anchors, struct intel_der_chain *out)
{
	const struct buf *certs[3] = {a, b, c};
	struct buf pem;
	int rc;

	buf_init(&pem, 1 << 16);
	for (size_t i = 0; i < 3 && certs[i] != NULL; i++) {
		char *b64 = b64std_encode(certs[i]->p, certs[i]->len);

		assert_non_null(b64);
		assert_int_equal(buf_append(&pem, "-----BEGIN CERTIFICATE-----\n", 28), ATTEST_OK);
		assert_int_equal(buf_append(&pem, b64, strlen(b64)), ATTEST_OK);
		assert_int_equal(buf_append(&pem, "\n-----END CERTIFICATE-----\n", 27), ATTEST_OK);
		free(b64);
	}
	rc = intel_pem_chain_der(pem.p, pem.len, anchors, out, "t.chain", NULL);
	buf_free(&pem);
	return rc;
}

/* intel_der_signer_verify of the chain a, b, c at t (usage, Root CA CRL or NULL): the error name or "ok". */
static const char *signer_verdict(const struct buf *a, const struct buf *b, const struct buf *c, int64_t t,
				  unsigned usage, const struct buf *root_crl)
{
	static char name[ATTEST_ERR_NAME_MAX];
	STACK_OF(X509) *roots = sk_X509_new_null();
	struct intel_der_anchors *anchors = NULL;
	struct intel_der_chain ch = {0};
	struct x509_der_crl *crl = NULL;
	const struct x509_der_cert *anchor = NULL;
	struct attest_err err;
	int rc;

	assert_true(sk_X509_push(roots, P->root) > 0);
	assert_int_equal(intel_der_anchors_new(roots, &anchors, NULL), ATTEST_OK);
	assert_int_equal(chain_from(a, b, c, anchors, &ch), ATTEST_OK);
	if (root_crl != NULL)
		assert_int_equal(x509_der_crl_parse(root_crl->p, root_crl->len, &crl, "t", NULL), ATTEST_OK);
	attest_err_clear(&err);
	rc = intel_der_signer_verify(&ch, anchors, crl, crl == NULL, t, usage, &anchor, "t.chain", &err);
	/* The path ended at the anchor, also when the root carried is a copy of it. */
	if (rc == ATTEST_OK)
		assert_ptr_equal(anchor, anchors->certs[0]);
	snprintf(name, sizeof(name), "%s", rc == ATTEST_OK ? "ok" : err.name);
	x509_der_crl_free(crl);
	intel_der_chain_free(&ch);
	intel_der_anchors_free(anchors);
	sk_X509_free(roots); /* borrowed */
	return name;
}

static void an_issuer_chain_is_the_signer_and_at_most_the_root(void **state)
{
	struct buf revoked = crl_by(P->root, P->root_key, T0 - DAY, T0 + 29 * DAY, 2), foreign;
	const unsigned crl_sign = X509_DER_KU_CRL_SIGN, dsig = X509_DER_KU_DIGITAL_SIGNATURE;
	X509 *x = intel_devplat_issue("Intel SGX Root CA", P->other_key, NULL, P->other_key, 1, T0 - DAY,
				      T0 + DAY, true, NULL);

	(void)state;
	foreign = der_of_x509(x);
	assert_string_equal(signer_verdict(&P->ca_der, &P->root_der, NULL, T0, crl_sign, NULL), "ok");
	assert_string_equal(signer_verdict(&P->ca_der, NULL, NULL, T0, crl_sign, NULL), "ok");
	assert_string_equal(signer_verdict(&P->ca_der, &P->root_der, NULL, T0, crl_sign, &P->root_crl), "ok");
	/* The signer must hold the key usage of what it signs. */
	assert_string_equal(signer_verdict(&P->ca_der, &P->root_der, NULL, T0, dsig, NULL),
			    "t.chain.key_usage");
	/* Signer and root, nothing more; a carried root must be a trusted one. */
	assert_string_equal(signer_verdict(&P->ca_der, &P->root_der, &P->root_der, T0, crl_sign, NULL),
			    "t.chain.parse");
	assert_string_equal(signer_verdict(&P->ca_der, &foreign, NULL, T0, crl_sign, NULL), "t.chain.root");
	/* Issued by the root, at the time, not revoked by the Root CA CRL, which must be current. */
	assert_string_equal(signer_verdict(&P->leaf_der, NULL, NULL, T0, dsig, NULL),
			    "t.chain.untrusted_root");
	assert_string_equal(signer_verdict(&P->ca_der, NULL, NULL, T0 + 3650 * DAY, crl_sign, NULL),
			    "t.chain.expired");
	assert_string_equal(signer_verdict(&P->ca_der, NULL, NULL, T0, crl_sign, &revoked),
			    "t.chain.revoked");
	assert_string_equal(signer_verdict(&P->ca_der, NULL, NULL, T0 + 29 * DAY, crl_sign, &P->root_crl),
			    "t.chain.crl_expired");
	/* No anchor in Intel's profile. */
	{
		struct intel_der_anchors none = {0};
		struct intel_der_chain ch = {0};
		struct attest_err err;

		attest_err_clear(&err);
		assert_int_equal(chain_from(&P->ca_der, NULL, NULL, NULL, &ch), ATTEST_OK);
		assert_int_equal(
		    intel_der_signer_verify(&ch, &none, NULL, true, T0, crl_sign, NULL, "t.chain", &err),
		    ATTEST_E_VERIFY);
		assert_string_equal(err.name, "t.chain.root");
		/* Revocation checking on and no Root CA CRL. */
		attest_err_clear(&err);
		assert_int_equal(
		    intel_der_signer_verify(&ch, &none, NULL, false, T0, crl_sign, NULL, "t.chain", &err),
		    ATTEST_E_COLLATERAL);
		assert_string_equal(err.name, "t.chain.crl_missing");
		intel_der_chain_free(&ch);
	}
	X509_free(x);
	buf_free(&revoked), buf_free(&foreign);
}

/* intel_der_crl_verify of crl by issuer at t: the error name or "ok". */
static const char *crl_alone(const struct buf *crl, const struct buf *issuer, int64_t t)
{
	static char name[ATTEST_ERR_NAME_MAX];
	struct x509_der_crl *c = NULL;
	struct x509_der_cert *x = NULL;
	struct attest_err err;
	int rc;

	assert_int_equal(x509_der_crl_parse(crl->p, crl->len, &c, "t", NULL), ATTEST_OK);
	assert_int_equal(x509_der_cert_parse(issuer->p, issuer->len, &x, "t", NULL), ATTEST_OK);
	attest_err_clear(&err);
	rc = intel_der_crl_verify(c, x, t, "t", &err);
	snprintf(name, sizeof(name), "%s", rc == ATTEST_OK ? "ok" : err.name);
	x509_der_crl_free(c), x509_der_cert_free(x);
	return name;
}

/* OpenSSL's x509_crl_verify on the same (name, signature, window; it knows no AKI or key usage). */
static const char *crl_alone_ossl(const struct buf *crl, X509 *issuer, int64_t t)
{
	static char name[ATTEST_ERR_NAME_MAX];
	X509_CRL *c = NULL;
	struct attest_err err;
	int rc;

	attest_err_clear(&err);
	assert_int_equal(x509_crl_load(crl->p, crl->len, &c, "t", NULL), ATTEST_OK);
	rc = x509_crl_verify(c, issuer, t, "t", &err);
	snprintf(name, sizeof(name), "%s", rc == ATTEST_OK ? "ok" : err.name);
	X509_CRL_free(c);
	return name;
}

/* Both give want. */
static void expect_crl_alone(const struct buf *crl, const struct buf *issuer_der, X509 *issuer, int64_t t,
			     const char *want)
{
	assert_string_equal(crl_alone(crl, issuer_der, t), want);
	assert_string_equal(crl_alone_ossl(crl, issuer, t), want);
}

static void a_crl_on_its_own_is_judged_as_the_chain_walk_judges_it(void **state)
{
	struct buf by_other = crl_by(P->ca, P->other_key, T0 - DAY, T0 + 29 * DAY, 0), twin_crl, by_leaf,
		   crit;
	X509 *twin = intel_devplat_issue("Intel SGX PCK Processor CA", P->other_key, P->root, P->root_key, 7,
					 T0 - DAY, T0 + DAY, true, NULL);

	(void)state;
	/* Issued by its issuer, current from thisUpdate to one second before nextUpdate. */
	expect_crl_alone(&P->ca_crl, &P->ca_der, P->ca, T0, "ok");
	expect_crl_alone(&P->ca_crl, &P->ca_der, P->ca, T0 - DAY, "ok");
	expect_crl_alone(&P->ca_crl, &P->ca_der, P->ca, T0 - DAY - 1, "t.crl_expired");
	expect_crl_alone(&P->ca_crl, &P->ca_der, P->ca, T0 + 29 * DAY - 1, "ok");
	expect_crl_alone(&P->ca_crl, &P->ca_der, P->ca, T0 + 29 * DAY, "t.crl_expired");
	expect_crl_alone(&P->root_crl, &P->root_der, P->root, T0, "ok");
	/* Another issuer's name; the issuer's name but another key's signature. */
	expect_crl_alone(&P->ca_crl, &P->root_der, P->root, T0, "t.crl_issuer");
	expect_crl_alone(&by_other, &P->ca_der, P->ca, T0, "t.crl_signature");
	/* The DER reader also asks the AKI to be the issuer's SKI (OpenSSL's chain walk does; its
	 * standalone check does not), the issuer to hold cRLSign, no unknown critical extension. */
	twin_crl = crl_by(twin, P->other_key, T0 - DAY, T0 + 29 * DAY, 0);
	assert_string_equal(crl_alone(&twin_crl, &P->ca_der, T0), "t.crl_issuer");
	by_leaf = crl_by(P->leaf, P->leaf_key, T0 - DAY, T0 + 29 * DAY, 0);
	assert_string_equal(crl_alone(&by_leaf, &P->leaf_der, T0), "t.invalid");
	crit = remake(&P->ca_crl, L_EXTS,
		      crl_exts(CAT(CAT(EXT("0603551d14", false, B("020101")),
				       EXT(OID_AKI, false, T(0x30, T(0x80, ski_of(P->ca))))),
				   EXT("06032a0304", true, B("0500")))),
		      P->ca_key);
	assert_string_equal(crl_alone(&crit, &P->ca_der, T0), "t.invalid");
	X509_free(twin);
	buf_free(&by_other), buf_free(&twin_crl), buf_free(&by_leaf), buf_free(&crit);
}

/* Differential on the real vectors --------------------------------------------------------------- */

struct real_vec {
	const char *dir;
	int64_t now;
	bool crls;
};

static const struct real_vec REAL[] = {
    {"sgx/phala-sgx-v3-00a067110000-2023-11", 1700611200, true},
    {"sgx/phala-sgx-v3-00a067110000-2025-06", 1750377600, true},
    {"tdx/automata-zkdcap-tdx-v4-00806f050000-2025-06", 1749095100, true},
    {"tdx/edgeless-tdx-v4-00806f050000-2023-02-nocrl", 1676678400, false},
    {"tdx/google-tdx-v4-spr-e4-50806f000000-2023-07", 1688173200, true},
    {"tdx/google-tdx-v5-90c06f000000-2026-02", 1771459200, true},
    {"tdx/phala-tappd-tdx-v4-b0c06f000000-2025-06", 1750377600, true},
    {"tdx/phala-tdx-v4-b0c06f000000-2025-06", 1750377600, true},
    {"tdx/phala-tdx-v5-90c06f000000-outdated-2026-02", 1771459200, true},
    {"oe/openenclave-plugin-evidence-00906ed50000-2022-04-26", 1651017600, true},
    /* Published without collateral: checked without CRLs a day after the PCK was issued. */
    {"oe/azure-samples-oe-sdk-release-00906ed50000-2021-02", 0, false},
    {"oe/azure-samples-intel-sdk-release-00906ed50000-2023-02", 0, false},
    /* Carries the other certificate of the root key (valid to 2033), not the anchor. */
    {"oe/azure-sdk-js-oe-report-00906ed50000-2022-01", 0, false},
};

/* The PEM chain inside a quote (from the first BEGIN to the last END). */
static bool quote_chain(const uint8_t *q, size_t n, const uint8_t **pem, size_t *len)
{
	const char *b = "-----BEGIN CERTIFICATE-----", *e = "-----END CERTIFICATE-----";
	const uint8_t *s = memmem(q, n, b, strlen(b)), *last = NULL, *t;

	if (s == NULL)
		return false;
	for (t = s; (t = memmem(t, n - (size_t)(t - q), e, strlen(e))) != NULL; t += strlen(e))
		last = t;
	if (last == NULL)
		return false;
	*pem = s;
	*len = (size_t)(last - s) + strlen(e);
	return true;
}

/* Everything of one PCK chain verification: PEM, CRLs, roots, time. */
struct case_in {
	const uint8_t *pem;
	size_t pem_len;
	const uint8_t *pck_crl, *root_crl;
	size_t pck_crl_len, root_crl_len;
	STACK_OF(X509) * roots;
	int64_t t;
	bool no_revocation;
};

static int64_t leaf_not_before(const struct case_in *c)
{
	struct intel_der_chain ch = {0};
	int64_t t;

	assert_int_equal(intel_pem_chain_der(c->pem, c->pem_len, NULL, &ch, "t", NULL), ATTEST_OK);
	t = ch.cert[0]->not_before;
	intel_der_chain_free(&ch);
	return t;
}

/* The DER verifier's verdict (pck_der_chain_verify): the quote verifiers' and the collateral import's. */
static int pck_der_verdict(const struct case_in *c, char *name, size_t cap)
{
	struct intel_der_anchors *a = NULL;
	struct intel_der_chain ch = {0};
	struct x509_der_crl *c1 = NULL, *c2 = NULL;
	struct attest_err err;
	struct pck_ext ext;
	int rc;

	attest_err_clear(&err);
	assert_int_equal(intel_der_anchors_new(c->roots, &a, NULL), ATTEST_OK);
	rc = intel_pem_chain_der(c->pem, c->pem_len, a, &ch, "t.pck.chain", &err);
	if (rc == ATTEST_OK && !c->no_revocation) {
		rc = x509_der_crl_parse(c->pck_crl, c->pck_crl_len, &c1, "t", &err);
		if (rc == ATTEST_OK)
			rc = x509_der_crl_parse(c->root_crl, c->root_crl_len, &c2, "t", &err);
	}
	if (rc == ATTEST_OK)
		rc = pck_der_chain_verify(&ch, a, c1, c2, c->t, c->no_revocation, &ext, NULL, "t", &err);
	snprintf(name, cap, "%s", rc == ATTEST_OK ? "ok" : err.name);
	intel_der_chain_free(&ch);
	x509_der_crl_free(c1), x509_der_crl_free(c2);
	intel_der_anchors_free(a);
	return rc;
}

/*
 * OpenSSL's verdict, the reference the DER verifier is held to: the PEM
 * read into X509 objects, the path built and checked by X509_verify_cert
 * through x509_chain_verify (crypto.h) with every carried certificate on
 * the path or a valid certificate of an anchor's key (exact_chain), the
 * CRLs applied to every certificate below the anchor; then the leaf's
 * keyUsage and SGX extension as OpenSSL finds them.
 */
static int openssl_verdict(const struct case_in *c, char *name, size_t cap)
{
	struct x509_verify_opts o = {.time = c->t, .anchors = c->roots, .exact_chain = true};
	STACK_OF(X509) *chain = NULL;
	STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
	X509_CRL *c1 = NULL, *c2 = NULL;
	struct attest_err err;
	struct pck_ext ext;
	int rc;

	attest_err_clear(&err);
	assert_non_null(crls);
	rc = x509_stack_from_pem(c->pem, c->pem_len, &chain, "t.pck.chain", &err);
	/* A PCK chain is the PCK, its CA and at most the root. */
	if (rc == ATTEST_OK && (sk_X509_num(chain) < 2 || sk_X509_num(chain) > 3))
		rc = attest_err_set(&err, ATTEST_E_PARSE, "t.pck.chain.parse", "%d certificates",
				    sk_X509_num(chain));
	if (rc == ATTEST_OK && !c->no_revocation &&
	    (rc = x509_crl_load(c->pck_crl, c->pck_crl_len, &c1, "t", &err)) == ATTEST_OK &&
	    (rc = x509_crl_load(c->root_crl, c->root_crl_len, &c2, "t", &err)) == ATTEST_OK) {
		assert_true(sk_X509_CRL_push(crls, c1) > 0 && sk_X509_CRL_push(crls, c2) > 0);
		o.crls = crls;
		o.require_crls = true;
	}
	if (rc == ATTEST_OK)
		rc = x509_chain_verify(sk_X509_value(chain, 0), chain, &o, NULL, "t.pck.chain", &err);
	if (rc == ATTEST_OK && !(X509_get_key_usage(sk_X509_value(chain, 0)) & KU_DIGITAL_SIGNATURE))
		rc = attest_err_set(&err, ATTEST_E_VERIFY, "t.pck.key_usage", "no digitalSignature");
	if (rc == ATTEST_OK)
		rc = pck_ext_from_cert(sk_X509_value(chain, 0), &ext, "t", &err);
	snprintf(name, cap, "%s", rc == ATTEST_OK ? "ok" : err.name);
	sk_X509_pop_free(chain, X509_free);
	sk_X509_CRL_free(crls); /* borrowed */
	X509_CRL_free(c1), X509_CRL_free(c2);
	return rc;
}

static int mismatches;

/* Same verdict (accept / refuse) from the DER verifier and OpenSSL. */
static void same_verdict(const struct case_in *c, const char *label)
{
	char n1[ATTEST_ERR_NAME_MAX], n2[ATTEST_ERR_NAME_MAX];
	bool a1 = pck_der_verdict(c, n1, sizeof(n1)) == ATTEST_OK,
	     a2 = openssl_verdict(c, n2, sizeof(n2)) == ATTEST_OK;

	if (a1 != a2) {
		fprintf(stderr, "MISMATCH %s at %lld: DER %s, OpenSSL %s\n", label, (long long)c->t, n1, n2);
		mismatches++;
	}
}

/* Times: t, the edges of every certificate's and CRL's window (±1 s). */
static void edges(const struct case_in *c, int64_t *out, size_t *n)
{
	struct intel_der_chain ch = {0};
	struct x509_der_crl *crl = NULL;
	size_t k = 0;

	out[k++] = c->t;
	out[k++] = c->t + 40 * DAY;
	out[k++] = c->t - 3650 * DAY;
	if (intel_pem_chain_der(c->pem, c->pem_len, NULL, &ch, "t", NULL) == ATTEST_OK) {
		for (size_t i = 0; i < ch.n; i++) {
			int64_t e[2] = {ch.cert[i]->not_before, ch.cert[i]->not_after};

			for (int j = 0; j < 2; j++)
				out[k++] = e[j] - 1, out[k++] = e[j], out[k++] = e[j] + 1;
		}
		intel_der_chain_free(&ch);
	}
	for (int w = 0; w < 2 && !c->no_revocation; w++) {
		if (x509_der_crl_parse(w ? c->root_crl : c->pck_crl, w ? c->root_crl_len : c->pck_crl_len,
				       &crl, "t", NULL) == ATTEST_OK) {
			out[k++] = crl->this_update - 1, out[k++] = crl->this_update;
			out[k++] = crl->next_update - 1, out[k++] = crl->next_update;
			x509_der_crl_free(crl);
		}
	}
	*n = k;
}

/* Verdicts agree at every edge time, and with a bit flipped every `stride` bytes of each input. */
static void differential(struct case_in *c, const char *label, size_t stride)
{
	int64_t times[40];
	size_t nt = 0;
	struct case_in m = *c;
	uint8_t *copy;

	edges(c, times, &nt);
	for (size_t i = 0; i < nt; i++) {
		m.t = times[i];
		same_verdict(&m, label);
	}
	for (int which = 0; which < (c->no_revocation ? 1 : 3); which++) {
		const uint8_t *src = which == 0 ? c->pem : which == 1 ? c->pck_crl : c->root_crl;
		size_t len = which == 0 ? c->pem_len : which == 1 ? c->pck_crl_len : c->root_crl_len;

		copy = malloc(len);
		memcpy(copy, src, len);
		m = *c;
		if (which == 0)
			m.pem = copy;
		else if (which == 1)
			m.pck_crl = copy;
		else
			m.root_crl = copy;
		for (size_t off = which; off < len; off += stride) {
			uint8_t save = copy[off];

			/* PEM: change one base64 digit; DER: flip one bit. */
			copy[off] = which == 0 ? (uint8_t)(save == 'A'	  ? 'B'
							   : save == '\n' ? '\n'
									  : 'A')
					       : (uint8_t)(save ^ (1u << (off % 8)));
			same_verdict(&m, label);
			copy[off] = save;
		}
		free(copy);
	}
}

static void real_intel_chains_get_the_same_verdict_from_both_verifiers(void **state)
{
	STACK_OF(X509) *roots = NULL;
	REQUIRE_VECTORS(dir);

	(void)state;
	mismatches = 0;
	assert_int_equal(intel_sgx_default_roots(&roots, NULL), ATTEST_OK);
	for (size_t i = 0; i < sizeof(REAL) / sizeof(REAL[0]); i++) {
		char rel[256];
		size_t qn = 0, c1n = 0, c2n = 0;
		uint8_t *q, *c1 = NULL, *c2 = NULL;
		struct case_in c = {0};
		char n1[ATTEST_ERR_NAME_MAX];

		snprintf(rel, sizeof(rel), "%s/quote.bin", REAL[i].dir);
		q = test_read_vector(dir, rel, &qn);
		assert_non_null(q);
		assert_true(quote_chain(q, qn, &c.pem, &c.pem_len));
		if (REAL[i].crls) {
			snprintf(rel, sizeof(rel), "%s/pck_crl.der", REAL[i].dir);
			c1 = test_read_vector(dir, rel, &c1n);
			snprintf(rel, sizeof(rel), "%s/root_ca_crl.der", REAL[i].dir);
			c2 = test_read_vector(dir, rel, &c2n);
			assert_non_null(c1);
			assert_non_null(c2);
		}
		c.pck_crl = c1, c.pck_crl_len = c1n, c.root_crl = c2, c.root_crl_len = c2n;
		c.roots = roots;
		c.t = REAL[i].now ? REAL[i].now : leaf_not_before(&c) + DAY;
		c.no_revocation = !REAL[i].crls;
		/* At its own time each real chain verifies with the new verifier. */
		if (pck_der_verdict(&c, n1, sizeof(n1)) != ATTEST_OK)
			fail_msg("%s: %s", REAL[i].dir, n1);
		differential(&c, REAL[i].dir, getenv("ATTEST_SANITIZER_RUN") ? 97 : 29);
		free(q), free(c1), free(c2);
	}
	sk_X509_pop_free(roots, X509_free);
	assert_int_equal(mismatches, 0);
}

/* A CRL checked on its own (intel_der_crl_verify) by issuer at t, as the collateral import checks it. */
struct crl_alone_arg {
	const struct x509_der_cert *issuer;
	int64_t t;
};

static int crl_alone_accepts(void *arg, const uint8_t *p, size_t n)
{
	const struct crl_alone_arg *a = arg;
	struct x509_der_crl *c = NULL;
	int ok = x509_der_crl_parse(p, n, &c, "t", NULL) == ATTEST_OK &&
		 intel_der_crl_verify(c, a->issuer, a->t, "t", NULL) == ATTEST_OK;

	x509_der_crl_free(c);
	return ok;
}

/* The CRL of a vector and its issuer's chain (the issuer first; for the Root CA CRL the anchor). */
struct crl_case {
	const struct real_vec *vec;
	const char *file;
	enum sweep_mode mode;
};

/*
 * Every bit flip (one bit a byte for the 2.6 kB CRL of the Platform CA) and
 * every cut of the real PCK CRLs and the Root CA CRL, checked on their own
 * (sweep.h): refused.
 */
static void no_flipped_bit_or_cut_of_a_real_crl_verifies_on_its_own(void **state)
{
	static const struct crl_case cases[] = {{&REAL[1], "pck_crl.der", SWEEP_BITS},
						{&REAL[1], "root_ca_crl.der", SWEEP_BITS},
						{&REAL[7], "pck_crl.der", SWEEP_BYTES}};
	STACK_OF(X509) *roots = NULL;
	struct intel_der_anchors *anchors = NULL;
	REQUIRE_VECTORS(dir);

	(void)state;
	assert_int_equal(intel_sgx_default_roots(&roots, NULL), ATTEST_OK);
	assert_int_equal(intel_der_anchors_new(roots, &anchors, NULL), ATTEST_OK);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct crl_case *c = &cases[i];
		bool root = strcmp(c->file, "root_ca_crl.der") == 0;
		struct intel_der_chain ca = {0};
		struct crl_alone_arg a = {anchors->certs[0], c->vec->now};
		struct sweep_target t = {.vector = c->vec->dir,
					 .part = c->file,
					 .mode = c->mode,
					 .cuts = true,
					 .verify = crl_alone_accepts,
					 .arg = &a};
		char rel[256];
		size_t n = 0;
		uint8_t *pem;

		snprintf(rel, sizeof(rel), "%s/pck_crl_issuer_chain.pem", c->vec->dir);
		pem = test_read_vector(dir, rel, &n);
		assert_non_null(pem);
		assert_int_equal(intel_pem_chain_der(pem, n, anchors, &ca, "t", NULL), ATTEST_OK);
		if (!root)
			a.issuer = ca.cert[0];
		snprintf(rel, sizeof(rel), "%s/%s", c->vec->dir, c->file);
		t.buf = test_read_vector(dir, rel, &t.len);
		assert_non_null(t.buf);
		/* As published it verifies: what the sweep sees refused, the mutation refused. */
		assert_true(crl_alone_accepts(&a, t.buf, t.len));
		assert_int_equal(sweep_run(&t), 0);
		free(t.buf);
		intel_der_chain_free(&ca);
		free(pem);
	}
	{
		size_t nrows = 0;
		const struct sweep_row *rows = sweep_rows(&nrows);

		assert_int_equal(nrows, sizeof(cases) / sizeof(cases[0]));
		for (size_t i = 0; i < nrows; i++) {
			assert_true(rows[i].flips > 0);
			assert_int_equal(rows[i].refused, rows[i].flips + rows[i].cuts);
		}
	}
	intel_der_anchors_free(anchors);
	sk_X509_pop_free(roots, X509_free);
}

/* One seed of fuzz/crypto/corpus/fuzz_x509_der: prefix byte (0 certificate, 1 CRL) ‖ DER. */
static void write_seed(const char *name, uint8_t prefix, const uint8_t *der, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/fuzz/crypto/corpus", getenv("ATTEST_SOURCE_DIR"));
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/fuzz/crypto/corpus/fuzz_x509_der", getenv("ATTEST_SOURCE_DIR"));
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/fuzz/crypto/corpus/fuzz_x509_der/%s", getenv("ATTEST_SOURCE_DIR"),
		 name);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(&prefix, 1, 1, f), 1);
	assert_int_equal(fwrite(der, 1, len, f), len);
	fclose(f);
}

/*
 * With ATTEST_WRITE_FUZZ_CORPUS=1 (and ctest's ATTEST_SOURCE_DIR): the
 * synthetic platform's PCK chain, TCB Signing certificate and CRLs as seeds.
 */
static void write_seeds(int ca, const char *dir, const char *pem, size_t len, const struct buf *pck_crl,
			const struct buf *root_crl)
{
	static const char *const names[] = {"pck", "pck-ca", "root"};
	struct intel_der_chain ch = {0};
	char name[64];
	uint8_t *tcb;
	size_t tn = 0;

	if (getenv("ATTEST_WRITE_FUZZ_CORPUS") == NULL || getenv("ATTEST_SOURCE_DIR") == NULL)
		return;
	assert_int_equal(intel_pem_chain_der((const uint8_t *)pem, len, NULL, &ch, "t", NULL), ATTEST_OK);
	for (size_t i = 0; i < ch.n && i < 3; i++) {
		snprintf(name, sizeof(name), "synthetic-%s-%s", ca ? "platform" : "processor", names[i]);
		write_seed(name, 0, ch.cert[i]->der.p, ch.cert[i]->der.n);
	}
	intel_der_chain_free(&ch);
	snprintf(name, sizeof(name), "synthetic-%s-pck-crl", ca ? "platform" : "processor");
	write_seed(name, 1, pck_crl->p, pck_crl->len);
	write_seed("synthetic-root-ca-crl", 1, root_crl->p, root_crl->len);
	tcb = test_read_vector(dir, "tcb_info_issuer_chain.pem", &tn);
	assert_non_null(tcb);
	assert_int_equal(intel_pem_chain_der(tcb, tn, NULL, &ch, "t", NULL), ATTEST_OK);
	write_seed("synthetic-tcb-signing", 0, ch.cert[0]->der.p, ch.cert[0]->der.n);
	intel_der_chain_free(&ch);
	free(tcb);
}

static void the_synthetic_platforms_chains_get_the_same_verdict_from_both_verifiers(void **state)
{
	(void)state;
	mismatches = 0;
	for (int ca = 0; ca < 2; ca++) {
		struct intel_devplat_opts o;
		struct intel_devplat *p = NULL;
		struct case_in c = {0};
		char *pem = NULL;
		size_t len = 0;
		STACK_OF(X509) * roots;
		struct buf pck_crl, root_crl;
		char n1[ATTEST_ERR_NAME_MAX];

		intel_devplat_opts_default(&o, T0);
		o.ca = ca ? PCK_CA_PLATFORM : PCK_CA_PROCESSOR;
		assert_int_equal(intel_devplat_new(&o, &p, NULL), ATTEST_OK);
		assert_int_equal(intel_devplat_pck_chain_pem(p, &pem, &len), ATTEST_OK);
		roots = intel_devplat_roots(p);
		/* The platform writes its collateral folder; read its CRLs back. */
		{
			char tmpl[] = "/tmp/x509derXXXXXX", path[128];
			char *d = mkdtemp(tmpl);
			uint8_t *b1, *b2;
			size_t n1l = 0, n2l = 0;

			assert_non_null(d);
			assert_int_equal(intel_devplat_write_collateral(p, d, NULL, 0, NULL, 0, 0, 0, NULL),
					 ATTEST_OK);
			b1 = test_read_vector(d, "pck_crl.der", &n1l);
			b2 = test_read_vector(d, "root_ca_crl.der", &n2l);
			assert_non_null(b1);
			assert_non_null(b2);
			pck_crl = RAW(b1, n1l), root_crl = RAW(b2, n2l);
			free(b1), free(b2);
			write_seeds(ca, d, pem, len, &pck_crl, &root_crl);
			snprintf(path, sizeof(path), "rm -rf '%s'", d);
			assert_int_equal(system(path), 0);
		}
		c.pem = (const uint8_t *)pem, c.pem_len = len;
		c.pck_crl = pck_crl.p, c.pck_crl_len = pck_crl.len;
		c.root_crl = root_crl.p, c.root_crl_len = root_crl.len;
		c.roots = roots;
		c.t = T0;
		if (pck_der_verdict(&c, n1, sizeof(n1)) != ATTEST_OK)
			fail_msg("synthetic %d: %s", ca, n1);
		differential(&c, ca ? "synthetic platform CA" : "synthetic processor CA",
			     getenv("ATTEST_SANITIZER_RUN") ? 61 : 17);
		buf_free(&pck_crl), buf_free(&root_crl);
		free(pem);
		sk_X509_pop_free(roots, X509_free);
		intel_devplat_free(p);
	}
	assert_int_equal(mismatches, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(the_synthetic_chain_and_its_crls_parse),
	    cmocka_unit_test(version_other_than_v3_is_refused),
	    cmocka_unit_test(serial_must_be_positive_minimal_and_at_most_20_octets),
	    cmocka_unit_test(signature_algorithm_must_be_ecdsa_with_sha256_without_parameters),
	    cmocka_unit_test(names_must_be_single_valued_utf8_or_printable_and_not_empty),
	    cmocka_unit_test(validity_must_be_rfc5280_utc_or_generalized_time),
	    cmocka_unit_test(the_key_must_be_an_uncompressed_p256_point_on_the_curve),
	    cmocka_unit_test(unique_identifiers_are_refused),
	    cmocka_unit_test(extensions_are_unique_der_and_octet_strings),
	    cmocka_unit_test(key_identifiers_basic_constraints_key_usage_and_crl_dp_are_in_intels_form),
	    cmocka_unit_test(lengths_are_definite_minimal_and_nothing_trails),
	    cmocka_unit_test(the_signature_value_must_be_a_der_ecdsa_sig_value),
	    cmocka_unit_test(crls_must_be_v2_with_next_update_number_and_aki),
	    cmocka_unit_test(crl_entries_have_positive_serials_and_known_extensions),
	    cmocka_unit_test(a_valid_chain_verifies_and_its_windows_are_half_open),
	    cmocka_unit_test(validity_of_each_certificate_is_checked),
	    cmocka_unit_test(issuer_names_key_identifiers_and_signatures_link_the_chain),
	    cmocka_unit_test(issuers_must_be_cas_allowed_to_sign_within_their_path_length),
	    cmocka_unit_test(revocation_is_checked_against_each_issuers_crl),
	    cmocka_unit_test(unknown_critical_crl_and_entry_extensions_refuse),
	    cmocka_unit_test(a_crl_verified_once_remembers_its_signature_per_key),
	    cmocka_unit_test(an_issuer_chain_is_the_signer_and_at_most_the_root),
	    cmocka_unit_test(a_crl_on_its_own_is_judged_as_the_chain_walk_judges_it),
	    cmocka_unit_test(real_intel_chains_get_the_same_verdict_from_both_verifiers),
	    cmocka_unit_test(no_flipped_bit_or_cut_of_a_real_crl_verifies_on_its_own),
	    cmocka_unit_test(the_synthetic_platforms_chains_get_the_same_verdict_from_both_verifiers),
	};

	return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}
