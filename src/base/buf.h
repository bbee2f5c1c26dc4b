#ifndef ATTEST_BASE_BUF_H
#define ATTEST_BASE_BUF_H

/*
 * A growable byte buffer born with its own cap (curl's dynbuf): appending
 * past `max` fails with ATTEST_E_NOMEM instead of growing without bound.
 * The bytes are always followed by a NUL (not counted in len), so a buffer
 * of text can be used as a C string.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	size_t max;
};

void buf_init(struct buf *b, size_t max);
/* Frees the storage; the buffer can be reused after buf_init. */
void buf_free(struct buf *b);
/* Same, zeroing the bytes first (for secrets). */
void buf_free_secret(struct buf *b);
void buf_reset(struct buf *b);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_append_u8(struct buf *b, uint8_t v);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Hands the storage to the caller (NUL-terminated); the buffer is left empty. */
uint8_t *buf_steal(struct buf *b, size_t *len);

/* Zeroes then frees (OpenSSH's freezero). NULL is allowed. */
void mem_free_secret(void *p, size_t n);

/*
 * Reads a whole file, at most max bytes (more is ATTEST_E_NOMEM). *out is
 * NUL-terminated and owned by the caller (free()).
 */
int file_read_all(const char *path, size_t max, uint8_t **out, size_t *len);

#endif
