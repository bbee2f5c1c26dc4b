/*
 * GET /policies/{type} (MAA §1.4) until the attest pipeline registers its
 * policy routes over it (same method and pattern → replaced): answers a
 * service-signed JWT whose "x-ms-policy" is the stored policy JWS, or an
 * unsigned JWS of the default policy when none was set (reference §3.8).
 */
#include "base/codec.h"
#include "server/http.h"
#include "server/routes.h"
#include "server/server.h"
#include "server/signing.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLICY_RESULT_LIFETIME 3600 /* management result tokens live 1 h (reference §2.8) */

/* The attestation types attestd knows (MAA §1.1 enum, extensible). */
static const char *const TYPES[] = {"SgxEnclave", "OpenEnclave", "Tpm", "SevSnpVm", "TdxVm", "AzureGuest", NULL};

static const char *default_policy(const char *type)
{
	/* SgxEnclave/OpenEnclave: MAA's default v1.1 (reference §3.6); others permit with no issuance rules. */
	if (strcmp(type, "SgxEnclave") == 0 || strcmp(type, "OpenEnclave") == 0)
		return "version= 1.1;\n"
		       "configurationrules{\n  => issueproperty(type=\"x-ms-sgx-tcbidentifier\", value=\"azuredefault\");\n};\n"
		       "authorizationrules{\n  => permit();\n};\n"
		       "issuancerules{\n"
		       "  c:[type==\"x-ms-sgx-is-debuggable\"] => issue(type=\"is-debuggable\", value=c.value);\n"
		       "  c:[type==\"x-ms-sgx-mrsigner\"] => issue(type=\"sgx-mrsigner\", value=c.value);\n"
		       "  c:[type==\"x-ms-sgx-mrenclave\"] => issue(type=\"sgx-mrenclave\", value=c.value);\n"
		       "  c:[type==\"x-ms-sgx-product-id\"] => issue(type=\"product-id\", value=c.value);\n"
		       "  c:[type==\"x-ms-sgx-svn\"] => issue(type=\"svn\", value=c.value);\n"
		       "  c:[type==\"x-ms-attestation-type\"] => issue(type=\"tee\", value=c.value);\n"
		       "};\n";
	return "version= 1.0;\nauthorizationrules{\n  => permit();\n};\nissuancerules{\n};\n";
}

/* The unsigned policy JWS of reference §3.8: {"alg":"none"}.{"AttestationPolicy": b64url(text)}. */
static char *unsigned_policy_jws(const char *text)
{
	char *inner = b64url_encode((const uint8_t *)text, strlen(text)), *payload = NULL, *p64 = NULL, *h64 = NULL;
	char *out = NULL;
	json_t *o = inner ? json_pack("{s:s}", "AttestationPolicy", inner) : NULL;

	if (o != NULL)
		payload = json_dumps(o, JSON_COMPACT);
	if (payload != NULL)
		p64 = b64url_encode((const uint8_t *)payload, strlen(payload));
	h64 = b64url_encode((const uint8_t *)"{\"alg\":\"none\"}", 14);
	if (p64 != NULL && h64 != NULL && (out = malloc(strlen(h64) + strlen(p64) + 3)) != NULL)
		sprintf(out, "%s.%s.", h64, p64);
	free(inner);
	free(payload);
	free(p64);
	free(h64);
	json_decref(o);
	return out;
}

static bool type_known(const char *t)
{
	for (size_t i = 0; t != NULL && TYPES[i] != NULL; i++) {
		if (strcmp(t, TYPES[i]) == 0)
			return true;
	}
	return false;
}

static void get_policy(struct http_request *req, struct http_response *resp, void *arg)
{
	const char *type = http_req_param(req, "type");
	struct store_policy pol = {0};
	struct attest_err err = {0};
	json_t *claims = NULL, *signer = NULL;
	char *jws = NULL, *token = NULL;
	int rc;

	(void)arg;
	if (!type_known(type)) {
		http_resp_error(resp, 400, "InvalidParameter", "unknown attestation type \"%s\"", type ? type : "");
		return;
	}
	req->label_type = type;
	rc = store_policy_get(req->srv->store, req->provider->name, type, &pol, &err);
	if (rc != ATTEST_OK && rc != ATTEST_E_NOT_FOUND) {
		http_resp_error_from(resp, 500, "InternalError", &err);
		return;
	}
	if (rc == ATTEST_OK && pol.jws != NULL)
		jws = strdup(pol.jws);
	else
		jws = unsigned_policy_jws(rc == ATTEST_OK && pol.text ? pol.text : default_policy(type));
	if (rc == ATTEST_OK && pol.signer != NULL)
		signer = json_loads(pol.signer, 0, NULL);
	claims = json_pack("{s:I,s:I,s:I,s:s,s:s}", "iat", (json_int_t)req->now, "nbf", (json_int_t)req->now, "exp",
			   (json_int_t)req->now + POLICY_RESULT_LIFETIME, "iss", req->base_url, "x-ms-policy",
			   jws ? jws : "");
	if (signer != NULL)
		json_object_set_new(claims, "x-ms-policy-signer", signer);
	attest_err_clear(&err);
	if (jws == NULL || claims == NULL || srv_signing_sign_provider(req->srv, req->provider->name, req->base_url, claims, &token, &err) != 0) {
		http_resp_error_from(resp, 500, "InternalError", &err);
	} else {
		json_t *body = json_pack("{s:s}", "token", token);
		http_resp_json(resp, 200, body);
		json_decref(body);
	}
	free(token);
	free(jws);
	json_decref(claims);
	store_policy_clear(&pol);
}

int routes_policy_register(struct http_router *r, struct srv *srv, struct attest_err *err)
{
	(void)srv;
	return http_router_add(r, "GET", "/policies/{type}", HTTP_ROUTE_API_VERSION | HTTP_ROUTE_READER_UNLESS_SHARED,
			       get_policy, NULL, err);
}
