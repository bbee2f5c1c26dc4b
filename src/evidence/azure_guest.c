/*
 * Azure guest attestation: see azure_guest.h for the contract and the
 * order of checks (maa-interface.md §1.3.6, §2.6; formats.md §6-7).
 */
#include "evidence/azure_guest.h"

#include "base/codec.h"
#include "base/cur.h"
#include "base/jsonx.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"
#include "crypto/x509_der.h"
#include "evidence/azure_cvm.h"
#include "evidence/snp.h"
#include "evidence/tcg_log.h"
#include "evidence/tdx.h"

#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_mu.h>

#define AG  "azureguest"
#define DOC "AttestationInfo"

/* ---- AttestationInfo parsing ---------------------------------------------- */

static int member_missing(struct attest_err *err, const char *name, const char *what)
{
	return attest_err_set(err, ATTEST_E_PARSE, AG ".member", "%s member %s is %s", DOC, name, what);
}

typedef struct jsonx_doc doc_t;
typedef struct jsonx_node node_t;

/* A required (or optional) base64 string member, decoded (either alphabet). */
static int get_b64(const doc_t *d, const node_t *obj, const char *name, bool required,
		   struct azure_guest_blob *out, struct attest_err *err)
{
	const node_t *v = jsonx_member(d, obj, name);
	const char *s;
	size_t n = 0;

	if (v == NULL || v->kind == JSONX_NULL || (v->kind == JSONX_STRING && v->len == 0)) {
		if (required)
			return member_missing(err, name, "missing or empty");
		return ATTEST_OK;
	}
	if ((s = jsonx_str(d, v, &n)) == NULL)
		return member_missing(err, name, "not a string");
	if (b64_decode(s, n, &out->p, &out->n) != ATTEST_OK)
		return attest_err_set(err, ATTEST_E_PARSE, AG ".base64", "%s member %s is not base64", DOC,
				      name);
	return ATTEST_OK;
}

/* A base64 member holding a text (OSType, OSDistro, OSBuild), NUL-terminated. */
static int get_b64_text(const doc_t *d, const node_t *obj, const char *name, char **out,
			struct attest_err *err)
{
	struct azure_guest_blob b = {0};
	int rc = get_b64(d, obj, name, true, &b, err);

	if (rc != ATTEST_OK)
		return rc;
	if (memchr(b.p, 0, b.n) != NULL) {
		free(b.p);
		return attest_err_set(err, ATTEST_E_PARSE, AG ".member", "%s member %s holds a NUL byte", DOC,
				      name);
	}
	*out = malloc(b.n + 1);
	if (*out == NULL) {
		free(b.p);
		return attest_err_set(err, ATTEST_E_NOMEM, AG ".nomem", "out of memory");
	}
	memcpy(*out, b.p, b.n);
	(*out)[b.n] = 0;
	free(b.p);
	return ATTEST_OK;
}

/* OSVersionMajor / Minor: strings of one to nine digits (§1.3.6), numbers accepted too. */
static int get_version(const doc_t *d, const node_t *obj, const char *name, int64_t *out,
		       struct attest_err *err)
{
	const node_t *v = jsonx_member(d, obj, name);
	const char *s;
	size_t n = 0;
	int64_t x = 0;

	if (jsonx_is(v, JSONX_INTEGER) && v->num.i >= 0) {
		*out = v->num.i;
		return ATTEST_OK;
	}
	if ((s = jsonx_str(d, v, &n)) == NULL)
		return member_missing(err, name, "missing or not a string");
	if (n == 0 || n > 9)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		x = x * 10 + (s[i] - '0');
	}
	*out = x;
	return ATTEST_OK;
bad:
	return attest_err_set(err, ATTEST_E_PARSE, AG ".os_version", "%s member %s is not a version number",
			      DOC, name);
}

/* PcrSet: distinct indices 0..23. */
static int parse_pcr_set(const doc_t *d, const node_t *tpm, uint32_t *mask, struct attest_err *err)
{
	const node_t *a = jsonx_member(d, tpm, "PcrSet");
	size_t i = 0;

	if (!jsonx_is(a, JSONX_ARRAY) || a->count == 0)
		return member_missing(err, "TpmInfo.PcrSet", "missing or not a non-empty array");
	*mask = 0;
	for (const node_t *v = jsonx_first(d, a); v != NULL; v = jsonx_next(d, a, v), i++) {
		int64_t x = jsonx_is(v, JSONX_INTEGER) ? v->num.i : -1;

		if (x < 0 || x >= TPM_PCR_COUNT || (*mask & (1u << x)))
			return attest_err_set(err, ATTEST_E_PARSE, AG ".pcr_set",
					      "TpmInfo.PcrSet[%zu] is not a new PCR index 0..23", i);
		*mask |= 1u << x;
	}
	return ATTEST_OK;
}

/* PCRs: [{Index, Digest (base64 of 32 bytes)}], the vTPM's SHA-256 bank (§6.4). */
static int parse_pcrs(const doc_t *d, const node_t *tpm, struct tpm_pcr_values *pcrs, struct attest_err *err)
{
	const node_t *a = jsonx_member(d, tpm, "PCRs");
	size_t i = 0;
	int rc = ATTEST_OK;

	if (!jsonx_is(a, JSONX_ARRAY) || a->count == 0)
		return member_missing(err, "TpmInfo.PCRs", "missing or not a non-empty array");
	for (const node_t *e = jsonx_first(d, a); e != NULL; e = jsonx_next(d, a, e), i++) {
		const node_t *ix = jsonx_member(d, e, "Index"), *dg = jsonx_member(d, e, "Digest");
		int64_t x = jsonx_is(ix, JSONX_INTEGER) ? ix->num.i : -1;
		uint8_t b[48]; /* b64_decode_to's room: 3 per 4 characters, padding included */
		size_t n = 0, sl = 0;
		const char *s = jsonx_str(d, dg, &sl);

		if (x < 0 || x >= TPM_PCR_COUNT || (pcrs->present[TPM_BANK_SHA256] & (1u << x)) ||
		    s == NULL || b64_decode_to(s, sl, b, sizeof(b), &n) != 0 || n != 32)
			rc = attest_err_set(err, ATTEST_E_PARSE, AG ".pcrs",
					    "TpmInfo.PCRs[%zu] needs a new Index 0..23 and a base64 SHA-256 "
					    "Digest",
					    i);
		else
			rc = tpm_pcr_set(pcrs, TPM_BANK_SHA256, (unsigned)x, b, n, err);
		if (rc != ATTEST_OK)
			return rc;
	}
	return ATTEST_OK;
}

