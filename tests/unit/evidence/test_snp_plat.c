/*
 * SEV-SNP verification driven by the synthetic platform
 * (src/devplat/snp_plat.c): Milan, Genoa and Turin chains, VCEK and VLEK
 * reports, AMD CRLs, and one test per refusal the verifier names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "base/codec.h"
#include "claims/claims.h"
#include "collateral/amd_collateral.h"
#include "crypto/crypto.h"
#include "devplat/snp_plat.h"
#include "evidence/amd_certs.h"
#include "evidence/snp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define T0  1700000000 /* CA validity start */
#define T1  (T0 + 20 * 365 * 86400LL)
#define NOW (T0 + 86400)

static const uint8_t MILAN_TCB[8] = {3, 0, 0, 0, 0, 0, 8, 0x73};
static const uint8_t TURIN_TCB[8] = {1, 2, 3, 4, 0, 0, 0, 0x20};

struct fixture {
	struct snp_plat *milan, *genoa, *turin;
	STACK_OF(X509) * arks;
	struct evidence_anchors anchors;
	uint8_t chip_id[64];
};

static struct fixture F;

static struct snp_plat *plat(enum amd_product p)
{
	struct snp_plat_opts o = {
	    .product = p, .not_before = T0 - 86400, .not_after = T1, .key_dir = getenv("ATTEST_BINARY_DIR")};
	struct snp_plat *out = NULL;

	assert_int_equal(snp_plat_new(&o, &out, NULL), ATTEST_OK);
	return out;
}

static int setup(void **state)
{
	F.milan = plat(AMD_PRODUCT_MILAN);
	F.genoa = plat(AMD_PRODUCT_GENOA);
	F.turin = plat(AMD_PRODUCT_TURIN);
	F.arks = sk_X509_new_null();
	sk_X509_push(F.arks, snp_plat_ark(F.milan));
	sk_X509_push(F.arks, snp_plat_ark(F.genoa));
	sk_X509_push(F.arks, snp_plat_ark(F.turin));
	F.anchors.amd_arks = F.arks;
	for (int i = 0; i < 64; i++)
		F.chip_id[i] = (uint8_t)(0xA0 + i);
	return 0;
}

static int teardown(void **state)
{
	sk_X509_free(F.arks);
	snp_plat_free(F.milan);
	snp_plat_free(F.genoa);
	snp_plat_free(F.turin);
	return 0;
}

/* One synthetic attestation: a leaf, a report signed by it, and its certs. */
struct case_ {
	struct snp_plat *p;
	struct snp_plat_leaf leaf;
	struct snp_report r;
	uint8_t report[SNP_REPORT_SIZE];
	uint8_t *leaf_der, *ask_der;
	size_t leaf_len, ask_len;
	struct snp_certs certs;
	struct evidence_ctx ctx;
};

static void case_leaf(struct case_ *c, struct snp_plat *p, const struct snp_plat_leaf_spec *spec)
{
	memset(c, 0, sizeof(*c));
	c->p = p;
	assert_int_equal(snp_plat_issue(p, spec, &c->leaf, NULL), ATTEST_OK);
	c->leaf_der = snp_plat_der(c->leaf.cert, &c->leaf_len);
	c->ask_der = snp_plat_der(spec->vlek ? snp_plat_asvk(p) : snp_plat_ask(p), &c->ask_len);
	c->certs.leaf = c->leaf_der, c->certs.leaf_len = c->leaf_len;
	c->certs.ask = c->ask_der, c->certs.ask_len = c->ask_len;
	c->ctx.now = NOW;
	c->ctx.anchors = &F.anchors;
}

/* Encodes c->r and signs it with the leaf's key. */
static void case_sign(struct case_ *c)
{
	snp_plat_report_encode(&c->r, c->report);
	assert_int_equal(snp_plat_report_sign(c->report, c->leaf.key, NULL), ATTEST_OK);
}

static void case_default(struct case_ *c, struct snp_plat *p, bool vlek)
{
	const uint8_t *tcb = snp_plat_product(p) == AMD_PRODUCT_TURIN ? TURIN_TCB : MILAN_TCB;
	struct snp_plat_leaf_spec s = {.vlek = vlek, .chip_id = F.chip_id, .tcb = tcb};

	case_leaf(c, p, &s);
	snp_plat_report_defaults(p, F.chip_id, tcb, vlek, &c->r);
	case_sign(c);
}

static void case_free(struct case_ *c)
{
	snp_plat_leaf_free(&c->leaf);
	free(c->leaf_der);
	free(c->ask_der);
}

static int verify(struct case_ *c, struct snp_result *res, struct attest_err *err)
{
	attest_err_clear(err);
	return snp_verify_report(&c->ctx, NULL, c->report, SNP_REPORT_SIZE, &c->certs, res, err);
}

static void expect_refusal(struct case_ *c, int rc, const char *name)
{
	struct attest_err err;

	assert_int_equal(verify(c, NULL, &err), rc);
	assert_string_equal(err.name, name);
}

static void put_entry(uint8_t *t, const uint8_t guid[16], uint32_t off, uint32_t len, bool mixed_endian);

/* ---- Accepted --------------------------------------------------------------- */

static void synthetic_milan_vcek_report_verifies(void **state)
{
	struct snp_result res;
	struct attest_err err;
	struct case_ c;

	case_default(&c, F.milan, false);
	assert_int_equal(verify(&c, &res, &err), ATTEST_OK);
	assert_int_equal(res.product, AMD_PRODUCT_MILAN);
	assert_int_equal(res.reported.snp, 8);
	assert_int_equal(res.reported.microcode, 0x73);
	case_free(&c);
}

static void synthetic_genoa_report_verifies_on_the_genoa_chain(void **state)
{
	struct snp_result res;
	struct attest_err err;
	struct case_ c;

	case_default(&c, F.genoa, false);
	assert_int_equal(verify(&c, &res, &err), ATTEST_OK);
	assert_int_equal(res.product, AMD_PRODUCT_GENOA);
	case_free(&c);
}

static void turin_tcb_layout_and_fmc_spl_are_checked(void **state)
{
	struct snp_result res;
	struct attest_err err;
	struct case_ c;
	struct claim_set *cs = claim_set_new();

	case_default(&c, F.turin, false);
	assert_int_equal(verify(&c, &res, &err), ATTEST_OK);
	assert_int_equal(res.product, AMD_PRODUCT_TURIN);
	assert_int_equal(res.reported.fmc, 1);
	assert_int_equal(res.reported.bootloader, 2);
	assert_int_equal(res.reported.tee, 3);
	assert_int_equal(res.reported.snp, 4);
	assert_int_equal(res.reported.microcode, 0x20);
	assert_int_equal(snp_claims_add(&res, cs, NULL), ATTEST_OK);
	assert_int_equal(json_integer_value(claim_set_get(cs, "x-ms-sevsnpvm-fmc-svn")), 1);
	claim_set_free(cs);
	/* An FMC SPL that disagrees with REPORTED_TCB byte 0 is refused. */
	c.r.reported_tcb[0] = 9;
	case_sign(&c);
	expect_refusal(&c, ATTEST_E_VERIFY, "snp.vcek.tcb");
	case_free(&c);
}

