/*
 * attestd end to end: a real server process on a free loopback port over
 * HTTPS (its development certificate), driven with libcurl and raw TLS.
 * One server is shared by the read-mostly tests; shutdown, restart and
 * timeout tests start their own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"

#include "base/codec.h"
#include "crypto/jose.h"

#include <openssl/evp.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

static struct attestd_proc shared;

static int group_setup(void **state)
{
	(void)state;
	const char *const extra[] = {"--domain", "attest.test", NULL};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (attestd_start(&shared, extra) != 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	attestd_cleanup(&shared);
	curl_global_cleanup();
	return 0;
}

static const char *bearer(const struct attestd_proc *p, char *buf, size_t cap)
{
	snprintf(buf, cap, "Authorization: Bearer %s", p->admin);
	return buf;
}

static json_t *get_json(const struct attestd_proc *p, const char *path, long expect_status)
{
	struct http_reply r;
	json_t *j;

	assert_int_equal(http_do(p, "GET", path, NULL, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, expect_status);
	j = http_json(&r);
	assert_non_null(j);
	http_reply_free(&r);
	return j;
}

static void assert_maa_error(const struct http_reply *r, long status, const char *code)
{
	json_t *j = http_json(r);
	const char *c;
	char hdr[128];

	assert_int_equal(r->status, status);
	assert_non_null(j);
	c = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
	assert_non_null(c);
	assert_string_equal(c, code);
	assert_true(json_is_string(json_object_get(json_object_get(j, "error"), "message")));
	assert_true(http_header(r, "x-ms-error-code", hdr, sizeof(hdr)));
	assert_string_equal(hdr, code);
	json_decref(j);
}

/* ---- raw TLS, for what libcurl will not do (half-sent bodies, heads without bodies) ---- */

struct tls_conn {
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
};

static int tls_connect(const struct attestd_proc *p, struct tls_conn *t)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p->port)};

	memset(t, 0, sizeof(*t));
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	t->ctx = SSL_CTX_new(TLS_client_method());
	if (t->ctx == NULL || SSL_CTX_load_verify_locations(t->ctx, p->cacert, NULL) != 1)
		return -1;
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	t->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (t->fd < 0 || connect(t->fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		return -1;
	t->ssl = SSL_new(t->ctx);
	SSL_set_fd(t->ssl, t->fd);
	SSL_set1_host(t->ssl, "127.0.0.1");
	return SSL_connect(t->ssl) == 1 ? 0 : -1;
}

static void tls_close(struct tls_conn *t)
{
	if (t->ssl != NULL)
		SSL_free(t->ssl);
	if (t->fd > 0)
		close(t->fd);
	SSL_CTX_free(t->ctx);
}

static void tls_send(struct tls_conn *t, const char *s)
{
	assert_int_equal(SSL_write(t->ssl, s, (int)strlen(s)), (int)strlen(s));
}

/* Reads until the peer closes or n bytes; returns bytes read. */
static size_t tls_read_all(struct tls_conn *t, char *out, size_t cap)
{
	size_t n = 0;
	int r;

	while (n + 1 < cap && (r = SSL_read(t->ssl, out + n, (int)(cap - 1 - n))) > 0) {
		n += (size_t)r;
		if (strstr(out, "\r\n\r\n") != NULL && strstr(out, "}") != NULL)
			break;
	}
	out[n] = '\0';
	return n;
}

/* ---- metadata ------------------------------------------------------------------ */

static void certs_is_a_jwks_with_kid_x5c_and_raw_key_members(void **state)
{
	const char *paths[] = {"/certs", "/certs/"};

	(void)state;
	for (size_t k = 0; k < 2; k++) {
		json_t *jwks = get_json(&shared, paths[k], 200), *keys = json_object_get(jwks, "keys"), *key;
		size_t i;
		assert_true(json_is_array(keys));
		json_array_foreach(keys, i, key)
		{
			const char *kty = json_string_value(json_object_get(key, "kty"));
			assert_non_null(kty);
			assert_true(json_is_string(json_object_get(key, "kid")));
			assert_true(json_is_array(json_object_get(key, "x5c")));
			assert_true(json_array_size(json_object_get(key, "x5c")) >= 1);
			if (strcmp(kty, "RSA") == 0) {
				assert_true(json_is_string(json_object_get(key, "n")));
				assert_true(json_is_string(json_object_get(key, "e")));
			} else {
				assert_true(json_is_string(json_object_get(key, "crv")));
				assert_true(json_is_string(json_object_get(key, "x")));
			}
			assert_null(json_object_get(key, "d")); /* never a private member */
		}
		json_decref(jwks);
	}
}

static void openid_metadata_names_issuer_and_jwks_uri(void **state)
{
	const char *paths[] = {"/.well-known/openid-configuration", "/.well-known/openid-configuration/"};
	char expect[256];

	(void)state;
	for (size_t k = 0; k < 2; k++) {
		json_t *doc = get_json(&shared, paths[k], 200), *algs;
		assert_string_equal(json_string_value(json_object_get(doc, "issuer")), shared.base);
		snprintf(expect, sizeof(expect), "%s/certs", shared.base);
		assert_string_equal(json_string_value(json_object_get(doc, "jwks_uri")), expect);
		algs = json_object_get(doc, "id_token_signing_alg_values_supported");
		assert_string_equal(json_string_value(json_array_get(algs, 0)), "RS256");
		assert_true(json_array_size(json_object_get(doc, "claims_supported")) > 10);
		json_decref(doc);
	}
}

static bool is_uuid(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]))
			return false;
	}
	return true;
}

