/*
 * Open Enclave envelopes (formats.md §4): every header and custom-claims
 * malformation has its own error; each format UUID routes to its layout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "claims/claims.h"
#include "crypto/crypto.h"
#include "devplat/intel.h"
#include "evidence/sgx.h"

#include <stdlib.h>
#include <string.h>

#define NOW 1750377600LL

/* A platform with no collateral: NO_COLLATERAL checks chain and signatures, which is all these tests need. */
struct fx {
	struct intel_devplat *p;
	struct evidence_anchors anchors;
	struct evidence_ctx ctx;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct intel_devplat_opts o;

	intel_devplat_opts_default(&o, NOW);
	if (f == NULL || intel_devplat_new(&o, &f->p, NULL) != ATTEST_OK)
		return -1;
	f->anchors.intel_sgx_roots = intel_devplat_roots(f->p);
	f->ctx.now = NOW;
	f->ctx.anchors = &f->anchors;
	f->ctx.flags = EVIDENCE_NO_COLLATERAL;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sk_X509_pop_free(f->anchors.intel_sgx_roots, X509_free);
	intel_devplat_free(f->p);
	free(f);
	return 0;
}

/* A v3 quote whose REPORTDATA[0:32] is SHA-256(bound). */
static uint8_t *quote_binding(struct fx *f, const uint8_t *bound, size_t blen, size_t *len)
{
	struct intel_devplat_enclave e;
	struct intel_devplat_quote s;
	uint8_t body[SGX_REPORT_BODY_SIZE], *q;

	intel_devplat_enclave_default(&e);
	sha256(bound ? bound : (const uint8_t *)"", blen, e.reportdata);
	intel_devplat_report_body(&e, body);
	intel_devplat_quote_default(&s);
	s.body = body;
	s.body_len = sizeof(body);
	assert_int_equal(intel_devplat_make_quote(f->p, &s, &q, len, NULL), ATTEST_OK);
	return q;
}

static const char *verify(struct fx *f, const uint8_t *ev, size_t len, struct claim_set **keep)
{
	static struct attest_err err;
	struct evidence_input in = {.evidence = ev, .evidence_len = len};
	struct claim_set *cs = claim_set_new();
	int rc;

	attest_err_clear(&err);
	rc = oe_verify(&f->ctx, &in, cs, &err);
	if (keep != NULL && rc == ATTEST_OK)
		*keep = cs;
	else
		claim_set_free(cs);
	return rc == ATTEST_OK ? "ok" : err.name;
}

static void a_legacy_report_header_must_be_version_1_remote_and_sized(void **state)
{
	struct fx *f = *state;
	size_t qlen, rlen;
	uint8_t *q = quote_binding(f, NULL, 0, &qlen), *r;

	assert_int_equal(intel_devplat_oe_report(q, qlen, &r, &rlen), ATTEST_OK);
	assert_string_equal(verify(f, r, rlen, NULL), "ok");
	r[4] = 1; /* SGX local report */
	assert_string_equal(verify(f, r, rlen, NULL), "oe.report.type");
	r[4] = 2, r[8] ^= 1; /* size off by one */
	assert_string_equal(verify(f, r, rlen, NULL), "oe.report.size");
	r[8] ^= 1;
	assert_string_equal(verify(f, r, 12, NULL), "oe.report.truncated");
	free(r);
	free(q);
}

static void evidence_formats_route_by_uuid(void **state)
{
	struct fx *f = *state;
	size_t qlen, elen, rlen;
	uint8_t *q = quote_binding(f, NULL, 0, &qlen), *e, *r, *w;

	/* SGX ECDSA with no claims: REPORTDATA = SHA-256(""). */
	assert_int_equal(intel_devplat_oe_evidence(q, qlen, NULL, 0, true, &e, &elen), ATTEST_OK);
	assert_string_equal(verify(f, e, elen, NULL), "ok");
	/* Raw quote UUID. */
	memcpy(e + 4, OE_FORMAT_UUID_RAW_SGX_QUOTE_ECDSA, 16);
	assert_string_equal(verify(f, e, elen, NULL), "ok");
	/* An unknown UUID. */
	e[4] ^= 0xff;
	assert_string_equal(verify(f, e, elen, NULL), "oe.evidence.format");
	/* Legacy remote report inside an attestation header. */
	assert_int_equal(intel_devplat_oe_report(q, qlen, &r, &rlen), ATTEST_OK);
	w = calloc(1, rlen + 32);
	memcpy(w, e, 32);
	memcpy(w + 4, OE_FORMAT_UUID_LEGACY_REPORT_REMOTE, 16);
	w[24] = (uint8_t)rlen, w[25] = (uint8_t)(rlen >> 8), w[26] = 0, w[27] = 0;
	memcpy(w + 32, r, rlen);
	assert_string_equal(verify(f, w, rlen + 32, NULL), "ok");
	w[24] ^= 4;
	assert_string_equal(verify(f, w, rlen + 32, NULL), "oe.evidence.size");
	free(w);
	free(r);
	free(e);
	free(q);
}

