/*
 * Collateral bundles (src/collateral/bundle.c): keys checked per kind
 * (nothing can name a path outside a folder), the JSON format round trip
 * on real collateral, every malformation refused with its own name, the
 * folder writer read back by the real file sources, and the recording
 * source over a bundle.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "base/codec.h"
#include "collateral/amd_collateral.h"
#include "collateral/bundle.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SGX_DIR "sgx/phala-sgx-v3-00a067110000-2025-06"
#define SNP_DIR "snp/gsg-milan-v2-2022-09"
#define FMSPC	"00A067110000"

static const char VCEK_KEY[] = "amd/Milan/vcek/"
			       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
			       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
			       "/0300000000000873";

static struct collateral_blob blob_of(const char *data, const char *chain)
{
	struct collateral_blob b = {(uint8_t *)data, strlen(data), (uint8_t *)chain,
				    chain ? strlen(chain) : 0};

	return b;
}

/* A blob of a vector file (and its chain file, or none); the caller frees. */
static struct collateral_blob vector_blob(const char *dir, const char *rel, const char *chain_rel)
{
	struct collateral_blob b = {0};

	b.data = test_read_vector(dir, rel, &b.len);
	assert_non_null(b.data);
	if (chain_rel != NULL) {
		b.chain = test_read_vector(dir, chain_rel, &b.chain_len);
		assert_non_null(b.chain);
	}
	return b;
}

static void test_keys_fit_their_kind_only(void **state)
{
	(void)state;
	assert_true(bundle_key_ok(BUNDLE_TCB_INFO, "sgx/tcb/" FMSPC));
	assert_true(bundle_key_ok(BUNDLE_TCB_INFO, "tdx/tcb/" FMSPC));
	assert_false(bundle_key_ok(BUNDLE_TCB_INFO, "sgx/tcb/00a067110000")); /* cached.c writes upper case */
	assert_false(bundle_key_ok(BUNDLE_TCB_INFO, "sgx/tcb/" FMSPC "/../x"));
	assert_true(bundle_key_ok(BUNDLE_TCB_INFO, "tdx/tcb/" FMSPC "/early"));
	assert_true(bundle_key_ok(BUNDLE_TCB_INFO, "sgx/tcb/" FMSPC "/eval17"));
	assert_false(bundle_key_ok(BUNDLE_TCB_INFO, "sgx/tcb/" FMSPC "/eval"));
	assert_false(bundle_key_ok(BUNDLE_TCB_INFO, "sgx/tcb/" FMSPC "/eval1x"));
	assert_true(bundle_key_ok(BUNDLE_QE_IDENTITY, "tdx/qe/identity/eval17"));
	assert_false(bundle_key_ok(BUNDLE_QE_IDENTITY, "tdx/qe/identity/late"));
	assert_false(bundle_key_ok(BUNDLE_QE_IDENTITY, "sgx/tcb/" FMSPC));
	assert_true(bundle_key_ok(BUNDLE_PCK_CRL, "pck_crl/platform"));
	assert_false(bundle_key_ok(BUNDLE_PCK_CRL, "pck_crl/../../etc"));
	assert_true(bundle_key_ok(BUNDLE_ROOT_CA_CRL, "root_ca_crl"));
	assert_true(bundle_key_ok(BUNDLE_AMD_VCEK, VCEK_KEY));
	assert_false(bundle_key_ok(BUNDLE_AMD_VCEK, "amd/../vcek/00/0300000000000873"));
	assert_false(bundle_key_ok(BUNDLE_AMD_CERT_CHAIN, "amd/Zen/cert_chain/vcek"));
	assert_true(bundle_key_ok(BUNDLE_AMD_CRL, "amd/Turin/crl/vlek"));
	assert_true(bundle_key_ok(BUNDLE_PCK_CERT, "sgx/pckcert/00112233445566778899aabbccddeeff/"
						   "00112233445566778899aabbccddeeff/000d/0000"));
	assert_false(
	    bundle_key_ok(BUNDLE_PCK_CERT, "sgx/pckcert/0011/00112233445566778899aabbccddeeff/000d/0000"));
	assert_int_equal(bundle_kind_of_key("sgx/qve/identity"), BUNDLE_QE_IDENTITY);
	assert_int_equal(bundle_kind_of_key("amd/Genoa/cert_chain/vlek"), BUNDLE_AMD_CERT_CHAIN);
	assert_int_equal(bundle_kind_of_key("nothing"), -1);
}

