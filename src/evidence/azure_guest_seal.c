/*
 * The sealed AzureGuest token (maa-interface.md §1.3.6): the JWT
 * AES-256-GCM-encrypted under a fresh key with AAD "Transport Key", that
 * key RSA-OAEP(SHA-256)-wrapped to the attested VM's TPM-held EncKeyPub,
 * so only the VM whose TPM holds the private key reads its token.
 */
#include "evidence/azure_guest.h"

#include "base/codec.h"
#include "base/jsonx.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#define SEAL_KEY_LEN AEAD_KEY_LEN
#define SEAL_IV_LEN  AEAD_IV_LEN
#define SEAL_TAG_LEN AEAD_TAG_LEN
#define SEAL_MAX     (8u * 1024 * 1024)

/* RSA-OAEP with SHA-256 and MGF1-SHA-256, no label; encrypt or decrypt. */
static int oaep(EVP_PKEY *key, bool enc, const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key, NULL);
	int ok = c != NULL && (enc ? EVP_PKEY_encrypt_init(c) : EVP_PKEY_decrypt_init(c)) == 1 &&
		 EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) == 1 &&
		 EVP_PKEY_CTX_set_rsa_oaep_md(c, EVP_sha256()) == 1 &&
		 EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha256()) == 1 &&
		 (enc ? EVP_PKEY_encrypt(c, out, outlen, in, inlen)
		      : EVP_PKEY_decrypt(c, out, outlen, in, inlen)) == 1;

	EVP_PKEY_CTX_free(c);
	return ok ? 0 : -1;
}

/* AES-256-GCM with the seal's additional data; on decrypt the tag is checked (-1 when it does not match). */
static int gcm(bool enc, const uint8_t key[SEAL_KEY_LEN], const uint8_t iv[SEAL_IV_LEN], const uint8_t *in,
	       size_t n, uint8_t *out, uint8_t tag[SEAL_TAG_LEN])
{
	const uint8_t *aad = (const uint8_t *)AZURE_GUEST_SEAL_AAD;
	size_t al = strlen(AZURE_GUEST_SEAL_AAD);

	return enc ? aead_seal(key, iv, aad, al, in, n, out, tag)
		   : aead_open(key, iv, aad, al, in, n, out, tag);
}

/*
 * The envelope {"EncryptedInnerKey", "EncryptionParams": {"Iv"},
 * "AuthenticationData", "Jwt"}, each standard base64 (which JSON never
 * escapes), written directly: what jansson wrote byte for byte, without
 * its four copies of the members and its objects. The caller frees it.
 */
static char *envelope_text(const uint8_t *wrapped, size_t wlen, const uint8_t iv[SEAL_IV_LEN],
			   const uint8_t tag[SEAL_TAG_LEN], const uint8_t *ct, size_t n)
{
	static const char *const GLUE[] = {"{\"EncryptedInnerKey\":\"", "\",\"EncryptionParams\":{\"Iv\":\"",
					   "\"},\"AuthenticationData\":\"", "\",\"Jwt\":\"", "\"}"};
	const uint8_t *part[] = {wrapped, iv, tag, ct};
	const size_t len[] = {wlen, SEAL_IV_LEN, SEAL_TAG_LEN, n};
	size_t total = strlen(GLUE[4]) + 1, o = 0;
	char *text;

	for (size_t i = 0; i < 4; i++)
		total += strlen(GLUE[i]) + b64std_encoded_len(len[i]);
	if ((text = malloc(total)) == NULL)
		return NULL;
	for (size_t i = 0; i < 4; i++) {
		memcpy(text + o, GLUE[i], strlen(GLUE[i]));
		o += strlen(GLUE[i]);
		b64std_encode_to(part[i], len[i], text + o);
		o += b64std_encoded_len(len[i]);
	}
	memcpy(text + o, GLUE[4], strlen(GLUE[4]) + 1);
	return text;
}

int azure_guest_seal(EVP_PKEY *enc_pub, const char *jwt, char **sealed, struct attest_err *err)
{
	uint8_t key[SEAL_KEY_LEN], iv[SEAL_IV_LEN], tag[SEAL_TAG_LEN], *ct = NULL, *wrapped = NULL;
	size_t n = jwt ? strlen(jwt) : 0, wlen = 0;
	char *text = NULL;
	int rc = ATTEST_OK;

	if (enc_pub == NULL || jwt == NULL || EVP_PKEY_get_base_id(enc_pub) != EVP_PKEY_RSA || n > SEAL_MAX)
		return attest_err_set(err, ATTEST_E_INVALID, "azureguest.seal.param",
				      "sealing needs an RSA key and a JWT of at most %u bytes", SEAL_MAX);
	wlen = (size_t)EVP_PKEY_get_size(enc_pub);
	ct = malloc(n + 1);
	wrapped = malloc(wlen);
	if (ct == NULL || wrapped == NULL) {
		rc = attest_err_set(err, ATTEST_E_NOMEM, "azureguest.seal.nomem", "out of memory");
		goto out;
	}
	if (RAND_bytes(key, sizeof(key)) != 1 || RAND_bytes(iv, sizeof(iv)) != 1) {
		rc = attest_err_set(err, ATTEST_E_INTERNAL, "azureguest.seal.random", "no random bytes");
		goto out;
	}
	if (gcm(true, key, iv, (const uint8_t *)jwt, n, ct, tag) != 0 ||
	    oaep(enc_pub, true, key, sizeof(key), wrapped, &wlen) != 0) {
		rc = attest_err_set(err, ATTEST_E_INTERNAL, "azureguest.seal.crypto",
				    "cannot encrypt the token or wrap its key");
		goto out;
	}
	text = envelope_text(wrapped, wlen, iv, tag, ct, n);
	if (text == NULL || (*sealed = b64url_encode((const uint8_t *)text, strlen(text))) == NULL)
		rc = attest_err_set(err, ATTEST_E_NOMEM, "azureguest.seal.nomem", "out of memory");
out:
	OPENSSL_cleanse(key, sizeof(key));
	free(ct);
	free(wrapped);
	free(text);
	return rc;
}

