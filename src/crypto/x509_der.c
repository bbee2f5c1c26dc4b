/*
 * The strict DER reader of Intel's PKI profile and chain verification over
 * it (x509_der.h). Everything goes through the cursor (base/cur.h): a TLV
 * is taken whole before its contents are looked at, every length is
 * checked against its parent, and a structure is validated whole (Redis'
 * lpValidateIntegrity habit) before anything in it is used.
 *
 * References: RFC 5280 (certificate 4.1, extensions 4.2, CRL 5.1-5.3),
 * X.690 §10 (DER: definite minimal lengths, BOOLEAN TRUE as 0xff, DEFAULT
 * values omitted, BIT STRING without trailing zero bits), Intel SGX PCK
 * Certificate and CRL Profile Specification (the extensions each Intel
 * certificate carries, ecdsa-with-SHA256 over P-256).
 */
#include "crypto/x509_der.h"

#include "base/cur.h"
#include "base/timeutil.h"
#include "crypto/crypto.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	TAG_BOOLEAN = 0x01,
	TAG_INTEGER = 0x02,
	TAG_BIT_STRING = 0x03,
	TAG_OCTET_STRING = 0x04,
	TAG_OID = 0x06,
	TAG_ENUMERATED = 0x0a,
	TAG_UTF8 = 0x0c,
	TAG_PRINTABLE = 0x13,
	TAG_UTC_TIME = 0x17,
	TAG_GENERALIZED_TIME = 0x18,
	TAG_SEQUENCE = 0x30,
	TAG_SET = 0x31,
	TAG_CTX0_PRIM = 0x80,
	TAG_CTX6_PRIM = 0x86,
	TAG_CTX0 = 0xa0,
	TAG_CTX3 = 0xa3,
};

/* Whole AlgorithmIdentifier of ecdsa-with-SHA256, parameters absent (RFC 5758 §3.2). */
static const uint8_t ALG_ECDSA_SHA256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
					   0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
/* SubjectPublicKeyInfo up to the point: id-ecPublicKey, prime256v1 (RFC 5480 §2), BIT STRING, 0x04. */
static const uint8_t SPKI_P256_PREFIX[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
					   0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
					   0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04};
#define SPKI_P256_LEN (sizeof(SPKI_P256_PREFIX) + 64)

static const uint8_t OID_CN[] = {0x55, 0x04, 0x03};
/* 1.2.840.113741.1.13.1: the Intel SGX extension of PCK certificates. */
static const uint8_t OID_SGX[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};
/* 1.3.6.1.5.5.7.1.14 proxyCertInfo (RFC 3820): changes path semantics. */
static const uint8_t OID_PROXY[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x0e};

/* The last arc of id-ce (2.5.29.x) extensions. */
enum {
	CE_SKI = 14,
	CE_KU = 15,
	CE_SAN = 17,
	CE_BC = 19,
	CE_CRL_NUMBER = 20,
	CE_REASON = 21,
	CE_INVALIDITY_DATE = 24,
	CE_DELTA_CRL = 27,
	CE_IDP = 28,
	CE_CERT_ISSUER = 29,
	CE_NAME_CONSTRAINTS = 30,
	CE_CRLDP = 31,
	CE_POLICIES = 32,
	CE_POLICY_MAPPINGS = 33,
	CE_AKI = 35,
	CE_POLICY_CONSTRAINTS = 36,
	CE_EKU = 37,
	CE_FRESHEST_CRL = 46,
	CE_INHIBIT_ANY = 54,
};

#define MAX_EXTENSIONS 32
#define KEY_ID_MAX     64

/* What a parse reports into: "<code>.der.<rule>", "<what>+0x<off>". */
struct dctx {
	const char *code;
	const char *what; /* "certificate", "CRL" */
	struct attest_err *err;
};

