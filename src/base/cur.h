#ifndef ATTEST_BASE_CUR_H
#define ATTEST_BASE_CUR_H

/*
 * The binary cursor: every parser of untrusted bytes reads through it.
 * A read checks the remaining length before touching memory (never
 * computing p + len first), consumes, then decodes. Functions return 0 on
 * success and -1 when the input is too short; on failure the cursor is left
 * unchanged and no out parameter is written. `off` counts bytes consumed
 * from the start of the outermost buffer, so errors can say where.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cur {
	const uint8_t *p; /* next unread byte */
	size_t n;         /* bytes left */
	size_t off;       /* offset of p from the origin, for error messages */
};

/* Decoders for fixed-layout records already bounds-checked as a whole. */
static inline uint16_t ld_u16le(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t ld_u32le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t ld_u64le(const uint8_t *p)
{
	return (uint64_t)ld_u32le(p) | (uint64_t)ld_u32le(p + 4) << 32;
}
static inline uint16_t ld_u16be(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t ld_u32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}
static inline uint64_t ld_u64be(const uint8_t *p)
{
	return (uint64_t)ld_u32be(p) << 32 | (uint64_t)ld_u32be(p + 4);
}

/*
 * Defined here, inline: every field of every quote, report and log record
 * is read through these, and a call per field costs more than the check.
 */
static inline void cur_init(struct cur *c, const void *p, size_t n)
{
	c->p = p;
	c->n = p ? n : 0;
	c->off = 0;
}

static inline bool cur_empty(const struct cur *c) { return c->n == 0; }
static inline size_t cur_left(const struct cur *c) { return c->n; }

/* Takes len bytes: *out points at them inside the input. */
static inline int cur_take(struct cur *c, size_t len, const uint8_t **out)
{
	if (len > c->n)
		return -1;
	*out = c->p;
	c->p += len;
	c->n -= len;
	c->off += len;
	return 0;
}

/* Copies len bytes into dst. */
static inline int cur_copy(struct cur *c, void *dst, size_t len)
{
	const uint8_t *p;

	if (cur_take(c, len, &p) != 0)
		return -1;
	if (len > 0)
		memcpy(dst, p, len);
	return 0;
}

static inline int cur_skip(struct cur *c, size_t len)
{
	const uint8_t *p;

	return cur_take(c, len, &p);
}

/* Splits off the next len bytes as a cursor of their own (same origin). */
static inline int cur_sub(struct cur *c, size_t len, struct cur *sub)
{
	size_t off = c->off;
	const uint8_t *p;

	if (cur_take(c, len, &p) != 0)
		return -1;
	sub->p = p;
	sub->n = len;
	sub->off = off;
	return 0;
}

static inline uint8_t ld_u8(const uint8_t *p) { return p[0]; }

/* cur_u8, cur_u16le ... cur_u64be: a fixed-width integer, little or big endian. */
#define CUR_READER(fn, type, width, load)                                                          \
	static inline int fn(struct cur *c, type *v)                                               \
	{                                                                                          \
		const uint8_t *p;                                                                  \
		if (cur_take(c, width, &p) != 0)                                                   \
			return -1;                                                                 \
		*v = load(p);                                                                      \
		return 0;                                                                          \
	}

CUR_READER(cur_u8, uint8_t, 1, ld_u8)
CUR_READER(cur_u16le, uint16_t, 2, ld_u16le)
CUR_READER(cur_u32le, uint32_t, 4, ld_u32le)
CUR_READER(cur_u64le, uint64_t, 8, ld_u64le)
CUR_READER(cur_u16be, uint16_t, 2, ld_u16be)
CUR_READER(cur_u32be, uint32_t, 4, ld_u32be)
CUR_READER(cur_u64be, uint64_t, 8, ld_u64be)
#undef CUR_READER

/*
 * The overflow-safe range test (tpm2-tss): does [off, off+len) fit in size?
 * Written so that no addition can wrap.
 */
static inline bool range_ok(size_t size, size_t off, size_t len)
{
	return !(size < off || len > size - off);
}

#endif
