/* Synthetic TPM evidence: see tpm_dev.h. */
#include "devplat/tpm_dev.h"

#include "base/codec.h"
#include "base/jsonx.h"
#include "crypto/jose.h"
#include "evidence/tcg_log.h"
#include "evidence/tpm_protocol.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_mu.h>

#define LOG_MAX (4u * 1024 * 1024)

static int put_u32le(struct buf *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

	return buf_append(b, x, 4);
}

static int put_u16le(struct buf *b, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

	return buf_append(b, x, 2);
}

static int put_u64le(struct buf *b, uint64_t v)
{
	return put_u32le(b, (uint32_t)v) || put_u32le(b, (uint32_t)(v >> 32));
}

/* ---- event log ------------------------------------------------------------ */

int devplat_tcg_log_init(struct devplat_tcg_log *l)
{
	static const uint8_t zero[20];
	struct buf spec;
	int rc;

	memset(l, 0, sizeof(*l));
	buf_init(&l->log, LOG_MAX);
	buf_init(&spec, 256);
	/* TCG_EfiSpecIDEvent (PFP §10.4.5.1): SHA-1 and SHA-256, uintnSize 2. */
	rc = buf_append(&spec, "Spec ID Event03", 16) || put_u32le(&spec, 0) || buf_append_u8(&spec, 0) ||
	     buf_append_u8(&spec, 2) || buf_append_u8(&spec, 0) || buf_append_u8(&spec, 2) ||
	     put_u32le(&spec, 2) || put_u16le(&spec, TPM2_ALG_SHA1) || put_u16le(&spec, 20) ||
	     put_u16le(&spec, TPM2_ALG_SHA256) || put_u16le(&spec, 32) || buf_append_u8(&spec, 0);
	/* The header is a legacy TCG_PCR_EVENT (PFP §10.2.1). */
	rc = rc || put_u32le(&l->log, 0) || put_u32le(&l->log, EV_NO_ACTION) || buf_append(&l->log, zero, 20) ||
	     put_u32le(&l->log, (uint32_t)spec.len) || buf_append(&l->log, spec.p, spec.len);
	buf_free(&spec);
	return rc ? ATTEST_E_NOMEM : ATTEST_OK;
}

void devplat_tcg_log_free(struct devplat_tcg_log *l)
{
	buf_free(&l->log);
}

int devplat_tcg_log_add_digests(struct devplat_tcg_log *l, uint32_t pcr, uint32_t type, const void *data,
				size_t len, const uint8_t sha1[20], const uint8_t sha256[32])
{
	struct devplat_tcg_extend *e;

	if (l->n == DEVPLAT_TCG_MAX_EVENTS || pcr >= TPM_PCR_COUNT)
		return ATTEST_E_INVALID;
	if (put_u32le(&l->log, pcr) || put_u32le(&l->log, type) || put_u32le(&l->log, 2) ||
	    put_u16le(&l->log, TPM2_ALG_SHA1) || buf_append(&l->log, sha1, 20) ||
	    put_u16le(&l->log, TPM2_ALG_SHA256) || buf_append(&l->log, sha256, 32) ||
	    put_u32le(&l->log, (uint32_t)len) || buf_append(&l->log, data, len))
		return ATTEST_E_NOMEM;
	if (type == EV_NO_ACTION)
		return ATTEST_OK;
	e = &l->ext[l->n++];
	e->pcr = pcr;
	memcpy(e->sha1, sha1, 20);
	memcpy(e->sha256, sha256, 32);
	return ATTEST_OK;
}

int devplat_tcg_log_add(struct devplat_tcg_log *l, uint32_t pcr, uint32_t type, const void *data, size_t len)
{
	uint8_t s1[20], s256[32];

	EVP_Digest(data, len, s1, NULL, EVP_sha1(), NULL);
	EVP_Digest(data, len, s256, NULL, EVP_sha256(), NULL);
	return devplat_tcg_log_add_digests(l, pcr, type, data, len, s1, s256);
}

