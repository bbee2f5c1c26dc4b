/*
 * JWS compact sign/verify, JWT time checks, JWK/JWKS (jose.h).
 */
#include "crypto/jose.h"

#include "base/codec.h"
#include "base/jsonx.h"
#include "crypto/crypto.h"

#include <math.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used". */
#define JWS_RSA_MIN_BITS 2048
/* Largest raw signature: RSA-8192 (1024 bytes); ES384 is 96. */
#define JWS_SIG_MAX 1024

struct jws_signer {
	EVP_PKEY *key;
	enum jws_alg alg;
	char *header_json;
	char *prefix; /* "<b64url header>." */
	size_t prefix_len;
	EVP_MD_CTX *proto;  /* DigestSign context initialised once, copied per token */
	size_t raw_sig_len; /* bytes of the JWS signature (raw r||s for ES) */
	size_t der_sig_max;
	size_t ec_field;
};

static const struct {
	enum jws_alg alg;
	const char *name;
} ALG_NAMES[] = {
    {JWS_ALG_NONE, "none"},   {JWS_ALG_RS256, "RS256"}, {JWS_ALG_PS256, "PS256"},
    {JWS_ALG_ES256, "ES256"}, {JWS_ALG_ES384, "ES384"},
};

const char *jws_alg_name(enum jws_alg alg)
{
	size_t i;

	for (i = 0; i < sizeof(ALG_NAMES) / sizeof(ALG_NAMES[0]); i++) {
		if (ALG_NAMES[i].alg == alg)
			return ALG_NAMES[i].name;
	}
	return NULL;
}

int jws_alg_from_name(const char *name, enum jws_alg *out, struct attest_err *err)
{
	size_t i;

	for (i = 0; name != NULL && i < sizeof(ALG_NAMES) / sizeof(ALG_NAMES[0]); i++) {
		if (strcmp(ALG_NAMES[i].name, name) == 0) {
			*out = ALG_NAMES[i].alg;
			return ATTEST_OK;
		}
	}
	return attest_err_set(err, ATTEST_E_UNSUPPORTED, "jws.alg.unsupported",
			      "JWS algorithm \"%.32s\" is not supported (RS256, PS256, ES256, ES384, none)",
			      name ? name : "(null)");
}

/* "P-256" / "P-384" for an EC key on those curves, else NULL. */
static const char *ec_jwk_curve(EVP_PKEY *key, size_t *flen)
{
	char group[64];
	size_t n = 0;

	if (key == NULL || !crypto_key_is(key, EVP_PKEY_EC, "EC") ||
	    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &n) != 1)
		return NULL;
	if (strcmp(group, SN_X9_62_prime256v1) == 0) {
		*flen = 32;
		return "P-256";
	}
	if (strcmp(group, SN_secp384r1) == 0) {
		*flen = 48;
		return "P-384";
	}
	return NULL;
}

bool jws_alg_fits_key(enum jws_alg alg, EVP_PKEY *key)
{
	size_t flen = 0;
	const char *crv;

	if (key == NULL)
		return false;
	switch (alg) {
	case JWS_ALG_RS256:
	case JWS_ALG_PS256:
		return crypto_key_is(key, EVP_PKEY_RSA, "RSA") && EVP_PKEY_get_bits(key) >= JWS_RSA_MIN_BITS;
	case JWS_ALG_ES256:
		crv = ec_jwk_curve(key, &flen);
		return crv != NULL && flen == 32;
	case JWS_ALG_ES384:
		crv = ec_jwk_curve(key, &flen);
		return crv != NULL && flen == 48;
	case JWS_ALG_NONE:
		break;
	}
	return false;
}

int jws_alg_for_key(EVP_PKEY *key, enum jws_alg *out)
{
	size_t flen = 0;

	if (key != NULL && EVP_PKEY_is_a(key, "RSA")) {
		*out = JWS_ALG_RS256;
		return jws_alg_fits_key(JWS_ALG_RS256, key) ? ATTEST_OK : ATTEST_E_UNSUPPORTED;
	}
	if (ec_jwk_curve(key, &flen) != NULL) {
		*out = flen == 32 ? JWS_ALG_ES256 : JWS_ALG_ES384;
		return ATTEST_OK;
	}
	return ATTEST_E_UNSUPPORTED;
}

static enum hash_alg alg_hash(enum jws_alg alg)
{
	return alg == JWS_ALG_ES384 ? HASH_SHA384 : HASH_SHA256;
}

/* ---- signing ------------------------------------------------------------ */

