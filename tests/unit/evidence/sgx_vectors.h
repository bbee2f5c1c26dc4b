#ifndef ATTEST_TEST_SGX_VECTORS_H
#define ATTEST_TEST_SGX_VECTORS_H

/*
 * The real SGX and OE vectors with what EXPECTED.md / oe MANIFEST say about
 * them, and a helper that builds an evidence context (file source over the
 * vector's collateral folder, a cache, the fixed "now"). Include after
 * cmocka and testutil.h.
 */

#include "collateral/collateral.h"
#include "evidence/evidence.h"

#include <string.h>

struct sgx_vector {
	const char *quote;	/* below $ATTEST_VECTORS */
	const char *collateral; /* folder below $ATTEST_VECTORS */
	int64_t now;
	const char *status;	/* final TCB status */
	const char *advisories; /* comma-separated, in order */
	const char *mrenclave;
	const char *mrsigner;
	int isvprodid, isvsvn;
	int eval_num;
	const char *runtime_data; /* file whose SHA-256 is REPORTDATA[0:32], or NULL */
	const char *oe_report;	  /* OE report file, or NULL */
	bool debug;
};

#define OE_COLL "oe/openenclave-plugin-evidence-00906ed50000-2022-04-26"

static const struct sgx_vector SGX_VECTORS[] = {
    {"sgx/phala-sgx-v3-00a067110000-2023-11/quote.bin", "sgx/phala-sgx-v3-00a067110000-2023-11", 1700611200,
     "ConfigurationAndSWHardeningNeeded", "INTEL-SA-00289,INTEL-SA-00615",
     "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb",
     "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6", 0, 0, 16, NULL, NULL, false},
    {"sgx/phala-sgx-v3-00a067110000-2025-06/quote.bin", "sgx/phala-sgx-v3-00a067110000-2025-06", 1750377600,
     "ConfigurationAndSWHardeningNeeded", "INTEL-SA-00289,INTEL-SA-00615",
     "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb",
     "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6", 0, 0, 17, NULL, NULL, false},
    {"oe/azure-samples-oe-sdk-release-00906ed50000-2021-02/quote.bin", OE_COLL, 1651017600, "OutOfDate", NULL,
     "4d62dedf3296fb3e7794b5b57bde276c98d11e79b4f86665aa32d4649f9ab1d8",
     "62ba6bcab59700c340bdbcd36bf74c6e0d6892cdf91671dca93bcbfff81ef9f2", 1, 1, 12,
     "oe/azure-samples-oe-sdk-release-00906ed50000-2021-02/enclave_held_data.bin",
     "oe/azure-samples-oe-sdk-release-00906ed50000-2021-02/report.bin", false},
    {"oe/azure-sdk-js-oe-report-00906ed50000-2022-01/quote.bin", OE_COLL, 1651017600, "OutOfDate", NULL,
     "b779202618becb636768e5d902f28d524222735fafb539ea9ba07c3fc171a1c2",
     "2c1a44952ae8207135c6c29b75b8c029372ee94b677e15c20bd42340f10d41aa", 1, 1, 12,
     "oe/azure-sdk-js-oe-report-00906ed50000-2022-01/runtime_data.bin",
     "oe/azure-sdk-js-oe-report-00906ed50000-2022-01/report.bin", false},
    {"oe/openenclave-plugin-evidence-00906ed50000-2022-04-26/quote.bin", OE_COLL, 1651017600,
     "SWHardeningNeeded", NULL, "91dd79e47cae70787883e617838c7c981cc9744ebac9756c8ce03f09057538ac",
     "bc71834fb17ac2be20fba8717616b75a9e39cf3f1872f1528b3678a89f5ff37c", 1, 1, 12, NULL, NULL, true},
};
#define N_SGX_VECTORS (sizeof(SGX_VECTORS) / sizeof(SGX_VECTORS[0]))

/* A context over a collateral folder (absolute), with its own cache. */
struct test_intel_ctx {
	struct evidence_ctx ctx;
	struct collateral_source *src;
	struct collateral_cache *cache;
};

static inline int test_intel_ctx_init(struct test_intel_ctx *t, const char *dir, const char *rel, int64_t now)
{
	char path[4096];

	memset(t, 0, sizeof(*t));
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (collateral_file_source_new(path, &t->src, NULL) != 0)
		return -1;
	t->cache = collateral_cache_new(64);
	t->src->cache = t->cache;
	t->ctx.now = now;
	t->ctx.collateral = t->src;
	return t->cache ? 0 : -1;
}

static inline void test_intel_ctx_free(struct test_intel_ctx *t)
{
	collateral_source_free(t->src);
	free(t->src);
	collateral_cache_free(t->cache);
	memset(t, 0, sizeof(*t));
}

#endif
