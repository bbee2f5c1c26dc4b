/*
 * PCK certificates (formats.md §2): the SGX extension decoded by a small
 * DER reader of our own over the cursor (every length checked against its
 * parent), and the checks of Intel's chains and CRLs to the Intel root
 * over the strict DER reader of crypto/x509_der.h: PCK chains, the issuer
 * chains of TCB Info, QE identities and PCK CRLs, CRLs on their own.
 */
#include "evidence/pck.h"

#include "base/buf.h"
#include "base/codec.h"
#include "base/cur.h"
#include "crypto/crypto.h"

#include <openssl/objects.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* 1.2.840.113741.1.13.1 in DER (without tag and length). */
static const uint8_t SGX_EXT_OID[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};

enum {
	DER_BOOLEAN = 0x01,
	DER_INTEGER = 0x02,
	DER_OCTET_STRING = 0x04,
	DER_OID = 0x06,
	DER_ENUMERATED = 0x0a,
	DER_SEQUENCE = 0x30
};

static int perr(struct attest_err *err, int rc, const char *prefix, const char *suffix, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int perr(struct attest_err *err, int rc, const char *prefix, const char *suffix, const char *fmt, ...)
{
	char name[ATTEST_ERR_NAME_MAX], msg[ATTEST_ERR_MSG_MAX];
	va_list ap;

	snprintf(name, sizeof(name), "%s.%s", prefix, suffix);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	attest_err_set(err, rc, name, "%s", msg);
	return rc;
}

/* One DER TLV through the strict reader of crypto/x509_der.h (minimal definite lengths). */
static int der_next(struct cur *c, uint8_t *tag, struct cur *val)
{
	return x509_der_tlv(c, tag, val);
}

static int malformed(struct attest_err *err, const char *prefix, const struct cur *c, const char *what)
{
	int rc = perr(err, ATTEST_E_PARSE, prefix, "pck.extension.malformed",
		      "PCK SGX extension: malformed DER in %s", what);
	attest_err_where(err, "SGX extension+0x%zx", c->off);
	return rc;
}

/* A non-negative DER INTEGER up to max. */
static int der_uint(const struct cur *v, uint32_t max, uint32_t *out)
{
	uint32_t x = 0;
	size_t i;

	if (v->n == 0 || v->n > 5 || (v->p[0] & 0x80))
		return -1;
	if (v->n > 1 && v->p[0] == 0 && !(v->p[1] & 0x80))
		return -1; /* not minimal */
	for (i = 0; i < v->n; i++) {
		if (x > (UINT32_MAX >> 8))
			return -1;
		x = x << 8 | v->p[i];
	}
	if (x > max)
		return -1;
	*out = x;
	return 0;
}

/* Is the OID value prefix.<a>[.<b>]? Returns the suffix arc count matched. */
static int oid_suffix(const struct cur *oid, uint8_t *a, uint8_t *b)
{
	if (oid->n < sizeof(SGX_EXT_OID) + 1 || memcmp(oid->p, SGX_EXT_OID, sizeof(SGX_EXT_OID)) != 0)
		return 0;
	if (oid->n == sizeof(SGX_EXT_OID) + 1 && oid->p[9] < 0x80) {
		*a = oid->p[9];
		return 1;
	}
	if (oid->n == sizeof(SGX_EXT_OID) + 2 && oid->p[9] < 0x80 && oid->p[10] < 0x80) {
		*a = oid->p[9];
		*b = oid->p[10];
		return 2;
	}
	return 0;
}

/* Reads SEQUENCE { OID, value } from a SEQUENCE OF cursor. */
static int der_pair(struct cur *seq, struct cur *oid, uint8_t *vtag, struct cur *val)
{
	uint8_t tag;
	struct cur entry;

	if (der_next(seq, &tag, &entry) != 0 || tag != DER_SEQUENCE)
		return -1;
	if (der_next(&entry, &tag, oid) != 0 || tag != DER_OID)
		return -1;
	if (der_next(&entry, vtag, val) != 0 || !cur_empty(&entry))
		return -1;
	return 0;
}

/* An OCTET STRING of exactly `want` bytes; `field` is the error suffix ("pck.extension.<name>"). */
static int octets(const struct cur *v, uint8_t tag, size_t want, uint8_t *dst, const char *prefix,
		  const char *field, struct attest_err *err)
{
	const char *name = strrchr(field, '.');

	if (tag != DER_OCTET_STRING || v->n != want)
		return perr(err, ATTEST_E_PARSE, prefix, field,
			    "PCK SGX extension: %s must be an OCTET STRING of %zu bytes",
			    name ? name + 1 : field, want);
	memcpy(dst, v->p, want);
	return ATTEST_OK;
}

/* TCB (…1.13.1.2): 16 component SVNs, PCESVN, CPUSVN; all 18 exactly once. */
static int decode_tcb(struct cur *seq, struct pck_ext *o, const char *prefix, struct attest_err *err)
{
	uint32_t seen = 0, v;
	unsigned count = 0;

	while (!cur_empty(seq)) {
		struct cur oid, val;
		uint8_t tag, a = 0, b = 0;

		if (der_pair(seq, &oid, &tag, &val) != 0)
			return malformed(err, prefix, seq, "the TCB entries");
		if (oid_suffix(&oid, &a, &b) != 2 || a != 2 || b < 1 || b > 18 || (seen & (1u << b)))
			return perr(err, ATTEST_E_PARSE, prefix, "pck.extension.tcb",
				    "PCK SGX extension: unexpected or repeated TCB entry");
		seen |= 1u << b;
		count++;
		if (b <= 16) {
			if (tag != DER_INTEGER || der_uint(&val, 255, &v) != 0)
				return perr(err, ATTEST_E_PARSE, prefix, "pck.extension.tcb",
					    "PCK SGX extension: TCB component %u is not an INTEGER 0..255",
					    b);
			o->comp_svn[b - 1] = (uint8_t)v;
		} else if (b == 17) {
			if (tag != DER_INTEGER || der_uint(&val, 65535, &v) != 0)
				return perr(err, ATTEST_E_PARSE, prefix, "pck.extension.pcesvn",
					    "PCK SGX extension: PCESVN is not an INTEGER 0..65535");
			o->pcesvn = (uint16_t)v;
		} else {
			int rc = octets(&val, tag, 16, o->cpusvn, prefix, "pck.extension.cpusvn", err);

			if (rc != ATTEST_OK)
				return rc;
		}
	}
	if (count != 18)
		return perr(err, ATTEST_E_PARSE, prefix, "pck.extension.tcb",
			    "PCK SGX extension: TCB has %u of the 18 entries", count);
	return ATTEST_OK;
}

/* Configuration (…1.13.1.7): BOOLEANs dynamic platform, cached keys, SMT. */
static int decode_config(struct cur *seq, struct pck_ext *o, const char *prefix, struct attest_err *err)
{
	while (!cur_empty(seq)) {
		struct cur oid, val;
		uint8_t tag, a = 0, b = 0;
		bool v;

		if (der_pair(seq, &oid, &tag, &val) != 0)
			return malformed(err, prefix, seq, "the configuration entries");
		if (oid_suffix(&oid, &a, &b) != 2 || a != 7 || tag != DER_BOOLEAN || val.n != 1)
			return perr(err, ATTEST_E_PARSE, prefix, "pck.extension.configuration",
				    "PCK SGX extension: configuration entry is not (OID …7.n, BOOLEAN)");
		v = val.p[0] != 0;
		if (b == 1)
			o->dynamic_platform = v;
		else if (b == 2)
			o->cached_keys = v;
		else if (b == 3)
			o->smt_enabled = v;
	}
	o->has_configuration = true;
	return ATTEST_OK;
}

static int decode_entry(uint8_t a, uint8_t tag, struct cur *val, struct pck_ext *o, const char *prefix,
			struct attest_err *err)
{
	uint32_t v;

	switch (a) {
	case 1:
		return octets(val, tag, 16, o->ppid, prefix, "pck.extension.ppid", err);
	case 2:
		if (tag != DER_SEQUENCE)
			return perr(err, ATTEST_E_PARSE, prefix, "pck.extension.tcb",
				    "PCK SGX extension: TCB is not a SEQUENCE");
		return decode_tcb(val, o, prefix, err);
	case 3:
		return octets(val, tag, 2, o->pceid, prefix, "pck.extension.pceid", err);
	case 4:
		return octets(val, tag, 6, o->fmspc, prefix, "pck.extension.fmspc", err);
	case 5:
		if (tag != DER_ENUMERATED || der_uint(val, 2, &v) != 0)
			return perr(err, ATTEST_E_PARSE, prefix, "pck.extension.sgx_type",
				    "PCK SGX extension: SGX Type is not ENUMERATED 0..2");
		o->sgx_type = (enum pck_sgx_type)v;
		return ATTEST_OK;
	case 6:
		o->has_platform_instance_id = true;
		return octets(val, tag, 16, o->platform_instance_id, prefix,
			      "pck.extension.platform_instance_id", err);
	case 7:
		if (tag != DER_SEQUENCE)
			return perr(err, ATTEST_E_PARSE, prefix, "pck.extension.configuration",
				    "PCK SGX extension: configuration is not a SEQUENCE");
		return decode_config(val, o, prefix, err);
	}
	return perr(err, ATTEST_E_PARSE, prefix, "pck.extension.entries",
		    "PCK SGX extension: unknown entry …13.1.%u", a);
}

int pck_ext_decode(const uint8_t *der, size_t len, struct pck_ext *out, const char *prefix,
		   struct attest_err *err)
{
	struct pck_ext o;
	struct cur c, seq;
	uint8_t tag;
	uint32_t seen = 0;
	int rc;

	memset(&o, 0, sizeof(o));
	cur_init(&c, der, len);
	if (der_next(&c, &tag, &seq) != 0 || tag != DER_SEQUENCE || !cur_empty(&c))
		return malformed(err, prefix, &c, "the outer SEQUENCE");
	while (!cur_empty(&seq)) {
		struct cur oid, val;
		uint8_t a = 0, b = 0;

		if (der_pair(&seq, &oid, &tag, &val) != 0)
			return malformed(err, prefix, &seq, "an entry");
		if (oid_suffix(&oid, &a, &b) != 1 || a < 1 || a > 7 || (seen & (1u << a)))
			return perr(err, ATTEST_E_PARSE, prefix, "pck.extension.entries",
				    "PCK SGX extension: unexpected or repeated entry");
		seen |= 1u << a;
		o.n_entries++;
		if ((rc = decode_entry(a, tag, &val, &o, prefix, err)) != ATTEST_OK)
			return rc;
	}
	/* QVL: 5 entries (PPID, TCB, PCE-ID, FMSPC, SGX Type) or all 7 (§2.1). */
	if (!(seen == 0x3e && o.n_entries == 5) && !(seen == 0xfe && o.n_entries == 7))
		return perr(err, ATTEST_E_PARSE, prefix, "pck.extension.entries",
			    "PCK SGX extension has %u entries; 5 (Processor CA) or 7 (Platform CA) required",
			    o.n_entries);
	*out = o;
	return ATTEST_OK;
}

int pck_ext_from_cert(X509 *cert, struct pck_ext *out, const char *prefix, struct attest_err *err)
{
	ASN1_OBJECT *obj = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
	int idx;
	X509_EXTENSION *ext;
	const ASN1_OCTET_STRING *v;

	if (obj == NULL)
		return perr(err, ATTEST_E_INTERNAL, prefix, "pck.extension.missing", "OID parse failed");
	idx = X509_get_ext_by_OBJ(cert, obj, -1);
	/* Exactly one SGX extension. */
	if (idx >= 0 && X509_get_ext_by_OBJ(cert, obj, idx) >= 0)
		idx = -2;
	ASN1_OBJECT_free(obj);
	if (idx == -2)
		return perr(err, ATTEST_E_PARSE, prefix, "pck.extension.malformed",
			    "PCK certificate carries the SGX extension twice");
	if (idx < 0 || (ext = X509_get_ext(cert, idx)) == NULL || (v = X509_EXTENSION_get_data(ext)) == NULL)
		return perr(err, ATTEST_E_PARSE, prefix, "pck.extension.missing",
			    "PCK certificate has no SGX extension (OID 1.2.840.113741.1.13.1)");
	return pck_ext_decode(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v), out, prefix, err);
}

