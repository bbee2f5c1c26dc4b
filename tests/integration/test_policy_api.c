/*
 * The policy and certificate endpoints of a real attestd over raw HTTPS
 * (maa-interface.md §1.4, §1.5, §2.8): every body form the reference lists,
 * result tokens checked against /certs, a policy that takes effect on the
 * next attestation, isolation (unsigned, untrusted, shared providers), and
 * a policy that survives kill -9.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "harness.h"

#include "base/codec.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"
#include "policy/policy.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#define JS_DIR	"maa-tokens/js-2022-01-28-sharedwus/exchanges"
#define OE_COLL "oe/openenclave-plugin-evidence-00906ed50000-2022-04-26"
#define OE_NOW	"1651017600"
#define V	"?api-version=2020-10-01"

/* A policy signer: key, self-signed CA certificate, and their PEM texts. */
struct signer {
	EVP_PKEY *key;
	X509 *cert;
	char *key_pem, *cert_pem;
	char *der_b64; /* standard base64 DER, as x5c carries it */
	char thumbprint[41];
};

static struct attestd_proc srv;
static struct signer s1, s2, rogue;
static char *sgx_body;

static char *bio_text(BIO *b)
{
	char *p = NULL;
	long n = BIO_get_mem_data(b, &p);
	char *s = strndup(p, (size_t)n);

	BIO_free(b);
	return s;
}

static void signer_make(struct signer *s, const char *cn)
{
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	BIO *b;
	unsigned char *der = NULL;
	uint8_t md[20];
	unsigned int mdlen = 0;
	int len;

	s->key = EVP_RSA_gen(2048);
	s->cert = X509_new();
	X509_set_version(s->cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(s->cert), 7);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(s->cert, n);
	X509_set_issuer_name(s->cert, n);
	X509_NAME_free(n);
	/* valid at the server's fixed 2022 clock as well as today */
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
	X509_digest(s->cert, EVP_sha1(), md, &mdlen);
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(s->thumbprint + 2 * i, 3, "%02X", md[i]);
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

static const char *auth_header(void)
{
	static char h[256];

	snprintf(h, sizeof(h), "Authorization: Bearer %s", srv.admin);
	return h;
}

static void request(const char *method, const char *path, const char *ctype, const char *body,
		    struct http_reply *r)
{
	char ct[128];
	const char *headers[] = {auth_header(), ct, NULL};

	snprintf(ct, sizeof(ct), "Content-Type: %s", ctype ? ctype : "text/plain");
	assert_int_equal(http_do(&srv, method, path, headers, body, body ? strlen(body) : 0, NULL, r), 0);
}

static void create_provider(const char *name, const char *mode, const struct signer *s)
{
	char path[128];
	json_t *body = s ? json_pack("{s:s, s:[s]}", "mode", mode, "policyCertificates", s->cert_pem)
			 : json_pack("{s:s}", "mode", mode);
	char *text = json_dumps(body, JSON_COMPACT);
	struct http_reply r;

	snprintf(path, sizeof(path), "/management/providers/%s", name);
	request("PUT", path, "application/json", text, &r);
	if (r.status != 201 && r.status != 200)
		fail_msg("create %s: %ld %s", name, r.status, r.body);
	http_reply_free(&r);
	free(text);
	json_decref(body);
}

static int group_setup(void **state)
{
	const char *vectors = test_vectors_dir();
	char coll[1200], path[2048];
	json_t *rec;

	(void)state;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (vectors == NULL)
		return -1;
	snprintf(coll, sizeof(coll), "%s/" OE_COLL, vectors);
	{
		const char *extra[] = {"--test-fixed-time", OE_NOW, "--collateral-dir", coll, NULL};

		if (attestd_start(&srv, extra) != 0)
			return -1;
	}
	signer_make(&s1, "policy signer 1");
	signer_make(&s2, "policy signer 2");
	signer_make(&rogue, "rogue signer");
	create_provider("iso", "isolated", &s1);
	create_provider("shared1", "shared", NULL);
	snprintf(path, sizeof(path), "%s/" JS_DIR "/03-attest-SgxEnclave-binary-runtime/request.json",
		 vectors);
	rec = json_load_file(path, 0, NULL);
	sgx_body = json_dumps(json_object_get(rec, "body"), JSON_COMPACT);
	json_decref(rec);
	return sgx_body ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	free(sgx_body);
	signer_free(&s1);
	signer_free(&s2);
	signer_free(&rogue);
	attestd_cleanup(&srv);
	curl_global_cleanup();
	return 0;
}

/* The claims of a {"token": jwt} answer living `lifetime` s, after checking its signature against /certs. */
static json_t *token_claims(const struct http_reply *r, int64_t lifetime)
{
	struct http_reply c;
	json_t *body = http_json(r), *jwks, *claims = NULL;
	const char *tok = json_string_value(json_object_get(body, "token"));
	struct jws *j = NULL;
	struct attest_err err;

	if (r->status != 200 || tok == NULL)
		fail_msg("expected a token, got %ld %s", r->status, r->body);
	assert_int_equal(http_do(&srv, "GET", "/certs", NULL, NULL, 0, NULL, &c), 0);
	jwks = http_json(&c);
	attest_err_clear(&err);
	assert_int_equal(jws_parse(tok, strlen(tok), &j, &err), 0);
	assert_int_equal(jws_verify_jwks(j, jwks, 0, &err), 0);
	assert_int_equal(jwt_claims(j, &claims, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(claims, "exp")) -
			     json_integer_value(json_object_get(claims, "iat")),
			 lifetime);
	jws_free(j);
	json_decref(jwks);
	json_decref(body);
	http_reply_free(&c);
	return claims;
}

/* Management results live one hour (§2.8). */
static json_t *result_claims(const struct http_reply *r)
{
	return token_claims(r, 3600);
}

static void assert_error(const struct http_reply *r, long status, const char *code)
{
	json_t *j = http_json(r);

	if (r->status != status)
		fail_msg("status %ld, want %ld: %s", r->status, status, r->body);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "code")), code);
	json_decref(j);
}

