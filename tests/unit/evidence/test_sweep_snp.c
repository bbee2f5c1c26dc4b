/*
 * Sweep suite, AMD SEV-SNP and the Azure CVM envelopes (issue 13; STYLE.md
 * habit 9):
 * - every real SNP vector: every bit of the report and every cut of it;
 *   one bit of every byte of its VCEK and of the ASK and ARK (DER, each
 *   distinct certificate once); every cut of the extended report (report ||
 *   GHCB certificate table) and one bit of every byte of its table;
 * - the real Azure CVM HCL reports (SNP and TDX): every bit of the runtime
 *   JSON and of REPORT_DATA breaks the binding (their hardware signatures
 *   cannot be checked offline: EXPECTED.md);
 * - synthetic (development platform): every bit of an HCL report after its
 *   unmeasured header, and one bit of every byte of a SevSnpVm envelope.
 * Counts go to the suite's table and JSON report (tests/common/sweep.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "sweep.h"

#include "base/codec.h"
#include "crypto/crypto.h"
#include "devplat/snp_plat.h"
#include "evidence/amd_certs.h"
#include "evidence/azure_cvm.h"
#include "evidence/snp.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static const char *const SNP_DIRS[] = {
    "snp/gsg-milan-v2-2022-09",
    "snp/teekit-gcp-milan-v5-reportdata-2025-12",
    "snp/teekit-gcp-milan-v5-x25519-2025-12",
};

struct real {
	uint8_t *report;
	size_t report_len;
	uint8_t *vcek, *ask, *ark; /* DER */
	size_t vcek_len, ask_len, ark_len;
	int64_t now;
};

static int64_t bundle_now(const char *dir, const char *vec)
{
	char path[2048];
	json_t *doc;
	int64_t now;

	snprintf(path, sizeof(path), "%.1000s/%.1000s/bundle.json", dir, vec);
	doc = json_load_file(path, 0, NULL);
	assert_non_null(doc);
	now = json_integer_value(json_object_get(doc, "now_unix"));
	json_decref(doc);
	assert_true(now > 0);
	return now;
}

static void real_load(const char *dir, const char *vec, struct real *r)
{
	STACK_OF(X509) *sk = NULL;
	struct amd_chain ch;
	X509 *leaf = NULL;
	char rel[512];
	uint8_t *p;
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	snprintf(rel, sizeof(rel), "%s/report.bin", vec);
	r->report = test_read_vector(dir, rel, &r->report_len);
	assert_non_null(r->report);
	snprintf(rel, sizeof(rel), "%s/vcek.pem", vec);
	if ((p = test_read_vector(dir, rel, &n)) == NULL) {
		snprintf(rel, sizeof(rel), "%s/vcek.der", vec);
		p = test_read_vector(dir, rel, &n);
	}
	assert_non_null(p);
	assert_int_equal(amd_cert_load(p, n, &leaf, "t", NULL), 0);
	free(p);
	snprintf(rel, sizeof(rel), "%s/ask_ark_milan.pem", vec);
	assert_non_null(p = test_read_vector(dir, rel, &n));
	assert_int_equal(x509_stack_from_pem(p, n, &sk, "t", NULL), 0);
	assert_int_equal(amd_chain_classify(sk, &ch, NULL), 0);
	r->vcek = snp_plat_der(leaf, &r->vcek_len);
	r->ask = snp_plat_der(ch.ask, &r->ask_len);
	r->ark = snp_plat_der(ch.ark, &r->ark_len);
	r->now = bundle_now(dir, vec);
	X509_free(leaf);
	sk_X509_pop_free(sk, X509_free);
	free(p);
}

static void real_free(struct real *r)
{
	free(r->report);
	free(r->vcek);
	free(r->ask);
	free(r->ark);
}

/* What one SNP verification needs; `which` says which buffer the engine mutates. */
struct snp_sweep {
	struct real *r;
	struct evidence_ctx ctx;
	struct snp_opts opts;
	enum { MUT_REPORT, MUT_VCEK, MUT_ASK, MUT_ARK, MUT_EXTENDED } which;
};

