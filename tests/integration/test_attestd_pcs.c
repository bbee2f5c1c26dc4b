/*
 * attestd with online collateral (issue 12): a real SGX quote attested by a
 * real attestd whose Intel collateral comes from a local HTTPS server
 * replaying real PCS answers (tests/unit/collateral/test_pcs_server.h),
 * cached in the store: a second attestation asks upstream nothing, and a
 * restarted attestd in offline mode attests from the store alone with the
 * upstream gone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/codec.h"
#include "harness.h"
#include "testutil.h"
#include "test_pcs_server.h"

#define VEC "sgx/phala-sgx-v3-00a067110000-2023-11"

static char *attest_body(const char *vectors)
{
	size_t n = 0;
	unsigned char *q = test_read_vector(vectors, VEC "/quote.bin", &n);
	char *b64 = q ? b64url_encode(q, n) : NULL, *body = NULL;

	if (b64 && (body = malloc(strlen(b64) + 32)) != NULL)
		sprintf(body, "{\"quote\":\"%s\"}", b64);
	free(b64);
	free(q);
	return body;
}

static long attest(const struct attestd_proc *p, const char *body)
{
	const char *const hdrs[] = {"Content-Type: application/json", NULL};
	struct http_reply r;
	long st;

	assert_int_equal(http_do(p, "POST", "/attest/SgxEnclave?api-version=2022-08-01", hdrs, body, strlen(body),
				 NULL, &r),
			 0);
	st = r.status;
	if (st != 200)
		fprintf(stderr, "attest answered %ld: %s\n", st, r.body ? r.body : "");
	http_reply_free(&r);
	return st;
}

static void collateral_is_fetched_once_cached_in_the_store_and_served_offline(void **state)
{
	struct tps up = {0};
	struct attestd_proc p;
	char vdir[128], ca[512], route[256];
	unsigned first;
	char *body;
	FILE *f;

	(void)state;
	REQUIRE_VECTORS(vectors);
	snprintf(vdir, sizeof(vdir), "%s", VEC);
	assert_true(tps_add_intel(&up, vectors, vdir));
	/* A PCCS serves the root CA CRL at this path. */
	snprintf(route, sizeof(route), "%s/root_ca_crl.der", vdir);
	assert_true(tps_route_file(&up, vectors, "/sgx/certification/v4/rootcacrl", route, NULL, NULL,
				   "application/pkix-crl"));
	assert_true(tps_start(&up));
	body = attest_body(vectors);
	assert_non_null(body);

	assert_int_equal(attestd_prepare(&p), 0);
	snprintf(ca, sizeof(ca), "%s/upstream-ca.pem", p.dir);
	f = fopen(ca, "w");
	fputs(up.cert_pem, f);
	fclose(f);
	const char *const online[] = {"--pcs-url", up.base, "--collateral-ca-file", ca, "--test-fixed-time",
				      "1700611200", NULL};
	assert_int_equal(attestd_launch(&p, online), 0);
	assert_int_equal(attest(&p, body), 200);
	first = atomic_load(&up.requests);
	assert_true(first >= 4); /* TCB Info, QE identity, PCK CRL, root CA CRL */
	assert_int_equal(attest(&p, body), 200);
	assert_int_equal(atomic_load(&up.requests), first); /* all from the cache */
	attestd_stop(&p, SIGTERM);

	/* The upstream is gone; a restarted node in offline mode attests from the store. */
	tps_stop(&up);
	const char *const offline[] = {"--collateral-offline", "--test-fixed-time", "1700611200", NULL};
	assert_int_equal(attestd_launch(&p, offline), 0);
	assert_int_equal(attest(&p, body), 200);
	attestd_stop(&p, SIGTERM);
	attestd_cleanup(&p);
	free(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(collateral_is_fetched_once_cached_in_the_store_and_served_offline),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
