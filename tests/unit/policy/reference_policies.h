#ifndef ATTEST_POLICY_REFERENCE_POLICIES_H
#define ATTEST_POLICY_REFERENCE_POLICIES_H

/*
 * The example policies of maa-interface.md §3.7, as written there, with the
 * placeholders (<64 hex chars>, <old>, ...) replaced by concrete values.
 * Shared by the tests, the fuzz seeds and the benchmarks.
 */

#define REF_HEX64_A "2c1a44952ae8207135c6c29b75b8c029372ee94b677e15c20bd42340f10d41aa"
#define REF_HEX64_B "1111111111111111111111111111111111111111111111111111111111111111"
#define REF_HEX64_PCR7 "3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969"
#define REF_HEX64_HOST "73973b78d70cc68353426de188db5dfc57e5b766e399935fb73a61127ea26d20"
#define REF_HEX96_MRTD \
	"b65ea009e424e6f761fdd3d7c8962439453b37ecdf62da04f7bc5d327686bb8bafc8a5d24a9c31cee60e4aba87c2f71b"
#define REF_B64URL_AUTHOR "T2ZmaWNpYWxBdXRob3JJZA"
#define REF_B64URL_IMAGE "SW1hZ2VJZDEyMzQ1Njc4OQ"

static const char REF_SGX_PIN[] =
	"version=1.0;\n"
	"authorizationrules {\n"
	"    [type==\"x-ms-sgx-is-debuggable\", value==false] &&\n"
	"    [type==\"x-ms-sgx-mrsigner\", value==\"" REF_HEX64_A "\"] &&\n"
	"    [type==\"x-ms-sgx-product-id\", value==7] &&\n"
	"    [type==\"x-ms-sgx-svn\", value>=3] => permit();\n"
	"};\n"
	"issuancerules {\n"
	"    c:[type==\"x-ms-sgx-mrenclave\"] => issue(type=\"enclave-id\", value=c.value);\n"
	"};\n";

static const char REF_SGX_ROTATION[] =
	"version=1.1;\n"
	"configurationrules { => issueproperty(type=\"x-ms-sgx-tcbidentifier\", value=\"15\"); };\n"
	"authorizationrules {\n"
	"    [type==\"x-ms-sgx-is-debuggable\", value==false] && [type==\"x-ms-sgx-mrsigner\", value==\"" REF_HEX64_A
	"\"] => permit();\n"
	"    [type==\"x-ms-sgx-is-debuggable\", value==false] && [type==\"x-ms-sgx-mrsigner\", value==\"" REF_HEX64_B
	"\"] => permit();\n"
	"};\n"
	"issuancerules { };\n";

static const char REF_TPM_11[] =
	"version=1.1;\n"
	"configurationrules {\n"
	"    => issueproperty(type=\"required_pcr_mask\", value=15);\n"
	"    => issueproperty(type=\"require_valid_aik_cert\", value=false);\n"
	"};\n"
	"authorizationrules { => permit(); };\n"
	"issuancerules {\n"
	"    [type==\"aikValidated\", value==true] && [type==\"secureBootEnabled\", value==true] &&\n"
	"    [type==\"bootDebuggingDisabled\", value==true] && [type==\"notSafeMode\", value==true]\n"
	"        => issue(type=\"PlatformAttested\", value=true);\n"
	"    [type==\"aikValidated\", value==false] => issue(type=\"PlatformAttested\", value=false);\n"
	"};\n";

static const char REF_TPM_12[] =
	"version=1.2;\n"
	"authorizationrules {\n"
	"    c:[type==\"pcrs\", issuer==\"AttestationService\"] =>\n"
	"        add(type=\"pcr7ok\", value=JsonToClaimValue(JmesPath(c.value,\n"
	"            \"PCRs[? Index == `7`].Digests.SHA256 | @[0] == '" REF_HEX64_PCR7 "'\")));\n"
	"    [type==\"pcr7ok\", value==true] => permit();\n"
	"};\n"
	"issuancerules {\n"
	"    c:[type==\"events\", issuer==\"AttestationService\"] => add(type=\"efiVars\",\n"
	"        value=JmesPath(c.value, \"Events[?EventTypeString == 'EV_EFI_VARIABLE_DRIVER_CONFIG']\"));\n"
	"    c:[type==\"efiVars\", issuer==\"AttestationPolicy\"] => issue(type=\"secureBootEnabled\",\n"
	"        value=JsonToClaimValue(JmesPath(c.value,\n"
	"            \"[?ProcessedData.UnicodeName == 'SecureBoot'] | length(@) == `1` && "
	"@[0].ProcessedData.VariableData == 'AQ'\")));\n"
	"    ![type==\"secureBootEnabled\", issuer==\"AttestationPolicy\"] => issue(type=\"secureBootEnabled\", "
	"value=false);\n"
	"};\n";

