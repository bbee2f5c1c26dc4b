/*
 * A provider's registered AIKs and CVM measurements from its settings
 * (src/server/provider_trust.h): both spellings of an AIK give the same
 * hash, every malformed entry is refused by name, and absent members
 * register nothing.
 */
#include "base/codec.h"
#include "evidence/tpm.h"
#include "server/provider_trust.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

static char *pem_of(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *out;
	long n;

	assert_int_equal(PEM_write_bio_PUBKEY(b, k), 1);
	n = BIO_get_mem_data(b, &p);
	out = strndup(p, (size_t)n);
	BIO_free(b);
	return out;
}

static void an_aik_registers_by_hash_or_by_pem(void **state)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	uint8_t h[32];
	char *b64, *pem = pem_of(k);
	json_t *s;
	struct provider_trust *t = NULL;
	const struct evidence_tenant *ten;

	(void)state;
	assert_int_equal(tpm_pkey_spki_sha256(k, h), 0);
	b64 = b64std_encode(h, 32);
	s = json_pack("{s:{s:[s,s]}, s:{s:[s]}, s:i}", "tpm", "registeredAiks", b64, pem, "azureGuest",
		      "cvmMeasurements",
		      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aa"
		      "bbccddeeff",
		      "rate_burst", 5);
	assert_int_equal(provider_trust_from_json(s, &t, NULL), 0);
	ten = provider_trust_tenant(t);
	assert_non_null(ten);
	assert_int_equal(ten->n_registered_aiks, 2);
	assert_memory_equal(ten->registered_aiks[0], h, 32);
	assert_memory_equal(ten->registered_aiks[1], h, 32);
	assert_int_equal(ten->n_cvm_measurements, 1);
	assert_int_equal(ten->cvm_measurements[0][47], 0xff);
	provider_trust_free(t);
	json_decref(s);
	free(b64);
	free(pem);
	EVP_PKEY_free(k);
}

static void settings_without_them_register_nothing(void **state)
{
	struct provider_trust *t = NULL;

	(void)state;
	assert_int_equal(provider_trust_parse("{\"rate_limit\":3}", &t, NULL), 0);
	assert_null(provider_trust_tenant(t));
	provider_trust_free(t);
	assert_int_equal(provider_trust_parse(NULL, &t, NULL), 0);
	assert_null(provider_trust_tenant(t));
	provider_trust_free(t);
	assert_int_equal(provider_trust_parse("{\"tpm\":{\"registeredAiks\":[]}}", &t, NULL), 0);
	assert_null(provider_trust_tenant(t));
	provider_trust_free(t);
}

static void malformed_entries_are_refused_by_name(void **state)
{
	static const struct {
		const char *json, *name;
	} bad[] = {
	    {"[1]", "provider.settings.json"},
	    {"{\"tpm\":[]}", "provider.settings.tpm"},
	    {"{\"tpm\":{\"registeredAiks\":\"x\"}}", "provider.settings.tpm"},
	    {"{\"tpm\":{\"registeredAiks\":[\"AAAA\"]}}", "provider.settings.aik"}, /* 3 bytes, not 32 */
	    {"{\"tpm\":{\"registeredAiks\":[7]}}", "provider.settings.aik"},
	    {"{\"tpm\":{\"registeredAiks\":[\"-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC "
	     "KEY-----\\n\"]}}",
	     "provider.settings.aik"},
	    {"{\"azureGuest\":1}", "provider.settings.azure_guest"},
	    {"{\"azureGuest\":{\"cvmMeasurements\":[\"00\"]}}", "provider.settings.measurement"},
	    {"{\"azureGuest\":{\"cvmMeasurements\":["
	     "\"zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0011"
	     "2233445566778899aabbccddeeff\"]}}",
	     "provider.settings.measurement"},
	    {"{\"tpm\":", "provider.settings.json"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct provider_trust *t = NULL;
		struct attest_err err;

		attest_err_clear(&err);
		assert_int_not_equal(provider_trust_parse(bad[i].json, &t, &err), 0);
		assert_null(t);
		if (strcmp(err.name, bad[i].name) != 0)
			fail_msg("%s: %s, expected %s", bad[i].json, err.name, bad[i].name);
	}
}

static void more_entries_than_the_bound_are_refused(void **state)
{
	json_t *a = json_array(), *s;
	struct provider_trust *t = NULL;
	struct attest_err err;

	(void)state;
	for (int i = 0; i <= PROVIDER_TRUST_MAX_MEASUREMENTS; i++)
		json_array_append_new(a, json_string("00"));
	s = json_pack("{s:{s:o}}", "azureGuest", "cvmMeasurements", a);
	attest_err_clear(&err);
	assert_int_not_equal(provider_trust_from_json(s, &t, &err), 0);
	assert_string_equal(err.name, "provider.settings.count");
	json_decref(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(an_aik_registers_by_hash_or_by_pem),
	    cmocka_unit_test(settings_without_them_register_nothing),
	    cmocka_unit_test(malformed_entries_are_refused_by_name),
	    cmocka_unit_test(more_entries_than_the_bound_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
