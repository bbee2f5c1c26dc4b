/*
 * PCK SGX extension decoding (formats.md §2.1) with our own DER reader: the
 * real PCK certificates decode to their published values; synthetic
 * extensions of both CA types round-trip; every malformation has its error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "base/buf.h"
#include "base/codec.h"
#include "claims/claims.h"
#include "devplat_fixture.h"
#include "evidence/sgx.h"
#include "crypto/crypto.h"
#include "devplat/intel.h"
#include "devplat/intel_internal.h"
#include "evidence/pck.h"
#include "evidence/quote.h"

#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

static void build_ext(enum pck_ca ca, struct buf *out)
{
	struct intel_devplat_opts o;

	intel_devplat_opts_default(&o, 1750377600);
	o.ca = ca;
	o.comp_svn[5] = 200;
	o.pcesvn = 300;
	buf_init(out, 1 << 16);
	assert_int_equal(intel_devplat_sgx_extension(&o, (const uint8_t *)"0123456789abcdef", out), 0);
}

static const char *decode_err(const uint8_t *p, size_t n, struct attest_err *err)
{
	struct pck_ext e;

	attest_err_clear(err);
	return pck_ext_decode(p, n, &e, "sgx", err) == ATTEST_OK ? "ok" : err->name;
}

static void processor_and_platform_extensions_decode_every_field(void **state)
{
	struct pck_ext e;
	struct buf b;

	build_ext(PCK_CA_PROCESSOR, &b);
	assert_int_equal(pck_ext_decode(b.p, b.len, &e, "sgx", NULL), ATTEST_OK);
	assert_int_equal(e.n_entries, 5);
	assert_int_equal(e.comp_svn[0], 5);
	assert_int_equal(e.comp_svn[5], 200);
	assert_int_equal(e.pcesvn, 300);
	assert_memory_equal(e.cpusvn, e.comp_svn, 16);
	assert_memory_equal(e.ppid, "0123456789abcdef", 16);
	assert_int_equal(e.sgx_type, PCK_SGX_STANDARD);
	assert_false(e.has_configuration);
	buf_free(&b);

	build_ext(PCK_CA_PLATFORM, &b);
	assert_int_equal(pck_ext_decode(b.p, b.len, &e, "sgx", NULL), ATTEST_OK);
	assert_int_equal(e.n_entries, 7);
	assert_int_equal(e.sgx_type, PCK_SGX_SCALABLE);
	assert_true(e.has_platform_instance_id);
	assert_true(e.has_configuration && e.dynamic_platform && e.cached_keys && e.smt_enabled);
	buf_free(&b);
}

static void every_truncation_of_the_extension_is_refused(void **state)
{
	struct attest_err err;
	struct buf b;
	size_t i;

	build_ext(PCK_CA_PLATFORM, &b);
	for (i = 0; i < b.len; i++)
		assert_string_not_equal(decode_err(b.p, i, &err), "ok");
	buf_free(&b);
}

static void trailing_bytes_after_the_sequence_are_refused(void **state)
{
	struct attest_err err;
	struct buf b;

	build_ext(PCK_CA_PROCESSOR, &b);
	buf_append_u8(&b, 0);
	assert_string_equal(decode_err(b.p, b.len, &err), "sgx.pck.extension.malformed");
	buf_free(&b);
}

/* Offset of the first occurrence of needle in the extension. */
static size_t find(const struct buf *b, const uint8_t *needle, size_t n)
{
	size_t i;

	for (i = 0; i + n <= b->len; i++)
		if (memcmp(b->p + i, needle, n) == 0)
			return i;
	fail_msg("pattern not found");
	return 0;
}

