/*
 * The management API: what Azure does through ARM (issue 9). Providers are
 * created, listed, shown, updated and deleted; the audit log is read and
 * verified; signing keys are rotated. Every route needs the administrator
 * role (the bootstrap credential), and every change is written to the
 * audit log in the same transaction as the change itself, so it is on
 * record before the caller sees 200/201.
 *
 *   GET    /management/providers
 *   PUT    /management/providers/{name}   {"mode", "settings"?, "policyCertificates"?: [PEM | b64 DER]}
 *   GET    /management/providers/{name}
 *   PATCH  /management/providers/{name}   {"mode"?, "settings"?}
 *   DELETE /management/providers/{name}
 *   GET    /management/audit?after=N&max=M
 *   GET    /management/audit:verify
 *   POST   /management/keys:rotate
 *   POST   /management/providers/{name}/keys:rotate   (the provider's own key)
 */
#include "base/codec.h"
#include "server/auth.h"
#include "server/http.h"
#include "server/httpd.h"
#include "server/provider_trust.h"
#include "server/routes.h"
#include "server/server.h"
#include "server/signing.h"
#include "store/store.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MGMT_MAX_CERTS 16
#define MGMT_ROUTE (HTTP_ROUTE_SERVICE | HTTP_ROUTE_ADMIN)

bool routes_provider_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 63 || name[0] == '-' || name[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

static json_t *provider_json(const struct store_provider *p, const struct store_cert *certs, size_t ncerts)
{
	json_t *settings = json_loads(p->settings_json ? p->settings_json : "{}", 0, NULL);
	json_t *o = json_pack("{s:s,s:s,s:I,s:I}", "name", p->name, "mode", store_mode_name(p->mode), "created",
			      (json_int_t)p->created, "updated", (json_int_t)p->updated);

	json_object_set_new(o, "settings", settings ? settings : json_object());
	if (certs != NULL) {
		json_t *arr = json_array();
		for (size_t i = 0; i < ncerts; i++)
			json_array_append_new(arr, json_string(certs[i].thumbprint));
		json_object_set_new(o, "policyCertificateThumbprints", arr);
	}
	return o;
}

static void reply_store_error(struct http_response *resp, int rc, const struct attest_err *err)
{
	/* The database is down or unreachable (issue 11): nothing was changed, try again. */
	if (strcmp(err->name, "store.unavailable") == 0) {
		http_resp_header(resp, "Retry-After", "1");
		http_resp_error_from(resp, 503, "ServiceUnavailable", err);
		return;
	}
	int status = rc == ATTEST_E_NOT_FOUND ? 404 : rc == ATTEST_E_CONFLICT ? 409 : rc == ATTEST_E_INVALID ? 400 : 500;
	const char *code = status == 404 ? "NotFound" : status == 409 ? "Conflict" : status == 400 ? "InvalidParameter"
												 : "InternalError";

	http_resp_error_from(resp, status, code, err);
}

/* The request body as a JSON object, or an answered 400. */
static json_t *body_object(struct http_request *req, struct http_response *resp)
{
	json_error_t je;
	json_t *o = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);

	if (!json_is_object(o)) {
		json_decref(o);
		http_resp_error(resp, 400, "InvalidParameter", "the body must be a JSON object%s%s", o ? "" : ": ",
				o ? "" : je.text);
		return NULL;
	}
	return o;
}

