/*
 * Synthetic Azure guest attestation pieces: see azure_guest_dev.h.
 */
#include "devplat/azure_guest_dev.h"

#include "base/codec.h"
#include "base/jsonx.h"
#include "devplat/snp_plat.h"
#include "evidence/azure_cvm.h"

#include <openssl/core_names.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_mu.h>

static int fail(struct attest_err *err, const char *what)
{
	return attest_err_set(err, ATTEST_E_INTERNAL, "devplat.azg", "cannot make the %s", what);
}

int devplat_azg_tpm_public(EVP_PKEY *key, bool aik, uint8_t **out, size_t *len, struct attest_err *err)
{
	TPMT_PUBLIC tp;
	BIGNUM *n = NULL;
	uint8_t *b = malloc(sizeof(TPMT_PUBLIC));
	size_t off = 0;

	memset(&tp, 0, sizeof(tp));
	if (b == NULL || EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    BN_num_bytes(n) > (int)sizeof(tp.unique.rsa.buffer))
		goto bad;
	tp.type = TPM2_ALG_RSA;
	tp.nameAlg = TPM2_ALG_SHA256;
	tp.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
			      TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
			      (aik ? TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT : TPMA_OBJECT_DECRYPT);
	tp.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
	tp.parameters.rsaDetail.scheme.scheme = aik ? TPM2_ALG_RSASSA : TPM2_ALG_NULL;
	if (aik)
		tp.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
	tp.parameters.rsaDetail.keyBits = (TPMI_RSA_KEY_BITS)(BN_num_bytes(n) * 8);
	tp.unique.rsa.size = (UINT16)BN_bn2bin(n, tp.unique.rsa.buffer);
	if (Tss2_MU_TPMT_PUBLIC_Marshal(&tp, b, sizeof(TPMT_PUBLIC), &off) != TSS2_RC_SUCCESS)
		goto bad;
	BN_free(n);
	*out = b;
	*len = off;
	return ATTEST_OK;
bad:
	BN_free(n);
	free(b);
	return fail(err, "TPM public area");
}

/* RSASSA-SHA256 TPMT_SIGNATURE of msg by ak, marshalled. */
static int sign_rsassa(EVP_PKEY *ak, const uint8_t *msg, size_t len, uint8_t *out, size_t cap, size_t *olen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	TPMT_SIGNATURE s;
	size_t sl = sizeof(s.signature.rsassa.sig.buffer);
	int ok;

	memset(&s, 0, sizeof(s));
	ok = md != NULL && EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, ak) == 1 &&
	     EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
	     EVP_DigestSign(md, s.signature.rsassa.sig.buffer, &sl, msg, len) == 1;
	EVP_MD_CTX_free(md);
	if (!ok)
		return -1;
	s.sigAlg = TPM2_ALG_RSASSA;
	s.signature.rsassa.hash = TPM2_ALG_SHA256;
	s.signature.rsassa.sig.size = (UINT16)sl;
	*olen = 0;
	return Tss2_MU_TPMT_SIGNATURE_Marshal(&s, out, cap, olen) == TSS2_RC_SUCCESS ? 0 : -1;
}

int devplat_azg_certify(EVP_PKEY *ak, const uint8_t *pub, size_t pub_len, uint8_t **attest,
			size_t *attest_len, uint8_t **sig, size_t *sig_len, struct attest_err *err)
{
	TPMT_PUBLIC tp;
	TPMS_ATTEST a;
	size_t off = 0, nl = 0;
	uint8_t *ab = malloc(sizeof(TPMS_ATTEST)), *sb = malloc(sizeof(TPMT_SIGNATURE));

	memset(&a, 0, sizeof(a));
	if (ab == NULL || sb == NULL || tpm_public_parse(pub, pub_len, &tp, err) != ATTEST_OK)
		goto bad;
	a.magic = TPM2_GENERATED_VALUE;
	a.type = TPM2_ST_ATTEST_CERTIFY;
	if (tpm_public_name(&tp, a.attested.certify.name.name, sizeof(a.attested.certify.name.name), &nl,
			    err) != ATTEST_OK)
		goto bad;
	a.attested.certify.name.size = (UINT16)nl;
	if (Tss2_MU_TPMS_ATTEST_Marshal(&a, ab, sizeof(TPMS_ATTEST), &off) != TSS2_RC_SUCCESS ||
	    sign_rsassa(ak, ab, off, sb, sizeof(TPMT_SIGNATURE), sig_len) != 0)
		goto bad;
	*attest = ab;
	*attest_len = off;
	*sig = sb;
	return ATTEST_OK;
bad:
	free(ab);
	free(sb);
	return fail(err, "TPM2_Certify");
}

/* Sets obj[name] = standard base64 of b (skipped when b is absent). */
static int set_b64(json_t *obj, const char *name, struct devplat_azg_bytes b)
{
	char *s;

	if (b.p == NULL)
		return 0;
	if ((s = b64std_encode(b.p, b.n)) == NULL)
		return -1;
	json_object_set_new(obj, name, json_string(s));
	free(s);
	return 0;
}

