/*
 * MAA TPM/VBS protocol (src/evidence/tpm_protocol*.c) end to end with the
 * synthetic platform of src/devplat/tpm_dev.c (a software-signed quote over
 * PCRs produced by a generated event log); the real-TPM version of these
 * flows is tests/integration/tpm.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "test_tpm_lib.h"

#include "base/codec.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"
#include "devplat/tpm_ca.h"
#include "devplat/tpm_dev.h"
#include "evidence/tpm_protocol.h"

#include <pthread.h>
#include <time.h>

#define T_NOW 1767225600 /* 2026-01-01 */

struct fixture {
	uint8_t key_bytes[TPM_PROTO_KEY_LEN];
	struct tpm_context_keys *key; /* the service's context keys (over key_bytes, the master) */
	struct tpm_seen_set *seen;
	struct tpm_proto_cfg cfg;
	struct devplat_tpm_ca *ca;
	STACK_OF(X509) *roots;
	EVP_PKEY *aik, *req_key, *vbs_key;
	uint8_t *aik_cert;
	size_t aik_cert_len;
	struct devplat_tcg_log log;
	struct tpm_pcr_values pcrs;
	char *challenge, *context;
	uint8_t *quote, *sig;
	size_t quote_len, sig_len;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct devplat_boot boot = {.secure_boot = true, .vbs = true, .extra_events = 4};
	X509 *cert = NULL;
	unsigned char *der = NULL;
	int n;

	memset(f->key_bytes, 0x42, sizeof(f->key_bytes));
	f->key = tpm_context_keys_new(f->key_bytes);
	assert_non_null(f->key);
	f->seen = tpm_seen_set_new(64);
	tpm_proto_cfg_defaults(&f->cfg);
	f->cfg.service_key = f->key;
	f->cfg.now = T_NOW;
	f->cfg.replay = tpm_seen_set_check;
	f->cfg.replay_arg = f->seen;
	f->aik = EVP_RSA_gen(2048);
	f->req_key = EVP_RSA_gen(2048);
	f->vbs_key = EVP_RSA_gen(2048);
	assert_int_equal(devplat_tpm_ca_new("AIK CA", T_NOW - 86400, T_NOW + 86400 * 30, &f->ca, NULL), 0);
	assert_int_equal(devplat_tpm_ca_issue(f->ca, f->aik, "AIK", T_NOW - 3600, T_NOW + 86400, &cert, NULL), 0);
	n = i2d_X509(cert, &der);
	f->aik_cert = malloc((size_t)n);
	memcpy(f->aik_cert, der, (size_t)n);
	f->aik_cert_len = (size_t)n;
	OPENSSL_free(der);
	X509_free(cert);
	f->roots = sk_X509_new_null();
	sk_X509_push(f->roots, f->ca->cert);
	f->cfg.aik_roots = f->roots;
	/* every request goes through the verified-chain and key cache, as in the server */
	f->cfg.aik_cache = tpm_aik_cache_new(16);
	assert_int_equal(devplat_tcg_log_init(&f->log), 0);
	assert_int_equal(devplat_tcg_log_boot(&f->log, &boot), 0);
	devplat_tcg_log_pcrs(&f->log, &f->pcrs);
	*state = f;
	return 0;
}

static void clear_round(struct fixture *f)
{
	free(f->challenge);
	free(f->context);
	free(f->quote);
	free(f->sig);
	f->challenge = f->context = NULL;
	f->quote = f->sig = NULL;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	clear_round(f);
	tpm_seen_set_free(f->seen);
	tpm_context_keys_free(f->key);
	tpm_aik_cache_free(f->cfg.aik_cache);
	sk_X509_free(f->roots);
	devplat_tpm_ca_free(f->ca);
	EVP_PKEY_free(f->aik);
	EVP_PKEY_free(f->req_key);
	EVP_PKEY_free(f->vbs_key);
	free(f->aik_cert);
	devplat_tcg_log_free(&f->log);
	free(f);
	return 0;
}

/* init: {"type":"aikcert"} -> challenge + context; then a quote over the challenge. */
static void round_start(struct fixture *f)
{
	struct tpm_proto_msg m;
	char *body = NULL;
	json_t *resp;
	uint8_t *ch = NULL;
	size_t chl = 0;
	const char *init = "{\"type\":\"aikcert\"}";

	clear_round(f);
	assert_int_equal(tpm_proto_msg_parse(init, strlen(init), &m, NULL), 0);
	assert_int_equal(m.kind, TPM_PROTO_INIT);
	assert_int_equal(tpm_proto_init(&f->cfg, &m, &body, NULL), 0);
	resp = json_loads(body, 0, NULL);
	f->challenge = strdup(json_string_value(json_object_get(resp, "challenge")));
	f->context = strdup(json_string_value(json_object_get(resp, "service_context")));
	assert_int_equal(b64_decode(f->challenge, strlen(f->challenge), &ch, &chl), 0);
	assert_int_equal(chl, TPM_PROTO_CHALLENGE_LEN);
	assert_int_equal(devplat_tpm_quote(f->aik, &f->pcrs, TPM_BANK_SHA256, 0xFFFFFF, ch, chl, &f->quote,
					   &f->quote_len, &f->sig, &f->sig_len, NULL),
			 0);
	free(ch);
	json_decref(resp);
	free(body);
	tpm_proto_msg_free(&m);
}

static const char *g_custom = "[{\"name\":\"deviceId\",\"value\":\"dev-42\",\"value_type\":\"string\"}]";
static struct devplat_tpm_request *g_other; /* test knob: other_keys fields to copy */
static const uint8_t *g_log_before; /* test knob: a log sent before the matching one */
static size_t g_log_before_len;
static const uint8_t *g_log_override;
static size_t g_log_override_len;

static char *build(struct fixture *f, int version, bool vbs, const struct devplat_vbs_identity *id)
{
	struct devplat_tpm_attestation cur = {
		.quote = f->quote, .quote_len = f->quote_len, .sig = f->sig, .sig_len = f->sig_len,
		.pcrs = &f->pcrs, .log = f->log.log.p, .log_len = f->log.log.len, .aik = f->aik,
		.aik_cert_der = f->aik_cert, .aik_cert_len = f->aik_cert_len};
	json_t *cc = json_loads(g_custom, 0, NULL);
	struct devplat_tpm_request rq = {
		.version = version, .challenge = f->challenge, .service_context = f->context,
		.rp_id = "https://rp.example", .rp_data = "cnBkYXRh", .current = &cur,
		.request_key = f->req_key, .custom_claims = cc, .vbs_key = vbs ? f->vbs_key : NULL,
		.vbs_identity = id};
	char *msg = NULL;
	struct attest_err err;

	if (g_other) {
		rq.other_key = g_other->other_key;
		rq.other_pub = g_other->other_pub, rq.other_pub_len = g_other->other_pub_len;
		rq.other_attest = g_other->other_attest, rq.other_attest_len = g_other->other_attest_len;
		rq.other_sig = g_other->other_sig, rq.other_sig_len = g_other->other_sig_len;
	}
	cur.log_before = g_log_before;
	cur.log_before_len = g_log_before_len;
	if (g_log_override) {
		cur.log = g_log_override;
		cur.log_len = g_log_override_len;
	}
	attest_err_clear(&err);
	if (devplat_tpm_request_build(&rq, &msg, &err) != 0)
		fail_msg("%s: %s", err.name, err.msg);
	json_decref(cc);
	return msg;
}

static int run(struct fixture *f, const char *msg, struct tpm_proto_result *res, struct attest_err *err)
{
	struct tpm_proto_msg m;
	int rc;

	attest_err_clear(err);
	rc = tpm_proto_msg_parse(msg, strlen(msg), &m, err);
	if (rc != 0)
		return rc;
	rc = tpm_proto_request(&f->cfg, &m, res, err);
	tpm_proto_msg_free(&m);
	return rc;
}

