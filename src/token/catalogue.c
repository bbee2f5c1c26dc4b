/*
 * The MAA claim catalogue: see catalogue.h. Rows follow maa-interface.md
 * §2.3 (SGX/OE), §2.4 (TPM), §2.5 (SEV-SNP), §2.6 (Azure guest), §2.7 (TDX),
 * checked against the real tokens in vectors/maa-tokens.
 */
#include "token/catalogue.h"

#include "token/request.h"

#include "base/codec.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ROWS(a) a, sizeof(a) / sizeof((a)[0])
#define REQ	TOKEN_CLAIM_REQUIRED
#define HEX(n)	TOKEN_CLAIM_HEX, (n)

/* Runtime / init-time JSON data (§2.2): every type may carry them. */
#define DATA_CLAIMS                                                                                          \
	{"x-ms-runtime", TOKEN_JSON_ANY, TOKEN_CLAIM_FROM_REQUEST, 0},                                       \
	{                                                                                                    \
		"x-ms-inittime", TOKEN_JSON_ANY, TOKEN_CLAIM_FROM_REQUEST, 0                                 \
	}

/* §2.3; x-ms-sgx-report-data is observed in real tokens. */
static const struct token_claim_def SGX_CLAIMS[] = {
    {"x-ms-sgx-is-debuggable", TOKEN_JSON_BOOLEAN, REQ, 0},
    {"x-ms-sgx-mrenclave", TOKEN_JSON_STRING, REQ | HEX(32)},
    {"x-ms-sgx-mrsigner", TOKEN_JSON_STRING, REQ | HEX(32)},
    {"x-ms-sgx-product-id", TOKEN_JSON_INTEGER, REQ, 0},
    {"x-ms-sgx-svn", TOKEN_JSON_INTEGER, REQ, 0},
    {"x-ms-sgx-report-data", TOKEN_JSON_STRING, REQ | HEX(64)},
    {"x-ms-sgx-ehd", TOKEN_JSON_STRING, TOKEN_CLAIM_FROM_REQUEST, 0},
    {"x-ms-sgx-collateral", TOKEN_JSON_OBJECT, 0, 0},
    {"x-ms-sgx-config-id", TOKEN_JSON_STRING, HEX(64)},
    {"x-ms-sgx-config-svn", TOKEN_JSON_INTEGER, 0, 0},
    {"x-ms-sgx-isv-extended-product-id", TOKEN_JSON_STRING, HEX(16)},
    {"x-ms-sgx-isv-family-id", TOKEN_JSON_STRING, HEX(16)},
    DATA_CLAIMS,
};

/* §2.9: aliases the real service still emits beside the x-ms-sgx-* names. */
static const struct token_alias_def SGX_ALIASES[] = {
    {"maa-ehd", "x-ms-sgx-ehd"},
    {"aas-ehd", "x-ms-sgx-ehd"},
    {"maa-attestationcollateral", "x-ms-sgx-collateral"},
};

/* §2.5, as in the real 2025 sevsnpvm token (mixed case familyId/imageId). */
static const struct token_claim_def SNP_CLAIMS[] = {
    {"x-ms-sevsnpvm-authorkeydigest", TOKEN_JSON_STRING, REQ | HEX(48)},
    {"x-ms-sevsnpvm-bootloader-svn", TOKEN_JSON_INTEGER, REQ, 0},
    {"x-ms-sevsnpvm-familyId", TOKEN_JSON_STRING, REQ | HEX(16)},
    {"x-ms-sevsnpvm-guestsvn", TOKEN_JSON_INTEGER, REQ, 0},
    {"x-ms-sevsnpvm-hostdata", TOKEN_JSON_STRING, REQ | HEX(32)},
    {"x-ms-sevsnpvm-idkeydigest", TOKEN_JSON_STRING, REQ | HEX(48)},
    {"x-ms-sevsnpvm-imageId", TOKEN_JSON_STRING, REQ | HEX(16)},
    {"x-ms-sevsnpvm-is-debuggable", TOKEN_JSON_BOOLEAN, REQ, 0},
    {"x-ms-sevsnpvm-launchmeasurement", TOKEN_JSON_STRING, REQ | HEX(48)},
    {"x-ms-sevsnpvm-microcode-svn", TOKEN_JSON_INTEGER, REQ, 0},
    {"x-ms-sevsnpvm-migration-allowed", TOKEN_JSON_BOOLEAN, REQ, 0},
    {"x-ms-sevsnpvm-reportdata", TOKEN_JSON_STRING, REQ | HEX(64)},
    {"x-ms-sevsnpvm-reportid", TOKEN_JSON_STRING, REQ | HEX(32)},
    {"x-ms-sevsnpvm-smt-allowed", TOKEN_JSON_BOOLEAN, REQ, 0},
    {"x-ms-sevsnpvm-snpfw-svn", TOKEN_JSON_INTEGER, REQ, 0},
    {"x-ms-sevsnpvm-tee-svn", TOKEN_JSON_INTEGER, REQ, 0},
    {"x-ms-sevsnpvm-vmpl", TOKEN_JSON_INTEGER, REQ, 0},
    {"x-ms-compliance-status", TOKEN_JSON_STRING, 0, 0},
    DATA_CLAIMS,
};