/* The keys a bundle names are those the caching source looks up (cached.h). */
static void test_keys_are_the_caching_sources(void **state)
{
	uint8_t fmspc[6] = {0x00, 0xa0, 0x67, 0x11, 0x00, 0x00}, chip[64];
	char a[CACHED_KEY_MAX], b[CACHED_KEY_MAX];
	struct snp_tcb tcb = {.bootloader = 3, .tee = 0, .snp = 8, .microcode = 115};

	(void)state;
	cached_key_tcb_info(COLLATERAL_TEE_SGX, fmspc, a);
	assert_string_equal(a, "sgx/tcb/" FMSPC);
	assert_true(bundle_key_ok(BUNDLE_TCB_INFO, a));
	for (int i = 0; i < 64; i++)
		chip[i] = (uint8_t)(i & 1 ? 0xef : 0x01);
	/* Milan REPORTED_TCB: bl 3, tee 0, snp 8, ucode 115 = bytes 03 00 00 00 00 00 08 73. */
	assert_true(bundle_key_amd_vcek_of(AMD_PRODUCT_MILAN, chip, 64, &tcb, a));
	cached_key_amd_vcek("Milan", chip, 0x7308000000000003ull, b);
	assert_string_equal(a, b);
	assert_string_equal(a + strlen(a) - 16, "0300000000000873");
	assert_false(bundle_key_amd_vcek_of(AMD_PRODUCT_UNKNOWN, chip, 64, &tcb, a));
	assert_false(bundle_key_amd_vcek_of(AMD_PRODUCT_GENOA, chip, 65, &tcb, a));
	cached_key_amd("Genoa", true, true, a);
	assert_string_equal(a, "amd/Genoa/crl/vlek");
}

static struct bundle *sgx_bundle(const char *dir)
{
	struct bundle *b = bundle_new();
	struct collateral_blob tcb =
	    vector_blob(dir, SGX_DIR "/tcb_info.json", SGX_DIR "/tcb_info_issuer_chain.pem");
	struct collateral_blob qe =
	    vector_blob(dir, SGX_DIR "/qe_identity.json", SGX_DIR "/qe_identity_issuer_chain.pem");
	struct collateral_blob crl =
	    vector_blob(dir, SGX_DIR "/pck_crl.der", SGX_DIR "/pck_crl_issuer_chain.pem");
	struct collateral_blob root = vector_blob(dir, SGX_DIR "/root_ca_crl.der", NULL);
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_equal(bundle_add(b, BUNDLE_TCB_INFO, "sgx/tcb/" FMSPC, &tcb, &err), ATTEST_OK);
	assert_int_equal(bundle_add(b, BUNDLE_QE_IDENTITY, "sgx/qe/identity", &qe, &err), ATTEST_OK);
	assert_int_equal(bundle_add(b, BUNDLE_PCK_CRL, "pck_crl/processor", &crl, &err), ATTEST_OK);
	assert_int_equal(bundle_add(b, BUNDLE_ROOT_CA_CRL, "root_ca_crl", &root, &err), ATTEST_OK);
	collateral_blob_free(&tcb);
	collateral_blob_free(&qe);
	collateral_blob_free(&crl);
	collateral_blob_free(&root);
	return b;
}

static void test_json_round_trip_keeps_every_byte(void **state)
{
	REQUIRE_VECTORS(dir);
	struct bundle *b = sgx_bundle(dir), *again = NULL;
	json_t *doc = bundle_to_json(b);
	char *text = json_dumps(doc, 0);
	struct attest_err err;

	(void)state;
	attest_err_clear(&err);
	assert_non_null(text);
	assert_int_equal(bundle_parse(text, strlen(text), &again, &err), ATTEST_OK);
	assert_int_equal(again->n, 4);
	for (size_t i = 0; i < b->n; i++) {
		const struct bundle_item *x = &b->items[i], *y = bundle_find(again, x->key);

		assert_non_null(y);
		assert_int_equal(x->kind, y->kind);
		assert_int_equal(x->blob.len, y->blob.len);
		assert_memory_equal(x->blob.data, y->blob.data, x->blob.len);
		assert_int_equal(x->blob.chain_len, y->blob.chain_len);
		if (x->blob.chain_len)
			assert_memory_equal(x->blob.chain, y->blob.chain, x->blob.chain_len);
		assert_ptr_equal(bundle_find_sha256(again, x->sha256), y);
	}
	free(text);
	json_decref(doc);
	bundle_free(b);
	bundle_free(again);
}