static const struct {
	const char *name;
	size_t off;
	bool required;
} TPM_BLOBS[] = {
    {"AikCert", offsetof(struct azure_guest_info, aik_cert), false},
    {"AikPub", offsetof(struct azure_guest_info, aik_pub), true},
    {"PcrQuote", offsetof(struct azure_guest_info, pcr_quote), true},
    {"PcrSignature", offsetof(struct azure_guest_info, pcr_sig), true},
    {"EncKeyPub", offsetof(struct azure_guest_info, enc_pub), true},
    {"EncKeyCertifyInfo", offsetof(struct azure_guest_info, enc_certify), true},
    {"EncKeyCertifyInfoSignature", offsetof(struct azure_guest_info, enc_certify_sig), true},
};

static int parse_tpm_info(const doc_t *d, const node_t *root, struct azure_guest_info *g,
			  struct attest_err *err)
{
	const node_t *tpm = jsonx_member(d, root, "TpmInfo");
	int rc = ATTEST_OK;

	if (!jsonx_is(tpm, JSONX_OBJECT))
		return member_missing(err, "TpmInfo", "missing or not an object");
	for (size_t i = 0; rc == ATTEST_OK && i < sizeof(TPM_BLOBS) / sizeof(TPM_BLOBS[0]); i++)
		rc = get_b64(d, tpm, TPM_BLOBS[i].name, TPM_BLOBS[i].required,
			     (struct azure_guest_blob *)((char *)g + TPM_BLOBS[i].off), err);
	if (rc == ATTEST_OK)
		rc = parse_pcr_set(d, tpm, &g->pcr_set, err);
	if (rc == ATTEST_OK)
		rc = parse_pcrs(d, tpm, &g->pcrs, err);
	return rc;
}

/* IsolationInfo {Type, Evidence {Proof, RunTimeData}}; absent = TrustedLaunch. */
static int parse_isolation(const doc_t *d, const node_t *root, struct azure_guest_info *g,
			   struct attest_err *err)
{
	const node_t *iso = jsonx_member(d, root, "IsolationInfo"), *type, *ev;
	const char *t;
	size_t tl = 0;
	int rc;

	g->isolation = AZURE_GUEST_TRUSTED_LAUNCH;
	if (iso == NULL || iso->kind == JSONX_NULL)
		return ATTEST_OK;
	type = jsonx_member(d, iso, "Type");
	if (!jsonx_is(iso, JSONX_OBJECT) || (t = jsonx_str(d, type, &tl)) == NULL)
		return member_missing(err, "IsolationInfo.Type", "missing or not a string");
	if (jsonx_str_is(d, type, "SevSnp"))
		g->isolation = AZURE_GUEST_SEV_SNP;
	else if (jsonx_str_is(d, type, "Tdx"))
		g->isolation = AZURE_GUEST_TDX;
	else if (!jsonx_str_is(d, type, "TrustedLaunch"))
		return attest_err_set(err, ATTEST_E_PARSE, AG ".isolation.type",
				      "IsolationInfo.Type \"%.*s\" is not SevSnp, Tdx or TrustedLaunch",
				      (int)(tl < 32 ? tl : 32), t);
	ev = jsonx_member(d, iso, "Evidence");
	if (ev == NULL || ev->kind == JSONX_NULL)
		return ATTEST_OK;
	if (!jsonx_is(ev, JSONX_OBJECT))
		return attest_err_set(err, ATTEST_E_PARSE, AG ".isolation.evidence",
				      "IsolationInfo.Evidence is not an object");
	g->has_evidence = ev->count > 0;
	if ((rc = get_b64(d, ev, "Proof", false, &g->proof, err)) != ATTEST_OK)
		return rc;
	if ((rc = get_b64(d, ev, "RunTimeData", false, &g->runtime, err)) != ATTEST_OK)
		return rc;
	g->has_evidence = g->has_evidence && (g->proof.p != NULL || g->runtime.p != NULL);
	return ATTEST_OK;
}

/* AttestationProtocolVersion: a 2.x string (§1.3.6 describes 2.0; 1.x requests have another shape). */
static int parse_version(const doc_t *d, const node_t *root, struct azure_guest_info *g,
			 struct attest_err *err)
{
	size_t n = 0;
	const char *v = jsonx_str(d, jsonx_member(d, root, "AttestationProtocolVersion"), &n);

	if (v == NULL)
		return member_missing(err, "AttestationProtocolVersion", "missing or not a string");
	if (n < 2 || memcmp(v, "2.", 2) != 0 || memchr(v, 0, n) != NULL)
		return attest_err_set(err, ATTEST_E_UNSUPPORTED, AG ".protocol_version",
				      "AttestationProtocolVersion \"%.*s\" is not 2.x",
				      (int)(n < 16 ? n : 16), v);
	if ((g->protocol_version = malloc(n + 1)) == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, AG ".nomem", "out of memory");
	memcpy(g->protocol_version, v, n);
	g->protocol_version[n] = 0;
	return ATTEST_OK;
}

