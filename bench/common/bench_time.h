#ifndef ATTEST_BENCH_COMMON_BENCH_TIME_H
#define ATTEST_BENCH_COMMON_BENCH_TIME_H

/*
 * Timing for the benchmarks (they report, never assert): CPU time of the
 * calling thread, since the machine is shared and wall time would measure
 * the neighbours (the peers' runners report CPU time too), and medians of
 * samples, which one slow moment of the host does not move.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static inline uint64_t bench_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* qsort orders. */
static inline int bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of n values (n > 0; v is sorted in place): the middle one, or the mean of the two middle ones.
 */
static inline double bench_median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The median of n samples in ns (n > 0; sorted in place), in us. */
static inline double bench_median_us(uint64_t *ns, size_t n)
{
	qsort(ns, n, sizeof(*ns), bench_cmp_u64);
	return (n % 2 ? (double)ns[n / 2] : ((double)ns[n / 2 - 1] + (double)ns[n / 2]) / 2) / 1000.0;
}

#endif