static int snp_sweep_verify(void *arg, const uint8_t *p, size_t n)
{
	struct snp_sweep *s = arg;
	struct snp_certs c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.leaf = s->which == MUT_VCEK ? p : s->r->vcek,
	c.leaf_len = s->which == MUT_VCEK ? n : s->r->vcek_len;
	c.ask = s->which == MUT_ASK ? p : s->r->ask, c.ask_len = s->which == MUT_ASK ? n : s->r->ask_len;
	c.ark = s->which == MUT_ARK ? p : s->r->ark, c.ark_len = s->which == MUT_ARK ? n : s->r->ark_len;
	if (s->which == MUT_EXTENDED) {
		struct evidence_input in = {.evidence = p, .evidence_len = n};
		struct claim_set *cs = claim_set_new();

		rc = snp_verify_ex(&s->ctx, &s->opts, &in, cs, NULL);
		if (rc != ATTEST_OK && claim_set_count(cs) != 0)
			rc = ATTEST_OK; /* a refusal that still added claims counts as accepted */
		claim_set_free(cs);
		return rc == ATTEST_OK;
	}
	if (s->which == MUT_REPORT)
		return snp_verify_report(&s->ctx, &s->opts, p, n, &c, NULL, NULL) == ATTEST_OK;
	return snp_verify_report(&s->ctx, &s->opts, s->r->report, s->r->report_len, &c, NULL, NULL) ==
	       ATTEST_OK;
}

/* True when the built-in certificate of this role is the DER given. */
static bool builtin_is(enum amd_cert_role role, const uint8_t *der, size_t len)
{
	X509 *x = NULL;
	uint8_t *mine;
	size_t n = 0;
	bool same;

	if (amd_builtin_cert(AMD_PRODUCT_MILAN, role, &x, NULL) != ATTEST_OK)
		return false;
	mine = snp_plat_der(x, &n);
	same = mine != NULL && n == len && memcmp(mine, der, n) == 0;
	free(mine);
	X509_free(x);
	return same;
}

/*
 * Same content: the extended report cut right after the report (a plain
 * report); a flip in the GUID of the ASK or ARK entry of the table, which
 * makes the entry unknown and ignored, so the verifier takes its built-in
 * certificate of that role, proven here to be the very same DER.
 */
static bool snp_sweep_same(void *arg, const uint8_t *p, size_t n, size_t at, bool cut)
{
	struct snp_sweep *s = arg;
	size_t entry = (at - SNP_REPORT_SIZE) / 24, in_entry = (at - SNP_REPORT_SIZE) % 24;

	(void)p;
	(void)n;
	if (cut)
		return at == SNP_REPORT_SIZE;
	if (s->which != MUT_EXTENDED || at < SNP_REPORT_SIZE || in_entry >= 16)
		return false;
	return (entry == 1 && builtin_is(AMD_ROLE_ASK, s->r->ask, s->r->ask_len)) ||
	       (entry == 2 && builtin_is(AMD_ROLE_ARK, s->r->ark, s->r->ark_len));
}

/* report || GHCB table {VCEK, ASK, ARK} (GHCB spec §4.1.8.1). */
static uint8_t *extended(const struct real *r, size_t *len)
{
	const uint8_t *guid[3] = {SNP_GUID_VCEK, SNP_GUID_ASK, SNP_GUID_ARK};
	const uint8_t *der[3] = {r->vcek, r->ask, r->ark};
	size_t dl[3] = {r->vcek_len, r->ask_len, r->ark_len};
	size_t off = 4 * 24;
	uint8_t *out, *t;

	*len = SNP_REPORT_SIZE + off + dl[0] + dl[1] + dl[2];
	out = calloc(1, *len);
	memcpy(out, r->report, SNP_REPORT_SIZE);
	t = out + SNP_REPORT_SIZE;
	for (int i = 0; i < 3; i++) {
		memcpy(t + 24 * i, guid[i], 16);
		for (int k = 0; k < 4; k++) {
			t[24 * i + 16 + k] = (uint8_t)(off >> (8 * k));
			t[24 * i + 20 + k] = (uint8_t)(dl[i] >> (8 * k));
		}
		memcpy(t + off, der[i], dl[i]);
		off += dl[i];
	}
	return out;
}

static bool seen_before(uint8_t (*seen)[32], size_t *n, const uint8_t *p, size_t len)
{
	uint8_t h[32];

	EVP_Digest(p, len, h, NULL, EVP_sha256(), NULL);
	for (size_t i = 0; i < *n; i++)
		if (memcmp(seen[i], h, 32) == 0)
			return true;
	memcpy(seen[(*n)++], h, 32);
	return false;
}

