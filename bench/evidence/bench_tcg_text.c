/*
 * The `events` and `pcrs` claim texts (tcg_claims.c) of the log bench_tpm's
 * protocol request carries (the synthetic 60-event crypto-agile log:
 * Secure Boot, VBS, 40 extra events; verified), beside floors measured in
 * the same run on the same bytes:
 *   memcpy   copying a buffer as long as the events text (and one as
 *            long as the pcrs text) into a fresh allocation (the least
 *            any writer of that text costs);
 *   hex      the hex of every byte the text shows as hex (its digests and
 *            data) into one buffer, nothing else, through the text's own
 *            hex writer (tcg_text_hex: SSE2 on x86-64) and, for scale, a
 *            plain byte-at-a-time loop over a digit table;
 * and, for the request's view, what the caller then does with the text
 * (strlen + json_stringn_nocheck: jansson copies it into the claim set).
 * Then the real Windows log of shared/vectors (GCP Shielded VM, WBCL:
 * SIPA records), verified against its quote, when the vectors are there.
 * Medians of CPU time per text. Reports, never asserts (RULES.md).
 * Usage: bench_tcg_text [samples] (each sample times 16 calls)
 */
#include "devplat/tpm_dev.h"
#include "evidence/tcg_log.h"
#include "test_tpm_lib.h"
#include "testutil.h"
#include "bench_time.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Defeats dead-store elimination of the floors' outputs. */
static volatile unsigned sink;

#define BATCH 16

/* The bytes the events text shows as hex, laid end to end (the hex floor's input). */
static size_t hex_input(const struct tcg_log *log, uint8_t *out)
{
	size_t o = 0;

	for (size_t i = 0; i < log->n_events; i++) {
		const struct tcg_event *ev = &log->events[i];
		size_t dl = ev->data_len > 512 ? 512 : ev->data_len;

		if (!ev->verified)
			continue;
		for (int bk = 0; bk < TPM_BANK_COUNT; bk++)
			if (ev->digests & (1u << bk)) {
				memcpy(out + o, ev->digest[bk], tpm_bank_size(bk));
				o += tpm_bank_size(bk);
			}
		memcpy(out + o, ev->data, dl);
		o += dl;
	}
	return o;
}

static void hex_naive(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
}

/* The events text of the GCP Windows log beside a memcpy of as many bytes, when the vectors are there. */
static void real_log(int iters)
{
	const char *dir = test_vectors_dir();
	char path[256], *text, *src = NULL;
	size_t n = 0, len;
	uint8_t *p;
	struct tcg_log *log = NULL;
	struct tpm_pcr_values pcrs;
	uint64_t *t_ev = calloc((size_t)iters, sizeof(*t_ev)), *t_cp = calloc((size_t)iters, sizeof(*t_cp));

	snprintf(path, sizeof(path), "%sbinary_bios_measurements.bin", GCP_DIR);
	p = dir != NULL ? test_read_vector(dir, path, &n) : NULL;
	if (p == NULL || tcg_log_parse(p, n, &log, NULL) != 0) {
		printf("  real Windows log: vectors absent, skipped\n");
		goto out;
	}
	/* verified against its quoted PCRs (go-attestation's pcrs.json) */
	if (tpm_test_load_gcp_pcrs(dir, &pcrs) != 0 || tcg_log_verify(log, &pcrs, NULL) != 0) {
		printf("  real Windows log: does not verify against its PCRs, skipped\n");
		goto out;
	}
	src = tcg_events_json(log, true);
	len = strlen(src);
	for (int i = 0; i < iters; i++) {
		uint64_t t0 = bench_cpu_ns(), t1, t2;

		for (int k = 0; k < BATCH; k++) {
			text = tcg_events_json(log, true);
			sink += (unsigned char)text[len / 2];
			free(text);
		}
		t1 = bench_cpu_ns();
		for (int k = 0; k < BATCH; k++) {
			char *b = malloc(len + 1);

			memcpy(b, src, len + 1);
			sink += (unsigned char)b[len / 2];
			free(b);
		}
		t2 = bench_cpu_ns();
		t_ev[i] = (t1 - t0) / BATCH, t_cp[i] = (t2 - t1) / BATCH;
	}
	{
		double ev = bench_median_us(t_ev, iters), cp = bench_median_us(t_cp, iters);

		printf(
		    "  real Windows log (GCP WBCL, %zu events, verified), events text (%zu bytes) %8.2f us\n",
		    log->n_events, len, ev);
		printf("  floor: memcpy of %zu bytes into a new allocation %8.2f us -> ratio %.2fx\n", len,
		       cp, ev / cp);
	}
out:
	free(src);
	tcg_log_free(log);
	free(p);
	free(t_ev);
	free(t_cp);
}

