/*
 * Azure confidential VMs: the HCL report and the SevSnpVm request. See
 * azure_cvm.h; layouts in formats.md §6, request in maa-interface.md
 * §1.3.1 and §1.3.3.
 */
#include "evidence/azure_cvm.h"

#include "base/codec.h"
#include "base/cur.h"
#include "base/jsonx.h"
#include "crypto/crypto.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <stdlib.h>
#include <string.h>

/* ---- HCL report -------------------------------------------------------------- */

static bool zeros(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static int hcl_err(struct attest_err *err, int rc, const char *name, size_t off, const char *msg)
{
	attest_err_set(err, rc, name, "HCL report: %s", msg);
	attest_err_where(err, "hcl+0x%03zx", off);
	return rc;
}

/* The fixed part: header, hardware report, HclData header (0x000..0x4D3). */
static int hcl_read_fixed(struct cur *c, struct hcl_report *h, const uint8_t **reserved, uint32_t *var_size)
{
	uint32_t sig;

	if (cur_u32le(c, &sig) || cur_u32le(c, &h->version) || cur_u32le(c, &h->report_size) ||
	    cur_u32le(c, &h->request_type) || cur_take(c, 16, reserved) ||
	    cur_take(c, HCL_HW_REPORT_SIZE, &h->hw_report) || cur_u32le(c, &h->data_size) ||
	    cur_u32le(c, &h->data_version) || cur_u32le(c, &h->report_type) || cur_u32le(c, &h->hash_type) ||
	    cur_u32le(c, var_size))
		return -1;
	return sig == HCL_SIGNATURE ? 0 : 1;
}

static int hcl_check_fields(const struct hcl_report *h, const uint8_t *reserved, uint32_t var_size,
			    struct attest_err *err)
{
	if (h->version < 1 || h->version > HCL_VERSION_MAX)
		return hcl_err(err, ATTEST_E_UNSUPPORTED, "hcl.version", HCL_OFF_VERSION, "unknown version");
	if (!zeros(reserved, 16))
		return hcl_err(err, ATTEST_E_PARSE, "hcl.reserved", HCL_OFF_RESERVED,
			       "reserved bytes are not zero");
	/* §6.2: ReportSize = 0x4D4 + V, DataSize = 20 + V (no wrap: V is checked against the input first). */
	if ((uint64_t)h->report_size != (uint64_t)HCL_OFF_VAR_DATA + var_size)
		return hcl_err(err, ATTEST_E_PARSE, "hcl.size", HCL_OFF_REPORT_SIZE,
			       "ReportSize is not 0x4D4 + VariableDataSize");
	if ((uint64_t)h->data_size != (uint64_t)HCL_DATA_HEADER_SIZE + var_size)
		return hcl_err(err, ATTEST_E_PARSE, "hcl.size", HCL_OFF_DATA_SIZE,
			       "HclData.DataSize is not 20 + VariableDataSize");
	if (h->data_version != 1)
		return hcl_err(err, ATTEST_E_UNSUPPORTED, "hcl.version", HCL_OFF_DATA_VERSION,
			       "HclData version is not 1");
	if (h->report_type != HCL_REPORT_SNP && h->report_type != HCL_REPORT_TVM &&
	    h->report_type != HCL_REPORT_TDX)
		return hcl_err(err, ATTEST_E_UNSUPPORTED, "hcl.report_type", HCL_OFF_REPORT_TYPE,
			       "unknown report type (2 SNP, 3 TVM, 4 TDX)");
	if (h->hash_type < HCL_HASH_SHA256 || h->hash_type > HCL_HASH_SHA512)
		return hcl_err(err, ATTEST_E_UNSUPPORTED, "hcl.hash_type", HCL_OFF_HASH_TYPE,
			       "unknown report data hash type (1 SHA-256, 2 SHA-384, 3 SHA-512)");
	/* A TDREPORT fills 1024 of the 1184 bytes; the rest is padding. */
	if (h->report_type == HCL_REPORT_TDX &&
	    !zeros(h->hw_report + HCL_TDREPORT_SIZE, HCL_HW_REPORT_SIZE - HCL_TDREPORT_SIZE))
		return hcl_err(err, ATTEST_E_PARSE, "hcl.reserved", HCL_OFF_HW_REPORT + HCL_TDREPORT_SIZE,
			       "the padding after the TDREPORT is not zero");
	return ATTEST_OK;
}

int hcl_report_parse(const uint8_t *p, size_t n, struct hcl_report *out, struct attest_err *err)
{
	struct hcl_report h;
	const uint8_t *reserved = NULL;
	uint32_t var_size = 0;
	struct cur c;
	int rc;

	memset(&h, 0, sizeof(h));
	cur_init(&c, p, n);
	rc = hcl_read_fixed(&c, &h, &reserved, &var_size);
	if (rc < 0)
		return hcl_err(err, ATTEST_E_PARSE, "hcl.truncated", c.off,
			       "shorter than its 0x4D4-byte fixed part");
	if (rc > 0)
		return hcl_err(err, ATTEST_E_PARSE, "hcl.signature", 0, "does not start with \"HCLA\"");
	if (cur_take(&c, var_size, &h.var_data))
		return hcl_err(err, ATTEST_E_PARSE, "hcl.truncated", HCL_OFF_VAR_SIZE,
			       "VariableDataSize runs past the end of the input");
	h.var_len = var_size;
	if ((rc = hcl_check_fields(&h, reserved, var_size, err)) != ATTEST_OK)
		return rc;
	*out = h;
	return ATTEST_OK;
}

int hcl_report_bind(const struct hcl_report *h, struct attest_err *err)
{
	static const enum hash_alg algs[] = {HASH_SHA256, HASH_SHA256, HASH_SHA384, HASH_SHA512};
	uint8_t d[HASH_MAX_LEN];
	const uint8_t *rd;
	size_t dl;

	if (h->report_type == HCL_REPORT_SNP)
		rd = h->hw_report + SNP_OFF_REPORT_DATA;
	else if (h->report_type == HCL_REPORT_TDX)
		rd = h->hw_report + HCL_TDREPORT_OFF_REPORTDATA;
	else
		return attest_err_set(err, ATTEST_E_UNSUPPORTED, "hcl.report_type",
				      "HCL report type %u carries no hardware report to bind to",
				      h->report_type);
	dl = hash_len(algs[h->hash_type]);
	if (hash_digest(algs[h->hash_type], h->var_data, h->var_len, d) != 0)
		return attest_err_set(err, ATTEST_E_INTERNAL, "hcl.internal", "hashing failed");
	if (!crypto_memeq(d, rd, dl) || !zeros(rd + dl, 64 - dl))
		return attest_err_set(
		    err, ATTEST_E_VERIFY, "hcl.binding",
		    "the hardware report's report data is not the hash of the HCL runtime data");
	return ATTEST_OK;
}

static BIGNUM *b64_bn(const char *s)
{
	uint8_t *raw = NULL;
	size_t n = 0;
	BIGNUM *bn = NULL;

	if (s != NULL && b64_decode(s, strlen(s), &raw, &n) == 0 && n > 0 && n <= 1024)
		bn = BN_bin2bn(raw, (int)n, NULL);
	free(raw);
	return bn;
}

int jwk_rsa_public(const json_t *jwk, EVP_PKEY **out, const char *code, struct attest_err *err)
{
	const char *kty = json_string_value(json_object_get(jwk, "kty"));
	BIGNUM *n = b64_bn(json_string_value(json_object_get(jwk, "n")));
	BIGNUM *e = b64_bn(json_string_value(json_object_get(jwk, "e")));
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pc = NULL;
	EVP_PKEY *k = NULL;

	if (kty != NULL && strcmp(kty, "RSA") == 0 && n != NULL && e != NULL && bld != NULL &&
	    BN_num_bits(n) >= 1024 && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) &&
	    (params = OSSL_PARAM_BLD_to_param(bld)) && (pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) &&
	    EVP_PKEY_fromdata_init(pc) == 1)
		(void)EVP_PKEY_fromdata(pc, &k, EVP_PKEY_PUBLIC_KEY, params);
	EVP_PKEY_CTX_free(pc);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	if (k == NULL)
		return attest_err_set(err, ATTEST_E_PARSE, code, "not an RSA JWK with base64url n and e");
	*out = k;
	return ATTEST_OK;
}

