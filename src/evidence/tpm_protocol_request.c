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

/* One TPM attestation (current or boot) normalised from a v1 or v2 message. */
struct tpm_att {
	uint8_t *quote, *sig; /* owned */
	size_t quote_len, sig_len;
	uint8_t *logs[MAX_LOGS]; /* owned */
	size_t log_lens[MAX_LOGS];
	size_t n_logs;
	struct tpm_pcr_values pcrs;
	EVP_PKEY *aik;   /* owned */
	uint8_t aik_hash[32]; /* its SPKI SHA-256 when the key came from the cache */
	bool aik_hash_set;
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
	EVP_PKEY_free(a->aik);
	free(a->aik_cert);
	free(a->blob);
	memset(a, 0, sizeof(*a));
}

/* A base64url member; absent is NULL/0 unless required. */
static int b64_member(const json_t *obj, const char *key, bool required, uint8_t **out, size_t *len,
		      struct attest_err *err)
{
	const json_t *v = json_object_get(obj, key);
	const char *s;

	*out = NULL;
	*len = 0;
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return ATTEST_OK;
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.missing", "\"%s\" is missing", key);
	}
	if (!json_is_string(v))
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.encoding", "\"%s\" is not a string", key);
	s = json_string_value(v);
	if (b64_decode(s, strlen(s), out, len) != 0)
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.encoding", "\"%s\" is not base64url", key);
	return ATTEST_OK;
}

/* aik_public: base64url TPM2B_PUBLIC / TPMT_PUBLIC (offline bundles, tpm_verify). */
static int aik_from_public(const json_t *tad, struct tpm_att *a, struct attest_err *err)
{
	uint8_t *p = NULL;
	size_t n = 0;
	TPMT_PUBLIC pub;
	int rc = b64_member(tad, "aik_public", true, &p, &n, err);

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

/*
 * A JWK's key through the cache (when there is one): the same canonical
 * text is the same key, so a returning client's keys are decoded once.
 * *spki_set says whether spki holds the key's SPKI SHA-256.
 */
static int jwk_key_cached(struct tpm_aik_cache *cache, const json_t *jwk, EVP_PKEY **out, uint8_t spki[32],
			  bool *spki_set, struct attest_err *err)
{
	size_t len = 0;
	char *text = cache != NULL ? jose_json_dump_sorted(jwk, &len) : NULL;
	uint8_t id[32];
	int rc;

	*spki_set = false;
	if (text != NULL && sha256(text, len, id) == ATTEST_OK) {
		free(text);
		if ((*out = tpm_key_cache_get(cache, id, spki)) != NULL) {
			*spki_set = true;
			return ATTEST_OK;
		}
		if ((rc = jwk_to_key(jwk, out, err)) != ATTEST_OK)
			return rc;
		if (tpm_pkey_spki_sha256(*out, spki) == 0) {
			tpm_key_cache_put(cache, id, *out, spki);
			*spki_set = true;
		}
		return ATTEST_OK;
	}
	free(text);
	return jwk_to_key(jwk, out, err);
}

static int aik_from(const json_t *tad, struct tpm_aik_cache *cache, struct tpm_att *a, struct attest_err *err)
{
	const json_t *jwk = json_object_get(tad, "aik_pub");
	uint8_t *der = NULL;
	size_t dlen = 0;
	int rc;

	if (!json_is_object(jwk) && json_is_string(json_object_get(tad, "aik_public")))
		rc = aik_from_public(tad, a, err);
	else if (!json_is_object(jwk))
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.missing", "\"aik_pub\" (JWK) is missing");
	else
		rc = jwk_key_cached(cache, jwk, &a->aik, a->aik_hash, &a->aik_hash_set, err);
	if (rc != ATTEST_OK) {
		attest_err_prefix(err, "aik_pub: ");
		return rc;
	}
	if ((rc = b64_member(tad, "aik_cert", false, &der, &dlen, err)) != ATTEST_OK)
		return rc;
	if (der != NULL && dlen == 0) {
		free(der); /* an empty aik_cert is no certificate, as before */
		der = NULL;
	}
	a->aik_cert = der; /* transferred */
	a->aik_cert_len = dlen;
	return ATTEST_OK;
}