int azure_guest_seal_for_claims(const struct claim_set *claims, const char *jwt, char **sealed,
				struct attest_err *err)
{
	const json_t *rt = claim_set_get(claims, "x-ms-runtime");
	const json_t *keys = json_object_get(rt, "keys"), *k = NULL;
	EVP_PKEY *key = NULL;
	size_t i;
	int rc;

	json_array_foreach(keys, i, k)
	{
		const json_t *kid = json_object_get(k, "kid");

		if (json_is_string(kid) && strcmp(json_string_value(kid), AZURE_GUEST_ENC_KID) == 0)
			break;
	}
	if (!json_is_array(keys) || i == json_array_size(keys) || jwk_to_key(k, &key, err) != ATTEST_OK)
		return attest_err_set(err, ATTEST_E_INVALID, "azureguest.seal.key",
				      "the claims carry no " AZURE_GUEST_ENC_KID " key to seal the token to");
	rc = azure_guest_seal(key, jwt, sealed, err);
	EVP_PKEY_free(key);
	return rc;
}

/* One standard-base64 member of the envelope (want = exact size, or 0 = any). */
static int env_member(const json_t *obj, const char *name, size_t want, uint8_t **out, size_t *len,
		      struct attest_err *err)
{
	const json_t *v = json_object_get(obj, name);

	if (!json_is_string(v) ||
	    b64_decode(json_string_value(v), json_string_length(v), out, len) != ATTEST_OK)
		return attest_err_set(err, ATTEST_E_PARSE, "azureguest.sealed.member",
				      "sealed token member %s is missing or not base64", name);
	if (want != 0 && *len != want) {
		free(*out);
		*out = NULL;
		return attest_err_set(err, ATTEST_E_PARSE, "azureguest.sealed.iv",
				      "sealed token member %s has %zu bytes, not %zu", name, *len, want);
	}
	return ATTEST_OK;
}

/* The software unwrap: RSA-OAEP decryption with a private key in memory. */
static int unwrap_pkey(void *arg, const uint8_t *wrapped, size_t n, uint8_t *key, size_t *key_len)
{
	return oaep(arg, false, wrapped, n, key, key_len);
}

int azure_guest_unseal(EVP_PKEY *priv, const char *sealed, size_t len, char **jwt, struct attest_err *err)
{
	if (priv == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "azureguest.sealed.param", "no private key");
	return azure_guest_unseal_with(unwrap_pkey, priv, sealed, len, jwt, err);
}

int azure_guest_unseal_with(azure_guest_unwrap_fn unwrap, void *arg, const char *sealed, size_t len,
			    char **jwt, struct attest_err *err)
{
	uint8_t *text = NULL, *wrapped = NULL, *iv = NULL, *tag = NULL, *ct = NULL, *pt = NULL;
	uint8_t key[512];
	size_t tlen = 0, wl = 0, il = 0, gl = 0, cl = 0, kl = sizeof(key);
	json_t *env = NULL;
	int rc;

	if (unwrap == NULL || sealed == NULL || len > 2 * SEAL_MAX ||
	    b64_decode(sealed, len, &text, &tlen) != ATTEST_OK)
		return attest_err_set(err, ATTEST_E_PARSE, "azureguest.sealed.base64",
				      "the sealed token is not base64url");
	rc = jsonx_parse((const char *)text, tlen, &env, "azureguest.sealed.json", "sealed token", err);
	if (rc == ATTEST_OK && !json_is_object(env))
		rc = attest_err_set(err, ATTEST_E_PARSE, "azureguest.sealed.json",
				    "the sealed token is not an object");
	if (rc == ATTEST_OK)
		rc = env_member(env, "EncryptedInnerKey", 0, &wrapped, &wl, err);
	if (rc == ATTEST_OK)
		rc = env_member(json_object_get(env, "EncryptionParams"), "Iv", SEAL_IV_LEN, &iv, &il, err);
	if (rc == ATTEST_OK)
		rc = env_member(env, "AuthenticationData", SEAL_TAG_LEN, &tag, &gl, err);
	if (rc == ATTEST_OK)
		rc = env_member(env, "Jwt", 0, &ct, &cl, err);
	if (rc == ATTEST_OK && (unwrap(arg, wrapped, wl, key, &kl) != 0 || kl != SEAL_KEY_LEN))
		rc = attest_err_set(err, ATTEST_E_VERIFY, "azureguest.sealed.key",
				    "the inner key does not unwrap with this private key");
	if (rc == ATTEST_OK && (pt = malloc(cl + 1)) == NULL)
		rc = attest_err_set(err, ATTEST_E_NOMEM, "azureguest.sealed.nomem", "out of memory");
	if (rc == ATTEST_OK && gcm(false, key, iv, ct, cl, pt, tag) != 0)
		rc = attest_err_set(err, ATTEST_E_VERIFY, "azureguest.sealed.tag",
				    "the sealed token does not authenticate (ciphertext, tag or IV altered)");
	if (rc == ATTEST_OK) {
		pt[cl] = 0;
		*jwt = (char *)pt;
		pt = NULL; /* transferred */
	}
	OPENSSL_cleanse(key, sizeof(key));
	free(pt);
	free(text);
	free(wrapped);
	free(iv);
	free(tag);
	free(ct);
	json_decref(env);
	return rc;
}