static int find_ak(const json_t *rt, EVP_PKEY **ak, struct attest_err *err)
{
	const json_t *keys = json_object_get(rt, "keys"), *k;
	size_t i;

	json_array_foreach(keys, i, k)
	{
		const char *kid = json_string_value(json_object_get(k, "kid"));

		if (kid != NULL && strcmp(kid, "HCLAkPub") == 0)
			return jwk_rsa_public(k, ak, "hcl.runtime.ak", err);
	}
	return attest_err_set(err, ATTEST_E_PARSE, "hcl.runtime.ak",
			      "the HCL runtime data has no \"HCLAkPub\" key in \"keys\"");
}

int hcl_runtime_parse(const struct hcl_report *h, json_t **json, EVP_PKEY **ak_pub, struct attest_err *err)
{
	json_t *rt = NULL;
	int rc;

	if ((rc = jsonx_parse((const char *)h->var_data, h->var_len, &rt, "hcl.runtime.json",
			      "HCL runtime data", err)) != ATTEST_OK)
		return rc;
	if (!json_is_object(rt)) {
		json_decref(rt);
		return attest_err_set(err, ATTEST_E_PARSE, "hcl.runtime.json",
				      "HCL runtime data is not an object");
	}
	if (ak_pub != NULL && (rc = find_ak(rt, ak_pub, err)) != ATTEST_OK) {
		json_decref(rt);
		return rc;
	}
	if (json != NULL)
		*json = rt;
	else
		json_decref(rt);
	return ATTEST_OK;
}