static void run_one(struct snp_sweep *s, const char *vec, const char *part, int which, uint8_t *buf,
		    size_t len, size_t to, enum sweep_mode mode, bool cuts)
{
	struct sweep_target t = {.vector = vec,
				 .part = part,
				 .buf = buf,
				 .len = len,
				 .to = to,
				 .mode = mode,
				 .cuts = cuts,
				 .verify = snp_sweep_verify,
				 .same = snp_sweep_same,
				 .arg = s};

	s->which = which;
	sweep_run(&t);
}

static void every_mutation_of_each_real_snp_vector_is_refused(void **state)
{
	uint8_t seen[16][32];
	size_t n_seen = 0;

	REQUIRE_VECTORS(dir);
	for (size_t i = 0; i < sizeof(SNP_DIRS) / sizeof(SNP_DIRS[0]); i++) {
		struct snp_chain_cache *cache = snp_chain_cache_new(4);
		struct snp_sweep s;
		struct real r;
		uint8_t *ext;
		size_t ext_len;

		real_load(dir, SNP_DIRS[i], &r);
		memset(&s, 0, sizeof(s));
		s.r = &r;
		s.ctx.now = r.now;
		s.opts.cache = cache;
		s.which = MUT_REPORT;
		if (!snp_sweep_verify(&s, r.report, r.report_len))
			fail_msg("%s: the unaltered report does not verify", SNP_DIRS[i]);
		/* the report: its chain is cached after the first call, each flip costs the report's checks
		 */
		run_one(&s, SNP_DIRS[i], "report.bin", MUT_REPORT, r.report, r.report_len, 0, SWEEP_BITS,
			true);
		/* the certificates: no cache, a mutant chain is verified in full */
		s.opts.cache = NULL;
		if (!seen_before(seen, &n_seen, r.vcek, r.vcek_len))
			run_one(&s, SNP_DIRS[i], "VCEK (DER)", MUT_VCEK, r.vcek, r.vcek_len, 0, SWEEP_BYTES,
				true);
		if (!seen_before(seen, &n_seen, r.ask, r.ask_len))
			run_one(&s, SNP_DIRS[i], "ASK (DER)", MUT_ASK, r.ask, r.ask_len, 0, SWEEP_BYTES,
				true);
		if (!seen_before(seen, &n_seen, r.ark, r.ark_len))
			run_one(&s, SNP_DIRS[i], "ARK (DER, supplied)", MUT_ARK, r.ark, r.ark_len, 0,
				SWEEP_BYTES, true);
		/* the extended report: every cut, and one bit of every byte of the certificate table */
		ext = extended(&r, &ext_len);
		s.opts.cache = cache;
		{
			struct sweep_target t = {.vector = SNP_DIRS[i],
						 .part = "extended report",
						 .buf = ext,
						 .len = ext_len,
						 .from = SNP_REPORT_SIZE,
						 .mode = SWEEP_BYTES,
						 .cuts = true,
						 .verify = snp_sweep_verify,
						 .same = snp_sweep_same,
						 .arg = &s};

			s.which = MUT_EXTENDED;
			if (!snp_sweep_verify(&s, ext, ext_len))
				fail_msg("%s: the unaltered extended report does not verify", SNP_DIRS[i]);
			sweep_run(&t);
		}
		free(ext);
		snp_chain_cache_free(cache);
		real_free(&r);
	}
}

/* HCL binding only (the hardware signatures of these reports cannot be checked offline). */
static int hcl_bind_verify(void *arg, const uint8_t *p, size_t n)
{
	struct hcl_report h;

	(void)arg;
	return hcl_report_parse(p, n, &h, NULL) == ATTEST_OK && hcl_report_bind(&h, NULL) == ATTEST_OK;
}

