#ifndef ATTEST_BENCH_MEMSRC_H
#define ATTEST_BENCH_MEMSRC_H

/*
 * A collateral source over bytes in memory, for the cold benchmarks: the
 * peer (@phala/dcap-qvl) is handed its collateral as bytes already in
 * memory, so "cold" here starts from the same place: the collateral bytes,
 * not the files. It wraps another source (the vectors' file source): the
 * first request for an item reads it there (memsrc_prime does that, outside
 * any timing), later requests get a fresh malloc'd copy of the same bytes,
 * as a PCS or store source hands them out. Nothing parsed or verified is
 * kept: every certificate, CRL and JSON document is still parsed and
 * verified by each verification. Single-threaded (benchmarks only).
 */

#include "collateral/collateral.h"

#include <stdlib.h>
#include <string.h>

enum memsrc_slot {
	MEMSRC_PCK_CRL0,
	MEMSRC_PCK_CRL1,
	MEMSRC_ROOT_CRL,
	MEMSRC_TCB_SGX,
	MEMSRC_TCB_TDX,
	MEMSRC_QE0,
	MEMSRC_QE1,
	MEMSRC_QE2,
	MEMSRC_QE3,
	MEMSRC_SLOTS
};

struct memsrc {
	struct collateral_source *inner; /* owned */
	struct collateral_blob blob[MEMSRC_SLOTS];
	bool have[MEMSRC_SLOTS];
	int rc[MEMSRC_SLOTS];
	uint8_t fmspc[2][6]; /* the FMSPC each TCB Info slot was read for */
};

static inline uint8_t *memsrc_dup(const uint8_t *p, size_t n)
{
	uint8_t *d;

	if (p == NULL)
		return NULL;
	if ((d = malloc(n + 1)) != NULL) { /* blobs are NUL-terminated (collateral.h) */
		memcpy(d, p, n);
		d[n] = '\0';
	}
	return d;
}

/* A copy of slot s, read from the inner source the first time. */
static inline int memsrc_get(struct memsrc *m, enum memsrc_slot s,
			     int (*read)(struct memsrc *, void *, struct collateral_blob *,
					 struct attest_err *),
			     void *arg, struct collateral_blob *out, struct attest_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!m->have[s]) {
		m->rc[s] = read(m, arg, &m->blob[s], err);
		m->have[s] = true;
		if (m->rc[s] != ATTEST_OK)
			return m->rc[s];
	}
	if (m->rc[s] != ATTEST_OK)
		return attest_err_set(err, m->rc[s], "collateral.not_found", "not in the memory source");
	out->data = memsrc_dup(m->blob[s].data, m->blob[s].len);
	out->len = m->blob[s].len;
	out->chain = memsrc_dup(m->blob[s].chain, m->blob[s].chain_len);
	out->chain_len = m->blob[s].chain_len;
	if (out->data == NULL || (m->blob[s].chain != NULL && out->chain == NULL)) {
		collateral_blob_free(out);
		return attest_err_set(err, ATTEST_E_NOMEM, "collateral.nomem", "out of memory");
	}
	return ATTEST_OK;
}

static inline int memsrc_read_pck_crl(struct memsrc *m, void *arg, struct collateral_blob *b,
				      struct attest_err *err)
{
	return collateral_get_pck_crl(m->inner, *(enum collateral_pck_ca *)arg, b, err);
}

static inline int memsrc_read_root_crl(struct memsrc *m, void *arg, struct collateral_blob *b,
				       struct attest_err *err)
{
	(void)arg;
	return collateral_get_root_ca_crl(m->inner, b, err);
}

struct memsrc_tcb_arg {
	enum collateral_tee tee;
	const uint8_t *fmspc;
};

static inline int memsrc_read_tcb(struct memsrc *m, void *arg, struct collateral_blob *b,
				  struct attest_err *err)
{
	const struct memsrc_tcb_arg *a = arg;

	memcpy(m->fmspc[a->tee == COLLATERAL_TEE_TDX], a->fmspc, 6);
	return collateral_get_tcb_info(m->inner, a->tee, a->fmspc, b, err);
}

static inline int memsrc_read_qe(struct memsrc *m, void *arg, struct collateral_blob *b,
				 struct attest_err *err)
{
	return collateral_get_qe_identity(m->inner, *(enum collateral_qe *)arg, b, err);
}

static inline int memsrc_pck_crl(void *self, enum collateral_pck_ca ca, struct collateral_blob *out,
				 struct attest_err *err)
{
	return memsrc_get(self, ca == COLLATERAL_CA_PLATFORM ? MEMSRC_PCK_CRL1 : MEMSRC_PCK_CRL0,
			  memsrc_read_pck_crl, &ca, out, err);
}

static inline int memsrc_root_crl(void *self, struct collateral_blob *out, struct attest_err *err)
{
	return memsrc_get(self, MEMSRC_ROOT_CRL, memsrc_read_root_crl, NULL, out, err);
}

static inline int memsrc_tcb(void *self, enum collateral_tee tee, const uint8_t fmspc[6],
			     struct collateral_blob *out, struct attest_err *err)
{
	struct memsrc *m = self;
	struct memsrc_tcb_arg a = {tee, fmspc};
	enum memsrc_slot s = tee == COLLATERAL_TEE_TDX ? MEMSRC_TCB_TDX : MEMSRC_TCB_SGX;

	/* One FMSPC per vector: another one is asked of the inner source, never served stale. */
	if (m->have[s] && memcmp(m->fmspc[tee == COLLATERAL_TEE_TDX], fmspc, 6) != 0)
		return collateral_get_tcb_info(m->inner, tee, fmspc, out, err);
	return memsrc_get(m, s, memsrc_read_tcb, &a, out, err);
}

static inline int memsrc_qe(void *self, enum collateral_qe kind, struct collateral_blob *out,
			    struct attest_err *err)
{
	return memsrc_get(self, (enum memsrc_slot)(MEMSRC_QE0 + (int)kind), memsrc_read_qe, &kind, out, err);
}

static inline int memsrc_pck_cert(void *self, const struct collateral_pck_query *q,
				  struct collateral_blob *out, struct attest_err *err)
{
	return collateral_get_pck_cert(((struct memsrc *)self)->inner, q, out, err);
}

static inline void memsrc_free(void *self)
{
	struct memsrc *m = self;

	for (int i = 0; i < MEMSRC_SLOTS; i++)
		collateral_blob_free(&m->blob[i]);
	collateral_source_free(m->inner);
	free(m->inner);
	free(m);
}

static const struct collateral_source_ops MEMSRC_OPS = {
    .name = "memory",
    .pck_crl = memsrc_pck_crl,
    .root_ca_crl = memsrc_root_crl,
    .tcb_info = memsrc_tcb,
    .qe_identity = memsrc_qe,
    .pck_cert = memsrc_pck_cert,
    .free = memsrc_free,
};

/*
 * Wraps inner (taking it) into a new source; *out is freed with
 * collateral_source_free + free like every source. 0 on success.
 */
static inline int memsrc_new(struct collateral_source *inner, struct collateral_source **out)
{
	struct memsrc *m = calloc(1, sizeof(*m));

	*out = calloc(1, sizeof(**out));
	if (m == NULL || *out == NULL || inner == NULL) {
		free(m);
		free(*out);
		*out = NULL;
		return -1;
	}
	m->inner = inner;
	(*out)->ops = &MEMSRC_OPS;
	(*out)->self = m;
	return 0;
}

#endif