static void every_response_carries_a_fresh_request_id_and_service_version(void **state)
{
	const char *const paths[] = {"/certs", "/nope", "/healthz", "/policies/SgxEnclave?api-version=1999-01-01",
				     "/management/providers", "/providers/absent/certs"};
	char ids[6][64];

	(void)state;
	for (size_t i = 0; i < 6; i++) {
		struct http_reply r;
		char v[64];
		assert_int_equal(http_do(&shared, "GET", paths[i], NULL, NULL, 0, NULL, &r), 0);
		assert_true(http_header(&r, "x-ms-request-id", ids[i], sizeof(ids[i])));
		assert_true(is_uuid(ids[i]));
		assert_true(http_header(&r, "x-ms-maa-service-version", v, sizeof(v)));
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(ids[i], ids[k]);
		http_reply_free(&r);
	}
}

/* ---- errors and limits ------------------------------------------------------------- */

static void unknown_route_is_404_in_maa_error_body(void **state)
{
	struct http_reply r;

	(void)state;
	assert_int_equal(http_do(&shared, "GET", "/no/such/operation", NULL, NULL, 0, NULL, &r), 0);
	assert_maa_error(&r, 404, "NotFound");
	http_reply_free(&r);
	assert_int_equal(http_do(&shared, "GET", "/providers/ghost/certs", NULL, NULL, 0, NULL, &r), 0);
	assert_maa_error(&r, 404, "ProviderNotFound");
	http_reply_free(&r);
}

static void wrong_method_is_405_with_allow(void **state)
{
	struct http_reply r;
	char allow[64];

	(void)state;
	assert_int_equal(http_do(&shared, "DELETE", "/certs", NULL, NULL, 0, NULL, &r), 0);
	assert_maa_error(&r, 405, "MethodNotAllowed");
	assert_true(http_header(&r, "Allow", allow, sizeof(allow)));
	assert_non_null(strstr(allow, "GET"));
	http_reply_free(&r);
}

