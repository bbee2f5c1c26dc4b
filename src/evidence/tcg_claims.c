/*
 * Claims from a verified TCG event log: the `events` and `pcrs` JSON texts
 * of MAA's TPM claim set (maa-interface.md §2.4) and the boot-state
 * booleans derived from UEFI variables and Windows SIPA records.
 */
#include "evidence/tcg_log.h"

#include "base/buf.h"
#include "base/codec.h"
#include "base/cur.h"
#include "base/jsonx.h"

#include <stdlib.h>
#include <string.h>

/* Hex of event data beyond this many bytes is cut (DataLength says how long it was). */
#define TCG_JSON_MAX_DATA 512

/* EFI_GLOBAL_VARIABLE 8be4df61-93ca-11d2-aa0d-00e098032b8c, as stored (mixed-endian). */
static const uint8_t EFI_GLOBAL_VARIABLE[16] = {0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
						0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c};

/* EFI_IMAGE_SECURITY_DATABASE_GUID d719b2cb-3d3a-4596-a3bc-dad00e67656f (db, dbx; UEFI 2.10 §32.6.1). */
static const uint8_t EFI_IMAGE_SECURITY_DATABASE[16] = {0xcb, 0xb2, 0x19, 0xd7, 0x3a, 0x3d, 0x96, 0x45,
							0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65, 0x6f};

struct uefi_var {
	const uint8_t *guid;
	const uint8_t *name; /* UTF-16LE */
	size_t name_chars;
	const uint8_t *data;
	size_t data_len;
};

/* UEFI_VARIABLE_DATA (PFP §10.4.7); false when it does not fit exactly. */
static bool uefi_var_parse(const uint8_t *p, size_t n, struct uefi_var *v)
{
	struct cur c;
	uint64_t nl, dl;

	cur_init(&c, p, n);
	if (cur_take(&c, 16, &v->guid) || cur_u64le(&c, &nl) || cur_u64le(&c, &dl) || nl > 4096 ||
	    cur_take(&c, (size_t)nl * 2, &v->name) || dl > cur_left(&c) || cur_take(&c, (size_t)dl, &v->data))
		return false;
	v->name_chars = (size_t)nl;
	v->data_len = (size_t)dl;
	return true;
}

