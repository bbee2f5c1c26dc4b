/*
 * The collateral import route (POST /management/collateral, routes_collateral.c)
 * reads and verifies Intel's certificates and CRLs with the strict DER
 * reader and chain verifier the quote verifiers use (crypto/x509_der.h
 * through evidence/pck.h), against a real offline attestd at the vectors'
 * time, in dry runs:
 *  - the genuine SGX and TDX items and a PCK certificate verify;
 *  - each fault of an issuer chain, a CRL or a PCK chain is refused under
 *    its own error name, the message naming the part and the certificate;
 *  - no flipped byte of a PCK chain (PCK, CA, root) verifies;
 *  - a certificate OpenSSL accepts and Intel's profile does not is refused,
 *    as the quote verifiers refuse it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"
#include "testutil.h"

#include "base/buf.h"
#include "base/codec.h"
#include "collateral/bundle.h"
#include "crypto/crypto.h"
#include "devplat/intel.h"
#include "devplat/intel_internal.h"
#include "evidence/pck.h"

#include <openssl/x509.h>

#define SGX_DIR "sgx/phala-sgx-v3-00a067110000-2025-06"
#define TDX_DIR "tdx/phala-tdx-v4-b0c06f000000-2025-06"
#define NOW	"1750377600" /* the vectors' time */
#define PPID	"sgx/pckcert/%032x/ffffffffffffffffffffffffffffffff/ffff/0000"
/* PCK certificate items per request: well below attestd's 1 MiB body limit. */
#define ITEMS_PER_POST 160

struct env {
	struct attestd_proc srv;
	const char *vectors;
	/* The SGX vector's PCK chain as DER: PCK, its CA, the root. */
	struct buf pck_der[3];
	char *foreign_root; /* PEM of a root no anchor knows (a synthetic platform's) */
	/* A synthetic platform whose root the server trusts (--trust-roots), in tmp/roots.pem. */
	struct intel_devplat *dev;
	char tmp[64];
};

/* A PEM CERTIFICATE block of der (one base64 line: the readers skip line breaks, need none). */
static char *pem_of(const uint8_t *der, size_t len)
{
	char *b64 = b64std_encode(der, len), *out = NULL;

	assert_non_null(b64);
	assert_true(asprintf(&out, "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n", b64) > 0);
	free(b64);
	return out;
}

/* The concatenation of up to three PEM blocks (NULL: none); caller frees. */
static char *pem3(const char *a, const char *b, const char *c)
{
	char *out = NULL;

	assert_true(asprintf(&out, "%s%s%s", a ? a : "", b ? b : "", c ? c : "") >= 0);
	return out;
}

/* pem3 taking the first block over (it is freed). */
static char *pem3_own(char *a, const char *b, const char *c)
{
	char *out = pem3(a, b, c);

	free(a);
	return out;
}

static char *pem_of_buf(const struct buf *b)
{
	return pem_of(b->p, b->len);
}

/* The PEM of one X509 (caller frees). */
static char *pem_of_x509(X509 *x)
{
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);
	char *out;

	assert_true(len > 0);
	out = pem_of(der, (size_t)len);
	OPENSSL_free(der);
	return out;
}

