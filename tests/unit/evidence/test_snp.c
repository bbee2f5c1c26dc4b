/*
 * SEV-SNP verification on the real reports of shared/vectors/snp
 * (src/evidence/snp*.c, amd_certs.c): each verifies at its fixed time with
 * the fields EXPECTED.md lists; the cache, the certificate table, the
 * collateral folder and the runtime/init-time bindings behave as snp.h
 * says; and a Genoa report or a foreign VCEK is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "base/codec.h"
#include "base/cur.h"
#include "claims/claims.h"
#include "collateral/amd_collateral.h"
#include "crypto/crypto.h"
#include "evidence/amd_certs.h"
#include "evidence/snp.h"

#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct vec {
	const char *dir;
	const char *vcek; /* file name of the VCEK */
	int64_t now;
	uint32_t version;
	uint64_t policy;
	bool debug;
	uint32_t vmpl;
	const char *tcb; /* all four TCBs are equal in these vectors */
	unsigned bl, tee, snp, ucode;
	uint64_t platform_info;
	const char *measurement, *report_data, *chip_id;
};

static const struct vec VECS[] = {
    {"snp/gsg-milan-v2-2022-09", "vcek.der", 1700000000, 2, 0xb0000, true, 0, "0200000000000544", 2, 0, 5, 68,
     0x1, "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01",
     "0102030405000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "0000000000000000000000000",
     "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce4"
     "0c05f63c9b610c5068b006b5d"},
    {"snp/teekit-gcp-milan-v5-reportdata-2025-12", "vcek.pem", 1767225600, 5, 0x30000, false, 1,
     "0400000000001bde", 4, 0, 27, 222, 0x25,
     "b747d55452e0b9e9079770a49e397c5e6d9573581e246da7baac4f28b5cdc5b1b6d19251b8ee600fd16a3708f58406f3",
     "32fc4f6c1971cbf91566231f8d6153eeb9d093aa94306cb48d39bcc4861a3d395f149876a37bc91332fe493f46294fd135d5b95"
     "d363ae96352b8c45f906079f5",
     "980cf7b61876cb37fd517cd44ce11c72d43c5408e66ab39138370ec59bc195e063254cb501d87d82f0b8b8dc774bcfe28019447"
     "711598f007390e4accc405361"},
    {"snp/teekit-gcp-milan-v5-x25519-2025-12", "vcek.pem", 1767225600, 5, 0x30000, false, 1,
     "0400000000001bde", 4, 0, 27, 222, 0x25,
     "b747d55452e0b9e9079770a49e397c5e6d9573581e246da7baac4f28b5cdc5b1b6d19251b8ee600fd16a3708f58406f3",
     "3a6753fd4b194de53824d7fd5b45e251cc19a32a71dd5ba3e131fe19f2adbe86d658c147479571226e0f294eb7e44abb6c1673f"
     "39a5378ac25cd5d6268b91f1a",
     "980cf7b61876cb37fd517cd44ce11c72d43c5408e66ab39138370ec59bc195e063254cb501d87d82f0b8b8dc774bcfe28019447"
     "711598f007390e4accc405361"},
};
#define NVECS (sizeof(VECS) / sizeof(VECS[0]))

struct loaded {
	uint8_t *report, *vcek, *chain;
	size_t report_len, vcek_len, chain_len;
};

static void load(const char *dir, const struct vec *v, struct loaded *l)
{
	char rel[512];

	snprintf(rel, sizeof(rel), "%s/report.bin", v->dir);
	l->report = test_read_vector(dir, rel, &l->report_len);
	snprintf(rel, sizeof(rel), "%s/%s", v->dir, v->vcek);
	l->vcek = test_read_vector(dir, rel, &l->vcek_len);
	snprintf(rel, sizeof(rel), "%s/ask_ark_milan.pem", v->dir);
	l->chain = test_read_vector(dir, rel, &l->chain_len);
	assert_non_null(l->report);
	assert_non_null(l->vcek);
	assert_non_null(l->chain);
}

static void unload(struct loaded *l)
{
	free(l->report);
	free(l->vcek);
	free(l->chain);
}