static bool uefi_name_is(const struct uefi_var *v, const char *ascii)
{
	size_t n = strlen(ascii);

	if (v->name_chars != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (v->name[2 * i] != (uint8_t)ascii[i] || v->name[2 * i + 1] != 0)
			return false;
	return true;
}

/*
 * The `events` and `pcrs` claim texts are written by hand straight into
 * one allocation: building them as jansson trees cost several times the
 * log's own replay, and staging pieces before copying them cost more than
 * the bytes themselves (bench_tcg_text). The text is what json_dumps
 * (JSON_COMPACT | JSON_PRESERVE_ORDER) writes for the same tree; test_tcg
 * and fuzz_tcg_log hold it to that byte for byte. Event data only ever
 * reaches the text as hex, integers, printable ASCII, or (SIPA paths)
 * the UTF-8 of UTF-16 escaped as jansson escapes it (RFC 8259 §7).
 *
 * The buffer is sized once from the log (jw_estimate). Each piece asks
 * jw_room for an upper bound of its length, derived from the literals and
 * number widths it writes, and is then written through a plain pointer
 * with no per-byte checks; a piece that outgrows its bound refuses the
 * text (JW_GUARD). A text longer than TCG_JSON_MAX is refused whole,
 * never returned cut: the length is checked before each piece, so the
 * buffer never holds more than the cap, one piece (JW_PIECE_MAX) and the
 * guard, and once more at the end.
 */

/* Each piece jw_room is asked for is at most this long (ASCII and UTF-16 texts go in chunks). */
#define JW_PIECE_MAX  (16u * 1024)
#define JW_TEXT_CHUNK 4096 /* input bytes of a printable-ASCII or UTF-16 text per piece */

#define JW_TYPE_SLOTS	  8
#define JW_SIPA_SLOT_BITS 6
#define JW_SIPA_SLOTS	  (1u << JW_SIPA_SLOT_BITS)

struct jw {
	struct buf b;	/* the text; b.len may pass TCG_JSON_MAX by one piece, and the text is then refused */
	char *room_end; /* the end of what the current piece reserved (jw_room) */
	bool failed;
	bool vectors; /* the vector paths (SSE2: every x86-64 CPU) are taken */
	/* "SHA1":" and ,"SHA1":" for each bank: the digest keys, made once a text */
	struct {
		char s[24];
		uint8_t n;
	} key[TPM_BANK_COUNT][2];
	size_t bank_size[TPM_BANK_COUNT]; /* tpm_bank_size, asked once a text (it is another file's call) */
	/*
	 * ,"EventType":n,"EventTypeString":"name" of the types met so far, made
	 * once a text (a log has a handful of types, in runs) and copied whole
	 * at a fixed size; one slot a type modulo JW_TYPE_SLOTS, n 0 when a
	 * fragment does not fit (it is then written in place).
	 */
	struct jw_frag {
		bool valid;
		uint32_t type;
		size_t n;
		char s[128];
	} frag[JW_TYPE_SLOTS];
	struct jw_sipa_leaf {
		bool valid;
		uint32_t type;
		bool utf16;	  /* sipa_type_is_utf16 */
		const char *name; /* sipa_type_name's, or NULL */
		size_t name_len;
		size_t n; /* {"Type":n,"Name":"..","Value": in s, copied whole; 0: written in place */
		char s[96];
	} sipa_leaf[JW_SIPA_SLOTS];
};

static const char HEX_PAIRS[513] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
				   "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
				   "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
				   "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
				   "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
				   "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
				   "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
				   "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

static const char DEC_PAIRS[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* ---- hex ------------------------------------------------------------------ */

static char *hex_portable(char *o, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++, o += 2)
		memcpy(o, HEX_PAIRS + 2 * p[i], 2);
	return o;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TCG_HEX_SSE2 1
#include <emmintrin.h>

/*
 * 16 bytes to 32 hex digits with SSE2 (part of every x86-64 CPU, so no
 * runtime check): each nibble v becomes '0' + v, plus 39 when v > 9
 * ('a' - '0' - 10), high nibble first.
 */
static inline void hex16_sse2(char *o, const uint8_t *p)
{
	const __m128i m0f = _mm_set1_epi8(0x0f), nine = _mm_set1_epi8(9);
	const __m128i zero = _mm_set1_epi8('0'), gap = _mm_set1_epi8('a' - '0' - 10);
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i hi = _mm_and_si128(_mm_srli_epi16(x, 4), m0f), lo = _mm_and_si128(x, m0f);

	hi = _mm_add_epi8(_mm_add_epi8(hi, zero), _mm_and_si128(_mm_cmpgt_epi8(hi, nine), gap));
	lo = _mm_add_epi8(_mm_add_epi8(lo, zero), _mm_and_si128(_mm_cmpgt_epi8(lo, nine), gap));
	_mm_storeu_si128((__m128i *)(void *)o, _mm_unpacklo_epi8(hi, lo));
	_mm_storeu_si128((__m128i *)(void *)(o + 16), _mm_unpackhi_epi8(hi, lo));
}

/*
 * Whole blocks of 16, then the last 16 bytes once more when n is not a
 * multiple (the overlap writes the same digits again); under 16 bytes the
 * table does it.
 */
static char *hex_sse2(char *o, const uint8_t *p, size_t n)
{
	size_t i;

	if (n < 16)
		return hex_portable(o, p, n);
	for (i = 0; i + 16 <= n; i += 16)
		hex16_sse2(o + 2 * i, p + i);
	if (i < n)
		hex16_sse2(o + 2 * (n - 16), p + n - 16);
	return o + 2 * n;
}

/*
 * Eight UTF-16LE units at p, when each is printable ASCII and no '"' or
 * '\\' (a JSON string carries them as they are), written as 8 bytes at
 * o; false (nothing written) otherwise. A unit from 0x8000 up compares
 * negative and fails the first test.
 */
static inline bool utf16_plain8(const uint8_t *p, char *o)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i ok =
	    _mm_and_si128(_mm_cmpgt_epi16(x, _mm_set1_epi16(0x1f)), _mm_cmplt_epi16(x, _mm_set1_epi16(0x80)));

	ok = _mm_andnot_si128(_mm_cmpeq_epi16(x, _mm_set1_epi16('"')), ok);
	ok = _mm_andnot_si128(_mm_cmpeq_epi16(x, _mm_set1_epi16('\\')), ok);
	if (_mm_movemask_epi8(ok) != 0xFFFF)
		return false;
	_mm_storel_epi64((__m128i *)(void *)o, _mm_packus_epi16(x, x));
	return true;
}
#endif

/* Hex of n bytes at o (no quotes, no NUL); returns the end. */
static inline char *hex_put(const struct jw *w, char *o, const uint8_t *p, size_t n)
{
#ifdef TCG_HEX_SSE2
	if (w->vectors)
		return hex_sse2(o, p, n);
#else
	(void)w;
#endif
	return hex_portable(o, p, n);
}

void tcg_text_hex(char *out, const uint8_t *p, size_t n, bool vectors)
{
#ifdef TCG_HEX_SSE2
	if (vectors) {
		hex_sse2(out, p, n);
		return;
	}
#else
	(void)vectors;
#endif
	hex_portable(out, p, n);
}

/* ---- the writer ------------------------------------------------------------- */

/*
 * Each piece's room is its stated bound plus JW_GUARD bytes: a bound
 * counted short writes into the guard, never past the allocation, and
 * jw_done / jw_fits then refuse the text (a bug in this file, which
 * test_tcg and fuzz_tcg_log see as a refused text; never an effect of
 * input). Each bound below is also derived from what its piece writes.
 */
#define JW_GUARD 256

/* The writer, with an allocation of estimate bytes and the NUL (false: out of memory). */
static bool jw_init(struct jw *w, size_t estimate)
{
	buf_init(&w->b, TCG_JSON_MAX);
	w->failed = false;
#ifdef TCG_HEX_SSE2
	w->vectors = true;
#else
	w->vectors = false;
#endif
	for (size_t i = 0; i < JW_TYPE_SLOTS; i++)
		w->frag[i].valid = false;
	for (size_t i = 0; i < JW_SIPA_SLOTS; i++)
		w->sipa_leaf[i].valid = false;
	memset(w->key, 0, sizeof(w->key));
	for (int bk = 0; bk < TPM_BANK_COUNT; bk++) {
		const char *name = tpm_bank_name((enum tpm_bank)bk);
		size_t n = strlen(name);

		w->bank_size[bk] = tpm_bank_size((enum tpm_bank)bk);
		/* bank names are the TPM's ASCII algorithm names ("SHA256"): nothing to escape */
		if (n > sizeof(w->key[0][0].s) - 5)
			n = sizeof(w->key[0][0].s) - 5;
		for (int comma = 0; comma < 2; comma++) {
			char *k = w->key[bk][comma].s;
			size_t o = 0;

			if (comma)
				k[o++] = ',';
			k[o++] = '"';
			for (size_t i = 0; i < n; i++)
				k[o++] = name[i];
			k[o++] = '"', k[o++] = ':', k[o++] = '"';
			w->key[bk][comma].n = (uint8_t)o;
		}
	}
	w->room_end = NULL;
	if (estimate > TCG_JSON_MAX)
		estimate = TCG_JSON_MAX;
	w->b.p = malloc(estimate + JW_GUARD + 1);
	if (w->b.p == NULL)
		return false;
	w->b.cap = estimate + JW_GUARD + 1;
	return true;
}

/* Grows the buffer for n more bytes, the guard and the NUL; NULL (failed) past the cap or out of memory. */
static char *jw_grow(struct jw *w, size_t n)
{
	size_t need, cap;
	uint8_t *p;

	if (w->failed || n > JW_PIECE_MAX) {
		w->failed = true;
		return NULL;
	}
	/*
	 * Past the cap: nothing more is written, and the text is refused at
	 * the end, unless what passed it is taken back (an EV_EVENT_TAG that
	 * turns out not to be SIPA), so this does not stick.
	 */
	if (w->b.len > TCG_JSON_MAX)
		return NULL;
	need = w->b.len + n + JW_GUARD + 1;
	if (need > w->b.cap) {
		cap = w->b.cap * 2 > need ? w->b.cap * 2 : need;
		if (cap > TCG_JSON_MAX + 1)
			cap = need > TCG_JSON_MAX + 1 ? need : TCG_JSON_MAX + 1;
		p = realloc(w->b.p, cap);
		if (p == NULL) {
			w->failed = true;
			return NULL;
		}
		w->b.p = p;
		w->b.cap = cap;
	}
	w->room_end = (char *)w->b.p + w->b.len + n;
	return (char *)w->b.p + w->b.len;
}

/*
 * Where the next piece goes, with room for n bytes (an upper bound of the
 * piece), the guard and the NUL; NULL when the text is already refused.
 * The piece is then written through the pointer and committed with
 * jw_done.
 */
static inline char *jw_room(struct jw *w, size_t n)
{
	if (w->b.len > TCG_JSON_MAX || w->b.cap - w->b.len <= n + JW_GUARD)
		return jw_grow(w, n);
	w->room_end = (char *)w->b.p + w->b.len + n;
	return (char *)w->b.p + w->b.len;
}

static inline void jw_done(struct jw *w, char *end)
{
	if (end > w->room_end)
		w->failed = true; /* the piece outgrew its bound (see JW_GUARD) */
	w->b.len = (size_t)(end - (char *)w->b.p);
}

/* One character; false when the text is refused. */
static inline bool jw_char(struct jw *w, char c)
{
	char *o = jw_room(w, 1);

	if (o == NULL)
		return false;
	*o++ = c;
	jw_done(w, o);
	return true;
}

/*
 * Before a fixed-size copy of n bytes at o: true when it is within the
 * piece's bound; else the text is refused and the piece goes no further.
 */
static inline bool jw_fits(struct jw *w, const char *o, size_t n)
{
	if (o + n <= w->room_end)
		return true;
	w->failed = true;
	return false;
}

/* A literal at o: its length is known at compile time. */
#define PUT_LIT(o, s) (memcpy((o), (s), sizeof(s) - 1), (o) + sizeof(s) - 1)
#define LIT_LEN(s)    (sizeof(s) - 1)

/* The longest texts of numbers: a u32 in decimal; a u64 (put_u64) as "0x" and 16 hex digits quoted. */
#define U32_TEXT_MAX 10
#define U64_TEXT_MAX 20

/*
 * A decimal number at o, two digits at a time from its end (no printf: it
 * dominated the events text). The digits go straight to their place: a
 * staging copy of a variable length became `rep movs`, a third of the text.
 */
static inline char *put_uint(char *o, uint64_t v)
{
	size_t n = 1;
	char *e;

	if (v < 10) { /* PCR indexes, small fields: most numbers of the text */
		*o = (char)('0' + v);
		return o + 1;
	}
	if (v < 100) {
		memcpy(o, DEC_PAIRS + 2 * v, 2);
		return o + 2;
	}
	for (uint64_t p = 10; n < 20 && v >= p; p *= 10)
		n++;
	e = o + n;
	while (v >= 100) {
		e -= 2;
		memcpy(e, DEC_PAIRS + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10)
		memcpy(e - 2, DEC_PAIRS + 2 * v, 2);
	else
		e[-1] = (char)('0' + v);
	return o + n;
}

/* "0x" and `digits` hex digits of a value, quoted. */
static char *put_hexnum(char *o, uint64_t v, int digits)
{
	*o++ = '"', *o++ = '0', *o++ = 'x';
	for (int i = digits - 1; i >= 0; i--)
		*o++ = "0123456789abcdef"[(v >> (4 * i)) & 15];
	*o++ = '"';
	return o;
}

/* A u64 as a JSON number when a signed 64-bit reader can hold it, else as a hex string (at most 20 bytes). */
static inline char *put_u64(char *o, uint64_t v)
{
	return v <= (uint64_t)INT64_MAX ? put_uint(o, v) : put_hexnum(o, v, 16);
}

/* Bytes a JSON string cannot carry as they are (RFC 8259 §7). */
static bool needs_escape(unsigned char ch)
{
	return ch < 0x20 || ch == '"' || ch == '\\';
}

/* A quoted string at o, escaped as RFC 8259 §7 requires (at most 6 * len + 2 bytes). */
static char *put_str(char *o, const char *s, size_t len)
{
	*o++ = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (needs_escape(ch))
			o += jsonx_escape_byte(ch, o);
		else
			*o++ = (char)ch;
	}
	*o++ = '"';
	return o;
}

/* Printable ASCII of a byte string (NULs and controls dropped), quoted; written in chunks. */
static void jw_ascii(struct jw *w, const uint8_t *p, size_t n)
{
	char *o;

	if (!jw_char(w, '"'))
		return;
	while (n > 0) {
		size_t k = n < JW_TEXT_CHUNK ? n : JW_TEXT_CHUNK;

		if ((o = jw_room(w, 2 * k)) == NULL)
			return;
		for (size_t i = 0; i < k; i++) {
			if (p[i] < 0x20 || p[i] >= 0x7f)
				continue;
			if (p[i] == '"' || p[i] == '\\')
				*o++ = '\\';
			*o++ = (char)p[i];
		}
		jw_done(w, o);
		p += k;
		n -= k;
	}
	jw_char(w, '"');
}

/* UTF-16LE text up to its NUL, non-ASCII shown as '?', quoted; written in chunks. */
static void jw_utf16(struct jw *w, const uint8_t *p, size_t n)
{
	char *o;

	if (!jw_char(w, '"'))
		return;
	n &= ~(size_t)1; /* a last odd byte is half a code unit */
	while (n > 0) {
		size_t k = n < JW_TEXT_CHUNK ? n : JW_TEXT_CHUNK;
		bool end = false;

		if ((o = jw_room(w, k)) == NULL) /* each 2-byte unit: at most 2 characters */
			return;
		for (size_t i = 0; i < k; i += 2) {
			unsigned ch = (unsigned)p[i] | (unsigned)p[i + 1] << 8;

			if (ch == 0) {
				end = true;
				break;
			}
			if (ch == '"' || ch == '\\')
				*o++ = '\\';
			*o++ = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
		}
		jw_done(w, o);
		if (end)
			break;
		p += k;
		n -= k;
	}
	jw_char(w, '"');
}

/* 8-4-4-4-12 text of a GUID as stored (first three fields little-endian), quoted: 38 bytes. */
static char *put_guid(char *o, const uint8_t g[16])
{
	static const uint8_t order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};

	*o++ = '"';
	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		memcpy(o, HEX_PAIRS + 2 * g[order[i]], 2);
		o += 2;
	}
	*o++ = '"';
	return o;
}