/* A synthetic platform, its root written to dir/roots.pem for --trust-roots. */
static int trusted_platform(struct env *e, char *roots_path, size_t cap)
{
	struct intel_devplat_opts o;
	char *pem;
	FILE *f;
	int ok;

	intel_devplat_opts_default(&o, 1750377600);
	snprintf(e->tmp, sizeof(e->tmp), "/tmp/test-import-der-XXXXXX");
	if (mkdtemp(e->tmp) == NULL || intel_devplat_new(&o, &e->dev, NULL) != ATTEST_OK)
		return -1;
	snprintf(roots_path, cap, "%s/roots.pem", e->tmp);
	pem = pem_of_x509(e->dev->root);
	ok = (f = fopen(roots_path, "w")) != NULL && fputs(pem, f) >= 0;
	ok = f != NULL && fclose(f) == 0 && ok;
	free(pem);
	return ok ? 0 : -1;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	char roots_path[128];
	const char *const extra[] = {"--collateral-offline", "--test-fixed-time", NOW,
				     "--trust-roots",	     roots_path,	  NULL};
	struct intel_der_chain ch = {0};
	struct intel_devplat_opts o;
	struct intel_devplat *p = NULL;
	STACK_OF(X509) *roots = NULL;
	unsigned char *q, *der = NULL;
	const unsigned char *pem;
	size_t n = 0;
	int len;

	if (e == NULL || (e->vectors = test_vectors_dir()) == NULL) {
		free(e);
		*state = NULL;
		return 0; /* each test skips */
	}
	if (trusted_platform(e, roots_path, sizeof(roots_path)) != 0 || attestd_start(&e->srv, extra) != 0)
		return -1;
	/* The PCK chain the quote carries, from its first BEGIN (the chain ends with a NUL or the end). */
	q = test_read_vector(e->vectors, SGX_DIR "/quote.bin", &n);
	pem = q ? memmem(q, n, "-----BEGIN CERTIFICATE-----", 27) : NULL;
	if (pem == NULL)
		return -1;
	n -= (size_t)(pem - q);
	while (n > 0 && pem[n - 1] != '\n')
		n--;
	if (intel_pem_chain_der(pem, n, NULL, &ch, "t", NULL) != ATTEST_OK || ch.n != 3)
		return -1;
	for (size_t i = 0; i < 3; i++) {
		buf_init(&e->pck_der[i], X509_DER_CERT_MAX);
		if (buf_append(&e->pck_der[i], ch.cert[i]->der.p, ch.cert[i]->der.n) != ATTEST_OK)
			return -1;
	}
	intel_der_chain_free(&ch);
	free(q);
	/* A root of the same profile that is no anchor of the server. */
	intel_devplat_opts_default(&o, 1750377600);
	if (intel_devplat_new(&o, &p, NULL) != ATTEST_OK || (roots = intel_devplat_roots(p)) == NULL ||
	    (len = i2d_X509(sk_X509_value(roots, 0), &der)) <= 0)
		return -1;
	e->foreign_root = pem_of(der, (size_t)len);
	OPENSSL_free(der);
	sk_X509_pop_free(roots, X509_free);
	intel_devplat_free(p);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	int st;

	if (e == NULL)
		return 0;
	/* 0: a clean stop (under ASan, also no leak and no error report in attestd). */
	st = attestd_stop(&e->srv, SIGTERM);
	attestd_cleanup(&e->srv);
	for (size_t i = 0; i < 3; i++)
		buf_free(&e->pck_der[i]);
	free(e->foreign_root);
	intel_devplat_free(e->dev);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->tmp);
		if (e->tmp[0] == '\0' || system(cmd) != 0)
			st = -1;
	}
	free(e);
	return st == 0 ? 0 : -1;
}

/* The test's environment, or a skip when the vectors are absent. */
static struct env *env_of(void **state)
{
	if (*state == NULL) {
		fprintf(stderr, "SKIP: ../shared/vectors is absent; set ATTEST_VECTORS\n");
		skip();
	}
	return *state;
}

/* Adds an item of data and chain (text or bytes; chain NULL: none). */
static void add(struct bundle *b, enum bundle_kind kind, const char *key, const void *data, size_t len,
		const char *chain)
{
	struct collateral_blob x = {(uint8_t *)data, len, (uint8_t *)chain, chain ? strlen(chain) : 0};
	struct attest_err err;

	attest_err_clear(&err);
	if (bundle_add(b, kind, key, &x, &err) != ATTEST_OK)
		fail_msg("bundle_add %s: %s: %s", key, err.name, err.msg);
}

/* Adds the vector's file `file` (and `chain_file`, or none) as an item. */
static void add_file(const struct env *e, struct bundle *b, enum bundle_kind kind, const char *key,
		     const char *dir, const char *file, const char *chain_file)
{
	char rel[256];
	size_t n = 0, cn = 0;
	uint8_t *data, *chain = NULL;

	snprintf(rel, sizeof(rel), "%s/%s", dir, file);
	data = test_read_vector(e->vectors, rel, &n);
	assert_non_null(data);
	if (chain_file != NULL) {
		snprintf(rel, sizeof(rel), "%s/%s", dir, chain_file);
		chain = test_read_vector(e->vectors, rel, &cn);
		assert_non_null(chain);
	}
	add(b, kind, key, data, n, (const char *)chain);
	free(data);
	free(chain);
}