void devplat_tcg_log_pcrs(const struct devplat_tcg_log *l, struct tpm_pcr_values *out)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < TPM_PCR_COUNT; i++) {
		uint8_t fill = (i >= 17 && i <= 22) ? 0xff : 0x00;

		memset(out->v[TPM_BANK_SHA1][i], fill, 20);
		memset(out->v[TPM_BANK_SHA256][i], fill, 32);
	}
	out->present[TPM_BANK_SHA1] = out->present[TPM_BANK_SHA256] = 0xFFFFFF;
	for (size_t k = 0; k < l->n; k++) {
		const struct devplat_tcg_extend *e = &l->ext[k];

		EVP_DigestInit_ex(md, EVP_sha1(), NULL);
		EVP_DigestUpdate(md, out->v[TPM_BANK_SHA1][e->pcr], 20);
		EVP_DigestUpdate(md, e->sha1, 20);
		EVP_DigestFinal_ex(md, out->v[TPM_BANK_SHA1][e->pcr], NULL);
		EVP_DigestInit_ex(md, EVP_sha256(), NULL);
		EVP_DigestUpdate(md, out->v[TPM_BANK_SHA256][e->pcr], 32);
		EVP_DigestUpdate(md, e->sha256, 32);
		EVP_DigestFinal_ex(md, out->v[TPM_BANK_SHA256][e->pcr], NULL);
	}
	EVP_MD_CTX_free(md);
}

int devplat_uefi_global_var(struct buf *out, const char *name, const void *data, size_t len)
{
	/* EFI_GLOBAL_VARIABLE 8be4df61-93ca-11d2-aa0d-00e098032b8c, mixed-endian. */
	static const uint8_t guid[16] = {0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
					 0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c};
	size_t n = strlen(name);
	int rc = buf_append(out, guid, 16) || put_u64le(out, n) || put_u64le(out, len);

	for (size_t i = 0; i < n && !rc; i++)
		rc = put_u16le(out, (uint8_t)name[i]);
	return rc || buf_append(out, data, len) ? ATTEST_E_NOMEM : ATTEST_OK;
}

int devplat_sipa(struct buf *out, uint32_t type, const void *data, uint32_t len)
{
	return put_u32le(out, type) || put_u32le(out, len) || buf_append(out, data, len) ? ATTEST_E_NOMEM
											 : ATTEST_OK;
}

static int add_var(struct devplat_tcg_log *l, const char *name, const void *data, size_t len)
{
	struct buf b;
	int rc;

	buf_init(&b, 65536);
	rc = devplat_uefi_global_var(&b, name, data, len) ||
	     devplat_tcg_log_add(l, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, b.p, b.len);
	buf_free(&b);
	return rc;
}

static int add_image(struct devplat_tcg_log *l, uint32_t pcr, unsigned k)
{
	uint8_t ev[32 + 4], s1[20], s256[32], img[32];

	/* UEFI_IMAGE_LOAD_EVENT with no device path; the digest is of a "PE image". */
	memset(ev, 0, sizeof(ev));
	ev[0] = (uint8_t)k;
	snprintf((char *)img, sizeof(img), "image-%u", k);
	EVP_Digest(img, sizeof(img), s1, NULL, EVP_sha1(), NULL);
	EVP_Digest(img, sizeof(img), s256, NULL, EVP_sha256(), NULL);
	return devplat_tcg_log_add_digests(l, pcr, EV_EFI_BOOT_SERVICES_APPLICATION, ev, 32, s1, s256);
}

static int windows_trust_boundary(struct devplat_tcg_log *l, const struct devplat_boot *b)
{
	uint8_t zero = 0, one = 1, dbg = b->boot_debugging, safe = b->safe_mode;
	uint64_t vsm = b->vbs ? 1 : 0;
	struct buf inner, outer;
	int rc;

	buf_init(&inner, 4096);
	buf_init(&outer, 4096);
	rc = devplat_sipa(&inner, 0x00040001u, &dbg, 1) ||       /* BootDebugging */
	     devplat_sipa(&inner, 0x00050001u, &zero, 1) ||      /* OsKernelDebug */
	     devplat_sipa(&inner, 0x00050002u, &one, 1) ||       /* CodeIntegrity */
	     devplat_sipa(&inner, 0x00050003u, &zero, 1) ||      /* TestSigning */
	     devplat_sipa(&inner, 0x00050005u, &safe, 1) ||      /* SafeMode */
	     devplat_sipa(&inner, 0x00050006u, &zero, 1) ||      /* WinPE */
	     devplat_sipa(&inner, 0x00050012u, &vsm, 8) ||       /* VSMLaunchType */
	     devplat_sipa(&inner, 0x000A0003u, &vsm, 1) ||       /* VBS IOMMU required */
	     devplat_sipa(&outer, 0x40010001u, inner.p, (uint32_t)inner.len) || /* TrustBoundary */
	     devplat_tcg_log_add(l, 12, EV_EVENT_TAG, outer.p, outer.len) ||
	     devplat_tcg_log_add(l, 13, EV_SEPARATOR, "WBCL", 4) || devplat_tcg_log_add(l, 14, EV_SEPARATOR, "WBCL", 4);
	buf_free(&inner);
	buf_free(&outer);
	return rc;
}

