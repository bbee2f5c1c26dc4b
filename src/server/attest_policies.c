/*
 * GET /policies/{type}, PUT /policies/{type}, POST /policies/{type}:reset
 * (maa-interface.md §1.4, §2.8, §3.8; the real exchanges in
 * vectors/maa-tokens/cpp-2022-11-17-policy-sgx-aad).
 *
 * A policy is stored as submitted (the JWS, or raw text in AAD mode), with
 * every version kept by the store (history); a reset stores a version with
 * no text, which means "the type's default". Isolated providers take only
 * JWS signed by one of their policy-management certificates; shared
 * providers keep their defaults.
 */
#include "server/attest_policies.h"

#include "base/codec.h"
#include "base/jsonx.h"
#include "policy/policy.h"
#include "server/attest_mgmt.h"
#include "server/pipeline_routes.h"
#include "server/tcb_baselines.h"
#include "server/server.h"
#include "store/store.h"
#include "token/token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The stored policy of (provider, type): NOT_FOUND (never set) is not an error. */
static int stored_policy(struct http_request *req, enum maa_type type, struct store_policy *pol, bool *found,
			 struct attest_err *err)
{
	int rc = store_policy_get(req->srv->store, req->provider->name, maa_type_name(type), pol, err);

	*found = rc == ATTEST_OK;
	if (rc == ATTEST_E_NOT_FOUND) {
		attest_err_clear(err);
		return ATTEST_OK;
	}
	return rc;
}

/* x-ms-policy-signer from the stored signer JWK text (NULL when unsigned). */
static int add_signer(json_t *claims, const char *signer, struct attest_err *err)
{
	json_t *jwk = NULL;

	if (signer == NULL || signer[0] == '\0')
		return ATTEST_OK;
	if (jsonx_parse(signer, strlen(signer), &jwk, "attest.policy.signer", "stored policy signer", err) !=
	    ATTEST_OK)
		return ATTEST_E_INTERNAL;
	if (json_object_set_new(claims, "x-ms-policy-signer", jwk) != 0)
		return attest_err_set(err, ATTEST_E_NOMEM, "attest.nomem", "out of memory");
	return ATTEST_OK;
}

/* The JWS GET returns: as submitted, or the unsigned JWS of text / of the default. */
static int policy_jws_of(enum maa_type type, const struct store_policy *pol, bool found, char **out,
			 struct attest_err *err)
{
	const char *text;

	if (found && pol->text != NULL && pol->jws != NULL) {
		*out = strdup(pol->jws);
		return *out ? ATTEST_OK
			    : attest_err_set(err, ATTEST_E_NOMEM, "attest.nomem", "out of memory");
	}
	text = found && pol->text != NULL ? pol->text : policy_default_text(maa_type_name(type));
	if (text == NULL)
		return attest_err_set(err, ATTEST_E_NOT_FOUND, "attest.policy.default",
				      "no default policy for %s", maa_type_name(type));
	return policy_jws_unsigned(text, strlen(text), out, err);
}

static void policy_get(struct http_request *req, struct http_response *resp, void *arg)
{
	struct store_policy pol = {0};
	struct attest_err err;
	enum maa_type type;
	bool found = false;
	char *jws = NULL;
	json_t *claims = NULL;

	if (!attest_route_type(req, resp, &type))
		return;
	attest_err_clear(&err);
	if (stored_policy(req, type, &pol, &found, &err) != ATTEST_OK ||
	    policy_jws_of(type, &pol, found, &jws, &err) != ATTEST_OK) {
		attest_respond_store_error(resp, &err);
		goto out;
	}
	claims = token_mgmt_claims(req->base_url, req->now);
	if (claims == NULL || json_object_set_new(claims, "x-ms-policy", json_string(jws)) != 0 ||
	    (found && pol.text != NULL && add_signer(claims, pol.signer, &err) != ATTEST_OK)) {
		http_resp_error_from(resp, 500, "InternalError", &err);
		goto out;
	}
	attest_respond_token(req, resp, claims);
out:
	json_decref(claims);
	free(jws);
	if (found)
		store_policy_clear(&pol);
}

/*
 * The body as the JWS text: a bare JWS (text/plain, as the SDKs send it),
 * or a JSON string holding one (some clients quote it). Returns a pointer
 * into req's body or into *owned.
 */
static const char *body_text(const struct http_request *req, size_t *len, char **owned)
{
	json_t *v;

	*owned = NULL;
	*len = req->body_len;
	if (req->body_len < 2 || req->body[0] != '"')
		return (const char *)req->body;
	v = json_loadb((const char *)req->body, req->body_len, JSON_DECODE_ANY, NULL);
	if (json_is_string(v)) {
		*owned = strndup(json_string_value(v), json_string_length(v));
		*len = *owned ? strlen(*owned) : 0;
	}
	json_decref(v);
	return *owned ? *owned : (const char *)req->body;
}