/* Parses a bundle whose single item has `member` replaced by `value` (JSON text). */
static int parse_with(const char *member, const char *value, struct attest_err *err)
{
	struct bundle *b = bundle_new(), *out = NULL;
	struct collateral_blob x = blob_of("{\"tcbInfo\":{}}", "chain");
	json_t *doc, *item;
	char *text;
	int rc;

	assert_int_equal(bundle_add(b, BUNDLE_TCB_INFO, "sgx/tcb/" FMSPC, &x, err), ATTEST_OK);
	doc = bundle_to_json(b);
	item = json_array_get(json_object_get(doc, "items"), 0);
	if (strcmp(member, "version") == 0 || strcmp(member, "created") == 0)
		json_object_set_new(doc, member, json_loads(value, JSON_DECODE_ANY, NULL));
	else
		json_object_set_new(item, member, json_loads(value, JSON_DECODE_ANY, NULL));
	text = json_dumps(doc, 0);
	attest_err_clear(err);
	rc = bundle_parse(text, strlen(text), &out, err);
	assert_true(rc != ATTEST_OK || out != NULL);
	bundle_free(out);
	free(text);
	json_decref(doc);
	bundle_free(b);
	return rc;
}

static void test_malformed_bundles_are_refused_by_name(void **state)
{
	struct attest_err err;
	struct bundle *out = NULL;

	(void)state;
	attest_err_clear(&err);
	assert_int_equal(parse_with("kind", "\"tcb_info\"", &err), ATTEST_OK);
	assert_int_not_equal(parse_with("data", "\"e3RjYkluZm86e319\"", &err), ATTEST_OK); /* other bytes */
	assert_string_equal(err.name, "bundle.digest");
	assert_int_not_equal(parse_with("kind", "\"tcb_infos\"", &err), ATTEST_OK);
	assert_string_equal(err.name, "bundle.kind");
	assert_int_not_equal(parse_with("kind", "\"qe_identity\"", &err), ATTEST_OK);
	assert_string_equal(err.name, "bundle.key");
	assert_int_not_equal(parse_with("key", "\"sgx/tcb/../../x\"", &err), ATTEST_OK);
	assert_string_equal(err.name, "bundle.key");
	assert_int_not_equal(parse_with("data", "\"not base64!\"", &err), ATTEST_OK);
	assert_string_equal(err.name, "bundle.base64");
	assert_int_not_equal(parse_with("sha256", "\"00\"", &err), ATTEST_OK);
	assert_string_equal(err.name, "bundle.item");
	assert_int_not_equal(parse_with("data", "7", &err), ATTEST_OK);
	assert_string_equal(err.name, "bundle.item");
	assert_string_equal(err.where, "items[0]");
	/* Found by fuzz_bundle: a year before 1970 does not format back to itself. */
	assert_int_not_equal(parse_with("created", "\"0219-11-28T07:00:00Z\"", &err), ATTEST_OK);
	assert_string_equal(err.name, "bundle.json");
	assert_int_not_equal(parse_with("version", "2", &err), ATTEST_OK);
	assert_string_equal(err.name, "bundle.version");
	attest_err_clear(&err);
	assert_int_not_equal(bundle_parse("[]", 2, &out, &err), ATTEST_OK);
	assert_string_equal(err.name, "bundle.json");
	attest_err_clear(&err);
	assert_int_not_equal(bundle_parse("{\"format\"", 10, &out, &err), ATTEST_OK);
	assert_string_equal(err.name, "bundle.json");
	assert_null(out);
}

static void test_duplicate_keys_are_refused(void **state)
{
	struct bundle *b = bundle_new(), *out = NULL;
	struct collateral_blob x = blob_of("crl bytes", NULL);
	struct attest_err err;
	json_t *doc, *items;
	char *text;

	(void)state;
	attest_err_clear(&err);
	assert_int_equal(bundle_add(b, BUNDLE_ROOT_CA_CRL, "root_ca_crl", &x, &err), ATTEST_OK);
	/* bundle_add replaces an item of the same key... */
	assert_int_equal(bundle_add(b, BUNDLE_ROOT_CA_CRL, "root_ca_crl", &x, &err), ATTEST_OK);
	assert_int_equal(b->n, 1);
	/* ...but a document naming one key twice is refused. */
	doc = bundle_to_json(b);
	items = json_object_get(doc, "items");
	json_array_append(items, json_array_get(items, 0));
	text = json_dumps(doc, 0);
	assert_int_not_equal(bundle_parse(text, strlen(text), &out, &err), ATTEST_OK);
	assert_string_equal(err.name, "bundle.duplicate");
	free(text);
	json_decref(doc);
	bundle_free(b);
}