int devplat_tcg_log_boot(struct devplat_tcg_log *l, const struct devplat_boot *b)
{
	static const uint8_t sep[4] = {0, 0, 0, 0};
	static const uint8_t crtm[] = {'1', 0, '.', 0, '0', 0, 0, 0};
	static const char *const actions[] = {"Calling EFI Application from Boot Option",
					      "Exit Boot Services Invocation",
					      "Exit Boot Services Returned with Success"};
	uint8_t sb = b->secure_boot ? 1 : 0, pk[64] = {0x30}, locality[17] = "StartupLocality";
	int rc;

	locality[16] = 0;
	rc = devplat_tcg_log_add_digests(l, 0, EV_NO_ACTION, locality, 17, (const uint8_t[20]){0},
					 (const uint8_t[32]){0}) ||
	     devplat_tcg_log_add(l, 0, EV_S_CRTM_VERSION, crtm, sizeof(crtm)) ||
	     add_var(l, "SecureBoot", &sb, 1) || add_var(l, "PK", pk, sizeof(pk)) ||
	     add_var(l, "KEK", pk, sizeof(pk)) || add_var(l, "db", pk, sizeof(pk)) ||
	     add_var(l, "dbx", pk, sizeof(pk));
	for (uint32_t pcr = 0; pcr <= 7 && !rc; pcr++)
		rc = devplat_tcg_log_add(l, pcr, EV_SEPARATOR, sep, 4);
	rc = rc || devplat_tcg_log_add(l, 4, EV_EFI_ACTION, actions[0], strlen(actions[0]));
	for (int k = 0; k < b->extra_events && !rc; k++)
		rc = add_image(l, 4, (unsigned)k);
	rc = rc || devplat_tcg_log_add(l, 5, EV_EFI_ACTION, actions[1], strlen(actions[1])) ||
	     devplat_tcg_log_add(l, 5, EV_EFI_ACTION, actions[2], strlen(actions[2])) ||
	     windows_trust_boundary(l, b);
	return rc ? ATTEST_E_NOMEM : ATTEST_OK;
}

/* ---- software quote ----------------------------------------------------------- */

static int sign_attest(EVP_PKEY *ak, const uint8_t *msg, size_t len, TPMT_SIGNATURE *s)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t sig[1024];
	size_t sl = sizeof(sig);
	int rsa = EVP_PKEY_get_base_id(ak) == EVP_PKEY_RSA, ok;

	ok = md != NULL && EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, ak) == 1 &&
	     (!rsa || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1) &&
	     EVP_DigestSign(md, sig, &sl, msg, len) == 1;
	EVP_MD_CTX_free(md);
	if (!ok)
		return -1;
	memset(s, 0, sizeof(*s));
	if (rsa) {
		s->sigAlg = TPM2_ALG_RSASSA;
		s->signature.rsassa.hash = TPM2_ALG_SHA256;
		s->signature.rsassa.sig.size = (UINT16)sl;
		memcpy(s->signature.rsassa.sig.buffer, sig, sl);
	} else {
		const unsigned char *q = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)sl);
		const BIGNUM *r, *sv;

		if (es == NULL)
			return -1;
		ECDSA_SIG_get0(es, &r, &sv);
		s->sigAlg = TPM2_ALG_ECDSA;
		s->signature.ecdsa.hash = TPM2_ALG_SHA256;
		s->signature.ecdsa.signatureR.size = 32;
		s->signature.ecdsa.signatureS.size = 32;
		ok = BN_bn2binpad(r, s->signature.ecdsa.signatureR.buffer, 32) == 32 &&
		     BN_bn2binpad(sv, s->signature.ecdsa.signatureS.buffer, 32) == 32;
		ECDSA_SIG_free(es);
		if (!ok)
			return -1;
	}
	return 0;
}

