/*
 * Policy-management certificates (maa-interface.md §1.5, §2.8):
 *   GET  /certificates          the provider's signers as a JWKS
 *   POST /certificates:add      a JWS, signed by a current signer, naming the certificate to trust
 *   POST /certificates:remove   the same, to stop trusting one (never the last)
 * Bodies come in every form the reference lists: a JSON string holding the
 * JWS (the JS SDK), an object {"policyCertificateToAdd"|"policyCertificateToRemove": jws}
 * (2025-06-01), or the bare JWS text. The payload names the certificate as a JWK
 * under policyCertificate, maa-policyCertificate or x-ms-policyCertificate.
 * Both operations are idempotent: the answer says IsPresent / IsAbsent.
 */
#include "server/attest_certificates.h"

#include "base/codec.h"
#include "base/jsonx.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"
#include "server/attest_mgmt.h"
#include "server/pipeline_routes.h"
#include "server/server.h"
#include "store/store.h"
#include "token/token.h"

#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {"kty": "RSA"|"EC", "x5c": [<std base64 DER>]} of a certificate. */
static json_t *cert_jwk(const uint8_t *der, size_t len)
{
	const uint8_t *p = der;
	X509 *cert = d2i_X509(NULL, &p, (long)len);
	EVP_PKEY *key = cert ? X509_get0_pubkey(cert) : NULL;
	const char *kty = key && EVP_PKEY_base_id(key) == EVP_PKEY_EC ? "EC" : "RSA";
	char *b64 = b64std_encode(der, len);
	json_t *jwk = b64 ? json_pack("{s:s, s:[s]}", "kty", kty, "x5c", b64) : NULL;

	free(b64);
	X509_free(cert);
	return jwk;
}

static void certificates_get(struct http_request *req, struct http_response *resp, void *arg)
{
	struct store_cert *certs = NULL;
	size_t n = 0;
	struct attest_err err;
	json_t *keys = json_array(), *claims = NULL;

	attest_err_clear(&err);
	if (store_cert_list(req->srv->store, req->provider->name, &certs, &n, &err) != ATTEST_OK) {
		attest_respond_store_error(resp, &err);
		json_decref(keys);
		return;
	}
	for (size_t i = 0; keys != NULL && i < n; i++)
		if (json_array_append_new(keys, cert_jwk(certs[i].der, certs[i].der_len)) != 0) {
			json_decref(keys);
			keys = NULL;
		}
	store_cert_list_free(certs, n);
	claims = token_mgmt_claims(req->base_url, req->now);
	/* Always {"keys": [...]}, empty for AAD and shared providers: JS 1.0.0 dereferences it. */
	if (keys == NULL || claims == NULL ||
	    json_object_set_new(claims, "x-ms-policy-certificates", json_pack("{s:o}", "keys", keys)) != 0) {
		json_decref(claims);
		http_resp_error(resp, 500, "InternalError", "out of memory");
		return;
	}
	attest_respond_token(req, resp, claims);
	json_decref(claims);
}

/* The JWS text of a modification body, in any of its three forms (malloc'd). */
static int body_jws(const struct http_request *req, const char *object_member, char **out,
		    struct attest_err *err)
{
	const char *text = (const char *)req->body;
	size_t len = req->body_len;
	json_t *doc = NULL, *v;

	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
		len--;
	if (len > 0 && (text[0] == '"' || text[0] == '{')) {
		if (jsonx_parse(text, len, &doc, "attest.certificates.body", "request body", err) !=
		    ATTEST_OK)
			return ATTEST_E_PARSE;
		v = json_is_object(doc) ? json_object_get(doc, object_member) : doc;
		if (!json_is_string(v)) {
			json_decref(doc);
			return attest_err_set(
			    err, ATTEST_E_PARSE, "attest.certificates.body",
			    "the body must be a JWS, a JSON string holding one, or {\"%s\": \"<JWS>\"}",
			    object_member);
		}
		*out = strndup(json_string_value(v), json_string_length(v));
		json_decref(doc);
	} else {
		*out = strndup(text, len);
	}
	return *out ? ATTEST_OK : attest_err_set(err, ATTEST_E_NOMEM, "attest.nomem", "out of memory");
}

