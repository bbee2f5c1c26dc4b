/*
 * Policy JWS (maa-interface.md §3.8, §1.4): what PUT /policies/{type} and
 * :reset carry. Unsigned: header {"alg":"none"}, payload
 * {"AttestationPolicy": b64url(policy text)}, empty signature. Signed: the
 * same payload with {"alg": "RS256"|..., "x5c": [...]} and a signature by
 * the x5c leaf. Signature work is crypto/jose.h's; this file knows the
 * policy payload, the leniencies and the two hashes.
 */
#include "policy/policy.h"

#include "base/codec.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

/* b64url('{"alg":"none"}') */
#define NONE_HEADER_B64 "eyJhbGciOiJub25lIn0"

static bool is_b64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Three dot-separated segments of the base64url alphabet, the first non-empty. */
static bool looks_like_jws(const char *s, size_t n)
{
	unsigned dots = 0;

	if (n == 0 || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.')
			dots++;
		else if (!is_b64url_char(s[i]) && s[i] != '=')
			return false;
	}
	return dots == 2;
}

static bool utf8_valid(const uint8_t *p, size_t n)
{
	json_t *v = json_stringn((const char *)p, n); /* jansson validates UTF-8 */
	bool ok = v != NULL;

	json_decref(v);
	return ok && memchr(p, '\0', n) == NULL;
}

static int jws_fail(struct attest_err *err, const char *name, const char *what, const struct attest_err *inner)
{
	if (inner != NULL && inner->name[0])
		return attest_err_set(err, ATTEST_E_POLICY, name, "%s: %s (%s)", what, inner->msg, inner->name);
	return attest_err_set(err, ATTEST_E_POLICY, name, "%s", what);
}

/* The JWK reported as x-ms-policy-signer: {"kty", "x5c"} (§2.2). */
static int signer_from_x5c(EVP_PKEY *key, const json_t *x5c, json_t **out)
{
	const char *kty = EVP_PKEY_base_id(key) == EVP_PKEY_RSA ? "RSA" : "EC";

	*out = json_pack("{s:s, s:O}", "kty", kty, "x5c", x5c);
	return *out ? ATTEST_OK : ATTEST_E_NOMEM;
}