static void every_bit_of_the_bound_data_of_real_hcl_reports_breaks_the_binding(void **state)
{
	static const char *const files[] = {"azure-cvm/hcl-report-snp.bin", "azure-cvm/hcl-report-tdx.bin"};

	REQUIRE_VECTORS(dir);
	for (size_t i = 0; i < 2; i++) {
		struct hcl_report h;
		size_t n = 0, rd, var;
		uint8_t *p = test_read_vector(dir, files[i], &n);
		char part[64];

		assert_non_null(p);
		assert_int_equal(hcl_report_parse(p, n, &h, NULL), ATTEST_OK);
		assert_int_equal(hcl_report_bind(&h, NULL), ATTEST_OK);
		rd = HCL_OFF_HW_REPORT +
		     (h.report_type == HCL_REPORT_SNP ? SNP_OFF_REPORT_DATA : HCL_TDREPORT_OFF_REPORTDATA);
		var = (size_t)(h.var_data - p);
		{
			struct sweep_target t = {.vector = "azure-cvm",
						 .part = part,
						 .buf = p,
						 .len = n,
						 .from = rd,
						 .to = rd + 64,
						 .mode = SWEEP_BITS,
						 .verify = hcl_bind_verify};

			snprintf(part, sizeof(part), "%s REPORT_DATA", i == 0 ? "HCL SNP" : "HCL TDX");
			sweep_run(&t);
			snprintf(part, sizeof(part), "%s runtime JSON", i == 0 ? "HCL SNP" : "HCL TDX");
			t.from = var;
			t.to = var + h.var_len;
			sweep_run(&t);
		}
		free(p);
	}
}

/* A synthetic Milan platform, its VCEK, a report of the chip, and the ARK as the only anchor. */
struct synth {
	struct snp_plat *plat;
	struct snp_plat_leaf leaf;
	struct snp_report r;
	struct evidence_anchors anchors;
	struct evidence_ctx ctx;
	struct snp_chain_cache *cache;
	struct snp_opts so;
	uint8_t *vcek, *ask;
	size_t vcek_len, ask_len;
};

static void synth_new(struct synth *s)
{
	static const uint8_t tcb[8] = {3, 0, 0, 0, 0, 0, 8, 0x73};
	static uint8_t chip[64];
	struct snp_plat_opts o = {.product = AMD_PRODUCT_MILAN,
				  .not_before = 1600000000,
				  .not_after = 2000000000,
				  .key_dir = getenv("ATTEST_BINARY_DIR")};
	struct snp_plat_leaf_spec spec = {.chip_id = chip, .tcb = tcb};

	memset(s, 0, sizeof(*s));
	memset(chip, 0x11, sizeof(chip));
	assert_int_equal(snp_plat_new(&o, &s->plat, NULL), 0);
	assert_int_equal(snp_plat_issue(s->plat, &spec, &s->leaf, NULL), 0);
	s->anchors.amd_arks = sk_X509_new_null();
	sk_X509_push(s->anchors.amd_arks, snp_plat_ark(s->plat));
	s->ctx.now = 1700000000;
	s->ctx.anchors = &s->anchors;
	s->cache = snp_chain_cache_new(2);
	s->so.cache = s->cache;
	snp_plat_report_defaults(s->plat, chip, tcb, false, &s->r);
	s->vcek = snp_plat_der(s->leaf.cert, &s->vcek_len);
	s->ask = snp_plat_der(snp_plat_ask(s->plat), &s->ask_len);
}

static void synth_free(struct synth *s)
{
	free(s->vcek);
	free(s->ask);
	sk_X509_free(s->anchors.amd_arks);
	snp_plat_leaf_free(&s->leaf);
	snp_plat_free(s->plat);
	snp_chain_cache_free(s->cache);
}

static int synth_hcl_verify(void *arg, const uint8_t *p, size_t n)
{
	struct synth *s = arg;
	struct snp_certs c;

	memset(&c, 0, sizeof(c));
	c.leaf = s->vcek, c.leaf_len = s->vcek_len;
	c.ask = s->ask, c.ask_len = s->ask_len;
	return azure_cvm_snp_verify(&s->ctx, &s->so, p, n, &c, NULL, NULL, NULL, NULL) == ATTEST_OK;
}

static void every_mutation_of_a_synthetic_hcl_report_is_refused(void **state)
{
	char runtime[] = "{\"keys\":[],\"vm-configuration\":{\"secure-boot\":true}}";
	struct synth s;
	uint8_t *hcl;
	size_t n;

	synth_new(&s);
	assert_int_equal(snp_plat_hcl_report(&s.r, s.leaf.key, runtime, &hcl, &n, NULL), 0);
	assert_true(synth_hcl_verify(&s, hcl, n));
	{
		/* the hardware report (signed) and the runtime JSON (bound): all after the unmeasured header
		 */
		struct sweep_target t = {.vector = "synthetic/azure-cvm-snp",
					 .part = "HCL report",
					 .buf = hcl,
					 .len = n,
					 .from = HCL_OFF_HW_REPORT,
					 .mode = SWEEP_BITS,
					 .cuts = true,
					 .verify = synth_hcl_verify,
					 .arg = &s};

		sweep_run(&t);
	}
	free(hcl);
	synth_free(&s);
}