static int parse_root(const doc_t *d, const node_t *root, struct azure_guest_info *g, struct attest_err *err)
{
	const node_t *v;
	int rc;

	if ((rc = parse_version(d, root, g, err)) != ATTEST_OK ||
	    (rc = get_b64_text(d, root, "OSType", &g->os_type, err)) != ATTEST_OK ||
	    (rc = get_b64_text(d, root, "OSDistro", &g->os_distro, err)) != ATTEST_OK ||
	    (rc = get_b64_text(d, root, "OSBuild", &g->os_build, err)) != ATTEST_OK ||
	    (rc = get_version(d, root, "OSVersionMajor", &g->os_major, err)) != ATTEST_OK ||
	    (rc = get_version(d, root, "OSVersionMinor", &g->os_minor, err)) != ATTEST_OK ||
	    (rc = get_b64(d, root, "TcgLogs", true, &g->tcg_logs, err)) != ATTEST_OK)
		return rc;
	v = jsonx_member(d, root, "ClientPayload");
	if (v != NULL && v->kind != JSONX_NULL && v->kind != JSONX_OBJECT)
		return member_missing(err, "ClientPayload", "not an object");
	if (jsonx_is(v, JSONX_OBJECT) && (g->client_payload = jsonx_json(d, v)) == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, AG ".nomem", "out of memory");
	if ((rc = parse_tpm_info(d, root, g, err)) != ATTEST_OK)
		return rc;
	return parse_isolation(d, root, g, err);
}

void azure_guest_info_free(struct azure_guest_info *g)
{
	if (g == NULL)
		return;
	free(g->protocol_version);
	json_decref(g->client_payload);
	free(g->os_type);
	free(g->os_distro);
	free(g->os_build);
	free(g->tcg_logs.p);
	for (size_t i = 0; i < sizeof(TPM_BLOBS) / sizeof(TPM_BLOBS[0]); i++)
		free(((struct azure_guest_blob *)((char *)g + TPM_BLOBS[i].off))->p);
	free(g->proof.p);
	free(g->runtime.p);
	memset(g, 0, sizeof(*g));
}

int azure_guest_info_parse(const uint8_t *p, size_t n, struct azure_guest_info *out, struct attest_err *err)
{
	struct azure_guest_info g;
	doc_t d;
	int rc;

	memset(&g, 0, sizeof(g));
	if (p == NULL || n == 0 || n > AZURE_GUEST_MAX_JSON)
		return attest_err_set(err, ATTEST_E_PARSE, AG ".json", "%s is empty or larger than %u bytes",
				      DOC, AZURE_GUEST_MAX_JSON);
	/* Read from an index of the text (no copy of its long base64 strings), each member decoded into g. */
	if ((rc = jsonx_index((const char *)p, n, &d, AG ".json", DOC, err)) != ATTEST_OK) {
		jsonx_doc_free(&d);
		return rc;
	}
	if (!jsonx_is(&d.nodes[0], JSONX_OBJECT))
		rc = attest_err_set(err, ATTEST_E_PARSE, AG ".json", "%s is not a JSON object", DOC);
	else
		rc = parse_root(&d, &d.nodes[0], &g, err);
	jsonx_doc_free(&d);
	if (rc != ATTEST_OK) {
		azure_guest_info_free(&g);
		return rc;
	}
	*out = g; /* transferred */
	return ATTEST_OK;
}

/* ---- verification ----------------------------------------------------------- */

/* Per-request state. */
struct agv {
	const struct evidence_ctx *ctx;
	const struct azure_guest_opts *opts; /* may be NULL */
	const struct evidence_input *in;
	struct azure_guest_info g;
	TPMT_PUBLIC aik_tp;
	EVP_PKEY *aik;
	/* With ctx->tpm_keys: the public areas' cache ids, and what the cache gave. */
	uint8_t aik_id[32], enc_id[32];
	bool aik_keyed, enc_keyed, aik_cached, enc_cached;
	uint8_t aik_spki[32];	      /* the cached AIK's SPKI SHA-256 (aik_cached) */
	struct verify_pool *aik_pool; /* the cached AIK's kept verification contexts (a reference) */
	bool aik_bound;	       /* the isolation evidence binds the AIK */
	struct claim_set *tee; /* the nested x-ms-isolation-tee claims */
	json_t *hcl_runtime;   /* the runtime data (isolated VMs) */
	struct tpm_quote_out quote;
	struct tcg_log *log;
	EVP_PKEY *enc;
	json_t *enc_jwk;
};

static void agv_free(struct agv *v)
{
	azure_guest_info_free(&v->g);
	verify_pool_free(v->aik_pool);
	EVP_PKEY_free(v->aik);
	claim_set_free(v->tee);
	json_decref(v->hcl_runtime);
	tcg_log_free(v->log);
	EVP_PKEY_free(v->enc);
	json_decref(v->enc_jwk);
}

/* The key cache's id of a public area (tpm_public_area_id); false when there is no cache. */
static bool area_id(const struct agv *v, const struct azure_guest_blob *b, uint8_t id[32])
{
	return v->ctx->tpm_keys != NULL && tpm_public_area_id(b->p, b->n, id) == 0;
}

/* After a verification that succeeded: the keys the cache did not have, for the VM's next request. */
static void keep_keys(struct agv *v)
{
	uint8_t spki[32];

	if (v->aik_keyed && !v->aik_cached && tpm_pkey_spki_sha256(v->aik, spki) == 0)
		tpm_key_cache_put(v->ctx->tpm_keys, v->aik_id, v->aik, spki);
	if (v->enc_keyed && !v->enc_cached && tpm_pkey_spki_sha256(v->enc, spki) == 0)
		tpm_key_cache_put(v->ctx->tpm_keys, v->enc_id, v->enc, spki);
}