/* Known settings keys must have the right types; the object is stored as given. */
static bool settings_ok(const json_t *s, struct http_response *resp)
{
	const json_t *r = json_object_get(s, "rate_limit"), *b = json_object_get(s, "rate_burst");

	if (!json_is_object(s)) {
		http_resp_error(resp, 400, "InvalidParameter", "\"settings\" must be a JSON object");
		return false;
	}
	if (r != NULL && (!json_is_number(r) || json_number_value(r) < 0)) {
		http_resp_error(resp, 400, "InvalidParameter", "settings.rate_limit must be a number >= 0");
		return false;
	}
	if (b != NULL && (!json_is_integer(b) || json_integer_value(b) < 1)) {
		http_resp_error(resp, 400, "InvalidParameter", "settings.rate_burst must be an integer >= 1");
		return false;
	}
	if (json_object_get(s, "auth") != NULL) {
		struct attest_err err = {0};
		if (auth_settings_check(json_object_get(s, "auth"), &err) != ATTEST_OK) {
			http_resp_error_from(resp, 400, "InvalidParameter", &err);
			return false;
		}
	}
	/* Registered AIKs and CVM measurements (provider_trust.h): refused here, not at attestation time. */
	{
		struct attest_err err = {0};
		struct provider_trust *t = NULL;

		if (provider_trust_from_json(s, &t, &err) != ATTEST_OK) {
			http_resp_error_from(resp, 400, "InvalidParameter", &err);
			return false;
		}
		provider_trust_free(t);
	}
	return true;
}

/* One certificate from PEM text or base64 DER, with its SHA-1 thumbprint (MAA §1.5). */
static int cert_from_text(const char *text, const char *provider, struct store_cert *out, char *why, size_t whycap)
{
	X509 *x = NULL;
	uint8_t *der = NULL, *raw = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t rawlen = 0;
	int derlen;

	if (strstr(text, "-----BEGIN") != NULL) {
		BIO *bio = BIO_new_mem_buf(text, -1);
		x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
	} else if (b64_decode(text, strlen(text), &raw, &rawlen) == 0) {
		const uint8_t *p = raw;
		x = d2i_X509(NULL, &p, (long)rawlen);
		if (x != NULL && p != raw + rawlen) {
			X509_free(x);
			x = NULL;
		}
	}
	free(raw);
	if (x == NULL) {
		snprintf(why, whycap, "not an X.509 certificate (PEM or base64 DER)");
		return -1;
	}
	derlen = i2d_X509(x, &der);
	X509_free(x);
	if (derlen <= 0 || EVP_Digest(der, (size_t)derlen, md, &mdlen, EVP_sha1(), NULL) != 1 || mdlen != 20) {
		OPENSSL_free(der);
		snprintf(why, whycap, "cannot encode the certificate");
		return -1;
	}
	struct store_cert c;
	memset(&c, 0, sizeof(c));
	snprintf(c.provider, sizeof(c.provider), "%s", provider);
	hex_encode_to(md, 20, c.thumbprint);
	c.der = malloc((size_t)derlen);
	if (c.der == NULL) {
		OPENSSL_free(der);
		snprintf(why, whycap, "out of memory");
		return -1;
	}
	memcpy(c.der, der, (size_t)derlen);
	c.der_len = (size_t)derlen;
	OPENSSL_free(der);
	*out = c; /* transferred */
	return 0;
}

static void certs_free(struct store_cert *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].der);
}

/* Parses "policyCertificates"; false when answered (400). */
static bool parse_certs(const json_t *arr, const char *provider, struct store_cert *out, size_t *n,
			struct http_response *resp)
{
	size_t i;
	json_t *v;

	*n = 0;
	if (arr == NULL)
		return true;
	if (!json_is_array(arr) || json_array_size(arr) > MGMT_MAX_CERTS) {
		http_resp_error(resp, 400, "InvalidParameter", "\"policyCertificates\" must be an array of at most %d",
				MGMT_MAX_CERTS);
		return false;
	}
	json_array_foreach(arr, i, v)
	{
		char why[128];
		if (!json_is_string(v) || cert_from_text(json_string_value(v), provider, &out[*n], why, sizeof(why)) != 0) {
			http_resp_error(resp, 400, "InvalidParameter", "policyCertificates[%zu]: %s", i,
					json_is_string(v) ? why : "must be a string");
			certs_free(out, *n);
			*n = 0;
			return false;
		}
		(*n)++;
	}
	return true;
}

static struct store_audit audit_of(struct http_request *req, const char *action, const char *provider,
				   const char *detail)
{
	struct store_audit a = {.actor = req->auth.subject, .action = action, .provider = provider, .detail = detail,
				.time = req->now};
	return a;
}