/* v2 "pcrs": [{algorithm, values: [{index, digest}]}]. */
static int pcrs_from(const json_t *arr, struct tpm_pcr_values *pcrs, struct attest_err *err)
{
	size_t i, j;
	const json_t *bank, *val;

	memset(pcrs, 0, sizeof(*pcrs));
	if (!json_is_array(arr))
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.missing", "\"pcrs\" is missing");
	json_array_foreach(arr, i, bank) {
		int b = tpm_bank_from_alg((uint16_t)json_integer_value(json_object_get(bank, "algorithm")));
		const json_t *values = json_object_get(bank, "values");

		if (b < 0 || !json_is_array(values))
			return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.pcrs",
					      "pcrs[%zu] names no supported algorithm or has no values", i);
		json_array_foreach(values, j, val) {
			uint8_t *d = NULL;
			size_t dl = 0;
			const json_t *idx = json_object_get(val, "index");
			int rc;

			if (!json_is_integer(idx) || json_integer_value(idx) < 0 ||
			    b64_member(val, "digest", true, &d, &dl, err) != ATTEST_OK)
				return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.pcrs",
						      "pcrs[%zu].values[%zu] is malformed", i, j);
			rc = tpm_pcr_set(pcrs, (enum tpm_bank)b, (unsigned)json_integer_value(idx), d, dl, err);
			free(d);
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