static size_t capped(size_t n)
{
	return n > TCG_JSON_MAX_DATA ? TCG_JSON_MAX_DATA : n;
}

#define VAR_NAME    "{\"VariableName\":"
#define VAR_UNICODE ",\"UnicodeName\":"
#define VAR_LEN	    ",\"VariableDataLength\":"
#define VAR_DATA    ",\"VariableData\":"
#define GUID_TEXT   38 /* quoted 8-4-4-4-12 */

static void uefi_var_write(struct jw *w, const struct uefi_var *v)
{
	char *o = jw_room(w, LIT_LEN(VAR_NAME) + GUID_TEXT + LIT_LEN(VAR_UNICODE));

	if (o == NULL)
		return;
	o = PUT_LIT(o, VAR_NAME);
	o = put_guid(o, v->guid);
	o = PUT_LIT(o, VAR_UNICODE);
	jw_done(w, o);
	jw_utf16(w, v->name, v->name_chars * 2);
	/* VariableData: a byte's decimal (3) or the quoted hex of at most TCG_JSON_MAX_DATA bytes */
	o = jw_room(w, LIT_LEN(VAR_LEN) + U64_TEXT_MAX + LIT_LEN(VAR_DATA) + 2 * TCG_JSON_MAX_DATA + 2 + 1);
	if (o == NULL)
		return;
	o = PUT_LIT(o, VAR_LEN);
	o = put_u64(o, v->data_len);
	o = PUT_LIT(o, VAR_DATA);
	if (v->data_len == 1) {
		o = put_uint(o, v->data[0]);
	} else {
		*o++ = '"';
		o = hex_put(w, o, v->data, capped(v->data_len));
		*o++ = '"';
	}
	*o++ = '}';
	jw_done(w, o);
}