/* The CN of a name, or "" (bounded copy). */
static void name_cn(const X509_NAME *n, char *out, size_t outlen)
{
	int i = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
	const ASN1_STRING *s;

	out[0] = '\0';
	if (i < 0 || (s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i))) == NULL)
		return;
	snprintf(out, outlen, "%.*s", ASN1_STRING_length(s), (const char *)ASN1_STRING_get0_data(s));
}

/* The PCK CA from the PCK certificate's issuer CN (§2.2, QVL X509Constants). */
static int ca_from_issuer_cn(const char *cn, enum pck_ca *out, const char *prefix, struct attest_err *err)
{
	if (strstr(cn, "Platform CA") != NULL)
		*out = PCK_CA_PLATFORM;
	else if (strstr(cn, "Processor CA") != NULL)
		*out = PCK_CA_PROCESSOR;
	else
		return perr(err, ATTEST_E_VERIFY, prefix, "pck.subject",
			    "PCK issuer \"%s\" is neither the PCK Platform CA nor the Processor CA", cn);
	return ATTEST_OK;
}

int pck_ca_of_cert(X509 *pck, enum pck_ca *out, const char *prefix, struct attest_err *err)
{
	char cn[128];

	name_cn(X509_get_issuer_name(pck), cn, sizeof(cn));
	return ca_from_issuer_cn(cn, out, prefix, err);
}