static int bad(const struct dctx *d, size_t off, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int bad(const struct dctx *d, size_t off, const char *rule, const char *fmt, ...)
{
	char name[ATTEST_ERR_NAME_MAX], msg[ATTEST_ERR_MSG_MAX];
	va_list ap;

	snprintf(name, sizeof(name), "%s.der.%s", d->code ? d->code : "x509", rule);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	attest_err_set(d->err, ATTEST_E_PARSE, name, "%s: %s outside Intel's profile: %s",
		       d->code ? d->code : "x509", d->what, msg);
	attest_err_where(d->err, "%s+0x%zx", d->what, off);
	return ATTEST_E_PARSE;
}

/* DER primitives ------------------------------------------------------------------ */

static int tlv(struct cur *c, uint8_t *tag, struct cur *val)
{
	return x509_der_tlv(c, tag, val);
}

int x509_der_tlv(struct cur *c, uint8_t *tag, struct cur *val)
{
	struct cur save = *c;
	uint8_t t, l, b;
	size_t len = 0;

	if (cur_u8(c, &t) != 0 || (t & 0x1f) == 0x1f || cur_u8(c, &l) != 0)
		goto fail;
	if (l < 0x80) {
		len = l;
	} else {
		unsigned nb = l & 0x7f;

		if (nb == 0 || nb > 3) /* indefinite, or longer than any cap */
			goto fail;
		for (unsigned i = 0; i < nb; i++) {
			if (cur_u8(c, &b) != 0 || (i == 0 && b == 0))
				goto fail;
			len = len << 8 | b;
		}
		if (len < 0x80)
			goto fail;
	}
	if (cur_sub(c, len, val) != 0)
		goto fail;
	*tag = t;
	return 0;
fail:
	*c = save;
	return -1;
}

static const char *tag_name(uint8_t tag)
{
	switch (tag) {
	case TAG_BOOLEAN:
		return "BOOLEAN";
	case TAG_INTEGER:
		return "INTEGER";
	case TAG_BIT_STRING:
		return "BIT STRING";
	case TAG_OCTET_STRING:
		return "OCTET STRING";
	case TAG_OID:
		return "OBJECT IDENTIFIER";
	case TAG_SEQUENCE:
		return "SEQUENCE";
	case TAG_SET:
		return "SET";
	case TAG_CTX0:
		return "[0]";
	case TAG_CTX3:
		return "[3]";
	default:
		return "the expected element";
	}
}

/* The next TLV, which must carry `want`. */
static int expect(const struct dctx *d, struct cur *c, uint8_t want, struct cur *val, const char *field)
{
	size_t at = c->off;
	uint8_t tag;

	if (tlv(c, &tag, val) != 0)
		return bad(d, at, "length", "%s: truncated, or a length that is not definite and minimal",
			   field);
	if (tag != want)
		return bad(d, at, "tag", "%s: tag 0x%02x where %s is expected", field, tag, tag_name(want));
	return ATTEST_OK;
}

static int no_trailing(const struct dctx *d, const struct cur *c, const char *field)
{
	if (!cur_empty(c))
		return bad(d, c->off, "trailing", "%zu bytes after %s", cur_left(c), field);
	return ATTEST_OK;
}

/* The TLV bytes of a cursor taken by tlv(): its contents plus what came before them. */
static struct der_span span_of(const struct cur *before, const struct cur *after)
{
	return (struct der_span){before->p, before->n - after->n};
}

static bool span_eq(struct der_span a, struct der_span b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static bool oid_is(const struct cur *v, const uint8_t *oid, size_t n)
{
	return v->n == n && memcmp(v->p, oid, n) == 0;
}

/* X.690 §8.19: subidentifiers in minimal base-128, the last octet without bit 8. */
static bool oid_well_formed(const struct cur *v)
{
	if (v->n == 0 || (v->p[v->n - 1] & 0x80))
		return false;
	for (size_t i = 0; i < v->n; i++)
		if (v->p[i] == 0x80 && (i == 0 || !(v->p[i - 1] & 0x80)))
			return false;
	return true;
}

/* An id-ce OID 2.5.29.x with x < 128: x, else -1. */
static int oid_ce(const struct cur *v)
{
	if (v->n == 3 && v->p[0] == 0x55 && v->p[1] == 0x1d && v->p[2] < 0x80)
		return v->p[2];
	return -1;
}

/*
 * A non-negative INTEGER in minimal form (X.690 §8.3.2) of at most max
 * octets; positive when `positive`.
 */
static bool int_ok(const struct cur *v, size_t max, bool positive)
{
	if (v->n == 0 || v->n > max || (v->p[0] & 0x80))
		return false;
	if (v->n > 1 && v->p[0] == 0 && !(v->p[1] & 0x80))
		return false;
	return !(positive && v->n == 1 && v->p[0] == 0);
}

/*
 * A certificate serial number (RFC 5280 4.1.2.2): positive, at most 20
 * octets of value. Intel issues 20-octet values with the high bit set,
 * encoded in 21 octets with the sign octet, so the limit is on the value.
 */
static bool serial_ok(const struct cur *v)
{
	return int_ok(v, 21, true) && (v->n < 21 || v->p[0] == 0);
}

/* Small non-negative INTEGER value (int_ok first). */
static long int_value(const struct cur *v)
{
	long x = 0;

	for (size_t i = 0; i < v->n; i++)
		x = x << 8 | v->p[i];
	return x;
}

/* Time (RFC 5280 4.1.2.5) ------------------------------------------------------------ */

static bool digits(const uint8_t *p, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return true;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/*
 * UTCTime YYMMDDHHMMSSZ for 1950..2049, GeneralizedTime YYYYMMDDHHMMSSZ
 * from 2050 (4.1.2.5.1, 4.1.2.5.2: seconds present, "Z", no fractions).
 */
static int der_time(const struct dctx *d, struct cur *c, const char *field, int64_t *out)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	size_t at = c->off, yl;
	struct cur v;
	uint8_t tag;
	int y, mo, day, h, mi, s;

	if (tlv(c, &tag, &v) != 0)
		return bad(d, at, "length", "%s: truncated time", field);
	if (tag != TAG_UTC_TIME && tag != TAG_GENERALIZED_TIME)
		return bad(d, at, "time", "%s: tag 0x%02x is neither UTCTime nor GeneralizedTime", field,
			   tag);
	yl = tag == TAG_UTC_TIME ? 2 : 4;
	if (v.n != yl + 11 || v.p[v.n - 1] != 'Z' || !digits(v.p, yl, &y) || !digits(v.p + yl, 2, &mo) ||
	    !digits(v.p + yl + 2, 2, &day) || !digits(v.p + yl + 4, 2, &h) || !digits(v.p + yl + 6, 2, &mi) ||
	    !digits(v.p + yl + 8, 2, &s))
		return bad(d, at, "time", "%s: not %s with seconds and Z", field,
			   tag == TAG_UTC_TIME ? "YYMMDDHHMMSSZ" : "YYYYMMDDHHMMSSZ");
	if (tag == TAG_UTC_TIME)
		y += y < 50 ? 2000 : 1900;
	else if (y < 2050)
		return bad(d, at, "time", "%s: GeneralizedTime for year %d (UTCTime until 2049)", field, y);
	if (mo < 1 || mo > 12 || day < 1 || day > mdays[mo - 1] + (mo == 2 && leap(y)) || h > 23 || mi > 59 ||
	    s > 59)
		return bad(d, at, "time", "%s: no such date or time", field);
	/* Straight from the checked fields: a PCK CRL's entries each carry a date (no text round trip). */
	*out = time_from_utc(y, mo, day, h, mi, s);
	return ATTEST_OK;
}

/* Names (RFC 5280 4.1.2.4) ------------------------------------------------------------ */

/* RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF, no NUL. */
static bool utf8_ok(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint32_t cp;
		size_t k;

		if (p[i] == 0)
			return false;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0)
			k = 1, cp = p[i] & 0x1f;
		else if ((p[i] & 0xf0) == 0xe0)
			k = 2, cp = p[i] & 0x0f;
		else if ((p[i] & 0xf8) == 0xf0)
			k = 3, cp = p[i] & 0x07;
		else
			return false;
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + j] & 0x3f);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		i += k + 1;
	}
	return true;
}

/* X.680 §41.4 PrintableString characters. */
static bool printable_ok(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = p[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      strchr(" '()+,-./:=?", ch) != NULL) ||
		    ch == 0)
			return false;
	}
	return true;
}

/*
 * Name ::= SEQUENCE OF RelativeDistinguishedName, each a SET of exactly one
 * AttributeTypeAndValue (Intel's names are single-valued) whose value is a
 * UTF8String or PrintableString: the forms OpenSSL's name canonicalisation
 * accepts too. Non-empty (4.1.2.4, 4.1.2.6 without subjectAltName).
 */
static int der_name(const struct dctx *d, struct cur *c, const char *field, struct der_span *out)
{
	struct cur before = *c, name;
	int rc;

	if ((rc = expect(d, c, TAG_SEQUENCE, &name, field)) != ATTEST_OK)
		return rc;
	if (cur_empty(&name))
		return bad(d, before.off, "name", "%s is empty", field);
	while (!cur_empty(&name)) {
		struct cur rdn, atv, type, value;
		size_t at = name.off;
		uint8_t tag;

		if ((rc = expect(d, &name, TAG_SET, &rdn, field)) != ATTEST_OK ||
		    (rc = expect(d, &rdn, TAG_SEQUENCE, &atv, field)) != ATTEST_OK)
			return rc;
		if (!cur_empty(&rdn))
			return bad(d, at, "name", "%s: a relative distinguished name with several values",
				   field);
		if ((rc = expect(d, &atv, TAG_OID, &type, field)) != ATTEST_OK)
			return rc;
		if (!oid_well_formed(&type))
			return bad(d, type.off, "name", "%s: malformed attribute type", field);
		if (tlv(&atv, &tag, &value) != 0 || !cur_empty(&atv))
			return bad(d, at, "name", "%s: malformed attribute value", field);
		if (!(tag == TAG_UTF8 && utf8_ok(value.p, value.n)) &&
		    !(tag == TAG_PRINTABLE && printable_ok(value.p, value.n)))
			return bad(d, value.off, "name",
				   "%s: attribute value is not a valid UTF8String or PrintableString", field);
	}
	*out = span_of(&before, c);
	return ATTEST_OK;
}