/* The vector folder's file as a NUL-terminated string (caller frees). */
static char *text_of(const struct env *e, const char *dir, const char *file)
{
	char rel[256];
	size_t n = 0;

	snprintf(rel, sizeof(rel), "%s/%s", dir, file);
	return (char *)test_read_vector(e->vectors, rel, &n);
}

/* POSTs b for a dry run (nothing stored); returns the answer's JSON, *status its HTTP status. */
static json_t *post(const struct env *e, struct bundle *b, long *status)
{
	json_t *doc;
	char *body, hdr[300];
	const char *h[] = {hdr, "Content-Type: application/json", NULL};
	struct http_reply r = {0};
	json_t *answer;

	b->created = 1750377600;
	doc = bundle_to_json(b);
	assert_non_null(doc);
	body = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	assert_non_null(body);
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", e->srv.admin);
	assert_int_equal(
	    http_do(&e->srv, "POST", "/management/collateral?dry_run=1", h, body, strlen(body), NULL, &r), 0);
	free(body);
	*status = r.status;
	answer = json_loadb(r.body, r.body_len, 0, NULL);
	if (answer == NULL)
		fail_msg("answer %ld is not JSON: %s", r.status, r.body);
	http_reply_free(&r);
	return answer;
}

/* The answer's row for key. */
static json_t *row(json_t *answer, const char *key)
{
	size_t i;
	json_t *it;

	json_array_foreach(json_object_get(answer, "items"), i, it)
	{
		if (strcmp(json_string_value(json_object_get(it, "key")), key) == 0)
			return it;
	}
	fail_msg("no row for %s", key);
	return NULL;
}

/* The row of key is refused with error `name`, its message holding every one of up to two texts. */
static void expect_refused(json_t *answer, const char *key, const char *name, const char *text1,
			   const char *text2)
{
	json_t *it = row(answer, key);
	const char *st = json_string_value(json_object_get(it, "status"));
	const char *got = json_string_value(json_object_get(it, "error"));
	const char *msg = json_string_value(json_object_get(it, "message"));

	if (st == NULL || strcmp(st, "refused") != 0 || got == NULL || strcmp(got, name) != 0 ||
	    (text1 && (msg == NULL || strstr(msg, text1) == NULL)) ||
	    (text2 && (msg == NULL || strstr(msg, text2) == NULL)))
		fail_msg("%s: %s %s: %s (wanted refused %s with \"%s\" and \"%s\")", key, st ? st : "?",
			 got ? got : "-", msg ? msg : "-", name, text1 ? text1 : "", text2 ? text2 : "");
}

/* Every row verified. */
static void expect_all_verified(json_t *answer, long status, size_t n)
{
	size_t i;
	json_t *it;

	json_array_foreach(json_object_get(answer, "items"), i, it)
	{
		const char *st = json_string_value(json_object_get(it, "status"));

		if (st == NULL || strcmp(st, "verified") != 0)
			fail_msg("%s: %s %s: %s", json_string_value(json_object_get(it, "key")),
				 st ? st : "?", json_string_value(json_object_get(it, "error")),
				 json_string_value(json_object_get(it, "message")));
	}
	assert_int_equal(status, 200);
	assert_int_equal(json_integer_value(json_object_get(answer, "verified")), n);
}