static void turin_vcek_with_eight_byte_hwid_matches_chip_id_prefix(void **state)
{
	struct snp_plat_leaf_spec s = {.chip_id = F.chip_id, .hwid_len = 8, .tcb = TURIN_TCB};
	uint8_t chip[64] = {0};
	struct snp_result res;
	struct attest_err err;
	struct case_ c;

	memcpy(chip, F.chip_id, 8); /* Turin: CHIP_ID bytes 8..63 zero */
	s.chip_id = chip;
	case_leaf(&c, F.turin, &s);
	snp_plat_report_defaults(F.turin, chip, TURIN_TCB, false, &c.r);
	case_sign(&c);
	assert_int_equal(verify(&c, &res, &err), ATTEST_OK);
	/* With CHIP_ID bytes 8..63 not zero, 8 matching bytes are not enough. */
	c.r.chip_id[40] = 1;
	case_sign(&c);
	expect_refusal(&c, ATTEST_E_VERIFY, "snp.vcek.chip_id");
	/* The same 8-byte hwID on a Milan chain is not enough. */
	case_free(&c);
	s.tcb = MILAN_TCB;
	case_leaf(&c, F.milan, &s);
	snp_plat_report_defaults(F.milan, chip, MILAN_TCB, false, &c.r);
	case_sign(&c);
	expect_refusal(&c, ATTEST_E_VERIFY, "snp.vcek.chip_id");
	case_free(&c);
}

static void vlek_report_verifies_through_the_asvk(void **state)
{
	struct snp_result res;
	struct attest_err err;
	struct claim_set *cs = claim_set_new();
	struct case_ c;

	case_default(&c, F.milan, true);
	assert_int_equal(verify(&c, &res, &err), ATTEST_OK);
	assert_true(res.vlek);
	assert_int_equal(snp_claims_add(&res, cs, NULL), ATTEST_OK);
	assert_string_equal(json_string_value(claim_set_get(cs, "x-ms-sevsnpvm-signing-key")), "vlek");
	claim_set_free(cs);
	case_free(&c);
}

static void every_known_report_version_verifies(void **state)
{
	for (uint32_t v = SNP_REPORT_VERSION_MIN; v <= SNP_REPORT_VERSION_MAX; v++) {
		struct attest_err err;
		struct case_ c;

		case_default(&c, F.milan, false);
		c.r.version = v;
		c.r.has_cpuid = v >= 3;
		if (v < 3)
			c.r.cpuid_fam_id = c.r.cpuid_mod_id = c.r.cpuid_step = 0;
		if (v < 5)
			c.r.launch_mit_vector = c.r.current_mit_vector = 0;
		case_sign(&c);
		assert_int_equal(verify(&c, NULL, &err), ATTEST_OK);
		case_free(&c);
	}
}

static void crl_that_does_not_list_the_ask_is_applied(void **state)
{
	X509_CRL *crl = NULL;
	struct snp_result res;
	struct attest_err err;
	struct case_ c;
	uint8_t *der;
	size_t n;

	case_default(&c, F.milan, false);
	assert_int_equal(snp_plat_crl(F.milan, false, false, T0, NOW + 86400, &crl, NULL), ATTEST_OK);
	der = snp_plat_crl_der(crl, &n);
	c.certs.crl = der, c.certs.crl_len = n;
	assert_int_equal(verify(&c, &res, &err), ATTEST_OK);
	assert_true(res.crl_checked);
	/* With EVIDENCE_NO_REVOCATION the CRL is not looked at. */
	c.ctx.flags = EVIDENCE_NO_REVOCATION;
	assert_int_equal(verify(&c, &res, &err), ATTEST_OK);
	assert_false(res.crl_checked);
	free(der);
	X509_CRL_free(crl);
	case_free(&c);
}

/* ---- Refused: certificates -------------------------------------------------- */

static void crl_revoking_the_ask_is_refused(void **state)
{
	X509_CRL *crl = NULL;
	struct case_ c;
	uint8_t *der;
	size_t n;

	case_default(&c, F.milan, false);
	assert_int_equal(snp_plat_crl(F.milan, false, true, T0, NOW + 86400, &crl, NULL), ATTEST_OK);
	der = snp_plat_crl_der(crl, &n);
	c.certs.crl = der, c.certs.crl_len = n;
	expect_refusal(&c, ATTEST_E_VERIFY, "snp.chain.revoked");
	free(der);
	X509_CRL_free(crl);
	case_free(&c);
}

static void crl_revoking_the_asvk_refuses_vlek_reports(void **state)
{
	X509_CRL *crl = NULL;
	struct case_ c;
	uint8_t *der;
	size_t n;

	case_default(&c, F.milan, true);
	assert_int_equal(snp_plat_crl(F.milan, true, true, T0, NOW + 86400, &crl, NULL), ATTEST_OK);
	der = snp_plat_crl_der(crl, &n);
	c.certs.crl = der, c.certs.crl_len = n;
	expect_refusal(&c, ATTEST_E_VERIFY, "snp.chain.revoked");
	free(der);
	X509_CRL_free(crl);
	case_free(&c);
}

static void expired_crl_is_refused(void **state)
{
	X509_CRL *crl = NULL;
	struct case_ c;
	uint8_t *der;
	size_t n;

	case_default(&c, F.milan, false);
	assert_int_equal(snp_plat_crl(F.milan, false, false, T0, NOW - 1, &crl, NULL), ATTEST_OK);
	der = snp_plat_crl_der(crl, &n);
	c.certs.crl = der, c.certs.crl_len = n;
	expect_refusal(&c, ATTEST_E_COLLATERAL, "snp.crl_expired");
	free(der);
	X509_CRL_free(crl);
	case_free(&c);
}

static void crl_of_another_ark_is_refused(void **state)
{
	X509_CRL *crl = NULL;
	struct case_ c;
	uint8_t *der;
	size_t n;

	case_default(&c, F.milan, false);
	assert_int_equal(snp_plat_crl(F.genoa, false, false, T0, NOW + 86400, &crl, NULL), ATTEST_OK);
	der = snp_plat_crl_der(crl, &n);
	c.certs.crl = der, c.certs.crl_len = n;
	expect_refusal(&c, ATTEST_E_COLLATERAL, "snp.crl_issuer");
	free(der);
	X509_CRL_free(crl);
	case_free(&c);
}

static void vlek_report_with_a_vcek_is_refused(void **state)
{
	struct snp_plat_leaf_spec s = {.chip_id = F.chip_id, .tcb = MILAN_TCB};
	struct case_ c;

	case_leaf(&c, F.milan, &s);
	snp_plat_report_defaults(F.milan, F.chip_id, MILAN_TCB, true, &c.r);
	case_sign(&c);
	expect_refusal(&c, ATTEST_E_VERIFY, "snp.vcek.kind");
	case_free(&c);
}

static void vcek_report_with_a_vlek_is_refused(void **state)
{
	struct snp_plat_leaf_spec s = {.vlek = true, .tcb = MILAN_TCB};
	struct case_ c;

	case_leaf(&c, F.milan, &s);
	snp_plat_report_defaults(F.milan, F.chip_id, MILAN_TCB, false, &c.r);
	case_sign(&c);
	expect_refusal(&c, ATTEST_E_VERIFY, "snp.vcek.kind");
	case_free(&c);
}

