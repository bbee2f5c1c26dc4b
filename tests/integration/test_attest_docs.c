/*
 * docs/api.md is executable: every request example in it is sent, in
 * order, to a real attestd (HTTPS, a fresh data folder, the clock fixed at
 * the date of the real Intel collateral so the real quotes in the examples
 * verify), and every response example is checked against the answer. So
 * the API reference cannot drift from the server.
 *
 * The document's conventions (stated at its top):
 *  - a ```http block starting with a method is a request: request line,
 *    headers, blank line, body; the next ```http block starting with
 *    "HTTP/1.1 <status>" is its expected response (status, the headers
 *    listed, the body);
 *  - a ```json token-header / ```json token-claims block after a response
 *    describes the JWT in the response's "token" member (decoded);
 *  - in expected JSON, a string "<...>" matches any value; an object
 *    matches when it has exactly the listed members, or at least them when
 *    it lists "...": "<more>"; a header value "<...>" matches any value;
 *  - placeholders in requests, filled by this test: {{b64url:FILE}} (a
 *    vectors file, base64url), {{admin}} (the bootstrap credential),
 *    {{pem:NAME}} (a signer's certificate, JSON-escaped PEM),
 *    {{policy-jws:NAME:TEXT}} (TEXT as a policy JWS signed by NAME, or
 *    unsigned for NAME "none"; TEXT may be empty for a reset),
 *    {{cert-jws:SIGNER:SUBJECT}} (a certificate change signed by SIGNER
 *    naming SUBJECT's certificate).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "harness.h"

#include "base/buf.h"
#include "base/codec.h"
#include "crypto/jose.h"
#include "policy/policy.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#define OE_COLL	    "oe/openenclave-plugin-evidence-00906ed50000-2022-04-26"
#define OE_NOW	    "1651017600"
#define MAX_SIGNERS 3

struct signer {
	const char *name;
	EVP_PKEY *key;
	X509 *cert;
	char *key_pem, *cert_pem, *der_b64;
};

struct docs {
	struct attestd_proc srv;
	const char *vectors;
	struct signer signers[MAX_SIGNERS];
	char *text; /* docs/api.md */
	int examples;
};

static struct docs D;

/* ---- signers ------------------------------------------------------------------ */

static char *bio_text(BIO *b)
{
	char *p = NULL;
	long n = BIO_get_mem_data(b, &p);
	char *s = strndup(p, (size_t)n);

	BIO_free(b);
	return s;
}

static void signer_make(struct signer *s, const char *name)
{
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	BIO *b;
	unsigned char *der = NULL;
	int len;

	s->name = name;
	s->key = EVP_RSA_gen(2048);
	s->cert = X509_new();
	X509_set_version(s->cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(s->cert), 11);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)name, -1, -1, 0);
	X509_set_subject_name(s->cert, n);
	X509_set_issuer_name(s->cert, n);
	X509_NAME_free(n);
	X509_gmtime_adj(X509_getm_notBefore(s->cert), -86400L * 3650);
	X509_gmtime_adj(X509_getm_notAfter(s->cert), 86400L * 3650);
	X509_set_pubkey(s->cert, s->key);
	X509V3_set_ctx(&v3, s->cert, s->cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
	X509_add_ext(s->cert, ext, -1);
	X509_EXTENSION_free(ext);
	X509_sign(s->cert, s->key, EVP_sha256());
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, s->key, NULL, NULL, 0, NULL, NULL);
	s->key_pem = bio_text(b);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, s->cert);
	s->cert_pem = bio_text(b);
	len = i2d_X509(s->cert, &der);
	s->der_b64 = b64std_encode(der, (size_t)len);
	OPENSSL_free(der);
}

static void signer_free(struct signer *s)
{
	EVP_PKEY_free(s->key);
	X509_free(s->cert);
	free(s->key_pem);
	free(s->cert_pem);
	free(s->der_b64);
}

static struct signer *signer_find(const char *name, size_t len)
{
	for (int i = 0; i < MAX_SIGNERS; i++)
		if (strlen(D.signers[i].name) == len && strncmp(D.signers[i].name, name, len) == 0)
			return &D.signers[i];
	fail_msg("docs: unknown signer %.*s", (int)len, name);
	return NULL;
}

/* ---- placeholders ------------------------------------------------------------ */

static void append(struct buf *b, const char *p, size_t n)
{
	assert_int_equal(buf_append(b, p, n), 0);
}

