/*
 * A provider's registered AIKs and published CVM measurements, from its
 * settings: see provider_trust.h for the JSON and the contract.
 */
#include "server/provider_trust.h"

#include "base/codec.h"
#include "base/jsonx.h"
#include "evidence/tpm.h"

#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#define PT "provider.settings"

struct provider_trust {
	struct evidence_tenant tenant;
	uint8_t (*aiks)[32];
	uint8_t (*measurements)[48];
};

void provider_trust_free(struct provider_trust *t)
{
	if (t == NULL)
		return;
	free(t->aiks);
	free(t->measurements);
	free(t);
}

const struct evidence_tenant *provider_trust_tenant(const struct provider_trust *t)
{
	if (t == NULL || (t->tenant.n_registered_aiks == 0 && t->tenant.n_cvm_measurements == 0))
		return NULL;
	return &t->tenant;
}

/* An AIK entry: the SHA-256 of its SPKI in base64 (either alphabet), or the public key in PEM. */
static int aik_entry(const char *s, size_t len, uint8_t out[32])
{
	uint8_t *raw = NULL;
	size_t n = 0;
	int rc = -1;

	if (strstr(s, "-----BEGIN") != NULL) {
		BIO *bio = BIO_new_mem_buf(s, (int)len);
		EVP_PKEY *k = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;

		rc = k != NULL && tpm_pkey_spki_sha256(k, out) == 0 ? 0 : -1;
		EVP_PKEY_free(k);
		BIO_free(bio);
		return rc;
	}
	if (b64_decode(s, len, &raw, &n) == 0 && n == 32) {
		memcpy(out, raw, 32);
		rc = 0;
	}
	free(raw);
	return rc;
}

/* An array member of obj holding at most max strings; NULL array = none. */
static int string_array(const json_t *obj, const char *name, const char *where, const char *code, size_t max,
			const json_t **out, struct attest_err *err)
{
	const json_t *a = json_object_get(obj, name);

	*out = NULL;
	if (a == NULL || json_is_null(a))
		return ATTEST_OK;
	if (!json_is_array(a))
		return attest_err_set(err, ATTEST_E_PARSE, code, "settings.%s.%s must be an array", where,
				      name);
	if (json_array_size(a) > max)
		return attest_err_set(err, ATTEST_E_PARSE, PT ".count",
				      "settings.%s.%s has %zu entries, more than %zu", where, name,
				      json_array_size(a), max);
	*out = a;
	return ATTEST_OK;
}

static int parse_aiks(const json_t *settings, struct provider_trust *t, struct attest_err *err)
{
	const json_t *tpm = json_object_get(settings, "tpm"), *a, *v;
	size_t i;
	int rc;

	if (tpm == NULL || json_is_null(tpm))
		return ATTEST_OK;
	if (!json_is_object(tpm))
		return attest_err_set(err, ATTEST_E_PARSE, PT ".tpm", "settings.tpm must be an object");
	if ((rc = string_array(tpm, "registeredAiks", "tpm", PT ".tpm", PROVIDER_TRUST_MAX_AIKS, &a, err)) !=
		ATTEST_OK ||
	    a == NULL || json_array_size(a) == 0)
		return rc;
	if ((t->aiks = calloc(json_array_size(a), sizeof(*t->aiks))) == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, PT ".nomem", "out of memory");
	json_array_foreach(a, i, v)
	{
		/* On failure t, with what it holds so far, is freed by the caller (provider_trust_free). */
		if (!json_is_string(v) ||
		    aik_entry(json_string_value(v), json_string_length(v), t->aiks[i]) != 0)
			return attest_err_set(
			    err, ATTEST_E_PARSE, PT ".aik",
			    "settings.tpm.registeredAiks[%zu] is neither the base64 SHA-256 of an "
			    "AIK's SubjectPublicKeyInfo nor a PEM public key",
			    i);
	}
	t->tenant.registered_aiks = (const uint8_t(*)[32])t->aiks;
	t->tenant.n_registered_aiks = json_array_size(a);
	return ATTEST_OK;
}

static int parse_measurements(const json_t *settings, struct provider_trust *t, struct attest_err *err)
{
	const json_t *ag = json_object_get(settings, "azureGuest"), *a, *v;
	size_t i;
	int rc;

	if (ag == NULL || json_is_null(ag))
		return ATTEST_OK;
	if (!json_is_object(ag))
		return attest_err_set(err, ATTEST_E_PARSE, PT ".azure_guest",
				      "settings.azureGuest must be an object");
	if ((rc = string_array(ag, "cvmMeasurements", "azureGuest", PT ".azure_guest",
			       PROVIDER_TRUST_MAX_MEASUREMENTS, &a, err)) != ATTEST_OK ||
	    a == NULL || json_array_size(a) == 0)
		return rc;
	if ((t->measurements = calloc(json_array_size(a), sizeof(*t->measurements))) == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, PT ".nomem", "out of memory");
	json_array_foreach(a, i, v)
	{
		const char *text = json_is_string(v) ? json_string_value(v) : "";

		/* On failure t, with what it holds so far, is freed by the caller (provider_trust_free). */
		if (!json_is_string(v) || json_string_length(v) != 96 ||
		    hex_decode_to(text, 96, t->measurements[i], 48) != 0)
			return attest_err_set(
			    err, ATTEST_E_PARSE, PT ".measurement",
			    "settings.azureGuest.cvmMeasurements[%zu] (\"%.16s%s\") is not 96 hex "
			    "digits (a 48-byte launch measurement)",
			    i, text, strlen(text) > 16 ? "..." : "");
	}
	t->tenant.cvm_measurements = (const uint8_t(*)[48])t->measurements;
	t->tenant.n_cvm_measurements = json_array_size(a);
	return ATTEST_OK;
}

int provider_trust_from_json(const json_t *settings, struct provider_trust **out, struct attest_err *err)
{
	struct provider_trust *t = calloc(1, sizeof(*t));
	int rc;

	if (t == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, PT ".nomem", "out of memory");
	rc = settings == NULL || json_is_null(settings) ? ATTEST_OK
	     : !json_is_object(settings)		? attest_err_set(err, ATTEST_E_PARSE, PT ".json",
									 "the provider settings are not a JSON object")
							: parse_aiks(settings, t, err);
	if (rc == ATTEST_OK && json_is_object(settings))
		rc = parse_measurements(settings, t, err);
	if (rc != ATTEST_OK) {
		provider_trust_free(t);
		return rc;
	}
	*out = t; /* transferred */
	return ATTEST_OK;
}

int provider_trust_parse(const char *settings_json, struct provider_trust **out, struct attest_err *err)
{
	json_t *s = NULL;
	int rc;

	if (settings_json == NULL || settings_json[0] == 0)
		return provider_trust_from_json(NULL, out, err);
	if ((rc = jsonx_parse(settings_json, strlen(settings_json), &s, PT ".json", "provider settings",
			      err)) != ATTEST_OK)
		return rc;
	rc = provider_trust_from_json(s, out, err);
	json_decref(s);
	return rc;
}