static json_t *pcrs_json(const struct devplat_azg_request *r)
{
	json_t *a = json_array();

	for (unsigned i = 0; a != NULL && i < TPM_PCR_COUNT; i++) {
		char *d;

		if (!(r->pcrs->present[TPM_BANK_SHA256] & (1u << i)))
			continue;
		d = b64std_encode(r->pcrs->v[TPM_BANK_SHA256][i], 32);
		json_array_append_new(a, json_pack("{s:i,s:s}", "Index", (int)i, "Digest", d ? d : ""));
		free(d);
	}
	return a;
}

static json_t *tpm_info(const struct devplat_azg_request *r)
{
	json_t *t = json_object(), *set = json_array();
	int bad = t == NULL || set == NULL;

	for (unsigned i = 0; !bad && i < TPM_PCR_COUNT; i++)
		if (r->pcr_set & (1u << i))
			json_array_append_new(set, json_integer(i));
	bad = bad || set_b64(t, "AikCert", r->aik_cert) || set_b64(t, "AikPub", r->aik_pub) ||
	      set_b64(t, "PcrQuote", r->quote) || set_b64(t, "PcrSignature", r->quote_sig) ||
	      set_b64(t, "EncKeyPub", r->enc_pub) || set_b64(t, "EncKeyCertifyInfo", r->certify) ||
	      set_b64(t, "EncKeyCertifyInfoSignature", r->certify_sig);
	if (bad) {
		json_decref(t);
		json_decref(set);
		return NULL;
	}
	json_object_set_new(t, "PcrSet", set);
	json_object_set_new(t, "PCRs", pcrs_json(r));
	return t;
}

static json_t *isolation(const struct devplat_azg_request *r)
{
	json_t *ev = json_object();
	char *p = r->proof.p ? b64url_encode(r->proof.p, r->proof.n) : NULL;
	char *rt = r->runtime.p ? b64url_encode(r->runtime.p, r->runtime.n) : NULL;

	if (ev != NULL && p != NULL)
		json_object_set_new(ev, "Proof", json_string(p));
	if (ev != NULL && rt != NULL)
		json_object_set_new(ev, "RunTimeData", json_string(rt));
	free(p);
	free(rt);
	return json_pack("{s:s,s:o}", "Type", r->isolation_type, "Evidence", ev);
}

int devplat_azg_request_json(const struct devplat_azg_request *r, char **text, struct attest_err *err)
{
	json_t *root = json_object(), *t = tpm_info(r);
	char *os = b64std_encode((const uint8_t *)r->os_type, strlen(r->os_type));
	char *distro = b64std_encode((const uint8_t *)"Synthetic", 9);
	char *build = b64std_encode((const uint8_t *)"NotApplicable", 13);
	int rc = ATTEST_OK;

	if (root == NULL || t == NULL || os == NULL || distro == NULL || build == NULL) {
		json_decref(t);
		rc = fail(err, "request");
		goto out;
	}
	json_object_set_new(root, "AttestationProtocolVersion", json_string("2.0"));
	json_object_set_new(root, "OSType", json_string(os));
	json_object_set_new(root, "OSDistro", json_string(distro));
	json_object_set_new(root, "OSBuild", json_string(build));
	json_object_set_new(root, "OSVersionMajor", json_string("10"));
	json_object_set_new(root, "OSVersionMinor", json_string("0"));
	set_b64(root, "TcgLogs", r->log);
	if (r->client_payload != NULL)
		json_object_set_new(root, "ClientPayload", json_deep_copy(r->client_payload));
	json_object_set_new(root, "TpmInfo", t);
	if (r->isolation_type != NULL)
		json_object_set_new(root, "IsolationInfo", isolation(r));
	if ((*text = jsonx_dump(root)) == NULL)
		rc = fail(err, "request text");
out:
	json_decref(root);
	free(os);
	free(distro);
	free(build);
	return rc;
}

char *devplat_azg_snp_proof(const struct snp_plat *plat, const struct snp_plat_leaf *leaf,
			    const struct devplat_azg_snp *spec, const char *runtime)
{
	struct snp_report r;
	uint8_t *hcl = NULL;
	size_t hl = 0;
	char *a = snp_plat_pem(leaf->cert), *b = snp_plat_pem(snp_plat_ask(plat)), *chain = NULL, *rb = NULL,
	     *cb = NULL, *out = NULL;

	snp_plat_report_defaults(plat, spec->chip_id, spec->tcb, false, &r);
	r.vmpl = spec->vmpl;
	r.policy |= spec->policy_bits;
	/* The HCL report maker sets REPORT_DATA = SHA-256(runtime) || 0 and signs. */
	if (a != NULL && b != NULL && snp_plat_hcl_report(&r, leaf->key, runtime, &hcl, &hl, NULL) == 0 &&
	    asprintf(&chain, "%s%s", a, b) > 0) {
		rb = b64url_encode(hcl + HCL_OFF_HW_REPORT, SNP_REPORT_SIZE);
		cb = b64url_encode((const uint8_t *)chain, strlen(chain));
		if (rb == NULL || cb == NULL ||
		    asprintf(&out, "{\"SnpReport\":\"%s\",\"VcekCertChain\":\"%s\"}", rb, cb) < 0)
			out = NULL;
	}
	free(a), free(b), free(chain), free(rb), free(cb), free(hcl);
	return out;
}