/* Initialises s->proto for alg over s->key (RFC 7518 §3.3-3.5 parameters). */
static int signer_init_ctx(struct jws_signer *s)
{
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md = hash_md(alg_hash(s->alg));

	s->proto = EVP_MD_CTX_new();
	if (s->proto == NULL || EVP_DigestSignInit(s->proto, &pctx, md, NULL, s->key) != 1)
		return ATTEST_E_INTERNAL;
	if (s->alg == JWS_ALG_RS256 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		return ATTEST_E_INTERNAL;
	/* PS256: MGF1 with SHA-256 and a salt as long as the hash (RFC 7518 §3.5). */
	if (s->alg == JWS_ALG_PS256 && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
					EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1 ||
					EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
		return ATTEST_E_INTERNAL;
	s->der_sig_max = (size_t)EVP_PKEY_get_size(s->key);
	if (s->alg == JWS_ALG_ES256 || s->alg == JWS_ALG_ES384) {
		s->ec_field = s->alg == JWS_ALG_ES256 ? 32 : 48;
		s->raw_sig_len = 2 * s->ec_field;
	} else {
		s->raw_sig_len = s->der_sig_max;
	}
	if (s->der_sig_max == 0 || s->der_sig_max > JWS_SIG_MAX)
		return ATTEST_E_UNSUPPORTED;
	return ATTEST_OK;
}

/*
 * Builds the header {"alg": ..., extra...} as JSON text (*json, optional)
 * and its "<base64url>." prefix (*prefix, *prefix_len). Caller frees both.
 */
static int make_prefix(enum jws_alg alg, const json_t *extra, char **json, char **prefix, size_t *prefix_len,
		       struct attest_err *err)
{
	json_t *h = json_object();
	const char *k;
	json_t *v;
	char *text, *b64;
	size_t n;

	if (h == NULL || json_object_set_new(h, "alg", json_string(jws_alg_name(alg))) != 0) {
		json_decref(h);
		return attest_err_set(err, ATTEST_E_NOMEM, "crypto.nomem", "out of memory");
	}
	if (extra != NULL && !json_is_object(extra)) {
		json_decref(h);
		return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid",
				      "JWS header members must be an object");
	}
	json_object_foreach((json_t *)extra, k, v)
	{
		if (strcmp(k, "alg") == 0 || strcmp(k, "crit") == 0) {
			json_decref(h);
			return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid",
					      "JWS header member \"%s\" is set by the signer", k);
		}
		if (json_object_set(h, k, v) != 0) {
			json_decref(h);
			return attest_err_set(err, ATTEST_E_NOMEM, "crypto.nomem", "out of memory");
		}
	}
	text = jsonx_dump(h);
	json_decref(h);
	b64 = text ? b64url_encode((const uint8_t *)text, strlen(text)) : NULL;
	n = b64 ? strlen(b64) : 0;
	*prefix = b64 ? malloc(n + 2) : NULL;
	if (*prefix == NULL) {
		free(text);
		free(b64);
		return attest_err_set(err, ATTEST_E_NOMEM, "crypto.nomem", "out of memory");
	}
	memcpy(*prefix, b64, n);
	(*prefix)[n] = '.';
	(*prefix)[n + 1] = '\0';
	*prefix_len = n + 1;
	free(b64);
	if (json != NULL)
		*json = text;
	else
		free(text);
	return ATTEST_OK;
}

int jws_signer_new(EVP_PKEY *key, enum jws_alg alg, const json_t *header_extra, struct jws_signer **out,
		   struct attest_err *err)
{
	struct jws_signer *s;
	int rc;

	if (out == NULL || jws_alg_name(alg) == NULL || (alg == JWS_ALG_NONE) != (key == NULL))
		return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid",
				      "jws_signer_new: bad argument");
	if (alg != JWS_ALG_NONE && !jws_alg_fits_key(alg, key))
		return attest_err_set(err, ATTEST_E_INVALID, "jws.alg.key", "%s does not fit the signing key",
				      jws_alg_name(alg));
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "crypto.nomem", "out of memory");
	s->alg = alg;
	if (key != NULL) {
		EVP_PKEY_up_ref(key);
		s->key = key;
		if (signer_init_ctx(s) != ATTEST_OK) {
			jws_signer_free(s);
			ERR_clear_error();
			return attest_err_set(err, ATTEST_E_INTERNAL, "jws.alg.key",
					      "cannot sign %s with this key", jws_alg_name(alg));
		}
	}
	rc = make_prefix(alg, header_extra, &s->header_json, &s->prefix, &s->prefix_len, err);
	if (rc != ATTEST_OK) {
		jws_signer_free(s);
		return rc;
	}
	*out = s;
	return ATTEST_OK;
}

void jws_signer_free(struct jws_signer *s)
{
	if (s == NULL)
		return;
	EVP_MD_CTX_free(s->proto);
	EVP_PKEY_free(s->key);
	free(s->header_json);
	free(s->prefix);
	free(s);
}

const char *jws_signer_header(const struct jws_signer *s)
{
	return s ? s->header_json : NULL;
}

/* DER ECDSA → raw big-endian r || s, each flen bytes (RFC 7518 §3.4). */
static int ecdsa_der_to_raw(const uint8_t *der, size_t derlen, size_t flen, uint8_t *raw)
{
	const unsigned char *p = der;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
	int ok;

	if (es == NULL)
		return ATTEST_E_INTERNAL;
	ok = BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)flen) == (int)flen &&
	     BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + flen, (int)flen) == (int)flen;
	ECDSA_SIG_free(es);
	return ok ? ATTEST_OK : ATTEST_E_INTERNAL;
}