/*
 * Mode rules (§1.9): shared providers take no writes; isolated providers
 * take only JWS signed by a trusted policy-management certificate.
 * Answers the refusal itself and returns false.
 */
static bool policy_write_allowed(struct http_request *req, struct http_response *resp,
				 const struct policy_jws *j)
{
	STACK_OF(X509) *x5c = NULL;
	struct attest_err err;
	int rc;

	if (req->provider->mode == STORE_MODE_SHARED) {
		http_resp_error(resp, 400, "InvalidOperation",
				"provider \"%s\" is shared: its policies are the fixed defaults",
				req->provider->name);
		return false;
	}
	if (req->provider->mode != STORE_MODE_ISOLATED)
		return true;
	if (!j->is_signed) {
		http_resp_error(resp, 400, "InvalidOperation",
				"provider \"%s\" is isolated: policies must be signed by one of its "
				"policy-management certificates (attest.policy.unsigned)",
				req->provider->name);
		return false;
	}
	attest_err_clear(&err);
	rc = j->x5c ? attest_x5c_parse(j->x5c, &x5c, &err) : ATTEST_OK;
	if (rc == ATTEST_OK)
		rc = attest_signer_trusted(req->srv->store, req->provider->name, x5c, req->now, &err);
	if (x5c != NULL)
		sk_X509_pop_free(x5c, X509_free);
	if (rc == ATTEST_E_IO) {
		attest_respond_store_error(resp, &err);
		return false;
	}
	if (rc != ATTEST_OK) {
		http_resp_error_from(resp, 400, "InvalidOperation", &err);
		return false;
	}
	return true;
}

