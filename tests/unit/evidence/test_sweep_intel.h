#ifndef ATTEST_TEST_SWEEP_INTEL_H
#define ATTEST_TEST_SWEEP_INTEL_H

/*
 * What the Intel programs of the sweep suite share (test_sweep_sgx,
 * test_sweep_tdx, test_sweep_collateral): the verify and same-content
 * callbacks of tests/common/sweep.h for SGX, OE and TDX evidence, and a
 * synthetic Intel platform (devplat) with SGX and TDX collateral in a
 * temporary folder. Include after cmocka, testutil.h and sweep.h.
 */

#include "claims/claims.h"
#include "collateral/collateral.h"
#include "devplat/intel.h"
#include "devplat/tdx.h"
#include "devplat_fixture.h"
#include "evidence/evidence.h"
#include "evidence/quote.h"
#include "evidence/sgx.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*intel_verify_fn)(const struct evidence_ctx *ctx, const struct evidence_input *in,
			       struct claim_set *out, struct attest_err *err);

struct intel_sweep {
	struct evidence_ctx ctx;
	intel_verify_fn fn;
	char base_err[96]; /* "" when the unaltered evidence verifies, else its post-signature error */
	uint8_t *orig;	   /* copy of the unaltered target (evidence or collateral file) */
	size_t orig_len;
	size_t cert_off, cert_len; /* PEM certification data inside the target (quote sweeps) */
	size_t struct_len;	   /* end of the quote structure: longer cuts keep only trailing bytes */
	size_t pad_off, pad_len;   /* bytes the format leaves unused (struct padding), not interpreted */
	/* collateral sweeps: the file rewritten with each mutant, and the evidence verified */
	const char *file;
	const uint8_t *ev;
	size_t ev_len;
};

static inline void intel_sweep_write(const char *path, const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_TRUNC);

	if (fd < 0 || (n > 0 && write(fd, p, n) != (ssize_t)n)) {
		fprintf(stderr, "cannot rewrite %s\n", path);
		abort();
	}
	close(fd);
}

/* Runs the verifier once; *name gets the error name. */
static inline int intel_sweep_rc(struct intel_sweep *s, const uint8_t *p, size_t n, char *name, size_t cap,
				 bool *claims_on_refusal)
{
	struct evidence_input in;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	int rc;

	memset(&in, 0, sizeof(in));
	in.evidence = p;
	in.evidence_len = n;
	attest_err_clear(&err);
	rc = s->fn(&s->ctx, &in, cs, &err);
	snprintf(name, cap, "%s", rc == ATTEST_OK ? "" : err.name);
	*claims_on_refusal = rc != ATTEST_OK && claim_set_count(cs) != 0;
	claim_set_free(cs);
	return rc;
}

/*
 * Accepted: verified, or refused with the unaltered quote's own
 * post-signature error (e.g. "tdx.tcb.not_supported" is only reached after
 * every signature verified), or refused while still adding claims.
 */
static inline int intel_sweep_verify(void *arg, const uint8_t *p, size_t n)
{
	struct intel_sweep *s = arg;
	char name[96];
	bool leaked;
	int rc;

	if (s->file != NULL) {
		intel_sweep_write(s->file, p, n);
		p = s->ev;
		n = s->ev_len;
	}
	rc = intel_sweep_rc(s, p, n, name, sizeof(name), &leaked);
	if (leaked)
		fprintf(stderr, "refusal %s still added claims\n", name);
	return rc == ATTEST_OK || leaked || (s->base_err[0] != '\0' && strcmp(name, s->base_err) == 0);
}

static inline bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/*
 * Same content: the PEM text of a certificate chain (in a quote or an
 * issuer-chain file) that decodes to the same DER (base64 padding bits,
 * whitespace, text outside the blocks carry nothing); an issuer-chain file
 * cut after a whole certificate (the root it drops is built in); a hex
 * digit of the collateral's "signature" in the other case; a collateral
 * JSON file that lost only its trailing whitespace; trailing bytes after the
 * quote structure, flipped or cut (ignored, formats.md §1.7); the padding
 * of oe_attestation_header_t (bytes 20..23, formats.md §4.2: not packed).
 */