/* Signs in[0..n) with the signer's key into raw (s->raw_sig_len bytes). */
static int signer_sign(const struct jws_signer *s, const char *in, size_t n, uint8_t *raw)
{
	uint8_t der[JWS_SIG_MAX] = {0};
	size_t derlen = sizeof(der);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = ATTEST_E_INTERNAL;

	if (ctx == NULL)
		return ATTEST_E_NOMEM;
	/*
	 * Copying the prepared context skips key and padding set-up per token;
	 * FINALISE lets DigestSignFinal sign in place instead of duplicating
	 * the context again so that it could be reused.
	 */
	if (EVP_MD_CTX_copy_ex(ctx, s->proto) != 1)
		goto out;
	EVP_MD_CTX_set_flags(ctx, EVP_MD_CTX_FLAG_FINALISE);
	if (EVP_DigestSignUpdate(ctx, in, n) != 1 ||
	    EVP_DigestSignFinal(ctx, s->ec_field ? der : raw, &derlen) != 1)
		goto out;
	if (s->ec_field)
		rc = ecdsa_der_to_raw(der, derlen, s->ec_field, raw);
	else
		rc = derlen == s->raw_sig_len ? ATTEST_OK : ATTEST_E_INTERNAL;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* Signs "<prefix><b64url payload>" into a fresh compact JWS. */
static int sign_with_prefix(const struct jws_signer *s, const char *prefix, size_t prefix_len,
			    const void *payload, size_t len, char **out, struct attest_err *err)
{
	uint8_t raw[JWS_SIG_MAX];
	size_t plen, slen, total, at;
	char *tok;
	int rc;

	if (len > JWS_MAX_TOKEN)
		return attest_err_set(err, ATTEST_E_NOMEM, "jws.parse.size", "JWS payload too large");
	plen = b64url_encoded_len(len);
	slen = s->key ? b64url_encoded_len(s->raw_sig_len) : 0;
	total = prefix_len + plen + 1 + slen + 1;
	tok = malloc(total);
	if (tok == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "crypto.nomem", "out of memory");
	memcpy(tok, prefix, prefix_len);
	b64url_encode_to(payload, len, tok + prefix_len);
	at = prefix_len + plen;
	tok[at++] = '.';
	tok[at] = '\0';
	if (s->key != NULL) {
		rc = signer_sign(s, tok, at - 1, raw);
		if (rc != ATTEST_OK) {
			free(tok);
			ERR_clear_error();
			return attest_err_set(err, rc, "jws.sign", "signing the token failed");
		}
		b64url_encode_to(raw, s->raw_sig_len, tok + at);
		OPENSSL_cleanse(raw, sizeof(raw));
	}
	*out = tok;
	return ATTEST_OK;
}

int jws_sign(const struct jws_signer *s, const void *payload, size_t len, char **out, struct attest_err *err)
{
	return jws_sign_ex(s, NULL, payload, len, out, err);
}

int jws_sign_ex(const struct jws_signer *s, const json_t *header_extra, const void *payload, size_t len,
		char **out, struct attest_err *err)
{
	char *prefix = NULL;
	size_t prefix_len = 0;
	int rc;

	if (s == NULL || out == NULL || (payload == NULL && len > 0))
		return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid", "jws_sign: bad argument");
	if (header_extra == NULL)
		return sign_with_prefix(s, s->prefix, s->prefix_len, payload, len, out, err);
	rc = make_prefix(s->alg, header_extra, NULL, &prefix, &prefix_len, err);
	if (rc == ATTEST_OK)
		rc = sign_with_prefix(s, prefix, prefix_len, payload, len, out, err);
	free(prefix);
	return rc;
}

int jwt_sign(const struct jws_signer *s, const json_t *claims, char **out, struct attest_err *err)
{
	return jwt_sign_ex(s, NULL, claims, out, err);
}

int jwt_sign_ex(const struct jws_signer *s, const json_t *header_extra, const json_t *claims, char **out,
		struct attest_err *err)
{
	char *text;
	size_t len = 0;
	int rc;

	if (!json_is_object(claims))
		return attest_err_set(err, ATTEST_E_INVALID, "jwt.claims",
				      "JWT claims must be a JSON object");
	/* Compact with sorted member names, as Azure Attestation's tokens are. */
	text = jose_json_dump_sorted(claims, &len);
	if (text == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "jwt.claims", "cannot serialise the claims");
	rc = jws_sign_ex(s, header_extra, text, len, out, err);
	free(text);
	return rc;
}

/* ---- parsing ------------------------------------------------------------ */

static bool b64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_';
}

/*
 * Decodes one segment: base64url without padding only (RFC 7515 §2,
 * "Base64url Encoding"). Errors: jws.parse.base64 naming the segment.
 */
static int seg_decode(const char *p, size_t n, const char *what, uint8_t **out, size_t *outlen,
		      struct attest_err *err)
{
	size_t i;

	/*
	 * One pass when the segment is good (b64url_decode_nopad refuses
	 * anything but unpadded base64url); a bad segment takes the
	 * character-by-character path below, for the precise error.
	 */
	if (n > 0 && b64url_decode_nopad(p, n, out, outlen) == ATTEST_OK)
		return ATTEST_OK;
	for (i = 0; i < n; i++) {
		if (!b64url_char(p[i])) {
			attest_err_set(err, ATTEST_E_PARSE, "jws.parse.base64",
				       "JWS %s has a character outside base64url (0x%02x)", what,
				       (unsigned char)p[i]);
			attest_err_where(err, "%s+%zu", what, i);
			return ATTEST_E_PARSE;
		}
	}
	if (n == 0) {
		*out = calloc(1, 1);
		*outlen = 0;
		return *out ? ATTEST_OK
			    : attest_err_set(err, ATTEST_E_NOMEM, "crypto.nomem", "out of memory");
	}
	if (b64_decode(p, n, out, outlen) != ATTEST_OK)
		return attest_err_set(err, ATTEST_E_PARSE, "jws.parse.base64",
				      "JWS %s is not canonical base64url", what);
	return ATTEST_OK;
}

/* Checks the decoded protected header and fills j->header and j->alg. */
static int parse_header(struct jws *j, const uint8_t *text, size_t n, struct attest_err *err)
{
	char why[96] = "";
	json_t *h = NULL;
	json_t *alg;

	if (jsonx_loadf((const char *)text, n, JSONX_NO_NUL, &h, why, sizeof(why), NULL) != ATTEST_OK ||
	    !json_is_object(h)) {
		json_decref(h);
		return attest_err_set(err, ATTEST_E_PARSE, "jws.parse.header",
				      "JWS protected header is not a JSON object%s%s", h ? "" : ": ", h ? "" : why);
	}
	j->header = h;
	alg = json_object_get(h, "alg");
	if (!json_is_string(alg))
		return attest_err_set(err, ATTEST_E_PARSE, "jws.parse.header",
				      "JWS protected header has no string \"alg\"");
	/* RFC 7515 §4.1.11: extensions we do not understand must be refused. */
	if (json_object_get(h, "crit") != NULL)
		return attest_err_set(
		    err, ATTEST_E_UNSUPPORTED, "jws.header.crit",
		    "JWS header lists critical extensions, none of which attestd implements");
	return jws_alg_from_name(json_string_value(alg), &j->alg, err);
}

static int segments_error(struct attest_err *err)
{
	return attest_err_set(err, ATTEST_E_PARSE, "jws.parse.segments",
			      "a compact JWS has exactly three dot-separated segments");
}