/* Exactly one DER TLV of tag SEQUENCE (X.690 §8.9), as a certificate is. */
static bool one_der_sequence(const uint8_t *p, size_t n)
{
	struct cur c, body;
	uint8_t tag;

	cur_init(&c, p, n);
	return x509_der_tlv(&c, &tag, &body) == 0 && tag == 0x30 && cur_empty(&c);
}

/* AikPub (TPM2B_PUBLIC or TPMT_PUBLIC) must be a restricted signing key (Part 1 §25.2.2). */
static int aik_load(struct agv *v, struct attest_err *err)
{
	const TPMA_OBJECT need = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
	int rc;

	if ((rc = tpm_public_parse(v->g.aik_pub.p, v->g.aik_pub.n, &v->aik_tp, err)) != ATTEST_OK) {
		attest_err_prefix(err, "TpmInfo.AikPub: ");
		return rc;
	}
	if ((v->aik_tp.objectAttributes & need) != need || (v->aik_tp.objectAttributes & TPMA_OBJECT_DECRYPT))
		return attest_err_set(err, ATTEST_E_VERIFY, AG ".aik.attributes",
				      "AikPub is not a restricted signing key (objectAttributes 0x%08x)",
				      (unsigned)v->aik_tp.objectAttributes);
	/* A VM's AIK is the same in every request: its key (and its contexts) made once. */
	if ((v->aik_keyed = area_id(v, &v->g.aik_pub, v->aik_id)))
		v->aik = tpm_key_cache_get_pooled(v->ctx->tpm_keys, v->aik_id, v->aik_spki, &v->aik_pool);
	v->aik_cached = v->aik != NULL;
	if (!v->aik_cached && (rc = tpm_public_to_pkey(&v->aik_tp, &v->aik, err)) != ATTEST_OK)
		return rc;
	/*
	 * AikCert is decoded only when it is needed (quote_verify: an AIK
	 * neither bound nor registered) and its chain not already verified:
	 * OpenSSL 3.0 takes ~150-200 us to decode a certificate. Here, only
	 * that it is one DER SEQUENCE.
	 */
	if (v->g.aik_cert.p != NULL && !one_der_sequence(v->g.aik_cert.p, v->g.aik_cert.n))
		return attest_err_set(err, ATTEST_E_PARSE, AG ".aik.cert",
				      "AikCert is not one DER certificate");
	return ATTEST_OK;
}

/* The runtime data (HCL variable data) as an HCL report view for azure_cvm.h. */
static int runtime_bind_ak(struct agv *v, struct attest_err *err)
{
	struct hcl_report h;
	int rc;

	memset(&h, 0, sizeof(h));
	h.var_data = v->g.runtime.p;
	h.var_len = v->g.runtime.n;
	if ((rc = hcl_runtime_parse(&h, &v->hcl_runtime, NULL, err)) != ATTEST_OK)
		return rc;
	/* formats.md §6.4: the AK must be the HCLAkPub of the bound runtime data. */
	if ((rc = hcl_runtime_ak_matches(&h, v->aik, err)) != ATTEST_OK)
		return rc;
	v->aik_bound = true;
	/* tdx_verify already emits the (JSON) runtime data it bound. */
	if (claim_set_find(v->tee, "x-ms-runtime") != NULL)
		return ATTEST_OK;
	return claim_set_add(v->tee, "x-ms-runtime", json_incref(v->hcl_runtime)) == ATTEST_OK
		   ? ATTEST_OK
		   : attest_err_set(err, ATTEST_E_NOMEM, AG ".nomem", "out of memory");
}

/* SevSnp: Proof = the SevSnpVm envelope {SnpReport, VcekCertChain} (§1.3.3). */
static int isolation_snp(struct agv *v, struct attest_err *err)
{
	struct sevsnpvm_envelope env;
	struct snp_certs certs;
	struct snp_result *res = calloc(1, sizeof(*res));
	struct evidence_input bind;
	int rc;

	memset(&env, 0, sizeof(env));
	memset(&certs, 0, sizeof(certs));
	memset(&bind, 0, sizeof(bind));
	if (res == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, AG ".nomem", "out of memory");
	rc = sevsnpvm_envelope_parse(v->g.proof.p, v->g.proof.n, &env, err);
	if (rc == ATTEST_OK) {
		certs.chain = env.chain;
		certs.chain_len = env.chain_len;
		rc = snp_verify_report(v->ctx, v->opts ? v->opts->snp : NULL, env.report, env.report_len,
				       &certs, res, err);
	}
	/* REPORT_DATA = SHA-256(RunTimeData) || 0…0 (formats.md §6.2, hash type 1). */
	bind.runtime_data = v->g.runtime.p;
	bind.runtime_data_len = v->g.runtime.n;
	bind.runtime_data_type = EVIDENCE_DATA_JSON;
	if (rc == ATTEST_OK)
		rc = snp_bind_data(&res->report, &bind, err);
	if (rc == ATTEST_OK)
		rc = snp_claims_add(res, v->tee, err);
	sevsnpvm_envelope_free(&env);
	free(res);
	return rc;
}

/* Tdx: Proof = the TD quote; its REPORTDATA binds RunTimeData (tdx_verify). */
static int isolation_tdx(struct agv *v, struct attest_err *err)
{
	struct evidence_input q;

	memset(&q, 0, sizeof(q));
	q.evidence = v->g.proof.p;
	q.evidence_len = v->g.proof.n;
	q.runtime_data = v->g.runtime.p;
	q.runtime_data_len = v->g.runtime.n;
	q.runtime_data_type = EVIDENCE_DATA_JSON;
	return tdx_verify(v->ctx, &q, v->tee, err);
}