static void v2_basic_request_verifies_and_yields_tpm_claims(void **state)
{
	struct fixture *f = *state;
	struct tpm_proto_result res;
	struct attest_err err;
	char *msg;

	round_start(f);
	msg = build(f, 2, false, NULL);
	if (run(f, msg, &res, &err) != 0)
		fail_msg("%s: %s (%s)", err.name, err.msg, err.where);
	assert_int_equal(res.version, 2);
	assert_false(res.vbs);
	assert_true(json_is_true(claim_set_get(res.claims, "aikValidated")));
	assert_int_equal(json_integer_value(claim_set_get(res.claims, "tpmVersion")), 2);
	assert_true(json_is_true(claim_set_get(res.claims, "secureBootEnabled")));
	assert_true(json_is_true(claim_set_get(res.claims, "bootDebuggingDisabled")));
	assert_true(json_is_true(claim_set_get(res.claims, "notSafeMode")));
	assert_true(json_is_true(claim_set_get(res.claims, "vbsEnabled")));
	assert_true(json_is_true(claim_set_get(res.claims, "iommuEnabled")));
	assert_true(json_is_false(claim_set_get(res.claims, "vbsReportPresent")));
	assert_non_null(claim_set_get(res.claims, "events"));
	assert_non_null(claim_set_get(res.claims, "pcrs"));
	assert_string_equal(json_string_value(claim_set_get(res.claims, "deviceId")), "dev-42");
	assert_string_equal(claim_set_find(res.claims, "deviceId")->issuer, CLAIM_ISSUER_CUSTOM);
	assert_string_equal(res.rp_data, "cnBkYXRh");
	assert_string_equal(json_string_value(json_object_get(res.cnf, "kty")), "RSA");
	tpm_proto_result_free(&res);
	free(msg);
}

/* skip_text_claims: the same verdict and boot-state claims, without the texts no policy reads. */
static void text_claims_are_left_out_when_asked(void **state)
{
	struct fixture *f = *state;
	struct tpm_proto_result res;
	struct attest_err err;
	char *msg;

	round_start(f);
	msg = build(f, 2, false, NULL);
	f->cfg.skip_text_claims = true;
	if (run(f, msg, &res, &err) != 0)
		fail_msg("%s: %s (%s)", err.name, err.msg, err.where);
	f->cfg.skip_text_claims = false;
	assert_null(claim_set_get(res.claims, "events"));
	assert_null(claim_set_get(res.claims, "bootEvents"));
	assert_true(json_is_true(claim_set_get(res.claims, "secureBootEnabled")));
	assert_true(json_is_true(claim_set_get(res.claims, "vbsEnabled")));
	assert_null(claim_set_get(res.claims, "pcrs"));
	assert_true(json_is_true(claim_set_get(res.claims, "aikValidated")));
	tpm_proto_result_free(&res);
	free(msg);
}