static void list_providers(struct http_request *req, struct http_response *resp, void *arg)
{
	struct store_provider *list = NULL;
	struct attest_err err = {0};
	size_t n = 0;
	int rc = store_provider_list(req->srv->store, &list, &n, &err);
	json_t *arr, *body;

	(void)arg;
	if (rc != ATTEST_OK) {
		reply_store_error(resp, rc, &err);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, provider_json(&list[i], NULL, 0));
	body = json_pack("{s:o}", "providers", arr);
	http_resp_json(resp, 200, body);
	json_decref(body);
	store_provider_list_free(list, n);
}

static void show_provider(struct http_request *req, struct http_response *resp, void *arg)
{
	const char *name = http_req_param(req, "name");
	struct store_provider p = {0};
	struct store_cert *certs = NULL;
	struct attest_err err = {0};
	size_t n = 0;
	int rc = store_provider_get(req->srv->store, name, &p, &err);

	(void)arg;
	if (rc == ATTEST_OK)
		rc = store_cert_list(req->srv->store, name, &certs, &n, &err);
	if (rc != ATTEST_OK) {
		reply_store_error(resp, rc, &err);
	} else {
		json_t *o = provider_json(&p, certs, n);
		http_resp_json(resp, 200, o);
		json_decref(o);
	}
	store_cert_list_free(certs, n);
	store_provider_clear(&p);
}

static void create_provider(struct http_request *req, struct http_response *resp, void *arg)
{
	const char *name = http_req_param(req, "name");
	struct store_cert certs[MGMT_MAX_CERTS] = {0};
	struct store_provider p = {0}, got = {0};
	struct attest_err err = {0};
	json_t *body = NULL, *settings, *detail = NULL, *thumbs;
	char *settings_text = NULL, *detail_text = NULL;
	const char *mode_s;
	size_t ncerts = 0;
	int rc;

	(void)arg;
	if (!routes_provider_name_ok(name)) {
		http_resp_error(resp, 400, "InvalidParameter",
				"provider names are 1-63 characters of a-z, 0-9 and '-' (a DNS label)");
		return;
	}
	if ((body = body_object(req, resp)) == NULL)
		return;
	mode_s = json_string_value(json_object_get(body, "mode"));
	settings = json_object_get(body, "settings");
	if (mode_s == NULL || store_mode_parse(mode_s, &p.mode) != ATTEST_OK) {
		http_resp_error(resp, 400, "InvalidParameter", "\"mode\" must be \"aad\", \"isolated\" or \"shared\"");
		goto out;
	}
	if (settings != NULL && !settings_ok(settings, resp))
		goto out;
	if (!parse_certs(json_object_get(body, "policyCertificates"), name, certs, &ncerts, resp))
		goto out;
	/* An isolated provider trusts only its signers: it cannot start with none (MAA §1.9). */
	if (p.mode == STORE_MODE_ISOLATED && ncerts == 0) {
		http_resp_error(resp, 400, "InvalidParameter",
				"an isolated provider needs at least one certificate in \"policyCertificates\"");
		goto out;
	}
	snprintf(p.name, sizeof(p.name), "%s", name);
	settings_text = settings ? json_dumps(settings, JSON_COMPACT) : strdup("{}");
	p.settings_json = settings_text;
	p.initial_certs = certs;
	p.n_initial_certs = ncerts;
	thumbs = json_array();
	for (size_t i = 0; i < ncerts; i++)
		json_array_append_new(thumbs, json_string(certs[i].thumbprint));
	detail = json_pack("{s:s,s:s,s:o}", "mode", mode_s, "settings", settings_text ? settings_text : "{}",
			   "policyCertificates", thumbs);
	detail_text = json_dumps(detail, JSON_COMPACT);
	struct store_audit a = audit_of(req, "provider.create", name, detail_text);
	rc = store_provider_create(req->srv->store, &p, &a, &err);
	httpd_provider_changed(req->srv->httpd, name); /* a cached "not found" is not kept, but be safe */
	if (rc == ATTEST_OK)
		rc = store_provider_get(req->srv->store, name, &got, &err);
	if (rc != ATTEST_OK) {
		reply_store_error(resp, rc, &err);
	} else {
		json_t *o = provider_json(&got, certs, ncerts);
		char loc[128];
		http_resp_json(resp, 201, o);
		snprintf(loc, sizeof(loc), "/management/providers/%s", name);
		http_resp_header(resp, "Location", loc);
		json_decref(o);
	}
out:
	certs_free(certs, ncerts);
	store_provider_clear(&got);
	free(settings_text);
	free(detail_text);
	json_decref(detail);
	json_decref(body);
}

