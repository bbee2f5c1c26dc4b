/*
 * Synthetic Intel ECDSA quotes v3/v4/v5 (formats.md §1) and OE envelopes
 * (§4): the QE report is bound to the attestation key and signed by the
 * PCK key; the ISV signature covers header [+ descriptor] + body.
 */
#include "devplat/intel_internal.h"

#include "crypto/crypto.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t INTEL_QE_MRSIGNER[32] = {
    0x8c, 0x4f, 0x57, 0x75, 0xd7, 0x96, 0x50, 0x3e, 0x96, 0x13, 0x7f, 0x77, 0xc6, 0x8a, 0x82, 0x9a,
    0x00, 0x56, 0xac, 0x8d, 0xed, 0x70, 0x14, 0x0b, 0x08, 0x1b, 0x09, 0x44, 0x90, 0xc5, 0x7b, 0xff};

void intel_devplat_enclave_default(struct intel_devplat_enclave *e)
{
	memset(e, 0, sizeof(*e));
	memset(e->cpusvn, 0x05, 16);
	e->flags = SGX_FLAGS_INIT | SGX_FLAGS_MODE64BIT;
	e->xfrm = 7;
	memset(e->mrenclave, 0xe1, 32);
	memset(e->mrsigner, 0x51, 32);
	e->isvprodid = 1;
	e->isvsvn = 1;
}

void intel_devplat_qe_default(struct intel_devplat_enclave *e)
{
	memset(e, 0, sizeof(*e));
	memset(e->cpusvn, 0x05, 16);
	e->flags = SGX_FLAGS_INIT | SGX_FLAGS_MODE64BIT | SGX_FLAGS_PROVISION_KEY;
	e->xfrm = 0xe7;
	memset(e->mrenclave, 0x9e, 32);
	memcpy(e->mrsigner, INTEL_QE_MRSIGNER, 32);
	e->isvprodid = 1;
	e->isvsvn = 8;
}

static void st16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
}
static void st32(uint8_t *p, uint32_t v)
{
	st16(p, (uint16_t)v), st16(p + 2, (uint16_t)(v >> 16));
}
static void st64(uint8_t *p, uint64_t v)
{
	st32(p, (uint32_t)v), st32(p + 4, (uint32_t)(v >> 32));
}

void intel_devplat_report_body(const struct intel_devplat_enclave *e, uint8_t out[SGX_REPORT_BODY_SIZE])
{
	memset(out, 0, SGX_REPORT_BODY_SIZE);
	memcpy(out + SGX_RB_OFF_CPUSVN, e->cpusvn, 16);
	st32(out + SGX_RB_OFF_MISCSELECT, e->miscselect);
	memcpy(out + SGX_RB_OFF_ISVEXTPRODID, e->isvextprodid, 16);
	st64(out + SGX_RB_OFF_ATTRIBUTES, e->flags);
	st64(out + SGX_RB_OFF_ATTRIBUTES + 8, e->xfrm);
	memcpy(out + SGX_RB_OFF_MRENCLAVE, e->mrenclave, 32);
	memcpy(out + SGX_RB_OFF_MRSIGNER, e->mrsigner, 32);
	memcpy(out + SGX_RB_OFF_CONFIGID, e->configid, 64);
	st16(out + SGX_RB_OFF_ISVPRODID, e->isvprodid);
	st16(out + SGX_RB_OFF_ISVSVN, e->isvsvn);
	st16(out + SGX_RB_OFF_CONFIGSVN, e->configsvn);
	memcpy(out + SGX_RB_OFF_ISVFAMILYID, e->isvfamilyid, 16);
	memcpy(out + SGX_RB_OFF_REPORTDATA, e->reportdata, 64);
}

void intel_devplat_quote_default(struct intel_devplat_quote *q)
{
	memset(q, 0, sizeof(*q));
	q->version = 3;
	q->tee_type = QUOTE_TEE_SGX;
	q->body_type = QUOTE_BODY_SGX;
	intel_devplat_qe_default(&q->qe);
	q->qe_svn_header = 8;
	q->cert_type = QUOTE_CERT_PCK_CHAIN;
}