static void replayed_service_context_is_refused(void **state)
{
	struct fixture *f = *state;
	struct tpm_proto_result res;
	struct attest_err err;
	char *msg;

	round_start(f);
	msg = build(f, 2, false, NULL);
	assert_int_equal(run(f, msg, &res, &err), 0);
	tpm_proto_result_free(&res);
	assert_int_equal(run(f, msg, &res, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.context.replayed");
	free(msg);
}

/*
 * Anyone may send a request naming a context they saw: one that fails
 * verification records nothing, so the client the context was issued to
 * still uses it; once a request verified, the context is used up, and a
 * replay is refused before the quote's work when the replay store can be
 * looked up (replay_peek).
 */
static void failed_request_does_not_use_up_its_context(void **state)
{
	struct fixture *f = *state;
	struct tpm_proto_result res;
	struct attest_err err;
	uint8_t *good_q, *good_s;
	size_t good_ql, good_sl;
	char *bad, *good;

	round_start(f);
	good_q = f->quote, good_ql = f->quote_len, good_s = f->sig, good_sl = f->sig_len;
	assert_int_equal(devplat_tpm_quote(f->aik, &f->pcrs, TPM_BANK_SHA256, 0xFFFFFF, (const uint8_t *)"old", 3,
					   &f->quote, &f->quote_len, &f->sig, &f->sig_len, NULL),
			 0);
	bad = build(f, 2, false, NULL);
	free(f->quote);
	free(f->sig);
	f->quote = good_q, f->quote_len = good_ql, f->sig = good_s, f->sig_len = good_sl;
	good = build(f, 2, false, NULL);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(run(f, bad, &res, &err), ATTEST_E_VERIFY);
		assert_string_equal(err.name, "tpm.quote.nonce");
	}
	if (run(f, good, &res, &err) != 0)
		fail_msg("the genuine request after failed ones: %s: %s", err.name, err.msg);
	tpm_proto_result_free(&res);
	assert_int_equal(run(f, good, &res, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.context.replayed");
	/* with the look-up, a replay is refused first, even when the rest would fail */
	f->cfg.replay_peek = tpm_seen_set_peek;
	assert_int_equal(run(f, bad, &res, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.context.replayed");
	f->cfg.replay_peek = NULL;
	free(bad);
	free(good);
}

struct racing_request {
	struct fixture *f;
	const char *msg;
	pthread_barrier_t *go;
	int rc;
	char name[64];
};

static void *run_racing(void *arg)
{
	struct racing_request *q = arg;
	struct tpm_proto_result res;
	struct attest_err err;

	pthread_barrier_wait(q->go);
	q->rc = run(q->f, q->msg, &res, &err);
	if (q->rc == 0)
		tpm_proto_result_free(&res);
	snprintf(q->name, sizeof(q->name), "%s", q->rc == 0 ? "" : err.name);
	return NULL;
}

/* Two requests with one context at once: both verify, the record decides, one wins. */
static void two_requests_racing_with_one_context_yield_one_success(void **state)
{
	struct fixture *f = *state;
	struct racing_request q[2];
	pthread_barrier_t go;
	pthread_t t[2];
	char *msg;

	round_start(f);
	msg = build(f, 2, false, NULL);
	pthread_barrier_init(&go, NULL, 2);
	for (int i = 0; i < 2; i++) {
		q[i] = (struct racing_request){.f = f, .msg = msg, .go = &go};
		assert_int_equal(pthread_create(&t[i], NULL, run_racing, &q[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal((q[0].rc == 0) + (q[1].rc == 0), 1);
	assert_string_equal(q[0].rc == 0 ? q[1].name : q[0].name, "tpm.context.replayed");
	pthread_barrier_destroy(&go);
	free(msg);
}

static void expired_service_context_is_refused(void **state)
{
	struct fixture *f = *state;
	struct tpm_proto_result res;
	struct attest_err err;
	char *msg;

	round_start(f);
	msg = build(f, 2, false, NULL);
	f->cfg.now = T_NOW + TPM_PROTO_DEFAULT_TTL;
	assert_int_equal(run(f, msg, &res, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.context.expired");
	f->cfg.now = T_NOW;
	free(msg);
}

static void context_sealed_under_another_key_is_refused(void **state)
{
	struct fixture *f = *state;
	struct tpm_proto_result res;
	struct attest_err err;
	char *msg;

	round_start(f);
	msg = build(f, 2, false, NULL);
	{
		uint8_t other[TPM_PROTO_KEY_LEN];
		struct tpm_context_keys *k;

		memcpy(other, f->key_bytes, sizeof(other));
		other[0] ^= 1; /* another service with another master key */
		k = tpm_context_keys_new(other);
		f->cfg.service_key = k;
		assert_int_equal(run(f, msg, &res, &err), ATTEST_E_VERIFY);
		assert_string_equal(err.name, "tpm.context.auth");
		f->cfg.service_key = f->key;
		tpm_context_keys_free(k);
	}
	/* and any node with the same master key finishes it: its own keyring and seen-set */
	{
		struct tpm_context_keys *node2 = tpm_context_keys_new(f->key_bytes);
		struct tpm_seen_set *other = tpm_seen_set_new(8);
		void *keep = f->cfg.replay_arg;

		assert_non_null(node2);
		f->cfg.replay_arg = other;
		f->cfg.service_key = node2;
		assert_int_equal(run(f, msg, &res, &err), 0);
		tpm_proto_result_free(&res);
		f->cfg.replay_arg = keep;
		f->cfg.service_key = f->key;
		tpm_seen_set_free(other);
		tpm_context_keys_free(node2);
	}
	free(msg);
}

/*
 * A context issued by one provider's init is refused at another's
 * (tpm.context.provider) before any record, so it stays usable where it
 * was issued.
 */
static void context_issued_at_one_provider_is_refused_at_another(void **state)
{
	struct fixture *f = *state;
	struct tpm_proto_result res;
	struct attest_err err;
	char *msg;

	f->cfg.provider = "provider-a";
	round_start(f);
	msg = build(f, 2, false, NULL);
	f->cfg.provider = "provider-b";
	assert_int_equal(run(f, msg, &res, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.context.provider");
	f->cfg.provider = NULL; /* no provider: not provider-a's either */
	assert_int_equal(run(f, msg, &res, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.context.provider");
	f->cfg.provider = "provider-a";
	if (run(f, msg, &res, &err) != 0)
		fail_msg("at the issuing provider: %s: %s", err.name, err.msg);
	tpm_proto_result_free(&res);
	f->cfg.provider = NULL;
	free(msg);
}

static void tampered_context_and_foreign_challenge_are_refused(void **state)
{
	struct fixture *f = *state;
	struct tpm_context c;
	struct attest_err err;
	char *first_ctx;
	struct tpm_proto_result res;
	char *msg;

	round_start(f);
	first_ctx = strdup(f->context);
	/* a flipped character of the sealed context */
	f->context[10] = f->context[10] == 'A' ? 'B' : 'A';
	attest_err_clear(&err);
	assert_int_not_equal(tpm_context_open(f->key, TPM_CONTEXT_NO_PROVIDER, f->context, strlen(f->context),
					      T_NOW, &c, &err),
			     0);
	/* a context from one init with the challenge of another */
	round_start(f);
	free(f->context);
	f->context = first_ctx;
	msg = build(f, 2, false, NULL);
	assert_int_equal(run(f, msg, &res, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.context.challenge");
	free(msg);
}

/*
 * The sealed context is decoded onto the stack: the longest context the
 * service issues (the longest challenge) opens; one longer, every cut of
 * it and text that is no base64url are refused with their error.
 */
static void context_lengths_and_encodings_are_checked(void **state)
{
	struct fixture *f = *state;
	uint8_t ch[TPM_PROTO_CHALLENGE_LEN], id[TPM_PROTO_ID_LEN] = {9};
	struct tpm_context c;
	struct attest_err err;
	char *ctx = NULL, *longer, longest[TPM_CONTEXT_PROVIDER_MAX + 1];
	size_t n;

	memset(ch, 0x42, sizeof(ch));
	memset(longest, 'p', TPM_CONTEXT_PROVIDER_MAX); /* the longest provider name */
	longest[TPM_CONTEXT_PROVIDER_MAX] = '\0';
	assert_int_equal(tpm_context_seal(f->key, longest, id, T_NOW, T_NOW + 60, ch, sizeof(ch), &ctx, NULL),
			 0);
	n = strlen(ctx);
	assert_int_equal(tpm_context_open(f->key, longest, ctx, n, T_NOW, &c, NULL), 0);
	assert_int_equal(c.challenge_len, sizeof(ch));
	assert_memory_equal(c.challenge, ch, sizeof(ch));
	for (size_t cut = 0; cut < n; cut++) {
		attest_err_clear(&err);
		assert_int_not_equal(tpm_context_open(f->key, longest, ctx, cut, T_NOW, &c, &err), 0);
		assert_true(strncmp(err.name, "tpm.context.", 12) == 0);
	}
	longer = malloc(n + 9);
	assert_non_null(longer);
	/* A context with "=" padding (an opaque echo may come back padded): a 30-byte challenge's, no
	 * provider. */
	{
		char *odd = NULL;
		size_t on;

		assert_int_equal(tpm_context_seal(f->key, TPM_CONTEXT_NO_PROVIDER, id, T_NOW, T_NOW + 60, ch,
						  sizeof(ch) - 2, &odd, NULL),
				 0);
		on = strlen(odd);
		assert_int_equal(on % 4, 3);
		assert_true(on + 1 <= n + 9);
		memcpy(longer, odd, on);
		longer[on] = '=';
		assert_int_equal(
		    tpm_context_open(f->key, TPM_CONTEXT_NO_PROVIDER, longer, on + 1, T_NOW, &c, NULL), 0);
		assert_int_equal(c.challenge_len, sizeof(ch) - 2);
		free(odd);
	}
	memcpy(longer, ctx, n);
	memcpy(longer + n, "AAAAAAAA", 8);
	attest_err_clear(&err);
	assert_int_equal(tpm_context_open(f->key, longest, longer, n + 8, T_NOW, &c, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.context.encoding");
	memcpy(longer, ctx, n);
	longer[n / 2] = '*';
	attest_err_clear(&err);
	assert_int_equal(tpm_context_open(f->key, longest, longer, n, T_NOW, &c, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "tpm.context.encoding");
	free(longer);
	free(ctx);
}

static void quote_over_another_nonce_is_refused(void **state)
{
	struct fixture *f = *state;
	struct tpm_proto_result res;
	struct attest_err err;
	char *msg;

	round_start(f);
	free(f->quote);
	free(f->sig);
	assert_int_equal(devplat_tpm_quote(f->aik, &f->pcrs, TPM_BANK_SHA256, 0xFFFFFF, (const uint8_t *)"old", 3,
					   &f->quote, &f->quote_len, &f->sig, &f->sig_len, NULL),
			 0);
	msg = build(f, 2, false, NULL);
	assert_int_equal(run(f, msg, &res, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.quote.nonce");
	free(msg);
}

static void request_signed_by_another_key_is_refused(void **state)
{
	struct fixture *f = *state;
	struct tpm_proto_result res;
	struct attest_err err;
	char *msg, *dot;
	json_t *m;
	const char *jws;
	char *forged;

	round_start(f);
	msg = build(f, 2, false, NULL);
	m = json_loads(msg, 0, NULL);
	jws = json_string_value(json_object_get(m, "request"));
	forged = strdup(jws);
	dot = strrchr(forged, '.');
	dot[5] = dot[5] == 'A' ? 'B' : 'A'; /* one signature character */
	json_object_set_new(m, "request", json_string(forged));
	free(msg);
	msg = json_dumps(m, 0);
	assert_int_equal(run(f, msg, &res, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "jws.signature");
	free(forged);
	free(msg);
	json_decref(m);
}

static void untrusted_aik_is_refused_unless_registered(void **state)
{
	struct fixture *f = *state;
	struct tpm_proto_result res;
	struct attest_err err;
	uint8_t h[32];
	char *msg;
	STACK_OF(X509) *none = sk_X509_new_null();

	round_start(f);
	msg = build(f, 2, false, NULL);
	f->cfg.aik_roots = none;
	assert_int_equal(run(f, msg, &res, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.aik.cert.untrusted_root");
	/* require_valid_aik_cert = false: a registered AIK is enough */
	round_start(f);
	free(msg);
	msg = build(f, 2, false, NULL);
	f->cfg.require_valid_aik_cert = false;
	tpm_pkey_spki_sha256(f->aik, h);
	f->cfg.registered_aiks = (const uint8_t(*)[32])h;
	f->cfg.n_registered_aiks = 1;
	assert_int_equal(run(f, msg, &res, &err), 0);
	assert_true(json_is_false(claim_set_get(res.claims, "aikValidated")));
	tpm_proto_result_free(&res);
	f->cfg.aik_roots = f->roots;
	f->cfg.require_valid_aik_cert = true;
	f->cfg.registered_aiks = NULL;
	f->cfg.n_registered_aiks = 0;
	sk_X509_free(none);
	free(msg);
}

static void v1_request_with_platform_claim_blob_verifies(void **state)
{
	struct fixture *f = *state;
	struct tpm_proto_result res;
	struct attest_err err;
	char *msg;

	round_start(f);
	msg = build(f, 1, false, NULL);
	if (run(f, msg, &res, &err) != 0)
		fail_msg("%s: %s (%s)", err.name, err.msg, err.where);
	assert_int_equal(res.version, 1);
	assert_true(json_is_true(claim_set_get(res.claims, "secureBootEnabled")));
	tpm_proto_result_free(&res);
	free(msg);
}

static void vbs_request_binds_the_enclave_report_and_yields_identity_claims(void **state)
{
	struct fixture *f = *state;
	struct tpm_proto_result res;
	struct attest_err err;
	struct devplat_vbs_identity id;
	char *msg;

	memset(&id, 0, sizeof(id));
	memset(id.author_id, 0xA1, 32);
	memset(id.image_id, 0x11, 16);
	memset(id.owner_id, 0x0E, 32);
	memset(id.family_id, 0xFA, 16);
	id.enclave_svn = 3;
	id.platform_svn = 7;
	id.module_name = "enclave.dll";
	round_start(f);
	msg = build(f, 2, true, &id);
	if (run(f, msg, &res, &err) != 0)
		fail_msg("%s: %s (%s)", err.name, err.msg, err.where);
	assert_true(res.vbs);
	assert_true(json_is_true(claim_set_get(res.claims, "vbsReportPresent")));
	assert_true(json_is_false(claim_set_get(res.claims, "vbsReportSignatureVerified")));
	assert_int_equal(json_integer_value(claim_set_get(res.claims, "enclaveSvn")), 3);
	assert_int_equal(json_integer_value(claim_set_get(res.claims, "enclavePlatformSvn")), 7);
	assert_string_equal(json_string_value(claim_set_get(res.claims, "enclaveAuthorId")),
			    "oaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaE");
	assert_true(json_is_false(claim_set_get(res.claims, "enclaveDebuggable")));
	tpm_proto_result_free(&res);
	free(msg);
}

static void enveloped_and_wrapped_messages_are_answered_in_kind(void **state)
{
	struct fixture *f = *state;
	const char *inner = "{\"payload\":{\"type\":\"aikcert\"}}";
	char *b64 = b64url_encode((const uint8_t *)inner, strlen(inner)), body[256], *resp = NULL;
	struct tpm_proto_msg m;
	json_t *r, *dec;
	uint8_t *raw = NULL;
	size_t rawlen = 0;

	snprintf(body, sizeof(body), "{\"data\":\"%s\"}", b64);
	assert_int_equal(tpm_proto_msg_parse(body, strlen(body), &m, NULL), 0);
	assert_true(m.enveloped);
	assert_true(m.wrapped);
	assert_int_equal(tpm_proto_init(&f->cfg, &m, &resp, NULL), 0);
	r = json_loads(resp, 0, NULL);
	const char *d = json_string_value(json_object_get(r, "data"));
	assert_non_null(d);
	assert_int_equal(b64_decode(d, strlen(d), &raw, &rawlen), 0);
	dec = json_loadb((const char *)raw, rawlen, 0, NULL);
	assert_non_null(json_object_get(json_object_get(dec, "payload"), "challenge"));
	json_decref(dec);
	json_decref(r);
	free(raw);
	free(resp);
	free(b64);
	tpm_proto_msg_free(&m);
	/* other init types are refused */
	{
		const char *bad = "{\"type\":\"other\"}";
		struct attest_err err;

		attest_err_clear(&err);
		assert_int_equal(tpm_proto_msg_parse(bad, strlen(bad), &m, &err), ATTEST_E_PARSE);
		assert_string_equal(err.name, "tpm.proto.type");
	}
}

static void the_log_that_replays_is_chosen_among_several(void **state)
{
	struct fixture *f = *state;
	struct tpm_proto_result res;
	struct attest_err err;
	struct devplat_tcg_log other;
	struct devplat_boot b = {.secure_boot = false, .boot_debugging = true};
	char *msg;

	assert_int_equal(devplat_tcg_log_init(&other), 0);
	assert_int_equal(devplat_tcg_log_boot(&other, &b), 0);
	/* [another boot's log, this boot's log]: accepted, claims from the matching one */
	g_log_before = other.log.p;
	g_log_before_len = other.log.len;
	round_start(f);
	msg = build(f, 2, false, NULL);
	if (run(f, msg, &res, &err) != 0)
		fail_msg("%s: %s", err.name, err.msg);
	assert_true(json_is_true(claim_set_get(res.claims, "secureBootEnabled")));
	assert_true(json_is_true(claim_set_get(res.claims, "bootDebuggingDisabled")));
	tpm_proto_result_free(&res);
	free(msg);
	/* [another boot's log] twice: refused with the replay error */
	g_log_override = other.log.p;
	g_log_override_len = other.log.len;
	round_start(f);
	msg = build(f, 2, false, NULL);
	assert_int_equal(run(f, msg, &res, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tcg.replay.mismatch");
	free(msg);
	g_log_before = g_log_override = NULL;
	devplat_tcg_log_free(&other);
}

static void custom_claim_with_a_service_claim_name_is_refused(void **state)
{
	struct fixture *f = *state;
	struct tpm_proto_result res;
	struct attest_err err;
	char *msg;

	g_custom = "[{\"name\":\"secureBootEnabled\",\"value\":true,\"value_type\":\"bool\"}]";
	round_start(f);
	msg = build(f, 2, false, NULL);
	assert_int_equal(run(f, msg, &res, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "tpm.proto.custom_claims");
	free(msg);
	g_custom = "[{\"name\":\"x-ms-attestation-type\",\"value\":\"sgx\"}]";
	round_start(f);
	msg = build(f, 2, false, NULL);
	assert_int_equal(run(f, msg, &res, &err), ATTEST_E_PARSE);
	free(msg);
	g_custom = "[{\"name\":\"deviceId\",\"value\":\"dev-42\",\"value_type\":\"string\"}]";
}

static void other_key_certified_by_the_aik_is_accepted_and_a_mismatch_refused(void **state)
{
	struct fixture *f = *state;
	struct tpm_proto_result res;
	struct attest_err err;
	struct devplat_tpm_request o = {0};
	uint8_t *pub, *att, *sig;
	size_t pl, al, sl;
	EVP_PKEY *key = EVP_RSA_gen(2048), *stranger = EVP_RSA_gen(2048);
	char *msg;

	assert_int_equal(devplat_tpm_certify(f->aik, key, &pub, &pl, &att, &al, &sig, &sl, NULL), 0);
	o = (struct devplat_tpm_request){.other_key = key, .other_pub = pub, .other_pub_len = pl,
					 .other_attest = att, .other_attest_len = al, .other_sig = sig,
					 .other_sig_len = sl};
	g_other = &o;
	round_start(f);
	msg = build(f, 2, false, NULL);
	if (run(f, msg, &res, &err) != 0)
		fail_msg("%s: %s", err.name, err.msg);
	tpm_proto_result_free(&res);
	free(msg);
	/* the JWK is another key than the one the TPM certified */
	o.other_key = stranger;
	round_start(f);
	msg = build(f, 2, false, NULL);
	assert_int_equal(run(f, msg, &res, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.certify.jwk");
	free(msg);
	/* a certification signed by another key than the AIK */
	free(pub);
	free(att);
	free(sig);
	assert_int_equal(devplat_tpm_certify(stranger, key, &pub, &pl, &att, &al, &sig, &sl, NULL), 0);
	o = (struct devplat_tpm_request){.other_key = key, .other_pub = pub, .other_pub_len = pl,
					 .other_attest = att, .other_attest_len = al, .other_sig = sig,
					 .other_sig_len = sl};
	round_start(f);
	msg = build(f, 2, false, NULL);
	assert_int_equal(run(f, msg, &res, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.certify.signature");
	free(msg);
	g_other = NULL;
	free(pub);
	free(att);
	free(sig);
	EVP_PKEY_free(key);
	EVP_PKEY_free(stranger);
}

/* A request JWS over an arbitrary payload, signed by the fixture's request key. */
static char *request_with_payload(struct fixture *f, const char *typ, const char *payload)
{
	json_t *hdr = json_pack("{s:s}", "typ", typ), *m;
	struct jws_signer *s = NULL;
	char *jws = NULL, *msg;

	assert_int_equal(jws_signer_new(f->req_key, JWS_ALG_PS256, hdr, &s, NULL), 0);
	assert_int_equal(jws_sign(s, payload, strlen(payload), &jws, NULL), 0);
	m = json_pack("{s:s}", "request", jws);
	msg = json_dumps(m, 0);
	json_decref(m);
	json_decref(hdr);
	jws_signer_free(s);
	free(jws);
	return msg;
}

static void malformed_requests_are_refused_with_their_own_errors(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *typ, *payload, *name;
	} cases[] = {
		{"JWT", "{\"att_type\":\"basic\",\"att_data\":{}}", "tpm.proto.typ"},
		{"attReqV2", "[]", "tpm.proto.att_type"},
		{"attReqV2", "{\"att_type\":\"sgx\",\"att_data\":{}}", "tpm.proto.att_type"},
		{"attReqV2", "{\"att_type\":\"basic\",\"att_data\":{}}", "tpm.proto.missing"},
		{"attReqV2", "{\"att_type\":\"vbs\",\"att_data\":{\"report_signed\":{}}}", "tpm.proto.missing"},
		{"attReqV2", "{\"att_type\":\"basic\",\"att_data\":{} ,\"att_data\":{}}", "tpm.proto.payload"},
	};
	struct tpm_proto_result res;
	struct attest_err err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *msg = request_with_payload(f, cases[i].typ, cases[i].payload);
		int rc = run(f, msg, &res, &err);

		if (rc == 0 || strncmp(err.name, cases[i].name, strlen(cases[i].name)) != 0)
			fail_msg("case %zu: rc %d %s (want %s)", i, rc, err.name, cases[i].name);
		free(msg);
	}
	/* a request whose JWS names its key but is signed by another one */
	{
		const char *alg_none = "{\"request\":\"eyJhbGciOiJub25lIiwidHlwIjoiYXR0UmVxVjIifQ.e30.\"}";

		assert_int_not_equal(run(f, alg_none, &res, &err), 0);
		assert_true(strncmp(err.name, "tpm.proto", 9) == 0 || strncmp(err.name, "jws.", 4) == 0);
	}
}

/* The JWS payload of a request message (caller frees), and the exact text of its request key's JWK. */
static char *payload_of(const char *msg, uint8_t jwk_id[32])
{
	struct tpm_proto_msg m;
	struct jws *j = NULL;
	struct jsonx_doc d;
	const char *tok, *jwk;
	size_t n = 0, jl = 0;
	char *out;

	assert_int_equal(tpm_proto_msg_parse(msg, strlen(msg), &m, NULL), 0);
	tok = jsonx_str(&m.doc, jsonx_member(&m.doc, m.msg, "request"), &n);
	assert_int_equal(jws_parse(tok, n, &j, NULL), 0);
	out = strndup((const char *)j->payload, j->payload_len);
	assert_int_equal(jsonx_read(out, strlen(out), &d, NULL, 0, NULL), 0);
	jwk = jsonx_text(&d, jsonx_member(&d, jsonx_member(&d, jsonx_member(&d, d.nodes, "att_data"), "request_key"), "jwk"),
			 &jl);
	assert_non_null(jwk);
	assert_int_equal(sha256(jwk, jl, jwk_id), 0);
	jsonx_doc_free(&d);
	jws_free(j);
	tpm_proto_msg_free(&m);
	return out;
}

/* A request that fails leaves no key behind; one that verifies keeps its keys decoded. */
static void keys_are_kept_only_for_requests_that_verify(void **state)
{
	struct fixture *f = *state;
	struct tpm_aik_cache *group = f->cfg.aik_cache;
	struct tpm_proto_result res;
	struct attest_err err;
	uint8_t id[32], spki[32];
	EVP_PKEY *k;
	char *msg, *payload;

	f->cfg.aik_cache = tpm_aik_cache_new(4);
	round_start(f);
	f->challenge[3] = f->challenge[3] == 'A' ? 'B' : 'A'; /* the quote's nonce no longer the context's */
	msg = build(f, 2, false, NULL);
	payload = payload_of(msg, id);
	assert_int_not_equal(run(f, msg, &res, &err), 0);
	assert_null(tpm_key_cache_get(f->cfg.aik_cache, id, spki));
	free(msg);
	free(payload);
	round_start(f);
	msg = build(f, 2, false, NULL);
	payload = payload_of(msg, id);
	if (run(f, msg, &res, &err) != 0)
		fail_msg("%s: %s (%s)", err.name, err.msg, err.where);
	tpm_proto_result_free(&res);
	k = tpm_key_cache_get(f->cfg.aik_cache, id, spki);
	assert_non_null(k);
	EVP_PKEY_free(k);
	free(msg);
	free(payload);
	tpm_aik_cache_free(f->cfg.aik_cache);
	f->cfg.aik_cache = group;
}

/* rp_data goes into the token as a C string: a NUL inside would cut it short there. */
static void rp_data_with_a_nul_is_refused(void **state)
{
	struct fixture *f = *state;
	struct tpm_proto_result res;
	struct attest_err err;
	uint8_t id[32];
	char *msg, *payload, *at, *bad, *req;
	size_t n;

	round_start(f);
	msg = build(f, 2, false, NULL);
	payload = payload_of(msg, id);
	at = strstr(payload, "\"rp_data\":\"cnBk");
	assert_non_null(at);
	n = strlen(payload) + 8;
	bad = malloc(n);
	snprintf(bad, n, "%.*s\"rp_data\":\"cnBk\\u0000%s", (int)(at - payload), payload,
		 at + strlen("\"rp_data\":\"cnBk"));
	req = request_with_payload(f, "attReqV2", bad);
	assert_int_equal(run(f, req, &res, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "tpm.proto.rp_data");
	free(req);
	free(bad);
	free(payload);
	free(msg);
}

static void a_returning_client_finds_its_verified_aik_chain_in_the_cache(void **state)
{
	struct fixture *f = *state;
	struct tpm_proto_result res;
	struct attest_err err;
	uint64_t hits = 0, misses = 0;
	struct tpm_aik_cache *group = f->cfg.aik_cache;

	f->cfg.aik_cache = tpm_aik_cache_new(4); /* a fresh one, to count */
	for (int i = 0; i < 2; i++) {
		char *msg;

		round_start(f);
		msg = build(f, 2, false, NULL);
		if (run(f, msg, &res, &err) != 0)
			fail_msg("%s: %s (%s)", err.name, err.msg, err.where);
		assert_true(json_is_true(claim_set_get(res.claims, "aikValidated")));
		tpm_proto_result_free(&res);
		free(msg);
	}
	tpm_aik_cache_stats(f->cfg.aik_cache, &hits, &misses);
	assert_int_equal(hits, 1);
	assert_int_equal(misses, 1);
	/* from the certificate's notAfter on the cached chain is not used: the request is refused */
	f->cfg.now = T_NOW + 86400; /* the context is issued and opened then too */
	round_start(f);
	{
		char *msg = build(f, 2, false, NULL);
		int rc = run(f, msg, &res, &err);

		f->cfg.now = T_NOW;
		free(msg);
		assert_int_equal(rc, ATTEST_E_VERIFY);
		assert_string_equal(err.name, "tpm.aik.cert.expired");
	}
	tpm_aik_cache_stats(f->cfg.aik_cache, &hits, &misses);
	assert_int_equal(hits, 1);
	assert_int_equal(misses, 2);
	tpm_aik_cache_free(f->cfg.aik_cache);
	f->cfg.aik_cache = group;
}

static void pcrs_claim_and_replay_hold_only_the_quoted_bank(void **state)
{
	struct fixture *f = *state;
	struct tpm_proto_result res;
	struct attest_err err;
	const char *pcrs;
	char *msg;

	/* the client sends SHA-1 and SHA-256 values; its quote covers SHA-256 alone */
	assert_true(f->pcrs.present[TPM_BANK_SHA1] != 0);
	round_start(f);
	msg = build(f, 2, false, NULL);
	if (run(f, msg, &res, &err) != 0)
		fail_msg("%s: %s (%s)", err.name, err.msg, err.where);
	pcrs = json_string_value(claim_set_get(res.claims, "pcrs"));
	assert_non_null(pcrs);
	assert_non_null(strstr(pcrs, "\"SHA256\""));
	assert_null(strstr(pcrs, "\"SHA1\""));
	tpm_proto_result_free(&res);
	free(msg);
}

static void seen_set_is_bounded_and_forgets_only_expired_ids(void **state)
{
	struct tpm_seen_set *s = tpm_seen_set_new(3);
	uint8_t id[TPM_PROTO_ID_LEN];

	for (int i = 0; i < 3; i++) {
		memset(id, i + 1, sizeof(id));
		assert_int_equal(tpm_seen_set_check(s, id, 100, 10), 0);
	}
	memset(id, 1, sizeof(id));
	assert_int_equal(tpm_seen_set_check(s, id, 100, 10), 1);
	memset(id, 9, sizeof(id));
	assert_int_equal(tpm_seen_set_check(s, id, 100, 10), -1); /* full of live ids */
	assert_int_equal(tpm_seen_set_check(s, id, 300, 200), 0);  /* the others expired */
	tpm_seen_set_free(s);
}

static double thread_cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * A set full of live ids (a flood of contexts) refuses new ids at once:
 * no table rebuild per check while nothing can have expired (1,000 checks
 * cost a rebuild each before: 0.76 s of CPU in Debug), and it takes new
 * ids again once the flood's ids expire.
 */
static void full_seen_set_refuses_without_rebuilding(void **state)
{
	enum { CAP = 65536, CHECKS = 1000 };
	struct tpm_seen_set *s = tpm_seen_set_new(CAP);
	uint8_t id[TPM_PROTO_ID_LEN] = {0};
	double t0, spent;

	(void)state;
	assert_non_null(s);
	/* ids spread as random ones are (the set hashes by their first bytes) */
	for (uint64_t i = 0; i < CAP; i++) {
		uint64_t h = i * UINT64_C(0x9E3779B97F4A7C15);

		memcpy(id, &h, sizeof(h));
		assert_int_equal(tpm_seen_set_check(s, id, T_NOW + 300, T_NOW), 0);
	}
	id[15] = 1; /* ids none of the above */
	t0 = thread_cpu_ms();
	for (uint64_t i = 0; i < CHECKS; i++) {
		uint64_t h = i * UINT64_C(0x9E3779B97F4A7C15);

		memcpy(id, &h, sizeof(h));
		assert_int_equal(tpm_seen_set_check(s, id, T_NOW + 300, T_NOW + 299), -1);
	}
	spent = thread_cpu_ms() - t0;
	if (spent > 100) /* about 0.1 ms under ASan; a rebuild per check was 760 ms in Debug */
		fail_msg("%d checks of a full set took %.1f ms of CPU", CHECKS, spent);
	/* the flood expired: new ids are taken, replays of kept ones still refused */
	assert_int_equal(tpm_seen_set_check(s, id, T_NOW + 600, T_NOW + 300 + TPM_REPLAY_GRACE), 0);
	assert_int_equal(tpm_seen_set_check(s, id, T_NOW + 600, T_NOW + 301 + TPM_REPLAY_GRACE), 1);
	tpm_seen_set_free(s);
}

struct race {
	struct tpm_seen_set *s;
	int accepted;
};

static void *race_thread(void *arg)
{
	struct race *r = arg;
	uint8_t id[TPM_PROTO_ID_LEN];

	memset(id, 0x77, sizeof(id));
	for (int i = 0; i < 200; i++) {
		uint8_t other[TPM_PROTO_ID_LEN];

		memcpy(other, id, sizeof(other));
		other[0] = (uint8_t)i;
		if (tpm_seen_set_check(r->s, other, 1000, 10) == 0)
			__atomic_add_fetch(&r->accepted, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

/* Nodes run requests on several workers: one context id is accepted once, whoever races. */
static void seen_set_accepts_each_id_once_across_threads(void **state)
{
	struct race r = {.s = tpm_seen_set_new(1024)};
	pthread_t t[4];

	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, race_thread, &r);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(r.accepted, 200);
	tpm_seen_set_free(r.s);
}

/* The i-th of a run of ids spread as random ones are (the sets hash by their first bytes); tag tells runs
 * apart. */
static void spread_id(uint64_t i, uint8_t tag, uint8_t id[TPM_PROTO_ID_LEN])
{
	uint64_t h = (i + 1) * UINT64_C(0x9E3779B97F4A7C15);

	memset(id, 0, TPM_PROTO_ID_LEN);
	memcpy(id, &h, sizeof(h));
	id[15] = tag;
}

/*
 * A set's table starts small and grows with what it holds (at most four
 * slots per id), up to its bound; once its ids expired, the next rebuild
 * sizes it for what stays.
 */
static void seen_set_grows_from_small_and_shrinks_after_expiry(void **state)
{
	struct tpm_seen_set *s = tpm_seen_set_new(65536);
	uint8_t id[TPM_PROTO_ID_LEN];

	(void)state;
	assert_non_null(s);
	assert_int_equal(tpm_seen_set_slots(s), 16);
	for (uint64_t i = 0; i < 1000; i++) {
		spread_id(i, 1, id);
		assert_int_equal(tpm_seen_set_check(s, id, T_NOW + 300, T_NOW), 0);
		assert_true(tpm_seen_set_slots(s) >= 2 * (i + 1));
		assert_true(tpm_seen_set_slots(s) <= 4 * (i + 1) || tpm_seen_set_slots(s) == 16);
	}
	assert_int_equal(tpm_seen_set_slots(s), 2048);
	spread_id(5, 1, id);
	assert_int_equal(tpm_seen_set_peek(s, id, T_NOW), 1);
	/* the thousand expired: the rebuild the next growth asks for keeps only the new ids */
	for (uint64_t i = 0; i < 25; i++) {
		spread_id(i, 2, id);
		assert_int_equal(tpm_seen_set_check(s, id, T_NOW + 900, T_NOW + 600), 0);
	}
	assert_true(tpm_seen_set_slots(s) <= 64);
	spread_id(5, 1, id);
	assert_int_equal(tpm_seen_set_peek(s, id, T_NOW + 600), 0);
	spread_id(5, 2, id);
	assert_int_equal(tpm_seen_set_check(s, id, T_NOW + 900, T_NOW + 601), 1);
	tpm_seen_set_free(s);
}

static struct tpm_replay_sets_stats replay_stats(struct tpm_replay_sets *r)
{
	struct tpm_replay_sets_stats st;

	tpm_replay_sets_stats(r, &st);
	return st;
}

/*
 * Each provider records into its own set: one filling its set with live
 * ids is refused (-1: tpm.context.replay_store) while another records and
 * refuses its replays as before; the sets are independent (the context
 * names its provider, so an id is only ever redeemed at one).
 */
static void one_providers_full_set_does_not_refuse_another(void **state)
{
	const struct tpm_replay_limits lim = {.per_provider = 8, .floor = 8, .shared = 0, .providers = 16};
	struct tpm_replay_sets *r = tpm_replay_sets_new(&lim);
	uint8_t id[TPM_PROTO_ID_LEN];

	(void)state;
	assert_non_null(r);
	for (uint64_t i = 0; i < 8; i++) {
		spread_id(i, 'A', id);
		assert_int_equal(tpm_replay_sets_check(r, "a", id, T_NOW + 300, T_NOW), 0);
	}
	spread_id(8, 'A', id);
	assert_int_equal(tpm_replay_sets_check(r, "a", id, T_NOW + 300, T_NOW + 1), -1);
	for (uint64_t i = 0; i < 8; i++) {
		spread_id(i, 'B', id);
		assert_int_equal(tpm_replay_sets_check(r, "b", id, T_NOW + 300, T_NOW + 1), 0);
		assert_int_equal(tpm_replay_sets_check(r, "b", id, T_NOW + 300, T_NOW + 1), 1);
		assert_int_equal(tpm_replay_sets_peek(r, "b", id, T_NOW + 1), 1);
		assert_int_equal(tpm_replay_sets_peek(r, "a", id, T_NOW + 1), 0);
	}
	/* a's replays are still refused as replays, and no provider (NULL) is a set of its own */
	spread_id(3, 'A', id);
	assert_int_equal(tpm_replay_sets_check(r, "a", id, T_NOW + 300, T_NOW + 1), 1);
	assert_int_equal(tpm_replay_sets_check(r, NULL, id, T_NOW + 300, T_NOW + 1), 0);
	assert_int_equal(tpm_replay_sets_peek(r, TPM_CONTEXT_NO_PROVIDER, id, T_NOW + 1), 1);
	assert_int_equal(replay_stats(r).providers, 3);
	assert_int_equal(replay_stats(r).ids, 17);
	/* a's ids expired: it records again */
	spread_id(8, 'A', id);
	assert_int_equal(tpm_replay_sets_check(r, "a", id, T_NOW + 600, T_NOW + 300 + TPM_REPLAY_GRACE), 0);
	/* a name longer than a provider's is refused */
	assert_int_equal(
	    tpm_replay_sets_check(r, "0123456789012345678901234567890123456789012345678901234567890123", id,
				  T_NOW + 600, T_NOW + 300),
	    -1);
	tpm_replay_sets_free(r);
}

/*
 * An id outlives its context's expiry by TPM_REPLAY_GRACE (review6's
 * finding 10): a request that started before the expiry and records after
 * a request with a later clock swept the set still finds the id another
 * request recorded (each request checks with the clock it started with).
 */
static void an_id_outlives_its_expiry_by_the_grace(void **state)
{
	struct tpm_seen_set *s = tpm_seen_set_new(2);
	uint8_t id[TPM_PROTO_ID_LEN], other[TPM_PROTO_ID_LEN];
	const int64_t expiry = T_NOW + 300;

	(void)state;
	assert_non_null(s);
	memset(id, 0x51, sizeof(id));
	memset(other, 0x52, sizeof(other));
	assert_int_equal(tpm_seen_set_check(s, id, expiry, expiry - 1), 0);    /* the first request */
	assert_int_equal(tpm_seen_set_check(s, other, expiry, expiry - 1), 0); /* the set is full */
	/* a request with a later clock: the two ids are past their expiry but within the grace, kept */
	memset(other, 0x53, sizeof(other));
	assert_int_equal(tpm_seen_set_check(s, other, expiry + 100, expiry + 1), -1);
	/* the second request with the first's context, started before the expiry: still a replay */
	assert_int_equal(tpm_seen_set_check(s, id, expiry, expiry - 1), 1);
	/* past the grace the ids go */
	assert_int_equal(tpm_seen_set_check(s, other, expiry + 100, expiry + TPM_REPLAY_GRACE), 0);
	tpm_seen_set_free(s);
}

/*
 * The shared pool bounds what all providers hold beyond their floors: a
 * provider that used it up is refused beyond its floor, another still
 * records its floor's worth; ids expired anywhere return to the pool (a
 * sweep, at most once a second) and the pool's count stays exact.
 */
static void shared_pool_bounds_the_total_and_each_floor_stays(void **state)
{
	const struct tpm_replay_limits lim = {.per_provider = 100, .floor = 2, .shared = 10, .providers = 8};
	struct tpm_replay_sets *r = tpm_replay_sets_new(&lim);
	uint8_t id[TPM_PROTO_ID_LEN];

	(void)state;
	assert_non_null(r);
	for (uint64_t i = 0; i < 12; i++) {
		spread_id(i, 'A', id);
		assert_int_equal(tpm_replay_sets_check(r, "a", id, T_NOW + 300, T_NOW), 0);
	}
	spread_id(12, 'A', id);
	assert_int_equal(tpm_replay_sets_check(r, "a", id, T_NOW + 300, T_NOW + 1), -1);
	assert_int_equal(replay_stats(r).shared_used, 10);
	for (uint64_t i = 0; i < 2; i++) {
		spread_id(i, 'B', id);
		assert_int_equal(tpm_replay_sets_check(r, "b", id, T_NOW + 400, T_NOW + 1), 0);
	}
	spread_id(2, 'B', id);
	assert_int_equal(tpm_replay_sets_check(r, "b", id, T_NOW + 400, T_NOW + 1), -1);
	/* a's ids expire: a forced sweep returns their units, b goes beyond its floor */
	assert_int_equal(tpm_replay_sets_check(r, "b", id, T_NOW + 400, T_NOW + 300 + TPM_REPLAY_GRACE), 0);
	assert_int_equal(replay_stats(r).providers, 1); /* a's set, empty, was dropped */
	assert_int_equal(replay_stats(r).ids, 3);
	assert_int_equal(replay_stats(r).shared_used, 1);
	/* a table that must grow while its ids expired: rebuilt first, the new id charged after (no unit
	 * lost) */
	for (uint64_t i = 0; i < 8; i++) {
		spread_id(i, 'C', id);
		assert_int_equal(tpm_replay_sets_check(r, "c", id, T_NOW + 310, T_NOW + 300), 0);
	}
	assert_int_equal(replay_stats(r).shared_used, 1 + 6);
	spread_id(8, 'C', id); /* the 9th of a 16-slot table: it grows, dropping the eight */
	assert_int_equal(tpm_replay_sets_check(r, "c", id, T_NOW + 400, T_NOW + 320 + TPM_REPLAY_GRACE), 0);
	assert_int_equal(replay_stats(r).shared_used, 1);
	assert_int_equal(replay_stats(r).ids, 3 + 1);
	/* invalid limits */
	assert_null(tpm_replay_sets_new(&(struct tpm_replay_limits){.per_provider = 0, .providers = 1}));
	assert_null(
	    tpm_replay_sets_new(&(struct tpm_replay_limits){.per_provider = 4, .floor = 5, .providers = 1}));
	assert_null(tpm_replay_sets_new(&(struct tpm_replay_limits){.per_provider = 4, .providers = 0}));
	tpm_replay_sets_free(r);
}

/*
 * At most `providers` sets at once: a new provider is refused while they
 * all hold live ids, and takes a set once an expired one was swept away.
 * 1,000 providers that went idle hold nothing after the periodic sweep.
 */
static void sets_are_bounded_and_idle_providers_cost_nothing(void **state)
{
	const struct tpm_replay_limits two = {.per_provider = 4, .floor = 4, .shared = 0, .providers = 2};
	const struct tpm_replay_limits many = {
	    .per_provider = 65536, .floor = 256, .shared = 1024, .providers = 4096};
	struct tpm_replay_sets *r = tpm_replay_sets_new(&two);
	uint8_t id[TPM_PROTO_ID_LEN];
	char name[32];

	(void)state;
	assert_non_null(r);
	spread_id(0, 1, id);
	assert_int_equal(tpm_replay_sets_check(r, "a", id, T_NOW + 300, T_NOW), 0);
	assert_int_equal(tpm_replay_sets_check(r, "b", id, T_NOW + 100, T_NOW), 0);
	assert_int_equal(tpm_replay_sets_check(r, "c", id, T_NOW + 300, T_NOW + 1), -1);
	assert_int_equal(tpm_replay_sets_check(r, "c", id, T_NOW + 300, T_NOW + 100 + TPM_REPLAY_GRACE),
			 0); /* b's set went */
	assert_int_equal(replay_stats(r).providers, 2);
	assert_int_equal(tpm_replay_sets_peek(r, "b", id, T_NOW + 100), 0);
	tpm_replay_sets_free(r);

	r = tpm_replay_sets_new(&many);
	assert_non_null(r);
	for (int p = 0; p < 1000; p++) {
		snprintf(name, sizeof(name), "tenant-%d", p);
		spread_id((uint64_t)p, 3, id);
		assert_int_equal(tpm_replay_sets_check(r, name, id, T_NOW + 300, T_NOW), 0);
	}
	assert_int_equal(replay_stats(r).providers, 1000);
	assert_int_equal(replay_stats(r).slots, 1000 * 16); /* 512 bytes of table each */
	/* a provider whose set stays is kept; the periodic sweep drops the 999 that expired */
	spread_id(0, 4, id);
	assert_int_equal(
	    tpm_replay_sets_check(r, "tenant-0", id, T_NOW + 1000, T_NOW + 300 + TPM_REPLAY_SWEEP_EVERY), 0);
	assert_int_equal(replay_stats(r).providers, 1);
	assert_int_equal(replay_stats(r).ids, 1);
	tpm_replay_sets_free(r);
}

/*
 * A verified request at a provider whose set is full is refused with
 * tpm.context.replay_store; the same request shape at another provider
 * verifies (through the scope the server passes).
 */
static void protocol_request_is_refused_only_at_the_provider_whose_set_is_full(void **state)
{
	struct fixture *f = *state;
	const struct tpm_replay_limits lim = {.per_provider = 4, .floor = 4, .shared = 0, .providers = 8};
	struct tpm_replay_sets *r = tpm_replay_sets_new(&lim);
	struct tpm_replay_scope scope = {.sets = r};
	struct tpm_proto_result res;
	struct attest_err err;
	uint8_t id[TPM_PROTO_ID_LEN];
	char *msg;

	assert_non_null(r);
	for (uint64_t i = 0; i < 4; i++) {
		spread_id(i, 'F', id);
		assert_int_equal(tpm_replay_sets_check(r, "full", id, T_NOW + 300, T_NOW), 0);
	}
	f->cfg.replay = tpm_replay_scope_check;
	f->cfg.replay_peek = tpm_replay_scope_peek;
	f->cfg.replay_arg = &scope;
	for (int p = 0; p < 2; p++) {
		f->cfg.provider = scope.provider = p == 0 ? "full" : "other";
		round_start(f);
		msg = build(f, 2, false, NULL);
		if (p == 0) {
			assert_int_equal(run(f, msg, &res, &err), ATTEST_E_INTERNAL);
			assert_string_equal(err.name, "tpm.context.replay_store");
		} else {
			if (run(f, msg, &res, &err) != 0)
				fail_msg("another provider: %s: %s", err.name, err.msg);
			tpm_proto_result_free(&res);
			assert_int_equal(run(f, msg, &res, &err), ATTEST_E_VERIFY);
			assert_string_equal(err.name, "tpm.context.replayed");
		}
		free(msg);
	}
	f->cfg.provider = NULL;
	f->cfg.replay = tpm_seen_set_check;
	f->cfg.replay_peek = NULL;
	f->cfg.replay_arg = f->seen;
	tpm_replay_sets_free(r);
}

enum { RACE_PROVIDERS = 4, RACE_IDS = 300 };

struct replay_race {
	struct tpm_replay_sets *r;
	pthread_barrier_t *go;
	int accepted, seen, refused, peek_misses;
};

/* Every thread offers every provider's ids: each (provider, id) is accepted exactly once overall. */
static void *replay_race_thread(void *arg)
{
	struct replay_race *q = arg;
	static const char *const names[RACE_PROVIDERS] = {"p0", "p1", "p2", "p3"};
	uint8_t id[TPM_PROTO_ID_LEN];

	pthread_barrier_wait(q->go);
	for (int i = 0; i < RACE_IDS; i++) {
		for (int p = 0; p < RACE_PROVIDERS; p++) {
			int rc;

			spread_id((uint64_t)i, (uint8_t)p, id);
			rc = tpm_replay_sets_check(q->r, names[p], id, T_NOW + 300, T_NOW + (i % 3));
			q->accepted += rc == 0;
			q->seen += rc == 1;
			q->refused += rc < 0;
			q->peek_misses += tpm_replay_sets_peek(q->r, names[p], id, T_NOW) != 1;
		}
	}
	return NULL;
}

/* Four worker threads over four providers, sets made, grown and shared concurrently (ASan/TSan-clean). */
static void four_threads_over_several_providers_accept_each_id_once(void **state)
{
	const struct tpm_replay_limits lim = {
	    .per_provider = 1024, .floor = 16, .shared = 4096, .providers = 8};
	struct replay_race q[4];
	pthread_barrier_t go;
	pthread_t t[4];
	int accepted = 0, seen = 0;
	struct tpm_replay_sets *r = tpm_replay_sets_new(&lim);

	(void)state;
	assert_non_null(r);
	pthread_barrier_init(&go, NULL, 4);
	for (int i = 0; i < 4; i++) {
		q[i] = (struct replay_race){.r = r, .go = &go};
		assert_int_equal(pthread_create(&t[i], NULL, replay_race_thread, &q[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(q[i].refused, 0);
		assert_int_equal(q[i].peek_misses, 0);
		accepted += q[i].accepted;
		seen += q[i].seen;
	}
	assert_int_equal(accepted, RACE_PROVIDERS * RACE_IDS);
	assert_int_equal(seen, 3 * RACE_PROVIDERS * RACE_IDS);
	assert_int_equal(replay_stats(r).providers, RACE_PROVIDERS);
	assert_int_equal(replay_stats(r).ids, RACE_PROVIDERS * RACE_IDS);
	assert_int_equal(replay_stats(r).shared_used, RACE_PROVIDERS * (RACE_IDS - 16));
	pthread_barrier_destroy(&go);
	tpm_replay_sets_free(r);
}

struct churn {
	struct tpm_replay_sets *r;
	pthread_barrier_t *go;
	uint8_t tag;
	int accepted, seen;
};

/* Short-lived ids over five providers and three sets: sets fill, expire, are swept and made again. */
static void *churn_thread(void *arg)
{
	struct churn *q = arg;
	static const char *const names[] = {"c0", "c1", "c2", "c3", "c4"};
	uint8_t id[TPM_PROTO_ID_LEN];

	pthread_barrier_wait(q->go);
	for (int i = 0; i < 3000; i++) {
		int64_t now = T_NOW + i / 8;
		int rc;

		spread_id((uint64_t)i, q->tag, id);
		rc = tpm_replay_sets_check(q->r, names[(i + q->tag) % 5], id, now + 3, now);
		q->accepted += rc == 0;
		q->seen += rc == 1;
		(void)tpm_replay_sets_peek(q->r, names[i % 5], id, now);
	}
	return NULL;
}

/*
 * Four threads while sets are made, dropped by sweeps (forced: the pool
 * and the set count run out; periodic) and made again: no id offered once
 * is ever reported seen, and once everything expired the pool's count is
 * back to zero (no unit lost or counted twice) and the sets are gone.
 */
static void four_threads_while_sets_are_swept_and_made_again(void **state)
{
	const struct tpm_replay_limits lim = {.per_provider = 64, .floor = 4, .shared = 32, .providers = 3};
	struct tpm_replay_sets *r = tpm_replay_sets_new(&lim);
	uint8_t id[TPM_PROTO_ID_LEN];
	struct churn q[4];
	pthread_barrier_t go;
	pthread_t t[4];
	int accepted = 0;

	(void)state;
	assert_non_null(r);
	pthread_barrier_init(&go, NULL, 4);
	for (int i = 0; i < 4; i++) {
		q[i] = (struct churn){.r = r, .go = &go, .tag = (uint8_t)(0x40 + i)};
		assert_int_equal(pthread_create(&t[i], NULL, churn_thread, &q[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(q[i].seen, 0);
		accepted += q[i].accepted;
	}
	assert_true(accepted > 0);
	assert_true(replay_stats(r).providers <= 3);
	assert_true(replay_stats(r).shared_used <= 32);
	/* long after: a periodic sweep drops every set but the one recording now */
	spread_id(0, 0x7F, id);
	assert_int_equal(tpm_replay_sets_check(r, "late", id, T_NOW + 100000, T_NOW + 50000), 0);
	assert_int_equal(replay_stats(r).providers, 1);
	assert_int_equal(replay_stats(r).ids, 1);
	assert_int_equal(replay_stats(r).shared_used, 0);
	pthread_barrier_destroy(&go);
	tpm_replay_sets_free(r);
}

static void pcp_blob_with_parts_beyond_its_end_is_refused(void **state)
{
	uint8_t b[44] = {0x50, 0x41, 0x44, 0x53, 2, 0, 0, 0, 28, 0, 0, 0, 4, 0, 0, 0,
			 4, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0};
	struct tpm_pcp_blob out;
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_equal(tpm_pcp_blob_parse(b, 40, &out, &err), 0);
	assert_int_equal(out.quote_len, 4);
	attest_err_clear(&err);
	assert_int_equal(tpm_pcp_blob_parse(b, 39, &out, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "tpm.pcp.truncated");
	attest_err_clear(&err);
	assert_int_equal(tpm_pcp_blob_parse(b, 41, &out, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "tpm.pcp.trailing");
	b[0] = 0;
	attest_err_clear(&err);
	assert_int_equal(tpm_pcp_blob_parse(b, 40, &out, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "tpm.pcp.magic");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(v2_basic_request_verifies_and_yields_tpm_claims),
	    cmocka_unit_test(a_returning_client_finds_its_verified_aik_chain_in_the_cache),
	    cmocka_unit_test(pcrs_claim_and_replay_hold_only_the_quoted_bank),
	    cmocka_unit_test(text_claims_are_left_out_when_asked),
	    cmocka_unit_test(replayed_service_context_is_refused),
	    cmocka_unit_test(failed_request_does_not_use_up_its_context),
	    cmocka_unit_test(two_requests_racing_with_one_context_yield_one_success),
	    cmocka_unit_test(expired_service_context_is_refused),
	    cmocka_unit_test(context_sealed_under_another_key_is_refused),
	    cmocka_unit_test(tampered_context_and_foreign_challenge_are_refused),
	    cmocka_unit_test(context_issued_at_one_provider_is_refused_at_another),
	    cmocka_unit_test(context_lengths_and_encodings_are_checked),
	    cmocka_unit_test(quote_over_another_nonce_is_refused),
	    cmocka_unit_test(request_signed_by_another_key_is_refused),
	    cmocka_unit_test(keys_are_kept_only_for_requests_that_verify),
	    cmocka_unit_test(rp_data_with_a_nul_is_refused),
	    cmocka_unit_test(untrusted_aik_is_refused_unless_registered),
	    cmocka_unit_test(v1_request_with_platform_claim_blob_verifies),
	    cmocka_unit_test(vbs_request_binds_the_enclave_report_and_yields_identity_claims),
	    cmocka_unit_test(enveloped_and_wrapped_messages_are_answered_in_kind),
	    cmocka_unit_test(the_log_that_replays_is_chosen_among_several),
	    cmocka_unit_test(custom_claim_with_a_service_claim_name_is_refused),
	    cmocka_unit_test(other_key_certified_by_the_aik_is_accepted_and_a_mismatch_refused),
	    cmocka_unit_test(malformed_requests_are_refused_with_their_own_errors),
	    cmocka_unit_test(seen_set_is_bounded_and_forgets_only_expired_ids),
	    cmocka_unit_test(seen_set_grows_from_small_and_shrinks_after_expiry),
	    cmocka_unit_test(one_providers_full_set_does_not_refuse_another),
	    cmocka_unit_test(an_id_outlives_its_expiry_by_the_grace),
	    cmocka_unit_test(shared_pool_bounds_the_total_and_each_floor_stays),
	    cmocka_unit_test(sets_are_bounded_and_idle_providers_cost_nothing),
	    cmocka_unit_test(protocol_request_is_refused_only_at_the_provider_whose_set_is_full),
	    cmocka_unit_test(four_threads_over_several_providers_accept_each_id_once),
	    cmocka_unit_test(four_threads_while_sets_are_swept_and_made_again),
	    cmocka_unit_test(full_seen_set_refuses_without_rebuilding),
	    cmocka_unit_test(seen_set_accepts_each_id_once_across_threads),
	    cmocka_unit_test(pcp_blob_with_parts_beyond_its_end_is_refused),
	};
	setenv("TSS2_LOG", "all+NONE", 1);
	return cmocka_run_group_tests(tests, setup, teardown);
}
