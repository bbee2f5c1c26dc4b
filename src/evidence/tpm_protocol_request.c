/*
 * The request message of the MAA TPM/VBS protocol (tpm_protocol.h):
 * JWS proof of possession, sealed context, quote(s), TCG logs, VBS report,
 * claims. Message layouts: MicrosoftDocs virtualization-based-security-
 * protocol, "Request message v1" and "Request message v2".
 */
#include "evidence/tpm_protocol.h"

#include "base/codec.h"
#include "base/jsonx.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"
#include "evidence/tcg_log.h"
#include "evidence/vbs.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_mu.h>

#define MAX_LOGS 4
#define MAX_CUSTOM_CLAIMS 64
#define MAX_OTHER_KEYS 16

/*
 * A key decoded on a cache miss, to be kept once the request verified: a
 * request that fails never fills the cache (it cannot flush returning
 * clients' keys).
 */
struct pending_key {
	bool pending;
	uint8_t id[32], spki[32];
};

/* One TPM attestation (current or boot) normalised from a v1 or v2 message. */
struct tpm_att {
	uint8_t *quote, *sig; /* owned */
	size_t quote_len, sig_len;
	uint8_t *logs[MAX_LOGS]; /* owned */
	size_t log_lens[MAX_LOGS];
	size_t n_logs;
	struct tpm_pcr_values pcrs;
	EVP_PKEY *aik;   /* owned */
	struct verify_pool *aik_pool; /* a cached AIK's kept verification contexts (a reference), or NULL */
	uint8_t aik_hash[32]; /* its SPKI SHA-256, when known */
	bool aik_hash_set;
	struct pending_key aik_pending; /* the AIK, for the cache */
	uint8_t *aik_cert; /* DER (owned, may be NULL): decoded only when the AIK cache misses */
	size_t aik_cert_len;
	uint8_t *blob;   /* v1: the PCP blob the pointers below come from (owned) */
	const uint8_t *blob_quote, *blob_sig, *blob_log;
	size_t blob_quote_len, blob_sig_len, blob_log_len;
	uint16_t blob_alg;
};

static void att_free(struct tpm_att *a)
{
	free(a->quote);
	free(a->sig);
	for (size_t i = 0; i < a->n_logs; i++)
		free(a->logs[i]);
	verify_pool_free(a->aik_pool);
	EVP_PKEY_free(a->aik);
	free(a->aik_cert);
	free(a->blob);
	memset(a, 0, sizeof(*a));
}

/*
 * The request is read from its index (jsonx_read): members are found in
 * place and base64url strings decoded straight from the request's text,
 * without a jansson tree of a message that is mostly base64.
 */
typedef struct jsonx_doc doc_t;
typedef struct jsonx_node node_t;

/*
 * A string member as a C string (caller frees; NULL when absent or not a
 * string). A NUL inside would cut it short where it is copied (rp_data into
 * the token): refused (tpm.proto.<key>).
 */
static int str_dup(const doc_t *d, const node_t *obj, const char *key, char **out, struct attest_err *err)
{
	size_t n = 0;
	const char *s = jsonx_str(d, jsonx_member(d, obj, key), &n);
	char code[48];

	*out = NULL;
	if (s == NULL)
		return ATTEST_OK;
	if (memchr(s, '\0', n) != NULL) {
		snprintf(code, sizeof(code), "tpm.proto.%s", key);
		return attest_err_set(err, ATTEST_E_PARSE, code, "\"%s\" holds a NUL byte", key);
	}
	if ((*out = strndup(s, n)) == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "tpm.proto.nomem", "out of memory");
	return ATTEST_OK;
}

/* A base64url member; absent is NULL/0 unless required. */
static int b64_member(const doc_t *d, const node_t *obj, const char *key, bool required, uint8_t **out,
		      size_t *len, struct attest_err *err)
{
	const node_t *v = jsonx_member(d, obj, key);
	const char *s;
	size_t n = 0;

	*out = NULL;
	*len = 0;
	if (v == NULL || v->kind == JSONX_NULL) {
		if (!required)
			return ATTEST_OK;
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.missing", "\"%s\" is missing", key);
	}
	if ((s = jsonx_str(d, v, &n)) == NULL)
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.encoding", "\"%s\" is not a string", key);
	if (b64_decode(s, n, out, len) != 0)
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.encoding", "\"%s\" is not base64url", key);
	return ATTEST_OK;
}

/* aik_public: base64url TPM2B_PUBLIC / TPMT_PUBLIC (offline bundles, tpm_verify). */
static int aik_from_public(const doc_t *d, const node_t *tad, struct tpm_att *a, struct attest_err *err)
{
	uint8_t *p = NULL;
	size_t n = 0;
	TPMT_PUBLIC pub;
	int rc = b64_member(d, tad, "aik_public", true, &p, &n, err);

	if (rc == ATTEST_OK && (rc = tpm_public_parse(p, n, &pub, err)) == ATTEST_OK) {
		/*
		 * An AIK is a restricted signing key (Part 1 §25.2.2): the TPM signs
		 * nothing external that starts with TPM_GENERATED_VALUE with it, which
		 * is what makes the magic check of a quote mean something.
		 */
		if ((pub.objectAttributes & (TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT)) !=
		    (TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT))
			rc = attest_err_set(err, ATTEST_E_VERIFY, "tpm.aik.attributes",
					    "aik_public is not a restricted signing key (objectAttributes 0x%08x)",
					    pub.objectAttributes);
		else
			rc = tpm_public_to_pkey(&pub, &a->aik, err);
	}
	free(p);
	return rc;
}

/* A JWK's key, decoded (jwk_to_key works on jansson values; a JWK is a handful of members). */
static int jwk_key(const doc_t *d, const node_t *jwk, EVP_PKEY **out, struct attest_err *err)
{
	json_t *j = jsonx_json(d, jwk);
	int rc = jwk_to_key(j, out, err);

	json_decref(j);
	return rc;
}

