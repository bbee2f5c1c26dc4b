/*
 * libFuzzer target: the strict DER reader of Intel's certificate and CRL
 * profile (crypto/x509_der.h) and chain verification over it.
 *
 * Byte 0 picks the input: 0 a certificate, 1 a CRL (the rest of the
 * input), 2 a real Intel certificate or CRL read at start-up from
 * $ATTEST_VECTORS (byte 1 picks it, bytes 2-3 the offset, the rest is XORed
 * in there), so mutations land deep inside real structures.
 *
 * Checks, beyond "a failure names itself" and ASan/UBSan: whatever the
 * reader accepts, OpenSSL's d2i_X509 / d2i_X509_CRL accept as well, whole,
 * with the same signed bytes, the same validity or update times, the same
 * issuer Name, serial and public key (x509_der.h's promise: the profile
 * is narrower than OpenSSL's, never wider).
 * Seeds: fuzz/crypto/corpus/fuzz_x509_der (the synthetic platform's
 * certificates and CRLs, written by test_x509_der with
 * ATTEST_WRITE_FUZZ_CORPUS=1).
 */
#include "crypto/crypto.h"
#include "crypto/x509_der.h"
#include "testutil.h"

#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_REAL 48

static const char *const QUOTES[] = {
    "sgx/phala-sgx-v3-00a067110000-2025-06/quote.bin",
    "tdx/phala-tdx-v4-b0c06f000000-2025-06/quote.bin",
    "tdx/google-tdx-v5-90c06f000000-2026-02/quote.bin",
    "oe/openenclave-plugin-evidence-00906ed50000-2022-04-26/quote.bin",
};
static const char *const CRLS[] = {
    "sgx/phala-sgx-v3-00a067110000-2025-06/pck_crl.der",
    "sgx/phala-sgx-v3-00a067110000-2025-06/root_ca_crl.der",
    "tdx/phala-tdx-v4-b0c06f000000-2025-06/pck_crl.der",
    "tdx/automata-zkdcap-tdx-v4-00806f050000-2025-06/pck_crl.der",
};

static struct {
	uint8_t *der;
	size_t len;
	bool crl;
} real[MAX_REAL];
static size_t n_real;

static void add_real(const uint8_t *p, size_t n, bool crl)
{
	if (n_real == MAX_REAL || (real[n_real].der = malloc(n)) == NULL)
		return;
	memcpy(real[n_real].der, p, n);
	real[n_real].len = n;
	real[n_real++].crl = crl;
}

/* Every certificate of the PEM chain a quote carries, as DER. */
static void add_quote_certs(const uint8_t *q, size_t n)
{
	STACK_OF(X509) *sk = NULL;
	const char *b = "-----BEGIN CERTIFICATE-----", *e = "-----END CERTIFICATE-----";
	const uint8_t *s = memmem(q, n, b, strlen(b)), *t, *last = NULL;

	if (s == NULL)
		return;
	for (t = s; (t = memmem(t, n - (size_t)(t - q), e, strlen(e))) != NULL; t += strlen(e))
		last = t;
	if (last == NULL ||
	    x509_stack_from_pem(s, (size_t)(last - s) + strlen(e), &sk, "fuzz", NULL) != ATTEST_OK)
		return;
	for (int i = 0; i < sk_X509_num(sk); i++) {
		unsigned char *der = NULL;
		int len = i2d_X509(sk_X509_value(sk, i), &der);

		if (len > 0)
			add_real(der, (size_t)len, false);
		OPENSSL_free(der);
	}
	sk_X509_pop_free(sk, X509_free);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *vec = getenv("ATTEST_VECTORS");
	uint8_t *p;
	size_t n = 0;

	(void)argc;
	(void)argv;
	for (size_t i = 0; vec != NULL && i < sizeof(QUOTES) / sizeof(QUOTES[0]); i++) {
		if ((p = test_read_vector(vec, QUOTES[i], &n)) != NULL)
			add_quote_certs(p, n);
		free(p);
	}
	for (size_t i = 0; vec != NULL && i < sizeof(CRLS) / sizeof(CRLS[0]); i++) {
		if ((p = test_read_vector(vec, CRLS[i], &n)) != NULL)
			add_real(p, n, true);
		free(p);
	}
	return 0;
}

static int64_t ossl_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		abort();
	return (int64_t)timegm(&tm);
}

static void same_bytes(const void *a, size_t an, const void *b, size_t bn)
{
	if (an != bn || memcmp(a, b, an) != 0)
		abort();
}