static void genuine_intel_items_verify_through_the_der_reader(void **state)
{
	struct env *e = env_of(state);
	struct bundle *b = bundle_new();
	char *crl_pem, *b64, *leaf, *chain, key[CACHED_KEY_MAX];
	uint8_t *crl;
	size_t n = 0;
	long status;
	json_t *a;

	add_file(e, b, BUNDLE_TCB_INFO, "sgx/tcb/00A067110000", SGX_DIR, "tcb_info.json",
		 "tcb_info_issuer_chain.pem");
	add_file(e, b, BUNDLE_QE_IDENTITY, "sgx/qe/identity", SGX_DIR, "qe_identity.json",
		 "qe_identity_issuer_chain.pem");
	add_file(e, b, BUNDLE_ROOT_CA_CRL, "root_ca_crl", SGX_DIR, "root_ca_crl.der", NULL);
	/* The PCK CRL as PEM: read as the quote verifiers read it (DER or PEM, sniffed). */
	crl = test_read_vector(e->vectors, SGX_DIR "/pck_crl.der", &n);
	assert_non_null(crl);
	b64 = b64std_encode(crl, n);
	assert_true(asprintf(&crl_pem, "-----BEGIN X509 CRL-----\n%s\n-----END X509 CRL-----\n", b64) > 0);
	chain = text_of(e, SGX_DIR, "pck_crl_issuer_chain.pem");
	add(b, BUNDLE_PCK_CRL, "pck_crl/processor", crl_pem, strlen(crl_pem), chain);
	free(chain);
	/* The quote's PCK certificate, its CA and the root. */
	leaf = pem_of_buf(&e->pck_der[0]);
	chain = pem_of_buf(&e->pck_der[1]);
	{
		char *root = pem_of_buf(&e->pck_der[2]), *full = pem3(chain, root, NULL);

		snprintf(key, sizeof(key), PPID, 1);
		add(b, BUNDLE_PCK_CERT, key, leaf, strlen(leaf), full);
		/* Without the root too (the chain ends at the anchor either way). */
		snprintf(key, sizeof(key), PPID, 2);
		add(b, BUNDLE_PCK_CERT, key, leaf, strlen(leaf), chain);
		free(root), free(full);
	}
	a = post(e, b, &status);
	expect_all_verified(a, status, 6);
	json_decref(a);
	bundle_free(b);
	/* TDX: its TCB Info, TD QE identity and the Platform CA's CRL. */
	b = bundle_new();
	add_file(e, b, BUNDLE_TCB_INFO, "tdx/tcb/B0C06F000000", TDX_DIR, "tcb_info.json",
		 "tcb_info_issuer_chain.pem");
	add_file(e, b, BUNDLE_QE_IDENTITY, "tdx/qe/identity", TDX_DIR, "qe_identity.json",
		 "qe_identity_issuer_chain.pem");
	add_file(e, b, BUNDLE_PCK_CRL, "pck_crl/platform", TDX_DIR, "pck_crl.der",
		 "pck_crl_issuer_chain.pem");
	add_file(e, b, BUNDLE_ROOT_CA_CRL, "root_ca_crl", TDX_DIR, "root_ca_crl.der", NULL);
	a = post(e, b, &status);
	expect_all_verified(a, status, 4);
	json_decref(a);
	bundle_free(b);
	free(crl), free(b64), free(crl_pem), free(leaf), free(chain);
}

/* der with one bit of byte `at` flipped, as PEM. */
static char *pem_flipped(const struct buf *der, size_t at)
{
	uint8_t *copy = malloc(der->len);
	char *out;

	assert_non_null(copy);
	memcpy(copy, der->p, der->len);
	copy[at] ^= (uint8_t)(1u << (at % 8));
	out = pem_of(copy, der->len);
	free(copy);
	return out;
}

/* der followed by one byte more, as PEM (the reader refuses anything after a certificate). */
static char *pem_trailing(const struct buf *der)
{
	uint8_t *copy = malloc(der->len + 1);
	char *out;

	assert_non_null(copy);
	memcpy(copy, der->p, der->len);
	copy[der->len] = 0;
	out = pem_of(copy, der->len + 1);
	free(copy);
	return out;
}