static void wrong_types_and_sizes_name_the_field(void **state)
{
	/* OID …13.1.4 (FMSPC) then OCTET STRING of 6 */
	static const uint8_t fmspc[] = {0x06, 0x0a, 0x2a, 0x86, 0x48, 0x86, 0xf8,
					0x4d, 0x01, 0x0d, 0x01, 0x04, 0x04, 0x06};
	static const uint8_t sgxtype[] = {0x06, 0x0a, 0x2a, 0x86, 0x48, 0x86, 0xf8,
					  0x4d, 0x01, 0x0d, 0x01, 0x05, 0x0a};
	static const uint8_t comp1[] = {0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf8,
					0x4d, 0x01, 0x0d, 0x01, 0x02, 0x01, 0x02};
	struct attest_err err;
	struct buf b;
	size_t at;

	build_ext(PCK_CA_PROCESSOR, &b);
	at = find(&b, fmspc, sizeof(fmspc));
	b.p[at + 12] = 0x0c; /* UTF8String instead of OCTET STRING */
	assert_string_equal(decode_err(b.p, b.len, &err), "sgx.pck.extension.fmspc");
	b.p[at + 12] = 0x04;
	at = find(&b, sgxtype, sizeof(sgxtype));
	b.p[at + 14] = 3; /* SGX Type 3 does not exist */
	assert_string_equal(decode_err(b.p, b.len, &err), "sgx.pck.extension.sgx_type");
	b.p[at + 14] = 0;
	at = find(&b, comp1, sizeof(comp1));
	b.p[at + 13] = 0x04; /* component 1 as OCTET STRING */
	assert_string_equal(decode_err(b.p, b.len, &err), "sgx.pck.extension.tcb");
	b.p[at + 13] = 0x02;
	b.p[at + 12] = 0x13; /* component 19 does not exist */
	assert_string_equal(decode_err(b.p, b.len, &err), "sgx.pck.extension.tcb");
	b.p[at + 12] = 0x01;
	at = find(&b, fmspc, 12);
	b.p[at + 11] = 0x03; /* FMSPC's OID becomes a second PCE-ID */
	assert_string_equal(decode_err(b.p, b.len, &err), "sgx.pck.extension.entries");
	assert_string_equal(decode_err(b.p, b.len, &err), "sgx.pck.extension.entries");
	buf_free(&b);
}

static void long_form_lengths_must_be_minimal(void **state)
{
	/* SEQUENCE with length 0 written as 81 00: not DER. */
	static const uint8_t bad[] = {0x30, 0x81, 0x00};
	struct attest_err err;
	struct buf b, z;

	assert_string_equal(decode_err(bad, sizeof(bad), &err), "sgx.pck.extension.malformed");
	/* A real extension whose outer length gets a leading zero octet (8k+1 00 ...): not DER either. */
	build_ext(PCK_CA_PROCESSOR, &b);
	assert_true(b.len > 4 && (b.p[1] & 0x80) && (b.p[1] & 0x7f) < 3);
	buf_init(&z, 1 << 16);
	{
		uint8_t hdr[3] = {0x30, (uint8_t)(b.p[1] + 1), 0x00};

		assert_int_equal(buf_append(&z, hdr, 3), ATTEST_OK);
	}
	assert_int_equal(buf_append(&z, b.p + 2, b.len - 2), ATTEST_OK);
	assert_string_equal(decode_err(z.p, z.len, &err), "sgx.pck.extension.malformed");
	buf_free(&b), buf_free(&z);
}