/* What bundle_write_dir writes is what the real file sources serve. */
static void test_folder_is_read_back_by_the_file_sources(void **state)
{
	REQUIRE_VECTORS(dir);
	struct bundle *b = sgx_bundle(dir);
	struct collateral_blob vcek = vector_blob(dir, SNP_DIR "/vcek.der", NULL);
	struct collateral_blob chain = vector_blob(dir, SNP_DIR "/ask_ark_milan.pem", NULL), got = {0};
	struct collateral_source *src = NULL;
	char tmp[] = "/tmp/test-bundle-XXXXXX";
	uint8_t fmspc[6] = {0x00, 0xa0, 0x67, 0x11, 0x00, 0x00}, chip[64];
	const struct bundle_item *it;
	struct attest_err err;
	char cmd[CACHED_KEY_MAX];

	(void)state;
	attest_err_clear(&err);
	for (int i = 0; i < 64; i++)
		chip[i] = (uint8_t)(i & 1 ? 0xef : 0x01);
	cached_key_amd_vcek("Milan", chip, 0x7308000000000003ull, cmd);
	assert_int_equal(bundle_add(b, BUNDLE_AMD_VCEK, cmd, &vcek, &err), ATTEST_OK);
	assert_int_equal(bundle_add(b, BUNDLE_AMD_CERT_CHAIN, "amd/Milan/cert_chain/vcek", &chain, &err),
			 ATTEST_OK);
	assert_non_null(mkdtemp(tmp));
	assert_int_equal(bundle_write_dir(b, tmp, &err), ATTEST_OK);
	assert_int_equal(collateral_file_source_new(tmp, &src, &err), ATTEST_OK);

	assert_int_equal(collateral_get_tcb_info(src, COLLATERAL_TEE_SGX, fmspc, &got, &err), ATTEST_OK);
	it = bundle_find(b, "sgx/tcb/" FMSPC);
	assert_int_equal(got.len, it->blob.len);
	assert_memory_equal(got.data, it->blob.data, got.len);
	assert_memory_equal(got.chain, it->blob.chain, got.chain_len);
	collateral_blob_free(&got);
	/* No TDX TCB Info was written, and there is no generic tcb_info.json to fall back on. */
	assert_int_equal(collateral_get_tcb_info(src, COLLATERAL_TEE_TDX, fmspc, &got, &err),
			 ATTEST_E_NOT_FOUND);
	attest_err_clear(&err);
	assert_int_equal(collateral_get_qe_identity(src, COLLATERAL_QE, &got, &err), ATTEST_OK);
	assert_int_equal(got.len, bundle_find(b, "sgx/qe/identity")->blob.len);
	collateral_blob_free(&got);
	assert_int_equal(collateral_get_pck_crl(src, COLLATERAL_CA_PROCESSOR, &got, &err), ATTEST_OK);
	assert_int_equal(got.len, bundle_find(b, "pck_crl/processor")->blob.len);
	collateral_blob_free(&got);
	assert_int_equal(collateral_get_root_ca_crl(src, &got, &err), ATTEST_OK);
	collateral_blob_free(&got);
	assert_int_equal(collateral_get_amd_vcek(src, "Milan", chip, 0x7308000000000003ull, &got, &err),
			 ATTEST_OK);
	assert_int_equal(got.len, vcek.len);
	assert_memory_equal(got.data, vcek.data, vcek.len);
	collateral_blob_free(&got);
	assert_int_equal(collateral_get_amd_cert_chain(src, "Milan", false, &got, &err), ATTEST_OK);
	assert_int_equal(got.len, chain.len);
	collateral_blob_free(&got);

	collateral_source_free(src);
	free(src);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	assert_int_equal(system(cmd), 0);
	collateral_blob_free(&vcek);
	collateral_blob_free(&chain);
	bundle_free(b);
}

/* Two PCK certificates of one PPID cannot both live in a folder (named by PPID): refused, nothing written. */
static void test_folder_refuses_pck_certs_sharing_a_ppid(void **state)
{
	struct bundle *b = bundle_new();
	struct collateral_blob x = blob_of("-----BEGIN CERTIFICATE-----", "chain");
	char tmp[] = "/tmp/test-bundle-pck-XXXXXX", cmd[64];
	struct attest_err err;

	(void)state;
	attest_err_clear(&err);
	assert_int_equal(
	    bundle_add(
		b, BUNDLE_PCK_CERT,
		"sgx/pckcert/00112233445566778899aabbccddeeff/00000000000000000000000000000000/000d/0000", &x,
		&err),
	    ATTEST_OK);
	assert_int_equal(
	    bundle_add(
		b, BUNDLE_PCK_CERT,
		"sgx/pckcert/00112233445566778899aabbccddeeff/11111111111111111111111111111111/000d/0000", &x,
		&err),
	    ATTEST_OK);
	assert_non_null(mkdtemp(tmp));
	assert_int_equal(bundle_write_dir(b, tmp, &err), ATTEST_E_INVALID);
	assert_string_equal(err.name, "bundle.duplicate");
	snprintf(cmd, sizeof(cmd), "rmdir %s", tmp); /* fails if anything was written */
	assert_int_equal(system(cmd), 0);
	bundle_free(b);
}