/*
 * x-ms-compliance-status of the nested TEE claims (maa-interface.md §2.5,
 * §2.6): "azure-compliant-cvm" when the launch measurement is one Azure
 * publishes for its CVM firmware (given in opts), the HCL made the report
 * at VMPL 0 (formats.md §6.2) and the TEE is not debuggable. Read from the
 * claims of the verified report. Without published measurements the
 * verdict cannot be reached and the claim is absent.
 */
static int compliance_status(struct agv *v)
{
	const bool snp = v->g.isolation == AZURE_GUEST_SEV_SNP;
	const json_t *m = claim_set_get(v->tee, snp ? "x-ms-sevsnpvm-launchmeasurement" : "tdx_mrtd");
	const json_t *dbg =
	    claim_set_get(v->tee, snp ? "x-ms-sevsnpvm-is-debuggable" : "tdx_td_attributes_debug");
	const json_t *vmpl = claim_set_get(v->tee, "x-ms-sevsnpvm-vmpl");
	const uint8_t(*list)[48] = NULL;
	size_t n = 0;
	uint8_t d[48];
	bool listed = false;

	if (v->opts != NULL && v->opts->n_cvm_measurements > 0)
		list = v->opts->cvm_measurements, n = v->opts->n_cvm_measurements;
	else if (v->ctx->tenant != NULL)
		list = v->ctx->tenant->cvm_measurements, n = v->ctx->tenant->n_cvm_measurements;
	if (n == 0 || list == NULL || !json_is_string(m) || !json_is_false(dbg) ||
	    (snp && !(json_is_integer(vmpl) && json_integer_value(vmpl) == 0)) ||
	    hex_decode_to(json_string_value(m), json_string_length(m), d, sizeof(d)) != 0)
		return ATTEST_OK;
	for (size_t i = 0; i < n; i++)
		listed |= CRYPTO_memcmp(list[i], d, sizeof(d)) == 0;
	return listed ? claim_set_add_str(v->tee, "x-ms-compliance-status", "azure-compliant-cvm")
		      : ATTEST_OK;
}

static int isolation_verify(struct agv *v, struct attest_err *err)
{
	int rc;

	if (v->g.isolation == AZURE_GUEST_TRUSTED_LAUNCH) {
		/* A Trusted Launch VM has no TEE: evidence of one is a contradiction. */
		if (v->g.has_evidence)
			return attest_err_set(err, ATTEST_E_VERIFY, AG ".isolation.unexpected",
					      "a TrustedLaunch request carries isolation evidence");
		return ATTEST_OK;
	}
	if (v->g.proof.p == NULL || v->g.runtime.p == NULL)
		return attest_err_set(err, ATTEST_E_PARSE, AG ".isolation.missing",
				      "IsolationInfo.Evidence needs Proof and RunTimeData for %s",
				      v->g.isolation == AZURE_GUEST_SEV_SNP ? "SevSnp" : "Tdx");
	if ((v->tee = claim_set_new()) == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, AG ".nomem", "out of memory");
	rc = v->g.isolation == AZURE_GUEST_SEV_SNP ? isolation_snp(v, err) : isolation_tdx(v, err);
	if (rc == ATTEST_OK)
		rc = runtime_bind_ak(v, err);
	if (rc == ATTEST_OK && compliance_status(v) != ATTEST_OK)
		rc = attest_err_set(err, ATTEST_E_NOMEM, AG ".nomem", "out of memory");
	return rc;
}

/* PcrQuote may come as TPM2B_ATTEST (u16 size prefix) or bare TPMS_ATTEST. */
static void strip_tpm2b(const struct azure_guest_blob *b, const uint8_t **p, size_t *n)
{
	*p = b->p;
	*n = b->n;
	if (b->n >= 6 && ((size_t)b->p[0] << 8 | b->p[1]) == b->n - 2 && b->p[2] == 0xFF && b->p[3] == 0x54 &&
	    b->p[4] == 0x43 && b->p[5] == 0x47) {
		*p += 2;
		*n -= 2;
	}
}

/*
 * The AIK is trusted when (formats.md §6.4, issue 8) the verified isolation
 * evidence binds it, or it is registered with the provider (SHA-256 of its
 * SubjectPublicKeyInfo, as for the Tpm type: tpm.h), or its AikCert chains
 * to a configured vTPM root at ctx->now. Anything else is
 * azureguest.aik.unregistered, naming why the certificate did not help.
 */
static int aik_trust(const struct agv *v, struct tpm_aik_trust *trust, uint8_t bound[32],
		     struct attest_err *err)
{
	memset(trust, 0, sizeof(*trust));
	trust->now = v->ctx->now;
	trust->roots = v->ctx->anchors ? v->ctx->anchors->tpm_roots : NULL;
	trust->require_valid_aik_cert = false;
	if (v->aik_bound) {
		if (v->aik_cached)
			memcpy(bound, v->aik_spki, 32);
		else if (tpm_pkey_spki_sha256(v->aik, bound) != 0)
			return attest_err_set(err, ATTEST_E_INTERNAL, AG ".aik.public",
					      "cannot encode the AIK");
		trust->registered = (const uint8_t(*)[32])bound;
		trust->n_registered = 1;
	} else if (v->opts != NULL && v->opts->n_registered_aiks > 0) {
		trust->registered = v->opts->registered_aiks;
		trust->n_registered = v->opts->n_registered_aiks;
	} else if (v->ctx->tenant != NULL) {
		/* The provider's registrations (attestd: its settings, src/server/provider_trust.h). */
		trust->registered = v->ctx->tenant->registered_aiks;
		trust->n_registered = v->ctx->tenant->n_registered_aiks;
	}
	return ATTEST_OK;
}

/* Whether the AIK (SPKI hash h) is one of trust's registered keys (a bound AIK is: aik_trust). */
static bool aik_listed(const struct tpm_aik_trust *trust, const uint8_t h[32])
{
	for (size_t i = 0; i < trust->n_registered; i++)
		if (CRYPTO_memcmp(trust->registered[i], h, 32) == 0)
			return true;
	return false;
}