int devplat_tpm_quote(EVP_PKEY *ak, const struct tpm_pcr_values *pcrs, enum tpm_bank bank, uint32_t mask,
		      const uint8_t *nonce, size_t nonce_len, uint8_t **attest, size_t *attest_len,
		      uint8_t **sig, size_t *sig_len, struct attest_err *err)
{
	TPMS_ATTEST a;
	TPMT_SIGNATURE s;
	uint8_t *ab = malloc(sizeof(TPMS_ATTEST)), *sb = malloc(sizeof(TPMT_SIGNATURE));
	size_t ao = 0, so = 0, dl = 0;
	TPMS_PCR_SELECTION *sel;

	memset(&a, 0, sizeof(a));
	a.magic = TPM2_GENERATED_VALUE;
	a.type = TPM2_ST_ATTEST_QUOTE;
	a.qualifiedSigner.size = 34;
	a.qualifiedSigner.name[1] = 0x0b;
	if (nonce_len > sizeof(a.extraData.buffer) || ab == NULL || sb == NULL)
		goto fail;
	a.extraData.size = (UINT16)nonce_len;
	if (nonce_len > 0)
		memcpy(a.extraData.buffer, nonce, nonce_len);
	a.clockInfo.clock = 123456;
	a.clockInfo.safe = 1;
	a.attested.quote.pcrSelect.count = 1;
	sel = &a.attested.quote.pcrSelect.pcrSelections[0];
	sel->hash = tpm_bank_alg(bank);
	sel->sizeofSelect = 3;
	sel->pcrSelect[0] = (uint8_t)mask, sel->pcrSelect[1] = (uint8_t)(mask >> 8);
	sel->pcrSelect[2] = (uint8_t)(mask >> 16);
	if (tpm_pcr_digest(&a.attested.quote.pcrSelect, pcrs, TPM2_ALG_SHA256, a.attested.quote.pcrDigest.buffer,
			   &dl, err) != ATTEST_OK)
		goto fail;
	a.attested.quote.pcrDigest.size = (UINT16)dl;
	if (Tss2_MU_TPMS_ATTEST_Marshal(&a, ab, sizeof(TPMS_ATTEST), &ao) != TSS2_RC_SUCCESS ||
	    sign_attest(ak, ab, ao, &s) != 0 ||
	    Tss2_MU_TPMT_SIGNATURE_Marshal(&s, sb, sizeof(TPMT_SIGNATURE), &so) != TSS2_RC_SUCCESS)
		goto fail;
	*attest = ab, *attest_len = ao;
	*sig = sb, *sig_len = so;
	return ATTEST_OK;
fail:
	free(ab);
	free(sb);
	return attest_err_set(err, ATTEST_E_INTERNAL, "devplat.tpm.quote", "cannot make the software quote");
}

int devplat_tpm_certify(EVP_PKEY *ak, EVP_PKEY *key, uint8_t **pub, size_t *pub_len, uint8_t **attest,
			size_t *attest_len, uint8_t **sig, size_t *sig_len, struct attest_err *err)
{
	TPMT_PUBLIC tp;
	TPMS_ATTEST a;
	TPMT_SIGNATURE s;
	BIGNUM *n = NULL;
	uint8_t *pb = malloc(sizeof(TPMT_PUBLIC)), *ab = malloc(sizeof(TPMS_ATTEST)), *sb = malloc(sizeof(TPMT_SIGNATURE));
	size_t po = 0, ao = 0, so = 0, nl = 0;

	memset(&tp, 0, sizeof(tp));
	memset(&a, 0, sizeof(a));
	if (pb == NULL || ab == NULL || sb == NULL || EVP_PKEY_get_bn_param(key, "n", &n) != 1 ||
	    BN_num_bytes(n) > (int)sizeof(tp.unique.rsa.buffer))
		goto fail;
	/* An RSA signing key as a TPM would create it (Part 2 §12.2.4). */
	tp.type = TPM2_ALG_RSA;
	tp.nameAlg = TPM2_ALG_SHA256;
	tp.objectAttributes = TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
			      TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH;
	tp.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
	tp.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
	tp.parameters.rsaDetail.keyBits = (TPMI_RSA_KEY_BITS)(BN_num_bytes(n) * 8);
	tp.unique.rsa.size = (UINT16)BN_bn2bin(n, tp.unique.rsa.buffer);
	if (Tss2_MU_TPMT_PUBLIC_Marshal(&tp, pb, sizeof(TPMT_PUBLIC), &po) != TSS2_RC_SUCCESS)
		goto fail;
	a.magic = TPM2_GENERATED_VALUE;
	a.type = TPM2_ST_ATTEST_CERTIFY;
	if (tpm_public_name(&tp, a.attested.certify.name.name, sizeof(a.attested.certify.name.name), &nl, err) !=
	    ATTEST_OK)
		goto fail;
	a.attested.certify.name.size = (UINT16)nl;
	if (Tss2_MU_TPMS_ATTEST_Marshal(&a, ab, sizeof(TPMS_ATTEST), &ao) != TSS2_RC_SUCCESS ||
	    sign_attest(ak, ab, ao, &s) != 0 ||
	    Tss2_MU_TPMT_SIGNATURE_Marshal(&s, sb, sizeof(TPMT_SIGNATURE), &so) != TSS2_RC_SUCCESS)
		goto fail;
	BN_free(n);
	*pub = pb, *pub_len = po;
	*attest = ab, *attest_len = ao;
	*sig = sb, *sig_len = so;
	return ATTEST_OK;
fail:
	BN_free(n);
	free(pb);
	free(ab);
	free(sb);
	return attest_err_set(err, ATTEST_E_INTERNAL, "devplat.tpm.certify", "cannot make the certification");
}

