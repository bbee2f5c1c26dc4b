/*
 * libFuzzer target: the X.509 loaders of crypto.h. The first byte picks
 * the loader for the rest: 0 x509_stack_from_pem, 1 x509_from_der,
 * 2 x509_crl_load (DER or PEM). Whatever loads is then described
 * (subject, SHA-256) and, for certificates, run through chain
 * verification against itself as anchor. Checks: a failure always names
 * itself; nothing leaks or reads out of bounds.
 */
#include "crypto/crypto.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_failed(int rc, const struct attest_err *err)
{
	if (rc != ATTEST_OK && err->name[0] == '\0')
		abort();
}

static void describe_chain(STACK_OF(X509) * sk)
{
	struct x509_verify_opts o = {.time = 1700000000, .anchors = sk};
	struct attest_err err;
	uint8_t d[32];
	char *s = x509_subject_str(sk_X509_value(sk, 0));
	int rc;

	free(s);
	(void)x509_sha256(sk_X509_value(sk, 0), d);
	attest_err_clear(&err);
	rc = x509_chain_verify(sk_X509_value(sk, 0), sk, &o, NULL, "fuzz.chain", &err);
	check_failed(rc, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct attest_err err;
	STACK_OF(X509) *sk = NULL;
	X509 *x = NULL;
	X509_CRL *crl = NULL;
	int rc;

	if (size < 1 || size > 65536)
		return 0;
	attest_err_clear(&err);
	switch (data[0] % 3) {
	case 0:
		rc = x509_stack_from_pem(data + 1, size - 1, &sk, "fuzz.pem", &err);
		check_failed(rc, &err);
		if (rc == ATTEST_OK) {
			describe_chain(sk);
			sk_X509_pop_free(sk, X509_free);
		}
		break;
	case 1:
		rc = x509_from_der(data + 1, size - 1, &x, "fuzz.der", &err);
		check_failed(rc, &err);
		if (rc == ATTEST_OK) {
			sk = sk_X509_new_null();
			if (sk != NULL && sk_X509_push(sk, x) > 0)
				describe_chain(sk);
			else
				X509_free(x);
			sk_X509_pop_free(sk, X509_free);
		}
		break;
	default:
		rc = x509_crl_load(data + 1, size - 1, &crl, "fuzz.crl", &err);
		check_failed(rc, &err);
		X509_CRL_free(crl);
		break;
	}
	return 0;
}