static char *unsigned_jws(const char *text)
{
	char *out = NULL;

	assert_int_equal(policy_jws_unsigned(text, strlen(text), &out, NULL), 0);
	return out;
}

static char *signed_jws(const char *text, const struct signer *s)
{
	char *out = NULL;
	struct attest_err err;

	attest_err_clear(&err);
	if (policy_jws_signed(text, text ? strlen(text) : 0, s->key_pem, s->cert_pem, &out, &err) != 0)
		fail_msg("%s: %s", err.name, err.msg);
	return out;
}

/* The text of the policy GET returns (decoding its x-ms-policy JWS). */
static char *get_policy(const char *prefix, const char *type)
{
	char path[256];
	struct http_reply r;
	json_t *claims;
	struct policy_jws *j = NULL;
	const char *jws;
	char *text;

	snprintf(path, sizeof(path), "%s/policies/%s" V, prefix, type);
	request("GET", path, NULL, NULL, &r);
	claims = result_claims(&r);
	jws = json_string_value(json_object_get(claims, "x-ms-policy"));
	assert_non_null(jws);
	assert_int_equal(policy_jws_parse(jws, strlen(jws), 0, &j, NULL), 0);
	text = strdup(j->text);
	policy_jws_free(j);
	json_decref(claims);
	http_reply_free(&r);
	return text;
}

static const char DENY_ALL[] =
    "version=1.0; authorizationrules { [type==\"x-ms-sgx-svn\", value > 1000] => permit(); }; "
    "issuancerules { };";
static const char ISSUE_ONE[] = "version=1.0; authorizationrules { => permit(); }; issuancerules { "
				"=> issue(type=\"from-policy\", value=\"yes\"); };";

