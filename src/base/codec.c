/* base64 and hex: see codec.h. */
#include "base/codec.h"

#include "attest/error.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char B64STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/*
 * Decoding tables for both alphabets, one per position in a group of four
 * characters, holding the character's 6 bits already shifted to their
 * place in the group's 24: a group decodes with four look-ups and three
 * ORs, and the flags above bit 24 are OR-ed across the whole input and
 * checked once at the end: B64_BAD marks a character outside both
 * alphabets, B64_STD one of the standard alphabet only (+ /), B64_URL one
 * of the URL alphabet only (- _). Built by the preprocessor (no start-up
 * code, read-only).
 */
#define B64_STD 0x01000000u
#define B64_URL 0x02000000u
#define B64_BAD 0x80000000u
#define B64_VAL(c)                                                                                           \
	((c) >= 'A' && (c) <= 'Z'   ? (uint32_t)((c) - 'A')                                                  \
	 : (c) >= 'a' && (c) <= 'z' ? (uint32_t)((c) - 'a' + 26)                                             \
	 : (c) >= '0' && (c) <= '9' ? (uint32_t)((c) - '0' + 52)                                             \
	 : (c) == '+' || (c) == '-' ? 62u                                                                    \
				    : 63u)
#define B64_FLAG(c)                                                                                          \
	(((c) >= 'A' && (c) <= 'Z') || ((c) >= 'a' && (c) <= 'z') || ((c) >= '0' && (c) <= '9') ? 0u         \
	 : (c) == '+' || (c) == '/'								? B64_STD    \
	 : (c) == '-' || (c) == '_'								? B64_URL    \
												: B64_BAD)
#define B64_E(c, sh)   (B64_FLAG(c) == B64_BAD ? B64_BAD : B64_VAL(c) << (sh) | B64_FLAG(c))
#define B64_R4(c, sh)  B64_E(c, sh), B64_E((c) + 1, sh), B64_E((c) + 2, sh), B64_E((c) + 3, sh)
#define B64_R16(c, sh) B64_R4(c, sh), B64_R4((c) + 4, sh), B64_R4((c) + 8, sh), B64_R4((c) + 12, sh)
#define B64_R64(c, sh) B64_R16(c, sh), B64_R16((c) + 16, sh), B64_R16((c) + 32, sh), B64_R16((c) + 48, sh)
#define B64_TABLE(sh)                                                                                        \
	{                                                                                                    \
		B64_R64(0, sh), B64_R64(64, sh), B64_R64(128, sh), B64_R64(192, sh)                          \
	}

static const uint32_t B64_DECODE[4][256] = {B64_TABLE(18), B64_TABLE(12), B64_TABLE(6), B64_TABLE(0)};

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define B64_HAVE_X86_VECTORS 1
#include <immintrin.h>

__attribute__((target("avx2"))) static inline __m256i eq(__m256i x, char c)
{
	return _mm256_cmpeq_epi8(x, _mm256_set1_epi8(c));
}

/* The same 16 bytes in both 128-bit lanes (_mm256_shuffle_epi8 looks up within each lane). */
#define B64_LUT(...) _mm256_setr_epi8(__VA_ARGS__, __VA_ARGS__)

/*
 * 32 characters (8 whole groups) at a time, as the tables would decode
 * them: the same 24 bytes out and the same flags (B64_BAD for a character
 * outside both alphabets, B64_STD / B64_URL for one of a single alphabet)
 * OR-ed into *seen. Returns how many characters it decoded (a multiple of
 * 32); the caller decodes the rest with the tables.
 *
 * Validity (Muła and Lemire, "Faster Base64 Encoding and Decoding Using
 * AVX2 Instructions", 2018): a character's high nibble picks a class bit
 * (hi_lut), its low nibble the classes in which it is not a base64
 * character (lo_lut); the character is bad when the two share a bit.
 * Classes: 0 = high nibble 0, 1 or >= 8 (never valid), 1 = 0x2_ (valid:
 * + - /), 2 = 0x3_ (0-9), 3 = 0x4_ (A-O), 4 = 0x5_ (P-Z _), 5 = 0x6_
 * (a-o), 6 = 0x7_ (p-z). The value is the character plus an offset picked
 * by the high nibble, corrected for '-', '/' and '_', which share a high
 * nibble with characters of another offset. Bit packing: the 6-bit values
 * are merged in pairs (maddubs: a << 6 | b), the pairs in pairs (madd: ab
 * << 12 | cd), and each 32-bit lane's three low bytes are the group's three
 * bytes, most significant first.
 */