static const char REF_VBS[] =
	"version=1.2;\n"
	"authorizationrules {\n"
	"    [type==\"vsmReportPresent\", value==true] && [type==\"enclaveAuthorId\", value==\"" REF_B64URL_AUTHOR
	"\"] &&\n"
	"    [type==\"enclaveImageId\", value==\"" REF_B64URL_IMAGE "\"] && [type==\"enclaveSvn\", value>=1] => permit();\n"
	"};\n"
	"issuancerules { };\n";

static const char REF_SNP[] =
	"version=1.0;\n"
	"authorizationrules {\n"
	"    [type==\"x-ms-attestation-type\", value==\"sevsnpvm\"] &&\n"
	"    [type==\"x-ms-compliance-status\", value==\"azure-compliant-uvm\"] &&\n"
	"    [type==\"x-ms-sevsnpvm-is-debuggable\", value==false] &&\n"
	"    [type==\"x-ms-sevsnpvm-hostdata\", value==\"" REF_HEX64_HOST "\"] => permit();\n"
	"};\n"
	"issuancerules {\n"
	"    c:[type==\"x-ms-sevsnpvm-launchmeasurement\"] => issue(type=\"measurement\", value=c.value);\n"
	"};\n";

static const char REF_AZUREGUEST[] =
	"version=1.0;\n"
	"authorizationrules {\n"
	"    [type==\"secureboot\", value==false] => deny();\n"
	"    [type==\"x-ms-azurevm-debuggersdisabled\", value==false] => deny();\n"
	"    [type==\"x-ms-azurevm-signingdisabled\", value==false] => deny();\n"
	"    [type==\"x-ms-azurevm-dbvalidated\", value==false] => deny();\n"
	"    [type==\"x-ms-azurevm-dbxvalidated\", value==false] => deny();\n"
	"    => permit();\n"
	"};\n"
	"issuancerules { };\n";

static const char REF_TDX[] =
	"version=1.0;\n"
	"authorizationrules {\n"
	"    [type==\"x-ms-attestation-type\", value==\"tdxvm\"] && [type==\"tdx_td_attributes_debug\", value==false] &&\n"
	"    [type==\"attester_tcb_status\", value==\"UpToDate\"] && [type==\"tdx_mrtd\", value==\"" REF_HEX96_MRTD
	"\"] => permit();\n"
	"};\n"
	"issuancerules { };\n";

/* DOCS/author-sign-policy's sample: `=` in conditions, no `;` after rules. */
static const char REF_DOCS_AUTHOR[] =
	"version=1.0;\n"
	"authorizationrules\n"
	"{\n"
	"    c:[type=\"secureBootEnabled\", issuer==\"AttestationService\"]=> permit()\n"
	"};\n"
	"\n"
	"issuancerules\n"
	"{\n"
	"    c:[type=\"secureBootEnabled\", issuer==\"AttestationService\"]=> issue(claim=c)\n"
	"    c:[type=\"notSafeMode\", issuer==\"AttestationService\"]=> issue(claim=c)\n"
	"};\n";

static const struct {
	const char *name;
	const char *text;
} REF_POLICIES[] = {
	{"sgx_pin", REF_SGX_PIN}, {"sgx_rotation", REF_SGX_ROTATION}, {"tpm_11", REF_TPM_11},
	{"tpm_12", REF_TPM_12},   {"vbs", REF_VBS},                   {"snp", REF_SNP},
	{"azureguest", REF_AZUREGUEST}, {"tdx", REF_TDX},             {"docs_author", REF_DOCS_AUTHOR},
};

#endif