static long attest_status(const char *prefix, json_t **claims)
{
	char path[256];
	const char *headers[] = {"Content-Type: application/json", NULL};
	struct http_reply r;
	long st;

	snprintf(path, sizeof(path), "%s/attest/SgxEnclave" V, prefix);
	assert_int_equal(http_do(&srv, "POST", path, headers, sgx_body, strlen(sgx_body), NULL, &r), 0);
	st = r.status;
	if (claims != NULL)
		*claims = st == 200 ? token_claims(&r, 28800) : NULL;
	http_reply_free(&r);
	return st;
}

/* PUT: result claims of §2.8, and the next attestation evaluates the new policy. */
static void set_policy_takes_effect_on_the_next_attestation(void **state)
{
	char *jws = unsigned_jws(DENY_ALL), hash[POLICY_HASH_B64_LEN + 1];
	struct http_reply r;
	json_t *claims;

	request("PUT", "/policies/SgxEnclave" V, "text/plain", jws, &r);
	claims = result_claims(&r);
	assert_string_equal(json_string_value(json_object_get(claims, "x-ms-policy-result")), "Updated");
	assert_int_equal(policy_token_hash(jws, strlen(jws), hash), 0);
	assert_string_equal(json_string_value(json_object_get(claims, "x-ms-policy-token-hash")), hash);
	assert_null(json_object_get(claims, "x-ms-policy-signer"));
	json_decref(claims);
	http_reply_free(&r);
	assert_int_equal(attest_status("", NULL), 400);
	/* reset: the default policy attests again */
	request("POST", "/policies/SgxEnclave:reset" V, "text/plain", "eyJhbGciOiJub25lIn0..", &r);
	claims = result_claims(&r);
	assert_string_equal(json_string_value(json_object_get(claims, "x-ms-policy-result")), "Removed");
	json_decref(claims);
	http_reply_free(&r);
	assert_int_equal(attest_status("", NULL), 200);
	free(jws);
}

/* AAD providers accept raw policy text and a JSON-quoted JWS (§1.4, §6 item 6). */
static void aad_accepts_raw_text_and_quoted_jws(void **state)
{
	char *jws = unsigned_jws(ISSUE_ONE), *quoted = NULL, *got;
	struct http_reply r;
	json_t *claims = NULL;

	request("PUT", "/policies/OpenEnclave" V, "text/plain", ISSUE_ONE, &r);
	assert_int_equal(r.status, 200);
	http_reply_free(&r);
	got = get_policy("", "OpenEnclave");
	assert_string_equal(got, ISSUE_ONE);
	free(got);
	assert_true(asprintf(&quoted, "\"%s\"", jws) > 0);
	request("PUT", "/policies/SgxEnclave" V, "application/json", quoted, &r);
	assert_int_equal(r.status, 200);
	http_reply_free(&r);
	assert_int_equal(attest_status("", &claims), 200);
	assert_string_equal(json_string_value(json_object_get(claims, "from-policy")), "yes");
	json_decref(claims);
	request("POST", "/policies/SgxEnclave:reset" V, "text/plain", "", &r);
	assert_int_equal(r.status, 200);
	http_reply_free(&r);
	free(quoted);
	free(jws);
}

