/* evidence/anchors.c: extra roots go to their vendor's slot by common name, beside the built-in ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "devplat/tpm_ca.h"
#include "evidence/anchors.h"

#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

/* PEM text of self-signed certificates with these common names (caller frees). */
static char *pem_of(const char *const *cns, size_t n)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p, *out;
	long len;

	for (size_t i = 0; i < n; i++) {
		struct devplat_tpm_ca *ca = NULL;

		assert_int_equal(devplat_tpm_ca_new(cns[i], 0, 2000000000, &ca, NULL), ATTEST_OK);
		assert_int_equal(PEM_write_bio_X509(bio, ca->cert), 1);
		devplat_tpm_ca_free(ca);
	}
	len = BIO_get_mem_data(bio, &p);
	out = strndup(p, (size_t)len);
	BIO_free(bio);
	return out;
}

static int count(STACK_OF(X509) * s)
{
	return s ? sk_X509_num(s) : 0;
}

static void extra_roots_are_sorted_by_common_name(void **state)
{
	static const char *const CNS[] = {"Intel SGX Root CA", "ARK-Genoa", "ARK-Nonsense",
					  "Intel SGX PCK Platform CA", "attestd development AIK CA"};
	struct evidence_anchors a = {0};
	char *pem = pem_of(CNS, 5);

	(void)state;
	assert_int_equal(evidence_anchors_add_pem(&a, (const uint8_t *)pem, strlen(pem), "t", NULL),
			 ATTEST_OK);
	assert_int_equal(count(a.intel_sgx_roots), 1);
	assert_int_equal(count(a.amd_arks), 1);
	/* Names no vendor gives its root (an unknown product, an intermediate's) are not vendor roots. */
	assert_int_equal(count(a.tpm_roots), 3);
	evidence_anchors_clear(&a);
	assert_null(a.tpm_roots);
	free(pem);
}

static void extra_roots_go_beside_the_builtin_ones(void **state)
{
	static const char *const CNS[] = {"ARK-Milan"};
	struct evidence_anchors a = {0};
	char *pem = pem_of(CNS, 1);
	int builtin_arks;

	(void)state;
	assert_int_equal(evidence_anchors_builtin(&a, NULL), ATTEST_OK);
	assert_int_equal(count(a.intel_sgx_roots), 1);
	builtin_arks = count(a.amd_arks);
	assert_true(builtin_arks >= 2);
	assert_int_equal(evidence_anchors_add_pem(&a, (const uint8_t *)pem, strlen(pem), "t", NULL),
			 ATTEST_OK);
	assert_int_equal(count(a.amd_arks), builtin_arks + 1);
	evidence_anchors_clear(&a);
	free(pem);
}

static void text_that_is_not_pem_is_refused(void **state)
{
	struct evidence_anchors a = {0};
	struct attest_err err = {0};

	(void)state;
	assert_int_not_equal(evidence_anchors_add_pem(
				 &a, (const uint8_t *)"-----BEGIN CERTIFICATE-----\nAAAA\n", 33, "t", &err),
			     ATTEST_OK);
	assert_string_equal(err.name, "t.parse");
	evidence_anchors_clear(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(extra_roots_are_sorted_by_common_name),
	    cmocka_unit_test(extra_roots_go_beside_the_builtin_ones),
	    cmocka_unit_test(text_that_is_not_pem_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