/* ---- SIPA leaves ------------------------------------------------------------ */

#define SIPA_TYPE  "{\"Type\":"
#define SIPA_NAME  ",\"Name\":"
#define SIPA_VALUE ",\"Value\":"

/* A leaf's {"Type":n,"Name":"name","Value": (at most this, the name escaped). */
#define SIPA_PREFIX_MAX(name_len)                                                                            \
	(LIT_LEN(SIPA_TYPE) + U32_TEXT_MAX + LIT_LEN(SIPA_NAME) + 6 * (name_len) + 2 + LIT_LEN(SIPA_VALUE))

static char *put_sipa_prefix(char *o, uint32_t type, const char *name, size_t name_len)
{
	o = PUT_LIT(o, SIPA_TYPE);
	o = put_uint(o, type);
	if (name != NULL) {
		o = PUT_LIT(o, SIPA_NAME);
		o = put_str(o, name, name_len);
	}
	return PUT_LIT(o, SIPA_VALUE);
}

/*
 * A SIPA type's facts and prefix, made once a text: sipa_type_name scans
 * a table, and a WBCL has ~800 leaves of a few dozen types.
 */
static const struct jw_sipa_leaf *sipa_leaf_kind(struct jw *w, uint32_t type)
{
	/* Fibonacci hashing: SIPA types differ in a few bits of two bytes (category, id) */
	struct jw_sipa_leaf *e = &w->sipa_leaf[(uint32_t)(type * 2654435769u) >> (32 - JW_SIPA_SLOT_BITS)];

	if (e->valid && e->type == type)
		return e;
	e->valid = true;
	e->type = type;
	e->utf16 = sipa_type_is_utf16(type);
	e->name = sipa_type_name(type);
	e->name_len = e->name != NULL ? strlen(e->name) : 0;
	e->n = 0;
	if (e->name_len <= 64) { /* the names are Microsoft's identifiers (the longest 31 bytes) */
		char t[SIPA_PREFIX_MAX(64)];
		size_t n = (size_t)(put_sipa_prefix(t, type, e->name, e->name_len) - t);

		if (n <= sizeof(e->s)) {
			memset(e->s, 0, sizeof(e->s));
			memcpy(e->s, t, n);
			e->n = n;
		}
	}
	return e;
}

/* A signed 64-bit integer (json_int_t, as jansson prints it): at most 20 bytes. */
static char *put_int64(char *o, int64_t v)
{
	if (v < 0) {
		*o++ = '-';
		return put_uint(o, 0 - (uint64_t)v);
	}
	return put_uint(o, (uint64_t)v);
}

/*
 * A UTF-16 leaf's value up to its NUL: each unit as UTF-8 (sipa_utf8_of_unit),
 * escaped as jansson escapes (jsonx_escape_byte: at most 6 bytes a unit), quoted.
 */
static void sipa_utf16_value(struct jw *w, const uint8_t *p, size_t n)
{
	char *o;
	bool end = false;

	if (!jw_char(w, '"'))
		return;
	n &= ~(size_t)1; /* a last odd byte is half a unit */
	while (n > 0 && !end) {
		size_t k = n < JW_TEXT_CHUNK ? n : JW_TEXT_CHUNK;

		if ((o = jw_room(w, 3 * k)) == NULL)
			return;
		for (size_t i = 0; i < k; i += 2) {
			unsigned ch;

#ifdef TCG_HEX_SSE2
			/* eight units of printable ASCII other than '"' and '\\' (paths, mostly): packed to
			 * bytes */
			if (k - i >= 16 && utf16_plain8(p + i, o)) {
				o += 8;
				i += 14;
				continue;
			}
#endif
			ch = (unsigned)p[i] | (unsigned)p[i + 1] << 8;
			if (ch == 0) {
				end = true;
				break;
			}
			if (ch >= 0x20 && ch < 0x80 && ch != '"' && ch != '\\')
				*o++ = (char)ch;
			else if (ch < 0x80)
				o += jsonx_escape_byte((unsigned char)ch, o);
			else
				o += sipa_utf8_of_unit(ch, o);
		}
		jw_done(w, o);
		p += k;
		n -= k;
	}
	jw_char(w, '"');
}

/* The whole leaf's hex (not cut: the leaf is its own record), quoted, in pieces. */
static void sipa_hex_value(struct jw *w, const uint8_t *p, size_t n)
{
	char *o;

	if (!jw_char(w, '"'))
		return;
	while (n > 0) {
		size_t k = n < JW_TEXT_CHUNK ? n : JW_TEXT_CHUNK;

		if ((o = jw_room(w, 2 * k)) == NULL)
			return;
		jw_done(w, hex_put(w, o, p, k));
		p += k;
		n -= k;
	}
	jw_char(w, '"');
}

/* One leaf: what json_dumps writes for sipa_leaf_json (sipa.c states its rules). */
static void sipa_leaf_text(struct jw *w, uint32_t type, const uint8_t *data, uint32_t len)
{
	const struct jw_sipa_leaf *k = sipa_leaf_kind(w, type);
	char *o = jw_room(w, (k->n != 0 ? sizeof(k->s) : SIPA_PREFIX_MAX(k->name_len)) + U64_TEXT_MAX + 1);

	if (o == NULL)
		return;
	if (k->n != 0) {
		if (!jw_fits(w, o, sizeof(k->s)))
			return;
		memcpy(o, k->s, sizeof(k->s));
		o += k->n;
	} else {
		o = put_sipa_prefix(o, type, k->name, k->name_len);
	}
	if (!k->utf16 && (len == 1 || len == 4 || len == 8)) {
		uint64_t x = 0;

		for (uint32_t i = 0; i < len; i++)
			x |= (uint64_t)data[i] << (8 * i);
		o = put_int64(o, (int64_t)x);
		*o++ = '}';
		jw_done(w, o);
		return;
	}
	jw_done(w, o);
	if (k->utf16)
		sipa_utf16_value(w, data, len);
	else
		sipa_hex_value(w, data, len);
	jw_char(w, '}');
}

struct sipa_text {
	struct jw *w;
	bool first;
};

static int sipa_write(void *arg, uint32_t type, const uint8_t *data, uint32_t len)
{
	struct sipa_text *t = arg;
	char *o;

	if (!t->first) {
		if ((o = jw_room(t->w, 1)) == NULL)
			return ATTEST_OK;
		*o++ = ',';
		jw_done(t->w, o);
	}
	t->first = false;
	sipa_leaf_text(t->w, type, data, len);
	return ATTEST_OK;
}