const char *pck_ca_name(enum pck_ca ca)
{
	return ca == PCK_CA_PLATFORM ? "platform" : "processor";
}

/* QVL X509Constants: PCK CN contains "SGX PCK Certificate", its CA's "SGX PCK" and "CA". */
static int check_cns(const char *leaf_cn, const char *ca_cn, const char *prefix, struct attest_err *err)
{
	if (strstr(leaf_cn, "SGX PCK Certificate") == NULL)
		return perr(err, ATTEST_E_VERIFY, prefix, "pck.subject",
			    "PCK certificate CN \"%s\" is not an Intel SGX PCK Certificate", leaf_cn);
	if (ca_cn != NULL && (strstr(ca_cn, "SGX PCK") == NULL || strstr(ca_cn, "CA") == NULL))
		return perr(err, ATTEST_E_VERIFY, prefix, "pck.subject",
			    "PCK issuer CN \"%s\" is not an Intel SGX PCK CA", ca_cn);
	return ATTEST_OK;
}

/* The DER of one PEM body (standard alphabet, line breaks ignored). */
static int pem_body_der(const uint8_t *b, size_t n, uint8_t **der, size_t *der_len)
{
	char *text = malloc(n + 1);
	size_t i, k = 0;
	int rc;

	if (text == NULL)
		return ATTEST_E_NOMEM;
	for (i = 0; i < n; i++) {
		if (b[i] == '\n' || b[i] == '\r')
			continue;
		if (b[i] == '-' || b[i] == '_') { /* the URL alphabet has no place in PEM */
			free(text);
			return ATTEST_E_PARSE;
		}
		text[k++] = (char)b[i];
	}
	rc = b64_decode(text, k, der, der_len);
	free(text);
	return rc;
}

