/*
 * libFuzzer target: the TPM protocol request as an attacker can send it.
 * The JWS of a request is verified with the key the request itself names,
 * so everything the request carries is read before anything is trusted:
 * the input here is the tpm_att_data value of an otherwise valid v2
 * request (its own key, a context this harness sealed, the matching
 * challenge), signed by the harness, then read and checked by
 * tpm_proto_request (src/evidence/tpm_protocol_request.c): the JSON index,
 * the pcrs, the logs, the AIK JWK and certificate, the quote. Seeds:
 * fuzz/evidence/corpus/fuzz_tpm_request (the synthetic platform's
 * tpm_att_data).
 */
#include "base/codec.h"
#include "crypto/jose.h"
#include "evidence/tpm_protocol.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NOW 1767225600

static const uint8_t SERVICE_KEY[TPM_PROTO_KEY_LEN] = {9};

struct harness {
	EVP_PKEY *key;  /* the request key (also signs) */
	char *jwk;      /* its JWK text */
	char *context;  /* a sealed service context */
	char *challenge;
	struct tpm_context_keys *service; /* over SERVICE_KEY */
};

/* The provider whose init issued the harness's context (tpm_protocol.h). */
#define FUZZ_PROVIDER "fuzz"

/* Made once per process: an RSA key and a context are the point of nothing here. */
static const struct harness *harness(void)
{
	static struct harness h;
	uint8_t ch[TPM_PROTO_CHALLENGE_LEN] = {0x5c}, id[TPM_PROTO_ID_LEN] = {1};
	json_t *jwk = NULL;

	if (h.key != NULL)
		return &h;
	h.key = EVP_RSA_gen(2048);
	h.service = tpm_context_keys_new(SERVICE_KEY);
	if (h.key == NULL || h.service == NULL || jwk_from_key(h.key, NULL, NULL, &jwk, NULL) != 0 ||
	    tpm_context_seal(h.service, FUZZ_PROVIDER, id, FUZZ_NOW, FUZZ_NOW + 300, ch, sizeof(ch),
			     &h.context, NULL) != 0)
		abort();
	h.jwk = json_dumps(jwk, JSON_COMPACT);
	h.challenge = b64url_encode(ch, sizeof(ch));
	json_decref(jwk);
	if (h.jwk == NULL || h.challenge == NULL)
		abort();
	return &h;
}

/* base64url(header) "." base64url(payload) "." base64url(RS256 signature); NULL on failure. */
static char *sign(const struct harness *h, const char *payload, size_t len)
{
	static const char header[] = "{\"alg\":\"RS256\",\"typ\":\"attReqV2\"}";
	char *hb = b64url_encode((const uint8_t *)header, strlen(header));
	char *pb = b64url_encode((const uint8_t *)payload, len), *input = NULL, *token = NULL, *sb = NULL;
	uint8_t sig[512];
	size_t sl = sizeof(sig), n;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (hb == NULL || pb == NULL || md == NULL)
		goto out;
	n = strlen(hb) + strlen(pb) + 2;
	if ((input = malloc(n)) == NULL)
		goto out;
	snprintf(input, n, "%s.%s", hb, pb);
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, h->key) != 1 ||
	    EVP_DigestSign(md, sig, &sl, (const uint8_t *)input, strlen(input)) != 1 ||
	    (sb = b64url_encode(sig, sl)) == NULL)
		goto out;
	n = strlen(input) + strlen(sb) + 2;
	if ((token = malloc(n)) != NULL)
		snprintf(token, n, "%s.%s", input, sb);
out:
	EVP_MD_CTX_free(md);
	free(hb);
	free(pb);
	free(input);
	free(sb);
	return token;
}

static int never_seen(void *arg, const uint8_t id[TPM_PROTO_ID_LEN], int64_t expiry, int64_t now)
{
	(void)arg, (void)id, (void)expiry, (void)now;
	return 0;
}

/* The request around tad (the fuzz input), signed, read and verified. */
static void attest(const struct harness *h, const uint8_t *tad, size_t size)
{
	static const char fmt[] = "{\"att_type\":\"basic\",\"att_data\":{\"request_key\":{\"jwk\":%s},"
				  "\"service_context\":\"%s\",\"challenge\":\"%s\",\"tpm_att_data\":";
	size_t head = strlen(fmt) + strlen(h->jwk) + strlen(h->context) + strlen(h->challenge);
	char *payload = malloc(head + size + 3), *token = NULL, *msg = NULL;
	int n;

	if (payload == NULL)
		return;
	n = snprintf(payload, head, fmt, h->jwk, h->context, h->challenge);
	memcpy(payload + n, tad, size);
	memcpy(payload + n + size, "}}", 2);
	token = sign(h, payload, (size_t)n + size + 2);
	if (token != NULL && (msg = malloc(strlen(token) + 16)) != NULL) {
		struct tpm_proto_cfg cfg;
		struct tpm_proto_msg m;
		struct tpm_proto_result res;

		sprintf(msg, "{\"request\":\"%s\"}", token);
		tpm_proto_cfg_defaults(&cfg);
		cfg.service_key = h->service;
		cfg.provider = FUZZ_PROVIDER; /* the provider the context was issued by */
		cfg.now = FUZZ_NOW;
		cfg.replay = never_seen;
		if (tpm_proto_msg_parse(msg, strlen(msg), &m, NULL) == 0) {
			if (tpm_proto_request(&cfg, &m, &res, NULL) == 0)
				tpm_proto_result_free(&res);
			tpm_proto_msg_free(&m);
		}
	}
	free(msg);
	free(token);
	free(payload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setenv("TSS2_LOG", "all+NONE", 0);
	if (size > 256 * 1024)
		return 0; /* the point is the reader, not signing megabytes */
	attest(harness(), data, size);
	return 0;
}