static void vlek_with_hwid_or_vcek_with_csp_id_is_refused(void **state)
{
	struct snp_plat_leaf_spec a = {
	    .vlek = true, .tcb = MILAN_TCB, .chip_id = F.chip_id, .add_hwid = true};
	struct snp_plat_leaf_spec b = {.tcb = MILAN_TCB, .chip_id = F.chip_id, .add_csp_id = true};
	struct case_ c;

	case_leaf(&c, F.milan, &a);
	snp_plat_report_defaults(F.milan, F.chip_id, MILAN_TCB, true, &c.r);
	case_sign(&c);
	expect_refusal(&c, ATTEST_E_VERIFY, "snp.vcek.kind");
	case_free(&c);
	case_leaf(&c, F.milan, &b);
	snp_plat_report_defaults(F.milan, F.chip_id, MILAN_TCB, false, &c.r);
	case_sign(&c);
	expect_refusal(&c, ATTEST_E_VERIFY, "snp.vcek.kind");
	case_free(&c);
}

static void vcek_without_hwid_is_refused(void **state)
{
	struct snp_plat_leaf_spec s = {.tcb = MILAN_TCB, .omit_hwid = true};
	struct case_ c;

	case_leaf(&c, F.milan, &s);
	snp_plat_report_defaults(F.milan, F.chip_id, MILAN_TCB, false, &c.r);
	case_sign(&c);
	expect_refusal(&c, ATTEST_E_VERIFY, "snp.vcek.kind");
	case_free(&c);
}

static void vcek_without_ucode_spl_is_refused(void **state)
{
	struct snp_plat_leaf_spec s = {.chip_id = F.chip_id, .tcb = MILAN_TCB, .omit_spl_ucode = true};
	struct case_ c;

	case_leaf(&c, F.milan, &s);
	snp_plat_report_defaults(F.milan, F.chip_id, MILAN_TCB, false, &c.r);
	case_sign(&c);
	expect_refusal(&c, ATTEST_E_VERIFY, "snp.vcek.tcb");
	case_free(&c);
}

static void vcek_of_another_tcb_is_refused_for_each_component(void **state)
{
	static const int parts[] = {0, 1, 6, 7}; /* bl, tee, snp, ucode (Milan layout) */

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		struct case_ c;

		case_default(&c, F.milan, false);
		c.r.reported_tcb[parts[i]]++;
		case_sign(&c);
		expect_refusal(&c, ATTEST_E_VERIFY, "snp.vcek.tcb");
		case_free(&c);
	}
}

static void vcek_of_another_chip_is_refused(void **state)
{
	struct case_ c;

	case_default(&c, F.milan, false);
	c.r.chip_id[63] ^= 1;
	case_sign(&c);
	expect_refusal(&c, ATTEST_E_VERIFY, "snp.vcek.chip_id");
	case_free(&c);
}

static void leaf_signed_by_the_ark_directly_is_refused(void **state)
{
	struct snp_plat_leaf_spec s = {.chip_id = F.chip_id, .tcb = MILAN_TCB, .issue_by_ark = true};
	struct case_ c;

	case_leaf(&c, F.milan, &s);
	snp_plat_report_defaults(F.milan, F.chip_id, MILAN_TCB, false, &c.r);
	case_sign(&c);
	expect_refusal(&c, ATTEST_E_VERIFY, "snp.chain.path");
	case_free(&c);
}

static void p256_leaf_key_is_refused(void **state)
{
	struct snp_plat_leaf_spec s = {.chip_id = F.chip_id, .tcb = MILAN_TCB, .p256 = true};
	struct case_ c;

	case_leaf(&c, F.milan, &s);
	snp_plat_report_defaults(F.milan, F.chip_id, MILAN_TCB, false, &c.r);
	snp_plat_report_encode(&c.r, c.report);
	expect_refusal(&c, ATTEST_E_VERIFY, "snp.vcek.key");
	case_free(&c);
}

static void leaf_signed_with_pss_sha256_is_refused(void **state)
{
	struct snp_plat_leaf_spec s = {.chip_id = F.chip_id, .tcb = MILAN_TCB, .sha256_pss = true};
	struct case_ c;

	case_leaf(&c, F.milan, &s);
	snp_plat_report_defaults(F.milan, F.chip_id, MILAN_TCB, false, &c.r);
	case_sign(&c);
	expect_refusal(&c, ATTEST_E_VERIFY, "snp.vcek.algorithm");
	case_free(&c);
}

static void synthetic_chain_is_refused_against_the_builtin_arks(void **state)
{
	struct case_ c;

	case_default(&c, F.milan, false);
	c.ctx.anchors = NULL; /* AMD's real ARK-Milan: same name, another key */
	expect_refusal(&c, ATTEST_E_VERIFY, "snp.chain.signature");
	case_free(&c);
}

/* attestd --dev trusts the built-in ARK-Milan and a synthetic one of the same name, in that order. */
static void synthetic_ark_listed_after_the_builtin_one_of_the_same_name_chains(void **state)
{
	STACK_OF(X509) *both = sk_X509_new_null();
	struct evidence_anchors a = {0};
	X509 *builtin = NULL;
	struct case_ c;

	assert_int_equal(amd_builtin_cert(AMD_PRODUCT_MILAN, AMD_ROLE_ARK, &builtin, NULL), ATTEST_OK);
	sk_X509_push(both, builtin);
	sk_X509_push(both, snp_plat_ark(F.milan));
	a.amd_arks = both;
	case_default(&c, F.milan, false);
	c.ctx.anchors = &a;
	assert_int_equal(verify(&c, NULL, &(struct attest_err){0}), ATTEST_OK);
	case_free(&c);
	sk_X509_free(both);
	X509_free(builtin);
}

static void supplied_ark_that_is_not_an_anchor_is_refused(void **state)
{
	STACK_OF(X509) *only_genoa = sk_X509_new_null();
	struct evidence_anchors a = {0};
	struct case_ c;
	uint8_t *ark;
	size_t n;

	case_default(&c, F.milan, false);
	ark = snp_plat_der(snp_plat_ark(F.milan), &n);
	c.certs.ark = ark, c.certs.ark_len = n;
	assert_int_equal(verify(&c, NULL, &(struct attest_err){0}), ATTEST_OK);
	sk_X509_push(only_genoa, snp_plat_ark(F.genoa));
	a.amd_arks = only_genoa;
	c.ctx.anchors = &a;
	expect_refusal(&c, ATTEST_E_VERIFY, "snp.chain.untrusted_root");
	sk_X509_free(only_genoa);
	free(ark);
	case_free(&c);
}

