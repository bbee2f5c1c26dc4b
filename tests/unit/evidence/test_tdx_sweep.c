/*
 * Mutation sweep on every real TDX vector (STYLE.md habit 9): flipping any
 * single bit of the signed region (header, v5 descriptor, TD report body)
 * or of the signing material (ISV signature, attestation key, QE report,
 * its signature, QE authentication data, the certification data with the
 * PCK chain, and the length/type fields between them) is refused; cutting
 * the quote at any length inside its structure is refused with a parse
 * error; none of it crashes or leaks (the ASan run).
 *
 * For the vectors below every TCB level the refusal must come from the
 * flip, not from the TCB status: "tdx.tcb.not_supported" is only reached
 * after every signature verified.
 *
 * The only flips allowed to verify are those inside the PEM text of the PCK
 * chain that leave every certificate's DER unchanged (base64 padding bits
 * and whitespace carry no signed byte); the test proves that by decoding
 * both chains. ATTEST_SWEEP_STRIDE=N tests every Nth mutation (default 1:
 * exhaustive).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "tdx_vectors.h"

#include "claims/claims.h"
#include "evidence/quote.h"
#include "evidence/tdx.h"

#include <openssl/pem.h>
#include <string.h>

static size_t sweep_stride(void)
{
	const char *s = getenv("ATTEST_SWEEP_STRIDE");
	long v = s ? strtol(s, NULL, 10) : 1;

	return v > 0 ? (size_t)v : 1;
}

static int run(const struct evidence_ctx *ctx, const uint8_t *q, size_t len, struct attest_err *err)
{
	struct evidence_input in;
	struct claim_set *set = claim_set_new();
	int rc;

	memset(&in, 0, sizeof(in));
	in.evidence = q;
	in.evidence_len = len;
	attest_err_clear(err);
	rc = tdx_verify(ctx, &in, set, err);
	/* A refused quote yields no claims. */
	if (rc != ATTEST_OK && claim_set_count(set) != 0)
		rc = -1000;
	claim_set_free(set);
	return rc;
}

/* The DER of every certificate in a PEM text, concatenated (caller frees). */
static uint8_t *pem_ders(const uint8_t *pem, size_t len, size_t *out_len)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	uint8_t *all = NULL;
	size_t n = 0;
	X509 *x;

	while (bio != NULL && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		unsigned char *der = NULL;
		int dl = i2d_X509(x, &der);

		if (dl > 0) {
			uint8_t *grown = realloc(all, n + (size_t)dl);

			assert_non_null(grown);
			all = grown;
			memcpy(all + n, der, (size_t)dl);
			n += (size_t)dl;
		}
		OPENSSL_free(der);
		X509_free(x);
	}
	BIO_free(bio);
	*out_len = n;
	return all;
}

static bool same_certificates(const struct quote *orig, const uint8_t *mutated)
{
	size_t off = (size_t)(orig->cert_data - orig->raw), la, lb;
	uint8_t *a = pem_ders(orig->cert_data, orig->cert_data_len, &la);
	uint8_t *b = pem_ders(mutated + off, orig->cert_data_len, &lb);
	bool same = a != NULL && la == lb && memcmp(a, b, la) == 0;

	free(a);
	free(b);
	return same;
}

static void sweep_vector(const char *dir, const struct tdx_vector *v, size_t stride)
{
	struct tdx_loaded l;
	struct evidence_ctx ctx;
	struct attest_err err;
	struct quote q;
	uint8_t *m;
	size_t count = 0, tried = 0, allowed = 0;
	int base;

	assert_int_equal(tdx_vector_load(dir, v, 64, &l), 0);
	tdx_vector_ctx(&l, v, &ctx);
	base = run(&ctx, l.quote, l.len, &err);
	if (base != ATTEST_OK && strcmp(err.name, "tdx.tcb.not_supported") != 0)
		fail_msg("%s: the unaltered quote gives %s: %s", v->dir, err.name, err.msg);
	assert_int_equal(quote_parse(l.quote, l.len, QUOTE_TEE_TDX, &q, "tdx", &err), ATTEST_OK);
	m = malloc(l.len);
	assert_non_null(m);
	memcpy(m, l.quote, l.len);

	for (size_t bit = 0; bit < q.len * 8; bit++) {
		size_t byte = bit / 8;
		int rc;

		/* sig_len is not signed and only bounds the signature data (formats.md §1.1). */
		if (byte >= q.signed_len && byte < q.signed_len + 4)
			continue;
		if (count++ % stride != 0)
			continue;
		tried++;
		m[byte] ^= (uint8_t)(1u << (bit % 8));
		rc = run(&ctx, m, l.len, &err);
		/*
		 * "TCB level not supported" is raised only after every signature
		 * verified: for the vectors below every level, an altered quote
		 * reaching it again would have passed the signatures.
		 */
		if (rc == ATTEST_OK ||
		    (base != ATTEST_OK && strcmp(err.name, "tdx.tcb.not_supported") == 0)) {
			size_t pem_off = (size_t)(q.cert_data - q.raw);
			bool in_pem = byte >= pem_off && byte - pem_off < q.cert_data_len;

			if (!in_pem || !same_certificates(&q, m))
				fail_msg("%s: flipping bit %zu (byte %zu) still verifies", v->dir, bit % 8,
					 byte);
			allowed++;
		}
		assert_int_not_equal(rc, -1000);
		m[byte] ^= (uint8_t)(1u << (bit % 8));
	}

	for (size_t cut = 0; cut < q.len; cut += stride) {
		int rc = run(&ctx, l.quote, cut, &err);

		if (rc != ATTEST_E_PARSE)
			fail_msg("%s: cut at %zu gives rc %d (%s), not a parse error", v->dir, cut, rc,
				 err.name);
		assert_true(strncmp(err.name, "tdx.quote.", 10) == 0);
	}
	/* Cuts inside the trailing bytes keep the verdict (QVL ignores them, formats.md §1.7). */
	for (size_t cut = q.len; cut < l.len; cut += 97)
		assert_int_equal(run(&ctx, l.quote, cut, &err), base);

	fprintf(stderr, "%s: %zu bit flips tried (%zu PEM-only, DER unchanged), %zu cuts\n", v->dir, tried,
		allowed, (q.len + stride - 1) / stride);
	free(m);
	tdx_vector_unload(&l);
}

static void every_mutation_of_every_real_vector_is_refused(void **state)
{
	size_t stride = sweep_stride();

	REQUIRE_VECTORS(dir);
	for (size_t i = 0; i < TDX_VECTOR_COUNT; i++)
		sweep_vector(dir, &TDX_VECTORS[i], stride);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_mutation_of_every_real_vector_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