/* The refusal of an untrusted AIK, saying why AikCert (if any) did not help: its check with it required. */
static int aik_unregistered(const struct agv *v, const struct tpm_aik_trust *trust, struct attest_err *err)
{
	struct tpm_aik_trust strict = *trust;
	struct attest_err why;
	bool validated, registered;
	const unsigned char *c = v->g.aik_cert.p;
	X509 *cert = c != NULL ? d2i_X509(NULL, &c, (long)v->g.aik_cert.n) : NULL;

	strict.require_valid_aik_cert = true;
	strict.n_registered = 0;
	strict.cache = NULL;
	attest_err_clear(&why);
	(void)tpm_aik_check(v->aik, cert, NULL, &strict, &validated, &registered, &why);
	X509_free(cert);
	return attest_err_set(err, ATTEST_E_VERIFY, AG ".aik.unregistered",
			      "the AIK is not bound by isolation evidence, not registered with the "
			      "provider, and not certified to a vTPM root (%s: %s)",
			      why.name, why.msg);
}

static int quote_verify(struct agv *v, struct attest_err *err)
{
	struct tpm_quote_in q;
	struct tpm_aik_trust trust;
	struct attest_err qe;
	uint8_t h[32];
	int rc;

	memset(&q, 0, sizeof(q));
	strip_tpm2b(&v->g.pcr_quote, &q.attest, &q.attest_len);
	q.sig = v->g.pcr_sig.p;
	q.sig_len = v->g.pcr_sig.n;
	q.aik = v->aik;
	q.nonce = (const uint8_t *)v->in->nonce;
	q.nonce_len = v->in->nonce ? strlen(v->in->nonce) : 0;
	/* Freshness of AzureGuest is the sealing to a TPM-held ephemeral key. */
	q.skip_nonce = v->in->nonce == NULL;
	q.required_pcr_mask = v->g.pcr_set;
	q.required_bank = TPM_BANK_SHA256;
	q.pcrs = &v->g.pcrs;
	if ((rc = aik_trust(v, &trust, h, err)) != ATTEST_OK)
		return rc;
	if (v->aik_bound)
		q.aik_pub_hash = h; /* aik_trust hashed the AIK already: not twice */
	else if (v->aik_cached)
		q.aik_pub_hash = v->aik_spki;
	else if (tpm_pkey_spki_sha256(v->aik, h) == 0)
		q.aik_pub_hash = h;
	/*
	 * AikCert speaks only for an AIK neither bound nor registered (no claim
	 * reports it): then its chain is verified, once per certificate and
	 * chain (the TPM key cache keeps the verdict, so a returning VM's
	 * certificate is not even decoded again).
	 */
	if (q.aik_pub_hash == NULL || !aik_listed(&trust, q.aik_pub_hash)) {
		q.aik_cert_der = v->g.aik_cert.p;
		q.aik_cert_der_len = v->g.aik_cert.n;
		trust.cache = v->ctx->tpm_keys;
	}
	q.aik_pool = v->aik_pool;
	attest_err_clear(&qe);
	rc = tpm_quote_verify(&q, &trust, &v->quote, &qe);
	if (rc != ATTEST_OK && strcmp(qe.name, "tpm.aik.untrusted") == 0)
		return aik_unregistered(v, &trust, err);
	if (rc != ATTEST_OK && strcmp(qe.name, "tpm.aik.cert.parse") == 0)
		return attest_err_set(err, ATTEST_E_PARSE, AG ".aik.cert",
				      "AikCert is not one DER certificate");
	if (rc != ATTEST_OK) {
		if (err != NULL)
			*err = qe;
		return rc;
	}
	/* Values the quote does not cover are not evidence: the log replays only against quoted PCRs. */
	v->g.pcrs.present[TPM_BANK_SHA256] &= v->quote.selected[TPM_BANK_SHA256];
	return ATTEST_OK;
}

static int log_verify(struct agv *v, struct attest_err *err)
{
	int rc = tcg_log_parse(v->g.tcg_logs.p, v->g.tcg_logs.n, &v->log, err);

	if (rc != ATTEST_OK)
		return rc;
	if (v->log->n_events == 0)
		return attest_err_set(err, ATTEST_E_VERIFY, AG ".log.empty", "TcgLogs holds no events");
	return tcg_log_verify(v->log, &v->g.pcrs, err);
}

/*
 * EncKeyPub: an RSA decryption key (not restricted: TPM2_RSA_Decrypt of
 * arbitrary data) whose scheme is NULL or OAEP-SHA256, certified by the AIK.
 */