static void real_pck_certificates_decode_to_their_published_values(void **state)
{
	REQUIRE_VECTORS(dir);
	static const struct {
		const char *quote, *fmspc;
		uint8_t comp[7];
		uint16_t pcesvn;
		int entries;
	} v[] = {
	    {"oe/azure-sdk-js-oe-report-00906ed50000-2022-01/quote.bin",
	     "00906ed50000",
	     {17, 17, 2, 4, 1, 128, 6},
	     10,
	     5},
	    {"sgx/phala-sgx-v3-00a067110000-2025-06/quote.bin", "00a067110000", {0}, 0, 5},
	    {"tdx/google-tdx-v5-90c06f000000-2026-02/quote.bin", "90c06f000000", {0}, 0, 7},
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct quote q;
		struct pck_ext e;
		const uint8_t *pem;
		size_t len = 0, plen;
		STACK_OF(X509) *chain = NULL;
		char hex[13];
		uint8_t *b = test_read_vector(dir, v[i].quote, &len);

		assert_non_null(b);
		assert_int_equal(quote_parse(b, len, QUOTE_TEE_ANY, &q, "t", NULL), ATTEST_OK);
		assert_int_equal(quote_pck_chain_pem(&q, &pem, &plen, "t", NULL), ATTEST_OK);
		assert_int_equal(x509_stack_from_pem(pem, plen, &chain, "t", NULL), ATTEST_OK);
		assert_int_equal(pck_ext_from_cert(sk_X509_value(chain, 0), &e, "t", NULL), ATTEST_OK);
		hex_encode_to(e.fmspc, 6, hex);
		assert_string_equal(hex, v[i].fmspc);
		assert_int_equal(e.n_entries, v[i].entries);
		if (v[i].pcesvn != 0) {
			assert_memory_equal(e.comp_svn, v[i].comp, 7);
			assert_int_equal(e.pcesvn, v[i].pcesvn);
		}
		assert_memory_equal(e.cpusvn, e.comp_svn, 16);
		sk_X509_pop_free(chain, X509_free);
		free(b);
	}
}

/* The DER view path (pck.h, over crypto/x509_der.h) ---------------------------------------- */

static void der_views_of_real_pcks_decode_as_openssls_do(void **state)
{
	REQUIRE_VECTORS(dir);
	static const char *const quotes[] = {
	    "oe/azure-sdk-js-oe-report-00906ed50000-2022-01/quote.bin",
	    "sgx/phala-sgx-v3-00a067110000-2025-06/quote.bin",
	    "tdx/google-tdx-v5-90c06f000000-2026-02/quote.bin",
	    "tdx/phala-tdx-v4-b0c06f000000-2025-06/quote.bin",
	};
	STACK_OF(X509) *roots = NULL;
	struct intel_der_anchors *a = NULL;
	int twins = 0;

	assert_int_equal(intel_sgx_default_roots(&roots, NULL), ATTEST_OK);
	assert_int_equal(intel_der_anchors_new(roots, &a, NULL), ATTEST_OK);
	assert_int_equal(a->n, 1);
	for (size_t i = 0; i < sizeof(quotes) / sizeof(quotes[0]); i++) {
		struct quote q;
		struct pck_ext e1, e2;
		enum pck_ca c1, c2;
		const uint8_t *pem;
		size_t len = 0, plen;
		STACK_OF(X509) *chain = NULL;
		struct intel_der_chain dc;
		uint8_t *b = test_read_vector(dir, quotes[i], &len);

		assert_non_null(b);
		assert_int_equal(quote_parse(b, len, QUOTE_TEE_ANY, &q, "t", NULL), ATTEST_OK);
		assert_int_equal(quote_pck_chain_pem(&q, &pem, &plen, "t", NULL), ATTEST_OK);
		assert_int_equal(x509_stack_from_pem(pem, plen, &chain, "t", NULL), ATTEST_OK);
		assert_int_equal(intel_pem_chain_der(pem, plen, a, &dc, "t", NULL), ATTEST_OK);
		assert_int_equal(dc.n, (size_t)sk_X509_num(chain));
		assert_int_equal(pck_ext_from_cert(sk_X509_value(chain, 0), &e1, "t", NULL), ATTEST_OK);
		assert_int_equal(pck_ext_from_der(dc.cert[0], &e2, "t", NULL), ATTEST_OK);
		assert_memory_equal(&e1, &e2, sizeof(e1));
		assert_int_equal(pck_ca_of_cert(sk_X509_value(chain, 0), &c1, "t", NULL), ATTEST_OK);
		assert_int_equal(pck_ca_of_der(dc.cert[0], &c2, "t", NULL), ATTEST_OK);
		assert_int_equal(c1, c2);
		/*
		 * A carried root that is the anchor's DER is the anchor itself (no
		 * second parse); some quotes carry the other certificate of the root key.
		 */
		if (dc.n == 3) {
			if (dc.owned[2] == NULL)
				assert_ptr_equal(dc.cert[2], a->certs[0]);
			else
				twins++;
			assert_int_equal(intel_der_root_check(dc.cert[2], a, "t.root", NULL), ATTEST_OK);
		}
		intel_der_chain_free(&dc);
		sk_X509_pop_free(chain, X509_free);
		free(b);
	}
	assert_true(twins > 0);
	intel_der_anchors_free(a);
	sk_X509_pop_free(roots, X509_free);
}