void x509_der_name_cn(struct der_span name, char *out, size_t cap)
{
	struct cur c, seq, rdn, atv, type, value;
	uint8_t tag;

	if (cap == 0)
		return;
	out[0] = '\0';
	cur_init(&c, name.p, name.n);
	if (tlv(&c, &tag, &seq) != 0)
		return;
	/* Parsed strictly already: the walk only looks for the first CN. */
	while (tlv(&seq, &tag, &rdn) == 0) {
		if (tlv(&rdn, &tag, &atv) != 0 || tlv(&atv, &tag, &type) != 0 || tlv(&atv, &tag, &value) != 0)
			return;
		if (oid_is(&type, OID_CN, sizeof(OID_CN))) {
			snprintf(out, cap, "%.*s", (int)(value.n < cap ? value.n : cap - 1),
				 (const char *)value.p);
			return;
		}
	}
}

/* Signature (RFC 5280 4.1.1.2, 4.1.1.3; RFC 5758 §3.2) ------------------------------ */

static int der_alg(const struct dctx *d, struct cur *c, const char *field, struct der_span *out)
{
	struct cur before = *c, v;
	int rc;

	if ((rc = expect(d, c, TAG_SEQUENCE, &v, field)) != ATTEST_OK)
		return rc;
	*out = span_of(&before, c);
	if (out->n != sizeof(ALG_ECDSA_SHA256) || memcmp(out->p, ALG_ECDSA_SHA256, out->n) != 0)
		return bad(d, before.off, "algorithm", "%s is not ecdsa-with-SHA256 without parameters",
			   field);
	return ATTEST_OK;
}

/* signatureValue: BIT STRING without unused bits holding ECDSA-Sig-Value {r, s} (RFC 5480 §2.2). */
static int der_sig_value(const struct dctx *d, struct cur *c, struct der_span *out)
{
	struct cur bits, sv, sig, r, s;
	int rc;

	if ((rc = expect(d, c, TAG_BIT_STRING, &bits, "signatureValue")) != ATTEST_OK)
		return rc;
	if (bits.n < 1 || bits.p[0] != 0)
		return bad(d, bits.off, "signature_value", "signatureValue has unused bits");
	cur_skip(&bits, 1);
	sv = bits;
	if ((rc = expect(d, &bits, TAG_SEQUENCE, &sig, "ECDSA-Sig-Value")) != ATTEST_OK ||
	    (rc = no_trailing(d, &bits, "ECDSA-Sig-Value")) != ATTEST_OK)
		return rc;
	if ((rc = expect(d, &sig, TAG_INTEGER, &r, "ECDSA r")) != ATTEST_OK ||
	    (rc = expect(d, &sig, TAG_INTEGER, &s, "ECDSA s")) != ATTEST_OK ||
	    (rc = no_trailing(d, &sig, "ECDSA-Sig-Value")) != ATTEST_OK)
		return rc;
	if (!int_ok(&r, 33, true) || !int_ok(&s, 33, true))
		return bad(d, sv.off, "signature_value",
			   "ECDSA r or s is not a positive minimal INTEGER of P-256");
	*out = (struct der_span){sv.p, sv.n};
	return ATTEST_OK;
}

/* The outer SEQUENCE { tbs, algorithm, signatureValue }; *tbs is left on the TBS contents. */
static int der_signed(const struct dctx *d, const uint8_t *der, size_t len, struct cur *tbs,
		      struct der_span *tbs_span, struct der_span *alg, struct der_span *sig)
{
	struct cur c, outer, before;
	int rc;

	cur_init(&c, der, len);
	if ((rc = expect(d, &c, TAG_SEQUENCE, &outer, d->what)) != ATTEST_OK ||
	    (rc = no_trailing(d, &c, d->what)) != ATTEST_OK)
		return rc;
	before = outer;
	if ((rc = expect(d, &outer, TAG_SEQUENCE, tbs, "the signed part")) != ATTEST_OK)
		return rc;
	*tbs_span = span_of(&before, &outer);
	if ((rc = der_alg(d, &outer, "signatureAlgorithm", alg)) != ATTEST_OK ||
	    (rc = der_sig_value(d, &outer, sig)) != ATTEST_OK)
		return rc;
	return no_trailing(d, &outer, d->what);
}

/* Extensions (RFC 5280 4.2, 5.2, 5.3) ------------------------------------------------ */

struct ext {
	struct cur oid, value; /* extnID contents, extnValue OCTET STRING contents */
	bool critical;
	size_t off;
};

/* Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }. */
static int der_ext(const struct dctx *d, struct cur *list, struct ext *e)
{
	struct cur seq, crit;
	int rc;

	e->off = list->off;
	if ((rc = expect(d, list, TAG_SEQUENCE, &seq, "Extension")) != ATTEST_OK ||
	    (rc = expect(d, &seq, TAG_OID, &e->oid, "extnID")) != ATTEST_OK)
		return rc;
	if (!oid_well_formed(&e->oid))
		return bad(d, e->oid.off, "extension", "malformed extnID");
	e->critical = false;
	if (seq.n > 0 && seq.p[0] == TAG_BOOLEAN) {
		if ((rc = expect(d, &seq, TAG_BOOLEAN, &crit, "critical")) != ATTEST_OK)
			return rc;
		/* X.690 §11.1 TRUE is 0xff; §11.5 the DEFAULT FALSE is never encoded. */
		if (crit.n != 1 || crit.p[0] != 0xff)
			return bad(d, crit.off, "extension", "critical is encoded but not as DER TRUE");
		e->critical = true;
	}
	if ((rc = expect(d, &seq, TAG_OCTET_STRING, &e->value, "extnValue")) != ATTEST_OK)
		return rc;
	return no_trailing(d, &seq, "an Extension");
}

/* Reads every Extension of a SEQUENCE OF (non-empty), refusing a repeated extnID (4.2). */
static int der_exts(const struct dctx *d, struct cur *list, struct ext *out, size_t *n)
{
	size_t k = 0;
	int rc;

	if (cur_empty(list))
		return bad(d, list->off, "extension", "an empty extensions list");
	while (!cur_empty(list)) {
		if (k == MAX_EXTENSIONS)
			return bad(d, list->off, "extension", "more than %d extensions", MAX_EXTENSIONS);
		if ((rc = der_ext(d, list, &out[k])) != ATTEST_OK)
			return rc;
		for (size_t i = 0; i < k; i++)
			if (oid_is(&out[i].oid, out[k].oid.p, out[k].oid.n))
				return bad(d, out[k].off, "extension", "the same extension twice");
		k++;
	}
	*n = k;
	return ATTEST_OK;
}

/* KeyIdentifier (4.2.1.1, 4.2.1.2): 1..64 octets. */
static bool key_id_ok(const struct cur *v)
{
	return v->n >= 1 && v->n <= KEY_ID_MAX;
}