static void malformed_policy_bodies_are_refused(void **state)
{
	struct http_reply r;
	char *jws = unsigned_jws("version=1.0; authorizationrules { => permit() };");

	/* not a JWS: AAD providers read it as policy text (which does not parse) ... */
	request("PUT", "/policies/SgxEnclave" V, "text/plain", "eyJhbGciOiJub25lIn0.!!!.", &r);
	assert_error(&r, 400, "PolicyParsingError");
	http_reply_free(&r);
	/* ... isolated providers take JWS only */
	request("PUT", "/providers/iso/policies/SgxEnclave" V, "text/plain", "eyJhbGciOiJub25lIn0.!!!.", &r);
	assert_error(&r, 400, "InvalidOperation");
	http_reply_free(&r);
	request("PUT", "/policies/SgxEnclave" V, "text/plain", jws, &r);
	assert_error(&r, 400, "PolicyParsingError");
	http_reply_free(&r);
	request("PUT", "/policies/SgxEnclave" V, "text/plain", "eyJhbGciOiJub25lIn0..", &r);
	assert_error(&r, 400, "InvalidOperation"); /* an empty payload is a reset, not a policy */
	http_reply_free(&r);
	{
		char *nonempty = unsigned_jws(ISSUE_ONE);

		request("POST", "/policies/SgxEnclave:reset" V, "text/plain", nonempty, &r);
		assert_error(&r, 400, "InvalidOperation");
		http_reply_free(&r);
		free(nonempty);
	}
	request("PUT", "/policies/NotAType" V, "text/plain", jws, &r);
	assert_error(&r, 400, "InvalidParameter");
	http_reply_free(&r);
	free(jws);
	/* a TCB baseline GET /tcbbaselines does not list would refuse every SGX attestation: refused at PUT */
	request("PUT", "/policies/SgxEnclave" V, "text/plain",
		"version=1.2; configurationrules { => issueproperty(type=\"x-ms-sgx-tcbidentifier\", value=\"17\"); };"
		" authorizationrules { => permit(); }; issuancerules { };",
		&r);
	assert_error(&r, 400, "InvalidParameter");
	assert_non_null(strstr(r.body, "policy.config.tcbidentifier"));
	http_reply_free(&r);
	request("PUT", "/policies/OpenEnclave" V, "text/plain",
		"version=1.2; configurationrules { => issueproperty(type=\"x-ms-sgx-tcbidentifier\", value=\"15\"); };"
		" authorizationrules { => permit(); }; issuancerules { };",
		&r);
	assert_int_equal(r.status, 200);
	http_reply_free(&r);
	request("POST", "/policies/OpenEnclave:reset" V, "text/plain", "", &r);
	assert_int_equal(r.status, 200);
	http_reply_free(&r);
}

static void policy_writes_need_a_credential(void **state)
{
	struct http_reply r;
	char *jws = unsigned_jws(ISSUE_ONE);

	assert_int_equal(http_do(&srv, "PUT", "/policies/SgxEnclave" V, NULL, jws, strlen(jws), NULL, &r), 0);
	assert_int_equal(r.status, 401);
	http_reply_free(&r);
	assert_int_equal(http_do(&srv, "POST", "/certificates:add" V, NULL, "\"x\"", 3, NULL, &r), 0);
	assert_int_equal(r.status, 401);
	http_reply_free(&r);
	free(jws);
}

static void shared_providers_keep_their_defaults(void **state)
{
	struct http_reply r;
	char *jws = unsigned_jws(ISSUE_ONE), *text;

	request("PUT", "/providers/shared1/policies/SgxEnclave" V, "text/plain", jws, &r);
	assert_error(&r, 400, "InvalidOperation");
	http_reply_free(&r);
	text = get_policy("/providers/shared1", "SgxEnclave");
	assert_string_equal(text, policy_default_text("SgxEnclave"));
	free(text);
	free(jws);
}

/* A JWS over payload signed by s with its certificate in x5c. */
static char *jws_by(const struct signer *s, const char *payload)
{
	json_t *hdr = json_pack("{s:[s]}", "x5c", s->der_b64);
	struct jws_signer *js = NULL;
	char *out = NULL;

	assert_int_equal(jws_signer_new(s->key, JWS_ALG_RS256, hdr, &js, NULL), 0);
	assert_int_equal(jws_sign(js, payload, strlen(payload), &out, NULL), 0);
	jws_signer_free(js);
	json_decref(hdr);
	return out;
}