int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 300;
	struct devplat_tcg_log dl;
	struct devplat_boot boot = {.secure_boot = true, .vbs = true, .extra_events = 40};
	struct tpm_pcr_values pcrs;
	struct tcg_log *log = NULL;
	uint64_t *t_ev, *t_pcr, *t_cp, *t_hex, *t_naive, *t_claim, *t_pcp;
	char *text, *hexout, *ptext;
	uint8_t *hexin;
	size_t len, hlen, plen;

	if (iters < 10)
		iters = 10;
	t_ev = calloc((size_t)iters, sizeof(*t_ev));
	t_pcr = calloc((size_t)iters, sizeof(*t_pcr));
	t_cp = calloc((size_t)iters, sizeof(*t_cp));
	t_hex = calloc((size_t)iters, sizeof(*t_hex));
	t_naive = calloc((size_t)iters, sizeof(*t_naive));
	t_claim = calloc((size_t)iters, sizeof(*t_claim));
	t_pcp = calloc((size_t)iters, sizeof(*t_pcp));
	if (devplat_tcg_log_init(&dl) || devplat_tcg_log_boot(&dl, &boot)) {
		printf("bench_tcg_text: synthetic log failed\n");
		return 1;
	}
	devplat_tcg_log_pcrs(&dl, &pcrs);
	if (tcg_log_parse(dl.log.p, dl.log.len, &log, NULL) || tcg_log_verify(log, &pcrs, NULL)) {
		printf("bench_tcg_text: the synthetic log does not verify\n");
		return 1;
	}
	text = tcg_events_json(log, true);
	len = strlen(text);
	free(text);
	ptext = tcg_pcrs_json(&pcrs); /* the pcrs text's floor copies it */
	plen = strlen(ptext);
	hexin = malloc(dl.log.len);
	hlen = hex_input(log, hexin);
	hexout = malloc(2 * hlen > len + 1 ? 2 * hlen : len + 1);
	hex_naive(hexin, hlen, hexout);
	for (int i = 0; i < iters; i++) {
		uint64_t t0, t1, t2, t3, t4, t5;
		char *copy;

		/* each sample times BATCH back-to-back calls: the clock is a system call worth ~0.5 us */
		t0 = bench_cpu_ns();
		for (int k = 0; k < BATCH; k++) {
			text = tcg_events_json(log, true);
			sink += (unsigned char)text[len / 2];
			free(text);
		}
		t1 = bench_cpu_ns();
		for (int k = 0; k < BATCH; k++) {
			copy = malloc(len + 1);
			memcpy(copy, hexout, len + 1);
			sink += (unsigned char)copy[len / 2];
			free(copy);
		}
		t2 = bench_cpu_ns();
		for (int k = 0; k < BATCH; k++) {
			tcg_text_hex(hexout, hexin, hlen, true);
			sink += (unsigned char)hexout[k];
		}
		t3 = bench_cpu_ns();
		for (int k = 0; k < BATCH; k++) {
			hex_naive(hexin, hlen, hexout);
			sink += (unsigned char)hexout[k];
		}
		t_naive[i] = (bench_cpu_ns() - t3) / BATCH;
		text = tcg_events_json(log, true);
		t4 = bench_cpu_ns();
		for (int k = 0; k < BATCH; k++) {
			json_t *js = json_stringn_nocheck(text, strlen(text));

			json_decref(js);
		}
		t5 = bench_cpu_ns();
		free(text);
		for (int k = 0; k < BATCH; k++) {
			text = tcg_pcrs_json(&pcrs);
			free(text);
		}
		t_ev[i] = (t1 - t0) / BATCH, t_cp[i] = (t2 - t1) / BATCH, t_hex[i] = (t3 - t2) / BATCH;
		t_claim[i] = (t5 - t4) / BATCH, t_pcr[i] = (bench_cpu_ns() - t5) / BATCH;
		t5 = bench_cpu_ns();
		for (int k = 0; k < BATCH; k++) {
			copy = malloc(plen + 1);
			memcpy(copy, ptext, plen + 1);
			sink += (unsigned char)copy[plen / 2];
			free(copy);
		}
		t_pcp[i] = (bench_cpu_ns() - t5) / BATCH;
	}
	printf("bench_tcg_text: claim texts of the synthetic %zu-event log (%d runs, median CPU time)\n",
	       log->n_events, iters);
	{
		double ev = bench_median_us(t_ev, iters), cp = bench_median_us(t_cp, iters),
		       hx = bench_median_us(t_hex, iters), pc = bench_median_us(t_pcr, iters),
		       pcp = bench_median_us(t_pcp, iters);

		printf("  events text (verified events, %zu bytes)        %8.2f us\n", len, ev);
		printf("  floor: memcpy of %zu bytes into a new allocation %8.2f us -> ratio %.2fx\n", len,
		       cp, ev / cp);
		printf("  floor: hex of the %zu bytes it shows as hex        %8.2f us -> ratio %.2fx\n", hlen,
		       hx, ev / hx);
		printf("  (the same hex a byte at a time from a digit table: %.2f us)\n",
		       bench_median_us(t_naive, iters));
		printf("  pcrs text (%zu bytes)                            %8.2f us\n", plen, pc);
		printf("  floor: memcpy of %zu bytes into a new allocation %8.2f us -> ratio %.2fx\n", plen,
		       pcp, pc / pcp);
		printf("  the caller's copy into a claim (strlen + json_stringn_nocheck) %8.2f us\n",
		       bench_median_us(t_claim, iters));
	}
	real_log(iters);
	free(hexin);
	free(hexout);
	free(t_ev);
	free(t_pcr);
	free(t_cp);
	free(t_hex);
	free(t_naive);
	free(t_claim);
	free(t_pcp);
	free(ptext);
	tcg_log_free(log);
	devplat_tcg_log_free(&dl);
	return 0;
}
