/*
 * TPM 2.0 quote verification (src/evidence/tpm.c) on real quotes: the
 * Windows GCP Shielded VM quote and AK, the Azure vTPM quote; negative
 * cases derived from them, and AIK certificate trust with
 * a synthetic CA (src/devplat/tpm_ca.c). The mutation sweeps are in the
 * sweep suite (test_sweep_tpm.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "test_tpm_lib.h"
#include "sweep.h"

#include "devplat/tpm_ca.h"
#include "devplat/tpm_dev.h"
#include "evidence/tpm.h"
#include "evidence/tpm_protocol.h"
#include "base/codec.h"
#include "crypto/jose.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <tss2/tss2_mu.h>

/* A fixed verification time (2024-01-01) for certificate windows. */
#define T_NOW 1704067200

struct gcp {
	uint8_t *quote, *sig, *ak;
	size_t quote_len, sig_len, ak_len;
	TPMT_PUBLIC pub;
	EVP_PKEY *key;
	uint8_t key_hash[32];
	struct tpm_pcr_values pcrs;
};

static void gcp_free(struct gcp *g)
{
	free(g->quote);
	free(g->sig);
	free(g->ak);
	EVP_PKEY_free(g->key);
}

static int gcp_load(struct gcp *g)
{
	const char *dir = test_vectors_dir();

	memset(g, 0, sizeof(*g));
	if (dir == NULL)
		return -1;
	g->quote = test_read_vector(dir, GCP_DIR "quote.tpms_attest.bin", &g->quote_len);
	g->sig = test_read_vector(dir, GCP_DIR "quote.tpmt_signature.bin", &g->sig_len);
	g->ak = test_read_vector(dir, GCP_DIR "ak_public.tpmt_public.bin", &g->ak_len);
	assert_non_null(g->quote);
	assert_non_null(g->sig);
	assert_non_null(g->ak);
	assert_int_equal(tpm_public_parse(g->ak, g->ak_len, &g->pub, NULL), 0);
	assert_int_equal(tpm_public_to_pkey(&g->pub, &g->key, NULL), 0);
	assert_int_equal(tpm_pkey_spki_sha256(g->key, g->key_hash), 0);
	assert_int_equal(tpm_test_load_gcp_pcrs(dir, &g->pcrs), 0);
	return 0;
}

#define GCP_OR_SKIP(g)                                                                             \
	REQUIRE_VECTORS(vdir_);                                                                    \
	(void)vdir_;                                                                               \
	gcp_load(g)

static struct tpm_quote_in gcp_in(struct gcp *g)
{
	struct tpm_quote_in in = {
		.attest = g->quote, .attest_len = g->quote_len, .sig = g->sig, .sig_len = g->sig_len,
		.aik = g->key, .nonce = NULL, .nonce_len = 0, .required_pcr_mask = 0xFFFFFF,
		.required_bank = TPM_BANK_SHA1, .pcrs = &g->pcrs,
	};
	return in;
}

static struct tpm_aik_trust registered(struct gcp *g)
{
	struct tpm_aik_trust t = {.now = T_NOW, .registered = (const uint8_t(*)[32])g->key_hash,
				  .n_registered = 1, .require_valid_aik_cert = false};
	return t;
}

static void gcp_ak_public_area_is_an_rsa2048_restricted_signing_key(void **state)
{
	struct gcp g;

	GCP_OR_SKIP(&g);
	assert_int_equal(g.pub.type, TPM2_ALG_RSA);
	assert_int_equal(g.pub.parameters.rsaDetail.keyBits, 2048);
	/* exponent 0 in the area means 65537 (formats.md §7.3) */
	assert_int_equal(g.pub.parameters.rsaDetail.exponent, 0);
	assert_int_equal(g.pub.objectAttributes & 0x50472, 0x50472);
	assert_int_equal(EVP_PKEY_get_bits(g.key), 2048);
	gcp_free(&g);
}

static void gcp_quote_verifies_signature_pcr_digest_and_selection(void **state)
{
	struct gcp g;
	struct tpm_quote_in in;
	struct tpm_aik_trust t;
	struct tpm_quote_out out;
	struct attest_err err;

	GCP_OR_SKIP(&g);
	in = gcp_in(&g);
	t = registered(&g);
	attest_err_clear(&err);
	assert_int_equal(tpm_quote_verify(&in, &t, &out, &err), 0);
	assert_int_equal(out.attest.magic, TPM2_GENERATED_VALUE);
	assert_int_equal(out.attest.type, TPM2_ST_ATTEST_QUOTE);
	assert_int_equal(out.attest.extraData.size, 0);
	assert_int_equal(out.sig_alg, TPM2_ALG_RSASSA);
	assert_int_equal(out.sig_hash, TPM2_ALG_SHA1);
	assert_int_equal(out.selected[TPM_BANK_SHA1], 0xFFFFFF);
	assert_true(out.aik_registered);
	assert_false(out.aik_cert_validated);
	/* the pcrDigest EXPECTED.md records */
	{
		uint8_t want[20];

		tpm_test_hex("a610f27bc687ce906243287d832706036e79f6e1", want, sizeof(want));
		assert_int_equal(out.attest.attested.quote.pcrDigest.size, 20);
		assert_memory_equal(out.attest.attested.quote.pcrDigest.buffer, want, 20);
	}
	gcp_free(&g);
}