/* {"<member>": {"kty":"RSA","x5c":[<cert>]}} */
static char *cert_payload(const char *member, const struct signer *s)
{
	json_t *p = json_pack("{s:{s:s, s:[s]}}", member, "kty", "RSA", "x5c", s->der_b64);
	char *text = json_dumps(p, JSON_COMPACT);

	json_decref(p);
	return text;
}

static json_t *cert_change(const char *op, const char *body, long want_status)
{
	char path[128];
	struct http_reply r;
	json_t *claims = NULL;

	snprintf(path, sizeof(path), "/providers/iso/certificates:%s" V, op);
	request("POST", path, "application/json", body, &r);
	if (r.status != want_status)
		fail_msg("%s: %ld %s", op, r.status, r.body);
	if (want_status == 200)
		claims = result_claims(&r);
	http_reply_free(&r);
	return claims;
}

/* Every body form (§1.5): a JSON string, an object, the bare JWS; every payload member name. */
static void certificate_changes_accept_every_body_form(void **state)
{
	char *payload = cert_payload("policyCertificate", &s2), *jws = jws_by(&s1, payload), *quoted = NULL,
	     *object = NULL;
	json_t *claims;

	assert_true(asprintf(&quoted, "\"%s\"", jws) > 0);
	claims = cert_change("add", quoted, 200);
	assert_string_equal(json_string_value(json_object_get(claims, "x-ms-policycertificates-result")),
			    "IsPresent");
	assert_string_equal(json_string_value(json_object_get(claims, "x-ms-certificate-thumbprint")),
			    s2.thumbprint);
	json_decref(claims);
	claims = cert_change("add", jws, 200); /* bare, and idempotent */
	assert_string_equal(json_string_value(json_object_get(claims, "x-ms-policycertificates-result")),
			    "IsPresent");
	json_decref(claims);
	assert_true(asprintf(&object, "{\"policyCertificateToRemove\":\"%s\"}", jws) > 0);
	claims = cert_change("remove", object, 200);
	assert_string_equal(json_string_value(json_object_get(claims, "x-ms-policycertificates-result")),
			    "IsAbsent");
	json_decref(claims);
	claims = cert_change("remove", object, 200);
	assert_string_equal(json_string_value(json_object_get(claims, "x-ms-policycertificates-result")),
			    "IsAbsent");
	json_decref(claims);
	free(payload);
	free(jws);
	free(quoted);
	free(object);
	/* the other two payload member names */
	{
		static const char *const members[] = {"maa-policyCertificate", "x-ms-policyCertificate"};

		for (size_t i = 0; i < 2; i++) {
			char *p = cert_payload(members[i], &s2), *j = jws_by(&s1, p);

			claims = cert_change(i == 0 ? "add" : "remove", j, 200);
			assert_string_equal(
			    json_string_value(json_object_get(claims, "x-ms-policycertificates-result")),
			    i == 0 ? "IsPresent" : "IsAbsent");
			json_decref(claims);
			free(p);
			free(j);
		}
	}
}

static void certificate_changes_need_a_trusted_signer(void **state)
{
	char *payload = cert_payload("policyCertificate", &rogue), *jws = jws_by(&rogue, payload),
	     *none = NULL, *last = cert_payload("policyCertificate", &s1), *last_jws = jws_by(&s1, last);
	struct http_reply r;

	cert_change("add", jws, 400);
	/* an unsigned change */
	assert_true(asprintf(&none, "eyJhbGciOiJub25lIn0.%s.", "e30") > 0);
	cert_change("add", none, 400);
	/* the last signer stays */
	cert_change("remove", last_jws, 400);
	request("GET", "/providers/iso/certificates" V, NULL, NULL, &r);
	{
		json_t *claims = result_claims(&r);
		json_t *keys = json_object_get(json_object_get(claims, "x-ms-policy-certificates"), "keys");

		assert_int_equal(json_array_size(keys), 1);
		assert_string_equal(
		    json_string_value(json_array_get(json_object_get(json_array_get(keys, 0), "x5c"), 0)),
		    s1.der_b64);
		json_decref(claims);
	}
	http_reply_free(&r);
	free(payload);
	free(jws);
	free(none);
	free(last);
	free(last_jws);
}