static int parse_token(const char *token, size_t len, bool borrow, struct jws **out, struct attest_err *err)
{
	const char *d1, *d2;
	struct jws *j;
	uint8_t *htext = NULL;
	size_t hlen = 0;
	int rc;

	if (token == NULL || out == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid", "jws_parse: bad argument");
	if (len > JWS_MAX_TOKEN)
		return attest_err_set(err, ATTEST_E_PARSE, "jws.parse.size",
				      "JWS is %zu bytes, over the %u-byte limit", len, JWS_MAX_TOKEN);
	/*
	 * The first dot from the front and the last from the back: the long
	 * payload between them is read once, by its decoder, which refuses a
	 * dot (asked after a refusal: then it was a fourth segment).
	 */
	d1 = memchr(token, '.', len);
	d2 = memrchr(token, '.', len);
	if (d1 == NULL || d2 == d1)
		return segments_error(err);
	if (d1 == token)
		return attest_err_set(err, ATTEST_E_PARSE, "jws.parse.segments",
				      "JWS protected header is empty");
	j = calloc(1, sizeof(*j));
	if (j == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "crypto.nomem", "out of memory");
	rc = seg_decode(token, (size_t)(d1 - token), "header", &htext, &hlen, err);
	if (rc == ATTEST_OK)
		rc = seg_decode(d1 + 1, (size_t)(d2 - d1 - 1), "payload", &j->payload, &j->payload_len, err);
	if (rc == ATTEST_OK)
		rc = seg_decode(d2 + 1, len - (size_t)(d2 + 1 - token), "signature", &j->sig, &j->sig_len,
				err);
	if (rc != ATTEST_OK && memchr(d1 + 1, '.', (size_t)(d2 - d1 - 1)) != NULL) {
		attest_err_clear(err); /* a fourth segment, not a bad character, is what was wrong */
		rc = segments_error(err);
	}
	if (rc == ATTEST_OK)
		rc = parse_header(j, htext, hlen, err);
	free(htext);
	if (rc == ATTEST_OK && borrow) {
		/* Read only, never freed: the caller keeps the token (jws_parse_view). */
		j->signing_input = (char *)(uintptr_t)token;
		j->signing_input_len = (size_t)(d2 - token);
		j->signing_input_borrowed = true;
	} else if (rc == ATTEST_OK) {
		j->signing_input_len = (size_t)(d2 - token);
		j->signing_input = malloc(j->signing_input_len + 1);
		if (j->signing_input == NULL) {
			rc = attest_err_set(err, ATTEST_E_NOMEM, "crypto.nomem", "out of memory");
		} else {
			memcpy(j->signing_input, token, j->signing_input_len);
			j->signing_input[j->signing_input_len] = '\0';
		}
	}
	if (rc != ATTEST_OK) {
		jws_free(j);
		return rc;
	}
	*out = j;
	return ATTEST_OK;
}

int jws_parse(const char *token, size_t len, struct jws **out, struct attest_err *err)
{
	return parse_token(token, len, false, out, err);
}

int jws_parse_view(const char *token, size_t len, struct jws **out, struct attest_err *err)
{
	return parse_token(token, len, true, out, err);
}

void jws_free(struct jws *j)
{
	if (j == NULL)
		return;
	json_decref(j->header);
	free(j->payload);
	free(j->sig);
	if (!j->signing_input_borrowed)
		free(j->signing_input);
	free(j);
}

const char *jws_header_str(const struct jws *j, const char *name)
{
	if (j == NULL || name == NULL)
		return NULL;
	return json_string_value(json_object_get(j->header, name));
}

/* Certificates of an "x5c" array (standard base64 DER each), leaf first. */
static int x5c_decode(const json_t *arr, const char *code, STACK_OF(X509) * *out, struct attest_err *err)
{
	STACK_OF(X509) * sk;
	size_t i;
	json_t *v;

	if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > 16)
		return attest_err_set(err, ATTEST_E_PARSE, code,
				      "\"x5c\" is not an array of 1 to 16 certificates");
	sk = sk_X509_new_null();
	if (sk == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "crypto.nomem", "out of memory");
	json_array_foreach(arr, i, v)
	{
		const char *s = json_string_value(v);
		uint8_t *der = NULL;
		size_t n = 0;
		X509 *x = NULL;
		int rc;

		if (s == NULL || b64_decode(s, strlen(s), &der, &n) != ATTEST_OK) {
			sk_X509_pop_free(sk, X509_free);
			attest_err_set(err, ATTEST_E_PARSE, code, "\"x5c\"[%zu] is not base64", i);
			return ATTEST_E_PARSE;
		}
		rc = x509_from_der(der, n, &x, code, err);
		free(der);
		if (rc != ATTEST_OK || sk_X509_push(sk, x) <= 0) {
			X509_free(x);
			sk_X509_pop_free(sk, X509_free);
			attest_err_where(err, "x5c[%zu]", i);
			return rc != ATTEST_OK ? rc : ATTEST_E_NOMEM;
		}
	}
	*out = sk;
	return ATTEST_OK;
}

int jws_header_x5c(const struct jws *j, STACK_OF(X509) * *out, struct attest_err *err)
{
	const json_t *arr;

	if (j == NULL || out == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid",
				      "jws_header_x5c: bad argument");
	*out = NULL;
	arr = json_object_get(j->header, "x5c");
	if (arr == NULL)
		return ATTEST_OK;
	return x5c_decode(arr, "jws.parse.header", out, err);
}

/* ---- verification ------------------------------------------------------- */

int jws_verify(const struct jws *j, EVP_PKEY *key, unsigned flags, struct attest_err *err)
{
	return jws_verify_pooled(j, key, NULL, flags, err);
}

int jws_verify_pooled(const struct jws *j, EVP_PKEY *key, struct verify_pool *pool, unsigned flags,
		      struct attest_err *err)
{
	const char *si;
	size_t n;

