#ifndef ATTEST_BASE_CODEC_H
#define ATTEST_BASE_CODEC_H

/*
 * Text encodings of bytes: base64 (both alphabets) and hex. Decoders take
 * untrusted text and fail with ATTEST_E_PARSE on any character outside the
 * alphabet or an impossible length; outputs are malloc'd, NUL-terminated
 * and owned by the caller.
 */

#include <stddef.h>
#include <stdint.h>

/*
 * Decodes base64 in either alphabet (standard "+/" or URL "-_", not mixed
 * within one input), with or without "=" padding. Whitespace is refused.
 */
int b64_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen);
/* b64_decode into a caller buffer of cap bytes: an input that could decode to more fails. */
int b64_decode_to(const char *in, size_t inlen, uint8_t *out, size_t cap, size_t *outlen);
/* Only the URL alphabet and no padding (RFC 7515 §2, JWS segments); otherwise as b64_decode. */
int b64url_decode_nopad(const char *in, size_t inlen, uint8_t **out, size_t *outlen);
/* base64url without padding (JOSE). */
char *b64url_encode(const uint8_t *in, size_t len);
/* Standard base64 with padding (x5c, PEM bodies). */
char *b64std_encode(const uint8_t *in, size_t len);
/* Encoded length of b64std_encode without the NUL. */
size_t b64std_encoded_len(size_t len);
/* Encodes into a caller buffer of b64std_encoded_len(len) + 1 bytes. */
void b64std_encode_to(const uint8_t *in, size_t len, char *out);
/* Encoded length of b64url_encode without the NUL. */
size_t b64url_encoded_len(size_t len);
/* Encodes into a caller buffer of b64url_encoded_len(len) + 1 bytes. */
void b64url_encode_to(const uint8_t *in, size_t len, char *out);

/* Lower-case hex. */
char *hex_encode(const uint8_t *in, size_t len);
void hex_encode_to(const uint8_t *in, size_t len, char *out /* 2*len+1 */);
/* Decodes hex in either case; odd length or a non-hex character fails. */
int hex_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen);
/* Decodes exactly outlen bytes into a caller buffer. */
int hex_decode_to(const char *in, size_t inlen, uint8_t *out, size_t outlen);

#endif
