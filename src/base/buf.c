/* Capped growable buffers: see buf.h. */
#include "base/buf.h"

#include "attest/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void buf_free_secret(struct buf *b)
{
	mem_free_secret(b->p, b->cap);
	b->p = NULL;
	b->len = b->cap = 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = 0;
}

/* Makes room for n more bytes plus the NUL. */
static int buf_reserve(struct buf *b, size_t n)
{
	size_t need, cap;
	uint8_t *p;

	if (n > b->max || b->len > b->max - n)
		return ATTEST_E_NOMEM;
	need = b->len + n + 1;
	if (need <= b->cap)
		return ATTEST_OK;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	p = realloc(b->p, cap);
	if (p == NULL)
		return ATTEST_E_NOMEM;
	b->p = p;
	b->cap = cap;
	return ATTEST_OK;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	int rc = buf_reserve(b, n);

	if (rc != ATTEST_OK)
		return rc;
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = 0;
	return ATTEST_OK;
}

int buf_append_str(struct buf *b, const char *s) { return buf_append(b, s, strlen(s)); }

int buf_append_u8(struct buf *b, uint8_t v) { return buf_append(b, &v, 1); }

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n, rc;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return ATTEST_E_INTERNAL;
	rc = buf_reserve(b, (size_t)n);
	if (rc != ATTEST_OK)
		return rc;
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return ATTEST_OK;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

uint8_t *buf_steal(struct buf *b, size_t *len)
{
	uint8_t *p;

	if (b->p == NULL && buf_reserve(b, 0) != ATTEST_OK)
		return NULL;
	p = b->p;
	if (len)
		*len = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

void mem_free_secret(void *p, size_t n)
{
	if (p == NULL)
		return;
	explicit_bzero(p, n);
	free(p);
}

int file_read_all(const char *path, size_t max, uint8_t **out, size_t *len)
{
	struct buf b;
	uint8_t chunk[8192];
	size_t n;
	FILE *f;
	int rc = ATTEST_OK;

	f = fopen(path, "rb");
	if (f == NULL)
		return errno == ENOENT ? ATTEST_E_NOT_FOUND : ATTEST_E_IO;
	buf_init(&b, max);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		rc = buf_append(&b, chunk, n);
		if (rc != ATTEST_OK)
			break;
	}
	if (rc == ATTEST_OK && ferror(f))
		rc = ATTEST_E_IO;
	fclose(f);
	if (rc == ATTEST_OK) {
		*out = buf_steal(&b, len);
		if (*out == NULL)
			rc = ATTEST_E_NOMEM;
	}
	buf_free(&b);
	return rc;
}