#define IMAGE_LOC  "{\"ImageLocationInMemory\":"
#define IMAGE_LEN  ",\"ImageLengthInMemory\":"
#define IMAGE_LINK ",\"ImageLinkTimeAddress\":"
#define IMAGE_DPL  ",\"LengthOfDevicePath\":"
#define IMAGE_LOAD_TEXT_MAX                                                                                  \
	(LIT_LEN(IMAGE_LOC) + LIT_LEN(IMAGE_LEN) + LIT_LEN(IMAGE_LINK) + LIT_LEN(IMAGE_DPL) +                \
	 4 * U64_TEXT_MAX + 1)

/* UEFI_IMAGE_LOAD_EVENT (PFP §10.4.4): its four fixed fields. */
static bool image_load_write(struct jw *w, const uint8_t *p, size_t n)
{
	struct cur c;
	uint64_t loc, len, link, dpl;
	char *o;

	cur_init(&c, p, n);
	if (cur_u64le(&c, &loc) || cur_u64le(&c, &len) || cur_u64le(&c, &link) || cur_u64le(&c, &dpl))
		return false;
	if ((o = jw_room(w, IMAGE_LOAD_TEXT_MAX)) == NULL)
		return true;
	o = PUT_LIT(o, IMAGE_LOC);
	o = put_u64(o, loc);
	o = PUT_LIT(o, IMAGE_LEN);
	o = put_u64(o, len);
	o = PUT_LIT(o, IMAGE_LINK);
	o = put_u64(o, link);
	o = PUT_LIT(o, IMAGE_DPL);
	o = put_u64(o, dpl);
	*o++ = '}';
	jw_done(w, o);
	return true;
}

#define SIPA_EVENTS "{\"SipaEvents\":["

/* SipaEvents of an EV_EVENT_TAG; false (nothing written) when its data is no SIPA. */
static bool sipa_events_write(struct jw *w, const struct tcg_event *ev)
{
	struct sipa_text t = {w, true};
	size_t mark = w->b.len;
	char *o = jw_room(w, LIT_LEN(SIPA_EVENTS));

	if (o == NULL)
		return true;
	o = PUT_LIT(o, SIPA_EVENTS);
	jw_done(w, o);
	if (sipa_walk(ev->data, ev->data_len, sipa_write, &t, NULL) == ATTEST_OK) {
		if ((o = jw_room(w, 2)) != NULL)
			o = PUT_LIT(o, "]}"), jw_done(w, o);
		return true;
	}
	w->b.len = mark; /* not SIPA after all: what it wrote goes */
	w->b.p[mark] = '\0';
	return false;
}

#define DATA_LEN "{\"DataLength\":"
#define DATA_HEX ",\"Data\":\""

/* ProcessedData: what the event's type says its data is (PFP §10.4), else its length and hex. */
static void processed_data_write(struct jw *w, const struct tcg_event *ev)
{
	struct uefi_var v;
	char *o;

	switch (ev->type) {
	case EV_EFI_VARIABLE_DRIVER_CONFIG:
	case EV_EFI_VARIABLE_BOOT:
	case EV_EFI_VARIABLE_BOOT2:
	case EV_EFI_VARIABLE_AUTHORITY:
		if (uefi_var_parse(ev->data, ev->data_len, &v)) {
			uefi_var_write(w, &v);
			return;
		}
		break;
	case EV_EFI_ACTION:
	case EV_ACTION:
	case EV_IPL:
		if ((o = jw_room(w, LIT_LEN("{\"String\":"))) == NULL)
			return;
		jw_done(w, PUT_LIT(o, "{\"String\":"));
		jw_ascii(w, ev->data, ev->data_len);
		jw_char(w, '}');
		return;
	case EV_S_CRTM_VERSION:
		if ((o = jw_room(w, LIT_LEN("{\"Version\":"))) == NULL)
			return;
		jw_done(w, PUT_LIT(o, "{\"Version\":"));
		jw_utf16(w, ev->data, ev->data_len);
		jw_char(w, '}');
		return;
	case EV_EVENT_TAG:
		if (sipa_events_write(w, ev))
			return;
		break;
	case EV_EFI_BOOT_SERVICES_APPLICATION:
	case EV_EFI_BOOT_SERVICES_DRIVER:
	case EV_EFI_RUNTIME_SERVICES_DRIVER:
		if (image_load_write(w, ev->data, ev->data_len))
			return;
		break;
	default:
		break;
	}
	o = jw_room(w, LIT_LEN(DATA_LEN) + U32_TEXT_MAX + LIT_LEN(DATA_HEX) + 2 * TCG_JSON_MAX_DATA + 2);
	if (o == NULL)
		return;
	o = PUT_LIT(o, DATA_LEN);
	o = put_uint(o, ev->data_len);
	o = PUT_LIT(o, DATA_HEX);
	o = hex_put(w, o, ev->data, capped(ev->data_len));
	o = PUT_LIT(o, "\"}");
	jw_done(w, o);
}

/* The EventType and EventTypeString members of an event: at most 13 + 10 + 19 + 6 * name + 2 bytes. */
static char *put_type(char *o, uint32_t type)
{
	const char *tn = tcg_event_type_name(type);

	o = PUT_LIT(o, ",\"EventType\":");
	o = put_uint(o, type);
	o = PUT_LIT(o, ",\"EventTypeString\":");
	return tn != NULL ? put_str(o, tn, strlen(tn)) : put_hexnum(o, type, 8);
}

/* The type's fragment slot, made on first use. */
static const struct jw_frag *type_fragment(struct jw *w, uint32_t type)
{
	struct jw_frag *f = &w->frag[(type ^ type >> 24) % JW_TYPE_SLOTS];
	const char *tn;

	if (f->valid && f->type == type)
		return f;
	f->valid = true;
	f->type = type;
	f->n = 0;
	tn = tcg_event_type_name(type);
	/* the names are the PFP's EV_ identifiers (the longest 32 bytes); anything unforeseen is written in
	 * place */
	if (tn == NULL || strnlen(tn, 51) <= 50) {
		char t[13 + 10 + 19 + 6 * 50 + 2];
		size_t n = (size_t)(put_type(t, type) - t);

		if (n <= sizeof(f->s)) {
			memset(f->s, 0, sizeof(f->s));
			memcpy(f->s, t, n);
			f->n = n;
		}
	}
	return f;
}