int hcl_runtime_ak_matches(const struct hcl_report *h, EVP_PKEY *tpm_ak, struct attest_err *err)
{
	EVP_PKEY *ak = NULL;
	int rc;

	if ((rc = hcl_runtime_parse(h, NULL, &ak, err)) != ATTEST_OK)
		return rc;
	if (tpm_ak == NULL || EVP_PKEY_eq(ak, tpm_ak) != 1)
		rc = attest_err_set(err, ATTEST_E_VERIFY, "hcl.ak_mismatch",
				    "the vTPM attestation key is not the HCLAkPub bound in the HCL report");
	EVP_PKEY_free(ak);
	return rc;
}

int azure_cvm_snp_verify(const struct evidence_ctx *ctx, const struct snp_opts *opts, const uint8_t *hcl,
			 size_t n, const struct snp_certs *certs, struct claim_set *out,
			 struct snp_result *res, struct hcl_report *hcl_out, struct attest_err *err)
{
	struct snp_result *r = calloc(1, sizeof(*r));
	struct hcl_report h;
	json_t *rt = NULL;
	int rc;

	if (r == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "snp.nomem", "out of memory");
	if ((rc = hcl_report_parse(hcl, n, &h, err)) != ATTEST_OK)
		goto out;
	if (h.report_type != HCL_REPORT_SNP) {
		rc = attest_err_set(err, ATTEST_E_VERIFY, "hcl.report_type",
				    "the HCL report is not an SNP report");
		goto out;
	}
	/* Signature first, then the binding of the unsigned runtime data to the signed report. */
	if ((rc = snp_verify_report(ctx, opts, h.hw_report, HCL_HW_REPORT_SIZE, certs, r, err)) !=
		ATTEST_OK ||
	    (rc = hcl_report_bind(&h, err)) != ATTEST_OK ||
	    (rc = hcl_runtime_parse(&h, &rt, NULL, err)) != ATTEST_OK)
		goto out;
	if (out != NULL) {
		if (claim_set_add(out, "x-ms-runtime", rt) != 0) {
			rt = NULL;
			rc = attest_err_set(err, ATTEST_E_NOMEM, "snp.nomem", "out of memory adding claims");
			goto out;
		}
		rt = NULL;
		if ((rc = snp_claims_add(r, out, err)) != ATTEST_OK)
			goto out;
	}
	if (res != NULL)
		*res = *r;
	if (hcl_out != NULL)
		*hcl_out = h;
out:
	json_decref(rt);
	free(r);
	return rc;
}

/* ---- SevSnpVm ------------------------------------------------------------------- */

/* The member under any of its spellings (Azure's, then camelCase clients'). */
static const json_t *member(const json_t *o, const char *a, const char *b)
{
	const json_t *v = json_object_get(o, a);

	return v != NULL ? v : json_object_get(o, b);
}