static struct snp_certs certs_of(const struct loaded *l)
{
	struct snp_certs c;

	memset(&c, 0, sizeof(c));
	c.leaf = l->vcek, c.leaf_len = l->vcek_len;
	c.chain = l->chain, c.chain_len = l->chain_len;
	return c;
}

static void assert_hex_claim(struct claim_set *cs, const char *name, const char *hex)
{
	const json_t *v = claim_set_get(cs, name);

	assert_non_null(v);
	assert_string_equal(json_string_value(v), hex);
}

static void assert_int_claim(struct claim_set *cs, const char *name, long long want)
{
	const json_t *v = claim_set_get(cs, name);

	assert_non_null(v);
	assert_true(json_is_integer(v));
	assert_int_equal(json_integer_value(v), want);
}

static void assert_bool_claim(struct claim_set *cs, const char *name, bool want)
{
	const json_t *v = claim_set_get(cs, name);

	assert_non_null(v);
	assert_true(json_is_boolean(v));
	assert_int_equal(json_is_true(v), want);
}

static void real_reports_verify_with_expected_fields(void **state)
{
	REQUIRE_VECTORS(dir);
	for (size_t i = 0; i < NVECS; i++) {
		const struct vec *v = &VECS[i];
		struct evidence_ctx ctx = {.now = v->now};
		struct snp_result res;
		struct attest_err err;
		struct loaded l;
		struct snp_certs c;
		struct claim_set *cs = claim_set_new();
		char hex[17];

		load(dir, v, &l);
		c = certs_of(&l);
		attest_err_clear(&err);
		assert_int_equal(snp_verify_report(&ctx, NULL, l.report, l.report_len, &c, &res, &err),
				 ATTEST_OK);
		assert_int_equal(res.report.version, v->version);
		assert_true(res.report.policy == v->policy);
		assert_int_equal(res.report.vmpl, v->vmpl);
		assert_int_equal(res.product, AMD_PRODUCT_MILAN);
		assert_false(res.vlek);
		assert_string_equal(res.product_name, "Milan-B0");
		hex_encode_to(res.reported.raw, 8, hex);
		assert_string_equal(hex, v->tcb);
		assert_int_equal(res.reported.bootloader, v->bl);
		assert_int_equal(res.reported.tee, v->tee);
		assert_int_equal(res.reported.snp, v->snp);
		assert_int_equal(res.reported.microcode, v->ucode);
		assert_true(res.report.platform_info == v->platform_info);

		assert_int_equal(snp_claims_add(&res, cs, &err), ATTEST_OK);
		assert_hex_claim(cs, "x-ms-attestation-type", "sevsnpvm");
		assert_hex_claim(cs, "x-ms-sevsnpvm-launchmeasurement", v->measurement);
		assert_hex_claim(cs, "x-ms-sevsnpvm-reportdata", v->report_data);
		assert_hex_claim(cs, "x-ms-sevsnpvm-chipid", v->chip_id);
		assert_hex_claim(cs, "x-ms-sevsnpvm-hostdata",
				 "0000000000000000000000000000000000000000000000000000000000000000");
		assert_hex_claim(cs, "x-ms-sevsnpvm-reported-tcb", v->tcb);
		assert_hex_claim(cs, "x-ms-sevsnpvm-current-tcb", v->tcb);
		assert_hex_claim(cs, "x-ms-sevsnpvm-committed-tcb", v->tcb);
		assert_hex_claim(cs, "x-ms-sevsnpvm-launch-tcb", v->tcb);
		assert_bool_claim(cs, "x-ms-sevsnpvm-is-debuggable", v->debug);
		assert_bool_claim(cs, "x-ms-sevsnpvm-smt-allowed", true);
		assert_bool_claim(cs, "x-ms-sevsnpvm-migration-allowed", false);
		assert_int_claim(cs, "x-ms-sevsnpvm-vmpl", v->vmpl);
		assert_int_claim(cs, "x-ms-sevsnpvm-guestsvn", 0);
		assert_int_claim(cs, "x-ms-sevsnpvm-bootloader-svn", v->bl);
		assert_int_claim(cs, "x-ms-sevsnpvm-tee-svn", v->tee);
		assert_int_claim(cs, "x-ms-sevsnpvm-snpfw-svn", v->snp);
		assert_int_claim(cs, "x-ms-sevsnpvm-microcode-svn", v->ucode);
		assert_int_claim(cs, "x-ms-sevsnpvm-min-microcode-svn", v->ucode);
		assert_int_claim(cs, "x-ms-sevsnpvm-policy", (long long)v->policy);
		assert_int_claim(cs, "x-ms-sevsnpvm-platform-info", (long long)v->platform_info);
		assert_int_claim(cs, "x-ms-sevsnpvm-report-version", v->version);
		claim_set_free(cs);
		unload(&l);
	}
}