static void genoa_report_against_milan_chain_is_refused(void **state)
{
	struct snp_plat_leaf_spec s = {.chip_id = F.chip_id, .tcb = MILAN_TCB, .product_name = "Genoa-B1"};
	struct case_ c;

	/* Genoa CPUID and a Milan VCEK: the leaf's product is wrong. */
	case_default(&c, F.milan, false);
	c.r.cpuid_mod_id = 0x11;
	case_sign(&c);
	expect_refusal(&c, ATTEST_E_VERIFY, "snp.vcek.product");
	case_free(&c);
	/* A leaf saying Genoa issued by the Milan ASK: the ASK is wrong. */
	case_leaf(&c, F.milan, &s);
	snp_plat_report_defaults(F.genoa, F.chip_id, MILAN_TCB, false, &c.r);
	case_sign(&c);
	expect_refusal(&c, ATTEST_E_VERIFY, "snp.chain.product");
	case_free(&c);
}

static void expired_vcek_is_refused(void **state)
{
	struct snp_plat_leaf_spec s = {
	    .chip_id = F.chip_id, .tcb = MILAN_TCB, .not_before = T0, .not_after = NOW - 10};
	struct case_ c;

	case_leaf(&c, F.milan, &s);
	snp_plat_report_defaults(F.milan, F.chip_id, MILAN_TCB, false, &c.r);
	case_sign(&c);
	expect_refusal(&c, ATTEST_E_VERIFY, "snp.chain.expired");
	case_free(&c);
}

static void report_signed_by_another_key_is_refused(void **state)
{
	struct case_ c, d;

	case_default(&c, F.milan, false);
	case_default(&d, F.milan, false); /* same chip and TCB, another key */
	memcpy(c.report + SNP_OFF_SIGNATURE, d.report + SNP_OFF_SIGNATURE,
	       SNP_REPORT_SIZE - SNP_OFF_SIGNATURE);
	expect_refusal(&c, ATTEST_E_VERIFY, "snp.signature");
	case_free(&c);
	case_free(&d);
}

static void cached_chain_expires_with_its_crl(void **state)
{
	struct snp_chain_cache *cache = snp_chain_cache_new(2);
	struct snp_opts o = {.cache = cache};
	X509_CRL *crl = NULL;
	struct attest_err err;
	uint64_t hits, misses;
	struct case_ c;
	uint8_t *der;
	size_t n;

	case_default(&c, F.milan, false);
	assert_int_equal(snp_plat_crl(F.milan, false, false, T0, NOW + 100, &crl, NULL), ATTEST_OK);
	der = snp_plat_crl_der(crl, &n);
	c.certs.crl = der, c.certs.crl_len = n;
	assert_int_equal(snp_verify_report(&c.ctx, &o, c.report, SNP_REPORT_SIZE, &c.certs, NULL, NULL),
			 ATTEST_OK);
	assert_int_equal(snp_verify_report(&c.ctx, &o, c.report, SNP_REPORT_SIZE, &c.certs, NULL, NULL),
			 ATTEST_OK);
	c.ctx.now = NOW + 200;
	attest_err_clear(&err);
	assert_int_equal(snp_verify_report(&c.ctx, &o, c.report, SNP_REPORT_SIZE, &c.certs, NULL, &err),
			 ATTEST_E_COLLATERAL);
	assert_string_equal(err.name, "snp.crl_expired");
	snp_chain_cache_stats(cache, &hits, &misses);
	assert_int_equal(hits, 1);
	assert_int_equal(misses, 2);
	snp_chain_cache_free(cache);
	free(der);
	X509_CRL_free(crl);
	case_free(&c);
}

/* A KDS-shaped folder with this product's CRL (and the chain) in it. */
static void write_kds(const char *root, struct snp_plat *p, X509_CRL *crl)
{
	const char *prod = amd_product_name(snp_plat_product(p));
	char path[1024];
	uint8_t *der;
	size_t n;
	char *ask = snp_plat_pem(snp_plat_ask(p)), *ark = snp_plat_pem(snp_plat_ark(p));
	FILE *f;

	snprintf(path, sizeof(path), "%s/vcek", root);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/vcek/v1", root);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/vcek/v1/%s", root, prod);
	mkdir(path, 0700);
	der = snp_plat_crl_der(crl, &n);
	snprintf(path, sizeof(path), "%s/vcek/v1/%s/crl", root, prod);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(der, 1, n, f), n);
	fclose(f);
	snprintf(path, sizeof(path), "%s/vcek/v1/%s/cert_chain", root, prod);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(ask, f);
	fputs(ark, f);
	fclose(f);
	free(der);
	free(ask);
	free(ark);
}

static void crl_and_chain_are_found_through_the_collateral_source(void **state)
{
	struct collateral_source *src = NULL;
	char root[] = "/tmp/snp-crl-XXXXXX", cmd[128];
	X509_CRL *crl = NULL;
	struct snp_result res;
	struct attest_err err;
	struct case_ c;

	assert_non_null(mkdtemp(root));
	case_default(&c, F.milan, false);
	c.certs.ask = NULL, c.certs.ask_len = 0; /* the chain comes from the folder */
	assert_int_equal(snp_plat_crl(F.milan, false, false, T0, NOW + 86400, &crl, NULL), ATTEST_OK);
	write_kds(root, F.milan, crl);
	X509_CRL_free(crl);
	assert_int_equal(amd_file_source_new(root, &src, NULL), ATTEST_OK);
	c.ctx.collateral = src;
	assert_int_equal(verify(&c, &res, &err), ATTEST_OK);
	assert_true(res.crl_checked);
	/* The same folder with a CRL that revokes the ASK. */
	assert_int_equal(snp_plat_crl(F.milan, false, true, T0, NOW + 86400, &crl, NULL), ATTEST_OK);
	write_kds(root, F.milan, crl);
	X509_CRL_free(crl);
	expect_refusal(&c, ATTEST_E_VERIFY, "snp.chain.revoked");
	collateral_source_free(src);
	free(src);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	case_free(&c);
}

/* ---- More refusals --------------------------------------------------------- */

static void weak_or_sha256_ca_is_refused(void **state)
{
	struct snp_plat_opts o = {.product = AMD_PRODUCT_MILAN,
				  .not_before = T0 - 86400,
				  .not_after = T1,
				  .key_dir = getenv("ATTEST_BINARY_DIR")};
	static const struct {
		int bits;
		bool sha256;
		const char *name;
	} M[] = {{2048, false, "snp.chain.key"}, {4096, true, "snp.chain.algorithm"}};

	for (size_t i = 0; i < sizeof(M) / sizeof(M[0]); i++) {
		struct snp_plat *p = NULL;
		STACK_OF(X509) *arks = sk_X509_new_null();
		struct evidence_anchors a = {.amd_arks = arks};
		struct case_ c;

		o.ca_bits = M[i].bits, o.ca_sha256 = M[i].sha256;
		assert_int_equal(snp_plat_new(&o, &p, NULL), ATTEST_OK);
		sk_X509_push(arks, snp_plat_ark(p));
		case_default(&c, p, false);
		c.ctx.anchors = &a;
		expect_refusal(&c, ATTEST_E_VERIFY, M[i].name);
		case_free(&c);
		sk_X509_free(arks);
		snp_plat_free(p);
	}
}

