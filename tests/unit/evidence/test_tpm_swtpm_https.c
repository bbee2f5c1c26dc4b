/*
 * The whole TPM protocol against a running attestd over HTTPS, with a real
 * software TPM (swtpm + tpm2-tools via tests/integration/tpm/swtpm.sh):
 * POST /attest/Tpm init -> challenge; tpm2_quote over it; POST the signed
 * request -> {"report": JWT}; the JWT verifies with /certs and carries the
 * TPM claims. Refused over HTTPS: a replayed request, a quote over another
 * nonce. Skips (saying so) when swtpm/tpm2-tools or the attestd binary are
 * absent. Labelled "integration".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../integration/harness.h"
#include "testutil.h"
#include "test_tpm_lib.h"

#include "base/codec.h"
#include "crypto/jose.h"
#include "devplat/tpm_ca.h"
#include "devplat/tpm_dev.h"
#include "evidence/tpm_protocol.h"

#include <openssl/pem.h>

struct fx {
	char dir[256], script[1024], roots[300];
	bool tpm_up, server_up;
	struct attestd_proc p;
	struct devplat_tpm_ca *ca;
	EVP_PKEY *aik, *req_key;
	uint8_t *aik_cert;
	size_t aik_cert_len;
	struct devplat_tcg_log log;
};

static int sh(const struct fx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sh(const struct fx *f, const char *fmt, ...)
{
	char args[2048], cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "bash '%s' %s", f->script, args);
	return system(cmd);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *src = getenv("ATTEST_SOURCE_DIR");
	struct devplat_boot boot = {.secure_boot = true, .vbs = true, .extra_events = 8};
	int64_t now = time(NULL);
	X509 *cert = NULL;
	unsigned char *der = NULL;
	char path[600];
	FILE *fp;
	int n;

	*state = f;
	if (system("command -v swtpm >/dev/null && command -v tpm2_quote >/dev/null") != 0) {
		fprintf(stderr, "SKIP: swtpm / tpm2-tools absent (scripts/setup.sh installs them)\n");
		return 0;
	}
	{
		char bin[1024];

		if (harness_binary(bin, sizeof(bin)) == NULL) {
			fprintf(stderr, "SKIP: attestd binary absent\n");
			return 0;
		}
	}
	snprintf(f->script, sizeof(f->script), "%s/tests/integration/tpm/swtpm.sh", src ? src : ".");
	snprintf(f->dir, sizeof(f->dir), "/tmp/attest-swtpm-https-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	if (sh(f, "start '%s'", f->dir) != 0)
		return -1;
	f->tpm_up = true;
	{
		size_t len = 0;
		uint8_t *p = test_read_vector(f->dir, "ak.pub", &len);
		TPMT_PUBLIC pub;

		assert_non_null(p);
		assert_int_equal(tpm_public_parse(p, len, &pub, NULL), 0);
		assert_int_equal(tpm_public_to_pkey(&pub, &f->aik, NULL), 0);
		free(p);
	}
	f->req_key = EVP_RSA_gen(2048);
	assert_int_equal(devplat_tpm_ca_new("AIK CA", now - 3600, now + 86400, &f->ca, NULL), 0);
	assert_int_equal(devplat_tpm_ca_issue(f->ca, f->aik, "swtpm AIK", now - 3600, now + 86400, &cert, NULL), 0);
	n = i2d_X509(cert, &der);
	f->aik_cert = malloc((size_t)n);
	memcpy(f->aik_cert, der, (size_t)n);
	f->aik_cert_len = (size_t)n;
	OPENSSL_free(der);
	X509_free(cert);
	snprintf(f->roots, sizeof(f->roots), "%s/aik-ca.pem", f->dir);
	fp = fopen(f->roots, "w");
	PEM_write_X509(fp, f->ca->cert);
	fclose(fp);
	/* the boot: a log, and its digests extended into the TPM */
	assert_int_equal(devplat_tcg_log_init(&f->log), 0);
	assert_int_equal(devplat_tcg_log_boot(&f->log, &boot), 0);
	snprintf(path, sizeof(path), "%s/extends", f->dir);
	fp = fopen(path, "w");
	for (size_t i = 0; i < f->log.n; i++) {
		char h1[41], h256[65];

		hex_encode_to(f->log.ext[i].sha1, 20, h1);
		hex_encode_to(f->log.ext[i].sha256, 32, h256);
		fprintf(fp, "%u %s %s\n", f->log.ext[i].pcr, h1, h256);
	}
	fclose(fp);
	assert_int_equal(sh(f, "extend '%s' '%s'", f->dir, path), 0);
	{
		const char *extra[] = {"--trust-roots", f->roots, NULL};

		if (attestd_start(&f->p, extra) != 0)
			return -1;
	}
	f->server_up = true;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->server_up) {
		attestd_stop(&f->p, SIGTERM);
		attestd_cleanup(&f->p);
	}
	if (f->tpm_up) {
		char cmd[600];

		sh(f, "stop '%s'", f->dir);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
		(void)!system(cmd);
		devplat_tcg_log_free(&f->log);
	}
	devplat_tpm_ca_free(f->ca);
	EVP_PKEY_free(f->aik);
	EVP_PKEY_free(f->req_key);
	free(f->aik_cert);
	free(f);
	return 0;
}