/* OpenSSL reads the same certificate the same way. */
static void cert_agrees(const struct x509_der_cert *c)
{
	const unsigned char *p = c->der.p;
	unsigned char *enc = NULL;
	X509 *x = d2i_X509(NULL, &p, (long)c->der.n);
	const ASN1_INTEGER *sn;
	int n;

	if (x == NULL || (size_t)(p - c->der.p) != c->der.n)
		abort();
	if ((n = i2d_re_X509_tbs(x, &enc)) <= 0)
		abort();
	same_bytes(enc, (size_t)n, c->tbs.p, c->tbs.n);
	OPENSSL_free(enc);
	enc = NULL;
	if ((n = i2d_X509_NAME(X509_get_issuer_name(x), &enc)) <= 0)
		abort();
	same_bytes(enc, (size_t)n, c->issuer.p, c->issuer.n);
	OPENSSL_free(enc);
	sn = X509_get0_serialNumber(x);
	same_bytes(ASN1_STRING_get0_data(sn), (size_t)ASN1_STRING_length(sn),
		   c->serial.p + (c->serial.n > 1 && c->serial.p[0] == 0),
		   c->serial.n - (c->serial.n > 1 && c->serial.p[0] == 0));
	if (ossl_time(X509_get0_notBefore(x)) != c->not_before ||
	    ossl_time(X509_get0_notAfter(x)) != c->not_after)
		abort();
	if (X509_get0_pubkey(x) == NULL || EVP_PKEY_eq(X509_get0_pubkey(x), c->key) != 1)
		abort();
	X509_free(x);
}

static void crl_agrees(const struct x509_der_crl *c)
{
	const unsigned char *p = c->der.p;
	unsigned char *enc = NULL;
	X509_CRL *x = d2i_X509_CRL(NULL, &p, (long)c->der.n);
	STACK_OF(X509_REVOKED) * revoked;
	int n;

	if (x == NULL || (size_t)(p - c->der.p) != c->der.n)
		abort();
	if ((n = i2d_re_X509_CRL_tbs(x, &enc)) <= 0)
		abort();
	same_bytes(enc, (size_t)n, c->tbs.p, c->tbs.n);
	OPENSSL_free(enc);
	revoked = X509_CRL_get_REVOKED(x);
	if (ossl_time(X509_CRL_get0_lastUpdate(x)) != c->this_update ||
	    ossl_time(X509_CRL_get0_nextUpdate(x)) != c->next_update ||
	    (size_t)(revoked ? sk_X509_REVOKED_num(revoked) : 0) != c->n_revoked)
		abort();
	X509_CRL_free(x);
}

/* Runs the verifier on a certificate as its own anchor, with the CRL when one is given. */
static void verify_self(const struct x509_der_cert *c, struct x509_der_crl *crl)
{
	const struct x509_der_cert *anchors[1] = {c};
	struct x509_der_verify_opts o = {.time = 1750377600, .anchors = anchors, .n_anchors = 1};
	struct attest_err err;
	int rc;

	if (crl != NULL)
		o.crls = &crl, o.n_crls = 1;
	attest_err_clear(&err);
	rc = x509_der_chain_verify(&c, 1, &o, NULL, "fuzz", &err);
	if (rc != ATTEST_OK && err.name[0] == '\0')
		abort();
	if (crl != NULL)
		(void)x509_der_crl_lists(crl, c->serial);
}

static void run(const uint8_t *p, size_t n, bool crl)
{
	struct x509_der_cert *c = NULL;
	struct x509_der_crl *l = NULL;
	struct attest_err err;
	int rc;

	attest_err_clear(&err);
	if (crl) {
		rc = x509_der_crl_parse(p, n, &l, "fuzz", &err);
		if (rc == ATTEST_OK) {
			crl_agrees(l);
			/* The first real root as the CRL's supposed issuer. */
			for (size_t i = 0; i < n_real; i++)
				if (!real[i].crl && x509_der_cert_parse(real[i].der, real[i].len, &c, "fuzz",
									NULL) == ATTEST_OK)
					break;
			if (c != NULL)
				verify_self(c, l);
		}
	} else {
		rc = x509_der_cert_parse(p, n, &c, "fuzz", &err);
		if (rc == ATTEST_OK) {
			char cn[64];

			cert_agrees(c);
			x509_der_name_cn(c->subject, cn, sizeof(cn));
			verify_self(c, NULL);
		}
	}
	if (rc != ATTEST_OK && err.name[0] == '\0')
		abort();
	x509_der_cert_free(c);
	x509_der_crl_free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *m;
	size_t v, off;

	if (size < 1 || size > X509_DER_CERT_MAX)
		return 0;
	if (data[0] % 3 < 2) {
		run(data + 1, size - 1, data[0] % 3 == 1);
		return 0;
	}
	if (size < 4 || n_real == 0)
		return 0;
	v = data[1] % n_real;
	if ((m = malloc(real[v].len)) == NULL)
		return 0;
	memcpy(m, real[v].der, real[v].len);
	off = ((size_t)data[2] << 8 | data[3]) % real[v].len;
	for (size_t i = 4; i < size && off < real[v].len; i++, off++)
		m[off] ^= data[i];
	run(m, real[v].len, real[v].crl);
	free(m);
	return 0;
}