/* §2.7, the TDX EAT profile as in the documented sample token. */
static const struct token_claim_def TDX_CLAIMS[] = {
    {"attester_tcb_status", TOKEN_JSON_STRING, 0, 0},
    {"dbgstat", TOKEN_JSON_STRING, 0, 0},
    {"tdx_mrconfigid", TOKEN_JSON_STRING, REQ | HEX(48)},
    {"tdx_mrowner", TOKEN_JSON_STRING, REQ | HEX(48)},
    {"tdx_mrownerconfig", TOKEN_JSON_STRING, REQ | HEX(48)},
    {"tdx_mrseam", TOKEN_JSON_STRING, REQ | HEX(48)},
    {"tdx_mrsignerseam", TOKEN_JSON_STRING, REQ | HEX(48)},
    {"tdx_mrtd", TOKEN_JSON_STRING, REQ | HEX(48)},
    {"tdx_report_data", TOKEN_JSON_STRING, REQ | HEX(64)},
    {"tdx_rtmr0", TOKEN_JSON_STRING, REQ | HEX(48)},
    {"tdx_rtmr1", TOKEN_JSON_STRING, REQ | HEX(48)},
    {"tdx_rtmr2", TOKEN_JSON_STRING, REQ | HEX(48)},
    {"tdx_rtmr3", TOKEN_JSON_STRING, REQ | HEX(48)},
    {"tdx_seam_attributes", TOKEN_JSON_STRING, REQ | HEX(8)},
    {"tdx_seamsvn", TOKEN_JSON_INTEGER, REQ, 0},
    {"tdx_td_attributes", TOKEN_JSON_STRING, REQ | HEX(8)},
    {"tdx_td_attributes_debug", TOKEN_JSON_BOOLEAN, REQ, 0},
    {"tdx_td_attributes_key_locker", TOKEN_JSON_BOOLEAN, 0, 0},
    {"tdx_td_attributes_perfmon", TOKEN_JSON_BOOLEAN, 0, 0},
    {"tdx_td_attributes_protection_keys", TOKEN_JSON_BOOLEAN, 0, 0},
    {"tdx_td_attributes_septve_disable", TOKEN_JSON_BOOLEAN, 0, 0},
    {"tdx_tee_tcb_svn", TOKEN_JSON_STRING, REQ | HEX(16)},
    {"tdx_xfam", TOKEN_JSON_STRING, REQ | HEX(8)},
    {"x-ms-compliance-status", TOKEN_JSON_STRING, 0, 0},
    DATA_CLAIMS,
};

static const struct token_const_def TDX_CONSTS[] = {
    {"eat_profile", "https://aka.ms/maa-eat-profile-tdxvm"},
    {"intuse", "generic"},
};

/*
 * §2.4: the TPM incoming claims stay policy inputs; tokens carry what the
 * policy issues, plus the attested key (cnf) and rp_data when present.
 */
static const struct token_claim_def TPM_CLAIMS[] = {
    {"cnf", TOKEN_JSON_OBJECT, 0, 0},
    {"rp_data", TOKEN_JSON_STRING, 0, 0},
};