/* The certification data payload of the inner type (5: PEM chain + NUL as real QEs write it). */
static int cert_payload(const struct intel_devplat *p, const struct intel_devplat_quote *s, struct buf *out)
{
	uint8_t tail[20];
	char *pem = NULL;
	size_t len = 0;
	int rc;

	if (s->cert_type >= QUOTE_CERT_PPID_CLEARTEXT && s->cert_type <= QUOTE_CERT_PPID_RSA3072_ENCRYPTED) {
		size_t want = s->cert_type == 1 ? 16 : s->cert_type == 2 ? 256 : 384;
		uint8_t *ppid = calloc(1, want);

		if (ppid == NULL)
			return ATTEST_E_NOMEM;
		memcpy(ppid, s->ppid ? s->ppid : p->ppid,
		       s->ppid ? (s->ppid_len < want ? s->ppid_len : want) : 16);
		memcpy(tail, p->o.comp_svn, 16);
		st16(tail + 16, p->o.pcesvn);
		memcpy(tail + 18, p->o.pceid, 2);
		rc = buf_append(out, ppid, want) || buf_append(out, tail, 20) ? ATTEST_E_NOMEM : ATTEST_OK;
		free(ppid);
		return rc;
	}
	if (s->cert_type == QUOTE_CERT_PCK_CLEARTEXT) {
		X509 *c[1] = {p->pck};

		rc = intel_devplat_pem(c, 1, &pem, &len);
	} else {
		rc = intel_devplat_pck_chain_pem(p, &pem, &len);
	}
	if (rc == ATTEST_OK && (buf_append(out, pem, len) != 0 || buf_append_u8(out, 0) != 0))
		rc = ATTEST_E_NOMEM;
	free(pem);
	return rc;
}