/* ---- VBS report ------------------------------------------------------------- */

int devplat_vbs_report(EVP_PKEY *key, const uint8_t enclave_data[64], const struct devplat_vbs_identity *id,
		       struct buf *out, struct attest_err *err)
{
	struct buf st;
	uint8_t sig[1024];
	size_t sl = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int rc = 0;

	buf_init(&st, 65536);
	/* VBS_ENCLAVE_REPORT; ReportSize is patched once the blocks are known. */
	rc = put_u32le(&st, 0) || put_u32le(&st, 1) || buf_append(&st, enclave_data, 64) ||
	     buf_append(&st, id->owner_id, 32) || buf_append(&st, id->unique_id, 32) ||
	     buf_append(&st, id->author_id, 32) || buf_append(&st, id->family_id, 16) ||
	     buf_append(&st, id->image_id, 16) || put_u32le(&st, id->enclave_svn) ||
	     put_u32le(&st, id->secure_kernel_svn) || put_u32le(&st, id->platform_svn) ||
	     put_u32le(&st, id->flags) || put_u32le(&st, 0) || put_u32le(&st, 0x10);
	if (!rc && id->module_name != NULL) {
		size_t nl = strlen(id->module_name);
		uint32_t size = (uint32_t)(8 + 32 + 32 + 16 + 16 + 4 + 2 * (nl + 1));

		rc = put_u32le(&st, 1) || put_u32le(&st, size) || buf_append(&st, id->unique_id, 32) ||
		     buf_append(&st, id->author_id, 32) || buf_append(&st, id->family_id, 16) ||
		     buf_append(&st, id->image_id, 16) || put_u32le(&st, id->enclave_svn);
		for (size_t i = 0; i <= nl && !rc; i++)
			rc = put_u16le(&st, (uint8_t)id->module_name[i]);
	}
	if (!rc) {
		st.p[0] = (uint8_t)st.len, st.p[1] = (uint8_t)(st.len >> 8);
		rc = !(md != NULL && EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key) == 1 &&
		       EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
		       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1 &&
		       EVP_DigestSign(md, sig, &sl, st.p, st.len) == 1);
	}
	rc = rc || put_u32le(out, (uint32_t)(24 + st.len + sl)) || put_u32le(out, 1) || put_u32le(out, 1) ||
	     put_u32le(out, (uint32_t)st.len) || put_u32le(out, (uint32_t)sl) || put_u32le(out, 0) ||
	     buf_append(out, st.p, st.len) || buf_append(out, sig, sl);
	EVP_MD_CTX_free(md);
	buf_free(&st);
	return rc ? attest_err_set(err, ATTEST_E_INTERNAL, "devplat.vbs", "cannot make the VBS report") : ATTEST_OK;
}

/* ---- protocol client --------------------------------------------------------- */

static json_t *b64_json(const uint8_t *p, size_t n)
{
	char *s = b64url_encode(p, n);
	json_t *v = s ? json_string(s) : json_null();

	free(s);
	return v;
}