/*
 * A JWK's key through the cache (when there is one): the same text is the
 * same key, so a returning client's keys are decoded once. The id is the
 * SHA-256 of the JWK's exact text: another spelling of the same key is
 * only another entry. A miss is recorded in *pk, for keep_key once the
 * request verified. *spki_set says whether spki holds the key's SPKI
 * SHA-256.
 */
static int jwk_key_cached(struct tpm_aik_cache *cache, const doc_t *d, const node_t *jwk, EVP_PKEY **out,
			  struct verify_pool **pool, uint8_t spki[32], bool *spki_set, struct pending_key *pk,
			  struct attest_err *err)
{
	size_t len = 0;
	const char *text = cache != NULL ? jsonx_text(d, jwk, &len) : NULL;
	uint8_t id[32];
	int rc;

	*spki_set = false;
	pk->pending = false;
	if (text == NULL || sha256(text, len, id) != ATTEST_OK)
		return jwk_key(d, jwk, out, err);
	if ((*out = tpm_key_cache_get_pooled(cache, id, spki, pool)) != NULL) {
		*spki_set = true;
		return ATTEST_OK;
	}
	if ((rc = jwk_key(d, jwk, out, err)) != ATTEST_OK)
		return rc;
	if (tpm_pkey_spki_sha256(*out, spki) == 0) {
		*spki_set = true;
		pk->pending = true;
		memcpy(pk->id, id, sizeof(pk->id));
		memcpy(pk->spki, spki, sizeof(pk->spki));
	}
	return ATTEST_OK;
}

/* A key decoded on a miss goes into the cache (called once the request verified). */
static void keep_key(struct tpm_aik_cache *cache, const struct pending_key *pk, EVP_PKEY *key)
{
	if (cache != NULL && pk->pending && key != NULL)
		tpm_key_cache_put(cache, pk->id, key, pk->spki);
}

static int aik_from(const doc_t *d, const node_t *tad, struct tpm_aik_cache *cache, struct tpm_att *a,
		    struct attest_err *err)
{
	const node_t *jwk = jsonx_member(d, tad, "aik_pub");
	uint8_t *der = NULL;
	size_t dlen = 0;
	int rc;

	if (!jsonx_is(jwk, JSONX_OBJECT) && jsonx_is(jsonx_member(d, tad, "aik_public"), JSONX_STRING))
		rc = aik_from_public(d, tad, a, err);
	else if (!jsonx_is(jwk, JSONX_OBJECT))
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.missing", "\"aik_pub\" (JWK) is missing");
	else
		rc = jwk_key_cached(cache, d, jwk, &a->aik, &a->aik_pool, a->aik_hash, &a->aik_hash_set,
				    &a->aik_pending, err);
	if (rc != ATTEST_OK) {
		attest_err_prefix(err, "aik_pub: ");
		return rc;
	}
	if ((rc = b64_member(d, tad, "aik_cert", false, &der, &dlen, err)) != ATTEST_OK)
		return rc;
	if (der != NULL && dlen == 0) {
		free(der); /* an empty aik_cert is no certificate, as before */
		der = NULL;
	}
	a->aik_cert = der; /* transferred */
	a->aik_cert_len = dlen;
	return ATTEST_OK;
}

/* The bank an algorithm member names (a TPM_ALG_ID), or -1. */
static int bank_of(const doc_t *d, const node_t *bank)
{
	const node_t *alg = jsonx_member(d, bank, "algorithm");

	if (!jsonx_is(alg, JSONX_INTEGER) || alg->num.i < 0 || alg->num.i > 0xFFFF)
		return -1;
	return tpm_bank_from_alg((uint16_t)alg->num.i);
}

#define PCR_MALFORMED (-1)

/* One {index, digest} of a bank; PCR_MALFORMED when it is not one. */
static int pcr_from(const doc_t *d, const node_t *val, enum tpm_bank b, struct tpm_pcr_values *pcrs,
		    struct attest_err *err)
{
	const node_t *idx = jsonx_member(d, val, "index");
	uint8_t dg[2 * TPM_PCR_MAX_DIGEST]; /* room for any digest; a longer one fails to decode */
	size_t sl = 0, dl = 0;
	const char *s = jsonx_str(d, jsonx_member(d, val, "digest"), &sl);

	if (!jsonx_is(idx, JSONX_INTEGER) || idx->num.i < 0 || idx->num.i > UINT32_MAX || s == NULL ||
	    b64_decode_to(s, sl, dg, sizeof(dg), &dl) != ATTEST_OK)
		return PCR_MALFORMED;
	return tpm_pcr_set(pcrs, b, (unsigned)idx->num.i, dg, dl, err);
}

/* v2 "pcrs": [{algorithm, values: [{index, digest}]}]. */
static int pcrs_from(const doc_t *d, const node_t *arr, struct tpm_pcr_values *pcrs, struct attest_err *err)
{
	size_t i = 0, j;

	memset(pcrs, 0, sizeof(*pcrs));
	if (!jsonx_is(arr, JSONX_ARRAY))
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.missing", "\"pcrs\" is missing");
	for (const node_t *bank = jsonx_first(d, arr); bank != NULL; bank = jsonx_next(d, arr, bank), i++) {
		int b = bank_of(d, bank);
		const node_t *values = jsonx_member(d, bank, "values");

		if (b < 0 || !jsonx_is(values, JSONX_ARRAY))
			return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.pcrs",
					      "pcrs[%zu] names no supported algorithm or has no values", i);
		j = 0;
		for (const node_t *v = jsonx_first(d, values); v != NULL; v = jsonx_next(d, values, v), j++) {
			int rc = pcr_from(d, v, (enum tpm_bank)b, pcrs, err);

			if (rc == PCR_MALFORMED)
				return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.pcrs",
						      "pcrs[%zu].values[%zu] is malformed", i, j);
			if (rc != ATTEST_OK)
				return rc;
		}
	}
	return ATTEST_OK;
}