static void gcp_ak_creation_attestation_verifies(void **state)
{
	struct gcp g;
	const char *dir;
	uint8_t *att, *sig, *cd;
	size_t al = 0, sl = 0, cl = 0;
	struct attest_err err;

	GCP_OR_SKIP(&g);
	dir = test_vectors_dir();
	att = test_read_vector(dir, GCP_DIR "ak_create_attestation.tpms_attest.bin", &al);
	sig = test_read_vector(dir, GCP_DIR "ak_create_signature.tpmt_signature.bin", &sl);
	cd = test_read_vector(dir, GCP_DIR "ak_create_data.bin", &cl);
	attest_err_clear(&err);
	assert_int_equal(tpm_creation_verify(&g.pub, g.key, att, al, sig, sl, cd, cl, &err), 0);
	/* the creation data is bound by its hash */
	/* a byte inside pcrDigest of the creation data: still parses, no longer matches */
	cd[12] ^= 1;
	attest_err_clear(&err);
	assert_int_equal(tpm_creation_verify(&g.pub, g.key, att, al, sig, sl, cd, cl, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.creation.hash");
	free(att);
	free(sig);
	free(cd);
	gcp_free(&g);
}

static void quote_with_another_nonce_is_refused(void **state)
{
	struct gcp g;
	struct tpm_quote_in in;
	struct tpm_aik_trust t;
	struct tpm_quote_out out;
	struct attest_err err;

	GCP_OR_SKIP(&g);
	in = gcp_in(&g);
	in.nonce = (const uint8_t *)"fresh";
	in.nonce_len = 5;
	t = registered(&g);
	attest_err_clear(&err);
	assert_int_equal(tpm_quote_verify(&in, &t, &out, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.quote.nonce");
	gcp_free(&g);
}

static void pcr_value_other_than_quoted_is_refused(void **state)
{
	struct gcp g;
	struct tpm_quote_in in;
	struct tpm_aik_trust t;
	struct tpm_quote_out out;
	struct attest_err err;

	GCP_OR_SKIP(&g);
	g.pcrs.v[TPM_BANK_SHA1][7][0] ^= 0x80;
	in = gcp_in(&g);
	t = registered(&g);
	attest_err_clear(&err);
	assert_int_equal(tpm_quote_verify(&in, &t, &out, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.quote.pcr_digest");
	gcp_free(&g);
}

static void missing_pcr_value_is_refused(void **state)
{
	struct gcp g;
	struct tpm_quote_in in;
	struct tpm_aik_trust t;
	struct tpm_quote_out out;
	struct attest_err err;

	GCP_OR_SKIP(&g);
	g.pcrs.present[TPM_BANK_SHA1] &= ~(1u << 12);
	in = gcp_in(&g);
	t = registered(&g);
	attest_err_clear(&err);
	assert_int_equal(tpm_quote_verify(&in, &t, &out, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.quote.pcr_missing");
	gcp_free(&g);
}

static void selection_not_covering_required_mask_is_refused(void **state)
{
	struct gcp g;
	struct tpm_quote_in in;
	struct tpm_aik_trust t;
	struct tpm_quote_out out;
	struct attest_err err;

	GCP_OR_SKIP(&g);
	in = gcp_in(&g);
	/* the quote is over SHA-1 only: a SHA-256 requirement cannot be met */
	in.required_bank = TPM_BANK_SHA256;
	t = registered(&g);
	attest_err_clear(&err);
	assert_int_equal(tpm_quote_verify(&in, &t, &out, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.quote.pcr_mask");
	/* any bank: SHA-1 covers PCR 0-23 */
	in.required_bank = -1;
	attest_err_clear(&err);
	assert_int_equal(tpm_quote_verify(&in, &t, &out, &err), 0);
	gcp_free(&g);
}

static void unregistered_aik_without_certificate_is_refused(void **state)
{
	struct gcp g;
	struct tpm_quote_in in;
	struct tpm_aik_trust t = {.now = T_NOW};
	struct tpm_quote_out out;
	struct attest_err err;

	GCP_OR_SKIP(&g);
	in = gcp_in(&g);
	attest_err_clear(&err);
	assert_int_equal(tpm_quote_verify(&in, &t, &out, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.aik.untrusted");
	/* with require_valid_aik_cert, registration is not enough */
	t = registered(&g);
	t.require_valid_aik_cert = true;
	attest_err_clear(&err);
	assert_int_equal(tpm_quote_verify(&in, &t, &out, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.aik.cert_required");
	gcp_free(&g);
}

static void aik_certificate_chaining_to_root_makes_aik_trusted(void **state)
{
	struct gcp g;
	struct devplat_tpm_ca *ca = NULL, *other = NULL;
	X509 *cert = NULL, *wrong = NULL;
	STACK_OF(X509) * roots;
	struct tpm_quote_in in;
	struct tpm_aik_trust t = {.now = T_NOW, .require_valid_aik_cert = true};
	struct tpm_quote_out out;
	struct attest_err err;
	EVP_PKEY *another;

	GCP_OR_SKIP(&g);
	roots = sk_X509_new_null();
	another = EVP_EC_gen("P-256");
	assert_int_equal(devplat_tpm_ca_new("AIK root", T_NOW - 86400, T_NOW + 86400 * 365, &ca, NULL), 0);
	assert_int_equal(devplat_tpm_ca_new("other root", T_NOW - 86400, T_NOW + 86400, &other, NULL), 0);
	assert_int_equal(devplat_tpm_ca_issue(ca, g.key, "AIK", T_NOW - 3600, T_NOW + 3600, &cert, NULL), 0);
	sk_X509_push(roots, ca->cert);
	t.roots = roots;
	in = gcp_in(&g);
	in.aik_cert = cert;
	attest_err_clear(&err);
	assert_int_equal(tpm_quote_verify(&in, &t, &out, &err), 0);
	assert_true(out.aik_cert_validated);
	assert_false(out.aik_registered);

	/* after the certificate expired */
	t.now = T_NOW + 7200;
	attest_err_clear(&err);
	assert_int_equal(tpm_quote_verify(&in, &t, &out, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.aik.cert.expired");
	t.now = T_NOW;

	/* a root that did not issue it */
	sk_X509_pop(roots);
	sk_X509_push(roots, other->cert);
	attest_err_clear(&err);
	assert_int_equal(tpm_quote_verify(&in, &t, &out, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.aik.cert.untrusted_root");
	sk_X509_pop(roots);
	sk_X509_push(roots, ca->cert);

	/* a valid certificate of another key */
	assert_int_equal(devplat_tpm_ca_issue(ca, another, "AIK", T_NOW - 3600, T_NOW + 3600, &wrong, NULL), 0);
	in.aik_cert = wrong;
	attest_err_clear(&err);
	assert_int_equal(tpm_quote_verify(&in, &t, &out, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.aik.cert_key_mismatch");

	X509_free(cert);
	X509_free(wrong);
	EVP_PKEY_free(another);
	sk_X509_free(roots);
	devplat_tpm_ca_free(ca);
	devplat_tpm_ca_free(other);
	gcp_free(&g);
}

static void quote_signed_by_another_key_is_refused(void **state)
{
	struct gcp g;
	struct tpm_quote_in in;
	struct tpm_aik_trust t;
	struct tpm_quote_out out;
	struct attest_err err;
	EVP_PKEY *other;
	uint8_t h[32];

	GCP_OR_SKIP(&g);
	other = EVP_RSA_gen(2048);
	in = gcp_in(&g);
	in.aik = other;
	tpm_pkey_spki_sha256(other, h);
	t = registered(&g);
	t.registered = (const uint8_t(*)[32])h;
	attest_err_clear(&err);
	assert_int_equal(tpm_quote_verify(&in, &t, &out, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.quote.signature");
	EVP_PKEY_free(other);
	gcp_free(&g);
}

/* An RSA signature made with the given padding (and MGF1 digest for PSS) over msg, SHA-256. */
static void rsa_sign(EVP_PKEY *key, int pad, const EVP_MD *mgf1, const uint8_t *msg, size_t n,
		     TPM2B_PUBLIC_KEY_RSA *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	size_t len = sizeof(out->buffer);

	assert_int_equal(EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, pad), 1);
	if (pad == RSA_PKCS1_PSS_PADDING)
		assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, mgf1), 1);
	assert_int_equal(EVP_DigestSign(ctx, out->buffer, &len, msg, n), 1);
	out->size = (UINT16)len;
	EVP_MD_CTX_free(ctx);
}

/*
 * The verifier sets no padding for RSASSA and no MGF1 digest for RSAPSS
 * (OpenSSL's defaults): each scheme still accepts only its own signatures,
 * and RSAPSS only with MGF1 over the scheme's hash.
 */
static void rsa_signature_schemes_are_not_interchangeable(void **state)
{
	static const uint8_t MSG[] = "TPMS_ATTEST bytes";
	EVP_PKEY *key = EVP_RSA_gen(2048);
	TPMT_SIGNATURE ssa = {.sigAlg = TPM2_ALG_RSASSA}, pss = {.sigAlg = TPM2_ALG_RSAPSS};
	TPMT_SIGNATURE pss_sha1mgf = {.sigAlg = TPM2_ALG_RSAPSS}, x;
	struct attest_err err;

	(void)state;
	ssa.signature.rsassa.hash = pss.signature.rsapss.hash = pss_sha1mgf.signature.rsapss.hash =
	    TPM2_ALG_SHA256;
	rsa_sign(key, RSA_PKCS1_PADDING, NULL, MSG, sizeof(MSG), &ssa.signature.rsassa.sig);
	rsa_sign(key, RSA_PKCS1_PSS_PADDING, EVP_sha256(), MSG, sizeof(MSG), &pss.signature.rsapss.sig);
	rsa_sign(key, RSA_PKCS1_PSS_PADDING, EVP_sha1(), MSG, sizeof(MSG), &pss_sha1mgf.signature.rsapss.sig);
	attest_err_clear(&err);
	assert_int_equal(tpm_signature_verify(key, &ssa, MSG, sizeof(MSG), "tpm.quote.signature", &err),
			 ATTEST_OK);
	assert_int_equal(tpm_signature_verify(key, &pss, MSG, sizeof(MSG), "tpm.quote.signature", &err),
			 ATTEST_OK);
	/* Each signature under the other scheme's name. */
	x = ssa;
	x.sigAlg = TPM2_ALG_RSAPSS;
	assert_int_equal(tpm_signature_verify(key, &x, MSG, sizeof(MSG), "tpm.quote.signature", &err),
			 ATTEST_E_VERIFY);
	x = pss;
	x.sigAlg = TPM2_ALG_RSASSA;
	attest_err_clear(&err);
	assert_int_equal(tpm_signature_verify(key, &x, MSG, sizeof(MSG), "tpm.quote.signature", &err),
			 ATTEST_E_VERIFY);
	attest_err_clear(&err);
	assert_int_equal(
	    tpm_signature_verify(key, &pss_sha1mgf, MSG, sizeof(MSG), "tpm.quote.signature", &err),
	    ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.quote.signature");
	EVP_PKEY_free(key);
}

/* tpm_attest_parse / tpm_signature_parse and libtss2-mu on the same bytes: same verdict, same structure. */
static void expect_same_as_tss2(const uint8_t *p, size_t n, bool signature)
{
	size_t off = 0;
	bool ok, ref;

	if (signature) {
		TPMT_SIGNATURE s, rs;

		memset(&s, 0, sizeof(s));
		memset(&rs, 0, sizeof(rs));
		ok = tpm_signature_parse(p, n, &s, NULL) == ATTEST_OK;
		ref = Tss2_MU_TPMT_SIGNATURE_Unmarshal(p, n, &off, &rs) == TSS2_RC_SUCCESS && off == n;
		assert_int_equal(ok, ref);
		if (ok)
			assert_memory_equal(&s, &rs, sizeof(s));
	} else {
		TPMS_ATTEST a, ra;

		memset(&a, 0, sizeof(a));
		memset(&ra, 0, sizeof(ra));
		ok = tpm_attest_parse(p, n, &a, NULL) == ATTEST_OK;
		ref = Tss2_MU_TPMS_ATTEST_Unmarshal(p, n, &off, &ra) == TSS2_RC_SUCCESS && off == n;
		assert_int_equal(ok, ref);
		if (ok)
			assert_memory_equal(&a, &ra, sizeof(a));
	}
}

/*
 * Every byte of p set to each telling value, every length cut, one byte
 * too many (every ATTEST_SWEEP_STRIDE-th byte and cut under the sanitizers).
 */
static void sweep_same_as_tss2(const uint8_t *p, size_t n, bool signature)
{
	size_t stride = sweep_stride();
	static const uint8_t values[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x10, 0x11, 0x14, 0x16,
					 0x18, 0x40, 0x41, 0x44, 0x7f, 0x80, 0xfe, 0xff};
	uint8_t *m = malloc(n + 1);

	assert_non_null(m);
	expect_same_as_tss2(p, n, signature);
	for (size_t i = 0; i < n; i += stride) {
		for (size_t v = 0; v < sizeof(values); v++) {
			memcpy(m, p, n);
			m[i] = values[v];
			expect_same_as_tss2(m, n, signature);
		}
		expect_same_as_tss2(p, i, signature);
	}
	memcpy(m, p, n);
	m[n] = 0;
	expect_same_as_tss2(m, n + 1, signature);
	free(m);
}

/*
 * Quotes (TPMS_ATTEST) and RSA signatures are read without libtss2-mu
 * (tpm.c: quote_attest_read, rsa_signature_read): on a two-bank quote, an
 * RSAPSS signature, an ECDSA one (left to libtss2-mu) and the real GCP
 * quote, every byte changed and every cut gives libtss2-mu's verdict and
 * structure.
 */
static void quote_and_signature_readers_agree_with_tss2(void **state)
{
	TPMS_ATTEST a;
	TPMT_SIGNATURE s;
	uint8_t buf[sizeof(TPMS_ATTEST)];
	size_t n = 0;
	const char *dir = test_vectors_dir();

	(void)state;
	memset(&a, 0, sizeof(a));
	a.magic = TPM2_GENERATED_VALUE;
	a.type = TPM2_ST_ATTEST_QUOTE;
	a.qualifiedSigner.size = 34;
	memset(a.qualifiedSigner.name, 0x11, 34);
	a.extraData.size = 32;
	memset(a.extraData.buffer, 0x5c, 32);
	a.clockInfo.clock = 0x0102030405060708ull;
	a.clockInfo.safe = 1;
	a.attested.quote.pcrSelect.count = 2;
	a.attested.quote.pcrSelect.pcrSelections[0] =
	    (TPMS_PCR_SELECTION){.hash = TPM2_ALG_SHA1, .sizeofSelect = 3, .pcrSelect = {0xff, 0xff, 0xff}};
	a.attested.quote.pcrSelect.pcrSelections[1] =
	    (TPMS_PCR_SELECTION){.hash = TPM2_ALG_SHA256, .sizeofSelect = 3, .pcrSelect = {0x01, 0x80, 0x00}};
	a.attested.quote.pcrDigest.size = 32;
	memset(a.attested.quote.pcrDigest.buffer, 0xa5, 32);
	assert_int_equal(Tss2_MU_TPMS_ATTEST_Marshal(&a, buf, sizeof(buf), &n), TSS2_RC_SUCCESS);
	sweep_same_as_tss2(buf, n, false);
	memset(&s, 0, sizeof(s));
	s.sigAlg = TPM2_ALG_RSAPSS;
	s.signature.rsapss.hash = TPM2_ALG_SHA256;
	s.signature.rsapss.sig.size = 64; /* short: the sweep is over every byte */
	memset(s.signature.rsapss.sig.buffer, 0x3c, 64);
	n = 0;
	assert_int_equal(Tss2_MU_TPMT_SIGNATURE_Marshal(&s, buf, sizeof(buf), &n), TSS2_RC_SUCCESS);
	sweep_same_as_tss2(buf, n, true);
	memset(&s, 0, sizeof(s));
	s.sigAlg = TPM2_ALG_ECDSA;
	s.signature.ecdsa.hash = TPM2_ALG_SHA256;
	s.signature.ecdsa.signatureR.size = s.signature.ecdsa.signatureS.size = 32;
	n = 0;
	assert_int_equal(Tss2_MU_TPMT_SIGNATURE_Marshal(&s, buf, sizeof(buf), &n), TSS2_RC_SUCCESS);
	sweep_same_as_tss2(buf, n, true);
	if (dir != NULL) {
		struct gcp g;

		gcp_load(&g);
		sweep_same_as_tss2(g.quote, g.quote_len, false);
		expect_same_as_tss2(g.sig, g.sig_len, true);
		gcp_free(&g);
	}
}

static void trailing_bytes_after_structures_are_refused(void **state)
{
	struct gcp g;
	uint8_t buf[1024];
	TPMS_ATTEST a;
	TPMT_SIGNATURE s;
	TPMT_PUBLIC p;
	struct attest_err err;

	GCP_OR_SKIP(&g);
	memcpy(buf, g.quote, g.quote_len);
	buf[g.quote_len] = 0;
	attest_err_clear(&err);
	assert_int_equal(tpm_attest_parse(buf, g.quote_len + 1, &a, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "tpm.attest.trailing");
	memcpy(buf, g.sig, g.sig_len);
	attest_err_clear(&err);
	assert_int_equal(tpm_signature_parse(buf, g.sig_len + 1, &s, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "tpm.signature.trailing");
	attest_err_clear(&err);
	assert_int_equal(tpm_signature_parse(buf, g.sig_len - 1, &s, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "tpm.signature.parse");
	memcpy(buf, g.ak, g.ak_len);
	attest_err_clear(&err);
	assert_int_equal(tpm_public_parse(buf, g.ak_len + 1, &p, &err), ATTEST_E_PARSE);
	gcp_free(&g);
}

static void tpm2b_public_and_tpmt_public_give_the_same_key(void **state)
{
	struct gcp g;
	uint8_t buf[1024];
	TPMT_PUBLIC p;
	EVP_PKEY *k = NULL;

	GCP_OR_SKIP(&g);
	buf[0] = (uint8_t)(g.ak_len >> 8);
	buf[1] = (uint8_t)g.ak_len;
	memcpy(buf + 2, g.ak, g.ak_len);
	assert_int_equal(tpm_public_parse(buf, g.ak_len + 2, &p, NULL), 0);
	assert_int_equal(tpm_public_to_pkey(&p, &k, NULL), 0);
	assert_int_equal(EVP_PKEY_eq(k, g.key), 1);
	EVP_PKEY_free(k);
	gcp_free(&g);
}

static void azure_vtpm_quote_verifies_with_its_ak_and_nonce(void **state)
{
	REQUIRE_VECTORS(dir);
	uint8_t *att, *raw, sig[300];
	size_t al = 0, rl = 0, sl;
	EVP_PKEY *ak = tpm_test_load_pem_pubkey(dir, AZ_DIR "akpub.pem");
	struct tpm_pcr_values pcrs;
	uint8_t h[32];
	struct tpm_aik_trust t = {.now = T_NOW, .registered = (const uint8_t(*)[32])h, .n_registered = 1};
	struct tpm_quote_in in;
	struct tpm_quote_out out;
	struct attest_err err;

	assert_non_null(ak);
	att = test_read_vector(dir, AZ_DIR "vtpm-quote.tpms_attest.bin", &al);
	raw = test_read_vector(dir, AZ_DIR "vtpm-quote.rsassa-sig.bin", &rl);
	assert_non_null(att);
	assert_non_null(raw);
	sl = tpm_test_wrap_rsassa(raw, rl, TPM2_ALG_SHA256, sig);
	assert_int_equal(tpm_test_load_azure_pcrs(dir, &pcrs), 0);
	tpm_pkey_spki_sha256(ak, h);
	in = (struct tpm_quote_in){.attest = att, .attest_len = al, .sig = sig, .sig_len = sl, .aik = ak,
				   .nonce = (const uint8_t *)"challenge", .nonce_len = 9,
				   .required_pcr_mask = 0xFFFFFF, .required_bank = TPM_BANK_SHA256,
				   .pcrs = &pcrs};
	attest_err_clear(&err);
	assert_int_equal(tpm_quote_verify(&in, &t, &out, &err), 0);
	assert_int_equal(out.selected[TPM_BANK_SHA256], 0xFFFFFF);
	/* the nonce is part of the check */
	in.nonce = (const uint8_t *)"challengE";
	attest_err_clear(&err);
	assert_int_equal(tpm_quote_verify(&in, &t, &out, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.quote.nonce");
	free(att);
	free(raw);
	EVP_PKEY_free(ak);
}

static void pcr_set_refuses_wrong_sizes_and_indexes(void **state)
{
	struct tpm_pcr_values p;
	uint8_t d[32] = {0};
	struct attest_err err;

	memset(&p, 0, sizeof(p));
	attest_err_clear(&err);
	assert_int_equal(tpm_pcr_set(&p, TPM_BANK_SHA256, 24, d, 32, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "tpm.pcrs.index");
	attest_err_clear(&err);
	assert_int_equal(tpm_pcr_set(&p, TPM_BANK_SHA1, 0, d, 32, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "tpm.pcrs.size");
	assert_int_equal(tpm_pcr_set(&p, TPM_BANK_SHA256, 23, d, 32, NULL), 0);
	assert_int_equal(p.present[TPM_BANK_SHA256], 1u << 23);
}

static void spki_hash_equals_sha256_of_openssl_der(void **state)
{
	const char *curves[] = {"P-256", "P-384", "P-521"};
	EVP_PKEY *keys[5];
	size_t n = 0;

	keys[n++] = EVP_RSA_gen(2048);
	keys[n++] = EVP_RSA_gen(1024);
	for (size_t i = 0; i < 3; i++)
		keys[n++] = EVP_EC_gen(curves[i]);
	for (size_t i = 0; i < n; i++) {
		unsigned char *der = NULL;
		int len = i2d_PUBKEY(keys[i], &der);
		uint8_t want[32], got[32];

		assert_true(len > 0);
		EVP_Digest(der, (size_t)len, want, NULL, EVP_sha256(), NULL);
		assert_int_equal(tpm_pkey_spki_sha256(keys[i], got), 0);
		assert_memory_equal(got, want, 32);
		OPENSSL_free(der);
		EVP_PKEY_free(keys[i]);
	}
}

static json_t *b64j(const uint8_t *p, size_t n)
{
	char *s = b64url_encode(p, n);
	json_t *v = json_string(s);

	free(s);
	return v;
}

static json_t *pcrs_json_bank(const struct tpm_pcr_values *pcrs, enum tpm_bank b)
{
	json_t *vals = json_array();

	for (unsigned i = 0; i < TPM_PCR_COUNT; i++)
		if (pcrs->present[b] & (1u << i))
			json_array_append_new(vals, json_pack("{s:i, s:o}", "index", i, "digest",
							      b64j(pcrs->v[b][i], tpm_bank_size(b))));
	return json_pack("[{s:i, s:o}]", "algorithm", tpm_bank_alg(b), "values", vals);
}

/* The GCP vector as one offline TPM evidence document (tpm_verify, attestctl verify). */
static void gcp_bundle_verifies_offline_with_its_log(void **state)
{
	struct gcp g;
	const char *dir;
	uint8_t *log;
	size_t log_len = 0;
	json_t *doc;
	char *text;
	struct claim_set *cs;
	struct evidence_ctx ctx = {.now = T_NOW, .flags = EVIDENCE_NO_COLLATERAL};
	struct evidence_input in = {0};
	struct attest_err err;

	GCP_OR_SKIP(&g);
	cs = claim_set_new();
	dir = test_vectors_dir();
	log = test_read_vector(dir, GCP_DIR "binary_bios_measurements.bin", &log_len);
	doc = json_pack("{s:o, s:o, s:o, s:o, s:[{s:s, s:o}]}", "quote", b64j(g.quote, g.quote_len), "signature",
			b64j(g.sig, g.sig_len), "aik_public", b64j(g.ak, g.ak_len), "pcrs",
			pcrs_json_bank(&g.pcrs, TPM_BANK_SHA1), "logs", "type", "TCG", "log", b64j(log, log_len));
	text = json_dumps(doc, JSON_COMPACT);
	in.evidence = (const uint8_t *)text;
	in.evidence_len = strlen(text);
	attest_err_clear(&err);
	if (tpm_verify(&ctx, &in, cs, &err) != 0)
		fail_msg("%s: %s", err.name, err.msg);
	assert_true(json_is_false(claim_set_get(cs, "aikValidated")));
	assert_true(json_is_true(claim_set_get(cs, "bootDebuggingDisabled")));
	assert_true(json_is_true(claim_set_get(cs, "codeIntegrityEnabled")));
	assert_non_null(claim_set_get(cs, "events"));
	/* without the lenient flag the AIK needs a certificate */
	ctx.flags = 0;
	attest_err_clear(&err);
	assert_int_equal(tpm_verify(&ctx, &in, cs, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.aik.cert_required");
	/* the expected nonce is the runtime data */
	ctx.flags = EVIDENCE_NO_COLLATERAL;
	in.runtime_data = (const uint8_t *)"x";
	in.runtime_data_len = 1;
	attest_err_clear(&err);
	assert_int_equal(tpm_verify(&ctx, &in, cs, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.quote.nonce");
	claim_set_free(cs);
	free(text);
	json_decref(doc);
	free(log);
	gcp_free(&g);
}

static void azure_vtpm_bundle_verifies_offline_with_its_nonce(void **state)
{
	REQUIRE_VECTORS(dir);
	uint8_t *att, *raw, sig[300];
	size_t al = 0, rl = 0, sl;
	EVP_PKEY *ak = tpm_test_load_pem_pubkey(dir, AZ_DIR "akpub.pem");
	struct tpm_pcr_values pcrs;
	json_t *jwk = NULL, *doc;
	char *text;
	struct claim_set *cs = claim_set_new();
	struct evidence_ctx ctx = {.now = T_NOW, .flags = EVIDENCE_NO_COLLATERAL};
	struct evidence_input in = {0};
	struct attest_err err;

	att = test_read_vector(dir, AZ_DIR "vtpm-quote.tpms_attest.bin", &al);
	raw = test_read_vector(dir, AZ_DIR "vtpm-quote.rsassa-sig.bin", &rl);
	sl = tpm_test_wrap_rsassa(raw, rl, TPM2_ALG_SHA256, sig);
	assert_int_equal(tpm_test_load_azure_pcrs(dir, &pcrs), 0);
	assert_int_equal(jwk_from_key(ak, NULL, NULL, &jwk, NULL), 0);
	doc = json_pack("{s:o, s:o, s:o, s:o}", "quote", b64j(att, al), "signature", b64j(sig, sl), "aik_pub", jwk,
			"pcrs", pcrs_json_bank(&pcrs, TPM_BANK_SHA256));
	text = json_dumps(doc, JSON_COMPACT);
	in.evidence = (const uint8_t *)text;
	in.evidence_len = strlen(text);
	in.runtime_data = (const uint8_t *)"challenge";
	in.runtime_data_len = 9;
	attest_err_clear(&err);
	if (tpm_verify(&ctx, &in, cs, &err) != 0)
		fail_msg("%s: %s", err.name, err.msg);
	assert_non_null(claim_set_get(cs, "pcrs"));
	assert_null(claim_set_get(cs, "events")); /* no log was given */
	claim_set_free(cs);
	free(text);
	json_decref(doc);
	free(att);
	free(raw);
	EVP_PKEY_free(ak);
}

static void unrestricted_key_as_aik_public_is_refused(void **state)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);
	uint8_t *pub, *att, *sig, *q, *qs;
	size_t pl, al, sl, ql, qsl;
	struct tpm_pcr_values pcrs;
	json_t *doc;
	char *text;
	struct claim_set *cs = claim_set_new();
	struct evidence_ctx ctx = {.now = T_NOW, .flags = EVIDENCE_NO_COLLATERAL};
	struct evidence_input in = {0};
	struct attest_err err;

	memset(&pcrs, 0, sizeof(pcrs));
	pcrs.present[TPM_BANK_SHA256] = 0xFFFFFF;
	/* devplat_tpm_certify's public area is a plain (unrestricted) signing key */
	assert_int_equal(devplat_tpm_certify(k, k, &pub, &pl, &att, &al, &sig, &sl, NULL), 0);
	assert_int_equal(devplat_tpm_quote(k, &pcrs, TPM_BANK_SHA256, 0xFFFFFF, NULL, 0, &q, &ql, &qs, &qsl, NULL), 0);
	doc = json_pack("{s:o, s:o, s:o, s:o}", "quote", b64j(q, ql), "signature", b64j(qs, qsl), "aik_public",
			b64j(pub, pl), "pcrs", pcrs_json_bank(&pcrs, TPM_BANK_SHA256));
	text = json_dumps(doc, JSON_COMPACT);
	in.evidence = (const uint8_t *)text;
	in.evidence_len = strlen(text);
	attest_err_clear(&err);
	assert_int_equal(tpm_verify(&ctx, &in, cs, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.aik.attributes");
	claim_set_free(cs);
	free(text);
	json_decref(doc);
	free(pub);
	free(att);
	free(sig);
	free(q);
	free(qs);
	EVP_PKEY_free(k);
}

/* ---- the verified AIK chain cache ------------------------------------------ */

struct aik_world {
	struct gcp g;
	struct devplat_tpm_ca *ca;
	STACK_OF(X509) * roots;
	struct tpm_aik_cache *cache;
	unsigned char *der; /* the AIK certificate, valid T_NOW - 3600 .. T_NOW + 3600 */
	int der_len;
};

static unsigned char *cert_der(const struct devplat_tpm_ca *ca, EVP_PKEY *key, int64_t nb, int64_t na,
			       int *len)
{
	X509 *cert = NULL;
	unsigned char *der = NULL;

	assert_int_equal(devplat_tpm_ca_issue(ca, key, "AIK", nb, na, &cert, NULL), 0);
	*len = i2d_X509(cert, &der);
	assert_true(*len > 0);
	X509_free(cert);
	return der;
}

static int aik_world_new(struct aik_world *w)
{
	memset(w, 0, sizeof(*w));
	if (gcp_load(&w->g) != 0)
		return -1;
	assert_int_equal(devplat_tpm_ca_new("AIK root", T_NOW - 86400, T_NOW + 86400 * 365, &w->ca, NULL), 0);
	w->roots = sk_X509_new_null();
	sk_X509_push(w->roots, w->ca->cert);
	w->cache = tpm_aik_cache_new(8);
	assert_non_null(w->cache);
	w->der = cert_der(w->ca, w->g.key, T_NOW - 3600, T_NOW + 3600, &w->der_len);
	return 0;
}

static void aik_world_free(struct aik_world *w)
{
	OPENSSL_free(w->der);
	tpm_aik_cache_free(w->cache);
	sk_X509_free(w->roots);
	devplat_tpm_ca_free(w->ca);
	gcp_free(&w->g);
}

/* One quote verification with the certificate as DER through the cache; returns the rc, err filled. */
static int verify_with_der(struct aik_world *w, const unsigned char *der, size_t len, int64_t now,
			   struct tpm_quote_out *out, struct attest_err *err)
{
	struct tpm_quote_in in = gcp_in(&w->g);
	struct tpm_aik_trust t = {
	    .now = now, .roots = w->roots, .require_valid_aik_cert = true, .cache = w->cache};

	in.aik_cert_der = der;
	in.aik_cert_der_len = len;
	attest_err_clear(err);
	return tpm_quote_verify(&in, &t, out, err);
}

static void expect_stats(struct tpm_aik_cache *c, uint64_t hits, uint64_t misses)
{
	uint64_t h = 0, m = 0;

	tpm_aik_cache_stats(c, &h, &m);
	assert_int_equal(h, hits);
	assert_int_equal(m, misses);
}

static void aik_cache_capacity_is_bounded(void **state)
{
	(void)state;
	assert_null(tpm_aik_cache_new(0));
	assert_null(tpm_aik_cache_new(4097));
	tpm_aik_cache_free(tpm_aik_cache_new(4096));
	tpm_aik_cache_free(NULL);
}

static void a_verified_aik_chain_is_found_again_with_the_same_verdict(void **state)
{
	struct aik_world w;
	struct tpm_quote_out out;
	struct attest_err err;

	REQUIRE_VECTORS(vdir_);
	(void)vdir_;
	assert_int_equal(aik_world_new(&w), 0);
	assert_int_equal(verify_with_der(&w, w.der, (size_t)w.der_len, T_NOW, &out, &err), 0);
	assert_true(out.aik_cert_validated);
	expect_stats(w.cache, 0, 1);
	for (int i = 0; i < 3; i++) {
		memset(&out, 0, sizeof(out));
		assert_int_equal(verify_with_der(&w, w.der, (size_t)w.der_len, T_NOW + 100 * i, &out, &err),
				 0);
		assert_true(out.aik_cert_validated);
		assert_memory_equal(out.aik_pub_hash, w.g.key_hash, 32);
	}
	expect_stats(w.cache, 3, 1);
	aik_world_free(&w);
}

static void a_cached_chain_is_not_reused_outside_its_certificates_validity(void **state)
{
	struct aik_world w;
	struct tpm_quote_out out;
	struct attest_err err;

	REQUIRE_VECTORS(vdir_);
	(void)vdir_;
	assert_int_equal(aik_world_new(&w), 0);
	assert_int_equal(verify_with_der(&w, w.der, (size_t)w.der_len, T_NOW, &out, &err), 0);
	/* at notAfter the certificate is expired (X509_cmp_time), cached or not */
	assert_int_equal(verify_with_der(&w, w.der, (size_t)w.der_len, T_NOW + 3600, &out, &err),
			 ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.aik.cert.expired");
	assert_int_equal(verify_with_der(&w, w.der, (size_t)w.der_len, T_NOW - 3601, &out, &err),
			 ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.aik.cert.not_yet_valid");
	expect_stats(w.cache, 0, 3);
	/* the last second of the window still hits */
	assert_int_equal(verify_with_der(&w, w.der, (size_t)w.der_len, T_NOW + 3599, &out, &err), 0);
	expect_stats(w.cache, 1, 3);
	aik_world_free(&w);
}

static void a_different_certificate_misses_the_cache(void **state)
{
	struct aik_world w;
	struct tpm_quote_out out;
	struct attest_err err;
	int len2 = 0;
	unsigned char *der2;

	REQUIRE_VECTORS(vdir_);
	(void)vdir_;
	assert_int_equal(aik_world_new(&w), 0);
	der2 = cert_der(w.ca, w.g.key, T_NOW - 60, T_NOW + 60, &len2);
	assert_int_equal(verify_with_der(&w, w.der, (size_t)w.der_len, T_NOW, &out, &err), 0);
	assert_int_equal(verify_with_der(&w, der2, (size_t)len2, T_NOW, &out, &err), 0);
	expect_stats(w.cache, 0, 2);
	/* its own, shorter window holds for it alone */
	assert_int_equal(verify_with_der(&w, der2, (size_t)len2, T_NOW + 120, &out, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.aik.cert.expired");
	assert_int_equal(verify_with_der(&w, w.der, (size_t)w.der_len, T_NOW + 120, &out, &err), 0);
	expect_stats(w.cache, 1, 3);
	OPENSSL_free(der2);
	aik_world_free(&w);
}

static void a_changed_certificate_is_refused_though_the_original_is_cached(void **state)
{
	struct aik_world w;
	struct tpm_quote_out out;
	struct attest_err err;
	unsigned char *bad;

	REQUIRE_VECTORS(vdir_);
	(void)vdir_;
	assert_int_equal(aik_world_new(&w), 0);
	assert_int_equal(verify_with_der(&w, w.der, (size_t)w.der_len, T_NOW, &out, &err), 0);
	bad = OPENSSL_memdup(w.der, (size_t)w.der_len);
	bad[w.der_len - 5] ^= 0x01; /* inside the signature */
	assert_int_equal(verify_with_der(&w, bad, (size_t)w.der_len, T_NOW, &out, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.aik.cert.signature");
	/* cut: not one DER certificate, refused whatever the policy */
	assert_int_equal(verify_with_der(&w, w.der, (size_t)w.der_len - 1, T_NOW, &out, &err),
			 ATTEST_E_PARSE);
	assert_string_equal(err.name, "tpm.aik.cert.parse");
	expect_stats(w.cache, 0, 3);
	OPENSSL_free(bad);
	aik_world_free(&w);
}

static void a_cached_chain_whose_root_is_no_longer_trusted_is_refused(void **state)
{
	struct aik_world w;
	struct devplat_tpm_ca *other = NULL;
	struct tpm_quote_out out;
	struct attest_err err;

	REQUIRE_VECTORS(vdir_);
	(void)vdir_;
	assert_int_equal(aik_world_new(&w), 0);
	assert_int_equal(devplat_tpm_ca_new("other root", T_NOW - 86400, T_NOW + 86400, &other, NULL), 0);
	assert_int_equal(verify_with_der(&w, w.der, (size_t)w.der_len, T_NOW, &out, &err), 0);
	/* the tenant's roots change: the issuing root is withdrawn (revoked trust) */
	sk_X509_pop(w.roots);
	sk_X509_push(w.roots, other->cert);
	assert_int_equal(verify_with_der(&w, w.der, (size_t)w.der_len, T_NOW, &out, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.aik.cert.untrusted_root");
	expect_stats(w.cache, 0, 2);
	/* given back, the same chain verifies (and hits) again */
	sk_X509_pop(w.roots);
	sk_X509_push(w.roots, w.ca->cert);
	assert_int_equal(verify_with_der(&w, w.der, (size_t)w.der_len, T_NOW, &out, &err), 0);
	expect_stats(w.cache, 1, 2);
	devplat_tpm_ca_free(other);
	aik_world_free(&w);
}

static void a_cached_certificate_of_another_key_than_the_aik_is_refused(void **state)
{
	struct aik_world w;
	struct tpm_quote_out out;
	struct attest_err err;
	EVP_PKEY *another;
	int len2 = 0;
	unsigned char *der2;

	REQUIRE_VECTORS(vdir_);
	(void)vdir_;
	another = EVP_EC_gen("P-256");
	assert_int_equal(aik_world_new(&w), 0);
	der2 = cert_der(w.ca, another, T_NOW - 3600, T_NOW + 3600, &len2);
	/* verified and cached once, then presented beside the GCP AIK: still its key, not the AIK */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(verify_with_der(&w, der2, (size_t)len2, T_NOW, &out, &err), ATTEST_E_VERIFY);
		assert_string_equal(err.name, "tpm.aik.cert_key_mismatch");
	}
	expect_stats(w.cache, 0, 2);
	OPENSSL_free(der2);
	EVP_PKEY_free(another);
	aik_world_free(&w);
}

static void a_full_cache_evicts_its_oldest_chain_and_stays_correct(void **state)
{
	struct aik_world w;
	struct tpm_quote_out out;
	struct attest_err err;
	unsigned char *ders[3];
	int lens[3];

	REQUIRE_VECTORS(vdir_);
	(void)vdir_;
	assert_int_equal(aik_world_new(&w), 0);
	tpm_aik_cache_free(w.cache);
	w.cache = tpm_aik_cache_new(2);
	for (int i = 0; i < 3; i++)
		ders[i] = cert_der(w.ca, w.g.key, T_NOW - 100 - i, T_NOW + 100, &lens[i]);
	for (int i = 0; i < 3; i++)
		assert_int_equal(verify_with_der(&w, ders[i], (size_t)lens[i], T_NOW, &out, &err), 0);
	/* 1 and 2 are cached, 0 was evicted */
	assert_int_equal(verify_with_der(&w, ders[2], (size_t)lens[2], T_NOW, &out, &err), 0);
	assert_int_equal(verify_with_der(&w, ders[1], (size_t)lens[1], T_NOW, &out, &err), 0);
	expect_stats(w.cache, 2, 3);
	assert_int_equal(verify_with_der(&w, ders[0], (size_t)lens[0], T_NOW, &out, &err), 0);
	expect_stats(w.cache, 2, 4);
	for (int i = 0; i < 3; i++)
		OPENSSL_free(ders[i]);
	aik_world_free(&w);
}

static void decoded_keys_are_kept_under_their_id_and_the_oldest_goes(void **state)
{
	struct tpm_aik_cache *c = tpm_aik_cache_new(2);
	EVP_PKEY *k[3] = {EVP_EC_gen("P-256"), EVP_EC_gen("P-256"), EVP_EC_gen("P-256")}, *got;
	uint8_t id[3][32], spki[3][32], out[32];

	(void)state;
	for (int i = 0; i < 3; i++) {
		memset(id[i], i + 1, 32);
		assert_int_equal(tpm_pkey_spki_sha256(k[i], spki[i]), 0);
	}
	assert_null(tpm_key_cache_get(c, id[0], out));
	tpm_key_cache_put(c, id[0], k[0], spki[0]);
	tpm_key_cache_put(c, id[1], k[1], spki[1]);
	got = tpm_key_cache_get(c, id[0], out);
	assert_ptr_equal(got, k[0]);
	assert_memory_equal(out, spki[0], 32);
	EVP_PKEY_free(got);			    /* a reference of its own */
	tpm_key_cache_put(c, id[2], k[2], spki[2]); /* full: id[0], the oldest stored, goes */
	assert_null(tpm_key_cache_get(c, id[0], out));
	got = tpm_key_cache_get(c, id[2], out);
	assert_int_equal(EVP_PKEY_eq(got, k[2]), 1);
	EVP_PKEY_free(got);
	for (int i = 0; i < 3; i++)
		EVP_PKEY_free(k[i]); /* the cache keeps its own references */
	got = tpm_key_cache_get(c, id[1], out);
	assert_non_null(got);
	assert_memory_equal(out, spki[1], 32);
	EVP_PKEY_free(got);
	tpm_aik_cache_free(c);
}

struct cache_race {
	struct aik_world *w;
	int failures;
};

static void *cache_race_thread(void *arg)
{
	struct cache_race *r = arg;

	for (int i = 0; i < 25; i++) {
		struct tpm_quote_out out;
		struct attest_err err;

		if (verify_with_der(r->w, r->w->der, (size_t)r->w->der_len, T_NOW, &out, &err) != 0 ||
		    !out.aik_cert_validated)
			r->failures++;
	}
	return NULL;
}

static void threads_share_one_aik_cache(void **state)
{
	struct aik_world w;
	struct cache_race r[4];
	pthread_t t[4];
	uint64_t hits = 0, misses = 0;

	REQUIRE_VECTORS(vdir_);
	(void)vdir_;
	assert_int_equal(aik_world_new(&w), 0);
	for (int i = 0; i < 4; i++) {
		r[i] = (struct cache_race){.w = &w};
		assert_int_equal(pthread_create(&t[i], NULL, cache_race_thread, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(r[i].failures, 0);
	}
	tpm_aik_cache_stats(w.cache, &hits, &misses);
	assert_int_equal(hits + misses, 100);
	assert_true(misses >= 1 && misses <= 4); /* each thread may miss before the first put */
	aik_world_free(&w);
}

int main(void)
{
	/* libtss2-mu logs malformed input to stderr; the tests feed it plenty. */
	setenv("TSS2_LOG", "all+NONE", 1);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(gcp_ak_public_area_is_an_rsa2048_restricted_signing_key),
	    cmocka_unit_test(gcp_quote_verifies_signature_pcr_digest_and_selection),
	    cmocka_unit_test(gcp_ak_creation_attestation_verifies),
	    cmocka_unit_test(quote_with_another_nonce_is_refused),
	    cmocka_unit_test(pcr_value_other_than_quoted_is_refused),
	    cmocka_unit_test(missing_pcr_value_is_refused),
	    cmocka_unit_test(selection_not_covering_required_mask_is_refused),
	    cmocka_unit_test(unregistered_aik_without_certificate_is_refused),
	    cmocka_unit_test(aik_certificate_chaining_to_root_makes_aik_trusted),
	    cmocka_unit_test(aik_cache_capacity_is_bounded),
	    cmocka_unit_test(decoded_keys_are_kept_under_their_id_and_the_oldest_goes),
	    cmocka_unit_test(a_verified_aik_chain_is_found_again_with_the_same_verdict),
	    cmocka_unit_test(a_cached_chain_is_not_reused_outside_its_certificates_validity),
	    cmocka_unit_test(a_different_certificate_misses_the_cache),
	    cmocka_unit_test(a_changed_certificate_is_refused_though_the_original_is_cached),
	    cmocka_unit_test(a_cached_chain_whose_root_is_no_longer_trusted_is_refused),
	    cmocka_unit_test(a_cached_certificate_of_another_key_than_the_aik_is_refused),
	    cmocka_unit_test(a_full_cache_evicts_its_oldest_chain_and_stays_correct),
	    cmocka_unit_test(threads_share_one_aik_cache),
	    cmocka_unit_test(quote_signed_by_another_key_is_refused),
	    cmocka_unit_test(rsa_signature_schemes_are_not_interchangeable),
	    cmocka_unit_test(trailing_bytes_after_structures_are_refused),
	    cmocka_unit_test(quote_and_signature_readers_agree_with_tss2),
	    cmocka_unit_test(tpm2b_public_and_tpmt_public_give_the_same_key),
	    cmocka_unit_test(azure_vtpm_quote_verifies_with_its_ak_and_nonce),
	    cmocka_unit_test(pcr_set_refuses_wrong_sizes_and_indexes),
	    cmocka_unit_test(spki_hash_equals_sha256_of_openssl_der),
	    cmocka_unit_test(gcp_bundle_verifies_offline_with_its_log),
	    cmocka_unit_test(azure_vtpm_bundle_verifies_offline_with_its_nonce),
	    cmocka_unit_test(unrestricted_key_as_aik_public_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