static void append_str(struct buf *b, const char *s)
{
	append(b, s, strlen(s));
}

/* A JSON string's inside (no quotes) for s. */
static void append_json_escaped(struct buf *b, const char *s)
{
	json_t *v = json_string(s);
	char *t = json_dumps(v, JSON_ENCODE_ANY);

	append(b, t + 1, strlen(t) - 2);
	free(t);
	json_decref(v);
}

static void fill_one(struct buf *out, const char *ph, size_t n)
{
	if (n > 7 && strncmp(ph, "b64url:", 7) == 0) {
		char rel[512];
		size_t len = 0;
		unsigned char *data;
		char *enc;
		char path[1024];
		FILE *f;

		snprintf(rel, sizeof(rel), "%.*s", (int)(n - 7), ph + 7);
		snprintf(path, sizeof(path), "%s/%s", D.vectors, rel);
		f = fopen(path, "rb");
		if (f == NULL)
			fail_msg("docs: no vector %s", rel);
		data = malloc(1 << 20);
		len = fread(data, 1, 1 << 20, f);
		fclose(f);
		enc = b64url_encode(data, len);
		append_str(out, enc);
		free(enc);
		free(data);
	} else if (n == 5 && strncmp(ph, "admin", 5) == 0) {
		append_str(out, D.srv.admin);
	} else if (n > 4 && strncmp(ph, "pem:", 4) == 0) {
		append_json_escaped(out, signer_find(ph + 4, n - 4)->cert_pem);
	} else if (n > 11 && strncmp(ph, "policy-jws:", 11) == 0) {
		const char *name = ph + 11, *colon = memchr(name, ':', n - 11);
		char *text, *jws = NULL;
		struct attest_err err;

		assert_non_null(colon);
		text = strndup(colon + 1, (size_t)(ph + n - colon - 1));
		attest_err_clear(&err);
		if ((size_t)(colon - name) == 4 && strncmp(name, "none", 4) == 0) {
			assert_int_equal(policy_jws_unsigned(text[0] ? text : NULL, strlen(text), &jws, &err),
					 0);
		} else {
			struct signer *s = signer_find(name, (size_t)(colon - name));

			assert_int_equal(policy_jws_signed(text[0] ? text : NULL, strlen(text), s->key_pem,
							   s->cert_pem, &jws, &err),
					 0);
		}
		append_str(out, jws);
		free(jws);
		free(text);
	} else if (n > 9 && strncmp(ph, "cert-jws:", 9) == 0) {
		const char *a = ph + 9, *colon = memchr(a, ':', n - 9);
		struct signer *by, *subject;
		json_t *hdr, *payload;
		struct jws_signer *js = NULL;
		char *text, *jws = NULL;

		assert_non_null(colon);
		by = signer_find(a, (size_t)(colon - a));
		subject = signer_find(colon + 1, (size_t)(ph + n - colon - 1));
		hdr = json_pack("{s:[s]}", "x5c", by->der_b64);
		payload =
		    json_pack("{s:{s:s, s:[s]}}", "policyCertificate", "kty", "RSA", "x5c", subject->der_b64);
		text = json_dumps(payload, JSON_COMPACT);
		assert_int_equal(jws_signer_new(by->key, JWS_ALG_RS256, hdr, &js, NULL), 0);
		assert_int_equal(jws_sign(js, text, strlen(text), &jws, NULL), 0);
		append_str(out, jws);
		free(jws);
		free(text);
		jws_signer_free(js);
		json_decref(hdr);
		json_decref(payload);
	} else {
		fail_msg("docs: unknown placeholder {{%.*s}}", (int)n, ph);
	}
}

/* text with every {{...}} filled (malloc'd). */
static char *fill(const char *text, size_t len)
{
	struct buf out;
	const char *p = text, *end = text + len;

	buf_init(&out, 8u << 20);
	while (p < end) {
		const char *open = strstr(p, "{{"), *close;

		if (open == NULL || open >= end) {
			append(&out, p, (size_t)(end - p));
			break;
		}
		close = strstr(open + 2, "}}");
		assert_non_null(close);
		append(&out, p, (size_t)(open - p));
		fill_one(&out, open + 2, (size_t)(close - open - 2));
		p = close + 2;
	}
	return (char *)buf_steal(&out, &len);
}

/* ---- templates ------------------------------------------------------------- */