/* The "values" of one bank: [{index, digest}] of each present PCR; NULL when out of memory. */
static json_t *bank_values_json(const struct tpm_pcr_values *pcrs, enum tpm_bank b)
{
	json_t *vals = json_array();

	for (unsigned i = 0; vals != NULL && i < TPM_PCR_COUNT; i++) {
		char *d;
		json_t *v;

		if (!(pcrs->present[b] & (1u << i)))
			continue;
		d = b64url_encode(pcrs->v[b][i], tpm_bank_size(b));
		v = d ? json_pack("{s:I, s:s}", "index", (json_int_t)i, "digest", d) : NULL;
		free(d);
		if (v == NULL || json_array_append_new(vals, v) != 0) {
			json_decref(vals);
			vals = NULL;
		}
	}
	return vals;
}

json_t *tpm_pcrs_to_json(const struct tpm_pcr_values *pcrs)
{
	json_t *arr = json_array();

	for (int b = 0; arr != NULL && b < TPM_BANK_COUNT; b++) {
		json_t *vals, *bank;

		if (!pcrs->present[b])
			continue;
		vals = bank_values_json(pcrs, (enum tpm_bank)b);
		bank = vals ? json_pack("{s:i, s:o}", "algorithm", tpm_bank_alg((enum tpm_bank)b), "values", vals) : NULL;
		if (bank == NULL || json_array_append_new(arr, bank) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	return arr;
}

static int add_log(struct tpm_att *a, const doc_t *d, const node_t *obj, const char *key,
		   struct attest_err *err)
{
	uint8_t *p = NULL;
	size_t n = 0;
	int rc = b64_member(d, obj, key, false, &p, &n, err);

	if (rc != ATTEST_OK || p == NULL)
		return rc;
	if (n == 0 || a->n_logs == MAX_LOGS) {
		free(p);
		return n == 0 ? ATTEST_OK
			      : attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.logs", "more than %d logs", MAX_LOGS);
	}
	a->logs[a->n_logs] = p;
	a->log_lens[a->n_logs++] = n;
	return ATTEST_OK;
}

/* v2 current_attestation / boot_attestation. */
static int att_from_v2(const doc_t *d, const node_t *o, struct tpm_aik_cache *cache, struct tpm_att *a,
		       struct attest_err *err)
{
	const node_t *logs = jsonx_member(d, o, "logs");
	int rc;

	if ((rc = aik_from(d, o, cache, a, err)) != ATTEST_OK ||
	    (rc = pcrs_from(d, jsonx_member(d, o, "pcrs"), &a->pcrs, err)) ||
	    (rc = b64_member(d, o, "quote", true, &a->quote, &a->quote_len, err)) ||
	    (rc = b64_member(d, o, "signature", true, &a->sig, &a->sig_len, err)))
		return rc;
	if (!jsonx_is(logs, JSONX_ARRAY))
		return ATTEST_OK;
	for (const node_t *l = jsonx_first(d, logs); l != NULL; l = jsonx_next(d, logs, l)) {
		if (!jsonx_str_is(d, jsonx_member(d, l, "type"), "TCG"))
			continue; /* IMA and other log types are not replayed here */
		if ((rc = add_log(a, d, l, "log", err)) != ATTEST_OK)
			return rc;
	}
	return ATTEST_OK;
}

/*
 * v1: a PCP platform claim (current_claim / boot_claim) carries the PCR
 * values, the quote and its signature; the logs come as separate members.
 */
static int att_from_v1(const doc_t *d, const node_t *tad, const char *claim_key, bool with_logs,
		       struct tpm_aik_cache *cache, struct tpm_att *a, struct attest_err *err)
{
	struct tpm_pcp_blob b;
	size_t blen = 0;
	int bank, rc;
	size_t dsz;

	if ((rc = aik_from(d, tad, cache, a, err)) != ATTEST_OK ||
	    (rc = b64_member(d, tad, claim_key, true, &a->blob, &blen, err)) != ATTEST_OK ||
	    (rc = tpm_pcp_blob_parse(a->blob, blen, &b, err)) != ATTEST_OK)
		return rc;
	bank = tpm_bank_from_alg(b.pcr_alg);
	if (bank < 0)
		return attest_err_set(err, ATTEST_E_UNSUPPORTED, "tpm.pcp.alg", "PCR algorithm 0x%04x", b.pcr_alg);
	dsz = tpm_bank_size(bank);
	if (b.pcrs_len != dsz * TPM_PCR_COUNT)
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.pcp.size",
				      "cbPcrValues %zu is not 24 digests of %zu bytes", b.pcrs_len, dsz);
	memset(&a->pcrs, 0, sizeof(a->pcrs));
	for (unsigned i = 0; i < TPM_PCR_COUNT; i++)
		tpm_pcr_set(&a->pcrs, (enum tpm_bank)bank, i, b.pcrs + i * dsz, dsz, NULL);
	a->blob_quote = b.quote, a->blob_quote_len = b.quote_len;
	a->blob_sig = b.sig, a->blob_sig_len = b.sig_len;
	a->blob_log = b.log, a->blob_log_len = b.log_len;
	a->blob_alg = b.pcr_alg;
	if (with_logs) {
		if ((rc = add_log(a, d, tad, "srtm_boot_log", err)) != ATTEST_OK ||
		    (rc = add_log(a, d, tad, "srtm_resume_log", err)) != ATTEST_OK)
			return rc;
	}
	return ATTEST_OK;
}

/* The quote bytes and TPMT_SIGNATURE of an attestation (v1: raw RSASSA is wrapped). */
static int att_quote(struct tpm_att *a, uint16_t hash, struct attest_err *err)
{
	TPMT_SIGNATURE s;
	size_t off = 0;

	if (a->blob == NULL)
		return ATTEST_OK;
	free(a->quote);
	free(a->sig);
	a->quote = malloc(a->blob_quote_len ? a->blob_quote_len : 1);
	a->sig = malloc(a->blob_sig_len + 6);
	if (a->quote == NULL || a->sig == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "tpm.proto.nomem", "out of memory");
	memcpy(a->quote, a->blob_quote, a->blob_quote_len);
	a->quote_len = a->blob_quote_len;
	memset(&s, 0, sizeof(s));
	if (Tss2_MU_TPMT_SIGNATURE_Unmarshal(a->blob_sig, a->blob_sig_len, &off, &s) == TSS2_RC_SUCCESS &&
	    off == a->blob_sig_len) {
		memcpy(a->sig, a->blob_sig, a->blob_sig_len);
		a->sig_len = a->blob_sig_len;
		return ATTEST_OK;
	}
	/* A bare RSASSA signature (PCPTool layout): TPMT_SIGNATURE around it. */
	if (a->blob_sig_len > 0xFFFF)
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.pcp.signature", "signature too long");
	a->sig[0] = 0x00, a->sig[1] = 0x14;
	a->sig[2] = (uint8_t)(hash >> 8), a->sig[3] = (uint8_t)hash;
	a->sig[4] = (uint8_t)(a->blob_sig_len >> 8), a->sig[5] = (uint8_t)a->blob_sig_len;
	memcpy(a->sig + 6, a->blob_sig, a->blob_sig_len);
	a->sig_len = a->blob_sig_len + 6;
	return ATTEST_OK;
}

struct verified_att {
	struct tpm_quote_out quote;
	struct tcg_log *log; /* first TCG log, verified (owned) */
};

static int att_verify_quote(const struct tpm_proto_cfg *cfg, struct tpm_att *a, const uint8_t *nonce,
			    size_t nonce_len, bool skip_nonce, struct verified_att *v, struct attest_err *err)
{
	struct tpm_aik_trust trust = {.now = cfg->now,
				      .roots = cfg->aik_roots,
				      .registered = cfg->registered_aiks,
				      .n_registered = cfg->n_registered_aiks,
				      .require_valid_aik_cert = cfg->require_valid_aik_cert,
				      .cache = cfg->aik_cache};
	struct tpm_quote_in in;
	int rc = ATTEST_E_VERIFY;
	uint16_t hashes[2] = {a->blob_alg ? a->blob_alg : TPM2_ALG_SHA1,
			      a->blob_alg == TPM2_ALG_SHA256 ? TPM2_ALG_SHA1 : TPM2_ALG_SHA256};

	for (int attempt = 0; attempt < (a->blob ? 2 : 1); attempt++) {
		struct attest_err e2;

		if ((rc = att_quote(a, hashes[attempt], err)) != ATTEST_OK)
			return rc;
		in = (struct tpm_quote_in){.attest = a->quote,
					   .attest_len = a->quote_len,
					   .sig = a->sig,
					   .sig_len = a->sig_len,
					   .aik = a->aik,
					   .aik_pub_hash = a->aik_hash_set ? a->aik_hash : NULL,
					   .aik_pool = a->aik_pool,
					   .aik_cert_der = a->aik_cert,
					   .aik_cert_der_len = a->aik_cert_len,
					   .nonce = nonce,
					   .nonce_len = nonce_len,
					   .skip_nonce = skip_nonce,
					   .required_pcr_mask = cfg->required_pcr_mask,
					   .required_bank = -1,
					   .pcrs = &a->pcrs};
		attest_err_clear(&e2);
		rc = tpm_quote_verify(&in, &trust, &v->quote, &e2);
		/* v1 raw signatures name no hash: a second hash is a second full check. */
		if (rc == ATTEST_OK || !(a->blob && attempt == 0 && strcmp(e2.name, "tpm.quote.signature") == 0)) {
			if (rc != ATTEST_OK) {
				attest_err_set(err, e2.rc, e2.name, "%s", e2.msg);
				attest_err_where(err, "%s", e2.where);
			}
			break;
		}
	}
	return rc;
}

static int att_verify_logs(struct tpm_att *a, struct verified_att *v, struct attest_err *err)
{
	int rc;

	if (a->n_logs == 0 && a->blob_log != NULL && a->blob_log_len > 0) {
		if ((rc = tcg_log_parse(a->blob_log, a->blob_log_len, &v->log, err)) != ATTEST_OK ||
		    (rc = tcg_log_verify(v->log, &a->pcrs, err)) != ATTEST_OK)
			return rc;
		return ATTEST_OK;
	}
	/*
	 * Several TCG logs (Windows: the boot log and, after a resume from
	 * hibernation, the resume log): every one must parse; the claims come
	 * from the first that replays to the quoted PCRs, and when none does the
	 * error of the last one is reported.
	 */
	for (size_t i = 0; i < a->n_logs; i++) {
		struct tcg_log *log = NULL;
		struct attest_err e2;

		if ((rc = tcg_log_parse(a->logs[i], a->log_lens[i], &log, err)) != ATTEST_OK) {
			attest_err_prefix(err, "log %zu: ", i);
			tcg_log_free(v->log);
			v->log = NULL;
			return rc;
		}
		attest_err_clear(&e2);
		if (v->log == NULL && tcg_log_verify(log, &a->pcrs, &e2) == ATTEST_OK) {
			v->log = log;
			continue;
		}
		tcg_log_free(log);
		if (v->log == NULL && i + 1 == a->n_logs) {
			attest_err_set(err, e2.rc, e2.name, "%s", e2.msg);
			attest_err_where(err, "log %zu: %s", i, e2.where);
			return e2.rc;
		}
	}
	return ATTEST_OK; /* no log: PCR claims only */
}

static int verify_att(const struct tpm_proto_cfg *cfg, struct tpm_att *a, const uint8_t *nonce,
		      size_t nonce_len, bool skip_nonce, struct verified_att *v, struct attest_err *err)
{
	int rc = att_verify_quote(cfg, a, nonce, nonce_len, skip_nonce, v, err);

	if (rc != ATTEST_OK)
		return rc;
	/*
	 * Values the quote does not cover are not evidence (any client can send
	 * a bank it did not quote): the logs replay, and the pcrs claim reads,
	 * only the quoted PCRs (as azure_guest.c does).
	 */
	for (int b = 0; b < TPM_BANK_COUNT; b++)
		a->pcrs.present[b] &= v->quote.selected[b];
	return att_verify_logs(a, v, err);
}

/* One other_keys[] entry: its tpm_certify must certify, with the AIK, the key its JWK is. */
static int check_other_key(const doc_t *d, const node_t *k, size_t i, EVP_PKEY *aik, struct attest_err *err)
{
	const node_t *cert = jsonx_member(d, jsonx_member(d, k, "info"), "tpm_certify");
	uint8_t *pub = NULL, *att = NULL, *sig = NULL;
	size_t pl = 0, al = 0, sl = 0;
	TPMT_PUBLIC tp;
	EVP_PKEY *jk = NULL, *tk = NULL;
	int rc;

	if (cert == NULL)
		return ATTEST_OK;
	if ((rc = b64_member(d, cert, "public", true, &pub, &pl, err)) == ATTEST_OK &&
	    (rc = b64_member(d, cert, "certification", true, &att, &al, err)) == ATTEST_OK &&
	    (rc = b64_member(d, cert, "signature", true, &sig, &sl, err)) == ATTEST_OK &&
	    (rc = tpm_public_parse(pub, pl, &tp, err)) == ATTEST_OK &&
	    (rc = tpm_certify_verify(&tp, aik, NULL, att, al, sig, sl, err)) == ATTEST_OK &&
	    (rc = tpm_public_to_pkey(&tp, &tk, err)) == ATTEST_OK &&
	    (rc = jwk_key(d, jsonx_member(d, k, "jwk"), &jk, err)) == ATTEST_OK && EVP_PKEY_eq(jk, tk) != 1)
		rc = attest_err_set(err, ATTEST_E_VERIFY, "tpm.certify.jwk",
				    "other_keys[%zu]: the JWK is not the certified TPM key", i);
	free(pub);
	free(att);
	free(sig);
	EVP_PKEY_free(jk);
	EVP_PKEY_free(tk);
	return rc;
}

/* v2 other_keys[].info.tpm_certify: each certified key must be certified by the AIK. */
static int check_other_keys(const doc_t *d, const node_t *keys, EVP_PKEY *aik, struct attest_err *err)
{
	size_t i = 0;
	int rc;

	if (!jsonx_is(keys, JSONX_ARRAY))
		return ATTEST_OK;
	if (keys->count > MAX_OTHER_KEYS)
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.other_keys", "too many other_keys");
	for (const node_t *k = jsonx_first(d, keys); k != NULL; k = jsonx_next(d, keys, k), i++)
		if ((rc = check_other_key(d, k, i, aik, err)) != ATTEST_OK)
			return rc;
	return ATTEST_OK;
}

/*
 * Names a custom claim may not take: the service's own claims, the token's
 * registered claims and the x-ms- namespace. Policies usually match claims
 * by type; a client-chosen "secureBootEnabled" must not be mistaken for the
 * service's (MAA prefixes custom names for the same reason).
 */
static bool reserved_claim_name(const char *name)
{
	static const char *const reserved[] = {
		"aikValidated", "aikPubHash", "tpmVersion", "secureBootEnabled", "bootDebuggingDisabled",
		"osKernelDebuggingDisabled", "notSafeMode", "notWinPE", "testSigningDisabled",
		"codeIntegrityEnabled", "vbsEnabled", "iommuEnabled", "events", "bootEvents", "pcrs",
		"vbsReportPresent", "vsmReportPresent", "vbsReportSignatureVerified", "enclaveAuthorId",
		"enclaveImageId", "enclaveOwnerId", "enclaveFamilyId", "enclaveUniqueId", "enclaveSvn",
		"enclavePlatformSvn", "enclaveSecureKernelSvn", "enclaveFlags", "enclaveDebuggable",
		"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "cnf", "nonce", "rp_data", "ver",
		"policy_hash", "policy_signer",
	};

	if (strncmp(name, "x-ms-", 5) == 0)
		return true;
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(name, reserved[i]) == 0)
			return true;
	return false;
}