static bool pem_space(uint8_t ch)
{
	return ch == '\n' || ch == '\r' || ch == ' ' || ch == '\t';
}

/*
 * The next PEM certificate block of pem from *pos, decoded into *der
 * (caller frees); *der NULL when only whitespace is left.
 */
static int pem_next_der(const uint8_t *pem, size_t len, size_t *pos, uint8_t **der, size_t *der_len,
			const char *code, struct attest_err *err)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
	const size_t bl = sizeof(begin) - 1, el = sizeof(end) - 1;
	const uint8_t *body, *stop;
	size_t i = *pos;

	*der = NULL;
	while (i < len && pem_space(pem[i]))
		i++;
	*pos = i;
	if (i == len)
		return ATTEST_OK;
	if (len - i < bl || memcmp(pem + i, begin, bl) != 0)
		return attest_err_set(err, ATTEST_E_PARSE, code,
				      "certificate chain: text outside a PEM certificate at byte %zu", i);
	body = pem + i + bl;
	stop = memmem(body, len - i - bl, end, el);
	if (stop == NULL)
		return attest_err_set(err, ATTEST_E_PARSE, code,
				      "certificate chain: PEM block without its END line");
	if (pem_body_der(body, (size_t)(stop - body), der, der_len) != ATTEST_OK)
		return attest_err_set(err, ATTEST_E_PARSE, code, "certificate chain: PEM body is not base64");
	*pos = (size_t)(stop - pem) + el;
	return ATTEST_OK;
}