#define EV_SEQ	     "{\"EventSeq\":"
#define EV_PCR	     ",\"PcrIndex\":"
#define EV_DIGESTS   ",\"Digests\":{"
#define EV_PROCESSED "},\"ProcessedData\":"
#define EV_TYPE_MAX(name_len)                                                                                \
	(LIT_LEN(",\"EventType\":") + U32_TEXT_MAX + LIT_LEN(",\"EventTypeString\":") + 6 * (name_len) + 2)

/*
 * The event's fixed part: keys, numbers, type and digests. Its bound: the
 * keys, two u32s, the type fragment (copied whole) or the type written in
 * place, and for each digest its key copied whole, its hex and a quote.
 */
static void event_head_write(struct jw *w, const struct tcg_event *ev)
{
	const struct jw_frag *f;
	size_t need;
	char *o;

	f = type_fragment(w, ev->type);
	need = LIT_LEN(EV_SEQ) + LIT_LEN(EV_PCR) + 2 * U32_TEXT_MAX + LIT_LEN(EV_DIGESTS) +
	       LIT_LEN(EV_PROCESSED);
	if (f->n != 0) {
		need += sizeof(f->s);
	} else {
		const char *tn = tcg_event_type_name(ev->type);

		/* an unknown type's quoted "0x" and 8 hex digits: 12 bytes, within 2 + U32_TEXT_MAX */
		need += EV_TYPE_MAX(tn != NULL ? strlen(tn) : 0) + U32_TEXT_MAX;
	}
	for (int bk = 0; bk < TPM_BANK_COUNT; bk++)
		if (ev->digests & (1u << bk))
			need += sizeof(w->key[0][0].s) + 2 * w->bank_size[bk] + 1;
	if ((o = jw_room(w, need)) == NULL)
		return;
	o = PUT_LIT(o, EV_SEQ);
	o = put_uint(o, ev->seq);
	o = PUT_LIT(o, EV_PCR);
	o = put_uint(o, ev->pcr);
	if (f->n != 0) {
		/* fixed-size copies: one of a variable length became `rep movs`, a third of the text */
		if (!jw_fits(w, o, sizeof(f->s)))
			return;
		memcpy(o, f->s, sizeof(f->s));
		o += f->n;
	} else {
		o = put_type(o, ev->type);
	}
	o = PUT_LIT(o, EV_DIGESTS);
	for (int bk = 0, comma = 0; bk < TPM_BANK_COUNT; bk++) {
		if (!(ev->digests & (1u << bk)))
			continue;
		if (!jw_fits(w, o, sizeof(w->key[bk][comma].s)))
			return;
		memcpy(o, w->key[bk][comma].s, sizeof(w->key[bk][comma].s));
		o += w->key[bk][comma].n;
		o = hex_put(w, o, ev->digest[bk], w->bank_size[bk]);
		*o++ = '"';
		comma = 1;
	}
	o = PUT_LIT(o, EV_PROCESSED);
	jw_done(w, o);
}

/*
 * The size to allocate for a log's events text: its length for most logs
 * (the fixed parts, the digests, the data as hex), more for SIPA and text
 * events; a longer text grows the buffer.
 */
static size_t jw_estimate(const struct tcg_log *log, bool only_verified)
{
	size_t n = 16, size[TPM_BANK_COUNT];

	for (int bk = 0; bk < TPM_BANK_COUNT; bk++)
		size[bk] = tpm_bank_size((enum tpm_bank)bk);
	for (size_t i = 0; i < log->n_events; i++) {
		const struct tcg_event *ev = &log->events[i];

		if (only_verified && !ev->verified)
			continue;
		n += 200 + 2 * capped(ev->data_len);
		for (int bk = 0; bk < TPM_BANK_COUNT; bk++)
			if (ev->digests & (1u << bk))
				n += 12 + 2 * size[bk];
		if (ev->type == EV_EVENT_TAG)
			n += 3 * (size_t)ev->data_len;
		if (n > TCG_JSON_MAX)
			return TCG_JSON_MAX;
	}
	return n;
}

/* The finished text (caller frees), or NULL when it did not fit or memory ran out. */
static char *jw_finish(struct jw *w)
{
	char *s = NULL;

	if (!w->failed && w->b.p != NULL && w->b.len <= TCG_JSON_MAX) {
		w->b.p[w->b.len] = '\0';
		s = (char *)w->b.p; /* transferred */
		w->b.p = NULL;
	}
	buf_free(&w->b);
	return s;
}

char *tcg_events_json(const struct tcg_log *log, bool only_verified)
{
	struct jw *w = malloc(sizeof(*w)); /* ~10 KB with its SIPA slots: not on the stack */
	bool first = true;
	char *o, *s;

	if (w == NULL)
		return NULL;
	if (!jw_init(w, jw_estimate(log, only_verified))) {
		free(w);
		return NULL;
	}
	if ((o = jw_room(w, 16)) != NULL)
		jw_done(w, PUT_LIT(o, "{\"Events\":["));
	for (size_t i = 0; i < log->n_events && !w->failed && w->b.len <= TCG_JSON_MAX; i++) {
		const struct tcg_event *ev = &log->events[i];

		if (only_verified && !ev->verified)
			continue;
		if (!first)
			jw_char(w, ',');
		first = false;
		event_head_write(w, ev);
		processed_data_write(w, ev);
		jw_char(w, '}');
	}
	if ((o = jw_room(w, 2)) != NULL)
		jw_done(w, PUT_LIT(o, "]}"));
	s = jw_finish(w);
	free(w);
	return s;
}

#define PCR_INDEX   "{\"Index\":"
#define PCR_DIGESTS ",\"Digests\":{"
/* One PCR: a comma, its index (two digits), and per bank its key copied whole, its hex and a quote. */
#define PCR_TEXT_MAX                                                                                         \
	(1 + LIT_LEN(PCR_INDEX) + 2 + LIT_LEN(PCR_DIGESTS) +                                                 \
	 TPM_BANK_COUNT * (sizeof(((struct jw *)0)->key[0][0].s) + 2 * TPM_PCR_MAX_DIGEST + 1) + 2)

