/* The per-request arena: see arena.h. */
#include "base/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK_SIZE 16384

struct arena_block {
	struct arena_block *next;
	size_t size;
	size_t off;
	_Alignas(16) unsigned char data[];
};

void arena_init(struct arena *a, size_t max)
{
	a->head = NULL;
	a->used = 0;
	a->max = max;
}

static struct arena_block *arena_grow(struct arena *a, size_t n)
{
	size_t size = n > ARENA_BLOCK_SIZE ? n : ARENA_BLOCK_SIZE;
	struct arena_block *b;

	if (size > SIZE_MAX - sizeof(*b) || a->used > a->max || size + sizeof(*b) > a->max - a->used)
		return NULL;
	b = malloc(sizeof(*b) + size);
	if (b == NULL)
		return NULL;
	b->next = a->head;
	b->size = size;
	b->off = 0;
	a->head = b;
	a->used += sizeof(*b) + size;
	return b;
}

void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_block *b = a->head;
	size_t rounded;
	void *p;

	if (n > SIZE_MAX - 15)
		return NULL;
	rounded = (n + 15) & ~(size_t)15;
	if (b == NULL || rounded > b->size - b->off) {
		b = arena_grow(a, rounded);
		if (b == NULL)
			return NULL;
	}
	p = b->data + b->off;
	b->off += rounded;
	memset(p, 0, n);
	return p;
}

void *arena_memdup(struct arena *a, const void *p, size_t n)
{
	void *q = arena_alloc(a, n + 1);

	if (q && n)
		memcpy(q, p, n);
	return q;
}

char *arena_strdup(struct arena *a, const char *s) { return arena_memdup(a, s, strlen(s)); }

void arena_release(struct arena *a)
{
	struct arena_block *b = a->head, *next;

	for (; b != NULL; b = next) {
		next = b->next;
		explicit_bzero(b->data, b->off);
		free(b);
	}
	a->head = NULL;
	a->used = 0;
}