int intel_sgx_default_roots(STACK_OF(X509) * *out, struct attest_err *err)
{
	return x509_stack_from_pem((const uint8_t *)INTEL_SGX_ROOT_CA_PEM, strlen(INTEL_SGX_ROOT_CA_PEM), out,
				   "intel.root", err);
}

/* The DER view path (x509_der.h) ------------------------------------------------------ */

void intel_der_chain_free(struct intel_der_chain *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		x509_der_cert_free(c->owned[i]);
	memset(c, 0, sizeof(*c));
}

void intel_der_anchors_free(struct intel_der_anchors *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++)
		x509_der_cert_free((struct x509_der_cert *)a->certs[i]);
	free(a->certs);
	free(a);
}

/* The view of one anchor, or NULL when it is outside Intel's profile (or out of memory). */
static struct x509_der_cert *anchor_view(X509 *x)
{
	unsigned char *der = NULL;
	struct x509_der_cert *v = NULL;
	int n = i2d_X509(x, &der);

	if (n > 0 && x509_der_cert_parse(der, (size_t)n, &v, "intel.anchor", NULL) != ATTEST_OK)
		v = NULL;
	OPENSSL_free(der);
	return v;
}

int intel_der_anchors_new(STACK_OF(X509) * roots, struct intel_der_anchors **out, struct attest_err *err)
{
	struct intel_der_anchors *a = calloc(1, sizeof(*a));
	int n = sk_X509_num(roots);

	if (a == NULL ||
	    (n > 0 && (a->certs = calloc((size_t)n, sizeof(const struct x509_der_cert *))) == NULL)) {
		free(a);
		return attest_err_set(err, ATTEST_E_NOMEM, "intel.anchors.nomem", "out of memory");
	}
	for (int i = 0; i < n; i++) {
		struct x509_der_cert *v = anchor_view(sk_X509_value(roots, i));

		if (v != NULL)
			a->certs[a->n++] = v;
	}
	*out = a;
	return ATTEST_OK;
}

static const struct x509_der_cert *anchor_view_with_der(const struct intel_der_anchors *a, const uint8_t *der,
							size_t len)
{
	for (size_t i = 0; a != NULL && i < a->n; i++)
		if (x509_der_same(a->certs[i], der, len))
			return a->certs[i];
	return NULL;
}

int intel_pem_chain_der(const uint8_t *pem, size_t len, const struct intel_der_anchors *anchors,
			struct intel_der_chain *out, const char *code, struct attest_err *err)
{
	char pcode[ATTEST_ERR_NAME_MAX];
	struct intel_der_chain c;
	size_t i = 0;
	int rc = ATTEST_OK;

	memset(&c, 0, sizeof(c));
	snprintf(pcode, sizeof(pcode), "%s.parse", code);
	for (;;) {
		uint8_t *der = NULL;
		size_t der_len = 0;

		if ((rc = pem_next_der(pem, len, &i, &der, &der_len, pcode, err)) != ATTEST_OK || der == NULL)
			break;
		if (c.n == INTEL_CHAIN_MAX) {
			free(der);
			rc = attest_err_set(err, ATTEST_E_PARSE, pcode,
					    "certificate chain holds more than %d certificates",
					    INTEL_CHAIN_MAX);
			break;
		}
		/* A copy of a trusted root is the anchor itself: no second parse, nothing to re-check. */
		if ((c.cert[c.n] = anchor_view_with_der(anchors, der, der_len)) == NULL &&
		    (rc = x509_der_cert_parse(der, der_len, &c.owned[c.n], code, err)) == ATTEST_OK)
			c.cert[c.n] = c.owned[c.n];
		free(der);
		if (rc != ATTEST_OK) {
			attest_err_prefix(err, "certificate %zu of the chain: ", c.n + 1);
			break;
		}
		c.n++;
	}
	if (rc == ATTEST_OK && c.n == 0)
		rc = attest_err_set(err, ATTEST_E_PARSE, pcode, "certificate chain holds no certificate");
	if (rc != ATTEST_OK) {
		intel_der_chain_free(&c);
		return rc;
	}
	*out = c;
	return ATTEST_OK;
}