static void debug_policy_bit_is_reported_only_where_set(void **state)
{
	REQUIRE_VECTORS(dir);
	for (size_t i = 0; i < NVECS; i++) {
		struct snp_report r;
		struct loaded l;

		load(dir, &VECS[i], &l);
		assert_int_equal(snp_report_parse(l.report, l.report_len, &r, NULL), ATTEST_OK);
		assert_int_equal((r.policy & SNP_POLICY_DEBUG) != 0, VECS[i].debug);
		unload(&l);
	}
}

static void v5_report_carries_cpuid_and_mitigation_vectors(void **state)
{
	struct snp_report r;
	struct loaded l;

	REQUIRE_VECTORS(dir);
	load(dir, &VECS[1], &l);
	assert_int_equal(snp_report_parse(l.report, l.report_len, &r, NULL), ATTEST_OK);
	assert_true(r.has_cpuid);
	assert_int_equal(r.cpuid_fam_id, 0x19);
	assert_int_equal(r.cpuid_mod_id, 0x01);
	assert_int_equal(r.cpuid_step, 1);
	assert_int_equal(snp_report_product(&r), AMD_PRODUCT_MILAN);
	assert_true(r.has_mit_vectors);
	assert_true(r.launch_mit_vector == 0xB && r.current_mit_vector == 0xB);
	assert_int_equal(r.current_major, 1);
	assert_int_equal(r.current_minor, 55);
	unload(&l);
}

static void x25519_binding_matches_report_data(void **state)
{
	static const char nonce_hex[] = "df82306ff38a9da023854af947d02a878cfab1b40a793823ff41dc51213b96aa";
	static const char key_hex[] = "03a8107030fabeac06b0df4ef865763918b5e2a9fa030e20025a4315dab4b2a6";
	uint8_t msg[64], h[64];
	struct snp_report r;
	struct loaded l;

	REQUIRE_VECTORS(dir);
	load(dir, &VECS[2], &l);
	assert_int_equal(snp_report_parse(l.report, l.report_len, &r, NULL), ATTEST_OK);
	/* formats.md §5: REPORT_DATA == SHA-512(nonce || X25519 key) (teekit). */
	assert_int_equal(hex_decode_to(nonce_hex, 64, msg, 32), 0);
	assert_int_equal(hex_decode_to(key_hex, 64, msg + 32, 32), 0);
	assert_int_equal(sha512(msg, 64, h), 0);
	assert_memory_equal(h, r.report_data, 64);
	unload(&l);
}

static void uniform_entry_point_needs_a_vcek(void **state)
{
	struct evidence_ctx ctx = {.now = 1700000000};
	struct evidence_input in;
	struct claim_set *cs;
	struct attest_err err;
	struct loaded l;

	REQUIRE_VECTORS(dir);
	cs = claim_set_new();
	load(dir, &VECS[0], &l);
	memset(&in, 0, sizeof(in));
	in.evidence = l.report, in.evidence_len = l.report_len;
	attest_err_clear(&err);
	assert_int_equal(snp_verify(&ctx, &in, cs, &err), ATTEST_E_COLLATERAL);
	assert_string_equal(err.name, "snp.vcek.missing");
	assert_int_equal(claim_set_count(cs), 0);
	claim_set_free(cs);
	unload(&l);
}

