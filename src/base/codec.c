/* base64 and hex: see codec.h. */
#include "base/codec.h"

#include "attest/error.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char B64STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Value of a base64 character in the alphabet chosen, or -1. */
static int b64_value(unsigned char ch, int alphabet /* 0 unknown, 1 std, 2 url */, int *seen)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '/') {
		if (alphabet == 2)
			return -1;
		*seen = 1;
		return ch == '+' ? 62 : 63;
	}
	if (ch == '-' || ch == '_') {
		if (alphabet == 1)
			return -1;
		*seen = 2;
		return ch == '-' ? 62 : 63;
	}
	return -1;
}

int b64_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen)
{
	size_t n = inlen, pad = 0, i, o = 0;
	int alphabet = 0;
	uint32_t acc = 0;
	int bits = 0;
	uint8_t *dst;

	while (n > 0 && in[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	/* Padding, when present, must complete a 4-character group. */
	if (pad > 0 && (n + pad) % 4 != 0)
		return ATTEST_E_PARSE;
	if (n % 4 == 1)
		return ATTEST_E_PARSE;
	dst = malloc(n / 4 * 3 + 3);
	if (dst == NULL)
		return ATTEST_E_NOMEM;
	for (i = 0; i < n; i++) {
		int seen = alphabet;
		int v = b64_value((unsigned char)in[i], alphabet, &seen);

		if (v < 0) {
			free(dst);
			return ATTEST_E_PARSE;
		}
		alphabet = seen;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			dst[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* Left-over bits must be zero (canonical encoding). */
	if ((acc & ((1u << bits) - 1)) != 0) {
		free(dst);
		return ATTEST_E_PARSE;
	}
	dst[o] = 0;
	*out = dst;
	*outlen = o;
	return ATTEST_OK;
}

size_t b64url_encoded_len(size_t len) { return len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0); }

static void b64_encode_with(const uint8_t *in, size_t len, char *out, const char *alpha, bool pad)
{
	size_t i, o = 0;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = alpha[v >> 18];
		out[o++] = alpha[(v >> 12) & 63];
		out[o++] = alpha[(v >> 6) & 63];
		out[o++] = alpha[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = alpha[v >> 18];
		out[o++] = alpha[(v >> 12) & 63];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = alpha[v >> 18];
		out[o++] = alpha[(v >> 12) & 63];
		out[o++] = alpha[(v >> 6) & 63];
		if (pad)
			out[o++] = '=';
	}
	out[o] = 0;
}

void b64url_encode_to(const uint8_t *in, size_t len, char *out)
{
	b64_encode_with(in, len, out, B64URL, false);
}

char *b64url_encode(const uint8_t *in, size_t len)
{
	char *out = malloc(b64url_encoded_len(len) + 1);

	if (out)
		b64url_encode_to(in, len, out);
	return out;
}

char *b64std_encode(const uint8_t *in, size_t len)
{
	char *out = malloc((len + 2) / 3 * 4 + 1);

	if (out)
		b64_encode_with(in, len, out, B64STD, true);
	return out;
}

void hex_encode_to(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = 0;
}

char *hex_encode(const uint8_t *in, size_t len)
{
	char *out = malloc(2 * len + 1);

	if (out)
		hex_encode_to(in, len, out);
	return out;
}

static int hex_nibble(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int hex_decode_to(const char *in, size_t inlen, uint8_t *out, size_t outlen)
{
	size_t i;

	if (inlen != 2 * outlen)
		return ATTEST_E_PARSE;
	for (i = 0; i < outlen; i++) {
		int hi = hex_nibble(in[2 * i]), lo = hex_nibble(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return ATTEST_E_PARSE;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return ATTEST_OK;
}

int hex_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen)
{
	uint8_t *dst;
	int rc;

	if (inlen % 2 != 0)
		return ATTEST_E_PARSE;
	dst = malloc(inlen / 2 + 1);
	if (dst == NULL)
		return ATTEST_E_NOMEM;
	rc = hex_decode_to(in, inlen, dst, inlen / 2);
	if (rc != ATTEST_OK) {
		free(dst);
		return rc;
	}
	dst[inlen / 2] = 0;
	*out = dst;
	*outlen = inlen / 2;
	return ATTEST_OK;
}