/* The bundle source serves by key and remembers what it served. */
static void test_bundle_source_records_what_it_served(void **state)
{
	REQUIRE_VECTORS(dir);
	struct bundle *b = sgx_bundle(dir), *used = NULL;
	struct collateral_source *src = NULL;
	struct collateral_blob got = {0};
	uint8_t fmspc[6] = {0x00, 0xa0, 0x67, 0x11, 0x00, 0x00};
	struct attest_err err;

	(void)state;
	attest_err_clear(&err);
	assert_int_equal(bundle_source_new(b, &src, &err), ATTEST_OK);
	assert_int_equal(collateral_get_tcb_info(src, COLLATERAL_TEE_SGX, fmspc, &got, &err), ATTEST_OK);
	collateral_blob_free(&got);
	assert_int_equal(collateral_get_root_ca_crl(src, &got, &err), ATTEST_OK);
	collateral_blob_free(&got);
	assert_int_equal(collateral_get_tcb_info(src, COLLATERAL_TEE_TDX, fmspc, &got, &err),
			 ATTEST_E_NOT_FOUND);
	assert_string_equal(err.name, "collateral.not_found");
	assert_int_equal(bundle_source_used(src, &used, &err), ATTEST_OK);
	assert_int_equal(used->n, 2);
	assert_non_null(bundle_find(used, "sgx/tcb/" FMSPC));
	assert_non_null(bundle_find(used, "root_ca_crl"));
	assert_null(bundle_find(used, "sgx/qe/identity"));
	bundle_free(used);
	collateral_source_free(src);
	free(src);
	bundle_free(b);
}

/* Receipts: members of the wrong type are refused by name, never read as absent. */
static void test_receipt_members_are_typed(void **state)
{
	static const char *const bad[] = {
	    "\"policy\":5",   "\"type\":null",
	    "\"token\":[]",   "\"request\":\"x\"",
	    "\"jwks\":\"k\"", "\"trust_roots\":{}",
	    "\"version\":2",  "\"format\":\"attestd-collateral-bundle\"",
	};
	const char *base =
	    "{\"format\":\"attestd-receipt\",\"version\":1,\"type\":\"SgxEnclave\","
	    "\"time\":\"2025-06-20T00:00:00Z\",\"issuer\":\"https://a.test\",\"request\":{},"
	    "\"policy\":null,\"token\":\"t\",\"collateral\":{\"format\":\"attestd-collateral-bundle\","
	    "\"version\":1,\"items\":[]}";
	struct receipt r = {0};
	struct attest_err err;
	char text[1024];
	json_t *doc;

	(void)state;
	attest_err_clear(&err);
	snprintf(text, sizeof(text), "%s}", base);
	assert_int_equal(receipt_parse(text, strlen(text), &r, &err), ATTEST_OK);
	assert_null(r.policy);
	assert_string_equal(r.token, "t");
	doc = receipt_to_json(&r);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "issuer")), "https://a.test");
	json_decref(doc);
	receipt_clear(&r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *d = json_loads(text, 0, NULL), *patch;
		char *t;

		snprintf(text, sizeof(text), "{%s}", bad[i]);
		patch = json_loads(text, 0, NULL);
		assert_non_null(patch);
		json_object_update(d, patch);
		t = json_dumps(d, 0);
		attest_err_clear(&err);
		assert_int_not_equal(receipt_parse(t, strlen(t), &r, &err), ATTEST_OK);
		assert_true(strncmp(err.name, "receipt.", 8) == 0);
		assert_null(r.token);
		free(t);
		json_decref(patch);
		json_decref(d);
		snprintf(text, sizeof(text), "%s}", base);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys_fit_their_kind_only),
	    cmocka_unit_test(test_keys_are_the_caching_sources),
	    cmocka_unit_test(test_json_round_trip_keeps_every_byte),
	    cmocka_unit_test(test_malformed_bundles_are_refused_by_name),
	    cmocka_unit_test(test_duplicate_keys_are_refused),
	    cmocka_unit_test(test_folder_is_read_back_by_the_file_sources),
	    cmocka_unit_test(test_folder_refuses_pck_certs_sharing_a_ppid),
	    cmocka_unit_test(test_bundle_source_records_what_it_served),
	    cmocka_unit_test(test_receipt_members_are_typed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