	if (j == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid", "jws_verify: bad argument");
	if (j->alg == JWS_ALG_NONE) {
		if (!(flags & JWS_ALLOW_NONE))
			return attest_err_set(err, ATTEST_E_VERIFY, "jws.alg.none",
					      "unsigned JWS (alg \"none\") is not accepted here");
		/* RFC 7518 §3.6: the signature of an unsecured JWS is empty. */
		if (j->sig_len != 0)
			return attest_err_set(err, ATTEST_E_VERIFY, "jws.signature",
					      "unsigned JWS (alg \"none\") carries a signature");
		return ATTEST_OK;
	}
	if (key == NULL || !jws_alg_fits_key(j->alg, key))
		return attest_err_set(err, ATTEST_E_VERIFY, "jws.alg.key",
				      "JWS alg %s does not fit the verification key", jws_alg_name(j->alg));
	si = j->signing_input;
	n = j->signing_input_len;
	/* A key's kept contexts verify; anything else, refusals included, goes the ordinary way. */
	if (pool != NULL && (j->alg == JWS_ALG_RS256 || j->alg == JWS_ALG_PS256) &&
	    verify_pool_rsa(pool, key, hash_md(HASH_SHA256),
			    j->alg == JWS_ALG_PS256 ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING,
			    RSA_PSS_SALTLEN_DIGEST, si, n, j->sig, j->sig_len) == 1)
		return ATTEST_OK;
	switch (j->alg) {
	case JWS_ALG_RS256:
		return rsa_verify_pkcs1(key, HASH_SHA256, si, n, j->sig, j->sig_len, "jws.signature", err);
	case JWS_ALG_PS256:
		return rsa_verify_pss(key, HASH_SHA256, si, n, j->sig, j->sig_len, RSA_PSS_SALTLEN_DIGEST,
				      "jws.signature", err);
	case JWS_ALG_ES256:
	case JWS_ALG_ES384:
		return ecdsa_verify_rs_be(key, alg_hash(j->alg), si, n, j->sig, j->sig_len, "jws.signature",
					  err);
	case JWS_ALG_NONE:
		break;
	}
	return attest_err_set(err, ATTEST_E_INTERNAL, "crypto.internal", "unreachable JWS algorithm");
}

/* Tries one JWK: 1 verified, 0 did not fit or did not verify (detail in err). */
static int try_jwk(const struct jws *j, const json_t *jwk, unsigned flags, struct attest_err *err)
{
	const char *alg = json_string_value(json_object_get(jwk, "alg"));
	const char *use = json_string_value(json_object_get(jwk, "use"));
	EVP_PKEY *key = NULL;
	int rc;

	/* RFC 7517 §4.2, §4.4: a key published for another use or algorithm is not this token's. */
	if (use != NULL && strcmp(use, "sig") != 0)
		return attest_err_set(err, ATTEST_E_VERIFY, "jws.alg.key",
				      "the key with this kid is for \"%.16s\", not signatures", use);
	if (alg != NULL && strcmp(alg, jws_alg_name(j->alg)) != 0)
		return attest_err_set(err, ATTEST_E_VERIFY, "jws.alg.key",
				      "the key with this kid is for %.16s, the token is %s", alg,
				      jws_alg_name(j->alg));
	rc = jwk_to_key(jwk, &key, err);
	if (rc == ATTEST_OK)
		rc = jws_verify(j, key, flags, err);
	EVP_PKEY_free(key);
	return rc;
}

int jws_verify_jwks(const struct jws *j, const json_t *jwks, unsigned flags, struct attest_err *err)
{
	const char *kid;
	const json_t *keys, *jwk;
	struct attest_err one;
	size_t i;

	if (j == NULL || jwks == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid",
				      "jws_verify_jwks: bad argument");
	if (j->alg == JWS_ALG_NONE)
		return jws_verify(j, NULL, flags, err);
	kid = jws_header_str(j, "kid");
	if (kid != NULL) {
		jwk = jwks_find(jwks, kid);
		if (jwk == NULL)
			return attest_err_set(err, ATTEST_E_VERIFY, "jws.kid.unknown",
					      "no key with kid \"%.80s\" in the key set", kid);
		return try_jwk(j, jwk, flags, err);
	}
	/* No kid: any key of the set that fits the algorithm may have signed. */
	keys = json_object_get(jwks, "keys");
	json_array_foreach(keys, i, jwk)
	{
		attest_err_clear(&one);
		if (try_jwk(j, jwk, flags, &one) == ATTEST_OK)
			return ATTEST_OK;
	}
	return attest_err_set(err, ATTEST_E_VERIFY, "jws.signature",
			      "no key of the key set verifies the %s signature", jws_alg_name(j->alg));
}

/* ---- JWT ---------------------------------------------------------------- */

int jwt_claims(const struct jws *j, json_t **out, struct attest_err *err)
{
	char why[96] = "";
	json_t *c = NULL;

	if (j == NULL || out == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid", "jwt_claims: bad argument");
	if (j->payload_len > JSONX_MAX_DOC)
		return attest_err_set(err, ATTEST_E_PARSE, "jwt.claims", "JWT claim set too large");
	if (jsonx_loadf((const char *)j->payload, j->payload_len, JSONX_NO_NUL, &c, why, sizeof(why), NULL) !=
		ATTEST_OK ||
	    !json_is_object(c)) {
		json_decref(c);
		return attest_err_set(err, ATTEST_E_PARSE, "jwt.claims",
				      "JWT claim set is not a JSON object%s%s", c ? "" : ": ", c ? "" : why);
	}
	*out = c;
	return ATTEST_OK;
}

/* Reads a NumericDate claim: 1 present, 0 absent, -1 not a number. */
static int numeric_date(const json_t *claims, const char *name, int64_t *out)
{
	const json_t *v = json_object_get(claims, name);
	double d;

	if (v == NULL)
		return 0;
	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return 1;
	}
	if (!json_is_real(v))
		return -1;
	d = json_real_value(v);
	/* RFC 7519 §2: seconds, possibly fractional; keep whole seconds in range. */
	if (!isfinite(d) || d < -9.0e15 || d > 9.0e15)
		return -1;
	*out = (int64_t)d;
	if ((double)*out > d)
		(*out)--; /* floor, without libm */
	return 1;
}

int jwt_check_time(const json_t *claims, int64_t now, int64_t skew, unsigned flags, struct attest_err *err)
{
	int64_t exp = 0, nbf = 0, iat = 0;
	int has_exp = numeric_date(claims, "exp", &exp), has_nbf = numeric_date(claims, "nbf", &nbf),
	    has_iat = numeric_date(claims, "iat", &iat);

	if (!json_is_object(claims) || skew < 0)
		return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid",
				      "jwt_check_time: bad argument");
	if (has_exp < 0 || has_nbf < 0 || has_iat < 0)
		return attest_err_set(err, ATTEST_E_PARSE, "jwt.claims", "JWT \"%s\" is not a NumericDate",
				      has_exp < 0   ? "exp"
				      : has_nbf < 0 ? "nbf"
						    : "iat");
	if (!has_exp && (flags & JWT_REQUIRE_EXP))
		return attest_err_set(err, ATTEST_E_VERIFY, "jwt.exp_missing", "JWT has no \"exp\" claim");
	/* RFC 7519 §4.1.4: the token must not be accepted on or after exp. */
	if (has_exp && exp <= now - skew)
		return attest_err_set(err, ATTEST_E_VERIFY, "jwt.expired",
				      "JWT expired at %lld, now is %lld (skew %lld s)", (long long)exp,
				      (long long)now, (long long)skew);
	if (has_nbf && nbf > now + skew)
		return attest_err_set(err, ATTEST_E_VERIFY, "jwt.not_yet_valid",
				      "JWT is not valid before %lld, now is %lld (skew %lld s)",
				      (long long)nbf, (long long)now, (long long)skew);
	if (has_iat && iat > now + skew)
		return attest_err_set(err, ATTEST_E_VERIFY, "jwt.iat_future",
				      "JWT was issued at %lld, after now (%lld, skew %lld s)", (long long)iat,
				      (long long)now, (long long)skew);
	return ATTEST_OK;
}

