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

struct cur {
	const uint8_t *p; /* next unread byte */
	size_t n;         /* bytes left */
	size_t off;       /* offset of p from the origin, for error messages */
};

void cur_init(struct cur *c, const void *p, size_t n);

/* Takes len bytes: *out points at them inside the input. */
int cur_take(struct cur *c, size_t len, const uint8_t **out);
/* Copies len bytes into dst. */
int cur_copy(struct cur *c, void *dst, size_t len);
int cur_skip(struct cur *c, size_t len);
/* Splits off the next len bytes as a cursor of their own (same origin). */
int cur_sub(struct cur *c, size_t len, struct cur *sub);

int cur_u8(struct cur *c, uint8_t *v);
int cur_u16le(struct cur *c, uint16_t *v);
int cur_u32le(struct cur *c, uint32_t *v);
int cur_u64le(struct cur *c, uint64_t *v);
int cur_u16be(struct cur *c, uint16_t *v);
int cur_u32be(struct cur *c, uint32_t *v);
int cur_u64be(struct cur *c, uint64_t *v);

static inline bool cur_empty(const struct cur *c) { return c->n == 0; }
static inline size_t cur_left(const struct cur *c) { return c->n; }

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
 * The overflow-safe range test (tpm2-tss): does [off, off+len) fit in size?
 * Written so that no addition can wrap.
 */
static inline bool range_ok(size_t size, size_t off, size_t len)
{
	return !(size < off || len > size - off);
}

#endif