/* The JWS is signed, and by the key of its own x5c leaf. *x5c is the header's chain. */
static int jws_check_signed(const struct jws *j, STACK_OF(X509) * *x5c, struct attest_err *err)
{
	int rc;

	if (j->alg == JWS_ALG_NONE)
		return attest_err_set(
		    err, ATTEST_E_DENIED, "attest.certificates.unsigned",
		    "certificate changes must be signed by a current policy-management certificate");
	rc = jws_header_x5c(j, x5c, err);
	if (rc != ATTEST_OK)
		return rc;
	if (*x5c == NULL || sk_X509_num(*x5c) == 0)
		return attest_err_set(err, ATTEST_E_DENIED, "attest.signer.none",
				      "the JWS header must carry the signing certificate in x5c");
	return jws_verify(j, X509_get0_pubkey(sk_X509_value(*x5c, 0)), 0, err);
}

/* The certificate the payload names, as DER (malloc'd). */
static int payload_cert(const struct jws *j, uint8_t **der, size_t *len, X509 **cert, struct attest_err *err)
{
	static const char *const members[] = {"policyCertificate", "maa-policyCertificate",
					      "x-ms-policyCertificate"};
	json_t *claims = NULL, *jwk = NULL, *x5c;
	int rc = jwt_claims(j, &claims, err);

	if (rc != ATTEST_OK)
		return rc;
	for (size_t i = 0; jwk == NULL && i < sizeof(members) / sizeof(members[0]); i++)
		jwk = json_object_get(claims, members[i]);
	x5c = json_is_object(jwk) ? json_object_get(jwk, "x5c") : NULL;
	if (!json_is_array(x5c) || !json_is_string(json_array_get(x5c, 0))) {
		json_decref(claims);
		return attest_err_set(err, ATTEST_E_PARSE, "attest.certificates.payload",
				      "the JWS payload must name the certificate as {\"policyCertificate\": "
				      "{\"kty\": ..., \"x5c\": [\"<base64 DER>\"]}}");
	}
	rc = b64_decode(json_string_value(json_array_get(x5c, 0)), json_string_length(json_array_get(x5c, 0)),
			der, len);
	json_decref(claims);
	if (rc != ATTEST_OK)
		return attest_err_set(err, ATTEST_E_PARSE, "attest.certificates.payload",
				      "policyCertificate.x5c[0] is not base64");
	rc = x509_from_der(*der, *len, cert, "attest.certificates.payload", err);
	if (rc != ATTEST_OK) {
		free(*der);
		*der = NULL;
	}
	return rc;
}

/* The answer of add/remove (§2.8). */
static void modification_result(struct http_request *req, struct http_response *resp, const char *tp,
				const char *result)
{
	json_t *claims = token_mgmt_claims(req->base_url, req->now);

	if (claims == NULL ||
	    json_object_set_new(claims, "x-ms-certificate-thumbprint", json_string(tp)) != 0 ||
	    json_object_set_new(claims, "x-ms-policycertificates-result", json_string(result)) != 0) {
		json_decref(claims);
		http_resp_error(resp, 500, "InternalError", "out of memory");
		return;
	}
	attest_respond_token(req, resp, claims);
	json_decref(claims);
}

/* Status and MAA code of a failure class: caller errors are 400, an unreachable store 503, ours 500. */
static void refuse(struct http_response *resp, const struct attest_err *err)
{
	if (err->rc == ATTEST_E_IO || err->rc == ATTEST_E_NOMEM || err->rc == ATTEST_E_INTERNAL)
		attest_respond_store_error(resp, err);
	else
		http_resp_error_from(resp, 400, "InvalidOperation", err);
}

/* The parsed and authorised modification request. */
struct modification {
	char *text;
	struct jws *jws;
	STACK_OF(X509) * x5c;
	uint8_t *der;
	size_t der_len;
	X509 *cert;
	char tp[41];
};

static void modification_free(struct modification *m)
{
	free(m->text);
	jws_free(m->jws);
	if (m->x5c != NULL)
		sk_X509_pop_free(m->x5c, X509_free);
	free(m->der);
	X509_free(m->cert);
}

static int modification_parse(struct http_request *req, const char *member, struct modification *m,
			      struct attest_err *err)
{
	int rc;