static int enckey_verify(struct agv *v, struct attest_err *err)
{
	TPMT_PUBLIC tp;
	const TPMT_RSA_SCHEME *s;
	uint8_t ebytes[4];
	uint32_t e;
	int rc;

	if ((rc = tpm_public_parse(v->g.enc_pub.p, v->g.enc_pub.n, &tp, err)) != ATTEST_OK) {
		attest_err_prefix(err, "TpmInfo.EncKeyPub: ");
		return rc;
	}
	if (tp.type != TPM2_ALG_RSA)
		return attest_err_set(err, ATTEST_E_UNSUPPORTED, AG ".enckey.type",
				      "EncKeyPub is not an RSA key");
	if (!(tp.objectAttributes & TPMA_OBJECT_DECRYPT) || (tp.objectAttributes & TPMA_OBJECT_RESTRICTED))
		return attest_err_set(
		    err, ATTEST_E_VERIFY, AG ".enckey.attributes",
		    "EncKeyPub is not an unrestricted decryption key (objectAttributes 0x%08x)",
		    (unsigned)tp.objectAttributes);
	/* The token's key is wrapped to it: no weaker than the AIK Azure uses (RSA-2048, §6.4). */
	if (tp.parameters.rsaDetail.keyBits < 2048)
		return attest_err_set(err, ATTEST_E_VERIFY, AG ".enckey.size",
				      "EncKeyPub has %u bits, fewer than 2048",
				      (unsigned)tp.parameters.rsaDetail.keyBits);
	s = &tp.parameters.rsaDetail.scheme;
	if (s->scheme != TPM2_ALG_NULL &&
	    !(s->scheme == TPM2_ALG_OAEP && s->details.oaep.hashAlg == TPM2_ALG_SHA256))
		return attest_err_set(err, ATTEST_E_UNSUPPORTED, AG ".enckey.scheme",
				      "EncKeyPub's scheme 0x%04x is not NULL or OAEP-SHA256", s->scheme);
	rc = tpm_certify_verify(&tp, v->aik, v->aik_pool, v->g.enc_certify.p, v->g.enc_certify.n,
				v->g.enc_certify_sig.p, v->g.enc_certify_sig.n, err);
	if (rc != ATTEST_OK)
		return rc;
	if ((v->enc_keyed = area_id(v, &v->g.enc_pub, v->enc_id))) {
		uint8_t spki[32];

		v->enc = tpm_key_cache_get(v->ctx->tpm_keys, v->enc_id, spki);
	}
	v->enc_cached = v->enc != NULL;
	if (!v->enc_cached && (rc = tpm_public_to_pkey(&tp, &v->enc, err)) != ATTEST_OK)
		return rc;
	/* The JWK from the public area's own bytes (what jwk_from_key would export from v->enc). */
	e = tp.parameters.rsaDetail.exponent ? tp.parameters.rsaDetail.exponent
					     : 65537; /* Part 2 §12.2.3.5 */
	for (int i = 0; i < 4; i++)
		ebytes[i] = (uint8_t)(e >> (24 - 8 * i));
	if ((rc = jwk_from_rsa_raw(tp.unique.rsa.buffer, tp.unique.rsa.size, ebytes, sizeof(ebytes),
				   AZURE_GUEST_ENC_KID, &v->enc_jwk, err)) != ATTEST_OK)
		return rc;
	json_object_set_new(v->enc_jwk, "key_ops", json_pack("[s]", "encrypt"));
	return ATTEST_OK;
}

/* ---- claims (§2.6) ------------------------------------------------------------ */

/* A claim whose name is a string literal, issued by the service: the set borrows the name (no copy). */
static int claim_lit(struct claim_set *out, const char *literal, json_t *value)
{
	return claim_set_add_borrowed(out, literal, CLAIM_ISSUER_SERVICE, value);
}

static json_t *attested_pcrs(uint32_t mask)
{
	json_t *a = json_array();

	for (unsigned i = 0; a != NULL && i < TPM_PCR_COUNT; i++)
		if (mask & (1u << i))
			json_array_append_new(a, json_integer(i));
	return a;
}

/* x-ms-runtime: the client payload and the ephemeral key (§2.6). */
static json_t *runtime_claim(const struct agv *v)
{
	json_t *rt = json_object();

	if (rt == NULL)
		return NULL;
	if (v->g.client_payload != NULL)
		json_object_set_new(rt, "client-payload", json_deep_copy(v->g.client_payload));
	json_object_set_new(rt, "keys", json_pack("[O]", v->enc_jwk));
	return rt;
}

/*
 * The Windows boot configuration claims (§2.6), from verified SIPA events
 * (PCR 12-14) only. "debuggersdisabled" is all three debug facilities off;
 * "signingdisabled" (policies require true) reads the same way for the
 * non-production signing modes: test signing and flight signing off and
 * code integrity not turned off (our reading of the name: MAA does not
 * define it). hvci-policy is 0 when no VbsHVCIPolicy record was measured.
 */
static int windows_claims(const struct tcg_boot_state *st, struct claim_set *out)
{
	const bool dbg = st->boot_debugging || st->kernel_debug || st->hypervisor_debug;
	int rc = ATTEST_OK;

	rc |= claim_lit(out, "x-ms-azurevm-bootdebug-enabled", json_boolean(st->boot_debugging));
	rc |= claim_lit(out, "x-ms-azurevm-kerneldebug-enabled", json_boolean(st->kernel_debug));
	rc |= claim_lit(out, "x-ms-azurevm-hypervisordebug-enabled", json_boolean(st->hypervisor_debug));
	rc |= claim_lit(out, "x-ms-azurevm-debuggersdisabled", json_boolean(!dbg));
	rc |= claim_lit(out, "x-ms-azurevm-testsigning-enabled", json_boolean(st->test_signing));
	rc |= claim_lit(out, "x-ms-azurevm-flightsigning-enabled", json_boolean(st->flight_signing));
	rc |= claim_lit(out, "x-ms-azurevm-signingdisabled",
			json_boolean(!st->test_signing && !st->flight_signing && st->code_integrity != 0));
	rc |= claim_lit(out, "x-ms-azurevm-elam-enabled", json_boolean(st->elam));
	rc |= claim_lit(out, "x-ms-azurevm-hvci-policy",
			json_integer(st->hvci_seen ? (int64_t)(st->hvci_policy & INT64_MAX) : 0));
	return rc;
}

/*
 * db / dbx / default Secure Boot keys "validated" are MAA's verdicts against
 * Azure's expected Secure Boot variables, which are not published: the log
 * can only rule them out. With PCR 7 replayed, a variable that was not
 * measured, does not hash to its digest, is not a well-formed non-empty
 * EFI_SIGNATURE_LIST sequence, or (db) did not contain an authority that
 * verified a boot image, cannot have been validated: the claim is false.
 * Otherwise it is not emitted (docs/claims-azure-guest.md).
 */