static int add_log(struct tpm_att *a, const json_t *obj, const char *key, struct attest_err *err)
{
	uint8_t *p = NULL;
	size_t n = 0;
	int rc = b64_member(obj, key, false, &p, &n, err);

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
static int att_from_v2(const json_t *o, struct tpm_aik_cache *cache, struct tpm_att *a,
		       struct attest_err *err)
{
	const json_t *logs = json_object_get(o, "logs"), *l;
	size_t i;
	int rc;

	if ((rc = aik_from(o, cache, a, err)) != ATTEST_OK ||
	    (rc = pcrs_from(json_object_get(o, "pcrs"), &a->pcrs, err)) ||
	    (rc = b64_member(o, "quote", true, &a->quote, &a->quote_len, err)) ||
	    (rc = b64_member(o, "signature", true, &a->sig, &a->sig_len, err)))
		return rc;
	json_array_foreach(logs, i, l) {
		const json_t *type = json_object_get(l, "type");

		if (!json_is_string(type) || strcmp(json_string_value(type), "TCG") != 0)
			continue; /* IMA and other log types are not replayed here */
		if ((rc = add_log(a, l, "log", err)) != ATTEST_OK)
			return rc;
	}
	return ATTEST_OK;
}

/*
 * v1: a PCP platform claim (current_claim / boot_claim) carries the PCR
 * values, the quote and its signature; the logs come as separate members.
 */
static int att_from_v1(const json_t *tad, const char *claim_key, bool with_logs, struct tpm_aik_cache *cache,
		       struct tpm_att *a, struct attest_err *err)
{
	struct tpm_pcp_blob b;
	size_t blen = 0;
	int bank, rc;
	size_t dsz;

	if ((rc = aik_from(tad, cache, a, err)) != ATTEST_OK ||
	    (rc = b64_member(tad, claim_key, true, &a->blob, &blen, err)) != ATTEST_OK ||
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
		if ((rc = add_log(a, tad, "srtm_boot_log", err)) != ATTEST_OK ||
		    (rc = add_log(a, tad, "srtm_resume_log", err)) != ATTEST_OK)
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

/* v2 other_keys[].info.tpm_certify: each certified key must be certified by the AIK. */
static int check_other_keys(const json_t *keys, EVP_PKEY *aik, struct attest_err *err)
{
	size_t i;
	const json_t *k;

	if (json_array_size(keys) > MAX_OTHER_KEYS)
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.other_keys", "too many other_keys");
	json_array_foreach(keys, i, k) {
		const json_t *cert = json_object_get(json_object_get(k, "info"), "tpm_certify");
		uint8_t *pub = NULL, *att = NULL, *sig = NULL;
		size_t pl = 0, al = 0, sl = 0;
		TPMT_PUBLIC tp;
		EVP_PKEY *jk = NULL, *tk = NULL;
		int rc;

		if (cert == NULL)
			continue;
		if ((rc = b64_member(cert, "public", true, &pub, &pl, err)) == ATTEST_OK &&
		    (rc = b64_member(cert, "certification", true, &att, &al, err)) == ATTEST_OK &&
		    (rc = b64_member(cert, "signature", true, &sig, &sl, err)) == ATTEST_OK &&
		    (rc = tpm_public_parse(pub, pl, &tp, err)) == ATTEST_OK &&
		    (rc = tpm_certify_verify(&tp, aik, att, al, sig, sl, err)) == ATTEST_OK &&
		    (rc = tpm_public_to_pkey(&tp, &tk, err)) == ATTEST_OK &&
		    (rc = jwk_to_key(json_object_get(k, "jwk"), &jk, err)) == ATTEST_OK &&
		    EVP_PKEY_eq(jk, tk) != 1)
			rc = attest_err_set(err, ATTEST_E_VERIFY, "tpm.certify.jwk",
					    "other_keys[%zu]: the JWK is not the certified TPM key", i);
		free(pub);
		free(att);
		free(sig);
		EVP_PKEY_free(jk);
		EVP_PKEY_free(tk);
		if (rc != ATTEST_OK)
			return rc;
	}
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

static int custom_claims(const json_t *arr, struct claim_set *out, struct attest_err *err)
{
	size_t i;
	const json_t *c;

	if (arr == NULL)
		return ATTEST_OK;
	if (!json_is_array(arr) || json_array_size(arr) > MAX_CUSTOM_CLAIMS)
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.custom_claims",
				      "custom_claims must be an array of at most %d claims", MAX_CUSTOM_CLAIMS);
	json_array_foreach(arr, i, c) {
		const json_t *name = json_object_get(c, "name"), *value = json_object_get(c, "value");
		const char *vt = json_string_value(json_object_get(c, "value_type"));

		if (!json_is_string(name) || json_string_length(name) == 0 || json_string_length(name) > 256 ||
		    value == NULL || json_is_object(value) || json_is_array(value))
			return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.custom_claims",
					      "custom_claims[%zu] needs a name and a scalar value", i);
		(void)vt; /* the value keeps its JSON type; value_type is informative */
		if (reserved_claim_name(json_string_value(name)))
			return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.custom_claims",
					      "custom_claims[%zu] uses the reserved claim name \"%s\"", i,
					      json_string_value(name));
		if (claim_set_add_issued(out, json_string_value(name), CLAIM_ISSUER_CUSTOM, json_deep_copy(value)) != 0)
			return attest_err_set(err, ATTEST_E_NOMEM, "tpm.proto.nomem", "out of memory");
	}
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

static int tpm_claims(const struct verified_att *cur, const struct verified_att *boot,
		      const struct tpm_pcr_values *pcrs, struct claim_set *out, struct attest_err *err)
{
	char h64[64];
	char *b64 = b64std_encode(cur->quote.aik_pub_hash, 32), *s;
	struct tcg_boot_state st;
	int rc = 0;

	snprintf(h64, sizeof(h64), "%s", b64 ? b64 : "");
	free(b64);
	rc |= claim_set_add_bool(out, "aikValidated", cur->quote.aik_cert_validated);
	rc |= claim_set_add_str(out, "aikPubHash", h64);
	rc |= claim_set_add_int(out, "tpmVersion", 2);
	if (cur->log != NULL) {
		if ((rc = tcg_boot_state(cur->log, &st, err)) != ATTEST_OK)
			return rc;
		rc |= tcg_boot_state_claims(&st, out);
		s = tcg_events_json(cur->log, true);
		rc |= add_text_claim(out, "events", s);
		free(s);
	}
	if (boot != NULL && boot->log != NULL) {
		s = tcg_events_json(boot->log, true);
		rc |= add_text_claim(out, "bootEvents", s);
		free(s);
	}
	s = tcg_pcrs_json(pcrs);
	rc |= add_text_claim(out, "pcrs", s);
	free(s);
	return rc ? attest_err_set(err, ATTEST_E_NOMEM, "tpm.proto.nomem", "out of memory") : ATTEST_OK;
}

/* ---- the request ---------------------------------------------------------- */

struct req {
	struct jws *jws;
	json_t *payload;
	const json_t *data;      /* att_data or att_data.report_signed (borrowed) */
	const char *rs_text;     /* raw report_signed text (VBS) */
	size_t rs_len;
	int version;
	bool vbs;
	EVP_PKEY *key;           /* request key (owned) */
	const json_t *jwk;       /* borrowed */
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
	json_decref(r->payload);
	EVP_PKEY_free(r->key);
	att_free(&r->cur);
	att_free(&r->boot);
	tcg_log_free(r->vcur.log);
	tcg_log_free(r->vboot.log);
	free(r->vsm);
}

static int read_envelope(const struct tpm_proto_msg *m, struct req *r, struct attest_err *err)
{
	const char *token = json_string_value(json_object_get(m->msg, "request"));
	const char *typ, *att_type, *span;
	size_t slen;
	int rc;

	if ((rc = jws_parse(token, strlen(token), &r->jws, err)) != ATTEST_OK)
		return rc;
	typ = jws_header_str(r->jws, "typ");
	if (typ != NULL && strcmp(typ, "attReq") == 0)
		r->version = 1;
	else if (typ != NULL && strcmp(typ, "attReqV2") == 0)
		r->version = 2;
	else
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.typ",
				      "request JWS typ must be \"attReq\" or \"attReqV2\"");
	if (r->jws->alg != JWS_ALG_PS256 && r->jws->alg != JWS_ALG_RS256)
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.alg", "request JWS alg must be PS256");
	if ((rc = jsonx_parse((const char *)r->jws->payload, r->jws->payload_len, &r->payload,
			      "tpm.proto.payload", "attestation request", err)) != ATTEST_OK)
		return rc;
	att_type = json_string_value(json_object_get(r->payload, "att_type"));
	r->data = json_object_get(r->payload, "att_data");
	if (att_type == NULL || !json_is_object(r->data) ||
	    (strcmp(att_type, "basic") != 0 && strcmp(att_type, "vbs") != 0))
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.att_type",
				      "att_type must be \"basic\" or \"vbs\" with an att_data object");
	if (strcmp(att_type, "vbs") != 0)
		return ATTEST_OK;
	r->vbs = true;
	/* EnclaveData hashes report_signed exactly as sent: take its raw text. */
	if ((rc = tpm_json_member_span((const char *)r->jws->payload, r->jws->payload_len, "att_data", &span,
				       &slen, err)) != ATTEST_OK ||
	    (rc = tpm_json_member_span(span, slen, "report_signed", &r->rs_text, &r->rs_len, err)) != ATTEST_OK ||
	    (rc = b64_member(r->data, "vsm_report", true, &r->vsm, &r->vsm_len, err)) != ATTEST_OK)
		return rc;
	r->data = json_object_get(r->data, "report_signed");
	if (!json_is_object(r->data))
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.report_signed", "report_signed is not an object");
	return ATTEST_OK;
}

