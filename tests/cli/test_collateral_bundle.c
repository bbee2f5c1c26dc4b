/*
 * Collateral bundles against a real attestd (issue 12): an offline attestd
 * (--collateral-offline, nothing upstream) refuses evidence until a bundle
 * exported from a vector folder is imported with `attestctl collateral
 * import`; then it attests SGX and SEV-SNP evidence from the imported items
 * alone. A tampered bundle (one byte of a TCB Info, a VCEK under another
 * chip's key) is refused item by item and nothing of it is stored. The
 * server's export gives back the same items; the import is audited;
 * `import --dir` writes a folder `attestctl verify` reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"
#include "ctl_run.h"
#include "testutil.h"

#include "base/codec.h"
#include "collateral/bundle.h"
#include "crypto/crypto.h"

#define SGX_DIR "sgx/phala-sgx-v3-00a067110000-2025-06"
#define SNP_DIR "snp/gsg-milan-v2-2022-09"
#define NOW	"1750377600" /* the SGX vector's time; the (2022) SNP VCEK is valid then too */

struct env {
	struct attestd_proc srv;
	const char *vectors;
	const char
	    *admin[7]; /* --url, --cacert, --token: attestctl against the server as its administrator */
	char dir[64];
	char sgx[128], snp[128], quote[4200], snpreq[128];
};

/* attestctl against the server with the administrator credential. */
#define run_ctl(e, out, ...) ctl_run((out), (e)->admin, __VA_ARGS__)

#define EXPECT_CTL(e, want, text, ...)                                                                       \
	do {                                                                                                 \
		char *o_ = NULL;                                                                             \
		int r_ = run_ctl(e, &o_, __VA_ARGS__, NULL);                                                 \
		if (r_ != (want) || strstr(o_, (text)) == NULL)                                              \
			fail_msg("attestctl exit %d (want %d), output:\n%s\n(wanted \"%s\")", r_, (want),    \
				 o_, (text));                                                                \
		free(o_);                                                                                    \
	} while (0)

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	const char *const extra[] = {"--collateral-offline", "--test-fixed-time", NOW, NULL};
	char path[4096], *out = NULL;
	size_t n = 0;
	unsigned char *report;
	char *r64, *env64, *envtext = NULL;
	FILE *f;

	if (e == NULL || (e->vectors = test_vectors_dir()) == NULL) {
		free(e);
		*state = NULL;
		return 0; /* each test skips */
	}
	snprintf(e->dir, sizeof(e->dir), "/tmp/test-bundle-e2e-XXXXXX");
	if (ctl_path() == NULL || mkdtemp(e->dir) == NULL || attestd_start(&e->srv, extra) != 0)
		return -1;
	e->admin[0] = "--url";
	e->admin[1] = e->srv.base;
	e->admin[2] = "--cacert";
	e->admin[3] = e->srv.cacert;
	e->admin[4] = "--token";
	e->admin[5] = e->srv.admin;
	snprintf(e->sgx, sizeof(e->sgx), "%s/sgx.json", e->dir);
	snprintf(e->snp, sizeof(e->snp), "%s/snp.json", e->dir);
	snprintf(e->quote, sizeof(e->quote), "%s/%s/quote.bin", e->vectors, SGX_DIR);
	snprintf(path, sizeof(path), "%s/%s", e->vectors, SGX_DIR);
	if (run_ctl(e, &out, "collateral", "export", "--from-dir", path, "-O", e->sgx, NULL) != 0)
		return -1;
	free(out);
	snprintf(path, sizeof(path), "%s/%s", e->vectors, SNP_DIR);
	if (run_ctl(e, &out, "collateral", "export", "--from-dir", path, "-O", e->snp, NULL) != 0)
		return -1;
	free(out);
	/* SevSnpVm with the SnpReport only: the VCEK and chain must come from the (imported) collateral. */
	report = test_read_vector(e->vectors, SNP_DIR "/report.bin", &n);
	r64 = report ? b64url_encode(report, n) : NULL;
	if (r64 == NULL || asprintf(&envtext, "{\"SnpReport\":\"%s\"}", r64) < 0)
		return -1;
	env64 = b64url_encode((const uint8_t *)envtext, strlen(envtext));
	snprintf(e->snpreq, sizeof(e->snpreq), "%s/snp-report.txt", e->dir);
	if ((f = fopen(e->snpreq, "w")) == NULL || fputs(env64, f) < 0 || fclose(f) != 0)
		return -1;
	free(report);
	free(r64);
	free(envtext);
	free(env64);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	char cmd[128];

	int st;

	if (e == NULL)
		return 0;
	/* 0: a clean stop (under ASan, also no leak and no error report in attestd). */
	st = attestd_stop(&e->srv, SIGTERM);
	if (st != 0) {
		char log[400], tail[500];

		snprintf(log, sizeof(log), "%s/err", e->srv.dir);
		snprintf(tail, sizeof(tail), "tail -40 '%s' >&2", log);
		(void)!system(tail);
	}
	attestd_cleanup(&e->srv);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	if (system(cmd) != 0)
		return -1;
	free(e);
	return st == 0 ? 0 : -1;
}