#define NEED_ALL(f)                                                                                \
	do {                                                                                       \
		if (!(f)->server_up) {                                                             \
			fprintf(stderr, "SKIP: no software TPM or no attestd\n");                  \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

/*
 * POSTs {"data": b64url(msg)} to <prefix>/attest/Tpm (prefix "" for the
 * default provider, "/providers/<name>" for another); returns the decoded
 * reply message (or NULL) and the status.
 */
static json_t *post_tpm_at(struct fx *f, const char *prefix, const char *msg, long *status, char **raw_body)
{
	const char *headers[] = {"Content-Type: application/json", NULL};
	char *b64 = b64url_encode((const uint8_t *)msg, strlen(msg));
	size_t bl = strlen(b64) + 16;
	char *body = malloc(bl);
	struct http_reply r;
	json_t *doc, *out = NULL;
	const char *data;
	uint8_t *raw = NULL;
	size_t len = 0;

	char path[160];

	snprintf(body, bl, "{\"data\":\"%s\"}", b64);
	snprintf(path, sizeof(path), "%s/attest/Tpm?api-version=2022-08-01", prefix);
	assert_int_equal(http_do(&f->p, "POST", path, headers, body, strlen(body), NULL, &r), 0);
	*status = r.status;
	if (raw_body)
		*raw_body = strdup(r.body);
	doc = http_json(&r);
	data = json_string_value(json_object_get(doc, "data"));
	if (r.status == 200 && data && b64_decode(data, strlen(data), &raw, &len) == 0)
		out = json_loadb((const char *)raw, len, 0, NULL);
	free(raw);
	json_decref(doc);
	http_reply_free(&r);
	free(body);
	free(b64);
	return out;
}

static json_t *post_tpm(struct fx *f, const char *msg, long *status, char **raw_body)
{
	return post_tpm_at(f, "", msg, status, raw_body);
}

struct round {
	char *challenge, *context, *msg;
	uint8_t *quote, *sig;
	size_t quote_len, sig_len;
	struct tpm_pcr_values pcrs;
};

static void round_free(struct round *r)
{
	free(r->challenge);
	free(r->context);
	free(r->msg);
	free(r->quote);
	free(r->sig);
}

static void read_pcrs(struct fx *f, struct tpm_pcr_values *out)
{
	char path[512], line[256];
	FILE *fp;

	memset(out, 0, sizeof(*out));
	assert_int_equal(sh(f, "pcrs '%s' '%s/pcrs.txt'", f->dir, f->dir), 0);
	snprintf(path, sizeof(path), "%s/pcrs.txt", f->dir);
	fp = fopen(path, "r");
	while (fp && fgets(line, sizeof(line), fp)) {
		unsigned idx;
		char hex[80];
		uint8_t d[32];

		if (sscanf(line, "%u %79s", &idx, hex) == 2 && tpm_test_hex(hex, d, 32) == 32)
			tpm_pcr_set(out, TPM_BANK_SHA256, idx, d, 32, NULL);
	}
	if (fp)
		fclose(fp);
}

/*
 * A Tpm policy that issues the TPM claims into the token (attestd, like MAA,
 * has no TPM default that does), PUT as an unsigned policy JWS
 * ({"alg":"none"}, {"AttestationPolicy": b64url(text)}). It permits only
 * when the events claim is there: attestd writes that text only for a
 * policy that reads it, and this one does.
 */
static void set_tpm_policy(struct fx *f)
{
	static const char text[] =
	    "version=1.2; authorizationrules { c:[type==\"events\", issuer==\"AttestationService\"] => permit(); };"
	    " issuancerules { "
	    "c:[type==\"aikValidated\", issuer==\"AttestationService\"] => issue(type=\"aikValidated\", value=c.value); "
	    "c:[type==\"secureBootEnabled\", issuer==\"AttestationService\"] => issue(type=\"secureBootEnabled\", value=c.value); "
	    "c:[type==\"bootDebuggingDisabled\", issuer==\"AttestationService\"] => issue(type=\"bootDebuggingDisabled\", value=c.value); "
	    "c:[type==\"vbsEnabled\", issuer==\"AttestationService\"] => issue(type=\"vbsEnabled\", value=c.value); };";
	char *pol = b64url_encode((const uint8_t *)text, strlen(text)), *payload, *pb64, *jws, auth[256];
	const char *headers[] = {auth, "Content-Type: text/plain", NULL};
	struct http_reply r;
	size_t n;

	n = strlen(pol) + 32;
	payload = malloc(n);
	snprintf(payload, n, "{\"AttestationPolicy\":\"%s\"}", pol);
	pb64 = b64url_encode((const uint8_t *)payload, strlen(payload));
	n = strlen(pb64) + 32;
	jws = malloc(n);
	snprintf(jws, n, "eyJhbGciOiJub25lIn0.%s.", pb64);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", f->p.admin);
	assert_int_equal(http_do(&f->p, "PUT", "/policies/Tpm?api-version=2020-10-01", headers, jws, strlen(jws),
				 NULL, &r),
			 0);
	if (r.status != 200 && r.status != 201)
		fail_msg("PUT /policies/Tpm: %ld %s", r.status, r.body);
	http_reply_free(&r);
	free(pol);
	free(payload);
	free(pb64);
	free(jws);
}

/* Leg 1 over HTTPS, the quote from the TPM, the signed request message. */
static void round_prepare(struct fx *f, struct round *r, const char *nonce_hex)
{
	long status = 0;
	json_t *m = post_tpm(f, "{\"type\":\"aikcert\"}", &status, NULL);
	uint8_t *ch = NULL;
	size_t chl = 0;
	char hex[2 * TPM_PROTO_CHALLENGE_LEN + 1];
	struct devplat_tpm_attestation cur;
	struct devplat_tpm_request rq;

	memset(r, 0, sizeof(*r));
	assert_int_equal(status, 200);
	assert_non_null(m);
	r->challenge = strdup(json_string_value(json_object_get(m, "challenge")));
	r->context = strdup(json_string_value(json_object_get(m, "service_context")));
	json_decref(m);
	assert_int_equal(b64_decode(r->challenge, strlen(r->challenge), &ch, &chl), 0);
	hex_encode_to(ch, chl, hex);
	free(ch);
	assert_int_equal(sh(f, "quote '%s' ak %s '%s/q'", f->dir, nonce_hex ? nonce_hex : hex, f->dir), 0);
	r->quote = test_read_vector(f->dir, "q.msg", &r->quote_len);
	r->sig = test_read_vector(f->dir, "q.sig", &r->sig_len);
	read_pcrs(f, &r->pcrs);
	cur = (struct devplat_tpm_attestation){.quote = r->quote, .quote_len = r->quote_len, .sig = r->sig,
					       .sig_len = r->sig_len, .pcrs = &r->pcrs, .log = f->log.log.p,
					       .log_len = f->log.log.len, .aik = f->aik,
					       .aik_cert_der = f->aik_cert, .aik_cert_len = f->aik_cert_len};
	rq = (struct devplat_tpm_request){.version = 2, .challenge = r->challenge, .service_context = r->context,
					  .rp_data = "cnAtbm9uY2U", .current = &cur, .request_key = f->req_key};
	assert_int_equal(devplat_tpm_request_build(&rq, &r->msg, NULL), 0);
}

static void swtpm_quote_gets_a_token_over_https(void **state)
{
	struct fx *f = *state;
	struct round r;
	long status = 0;
	char *body = NULL;
	json_t *reply, *claims = NULL, *certs;
	struct jws *jws = NULL;
	struct http_reply cr;
	const char *jwt;
	struct attest_err err;

	NEED_ALL(f);
	set_tpm_policy(f);
	round_prepare(f, &r, NULL);
	reply = post_tpm(f, r.msg, &status, &body);
	if (status != 200)
		fail_msg("TPM leg 2: %ld %s", status, body);
	jwt = json_string_value(json_object_get(reply, "report"));
	assert_non_null(jwt);
	/* the token verifies with the service's /certs */
	assert_int_equal(http_do(&f->p, "GET", "/certs", NULL, NULL, 0, NULL, &cr), 0);
	certs = http_json(&cr);
	attest_err_clear(&err);
	assert_int_equal(jws_parse(jwt, strlen(jwt), &jws, &err), 0);
	if (jws_verify_jwks(jws, certs, 0, &err) != 0)
		fail_msg("%s: %s", err.name, err.msg);
	assert_int_equal(jwt_claims(jws, &claims, NULL), 0);
	assert_true(json_is_true(json_object_get(claims, "aikValidated")));
	assert_true(json_is_true(json_object_get(claims, "secureBootEnabled")));
	assert_true(json_is_true(json_object_get(claims, "bootDebuggingDisabled")));
	assert_true(json_is_true(json_object_get(claims, "vbsEnabled")));
	assert_string_equal(json_string_value(json_object_get(claims, "x-ms-attestation-type")), "tpm");
	assert_string_equal(json_string_value(json_object_get(claims, "rp_data")), "cnAtbm9uY2U");
	assert_non_null(json_object_get(claims, "cnf"));
	json_decref(claims);
	jws_free(jws);
	json_decref(certs);
	http_reply_free(&cr);
	json_decref(reply);
	free(body);
	/* the same request again: the context was used */
	reply = post_tpm(f, r.msg, &status, &body);
	assert_int_equal(status, 400);
	assert_non_null(strstr(body, "tpm.context.replayed"));
	json_decref(reply);
	free(body);
	round_free(&r);
}

static void swtpm_quote_over_another_nonce_is_refused_over_https(void **state)
{
	struct fx *f = *state;
	struct round r;
	long status = 0;
	char *body = NULL;
	json_t *reply;

	NEED_ALL(f);
	round_prepare(f, &r, "0badc0de");
	reply = post_tpm(f, r.msg, &status, &body);
	assert_int_equal(status, 400);
	assert_non_null(strstr(body, "tpm.quote.nonce"));
	json_decref(reply);
	free(body);
	round_free(&r);
}

/*
 * A context from the default provider's init, sent to another provider's
 * endpoint, is refused there (tpm.context.provider: the route's provider
 * reaches the protocol), and is then redeemed where it was issued.
 */
static void context_is_refused_at_another_providers_endpoint(void **state)
{
	struct fx *f = *state;
	const char create[] = "{\"mode\":\"aad\"}";
	char auth[256], *body = NULL;
	const char *headers[] = {auth, "Content-Type: application/json", NULL};
	struct http_reply cr;
	struct round r;
	long status = 0;
	json_t *reply;

	NEED_ALL(f);
	set_tpm_policy(f);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", f->p.admin);
	assert_int_equal(http_do(&f->p, "PUT", "/management/providers/fleet-b?api-version=2022-08-01",
				 headers, create, strlen(create), NULL, &cr),
			 0);
	if (cr.status != 200 && cr.status != 201)
		fail_msg("PUT /management/providers/fleet-b: %ld %s", cr.status, cr.body);
	http_reply_free(&cr);
	round_prepare(f, &r, NULL);
	reply = post_tpm_at(f, "/providers/fleet-b", r.msg, &status, &body);
	assert_int_equal(status, 400);
	if (strstr(body, "tpm.context.provider") == NULL)
		fail_msg("at another provider: %s", body);
	json_decref(reply);
	free(body);
	reply = post_tpm(f, r.msg, &status, &body);
	if (status != 200)
		fail_msg("at the issuing provider: %ld %s", status, body);
	json_decref(reply);
	free(body);
	round_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(swtpm_quote_gets_a_token_over_https),
	    cmocka_unit_test(swtpm_quote_over_another_nonce_is_refused_over_https),
	    cmocka_unit_test(context_is_refused_at_another_providers_endpoint),
	};
	setenv("TSS2_LOG", "all+NONE", 1);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return rc;
}