/* Stores one version (text NULL = reset) with its audit record. */
static int policy_store(struct http_request *req, enum maa_type type, const struct policy_jws *j,
			const char *jws, const char *action, struct attest_err *err)
{
	struct store_policy sp = {0};
	struct store_audit audit = {0};
	uint8_t *hash = NULL;
	size_t hash_len = 0;
	char *signer = j->signer_jwk ? json_dumps(j->signer_jwk, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	char *detail = NULL;
	int rc;

	snprintf(sp.provider, sizeof(sp.provider), "%s", req->provider->name);
	snprintf(sp.type, sizeof(sp.type), "%s", maa_type_name(type));
	sp.text = j->text;
	sp.jws = j->is_text ? NULL : (char *)jws;
	if (b64_decode(j->token_hash, strlen(j->token_hash), &hash, &hash_len) == ATTEST_OK &&
	    hash_len <= sizeof(sp.hash)) {
		memcpy(sp.hash, hash, hash_len);
		sp.hash_len = hash_len;
	}
	free(hash);
	sp.signer = signer;
	if (asprintf(&detail, "{\"type\":\"%s\",\"policyHash\":\"%s\",\"tokenHash\":\"%s\",\"signed\":%s}",
		     maa_type_name(type), j->hash, j->token_hash, j->is_signed ? "true" : "false") < 0)
		detail = NULL;
	audit.actor = attest_actor(req);
	audit.action = action;
	audit.provider = req->provider->name;
	audit.detail = detail;
	audit.time = req->now;
	rc = store_policy_put(req->srv->store, &sp, &audit, err);
	free(detail);
	free(signer);
	return rc;
}

/* The result token of a set or reset (§2.8). */
static void policy_result(struct http_request *req, struct http_response *resp, const char *result,
			  const char *token_hash, const struct policy_jws *j)
{
	json_t *claims = token_mgmt_claims(req->base_url, req->now);

	if (claims == NULL || json_object_set_new(claims, "x-ms-policy-result", json_string(result)) != 0 ||
	    (token_hash &&
	     json_object_set_new(claims, "x-ms-policy-token-hash", json_string(token_hash)) != 0) ||
	    (j->signer_jwk &&
	     json_object_set_new(claims, "x-ms-policy-signer", json_deep_copy(j->signer_jwk)) != 0)) {
		json_decref(claims);
		http_resp_error(resp, 500, "InternalError", "out of memory");
		return;
	}
	attest_respond_token(req, resp, claims);
	json_decref(claims);
}

/* Maps a policy_jws_parse failure: malformed JWS → InvalidOperation (§1.4). */
static void jws_refused(struct http_response *resp, const struct attest_err *err)
{
	int status = err->rc == ATTEST_E_NOMEM ? 500 : 400;

	http_resp_error_from(resp, status, status == 500 ? "InternalError" : "InvalidOperation", err);
}

/*
 * An SGX / OE policy's configuration must name a TCB baseline GET
 * /tcbbaselines lists: refused here (400) rather than stored and then
 * refusing every attestation of the provider (the attest-time check stays).
 */
static int config_ok(enum maa_type type, const struct policy_plan *plan, struct attest_err *err)
{
	struct claim_set *props = NULL;
	const struct tcb_baseline *b;
	int rc;

	if (type != MAA_TYPE_SGX_ENCLAVE && type != MAA_TYPE_OPEN_ENCLAVE)
		return ATTEST_OK;
	rc = policy_eval_config(plan, &props, err);
	if (rc == ATTEST_OK)
		rc = tcb_baseline_lookup(
		    policy_prop_str(props, POLICY_PROP_SGX_TCBIDENTIFIER, POLICY_DEFAULT_SGX_TCBIDENTIFIER), &b, err);
	claim_set_free(props);
	return rc;
}

static void policy_put(struct http_request *req, struct http_response *resp, void *arg)
{
	struct pipeline_routes *pr = arg;
	struct policy_jws *j = NULL;
	struct policy_plan *plan = NULL;
	struct attest_err err;
	enum maa_type type;
	size_t len;
	char *owned = NULL;
	const char *body;
	unsigned flags;

	if (!attest_route_type(req, resp, &type))
		return;
	body = body_text(req, &len, &owned);
	flags = req->provider->mode == STORE_MODE_AAD ? POLICY_JWS_ALLOW_TEXT : 0;
	attest_err_clear(&err);
	if (policy_jws_parse(body, len, flags, &j, &err) != ATTEST_OK) {
		jws_refused(resp, &err);
		goto out;
	}
	if (j->text == NULL) {
		http_resp_error(resp, 400, "InvalidOperation",
				"the policy JWS has an empty payload: use POST /policies/%s:reset to reset",
				maa_type_name(type));
		goto out;
	}
	if (!policy_write_allowed(req, resp, j))
		goto out;
	/* The text must compile before it is stored (§1.4: PolicyParsingError). */
	if (policy_compile(j->text, j->text_len, NULL, &plan, &err) != ATTEST_OK) {
		http_resp_error_from(resp, err.rc == ATTEST_E_NOMEM ? 500 : 400,
				     err.rc == ATTEST_E_NOMEM ? "InternalError" : "PolicyParsingError", &err);
		goto out;
	}
	if (config_ok(type, plan, &err) != ATTEST_OK) {
		http_resp_error_from(resp, err.rc == ATTEST_E_NOMEM ? 500 : 400,
				     err.rc == ATTEST_E_NOMEM ? "InternalError" : "InvalidParameter", &err);
		goto out;
	}
	if (policy_store(req, type, j, body, "policy.set", &err) != ATTEST_OK) {
		attest_respond_store_error(resp, &err);
		goto out;
	}
	pipeline_routes_policy_changed(pr, req->provider->name, type);
	policy_result(req, resp, "Updated", j->token_hash, j);
out:
	policy_plan_free(plan);
	policy_jws_free(j);
	free(owned);
}

static void policy_reset(struct http_request *req, struct http_response *resp, void *arg)
{
	struct pipeline_routes *pr = arg;
	struct policy_jws *j = NULL;
	struct attest_err err;
	enum maa_type type;
	size_t len;
	char *owned = NULL;
	const char *body;
	/* The unsigned reset JWS of §1.4, for an AAD provider sent an empty body. */
	static const char unsigned_reset[] = "eyJhbGciOiJub25lIn0..";

	if (!attest_route_type(req, resp, &type))
		return;
	body = body_text(req, &len, &owned);
	if (len == 0 && req->provider->mode == STORE_MODE_AAD) {
		body = unsigned_reset;
		len = sizeof(unsigned_reset) - 1;
	}
	attest_err_clear(&err);
	if (policy_jws_parse(body, len, POLICY_JWS_ALLOW_EMPTY, &j, &err) != ATTEST_OK) {
		jws_refused(resp, &err);
		goto out;
	}
	if (j->text != NULL) {
		http_resp_error(resp, 400, "InvalidOperation",
				"a reset JWS has an empty payload; to set a policy use PUT /policies/%s",
				maa_type_name(type));
		goto out;
	}
	if (!policy_write_allowed(req, resp, j))
		goto out;
	if (policy_store(req, type, j, body, "policy.reset", &err) != ATTEST_OK) {
		attest_respond_store_error(resp, &err);
		goto out;
	}
	pipeline_routes_policy_changed(pr, req->provider->name, type);
	/* The real service answers a reset with the result alone (no token hash). */
	policy_result(req, resp, "Removed", NULL, j);
out:
	policy_jws_free(j);
	free(owned);
}

int attest_policies_register(struct http_router *r, struct pipeline_routes *pr, struct attest_err *err)
{
	int rc =
	    http_router_add(r, "GET", "/policies/{type}",
			    HTTP_ROUTE_API_VERSION | HTTP_ROUTE_READER_UNLESS_SHARED, policy_get, pr, err);

	if (rc == ATTEST_OK)
		rc = http_router_add(r, "PUT", "/policies/{type}",
				     HTTP_ROUTE_API_VERSION | HTTP_ROUTE_CONTRIBUTOR, policy_put, pr, err);
	if (rc == ATTEST_OK)
		rc = http_router_add(r, "POST", "/policies/{type}:reset",
				     HTTP_ROUTE_API_VERSION | HTTP_ROUTE_CONTRIBUTOR, policy_reset, pr, err);
	return rc;
}