#define REQUIRE_ENV(e)                                                                                       \
	struct env *e = *state;                                                                              \
	do {                                                                                                 \
		if (e == NULL) {                                                                             \
			fprintf(stderr, "SKIP: ../shared/vectors is absent; set ATTEST_VECTORS\n");          \
			skip();                                                                              \
		}                                                                                            \
	} while (0)

/* A copy of bundle file `in` with item `key` changed by fn, written to `out`. */
static void tamper(const char *in, const char *out, const char *key, void (*fn)(json_t *item))
{
	json_t *doc = json_load_file(in, 0, NULL), *it;
	size_t i;
	bool found = false;

	assert_non_null(doc);
	json_array_foreach(json_object_get(doc, "items"), i, it)
	{
		if (strcmp(json_string_value(json_object_get(it, "key")), key) == 0) {
			fn(it);
			found = true;
		}
	}
	assert_true(found);
	assert_int_equal(json_dump_file(doc, out, 0), 0);
	json_decref(doc);
}

/* One byte of the signed body changed, the sha256 recomputed: only the signature can tell. */
static void flip_body(json_t *it)
{
	const char *b64 = json_string_value(json_object_get(it, "data"));
	uint8_t *data = NULL, h[32];
	size_t n = 0;
	char hex[65], *enc, *at;

	assert_int_equal(b64_decode(b64, strlen(b64), &data, &n), 0);
	at = strstr((char *)data, "\"tcbEvaluationDataNumber\":");
	assert_non_null(at);
	at += strlen("\"tcbEvaluationDataNumber\":");
	*at = *at == '1' ? '2' : '1';
	assert_int_equal(sha256(data, n, h), 0);
	hex_encode_to(h, 32, hex);
	enc = b64std_encode(data, n);
	json_object_set_new(it, "data", json_string(enc));
	json_object_set_new(it, "sha256", json_string(hex));
	free(enc);
	free(data);
}

static void to_eval17(json_t *it)
{
	json_object_set_new(it, "key", json_string("sgx/tcb/00A067110000/eval17"));
}

static void to_early(json_t *it)
{
	json_object_set_new(it, "key", json_string("sgx/qe/identity/early"));
}

/* The processor CA's CRL filed as the platform CA's. */
static void other_ca(json_t *it)
{
	json_object_set_new(it, "key", json_string("pck_crl/platform"));
}

/* The VCEK filed under the key of another TCB. */
static void other_tcb(json_t *it)
{
	char key[CACHED_KEY_MAX];

	snprintf(key, sizeof(key), "%s", json_string_value(json_object_get(it, "key")));
	key[strlen(key) - 1] = key[strlen(key) - 1] == '0' ? '1' : '0';
	json_object_set_new(it, "key", json_string(key));
}