/* AuthorityKeyIdentifier ::= SEQUENCE { [0] keyIdentifier } only: Intel's form (4.2.1.1). */
static int ext_aki(const struct dctx *d, struct ext *e, struct der_span *out)
{
	struct cur seq, id;
	uint8_t tag;

	if (e->critical)
		return bad(d, e->off, "key_identifier", "authorityKeyIdentifier is critical (4.2.1.1)");
	if (tlv(&e->value, &tag, &seq) != 0 || tag != TAG_SEQUENCE || !cur_empty(&e->value) ||
	    tlv(&seq, &tag, &id) != 0 || tag != TAG_CTX0_PRIM || !cur_empty(&seq) || !key_id_ok(&id))
		return bad(d, e->off, "key_identifier",
			   "authorityKeyIdentifier is not SEQUENCE { [0] keyIdentifier } alone");
	*out = (struct der_span){id.p, id.n};
	return ATTEST_OK;
}

static int ext_ski(const struct dctx *d, struct ext *e, struct der_span *out)
{
	struct cur id;
	uint8_t tag;

	if (e->critical)
		return bad(d, e->off, "key_identifier", "subjectKeyIdentifier is critical (4.2.1.2)");
	if (tlv(&e->value, &tag, &id) != 0 || tag != TAG_OCTET_STRING || !cur_empty(&e->value) ||
	    !key_id_ok(&id))
		return bad(d, e->off, "key_identifier",
			   "subjectKeyIdentifier is not an OCTET STRING of 1..64");
	*out = (struct der_span){id.p, id.n};
	return ATTEST_OK;
}

/* KeyUsage BIT STRING (4.2.1.3), DER: at least one bit, no trailing zero bit, unused bits zero. */
static int ext_ku(const struct dctx *d, struct ext *e, unsigned *out)
{
	struct cur b;
	uint8_t tag, unused, last;
	unsigned ku = 0;

	if (tlv(&e->value, &tag, &b) != 0 || tag != TAG_BIT_STRING || !cur_empty(&e->value) || b.n < 2 ||
	    b.n > 3 || b.p[0] > 7)
		return bad(d, e->off, "key_usage", "keyUsage is not a BIT STRING of 1..9 bits");
	unused = b.p[0];
	last = b.p[b.n - 1];
	if ((last & ((1u << unused) - 1)) != 0 || !((last >> unused) & 1))
		return bad(d, e->off, "key_usage",
			   "keyUsage is not in DER form (trailing zero or unused bits)");
	for (size_t i = 1; i < b.n; i++)
		for (unsigned j = 0; j < 8; j++)
			if (b.p[i] & (0x80u >> j))
				ku |= 1u << ((i - 1) * 8 + j);
	*out = ku;
	return ATTEST_OK;
}

/* BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL } (4.2.1.9).
 */
static int ext_bc(const struct dctx *d, struct ext *e, bool *ca, int *path_len)
{
	struct cur seq, v;
	uint8_t tag;

	*ca = false;
	*path_len = -1;
	if (tlv(&e->value, &tag, &seq) != 0 || tag != TAG_SEQUENCE || !cur_empty(&e->value))
		return bad(d, e->off, "basic_constraints", "basicConstraints is not a SEQUENCE");
	if (seq.n > 0 && seq.p[0] == TAG_BOOLEAN) {
		if (tlv(&seq, &tag, &v) != 0 || v.n != 1 || v.p[0] != 0xff)
			return bad(d, e->off, "basic_constraints", "cA is encoded but not as DER TRUE");
		*ca = true;
	}
	if (!cur_empty(&seq)) {
		if (tlv(&seq, &tag, &v) != 0 || tag != TAG_INTEGER || !int_ok(&v, 1, false) ||
		    !cur_empty(&seq))
			return bad(d, e->off, "basic_constraints",
				   "pathLenConstraint is not an INTEGER 0..127 closing the SEQUENCE");
		if (!*ca)
			return bad(d, e->off, "basic_constraints", "pathLenConstraint without cA (4.2.1.9)");
		*path_len = (int)int_value(&v);
	}
	return ATTEST_OK;
}

/* An IA5String URI of visible ASCII (RFC 3986 has no other characters). */
static bool printable_uri(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] <= 0x20 || p[i] >= 0x7f)
			return false;
	return true;
}

/*
 * CRLDistributionPoints (4.2.1.13) in Intel's form: each DistributionPoint
 * only a distributionPoint fullName of URIs. A reasons or cRLIssuer field
 * would change which CRL covers the certificate (OpenSSL applies them).
 */
static int ext_crldp(const struct dctx *d, struct ext *e)
{
	struct cur seq, dp, dpn, full, gn;
	uint8_t tag;

	if (tlv(&e->value, &tag, &seq) != 0 || tag != TAG_SEQUENCE || !cur_empty(&e->value) ||
	    cur_empty(&seq))
		goto fail;
	while (!cur_empty(&seq)) {
		if (tlv(&seq, &tag, &dp) != 0 || tag != TAG_SEQUENCE || tlv(&dp, &tag, &dpn) != 0 ||
		    tag != TAG_CTX0 || !cur_empty(&dp) || tlv(&dpn, &tag, &full) != 0 || tag != TAG_CTX0 ||
		    !cur_empty(&dpn) || cur_empty(&full))
			goto fail;
		while (!cur_empty(&full))
			if (tlv(&full, &tag, &gn) != 0 || tag != TAG_CTX6_PRIM || gn.n == 0 ||
			    !printable_uri(gn.p, gn.n))
				goto fail;
	}
	return ATTEST_OK;
fail:
	return bad(d, e->off, "crl_dp", "cRLDistributionPoints is not a list of fullName URIs");
}

/* Extensions OpenSSL acts on that Intel's profile has no place for: refused however marked. */
static bool ce_outside_profile(int ce)
{
	switch (ce) {
	case CE_SAN:
	case CE_NAME_CONSTRAINTS:
	case CE_POLICIES:
	case CE_POLICY_MAPPINGS:
	case CE_POLICY_CONSTRAINTS:
	case CE_EKU:
	case CE_INHIBIT_ANY:
	case CE_FRESHEST_CRL:
		return true;
	default:
		return false;
	}
}

/* Marks the profile's extension `bit` as seen. */
static void seen(struct x509_der_cert *x, unsigned bit)
{
	x->exts |= bit;
}

static int cert_ext(const struct dctx *d, struct ext *e, struct x509_der_cert *x)
{
	int ce = oid_ce(&e->oid);

	switch (ce) {
	case CE_AKI:
		seen(x, X509_DER_EXT_AKI);
		return ext_aki(d, e, &x->aki);
	case CE_SKI:
		seen(x, X509_DER_EXT_SKI);
		return ext_ski(d, e, &x->ski);
	case CE_KU:
		seen(x, X509_DER_EXT_KU);
		return ext_ku(d, e, &x->key_usage);
	case CE_BC:
		seen(x, X509_DER_EXT_BC);
		return ext_bc(d, e, &x->ca, &x->path_len);
	case CE_CRLDP:
		seen(x, X509_DER_EXT_CRLDP);
		return ext_crldp(d, e);
	default:
		break;
	}
	if (ce_outside_profile(ce) || oid_is(&e->oid, OID_PROXY, sizeof(OID_PROXY)))
		return bad(d, e->off, "extension", "an extension Intel's certificates do not carry");
	if (oid_is(&e->oid, OID_SGX, sizeof(OID_SGX))) {
		seen(x, X509_DER_EXT_SGX);
		x->sgx_ext = (struct der_span){e->value.p, e->value.n};
	}
	/* RFC 5280 4.2: an unrecognised critical extension refuses the certificate (at verification). */
	if (e->critical && x->unknown_critical == 0)
		x->unknown_critical = e->off;
	return ATTEST_OK;
}