/* Verifies a signed policy JWS with the key of its own header; fills signer and x5c. */
static int verify_signed(const struct jws *j, struct policy_jws *pj, struct attest_err *err)
{
	struct attest_err in;
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *key = NULL;
	const json_t *jwk = json_object_get(j->header, "jwk");
	const json_t *x5c = json_object_get(j->header, "x5c");
	int rc;

	attest_err_clear(&in);
	if (x5c != NULL) {
		if (jws_header_x5c(j, &chain, &in) != ATTEST_OK || chain == NULL || sk_X509_num(chain) == 0) {
			rc = jws_fail(err, "policy.jws.key", "the x5c header holds no usable certificate", &in);
			goto out;
		}
		key = X509_get_pubkey(sk_X509_value(chain, 0));
	} else if (jwk != NULL) {
		if (jwk_to_key(jwk, &key, &in) != ATTEST_OK) {
			rc = jws_fail(err, "policy.jws.key", "the jwk header is not a usable key", &in);
			goto out;
		}
	}
	if (key == NULL) {
		rc = jws_fail(err, "policy.jws.key", "a signed policy needs an x5c or jwk header", NULL);
		goto out;
	}
	if (jws_verify(j, key, 0, &in) != ATTEST_OK) {
		rc = jws_fail(err, "policy.jws.signature", "the policy signature does not verify with its own key", &in);
		goto out;
	}
	if (x5c != NULL) {
		pj->x5c = json_incref((json_t *)x5c);
		rc = signer_from_x5c(key, x5c, &pj->signer_jwk);
	} else {
		pj->signer_jwk = json_deep_copy(jwk);
		rc = pj->signer_jwk ? ATTEST_OK : ATTEST_E_NOMEM;
	}
	if (rc != ATTEST_OK)
		rc = attest_err_set(err, ATTEST_E_NOMEM, "policy.nomem", "out of memory");
	pj->is_signed = rc == ATTEST_OK;
out:
	EVP_PKEY_free(key);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

/* Payload {"AttestationPolicy": b64url(text)} → text, policy_b64 and hash. */
static int parse_payload(const struct jws *j, unsigned flags, struct policy_jws *pj, struct attest_err *err)
{
	json_t *p;
	const json_t *ap;
	uint8_t *text = NULL;
	size_t n = 0;
	int rc = ATTEST_OK;

	if (j->payload_len == 0) {
		if (!(flags & POLICY_JWS_ALLOW_EMPTY))
			return jws_fail(err, "policy.jws.empty", "the policy JWS has an empty payload", NULL);
		return ATTEST_OK;
	}
	/* Duplicate members are refused: two AttestationPolicy values under one signature would be ambiguous. */
	p = json_loadb((const char *)j->payload, j->payload_len, JSON_REJECT_DUPLICATES, NULL);
	ap = json_object_get(p, "AttestationPolicy");
	if (!json_is_string(ap)) {
		rc = jws_fail(err, "policy.jws.payload", "the JWS payload has no \"AttestationPolicy\" string", NULL);
	} else if (b64_decode(json_string_value(ap), json_string_length(ap), &text, &n) != ATTEST_OK) {
		rc = jws_fail(err, "policy.jws.payload", "AttestationPolicy is not base64url", NULL);
	} else if (!utf8_valid(text, n)) {
		rc = jws_fail(err, "policy.jws.payload", "the policy text is not UTF-8", NULL);
	} else if ((pj->policy_b64 = strdup(json_string_value(ap))) == NULL ||
		   (pj->text = malloc(n + 1)) == NULL) {
		rc = attest_err_set(err, ATTEST_E_NOMEM, "policy.nomem", "out of memory");
	} else {
		memcpy(pj->text, text, n);
		pj->text[n] = '\0';
		pj->text_len = n;
		/* §3.8: the hash is over the AttestationPolicy string exactly as carried. */
		if (policy_hash_b64(pj->policy_b64, strlen(pj->policy_b64), pj->hash) != ATTEST_OK)
			rc = attest_err_set(err, ATTEST_E_NOMEM, "policy.nomem", "cannot hash the policy");
	}
	free(text);
	json_decref(p);
	return rc;
}

static int parse_text(const char *body, size_t len, struct policy_jws *pj, struct attest_err *err)
{
	if (!utf8_valid((const uint8_t *)body, len))
		return jws_fail(err, "policy.jws.payload", "the policy text is not UTF-8", NULL);
	if ((pj->text = malloc(len + 1)) == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "policy.nomem", "out of memory");
	memcpy(pj->text, body, len);
	pj->text[len] = '\0';
	pj->text_len = len;
	pj->is_text = true;
	return policy_hash_text(body, len, pj->hash);
}

int policy_jws_parse(const char *body, size_t len, unsigned flags, struct policy_jws **out, struct attest_err *err)
{
	struct policy_jws *pj = calloc(1, sizeof(*pj));
	struct jws *j = NULL;
	struct attest_err in;
	size_t n = len;
	int rc;

	if (pj == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "policy.nomem", "out of memory");
	if (policy_token_hash(body, len, pj->token_hash) != ATTEST_OK) {
		free(pj);
		return attest_err_set(err, ATTEST_E_NOMEM, "policy.nomem", "cannot hash the policy token");
	}
	while (n > 0 && (body[n - 1] == '\n' || body[n - 1] == '\r' || body[n - 1] == ' ' || body[n - 1] == '\t'))
		n--; /* a trailing newline from a file or a shell is not part of the token */
	attest_err_clear(&in);
	if (!looks_like_jws(body, n)) {
		rc = (flags & POLICY_JWS_ALLOW_TEXT)
			     ? parse_text(body, len, pj, err)
			     : jws_fail(err, "policy.jws.text", "the body is not a compact JWS (three base64url segments)", NULL);
		goto out;
	}
	if (jws_parse(body, n, &j, &in) != ATTEST_OK) {
		rc = jws_fail(err, strcmp(in.name, "jws.alg.unsupported") == 0 ? "policy.jws.alg" : "policy.jws.format",
			      "the policy JWS is malformed", &in);
		goto out;
	}
	snprintf(pj->alg, sizeof(pj->alg), "%s", jws_alg_name(j->alg));
	if (j->alg == JWS_ALG_NONE) {
		if (j->sig_len != 0) {
			rc = jws_fail(err, "policy.jws.format", "an unsigned (alg none) JWS must have an empty signature", NULL);
			goto out;
		}
	} else if ((rc = verify_signed(j, pj, err)) != ATTEST_OK) {
		goto out;
	}
	rc = parse_payload(j, flags, pj, err);
out:
	jws_free(j);
	if (rc != ATTEST_OK) {
		policy_jws_free(pj);
		return rc;
	}
	*out = pj;
	return ATTEST_OK;
}

void policy_jws_free(struct policy_jws *j)
{
	if (j == NULL)
		return;
	free(j->text);
	free(j->policy_b64);
	json_decref(j->signer_jwk);
	json_decref(j->x5c);
	free(j);
}

/* The compact JSON payload of a policy text (caller frees). */
static char *payload_of(const char *text, size_t len)
{
	char *b64 = b64url_encode((const uint8_t *)text, len), *s = NULL;
	json_t *p;

	if (b64 == NULL)
		return NULL;
	p = json_pack("{s:s}", "AttestationPolicy", b64);
	if (p != NULL)
		s = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	free(b64);
	return s;
}

int policy_jws_unsigned(const char *text, size_t len, char **out, struct attest_err *err)
{
	char *payload = NULL, *pb64 = NULL, *s;
	size_t n;

	if (text != NULL && ((payload = payload_of(text, len)) == NULL ||
			     (pb64 = b64url_encode((const uint8_t *)payload, strlen(payload))) == NULL)) {
		free(payload);
		return attest_err_set(err, ATTEST_E_NOMEM, "policy.nomem", "out of memory");
	}
	n = strlen(NONE_HEADER_B64) + (pb64 ? strlen(pb64) : 0) + 3;
	if ((s = malloc(n)) != NULL)
		snprintf(s, n, "%s.%s.", NONE_HEADER_B64, pb64 ? pb64 : "");
	free(payload);
	free(pb64);
	if (s == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "policy.nomem", "out of memory");
	*out = s;
	return ATTEST_OK;
}

/* {"x5c": [std base64 DER, ...]} of the PEM certificates. */
static int x5c_header(const char *cert_pem, json_t **out, struct attest_err *err)
{
	STACK_OF(X509) *certs = NULL;
	json_t *arr = json_array();
	int rc;

	if (arr == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "policy.nomem", "out of memory");
	if ((rc = x509_stack_from_pem((const uint8_t *)cert_pem, strlen(cert_pem), &certs, "policy.jws.cert", err)) !=
	    ATTEST_OK) {
		json_decref(arr);
		return rc;
	}
	for (int i = 0; i < sk_X509_num(certs) && rc == ATTEST_OK; i++) {
		unsigned char *der = NULL;
		int dlen = i2d_X509(sk_X509_value(certs, i), &der);
		char *b64 = dlen > 0 ? b64std_encode(der, (size_t)dlen) : NULL;

		if (b64 == NULL || json_array_append_new(arr, json_string(b64)) != 0)
			rc = attest_err_set(err, ATTEST_E_NOMEM, "policy.nomem", "out of memory");
		free(b64);
		OPENSSL_free(der);
	}
	sk_X509_pop_free(certs, X509_free);
	if (rc == ATTEST_OK && (*out = json_pack("{s:o}", "x5c", arr)) != NULL)
		return ATTEST_OK;
	if (rc == ATTEST_OK) {
		json_decref(arr);
		rc = attest_err_set(err, ATTEST_E_NOMEM, "policy.nomem", "out of memory");
	} else {
		json_decref(arr);
	}
	return rc;
}

int policy_jws_signed(const char *text, size_t len, const char *key_pem, const char *cert_pem, char **out,
		      struct attest_err *err)
{
	BIO *bio = BIO_new_mem_buf(key_pem, -1);
	EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	struct jws_signer *signer = NULL;
	json_t *hdr = NULL;
	char *payload = NULL;
	enum jws_alg alg;
	int rc;

	BIO_free(bio);
	if (key == NULL) {
		rc = attest_err_set(err, ATTEST_E_INVALID, "policy.jws.key", "the signing key is not a PEM private key");
		goto out;
	}
	if (jws_alg_for_key(key, &alg) != ATTEST_OK) {
		rc = attest_err_set(err, ATTEST_E_INVALID, "policy.jws.key", "the signing key is neither RSA nor P-256/P-384");
		goto out;
	}
	if ((rc = x5c_header(cert_pem, &hdr, err)) != ATTEST_OK ||
	    (rc = jws_signer_new(key, alg, hdr, &signer, err)) != ATTEST_OK)
		goto out;
	if (text != NULL && (payload = payload_of(text, len)) == NULL) {
		rc = attest_err_set(err, ATTEST_E_NOMEM, "policy.nomem", "out of memory");
		goto out;
	}
	rc = jws_sign(signer, payload ? payload : "", payload ? strlen(payload) : 0, out, err);
out:
	free(payload);
	json_decref(hdr);
	jws_signer_free(signer);
	EVP_PKEY_free(key);
	return rc;
}