/* One custom_claims[] entry {name, value, value_type}: a scalar claim under a name of the client's. */
static int custom_claim(const doc_t *d, const node_t *c, size_t i, struct claim_set *out,
			struct attest_err *err)
{
	const node_t *value = jsonx_member(d, c, "value");
	size_t n = 0;
	const char *name = jsonx_str(d, jsonx_member(d, c, "name"), &n);
	char *type;
	int rc;

	/* value_type is informative: the value keeps its JSON type. */
	if (name == NULL || n == 0 || n > 256 || memchr(name, '\0', n) != NULL || value == NULL ||
	    value->kind == JSONX_OBJECT || value->kind == JSONX_ARRAY)
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.custom_claims",
				      "custom_claims[%zu] needs a name and a scalar value", i);
	if ((type = strndup(name, n)) == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "tpm.proto.nomem", "out of memory");
	if (reserved_claim_name(type))
		rc = attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.custom_claims",
				    "custom_claims[%zu] uses the reserved claim name \"%s\"", i, type);
	else if (claim_set_add_issued(out, type, CLAIM_ISSUER_CUSTOM, jsonx_json(d, value)) != 0)
		rc = attest_err_set(err, ATTEST_E_NOMEM, "tpm.proto.nomem", "out of memory");
	else
		rc = ATTEST_OK;
	free(type);
	return rc;
}