static int aik_members(json_t *o, const struct devplat_tpm_attestation *a, struct attest_err *err)
{
	json_t *jwk = NULL;
	int rc = jwk_from_key(a->aik, NULL, NULL, &jwk, err);

	if (rc != ATTEST_OK)
		return rc;
	json_object_set_new(o, "aik_pub", jwk);
	if (a->aik_cert_der)
		json_object_set_new(o, "aik_cert", b64_json(a->aik_cert_der, a->aik_cert_len));
	return ATTEST_OK;
}

static json_t *att_v2(const struct devplat_tpm_attestation *a, struct attest_err *err)
{
	json_t *o = json_object(), *logs = json_array(), *l = json_object();

	if (a->log_before != NULL) {
		json_t *b = json_object();

		json_object_set_new(b, "type", json_string("TCG"));
		json_object_set_new(b, "log", b64_json(a->log_before, a->log_before_len));
		json_array_append_new(logs, b);
	}
	json_object_set_new(l, "type", json_string("TCG"));
	json_object_set_new(l, "log", b64_json(a->log, a->log_len));
	json_array_append_new(logs, l);
	json_object_set_new(o, "logs", logs);
	if (aik_members(o, a, err) != ATTEST_OK) {
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "pcrs", tpm_pcrs_to_json(a->pcrs));
	json_object_set_new(o, "quote", b64_json(a->quote, a->quote_len));
	json_object_set_new(o, "signature", b64_json(a->sig, a->sig_len));
	return o;
}

int devplat_tpm_attestation_json(const struct devplat_tpm_attestation *a, char **out, struct attest_err *err)
{
	json_t *o = att_v2(a, err); /* NULL only when the AIK cannot be encoded (err says so) */

	if (o == NULL)
		return ATTEST_E_INTERNAL;
	*out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return *out ? ATTEST_OK : attest_err_set(err, ATTEST_E_NOMEM, "devplat.tpm", "out of memory");
}

/* PCP_PLATFORM_ATTESTATION_BLOB v2 over the SHA-256 bank (tpm_protocol.h). */
static json_t *pcp_blob(const struct devplat_tpm_attestation *a)
{
	struct buf b;
	json_t *v;
	int rc;

	buf_init(&b, LOG_MAX);
	rc = put_u32le(&b, 0x53444150u) || put_u32le(&b, 2) || put_u32le(&b, 32) ||
	     put_u32le(&b, 24 * 32) || put_u32le(&b, (uint32_t)a->quote_len) || put_u32le(&b, (uint32_t)a->sig_len) ||
	     put_u32le(&b, (uint32_t)a->log_len) || put_u32le(&b, TPM2_ALG_SHA256);
	for (unsigned i = 0; i < TPM_PCR_COUNT && !rc; i++)
		rc = buf_append(&b, a->pcrs->v[TPM_BANK_SHA256][i], 32);
	rc = rc || buf_append(&b, a->quote, a->quote_len) || buf_append(&b, a->sig, a->sig_len) ||
	     buf_append(&b, a->log, a->log_len);
	v = rc ? json_null() : b64_json(b.p, b.len);
	buf_free(&b);
	return v;
}

static json_t *tpm_att_data(const struct devplat_tpm_request *rq, struct attest_err *err)
{
	json_t *t = json_object();

	if (rq->version == 2) {
		json_t *cur = att_v2(rq->current, err), *boot = rq->boot ? att_v2(rq->boot, err) : NULL;

		if (cur == NULL || (rq->boot && boot == NULL)) {
			json_decref(cur);
			json_decref(t);
			return NULL;
		}
		json_object_set_new(t, "current_attestation", cur);
		if (boot)
			json_object_set_new(t, "boot_attestation", boot);
		return t;
	}
	json_object_set_new(t, "srtm_boot_log", b64_json(rq->current->log, rq->current->log_len));
	if (aik_members(t, rq->current, err) != ATTEST_OK) {
		json_decref(t);
		return NULL;
	}
	json_object_set_new(t, "current_claim", pcp_blob(rq->current));
	if (rq->boot)
		json_object_set_new(t, "boot_claim", pcp_blob(rq->boot));
	return t;
}