/* §2.6. */
static const struct token_claim_def AZURE_GUEST_CLAIMS[] = {
    {"secureboot", TOKEN_JSON_BOOLEAN, 0, 0},
    {"x-ms-azurevm-attestation-protocol-ver", TOKEN_JSON_STRING, 0, 0},
    {"x-ms-azurevm-attested-pcrs", TOKEN_JSON_ARRAY, 0, 0},
    {"x-ms-azurevm-bootdebug-enabled", TOKEN_JSON_BOOLEAN, 0, 0},
    {"x-ms-azurevm-dbvalidated", TOKEN_JSON_BOOLEAN, 0, 0},
    {"x-ms-azurevm-dbxvalidated", TOKEN_JSON_BOOLEAN, 0, 0},
    {"x-ms-azurevm-debuggersdisabled", TOKEN_JSON_BOOLEAN, 0, 0},
    {"x-ms-azurevm-default-securebootkeysvalidated", TOKEN_JSON_BOOLEAN, 0, 0},
    {"x-ms-azurevm-elam-enabled", TOKEN_JSON_BOOLEAN, 0, 0},
    {"x-ms-azurevm-flightsigning-enabled", TOKEN_JSON_BOOLEAN, 0, 0},
    {"x-ms-azurevm-hvci-policy", TOKEN_JSON_INTEGER, 0, 0},
    {"x-ms-azurevm-hypervisordebug-enabled", TOKEN_JSON_BOOLEAN, 0, 0},
    {"x-ms-azurevm-is-windows", TOKEN_JSON_BOOLEAN, 0, 0},
    {"x-ms-azurevm-kerneldebug-enabled", TOKEN_JSON_BOOLEAN, 0, 0},
    {"x-ms-azurevm-osbuild", TOKEN_JSON_STRING, 0, 0},
    {"x-ms-azurevm-osdistro", TOKEN_JSON_STRING, 0, 0},
    {"x-ms-azurevm-ostype", TOKEN_JSON_STRING, 0, 0},
    {"x-ms-azurevm-osversion-major", TOKEN_JSON_INTEGER, 0, 0},
    {"x-ms-azurevm-osversion-minor", TOKEN_JSON_INTEGER, 0, 0},
    {"x-ms-azurevm-signingdisabled", TOKEN_JSON_BOOLEAN, 0, 0},
    {"x-ms-azurevm-testsigning-enabled", TOKEN_JSON_BOOLEAN, 0, 0},
    {"x-ms-azurevm-vmid", TOKEN_JSON_STRING, 0, 0},
    {"x-ms-isolation-tee", TOKEN_JSON_OBJECT, 0, 0},
    {"x-ms-compliance-status", TOKEN_JSON_STRING, 0, 0},
    DATA_CLAIMS,
};

static const struct token_catalogue CATALOGUES[MAA_TYPE_COUNT] = {
    [MAA_TYPE_SGX_ENCLAVE] = {MAA_TYPE_SGX_ENCLAVE, "SgxEnclave", "sgx", ROWS(SGX_CLAIMS), ROWS(SGX_ALIASES),
			      NULL, 0, true, true},
    /* Real OpenEnclave tokens say "sgx" too (js-2022-01-28-sharedwus). */
    [MAA_TYPE_OPEN_ENCLAVE] = {MAA_TYPE_OPEN_ENCLAVE, "OpenEnclave", "sgx", ROWS(SGX_CLAIMS),
			       ROWS(SGX_ALIASES), NULL, 0, true, true},
    [MAA_TYPE_SEV_SNP_VM] = {MAA_TYPE_SEV_SNP_VM, "SevSnpVm", "sevsnpvm", ROWS(SNP_CLAIMS), NULL, 0, NULL, 0,
			     false, true},
    [MAA_TYPE_TDX_VM] = {MAA_TYPE_TDX_VM, "TdxVm", "tdxvm", ROWS(TDX_CLAIMS), NULL, 0, ROWS(TDX_CONSTS),
			 false, false},
    /* MAA publishes no TPM token; "tpm" is our value (maa-interface.md §7). */
    [MAA_TYPE_TPM] = {MAA_TYPE_TPM, "Tpm", "tpm", ROWS(TPM_CLAIMS), NULL, 0, NULL, 0, false, false},
    [MAA_TYPE_AZURE_GUEST] = {MAA_TYPE_AZURE_GUEST, "AzureGuest", "azurevm", ROWS(AZURE_GUEST_CLAIMS), NULL,
			      0, NULL, 0, false, false},
};

const struct token_catalogue *token_catalogue_get(enum maa_type type)
{
	return (unsigned)type < MAA_TYPE_COUNT ? &CATALOGUES[type] : NULL;
}