static void offline_attestd_attests_only_after_the_import(void **state)
{
	REQUIRE_ENV(e);
	char bad[128], *out = NULL;

	/* Nothing cached, nothing upstream. */
	EXPECT_CTL(e, 1, "offline", "attest", "SgxEnclave", e->quote);
	/* A TCB Info altered after signing: refused by name, and nothing of the bundle stored. */
	snprintf(bad, sizeof(bad), "%s/bad.json", e->dir);
	tamper(e->sgx, bad, "sgx/tcb/00A067110000", flip_body);
	EXPECT_CTL(e, 1, "refused   sgx/tcb/00A067110000: collateral.import", "collateral", "import", bad);
	EXPECT_CTL(e, 1, "nothing of", "collateral", "import", bad);
	tamper(e->sgx, bad, "pck_crl/processor", other_ca);
	EXPECT_CTL(e, 1, "refused   pck_crl/platform: collateral.import.key", "collateral", "import", bad);
	EXPECT_CTL(e, 1, "offline", "attest", "SgxEnclave", e->quote);
	/* The genuine bundle: every item verified, stored, usable at once. */
	EXPECT_CTL(e, 0, "imported 4 item(s)", "collateral", "import", e->sgx);
	EXPECT_CTL(e, 0, "x-ms-sgx-mrsigner", "attest", "SgxEnclave", e->quote);
	/* SEV-SNP: a VCEK under another TCB's key is refused; the real one makes the report attest. */
	tamper(e->snp, bad,
	       "amd/Milan/vcek/3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e5378618"
	       "4ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d/0200000000000544",
	       other_tcb);
	EXPECT_CTL(e, 1, "collateral.import.key", "collateral", "import", bad);
	EXPECT_CTL(e, 1, "", "attest", "SevSnpVm", e->snpreq);
	EXPECT_CTL(e, 0, "imported 2 item(s)", "collateral", "import", e->snp);
	assert_int_equal(run_ctl(e, &out, "-o", "json", "attest", "SevSnpVm", e->snpreq, NULL), 0);
	assert_non_null(strstr(out, "x-attestd-snp-collateral"));
	free(out);
	/* Durable: a restarted offline attestd serves the imported items from its store. */
	{
		const char *const extra[] = {"--collateral-offline", "--test-fixed-time", NOW, NULL};

		assert_int_equal(attestd_stop(&e->srv, SIGTERM), 0);
		assert_int_equal(attestd_launch(&e->srv, extra), 0);
	}
	EXPECT_CTL(e, 0, "x-ms-sgx-mrsigner", "attest", "SgxEnclave", e->quote);
	EXPECT_CTL(e, 0, "x-attestd-snp-collateral", "-o", "json", "attest", "SevSnpVm", e->snpreq);
}

/* What the server exports is what was imported, item for item. */
static void export_from_the_server_gives_back_the_items(void **state)
{
	REQUIRE_ENV(e);
	char back[128], one[128], paged[128];
	struct bundle *a = NULL, *b = NULL, *c = NULL, *p = NULL;
	struct attest_err err;
	unsigned char *text;
	size_t n = 0;

	attest_err_clear(&err);
	EXPECT_CTL(e, 0, "imported", "collateral", "import", e->sgx);
	snprintf(back, sizeof(back), "%s/back.json", e->dir);
	snprintf(one, sizeof(one), "%s/one.json", e->dir);
	EXPECT_CTL(e, 0, "exported", "collateral", "export", "-O", back);
	EXPECT_CTL(e, 0, "exported 1 item(s)", "collateral", "export", "--key", "sgx/qe/identity", "-O", one);
	/* Page by page (one item a request): the same items as in one answer. */
	snprintf(paged, sizeof(paged), "%s/paged.json", e->dir);
	EXPECT_CTL(e, 0, "exported", "collateral", "export", "--page-size", "1", "-O", paged);
	EXPECT_CTL(e, 3, "NotFound", "collateral", "export", "--key", "tdx/qe/identity");
	EXPECT_CTL(e, 2, "not the key of a collateral item", "collateral", "export", "--key",
		   "../etc/passwd");
	text = test_read_vector("/", e->sgx + 1, &n);
	assert_int_equal(bundle_parse((char *)text, n, &a, &err), ATTEST_OK);
	free(text);
	text = test_read_vector("/", back + 1, &n);
	assert_int_equal(bundle_parse((char *)text, n, &b, &err), ATTEST_OK);
	free(text);
	text = test_read_vector("/", one + 1, &n);
	assert_int_equal(bundle_parse((char *)text, n, &c, &err), ATTEST_OK);
	free(text);
	for (size_t i = 0; i < a->n; i++) {
		const struct bundle_item *x = &a->items[i], *y = bundle_find(b, x->key);

		assert_non_null(y);
		assert_memory_equal(x->sha256, y->sha256, 32);
		assert_int_equal(x->blob.chain_len, y->blob.chain_len);
	}
	text = test_read_vector("/", paged + 1, &n);
	assert_int_equal(bundle_parse((char *)text, n, &p, &err), ATTEST_OK);
	free(text);
	assert_true(b->n >= a->n);
	assert_int_equal(p->n, b->n);
	for (size_t i = 0; i < b->n; i++)
		assert_memory_equal(bundle_find(p, b->items[i].key)->sha256, b->items[i].sha256, 32);
	bundle_free(p);
	assert_int_equal(c->n, 1);
	assert_memory_equal(c->items[0].sha256, bundle_find(a, "sgx/qe/identity")->sha256, 32);
	bundle_free(a);
	bundle_free(b);
	bundle_free(c);
}