static int custom_claims(const doc_t *d, const node_t *arr, struct claim_set *out, struct attest_err *err)
{
	size_t i = 0;
	int rc;

	if (arr == NULL)
		return ATTEST_OK;
	if (!jsonx_is(arr, JSONX_ARRAY) || arr->count > MAX_CUSTOM_CLAIMS)
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.custom_claims",
				      "custom_claims must be an array of at most %d claims", MAX_CUSTOM_CLAIMS);
	for (const node_t *c = jsonx_first(d, arr); c != NULL; c = jsonx_next(d, arr, c), i++)
		if ((rc = custom_claim(d, c, i, out, err)) != ATTEST_OK)
			return rc;
	return ATTEST_OK;
}

/*
 * A claim text this module wrote itself (tcg_events_json, tcg_pcrs_json:
 * ASCII and jansson's own UTF-8): json_string would scan it for UTF-8 a
 * second time, tens of kilobytes per request.
 */
static int add_text_claim(struct claim_set *out, const char *type, const char *s)
{
	return s != NULL ? claim_set_add(out, type, json_stringn_nocheck(s, strlen(s))) : -1;
}

/*
 * The claims of verified attestations (maa-interface.md §2.4). The events,
 * bootEvents and pcrs texts (~25 kB for a 60-event log) are written only
 * when wanted: a policy that reads none of them has no use for them, and
 * tokens never carry them (they are read-only policy inputs).
 */