static void chain_with_a_repeated_or_foreign_certificate_is_refused(void **state)
{
	char *ask = snp_plat_pem(snp_plat_ask(F.milan)), *leaf;
	char foreign[] = "CN=not AMD";
	struct case_ c;
	size_t n;
	char *pem;
	X509 *x = X509_new();
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509_NAME *name = X509_NAME_new();
	char *xpem;

	case_default(&c, F.milan, false);
	leaf = snp_plat_pem(c.leaf.cert);
	/* Two ASKs in the PEM chain. */
	n = 2 * strlen(ask) + 1;
	pem = malloc(n);
	snprintf(pem, n, "%s%s", ask, ask);
	c.certs.ask = NULL, c.certs.ask_len = 0;
	c.certs.chain = (const uint8_t *)pem, c.certs.chain_len = strlen(pem);
	expect_refusal(&c, ATTEST_E_PARSE, "snp.chain.duplicate");
	/* The leaf both alone and in the chain. */
	free(pem);
	n = strlen(leaf) + strlen(ask) + 1;
	pem = malloc(n);
	snprintf(pem, n, "%s%s", leaf, ask);
	c.certs.chain = (const uint8_t *)pem, c.certs.chain_len = strlen(pem);
	expect_refusal(&c, ATTEST_E_PARSE, "snp.chain.duplicate");
	/* A certificate that is none of ARK, ASK, VCEK, VLEK. */
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)foreign + 3, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, name);
	X509_set_pubkey(x, k);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 60);
	X509_sign(x, k, EVP_sha256());
	xpem = snp_plat_pem(x);
	free(pem);
	n = strlen(xpem) + strlen(ask) + 1;
	pem = malloc(n);
	snprintf(pem, n, "%s%s", ask, xpem);
	c.certs.chain = (const uint8_t *)pem, c.certs.chain_len = strlen(pem);
	expect_refusal(&c, ATTEST_E_PARSE, "snp.chain.unknown");
	/* Not a certificate at all. */
	c.certs.chain = NULL, c.certs.chain_len = 0;
	c.certs.leaf = (const uint8_t *)"\x30\x03\x02\x01\x00", c.certs.leaf_len = 5;
	expect_refusal(&c, ATTEST_E_PARSE, "snp.vcek.parse");
	free(xpem);
	X509_NAME_free(name);
	EVP_PKEY_free(k);
	X509_free(x);
	free(pem);
	free(leaf);
	free(ask);
	case_free(&c);
}

static void v2_report_with_a_leaf_of_an_unknown_product_is_refused(void **state)
{
	struct snp_plat_leaf_spec s = {.chip_id = F.chip_id, .tcb = MILAN_TCB, .product_name = "Rome-B0"};
	struct case_ c;

	case_leaf(&c, F.milan, &s);
	snp_plat_report_defaults(F.milan, F.chip_id, MILAN_TCB, false, &c.r);
	c.r.version = 2, c.r.has_cpuid = false, c.r.has_mit_vectors = false;
	c.r.cpuid_fam_id = c.r.cpuid_mod_id = c.r.cpuid_step = 0;
	c.r.launch_mit_vector = c.r.current_mit_vector = 0;
	case_sign(&c);
	expect_refusal(&c, ATTEST_E_VERIFY, "snp.report.product");
	case_free(&c);
}