static inline bool intel_sweep_same(void *arg, const uint8_t *p, size_t n, size_t at, bool cut)
{
	struct intel_sweep *s = arg;

	if (s->file != NULL) {
		if (ends_with(s->file, ".pem"))
			return cut ? sweep_pem_cert_prefix(s->orig, s->orig_len, p, n)
				   : sweep_pem_same_certs(s->orig, s->orig_len, p, n);
		if (ends_with(s->file, ".json") && cut) {
			/* only trailing whitespace dropped */
			for (size_t i = at; i < s->orig_len; i++)
				if (s->orig[i] != '\n' && s->orig[i] != ' ' && s->orig[i] != '\r' &&
				    s->orig[i] != '\t')
					return false;
			return true;
		}
		if (ends_with(s->file, ".json"))
			return sweep_same_hex_case(s->orig, p, n, at, "signature");
		return false;
	}
	if (!cut && s->pad_len > 0 && at >= s->pad_off && at - s->pad_off < s->pad_len)
		return true;
	/* bytes after the quote structure are not part of the quote */
	if (s->struct_len > 0 && at >= s->struct_len)
		return true;
	if (cut)
		return false;
	return s->cert_len > 0 && at >= s->cert_off && at - s->cert_off < s->cert_len &&
	       sweep_pem_same_certs(s->orig + s->cert_off, s->cert_len, p + s->cert_off, s->cert_len);
}

/*
 * Prepares s for a sweep of the evidence `ev` (len bytes, copied) whose
 * quote starts `quote_off` bytes in; records the unaltered verdict. Returns
 * the verdict's rc.
 */
static inline int intel_sweep_init(struct intel_sweep *s, const struct evidence_ctx *ctx, intel_verify_fn fn,
				   const uint8_t *ev, size_t len, size_t quote_off, uint32_t tee)
{
	struct quote q;
	bool leaked;
	int rc;

	memset(s, 0, sizeof(*s));
	s->ctx = *ctx;
	s->fn = fn;
	s->orig = malloc(len ? len : 1);
	memcpy(s->orig, ev, len);
	s->orig_len = len;
	if (quote_off < len &&
	    quote_parse(ev + quote_off, len - quote_off, tee, &q, "sweep", NULL) == ATTEST_OK) {
		if (q.cert_data != NULL && q.cert_data_len > 0) {
			s->cert_off = quote_off + (size_t)(q.cert_data - q.raw);
			s->cert_len = q.cert_data_len;
		}
		s->struct_len = quote_off + q.len;
	}
	rc = intel_sweep_rc(s, ev, len, s->base_err, sizeof(s->base_err), &leaked);
	return rc;
}

static inline void intel_sweep_free(struct intel_sweep *s)
{
	free(s->orig);
	s->orig = NULL;
}

/*
 * Sweeps every bit (or byte) of buf, one bit of every byte of its PEM chain,
 * and every cut; asserts the unaltered verdict first.
 */
static inline void intel_sweep_evidence(const char *vector, const char *part, const struct evidence_ctx *ctx,
					intel_verify_fn fn, uint8_t *buf, size_t len, size_t quote_off,
					uint32_t tee, enum sweep_mode mode, const char *allowed_base_err)
{
	struct intel_sweep s;
	struct sweep_target t;
	int rc = intel_sweep_init(&s, ctx, fn, buf, len, quote_off, tee);

	/* oe_attestation_header_t: u32 version, 16-byte format id, 4 bytes of padding, u64 data_size */
	if (fn == oe_verify && quote_off == OE_ATTESTATION_HEADER_SIZE) {
		s.pad_off = 20;
		s.pad_len = 4;
	}

	if (rc != ATTEST_OK && (allowed_base_err == NULL || strcmp(s.base_err, allowed_base_err) != 0))
		fail_msg("%s %s: the unaltered evidence gives %s", vector, part, s.base_err);
	memset(&t, 0, sizeof(t));
	t.vector = vector;
	t.part = part;
	t.buf = buf;
	t.len = len;
	t.mode = mode;
	t.cuts = true;
	t.verify = intel_sweep_verify;
	t.same = intel_sweep_same;
	t.arg = &s;
	if (s.struct_len > 0 && s.struct_len < len)
		t.to = s.struct_len;
	if (mode == SWEEP_BITS && s.cert_len > 0 && s.cert_off + s.cert_len <= (t.to ? t.to : len)) {
		/*
		 * Every bit of everything but the PEM text of the PCK chain, and one
		 * bit of every byte of that text: a flip there costs a full chain
		 * verification, and three quarters of a quote are that text.
		 */
		size_t end = t.to ? t.to : len;

		t.to = s.cert_off;
		sweep_run(&t);
		t.cuts = false;
		t.part = "PCK chain (PEM)";
		t.from = s.cert_off;
		t.to = s.cert_off + s.cert_len;
		t.mode = SWEEP_BYTES;
		sweep_run(&t);
		if (t.to < end) {
			t.part = "after the chain";
			t.from = t.to;
			t.to = end;
			t.mode = SWEEP_BITS;
			sweep_run(&t);
		}
		t.to = end < len ? end : 0;
	} else {
		sweep_run(&t);
	}
	if (t.to != 0) {
		/* bytes after the structure (formats.md §1.7): one flip each, cuts done above */
		t.part = "trailing bytes";
		t.from = s.struct_len;
		t.to = len;
		t.mode = SWEEP_BYTES;
		t.cuts = false;
		sweep_run(&t);
	}
	assert_memory_equal(buf, s.orig, len);
	intel_sweep_free(&s);
}