static void isolated_provider_takes_only_trusted_signed_policies(void **state)
{
	char *unsigned_p = unsigned_jws(ISSUE_ONE), *rogue_p = signed_jws(ISSUE_ONE, &rogue),
	     *good = signed_jws(ISSUE_ONE, &s1), *reset = signed_jws(NULL, &s1), *text;
	struct http_reply r;
	json_t *claims;

	request("PUT", "/providers/iso/policies/SgxEnclave" V, "text/plain", ISSUE_ONE, &r); /* raw text */
	assert_error(&r, 400, "InvalidOperation");
	http_reply_free(&r);
	request("PUT", "/providers/iso/policies/SgxEnclave" V, "text/plain", unsigned_p, &r);
	assert_error(&r, 400, "InvalidOperation");
	http_reply_free(&r);
	request("PUT", "/providers/iso/policies/SgxEnclave" V, "text/plain", rogue_p, &r);
	assert_error(&r, 400, "InvalidOperation");
	http_reply_free(&r);
	text = get_policy("/providers/iso", "SgxEnclave");
	assert_string_equal(text, policy_default_text("SgxEnclave")); /* nothing changed */
	free(text);
	request("PUT", "/providers/iso/policies/SgxEnclave" V, "text/plain", good, &r);
	claims = result_claims(&r);
	assert_string_equal(json_string_value(json_object_get(claims, "x-ms-policy-result")), "Updated");
	assert_string_equal(json_string_value(json_array_get(
				json_object_get(json_object_get(claims, "x-ms-policy-signer"), "x5c"), 0)),
			    s1.der_b64);
	json_decref(claims);
	http_reply_free(&r);
	/* the stored JWS comes back as uploaded, with its signer */
	request("GET", "/providers/iso/policies/SgxEnclave" V, NULL, NULL, &r);
	claims = result_claims(&r);
	assert_string_equal(json_string_value(json_object_get(claims, "x-ms-policy")), good);
	assert_non_null(json_object_get(claims, "x-ms-policy-signer"));
	json_decref(claims);
	http_reply_free(&r);
	/* the provider's attestations carry the signer */
	{
		json_t *ac = NULL;

		assert_int_equal(attest_status("/providers/iso", &ac), 200);
		assert_non_null(json_object_get(ac, "x-ms-policy-signer"));
		assert_string_equal(json_string_value(json_object_get(ac, "from-policy")), "yes");
		char iss[256];

		snprintf(iss, sizeof(iss), "%s/providers/iso", srv.base);
		assert_string_equal(json_string_value(json_object_get(ac, "iss")), iss);
		json_decref(ac);
	}
	request("POST", "/providers/iso/policies/SgxEnclave:reset" V, "text/plain", "eyJhbGciOiJub25lIn0..",
		&r);
	assert_error(&r, 400, "InvalidOperation");
	http_reply_free(&r);
	request("POST", "/providers/iso/policies/SgxEnclave:reset" V, "text/plain", reset, &r);
	assert_int_equal(r.status, 200);
	http_reply_free(&r);
	free(unsigned_p);
	free(rogue_p);
	free(good);
	free(reset);
}

/* An acknowledged policy survives kill -9 and a restart (issue 9, persistence). */
static void acknowledged_policy_survives_kill_9(void **state)
{
	const char *vectors = test_vectors_dir();
	char coll[1200], *jws = unsigned_jws(ISSUE_ONE), *text;
	struct http_reply r;

	request("PUT", "/policies/TdxVm" V, "text/plain", jws, &r);
	assert_int_equal(r.status, 200);
	http_reply_free(&r);
	assert_int_equal(attestd_stop(&srv, SIGKILL), -1);
	snprintf(coll, sizeof(coll), "%s/" OE_COLL, vectors);
	{
		const char *extra[] = {"--test-fixed-time", OE_NOW, "--collateral-dir", coll, NULL};

		assert_int_equal(attestd_launch(&srv, extra), 0);
	}
	text = get_policy("", "TdxVm");
	assert_string_equal(text, ISSUE_ONE);
	free(text);
	free(jws);
}

