/* libattest's public interface (include/attest/attest.h), as a relying party uses it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "attest/attest.h"
#include "testutil.h"

#define SGX "sgx/phala-sgx-v3-00a067110000-2023-11"
#define MAA "maa-tokens/js-2022-01-28-sharedwus"

static void evidence_verifies_into_claims_json(void **state)
{
	struct attest_verifier_opts o = {.now = 1700611200};
	struct attest_verifier *v = NULL;
	struct attest_err err = {0};
	char dir[4096], *claims = NULL;
	unsigned char *quote;
	size_t n = 0;

	REQUIRE_VECTORS(vectors);
	snprintf(dir, sizeof(dir), "%s/%s", vectors, SGX);
	o.collateral_dir = dir;
	quote = test_read_vector(vectors, SGX "/quote.bin", &n);
	assert_non_null(quote);
	assert_int_equal(attest_verifier_new(&o, &v, &err), ATTEST_OK);
	assert_int_equal(attest_verify_evidence(v, "SgxEnclave", quote, n, NULL, 0, &claims, &err), ATTEST_OK);
	assert_non_null(strstr(claims, "\"x-ms-sgx-mrenclave\":\"33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb\""));
	assert_non_null(strstr(claims, "\"x-ms-sgx-tcb-status\":\"ConfigurationAndSWHardeningNeeded\""));
	attest_free(claims);
	/* Twice on the same handle: the second uses the verified-collateral cache. */
	claims = NULL;
	assert_int_equal(attest_verify_evidence(v, "SgxEnclave", quote, n, NULL, 0, &claims, &err), ATTEST_OK);
	attest_free(claims);
	/* One bit of the report body changed. */
	quote[48 + 100] ^= 0x10;
	claims = NULL;
	assert_int_not_equal(attest_verify_evidence(v, "SgxEnclave", quote, n, NULL, 0, &claims, &err), ATTEST_OK);
	assert_null(claims);
	assert_true(strncmp(err.name, "sgx.", 4) == 0);
	attest_verifier_free(v);
	free(quote);
}

static void unknown_type_and_missing_arguments_are_refused(void **state)
{
	struct attest_verifier *v = NULL;
	struct attest_err err = {0};
	char *claims = NULL;

	assert_int_equal(attest_verifier_new(NULL, &v, &err), ATTEST_OK);
	assert_int_equal(attest_verify_evidence(v, "Nope", (const uint8_t *)"x", 1, NULL, 0, &claims, &err),
			 ATTEST_E_INVALID);
	assert_string_equal(err.name, "attest.type");
	attest_err_clear(&err);
	assert_int_equal(attest_verify_evidence(v, "SgxEnclave", NULL, 0, NULL, 0, &claims, &err), ATTEST_E_INVALID);
	attest_err_clear(&err);
	/* Garbage is a parse error, not a crash. */
	assert_int_not_equal(attest_verify_evidence(v, "SgxEnclave", (const uint8_t *)"garbage", 7, NULL, 0, &claims, &err),
			     ATTEST_OK);
	attest_verifier_free(v);
	attest_verifier_free(NULL);
}

static const char POLICY[] = "version=1.0; authorizationrules { c:[type==\"x-ms-sgx-svn\", value >= 2] => permit(); };"
			     " issuancerules { c:[type==\"x-ms-sgx-svn\"] => issue(type=\"svn\", value=c.value); };";

static void policy_evaluates_claims_json(void **state)
{
	struct attest_err err = {0};
	char *issued = NULL, *reason = NULL;
	int permitted = -1;

	assert_int_equal(attest_policy_evaluate(POLICY, strlen(POLICY), "{\"x-ms-sgx-svn\": 3}", &permitted, &issued,
						&reason, &err),
			 ATTEST_OK);
	assert_int_equal(permitted, 1);
	assert_string_equal(issued, "{\"svn\":3}");
	attest_free(issued);
	attest_free(reason);
	assert_int_equal(attest_policy_evaluate(POLICY, strlen(POLICY), "{\"x-ms-sgx-svn\": 1}", &permitted, NULL,
						&reason, &err),
			 ATTEST_OK);
	assert_int_equal(permitted, 0);
	assert_non_null(strstr(reason, "x-ms-sgx-svn"));
	attest_free(reason);
	assert_int_equal(attest_policy_evaluate(POLICY, strlen(POLICY), "[1,2]", &permitted, NULL, NULL, &err),
			 ATTEST_E_PARSE);
	attest_err_clear(&err);
	assert_int_equal(attest_policy_evaluate("version=1.0; nonsense", 21, "{}", &permitted, NULL, NULL, &err),
			 ATTEST_E_POLICY);
	assert_non_null(strstr(err.where, "line 1"));
}

static void token_verifies_against_a_real_azure_jwks(void **state)
{
	struct attest_token_opts o = {.issuer = "https://sharedwus.wus.attest.azure.net", .now = 1643440000, .skew = -1};
	struct attest_err err = {0};
	char *token, *jwks, *claims = NULL;
	size_t n = 0;

	REQUIRE_VECTORS(vectors);
	token = (char *)test_read_vector(vectors, MAA "/tokens/attest-SgxEnclave-binary-runtime.jwt", &n);
	jwks = (char *)test_read_vector(vectors, MAA "/certs.json", &n);
	assert_non_null(token);
	assert_non_null(jwks);
	token[strcspn(token, "\r\n")] = 0;
	assert_int_equal(attest_token_verify(token, jwks, &o, &claims, &err), ATTEST_OK);
	assert_non_null(strstr(claims, "\"x-ms-attestation-type\":\"sgx\""));
	attest_free(claims);
	o.nonce = "n-0";
	assert_int_equal(attest_token_verify(token, jwks, &o, NULL, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "token.nonce");
	attest_err_clear(&err);
	o.nonce = NULL;
	o.now = 0; /* today: long expired */
	assert_int_not_equal(attest_token_verify(token, jwks, &o, NULL, &err), ATTEST_OK);
	assert_string_equal(err.name, "jwt.expired");
	attest_err_clear(&err);
	assert_int_equal(attest_token_verify(token, "not json", &o, NULL, &err), ATTEST_E_PARSE);
	free(token);
	free(jwks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(evidence_verifies_into_claims_json),
		cmocka_unit_test(unknown_type_and_missing_arguments_are_refused),
		cmocka_unit_test(policy_evaluates_claims_json),
		cmocka_unit_test(token_verifies_against_a_real_azure_jwks),
	};
	printf("libattest %s\n", attest_version());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