/* SevSnpVm: same content when the envelope decodes to the same report and chain (base64 padding bits). */
struct envelope_sweep {
	struct synth *s;
	struct sevsnpvm_envelope orig;
};

static int envelope_verify(void *arg, const uint8_t *p, size_t n)
{
	struct envelope_sweep *e = arg;
	struct evidence_input in = {.evidence = p, .evidence_len = n};
	struct claim_set *cs = claim_set_new();
	int rc = sevsnpvm_verify_ex(&e->s->ctx, &e->s->so, &in, cs, NULL);

	if (rc != ATTEST_OK && claim_set_count(cs) != 0)
		rc = ATTEST_OK;
	claim_set_free(cs);
	return rc == ATTEST_OK;
}

static bool envelope_same(void *arg, const uint8_t *p, size_t n, size_t at, bool cut)
{
	struct envelope_sweep *e = arg;
	struct sevsnpvm_envelope m;
	bool same;

	(void)at;
	(void)cut;
	memset(&m, 0, sizeof(m));
	if (sevsnpvm_envelope_parse(p, n, &m, NULL) != ATTEST_OK)
		return false;
	same = m.report_len == e->orig.report_len && memcmp(m.report, e->orig.report, m.report_len) == 0 &&
	       m.chain != NULL &&
	       sweep_pem_same_certs(e->orig.chain, e->orig.chain_len, m.chain, m.chain_len) &&
	       m.endorsements == NULL;
	sevsnpvm_envelope_free(&m);
	return same;
}

static void every_byte_of_a_synthetic_sevsnpvm_envelope_is_covered(void **state)
{
	struct synth s;
	struct envelope_sweep e = {.s = &s};
	uint8_t report[SNP_REPORT_SIZE];
	char *pem_vcek, *pem_ask, *chain, *b_rep, *b_chain, *text;
	json_t *doc;
	size_t n;

	synth_new(&s);
	snp_plat_report_encode(&s.r, report);
	assert_int_equal(snp_plat_report_sign(report, s.leaf.key, NULL), 0);
	pem_vcek = snp_plat_pem(s.leaf.cert);
	pem_ask = snp_plat_pem(snp_plat_ask(s.plat));
	chain = malloc(strlen(pem_vcek) + strlen(pem_ask) + 1);
	strcpy(chain, pem_vcek);
	strcat(chain, pem_ask);
	b_rep = b64url_encode(report, sizeof(report));
	b_chain = b64url_encode((const uint8_t *)chain, strlen(chain));
	doc = json_pack("{s:s, s:s}", "SnpReport", b_rep, "VcekCertChain", b_chain);
	text = json_dumps(doc, JSON_COMPACT);
	n = strlen(text);
	assert_int_equal(sevsnpvm_envelope_parse((const uint8_t *)text, n, &e.orig, NULL), ATTEST_OK);
	if (!envelope_verify(&e, (const uint8_t *)text, n))
		fail_msg("the unaltered SevSnpVm envelope does not verify");
	{
		struct sweep_target t = {.vector = "synthetic/azure-cvm-snp",
					 .part = "SevSnpVm envelope",
					 .buf = (uint8_t *)text,
					 .len = n,
					 .mode = SWEEP_BYTES,
					 .cuts = true,
					 .verify = envelope_verify,
					 .same = envelope_same,
					 .arg = &e};

		sweep_run(&t);
	}
	sevsnpvm_envelope_free(&e.orig);
	free(text);
	json_decref(doc);
	free(b_rep);
	free(b_chain);
	free(chain);
	free(pem_vcek);
	free(pem_ask);
	synth_free(&s);
}

static void no_mutation_was_accepted(void **state)
{
	assert_int_equal(sweep_finish("snp"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_mutation_of_each_real_snp_vector_is_refused),
	    cmocka_unit_test(every_bit_of_the_bound_data_of_real_hcl_reports_breaks_the_binding),
	    cmocka_unit_test(every_mutation_of_a_synthetic_hcl_report_is_refused),
	    cmocka_unit_test(every_byte_of_a_synthetic_sevsnpvm_envelope_is_covered),
	    cmocka_unit_test(no_mutation_was_accepted), /* prints the table, writes the report */
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