static void huge_body_is_413(void **state)
{
	size_t n = 2u * 1024 * 1024;
	char *big = malloc(n);
	struct http_reply r;
	const char *const chunked[] = {"Transfer-Encoding: chunked", NULL};

	(void)state;
	assert_non_null(big);
	memset(big, 'A', n);
	struct tls_conn t;
	char reply[4096];

	/* An announced oversized body is refused on its head, before a byte of it is read. */
	assert_int_equal(tls_connect(&shared, &t), 0);
	tls_send(&t, "POST /certs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2097152\r\n\r\n");
	assert_true(tls_read_all(&t, reply, sizeof(reply)) > 0);
	tls_close(&t);
	assert_non_null(strstr(reply, "HTTP/1.1 413"));
	assert_non_null(strstr(reply, "\"code\":\"RequestEntityTooLarge\""));
	assert_non_null(strstr(reply, "x-ms-request-id: "));
	/* Without a Content-Length the cap is found while reading. */
	assert_int_equal(http_do(&shared, "POST", "/certs", chunked, big, n, NULL, &r), 0);
	assert_maa_error(&r, 413, "RequestEntityTooLarge");
	http_reply_free(&r);
	free(big);
	/* The server is still fine. */
	assert_int_equal(http_do(&shared, "GET", "/healthz", NULL, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	http_reply_free(&r);
}

static void oversized_request_head_is_refused_with_4xx(void **state)
{
	size_t n = 64 * 1024;
	char *h = malloc(n + 16);
	const char *hdrs[2] = {h, NULL};
	struct http_reply r;

	(void)state;
	assert_non_null(h);
	memcpy(h, "X-Big: ", 7);
	memset(h + 7, 'b', n);
	h[7 + n] = '\0';
	/*
	 * libmicrohttpd answers 431 and closes; when the close overtakes the
	 * rest of our head the kernel resets the connection and the client may
	 * never read the answer. Either way the request is not served (no 2xx,
	 * no 5xx) and the server keeps serving.
	 */
	http_do(&shared, "GET", "/certs", hdrs, NULL, 0, NULL, &r);
	assert_true(r.status == 0 || (r.status >= 400 && r.status < 500));
	http_reply_free(&r);
	free(h);
	assert_int_equal(http_do(&shared, "GET", "/healthz", NULL, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	http_reply_free(&r);
}

static void api_version_missing_or_unknown_is_400_naming_supported_versions(void **state)
{
	char auth[256];
	const char *const hdrs[] = {bearer(&shared, auth, sizeof(auth)), NULL};
	struct http_reply r;

	(void)state;
	assert_int_equal(http_do(&shared, "GET", "/policies/SgxEnclave", hdrs, NULL, 0, NULL, &r), 0);
	assert_maa_error(&r, 400, "MissingApiVersionParameter");
	assert_non_null(strstr(r.body, "2020-10-01"));
	http_reply_free(&r);
	assert_int_equal(http_do(&shared, "GET", "/policies/SgxEnclave?api-version=2019-01-01", hdrs, NULL, 0, NULL, &r),
			 0);
	assert_maa_error(&r, 400, "InvalidApiVersionParameter");
	assert_non_null(strstr(r.body, "2022-08-01"));
	http_reply_free(&r);
	/* /certs and the metadata take no api-version (MAA §1.1). */
	assert_int_equal(http_do(&shared, "GET", "/certs?api-version=nonsense", NULL, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	http_reply_free(&r);
}

/* ---- health, metrics ------------------------------------------------------------------ */

static void health_ready_and_metrics_answer(void **state)
{
	struct http_reply r;

	(void)state;
	assert_int_equal(http_do(&shared, "GET", "/healthz", NULL, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	http_reply_free(&r);
	assert_int_equal(http_do(&shared, "GET", "/readyz", NULL, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	http_reply_free(&r);
	assert_int_equal(http_do(&shared, "GET", "/nope", NULL, NULL, 0, NULL, &r), 0);
	http_reply_free(&r);
	assert_int_equal(http_do(&shared, "GET", "/certs", NULL, NULL, 0, NULL, &r), 0);
	http_reply_free(&r);
	assert_int_equal(http_do(&shared, "GET", "/providers/invented-xyz/certs", NULL, NULL, 0, NULL, &r), 0);
	http_reply_free(&r);
	assert_int_equal(http_do(&shared, "GET", "/metrics", NULL, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "# TYPE attestd_requests_total counter"));
	assert_non_null(strstr(r.body, "attestd_requests_total{provider=\"\",type=\"\",status=\"404\""));
	assert_non_null(strstr(r.body, "attestd_requests_total{provider=\"default\",type=\"\",status=\"200\""));
	/* A provider that does not exist never becomes a label. */
	assert_null(strstr(r.body, "invented-xyz"));
	assert_non_null(strstr(r.body, "# TYPE attestd_request_duration_seconds histogram"));
	assert_non_null(strstr(r.body, "le=\"+Inf\""));
	/* the signing keys' private parts live in the secure heap: it exists and is in use */
	assert_non_null(strstr(r.body, "\nattestd_secure_heap_bytes "));
	assert_null(strstr(r.body, "\nattestd_secure_heap_bytes 0\n"));
	assert_null(strstr(r.body, "\nattestd_secure_heap_used_bytes 0\n"));
	/* the TPM protocol: its replay sets' pool, and the first epoch its context keys started with */
	assert_non_null(strstr(r.body, "\nattestd_tpm_replay_ids "));
	assert_non_null(strstr(r.body, "\nattestd_tpm_replay_shared_limit 262144\n"));
	assert_non_null(strstr(r.body, "\nattestd_tpm_context_epochs_started_total 1\n"));
	assert_non_null(strstr(r.body, "\nattestd_tpm_context_epoch_keys_derived_total 1\n"));
	http_reply_free(&r);
}

/* ---- management, providers, rate limits ---------------------------------------------- */

static void management_needs_the_administrator_credential(void **state)
{
	const char *const wrong[] = {"Authorization: Bearer attestd-admin-not-it", NULL};
	struct http_reply r;

	(void)state;
	assert_int_equal(http_do(&shared, "GET", "/management/providers", NULL, NULL, 0, NULL, &r), 0);
	assert_maa_error(&r, 401, "Unauthorized");
	http_reply_free(&r);
	assert_int_equal(http_do(&shared, "GET", "/management/providers", wrong, NULL, 0, NULL, &r), 0);
	assert_maa_error(&r, 401, "Unauthorized");
	http_reply_free(&r);
	/* Management is service-wide: not reachable under a provider prefix. */
	assert_int_equal(http_do(&shared, "GET", "/providers/default/management/providers", NULL, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 404);
	http_reply_free(&r);
}

static int64_t audit_rows(void)
{
	char auth[256];
	const char *const hdrs[] = {bearer(&shared, auth, sizeof(auth)), NULL};
	struct http_reply r;
	json_t *j;
	int64_t rows;

	assert_int_equal(http_do(&shared, "GET", "/management/audit:verify", hdrs, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	j = http_json(&r);
	assert_true(json_is_true(json_object_get(j, "intact")));
	rows = json_integer_value(json_object_get(j, "rows"));
	json_decref(j);
	http_reply_free(&r);
	return rows;
}

static void provider_lifecycle_is_audited_and_addressable_by_path(void **state)
{
	char auth[256], expect[256];
	const char *const hdrs[] = {bearer(&shared, auth, sizeof(auth)), NULL};
	const char *body = "{\"mode\":\"aad\",\"settings\":{\"note\":\"t\"}}";
	struct http_reply r;
	int64_t before = audit_rows();
	json_t *j;

	(void)state;
	assert_int_equal(http_do(&shared, "PUT", "/management/providers/tenant-a", hdrs, body, strlen(body), NULL, &r), 0);
	assert_int_equal(r.status, 201);
	http_reply_free(&r);
	assert_int_equal(audit_rows(), before + 1);
	/* Again: conflict, and no audit row for a refused change. */
	assert_int_equal(http_do(&shared, "PUT", "/management/providers/tenant-a", hdrs, body, strlen(body), NULL, &r), 0);
	assert_maa_error(&r, 409, "Conflict");
	http_reply_free(&r);
	assert_int_equal(audit_rows(), before + 1);

	/* Addressed by path prefix: its own issuer. */
	j = get_json(&shared, "/providers/tenant-a/.well-known/openid-configuration", 200);
	snprintf(expect, sizeof(expect), "%s/providers/tenant-a", shared.base);
	assert_string_equal(json_string_value(json_object_get(j, "issuer")), expect);
	json_decref(j);

	body = "{\"mode\":\"shared\"}";
	assert_int_equal(http_do(&shared, "PATCH", "/management/providers/tenant-a", hdrs, body, strlen(body), NULL, &r),
			 0);
	assert_int_equal(r.status, 200);
	j = http_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "mode")), "shared");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "settings"), "note")), "t");
	json_decref(j);
	http_reply_free(&r);

	assert_int_equal(http_do(&shared, "GET", "/management/providers", hdrs, NULL, 0, NULL, &r), 0);
	assert_non_null(strstr(r.body, "\"tenant-a\""));
	http_reply_free(&r);
	assert_int_equal(http_do(&shared, "DELETE", "/management/providers/tenant-a", hdrs, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	http_reply_free(&r);
	assert_int_equal(http_do(&shared, "GET", "/management/providers/tenant-a", hdrs, NULL, 0, NULL, &r), 0);
	assert_maa_error(&r, 404, "NotFound");
	http_reply_free(&r);
	assert_int_equal(audit_rows(), before + 3);

	/* The audit entries name the actor and the operation. */
	assert_int_equal(http_do(&shared, "GET", "/management/audit?max=1000", hdrs, NULL, 0, NULL, &r), 0);
	assert_non_null(strstr(r.body, "\"action\":\"provider.delete\""));
	assert_non_null(strstr(r.body, "\"actor\":\"bootstrap-admin\""));
	http_reply_free(&r);
}

static void provider_is_addressed_by_host_name_under_the_domain(void **state)
{
	char auth[256], host[128], expect[128];
	const char *const hdrs[] = {bearer(&shared, auth, sizeof(auth)), NULL};
	const char *body = "{\"mode\":\"aad\"}";
	const char *const by_host[] = {host, NULL};
	struct http_reply r;
	json_t *j;

	(void)state;
	assert_int_equal(http_do(&shared, "PUT", "/management/providers/hosted", hdrs, body, strlen(body), NULL, &r), 0);
	assert_int_equal(r.status, 201);
	http_reply_free(&r);
	snprintf(host, sizeof(host), "Host: hosted.attest.test:%d", shared.port);
	assert_int_equal(http_do(&shared, "GET", "/.well-known/openid-configuration", by_host, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	j = http_json(&r);
	snprintf(expect, sizeof(expect), "https://hosted.attest.test:%d", shared.port);
	assert_string_equal(json_string_value(json_object_get(j, "issuer")), expect);
	json_decref(j);
	http_reply_free(&r);
	/* A host under the domain that names no provider is 404; another domain is the default provider. */
	snprintf(host, sizeof(host), "Host: nobody.attest.test:%d", shared.port);
	assert_int_equal(http_do(&shared, "GET", "/certs", by_host, NULL, 0, NULL, &r), 0);
	assert_maa_error(&r, 404, "ProviderNotFound");
	http_reply_free(&r);
	snprintf(host, sizeof(host), "Host: hosted.elsewhere.test:%d", shared.port);
	assert_int_equal(http_do(&shared, "GET", "/.well-known/openid-configuration", by_host, NULL, 0, NULL, &r), 0);
	j = http_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "issuer")), shared.base);
	json_decref(j);
	http_reply_free(&r);
}

static void key_rotation_publishes_both_keys_and_signs_with_the_new_one(void **state)
{
	struct attestd_proc p;
	char auth[256];
	struct http_reply r;
	json_t *jwks, *after_restart;
	const char *new_kid, *old_kid;

	(void)state;
	assert_int_equal(attestd_start(&p, NULL), 0);
	const char *const hdrs[] = {bearer(&p, auth, sizeof(auth)), NULL};
	jwks = get_json(&p, "/certs", 200);
	if (json_array_size(json_object_get(jwks, "keys")) == 0) {
		json_decref(jwks);
		attestd_stop(&p, SIGTERM);
		attestd_cleanup(&p);
		fprintf(stderr, "SKIP: this build has no keys module\n");
		skip();
	}
	old_kid = json_string_value(json_object_get(json_array_get(json_object_get(jwks, "keys"), 0), "kid"));
	char old[128];
	snprintf(old, sizeof(old), "%s", old_kid);
	json_decref(jwks);
	assert_int_equal(http_do(&p, "POST", "/management/keys:rotate", NULL, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 401);
	http_reply_free(&r);
	assert_int_equal(http_do(&p, "POST", "/management/keys:rotate", hdrs, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	http_reply_free(&r);
	jwks = get_json(&p, "/certs", 200);
	assert_int_equal(json_array_size(json_object_get(jwks, "keys")), 2);
	new_kid = json_string_value(json_object_get(json_array_get(json_object_get(jwks, "keys"), 0), "kid"));
	assert_string_not_equal(new_kid, old);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(jwks, "keys"), 1), "kid")),
			    old);
	/* New tokens carry the new kid. */
	assert_int_equal(http_do(&p, "GET", "/policies/SgxEnclave?api-version=2020-10-01", hdrs, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	{
		json_t *tok = http_json(&r);
		const char *jwt = json_string_value(json_object_get(tok, "token"));
		uint8_t *hdr = NULL;
		size_t hl = 0;
		assert_non_null(jwt);
		assert_int_equal(b64_decode(jwt, strcspn(jwt, "."), &hdr, &hl), 0);
		assert_non_null(strstr((const char *)hdr, new_kid));
		free(hdr);
		json_decref(tok);
	}
	http_reply_free(&r);
	/* A provider with its own key, to check that it persists too. */
	const char *body = "{\"mode\":\"aad\"}";
	assert_int_equal(http_do(&p, "PUT", "/management/providers/keyed", hdrs, body, strlen(body), NULL, &r), 0);
	assert_int_equal(r.status, 201);
	http_reply_free(&r);
	assert_int_equal(http_do(&p, "POST", "/management/providers/keyed/keys:rotate", hdrs, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	http_reply_free(&r);
	json_t *keyed = get_json(&p, "/providers/keyed/certs", 200);
	/* The old key stays published after a restart (tokens it signed are still valid). */
	assert_int_equal(attestd_stop(&p, SIGTERM), 0);
	assert_int_equal(attestd_launch(&p, NULL), 0);
	after_restart = get_json(&p, "/certs", 200);
	assert_int_equal(json_array_size(json_object_get(after_restart, "keys")), 2);
	assert_true(json_equal(json_object_get(jwks, "keys"), json_object_get(after_restart, "keys")));
	json_decref(after_restart);
	after_restart = get_json(&p, "/providers/keyed/certs", 200);
	assert_true(json_equal(keyed, after_restart));
	json_decref(after_restart);
	json_decref(keyed);
	json_decref(jwks);
	assert_int_equal(http_do(&p, "GET", "/management/audit?max=100", hdrs, NULL, 0, NULL, &r), 0);
	assert_non_null(strstr(r.body, "\"action\":\"key.rotate\""));
	assert_non_null(strstr(r.body, "\"action\":\"key.retire\""));
	http_reply_free(&r);
	assert_int_equal(attestd_stop(&p, SIGTERM), 0);
	attestd_cleanup(&p);
}

/* A JWT from a test issuer: ES256 with kid "k1". */
static char *mint(EVP_PKEY *key, const char *iss, const char *aud, int64_t exp, const char *role)
{
	json_t *hdr = json_pack("{s:s}", "kid", "k1"), *claims;
	struct jws_signer *s = NULL;
	struct attest_err err = {0};
	char *jwt = NULL;
	int64_t now = (int64_t)time(NULL);

	claims = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I}", "iss", iss, "aud", aud, "sub", "alice", "iat", (json_int_t)now,
			   "nbf", (json_int_t)now, "exp", (json_int_t)(now + exp));
	if (role != NULL)
		json_object_set_new(claims, "roles", json_pack("[s]", role));
	assert_int_equal(jws_signer_new(key, JWS_ALG_ES256, hdr, &s, &err), 0);
	assert_int_equal(jwt_sign(s, claims, &jwt, &err), 0);
	jws_signer_free(s);
	json_decref(hdr);
	json_decref(claims);
	return jwt;
}

static long get_status(const char *path, const char *jwt)
{
	char h[4096];
	const char *const hdrs[] = {h, NULL};
	struct http_reply r;
	long st;

	snprintf(h, sizeof(h), "Authorization: Bearer %s", jwt);
	assert_int_equal(http_do(&shared, "GET", path, jwt ? hdrs : NULL, NULL, 0, NULL, &r), 0);
	st = r.status;
	if (st == 401)
		assert_maa_error(&r, 401, "Unauthorized");
	http_reply_free(&r);
	return st;
}

static void bearer_tokens_of_the_provider_issuer_map_to_roles_on_that_provider_only(void **state)
{
	EVP_PKEY *key = EVP_EC_gen("P-256"), *rogue = EVP_EC_gen("P-256");
	json_t *jwk = NULL;
	struct attest_err err = {0};
	char auth[256], aud_a[256], aud_b[256], *body, *t;
	const char *const hdrs[] = {bearer(&shared, auth, sizeof(auth)), NULL};
	const char *iss = "https://issuer.test/tenant";
	const char *pa = "/providers/auth-a/policies/SgxEnclave?api-version=2020-10-01";
	struct http_reply r;

	(void)state;
	assert_non_null(key);
	assert_int_equal(jwk_from_key(key, "k1", NULL, &jwk, &err), 0);
	snprintf(aud_a, sizeof(aud_a), "%s/providers/auth-a", shared.base);
	snprintf(aud_b, sizeof(aud_b), "%s/providers/auth-b", shared.base);
	const char *names[2] = {"auth-a", "auth-b"};
	const char *auds[2] = {aud_a, aud_b};
	for (int i = 0; i < 2; i++) {
		char path[128];
		json_t *authconf = json_pack("{s:s,s:s,s:{s:[O]}}", "issuer", iss, "audience", auds[i], "jwks", "keys", jwk);
		json_t *fixed = json_pack("{s:s,s:{s:o}}", "mode", "aad", "settings", "auth", authconf);
		body = json_dumps(fixed, JSON_COMPACT);
		snprintf(path, sizeof(path), "/management/providers/%s", names[i]);
		assert_int_equal(http_do(&shared, "PUT", path, hdrs, body, strlen(body), NULL, &r), 0);
		assert_int_equal(r.status, 201);
		http_reply_free(&r);
		free(body);
		json_decref(fixed);
	}

	/* No token, and the right token. */
	assert_int_equal(get_status(pa, NULL), 401);
	t = mint(key, iss, aud_a, 600, "Attestation.Reader");
	assert_int_equal(get_status(pa, t), 200);
	free(t);
	/* Another provider's token (its audience), an expired one, another issuer, an untrusted key. */
	t = mint(key, iss, aud_b, 600, "Attestation.Administrator");
	assert_int_equal(get_status(pa, t), 401);
	free(t);
	t = mint(key, iss, aud_a, -3600, "Attestation.Reader");
	assert_int_equal(get_status(pa, t), 401);
	free(t);
	t = mint(key, "https://evil.test", aud_a, 600, "Attestation.Reader");
	assert_int_equal(get_status(pa, t), 401);
	free(t);
	t = mint(rogue, iss, aud_a, 600, "Attestation.Reader");
	assert_int_equal(get_status(pa, t), 401);
	free(t);
	/* Authenticated but without a role: 403. A reader cannot write a policy. */
	t = mint(key, iss, aud_a, 600, "Something.Else");
	assert_int_equal(get_status(pa, t), 403);
	free(t);
	{
		char h[4096];
		const char *const rh[] = {h, "Content-Type: text/plain", NULL};
		const char *policy = "version=1.0; authorizationrules{=>permit();};";
		t = mint(key, iss, aud_a, 600, "Attestation.Reader");
		snprintf(h, sizeof(h), "Authorization: Bearer %s", t);
		assert_int_equal(http_do(&shared, "PUT", "/providers/auth-a/policies/SgxEnclave?api-version=2020-10-01", rh,
					 policy, strlen(policy), NULL, &r),
				 0);
		assert_int_equal(r.status, 403);
		http_reply_free(&r);
		free(t);
	}
	/* A bad bearer on an anonymous operation is simply ignored. */
	assert_int_equal(get_status("/providers/auth-a/certs", "not.a.jwt"), 200);
	json_decref(jwk);
	EVP_PKEY_free(key);
	EVP_PKEY_free(rogue);
}

/*
 * An issuer that publishes its keys at an HTTPS URL: a node server (with
 * attestd's development certificate) answering the JWKS; the provider's
 * auth names it by "jwks_uri".
 */
static void bearer_keys_are_fetched_from_the_issuer_jwks_uri(void **state)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	json_t *jwk = NULL, *jwks, *authconf, *req;
	struct attest_err err = {0};
	char auth[256], keyfile[400], aud[256], uri[128], port[16] = "", *jwks_text, *body, *t;
	const char *const hdrs[] = {bearer(&shared, auth, sizeof(auth)), NULL};
	const char *iss = "https://issuer-url.test";
	struct http_reply r;
	int pipefd[2];
	pid_t node;

	(void)state;
	if (system("node --version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "SKIP: node is not installed\n");
		skip();
	}
	assert_int_equal(jwk_from_key(key, "k1", NULL, &jwk, &err), 0);
	jwks = json_pack("{s:[O]}", "keys", jwk);
	jwks_text = json_dumps(jwks, JSON_COMPACT);
	snprintf(keyfile, sizeof(keyfile), "%s/tls/dev-key.pem", shared.data);
	assert_int_equal(pipe(pipefd), 0);
	node = fork();
	assert_true(node >= 0);
	if (node == 0) {
		static const char js[] =
			"const https=require('https'),fs=require('fs');"
			"const s=https.createServer({key:fs.readFileSync(process.env.K),cert:fs.readFileSync(process.env.C)},"
			"(q,r)=>{r.writeHead(q.url==='/keys'?200:404,{'content-type':'application/json'});r.end(process.env.J)});"
			"s.listen(0,'127.0.0.1',()=>{console.log(s.address().port)});";
		dup2(pipefd[1], STDOUT_FILENO);
		close(pipefd[0]);
		setenv("K", keyfile, 1);
		setenv("C", shared.cacert, 1);
		setenv("J", jwks_text, 1);
		execlp("node", "node", "-e", js, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	for (size_t n = 0; n + 1 < sizeof(port);) {
		ssize_t k = read(pipefd[0], port + n, 1);
		if (k <= 0 || port[n] == '\n')
			break;
		n++;
		port[n] = '\0';
	}
	close(pipefd[0]);
	assert_true(atoi(port) > 0);
	snprintf(uri, sizeof(uri), "https://127.0.0.1:%d/keys", atoi(port));
	snprintf(aud, sizeof(aud), "%s/providers/url-auth", shared.base);
	authconf = json_pack("{s:s,s:s,s:s,s:s}", "issuer", iss, "audience", aud, "jwks_uri", uri, "jwks_ca_file",
			     shared.cacert);
	req = json_pack("{s:s,s:{s:o}}", "mode", "aad", "settings", "auth", authconf);
	body = json_dumps(req, JSON_COMPACT);
	assert_int_equal(http_do(&shared, "PUT", "/management/providers/url-auth", hdrs, body, strlen(body), NULL, &r), 0);
	assert_int_equal(r.status, 201);
	http_reply_free(&r);
	t = mint(key, iss, aud, 600, "Attestation.Reader");
	assert_int_equal(get_status("/providers/url-auth/policies/SgxEnclave?api-version=2020-10-01", t), 200);
	free(t);
	/* Signed by a key the URL does not publish: refused even after the early re-fetch. */
	EVP_PKEY *rogue = EVP_EC_gen("P-256");
	t = mint(rogue, iss, aud, 600, "Attestation.Reader");
	assert_int_equal(get_status("/providers/url-auth/policies/SgxEnclave?api-version=2020-10-01", t), 401);
	free(t);
	EVP_PKEY_free(rogue);
	kill(node, SIGTERM);
	waitpid(node, NULL, 0);
	free(body);
	free(jwks_text);
	json_decref(req);
	json_decref(jwks);
	json_decref(jwk);
	EVP_PKEY_free(key);
}

static void provider_with_its_own_signing_key_publishes_it_alone(void **state)
{
	char auth[256];
	const char *const hdrs[] = {bearer(&shared, auth, sizeof(auth)), NULL};
	const char *body = "{\"mode\":\"aad\"}";
	struct http_reply r;
	json_t *service, *own, *again;
	const char *service_kid, *own_kid;

	(void)state;
	service = get_json(&shared, "/certs", 200);
	if (json_array_size(json_object_get(service, "keys")) == 0) {
		json_decref(service);
		fprintf(stderr, "SKIP: this build has no keys module\n");
		skip();
	}
	assert_int_equal(http_do(&shared, "PUT", "/management/providers/own-key", hdrs, body, strlen(body), NULL, &r), 0);
	assert_int_equal(r.status, 201);
	http_reply_free(&r);
	/* Until it has its own key, a provider publishes the service's. */
	own = get_json(&shared, "/providers/own-key/certs", 200);
	assert_true(json_equal(own, service));
	json_decref(own);
	assert_int_equal(http_do(&shared, "POST", "/management/providers/own-key/keys:rotate", hdrs, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	http_reply_free(&r);
	own = get_json(&shared, "/providers/own-key/certs", 200);
	assert_int_equal(json_array_size(json_object_get(own, "keys")), 1);
	service_kid = json_string_value(json_object_get(json_array_get(json_object_get(service, "keys"), 0), "kid"));
	own_kid = json_string_value(json_object_get(json_array_get(json_object_get(own, "keys"), 0), "kid"));
	assert_string_not_equal(own_kid, service_kid);
	/* The service's keys (and other providers') are unchanged. */
	again = get_json(&shared, "/certs", 200);
	assert_true(json_equal(again, service));
	json_decref(again);
	assert_int_equal(http_do(&shared, "POST", "/management/providers/no-such/keys:rotate", hdrs, NULL, 0, NULL, &r), 0);
	assert_maa_error(&r, 404, "NotFound");
	http_reply_free(&r);
	json_decref(own);
	json_decref(service);
}

static void provider_requests_are_validated(void **state)
{
	char auth[256];
	const char *const hdrs[] = {bearer(&shared, auth, sizeof(auth)), NULL};
	const char *const cases[][2] = {
		{"/management/providers/Bad_Name", "{\"mode\":\"aad\"}"},
		{"/management/providers/ok-name", "{\"mode\":\"weird\"}"},
		{"/management/providers/ok-name", "not json"},
		{"/management/providers/ok-name", "{\"mode\":\"isolated\"}"},
		{"/management/providers/ok-name", "{\"mode\":\"isolated\",\"policyCertificates\":[\"bm90IGEgY2VydA\"]}"},
		{"/management/providers/ok-name", "{\"mode\":\"aad\",\"settings\":{\"rate_limit\":\"fast\"}}"},
	};
	struct http_reply r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(http_do(&shared, "PUT", cases[i][0], hdrs, cases[i][1], strlen(cases[i][1]), NULL, &r), 0);
		assert_maa_error(&r, 400, "InvalidParameter");
		http_reply_free(&r);
	}
	assert_int_equal(http_do(&shared, "DELETE", "/management/providers/default", hdrs, NULL, 0, NULL, &r), 0);
	assert_maa_error(&r, 409, "Conflict");
	http_reply_free(&r);
}

static void isolated_provider_is_created_with_its_signer_certificates(void **state)
{
	char auth[256], pem[4096], body[8192], *esc;
	const char *const hdrs[] = {bearer(&shared, auth, sizeof(auth)), NULL};
	struct http_reply r;
	json_t *j, *s;

	(void)state;
	/* Any real certificate will do as a signer: the server's own development certificate. */
	assert_true(harness_read_file(shared.cacert, pem, sizeof(pem)));
	s = json_string(pem);
	esc = json_dumps(s, JSON_ENCODE_ANY);
	snprintf(body, sizeof(body), "{\"mode\":\"isolated\",\"policyCertificates\":[%s]}", esc);
	free(esc);
	json_decref(s);
	assert_int_equal(http_do(&shared, "PUT", "/management/providers/iso-1", hdrs, body, strlen(body), NULL, &r), 0);
	assert_int_equal(r.status, 201);
	http_reply_free(&r);
	assert_int_equal(http_do(&shared, "GET", "/management/providers/iso-1", hdrs, NULL, 0, NULL, &r), 0);
	j = http_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "mode")), "isolated");
	assert_int_equal(json_array_size(json_object_get(j, "policyCertificateThumbprints")), 1);
	assert_int_equal(strlen(json_string_value(json_array_get(json_object_get(j, "policyCertificateThumbprints"), 0))),
			 40);
	json_decref(j);
	http_reply_free(&r);
}

static void provider_rate_limit_answers_429_with_retry_after(void **state)
{
	char auth[256], ra[16];
	const char *const hdrs[] = {bearer(&shared, auth, sizeof(auth)), NULL};
	const char *body = "{\"mode\":\"aad\",\"settings\":{\"rate_limit\":0.5,\"rate_burst\":2}}";
	struct http_reply r;
	int ok = 0, limited = 0;

	(void)state;
	assert_int_equal(http_do(&shared, "PUT", "/management/providers/slow", hdrs, body, strlen(body), NULL, &r), 0);
	assert_int_equal(r.status, 201);
	http_reply_free(&r);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(http_do(&shared, "GET", "/providers/slow/certs", NULL, NULL, 0, NULL, &r), 0);
		if (r.status == 200) {
			ok++;
		} else {
			assert_maa_error(&r, 429, "TooManyRequests");
			assert_true(http_header(&r, "Retry-After", ra, sizeof(ra)));
			assert_true(atoi(ra) >= 1 && atoi(ra) <= 2);
			limited++;
		}
		http_reply_free(&r);
	}
	assert_int_equal(ok, 2);
	assert_int_equal(limited, 2);
	/* Other providers are not affected. */
	assert_int_equal(http_do(&shared, "GET", "/certs", NULL, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	http_reply_free(&r);
}

/* ---- lifecycle: shutdown, restart, timeouts ------------------------------------------- */

static void sigterm_finishes_the_request_in_flight_then_exits_zero(void **state)
{
	struct attestd_proc p;
	struct tls_conn t;
	char req[512], reply[4096];
	const char *body = "{\"mode\":\"aad\"}";
	size_t half = strlen(body) / 2;

	(void)state;
	assert_int_equal(attestd_start(&p, NULL), 0);
	assert_int_equal(tls_connect(&p, &t), 0);
	snprintf(req, sizeof(req),
		 "PUT /management/providers/late HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
		 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%.*s",
		 p.admin, strlen(body), (int)half, body);
	tls_send(&t, req);
	harness_sleep_ms(300); /* the server has the head and half the body */
	kill(p.pid, SIGTERM);
	harness_sleep_ms(300);
	/* Still running: it waits for this request. */
	assert_int_equal(waitpid(p.pid, NULL, WNOHANG), 0);
	tls_send(&t, body + half);
	assert_true(tls_read_all(&t, reply, sizeof(reply)) > 0);
	assert_non_null(strstr(reply, "HTTP/1.1 201"));
	tls_close(&t);
	assert_int_equal(attestd_stop(&p, SIGTERM), 0);
	/* And the acknowledged change is durable. */
	assert_int_equal(attestd_launch(&p, NULL), 0);
	{
		char auth[256];
		const char *const hdrs[] = {bearer(&p, auth, sizeof(auth)), NULL};
		struct http_reply r;
		/* The credential file is written once: reuse the first start's. */
		assert_int_equal(http_do(&p, "GET", "/management/providers/late", hdrs, NULL, 0, NULL, &r), 0);
		assert_int_equal(r.status, 200);
		http_reply_free(&r);
	}
	assert_int_equal(attestd_stop(&p, SIGINT), 0);
	attestd_cleanup(&p);
}

static void state_survives_kill_9_and_restart(void **state)
{
	struct attestd_proc p;
	char auth[256], jwks1[16384];
	const char *body = "{\"mode\":\"aad\"}";
	struct http_reply r;

	(void)state;
	assert_int_equal(attestd_start(&p, NULL), 0);
	const char *const hdrs[] = {bearer(&p, auth, sizeof(auth)), NULL};
	assert_int_equal(http_do(&p, "PUT", "/management/providers/durable", hdrs, body, strlen(body), NULL, &r), 0);
	assert_int_equal(r.status, 201);
	http_reply_free(&r);
	assert_int_equal(http_do(&p, "GET", "/certs", NULL, NULL, 0, NULL, &r), 0);
	snprintf(jwks1, sizeof(jwks1), "%s", r.body);
	http_reply_free(&r);
	attestd_stop(&p, SIGKILL);
	assert_int_equal(attestd_launch(&p, NULL), 0);
	assert_int_equal(http_do(&p, "GET", "/management/providers/durable", hdrs, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	http_reply_free(&r);
	/* Same signing keys after the restart (persisted, not regenerated). */
	assert_int_equal(http_do(&p, "GET", "/certs", NULL, NULL, 0, NULL, &r), 0);
	assert_string_equal(r.body, jwks1);
	http_reply_free(&r);
	assert_int_equal(http_do(&p, "GET", "/management/audit:verify", hdrs, NULL, 0, NULL, &r), 0);
	assert_non_null(strstr(r.body, "\"intact\":true"));
	http_reply_free(&r);
	assert_int_equal(attestd_stop(&p, SIGTERM), 0);
	attestd_cleanup(&p);
}

static void body_trickling_past_the_timeout_is_408(void **state)
{
	const char *const extra[] = {"--timeout", "1", NULL};
	struct attestd_proc p;
	struct tls_conn t;
	char reply[4096];

	(void)state;
	assert_int_equal(attestd_start(&p, extra), 0);
	assert_int_equal(tls_connect(&p, &t), 0);
	tls_send(&t, "POST /certs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n0123456789");
	/* Each gap is under the idle timeout; the whole body takes longer than the limit. */
	for (int i = 0; i < 9; i++) {
		harness_sleep_ms(200);
		tls_send(&t, "0123456789");
	}
	assert_true(tls_read_all(&t, reply, sizeof(reply)) > 0);
	assert_non_null(strstr(reply, "HTTP/1.1 408"));
	assert_non_null(strstr(reply, "RequestTimeout"));
	tls_close(&t);
	/* A body that never ends is cut off after three timeouts, not drained forever. */
	assert_int_equal(tls_connect(&p, &t), 0);
	tls_send(&t, "POST /certs HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n");
	bool cut = false;
	for (int i = 0; i < 40 && !cut; i++) { /* up to 8 s */
		harness_sleep_ms(200);
		cut = SSL_write(t.ssl, "5\r\nhello\r\n", 10) <= 0;
	}
	assert_true(cut);
	tls_close(&t);
	assert_int_equal(attestd_stop(&p, SIGTERM), 0);
	attestd_cleanup(&p);
}

static void help_version_and_bad_flags(void **state)
{
	char bin[1024], cmd[1200];

	(void)state;
	assert_non_null(harness_binary(bin, sizeof(bin)));
	snprintf(cmd, sizeof(cmd), "'%s' --help | grep -q -- --test-fixed-time", bin);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "'%s' --version | grep -q '^attestd '", bin);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "'%s' --no-such-flag 2>/dev/null", bin);
	assert_int_equal(WEXITSTATUS(system(cmd)), 2);
	snprintf(cmd, sizeof(cmd), "'%s' --port 99999 2>/dev/null", bin);
	assert_int_equal(WEXITSTATUS(system(cmd)), 2);
}

static void config_file_sets_options_and_flags_override_it(void **state)
{
	struct attestd_proc p;
	char cfg[400], flag[420];
	FILE *f;
	json_t *j;

	(void)state;
	assert_int_equal(attestd_prepare(&p), 0);
	snprintf(cfg, sizeof(cfg), "%s/attestd.conf", p.dir);
	f = fopen(cfg, "w");
	assert_non_null(f);
	fprintf(f, "# test config\npublic_url = \"https://attest.example:9999/\"\nlog_level = debug\nworkers = 1\n");
	fclose(f);
	snprintf(flag, sizeof(flag), "--config=%s", cfg);
	const char *const extra[] = {flag, "--log-level", "warn", NULL};
	assert_int_equal(attestd_launch(&p, extra), 0);
	j = get_json(&p, "/.well-known/openid-configuration", 200);
	assert_string_equal(json_string_value(json_object_get(j, "issuer")), "https://attest.example:9999");
	json_decref(j);
	assert_int_equal(attestd_stop(&p, SIGTERM), 0);
	attestd_cleanup(&p);
}

int main(void)
{
	const struct CMUnitTest shared_tests[] = {
		cmocka_unit_test(certs_is_a_jwks_with_kid_x5c_and_raw_key_members),
		cmocka_unit_test(openid_metadata_names_issuer_and_jwks_uri),
		cmocka_unit_test(every_response_carries_a_fresh_request_id_and_service_version),
		cmocka_unit_test(unknown_route_is_404_in_maa_error_body),
		cmocka_unit_test(wrong_method_is_405_with_allow),
		cmocka_unit_test(huge_body_is_413),
		cmocka_unit_test(oversized_request_head_is_refused_with_4xx),
		cmocka_unit_test(api_version_missing_or_unknown_is_400_naming_supported_versions),
		cmocka_unit_test(health_ready_and_metrics_answer),
		cmocka_unit_test(management_needs_the_administrator_credential),
		cmocka_unit_test(provider_lifecycle_is_audited_and_addressable_by_path),
		cmocka_unit_test(provider_is_addressed_by_host_name_under_the_domain),
		cmocka_unit_test(bearer_tokens_of_the_provider_issuer_map_to_roles_on_that_provider_only),
		cmocka_unit_test(bearer_keys_are_fetched_from_the_issuer_jwks_uri),
		cmocka_unit_test(provider_with_its_own_signing_key_publishes_it_alone),
		cmocka_unit_test(provider_requests_are_validated),
		cmocka_unit_test(isolated_provider_is_created_with_its_signer_certificates),
		cmocka_unit_test(provider_rate_limit_answers_429_with_retry_after),
	};
	const struct CMUnitTest own_tests[] = {
		cmocka_unit_test(sigterm_finishes_the_request_in_flight_then_exits_zero),
		cmocka_unit_test(state_survives_kill_9_and_restart),
		cmocka_unit_test(key_rotation_publishes_both_keys_and_signs_with_the_new_one),
		cmocka_unit_test(body_trickling_past_the_timeout_is_408),
		cmocka_unit_test(help_version_and_bad_flags),
		cmocka_unit_test(config_file_sets_options_and_flags_override_it),
	};
	int failed;

	signal(SIGPIPE, SIG_IGN); /* writes to a connection the server cut must fail, not kill the test */
	failed = cmocka_run_group_tests_name("attestd (shared server)", shared_tests, group_setup, group_teardown);

	failed += cmocka_run_group_tests_name("attestd (own server)", own_tests, NULL, NULL);
	return failed;
}