static int secure_boot_var_claims(const struct tcg_boot_state *st, struct claim_set *out)
{
	int rc = ATTEST_OK;

	if (!st->pcr7_verified)
		return ATTEST_OK;
	if (!st->sb_db.sound)
		rc |= claim_lit(out, "x-ms-azurevm-dbvalidated", json_boolean(false));
	if (!st->sb_dbx.sound)
		rc |= claim_lit(out, "x-ms-azurevm-dbxvalidated", json_boolean(false));
	if (!st->sb_pk.sound || !st->sb_kek.sound || !st->sb_db.sound)
		rc |= claim_lit(out, "x-ms-azurevm-default-securebootkeysvalidated", json_boolean(false));
	return rc;
}

/* Boot facts from the verified log only (formats.md §7.6-7.7); absent ≠ safe. */
static int boot_claims(const struct agv *v, struct claim_set *out, struct attest_err *err)
{
	struct tcg_boot_state st;
	int rc = tcg_boot_state(v->log, &st, err);

	if (rc != ATTEST_OK)
		return rc;
	rc = claim_lit(out, "secureboot", json_boolean(st.secure_boot == 1));
	if (rc == ATTEST_OK && st.windows)
		rc = windows_claims(&st, out);
	if (rc == ATTEST_OK)
		rc = secure_boot_var_claims(&st, out);
	return rc == ATTEST_OK ? ATTEST_OK
			       : attest_err_set(err, ATTEST_E_NOMEM, AG ".nomem", "out of memory");
}

static int add_claims(const struct agv *v, struct claim_set *out, struct attest_err *err)
{
	const json_t *cfg = v->hcl_runtime ? json_object_get(v->hcl_runtime, "vm-configuration") : NULL;
	const json_t *vmid = json_object_get(cfg, "vmUniqueId");
	int rc = claim_lit(out, "x-ms-attestation-type", json_string("azurevm"));

	if (rc == ATTEST_OK)
		rc = claim_lit(out, "x-ms-azurevm-attestation-protocol-ver",
			       json_string(v->g.protocol_version));
	if (rc == ATTEST_OK)
		rc = claim_lit(out, "x-ms-azurevm-attested-pcrs", attested_pcrs(v->g.pcr_set));
	if (rc == ATTEST_OK)
		rc = claim_lit(out, "x-ms-azurevm-is-windows",
			       json_boolean(strcmp(v->g.os_type, "Windows") == 0));
	if (rc == ATTEST_OK)
		rc = claim_lit(out, "x-ms-azurevm-ostype", json_string(v->g.os_type));
	if (rc == ATTEST_OK)
		rc = claim_lit(out, "x-ms-azurevm-osdistro", json_string(v->g.os_distro));
	if (rc == ATTEST_OK)
		rc = claim_lit(out, "x-ms-azurevm-osbuild", json_string(v->g.os_build));
	if (rc == ATTEST_OK)
		rc = claim_lit(out, "x-ms-azurevm-osversion-major", json_integer(v->g.os_major));
	if (rc == ATTEST_OK)
		rc = claim_lit(out, "x-ms-azurevm-osversion-minor", json_integer(v->g.os_minor));
	if (rc == ATTEST_OK && json_is_string(vmid))
		rc = claim_lit(out, "x-ms-azurevm-vmid", json_string(json_string_value(vmid)));
	if (rc == ATTEST_OK)
		rc = claim_lit(out, "x-ms-runtime", runtime_claim(v));
	if (rc == ATTEST_OK && v->tee != NULL)
		rc = claim_lit(out, "x-ms-isolation-tee", claim_set_to_json(v->tee));
	if (rc != ATTEST_OK)
		return attest_err_set(err, rc, AG ".claims", "cannot add the Azure guest claims");
	return boot_claims(v, out, err);
}

int azure_guest_verify(const struct evidence_ctx *ctx, const struct evidence_input *in, struct claim_set *out,
		       struct attest_err *err)
{
	return azure_guest_verify_with(ctx, NULL, in, out, err);
}

int azure_guest_verify_with(const struct evidence_ctx *ctx, const struct azure_guest_opts *opts,
			    const struct evidence_input *in, struct claim_set *out, struct attest_err *err)
{
	struct agv v;
	struct claim_set *tmp = NULL;
	int rc;

	memset(&v, 0, sizeof(v));
	v.ctx = ctx;
	v.opts = opts;
	v.in = in;
	if (ctx == NULL || in == NULL || out == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, AG ".param", "bad parameters");
	rc = azure_guest_info_parse(in->evidence, in->evidence_len, &v.g, err);
	if (rc == ATTEST_OK)
		rc = aik_load(&v, err);
	if (rc == ATTEST_OK)
		rc = isolation_verify(&v, err);
	if (rc == ATTEST_OK)
		rc = quote_verify(&v, err);
	if (rc == ATTEST_OK)
		rc = log_verify(&v, err);
	if (rc == ATTEST_OK)
		rc = enckey_verify(&v, err);
	/* Claims go to a scratch set first: `out` sees all of them or none. */
	if (rc == ATTEST_OK && (tmp = claim_set_new()) == NULL)
		rc = attest_err_set(err, ATTEST_E_NOMEM, AG ".nomem", "out of memory");
	if (rc == ATTEST_OK)
		rc = add_claims(&v, tmp, err);
	/* Handed over whole (names and values change owner): all of them or, past out's bound, none. */
	if (rc == ATTEST_OK && claim_set_move_all(out, tmp) != ATTEST_OK)
		rc = attest_err_set(err, ATTEST_E_NOMEM, AG ".nomem", "out of memory");
	claim_set_free(tmp);
	if (rc == ATTEST_OK)
		keep_keys(&v);
	agv_free(&v);
	return rc;
}