int intel_crl_der(const uint8_t *p, size_t len, struct x509_der_crl **out, const char *code,
		  struct attest_err *err)
{
	static const char begin[] = "-----BEGIN X509 CRL-----", end[] = "-----END X509 CRL-----";
	const size_t bl = sizeof(begin) - 1, el = sizeof(end) - 1;
	char pcode[ATTEST_ERR_NAME_MAX];
	const uint8_t *body, *stop;
	uint8_t *der = NULL;
	size_t i = 0, der_len = 0;
	int rc;

	while (i < len && pem_space(p[i]))
		i++;
	if (len - i < bl || memcmp(p + i, begin, bl) != 0)
		return x509_der_crl_parse(p, len, out, code, err);
	/* RFC 7468 §5: one CRL block, whitespace around it. */
	snprintf(pcode, sizeof(pcode), "%s.parse", code);
	body = p + i + bl;
	if ((stop = memmem(body, len - i - bl, end, el)) == NULL ||
	    pem_body_der(body, (size_t)(stop - body), &der, &der_len) != ATTEST_OK)
		return attest_err_set(err, ATTEST_E_PARSE, pcode, "malformed PEM CRL");
	for (i = (size_t)(stop - p) + el; i < len && pem_space(p[i]); i++)
		;
	rc = i == len ? x509_der_crl_parse(der, der_len, out, code, err)
		      : attest_err_set(err, ATTEST_E_PARSE, pcode, "text after the PEM CRL");
	free(der);
	return rc;
}

int pck_ext_from_der(const struct x509_der_cert *cert, struct pck_ext *out, const char *prefix,
		     struct attest_err *err)
{
	/* The reader refused a repeated extension; a missing one is ours to name. */
	if (!(cert->exts & X509_DER_EXT_SGX))
		return perr(err, ATTEST_E_PARSE, prefix, "pck.extension.missing",
			    "PCK certificate has no SGX extension (OID 1.2.840.113741.1.13.1)");
	return pck_ext_decode(cert->sgx_ext.p, cert->sgx_ext.n, out, prefix, err);
}

int pck_ca_of_der(const struct x509_der_cert *pck, enum pck_ca *out, const char *prefix,
		  struct attest_err *err)
{
	char cn[128];

	x509_der_name_cn(pck->issuer, cn, sizeof(cn));
	return ca_from_issuer_cn(cn, out, prefix, err);
}

