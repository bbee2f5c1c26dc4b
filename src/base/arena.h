#ifndef ATTEST_BASE_ARENA_H
#define ATTEST_BASE_ARENA_H

/*
 * A per-request arena (h2o): many small allocations, one release. Blocks are
 * chained; an allocation larger than a block gets a block of its own. The
 * arena has a cap, so one request cannot take the node's memory.
 */

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head;
	size_t used;  /* bytes handed out plus block overhead */
	size_t max;   /* cap on used */
};

void arena_init(struct arena *a, size_t max);
/* 16-byte aligned, zeroed memory, or NULL when the cap is reached. */
void *arena_alloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
void *arena_memdup(struct arena *a, const void *p, size_t n);
/* Releases everything (zeroing it: requests carry secrets). */
void arena_release(struct arena *a);

#endif