__attribute__((target("avx2"))) static size_t b64_decode_avx2(const unsigned char *in, size_t n, uint8_t *out,
							       uint32_t *seen)
{
	const __m256i lo_lut = B64_LUT(0x2b, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x07, 0x55,
				       0x57, 0x55, 0x57, 0x45);
	const __m256i hi_lut = B64_LUT(0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x01, 0x01, 0x01, 0x01,
				       0x01, 0x01, 0x01, 0x01);
	const __m256i roll = B64_LUT(0, 0, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
	const __m256i nib = _mm256_set1_epi8(0x0F);
	const __m256i pack = B64_LUT(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
	const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
	__m256i bad = _mm256_setzero_si256(), std = bad, url = bad;
	size_t i;

	for (i = 0; i + 32 <= n; i += 32) {
		__m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(in + i));
		__m256i hi = _mm256_and_si256(_mm256_srli_epi32(x, 4), nib);
		__m256i minus = eq(x, '-'), slash = eq(x, '/'), under = eq(x, '_'), plus = eq(x, '+');
		__m256i v = _mm256_add_epi8(x, _mm256_shuffle_epi8(roll, hi));

		bad = _mm256_or_si256(bad, _mm256_and_si256(_mm256_shuffle_epi8(lo_lut, _mm256_and_si256(x, nib)),
							    _mm256_shuffle_epi8(hi_lut, hi)));
		std = _mm256_or_si256(std, _mm256_or_si256(plus, slash));
		url = _mm256_or_si256(url, _mm256_or_si256(minus, under));
		/* '-' is 17 from 62 (not '+''s 19), '/' 16 from 63, '_' -32 (not P-Z's -65). */
		v = _mm256_add_epi8(v, _mm256_or_si256(_mm256_and_si256(minus, _mm256_set1_epi8(-2)),
						       _mm256_and_si256(slash, _mm256_set1_epi8(-3))));
		v = _mm256_add_epi8(v, _mm256_and_si256(under, _mm256_set1_epi8(33)));
		v = _mm256_maddubs_epi16(v, _mm256_set1_epi32(0x01400140));
		v = _mm256_madd_epi16(v, _mm256_set1_epi32(0x00011000));
		v = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(v, pack), lanes);
		_mm_storeu_si128((__m128i *)(void *)(out + i / 4 * 3), _mm256_castsi256_si128(v));
		_mm_storel_epi64((__m128i *)(void *)(out + i / 4 * 3 + 16), _mm256_extracti128_si256(v, 1));
	}
	*seen |= (!_mm256_testz_si256(bad, bad) ? B64_BAD : 0u) | (_mm256_movemask_epi8(std) ? B64_STD : 0u) |
		 (_mm256_movemask_epi8(url) ? B64_URL : 0u);
	return i;
}

/* Whether this CPU runs AVX2 (__builtin_cpu_supports reads a table the runtime fills at start-up: cheap). */
static bool b64_avx2(void)
{
	return __builtin_cpu_supports("avx2");
}

/*
 * Each ASCII character's value in either alphabet, 0x80 for a character of
 * neither (B64_VBMI_LUT); masked, as clang checks each ?: branch's range.
 */
#define B64_V8(c)      ((B64_FLAG(c) == B64_BAD ? 0x80u : B64_VAL(c)) & 0xFFu)
#define B64_V8_4(c)    B64_V8(c), B64_V8((c) + 1), B64_V8((c) + 2), B64_V8((c) + 3)
#define B64_V8_16(c)   B64_V8_4(c), B64_V8_4((c) + 4), B64_V8_4((c) + 8), B64_V8_4((c) + 12)
#define B64_V8_64(c)   B64_V8_16(c), B64_V8_16((c) + 16), B64_V8_16((c) + 32), B64_V8_16((c) + 48)
#define B64_PACK3(k)   4 * (k) + 2, 4 * (k) + 1, 4 * (k)
#define B64_PACK12(k)  B64_PACK3(k), B64_PACK3((k) + 1), B64_PACK3((k) + 2), B64_PACK3((k) + 3)

