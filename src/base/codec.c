/* base64 and hex: see codec.h. */
#include "base/codec.h"

#include "attest/error.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char B64STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/*
 * Decoding table for both alphabets: the low 6 bits are the value; 0x40
 * marks a character of the standard alphabet only (+ /), 0x80 one of the
 * URL alphabet only (- _); 0xff is not base64.
 */
static const uint8_t B64_DECODE[256] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7e, 0xff, 0xbe, 0xff, 0x7f,
	0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
	0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0xff, 0xff, 0xff, 0xff, 0xbf,
	0xff, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,
	0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

int b64_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen)
{
	size_t n = inlen, pad = 0, i, o = 0;
	unsigned seen = 0; /* alphabet flags met so far: mixing them is an error */
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
	/* Whole groups of four characters: three bytes each, one table look-up per character. */
	for (i = 0; i + 4 <= n; i += 4) {
		uint8_t a = B64_DECODE[(unsigned char)in[i]], b = B64_DECODE[(unsigned char)in[i + 1]];
		uint8_t c = B64_DECODE[(unsigned char)in[i + 2]], d = B64_DECODE[(unsigned char)in[i + 3]];
		uint32_t v;

		if (a == 0xff || b == 0xff || c == 0xff || d == 0xff)
			goto bad;
		seen |= (a | b | c | d) & 0xc0;
		v = (uint32_t)(a & 63) << 18 | (uint32_t)(b & 63) << 12 | (uint32_t)(c & 63) << 6 | (d & 63);
		dst[o++] = (uint8_t)(v >> 16);
		dst[o++] = (uint8_t)(v >> 8);
		dst[o++] = (uint8_t)v;
	}
	/* The 2 or 3 characters of a last partial group. */
	for (; i < n; i++) {
		uint8_t v = B64_DECODE[(unsigned char)in[i]];

		if (v == 0xff)
			goto bad;
		seen |= v & 0xc0;
		acc = (acc << 6) | (v & 63u);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			dst[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* One alphabet per input; left-over bits must be zero (canonical encoding). */
	if (seen == 0xc0 || (acc & ((1u << bits) - 1)) != 0)
		goto bad;
	dst[o] = 0;
	*out = dst;
	*outlen = o;
	return ATTEST_OK;
bad:
	free(dst);
	return ATTEST_E_PARSE;
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