static void update_provider(struct http_request *req, struct http_response *resp, void *arg)
{
	const char *name = http_req_param(req, "name");
	struct store_provider p = {0};
	struct attest_err err = {0};
	json_t *body = NULL, *settings, *mode;
	char *settings_text = NULL, *detail = NULL;
	int rc;

	(void)arg;
	if ((body = body_object(req, resp)) == NULL)
		return;
	rc = store_provider_get(req->srv->store, name, &p, &err);
	if (rc != ATTEST_OK) {
		reply_store_error(resp, rc, &err);
		goto out;
	}
	mode = json_object_get(body, "mode");
	settings = json_object_get(body, "settings");
	if (mode != NULL && (!json_is_string(mode) || store_mode_parse(json_string_value(mode), &p.mode) != ATTEST_OK)) {
		http_resp_error(resp, 400, "InvalidParameter", "\"mode\" must be \"aad\", \"isolated\" or \"shared\"");
		goto out;
	}
	if (settings != NULL) {
		if (!settings_ok(settings, resp))
			goto out;
		settings_text = json_dumps(settings, JSON_COMPACT);
		free(p.settings_json);
		p.settings_json = settings_text;
		settings_text = NULL;
	}
	detail = json_dumps(body, JSON_COMPACT);
	struct store_audit a = audit_of(req, "provider.update", name, detail);
	rc = store_provider_update(req->srv->store, &p, &a, &err);
	httpd_provider_changed(req->srv->httpd, name);
	store_provider_clear(&p);
	if (rc == ATTEST_OK)
		rc = store_provider_get(req->srv->store, name, &p, &err);
	if (rc != ATTEST_OK) {
		reply_store_error(resp, rc, &err);
	} else {
		json_t *o = provider_json(&p, NULL, 0);
		http_resp_json(resp, 200, o);
		json_decref(o);
	}
out:
	store_provider_clear(&p);
	free(settings_text);
	free(detail);
	json_decref(body);
}

static void delete_provider(struct http_request *req, struct http_response *resp, void *arg)
{
	const char *name = http_req_param(req, "name");
	struct attest_err err = {0};
	struct store_audit a = audit_of(req, "provider.delete", name, NULL);
	int rc;

	(void)arg;
	if (strcmp(name, req->srv->cfg->default_provider) == 0) {
		http_resp_error(resp, 409, "Conflict", "the default provider \"%s\" cannot be deleted", name);
		return;
	}
	rc = store_provider_delete(req->srv->store, name, &a, &err);
	httpd_provider_changed(req->srv->httpd, name);
	if (rc != ATTEST_OK) {
		reply_store_error(resp, rc, &err);
	} else {
		json_t *o = json_pack("{s:s}", "deleted", name);
		http_resp_json(resp, 200, o);
		json_decref(o);
	}
}

static void list_audit(struct http_request *req, struct http_response *resp, void *arg)
{
	const char *after_s = http_req_query(req, "after"), *max_s = http_req_query(req, "max");
	long long after = after_s ? strtoll(after_s, NULL, 10) : 0, max = max_s ? strtoll(max_s, NULL, 10) : 100;
	struct store_audit_row *rows = NULL;
	struct attest_err err = {0};
	size_t n = 0;
	int rc;

	(void)arg;
	if (max < 1 || max > 1000)
		max = 1000;
	rc = store_audit_list(req->srv->store, after, (size_t)max, &rows, &n, &err);
	if (rc != ATTEST_OK) {
		reply_store_error(resp, rc, &err);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		char hash[65];
		hex_encode_to(rows[i].hash, 32, hash);
		json_t *o = json_pack("{s:I,s:I,s:s,s:s,s:s,s:s}", "seq", (json_int_t)rows[i].seq, "time",
				      (json_int_t)rows[i].time, "actor", rows[i].actor, "action", rows[i].action,
				      "provider", rows[i].provider, "hash", hash);
		json_t *d = rows[i].detail ? json_loads(rows[i].detail, 0, NULL) : NULL;
		json_object_set_new(o, "detail", d ? d : json_null());
		json_array_append_new(arr, o);
	}
	json_t *body = json_pack("{s:o}", "entries", arr);
	http_resp_json(resp, 200, body);
	json_decref(body);
	store_audit_list_free(rows, n);
}