static bool is_wild(const json_t *t)
{
	const char *s = json_string_value(t);
	size_t n = s ? strlen(s) : 0;

	return n >= 2 && s[0] == '<' && s[n - 1] == '>';
}

/* Does v match template t? On mismatch, path says where. */
static bool json_match(const json_t *t, const json_t *v, char *path, size_t cap)
{
	if (is_wild(t))
		return v != NULL;
	if (v == NULL)
		return false;
	if (json_is_object(t)) {
		const char *k;
		json_t *tv;
		bool open = json_object_get(t, "...") != NULL;
		size_t plen = strlen(path);

		if (!json_is_object(v))
			return false;
		json_object_foreach((json_t *)t, k, tv)
		{
			if (strcmp(k, "...") == 0)
				continue;
			snprintf(path + plen, cap - plen, ".%s", k);
			if (!json_match(tv, json_object_get(v, k), path, cap))
				return false;
		}
		json_object_foreach((json_t *)v, k, tv)
		{
			if (!open && json_object_get(t, k) == NULL) {
				snprintf(path + plen, cap - plen, ".%s (not in the example)", k);
				return false;
			}
		}
		path[plen] = '\0';
		return true;
	}
	if (json_is_array(t)) {
		size_t i;
		json_t *e;

		if (!json_is_array(v) || json_array_size(v) != json_array_size(t))
			return false;
		json_array_foreach(t, i, e)
		{
			if (!json_match(e, json_array_get(v, i), path, cap))
				return false;
		}
		return true;
	}
	return json_equal(t, v);
}

static void expect_json(const char *what, const char *tmpl, size_t len, const json_t *v)
{
	json_error_t e;
	json_t *t = json_loadb(tmpl, len, 0, &e);
	char path[512] = "$";

	if (t == NULL)
		fail_msg("docs example %d: %s example is not JSON: %s (line %d)", D.examples, what, e.text,
			 e.line);
	if (!json_match(t, v, path, sizeof(path))) {
		char *got = json_dumps(v, JSON_INDENT(1));

		fail_msg("docs example %d: %s differs at %s; got:\n%s", D.examples, what, path, got);
	}
	json_decref(t);
}

/* ---- the document ----------------------------------------------------------- */

struct block {
	char info[64];
	const char *body;
	size_t len;
};

/* The next fenced block at or after *pos. */
static bool next_block(const char **pos, struct block *b)
{
	const char *p = *pos, *open, *nl, *close;

	while ((open = strstr(p, "```")) != NULL) {
		if (open != D.text && open[-1] != '\n') {
			p = open + 3;
			continue;
		}
		nl = strchr(open, '\n');
		if (nl == NULL)
			return false;
		snprintf(b->info, sizeof(b->info), "%.*s", (int)(nl - open - 3), open + 3);
		close = strstr(nl + 1, "\n```");
		if (close == NULL)
			return false;
		b->body = nl + 1;
		b->len = (size_t)(close + 1 - b->body);
		*pos = close + 4;
		return true;
	}
	return false;
}

struct sent {
	struct http_reply r;
	json_t *json;
};

static void send_request(const struct block *b, struct sent *s)
{
	char *req = fill(b->body, b->len), *line_end, *body, method[16], path[1024];
	const char *headers[16];
	char *hdr_store[16];
	int nh = 0;
	char *p;

	line_end = strchr(req, '\n');
	assert_non_null(line_end);
	*line_end = '\0';
	assert_int_equal(sscanf(req, "%15s %1023s", method, path), 2);
	p = line_end + 1;
	while (*p != '\0' && *p != '\n') {
		char *e = strchr(p, '\n');

		if (e)
			*e = '\0';
		assert_true(nh < 15);
		hdr_store[nh] = strdup(p);
		headers[nh] = hdr_store[nh];
		nh++;
		p = e ? e + 1 : p + strlen(p);
	}
	headers[nh] = NULL;
	body = *p == '\n' ? p + 1 : p;
	{
		size_t blen = strlen(body);

		while (blen > 0 && body[blen - 1] == '\n')
			body[--blen] = '\0';
		assert_int_equal(
		    http_do(&D.srv, method, path, headers, blen ? body : NULL, blen, NULL, &s->r), 0);
	}
	s->json = http_json(&s->r);
	for (int i = 0; i < nh; i++)
		free(hdr_store[i]);
	free(req);
}