/* Two DER ranges hold the same bytes (Names are compared as DER, as x509_der_chain_verify does). */
static bool span_same(struct der_span a, struct der_span b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

int intel_der_root_check(const struct x509_der_cert *carried, const struct intel_der_anchors *anchors,
			 const char *code, struct attest_err *err)
{
	/* The anchor itself, or another certificate of an anchor's subject and key whose self-signature
	 * verifies (§2.2: Intel's root exists as two certificates); chain building would otherwise skip a
	 * carried root and leave its bytes unchecked. */
	for (size_t i = 0; anchors != NULL && i < anchors->n; i++)
		if (anchors->certs[i] == carried)
			return ATTEST_OK;
	for (size_t i = 0; anchors != NULL && i < anchors->n; i++) {
		const struct x509_der_cert *a = anchors->certs[i];

		if (span_same(a->subject, carried->subject) && memcmp(a->pub_xy, carried->pub_xy, 64) == 0 &&
		    x509_der_signed_by(carried, a->key))
			return ATTEST_OK;
	}
	return attest_err_set(err, ATTEST_E_VERIFY, code,
			      "the root certificate carried with the chain is not a valid certificate of a "
			      "trusted Intel root key");
}

/*
 * path[0 .. n-1] (leaf first) to one of anchors at now through
 * x509_der_chain_verify, with the CRLs given (required then). No anchor:
 * <code>.<no_anchor>.
 */
static int path_to_anchor(const struct x509_der_cert *const *path, size_t n,
			  const struct intel_der_anchors *anchors, struct x509_der_crl *const *crls,
			  size_t n_crls, int64_t now, const struct x509_der_cert **anchor_out,
			  const char *no_anchor, const char *code, struct attest_err *err)
{
	struct x509_der_verify_opts o;

	if (anchors == NULL || anchors->n == 0)
		return perr(err, ATTEST_E_VERIFY, code, no_anchor,
			    "no Intel root in Intel's profile is configured");
	memset(&o, 0, sizeof(o));
	o.time = now;
	o.anchors = anchors->certs;
	o.n_anchors = anchors->n;
	o.crls = n_crls > 0 ? crls : NULL;
	o.n_crls = n_crls;
	o.require_crls = n_crls > 0;
	return x509_der_chain_verify(path, n, &o, anchor_out, code, err);
}

int intel_der_signer_verify(const struct intel_der_chain *chain, const struct intel_der_anchors *anchors,
			    struct x509_der_crl *root_crl, bool no_revocation, int64_t now, unsigned usage,
			    const struct x509_der_cert **anchor_out, const char *code, struct attest_err *err)
{
	char sub[ATTEST_ERR_NAME_MAX];
	int rc;

	if (chain == NULL || chain->n < 1 || chain->n > 2)
		return perr(
		    err, ATTEST_E_PARSE, code, "parse",
		    "holds %zu certificates; an Intel issuer chain is the signer and at most the root",
		    chain ? chain->n : 0);
	snprintf(sub, sizeof(sub), "%s.root", code);
	if (chain->n == 2 && (rc = intel_der_root_check(chain->cert[1], anchors, sub, err)) != ATTEST_OK)
		return rc;
	if (!no_revocation && root_crl == NULL)
		return perr(err, ATTEST_E_COLLATERAL, code, "crl_missing",
			    "the Root CA CRL is required (revocation checking is on)");
	/* The carried root was matched to an anchor above: the path ends at that anchor. */
	if ((rc = path_to_anchor(chain->cert, 1, anchors, &root_crl, no_revocation ? 0 : 1, now, anchor_out,
				 "root", code, err)) != ATTEST_OK)
		return rc;
	/* What the signer signs needs its key usage (Intel PCK Certificate and CRL Profile). */
	if (!(chain->cert[0]->exts & X509_DER_EXT_KU) || (chain->cert[0]->key_usage & usage) != usage)
		return perr(err, ATTEST_E_VERIFY, code, "key_usage", "the signer's keyUsage lacks %s",
			    usage & X509_DER_KU_CRL_SIGN ? "cRLSign" : "digitalSignature");
	return ATTEST_OK;
}

int intel_der_crl_verify(const struct x509_der_crl *crl, const struct x509_der_cert *issuer, int64_t now,
			 const char *code, struct attest_err *err)
{
	char cn[128];

	x509_der_name_cn(issuer->subject, cn, sizeof(cn));
	/* RFC 5280 6.3.3 (b): issued under the certificate's name, its AKI the certificate's SKI. */
	if (!span_same(crl->issuer, issuer->subject) || !(issuer->exts & X509_DER_EXT_SKI) ||
	    !span_same(crl->aki, issuer->ski))
		return perr(err, ATTEST_E_COLLATERAL, code, "crl_issuer",
			    "the CRL is not issued by \"CN=%s\" (issuer name or authority key identifier)",
			    cn);
	if (!(issuer->exts & X509_DER_EXT_KU) || !(issuer->key_usage & X509_DER_KU_CRL_SIGN))
		return perr(err, ATTEST_E_VERIFY, code, "invalid",
			    "the CRL's issuer \"CN=%s\" lacks keyUsage cRLSign", cn);
	if (crl->unknown_critical != 0)
		return perr(err, ATTEST_E_VERIFY, code, "invalid",
			    "the CRL carries an unrecognised critical extension (at +0x%zx)",
			    crl->unknown_critical);
	if (issuer->key == NULL || ecdsa_verify_der(issuer->key, HASH_SHA256, crl->tbs.p, crl->tbs.n,
						    crl->sig.p, crl->sig.n, "x509", NULL) != ATTEST_OK)
		return perr(err, ATTEST_E_COLLATERAL, code, "crl_signature",
			    "the CRL's signature does not verify with the key of \"CN=%s\"", cn);
	if (crl->this_update > now || now >= crl->next_update)
		return perr(err, ATTEST_E_COLLATERAL, code, "crl_expired",
			    "the CRL of \"CN=%s\" is %s at the verification time", cn,
			    crl->this_update > now ? "not yet valid" : "past its nextUpdate");
	return ATTEST_OK;
}

/* QVL REQUIRED_X509_EXTENSIONS of a PCK certificate (formats.md §2.1), over the DER view. */
static int check_required_der(const struct x509_der_cert *pck, const char *prefix, struct attest_err *err)
{
	static const struct {
		unsigned bit;
		const char *name;
	} req[] = {{X509_DER_EXT_AKI, "authority key identifier"},
		   {X509_DER_EXT_CRLDP, "CRL distribution points"},
		   {X509_DER_EXT_SKI, "subject key identifier"},
		   {X509_DER_EXT_KU, "key usage"},
		   {X509_DER_EXT_BC, "basic constraints"}};

	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++)
		if (!(pck->exts & req[i].bit))
			return perr(err, ATTEST_E_VERIFY, prefix, "pck.extensions",
				    "PCK certificate lacks the %s extension Intel's PCK profile requires",
				    req[i].name);
	return ATTEST_OK;
}