/* POST /attest/SgxEnclave on node p: the status. */
static long attest_on(const struct attestd_proc *p)
{
	const char *headers[] = {"Content-Type: application/json", NULL};
	struct http_reply r;
	long st;

	assert_int_equal(
	    http_do(p, "POST", "/attest/SgxEnclave" V, headers, sgx_body, strlen(sgx_body), NULL, &r), 0);
	st = r.status;
	http_reply_free(&r);
	return st;
}

/*
 * Two nodes on one store: a policy set through one is in force on the other
 * within a second (each node keeps provider policies for at most 1 s).
 */
static void policy_set_on_one_node_is_enforced_by_another_within_a_second(void **state)
{
	const char *vectors = test_vectors_dir();
	char coll[1200], store[700], kek[700], auth[256];
	struct attestd_proc b;
	char *deny = unsigned_jws(DENY_ALL);
	const char *headers[] = {auth, "Content-Type: text/plain", NULL};
	struct http_reply r;

	snprintf(coll, sizeof(coll), "%s/" OE_COLL, vectors);
	snprintf(store, sizeof(store), "sqlite:%s/attestd.db", srv.data);
	snprintf(kek, sizeof(kek), "%s/kek.bin", srv.data);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", srv.admin);
	assert_int_equal(attestd_prepare(&b), 0);
	{
		const char *extra[] = {"--test-fixed-time",
				       OE_NOW,
				       "--collateral-dir",
				       coll,
				       "--store",
				       store,
				       "--kek",
				       kek,
				       NULL};

		assert_int_equal(attestd_launch(&b, extra), 0);
	}
	assert_int_equal(attest_on(&b), 200); /* node b now holds the default policy */
	assert_int_equal(
	    http_do(&srv, "PUT", "/policies/SgxEnclave" V, headers, deny, strlen(deny), NULL, &r), 0);
	assert_int_equal(r.status, 200);
	http_reply_free(&r);
	assert_int_equal(attest_on(&srv), 400); /* the writing node at once */
	harness_sleep_ms(1300);
	assert_int_equal(attest_on(&b), 400); /* the other within a second */
	assert_int_equal(http_do(&srv, "POST", "/policies/SgxEnclave:reset" V, headers,
				 "eyJhbGciOiJub25lIn0..", 21, NULL, &r),
			 0);
	assert_int_equal(r.status, 200);
	http_reply_free(&r);
	harness_sleep_ms(1300);
	assert_int_equal(attest_on(&b), 200);
	assert_int_equal(attestd_stop(&b, SIGTERM), 0);
	attestd_cleanup(&b);
	free(deny);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(set_policy_takes_effect_on_the_next_attestation),
	    cmocka_unit_test(aad_accepts_raw_text_and_quoted_jws),
	    cmocka_unit_test(malformed_policy_bodies_are_refused),
	    cmocka_unit_test(policy_writes_need_a_credential),
	    cmocka_unit_test(shared_providers_keep_their_defaults),
	    cmocka_unit_test(certificate_changes_accept_every_body_form),
	    cmocka_unit_test(certificate_changes_need_a_trusted_signer),
	    cmocka_unit_test(isolated_provider_takes_only_trusted_signed_policies),
	    cmocka_unit_test(policy_set_on_one_node_is_enforced_by_another_within_a_second),
	    cmocka_unit_test(acknowledged_policy_survives_kill_9),
	};

	REQUIRE_VECTORS_OR_EXIT();
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