/* extensions [3] EXPLICIT SEQUENCE SIZE (1..MAX) OF Extension (4.1.2.9). */
static int cert_exts(const struct dctx *d, struct cur *tbs, struct x509_der_cert *x)
{
	struct ext e[MAX_EXTENSIONS];
	struct cur wrap, list;
	size_t n = 0;
	int rc;

	if (cur_empty(tbs))
		return bad(d, tbs->off, "extension", "a certificate without extensions");
	if ((rc = expect(d, tbs, TAG_CTX3, &wrap, "extensions")) != ATTEST_OK ||
	    (rc = expect(d, &wrap, TAG_SEQUENCE, &list, "extensions")) != ATTEST_OK ||
	    (rc = no_trailing(d, &wrap, "extensions")) != ATTEST_OK ||
	    (rc = der_exts(d, &list, e, &n)) != ATTEST_OK)
		return rc;
	for (size_t i = 0; i < n; i++)
		if ((rc = cert_ext(d, &e[i], x)) != ATTEST_OK)
			return rc;
	return ATTEST_OK;
}

/* version [0] EXPLICIT INTEGER v3 (2), serialNumber (4.1.2.1, 4.1.2.2). */
static int cert_version_serial(const struct dctx *d, struct cur *tbs, struct x509_der_cert *x)
{
	struct cur wrap, v, serial;
	int rc;

	if ((rc = expect(d, tbs, TAG_CTX0, &wrap, "version")) != ATTEST_OK ||
	    (rc = expect(d, &wrap, TAG_INTEGER, &v, "version")) != ATTEST_OK ||
	    (rc = no_trailing(d, &wrap, "version")) != ATTEST_OK)
		return rc;
	if (v.n != 1 || v.p[0] != 2)
		return bad(d, v.off, "version", "not an X.509 v3 certificate");
	if ((rc = expect(d, tbs, TAG_INTEGER, &serial, "serialNumber")) != ATTEST_OK)
		return rc;
	if (!serial_ok(&serial))
		return bad(d, serial.off, "serial",
			   "serialNumber is not a positive minimal INTEGER of at most 20 octets");
	x->serial = (struct der_span){serial.p, serial.n};
	return ATTEST_OK;
}

/* subjectPublicKeyInfo: exactly id-ecPublicKey, prime256v1, an uncompressed point (RFC 5480 §2). */
static int cert_spki(const struct dctx *d, struct cur *tbs, struct x509_der_cert *x)
{
	struct cur before = *tbs, v;
	int rc;

	if ((rc = expect(d, tbs, TAG_SEQUENCE, &v, "subjectPublicKeyInfo")) != ATTEST_OK)
		return rc;
	x->spki = span_of(&before, tbs);
	if (x->spki.n != SPKI_P256_LEN || memcmp(x->spki.p, SPKI_P256_PREFIX, sizeof(SPKI_P256_PREFIX)) != 0)
		return bad(d, before.off, "spki",
			   "subjectPublicKeyInfo is not an uncompressed P-256 point of id-ecPublicKey");
	memcpy(x->pub_xy, x->spki.p + sizeof(SPKI_P256_PREFIX), 64);
	return ATTEST_OK;
}

/* TBSCertificate (4.1.2), in order, nothing left over. */
static int cert_tbs(const struct dctx *d, struct cur *tbs, struct x509_der_cert *x)
{
	struct der_span alg;
	struct cur validity;
	int rc;

	if ((rc = cert_version_serial(d, tbs, x)) != ATTEST_OK ||
	    (rc = der_alg(d, tbs, "signature", &alg)) != ATTEST_OK ||
	    (rc = der_name(d, tbs, "issuer", &x->issuer)) != ATTEST_OK ||
	    (rc = expect(d, tbs, TAG_SEQUENCE, &validity, "validity")) != ATTEST_OK ||
	    (rc = der_time(d, &validity, "notBefore", &x->not_before)) != ATTEST_OK ||
	    (rc = der_time(d, &validity, "notAfter", &x->not_after)) != ATTEST_OK ||
	    (rc = no_trailing(d, &validity, "validity")) != ATTEST_OK ||
	    (rc = der_name(d, tbs, "subject", &x->subject)) != ATTEST_OK ||
	    (rc = cert_spki(d, tbs, x)) != ATTEST_OK)
		return rc;
	/* issuerUniqueID [1], subjectUniqueID [2] (4.1.2.8): CAs conforming to RFC 5280 never generate them.
	 */
	if (tbs->n > 0 && (tbs->p[0] & 0xc0) == 0x80 && ((tbs->p[0] & 0x1f) == 1 || (tbs->p[0] & 0x1f) == 2))
		return bad(d, tbs->off, "unique_id", "issuerUniqueID or subjectUniqueID present");
	if ((rc = cert_exts(d, tbs, x)) != ATTEST_OK)
		return rc;
	return no_trailing(d, tbs, "the extensions");
}

int x509_der_cert_parse(const uint8_t *der, size_t len, struct x509_der_cert **out, const char *code,
			struct attest_err *err)
{
	struct dctx d = {code, "certificate", err};
	char kcode[ATTEST_ERR_NAME_MAX];
	struct der_span alg;
	struct x509_der_cert *x;
	struct cur tbs;
	uint8_t *buf;
	int rc;

	if (der == NULL || out == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid",
				      "x509_der_cert_parse: bad argument");
	if (len == 0 || len > X509_DER_CERT_MAX)
		return bad(&d, 0, "length", "empty or larger than %u bytes", X509_DER_CERT_MAX);
	if ((x = calloc(1, sizeof(*x) + len)) == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "crypto.nomem", "out of memory");
	buf = (uint8_t *)(x + 1);
	memcpy(buf, der, len);
	x->der = (struct der_span){buf, len};
	x->path_len = -1;
	if ((rc = der_signed(&d, buf, len, &tbs, &x->tbs, &alg, &x->sig)) != ATTEST_OK ||
	    (rc = cert_tbs(&d, &tbs, x)) != ATTEST_OK)
		goto fail;
	/* Decoding the point checks that it lies on the curve (SEC 1 §3.2.2.1). */
	snprintf(kcode, sizeof(kcode), "%s.der", code ? code : "x509");
	if ((rc = ec_pubkey_from_xy(EC_P256, x->pub_xy, 64, &x->key, kcode, err)) != ATTEST_OK) {
		attest_err_where(err, "certificate+0x%zx", (size_t)(x->spki.p - buf));
		goto fail;
	}
	*out = x;
	return ATTEST_OK;
fail:
	x509_der_cert_free(x);
	return rc;
}