/* A self-signed "Intel SGX Root CA" of key k, serial s. */
static X509 *root_of(EVP_PKEY *k, long s)
{
	X509 *x = intel_devplat_issue("Intel SGX Root CA", k, NULL, k, s, 1500000000, 2000000000, true, NULL);

	assert_non_null(x);
	return x;
}

static char *pem_of(X509 *const *certs, size_t n)
{
	char *pem = NULL;
	size_t len = 0;

	assert_int_equal(intel_devplat_pem(certs, n, &pem, &len), 0);
	return pem;
}

static void a_carried_root_must_be_a_valid_certificate_of_an_anchors_key(void **state)
{
	EVP_PKEY *k = intel_devplat_keygen(), *other = intel_devplat_keygen();
	X509 *anchor = root_of(k, 1), *twin = root_of(k, 2), *foreign = root_of(other, 3), *forged;
	STACK_OF(X509) *roots = sk_X509_new_null();
	struct intel_der_anchors *a = NULL;
	struct intel_der_chain dc;
	struct attest_err err;
	char *pem;

	(void)state;
	sk_X509_push(roots, anchor);
	assert_int_equal(intel_der_anchors_new(roots, &a, NULL), ATTEST_OK);
	/* Another certificate of the anchor's subject and key (Intel's root exists twice): accepted. */
	pem = pem_of(&twin, 1);
	assert_int_equal(intel_pem_chain_der((uint8_t *)pem, strlen(pem), a, &dc, "t", NULL), ATTEST_OK);
	assert_non_null(dc.owned[0]);
	assert_int_equal(intel_der_root_check(dc.cert[0], a, "t.root", NULL), ATTEST_OK);
	intel_der_chain_free(&dc);
	free(pem);
	/* Same name, another key. */
	pem = pem_of(&foreign, 1);
	assert_int_equal(intel_pem_chain_der((uint8_t *)pem, strlen(pem), a, &dc, "t", NULL), ATTEST_OK);
	attest_err_clear(&err);
	assert_int_equal(intel_der_root_check(dc.cert[0], a, "t.root", &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "t.root");
	intel_der_chain_free(&dc);
	free(pem);
	/* The anchor's subject and key, signed by another key. */
	forged =
	    intel_devplat_issue("Intel SGX Root CA", k, NULL, other, 4, 1500000000, 2000000000, true, NULL);
	pem = pem_of(&forged, 1);
	assert_int_equal(intel_pem_chain_der((uint8_t *)pem, strlen(pem), a, &dc, "t", NULL), ATTEST_OK);
	attest_err_clear(&err);
	assert_int_equal(intel_der_root_check(dc.cert[0], a, "t.root", &err), ATTEST_E_VERIFY);
	intel_der_chain_free(&dc);
	free(pem);
	intel_der_anchors_free(a);
	sk_X509_pop_free(roots, X509_free);
	X509_free(twin), X509_free(foreign), X509_free(forged);
	EVP_PKEY_free(k), EVP_PKEY_free(other);
}

static void der_chains_hold_at_most_three_certificates_and_nothing_else(void **state)
{
	EVP_PKEY *k = intel_devplat_keygen();
	X509 *r = root_of(k, 1), *four[4] = {r, r, r, r};
	struct intel_der_chain dc;
	struct attest_err err;
	char *pem = pem_of(four, 4), *text;

	(void)state;
	attest_err_clear(&err);
	assert_int_equal(intel_pem_chain_der((uint8_t *)pem, strlen(pem), NULL, &dc, "t.chain", &err),
			 ATTEST_E_PARSE);
	assert_string_equal(err.name, "t.chain.parse");
	free(pem);
	pem = pem_of(four, 1);
	assert_non_null(text = malloc(strlen(pem) + 8));
	sprintf(text, "%sjunk\n", pem);
	attest_err_clear(&err);
	assert_int_equal(intel_pem_chain_der((uint8_t *)text, strlen(text), NULL, &dc, "t.chain", &err),
			 ATTEST_E_PARSE);
	assert_string_equal(err.name, "t.chain.parse");
	attest_err_clear(&err);
	assert_int_equal(intel_pem_chain_der((uint8_t *)"\n", 1, NULL, &dc, "t.chain", &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "t.chain.parse");
	free(text), free(pem);
	X509_free(r);
	EVP_PKEY_free(k);
}

static void crls_load_from_der_or_pem_alike(void **state)
{
	EVP_PKEY *k = intel_devplat_keygen();
	X509 *r = root_of(k, 1);
	X509_CRL *crl = intel_devplat_crl(r, k, 1700000000, 1800000000, NULL, 0);
	unsigned char *der = NULL;
	int n = i2d_X509_CRL(crl, &der);
	char *b64 = NULL, *pem;
	struct x509_der_crl *a = NULL, *b = NULL;
	struct attest_err err;

	(void)state;
	assert_true(n > 0);
	assert_non_null(b64 = b64std_encode(der, (size_t)n));
	assert_non_null(pem = malloc(strlen(b64) + 80));
	sprintf(pem, "\n-----BEGIN X509 CRL-----\n%s\n-----END X509 CRL-----\n", b64);
	assert_int_equal(intel_crl_der(der, (size_t)n, &a, "t.crl", NULL), ATTEST_OK);
	assert_int_equal(intel_crl_der((uint8_t *)pem, strlen(pem), &b, "t.crl", NULL), ATTEST_OK);
	assert_memory_equal(a->der.p, b->der.p, a->der.n);
	x509_der_crl_free(b);
	/* Text after the block. */
	strcat(pem, "x");
	attest_err_clear(&err);
	assert_int_equal(intel_crl_der((uint8_t *)pem, strlen(pem), &b, "t.crl", &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "t.crl.parse");
	x509_der_crl_free(a);
	free(pem), free(b64);
	OPENSSL_free(der);
	X509_CRL_free(crl);
	X509_free(r);
	EVP_PKEY_free(k);
}

/* The pipeline over the synthetic platform (intel.c with the DER views) ----------------------- */

#define NOW 1750377600
#define DAY 86400

struct plat {
	struct devplat_fixture f;
	uint8_t *quote;
	size_t len;
};

/* The platform with TCB Info / QE identity good for 20 days, CRLs until crl_next, and its quote. */
static void plat_up(struct plat *t, int64_t crl_next)
{
	struct intel_devplat_tcb_level l[1];
	struct intel_devplat_tcb_info ti = {0};
	struct intel_devplat_qe_identity qe;

	memset(t, 0, sizeof(*t));
	assert_int_equal(devplat_fixture_up(&t->f, NULL, NOW, "pck", 64), ATTEST_OK);
	memset(l, 0, sizeof(l));
	memcpy(l[0].sgx, DEVPLAT_FIXTURE_COMPS, 16);
	l[0].pcesvn = DEVPLAT_FIXTURE_PCESVN;
	l[0].status = "UpToDate";
	ti.version = 3, ti.id = "SGX", ti.levels = l, ti.n_levels = 1;
	ti.issue_date = NOW - DAY, ti.next_update = NOW + 20 * DAY;
	intel_devplat_qe_identity_default(&qe);
	qe.issue_date = NOW - DAY, qe.next_update = NOW + 20 * DAY;
	assert_int_equal(devplat_fixture_write_standard(&t->f, &ti, &qe, NOW - DAY, crl_next), ATTEST_OK);
	assert_int_equal(devplat_fixture_sgx_quote(t->f.p, 3, &t->quote, &t->len), ATTEST_OK);
}

static void plat_down(struct plat *t)
{
	free(t->quote);
	devplat_fixture_down(&t->f);
}

/* sgx_verify at t: "ok" or the error name. */
static const char *verify_at(struct plat *t, int64_t now)
{
	static char name[ATTEST_ERR_NAME_MAX];
	struct evidence_input in = {0};
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	int rc;

	in.evidence = t->quote, in.evidence_len = t->len;
	t->f.ctx.now = now;
	attest_err_clear(&err);
	rc = sgx_verify(&t->f.ctx, &in, cs, &err);
	snprintf(name, sizeof(name), "%s", rc == ATTEST_OK ? "ok" : err.name);
	claim_set_free(cs);
	return name;
}

/* The verdict at now from the primed cache, then from a fresh one (a cold verification): both must be want.
 */
static void warm_and_cold(struct plat *t, int64_t now, const char *want)
{
	assert_string_equal(verify_at(t, now), want);
	assert_int_equal(devplat_fixture_reopen(&t->f, 64), ATTEST_OK);
	assert_string_equal(verify_at(t, now), want);
}

static void a_cached_pck_chain_ends_one_second_before_its_crls_next_update(void **state)
{
	struct plat t;

	(void)state;
	plat_up(&t, NOW + 10 * DAY);
	assert_string_equal(verify_at(&t, NOW), "ok");
	warm_and_cold(&t, NOW + 10 * DAY - 1, "ok");
	assert_string_equal(verify_at(&t, NOW), "ok");
	warm_and_cold(&t, NOW + 10 * DAY, "sgx.pck.chain.crl_expired");
	plat_down(&t);
}

static void a_cached_chain_ends_with_the_anchor_it_ended_at(void **state)
{
	struct plat t;
	struct intel_devplat *p;
	X509 *twin;
	char cn[128] = "";

	(void)state;
	plat_up(&t, NOW + 10 * DAY);
	/* The anchor: another certificate of the platform's root key, shorter-lived than the carried one. */
	p = t.f.p;
	X509_NAME_get_text_by_NID(X509_get_subject_name(p->root), NID_commonName, cn, sizeof(cn));
	twin = intel_devplat_issue(cn, p->root_key, NULL, p->root_key, 77, NOW - 30 * DAY, NOW + 5 * DAY,
				   true, NULL);
	assert_non_null(twin);
	X509_free(sk_X509_pop(t.f.anchors.intel_sgx_roots));
	assert_true(sk_X509_push(t.f.anchors.intel_sgx_roots, twin) > 0);
	assert_int_equal(devplat_fixture_reopen(&t.f, 64), ATTEST_OK);
	assert_string_equal(verify_at(&t, NOW), "ok");
	warm_and_cold(&t, NOW + 5 * DAY - 1, "ok");
	assert_string_equal(verify_at(&t, NOW), "ok");
	warm_and_cold(&t, NOW + 5 * DAY, "sgx.pck.chain.expired");
	plat_down(&t);
}

/* x with its keyUsage replaced by `ku` (an X509V3 config value), signed again by key. */
static X509 *with_key_usage(X509 *x, const char *ku, X509 *issuer, EVP_PKEY *key)
{
	X509 *y = X509_dup(x);
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	assert_non_null(y);
	X509_EXTENSION_free(X509_delete_ext(y, X509_get_ext_by_NID(y, NID_key_usage, -1)));
	X509V3_set_ctx(&ctx, issuer, y, NULL, NULL, 0);
	assert_non_null(ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, ku));
	assert_int_equal(X509_add_ext(y, ext, -1), 1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(y, key, EVP_sha256()) > 0);
	return y;
}

static void a_pck_whose_key_usage_lacks_digital_signature_is_refused(void **state)
{
	struct plat t;
	X509 *pck;

	(void)state;
	plat_up(&t, NOW + 10 * DAY);
	pck = with_key_usage(t.f.p->pck, "critical,nonRepudiation", t.f.p->ca, t.f.p->ca_key);
	X509_free(t.f.p->pck);
	t.f.p->pck = pck;
	free(t.quote);
	assert_int_equal(devplat_fixture_sgx_quote(t.f.p, 3, &t.quote, &t.len), ATTEST_OK);
	assert_string_equal(verify_at(&t, NOW), "sgx.pck.key_usage");
	plat_down(&t);
}

/* Writes certs as the PEM of one collateral file of the fixture's folder. */
static void write_chain(struct plat *t, const char *file, X509 *const *certs, size_t n)
{
	char path[256], *pem = NULL;
	size_t len = 0;
	FILE *f;

	assert_int_equal(intel_devplat_pem(certs, n, &pem, &len), 0);
	snprintf(path, sizeof(path), "%s/%s", t->f.dir, file);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(pem, 1, len, f), len);
	fclose(f);
	free(pem);
}

static void a_tcb_signing_chain_is_the_signer_and_at_most_the_root(void **state)
{
	struct plat t;
	X509 *three[3], *signer;

	(void)state;
	plat_up(&t, NOW + 10 * DAY);
	three[0] = t.f.p->tcb, three[1] = t.f.p->root, three[2] = t.f.p->root;
	write_chain(&t, "qe_identity_issuer_chain.pem", three, 3);
	write_chain(&t, "tcb_info_issuer_chain.pem", three, 3);
	assert_int_equal(devplat_fixture_reopen(&t.f, 64), ATTEST_OK);
	assert_string_equal(verify_at(&t, NOW), "sgx.qeid.chain.parse");
	/* Signer and root, or the signer alone (the root is built in), verify. */
	write_chain(&t, "qe_identity_issuer_chain.pem", three, 1);
	write_chain(&t, "tcb_info_issuer_chain.pem", three, 2);
	assert_int_equal(devplat_fixture_reopen(&t.f, 64), ATTEST_OK);
	assert_string_equal(verify_at(&t, NOW), "ok");
	/* A signer whose keyUsage lacks digitalSignature. */
	signer = with_key_usage(t.f.p->tcb, "critical,nonRepudiation", t.f.p->root, t.f.p->root_key);
	three[0] = signer;
	write_chain(&t, "qe_identity_issuer_chain.pem", three, 2);
	assert_int_equal(devplat_fixture_reopen(&t.f, 64), ATTEST_OK);
	assert_string_equal(verify_at(&t, NOW), "sgx.qeid.chain.key_usage");
	X509_free(signer);
	plat_down(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(processor_and_platform_extensions_decode_every_field),
	    cmocka_unit_test(every_truncation_of_the_extension_is_refused),
	    cmocka_unit_test(trailing_bytes_after_the_sequence_are_refused),
	    cmocka_unit_test(wrong_types_and_sizes_name_the_field),
	    cmocka_unit_test(long_form_lengths_must_be_minimal),
	    cmocka_unit_test(real_pck_certificates_decode_to_their_published_values),
	    cmocka_unit_test(der_views_of_real_pcks_decode_as_openssls_do),
	    cmocka_unit_test(a_carried_root_must_be_a_valid_certificate_of_an_anchors_key),
	    cmocka_unit_test(der_chains_hold_at_most_three_certificates_and_nothing_else),
	    cmocka_unit_test(crls_load_from_der_or_pem_alike),
	    cmocka_unit_test(a_cached_pck_chain_ends_one_second_before_its_crls_next_update),
	    cmocka_unit_test(a_cached_chain_ends_with_the_anchor_it_ended_at),
	    cmocka_unit_test(a_pck_whose_key_usage_lacks_digital_signature_is_refused),
	    cmocka_unit_test(a_tcb_signing_chain_is_the_signer_and_at_most_the_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