static const uint8_t B64_VBMI_LUT[128] __attribute__((aligned(64))) = {B64_V8_64(0), B64_V8_64(64)};
/* Where each of the 48 bytes out is in the 16 32-bit lanes: the three low bytes, most significant first. */
static const uint8_t B64_VBMI_PACK[64] __attribute__((aligned(64))) = {B64_PACK12(0), B64_PACK12(4),
									 B64_PACK12(8), B64_PACK12(12)};

/*
 * 64 characters (16 groups) at a time with AVX-512 VBMI, as the tables
 * would decode them (same bytes out, same flags into *seen); returns how
 * many characters it decoded (a multiple of 64). One two-table byte
 * permute looks every character up (its low 7 bits index B64_VBMI_LUT; a
 * byte >= 0x80 keeps its high bit in the OR with the input, so it is bad
 * too), the bits are packed as in b64_decode_avx2, and one byte permute
 * gathers the 48 bytes, stored under a mask (nothing written past them).
 */
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static size_t
b64_decode_vbmi(const unsigned char *in, size_t n, uint8_t *out, uint32_t *seen)
{
	const __m512i lut_lo = _mm512_load_si512((const void *)B64_VBMI_LUT);
	const __m512i lut_hi = _mm512_load_si512((const void *)(B64_VBMI_LUT + 64));
	const __m512i pack = _mm512_load_si512((const void *)B64_VBMI_PACK);
	const __m512i plus = _mm512_set1_epi8('+'), slash = _mm512_set1_epi8('/');
	const __m512i minus = _mm512_set1_epi8('-'), under = _mm512_set1_epi8('_');
	__m512i bad = _mm512_setzero_si512();
	__mmask64 std = 0, url = 0;
	size_t i;

	for (i = 0; i + 64 <= n; i += 64) {
		__m512i x = _mm512_loadu_si512((const void *)(in + i));
		__m512i v = _mm512_permutex2var_epi8(lut_lo, x, lut_hi);

		bad = _mm512_or_si512(bad, _mm512_or_si512(v, x));
		std |= _mm512_cmpeq_epi8_mask(x, plus) | _mm512_cmpeq_epi8_mask(x, slash);
		url |= _mm512_cmpeq_epi8_mask(x, minus) | _mm512_cmpeq_epi8_mask(x, under);
		v = _mm512_maddubs_epi16(v, _mm512_set1_epi32(0x01400140));
		v = _mm512_madd_epi16(v, _mm512_set1_epi32(0x00011000));
		v = _mm512_permutexvar_epi8(pack, v);
		_mm512_mask_storeu_epi8(out + i / 4 * 3, (__mmask64)0xFFFFFFFFFFFFull, v);
	}
	*seen |= (_mm512_test_epi8_mask(bad, _mm512_set1_epi8((char)0x80)) ? B64_BAD : 0u) |
		 (std ? B64_STD : 0u) | (url ? B64_URL : 0u);
	return i;
}

/* Whether this CPU runs AVX-512 VBMI (with the byte and word instructions of AVX-512BW it needs). */
static bool b64_vbmi(void)
{
	return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi");
}
#endif

/*
 * The characters of in that carry data (its "=" padding off), after the
 * length checks; -1 when no base64 text has that shape. *pad says how many
 * "=" there were.
 */
static int b64_shape(const char *in, size_t inlen, size_t *n, size_t *pad)
{
	*n = inlen;
	*pad = 0;
	while (*n > 0 && in[*n - 1] == '=' && *pad < 2) {
		(*n)--;
		(*pad)++;
	}
	/* Padding, when present, must complete a 4-character group. */
	if ((*pad > 0 && (*n + *pad) % 4 != 0) || *n % 4 == 1)
		return -1;
	return 0;
}

/* Bytes n characters decode to at most (the size of a buffer for them, the terminating NUL included). */
static size_t b64_room(size_t n)
{
	return n / 4 * 3 + 3;
}