void x509_der_cert_free(struct x509_der_cert *c)
{
	if (c != NULL)
		EVP_PKEY_free(c->key);
	free(c);
}

bool x509_der_same(const struct x509_der_cert *c, const uint8_t *der, size_t len)
{
	return c != NULL && c->der.n == len && memcmp(c->der.p, der, len) == 0;
}

/* CRLs (RFC 5280 5.1) ------------------------------------------------------------------- */

/* crlEntryExtensions (5.3): reasonCode and invalidityDate known; an indirect CRL's certificateIssuer refused.
 */
static int entry_ext(const struct dctx *d, struct ext *e, struct x509_der_crl *crl)
{
	struct cur v;
	uint8_t tag;

	switch (oid_ce(&e->oid)) {
	case CE_REASON:
		/* CRLReason ENUMERATED 0..10 without 7 (5.3.1). */
		if (tlv(&e->value, &tag, &v) != 0 || tag != TAG_ENUMERATED || !cur_empty(&e->value) ||
		    !int_ok(&v, 1, false) || int_value(&v) > 10 || int_value(&v) == 7)
			return bad(d, e->off, "entry", "reasonCode is not a CRLReason");
		return ATTEST_OK;
	case CE_INVALIDITY_DATE:
		if (tlv(&e->value, &tag, &v) != 0 || tag != TAG_GENERALIZED_TIME || !cur_empty(&e->value))
			return bad(d, e->off, "entry", "invalidityDate is not a GeneralizedTime");
		return ATTEST_OK;
	case CE_CERT_ISSUER:
		return bad(d, e->off, "entry", "certificateIssuer: an indirect CRL");
	default:
		if (e->critical && crl->unknown_critical == 0)
			crl->unknown_critical = e->off;
		return ATTEST_OK;
	}
}

/* revokedCertificates entry: SEQUENCE { userCertificate, revocationDate, crlEntryExtensions OPTIONAL }. */
static int crl_entry(const struct dctx *d, struct cur *list, struct x509_der_crl *crl)
{
	struct ext e[MAX_EXTENSIONS];
	struct cur entry, serial, exts;
	int64_t when;
	size_t n = 0;
	int rc;

	if ((rc = expect(d, list, TAG_SEQUENCE, &entry, "revokedCertificates entry")) != ATTEST_OK ||
	    (rc = expect(d, &entry, TAG_INTEGER, &serial, "userCertificate")) != ATTEST_OK)
		return rc;
	if (!serial_ok(&serial))
		return bad(d, serial.off, "entry", "userCertificate is not a positive minimal serial number");
	if ((rc = der_time(d, &entry, "revocationDate", &when)) != ATTEST_OK)
		return rc;
	if (!cur_empty(&entry)) {
		if ((rc = expect(d, &entry, TAG_SEQUENCE, &exts, "crlEntryExtensions")) != ATTEST_OK ||
		    (rc = der_exts(d, &exts, e, &n)) != ATTEST_OK)
			return rc;
		for (size_t i = 0; i < n; i++)
			if ((rc = entry_ext(d, &e[i], crl)) != ATTEST_OK)
				return rc;
	}
	crl->n_revoked++;
	return no_trailing(d, &entry, "a revokedCertificates entry");
}

/* crlExtensions (5.2): cRLNumber and authorityKeyIdentifier required; scope-changing ones refused. */
static int crl_ext(const struct dctx *d, struct ext *e, struct x509_der_crl *crl)
{
	struct cur v;
	uint8_t tag;

	switch (oid_ce(&e->oid)) {
	case CE_CRL_NUMBER:
		/* 5.2.3: non-critical, a non-negative INTEGER of at most 20 octets. */
		if (e->critical || tlv(&e->value, &tag, &v) != 0 || tag != TAG_INTEGER ||
		    !cur_empty(&e->value) || !int_ok(&v, 20, false))
			return bad(d, e->off, "crl_extension",
				   "cRLNumber is not a non-critical INTEGER of 20 octets at most");
		crl->number = (struct der_span){v.p, v.n};
		return ATTEST_OK;
	case CE_AKI:
		return ext_aki(d, e, &crl->aki);
	case CE_IDP:
	case CE_DELTA_CRL:
	case CE_FRESHEST_CRL:
		return bad(d, e->off, "crl_extension",
			   "issuingDistributionPoint, deltaCRLIndicator or freshestCRL: not a complete CRL");
	default:
		if (e->critical && crl->unknown_critical == 0)
			crl->unknown_critical = e->off;
		return ATTEST_OK;
	}
}

static int crl_exts(const struct dctx *d, struct cur *tbs, struct x509_der_crl *crl)
{
	struct ext e[MAX_EXTENSIONS];
	struct cur wrap, list;
	size_t at = tbs->off, n = 0;
	int rc;

	if (cur_empty(tbs))
		return bad(d, at, "crl_extension",
			   "a CRL without crlExtensions (cRLNumber and AKI are required)");
	if ((rc = expect(d, tbs, TAG_CTX0, &wrap, "crlExtensions")) != ATTEST_OK ||
	    (rc = expect(d, &wrap, TAG_SEQUENCE, &list, "crlExtensions")) != ATTEST_OK ||
	    (rc = no_trailing(d, &wrap, "crlExtensions")) != ATTEST_OK ||
	    (rc = der_exts(d, &list, e, &n)) != ATTEST_OK)
		return rc;
	for (size_t i = 0; i < n; i++)
		if ((rc = crl_ext(d, &e[i], crl)) != ATTEST_OK)
			return rc;
	if (crl->number.p == NULL)
		return bad(d, at, "crl_extension", "no cRLNumber (RFC 5280 5.2.3)");
	if (crl->aki.p == NULL)
		return bad(d, at, "crl_extension", "no authorityKeyIdentifier (RFC 5280 5.2.1)");
	return ATTEST_OK;
}

/* TBSCertList (5.1.2): v2, signature, issuer, thisUpdate, nextUpdate, entries, extensions. */
static int crl_tbs(const struct dctx *d, struct cur *tbs, struct x509_der_crl *crl)
{
	struct der_span alg;
	struct cur v, list;
	int rc;

	if ((rc = expect(d, tbs, TAG_INTEGER, &v, "version")) != ATTEST_OK)
		return rc;
	if (v.n != 1 || v.p[0] != 1)
		return bad(d, v.off, "version", "not a v2 CRL");
	if ((rc = der_alg(d, tbs, "signature", &alg)) != ATTEST_OK ||
	    (rc = der_name(d, tbs, "issuer", &crl->issuer)) != ATTEST_OK ||
	    (rc = der_time(d, tbs, "thisUpdate", &crl->this_update)) != ATTEST_OK ||
	    (rc = der_time(d, tbs, "nextUpdate", &crl->next_update)) != ATTEST_OK)
		return rc;
	if (tbs->n > 0 && tbs->p[0] == TAG_SEQUENCE) {
		if ((rc = expect(d, tbs, TAG_SEQUENCE, &list, "revokedCertificates")) != ATTEST_OK)
			return rc;
		crl->revoked = (struct der_span){list.p, list.n};
		while (!cur_empty(&list))
			if ((rc = crl_entry(d, &list, crl)) != ATTEST_OK)
				return rc;
	}
	if ((rc = crl_exts(d, tbs, crl)) != ATTEST_OK)
		return rc;
	return no_trailing(d, tbs, "crlExtensions");
}

