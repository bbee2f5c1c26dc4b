/*
 * The caching collateral source's table when full (collateral/cached.h,
 * max_entries 4096, the default): a hit (key built, entry found, item
 * copied out), a miss that fetches from an in-memory upstream and evicts
 * one entry, and a refresh pass that finds nothing due (one walk of the
 * table, which the background refresher does every interval), beside the
 * cryptographic floor measured in the same run (one ECDSA P-256 signature
 * check: what a hit saves at the least, with the upstream request). The
 * upstream is in memory so the figures are the table's, not HTTP's
 * (bench_collateral measures the HTTPS path): CPU work, timed in the
 * thread's CPU time (bench_time.h), medians of the rounds. Reports, never
 * asserts.
 *
 * Usage: bench_cached_table [rounds]
 */
#include "base/timeutil.h"
#include "collateral/cached.h"
#include "collateral/collateral.h"
#include "crypto/crypto.h"
#include "bench_time.h"
#include "ecdsa_floor.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABLE  4096
#define BATCH  20000
#define NOW    1700000000
#define MISSES 4000

/* A TCB Info item with readable dates (all the cache reads of it without a validate hook). */
static const char ITEM[] = "{\"tcbInfo\":{\"issueDate\":\"2023-11-01T00:00:00Z\","
			   "\"nextUpdate\":\"2033-11-01T00:00:00Z\",\"fmspc\":\"00A067110000\"},"
			   "\"signature\":\"00\"}";

static int64_t bench_clock(void *arg)
{
	return *(const int64_t *)arg;
}

static int up_tcb(void *self, enum collateral_tee tee, const uint8_t fmspc[6], struct collateral_blob *out,
		  struct attest_err *err)
{
	(void)self, (void)tee, (void)fmspc, (void)err;
	memset(out, 0, sizeof(*out));
	if ((out->data = malloc(sizeof(ITEM))) == NULL)
		return ATTEST_E_NOMEM;
	memcpy(out->data, ITEM, sizeof(ITEM));
	out->len = sizeof(ITEM) - 1;
	return ATTEST_OK;
}

static void up_free(void *self)
{
	(void)self;
}

static const struct collateral_source_ops UP_OPS = {.name = "memory", .tcb_info = up_tcb, .free = up_free};

static void fmspc_of(uint32_t k, uint8_t f[6])
{
	f[0] = 0x00, f[1] = 0xa0, f[2] = (uint8_t)(k >> 24), f[3] = (uint8_t)(k >> 16),
	f[4] = (uint8_t)(k >> 8), f[5] = (uint8_t)k;
}

static int lookup(struct collateral_source *c, uint32_t k)
{
	struct collateral_blob b = {0};
	uint8_t f[6];
	int rc;

	fmspc_of(k, f);
	rc = collateral_get_tcb_info(c, COLLATERAL_TEE_SGX, f, &b, NULL);
	collateral_blob_free(&b);
	return rc;
}

/* ns per hit: BATCH lookups of random stored keys. */
static double hits_ns(struct collateral_source *c, unsigned *seed)
{
	uint64_t t0 = bench_cpu_ns();
	int bad = 0;

	for (int i = 0; i < BATCH; i++)
		bad += lookup(c, (uint32_t)rand_r(seed) % TABLE) != ATTEST_OK;
	if (bad)
		fprintf(stderr, "%d hits failed\n", bad);
	return (double)(bench_cpu_ns() - t0) / BATCH;
}

/* ns per miss on a full table: MISSES keys never asked before (each fetched, stored, one evicted). */
static double misses_ns(struct collateral_source *c, uint32_t *next)
{
	uint64_t t0 = bench_cpu_ns();

	for (int i = 0; i < MISSES; i++)
		lookup(c, (*next)++);
	return (double)(bench_cpu_ns() - t0) / MISSES;
}

/* us per refresh pass that finds nothing due (one walk of the full table). */
static double walk_us(struct collateral_source *c)
{
	uint64_t t0 = bench_cpu_ns();
	size_t ok = 0, bad = 0;

	for (int i = 0; i < 100; i++)
		cached_source_refresh_tick(c, 0, &ok, &bad);
	return (double)(bench_cpu_ns() - t0) / 100 / 1000.0;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 15;
	int64_t now = NOW;
	struct collateral_source up = {.ops = &UP_OPS}, *c = NULL;
	struct cached_options o = {.clock = bench_clock, .clock_arg = &now, .refresh_ahead_s = 86400};
	double *hit, *miss, *walk, fl;
	unsigned seed = 7;
	uint32_t next = TABLE;

	if (rounds < 1)
		rounds = 1;
	hit = calloc((size_t)rounds, sizeof(double));
	miss = calloc((size_t)rounds, sizeof(double));
	walk = calloc((size_t)rounds, sizeof(double));
	if (!hit || !miss || !walk || cached_source_new(&up, false, &o, &c, NULL) != ATTEST_OK)
		return 1;
	for (uint32_t k = 0; k < TABLE; k++)
		lookup(c, k);
	fl = bench_ecdsa_p256_verify_ns(ITEM, sizeof(ITEM) - 1, 2000);
	for (int r = 0; r < rounds; r++) {
		/* the misses leave the table full of other keys: the hits are taken first, on 0..TABLE-1 */
		hit[r] = hits_ns(c, &seed);
		walk[r] = walk_us(c);
		miss[r] = misses_ns(c, &next);
		for (uint32_t k = 0; k < TABLE; k++) /* back to 0..TABLE-1 (misses again, not timed) */
			lookup(c, k);
	}
	printf("bench_cached_table (%d entries, the default bound; in-memory upstream; "
	       "CPU time, median of %d rounds)\n",
	       TABLE, rounds);
	printf("  floor: ECDSA P-256 signature check            %10.0f ns\n", fl);
	printf("  hit on a full table (key, find, copy out)     %10.0f ns\n", bench_median(hit, rounds));
	printf("  miss on a full table (fetch, store, evict)    %10.0f ns\n", bench_median(miss, rounds));
	printf("  refresh pass, nothing due (one walk)          %10.1f us\n", bench_median(walk, rounds));
	printf("  entries held: %zu\n", cached_source_count(c));
	collateral_source_free(c);
	free(c);
	free(hit);
	free(miss);
	free(walk);
	return 0;
}