/* The issuer chain's certificates as DER (signer, root). */
static void chain_der(const char *pem, struct buf out[2])
{
	struct intel_der_chain ch = {0};

	assert_int_equal(intel_pem_chain_der((const uint8_t *)pem, strlen(pem), NULL, &ch, "t", NULL),
			 ATTEST_OK);
	assert_int_equal(ch.n, 2);
	for (size_t i = 0; i < 2; i++) {
		buf_init(&out[i], X509_DER_CERT_MAX);
		assert_int_equal(buf_append(&out[i], ch.cert[i]->der.p, ch.cert[i]->der.n), ATTEST_OK);
	}
	intel_der_chain_free(&ch);
}

static void issuer_chain_faults_are_named_with_the_certificate(void **state)
{
	struct env *e = env_of(state);
	struct bundle *b = bundle_new();
	char *tcb = text_of(e, SGX_DIR, "tcb_info.json");
	char *good = text_of(e, SGX_DIR, "tcb_info_issuer_chain.pem");
	char *pck_ca = text_of(e, SGX_DIR, "pck_crl_issuer_chain.pem");
	char *signer, *root, *bad[5];
	struct buf der[2];
	long status;
	json_t *a;

	chain_der(good, der);
	signer = pem_of_buf(&der[0]);
	root = pem_of_buf(&der[1]);
	/* The TCB Signing certificate's signature (its last byte) altered. */
	bad[0] = pem3_own(pem_flipped(&der[0], der[0].len - 1), root, NULL);
	/* The TCB Signing certificate followed by a byte: outside the DER profile. */
	bad[1] = pem3_own(pem_trailing(&der[0]), root, NULL);
	/* A root no anchor knows carried after the signer. */
	bad[2] = pem3(signer, e->foreign_root, NULL);
	/* Three certificates: Intel's is the signer and at most the root. */
	bad[3] = pem3(signer, root, root);
	/* Text that is no PEM certificate. */
	bad[4] = strdup("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n");
	add(b, BUNDLE_TCB_INFO, "sgx/tcb/00A067110000", tcb, strlen(tcb), NULL);
	add(b, BUNDLE_TCB_INFO, "sgx/tcb/00A067110000/eval1", tcb, strlen(tcb), bad[0]);
	add(b, BUNDLE_TCB_INFO, "sgx/tcb/00A067110000/eval2", tcb, strlen(tcb), bad[1]);
	add(b, BUNDLE_TCB_INFO, "sgx/tcb/00A067110000/eval3", tcb, strlen(tcb), bad[2]);
	add(b, BUNDLE_TCB_INFO, "sgx/tcb/00A067110000/eval4", tcb, strlen(tcb), bad[3]);
	add(b, BUNDLE_TCB_INFO, "sgx/tcb/00A067110000/eval5", tcb, strlen(tcb), bad[4]);
	/* Signed by the PCK Processor CA's chain: a valid chain whose signer may not sign TCB Info. */
	add(b, BUNDLE_TCB_INFO, "sgx/tcb/00A067110000/early", tcb, strlen(tcb), pck_ca);
	a = post(e, b, &status);
	assert_int_equal(status, 400);
	expect_refused(a, "sgx/tcb/00A067110000", "collateral.import.chain", "has no issuer chain", NULL);
	expect_refused(a, "sgx/tcb/00A067110000/eval1", "collateral.import.chain.signature",
		       "issuer chain: ", "CN=Intel SGX TCB Signing");
	expect_refused(a, "sgx/tcb/00A067110000/eval2", "collateral.import.chain.der.trailing",
		       "issuer chain: ", "certificate 1 of the chain");
	expect_refused(a, "sgx/tcb/00A067110000/eval3", "collateral.import.chain.root",
		       "issuer chain: ", "root certificate carried");
	expect_refused(a, "sgx/tcb/00A067110000/eval4", "collateral.import.chain.parse", "3 certificates",
		       NULL);
	expect_refused(a, "sgx/tcb/00A067110000/eval5", "collateral.import.chain.parse",
		       "issuer chain: ", "base64");
	expect_refused(a, "sgx/tcb/00A067110000/early", "collateral.import.chain.key_usage",
		       "issuer chain: ", "digitalSignature");
	json_decref(a);
	bundle_free(b);
	for (size_t i = 0; i < 5; i++)
		free(bad[i]);
	buf_free(&der[0]), buf_free(&der[1]);
	free(signer), free(root), free(tcb), free(good), free(pck_ca);
}