static int tpm_claims(const struct verified_att *cur, const struct verified_att *boot,
		      const struct tpm_pcr_values *pcrs, bool texts, struct claim_set *out, struct attest_err *err)
{
	char *h64 = b64std_encode(cur->quote.aik_pub_hash, 32), *s;
	struct tcg_boot_state st;
	int rc = h64 == NULL;

	/* Names are literals: the set borrows them. */
	rc |= claim_set_add_borrowed(out, "aikValidated", CLAIM_ISSUER_SERVICE,
				     json_boolean(cur->quote.aik_cert_validated));
	rc |= h64 != NULL ? claim_set_add_borrowed(out, "aikPubHash", CLAIM_ISSUER_SERVICE, json_string(h64))
			  : 0;
	free(h64);
	rc |= claim_set_add_borrowed(out, "tpmVersion", CLAIM_ISSUER_SERVICE, json_integer(2));
	if (cur->log != NULL) {
		int brc = tcg_boot_state(cur->log, &st, err);

		if (brc != ATTEST_OK)
			return brc;
		rc |= tcg_boot_state_claims(&st, out);
		if (texts) {
			s = tcg_events_json(cur->log, true);
			rc |= add_text_claim(out, "events", s);
			free(s);
		}
	}
	if (texts && boot != NULL && boot->log != NULL) {
		s = tcg_events_json(boot->log, true);
		rc |= add_text_claim(out, "bootEvents", s);
		free(s);
	}
	if (texts) {
		s = tcg_pcrs_json(pcrs);
		rc |= add_text_claim(out, "pcrs", s);
		free(s);
	}
	return rc ? attest_err_set(err, ATTEST_E_NOMEM, "tpm.proto.nomem", "out of memory") : ATTEST_OK;
}

/* ---- the request ---------------------------------------------------------- */

struct req {
	struct jws *jws;
	doc_t pd;                /* the JWS payload, indexed */
	const node_t *data;      /* att_data or att_data.report_signed */
	const char *rs_text;     /* raw report_signed text (VBS) */
	size_t rs_len;
	int version;
	bool vbs;
	EVP_PKEY *key;           /* request key (owned) */
	struct verify_pool *key_pool; /* its kept verification contexts when cached (a reference) */
	struct pending_key key_pending;
	const node_t *jwk;
	struct tpm_context ctx;
	struct tpm_att cur, boot;
	bool has_boot;
	struct verified_att vcur, vboot;
	uint8_t *vsm;            /* owned */
	size_t vsm_len;
};

static void req_free(struct req *r)
{
	jws_free(r->jws);
	jsonx_doc_free(&r->pd);
	verify_pool_free(r->key_pool);
	EVP_PKEY_free(r->key);
	att_free(&r->cur);
	att_free(&r->boot);
	tcg_log_free(r->vcur.log);
	tcg_log_free(r->vboot.log);
	free(r->vsm);
}

/* The JWS's typ: attReq is protocol v1, attReqV2 v2. */
static int request_version(const struct jws *j, int *version, struct attest_err *err)
{
	const char *typ = jws_header_str(j, "typ");

	if (typ != NULL && strcmp(typ, "attReq") == 0)
		*version = 1;
	else if (typ != NULL && strcmp(typ, "attReqV2") == 0)
		*version = 2;
	else
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.typ",
				      "request JWS typ must be \"attReq\" or \"attReqV2\"");
	if (j->alg != JWS_ALG_PS256 && j->alg != JWS_ALG_RS256)
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.alg", "request JWS alg must be PS256");
	return ATTEST_OK;
}

static int read_envelope(const struct tpm_proto_msg *m, struct req *r, struct attest_err *err)
{
	size_t tlen = 0;
	const char *token = jsonx_str(&m->doc, jsonx_member(&m->doc, m->msg, "request"), &tlen);
	const node_t *rs;
	int rc;

	/* The message outlives the request: its JWS is read in place. */
	if ((rc = jws_parse_view(token, tlen, &r->jws, err)) != ATTEST_OK ||
	    (rc = request_version(r->jws, &r->version, err)) != ATTEST_OK ||
	    (rc = jsonx_index((const char *)r->jws->payload, r->jws->payload_len, &r->pd, "tpm.proto.payload",
			      "attestation request", err)) != ATTEST_OK)
		return rc;
	r->data = jsonx_member(&r->pd, r->pd.nodes, "att_data");
	r->vbs = jsonx_str_is(&r->pd, jsonx_member(&r->pd, r->pd.nodes, "att_type"), "vbs");
	if (!jsonx_is(r->data, JSONX_OBJECT) ||
	    (!r->vbs && !jsonx_str_is(&r->pd, jsonx_member(&r->pd, r->pd.nodes, "att_type"), "basic")))
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.att_type",
				      "att_type must be \"basic\" or \"vbs\" with an att_data object");
	if (!r->vbs)
		return ATTEST_OK;
	if ((rc = b64_member(&r->pd, r->data, "vsm_report", true, &r->vsm, &r->vsm_len, err)) != ATTEST_OK)
		return rc;
	rs = jsonx_member(&r->pd, r->data, "report_signed");
	if (!jsonx_is(rs, JSONX_OBJECT))
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.report_signed", "report_signed is not an object");
	/* EnclaveData hashes report_signed exactly as sent: its text, byte for byte. */
	r->rs_text = jsonx_text(&r->pd, rs, &r->rs_len);
	r->data = rs;
	return ATTEST_OK;
}