int x509_der_crl_parse(const uint8_t *der, size_t len, struct x509_der_crl **out, const char *code,
		       struct attest_err *err)
{
	struct dctx d = {code, "CRL", err};
	struct x509_der_crl *crl;
	struct der_span alg;
	struct cur tbs;
	uint8_t *buf;
	int rc;

	if (der == NULL || out == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid",
				      "x509_der_crl_parse: bad argument");
	if (len == 0 || len > X509_DER_CRL_MAX)
		return bad(&d, 0, "length", "empty or larger than %u bytes", X509_DER_CRL_MAX);
	if ((crl = calloc(1, sizeof(*crl) + len)) == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "crypto.nomem", "out of memory");
	buf = (uint8_t *)(crl + 1);
	memcpy(buf, der, len);
	crl->der = (struct der_span){buf, len};
	if ((rc = der_signed(&d, buf, len, &tbs, &crl->tbs, &alg, &crl->sig)) != ATTEST_OK ||
	    (rc = crl_tbs(&d, &tbs, crl)) != ATTEST_OK) {
		free(crl);
		return rc;
	}
	*out = crl;
	return ATTEST_OK;
}

void x509_der_crl_free(struct x509_der_crl *c)
{
	free(c);
}

bool x509_der_crl_lists(const struct x509_der_crl *crl, struct der_span serial)
{
	struct cur list, entry, sn;
	uint8_t tag;

	cur_init(&list, crl->revoked.p, crl->revoked.n);
	/* Validated whole at parse time: every entry starts with its serial. */
	while (tlv(&list, &tag, &entry) == 0)
		if (tlv(&entry, &tag, &sn) == 0 && sn.n == serial.n && memcmp(sn.p, serial.p, sn.n) == 0)
			return true;
	return false;
}

/* Verification -------------------------------------------------------------------------- */

bool x509_der_signed_by(const struct x509_der_cert *cert, EVP_PKEY *key)
{
	return key != NULL && ecdsa_verify_der(key, HASH_SHA256, cert->tbs.p, cert->tbs.n, cert->sig.p,
					       cert->sig.n, "x509", NULL) == ATTEST_OK;
}

/* The CRL's signature by issuer's key, verified once per key (the Root CA CRL serves two chains). */
static bool crl_signed_by(struct x509_der_crl *crl, const struct x509_der_cert *issuer)
{
	if (crl->sig_ok && memcmp(crl->sig_key, issuer->pub_xy, 64) == 0)
		return true;
	if (issuer->key == NULL || ecdsa_verify_der(issuer->key, HASH_SHA256, crl->tbs.p, crl->tbs.n,
						    crl->sig.p, crl->sig.n, "x509", NULL) != ATTEST_OK)
		return false;
	crl->sig_ok = true;
	memcpy(crl->sig_key, issuer->pub_xy, 64);
	return true;
}