static json_t *att_data(const struct devplat_tpm_request *rq, struct attest_err *err)
{
	json_t *d = json_object(), *jwk = NULL, *tad = tpm_att_data(rq, err);

	if (tad == NULL || jwk_from_key(rq->request_key, NULL, NULL, &jwk, err) != ATTEST_OK) {
		json_decref(tad);
		json_decref(d);
		return NULL;
	}
	if (rq->rp_id)
		json_object_set_new(d, "rp_id", json_string(rq->rp_id));
	if (rq->rp_data)
		json_object_set_new(d, "rp_data", json_string(rq->rp_data));
	json_object_set_new(d, "challenge", json_string(rq->challenge));
	json_object_set_new(d, "tpm_att_data", tad);
	if (rq->version == 1) {
		json_object_set_new(d, "attest_key", jwk);
	} else {
		json_t *k = json_object();

		json_object_set_new(k, "jwk", jwk);
		json_object_set_new(d, "request_key", k);
	}
	if (rq->other_key != NULL) {
		json_t *ok = json_object(), *cert = json_object(), *info = json_object(), *ojwk = NULL;

		jwk_from_key(rq->other_key, NULL, NULL, &ojwk, NULL);
		json_object_set_new(cert, "public", b64_json(rq->other_pub, rq->other_pub_len));
		json_object_set_new(cert, "certification", b64_json(rq->other_attest, rq->other_attest_len));
		json_object_set_new(cert, "signature", b64_json(rq->other_sig, rq->other_sig_len));
		json_object_set_new(info, "tpm_certify", cert);
		json_object_set_new(ok, "jwk", ojwk ? ojwk : json_null());
		json_object_set_new(ok, "info", info);
		json_object_set_new(d, "other_keys", json_pack("[o]", ok));
	}
	if (rq->custom_claims)
		json_object_set_new(d, "custom_claims", json_deep_copy(rq->custom_claims));
	json_object_set_new(d, "service_context", json_string(rq->service_context));
	return d;
}

/* {"att_type":"vbs","att_data":{"report_signed":<text>,"vsm_report":...}} with the text kept verbatim. */
static char *vbs_payload(const struct devplat_tpm_request *rq, const char *rs, struct attest_err *err)
{
	uint8_t h[64];
	struct buf rep, out;
	char *vsm, *res = NULL;

	buf_init(&rep, 65536);
	buf_init(&out, LOG_MAX * 2);
	EVP_Digest(rs, strlen(rs), h, NULL, EVP_sha512(), NULL);
	if (devplat_vbs_report(rq->vbs_key, h, rq->vbs_identity, &rep, err) == ATTEST_OK &&
	    (vsm = b64url_encode(rep.p, rep.len)) != NULL) {
		if (buf_printf(&out, "{\"att_type\":\"vbs\",\"att_data\":{\"report_signed\":%s,\"vsm_report\":\"%s\"}}",
			       rs, vsm) == 0)
			res = (char *)buf_steal(&out, NULL);
		free(vsm);
	}
	buf_free(&rep);
	buf_free(&out);
	return res;
}

int devplat_tpm_request_build(const struct devplat_tpm_request *rq, char **msg, struct attest_err *err)
{
	json_t *data = att_data(rq, err), *hdr = json_object(), *top, *m;
	struct jws_signer *signer = NULL;
	char *payload = NULL, *jws = NULL;
	int rc = ATTEST_E_INTERNAL;

	json_object_set_new(hdr, "typ", json_string(rq->version == 1 ? "attReq" : "attReqV2"));
	if (data == NULL)
		goto out;
	if (rq->vbs_key != NULL) {
		char *rs = jsonx_dump(data);

		payload = rs ? vbs_payload(rq, rs, err) : NULL;
		free(rs);
	} else {
		top = json_object();
		json_object_set_new(top, "att_type", json_string("basic"));
		json_object_set(top, "att_data", data);
		payload = jsonx_dump(top);
		json_decref(top);
	}
	if (payload == NULL ||
	    (rc = jws_signer_new(rq->request_key, JWS_ALG_PS256, hdr, &signer, err)) != ATTEST_OK ||
	    (rc = jws_sign(signer, payload, strlen(payload), &jws, err)) != ATTEST_OK)
		goto out;
	m = json_object();
	json_object_set_new(m, "request", json_string(jws));
	*msg = jsonx_dump(m);
	json_decref(m);
	rc = *msg ? ATTEST_OK : ATTEST_E_NOMEM;
out:
	if (rc != ATTEST_OK)
		attest_err_set(err, rc, "devplat.tpm.request", "cannot build the request");
	jws_signer_free(signer);
	json_decref(hdr);
	json_decref(data);
	free(payload);
	free(jws);
	return rc;
}