int pck_der_chain_verify(const struct intel_der_chain *chain, const struct intel_der_anchors *anchors,
			 struct x509_der_crl *pck_crl, struct x509_der_crl *root_crl, int64_t now,
			 bool no_revocation, struct pck_ext *ext, const struct x509_der_cert **anchor_out,
			 const char *prefix, struct attest_err *err)
{
	struct x509_der_crl *crls[2] = {pck_crl, root_crl};
	char code[ATTEST_ERR_NAME_MAX], cn[128], ca[128];
	int rc;

	if (chain == NULL || chain->n < 2 || chain->n > 3)
		return perr(err, ATTEST_E_PARSE, prefix, "pck.chain.parse",
			    "PCK chain must hold the PCK, its CA and optionally the root (%zu certificates)",
			    chain ? chain->n : 0);
	x509_der_name_cn(chain->cert[0]->subject, cn, sizeof(cn));
	x509_der_name_cn(chain->cert[1]->subject, ca, sizeof(ca));
	if ((rc = check_cns(cn, ca, prefix, err)) != ATTEST_OK)
		return rc;
	snprintf(code, sizeof(code), "%s.pck.chain.root", prefix);
	if (chain->n == 3 && (rc = intel_der_root_check(chain->cert[2], anchors, code, err)) != ATTEST_OK)
		return rc;
	if (!no_revocation && (pck_crl == NULL || root_crl == NULL))
		return perr(err, ATTEST_E_COLLATERAL, prefix, "pck.chain.crl_missing",
			    "PCK CRL and Root CA CRL are both required (revocation checking is on)");
	/* The carried root passed the check above: the path ends at the anchor of its key. */
	snprintf(code, sizeof(code), "%s.pck.chain", prefix);
	if ((rc = path_to_anchor(chain->cert, 2, anchors, crls, no_revocation ? 0 : 2, now, anchor_out,
				 "untrusted_root", code, err)) != ATTEST_OK) {
		attest_err_prefix(err, "PCK certificate chain: ");
		return rc;
	}
	if ((rc = check_required_der(chain->cert[0], prefix, err)) != ATTEST_OK)
		return rc;
	/* The PCK key signs the QE report (Intel PCK Certificate Profile: keyUsage digitalSignature). */
	if (!(chain->cert[0]->key_usage & X509_DER_KU_DIGITAL_SIGNATURE))
		return perr(
		    err, ATTEST_E_VERIFY, prefix, "pck.key_usage",
		    "PCK certificate's keyUsage lacks digitalSignature (its key signs the QE report)");
	return pck_ext_from_der(chain->cert[0], ext, prefix, err);
}