char *tcg_pcrs_json(const struct tpm_pcr_values *pcrs)
{
	struct jw *w = malloc(sizeof(*w));
	bool first_pcr = true;
	char *o, *s;

	if (w == NULL)
		return NULL;
	/* at most 24 PCRs: sized once */
	if (!jw_init(w, 16 + TPM_PCR_COUNT * PCR_TEXT_MAX)) {
		free(w);
		return NULL;
	}
	if ((o = jw_room(w, 16)) != NULL)
		jw_done(w, PUT_LIT(o, "{\"PCRs\":["));
	for (unsigned i = 0; i < TPM_PCR_COUNT; i++) {
		int comma = 0;
		bool any = false;

		for (int bk = 0; bk < TPM_BANK_COUNT; bk++)
			any |= (pcrs->present[bk] & (1u << i)) != 0;
		if (!any)
			continue;
		if ((o = jw_room(w, PCR_TEXT_MAX)) == NULL)
			break;
		if (!first_pcr)
			*o++ = ',';
		first_pcr = false;
		o = PUT_LIT(o, PCR_INDEX);
		o = put_uint(o, i);
		o = PUT_LIT(o, PCR_DIGESTS);
		for (int bk = 0; bk < TPM_BANK_COUNT && !w->failed; bk++) {
			if (!(pcrs->present[bk] & (1u << i)) || !jw_fits(w, o, sizeof(w->key[bk][comma].s)))
				continue;
			memcpy(o, w->key[bk][comma].s, sizeof(w->key[bk][comma].s));
			o += w->key[bk][comma].n;
			o = hex_put(w, o, pcrs->v[bk][i], w->bank_size[bk]);
			*o++ = '"';
			comma = 1;
		}
		if (w->failed)
			break;
		jw_done(w, PUT_LIT(o, "}}"));
	}
	if ((o = jw_room(w, 2)) != NULL)
		jw_done(w, PUT_LIT(o, "]}"));
	s = jw_finish(w);
	free(w);
	return s;
}

/* ---- boot state ---------------------------------------------------------- */

static uint64_t leaf_uint(const uint8_t *p, uint32_t n)
{
	uint64_t x = 0;

	for (uint32_t i = 0; i < n && i < 8; i++)
		x |= (uint64_t)p[i] << (8 * i);
	return x;
}

/*
 * One SIPA leaf into the boot state. A Windows log holds ~800 leaves, most
 * of types read here for nothing: the value is decoded only for the types
 * that count (this callback was the largest non-cryptographic cost of a
 * WBCL's verification).
 */
static int sipa_state(void *arg, uint32_t type, const uint8_t *data, uint32_t len)
{
	struct tcg_boot_state *st = arg;

	st->sipa_records++;
	switch (type) {
	case 0x00040001u: /* BootDebugging */
		st->boot_debugging |= leaf_uint(data, len) != 0;
		break;
	case 0x00050001u: /* OsKernelDebug */
		st->kernel_debug |= leaf_uint(data, len) != 0;
		break;
	case 0x00050002u: /* CodeIntegrity: every instance must be on */
		st->code_integrity = (st->code_integrity != 0 && leaf_uint(data, len) != 0) ? 1 : 0;
		break;
	case 0x00050003u: /* TestSigning */
		st->test_signing |= leaf_uint(data, len) != 0;
		break;
	case 0x00050005u: /* SafeMode */
		st->safe_mode |= leaf_uint(data, len) != 0;
		break;
	case 0x00050006u: /* WinPE */
		st->winpe |= leaf_uint(data, len) != 0;
		break;
	case 0x00050012u: /* VSMLaunchType */
	case 0x000A0001u: /* VBS VSM required */
		st->vbs |= leaf_uint(data, len) != 0;
		break;
	case 0x000A0003u: /* VBS IOMMU required */
		st->iommu |= leaf_uint(data, len) != 0;
		break;
	case 0x0005000Du: /* HypervisorDebug */
		st->hypervisor_debug |= leaf_uint(data, len) != 0;
		break;
	case 0x00050021u: /* FlightSigning */
		st->flight_signing |= leaf_uint(data, len) != 0;
		break;
	case 0x000A0007u: /* VbsHVCIPolicy: a bit counts only when every instance sets it */
		st->hvci_policy =
		    st->hvci_seen ? (st->hvci_policy & leaf_uint(data, len)) : leaf_uint(data, len);
		st->hvci_seen = true;
		break;
	default:
		/* ELAMKeyname, ELAMConfiguration, ELAMPolicy, ELAMMeasured (0x0009xxxx): the
		 * boot manager measures them for the ELAM driver it loads (WBCL). */
		if ((type & 0xFFFF0000u) == 0x00090000u)
			st->elam = true;
		break;
	}
	return ATTEST_OK;
}

/* ---- Secure Boot policy variables (PCR 7) ---------------------------------- */

#define EFI_SIGNATURE_LIST_HEADER 28 /* SignatureType, ListSize, HeaderSize, SignatureSize */
#define EFI_SIGNATURE_OWNER	  16 /* EFI_SIGNATURE_DATA.SignatureOwner */

/*
 * A variable's data as EFI_SIGNATURE_LISTs (UEFI 2.10 §32.4.1): each list's
 * sizes agree (SignatureListSize = header + SignatureHeaderSize + a whole
 * number of SignatureSize entries, each larger than its owner GUID), the
 * lists fill the data exactly, and there is at least one signature. When
 * want is given, *found says whether one entry (owner GUID and data) is
 * exactly want.
 */
static bool esl_sound(const uint8_t *p, size_t n, const uint8_t *want, size_t want_len, bool *found)
{
	struct cur c;
	size_t sigs = 0;

	cur_init(&c, p, n);
	while (!cur_empty(&c)) {
		const uint8_t *type;
		uint32_t list, hdr, size;
		struct cur body;

		if (cur_take(&c, 16, &type) || cur_u32le(&c, &list) || cur_u32le(&c, &hdr) ||
		    cur_u32le(&c, &size) || list < EFI_SIGNATURE_LIST_HEADER ||
		    cur_sub(&c, list - EFI_SIGNATURE_LIST_HEADER, &body) || cur_skip(&body, hdr) ||
		    size <= EFI_SIGNATURE_OWNER || cur_left(&body) % size != 0)
			return false;
		while (!cur_empty(&body)) {
			const uint8_t *e;

			if (cur_take(&body, size, &e))
				return false;
			if (want != NULL && want_len == size && memcmp(e, want, size) == 0)
				*found = true;
			sigs++;
		}
	}
	return sigs > 0;
}

static struct tcg_sb_var *sb_var_of(struct tcg_boot_state *st, const struct uefi_var *v)
{
	if (memcmp(v->guid, EFI_GLOBAL_VARIABLE, 16) == 0)
		return uefi_name_is(v, "PK") ? &st->sb_pk : uefi_name_is(v, "KEK") ? &st->sb_kek : NULL;
	if (memcmp(v->guid, EFI_IMAGE_SECURITY_DATABASE, 16) == 0)
		return uefi_name_is(v, "db") ? &st->sb_db : uefi_name_is(v, "dbx") ? &st->sb_dbx : NULL;
	return NULL;
}