static void imports_are_audited_and_need_the_administrator(void **state)
{
	REQUIRE_ENV(e);
	struct http_reply r = {0};
	char *body = NULL;
	size_t n = 0;

	EXPECT_CTL(e, 0, "imported", "collateral", "import", e->sgx);
	body = (char *)test_read_vector("/", e->sgx + 1, &n);
	/* No credential: the management API answers 401 and stores nothing. */
	assert_int_equal(http_do(&e->srv, "POST", "/management/collateral", NULL, body, n, NULL, &r), 0);
	assert_int_equal(r.status, 401);
	http_reply_free(&r);
	free(body);
	{
		char hdr[300];
		const char *h[] = {hdr, NULL};

		snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", e->srv.admin);
		assert_int_equal(http_do(&e->srv, "GET", "/management/audit?max=1000", h, NULL, 0, NULL, &r),
				 0);
		assert_int_equal(r.status, 200);
		assert_non_null(strstr(r.body, "\"collateral.import\""));
		assert_non_null(strstr(r.body, "sgx/tcb/00A067110000"));
		http_reply_free(&r);
	}
}

/*
 * A receipt of a token the real attestd issued, its collateral taken from the server's own
 * cache (collateral export), re-verified offline from the receipt alone.
 */
static void receipt_of_a_server_token_with_the_servers_collateral(void **state)
{
	REQUIRE_ENV(e);
	char tok[128], jwks[128], cache[128], rcpt[128];
	struct http_reply r = {0};
	FILE *f;

	snprintf(tok, sizeof(tok), "%s/server-token.jwt", e->dir);
	snprintf(jwks, sizeof(jwks), "%s/jwks.json", e->dir);
	snprintf(cache, sizeof(cache), "%s/cache.json", e->dir);
	snprintf(rcpt, sizeof(rcpt), "%s/server-receipt.json", e->dir);
	EXPECT_CTL(e, 0, "imported", "collateral", "import", e->sgx);
	EXPECT_CTL(e, 0, "", "attest", "SgxEnclave", e->quote, "--save-token", tok);
	assert_int_equal(http_do(&e->srv, "GET", "/certs", NULL, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	f = fopen(jwks, "w");
	assert_non_null(f);
	fputs(r.body, f);
	fclose(f);
	http_reply_free(&r);
	EXPECT_CTL(e, 0, "exported", "collateral", "export", "-O", cache);
	EXPECT_CTL(e, 0, "receipt written", "receipt", "export", "--type", "SgxEnclave", "--evidence",
		   e->quote, "--token", tok, "--bundle", cache, "--jwks", jwks, "-O", rcpt);
	EXPECT_CTL(e, 0, "token signature verified with the JWKS given", "verify", "--receipt", rcpt,
		   "--jwks", jwks);
	EXPECT_CTL(e, 0, "token signature NOT verified", "verify", "--receipt", rcpt, "--no-signature-check");
	EXPECT_CTL(e, 2, "needs --jwks", "verify", "--receipt", rcpt);
}

/* import --dir: a folder for attestd --collateral-dir, read by the file source. */
static void import_into_a_folder_verifies_offline(void **state)
{
	REQUIRE_ENV(e);
	char dir[128];

	snprintf(dir, sizeof(dir), "%s/folder", e->dir);
	EXPECT_CTL(e, 0, "wrote 4 item(s)", "collateral", "import", e->sgx, "--dir", dir);
	EXPECT_CTL(e, 0, "verified", "verify", "SgxEnclave", e->quote, "--collateral", dir, "--at", NOW);
	/* AMD items land in the KDS tree (vcek/v1/Milan/<hwid>/<tcb>.der, cert_chain), which the file
	 * source serves and folder export reads back under the same keys. */
	{
		char report[4200], again[128];

		snprintf(report, sizeof(report), "%s/%s/report.bin", e->vectors, SNP_DIR);
		snprintf(again, sizeof(again), "%s/again.json", e->dir);
		EXPECT_CTL(e, 0, "wrote 2 item(s)", "collateral", "import", e->snp, "--dir", dir);
		EXPECT_CTL(e, 0, "verified", "verify", "SevSnp", report, "--collateral", dir, "--at", NOW);
		EXPECT_CTL(e, 0, "exported 6 item(s)", "collateral", "export", "--from-dir", dir, "-O",
			   again);
		EXPECT_CTL(e, 0, "amd/Milan/vcek/3ac3fe21e13fb099", "collateral", "list", again);
		EXPECT_CTL(e, 0, "amd/Milan/cert_chain/vcek", "collateral", "list", again);
	}
	/* Selected sets (/eval<N>, /early) keep their keys through a folder. */
	{
		char sets[128], setdir[128], back[128];

		snprintf(sets, sizeof(sets), "%s/sets.json", e->dir);
		snprintf(setdir, sizeof(setdir), "%s/sets", e->dir);
		snprintf(back, sizeof(back), "%s/sets-back.json", e->dir);
		tamper(e->sgx, sets, "sgx/tcb/00A067110000", to_eval17);
		tamper(sets, sets, "sgx/qe/identity", to_early);
		EXPECT_CTL(e, 0, "wrote 4 item(s)", "collateral", "import", sets, "--dir", setdir);
		EXPECT_CTL(e, 0, "exported 4 item(s)", "collateral", "export", "--from-dir", setdir, "-O",
			   back);
		EXPECT_CTL(e, 0, "sgx/tcb/00A067110000/eval17", "collateral", "list", back);
		EXPECT_CTL(e, 0, "sgx/qe/identity/early", "collateral", "list", back);
	}
}

/*
 * No rollback: a PCK CRL and TD QE identity issued earlier than those stored (both still
 * current) are refused; --force imports them, and says so in the audit log.
 */
static void older_collateral_is_refused_unless_forced(void **state)
{
	REQUIRE_ENV(e);
	char newer[128], older[128], path[4096];

	snprintf(newer, sizeof(newer), "%s/tdx-newer.json", e->dir);
	snprintf(older, sizeof(older), "%s/tdx-older.json", e->dir);
	snprintf(path, sizeof(path), "%s/tdx/phala-tdx-v4-b0c06f000000-2025-06", e->vectors);
	EXPECT_CTL(e, 0, "exported", "collateral", "export", "--from-dir", path, "-O", newer);
	snprintf(path, sizeof(path), "%s/tdx/automata-zkdcap-tdx-v4-00806f050000-2025-06", e->vectors);
	EXPECT_CTL(e, 0, "exported", "collateral", "export", "--from-dir", path, "-O", older);
	EXPECT_CTL(e, 0, "imported", "collateral", "import", newer);
	EXPECT_CTL(e, 0, "imported", "collateral", "import", newer); /* the same again is no rollback */
	EXPECT_CTL(e, 1, "refused   pck_crl/platform: collateral.import.older", "collateral", "import",
		   older);
	EXPECT_CTL(e, 1, "refused   tdx/qe/identity: collateral.import.older", "collateral", "import", older);
	EXPECT_CTL(e, 0, "imported", "collateral", "import", older, "--force");
}

/* A one-item bundle of a PCK certificate (leaf PEM + chain PEM) under key, written to path. */
static void pck_bundle(const char *path, const char *key, const char *leaf, size_t leaf_len,
		       const char *chain, size_t chain_len)
{
	struct bundle *b = bundle_new();
	struct collateral_blob x = {(uint8_t *)leaf, leaf_len, (uint8_t *)chain, chain_len};
	struct attest_err err;
	json_t *doc;

	attest_err_clear(&err);
	assert_int_equal(bundle_add(b, BUNDLE_PCK_CERT, key, &x, &err), ATTEST_OK);
	b->created = 1750377600;
	doc = bundle_to_json(b);
	assert_int_equal(json_dump_file(doc, path, 0), 0);
	json_decref(doc);
	bundle_free(b);
}

/*
 * PCK certificates (types 1-3 collateral): the real PCK chain a quote carries, imported under
 * a key whose TCB is at or above the certificate's; under a lower TCB or another PCEID it is
 * refused, as a certificate PCS would never answer for that query.
 */
static void pck_certificates_are_checked_against_their_key(void **state)
{
	REQUIRE_ENV(e);
	size_t n = 0;
	char *q = (char *)test_read_vector(e->vectors, SGX_DIR "/quote.bin", &n), path[128];
	const char *end = "-----END CERTIFICATE-----\n";
	char *first, *second;
	const char *ppid = "sgx/pckcert/00112233445566778899aabbccddeeff/";

	assert_non_null(q);
	first = memmem(q, n, "-----BEGIN CERTIFICATE-----", 27);
	assert_non_null(first);
	second = strstr(first, end);
	assert_non_null(second);
	second += strlen(end);
	snprintf(path, sizeof(path), "%s/pck.json", e->dir);
	{
		char key[CACHED_KEY_MAX];
		size_t chain_len = strlen(second);

		/* The quote's chain is followed by a NUL or the end: keep the PEM text only. */
		while (chain_len > 0 && second[chain_len - 1] != '\n')
			chain_len--;
		snprintf(key, sizeof(key), "%sffffffffffffffffffffffffffffffff/ffff/0000", ppid);
		pck_bundle(path, key, first, (size_t)(second - first), second, chain_len);
		EXPECT_CTL(e, 0, "imported 1 item(s)", "collateral", "import", path);
		snprintf(key, sizeof(key), "%s00000000000000000000000000000000/0000/0000", ppid);
		pck_bundle(path, key, first, (size_t)(second - first), second, chain_len);
		EXPECT_CTL(e, 1, "collateral.import.key", "collateral", "import", path);
		snprintf(key, sizeof(key), "%sffffffffffffffffffffffffffffffff/ffff/0101", ppid);
		pck_bundle(path, key, first, (size_t)(second - first), second, chain_len);
		EXPECT_CTL(e, 1, "collateral.import.key", "collateral", "import", path);
	}
	free(q);
}

/*
 * A bundle over attestd's 1 MiB body limit (300 PCK certificates) goes in parts: all verified
 * first, then stored; one bad item among them and nothing at all is stored.
 */
static void large_bundles_go_in_parts_all_verified_first(void **state)
{
	REQUIRE_ENV(e);
	size_t n = 0;
	char *q = (char *)test_read_vector(e->vectors, SGX_DIR "/quote.bin", &n), path[128],
	     key[CACHED_KEY_MAX];
	const char *end = "-----END CERTIFICATE-----\n";
	char *first = memmem(q, n, "-----BEGIN CERTIFICATE-----", 27), *second;
	struct bundle *b = bundle_new();
	struct attest_err err;
	size_t chain_len;
	json_t *doc;

	attest_err_clear(&err);
	assert_non_null(first);
	second = strstr(first, end) + strlen(end);
	chain_len = strlen(second);
	while (chain_len > 0 && second[chain_len - 1] != '\n')
		chain_len--;
	for (int i = 0; i < 300; i++) {
		struct collateral_blob x = {(uint8_t *)first, (size_t)(second - first), (uint8_t *)second,
					    chain_len};

		snprintf(key, sizeof(key), "sgx/pckcert/%032x/ffffffffffffffffffffffffffffffff/ffff/0000", i);
		assert_int_equal(bundle_add(b, BUNDLE_PCK_CERT, key, &x, &err), ATTEST_OK);
	}
	b->created = 1750377600;
	snprintf(path, sizeof(path), "%s/large.json", e->dir);
	doc = bundle_to_json(b);
	assert_int_equal(json_dump_file(doc, path, JSON_COMPACT), 0);
	json_decref(doc);
	/* The last item filed under another PCEID: refused in the dry run, nothing stored. */
	snprintf(key, sizeof(key), "sgx/pckcert/%032x/ffffffffffffffffffffffffffffffff/ffff/0101", 299);
	{
		struct bundle *bad = bundle_new();
		char badpath[128];

		for (size_t i = 0; i + 1 < b->n; i++)
			assert_int_equal(
			    bundle_add(bad, b->items[i].kind, b->items[i].key, &b->items[i].blob, &err),
			    ATTEST_OK);
		assert_int_equal(bundle_add(bad, BUNDLE_PCK_CERT, key, &b->items[b->n - 1].blob, &err),
				 ATTEST_OK);
		bad->created = 1750377600;
		snprintf(badpath, sizeof(badpath), "%s/large-bad.json", e->dir);
		doc = bundle_to_json(bad);
		assert_int_equal(json_dump_file(doc, badpath, JSON_COMPACT), 0);
		json_decref(doc);
		bundle_free(bad);
		EXPECT_CTL(e, 1, "nothing of", "collateral", "import", badpath);
		EXPECT_CTL(e, 3, "NotFound", "collateral", "export", "--key", b->items[0].key);
	}
	EXPECT_CTL(e, 0, "imported 300 item(s)", "collateral", "import", path);
	EXPECT_CTL(e, 0, "exported 1 item(s)", "collateral", "export", "--key", b->items[299].key, "-O",
		   "/dev/null");
	bundle_free(b);
	free(q);
}

static void malformed_bundles_never_reach_the_server(void **state)
{
	REQUIRE_ENV(e);
	char bad[128];
	FILE *f;

	snprintf(bad, sizeof(bad), "%s/garbage.json", e->dir);
	f = fopen(bad, "w");
	assert_non_null(f);
	fputs("{\"format\":\"attestd-collateral-bundle\",\"version\":9,\"items\":[]}", f);
	fclose(f);
	EXPECT_CTL(e, 1, "bundle.version", "collateral", "import", bad);
	/* Genuine but out of date at the server's time (2023 collateral in mid-2025): refused. */
	{
		char path[4096], old[128];

		snprintf(path, sizeof(path), "%s/sgx/phala-sgx-v3-00a067110000-2023-11", e->vectors);
		snprintf(old, sizeof(old), "%s/old.json", e->dir);
		EXPECT_CTL(e, 0, "exported 4", "collateral", "export", "--from-dir", path, "-O", old);
		EXPECT_CTL(e, 1, "expired", "collateral", "import", old);
	}
	EXPECT_CTL(e, 4, "cannot read", "collateral", "import", "/nonexistent/bundle.json");
	EXPECT_CTL(e, 2, "usage", "collateral", "import");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(offline_attestd_attests_only_after_the_import),
	    cmocka_unit_test(export_from_the_server_gives_back_the_items),
	    cmocka_unit_test(imports_are_audited_and_need_the_administrator),
	    cmocka_unit_test(receipt_of_a_server_token_with_the_servers_collateral),
	    cmocka_unit_test(import_into_a_folder_verifies_offline),
	    cmocka_unit_test(older_collateral_is_refused_unless_forced),
	    cmocka_unit_test(pck_certificates_are_checked_against_their_key),
	    cmocka_unit_test(large_bundles_go_in_parts_all_verified_first),
	    cmocka_unit_test(malformed_bundles_never_reach_the_server),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