/* Writes p to <root>/<rel>, creating folders. */
static void put_file(const char *root, const char *rel, const void *p, size_t n)
{
	char path[1024], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0700);
		*slash = '/';
	}
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

static void rm_tree(const char *root)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

static void vcek_is_found_in_a_kds_shaped_folder(void **state)
{
	struct evidence_ctx ctx = {.now = 1700000000};
	struct collateral_source *src = NULL;
	struct evidence_input in;
	struct claim_set *cs;
	struct attest_err err;
	char root[] = "/tmp/snp-kds-XXXXXX", rel[512], hwid[129];
	struct snp_report r;
	struct loaded l;

	REQUIRE_VECTORS(dir);
	cs = claim_set_new();
	load(dir, &VECS[0], &l);
	assert_non_null(mkdtemp(root));
	assert_int_equal(snp_report_parse(l.report, l.report_len, &r, NULL), ATTEST_OK);
	hex_encode_to(r.chip_id, 64, hwid);
	snprintf(rel, sizeof(rel), "vcek/v1/Milan/%s/0200000000000544.der", hwid);
	put_file(root, rel, l.vcek, l.vcek_len);
	assert_int_equal(amd_file_source_new(root, &src, NULL), ATTEST_OK);
	ctx.collateral = src;
	memset(&in, 0, sizeof(in));
	in.evidence = l.report, in.evidence_len = l.report_len;
	attest_err_clear(&err);
	assert_int_equal(snp_verify(&ctx, &in, cs, &err), ATTEST_OK);
	assert_hex_claim(cs, "x-ms-sevsnpvm-chipid", VECS[0].chip_id);
	assert_bool_claim(cs, "x-ms-sevsnpvm-crl-checked", false);
	collateral_source_free(src);
	free(src);
	rm_tree(root);
	claim_set_free(cs);
	unload(&l);
}

/* Builds report || GHCB certificate table {VCEK, ASK, ARK} (DER). */
static uint8_t *extended_report(const struct loaded *l, size_t *len)
{
	STACK_OF(X509) *sk = NULL;
	uint8_t *ask = NULL, *ark = NULL, *vcek = NULL, *out, *t;
	X509 *leaf = NULL;
	int ask_len, ark_len, vcek_len;
	size_t hdr = 4 * 24, off;
	struct amd_chain ch;

	assert_int_equal(x509_stack_from_pem(l->chain, l->chain_len, &sk, "t", NULL), 0);
	assert_int_equal(amd_chain_classify(sk, &ch, NULL), 0);
	assert_int_equal(amd_cert_load(l->vcek, l->vcek_len, &leaf, "t", NULL), 0);
	ask_len = i2d_X509(ch.ask, &ask);
	ark_len = i2d_X509(ch.ark, &ark);
	vcek_len = i2d_X509(leaf, &vcek);
	*len = SNP_REPORT_SIZE + hdr + (size_t)(ask_len + ark_len + vcek_len);
	out = calloc(1, *len);
	memcpy(out, l->report, SNP_REPORT_SIZE);
	t = out + SNP_REPORT_SIZE;
	off = hdr;
	{
		const uint8_t *guids[3] = {SNP_GUID_VCEK, SNP_GUID_ASK, SNP_GUID_ARK};
		const uint8_t *ders[3] = {vcek, ask, ark};
		int lens[3] = {vcek_len, ask_len, ark_len};

		for (int i = 0; i < 3; i++) {
			memcpy(t + 24 * i, guids[i], 16);
			t[24 * i + 16] = (uint8_t)off, t[24 * i + 17] = (uint8_t)(off >> 8);
			t[24 * i + 20] = (uint8_t)lens[i], t[24 * i + 21] = (uint8_t)(lens[i] >> 8);
			memcpy(t + off, ders[i], (size_t)lens[i]);
			off += (size_t)lens[i];
		}
	}
	OPENSSL_free(ask);
	OPENSSL_free(ark);
	OPENSSL_free(vcek);
	X509_free(leaf);
	sk_X509_pop_free(sk, X509_free);
	return out;
}