static void verify_audit(struct http_request *req, struct http_response *resp, void *arg)
{
	struct attest_err err = {0};
	int64_t rows = 0;
	int rc = store_audit_verify(req->srv->store, &rows, &err);
	json_t *o;

	(void)arg;
	if (rc == ATTEST_OK)
		o = json_pack("{s:b,s:I}", "intact", 1, "rows", (json_int_t)rows);
	else
		o = json_pack("{s:b,s:s,s:s,s:s}", "intact", 0, "error", err.name, "message", err.msg, "where",
			      err.where);
	http_resp_json(resp, rc == ATTEST_OK || rc == ATTEST_E_VERIFY ? 200 : 500, o);
	json_decref(o);
}

static void rotate_keys(struct http_request *req, struct http_response *resp, void *arg)
{
	struct attest_err err = {0};
	json_t *jwks = NULL;

	(void)arg;
	if (srv_signing_rotate(req->srv, req->auth.subject, &err) != ATTEST_OK ||
	    srv_signing_jwks(req->srv, &jwks, &err) != ATTEST_OK) {
		http_resp_error_from(resp, err.rc == ATTEST_E_UNSUPPORTED ? 501 : 500, "InternalError", &err);
		return;
	}
	http_resp_json(resp, 200, jwks);
	json_decref(jwks);
}

/* A provider's own signing key: created by the first rotation, then rotated (issue 9). */
static void rotate_provider_keys(struct http_request *req, struct http_response *resp, void *arg)
{
	const char *name = http_req_param(req, "name");
	struct store_provider p = {0};
	struct attest_err err = {0};
	char *text = NULL;
	size_t len = 0;
	int rc = store_provider_get(req->srv->store, name, &p, &err);

	(void)arg;
	store_provider_clear(&p);
	if (rc != ATTEST_OK) {
		reply_store_error(resp, rc, &err);
		return;
	}
	if (srv_signing_rotate_provider(req->srv, name, req->auth.subject, &err) != ATTEST_OK ||
	    srv_signing_jwks_provider(req->srv, name, &text, &len, &err) != ATTEST_OK) {
		http_resp_error_from(resp, err.rc == ATTEST_E_UNSUPPORTED ? 501 : 500, "InternalError", &err);
		return;
	}
	http_resp_bytes(resp, 200, "application/json; charset=utf-8", text, len);
	free(text);
}

int routes_mgmt_register(struct http_router *r, struct srv *srv, struct attest_err *err)
{
	static const struct {
		const char *method, *pattern;
		http_handler fn;
	} ROUTES[] = {
		{"GET", "/management/providers", list_providers},
		{"PUT", "/management/providers/{name}", create_provider},
		{"GET", "/management/providers/{name}", show_provider},
		{"PATCH", "/management/providers/{name}", update_provider},
		{"DELETE", "/management/providers/{name}", delete_provider},
		{"GET", "/management/audit", list_audit},
		{"GET", "/management/audit:verify", verify_audit},
		{"POST", "/management/keys:rotate", rotate_keys},
		{"POST", "/management/providers/{name}/keys:rotate", rotate_provider_keys},
	};
	int rc = ATTEST_OK;

	(void)srv;
	for (size_t i = 0; i < sizeof(ROUTES) / sizeof(ROUTES[0]) && rc == ATTEST_OK; i++)
		rc = http_router_add(r, ROUTES[i].method, ROUTES[i].pattern, MGMT_ROUTE, ROUTES[i].fn, NULL, err);
	return rc;
}