static void json_data_that_binds_but_does_not_parse_is_refused(void **state)
{
	const char bad[] = "{not json";
	struct evidence_input in;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	struct snp_opts o = {0};
	struct case_ c;
	uint8_t *ev;
	size_t n, off = 3 * 24;

	case_default(&c, F.milan, false);
	assert_int_equal(sha256(bad, strlen(bad), c.r.report_data), 0);
	assert_int_equal(sha256(bad, strlen(bad), c.r.host_data), 0);
	case_sign(&c);
	/* report || table {VCEK, ASK} */
	n = SNP_REPORT_SIZE + off + c.leaf_len + c.ask_len;
	ev = calloc(1, n);
	memcpy(ev, c.report, SNP_REPORT_SIZE);
	put_entry(ev + SNP_REPORT_SIZE, SNP_GUID_VCEK, (uint32_t)off, (uint32_t)c.leaf_len, false);
	memcpy(ev + SNP_REPORT_SIZE + off, c.leaf_der, c.leaf_len);
	put_entry(ev + SNP_REPORT_SIZE + 24, SNP_GUID_ASK, (uint32_t)(off + c.leaf_len), (uint32_t)c.ask_len,
		  false);
	memcpy(ev + SNP_REPORT_SIZE + off + c.leaf_len, c.ask_der, c.ask_len);
	memset(&in, 0, sizeof(in));
	in.evidence = ev, in.evidence_len = n;
	in.runtime_data = (const uint8_t *)bad, in.runtime_data_len = strlen(bad);
	in.runtime_data_type = EVIDENCE_DATA_BINARY;
	assert_int_equal(snp_verify_ex(&c.ctx, &o, &in, cs, NULL), ATTEST_OK);
	assert_null(claim_set_get(cs, "x-ms-runtime")); /* Binary: bound, not emitted */
	claim_set_free(cs);
	cs = claim_set_new();
	in.runtime_data_type = EVIDENCE_DATA_JSON;
	attest_err_clear(&err);
	assert_int_equal(snp_verify_ex(&c.ctx, &o, &in, cs, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "snp.runtime.json");
	assert_int_equal(claim_set_count(cs), 0);
	in.runtime_data_type = EVIDENCE_DATA_BINARY;
	in.init_data = (const uint8_t *)bad, in.init_data_len = strlen(bad),
	in.init_data_type = EVIDENCE_DATA_JSON;
	attest_err_clear(&err);
	assert_int_equal(snp_verify_ex(&c.ctx, &o, &in, cs, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "snp.inittime.json");
	assert_int_equal(claim_set_count(cs), 0);
	claim_set_free(cs);
	free(ev);
	case_free(&c);
}

static void amd_file_source_errors_are_named(void **state)
{
	char root[] = "/tmp/snp-amdfile-XXXXXX", path[1024], cmd[128];
	struct collateral_blob b;
	struct attest_err err;
	uint8_t chip[64] = {0};
	FILE *f;

	assert_non_null(mkdtemp(root));
	attest_err_clear(&err);
	assert_int_equal(amd_file_vcek(root, "../etc", chip, 0, &b, &err), ATTEST_E_INVALID);
	assert_string_equal(err.name, "collateral.invalid");
	attest_err_clear(&err);
	assert_int_equal(amd_file_vcek(root, "Milan", chip, 0, &b, &err), ATTEST_E_NOT_FOUND);
	assert_string_equal(err.name, "collateral.not_found");
	attest_err_clear(&err);
	assert_int_equal(amd_file_crl(root, "Milan", true, &b, &err), ATTEST_E_NOT_FOUND);
	snprintf(path, sizeof(path), "%s/vcek.der", root); /* a folder where a file should be */
	mkdir(path, 0700);
	attest_err_clear(&err);
	assert_int_equal(amd_file_vcek(root, "Milan", chip, 0, &b, &err), ATTEST_E_IO);
	assert_string_equal(err.name, "collateral.io");
	snprintf(path, sizeof(path), "%s/ask_ark_milan.pem", root);
	f = fopen(path, "wb");
	assert_non_null(f);
	for (int i = 0; i < 300; i++)
		fwrite(path, 1, 1000 > sizeof(path) ? sizeof(path) : 1000, f);
	fclose(f);
	attest_err_clear(&err);
	assert_int_equal(amd_file_cert_chain(root, "Milan", false, &b, &err), ATTEST_E_NOMEM);
	assert_string_equal(err.name, "collateral.too_large");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

/* ---- VCEK extensions ---------------------------------------------------------- */

/* A throwaway certificate carrying one AMD extension 1.3.6.1.4.1.3704.1.<arc> = der (twice if dup). */
static X509 *cert_with_ext(const char *arc, const uint8_t *der, size_t len, bool dup)
{
	X509 *x = X509_new();
	char oid[64];
	ASN1_OBJECT *obj;
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();

	snprintf(oid, sizeof(oid), "1.3.6.1.4.1.3704.1.%s", arc);
	obj = OBJ_txt2obj(oid, 1);
	assert_true(ASN1_OCTET_STRING_set(os, der, (int)len));
	for (int i = 0; i < (dup ? 2 : 1); i++) {
		X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);

		assert_non_null(e);
		assert_true(X509_add_ext(x, e, -1));
		X509_EXTENSION_free(e);
	}
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	return x;
}

static void vcek_extension_encodings_are_checked(void **state)
{
	static const struct {
		const char *arc;
		uint8_t der[8];
		size_t len;
		bool dup, ok;
	} M[] = {
	    {"3.8", {0x02, 0x02, 0x00, 0xDE}, 4, false, true},	/* 222, as KDS encodes it */
	    {"3.8", {0x02, 0x01, 0x80}, 3, false, false},	/* negative */
	    {"3.8", {0x02, 0x02, 0x00, 0x05}, 4, false, false}, /* not minimal */
	    {"3.8", {0x02, 0x02, 0x01, 0x00}, 4, false, false}, /* 256 > an SPL byte */
	    {"3.1", {0x02, 0x01, 0x05, 0x00}, 4, false, false}, /* trailing byte */
	    {"3.1", {0x02, 0x02, 0x05}, 3, false, false},	/* short */
	    {"3.1", {0x02, 0x01, 0x05}, 3, true, false},	/* repeated */
	    {"2", {0x16, 0x02, 'M', 'i'}, 4, false, true},
	    {"2", {0x0C, 0x02, 'M', 'i'}, 4, false, false},  /* UTF8String, not IA5String */
	    {"2", {0x16, 0x02, 'M', 0x01}, 4, false, false}, /* control character */
	    {"4", {0x01, 0x02}, 2, false, false},	     /* hwID neither 64 nor 8 bytes */
	    {"1", {0x02, 0x01, 0x00}, 3, false, true},
	    {"77", {0xFF}, 1, false, true}, /* unknown arcs are ignored */
	};

	for (size_t i = 0; i < sizeof(M) / sizeof(M[0]); i++) {
		X509 *x = cert_with_ext(M[i].arc, M[i].der, M[i].len, M[i].dup);
		struct amd_cert_ext e;
		struct attest_err err;
		int rc;

		attest_err_clear(&err);
		rc = amd_cert_ext_parse(x, &e, &err);
		if ((rc == ATTEST_OK) != M[i].ok)
			fail_msg("case %zu (.%s): rc %d (%s)", i, M[i].arc, rc, err.msg);
		if (!M[i].ok)
			assert_string_equal(err.name, "snp.vcek.extension");
		else if (strcmp(M[i].arc, "3.8") == 0)
			assert_int_equal(e.spl[AMD_SPL_UCODE], 222);
		X509_free(x);
	}
}

/* ---- GHCB certificate table ----------------------------------------------- */

static void put_entry(uint8_t *t, const uint8_t guid[16], uint32_t off, uint32_t len, bool mixed_endian)
{
	memcpy(t, guid, 16);
	if (mixed_endian) { /* guid_t order: first three fields little-endian */
		t[0] = guid[3], t[1] = guid[2], t[2] = guid[1], t[3] = guid[0];
		t[4] = guid[5], t[5] = guid[4], t[6] = guid[7], t[7] = guid[6];
	}
	for (int k = 0; k < 4; k++) {
		t[16 + k] = (uint8_t)(off >> (8 * k));
		t[20 + k] = (uint8_t)(len >> (8 * k));
	}
}

static void cert_table_reads_both_guid_byte_orders_and_skips_unknown_guids(void **state)
{
	static const uint8_t other[16] = {1, 2, 3};
	uint8_t t[4 * 24 + 30] = {0};
	struct snp_cert_table ct;

	put_entry(t, SNP_GUID_VCEK, 96, 10, true);
	put_entry(t + 24, other, 106, 10, false);
	put_entry(t + 48, SNP_GUID_ARK, 116, 10, false);
	assert_int_equal(snp_cert_table_parse(t, sizeof(t), &ct, NULL), ATTEST_OK);
	assert_ptr_equal(ct.vcek, t + 96);
	assert_int_equal(ct.vcek_len, 10);
	assert_ptr_equal(ct.ark, t + 116);
	assert_null(ct.ask);
	assert_null(ct.vlek);
}

static void cert_table_errors_are_named(void **state)
{
	struct {
		const char *name;
		uint32_t off, len;
		bool dup, no_leaf, no_end;
	} M[] = {
	    {"snp.certtable.range", 96, 100, false, false, false}, /* past the end */
	    {"snp.certtable.range", 10, 5, false, false, false},   /* into the entries */
	    {"snp.certtable.range", 96, 0, false, false, false},   /* empty */
	    {"snp.certtable.duplicate", 96, 5, true, false, false},
	    {"snp.certtable.no_leaf", 96, 5, false, true, false},
	    {"snp.certtable.truncated", 96, 5, false, false, true},
	};

	for (size_t i = 0; i < sizeof(M) / sizeof(M[0]); i++) {
		uint8_t t[4 * 24 + 30] = {0};
		struct snp_cert_table ct;
		struct attest_err err;

		put_entry(t, M[i].no_leaf ? SNP_GUID_ASK : SNP_GUID_VCEK, M[i].off, M[i].len, false);
		if (M[i].dup)
			put_entry(t + 24, SNP_GUID_VCEK, 101, 5, true);
		attest_err_clear(&err);
		assert_int_equal(snp_cert_table_parse(t, M[i].no_end ? 40 : sizeof(t), &ct, &err),
				 ATTEST_E_PARSE);
		if (strcmp(err.name, M[i].name) != 0)
			fail_msg("case %zu: got %s, want %s", i, err.name, M[i].name);
	}
}

static void cert_table_with_too_many_entries_is_refused(void **state)
{
	uint8_t *t = calloc(40, 24);
	struct attest_err err;
	struct snp_cert_table ct;

	for (int i = 0; i < 39; i++)
		put_entry(t + 24 * i, SNP_GUID_VCEK, 0, 1, false);
	attest_err_clear(&err);
	assert_int_equal(snp_cert_table_parse(t, 40 * 24, &ct, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "snp.certtable.entries");
	free(t);
}

static void vlek_report_takes_the_vlek_from_a_table_holding_both(void **state)
{
	struct case_ v, k;
	uint8_t *ask = NULL, *vcek, *vlek, *ev;
	size_t ask_len, n, off = 4 * 24;
	struct evidence_input in;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;

	case_default(&k, F.milan, false);
	case_default(&v, F.milan, true);
	vcek = k.leaf_der, vlek = v.leaf_der;
	ask = v.ask_der, ask_len = v.ask_len;
	n = SNP_REPORT_SIZE + off + k.leaf_len + v.leaf_len + ask_len;
	ev = calloc(1, n);
	memcpy(ev, v.report, SNP_REPORT_SIZE);
	put_entry(ev + SNP_REPORT_SIZE, SNP_GUID_VCEK, (uint32_t)off, (uint32_t)k.leaf_len, false);
	memcpy(ev + SNP_REPORT_SIZE + off, vcek, k.leaf_len);
	off += k.leaf_len;
	put_entry(ev + SNP_REPORT_SIZE + 24, SNP_GUID_VLEK, (uint32_t)off, (uint32_t)v.leaf_len, false);
	memcpy(ev + SNP_REPORT_SIZE + off, vlek, v.leaf_len);
	off += v.leaf_len;
	put_entry(ev + SNP_REPORT_SIZE + 48, SNP_GUID_ASK, (uint32_t)off, (uint32_t)ask_len, false);
	memcpy(ev + SNP_REPORT_SIZE + off, ask, ask_len);
	memset(&in, 0, sizeof(in));
	in.evidence = ev, in.evidence_len = n;
	attest_err_clear(&err);
	assert_int_equal(snp_verify(&v.ctx, &in, cs, &err), ATTEST_OK);
	assert_string_equal(json_string_value(claim_set_get(cs, "x-ms-sevsnpvm-signing-key")), "vlek");
	claim_set_free(cs);
	free(ev);
	case_free(&k);
	case_free(&v);
}

/* ---- Refused: report structure ---------------------------------------------- */

struct report_mutation {
	const char *what;
	size_t off;
	uint8_t value; /* OR-ed in (or the byte set, for version) */
	const char *name;
};

static void structural_rules_are_enforced_field_by_field(void **state)
{
	static const struct report_mutation M[] = {
	    {"version 6", SNP_OFF_VERSION, 6, "snp.report.version"},
	    {"version 1", SNP_OFF_VERSION, 1, "snp.report.version"},
	    {"algorithm 2", SNP_OFF_SIGNATURE_ALGO, 2, "snp.report.sig_algo"},
	    {"VMPL 4", SNP_OFF_VMPL, 4, "snp.report.vmpl"},
	    {"signing key 7", SNP_OFF_SIGNER_INFO, 7 << 2, "snp.report.unsigned"},
	    {"signing key 3", SNP_OFF_SIGNER_INFO, 3 << 2, "snp.report.signing_key"},
	    {"MASK_CHIP_KEY", SNP_OFF_SIGNER_INFO, 2, "snp.report.unsigned"},
	    {"signer info bit 5", SNP_OFF_SIGNER_INFO, 0x20, "snp.report.reserved"},
	    {"reserved 0x4C", SNP_OFF_RESERVED0 + 2, 1, "snp.report.reserved"},
	    {"policy bit 26", SNP_OFF_POLICY + 3, 0x04, "snp.report.policy"},
	    {"policy bit 63", SNP_OFF_POLICY + 7, 0x80, "snp.report.policy"},
	    {"platform info bit 6", SNP_OFF_PLATFORM_INFO, 0x40, "snp.report.platform_info"},
	    {"platform info bit 8", SNP_OFF_PLATFORM_INFO + 1, 0x01, "snp.report.platform_info"},
	    {"reserved after CPUID", SNP_OFF_RESERVED1 + 20, 1, "snp.report.reserved"},
	    {"current version reserved", SNP_OFF_CURRENT_VERSION + 3, 1, "snp.report.reserved"},
	    {"committed version reserved", SNP_OFF_COMMITTED_VERSION + 3, 1, "snp.report.reserved"},
	    {"reserved after MIT", SNP_OFF_RESERVED2 + 100, 1, "snp.report.reserved"},
	    {"signature tail", SNP_OFF_SIG_RESERVED + 7, 1, "snp.report.reserved"},
	    {"r high bytes", SNP_OFF_SIG_R + 60, 1, "snp.report.reserved"},
	    {"s high bytes", SNP_OFF_SIG_S + 71, 1, "snp.report.reserved"},
	    {"reserved TCB byte", SNP_OFF_REPORTED_TCB + 3, 1, "snp.report.tcb_reserved"},
	    {"reserved current TCB byte", SNP_OFF_CURRENT_TCB + 4, 1, "snp.report.tcb_reserved"},
	};

	for (size_t i = 0; i < sizeof(M) / sizeof(M[0]); i++) {
		struct attest_err err;
		struct case_ c;

		case_default(&c, F.milan, false);
		if (M[i].off == SNP_OFF_VERSION)
			c.report[M[i].off] = M[i].value;
		else
			c.report[M[i].off] |= M[i].value;
		if (M[i].off < SNP_SIGNED_SIZE && strcmp(M[i].name, "snp.report.tcb_reserved") == 0)
			assert_int_equal(snp_plat_report_sign(c.report, c.leaf.key, NULL), 0);
		attest_err_clear(&err);
		assert_int_not_equal(verify(&c, NULL, &err), ATTEST_OK);
		if (strcmp(err.name, M[i].name) != 0)
			fail_msg("%s: got %s (%s), want %s", M[i].what, err.name, err.msg, M[i].name);
		case_free(&c);
	}
}

static void policy_bit_17_clear_is_refused(void **state)
{
	struct case_ c;

	case_default(&c, F.milan, false);
	c.report[SNP_OFF_POLICY + 2] &= (uint8_t)~0x02;
	expect_refusal(&c, ATTEST_E_PARSE, "snp.report.policy");
	case_free(&c);
}

static void version_dependent_fields_must_be_zero_before_their_version(void **state)
{
	struct case_ c;

	case_default(&c, F.milan, false);
	c.r.version = 2, c.r.has_cpuid = false, c.r.has_mit_vectors = false;
	c.r.launch_mit_vector = c.r.current_mit_vector = 0; /* CPUID still set */
	case_sign(&c);
	expect_refusal(&c, ATTEST_E_PARSE, "snp.report.reserved");
	c.r.cpuid_fam_id = c.r.cpuid_mod_id = c.r.cpuid_step = 0;
	c.r.version = 3, c.r.has_cpuid = true;
	c.r.cpuid_fam_id = 0x19, c.r.cpuid_mod_id = 1;
	c.r.launch_mit_vector = 1; /* a MIT vector before version 5 */
	case_sign(&c);
	expect_refusal(&c, ATTEST_E_PARSE, "snp.report.reserved");
	case_free(&c);
}

static void truncated_and_overlong_reports_are_refused(void **state)
{
	struct attest_err err;
	struct case_ c;
	uint8_t longer[SNP_REPORT_SIZE + 1] = {0};

	case_default(&c, F.milan, false);
	attest_err_clear(&err);
	assert_int_equal(snp_verify_report(&c.ctx, NULL, c.report, SNP_REPORT_SIZE - 1, &c.certs, NULL, &err),
			 ATTEST_E_PARSE);
	assert_string_equal(err.name, "snp.report.truncated");
	memcpy(longer, c.report, SNP_REPORT_SIZE);
	attest_err_clear(&err);
	assert_int_equal(snp_verify_report(&c.ctx, NULL, longer, sizeof(longer), &c.certs, NULL, &err),
			 ATTEST_E_PARSE);
	assert_string_equal(err.name, "snp.report.trailing");
	case_free(&c);
}

static void debug_and_migration_policy_bits_become_claims(void **state)
{
	struct claim_set *cs = claim_set_new();
	struct snp_result res;
	struct attest_err err;
	struct case_ c;

	case_default(&c, F.milan, false);
	c.r.policy |= SNP_POLICY_DEBUG | SNP_POLICY_MIGRATE_MA | SNP_POLICY_SINGLE_SOCKET | 0x0102;
	c.r.policy &= ~SNP_POLICY_SMT;
	case_sign(&c);
	assert_int_equal(verify(&c, &res, &err), ATTEST_OK);
	assert_int_equal(snp_claims_add(&res, cs, NULL), ATTEST_OK);
	assert_true(json_is_true(claim_set_get(cs, "x-ms-sevsnpvm-is-debuggable")));
	assert_true(json_is_true(claim_set_get(cs, "x-ms-sevsnpvm-migration-allowed")));
	assert_true(json_is_false(claim_set_get(cs, "x-ms-sevsnpvm-smt-allowed")));
	assert_true(json_is_true(claim_set_get(cs, "x-ms-sevsnpvm-single-socket")));
	assert_int_equal(json_integer_value(claim_set_get(cs, "x-ms-sevsnpvm-abi-major")), 1);
	assert_int_equal(json_integer_value(claim_set_get(cs, "x-ms-sevsnpvm-abi-minor")), 2);
	claim_set_free(cs);
	case_free(&c);
}

static void min_tcb_claims_take_the_lowest_of_the_four_tcbs(void **state)
{
	struct claim_set *cs = claim_set_new();
	struct snp_result res;
	struct attest_err err;
	struct case_ c;

	case_default(&c, F.milan, false);
	c.r.launch_tcb[7] = 0x40; /* launched on older microcode */
	c.r.committed_tcb[6] = 7; /* committed SNP firmware older */
	c.r.current_tcb[0] = 4;	  /* current bootloader newer */
	case_sign(&c);
	assert_int_equal(verify(&c, &res, &err), ATTEST_OK);
	assert_int_equal(snp_claims_add(&res, cs, NULL), ATTEST_OK);
	assert_int_equal(json_integer_value(claim_set_get(cs, "x-ms-sevsnpvm-min-microcode-svn")), 0x40);
	assert_int_equal(json_integer_value(claim_set_get(cs, "x-ms-sevsnpvm-min-snpfw-svn")), 7);
	assert_int_equal(json_integer_value(claim_set_get(cs, "x-ms-sevsnpvm-min-bootloader-svn")), 3);
	assert_int_equal(json_integer_value(claim_set_get(cs, "x-ms-sevsnpvm-current-bootloader-svn")), 4);
	assert_int_equal(json_integer_value(claim_set_get(cs, "x-ms-sevsnpvm-launch-microcode-svn")), 0x40);
	assert_string_equal(json_string_value(claim_set_get(cs, "x-ms-sevsnpvm-launch-tcb")),
			    "0300000000000840");
	claim_set_free(cs);
	case_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(synthetic_milan_vcek_report_verifies),
	    cmocka_unit_test(synthetic_genoa_report_verifies_on_the_genoa_chain),
	    cmocka_unit_test(turin_tcb_layout_and_fmc_spl_are_checked),
	    cmocka_unit_test(turin_vcek_with_eight_byte_hwid_matches_chip_id_prefix),
	    cmocka_unit_test(vlek_report_verifies_through_the_asvk),
	    cmocka_unit_test(every_known_report_version_verifies),
	    cmocka_unit_test(crl_that_does_not_list_the_ask_is_applied),
	    cmocka_unit_test(crl_revoking_the_ask_is_refused),
	    cmocka_unit_test(crl_revoking_the_asvk_refuses_vlek_reports),
	    cmocka_unit_test(expired_crl_is_refused),
	    cmocka_unit_test(crl_of_another_ark_is_refused),
	    cmocka_unit_test(vlek_report_with_a_vcek_is_refused),
	    cmocka_unit_test(vcek_report_with_a_vlek_is_refused),
	    cmocka_unit_test(vlek_with_hwid_or_vcek_with_csp_id_is_refused),
	    cmocka_unit_test(vcek_without_hwid_is_refused),
	    cmocka_unit_test(vcek_without_ucode_spl_is_refused),
	    cmocka_unit_test(vcek_of_another_tcb_is_refused_for_each_component),
	    cmocka_unit_test(vcek_of_another_chip_is_refused),
	    cmocka_unit_test(leaf_signed_by_the_ark_directly_is_refused),
	    cmocka_unit_test(p256_leaf_key_is_refused),
	    cmocka_unit_test(leaf_signed_with_pss_sha256_is_refused),
	    cmocka_unit_test(synthetic_chain_is_refused_against_the_builtin_arks),
	    cmocka_unit_test(synthetic_ark_listed_after_the_builtin_one_of_the_same_name_chains),
	    cmocka_unit_test(supplied_ark_that_is_not_an_anchor_is_refused),
	    cmocka_unit_test(genoa_report_against_milan_chain_is_refused),
	    cmocka_unit_test(expired_vcek_is_refused),
	    cmocka_unit_test(report_signed_by_another_key_is_refused),
	    cmocka_unit_test(cached_chain_expires_with_its_crl),
	    cmocka_unit_test(crl_and_chain_are_found_through_the_collateral_source),
	    cmocka_unit_test(cert_table_reads_both_guid_byte_orders_and_skips_unknown_guids),
	    cmocka_unit_test(cert_table_errors_are_named),
	    cmocka_unit_test(cert_table_with_too_many_entries_is_refused),
	    cmocka_unit_test(vlek_report_takes_the_vlek_from_a_table_holding_both),
	    cmocka_unit_test(vcek_extension_encodings_are_checked),
	    cmocka_unit_test(weak_or_sha256_ca_is_refused),
	    cmocka_unit_test(chain_with_a_repeated_or_foreign_certificate_is_refused),
	    cmocka_unit_test(v2_report_with_a_leaf_of_an_unknown_product_is_refused),
	    cmocka_unit_test(json_data_that_binds_but_does_not_parse_is_refused),
	    cmocka_unit_test(amd_file_source_errors_are_named),
	    cmocka_unit_test(structural_rules_are_enforced_field_by_field),
	    cmocka_unit_test(policy_bit_17_clear_is_refused),
	    cmocka_unit_test(version_dependent_fields_must_be_zero_before_their_version),
	    cmocka_unit_test(truncated_and_overlong_reports_are_refused),
	    cmocka_unit_test(debug_and_migration_policy_bits_become_claims),
	    cmocka_unit_test(min_tcb_claims_take_the_lowest_of_the_four_tcbs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