int jwt_set_times(json_t *claims, int64_t now, int64_t lifetime)
{
	if (!json_is_object(claims) || lifetime <= 0)
		return ATTEST_E_INVALID;
	if (json_object_set_new(claims, "iat", json_integer(now)) != 0 ||
	    json_object_set_new(claims, "nbf", json_integer(now)) != 0 ||
	    json_object_set_new(claims, "exp", json_integer(now + lifetime)) != 0)
		return ATTEST_E_NOMEM;
	return ATTEST_OK;
}

/* ---- JWK ---------------------------------------------------------------- */

/* base64url of a big number, big-endian, minimal (or padded to width). */
static char *bn_b64url(const BIGNUM *bn, size_t width)
{
	uint8_t buf[1024];
	int n = width ? (int)width : BN_num_bytes(bn);

	if (n <= 0 || (size_t)n > sizeof(buf) || BN_bn2binpad(bn, buf, n) != n)
		return NULL;
	return b64url_encode(buf, (size_t)n);
}

/* The public members of key as base64url strings: RSA n/e or EC x/y (+crv). */
struct jwk_pub {
	const char *kty, *crv;
	char *a, *b; /* n, e  or  x, y */
};

static void jwk_pub_free(struct jwk_pub *p)
{
	free(p->a);
	free(p->b);
}

static int jwk_pub_get(EVP_PKEY *key, struct jwk_pub *p)
{
	BIGNUM *x = NULL, *y = NULL;
	size_t flen = 0;

	memset(p, 0, sizeof(*p));
	if (key != NULL && EVP_PKEY_is_a(key, "RSA")) {
		p->kty = "RSA";
		if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &x) == 1 &&
		    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &y) == 1) {
			p->a = bn_b64url(x, 0);
			p->b = bn_b64url(y, 0);
		}
	} else if ((p->crv = ec_jwk_curve(key, &flen)) != NULL) {
		p->kty = "EC";
		/* RFC 7518 §6.2.1.2: x and y are the full field width. */
		if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
		    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1) {
			p->a = bn_b64url(x, flen);
			p->b = bn_b64url(y, flen);
		}
	} else {
		return ATTEST_E_UNSUPPORTED;
	}
	BN_free(x);
	BN_free(y);
	ERR_clear_error();
	if (p->a == NULL || p->b == NULL) {
		jwk_pub_free(p);
		return ATTEST_E_INTERNAL;
	}
	return ATTEST_OK;
}