/* der with its last byte (the signature's) altered, as a PEM X509 CRL (caller frees). */
static char *crl_pem_flipped_last(const uint8_t *der, size_t n)
{
	uint8_t *copy = malloc(n);
	char *b64, *out = NULL;

	assert_non_null(copy);
	memcpy(copy, der, n);
	copy[n - 1] ^= 1;
	b64 = b64std_encode(copy, n);
	assert_true(asprintf(&out, "-----BEGIN X509 CRL-----\n%s\n-----END X509 CRL-----\n", b64) > 0);
	free(b64), free(copy);
	return out;
}

static void crl_faults_are_named(void **state)
{
	struct env *e = env_of(state);
	size_t pn = 0, rn = 0;
	uint8_t *pck = test_read_vector(e->vectors, SGX_DIR "/pck_crl.der", &pn);
	uint8_t *root = test_read_vector(e->vectors, SGX_DIR "/root_ca_crl.der", &rn), *longer;
	char *ca = text_of(e, SGX_DIR, "pck_crl_issuer_chain.pem");
	char *tcb_chain = text_of(e, SGX_DIR, "tcb_info_issuer_chain.pem");
	char *pck_bad = crl_pem_flipped_last(pck, pn), *root_bad = crl_pem_flipped_last(root, rn);
	struct bundle *b = bundle_new();
	long status;
	json_t *a;

	assert_non_null(pck);
	assert_non_null(root);
	/* A byte after the CRL: outside the DER profile. The PCK CRL filed as the Root CA's. */
	longer = calloc(1, pn + 1);
	memcpy(longer, pck, pn);
	add(b, BUNDLE_PCK_CRL, "pck_crl/processor", longer, pn + 1, ca);
	add(b, BUNDLE_ROOT_CA_CRL, "root_ca_crl", pck, pn, NULL);
	/* The TCB Signing chain as a CRL's issuer chain: its signer may not sign CRLs. */
	add(b, BUNDLE_PCK_CRL, "pck_crl/platform", pck, pn, tcb_chain);
	a = post(e, b, &status);
	assert_int_equal(status, 400);
	expect_refused(a, "pck_crl/processor", "collateral.import.crl.der.trailing", NULL, NULL);
	expect_refused(a, "root_ca_crl", "collateral.import.crl_issuer", "no trusted Intel root", NULL);
	expect_refused(a, "pck_crl/platform", "collateral.import.chain.key_usage",
		       "issuer chain: ", "cRLSign");
	json_decref(a);
	bundle_free(b);
	/* Signatures altered; the Root CA CRL under the PCK CA's chain. */
	b = bundle_new();
	add(b, BUNDLE_PCK_CRL, "pck_crl/processor", pck_bad, strlen(pck_bad), ca);
	add(b, BUNDLE_ROOT_CA_CRL, "root_ca_crl", root_bad, strlen(root_bad), NULL);
	add(b, BUNDLE_PCK_CRL, "pck_crl/platform", root, rn, ca);
	a = post(e, b, &status);
	assert_int_equal(status, 400);
	expect_refused(a, "pck_crl/processor", "collateral.import.crl_signature",
		       "CN=Intel SGX PCK Processor CA", NULL);
	expect_refused(a, "root_ca_crl", "collateral.import.crl_signature", "CN=Intel SGX Root CA", NULL);
	expect_refused(a, "pck_crl/platform", "collateral.import.crl_issuer", "CN=Intel SGX PCK Processor CA",
		       NULL);
	json_decref(a);
	bundle_free(b);
	free(pck), free(root), free(longer), free(ca), free(tcb_chain), free(pck_bad), free(root_bad);
}

