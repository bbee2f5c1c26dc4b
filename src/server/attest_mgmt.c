/* Shared pieces of the attest, policy and certificate routes: see attest_mgmt.h. */
#include "server/attest_mgmt.h"

#include "base/codec.h"
#include "crypto/crypto.h"
#include "server/server.h"
#include "store/store.h"
#include "token/token.h"

#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void attest_respond_token(struct http_request *req, struct http_response *resp, const json_t *claims)
{
	struct attest_err err;
	char *jku = NULL, *jwt = NULL;
	json_t *body;

	attest_err_clear(&err);
	if (asprintf(&jku, "%s/certs", req->base_url) < 0) {
		http_resp_error(resp, 500, "InternalError", "out of memory");
		return;
	}
	if (attest_sign(req, jku, claims, &jwt, &err) != ATTEST_OK) {
		free(jku);
		http_resp_error_from(resp, 500, "InternalError", &err);
		return;
	}
	free(jku);
	body = json_pack("{s:s}", "token", jwt);
	free(jwt);
	if (body == NULL) {
		http_resp_error(resp, 500, "InternalError", "out of memory");
		return;
	}
	http_resp_json(resp, 200, body);
	json_decref(body);
}

bool attest_route_type(struct http_request *req, struct http_response *resp, enum maa_type *out)
{
	const char *name = http_req_param(req, "type");

	if (name != NULL && maa_type_from_name(name, strlen(name), out) == ATTEST_OK) {
		req->label_type = maa_type_name(*out);
		return true;
	}
	http_resp_error(
	    resp, 400, "InvalidParameter",
	    "unknown attestation type \"%.64s\"; supported: SgxEnclave, OpenEnclave, SevSnpVm, TdxVm, "
	    "Tpm, AzureGuest",
	    name ? name : "");
	return false;
}

int attest_cert_thumbprint(X509 *cert, char out[41])
{
	uint8_t md[20];
	unsigned int n = 0;
	static const char hexd[] = "0123456789ABCDEF";

	if (!X509_digest(cert, EVP_sha1(), md, &n) || n != sizeof(md))
		return ATTEST_E_INTERNAL;
	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = hexd[md[i] >> 4];
		out[2 * i + 1] = hexd[md[i] & 15];
	}
	out[40] = '\0';
	return ATTEST_OK;
}

int attest_x5c_parse(const json_t *x5c, STACK_OF(X509) * *out, struct attest_err *err)
{
	STACK_OF(X509) * sk;
	size_t i;
	json_t *v;

	if (!json_is_array(x5c) || json_array_size(x5c) == 0 || json_array_size(x5c) > 10)
		return attest_err_set(err, ATTEST_E_PARSE, "attest.x5c",
				      "x5c must be an array of 1 to 10 base64 DER certificates");
	sk = sk_X509_new_null();
	if (sk == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "attest.nomem", "out of memory");
	json_array_foreach(x5c, i, v)
	{
		uint8_t *der = NULL;
		size_t len = 0;
		X509 *cert = NULL;
		int rc = json_is_string(v)
			     ? b64_decode(json_string_value(v), json_string_length(v), &der, &len)
			     : ATTEST_E_PARSE;

		if (rc == ATTEST_OK)
			rc = x509_from_der(der, len, &cert, "attest.x5c", err);
		free(der);
		if (rc == ATTEST_OK && sk_X509_push(sk, cert) <= 0) {
			X509_free(cert);
			rc = ATTEST_E_NOMEM;
		}
		if (rc != ATTEST_OK) {
			sk_X509_pop_free(sk, X509_free);
			return attest_err_set(err, ATTEST_E_PARSE, "attest.x5c",
					      "x5c[%zu] is not a base64 DER certificate", i);
		}
	}
	*out = sk;
	return ATTEST_OK;
}

/* The provider's certificate whose thumbprint is tp, or NULL. */
static const struct store_cert *cert_find(const struct store_cert *certs, size_t n, const char *tp)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(certs[i].thumbprint, tp) == 0)
			return &certs[i];
	return NULL;
}

/*
 * The x5c chain from the leaf up to element `upto` verifies at now with
 * that element as the only anchor (it must be a CA: x509_chain_verify
 * checks the constraints).
 */
static int chain_to(STACK_OF(X509) * x5c, int upto, int64_t now, struct attest_err *err)
{
	STACK_OF(X509) *anchor = sk_X509_new_null(), *mid = sk_X509_new_null();
	struct x509_verify_opts opts = {0};
	int rc = ATTEST_E_NOMEM;

	if (anchor == NULL || mid == NULL || sk_X509_push(anchor, sk_X509_value(x5c, upto)) <= 0)
		goto out;
	for (int i = 1; i < upto; i++)
		if (sk_X509_push(mid, sk_X509_value(x5c, i)) <= 0)
			goto out;
	opts.time = now;
	opts.anchors = anchor;
	rc = x509_chain_verify(sk_X509_value(x5c, 0), mid, &opts, NULL, "attest.signer.chain", err);
out:
	sk_X509_free(anchor); /* the certificates stay x5c's */
	sk_X509_free(mid);
	return rc;
}

int attest_signer_trusted(struct store *st, const char *provider, STACK_OF(X509) * x5c, int64_t now,
			  struct attest_err *err)
{
	struct store_cert *certs = NULL;
	size_t n = 0;
	char tp[41];
	int rc;

	if (x5c == NULL || sk_X509_num(x5c) == 0)
		return attest_err_set(
		    err, ATTEST_E_DENIED, "attest.signer.none",
		    "this provider is isolated: the JWS must be signed with an x5c header naming "
		    "one of its policy-management certificates");
	rc = store_cert_list(st, provider, &certs, &n, err);
	if (rc != ATTEST_OK)
		return rc;
	rc = ATTEST_E_DENIED;
	for (int i = 0; i < sk_X509_num(x5c); i++) {
		struct attest_err chain_err;

		if (attest_cert_thumbprint(sk_X509_value(x5c, i), tp) != ATTEST_OK ||
		    cert_find(certs, n, tp) == NULL)
			continue;
		attest_err_clear(&chain_err);
		if (i == 0 || chain_to(x5c, i, now, &chain_err) == ATTEST_OK) {
			rc = ATTEST_OK;
			break;
		}
	}
	store_cert_list_free(certs, n);
	if (rc != ATTEST_OK) {
		char *subject = x509_subject_str(sk_X509_value(x5c, 0));

		attest_err_set(err, ATTEST_E_DENIED, "attest.signer.untrusted",
			       "the signing certificate (%s) is not one of this provider's policy-management "
			       "certificates, nor issued by one",
			       subject ? subject : "?");
		free(subject);
	}
	return rc;
}

void attest_respond_store_error(struct http_response *resp, const struct attest_err *err)
{
	if (err->rc == ATTEST_E_IO) {
		http_resp_error_from(resp, 503, "ServiceUnavailable", err);
		http_resp_header(resp, "Retry-After", "5");
	} else if (err->rc == ATTEST_E_NOT_FOUND) {
		http_resp_error_from(resp, 404, "NotFound", err);
	} else {
		http_resp_error_from(resp, 500, "InternalError", err);
	}
}

const char *attest_actor(const struct http_request *req)
{
	return req->auth.authenticated && req->auth.subject[0] ? req->auth.subject : "anonymous";
}