/* The request's challenge is the one its sealed context was issued with. */
static int check_challenge(struct req *r, struct attest_err *err)
{
	uint8_t *ch = NULL;
	size_t chl = 0;
	int rc = b64_member(&r->pd, r->data, "challenge", true, &ch, &chl, err);

	if (rc == ATTEST_OK && (chl != r->ctx.challenge_len || CRYPTO_memcmp(ch, r->ctx.challenge, chl) != 0))
		rc = attest_err_set(err, ATTEST_E_VERIFY, "tpm.context.challenge",
				    "the request's challenge is not the one its service_context was issued with");
	free(ch);
	return rc;
}

static int context_replayed(struct attest_err *err)
{
	return attest_err_set(err, ATTEST_E_VERIFY, "tpm.context.replayed",
			      "this service_context was already used; start again with an init message");
}

static int check_pop_and_context(const struct tpm_proto_cfg *cfg, struct req *r, struct attest_err *err)
{
	const node_t *rk = jsonx_member(&r->pd, r->data, "request_key");
	size_t cl = 0;
	const char *ctx = jsonx_str(&r->pd, jsonx_member(&r->pd, r->data, "service_context"), &cl);
	uint8_t spki[32];
	bool spki_set;
	int rc;

	r->jwk = r->version == 1 ? jsonx_member(&r->pd, r->data, "attest_key") : jsonx_member(&r->pd, rk, "jwk");
	if (!jsonx_is(r->jwk, JSONX_OBJECT))
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.missing", "the request key (%s) is missing",
				      r->version == 1 ? "attest_key" : "request_key.jwk");
	/* Proof of possession: the key the request names signed it (no kid). */
	if ((rc = jwk_key_cached(cfg->aik_cache, &r->pd, r->jwk, &r->key, &r->key_pool, spki, &spki_set,
				 &r->key_pending, err)) != ATTEST_OK ||
	    (rc = jws_verify_pooled(r->jws, r->key, r->key_pool, 0, err)) != ATTEST_OK ||
	    (rc = tpm_context_open(cfg->service_key, cfg->provider ? cfg->provider : TPM_CONTEXT_NO_PROVIDER,
				   ctx, cl, cfg->now, &r->ctx, err)) != ATTEST_OK ||
	    (rc = check_challenge(r, err)) != ATTEST_OK)
		return rc;
	if (cfg->replay == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "tpm.proto.config", "no replay check configured");
	/* A context already used is refused before the quote's work; it is recorded only at the end. */
	if (cfg->replay_peek != NULL && cfg->replay_peek(cfg->replay_arg, r->ctx.id, cfg->now) == 1)
		return context_replayed(err);
	return ATTEST_OK;
}

/*
 * Records the context's id once the whole request verified, so a request
 * that fails verification (anyone may send one naming a context they
 * saw) neither uses up the context nor a slot of the replay store; the
 * record's own answer decides between two requests racing with one
 * context.
 */
static int record_context(const struct tpm_proto_cfg *cfg, const struct req *r, struct attest_err *err)
{
	int seen = cfg->replay(cfg->replay_arg, r->ctx.id, r->ctx.expiry, cfg->now);

	if (seen == 1)
		return context_replayed(err);
	if (seen != 0)
		return attest_err_set(err, ATTEST_E_INTERNAL, "tpm.context.replay_store",
				      "the replay check is unavailable; refusing the request");
	return ATTEST_OK;
}

static int read_attestations(struct req *r, struct tpm_aik_cache *cache, struct attest_err *err)
{
	const doc_t *d = &r->pd;
	const node_t *tad = jsonx_member(d, r->data, "tpm_att_data");
	int rc;

	if (!jsonx_is(tad, JSONX_OBJECT))
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.missing", "tpm_att_data is missing");
	if (r->version == 2) {
		const node_t *boot = jsonx_member(d, tad, "boot_attestation");

		rc = att_from_v2(d, jsonx_member(d, tad, "current_attestation"), cache, &r->cur, err);
		if (rc != ATTEST_OK)
			return rc;
		if (jsonx_is(boot, JSONX_OBJECT)) {
			r->has_boot = true;
			return att_from_v2(d, boot, cache, &r->boot, err);
		}
		return ATTEST_OK;
	}
	if ((rc = att_from_v1(d, tad, "current_claim", true, cache, &r->cur, err)) != ATTEST_OK)
		return rc;
	if (jsonx_member(d, tad, "boot_claim") != NULL) {
		r->has_boot = true;
		return att_from_v1(d, tad, "boot_claim", false, cache, &r->boot, err);
	}
	return ATTEST_OK;
}

static int check_vbs(struct req *r, struct claim_set *claims, struct attest_err *err)
{
	struct vbs_report rep;
	int rc;

	if ((rc = vbs_report_parse(r->vsm, r->vsm_len, &rep, err)) != ATTEST_OK ||
	    (rc = vbs_report_check_binding(&rep, (const uint8_t *)r->rs_text, r->rs_len, err)) != ATTEST_OK)
		return rc;
	/* The report key (the secure kernel's IDK) is not publicly distributed:
	 * the signature stays unverified and says so (docs/vbs.md). */
	return vbs_report_claims(&rep, false, claims);
}

static int fill_result(struct req *r, struct claim_set *claims, struct tpm_proto_result *res,
		       struct attest_err *err)
{
	struct tpm_proto_result t = {.version = r->version, .vbs = r->vbs};
	int rc;

	t.cnf = jsonx_json(&r->pd, r->jwk);
	if (t.cnf == NULL)
		rc = attest_err_set(err, ATTEST_E_NOMEM, "tpm.proto.nomem", "out of memory");
	else if ((rc = str_dup(&r->pd, r->data, "rp_data", &t.rp_data, err)) == ATTEST_OK)
		rc = str_dup(&r->pd, r->data, "rp_id", &t.rp_id, err);
	if (rc != ATTEST_OK) {
		tpm_proto_result_free(&t); /* claims are still the caller's */
		return rc;
	}
	t.claims = claims; /* transferred on success only */
	*res = t;
	return ATTEST_OK;
}