static int check_pop_and_context(const struct tpm_proto_cfg *cfg, struct req *r, struct attest_err *err)
{
	const json_t *rk = json_object_get(r->data, "request_key");
	uint8_t *ch = NULL, spki[32];
	bool spki_set;
	size_t chl = 0;
	int rc, seen;

	r->jwk = r->version == 1 ? json_object_get(r->data, "attest_key") : json_object_get(rk, "jwk");
	if (!json_is_object(r->jwk))
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.missing", "the request key (%s) is missing",
				      r->version == 1 ? "attest_key" : "request_key.jwk");
	/* Proof of possession: the key the request names signed it (no kid). */
	if ((rc = jwk_key_cached(cfg->aik_cache, r->jwk, &r->key, spki, &spki_set, err)) != ATTEST_OK ||
	    (rc = jws_verify(r->jws, r->key, 0, err)) != ATTEST_OK)
		return rc;
	if ((rc = tpm_context_open(cfg->service_key, json_string_value(json_object_get(r->data, "service_context")),
				   cfg->now, &r->ctx, err)) != ATTEST_OK ||
	    (rc = b64_member(r->data, "challenge", true, &ch, &chl, err)) != ATTEST_OK)
		return rc;
	rc = (chl != r->ctx.challenge_len || CRYPTO_memcmp(ch, r->ctx.challenge, chl) != 0)
		     ? attest_err_set(err, ATTEST_E_VERIFY, "tpm.context.challenge",
				      "the request's challenge is not the one its service_context was issued with")
		     : ATTEST_OK;
	free(ch);
	if (rc != ATTEST_OK)
		return rc;
	if (cfg->replay == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "tpm.proto.config", "no replay check configured");
	seen = cfg->replay(cfg->replay_arg, r->ctx.id, r->ctx.expiry, cfg->now);
	if (seen == 1)
		return attest_err_set(err, ATTEST_E_VERIFY, "tpm.context.replayed",
				      "this service_context was already used; start again with an init message");
	if (seen != 0)
		return attest_err_set(err, ATTEST_E_INTERNAL, "tpm.context.replay_store",
				      "the replay check is unavailable; refusing the request");
	return ATTEST_OK;
}

