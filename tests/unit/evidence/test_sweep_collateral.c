/*
 * Sweep suite, Intel collateral (issue 13; STYLE.md habit 9): for every
 * real SGX, OE and TDX vector, one bit of every byte of each collateral
 * file the verifier reads (TCB Info, QE identity, PCK CRL, Root CA CRL and
 * the TCB signing chains), and every 8th cut of it, is refused: the quote is
 * verified against a copy of the vector's folder in which that one file is
 * rewritten with the mutant. No collateral cache (the cache is keyed by
 * what the collateral covers, so a warm one would never read the mutant).
 * A file already swept for another vector (same bytes) is swept once.
 *
 * Same content (not counted as accepted): a flip inside the PEM text of an
 * issuer chain that leaves every certificate's DER unchanged, and a hex
 * digit of the top-level "signature" in the other case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "sweep.h"
#include "sgx_vectors.h"
#include "tdx_vectors.h"
#include "test_sweep_intel.h"

#include "evidence/sgx.h"
#include "evidence/tdx.h"

#include <dirent.h>
#include <openssl/evp.h>

/*
 * pck_crl_issuer_chain.pem is not among them: the verifier checks the PCK
 * CRL against the PCK CA certificate of the quote's own chain (verified to
 * the root), never the chain served beside the CRL, so its bytes change
 * nothing (a sweep of it accepts every mutant).
 */
static const char *const FILES[] = {
    "tcb_info.json", "tcb_info_issuer_chain.pem", "qe_identity.json", "qe_identity_issuer_chain.pem",
    "pck_crl.der",   "root_ca_crl.der",
};

/* SHA-256 of every file swept so far: identical files of two vectors are swept once. */
static uint8_t swept[256][32];
static size_t n_swept;

static bool already_swept(const uint8_t *p, size_t n)
{
	uint8_t h[32];

	EVP_Digest(p, n, h, NULL, EVP_sha256(), NULL);
	for (size_t i = 0; i < n_swept; i++)
		if (memcmp(swept[i], h, 32) == 0)
			return true;
	assert_true(n_swept < 256);
	memcpy(swept[n_swept++], h, 32);
	return false;
}

/* A whole file (malloc'd), or NULL when it cannot be read (e.g. a folder). */
static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (p = malloc((size_t)n + 1)) != NULL && fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		p = NULL;
	} else if (p != NULL) {
		*len = (size_t)n;
	}
	fclose(f);
	return p;
}

static void copy_folder(const char *from, const char *to)
{
	DIR *d = opendir(from);
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char src[1100], dst[1100];
		size_t n = 0;
		uint8_t *p;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(src, sizeof(src), "%.800s/%.255s", from, e->d_name);
		snprintf(dst, sizeof(dst), "%.800s/%.255s", to, e->d_name);
		p = read_file(src, &n);
		if (p == NULL)
			continue; /* a folder */
		assert_non_null(f = fopen(dst, "wb"));
		assert_int_equal(fwrite(p, 1, n, f), n);
		fclose(f);
		free(p);
	}
	closedir(d);
}

/* Sweeps each collateral file of folder `coll` (below dir) against the evidence file `evidence`. */
static void sweep_folder(const char *dir, const char *vector, const char *coll, const char *evidence,
			 int64_t now, unsigned flags, intel_verify_fn fn, uint32_t tee,
			 const char *allowed_base_err)
{
	char tmp[64], src[1100];
	struct collateral_source *source = NULL;
	struct evidence_ctx ctx;
	uint8_t *ev;
	size_t ev_len = 0;

	snprintf(tmp, sizeof(tmp), "/tmp/attest-sweep-coll-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	snprintf(src, sizeof(src), "%.700s/%.390s", dir, coll);
	copy_folder(src, tmp);
	ev = test_read_vector(dir, evidence, &ev_len);
	assert_non_null(ev);
	assert_int_equal(collateral_file_source_new(tmp, &source, NULL), ATTEST_OK);
	memset(&ctx, 0, sizeof(ctx));
	ctx.now = now;
	ctx.collateral = source; /* no cache: see the top of the file */
	ctx.flags = flags;
	for (size_t i = 0; i < sizeof(FILES) / sizeof(FILES[0]); i++) {
		char path[200];
		struct intel_sweep s;
		struct sweep_target t;
		uint8_t *buf;
		size_t len = 0;
		int rc;

		snprintf(path, sizeof(path), "%s/%s", tmp, FILES[i]);
		buf = read_file(path, &len);
		if (buf == NULL)
			continue; /* e.g. no CRLs published for this vector */
		if (already_swept(buf, len)) {
			free(buf);
			continue;
		}
		rc = intel_sweep_init(&s, &ctx, fn, ev, ev_len, SIZE_MAX, tee);
		if (rc != ATTEST_OK &&
		    (allowed_base_err == NULL || strcmp(s.base_err, allowed_base_err) != 0))
			fail_msg("%s: the unaltered evidence gives %s", vector, s.base_err);
		/* the target is now the collateral file; the evidence stays as it is */
		free(s.orig);
		s.orig = malloc(len ? len : 1);
		memcpy(s.orig, buf, len);
		s.orig_len = len;
		s.file = path;
		s.ev = ev;
		s.ev_len = ev_len;
		memset(&t, 0, sizeof(t));
		t.vector = vector;
		t.part = FILES[i];
		t.buf = buf;
		t.len = len;
		t.mode = SWEEP_BYTES;
		t.cuts = true;
		t.cut_every =
		    8; /* every 8th length: cuts mostly fail at the parser; keeps the Release run short */
		t.verify = intel_sweep_verify;
		t.same = intel_sweep_same;
		t.arg = &s;
		sweep_run(&t);
		intel_sweep_write(path, s.orig, s.orig_len); /* restored for the next file */
		intel_sweep_free(&s);
		free(buf);
	}
	collateral_source_free(source);
	free(source);
	free(ev);
	devplat_fixture_rmdir(tmp);
}

static void every_byte_and_cut_of_sgx_and_oe_collateral_is_refused(void **state)
{
	REQUIRE_VECTORS(dir);

	for (size_t i = 0; i < N_SGX_VECTORS; i++) {
		const struct sgx_vector *v = &SGX_VECTORS[i];

		sweep_folder(dir, v->collateral, v->collateral, v->quote, v->now, 0, sgx_verify,
			     QUOTE_TEE_SGX, NULL);
	}
}

static void every_byte_and_cut_of_tdx_collateral_is_refused(void **state)
{
	REQUIRE_VECTORS(dir);

	for (size_t i = 0; i < TDX_VECTOR_COUNT; i++) {
		const struct tdx_vector *v = &TDX_VECTORS[i];
		char quote[1024];

		snprintf(quote, sizeof(quote), "%s/quote.bin", v->dir);
		sweep_folder(dir, v->dir, v->dir, quote, tdx_bundle_now(dir, v->dir),
			     v->no_crl ? EVIDENCE_NO_REVOCATION : 0, tdx_verify, QUOTE_TEE_TDX,
			     v->status == NULL ? "tdx.tcb.not_supported" : NULL);
	}
}

static void no_mutation_was_accepted(void **state)
{
	assert_int_equal(sweep_finish("collateral"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_byte_and_cut_of_sgx_and_oe_collateral_is_refused),
	    cmocka_unit_test(every_byte_and_cut_of_tdx_collateral_is_refused),
	    cmocka_unit_test(no_mutation_was_accepted), /* prints the table, writes the report */
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