int maa_type_from_name(const char *name, size_t len, enum maa_type *out)
{
	for (int t = 0; t < MAA_TYPE_COUNT; t++) {
		const char *p = CATALOGUES[t].path_name;

		if (strlen(p) == len && strncasecmp(p, name, len) == 0) {
			*out = (enum maa_type)t;
			return ATTEST_OK;
		}
	}
	return ATTEST_E_NOT_FOUND;
}

const char *maa_type_name(enum maa_type type)
{
	return (unsigned)type < MAA_TYPE_COUNT ? CATALOGUES[type].path_name : "unknown";
}

const struct token_claim_def *token_catalogue_find(const struct token_catalogue *cat, const char *name)
{
	for (size_t i = 0; i < cat->n_claims; i++)
		if (strcmp(cat->claims[i].name, name) == 0)
			return &cat->claims[i];
	return NULL;
}

static bool json_type_ok(enum token_json want, const json_t *v)
{
	switch (want) {
	case TOKEN_JSON_STRING:
		return json_is_string(v);
	case TOKEN_JSON_INTEGER:
		return json_is_integer(v);
	case TOKEN_JSON_BOOLEAN:
		return json_is_boolean(v);
	case TOKEN_JSON_OBJECT:
		return json_is_object(v);
	case TOKEN_JSON_ARRAY:
		return json_is_array(v);
	case TOKEN_JSON_ANY:
		return v != NULL;
	}
	return false;
}

static const char *json_type_name(enum token_json t)
{
	static const char *const names[] = {"a string",	 "an integer", "a boolean",
					    "an object", "an array",   "a JSON value"};

	return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

/* Lower-case hex of exactly n bytes (MAA's encoding, §2.3). */
static bool hex_ok(const char *s, size_t len, unsigned n)
{
	if (len != 2 * (size_t)n)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int token_claim_check(const struct token_claim_def *def, const json_t *value, struct attest_err *err)
{
	if (!json_type_ok(def->json, value))
		return attest_err_set(err, ATTEST_E_INTERNAL, "token.claim.type", "claim \"%s\" must be %s",
				      def->name, json_type_name(def->json));
	if ((def->flags & TOKEN_CLAIM_HEX) &&
	    !hex_ok(json_string_value(value), json_string_length(value), def->hex_bytes))
		return attest_err_set(err, ATTEST_E_INTERNAL, "token.claim.hex",
				      "claim \"%s\" must be %u lower-case hex characters", def->name,
				      2 * def->hex_bytes);
	return ATTEST_OK;
}

/* Adds type = value (stolen) unless the verifier already set it. */
static int add_once(struct claim_set *set, const char *type, json_t *value, struct attest_err *err)
{
	if (claim_set_find(set, type) != NULL) {
		json_decref(value);
		return ATTEST_OK;
	}
	if (claim_set_add(set, type, value) != ATTEST_OK)
		return attest_err_set(err, ATTEST_E_NOMEM, "token.nomem", "out of memory adding claim %s",
				      type);
	return ATTEST_OK;
}

static int add_data_claim(struct claim_set *set, const char *type, const struct attest_request_data *d,
			  struct attest_err *err)
{
	if (d->type != EVIDENCE_DATA_JSON || d->json == NULL)
		return ATTEST_OK;
	return add_once(set, type, json_deep_copy(d->json), err);
}

int token_add_request_claims(const struct token_catalogue *cat, const struct attest_request *req,
			     struct claim_set *incoming, struct attest_err *err)
{
	int rc = add_once(incoming, "x-ms-attestation-type", json_string(cat->tee), err);

	if (rc == ATTEST_OK)
		rc = add_data_claim(incoming, "x-ms-runtime", &req->runtime, err);
	if (rc == ATTEST_OK)
		rc = add_data_claim(incoming, "x-ms-inittime", &req->init, err);
	/* Binary runtime data of SGX/OE is "enclave held data" (§1.3.1). */
	if (rc == ATTEST_OK && cat->binary_runtime_is_ehd && req->runtime.type == EVIDENCE_DATA_BINARY) {
		json_t *v = NULL;
		char *s = b64url_encode(req->runtime.bytes, req->runtime.len);

		if (s != NULL)
			v = json_string(s);
		free(s);
		rc = add_once(incoming, "x-ms-sgx-ehd", v, err);
	}
	return rc;
}