static void pck_chain_faults_are_named_with_the_certificate(void **state)
{
	struct env *e = env_of(state);
	char *leaf = pem_of_buf(&e->pck_der[0]), *ca = pem_of_buf(&e->pck_der[1]),
	     *root = pem_of_buf(&e->pck_der[2]),
	     *tcb_chain = text_of(e, SGX_DIR, "tcb_info_issuer_chain.pem");
	char *chain = pem3(ca, root, NULL), *two = pem3(leaf, ca, NULL), *three = pem3(ca, root, root);
	char *leaf_bad = pem_flipped(&e->pck_der[0], e->pck_der[0].len - 1);
	char *ca_long = pem3_own(pem_trailing(&e->pck_der[1]), root, NULL);
	char *foreign = pem3(ca, e->foreign_root, NULL);
	const char *garbage = "-----BEGIN CERTIFICATE-----\nMII\n";
	struct {
		const char *leaf, *chain, *name, *text1, *text2;
	} c[] = {
	    {two, chain, "collateral.import.pck", "must hold one certificate", NULL},
	    {leaf, three, "collateral.import.pck.chain.parse", "the issuer chain holds 3 certificates", NULL},
	    {leaf_bad, chain, "collateral.import.pck.chain.signature", "CN=Intel SGX PCK Certificate", NULL},
	    {leaf, ca_long, "collateral.import.chain.der.trailing",
	     "issuer chain: ", "certificate 1 of the chain"},
	    {garbage, chain, "collateral.import.pck.parse", "the PCK certificate: ", NULL},
	    {leaf, foreign, "collateral.import.pck.chain.root", "root certificate carried", NULL},
	    {leaf, tcb_chain, "collateral.import.pck.subject", "Intel SGX TCB Signing", NULL},
	    {leaf, NULL, "collateral.import.chain", "has no issuer chain", NULL},
	};
	struct bundle *b = bundle_new();
	char key[CACHED_KEY_MAX];
	long status;
	json_t *a;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		snprintf(key, sizeof(key), PPID, (unsigned)i);
		add(b, BUNDLE_PCK_CERT, key, c[i].leaf, strlen(c[i].leaf), c[i].chain);
	}
	a = post(e, b, &status);
	assert_int_equal(status, 400);
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		snprintf(key, sizeof(key), PPID, (unsigned)i);
		expect_refused(a, key, c[i].name, c[i].text1, c[i].text2);
	}
	json_decref(a);
	bundle_free(b);
	free(leaf), free(ca), free(root), free(tcb_chain), free(chain), free(two), free(three);
	free(leaf_bad), free(ca_long), free(foreign);
}

/* Posts b (a dry run) and counts its refused rows into *refused; b is freed. */
static void post_counting(const struct env *e, struct bundle *b, size_t *refused)
{
	long status;
	json_t *a = post(e, b, &status), *it;
	size_t i;

	json_array_foreach(json_object_get(a, "items"), i, it)
	{
		const char *st = json_string_value(json_object_get(it, "status"));

		if (st != NULL && strcmp(st, "refused") == 0)
			(*refused)++;
		else
			fprintf(stderr, "ACCEPTED %s\n", json_string_value(json_object_get(it, "key")));
	}
	json_decref(a);
	bundle_free(b);
}

/*
 * One bit of every byte of the PCK, its CA and the root flipped (every Nth
 * byte with ATTEST_SWEEP_STRIDE=N), as PCK certificate items ITEMS_PER_POST
 * to a request: the import refuses every one.
 */
static void no_flipped_byte_of_a_pck_chain_verifies(void **state)
{
	struct env *e = env_of(state);
	const char *s = getenv("ATTEST_SWEEP_STRIDE");
	size_t stride = s && atoi(s) > 0 ? (size_t)atoi(s) : 1, tried = 0, refused = 0;
	char *pem[3], key[CACHED_KEY_MAX];
	struct bundle *b = bundle_new();

	for (size_t i = 0; i < 3; i++)
		pem[i] = pem_of_buf(&e->pck_der[i]);
	for (size_t which = 0; which < 3; which++) {
		for (size_t at = 0; at < e->pck_der[which].len; at += stride) {
			char *flipped = pem_flipped(&e->pck_der[which], at), *chain;

			chain = pem3(which == 1 ? flipped : pem[1], which == 2 ? flipped : pem[2], NULL);
			snprintf(key, sizeof(key), PPID, (unsigned)tried);
			add(b, BUNDLE_PCK_CERT, key, which == 0 ? flipped : pem[0],
			    strlen(which == 0 ? flipped : pem[0]), chain);
			free(flipped), free(chain);
			if (++tried % ITEMS_PER_POST == 0) {
				post_counting(e, b, &refused);
				b = bundle_new();
			}
		}
	}
	if (b->n > 0)
		post_counting(e, b, &refused);
	else
		bundle_free(b);
	fprintf(stderr, "PCK chain (%zu + %zu + %zu bytes): %zu mutations, %zu refused\n", e->pck_der[0].len,
		e->pck_der[1].len, e->pck_der[2].len, tried, refused);
	for (size_t i = 0; i < 3; i++)
		free(pem[i]);
	assert_true(tried > 100);
	assert_int_equal(refused, tried);
}

