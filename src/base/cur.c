/* The binary cursor: see cur.h. */
#include "base/cur.h"

#include <string.h>

void cur_init(struct cur *c, const void *p, size_t n)
{
	c->p = p;
	c->n = p ? n : 0;
	c->off = 0;
}

int cur_take(struct cur *c, size_t len, const uint8_t **out)
{
	if (len > c->n)
		return -1;
	*out = c->p;
	c->p += len;
	c->n -= len;
	c->off += len;
	return 0;
}

int cur_copy(struct cur *c, void *dst, size_t len)
{
	const uint8_t *p;

	if (cur_take(c, len, &p) != 0)
		return -1;
	if (len > 0)
		memcpy(dst, p, len);
	return 0;
}

int cur_skip(struct cur *c, size_t len)
{
	const uint8_t *p;

	return cur_take(c, len, &p);
}

int cur_sub(struct cur *c, size_t len, struct cur *sub)
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

#define CUR_READER(fn, type, width, load)                                                          \
	int fn(struct cur *c, type *v)                                                             \
	{                                                                                          \
		const uint8_t *p;                                                                  \
		if (cur_take(c, width, &p) != 0)                                                   \
			return -1;                                                                 \
		*v = load(p);                                                                      \
		return 0;                                                                          \
	}

static inline uint8_t ld_u8(const uint8_t *p) { return p[0]; }

CUR_READER(cur_u8, uint8_t, 1, ld_u8)
CUR_READER(cur_u16le, uint16_t, 2, ld_u16le)
CUR_READER(cur_u32le, uint32_t, 4, ld_u32le)
CUR_READER(cur_u64le, uint64_t, 8, ld_u64le)
CUR_READER(cur_u16be, uint16_t, 2, ld_u16be)
CUR_READER(cur_u32be, uint32_t, 4, ld_u32be)
CUR_READER(cur_u64be, uint64_t, 8, ld_u64be)