/* QE report ‖ signature ‖ auth size ‖ auth ‖ u16 type ‖ u32 size ‖ cert data (v3 tail, type-6 payload). */
static int qe_part(const struct intel_devplat *p, const struct intel_devplat_quote *s, struct buf *out)
{
	static const uint8_t default_auth[32] = {0,  1,	 2,  3,	 4,  5,	 6,  7,	 8,  9,	 10,
						 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
						 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
	const uint8_t *auth = s->qe_auth ? s->qe_auth : default_auth;
	size_t auth_len = s->qe_auth ? s->qe_auth_len : sizeof(default_auth);
	struct intel_devplat_enclave qe = s->qe;
	uint8_t report[SGX_REPORT_BODY_SIZE], sig[64], h[6];
	struct buf cert;
	struct hash_ctx hc;
	int rc;

	/* QE binding (§1.7 step 4): REPORTDATA = SHA-256(att key ‖ auth data) ‖ zeros. */
	memset(qe.reportdata, 0, 64);
	memset(&hc, 0, sizeof(hc));
	if (hash_init(&hc, HASH_SHA256) != 0 || hash_update(&hc, p->att_xy, 64) != 0 ||
	    hash_update(&hc, auth, auth_len) != 0 || hash_final(&hc, qe.reportdata) != 0)
		return ATTEST_E_INTERNAL;
	intel_devplat_report_body(&qe, report);
	if (intel_devplat_sign(p->pck_key, report, sizeof(report), sig) != 0)
		return ATTEST_E_INTERNAL;
	buf_init(&cert, 1u << 20);
	if ((rc = cert_payload(p, s, &cert)) != ATTEST_OK) {
		buf_free(&cert);
		return rc;
	}
	st16(h, (uint16_t)auth_len);
	rc = buf_append(out, report, sizeof(report)) || buf_append(out, sig, 64) || buf_append(out, h, 2) ||
	     buf_append(out, auth, auth_len);
	st16(h, s->cert_type ? s->cert_type : QUOTE_CERT_PCK_CHAIN);
	st32(h + 2, (uint32_t)cert.len);
	rc = rc || buf_append(out, h, 6) || buf_append(out, cert.p, cert.len);
	buf_free(&cert);
	return rc ? ATTEST_E_NOMEM : ATTEST_OK;
}

static void header(const struct intel_devplat *p, const struct intel_devplat_quote *s,
		   uint8_t h[QUOTE_HEADER_SIZE])
{
	memset(h, 0, QUOTE_HEADER_SIZE);
	st16(h + QUOTE_HDR_OFF_VERSION, (uint16_t)s->version);
	st16(h + QUOTE_HDR_OFF_ATT_KEY_TYPE, QUOTE_ATT_KEY_ECDSA_P256);
	st32(h + QUOTE_HDR_OFF_TEE_TYPE, s->tee_type);
	if (s->version == 3)
		st16(h + QUOTE_HDR_OFF_QE_SVN, s->qe_svn_header);
	st16(h + QUOTE_HDR_OFF_PCE_SVN, p->o.pcesvn);
	memcpy(h + QUOTE_HDR_OFF_QE_VENDOR_ID, QUOTE_INTEL_QE_VENDOR_ID, 16);
	memset(h + QUOTE_HDR_OFF_USER_DATA, 0x42, 16);
}

int intel_devplat_make_quote(const struct intel_devplat *p, const struct intel_devplat_quote *s,
			     uint8_t **out, size_t *len, struct attest_err *err)
{
	struct buf q, sd, qe;
	uint8_t h[QUOTE_HEADER_SIZE], sig[64], n[6];
	size_t signed_len;
	int rc = 0;

	if (s->body == NULL || (s->version < 3 || s->version > 5))
		return attest_err_set(err, ATTEST_E_INVALID, "devplat.quote",
				      "quote spec needs a body and version 3-5");
	buf_init(&q, 1u << 22);
	buf_init(&sd, 1u << 22);
	buf_init(&qe, 1u << 22);
	header(p, s, h);
	rc = buf_append(&q, h, sizeof(h));
	if (s->version == 5) {
		st16(n, (uint16_t)s->body_type);
		st32(n + 2, (uint32_t)s->body_len);
		rc = rc || buf_append(&q, n, 6);
	}
	rc = rc || buf_append(&q, s->body, s->body_len);
	signed_len = q.len;
	rc = rc || intel_devplat_sign(p->att_key, q.p, signed_len, sig) != 0;
	rc = rc || buf_append(&sd, sig, 64) || buf_append(&sd, p->att_xy, 64);
	rc = rc || qe_part(p, s, &qe) != ATTEST_OK;
	if (s->version == 3) {
		rc = rc || buf_append(&sd, qe.p, qe.len);
	} else {
		st16(n, QUOTE_CERT_QE_REPORT);
		st32(n + 2, (uint32_t)qe.len);
		rc = rc || buf_append(&sd, n, 6) || buf_append(&sd, qe.p, qe.len);
	}
	st32(n, (uint32_t)sd.len);
	rc = rc || buf_append(&q, n, 4) || buf_append(&q, sd.p, sd.len);
	while (!rc && q.len < signed_len + 4 + sd.len + s->trailing)
		rc = buf_append_u8(&q, 0);
	buf_free(&sd);
	buf_free(&qe);
	if (rc) {
		buf_free(&q);
		return attest_err_set(err, ATTEST_E_INTERNAL, "devplat.quote", "building the quote failed");
	}
	*out = buf_steal(&q, len);
	return ATTEST_OK;
}

int intel_devplat_oe_report(const uint8_t *quote, size_t quote_len, uint8_t **out, size_t *len)
{
	uint8_t *r = malloc(16 + quote_len);

	if (r == NULL)
		return ATTEST_E_NOMEM;
	st32(r, 1);
	st32(r + 4, 2); /* SGX remote */
	st64(r + 8, quote_len);
	memcpy(r + 16, quote, quote_len);
	*out = r;
	*len = 16 + quote_len;
	return ATTEST_OK;
}

int intel_devplat_oe_evidence(const uint8_t *quote, size_t quote_len, const uint8_t *claims,
			      size_t claims_len, bool with_header, uint8_t **out, size_t *len)
{
	static const uint8_t sgx_ecdsa[16] = {0xa3, 0xa2, 0x1e, 0x87, 0x1b, 0x4d, 0x40, 0x14,
					      0xb7, 0x0a, 0xa1, 0x25, 0xd2, 0xfb, 0xcd, 0x8c};
	size_t hdr = with_header ? 32 : 0, total = hdr + quote_len + claims_len;
	uint8_t *r = calloc(1, total ? total : 1);

	if (r == NULL)
		return ATTEST_E_NOMEM;
	if (with_header) {
		st32(r, 3);
		memcpy(r + 4, sgx_ecdsa, 16);
		st64(r + 24, quote_len + claims_len);
	}
	memcpy(r + hdr, quote, quote_len);
	if (claims_len)
		memcpy(r + hdr + quote_len, claims, claims_len);
	*out = r;
	*len = total;
	return ATTEST_OK;
}

int intel_devplat_oe_custom_claims(const char *const *names, const uint8_t *const *values,
				   const size_t *value_lens, size_t n, uint8_t **out, size_t *len)
{
	struct buf b;
	uint8_t w[8];
	size_t i;
	int rc;

	buf_init(&b, 1u << 20);
	st64(w, 1);
	rc = buf_append(&b, w, 8);
	st64(w, n);
	rc = rc || buf_append(&b, w, 8);
	for (i = 0; i < n; i++) {
		size_t nl = strlen(names[i]) + 1;

		st64(w, nl);
		rc = rc || buf_append(&b, w, 8);
		st64(w, value_lens[i]);
		rc = rc || buf_append(&b, w, 8) || buf_append(&b, names[i], nl) ||
		     (value_lens[i] && buf_append(&b, values[i], value_lens[i]));
	}
	if (rc) {
		buf_free(&b);
		return ATTEST_E_NOMEM;
	}
	*out = buf_steal(&b, len);
	return ATTEST_OK;
}