static void check_response(const struct block *b, const struct sent *s)
{
	long status = 0;
	const char *p = b->body, *end = b->body + b->len, *body;

	assert_int_equal(sscanf(p, "HTTP/1.1 %ld", &status), 1);
	if (s->r.status != status)
		fail_msg("docs example %d: status %ld, the example says %ld: %s", D.examples, s->r.status,
			 status, s->r.body);
	p = strchr(p, '\n') + 1;
	while (p < end && *p != '\n') {
		const char *e = memchr(p, '\n', (size_t)(end - p)), *colon = memchr(p, ':', (size_t)(e - p));
		char name[128], want[512], got[1024];

		assert_non_null(colon);
		snprintf(name, sizeof(name), "%.*s", (int)(colon - p), p);
		snprintf(want, sizeof(want), "%.*s", (int)(e - colon - 2), colon + 2);
		if (!http_header(&s->r, name, got, sizeof(got)))
			fail_msg("docs example %d: no %s header", D.examples, name);
		if (!(want[0] == '<' && want[strlen(want) - 1] == '>') && strcasecmp(want, got) != 0)
			fail_msg("docs example %d: %s is \"%s\", the example says \"%s\"", D.examples, name,
				 got, want);
		p = e + 1;
	}
	body = p < end ? p + 1 : end;
	if (body < end && end - body > 1) {
		if (s->json == NULL)
			fail_msg("docs example %d: the answer is not JSON: %s", D.examples, s->r.body);
		expect_json("response body", body, (size_t)(end - body), s->json);
	}
}

static void check_token(const struct block *b, const struct sent *s, bool header)
{
	const char *tok = json_string_value(json_object_get(s->json, "token"));
	json_t *h = NULL, *c = NULL;
	struct jws *j = NULL;

	assert_non_null(tok);
	assert_int_equal(jws_parse(tok, strlen(tok), &j, NULL), 0);
	h = json_incref(j->header);
	assert_int_equal(jwt_claims(j, &c, NULL), 0);
	expect_json(header ? "token header" : "token claims", b->body, b->len, header ? h : c);
	json_decref(h);
	json_decref(c);
	jws_free(j);
}

static void api_md_examples_hold_against_the_server(void **state)
{
	const char *pos = D.text;
	struct block b;
	struct sent s = {0};
	bool have = false;

	while (next_block(&pos, &b)) {
		if (strcmp(b.info, "http") == 0 && strncmp(b.body, "HTTP/1.1 ", 9) != 0) {
			if (have) {
				http_reply_free(&s.r);
				json_decref(s.json);
			}
			D.examples++;
			send_request(&b, &s);
			have = true;
		} else if (strcmp(b.info, "http") == 0) {
			assert_true(have);
			check_response(&b, &s);
		} else if (strcmp(b.info, "json token-header") == 0) {
			check_token(&b, &s, true);
		} else if (strcmp(b.info, "json token-claims") == 0) {
			check_token(&b, &s, false);
		}
	}
	if (have) {
		http_reply_free(&s.r);
		json_decref(s.json);
	}
	fprintf(stderr, "docs/api.md: %d request examples checked\n", D.examples);
	assert_true(D.examples >= 20);
}

static int setup(void **state)
{
	const char *src = getenv("ATTEST_SOURCE_DIR");
	char path[1200], coll[1200];
	size_t len = 0;
	uint8_t *text = NULL;

	(void)state;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	D.vectors = test_vectors_dir();
	snprintf(path, sizeof(path), "%s/docs/api.md", src ? src : ".");
	if (D.vectors == NULL || file_read_all(path, 1u << 20, &text, &len) != 0)
		return -1;
	D.text = (char *)text;
	signer_make(&D.signers[0], "signer1");
	signer_make(&D.signers[1], "signer2");
	signer_make(&D.signers[2], "rogue");
	snprintf(coll, sizeof(coll), "%s/" OE_COLL, D.vectors);
	{
		const char *extra[] = {"--test-fixed-time", OE_NOW, "--collateral-dir", coll, NULL};

		return attestd_start(&D.srv, extra);
	}
}

static int teardown(void **state)
{
	(void)state;
	attestd_cleanup(&D.srv);
	for (int i = 0; i < MAX_SIGNERS; i++)
		signer_free(&D.signers[i]);
	free(D.text);
	curl_global_cleanup();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(api_md_examples_hold_against_the_server),
	};

	REQUIRE_VECTORS_OR_EXIT();
	return cmocka_run_group_tests(tests, setup, teardown);
}
