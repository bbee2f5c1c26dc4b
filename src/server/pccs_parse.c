/*
 * The PCCS read routes' parsers (routes_pccs.h): query parameters as Intel
 * PCS v4 and AMD KDS accept them (formats.md §3.1, §5.8), and what a
 * served document names. Kept apart from routes_pccs.c (which knows HTTP)
 * so the fuzz target links them alone.
 */
#include "server/routes_pccs.h"

#include "base/codec.h"
#include "collateral/amd_tcb.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCCS_FMSPC_HEX	12
#define PCCS_CPUSVN_HEX 32
#define PCCS_PCESVN_HEX 4
#define PCCS_PCEID_HEX	4
#define PCCS_QEID_HEX	32

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return s[n] == '\0';
}

/* A hex parameter of exactly `digits` characters decoded into out (digits/2 bytes); false if malformed. */
static bool hex_param(const char *v, size_t digits, uint8_t *out)
{
	return v != NULL && strlen(v) == digits && all_hex(v, digits) &&
	       hex_decode_to(v, digits, out, digits / 2) == 0;
}

/* A decimal in [1, max] with nothing else (no sign, blank or suffix); false otherwise. */
static bool decimal(const char *v, unsigned long long min, unsigned long long max, unsigned long long *out)
{
	char *end = NULL;
	unsigned long long x;

	if (v == NULL || !isdigit((unsigned char)v[0]))
		return false;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno != 0 || end == NULL || *end != '\0' || x < min || x > max)
		return false;
	*out = x;
	return true;
}