static int decode_text(const char *s, size_t n, const char *name, uint8_t **out, size_t *len,
		       struct attest_err *err)
{
	if (b64_decode(s, n, out, len) != 0)
		return attest_err_set(err, ATTEST_E_PARSE, "sevsnpvm.base64", "\"%s\" is not base64url",
				      name);
	return ATTEST_OK;
}

static int decode_member(const json_t *o, const char *a, const char *b, bool required, uint8_t **out,
			 size_t *len, struct attest_err *err)
{
	const json_t *v = member(o, a, b);
	const char *s;

	if (v == NULL || json_is_null(v)) {
		if (!required)
			return ATTEST_OK;
		return attest_err_set(err, ATTEST_E_PARSE, "sevsnpvm.member", "the report JSON has no \"%s\"",
				      a);
	}
	if ((s = json_string_value(v)) == NULL)
		return attest_err_set(err, ATTEST_E_PARSE, "sevsnpvm.member", "\"%s\" is not a string", a);
	return decode_text(s, json_string_length(v), a, out, len, err);
}

/*
 * The envelope's members as spans of the text. The fast scanner below
 * accepts only a strict subset of JSON (an object whose members are all
 * strings of printable ASCII without escapes, every key once): exactly the
 * shape clients send, and a subset jansson reads the same way. Anything
 * else goes to jansson, whose errors the user then sees. This keeps a
 * ~10 kB envelope from costing more than the report's signature check.
 */
enum { ENV_REPORT, ENV_CHAIN, ENV_ENDORSEMENTS, ENV_MEMBERS };
static const char *const ENV_NAMES[ENV_MEMBERS][2] = {
    {"SnpReport", "snpReport"}, {"VcekCertChain", "vcekCertChain"}, {"Endorsements", "endorsements"}};

struct env_spans {
	const char *v[ENV_MEMBERS];
	size_t n[ENV_MEMBERS];
};

static size_t skip_ws(const char *p, size_t i, size_t n)
{
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return i;
}

/* A string at p[i] == '"': its span, or false (escape, control or non-ASCII byte, no end). */
static bool plain_string(const char *p, size_t *i, size_t n, const char **s, size_t *len)
{
	size_t j = *i + 1;

	for (; j < n && p[j] != '"'; j++)
		if (p[j] == '\\' || (unsigned char)p[j] < 0x20 || (unsigned char)p[j] > 0x7E)
			return false;
	if (j >= n)
		return false;
	*s = p + *i + 1;
	*len = j - *i - 1;
	*i = j + 1;
	return true;
}

static bool env_record(struct env_spans *sp, bool seen[], const char *k, size_t kl, const char *v, size_t vl,
		       size_t *unknown)
{
	for (int m = 0; m < ENV_MEMBERS; m++)
		for (int a = 0; a < 2; a++)
			if (strlen(ENV_NAMES[m][a]) == kl && memcmp(ENV_NAMES[m][a], k, kl) == 0) {
				if (seen[2 * m + a] || sp->v[m] != NULL)
					return false; /* a repeat, or both spellings: let jansson judge */
				seen[2 * m + a] = true;
				sp->v[m] = v, sp->n[m] = vl;
				return true;
			}
	return ++*unknown <= 16; /* unknown members are ignored, a few of them */
}

static bool env_fast(const char *p, size_t n, struct env_spans *sp)
{
	bool seen[2 * ENV_MEMBERS] = {false};
	size_t i = skip_ws(p, 0, n), unknown = 0;

	memset(sp, 0, sizeof(*sp));
	if (i >= n || p[i++] != '{')
		return false;
	for (;;) {
		const char *k, *v;
		size_t kl, vl;

		i = skip_ws(p, i, n);
		if (i >= n || p[i] != '"' || !plain_string(p, &i, n, &k, &kl))
			return false;
		i = skip_ws(p, i, n);
		if (i >= n || p[i++] != ':')
			return false;
		i = skip_ws(p, i, n);
		if (i >= n || p[i] != '"' || !plain_string(p, &i, n, &v, &vl) ||
		    !env_record(sp, seen, k, kl, v, vl, &unknown))
			return false;
		i = skip_ws(p, i, n);
		if (i < n && p[i] == ',') {
			i++;
			continue;
		}
		if (i < n && p[i] == '}')
			break;
		return false;
	}
	return skip_ws(p, i + 1, n) == n;
}