static void extended_report_with_certificate_table_verifies(void **state)
{
	struct evidence_ctx ctx = {.now = 1767225600};
	struct evidence_input in;
	struct claim_set *cs;
	struct attest_err err;
	struct loaded l;
	size_t n;
	uint8_t *ext;

	REQUIRE_VECTORS(dir);
	cs = claim_set_new();
	load(dir, &VECS[1], &l);
	ext = extended_report(&l, &n);
	memset(&in, 0, sizeof(in));
	in.evidence = ext, in.evidence_len = n;
	attest_err_clear(&err);
	assert_int_equal(snp_verify(&ctx, &in, cs, &err), ATTEST_OK);
	assert_int_claim(cs, "x-ms-sevsnpvm-vmpl", 1);
	/* A table entry pointing outside the table is refused. */
	ext[SNP_REPORT_SIZE + 21] = 0x7F;
	attest_err_clear(&err);
	assert_int_equal(snp_verify(&ctx, &in, cs, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "snp.certtable.range");
	free(ext);
	claim_set_free(cs);
	unload(&l);
}

/* Both folder sources: the AMD-only one and the general file source (attestctl --collateral). */
static void vector_folder_serves_as_collateral(void **state)
{
	REQUIRE_VECTORS(dir);
	for (int general = 0; general < 2; general++) {
		for (size_t i = 0; i < NVECS; i++) {
			struct evidence_ctx ctx = {.now = VECS[i].now};
			struct collateral_source *src = NULL;
			struct claim_set *cs = claim_set_new();
			struct evidence_input in;
			struct attest_err err;
			struct loaded l;
			char path[1024];

			load(dir, &VECS[i], &l);
			snprintf(path, sizeof(path), "%s/%s", dir, VECS[i].dir);
			if (general)
				assert_int_equal(collateral_file_source_new(path, &src, NULL), ATTEST_OK);
			else
				assert_int_equal(amd_file_source_new(path, &src, NULL), ATTEST_OK);
			ctx.collateral = src;
			memset(&in, 0, sizeof(in));
			in.evidence = l.report, in.evidence_len = l.report_len;
			attest_err_clear(&err);
			assert_int_equal(snp_verify(&ctx, &in, cs, &err), ATTEST_OK);
			assert_hex_claim(cs, "x-ms-sevsnpvm-chipid", VECS[i].chip_id);
			collateral_source_free(src);
			free(src);
			claim_set_free(cs);
			unload(&l);
		}
	}
}

static void no_collateral_flag_keeps_the_source_out(void **state)
{
	struct evidence_ctx ctx = {.now = 1700000000, .flags = EVIDENCE_NO_COLLATERAL};
	struct collateral_source *src = NULL;
	struct claim_set *cs;
	struct evidence_input in;
	struct attest_err err;
	struct loaded l;
	char path[1024];

	REQUIRE_VECTORS(dir);
	cs = claim_set_new();
	load(dir, &VECS[0], &l);
	snprintf(path, sizeof(path), "%s/%s", dir, VECS[0].dir);
	assert_int_equal(amd_file_source_new(path, &src, NULL), ATTEST_OK);
	ctx.collateral = src;
	memset(&in, 0, sizeof(in));
	in.evidence = l.report, in.evidence_len = l.report_len;
	attest_err_clear(&err);
	assert_int_equal(snp_verify(&ctx, &in, cs, &err), ATTEST_E_COLLATERAL);
	assert_string_equal(err.name, "snp.vcek.missing");
	collateral_source_free(src);
	free(src);
	claim_set_free(cs);
	unload(&l);
}

static void shared_collateral_cache_keeps_the_verified_chain(void **state)
{
	struct evidence_ctx ctx = {.now = 1767225600};
	struct collateral_source *src = NULL;
	struct evidence_input in;
	uint64_t hits = 0, misses = 0;
	struct loaded l;
	char path[1024];

	REQUIRE_VECTORS(dir);
	load(dir, &VECS[1], &l);
	snprintf(path, sizeof(path), "%s/%s", dir, VECS[1].dir);
	assert_int_equal(amd_file_source_new(path, &src, NULL), ATTEST_OK);
	src->cache = collateral_cache_new(8);
	ctx.collateral = src;
	memset(&in, 0, sizeof(in));
	in.evidence = l.report, in.evidence_len = l.report_len;
	for (int i = 0; i < 3; i++) {
		struct claim_set *cs = claim_set_new();

		assert_int_equal(snp_verify(&ctx, &in, cs, NULL), ATTEST_OK);
		claim_set_free(cs);
	}
	collateral_cache_stats(src->cache, &hits, &misses);
	assert_int_equal(hits, 2);
	assert_int_equal(misses, 1);
	collateral_cache_free(src->cache);
	collateral_source_free(src);
	free(src);
	unload(&l);
}

static void chain_cache_hits_on_the_second_report(void **state)
{
	struct snp_chain_cache *cache;
	struct snp_opts opts;
	struct evidence_ctx ctx = {.now = 1767225600};
	uint64_t hits, misses;
	struct loaded l;
	struct snp_certs c;

	REQUIRE_VECTORS(dir);
	cache = snp_chain_cache_new(4);
	opts = (struct snp_opts){.cache = cache};
	load(dir, &VECS[1], &l);
	c = certs_of(&l);
	assert_int_equal(snp_verify_report(&ctx, &opts, l.report, l.report_len, &c, NULL, NULL), ATTEST_OK);
	assert_int_equal(snp_verify_report(&ctx, &opts, l.report, l.report_len, &c, NULL, NULL), ATTEST_OK);
	snp_chain_cache_stats(cache, &hits, &misses);
	assert_int_equal(hits, 1);
	assert_int_equal(misses, 1);
	/* A cached chain still needs the report's own signature. */
	l.report[SNP_OFF_REPORT_DATA] ^= 1;
	assert_int_equal(snp_verify_report(&ctx, &opts, l.report, l.report_len, &c, NULL, NULL),
			 ATTEST_E_VERIFY);
	/* Past the VCEK's notAfter the cached entry is not used: the chain is re-verified and refused. */
	ctx.now = 2000000000 + 100000000;
	l.report[SNP_OFF_REPORT_DATA] ^= 1;
	assert_int_not_equal(snp_verify_report(&ctx, &opts, l.report, l.report_len, &c, NULL, NULL),
			     ATTEST_OK);
	snp_chain_cache_free(cache);
	unload(&l);
}

struct worker {
	struct snp_chain_cache *cache;
	struct loaded *l;
	int ok;
};

static void *verify_many(void *arg)
{
	struct worker *w = arg;
	struct snp_opts o = {.cache = w->cache};
	struct evidence_ctx ctx = {.now = 1767225600};
	struct snp_certs c = certs_of(w->l);

	for (int i = 0; i < 20; i++)
		if (snp_verify_report(&ctx, &o, w->l->report, w->l->report_len, &c, NULL, NULL) == ATTEST_OK)
			w->ok++;
	return NULL;
}

static void chain_cache_is_shared_safely_between_threads(void **state)
{
	struct snp_chain_cache *cache;
	struct worker w[4];
	pthread_t t[4];
	uint64_t hits, misses;
	struct loaded a, b;

	REQUIRE_VECTORS(dir);
	cache = snp_chain_cache_new(1);
	load(dir, &VECS[1], &a);
	load(dir, &VECS[2], &b); /* another VCEK: two chains fight for one slot */
	for (int i = 0; i < 4; i++) {
		w[i].cache = cache, w[i].l = i % 2 ? &b : &a, w[i].ok = 0;
		assert_int_equal(pthread_create(&t[i], NULL, verify_many, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].ok, 20);
	}
	snp_chain_cache_stats(cache, &hits, &misses);
	assert_int_equal(hits + misses, 80);
	snp_chain_cache_free(cache);
	unload(&a);
	unload(&b);
}

static void report_outside_the_vcek_validity_is_refused(void **state)
{
	struct evidence_ctx ctx = {.now = 1600000000}; /* 2020: before the VCEK was issued */
	struct attest_err err;
	struct loaded l;
	struct snp_certs c;

	REQUIRE_VECTORS(dir);
	load(dir, &VECS[0], &l);
	c = certs_of(&l);
	attest_err_clear(&err);
	assert_int_equal(snp_verify_report(&ctx, NULL, l.report, l.report_len, &c, NULL, &err),
			 ATTEST_E_VERIFY);
	assert_string_equal(err.name, "snp.chain.not_yet_valid");
	unload(&l);
}

static void vcek_of_another_chip_is_refused(void **state)
{
	struct evidence_ctx ctx = {.now = 1767225600};
	struct attest_err err;
	struct loaded a, b;
	struct snp_certs c;

	REQUIRE_VECTORS(dir);
	load(dir, &VECS[1], &a);
	load(dir, &VECS[0], &b);
	/* The v5 report with the v2 vector's VCEK (another chip, another TCB). */
	c = certs_of(&a);
	c.leaf = b.vcek, c.leaf_len = b.vcek_len;
	ctx.now = 1767225600;
	attest_err_clear(&err);
	assert_int_equal(snp_verify_report(&ctx, NULL, a.report, a.report_len, &c, NULL, &err),
			 ATTEST_E_VERIFY);
	assert_string_equal(err.name, "snp.vcek.chip_id");
	unload(&a);
	unload(&b);
}

static void genoa_report_against_milan_chain_is_refused(void **state)
{
	struct evidence_ctx ctx = {.now = 1767225600};
	struct attest_err err;
	struct loaded l;
	struct snp_certs c;

	REQUIRE_VECTORS(dir);
	load(dir, &VECS[1], &l);
	l.report[SNP_OFF_CPUID_MOD_ID] = 0x11; /* family 0x19 model 0x11: Genoa */
	c = certs_of(&l);
	attest_err_clear(&err);
	assert_int_equal(snp_verify_report(&ctx, NULL, l.report, l.report_len, &c, NULL, &err),
			 ATTEST_E_VERIFY);
	assert_string_equal(err.name, "snp.vcek.product");
	unload(&l);
}

static void runtime_and_inittime_data_bind_to_report_and_host_data(void **state)
{
	struct evidence_input in;
	struct snp_report r;
	struct attest_err err;
	struct loaded l;
	const char json[] = "{\"k\":1}";
	uint8_t h[32];

	REQUIRE_VECTORS(dir);
	load(dir, &VECS[0], &l);
	assert_int_equal(snp_report_parse(l.report, l.report_len, &r, NULL), ATTEST_OK);
	memset(&in, 0, sizeof(in));
	in.runtime_data = (const uint8_t *)json, in.runtime_data_len = strlen(json);
	in.runtime_data_type = EVIDENCE_DATA_JSON;
	attest_err_clear(&err);
	assert_int_equal(snp_bind_data(&r, &in, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "snp.binding.runtime");
	assert_int_equal(sha256(json, strlen(json), h), 0);
	memcpy(r.report_data, h, 32);
	memset(r.report_data + 32, 0, 32);
	assert_int_equal(snp_bind_data(&r, &in, NULL), ATTEST_OK);
	r.report_data[40] = 1; /* bytes 32..63 must be zero */
	assert_int_equal(snp_bind_data(&r, &in, NULL), ATTEST_E_VERIFY);
	memset(r.report_data + 32, 0, 32);
	in.init_data = (const uint8_t *)json, in.init_data_len = strlen(json);
	in.init_data_type = EVIDENCE_DATA_BINARY;
	attest_err_clear(&err);
	assert_int_equal(snp_bind_data(&r, &in, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "snp.binding.inittime");
	memcpy(r.host_data, h, 32);
	assert_int_equal(snp_bind_data(&r, &in, NULL), ATTEST_OK);
	unload(&l);
}

static void kds_urls_carry_chip_id_and_decimal_spls(void **state)
{
	uint8_t chip[64], tcb[8] = {2, 0, 0, 0, 0, 0, 5, 68}, turin[8] = {1, 2, 3, 4, 0, 0, 0, 0x20};
	char url[512], want[512], hex[129];

	for (int i = 0; i < 64; i++)
		chip[i] = (uint8_t)i;
	hex_encode_to(chip, 64, hex);
	assert_true(amd_kds_vcek_url(NULL, "Milan", chip, tcb, url, sizeof(url)) > 0);
	snprintf(want, sizeof(want),
		 "https://kdsintf.amd.com/vcek/v1/Milan/%s?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68", hex);
	assert_string_equal(url, want);
	assert_true(amd_kds_vcek_url("http://mirror", "Turin", chip, turin, url, sizeof(url)) > 0);
	assert_string_equal(url,
			    "http://mirror/vcek/v1/Turin/0001020304050607?fmcSPL=1&blSPL=2&teeSPL=3&snpSPL=4"
			    "&ucodeSPL=32");
	assert_true(amd_kds_url(NULL, "Genoa", true, true, url, sizeof(url)) > 0);
	assert_string_equal(url, "https://kdsintf.amd.com/vlek/v1/Genoa/crl");
	assert_true(amd_kds_url(NULL, "Milan", false, false, url, sizeof(url)) > 0);
	assert_string_equal(url, "https://kdsintf.amd.com/vcek/v1/Milan/cert_chain");
	assert_int_equal(amd_kds_vcek_url(NULL, "Rome", chip, tcb, url, sizeof(url)), -1);
	assert_int_equal(amd_kds_vcek_url(NULL, "Milan", chip, tcb, url, 40), -1);
	assert_string_equal(url, "");
}

static void builtin_roots_cover_every_product_line(void **state)
{
	static const char *const want[AMD_PRODUCT_COUNT][3] = {
	    {NULL, NULL, NULL},
	    {"ARK-Milan", "SEV-Milan", "SEV-VLEK-Milan"},
	    {"ARK-Genoa", "SEV-Genoa", "SEV-VLEK-Genoa"},
	    {"ARK-Turin", "SEV-Turin", "SEV-VLEK-Turin"},
	};

	for (int p = AMD_PRODUCT_MILAN; p <= AMD_PRODUCT_TURIN; p++) {
		X509 *ark = NULL;

		for (int role = AMD_ROLE_ARK; role <= AMD_ROLE_ASVK; role++) {
			X509 *x = NULL;
			char cn[64];

			assert_int_equal(
			    amd_builtin_cert((enum amd_product)p, (enum amd_cert_role)role, &x, NULL), 0);
			amd_cert_cn(x, cn, sizeof(cn));
			assert_string_equal(cn, want[p][role]);
			if (role == AMD_ROLE_ARK) {
				/* Self-signed with its own key (RSA-PSS). */
				assert_int_equal(X509_verify(x, X509_get0_pubkey(x)), 1);
				ark = x;
			} else {
				assert_int_equal(X509_verify(x, X509_get0_pubkey(ark)), 1);
				X509_free(x);
			}
		}
		X509_free(ark);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(real_reports_verify_with_expected_fields),
	    cmocka_unit_test(debug_policy_bit_is_reported_only_where_set),
	    cmocka_unit_test(v5_report_carries_cpuid_and_mitigation_vectors),
	    cmocka_unit_test(x25519_binding_matches_report_data),
	    cmocka_unit_test(uniform_entry_point_needs_a_vcek),
	    cmocka_unit_test(vcek_is_found_in_a_kds_shaped_folder),
	    cmocka_unit_test(extended_report_with_certificate_table_verifies),
	    cmocka_unit_test(vector_folder_serves_as_collateral),
	    cmocka_unit_test(no_collateral_flag_keeps_the_source_out),
	    cmocka_unit_test(shared_collateral_cache_keeps_the_verified_chain),
	    cmocka_unit_test(chain_cache_hits_on_the_second_report),
	    cmocka_unit_test(chain_cache_is_shared_safely_between_threads),
	    cmocka_unit_test(report_outside_the_vcek_validity_is_refused),
	    cmocka_unit_test(vcek_of_another_chip_is_refused),
	    cmocka_unit_test(genoa_report_against_milan_chain_is_refused),
	    cmocka_unit_test(runtime_and_inittime_data_bind_to_report_and_host_data),
	    cmocka_unit_test(kds_urls_carry_chip_id_and_decimal_spls),
	    cmocka_unit_test(builtin_roots_cover_every_product_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