/*
 * Decodes the n data characters at u into dst (b64_room(n) bytes); the
 * alphabets allowed are B64_STD and/or B64_URL in `allow`. ATTEST_OK or
 * ATTEST_E_PARSE.
 */
static int b64_decode_core(const unsigned char *u, size_t n, uint32_t allow, uint8_t *dst, size_t *outlen)
{
	size_t i = 0, o = 0;
	uint32_t seen = 0; /* the flags of every character met */
	uint32_t acc = 0;
	int bits = 0;

#ifdef B64_HAVE_X86_VECTORS
	if (n >= 64 && b64_vbmi())
		i = b64_decode_vbmi(u, n, dst, &seen);
	if (n - i >= 32 && b64_avx2())
		i += b64_decode_avx2(u + i, n - i, dst + i / 4 * 3, &seen);
	o = i / 4 * 3;
#endif
	/* Whole groups of four characters: three bytes each (a bad character is caught after the loop). */
	for (; i + 4 <= n; i += 4) {
		uint32_t v = B64_DECODE[0][u[i]] | B64_DECODE[1][u[i + 1]] | B64_DECODE[2][u[i + 2]] |
			     B64_DECODE[3][u[i + 3]];

		seen |= v;
		dst[o] = (uint8_t)(v >> 16);
		dst[o + 1] = (uint8_t)(v >> 8);
		dst[o + 2] = (uint8_t)v;
		o += 3;
	}
	/* The 2 or 3 characters of a last partial group. */
	for (; i < n; i++) {
		uint32_t v = B64_DECODE[3][u[i]];

		seen |= v;
		acc = (acc << 6) | (v & 63u);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			dst[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* Only base64 characters, of one allowed alphabet; left-over bits zero (canonical encoding). */
	if ((seen & B64_BAD) != 0 || (seen & (B64_STD | B64_URL) & ~allow) != 0 ||
	    (seen & (B64_STD | B64_URL)) == (B64_STD | B64_URL) || (acc & ((1u << bits) - 1)) != 0)
		return ATTEST_E_PARSE;
	dst[o] = 0;
	*outlen = o;
	return ATTEST_OK;
}

/* A malloc'd decoding of the n data characters of in. */
static int b64_decode_alloc(const char *in, size_t n, uint32_t allow, uint8_t **out, size_t *outlen)
{
	uint8_t *dst = malloc(b64_room(n));

	if (dst == NULL)
		return ATTEST_E_NOMEM;
	if (b64_decode_core((const unsigned char *)in, n, allow, dst, outlen) != ATTEST_OK) {
		free(dst);
		return ATTEST_E_PARSE;
	}
	*out = dst;
	return ATTEST_OK;
}

int b64_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen)
{
	size_t n, pad;

	if (b64_shape(in, inlen, &n, &pad) != 0)
		return ATTEST_E_PARSE;
	return b64_decode_alloc(in, n, B64_STD | B64_URL, out, outlen);
}

int b64url_decode_nopad(const char *in, size_t inlen, uint8_t **out, size_t *outlen)
{
	size_t n, pad;

	if (b64_shape(in, inlen, &n, &pad) != 0 || pad != 0)
		return ATTEST_E_PARSE;
	return b64_decode_alloc(in, n, B64_URL, out, outlen);
}

int b64_decode_to(const char *in, size_t inlen, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t n, pad;

	if (b64_shape(in, inlen, &n, &pad) != 0 || b64_room(n) > cap)
		return ATTEST_E_PARSE;
	return b64_decode_core((const unsigned char *)in, n, B64_STD | B64_URL, out, outlen);
}

size_t b64url_encoded_len(size_t len)
{
	return len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
}

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

size_t b64std_encoded_len(size_t len)
{
	return (len + 2) / 3 * 4;
}

void b64std_encode_to(const uint8_t *in, size_t len, char *out)
{
	b64_encode_with(in, len, out, B64STD, true);
}

char *b64std_encode(const uint8_t *in, size_t len)
{
	char *out = malloc(b64std_encoded_len(len) + 1);

	if (out)
		b64std_encode_to(in, len, out);
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
