/*
 * The verifier registration table of the attest pipeline (pipeline.h).
 * Registering a type = one row here (its verifier) + its claim catalogue
 * in src/token/catalogue.c. A row with no verifier is routed and answers
 * 501 NotImplemented, saying why.
 */
#include "server/pipeline.h"

#include "evidence/azure_cvm.h"
#include "evidence/azure_guest.h"
#include "evidence/sgx.h"
#include "evidence/tdx.h"

static const struct pipeline_verifier VERIFIERS[MAA_TYPE_COUNT] = {
    [MAA_TYPE_SGX_ENCLAVE] = {MAA_TYPE_SGX_ENCLAVE, sgx_verify, NULL},
    [MAA_TYPE_OPEN_ENCLAVE] = {MAA_TYPE_OPEN_ENCLAVE, oe_verify, NULL},
    [MAA_TYPE_SEV_SNP_VM] = {MAA_TYPE_SEV_SNP_VM, sevsnpvm_verify, NULL},
    [MAA_TYPE_TDX_VM] = {MAA_TYPE_TDX_VM, tdx_verify, NULL},
    /* TPM is a two-leg protocol with its own route, not a one-shot verifier. */
    [MAA_TYPE_TPM] = {MAA_TYPE_TPM, NULL, "TPM attestation uses the protocol route"},
    [MAA_TYPE_AZURE_GUEST] = {MAA_TYPE_AZURE_GUEST, azure_guest_verify, NULL},
};

const struct pipeline_verifier *pipeline_verifier_find(enum maa_type type)
{
	return (unsigned)type < MAA_TYPE_COUNT ? &VERIFIERS[type] : NULL;
}