	if (req->provider->mode == STORE_MODE_SHARED)
		return attest_err_set(err, ATTEST_E_DENIED, "attest.certificates.shared",
				      "provider \"%s\" is shared: it has no policy-management certificates",
				      req->provider->name);
	rc = body_jws(req, member, &m->text, err);
	if (rc != ATTEST_OK)
		return rc;
	/* m->text is freed by modification_free on every path (the analyzer
	 * loses track of it through the out parameter). */
	// NOLINTNEXTLINE(clang-analyzer-unix.Malloc)
	rc = jws_parse(m->text, strlen(m->text), &m->jws, err);
	if (rc != ATTEST_OK)
		return rc;
	rc = jws_check_signed(m->jws, &m->x5c, err);
	if (rc != ATTEST_OK)
		return rc;
	rc = attest_signer_trusted(req->srv->store, req->provider->name, m->x5c, req->now, err);
	if (rc != ATTEST_OK)
		return rc;
	rc = payload_cert(m->jws, &m->der, &m->der_len, &m->cert, err);
	if (rc != ATTEST_OK)
		return rc;
	if (attest_cert_thumbprint(m->cert, m->tp) != ATTEST_OK)
		return attest_err_set(err, ATTEST_E_INTERNAL, "attest.thumbprint",
				      "cannot hash the certificate");
	return ATTEST_OK;
}

static void audit_fill(struct store_audit *a, const struct http_request *req, const char *action,
		       char *detail)
{
	a->actor = attest_actor(req);
	a->action = action;
	a->provider = req->provider->name;
	a->detail = detail;
	a->time = req->now;
}

static void certificates_add(struct http_request *req, struct http_response *resp, void *arg)
{
	struct modification m = {0};
	struct store_cert c = {0};
	struct store_audit audit = {0};
	struct attest_err err;
	char detail[96];
	bool added = false;

	attest_err_clear(&err);
	if (modification_parse(req, "policyCertificateToAdd", &m, &err) != ATTEST_OK) {
		refuse(resp, &err);
		goto out;
	}
	snprintf(c.provider, sizeof(c.provider), "%s", req->provider->name);
	memcpy(c.thumbprint, m.tp, sizeof(c.thumbprint));
	c.der = m.der;
	c.der_len = m.der_len;
	c.added = req->now;
	snprintf(detail, sizeof(detail), "{\"thumbprint\":\"%s\"}", m.tp);
	audit_fill(&audit, req, "certificate.add", detail);
	if (store_cert_add(req->srv->store, &c, &added, &audit, &err) != ATTEST_OK) {
		refuse(resp, &err);
		goto out;
	}
	modification_result(req, resp, m.tp, "IsPresent");
out:
	modification_free(&m);
}

static void certificates_remove(struct http_request *req, struct http_response *resp, void *arg)
{
	struct modification m = {0};
	struct store_cert *certs = NULL;
	struct store_audit audit = {0};
	struct attest_err err;
	char detail[96];
	size_t n = 0;
	bool present = false, removed = false;

	attest_err_clear(&err);
	if (modification_parse(req, "policyCertificateToRemove", &m, &err) != ATTEST_OK ||
	    store_cert_list(req->srv->store, req->provider->name, &certs, &n, &err) != ATTEST_OK) {
		refuse(resp, &err);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		present = present || strcasecmp(certs[i].thumbprint, m.tp) == 0;
	/* An isolated provider with no signer could never change again (§1.5). */
	if (present && n == 1) {
		http_resp_error(
		    resp, 400, "InvalidOperation",
		    "certificate %s is the last policy-management certificate of provider \"%s\" and "
		    "cannot be removed (attest.certificates.last)",
		    m.tp, req->provider->name);
		goto out;
	}
	snprintf(detail, sizeof(detail), "{\"thumbprint\":\"%s\"}", m.tp);
	audit_fill(&audit, req, "certificate.remove", detail);
	if (present && store_cert_remove(req->srv->store, req->provider->name, m.tp, &removed, &audit,
					 &err) != ATTEST_OK) {
		refuse(resp, &err);
		goto out;
	}
	modification_result(req, resp, m.tp, "IsAbsent");
out:
	store_cert_list_free(certs, n);
	modification_free(&m);
}

int attest_certificates_register(struct http_router *r, struct pipeline_routes *pr, struct attest_err *err)
{
	int rc = http_router_add(r, "GET", "/certificates",
				 HTTP_ROUTE_API_VERSION | HTTP_ROUTE_READER_UNLESS_SHARED, certificates_get,
				 pr, err);

	if (rc == ATTEST_OK)
		rc = http_router_add(r, "POST", "/certificates:add",
				     HTTP_ROUTE_API_VERSION | HTTP_ROUTE_CONTRIBUTOR, certificates_add, pr,
				     err);
	if (rc == ATTEST_OK)
		rc = http_router_add(r, "POST", "/certificates:remove",
				     HTTP_ROUTE_API_VERSION | HTTP_ROUTE_CONTRIBUTOR, certificates_remove, pr,
				     err);
	return rc;
}
