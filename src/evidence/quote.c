/*
 * Intel ECDSA quote v3/v4/v5 parsing and the quote-level signature checks
 * (formats.md §1). Structure first (every length against its parent),
 * interpretation after; nothing is allocated.
 */
#include "evidence/quote.h"

#include "base/cur.h"
#include "crypto/crypto.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const uint8_t QUOTE_INTEL_QE_VENDOR_ID[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
					      0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

/* Records "<prefix>.<suffix>" with a formatted message and where = quote+off. */
static int qerr(struct attest_err *err, int rc, const char *prefix, const char *suffix, size_t off,
		const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int qerr(struct attest_err *err, int rc, const char *prefix, const char *suffix, size_t off,
		const char *fmt, ...)
{
	char name[ATTEST_ERR_NAME_MAX], msg[ATTEST_ERR_MSG_MAX];
	va_list ap;
	bool fresh = err != NULL && err->rc == ATTEST_OK;

	snprintf(name, sizeof(name), "%s.%s", prefix, suffix);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	attest_err_set(err, rc, name, "%s", msg);
	if (fresh && off != (size_t)-1)
		attest_err_where(err, "quote+0x%zx", off);
	return rc;
}

#define TRUNC(what, c, need)                                                                                 \
	qerr(err, ATTEST_E_PARSE, prefix, "quote.truncated", (c)->off,                                       \
	     "quote ends inside %s: %zu bytes needed, %zu left", what, (size_t)(need), cur_left(c))

void sgx_report_body_decode(const uint8_t raw[SGX_REPORT_BODY_SIZE], struct sgx_report_body *o)
{
	memcpy(o->cpusvn, raw + SGX_RB_OFF_CPUSVN, 16);
	o->miscselect = ld_u32le(raw + SGX_RB_OFF_MISCSELECT);
	memcpy(o->isvextprodid, raw + SGX_RB_OFF_ISVEXTPRODID, 16);
	memcpy(o->attributes, raw + SGX_RB_OFF_ATTRIBUTES, 16);
	o->flags = ld_u64le(raw + SGX_RB_OFF_ATTRIBUTES);
	o->xfrm = ld_u64le(raw + SGX_RB_OFF_ATTRIBUTES + 8);
	memcpy(o->mrenclave, raw + SGX_RB_OFF_MRENCLAVE, 32);
	memcpy(o->mrsigner, raw + SGX_RB_OFF_MRSIGNER, 32);
	memcpy(o->configid, raw + SGX_RB_OFF_CONFIGID, 64);
	o->isvprodid = ld_u16le(raw + SGX_RB_OFF_ISVPRODID);
	o->isvsvn = ld_u16le(raw + SGX_RB_OFF_ISVSVN);
	o->configsvn = ld_u16le(raw + SGX_RB_OFF_CONFIGSVN);
	memcpy(o->isvfamilyid, raw + SGX_RB_OFF_ISVFAMILYID, 16);
	memcpy(o->reportdata, raw + SGX_RB_OFF_REPORTDATA, 64);
}

static int parse_header(struct cur *c, uint32_t expected_tee, struct quote *q, const char *prefix,
			struct attest_err *err)
{
	const uint8_t *h;
	struct quote_header *hd = &q->hdr;

	if (cur_take(c, QUOTE_HEADER_SIZE, &h) != 0)
		return TRUNC("the header", c, QUOTE_HEADER_SIZE);
	hd->version = ld_u16le(h + QUOTE_HDR_OFF_VERSION);
	hd->att_key_type = ld_u16le(h + QUOTE_HDR_OFF_ATT_KEY_TYPE);
	hd->tee_type = ld_u32le(h + QUOTE_HDR_OFF_TEE_TYPE);
	hd->qe_svn = ld_u16le(h + QUOTE_HDR_OFF_QE_SVN);
	hd->pce_svn = ld_u16le(h + QUOTE_HDR_OFF_PCE_SVN);
	memcpy(hd->qe_vendor_id, h + QUOTE_HDR_OFF_QE_VENDOR_ID, 16);
	memcpy(hd->user_data, h + QUOTE_HDR_OFF_USER_DATA, 20);

	if (hd->version < QUOTE_VERSION_3 || hd->version > QUOTE_VERSION_5)
		return qerr(err, ATTEST_E_UNSUPPORTED, prefix, "quote.version", QUOTE_HDR_OFF_VERSION,
			    "quote version %u is not supported (3, 4 or 5)", hd->version);
	if (hd->att_key_type != QUOTE_ATT_KEY_ECDSA_P256)
		return qerr(err, ATTEST_E_UNSUPPORTED, prefix, "quote.att_key_type",
			    QUOTE_HDR_OFF_ATT_KEY_TYPE,
			    "attestation key type %u is not ECDSA-256-with-P-256 (2)", hd->att_key_type);
	if (hd->tee_type != QUOTE_TEE_SGX && hd->tee_type != QUOTE_TEE_TDX)
		return qerr(err, ATTEST_E_PARSE, prefix, "quote.tee_type", QUOTE_HDR_OFF_TEE_TYPE,
			    "tee_type 0x%08x is neither SGX (0) nor TDX (0x81)", hd->tee_type);
	if (hd->version == QUOTE_VERSION_3 && hd->tee_type != QUOTE_TEE_SGX)
		return qerr(err, ATTEST_E_PARSE, prefix, "quote.tee_type", QUOTE_HDR_OFF_TEE_TYPE,
			    "a version 3 quote must be SGX, not tee_type 0x%08x", hd->tee_type);
	if (expected_tee != QUOTE_TEE_ANY && hd->tee_type != expected_tee)
		return qerr(err, ATTEST_E_PARSE, prefix, "quote.tee_type", QUOTE_HDR_OFF_TEE_TYPE,
			    "tee_type 0x%08x is not the expected %s quote", hd->tee_type,
			    expected_tee == QUOTE_TEE_TDX ? "TDX" : "SGX");
	if (memcmp(hd->qe_vendor_id, QUOTE_INTEL_QE_VENDOR_ID, 16) != 0)
		return qerr(err, ATTEST_E_PARSE, prefix, "quote.qe_vendor", QUOTE_HDR_OFF_QE_VENDOR_ID,
			    "QE vendor id is not Intel's 939A7233F79C4CA9940A0DB3957F0607");
	return ATTEST_OK;
}

static size_t body_size_of(enum quote_body_type t)
{
	switch (t) {
	case QUOTE_BODY_SGX:
		return SGX_REPORT_BODY_SIZE;
	case QUOTE_BODY_TD10:
		return TD10_REPORT_BODY_SIZE;
	case QUOTE_BODY_TD15:
		return TD15_REPORT_BODY_SIZE;
	}
	return 0;
}

/* §1.1 / §1.5: the body and, for v5, its descriptor. */
static int parse_body(struct cur *c, struct quote *q, const char *prefix, struct attest_err *err)
{
	size_t need;

	if (q->hdr.version == QUOTE_VERSION_5) {
		uint16_t type;
		uint32_t size;
		size_t at = c->off;

		if (cur_u16le(c, &type) != 0 || cur_u32le(c, &size) != 0)
			return TRUNC("the v5 body descriptor", c, QUOTE_V5_DESCRIPTOR_SIZE);
		if (type < QUOTE_BODY_SGX || type > QUOTE_BODY_TD15 || body_size_of(type) != size ||
		    (q->hdr.tee_type == QUOTE_TEE_SGX) != (type == QUOTE_BODY_SGX))
			return qerr(err, ATTEST_E_PARSE, prefix, "quote.body_type", at,
				    "v5 body type %u with size %u is not allowed for tee_type 0x%x", type,
				    size, q->hdr.tee_type);
		q->body_type = (enum quote_body_type)type;
	} else {
		q->body_type = q->hdr.tee_type == QUOTE_TEE_SGX ? QUOTE_BODY_SGX : QUOTE_BODY_TD10;
	}
	need = body_size_of(q->body_type);
	if (cur_take(c, need, &q->body) != 0)
		return TRUNC("the report body", c, need);
	q->body_len = need;
	q->signed_data = q->raw;
	q->signed_len = c->off;
	if (q->body_type == QUOTE_BODY_SGX)
		sgx_report_body_decode(q->body, &q->sgx);
	return ATTEST_OK;
}

/* Certification data header: u16 type, u32 size, payload. */
static int parse_cert_data(struct cur *c, uint16_t *type, const uint8_t **data, uint32_t *len,
			   const char *prefix, struct attest_err *err)
{
	if (cur_u16le(c, type) != 0 || cur_u32le(c, len) != 0)
		return TRUNC("the certification data header", c, 6);
	if (cur_take(c, *len, data) != 0)
		return TRUNC("the certification data", c, *len);
	return ATTEST_OK;
}

/* Types 1-3 carry PPID + CPUSVN + PCESVN + PCE-ID (§1.6). */
static int parse_ppid(struct quote *q, size_t at, const char *prefix, struct attest_err *err)
{
	size_t plen = q->cert_type == QUOTE_CERT_PPID_CLEARTEXT		  ? 16
		      : q->cert_type == QUOTE_CERT_PPID_RSA2048_ENCRYPTED ? 256
									  : 384;
	struct cur c;

	cur_init(&c, q->cert_data, q->cert_data_len);
	c.off = at;
	if (cur_take(&c, plen, &q->ppid.ppid) != 0 || cur_take(&c, 16, &q->ppid.cpusvn) != 0 ||
	    cur_u16le(&c, &q->ppid.pcesvn) != 0 || cur_take(&c, 2, &q->ppid.pceid) != 0)
		return qerr(err, ATTEST_E_PARSE, prefix, "quote.cert_data", at,
			    "certification data type %u is %u bytes, not %zu", q->cert_type, q->cert_data_len,
			    plen + 20);
	if (!cur_empty(&c))
		return qerr(err, ATTEST_E_PARSE, prefix, "quote.cert_data", c.off,
			    "certification data type %u has %zu bytes after its fields", q->cert_type,
			    cur_left(&c));
	q->ppid.ppid_len = plen;
	return ATTEST_OK;
}

static int check_inner_type(struct quote *q, size_t at, const char *prefix, struct attest_err *err)
{
	if (q->cert_type < QUOTE_CERT_PPID_CLEARTEXT || q->cert_type > QUOTE_CERT_PCK_CHAIN)
		return qerr(err, ATTEST_E_PARSE, prefix, "quote.cert_type", at,
			    "certification data type %u is not allowed here (1 to 5)", q->cert_type);
	if (q->cert_type <= QUOTE_CERT_PPID_RSA3072_ENCRYPTED)
		return parse_ppid(q, at + 6, prefix, err);
	return ATTEST_OK;
}

/* QE report, its signature and the QE authentication data (shared by v3 and type 6). */
static int parse_qe_part(struct cur *c, struct quote *q, const char *prefix, struct attest_err *err)
{
	if (cur_take(c, QUOTE_QE_REPORT_SIZE, &q->qe_report) != 0)
		return TRUNC("the QE report", c, QUOTE_QE_REPORT_SIZE);
	if (cur_take(c, QUOTE_ECDSA_SIG_SIZE, &q->qe_report_sig) != 0)
		return TRUNC("the QE report signature", c, QUOTE_ECDSA_SIG_SIZE);
	if (cur_u16le(c, &q->qe_auth_len) != 0)
		return TRUNC("the QE authentication data size", c, 2);
	if (cur_take(c, q->qe_auth_len, &q->qe_auth) != 0)
		return TRUNC("the QE authentication data", c, q->qe_auth_len);
	sgx_report_body_decode(q->qe_report, &q->qe);
	return ATTEST_OK;
}

/* v4/v5: outer certification data must be type 6 wrapping the QE part and an inner type 1-5. */
static int parse_type6(struct cur *c, struct quote *q, const char *prefix, struct attest_err *err)
{
	uint16_t type = 0;
	const uint8_t *payload = NULL;
	uint32_t plen = 0;
	size_t at = c->off;
	struct cur in;
	int rc;

	if ((rc = parse_cert_data(c, &type, &payload, &plen, prefix, err)) != ATTEST_OK)
		return rc;
	if (type != QUOTE_CERT_QE_REPORT)
		return qerr(err, ATTEST_E_PARSE, prefix, "quote.cert_type", at,
			    "version %u quotes need certification data type 6, not %u", q->hdr.version, type);
	cur_init(&in, payload, plen);
	in.off = at + 6;
	if ((rc = parse_qe_part(&in, q, prefix, err)) != ATTEST_OK)
		return rc;
	at = in.off;
	if ((rc = parse_cert_data(&in, &q->cert_type, &q->cert_data, &q->cert_data_len, prefix, err)) !=
	    ATTEST_OK)
		return rc;
	if (!cur_empty(&in))
		return qerr(err, ATTEST_E_PARSE, prefix, "quote.cert_data", in.off,
			    "QE report certification data has %zu bytes after its inner certification data",
			    cur_left(&in));
	return check_inner_type(q, at, prefix, err);
}

static int parse_sig_data(struct cur *c, struct quote *q, const char *prefix, struct attest_err *err)
{
	struct cur sd;
	size_t at;
	int rc;

	if (cur_u32le(c, &q->sig_data_len) != 0)
		return TRUNC("the signature data length", c, 4);
	if (cur_sub(c, q->sig_data_len, &sd) != 0)
		return TRUNC("the signature data", c, q->sig_data_len);
	if (cur_take(&sd, QUOTE_ECDSA_SIG_SIZE, &q->isv_sig) != 0)
		return TRUNC("the ISV signature", &sd, QUOTE_ECDSA_SIG_SIZE);
	if (cur_take(&sd, QUOTE_ECDSA_KEY_SIZE, &q->att_key) != 0)
		return TRUNC("the attestation key", &sd, QUOTE_ECDSA_KEY_SIZE);
	if (q->hdr.version != QUOTE_VERSION_3) {
		rc = parse_type6(&sd, q, prefix, err);
	} else {
		if ((rc = parse_qe_part(&sd, q, prefix, err)) != ATTEST_OK)
			return rc;
		at = sd.off;
		if ((rc = parse_cert_data(&sd, &q->cert_type, &q->cert_data, &q->cert_data_len, prefix,
					  err)) != ATTEST_OK)
			return rc;
		rc = check_inner_type(q, at, prefix, err);
	}
	if (rc != ATTEST_OK)
		return rc;
	if (!cur_empty(&sd))
		return qerr(err, ATTEST_E_PARSE, prefix, "quote.sig_len", sd.off,
			    "signature data declares %u bytes but its contents end %zu bytes earlier",
			    q->sig_data_len, cur_left(&sd));
	return ATTEST_OK;
}

int quote_parse(const uint8_t *p, size_t n, uint32_t expected_tee, struct quote *out, const char *prefix,
		struct attest_err *err)
{
	struct quote q;
	struct cur c;
	int rc;

	memset(&q, 0, sizeof(q));
	q.raw = p;
	q.raw_len = n;
	cur_init(&c, p, n);
	if ((rc = parse_header(&c, expected_tee, &q, prefix, err)) != ATTEST_OK ||
	    (rc = parse_body(&c, &q, prefix, err)) != ATTEST_OK ||
	    (rc = parse_sig_data(&c, &q, prefix, err)) != ATTEST_OK)
		return rc;
	q.len = c.off;
	/* §1.7 step 1: bytes after the signature data are ignored, as QVL does. */
	q.trailing = cur_left(&c);
	*out = q;
	return ATTEST_OK;
}

int quote_verify_qe_binding(const struct quote *q, const char *prefix, struct attest_err *err)
{
	uint8_t md[32];
	static const uint8_t zero[32];
	struct hash_ctx h;

	memset(&h, 0, sizeof(h));
	if (hash_init(&h, HASH_SHA256) != ATTEST_OK ||
	    hash_update(&h, q->att_key, QUOTE_ECDSA_KEY_SIZE) != 0 ||
	    hash_update(&h, q->qe_auth, q->qe_auth_len) != 0 || hash_final(&h, md) != 0) {
		hash_ctx_free(&h);
		return qerr(err, ATTEST_E_INTERNAL, prefix, "qe_report.binding", (size_t)-1,
			    "SHA-256 failed");
	}
	if (!crypto_memeq(md, q->qe.reportdata, 32) || !crypto_memeq(zero, q->qe.reportdata + 32, 32))
		return qerr(err, ATTEST_E_VERIFY, prefix, "qe_report.binding",
			    (size_t)(q->qe_report - q->raw) + 320,
			    "QE report data is not SHA-256(attestation key || QE authentication data) "
			    "followed by zeros");
	return ATTEST_OK;
}

int quote_verify_qe_report_sig(const struct quote *q, EVP_PKEY *pck_key, const char *prefix,
			       struct attest_err *err)
{
	char code[ATTEST_ERR_NAME_MAX];

	snprintf(code, sizeof(code), "%s.qe_report.signature", prefix);
	if (ecdsa_verify_rs_be(pck_key, HASH_SHA256, q->qe_report, QUOTE_QE_REPORT_SIZE, q->qe_report_sig,
			       QUOTE_ECDSA_SIG_SIZE, code, err) != ATTEST_OK) {
		attest_err_prefix(err, "QE report signature by the PCK key: ");
		attest_err_where(err, "quote+0x%zx", (size_t)(q->qe_report_sig - q->raw));
		return err ? err->rc : ATTEST_E_VERIFY;
	}
	return ATTEST_OK;
}

int quote_attestation_key(const struct quote *q, EVP_PKEY **key, const char *prefix, struct attest_err *err)
{
	char code[ATTEST_ERR_NAME_MAX];
	int rc;

	snprintf(code, sizeof(code), "%s.quote.attestation_key", prefix);
	rc = ec_pubkey_from_xy(EC_P256, q->att_key, QUOTE_ECDSA_KEY_SIZE, key, code, err);
	if (rc != ATTEST_OK)
		attest_err_where(err, "quote+0x%zx", (size_t)(q->att_key - q->raw));
	return rc;
}

int quote_verify_isv_sig_with_key(const struct quote *q, EVP_PKEY *key, const char *prefix,
				  struct attest_err *err)
{
	char code[ATTEST_ERR_NAME_MAX];
	int rc;

	snprintf(code, sizeof(code), "%s.quote.signature", prefix);
	rc = ecdsa_verify_rs_be(key, HASH_SHA256, q->signed_data, q->signed_len, q->isv_sig,
				QUOTE_ECDSA_SIG_SIZE, code, err);
	if (rc != ATTEST_OK) {
		attest_err_prefix(err, "quote signature by the attestation key over header and body: ");
		attest_err_where(err, "quote+0x%zx", (size_t)(q->isv_sig - q->raw));
	}
	return rc;
}

int quote_verify_isv_sig(const struct quote *q, const char *prefix, struct attest_err *err)
{
	EVP_PKEY *key = NULL;
	int rc = quote_attestation_key(q, &key, prefix, err);

	if (rc == ATTEST_OK)
		rc = quote_verify_isv_sig_with_key(q, key, prefix, err);
	EVP_PKEY_free(key);
	return rc;
}

int quote_pck_chain_pem(const struct quote *q, const uint8_t **pem, size_t *pem_len, const char *prefix,
			struct attest_err *err)
{
	static const char end_marker[] = "-----END CERTIFICATE-----";
	const uint8_t *d = q->cert_data;
	size_t n = q->cert_data_len, last_end = 0, i;

	if (q->cert_type != QUOTE_CERT_PCK_CHAIN && q->cert_type != QUOTE_CERT_PCK_CLEARTEXT)
		return qerr(err, ATTEST_E_PARSE, prefix, "quote.cert_type", (size_t)-1,
			    "certification data type %u carries no PCK certificate", q->cert_type);
	/* The end of the last END marker; what follows may only be whitespace or NULs (§1.6). */
	for (i = 0; n >= sizeof(end_marker) - 1 && i <= n - (sizeof(end_marker) - 1); i++)
		if (d[i] == '-' && memcmp(d + i, end_marker, sizeof(end_marker) - 1) == 0)
			last_end = i + sizeof(end_marker) - 1;
	if (last_end == 0)
		return qerr(err, ATTEST_E_PARSE, prefix, "quote.cert_data", (size_t)(d - q->raw),
			    "PCK certification data holds no PEM certificate");
	for (i = last_end; i < n; i++)
		if (d[i] != '\n' && d[i] != '\r' && d[i] != ' ' && d[i] != '\t' && d[i] != '\0')
			return qerr(err, ATTEST_E_PARSE, prefix, "quote.cert_data", (size_t)(d - q->raw) + i,
				    "PCK certification data has trailing content after the last certificate");
	*pem = d;
	*pem_len = last_end;
	return ATTEST_OK;
}