/* One verified PCR 7 event: a Secure Boot policy variable, or an authority that must come from db. */
static void sb_event(struct tcg_boot_state *st, const struct tcg_event *ev, bool bound)
{
	struct uefi_var v;
	struct tcg_sb_var *sv;
	bool found = false;

	if (!uefi_var_parse(ev->data, ev->data_len, &v))
		return;
	if (ev->type == EV_EFI_VARIABLE_AUTHORITY) {
		/* PFP §3.3.4.8: the db entry that verified an image; it must be in the measured db. */
		if (memcmp(v.guid, EFI_IMAGE_SECURITY_DATABASE, 16) == 0 && uefi_name_is(&v, "db") &&
		    (!st->sb_db.measured ||
		     !esl_sound(st->sb_db.data, st->sb_db.len, v.data, v.data_len, &found) || !found))
			st->sb_db.sound = false;
		return;
	}
	if (ev->type != EV_EFI_VARIABLE_DRIVER_CONFIG || (sv = sb_var_of(st, &v)) == NULL)
		return;
	/* A variable measured twice is sound only when every instance is. */
	sv->sound = (!sv->measured || sv->sound) && bound && esl_sound(v.data, v.data_len, NULL, 0, &found);
	sv->measured = true;
	sv->data = v.data;
	sv->len = v.data_len;
}

/*
 * The Windows boot configuration log (WBCL) of PCR 12-14 ends at each
 * PCR's separator: records extended after it were added once the OS ran
 * (static PCRs stay extendable at locality 0) and say nothing about the
 * boot; one appended VSMLaunchType=1 would otherwise turn vbsEnabled on.
 * A separator is known by its measured content (PFP §10.4.1: 0, 1 or
 * FFFFFFFFh), not by its unauthenticated type.
 */
static bool wbcl_separator(const struct tcg_log *log, const struct tcg_event *ev)
{
	const uint8_t *p;
	size_t n;
	uint32_t v;

	if (ev->pcr < 12 || ev->pcr > 14 || !tcg_event_bound_content(log, ev, &p, &n) || n != 4)
		return false;
	v = ld_u32le(p);
	return v == 0 || v == 1 || v == 0xFFFFFFFFu;
}

static bool wbcl_closed(uint32_t closed, const struct tcg_event *ev)
{
	return ev->pcr >= 12 && ev->pcr <= 14 && (closed & (1u << ev->pcr)) != 0;
}

int tcg_boot_state(const struct tcg_log *log, struct tcg_boot_state *st, struct attest_err *err)
{
	uint32_t closed = 0; /* PCR 12-14 whose separator was met */

	memset(st, 0, sizeof(*st));
	st->secure_boot = -1;
	st->code_integrity = -1;
	for (int b = 0; b < TPM_BANK_COUNT; b++)
		st->pcr7_verified |= (log->verified[b] & (1u << 7)) != 0;
	for (size_t i = 0; i < log->n_events; i++) {
		const struct tcg_event *ev = &log->events[i];
		const uint8_t *content;
		size_t clen;
		struct uefi_var v;
		int rc;

		if (!ev->verified || ev->type == EV_NO_ACTION)
			continue;
		/*
		 * The event type is not covered by any digest (only the digest is
		 * extended), so an altered type must not hide an event: data that
		 * hashes to its digest is read by content and PCR, whatever the type.
		 * tcg_event_data_bound hashes it last, only where that is asked.
		 */
		/* SecureBoot is measured into PCR 7 as EV_EFI_VARIABLE_DRIVER_CONFIG (PFP §3.3.4.8). */
		if (ev->pcr == 7 && uefi_var_parse(ev->data, ev->data_len, &v) &&
		    memcmp(v.guid, EFI_GLOBAL_VARIABLE, 16) == 0 && uefi_name_is(&v, "SecureBoot") &&
		    (ev->type == EV_EFI_VARIABLE_DRIVER_CONFIG || tcg_event_data_bound(log, ev)))
			st->secure_boot = (v.data_len == 1 && v.data[0] == 1) ? 1 : 0;
		/* sb_event reads the binding of policy variables only (a binding rule type). */
		if (ev->pcr == 7)
			sb_event(st, ev,
				 ev->type == EV_EFI_VARIABLE_DRIVER_CONFIG && tcg_event_data_bound(log, ev));
		if (wbcl_closed(closed, ev)) {
			continue; /* after the boot's separator on 12-14: not boot-time configuration */
		} else if (ev->type == EV_EVENT_TAG) {
			st->windows = true;
			if ((rc = sipa_walk(ev->data, ev->data_len, sipa_state, st, err)) != ATTEST_OK) {
				attest_err_where(err, "event log record #%u", ev->seq);
				return rc;
			}
		} else if (ev->pcr >= 12 && ev->pcr <= 14 &&
			   tcg_event_bound_content(log, ev, &content, &clen)) {
			/*
			 * Windows boot configuration PCRs: SIPA content under another
			 * type, EV_SEPARATOR included (the type is unauthenticated; a
			 * real separator's 4 bytes are no SIPA record and fail the walk),
			 * read from the bytes that were measured: a tag relabelled as an
			 * EFI variable around them neither hides nor adds a record.
			 */
			struct tcg_boot_state probe = *st;

			if (sipa_walk(content, clen, sipa_state, &probe, NULL) == ATTEST_OK) {
				*st = probe;
				st->windows = true;
			}
		}
		closed |= wbcl_separator(log, ev) ? 1u << ev->pcr : 0;
	}
	/*
	 * The Windows claims read absences ("no BootDebugging record is on"):
	 * they hold only when the boot configuration PCRs (12: boot manager
	 * settings, 13: OS loader settings; WBCL) are quoted and the log
	 * accounts for all of them. A log with their events removed says nothing.
	 */
	if (st->windows && !(tcg_log_pcr_complete(log, 12) && tcg_log_pcr_complete(log, 13)))
		st->windows = false;
	return ATTEST_OK;
}

/* A boolean claim whose name is a string literal: the set borrows it (no copy per attestation). */
static int add_flag(struct claim_set *out, const char *literal, bool value)
{
	return claim_set_add_borrowed(out, literal, CLAIM_ISSUER_SERVICE, json_boolean(value));
}

int tcg_boot_state_claims(const struct tcg_boot_state *st, struct claim_set *out)
{
	int rc = ATTEST_OK;

	if (st->secure_boot >= 0)
		rc |= add_flag(out, "secureBootEnabled", st->secure_boot == 1);
	if (!st->windows)
		return rc;
	rc |= add_flag(out, "bootDebuggingDisabled", !st->boot_debugging);
	rc |= add_flag(out, "osKernelDebuggingDisabled", !st->kernel_debug);
	rc |= add_flag(out, "notSafeMode", !st->safe_mode);
	rc |= add_flag(out, "notWinPE", !st->winpe);
	rc |= add_flag(out, "testSigningDisabled", !st->test_signing);
	if (st->code_integrity >= 0)
		rc |= add_flag(out, "codeIntegrityEnabled", st->code_integrity == 1);
	rc |= add_flag(out, "vbsEnabled", st->vbs);
	rc |= add_flag(out, "iommuEnabled", st->iommu);
	return rc ? ATTEST_E_NOMEM : ATTEST_OK;
}
