#ifndef ATTEST_TEST_SWEEP_H
#define ATTEST_TEST_SWEEP_H

/*
 * The mutation engine of the sweep suite (issue 13, STYLE.md habit 9): one
 * flip loop and one cut loop for every verifier, with counts.
 *
 * A target is a buffer (evidence, a certificate, a collateral file) and a
 * verify callback that says whether the verifier accepts the buffer as it
 * is now. sweep_run flips bits of the buffer in place (restoring each),
 * then offers every truncation as an exact-length copy (so ASan sees a
 * read past the cut), and counts what was tried, refused, proven to carry
 * the same content (the `same` callback, e.g. a flip inside PEM text whose
 * DER is unchanged) and accepted. Accepted must be 0.
 *
 * ATTEST_SWEEP_STRIDE=N tries every Nth mutation (default 1: all of them;
 * the sanitizer run of scripts/check.sh uses 16).
 *
 * sweep_finish prints the program's table and merges its rows into
 * $ATTEST_BINARY_DIR/sweep-report.json under the program's suite name
 * (test_sweep_report prints the whole table and checks coverage).
 *
 * Test code only: the rows live in a static array of sweep.c.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sweep_mode {
	SWEEP_BITS,  /* all 8 bits of every byte */
	SWEEP_BYTES, /* one bit of every byte (bit i % 8 of byte i): every byte, 1/8 of the cost */
	SWEEP_NONE,  /* cuts only */
};

struct sweep_target {
	const char *vector; /* row: a vector folder below shared/vectors, or "synthetic/<platform>" */
	const char *part;   /* what is mutated: "quote", "tcb_info.json", "VCEK", ... */
	uint8_t *buf;	    /* mutated in place; restored after each mutation */
	size_t len;
	size_t from, to; /* the flipped range [from, to); to == 0: up to len */
	enum sweep_mode mode;
	bool cuts;	  /* also every truncation to 0 .. len-1 bytes */
	size_t cut_every; /* 0 or 1: every cut; k: every kth length (stride applies on top) */
	/* 1 when the verifier accepts (p, n), 0 when it refuses. */
	int (*verify)(void *arg, const uint8_t *p, size_t n);
	/*
	 * Optional: true when the accepted input (p, n) provably carries the
	 * same signed content as the original. `at` is the flipped byte, or the
	 * cut length when cut is true.
	 */
	bool (*same)(void *arg, const uint8_t *p, size_t n, size_t at, bool cut);
	void *arg;
};

/* One row of the report. */
struct sweep_row {
	char vector[160];
	char part[64];
	size_t bytes;	  /* bytes in the flipped range */
	size_t flips;	  /* bit flips tried */
	size_t cuts;	  /* truncations tried */
	size_t refused;	  /* flips + cuts refused */
	size_t same;	  /* accepted, proven to carry the same content */
	size_t accepted;  /* accepted with altered content: must be 0 */
	size_t first_bad; /* first accepted byte offset (flip) or cut length */
	bool first_is_cut;
	double seconds; /* CPU seconds */
};

size_t sweep_stride(void);

/* Runs every (stride-th) mutation of t; appends a row; returns the number accepted. */
size_t sweep_run(const struct sweep_target *t);

/* The rows so far (for assertions). */
const struct sweep_row *sweep_rows(size_t *n);

/*
 * Prints this program's table (stderr), merges the rows into the JSON
 * report under `suite`, and returns the total accepted over all rows.
 */
size_t sweep_finish(const char *suite);

/* True when two PEM texts hold the same certificates (DER), in the same order. */
bool sweep_pem_same_certs(const uint8_t *a, size_t an, const uint8_t *b, size_t bn);

/*
 * True when PEM text b holds the first k >= 1 certificates of a, unchanged
 * (a cut that dropped whole certificates off the end of a chain).
 */
bool sweep_pem_cert_prefix(const uint8_t *a, size_t an, const uint8_t *b, size_t bn);

/*
 * True when b differs from a only at byte `at`, both are hex digits of the
 * same value (a case change), and `at` lies inside the string value of a
 * JSON member named `member` (e.g. the hex "signature" of Intel collateral).
 */
bool sweep_same_hex_case(const uint8_t *a, const uint8_t *b, size_t n, size_t at, const char *member);

#endif