/* The envelope through jansson: any valid JSON, precise errors. */
static int env_json(const char *p, size_t n, struct sevsnpvm_envelope *e, struct attest_err *err)
{
	json_t *o = NULL;
	int rc;

	if ((rc = jsonx_parse(p, n, &o, "sevsnpvm.json", "SevSnpVm report", err)) != ATTEST_OK)
		return rc;
	if (!json_is_object(o))
		rc = attest_err_set(err, ATTEST_E_PARSE, "sevsnpvm.json",
				    "the SevSnpVm report is not a JSON object");
	else if ((rc = decode_member(o, "SnpReport", "snpReport", true, &e->report, &e->report_len, err)) ==
		     ATTEST_OK &&
		 (rc = decode_member(o, "VcekCertChain", "vcekCertChain", false, &e->chain, &e->chain_len,
				     err)) == ATTEST_OK)
		rc = decode_member(o, "Endorsements", "endorsements", false, &e->endorsements,
				   &e->endorsements_len, err);
	json_decref(o);
	return rc;
}

static int env_spans_decode(const struct env_spans *sp, bool lazy_chain, struct sevsnpvm_envelope *e,
			    struct attest_err *err)
{
	int rc;

	if (sp->v[ENV_REPORT] == NULL)
		return attest_err_set(err, ATTEST_E_PARSE, "sevsnpvm.member",
				      "the report JSON has no \"SnpReport\"");
	if ((rc = decode_text(sp->v[ENV_REPORT], sp->n[ENV_REPORT], "SnpReport", &e->report, &e->report_len,
			      err)) != ATTEST_OK ||
	    (sp->v[ENV_CHAIN] != NULL && !lazy_chain &&
	     (rc = decode_text(sp->v[ENV_CHAIN], sp->n[ENV_CHAIN], "VcekCertChain", &e->chain, &e->chain_len,
			       err)) != ATTEST_OK) ||
	    (sp->v[ENV_ENDORSEMENTS] != NULL &&
	     (rc = decode_text(sp->v[ENV_ENDORSEMENTS], sp->n[ENV_ENDORSEMENTS], "Endorsements",
			       &e->endorsements, &e->endorsements_len, err)) != ATTEST_OK))
		return rc;
	if (sp->v[ENV_CHAIN] != NULL && lazy_chain) {
		e->chain_b64 = sp->v[ENV_CHAIN];
		e->chain_b64_len = sp->n[ENV_CHAIN];
	}
	return ATTEST_OK;
}

/*
 * JSON text, or base64url of it (a client that encodes the report member
 * once more). lazy_chain: leave VcekCertChain as base64 (e->chain_b64).
 */
static int envelope_members(const uint8_t *p, size_t n, bool lazy_chain, struct sevsnpvm_envelope *e,
			    struct attest_err *err)
{
	struct env_spans sp;
	uint8_t *dec = NULL;
	size_t dlen = 0, i = skip_ws((const char *)p, 0, n);
	int rc;

	if (i < n && p[i] != '{' && b64_decode((const char *)p, n, &dec, &dlen) == 0) {
		p = dec;
		n = dlen;
	}
	if (n > JSONX_MAX_DOC)
		rc = attest_err_set(err, ATTEST_E_PARSE, "sevsnpvm.json",
				    "the SevSnpVm report is over %u bytes", JSONX_MAX_DOC);
	else if (env_fast((const char *)p, n, &sp))
		rc = env_spans_decode(&sp, lazy_chain, e, err);
	else
		rc = env_json((const char *)p, n, e, err);
	if (e->chain_b64 != NULL && dec != NULL)
		e->text = dec; /* the spans point into it */
	else
		free(dec);
	return rc;
}

void sevsnpvm_envelope_free(struct sevsnpvm_envelope *e)
{
	free(e->text);
	free(e->report);
	free(e->chain);
	free(e->endorsements);
	memset(e, 0, sizeof(*e));
}

static int envelope_parse(const uint8_t *p, size_t n, bool lazy_chain, struct sevsnpvm_envelope *out,
			  struct attest_err *err)
{
	struct sevsnpvm_envelope e;
	json_t *endo = NULL;
	int rc;