static void custom_claims_are_parsed_and_bound(void **state)
{
	static const char *const names[] = {"a", "bb"};
	static const uint8_t v0[] = {0xff}, v1[] = {1, 2};
	const uint8_t *values[] = {v0, v1};
	const size_t lens[] = {1, 2};
	struct fx *f = *state;
	struct claim_set *cs = NULL;
	size_t clen, qlen, elen;
	uint8_t *c, *q, *e;
	const json_t *cc;

	assert_int_equal(intel_devplat_oe_custom_claims(names, values, lens, 2, &c, &clen), ATTEST_OK);
	q = quote_binding(f, c, clen, &qlen);
	assert_int_equal(intel_devplat_oe_evidence(q, qlen, c, clen, true, &e, &elen), ATTEST_OK);
	assert_string_equal(verify(f, e, elen, &cs), "ok");
	cc = claim_set_get(cs, "x-ms-oe-custom-claims");
	assert_string_equal(json_string_value(json_object_get(cc, "a")), "_w");
	assert_string_equal(json_string_value(json_object_get(cc, "bb")), "AQI");
	claim_set_free(cs);
	/* Without the attestation header the same bytes are a quote with trailing bytes: no claims. */
	free(e);
	assert_int_equal(intel_devplat_oe_evidence(q, qlen, c, clen, false, &e, &elen), ATTEST_OK);
	cs = NULL;
	assert_string_equal(verify(f, e, elen, &cs), "ok");
	assert_null(claim_set_get(cs, "x-ms-oe-custom-claims"));
	claim_set_free(cs);
	free(e);
	free(q);
	free(c);
}

/* Custom-claims malformations; the quote binds whatever buffer is tried, so only the parse can refuse. */
static const char *claims_err(struct fx *f, const uint8_t *c, size_t clen)
{
	static char name[ATTEST_ERR_NAME_MAX];
	size_t qlen, elen;
	uint8_t *q = quote_binding(f, c, clen, &qlen), *e;

	assert_int_equal(intel_devplat_oe_evidence(q, qlen, c, clen, true, &e, &elen), ATTEST_OK);
	snprintf(name, sizeof(name), "%s", verify(f, e, elen, NULL));
	free(e);
	free(q);
	return name;
}

static void malformed_custom_claims_have_their_own_errors(void **state)
{
	static const char *const names[] = {"name"};
	static const uint8_t v[] = {7};
	const uint8_t *values[] = {v};
	const size_t lens[] = {1};
	struct fx *f = *state;
	size_t clen;
	uint8_t *c;

	assert_int_equal(intel_devplat_oe_custom_claims(names, values, lens, 1, &c, &clen), ATTEST_OK);
	assert_string_equal(claims_err(f, c, clen), "ok");
	assert_string_equal(claims_err(f, c, 12), "oe.custom_claims.truncated");
	assert_string_equal(claims_err(f, c, clen - 1), "oe.custom_claims.truncated");
	c[0] = 2;
	assert_string_equal(claims_err(f, c, clen), "oe.custom_claims.version");
	c[0] = 1, c[8] = 0xff, c[9] = 0xff; /* 65535 claims */
	assert_string_equal(claims_err(f, c, clen), "oe.custom_claims.count");
	c[8] = 1, c[9] = 0;
	c[32 + 4] = 'X'; /* the name's NUL */
	assert_string_equal(claims_err(f, c, clen), "oe.custom_claims.name");
	c[32 + 4] = 0;
	c = realloc(c, clen + 1);
	c[clen] = 0;
	assert_string_equal(claims_err(f, c, clen + 1), "oe.custom_claims.trailing");
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_legacy_report_header_must_be_version_1_remote_and_sized),
	    cmocka_unit_test(evidence_formats_route_by_uuid),
	    cmocka_unit_test(custom_claims_are_parsed_and_bound),
	    cmocka_unit_test(malformed_custom_claims_have_their_own_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