/*
 * A TCB Signing certificate OpenSSL's verifier accepts but Intel's profile
 * refuses (its notAfter, before 2050, as GeneralizedTime: RFC 5280
 * 4.1.2.5), re-signed by the trusted synthetic root: the quote verifiers
 * would refuse every quote with it, and the import refuses it, through the
 * same reader; the genuine certificate beside it verifies.
 */
static void what_openssl_accepts_but_intels_profile_refuses_is_refused(void **state)
{
	struct env *e = env_of(state);
	struct intel_devplat_qe_identity q;
	ASN1_TIME *na = ASN1_GENERALIZEDTIME_set(NULL, (time_t)(1750377600 + 365 * 86400));
	STACK_OF(X509) *anchors = sk_X509_new_null(), *untrusted = sk_X509_new_null();
	struct x509_verify_opts o = {.time = 1750377600};
	X509 *tcb = X509_dup(e->dev->tcb);
	char *body = NULL, *root, *signer, *good, *bad;
	struct bundle *b = bundle_new();
	size_t len = 0;
	long status;
	json_t *a;

	assert_non_null(na);
	assert_non_null(tcb);
	assert_true(X509_set1_notAfter(tcb, na) == 1 && X509_sign(tcb, e->dev->root_key, EVP_sha256()) > 0);
	assert_true(sk_X509_push(anchors, e->dev->root) > 0);
	o.anchors = anchors;
	assert_int_equal(x509_chain_verify(tcb, untrusted, &o, NULL, "t", NULL), ATTEST_OK);
	intel_devplat_qe_identity_default(&q);
	q.id = "QE";
	assert_int_equal(intel_devplat_qe_identity(e->dev, &q, &body, &len, NULL), ATTEST_OK);
	root = pem_of_x509(e->dev->root);
	signer = pem_of_x509(tcb);
	good = pem3_own(pem_of_x509(e->dev->tcb), root, NULL);
	bad = pem3(signer, root, NULL);
	add(b, BUNDLE_QE_IDENTITY, "sgx/qe/identity", body, len, good);
	add(b, BUNDLE_QE_IDENTITY, "sgx/qe/identity/early", body, len, bad);
	a = post(e, b, &status);
	assert_int_equal(status, 400);
	assert_string_equal(json_string_value(json_object_get(row(a, "sgx/qe/identity"), "status")),
			    "verified");
	expect_refused(a, "sgx/qe/identity/early", "collateral.import.chain.der.time",
		       "issuer chain: ", "certificate 1 of the chain");
	json_decref(a);
	bundle_free(b);
	free(body), free(root), free(signer), free(good), free(bad);
	sk_X509_free(anchors), sk_X509_free(untrusted); /* borrowed */
	ASN1_TIME_free(na);
	X509_free(tcb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(genuine_intel_items_verify_through_the_der_reader),
	    cmocka_unit_test(issuer_chain_faults_are_named_with_the_certificate),
	    cmocka_unit_test(crl_faults_are_named),
	    cmocka_unit_test(pck_chain_faults_are_named_with_the_certificate),
	    cmocka_unit_test(no_flipped_byte_of_a_pck_chain_verifies),
	    cmocka_unit_test(what_openssl_accepts_but_intels_profile_refuses_is_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