void tpm_proto_result_free(struct tpm_proto_result *r)
{
	if (r == NULL)
		return;
	claim_set_free(r->claims);
	json_decref(r->cnf);
	free(r->rp_data);
	free(r->rp_id);
	memset(r, 0, sizeof(*r));
}

int tpm_proto_request(const struct tpm_proto_cfg *cfg, const struct tpm_proto_msg *m,
		      struct tpm_proto_result *result, struct attest_err *err)
{
	struct req r;
	struct claim_set *claims = NULL;
	int rc;

	memset(&r, 0, sizeof(r));
	if (cfg->service_key == NULL || m->kind != TPM_PROTO_REQUEST)
		return attest_err_set(err, ATTEST_E_INVALID, "tpm.proto.config",
				      "no service key, or not a request message");
	if ((rc = read_envelope(m, &r, err)) != ATTEST_OK ||
	    (rc = check_pop_and_context(cfg, &r, err)) != ATTEST_OK ||
	    (rc = read_attestations(&r, cfg->aik_cache, err)) != ATTEST_OK)
		goto out;
	/* The current quote must carry the challenge (extraData == challenge). */
	if ((rc = verify_att(cfg, &r.cur, r.ctx.challenge, r.ctx.challenge_len, false, &r.vcur, err)) != ATTEST_OK) {
		attest_err_prefix(err, "current attestation: ");
		goto out;
	}
	if (r.has_boot &&
	    (rc = verify_att(cfg, &r.boot, NULL, 0, true, &r.vboot, err)) != ATTEST_OK) {
		attest_err_prefix(err, "boot attestation: ");
		goto out;
	}
	if (r.version == 2 &&
	    (rc = check_other_keys(&r.pd, jsonx_member(&r.pd, r.data, "other_keys"), r.cur.aik, err)) != ATTEST_OK)
		goto out;
	keep_key(cfg->aik_cache, &r.key_pending, r.key);
	keep_key(cfg->aik_cache, &r.cur.aik_pending, r.cur.aik);
	if (r.has_boot)
		keep_key(cfg->aik_cache, &r.boot.aik_pending, r.boot.aik);
	claims = claim_set_new();
	if (claims == NULL) {
		rc = attest_err_set(err, ATTEST_E_NOMEM, "tpm.proto.nomem", "out of memory");
		goto out;
	}
	if ((rc = tpm_claims(&r.vcur, r.has_boot ? &r.vboot : NULL, &r.cur.pcrs, !cfg->skip_text_claims,
			     claims, err)) != ATTEST_OK ||
	    (r.vbs && (rc = check_vbs(&r, claims, err)) != ATTEST_OK) ||
	    (!r.vbs && (rc = claim_set_add_borrowed(claims, "vbsReportPresent", CLAIM_ISSUER_SERVICE,
						    json_false())) != ATTEST_OK) ||
	    (rc = custom_claims(&r.pd, jsonx_member(&r.pd, r.data, "custom_claims"), claims, err)) !=
		ATTEST_OK ||
	    (rc = record_context(cfg, &r, err)) != ATTEST_OK ||
	    (rc = fill_result(&r, claims, result, err)) != ATTEST_OK)
		goto out;
	claims = NULL; /* transferred */
out:
	claim_set_free(claims);
	req_free(&r);
	return rc;
}

/* ---- offline verification (evidence.h shape) --------------------------------- */

int tpm_verify(const struct evidence_ctx *ctx, const struct evidence_input *in, struct claim_set *out,
	       struct attest_err *err)
{
	struct tpm_proto_cfg cfg;
	struct tpm_att a;
	struct verified_att v;
	doc_t doc = {0};
	struct claim_set *claims = NULL;
	uint8_t h[32];
	bool lenient = (ctx->flags & EVIDENCE_NO_COLLATERAL) != 0;
	int rc;

	memset(&a, 0, sizeof(a));
	memset(&v, 0, sizeof(v));
	tpm_proto_cfg_defaults(&cfg);
	cfg.now = ctx->now;
	cfg.aik_roots = ctx->anchors ? ctx->anchors->tpm_roots : NULL;
	if ((rc = jsonx_index((const char *)in->evidence, in->evidence_len, &doc, "tpm.evidence", "TPM evidence",
			      err)) != ATTEST_OK ||
	    (rc = att_from_v2(&doc, doc.nodes, NULL, &a, err)) != ATTEST_OK)
		goto out;
	if (lenient) {
		/* Signatures only: the AIK is taken as given and reported as not validated. */
		cfg.require_valid_aik_cert = false;
		tpm_pkey_spki_sha256(a.aik, h);
		cfg.registered_aiks = (const uint8_t(*)[32])h;
		cfg.n_registered_aiks = 1;
	}
	/* The expected qualifying data is the runtime data (none: an empty extraData). */
	if ((rc = verify_att(&cfg, &a, in->runtime_data, in->runtime_data ? in->runtime_data_len : 0, false, &v,
			     err)) != ATTEST_OK)
		goto out;
	claims = claim_set_new();
	if (claims == NULL || (rc = tpm_claims(&v, NULL, &a.pcrs, true, claims, err)) != ATTEST_OK) {
		rc = rc ? rc : attest_err_set(err, ATTEST_E_NOMEM, "tpm.nomem", "out of memory");
		goto out;
	}
	/* Handed over whole: all of the claims or, past out's bound, none. */
	if (claim_set_move_all(out, claims) != ATTEST_OK)
		rc = attest_err_set(err, ATTEST_E_NOMEM, "tpm.nomem", "out of memory");
out:
	claim_set_free(claims);
	jsonx_doc_free(&doc);
	att_free(&a);
	tcg_log_free(v.log);
	return rc;
}