	memset(&e, 0, sizeof(e));
	if ((rc = envelope_members(p, n, lazy_chain, &e, err)) != ATTEST_OK)
		goto fail;
	/* Endorsements (ACI UVM references) must at least be the JSON object §1.3.3 shows. */
	if (e.endorsements != NULL &&
	    (jsonx_parse((const char *)e.endorsements, e.endorsements_len, &endo, "sevsnpvm.endorsements",
			 "Endorsements", err) != ATTEST_OK ||
	     !json_is_object(endo))) {
		rc = attest_err_set(err, ATTEST_E_PARSE, "sevsnpvm.endorsements",
				    "Endorsements is not a JSON object");
		goto fail;
	}
	json_decref(endo);
	*out = e;
	return ATTEST_OK;
fail:
	json_decref(endo);
	sevsnpvm_envelope_free(&e);
	return rc;
}

int sevsnpvm_envelope_parse(const uint8_t *p, size_t n, struct sevsnpvm_envelope *out, struct attest_err *err)
{
	return envelope_parse(p, n, false, out, err);
}

/*
 * Runtime data that is a whole HCL report: it must wrap this very SNP
 * report; then its runtime JSON is what gets bound (by the HCL rules) and
 * emitted, as if the client had sent that JSON.
 */
static int runtime_from_hcl(const struct sevsnpvm_envelope *e, const struct evidence_input *in,
			    struct evidence_input *eff, struct attest_err *err)
{
	struct hcl_report h;
	int rc;

	if ((rc = hcl_report_parse(in->runtime_data, in->runtime_data_len, &h, err)) != ATTEST_OK)
		return rc;
	if (h.report_type != HCL_REPORT_SNP || e->report_len != SNP_REPORT_SIZE ||
	    memcmp(h.hw_report, e->report, SNP_REPORT_SIZE) != 0)
		return attest_err_set(err, ATTEST_E_VERIFY, "sevsnpvm.hcl",
				      "the HCL report in the runtime data does not wrap this SnpReport");
	if ((rc = hcl_report_bind(&h, err)) != ATTEST_OK)
		return rc;
	eff->runtime_data = h.var_data;
	eff->runtime_data_len = h.var_len;
	eff->runtime_data_type = EVIDENCE_DATA_JSON;
	return ATTEST_OK;
}

static bool is_hcl(const struct evidence_input *in)
{
	return in->runtime_data != NULL && in->runtime_data_len >= 4 &&
	       ld_u32le(in->runtime_data) == HCL_SIGNATURE;
}

int sevsnpvm_verify_ex(const struct evidence_ctx *ctx, const struct snp_opts *opts,
		       const struct evidence_input *in, struct claim_set *out, struct attest_err *err)
{
	struct sevsnpvm_envelope e;
	struct snp_result *res = calloc(1, sizeof(*res));
	struct evidence_input eff = *in;
	struct snp_certs certs;
	bool hcl = is_hcl(in);
	int rc;

	if (res == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "snp.nomem", "out of memory");
	if ((rc = envelope_parse(in->evidence, in->evidence_len, true, &e, err)) != ATTEST_OK) {
		free(res);
		return rc;
	}
	memset(&certs, 0, sizeof(certs));
	certs.chain = e.chain, certs.chain_len = e.chain_len;
	certs.chain_b64 = e.chain_b64, certs.chain_b64_len = e.chain_b64_len;
	if ((rc = snp_verify_report(ctx, opts, e.report, e.report_len, &certs, res, err)) != ATTEST_OK)
		goto out;
	if (hcl) {
		/* The HCL rules bind its runtime JSON; then only init-time data is left for snp_bind_data. */
		if ((rc = runtime_from_hcl(&e, in, &eff, err)) != ATTEST_OK)
			goto out;
		eff.runtime_data_type = EVIDENCE_DATA_NONE;
	}
	if ((rc = snp_bind_data(&res->report, &eff, err)) != ATTEST_OK)
		goto out;
	if (hcl)
		eff.runtime_data_type = EVIDENCE_DATA_JSON;
	if ((rc = snp_claims_add_data(&eff, out, err)) == ATTEST_OK)
		rc = snp_claims_add(res, out, err);
out:
	sevsnpvm_envelope_free(&e);
	free(res);
	return rc;
}

int sevsnpvm_verify(const struct evidence_ctx *ctx, const struct evidence_input *in, struct claim_set *out,
		    struct attest_err *err)
{
	return sevsnpvm_verify_ex(ctx, NULL, in, out, err);
}