static int cerr(struct attest_err *err, int rc, const char *code, const char *suffix,
		const struct x509_der_cert *x, size_t depth, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
/* "<code><suffix>": certificate "CN=<cn>" <what>, at "chain depth <n>" (x509.c's wording). */
static int cerr(struct attest_err *err, int rc, const char *code, const char *suffix,
		const struct x509_der_cert *x, size_t depth, const char *fmt, ...)
{
	char name[ATTEST_ERR_NAME_MAX], msg[ATTEST_ERR_MSG_MAX], cn[128];
	va_list ap;

	x509_der_name_cn(x->subject, cn, sizeof(cn));
	snprintf(name, sizeof(name), "%s%s", code ? code : "x509", suffix);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	attest_err_set(err, rc, name, "certificate \"CN=%s\" %s", cn, msg);
	attest_err_where(err, "chain depth %zu", depth);
	return rc;
}

static bool self_issued(const struct x509_der_cert *x)
{
	return span_eq(x->issuer, x->subject);
}

/*
 * Could issuer have issued x (OpenSSL's X509_check_issued): x's issuer is
 * issuer's subject, and x's AKI keyIdentifier is issuer's SKI when both
 * are present (4.2.1.1). Whether issuer may sign certificates is step 2.
 */
static bool may_issue(const struct x509_der_cert *issuer, const struct x509_der_cert *x)
{
	if (!span_eq(x->issuer, issuer->subject))
		return false;
	return !((x->exts & X509_DER_EXT_AKI) && (issuer->exts & X509_DER_EXT_SKI) &&
		 !span_eq(x->aki, issuer->ski));
}

static bool valid_at(const struct x509_der_cert *x, int64_t t)
{
	return x->not_before <= t && t < x->not_after;
}

/* The anchor that issued top: a candidate valid at t first, as OpenSSL's issuer lookup prefers. */
static const struct x509_der_cert *find_anchor(const struct x509_der_cert *top,
					       const struct x509_der_verify_opts *o)
{
	const struct x509_der_cert *first = NULL;

	for (size_t i = 0; i < o->n_anchors; i++) {
		const struct x509_der_cert *a = o->anchors[i];

		if (a == NULL || !may_issue(a, top))
			continue;
		if (valid_at(a, o->time))
			return a;
		if (first == NULL)
			first = a;
	}
	return first;
}

struct chain {
	const struct x509_der_cert *c[X509_DER_PATH_MAX + 1]; /* leaf first, the anchor last */
	size_t n;
};

/* Step 1: the path links up to an anchor. */
static int build(struct chain *ch, const struct x509_der_cert *const *path, size_t n,
		 const struct x509_der_verify_opts *o, const char *code, struct attest_err *err)
{
	const struct x509_der_cert *a;

	for (size_t i = 0; i < n; i++) {
		ch->c[i] = path[i];
		if (i + 1 < n && !may_issue(path[i + 1], path[i]))
			return cerr(err, ATTEST_E_VERIFY, code, ".untrusted_root", path[i], i,
				    "is not issued by the next certificate of the chain (issuer name or key "
				    "identifier)");
	}
	if ((a = find_anchor(path[n - 1], o)) == NULL)
		return cerr(err, ATTEST_E_VERIFY, code, ".untrusted_root", path[n - 1], n - 1,
			    "has no issuer among the anchors");
	ch->c[n] = a;
	ch->n = n + 1;
	return ATTEST_OK;
}

/* Step 2 (RFC 5280 6.1.4 (k)-(n), OpenSSL check_chain_extensions): every issuer a CA. */
static int check_extensions(const struct chain *ch, const char *code, struct attest_err *err)
{
	long plen = 0;

	for (size_t i = 0; i < ch->n; i++) {
		const struct x509_der_cert *x = ch->c[i];

		if (x->unknown_critical != 0)
			return cerr(err, ATTEST_E_VERIFY, code, ".invalid", x, i,
				    "carries an unrecognised critical extension (at +0x%zx)",
				    x->unknown_critical);
		if (i == 0)
			continue;
		if (!(x->exts & X509_DER_EXT_BC) || !x->ca)
			return cerr(err, ATTEST_E_VERIFY, code, ".invalid", x, i,
				    "issues certificates but is not a CA (basicConstraints cA)");
		if (!(x->exts & X509_DER_EXT_KU) || !(x->key_usage & X509_DER_KU_KEY_CERT_SIGN))
			return cerr(err, ATTEST_E_VERIFY, code, ".invalid", x, i,
				    "issues certificates without keyUsage keyCertSign");
		if (i > 1 && x->path_len >= 0 && plen > x->path_len)
			return cerr(err, ATTEST_E_VERIFY, code, ".invalid", x, i,
				    "has %ld CA certificates below it; its pathLenConstraint is %d", plen,
				    x->path_len);
		if (!self_issued(x))
			plen++;
	}
	return ATTEST_OK;
}

/*
 * The CRL covering x (RFC 5280 6.3.3 (b)): issued under x's issuer name,
 * with an AKI keyIdentifier that is the issuer's SKI (OpenSSL's CRL
 * selection asks the same, crl_akid_check). *other: one matched the name only.
 */
static struct x509_der_crl *find_crl(const struct x509_der_verify_opts *o, const struct x509_der_cert *x,
				     const struct x509_der_cert *issuer, bool *other)
{
	*other = false;
	for (size_t i = 0; i < o->n_crls; i++) {
		struct x509_der_crl *crl = o->crls[i];

		if (crl == NULL || !span_eq(crl->issuer, x->issuer))
			continue;
		if ((issuer->exts & X509_DER_EXT_SKI) && span_eq(crl->aki, issuer->ski))
			return crl;
		*other = true;
	}
	return NULL;
}

/* Applies crl to ch->c[i] (OpenSSL check_crl, then cert_crl). */
static int apply_crl(struct x509_der_crl *crl, const struct chain *ch, size_t i, int64_t t, const char *code,
		     struct attest_err *err)
{
	const struct x509_der_cert *x = ch->c[i], *issuer = ch->c[i + 1];

	if (!(issuer->exts & X509_DER_EXT_KU) || !(issuer->key_usage & X509_DER_KU_CRL_SIGN))
		return cerr(err, ATTEST_E_VERIFY, code, ".invalid", x, i,
			    "has a CRL from an issuer without keyUsage cRLSign");
	if (crl->this_update > t)
		return cerr(err, ATTEST_E_COLLATERAL, code, ".crl_expired", x, i,
			    "has a CRL not yet valid (thisUpdate in the future)");
	if (crl->next_update <= t)
		return cerr(err, ATTEST_E_COLLATERAL, code, ".crl_expired", x, i,
			    "has a CRL past its nextUpdate");
	if (!crl_signed_by(crl, issuer))
		return cerr(err, ATTEST_E_COLLATERAL, code, ".crl_signature", x, i,
			    "has a CRL whose signature does not verify");
	if (crl->unknown_critical != 0)
		return cerr(err, ATTEST_E_VERIFY, code, ".invalid", x, i,
			    "has a CRL with an unrecognised critical extension (at +0x%zx)",
			    crl->unknown_critical);
	if (x509_der_crl_lists(crl, x->serial))
		return cerr(err, ATTEST_E_VERIFY, code, ".revoked", x, i, "is revoked");
	return ATTEST_OK;
}

/* Step 3: every certificate below the anchor against its issuer's CRL (RFC 5280 6.1.3 (a)(3)). */
static int check_revocation(const struct chain *ch, const struct x509_der_verify_opts *o, const char *code,
			    struct attest_err *err)
{
	for (size_t i = 0; i + 1 < ch->n; i++) {
		bool other;
		struct x509_der_crl *crl = find_crl(o, ch->c[i], ch->c[i + 1], &other);
		int rc;

		if (crl == NULL) {
			if (!o->require_crls)
				continue;
			return cerr(err, ATTEST_E_COLLATERAL, code, ".crl_missing", ch->c[i], i,
				    "has no CRL from its issuer%s",
				    other ? " (a CRL of that name has another authority key identifier)"
					  : "");
		}
		if ((rc = apply_crl(crl, ch, i, o->time, code, err)) != ATTEST_OK)
			return rc;
	}
	return ATTEST_OK;
}

static int check_time(const struct x509_der_cert *x, size_t depth, int64_t t, const char *code,
		      struct attest_err *err)
{
	if (x->not_before > t)
		return cerr(err, ATTEST_E_VERIFY, code, ".not_yet_valid", x, depth, "is not yet valid");
	if (x->not_after <= t)
		return cerr(err, ATTEST_E_VERIFY, code, ".expired", x, depth, "has expired");
	return ATTEST_OK;
}

/* Step 4 (OpenSSL internal_verify): from the anchor down, signature then validity. */
static int check_signatures(const struct chain *ch, int64_t t, const char *code, struct attest_err *err)
{
	size_t i = ch->n - 1;
	bool hole = ch->n < 2;
	int rc;

	/* Defensive (build() filled every slot, leaf to anchor): a hole would be a bug, not a verdict. */
	for (size_t k = 0; k < ch->n; k++)
		hole = hole || ch->c[k] == NULL;
	if (hole)
		return attest_err_set(err, ATTEST_E_INTERNAL, "crypto.internal", "chain with a hole");

	if ((rc = check_time(ch->c[i], i, t, code, err)) != ATTEST_OK)
		return rc;
	while (i-- > 0) {
		if (!x509_der_signed_by(ch->c[i], ch->c[i + 1]->key))
			return cerr(err, ATTEST_E_VERIFY, code, ".signature", ch->c[i], i,
				    "has a signature that does not verify");
		if ((rc = check_time(ch->c[i], i, t, code, err)) != ATTEST_OK)
			return rc;
	}
	return ATTEST_OK;
}

int x509_der_chain_verify(const struct x509_der_cert *const *path, size_t n,
			  const struct x509_der_verify_opts *opts, const struct x509_der_cert **anchor_out,
			  const char *code, struct attest_err *err)
{
	struct chain ch = {{NULL}, 0};
	int rc;

	if (path == NULL || opts == NULL || n == 0 || n > X509_DER_PATH_MAX)
		return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid",
				      "x509_der_chain_verify: bad argument");
	for (size_t i = 0; i < n; i++)
		if (path[i] == NULL)
			return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid",
					      "x509_der_chain_verify: bad argument");
	if (opts->n_anchors == 0)
		return cerr(err, ATTEST_E_INVALID, code, ".untrusted_root", path[n - 1], n - 1,
			    "cannot be verified: no trust anchors configured");
	if ((rc = build(&ch, path, n, opts, code, err)) != ATTEST_OK ||
	    (rc = check_extensions(&ch, code, err)) != ATTEST_OK ||
	    (rc = check_revocation(&ch, opts, code, err)) != ATTEST_OK ||
	    (rc = check_signatures(&ch, opts->time, code, err)) != ATTEST_OK)
		return rc;
	if (anchor_out != NULL)
		*anchor_out = ch.c[n];
	return ATTEST_OK;
}