static bool fail(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static bool fail(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return false;
}

bool pccs_parse_fmspc(const struct pccs_query *q, uint8_t fmspc[6], char *why, size_t n)
{
	const char *v = q->get(q->ctx, "fmspc");

	if (!hex_param(v, PCCS_FMSPC_HEX, fmspc))
		return fail(why, n, "fmspc must be 12 hex digits, not \"%.32s\" (pccs.fmspc)", v ? v : "");
	return true;
}

/* formats.md §3.1: `update=standard|early` or `tcbEvaluationDataNumber=N`, never both. */
bool pccs_parse_select(const struct pccs_query *q, struct collateral_select *sel, char *why, size_t n)
{
	const char *up = q->get(q->ctx, "update"), *num = q->get(q->ctx, "tcbEvaluationDataNumber");
	unsigned long long v;

	memset(sel, 0, sizeof(*sel));
	if (up != NULL && num != NULL)
		return fail(why, n, "give update or tcbEvaluationDataNumber, not both (pccs.select)");
	if (up != NULL && strcmp(up, "early") == 0)
		sel->update = COLLATERAL_UPDATE_EARLY;
	else if (up != NULL && strcmp(up, "standard") != 0)
		return fail(why, n, "update must be standard or early, not \"%.32s\" (pccs.update)", up);
	if (num != NULL) {
		if (!decimal(num, 1, UINT32_MAX, &v))
			return fail(
			    why, n,
			    "tcbEvaluationDataNumber must be a positive integer, not \"%.32s\" (pccs.eval)",
			    num);
		sel->eval_num = (uint32_t)v;
	}
	return true;
}

bool pccs_parse_pckcrl(const struct pccs_query *q, enum collateral_pck_ca *ca, bool *der, char *why, size_t n)
{
	const char *c = q->get(q->ctx, "ca"), *enc = q->get(q->ctx, "encoding");

	if (c == NULL || (strcasecmp(c, "processor") != 0 && strcasecmp(c, "platform") != 0))
		return fail(why, n, "ca must be processor or platform, not \"%.32s\" (pccs.ca)", c ? c : "");
	if (enc != NULL && strcasecmp(enc, "der") != 0 && strcasecmp(enc, "pem") != 0)
		return fail(why, n, "encoding must be der, not \"%.32s\" (pccs.encoding)", enc);
	*ca = strcasecmp(c, "platform") == 0 ? COLLATERAL_CA_PLATFORM : COLLATERAL_CA_PROCESSOR;
	*der = enc != NULL && strcasecmp(enc, "der") == 0;
	return true;
}

bool pccs_parse_pckcert(const struct pccs_query *q, struct pccs_pck_params *out, char *why, size_t n)
{
	const char *ppid = q->get(q->ctx, "encrypted_ppid"), *qeid = q->get(q->ctx, "qeid");
	size_t len = ppid ? strlen(ppid) : 0;
	uint8_t pcesvn[2], qeid_b[16];

	memset(out, 0, sizeof(*out));
	if ((len != 512 && len != 768) || !hex_param(ppid, len, out->ppid))
		return fail(why, n, "encrypted_ppid must be 512 or 768 hex digits (pccs.pckcert)");
	if (!hex_param(q->get(q->ctx, "cpusvn"), PCCS_CPUSVN_HEX, out->cpusvn) ||
	    !hex_param(q->get(q->ctx, "pcesvn"), PCCS_PCESVN_HEX, pcesvn) ||
	    !hex_param(q->get(q->ctx, "pceid"), PCCS_PCEID_HEX, out->pceid) ||
	    (qeid != NULL && !hex_param(qeid, PCCS_QEID_HEX, qeid_b)))
		return fail(why, n,
			    "cpusvn (32), pcesvn (4), pceid (4) and qeid (32) are hex digits (pccs.pckcert)");
	out->ppid_len = len / 2;
	out->pcesvn = (uint16_t)(pcesvn[0] | pcesvn[1] << 8); /* little-endian, as PCS takes it */
	return true;
}

/* One SPL of a KDS request: a decimal 0..255. */
static bool spl(const struct pccs_query *q, const char *name, uint8_t *out)
{
	unsigned long long x;

	if (!decimal(q->get(q->ctx, name), 0, 255, &x))
		return false;
	*out = (uint8_t)x;
	return true;
}

bool pccs_parse_vcek(const char *product, const char *hwid, const struct pccs_query *q, uint8_t chip_id[64],
		     uint64_t *tcb, int *status, char *why, size_t n)
{
	enum amd_product p = amd_product_of(product);
	bool turin = p == AMD_PRODUCT_TURIN, ok;
	size_t want = turin ? 16 : 128;
	struct snp_tcb t = {0};

	*status = 404;
	if (p == AMD_PRODUCT_UNKNOWN)
		return fail(why, n, "unknown product \"%.32s\" (pccs.kds.product)", product ? product : "");
	*status = 400;
	memset(chip_id, 0, 64);
	if (hwid == NULL || !hex_param(hwid, want, chip_id))
		return fail(why, n, "the hardware id must be %zu hex digits (pccs.kds.hwid)", want);
	/* fmcSPL exists on Turin only (§5.5) */
	ok = (!turin || spl(q, "fmcSPL", &t.fmc)) && spl(q, "blSPL", &t.bootloader) && spl(q, "teeSPL", &t.tee) &&
	     spl(q, "snpSPL", &t.snp) && spl(q, "ucodeSPL", &t.microcode);
	if (!ok)
		return fail(why, n, "every SPL of the product is a decimal 0..255 (pccs.kds.spl)");
	*tcb = snp_tcb_encode(p, &t);
	return true;
}

/* ---- what an item says it covers -------------------------------------------------- */

bool pccs_item_matches(const uint8_t *doc, size_t len, const char *member, const char *fmspc, const char *id)
{
	json_t *root = json_loadb((const char *)doc, len, 0, NULL);
	json_t *m = json_object_get(root, member);
	const char *f = json_string_value(json_object_get(m, "fmspc"));
	const char *i = json_string_value(json_object_get(m, "id"));
	bool ok = json_is_object(m);

	if (ok && fmspc != NULL)
		ok = f != NULL && strcasecmp(f, fmspc) == 0 && (i == NULL || strcmp(i, id) == 0) &&
		     (i != NULL || strcmp(id, "SGX") == 0); /* TCB Info v2 (no id) is SGX only */
	else if (ok)
		ok = i != NULL && strcmp(i, id) == 0;
	json_decref(root);
	return ok;
}