int jwk_thumbprint(EVP_PKEY *key, uint8_t out[32])
{
	struct jwk_pub p;
	char *text;
	size_t n;
	int rc = jwk_pub_get(key, &p);

	if (rc != ATTEST_OK)
		return rc;
	/* RFC 7638 §3.2: required members only, lexicographic order, no whitespace. */
	n = strlen(p.a) + strlen(p.b) + 64;
	text = malloc(n);
	if (text == NULL) {
		jwk_pub_free(&p);
		return ATTEST_E_NOMEM;
	}
	if (strcmp(p.kty, "RSA") == 0)
		snprintf(text, n, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", p.b, p.a);
	else
		snprintf(text, n, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", p.crv, p.a,
			 p.b);
	rc = sha256(text, strlen(text), out);
	free(text);
	jwk_pub_free(&p);
	return rc;
}

/* Adds x5c, x5t and x5t#S256 for certs (leaf first). */
static int jwk_add_x5c(json_t *jwk, STACK_OF(X509) * certs)
{
	json_t *arr = json_array();
	uint8_t d1[20], d256[32];
	unsigned char *der = NULL;
	int i, n;

	if (arr == NULL || json_object_set_new(jwk, "x5c", arr) != 0)
		return ATTEST_E_NOMEM;
	for (i = 0; i < sk_X509_num(certs); i++) {
		char *b64;

		der = NULL;
		n = i2d_X509(sk_X509_value(certs, i), &der);
		if (n <= 0)
			return ATTEST_E_INTERNAL;
		/* RFC 7517 §4.7: standard base64 (not url), DER. */
		b64 = b64std_encode(der, (size_t)n);
		if (i == 0 && (hash_digest(HASH_SHA1, der, (size_t)n, d1) != ATTEST_OK ||
			       sha256(der, (size_t)n, d256) != ATTEST_OK)) {
			free(b64);
			OPENSSL_free(der);
			return ATTEST_E_INTERNAL;
		}
		OPENSSL_free(der);
		if (b64 == NULL || json_array_append_new(arr, json_string(b64)) != 0) {
			free(b64);
			return ATTEST_E_NOMEM;
		}
		free(b64);
	}
	{
		char *t1 = b64url_encode(d1, sizeof(d1)), *t2 = b64url_encode(d256, sizeof(d256));
		int rc = (t1 && t2 && json_object_set_new(jwk, "x5t", json_string(t1)) == 0 &&
			  json_object_set_new(jwk, "x5t#S256", json_string(t2)) == 0)
			     ? ATTEST_OK
			     : ATTEST_E_NOMEM;

		free(t1);
		free(t2);
		return rc;
	}
}

/*
 * {"kid"?, "kty", "crv"?, n/x, e/y} from p (whose strings it copies); NULL
 * when out of memory. kty and crv are literals and a, b base64url this file
 * encoded: ASCII, so jansson's UTF-8 scan is skipped for them (it was half
 * the cost of a JWK). The caller's kid is checked.
 */
static json_t *jwk_build(const struct jwk_pub *p, const char *kid)
{
	json_t *jwk = json_object();

	if (jwk != NULL && (kid == NULL || json_object_set_new(jwk, "kid", json_string(kid)) == 0) &&
	    json_object_set_new_nocheck(jwk, "kty", json_string_nocheck(p->kty)) == 0 &&
	    (p->crv == NULL || json_object_set_new_nocheck(jwk, "crv", json_string_nocheck(p->crv)) == 0) &&
	    json_object_set_new_nocheck(jwk, p->crv ? "x" : "n", json_string_nocheck(p->a)) == 0 &&
	    json_object_set_new_nocheck(jwk, p->crv ? "y" : "e", json_string_nocheck(p->b)) == 0)
		return jwk;
	json_decref(jwk);
	return NULL;
}

int jwk_from_key(EVP_PKEY *key, const char *kid, STACK_OF(X509) * certs, json_t **out, struct attest_err *err)
{
	struct jwk_pub p;
	json_t *jwk;
	int rc;

	if (out == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid", "jwk_from_key: bad argument");
	rc = jwk_pub_get(key, &p);
	if (rc != ATTEST_OK)
		return attest_err_set(err, rc, "jwk.unsupported",
				      "the key is neither RSA nor EC P-256/P-384");
	jwk = jwk_build(&p, kid);
	rc = jwk != NULL ? ATTEST_OK : ATTEST_E_NOMEM;
	if (rc == ATTEST_OK && certs != NULL && sk_X509_num(certs) > 0)
		rc = jwk_add_x5c(jwk, certs);
	jwk_pub_free(&p);
	if (rc != ATTEST_OK) {
		json_decref(jwk);
		return attest_err_set(err, rc, "jwk.unsupported", "cannot build the JWK");
	}
	*out = jwk;
	return ATTEST_OK;
}

/* The minimal big-endian octets of an integer (RFC 7518 §6.3.1: no leading zero octet), base64url. */
static char *minimal_b64url(const uint8_t *p, size_t n)
{
	while (n > 0 && *p == 0)
		p++, n--;
	return n > 0 ? b64url_encode(p, n) : NULL;
}

int jwk_from_rsa_raw(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen, const char *kid,
		     json_t **out, struct attest_err *err)
{
	struct jwk_pub p = {.kty = "RSA"};
	json_t *jwk;

	if (out == NULL || n == NULL || e == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid",
				      "jwk_from_rsa_raw: bad argument");
	p.a = minimal_b64url(n, nlen);
	p.b = minimal_b64url(e, elen);
	jwk = p.a != NULL && p.b != NULL ? jwk_build(&p, kid) : NULL;
	jwk_pub_free(&p);
	if (jwk == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "jwk.unsupported",
				      "cannot build the JWK (a zero modulus or exponent, or out of memory)");
	*out = jwk;
	return ATTEST_OK;
}

/* Decodes a base64url member into a fresh buffer. */
static int jwk_member(const json_t *jwk, const char *name, uint8_t **out, size_t *len, struct attest_err *err)
{
	const char *s = json_string_value(json_object_get(jwk, name));
	size_t i, n;

	if (s == NULL)
		return attest_err_set(err, ATTEST_E_PARSE, "jwk.parse", "JWK has no string \"%s\"", name);
	n = strlen(s);
	for (i = 0; i < n; i++) {
		if (!b64url_char(s[i]))
			return attest_err_set(err, ATTEST_E_PARSE, "jwk.parse", "JWK \"%s\" is not base64url",
					      name);
	}
	if (n == 0 || b64_decode(s, n, out, len) != ATTEST_OK)
		return attest_err_set(err, ATTEST_E_PARSE, "jwk.parse", "JWK \"%s\" is not base64url", name);
	return ATTEST_OK;
}

static int jwk_rsa_key(const json_t *jwk, EVP_PKEY **out, struct attest_err *err)
{
	uint8_t *n = NULL, *e = NULL;
	size_t nlen = 0, elen = 0;
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *key = NULL;
	int rc = jwk_member(jwk, "n", &n, &nlen, err);

	if (rc == ATTEST_OK)
		rc = jwk_member(jwk, "e", &e, &elen, err);
	if (rc != ATTEST_OK)
		goto out;
	if (nlen > 1024 || elen > 8) {
		rc =
		    attest_err_set(err, ATTEST_E_PARSE, "jwk.parse", "JWK RSA modulus or exponent too large");
		goto out;
	}
	bn = BN_bin2bn(n, (int)nlen, NULL);
	be = BN_bin2bn(e, (int)elen, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (bn == NULL || be == NULL || bld == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1 || EVP_PKEY_get_bits(key) < 512 ||
	    BN_is_odd(be) == 0) {
		rc = attest_err_set(err, ATTEST_E_PARSE, "jwk.parse", "JWK RSA key is not usable");
		goto out;
	}
	*out = key;
	key = NULL; /* transferred */
out:
	EVP_PKEY_free(key);
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	free(n);
	free(e);
	ERR_clear_error();
	return rc;
}

static int jwk_ec_key(const json_t *jwk, EVP_PKEY **out, struct attest_err *err)
{
	const char *crv = json_string_value(json_object_get(jwk, "crv"));
	uint8_t *x = NULL, *y = NULL, xy[96];
	size_t xlen = 0, ylen = 0, flen;
	enum ec_curve curve;
	int rc;

	if (crv != NULL && strcmp(crv, "P-256") == 0) {
		curve = EC_P256;
		flen = 32;
	} else if (crv != NULL && strcmp(crv, "P-384") == 0) {
		curve = EC_P384;
		flen = 48;
	} else {
		return attest_err_set(err, ATTEST_E_UNSUPPORTED, "jwk.unsupported",
				      "JWK curve \"%.16s\" is not supported", crv ? crv : "(none)");
	}
	rc = jwk_member(jwk, "x", &x, &xlen, err);
	if (rc == ATTEST_OK)
		rc = jwk_member(jwk, "y", &y, &ylen, err);
	if (rc == ATTEST_OK && (xlen != flen || ylen != flen))
		rc = attest_err_set(err, ATTEST_E_PARSE, "jwk.parse",
				    "JWK %s coordinates must be %zu bytes each", crv, flen);
	if (rc == ATTEST_OK && x != NULL && y != NULL) {
		memcpy(xy, x, flen);
		memcpy(xy + flen, y, flen);
		rc = ec_pubkey_from_xy(curve, xy, 2 * flen, out, "jwk", err);
	}
	free(x);
	free(y);
	return rc;
}

int jwk_to_key(const json_t *jwk, EVP_PKEY **out, struct attest_err *err)
{
	const char *kty = json_string_value(json_object_get(jwk, "kty"));
	const json_t *x5c = json_object_get(jwk, "x5c");
	bool has_members = json_object_get(jwk, "n") != NULL || json_object_get(jwk, "x") != NULL;
	STACK_OF(X509) *certs = NULL;
	EVP_PKEY *key = NULL, *cert_key = NULL;
	int rc;

	if (!json_is_object(jwk) || out == NULL)
		return attest_err_set(err, ATTEST_E_PARSE, "jwk.parse", "a JWK must be a JSON object");
	if (kty == NULL)
		return attest_err_set(err, ATTEST_E_PARSE, "jwk.parse", "JWK has no string \"kty\"");
	if (strcmp(kty, "RSA") != 0 && strcmp(kty, "EC") != 0)
		return attest_err_set(err, ATTEST_E_UNSUPPORTED, "jwk.unsupported",
				      "JWK kty \"%.16s\" is not supported", kty);
	if (x5c != NULL) {
		rc = x5c_decode(x5c, "jwk.parse", &certs, err);
		if (rc != ATTEST_OK)
			return rc;
		cert_key = X509_get_pubkey(sk_X509_value(certs, 0));
		sk_X509_pop_free(certs, X509_free);
	}
	if (has_members || cert_key == NULL) {
		rc = strcmp(kty, "RSA") == 0 ? jwk_rsa_key(jwk, &key, err) : jwk_ec_key(jwk, &key, err);
		if (rc != ATTEST_OK) {
			EVP_PKEY_free(cert_key);
			return rc;
		}
		/* Both forms present: they must be the same key. */
		if (cert_key != NULL && EVP_PKEY_eq(key, cert_key) != 1) {
			EVP_PKEY_free(cert_key);
			EVP_PKEY_free(key);
			return attest_err_set(err, ATTEST_E_PARSE, "jwk.parse",
					      "JWK key members and its x5c certificate hold different keys");
		}
		EVP_PKEY_free(cert_key);
	} else {
		key = cert_key;
	}
	if (!EVP_PKEY_is_a(key, kty)) {
		EVP_PKEY_free(key);
		return attest_err_set(err, ATTEST_E_PARSE, "jwk.parse",
				      "JWK kty does not match its certificate's key");
	}
	*out = key;
	return ATTEST_OK;
}

json_t *jwks_new(void)
{
	return json_pack("{s:[]}", "keys");
}

int jwks_add(json_t *jwks, json_t *jwk)
{
	json_t *keys = json_object_get(jwks, "keys");

	if (!json_is_array(keys) || !json_is_object(jwk)) {
		json_decref(jwk);
		return ATTEST_E_INVALID;
	}
	return json_array_append_new(keys, jwk) == 0 ? ATTEST_OK : ATTEST_E_NOMEM;
}

const json_t *jwks_find(const json_t *jwks, const char *kid)
{
	const json_t *keys = json_object_get(jwks, "keys"), *k;
	size_t i;

	if (kid == NULL)
		return NULL;
	json_array_foreach(keys, i, k)
	{
		const char *s = json_string_value(json_object_get(k, "kid"));

		if (s != NULL && strcmp(s, kid) == 0)
			return k;
	}
	return NULL;
}
