/* Trust anchors for the verifiers: see anchors.h. */
#include "evidence/anchors.h"

#include "crypto/crypto.h"
#include "evidence/amd_certs.h"
#include "evidence/pck.h"
#include "evidence/snp.h"

#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

/* Appends cert (its reference moves) to *stack, creating it. */
static int push(STACK_OF(X509) * *stack, X509 *cert)
{
	if (*stack == NULL && (*stack = sk_X509_new_null()) == NULL)
		return ATTEST_E_NOMEM;
	return sk_X509_push(*stack, cert) > 0 ? ATTEST_OK : ATTEST_E_NOMEM;
}

int evidence_anchors_builtin(struct evidence_anchors *a, struct attest_err *err)
{
	int rc = a->intel_sgx_roots ? ATTEST_OK : intel_sgx_default_roots(&a->intel_sgx_roots, err);

	for (int p = AMD_PRODUCT_MILAN; rc == ATTEST_OK && p < AMD_PRODUCT_COUNT; p++) {
		X509 *ark = NULL;

		if (amd_builtin_pem((enum amd_product)p, AMD_ROLE_ARK) == NULL)
			continue;
		rc = amd_builtin_cert((enum amd_product)p, AMD_ROLE_ARK, &ark, err);
		if (rc == ATTEST_OK && push(&a->amd_arks, ark) != ATTEST_OK) {
			X509_free(ark);
			rc = attest_err_set(err, ATTEST_E_NOMEM, "anchors.nomem", "out of memory");
		}
	}
	return rc;
}

/* The certificate's subject common name into cn ("" when it has none). */
static void subject_cn(X509 *cert, char *cn, size_t cap)
{
	cn[0] = '\0';
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, (int)cap) < 0)
		cn[0] = '\0';
}

/*
 * By the subject's common name, as the vendors name their roots: "Intel SGX
 * Root CA"; "ARK-<product>" for a product line AMD makes. Any other name is
 * taken as a TPM AIK or EK issuer (the development AIK CA, a privacy CA).
 */
static STACK_OF(X509) * *slot_of(struct evidence_anchors *a, X509 *cert)
{
	char cn[128];

	subject_cn(cert, cn, sizeof(cn));
	if (strcmp(cn, "Intel SGX Root CA") == 0)
		return &a->intel_sgx_roots;
	if (strncmp(cn, "ARK-", 4) == 0 &&
	    amd_product_from_name(cn + 4, strlen(cn + 4)) != AMD_PRODUCT_UNKNOWN)
		return &a->amd_arks;
	return &a->tpm_roots;
}

int evidence_anchors_add_pem(struct evidence_anchors *a, const uint8_t *pem, size_t len, const char *code,
			     struct attest_err *err)
{
	STACK_OF(X509) *certs = NULL;
	int rc = x509_stack_from_pem(pem, len, &certs, code, err);

	while (rc == ATTEST_OK && sk_X509_num(certs) > 0) {
		X509 *c = sk_X509_shift(certs);

		if (push(slot_of(a, c), c) != ATTEST_OK) {
			X509_free(c);
			rc = attest_err_set(err, ATTEST_E_NOMEM, "anchors.nomem", "out of memory");
		}
	}
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

void evidence_anchors_clear(struct evidence_anchors *a)
{
	sk_X509_pop_free(a->intel_sgx_roots, X509_free);
	sk_X509_pop_free(a->amd_arks, X509_free);
	sk_X509_pop_free(a->tpm_roots, X509_free);
	a->intel_sgx_roots = a->amd_arks = a->tpm_roots = NULL;
}