static int read_attestations(struct req *r, struct tpm_aik_cache *cache, struct attest_err *err)
{
	const json_t *tad = json_object_get(r->data, "tpm_att_data");
	int rc;

	if (!json_is_object(tad))
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.missing", "tpm_att_data is missing");
	if (r->version == 2) {
		const json_t *boot = json_object_get(tad, "boot_attestation");

		rc = att_from_v2(json_object_get(tad, "current_attestation"), cache, &r->cur, err);
		if (rc != ATTEST_OK)
			return rc;
		if (json_is_object(boot)) {
			r->has_boot = true;
			return att_from_v2(boot, cache, &r->boot, err);
		}
		return ATTEST_OK;
	}
	if ((rc = att_from_v1(tad, "current_claim", true, cache, &r->cur, err)) != ATTEST_OK)
		return rc;
	if (json_object_get(tad, "boot_claim") != NULL) {
		r->has_boot = true;
		return att_from_v1(tad, "boot_claim", false, cache, &r->boot, err);
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
	const char *rp_data = json_string_value(json_object_get(r->data, "rp_data"));
	const char *rp_id = json_string_value(json_object_get(r->data, "rp_id"));

	struct tpm_proto_result t = {.version = r->version, .vbs = r->vbs};

	t.cnf = json_deep_copy(r->jwk);
	t.rp_data = rp_data ? strdup(rp_data) : NULL;
	t.rp_id = rp_id ? strdup(rp_id) : NULL;
	if (t.cnf == NULL || (rp_data && t.rp_data == NULL) || (rp_id && t.rp_id == NULL)) {
		tpm_proto_result_free(&t); /* claims are still the caller's */
		return attest_err_set(err, ATTEST_E_NOMEM, "tpm.proto.nomem", "out of memory");
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
	    (rc = check_other_keys(json_object_get(r.data, "other_keys"), r.cur.aik, err)) != ATTEST_OK)
		goto out;
	claims = claim_set_new();
	if (claims == NULL) {
		rc = attest_err_set(err, ATTEST_E_NOMEM, "tpm.proto.nomem", "out of memory");
		goto out;
	}
	if ((rc = tpm_claims(&r.vcur, r.has_boot ? &r.vboot : NULL, &r.cur.pcrs, claims, err)) != ATTEST_OK ||
	    (r.vbs && (rc = check_vbs(&r, claims, err)) != ATTEST_OK) ||
	    (!r.vbs && (rc = claim_set_add_bool(claims, "vbsReportPresent", false)) != ATTEST_OK) ||
	    (rc = custom_claims(json_object_get(r.data, "custom_claims"), claims, err)) != ATTEST_OK ||
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
	json_t *doc = NULL;
	struct claim_set *claims = NULL;
	uint8_t h[32];
	bool lenient = (ctx->flags & EVIDENCE_NO_COLLATERAL) != 0;
	int rc;

	memset(&a, 0, sizeof(a));
	memset(&v, 0, sizeof(v));
	tpm_proto_cfg_defaults(&cfg);
	cfg.now = ctx->now;
	cfg.aik_roots = ctx->anchors ? ctx->anchors->tpm_roots : NULL;
	if ((rc = jsonx_parse((const char *)in->evidence, in->evidence_len, &doc, "tpm.evidence",
			      "TPM evidence", err)) != ATTEST_OK ||
	    (rc = att_from_v2(doc, NULL, &a, err)) != ATTEST_OK)
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
	if (claims == NULL || (rc = tpm_claims(&v, NULL, &a.pcrs, claims, err)) != ATTEST_OK) {
		rc = rc ? rc : attest_err_set(err, ATTEST_E_NOMEM, "tpm.nomem", "out of memory");
		goto out;
	}
	for (size_t i = 0; i < claim_set_count(claims); i++) {
		const struct claim *c = claim_set_at(claims, i);

		if (claim_set_add_issued(out, c->type, c->issuer, json_incref(c->value)) != 0) {
			rc = attest_err_set(err, ATTEST_E_NOMEM, "tpm.nomem", "out of memory");
			goto out;
		}
	}
out:
	claim_set_free(claims);
	json_decref(doc);
	att_free(&a);
	tcg_log_free(v.log);
	return rc;
}