/* ---- a synthetic Intel platform ---------------------------------------------- */

struct intel_synth {
	struct intel_devplat *p;
	char dir[64];
	struct evidence_anchors anchors;
	struct collateral_source *src;
	struct collateral_cache *cache;
	struct evidence_ctx ctx;
	int64_t now;
};

/* One UpToDate SGX level and one TDX level at the platform's SVNs, TDX module 1, Intel's QE/TD QE identities.
 */
static inline void intel_synth_collateral(struct intel_synth *t)
{
	static const struct intel_devplat_module_level mod_level = {1, "UpToDate", NULL};
	struct intel_devplat_opts d;
	struct intel_devplat_tcb_level sgx = {.status = "UpToDate"},
				       tdx = {.has_tdx = true, .status = "UpToDate"};
	struct intel_devplat_module mod = {.id = "TDX_01", .levels = &mod_level, .n_levels = 1};
	struct intel_devplat_tcb_info ti = {.version = 3, .id = "SGX", .levels = &sgx, .n_levels = 1};
	struct intel_devplat_qe_identity qe;
	char *tb = NULL, *qb = NULL, path[256], hex[13];
	size_t tl = 0, ql = 0;
	FILE *f;

	intel_devplat_opts_default(&d, t->now);
	memcpy(sgx.sgx, d.comp_svn, 16);
	sgx.pcesvn = d.pcesvn;
	tdx.pcesvn = d.pcesvn;
	memcpy(tdx.sgx, d.comp_svn, 16);
	intel_devplat_qe_identity_default(&qe);
	assert_int_equal(intel_devplat_tcb_info(t->p, &ti, &tb, &tl, NULL), ATTEST_OK);
	assert_int_equal(intel_devplat_qe_identity(t->p, &qe, &qb, &ql, NULL), ATTEST_OK);
	assert_int_equal(intel_devplat_write_collateral(t->p, t->dir, tb, tl, qb, ql, 0, 0, NULL), ATTEST_OK);
	free(tb);
	free(qb);
	tdx_devplat_tcb_info_default(&ti, &tdx, 1, &mod, 1);
	tdx_devplat_td_qe_identity_default(&qe);
	assert_int_equal(intel_devplat_tcb_info(t->p, &ti, &tb, &tl, NULL), ATTEST_OK);
	assert_int_equal(intel_devplat_qe_identity(t->p, &qe, &qb, &ql, NULL), ATTEST_OK);
	for (int i = 0; i < 6; i++)
		snprintf(hex + 2 * i, 3, "%02x", d.fmspc[i]);
	snprintf(path, sizeof(path), "%s/tcb_info_tdx_%s.json", t->dir, hex);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(tb, 1, tl, f), tl);
	fclose(f);
	snprintf(path, sizeof(path), "%s/qe_identity_td_qe.json", t->dir);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(qb, 1, ql, f), ql);
	fclose(f);
	free(tb);
	free(qb);
}

static inline void intel_synth_new(struct intel_synth *t, int64_t now)
{
	struct intel_devplat_opts o;

	memset(t, 0, sizeof(*t));
	t->now = now;
	intel_devplat_opts_default(&o, now);
	assert_int_equal(intel_devplat_new(&o, &t->p, NULL), ATTEST_OK);
	snprintf(t->dir, sizeof(t->dir), "/tmp/attest-sweep-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	intel_synth_collateral(t);
	t->anchors.intel_sgx_roots = intel_devplat_roots(t->p);
	assert_int_equal(collateral_file_source_new(t->dir, &t->src, NULL), ATTEST_OK);
	t->cache = collateral_cache_new(64);
	t->src->cache = t->cache;
	t->ctx.now = now;
	t->ctx.anchors = &t->anchors;
	t->ctx.collateral = t->src;
}

static inline void intel_synth_free(struct intel_synth *t)
{
	devplat_fixture_rmdir(t->dir);
	collateral_source_free(t->src);
	free(t->src);
	collateral_cache_free(t->cache);
	sk_X509_pop_free(t->anchors.intel_sgx_roots, X509_free);
	intel_devplat_free(t->p);
}

#endif
