/*
 * Claims from a verified TCG event log: the `events` and `pcrs` JSON texts
 * of MAA's TPM claim set (maa-interface.md §2.4) and the boot-state
 * booleans derived from UEFI variables and Windows SIPA records.
 */
#include "evidence/tcg_log.h"

#include "base/buf.h"
#include "base/codec.h"
#include "base/cur.h"
#include "base/jsonx.h"

#include <stdlib.h>
#include <string.h>

/* Hex of event data beyond this many bytes is cut (DataLength says how long it was). */
#define TCG_JSON_MAX_DATA 512

/* EFI_GLOBAL_VARIABLE 8be4df61-93ca-11d2-aa0d-00e098032b8c, as stored (mixed-endian). */
static const uint8_t EFI_GLOBAL_VARIABLE[16] = {0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
						0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c};

/* EFI_IMAGE_SECURITY_DATABASE_GUID d719b2cb-3d3a-4596-a3bc-dad00e67656f (db, dbx; UEFI 2.10 §32.6.1). */
static const uint8_t EFI_IMAGE_SECURITY_DATABASE[16] = {0xcb, 0xb2, 0x19, 0xd7, 0x3a, 0x3d, 0x96, 0x45,
							0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65, 0x6f};

struct uefi_var {
	const uint8_t *guid;
	const uint8_t *name; /* UTF-16LE */
	size_t name_chars;
	const uint8_t *data;
	size_t data_len;
};

/* UEFI_VARIABLE_DATA (PFP §10.4.7); false when it does not fit exactly. */
static bool uefi_var_parse(const uint8_t *p, size_t n, struct uefi_var *v)
{
	struct cur c;
	uint64_t nl, dl;

	cur_init(&c, p, n);
	if (cur_take(&c, 16, &v->guid) || cur_u64le(&c, &nl) || cur_u64le(&c, &dl) || nl > 4096 ||
	    cur_take(&c, (size_t)nl * 2, &v->name) || dl > cur_left(&c) || cur_take(&c, (size_t)dl, &v->data))
		return false;
	v->name_chars = (size_t)nl;
	v->data_len = (size_t)dl;
	return true;
}

static bool uefi_name_is(const struct uefi_var *v, const char *ascii)
{
	size_t n = strlen(ascii);

	if (v->name_chars != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (v->name[2 * i] != (uint8_t)ascii[i] || v->name[2 * i + 1] != 0)
			return false;
	return true;
}

/*
 * The `events` and `pcrs` claim texts are written directly into a capped
 * buffer: building them as jansson trees cost several times the log's own
 * replay (bench_tpm). Strings pass through jw_str, which escapes what JSON
 * requires (RFC 8259 §7); event data only ever reaches the text as hex,
 * integers or printable ASCII.
 *
 * The writer stages small pieces in an array of its own and hands the
 * buffer a few kilobytes at a time: an append per key, digit or quote
 * (a call, a bounds check, a strlen) cost more than the text's bytes.
 * An append past the cap marks the writer failed: the text is then
 * refused whole, never returned with a hole in it.
 */
#define TCG_JSON_MAX (16u * 1024 * 1024)

struct jw {
	struct buf *b;
	bool failed;
	size_t n;
	char t[4096];
};

static void jw_init(struct jw *w, struct buf *b)
{
	w->b = b;
	w->failed = false;
	w->n = 0;
}

static void jw_flush(struct jw *w)
{
	if (w->n > 0 && buf_append(w->b, w->t, w->n) != ATTEST_OK)
		w->failed = true;
	w->n = 0;
}

static void jw_put(struct jw *w, const void *p, size_t n)
{
	if (n > sizeof(w->t) - w->n) {
		jw_flush(w);
		if (n > sizeof(w->t)) {
			if (buf_append(w->b, p, n) != ATTEST_OK)
				w->failed = true;
			return;
		}
	}
	memcpy(w->t + w->n, p, n);
	w->n += n;
}

static void jw_c(struct jw *w, char c)
{
	if (w->n == sizeof(w->t))
		jw_flush(w);
	w->t[w->n++] = c;
}

/* A literal: its length is known at compile time. */
#define jw_lit(w, s) jw_put((w), (s), sizeof(s) - 1)

/* Bytes a JSON string cannot carry as they are (RFC 8259 §7). */
static bool jw_needs_escape(unsigned char ch)
{
	return ch < 0x20 || ch == '"' || ch == '\\';
}

static void jw_str(struct jw *w, const char *s)
{
	static const char digits[] = "0123456789abcdef";

	jw_c(w, '"');
	while (*s) {
		size_t run = 0;

		while (s[run] && !jw_needs_escape((unsigned char)s[run]))
			run++;
		jw_put(w, s, run);
		s += run;
		if (*s == '"' || *s == '\\') {
			char esc[2] = {'\\', *s};

			jw_put(w, esc, 2);
			s++;
		} else if (*s) {
			char esc[6] = {'\\', 'u', '0', '0', digits[(unsigned char)*s >> 4], digits[*s & 15]};

			jw_put(w, esc, sizeof(esc));
			s++;
		}
	}
	jw_c(w, '"');
}

/* A decimal number (no printf: it dominated the events text). */
static void jw_uint(struct jw *w, uint64_t v)
{
	char t[20];
	size_t i = sizeof(t);

	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	jw_put(w, t + i, sizeof(t) - i);
}

/* "key": (keys are this file's ASCII literals and bank names: nothing to escape) */
static void jw_key(struct jw *w, const char *key, bool *first)
{
	if (!*first)
		jw_c(w, ',');
	*first = false;
	jw_c(w, '"');
	jw_put(w, key, strlen(key));
	jw_lit(w, "\":");
}

/* Hex as a JSON string, straight into the staging array. */
static void jw_hex(struct jw *w, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	jw_c(w, '"');
	while (n > 0) {
		size_t room = (sizeof(w->t) - w->n) / 2, k;

		if (room == 0) {
			jw_flush(w);
			continue;
		}
		k = n < room ? n : room;
		for (size_t i = 0; i < k; i++) {
			w->t[w->n++] = digits[p[i] >> 4];
			w->t[w->n++] = digits[p[i] & 15];
		}
		p += k;
		n -= k;
	}
	jw_c(w, '"');
}

/* Printable ASCII of a byte string (NULs and controls dropped). */
static void jw_ascii(struct jw *w, const uint8_t *p, size_t n)
{
	jw_c(w, '"');
	for (size_t i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] >= 0x7f)
			continue;
		if (p[i] == '"' || p[i] == '\\')
			jw_c(w, '\\');
		jw_c(w, (char)p[i]);
	}
	jw_c(w, '"');
}

/* UTF-16LE text up to its NUL, non-ASCII shown as '?'. */
static void jw_utf16(struct jw *w, const uint8_t *p, size_t n)
{
	jw_c(w, '"');
	for (size_t i = 0; i + 1 < n; i += 2) {
		unsigned ch = (unsigned)p[i] | (unsigned)p[i + 1] << 8;

		if (ch == 0)
			break;
		if (ch == '"' || ch == '\\')
			jw_c(w, '\\');
		jw_c(w, (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?');
	}
	jw_c(w, '"');
}

/* 8-4-4-4-12 text of a GUID as stored (first three fields little-endian); no printf on this path. */
static void guid_str(const uint8_t g[16], char out[37])
{
	static const char digits[] = "0123456789abcdef";
	static const uint8_t order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
	size_t o = 0;

	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = digits[g[order[i]] >> 4];
		out[o++] = digits[g[order[i]] & 15];
	}
	out[o] = '\0';
}

/* "0x" and 2*n hex digits of a big-endian value, quoted. */
static void jw_hexnum(struct jw *w, uint64_t v, int digits_n)
{
	static const char digits[] = "0123456789abcdef";
	char t[2 + 2 + 16];
	int o = 0;

	t[o++] = '"', t[o++] = '0', t[o++] = 'x';
	for (int i = digits_n - 1; i >= 0; i--)
		t[o++] = digits[(v >> (4 * i)) & 15];
	t[o++] = '"';
	jw_put(w, t, (size_t)o);
}

/* A u64 as a JSON number when a signed 64-bit reader can hold it, else as a hex string. */
static void jw_u64(struct jw *w, uint64_t v)
{
	if (v <= (uint64_t)INT64_MAX)
		jw_uint(w, v);
	else
		jw_hexnum(w, v, 16);
}

static size_t capped(size_t n)
{
	return n > TCG_JSON_MAX_DATA ? TCG_JSON_MAX_DATA : n;
}

static void uefi_var_write(struct jw *w, const struct uefi_var *v)
{
	char g[37];
	bool first = true;

	guid_str(v->guid, g);
	jw_c(w, '{');
	jw_key(w, "VariableName", &first);
	jw_str(w, g);
	jw_key(w, "UnicodeName", &first);
	jw_utf16(w, v->name, v->name_chars * 2);
	jw_key(w, "VariableDataLength", &first);
	jw_u64(w, v->data_len);
	jw_key(w, "VariableData", &first);
	if (v->data_len == 1)
		jw_uint(w, v->data[0]);
	else
		jw_hex(w, v->data, capped(v->data_len));
	jw_c(w, '}');
}

struct sipa_text {
	struct jw *w;
	bool first;
};

static int sipa_write(void *arg, uint32_t type, const uint8_t *data, uint32_t len)
{
	struct sipa_text *t = arg;

	if (!t->first)
		jw_c(t->w, ',');
	t->first = false;
	/* The leaf writes to the buffer itself: what was staged goes first. */
	jw_flush(t->w);
	if (sipa_leaf_write(t->w->b, type, data, len) != ATTEST_OK)
		t->w->failed = true;
	return ATTEST_OK;
}

/* UEFI_IMAGE_LOAD_EVENT (PFP §10.4.4). */
static bool image_load_write(struct jw *w, const uint8_t *p, size_t n)
{
	struct cur c;
	uint64_t loc, len, link, dpl;

	cur_init(&c, p, n);
	if (cur_u64le(&c, &loc) || cur_u64le(&c, &len) || cur_u64le(&c, &link) || cur_u64le(&c, &dpl))
		return false;
	jw_lit(w, "{\"ImageLocationInMemory\":");
	jw_u64(w, loc);
	jw_lit(w, ",\"ImageLengthInMemory\":");
	jw_u64(w, len);
	jw_lit(w, ",\"ImageLinkTimeAddress\":");
	jw_u64(w, link);
	jw_lit(w, ",\"LengthOfDevicePath\":");
	jw_u64(w, dpl);
	jw_c(w, '}');
	return true;
}

/* SipaEvents of an EV_EVENT_TAG; false (nothing written) when its data is no SIPA. */
static bool sipa_events_write(struct jw *w, const struct tcg_event *ev)
{
	struct sipa_text t = {w, true};
	size_t mark;

	jw_flush(w);
	mark = w->b->len;
	jw_lit(w, "{\"SipaEvents\":[");
	if (sipa_walk(ev->data, ev->data_len, sipa_write, &t, NULL) == ATTEST_OK) {
		jw_lit(w, "]}");
		return true;
	}
	w->n = 0; /* not SIPA after all: what it wrote goes */
	w->b->len = mark;
	if (w->b->p != NULL)
		w->b->p[mark] = '\0';
	return false;
}

static void processed_data_write(struct jw *w, const struct tcg_event *ev)
{
	struct uefi_var v;

	switch (ev->type) {
	case EV_EFI_VARIABLE_DRIVER_CONFIG:
	case EV_EFI_VARIABLE_BOOT:
	case EV_EFI_VARIABLE_BOOT2:
	case EV_EFI_VARIABLE_AUTHORITY:
		if (uefi_var_parse(ev->data, ev->data_len, &v)) {
			uefi_var_write(w, &v);
			return;
		}
		break;
	case EV_EFI_ACTION:
	case EV_ACTION:
	case EV_IPL:
		jw_lit(w, "{\"String\":");
		jw_ascii(w, ev->data, ev->data_len);
		jw_c(w, '}');
		return;
	case EV_S_CRTM_VERSION:
		jw_lit(w, "{\"Version\":");
		jw_utf16(w, ev->data, ev->data_len);
		jw_c(w, '}');
		return;
	case EV_EVENT_TAG:
		if (sipa_events_write(w, ev))
			return;
		break;
	case EV_EFI_BOOT_SERVICES_APPLICATION:
	case EV_EFI_BOOT_SERVICES_DRIVER:
	case EV_EFI_RUNTIME_SERVICES_DRIVER:
		if (image_load_write(w, ev->data, ev->data_len))
			return;
		break;
	default:
		break;
	}
	jw_lit(w, "{\"DataLength\":");
	jw_uint(w, ev->data_len);
	jw_lit(w, ",\"Data\":");
	jw_hex(w, ev->data, capped(ev->data_len));
	jw_c(w, '}');
}

static void event_write(struct jw *w, const struct tcg_event *ev)
{
	const char *tn = tcg_event_type_name(ev->type);
	bool first = true;

	jw_lit(w, "{\"EventSeq\":");
	jw_uint(w, ev->seq);
	jw_lit(w, ",\"PcrIndex\":");
	jw_uint(w, ev->pcr);
	jw_lit(w, ",\"EventType\":");
	jw_uint(w, ev->type);
	jw_lit(w, ",\"EventTypeString\":");
	if (tn)
		jw_str(w, tn);
	else
		jw_hexnum(w, ev->type, 8);
	jw_lit(w, ",\"Digests\":{");
	for (int bk = 0; bk < TPM_BANK_COUNT; bk++) {
		if (!(ev->digests & (1u << bk)))
			continue;
		jw_key(w, tpm_bank_name(bk), &first);
		jw_hex(w, ev->digest[bk], tpm_bank_size(bk));
	}
	jw_lit(w, "},\"ProcessedData\":");
	processed_data_write(w, ev);
	jw_c(w, '}');
}

/* The finished text (caller frees), or NULL when an append failed. */
static char *jw_finish(struct jw *w)
{
	char *s = NULL;

	jw_flush(w);
	if (!w->failed)
		s = (char *)buf_steal(w->b, NULL);
	buf_free(w->b);
	return s;
}

char *tcg_events_json(const struct tcg_log *log, bool only_verified)
{
	struct buf b;
	struct jw *w = malloc(sizeof(*w)); /* its staging array is 4 KB: not on the stack */
	bool first = true;
	char *s;

	if (w == NULL)
		return NULL;
	buf_init(&b, TCG_JSON_MAX);
	jw_init(w, &b);
	jw_lit(w, "{\"Events\":[");
	for (size_t i = 0; i < log->n_events && !w->failed; i++) {
		const struct tcg_event *ev = &log->events[i];

		if (only_verified && !ev->verified)
			continue;
		if (!first)
			jw_c(w, ',');
		first = false;
		event_write(w, ev);
	}
	jw_lit(w, "]}");
	s = jw_finish(w);
	free(w);
	return s;
}

char *tcg_pcrs_json(const struct tpm_pcr_values *pcrs)
{
	struct buf b;
	struct jw *w = malloc(sizeof(*w));
	bool first_pcr = true;
	char *s;

	if (w == NULL)
		return NULL;
	buf_init(&b, TCG_JSON_MAX);
	jw_init(w, &b);
	jw_lit(w, "{\"PCRs\":[");
	for (unsigned i = 0; i < TPM_PCR_COUNT; i++) {
		bool first = true, any = false;

		for (int bk = 0; bk < TPM_BANK_COUNT; bk++)
			any |= (pcrs->present[bk] & (1u << i)) != 0;
		if (!any)
			continue;
		if (!first_pcr)
			jw_c(w, ',');
		first_pcr = false;
		jw_lit(w, "{\"Index\":");
		jw_uint(w, i);
		jw_lit(w, ",\"Digests\":{");
		for (int bk = 0; bk < TPM_BANK_COUNT; bk++) {
			if (!(pcrs->present[bk] & (1u << i)))
				continue;
			jw_key(w, tpm_bank_name(bk), &first);
			jw_hex(w, pcrs->v[bk][i], tpm_bank_size(bk));
		}
		jw_lit(w, "}}");
	}
	jw_lit(w, "]}");
	s = jw_finish(w);
	free(w);
	return s;
}

/* ---- boot state ---------------------------------------------------------- */

static uint64_t leaf_uint(const uint8_t *p, uint32_t n)
{
	uint64_t x = 0;

	for (uint32_t i = 0; i < n && i < 8; i++)
		x |= (uint64_t)p[i] << (8 * i);
	return x;
}

/*
 * One SIPA leaf into the boot state. A Windows log holds ~800 leaves, most
 * of types read here for nothing: the value is decoded only for the types
 * that count (this callback was the largest non-cryptographic cost of a
 * WBCL's verification).
 */
static int sipa_state(void *arg, uint32_t type, const uint8_t *data, uint32_t len)
{
	struct tcg_boot_state *st = arg;

	st->sipa_records++;
	switch (type) {
	case 0x00040001u: /* BootDebugging */
		st->boot_debugging |= leaf_uint(data, len) != 0;
		break;
	case 0x00050001u: /* OsKernelDebug */
		st->kernel_debug |= leaf_uint(data, len) != 0;
		break;
	case 0x00050002u: /* CodeIntegrity: every instance must be on */
		st->code_integrity = (st->code_integrity != 0 && leaf_uint(data, len) != 0) ? 1 : 0;
		break;
	case 0x00050003u: /* TestSigning */
		st->test_signing |= leaf_uint(data, len) != 0;
		break;
	case 0x00050005u: /* SafeMode */
		st->safe_mode |= leaf_uint(data, len) != 0;
		break;
	case 0x00050006u: /* WinPE */
		st->winpe |= leaf_uint(data, len) != 0;
		break;
	case 0x00050012u: /* VSMLaunchType */
	case 0x000A0001u: /* VBS VSM required */
		st->vbs |= leaf_uint(data, len) != 0;
		break;
	case 0x000A0003u: /* VBS IOMMU required */
		st->iommu |= leaf_uint(data, len) != 0;
		break;
	case 0x0005000Du: /* HypervisorDebug */
		st->hypervisor_debug |= leaf_uint(data, len) != 0;
		break;
	case 0x00050021u: /* FlightSigning */
		st->flight_signing |= leaf_uint(data, len) != 0;
		break;
	case 0x000A0007u: /* VbsHVCIPolicy: a bit counts only when every instance sets it */
		st->hvci_policy =
		    st->hvci_seen ? (st->hvci_policy & leaf_uint(data, len)) : leaf_uint(data, len);
		st->hvci_seen = true;
		break;
	default:
		/* ELAMKeyname, ELAMConfiguration, ELAMPolicy, ELAMMeasured (0x0009xxxx): the
		 * boot manager measures them for the ELAM driver it loads (WBCL). */
		if ((type & 0xFFFF0000u) == 0x00090000u)
			st->elam = true;
		break;
	}
	return ATTEST_OK;
}

/* ---- Secure Boot policy variables (PCR 7) ---------------------------------- */

#define EFI_SIGNATURE_LIST_HEADER 28 /* SignatureType, ListSize, HeaderSize, SignatureSize */
#define EFI_SIGNATURE_OWNER	  16 /* EFI_SIGNATURE_DATA.SignatureOwner */

/*
 * A variable's data as EFI_SIGNATURE_LISTs (UEFI 2.10 §32.4.1): each list's
 * sizes agree (SignatureListSize = header + SignatureHeaderSize + a whole
 * number of SignatureSize entries, each larger than its owner GUID), the
 * lists fill the data exactly, and there is at least one signature. When
 * want is given, *found says whether one entry (owner GUID and data) is
 * exactly want.
 */
static bool esl_sound(const uint8_t *p, size_t n, const uint8_t *want, size_t want_len, bool *found)
{
	struct cur c;
	size_t sigs = 0;

	cur_init(&c, p, n);
	while (!cur_empty(&c)) {
		const uint8_t *type;
		uint32_t list, hdr, size;
		struct cur body;

		if (cur_take(&c, 16, &type) || cur_u32le(&c, &list) || cur_u32le(&c, &hdr) ||
		    cur_u32le(&c, &size) || list < EFI_SIGNATURE_LIST_HEADER ||
		    cur_sub(&c, list - EFI_SIGNATURE_LIST_HEADER, &body) || cur_skip(&body, hdr) ||
		    size <= EFI_SIGNATURE_OWNER || cur_left(&body) % size != 0)
			return false;
		while (!cur_empty(&body)) {
			const uint8_t *e;

			if (cur_take(&body, size, &e))
				return false;
			if (want != NULL && want_len == size && memcmp(e, want, size) == 0)
				*found = true;
			sigs++;
		}
	}
	return sigs > 0;
}

static struct tcg_sb_var *sb_var_of(struct tcg_boot_state *st, const struct uefi_var *v)
{
	if (memcmp(v->guid, EFI_GLOBAL_VARIABLE, 16) == 0)
		return uefi_name_is(v, "PK") ? &st->sb_pk : uefi_name_is(v, "KEK") ? &st->sb_kek : NULL;
	if (memcmp(v->guid, EFI_IMAGE_SECURITY_DATABASE, 16) == 0)
		return uefi_name_is(v, "db") ? &st->sb_db : uefi_name_is(v, "dbx") ? &st->sb_dbx : NULL;
	return NULL;
}

/* One verified PCR 7 event: a Secure Boot policy variable, or an authority that must come from db. */
static void sb_event(struct tcg_boot_state *st, const struct tcg_event *ev, bool bound)
{
	struct uefi_var v;
	struct tcg_sb_var *sv;
	bool found = false;

	if (!uefi_var_parse(ev->data, ev->data_len, &v))
		return;
	if (ev->type == EV_EFI_VARIABLE_AUTHORITY) {
		/* PFP §3.3.4.8: the db entry that verified an image; it must be in the measured db. */
		if (memcmp(v.guid, EFI_IMAGE_SECURITY_DATABASE, 16) == 0 && uefi_name_is(&v, "db") &&
		    (!st->sb_db.measured ||
		     !esl_sound(st->sb_db.data, st->sb_db.len, v.data, v.data_len, &found) || !found))
			st->sb_db.sound = false;
		return;
	}
	if (ev->type != EV_EFI_VARIABLE_DRIVER_CONFIG || (sv = sb_var_of(st, &v)) == NULL)
		return;
	/* A variable measured twice is sound only when every instance is. */
	sv->sound = (!sv->measured || sv->sound) && bound && esl_sound(v.data, v.data_len, NULL, 0, &found);
	sv->measured = true;
	sv->data = v.data;
	sv->len = v.data_len;
}

/*
 * The Windows boot configuration log (WBCL) of PCR 12-14 ends at each
 * PCR's separator: records extended after it were added once the OS ran
 * (static PCRs stay extendable at locality 0) and say nothing about the
 * boot; one appended VSMLaunchType=1 would otherwise turn vbsEnabled on.
 * A separator is known by its measured content (PFP §10.4.1: 0, 1 or
 * FFFFFFFFh), not by its unauthenticated type.
 */
static bool wbcl_separator(const struct tcg_log *log, const struct tcg_event *ev)
{
	const uint8_t *p;
	size_t n;
	uint32_t v;

	if (ev->pcr < 12 || ev->pcr > 14 || !tcg_event_bound_content(log, ev, &p, &n) || n != 4)
		return false;
	v = ld_u32le(p);
	return v == 0 || v == 1 || v == 0xFFFFFFFFu;
}

static bool wbcl_closed(uint32_t closed, const struct tcg_event *ev)
{
	return ev->pcr >= 12 && ev->pcr <= 14 && (closed & (1u << ev->pcr)) != 0;
}

int tcg_boot_state(const struct tcg_log *log, struct tcg_boot_state *st, struct attest_err *err)
{
	uint32_t closed = 0; /* PCR 12-14 whose separator was met */

	memset(st, 0, sizeof(*st));
	st->secure_boot = -1;
	st->code_integrity = -1;
	for (int b = 0; b < TPM_BANK_COUNT; b++)
		st->pcr7_verified |= (log->verified[b] & (1u << 7)) != 0;
	for (size_t i = 0; i < log->n_events; i++) {
		const struct tcg_event *ev = &log->events[i];
		const uint8_t *content;
		size_t clen;
		struct uefi_var v;
		int rc;

		if (!ev->verified || ev->type == EV_NO_ACTION)
			continue;
		/*
		 * The event type is not covered by any digest (only the digest is
		 * extended), so an altered type must not hide an event: data that
		 * hashes to its digest is read by content and PCR, whatever the type.
		 * tcg_event_data_bound hashes it last, only where that is asked.
		 */
		/* SecureBoot is measured into PCR 7 as EV_EFI_VARIABLE_DRIVER_CONFIG (PFP §3.3.4.8). */
		if (ev->pcr == 7 && uefi_var_parse(ev->data, ev->data_len, &v) &&
		    memcmp(v.guid, EFI_GLOBAL_VARIABLE, 16) == 0 && uefi_name_is(&v, "SecureBoot") &&
		    (ev->type == EV_EFI_VARIABLE_DRIVER_CONFIG || tcg_event_data_bound(log, ev)))
			st->secure_boot = (v.data_len == 1 && v.data[0] == 1) ? 1 : 0;
		/* sb_event reads the binding of policy variables only (a binding rule type). */
		if (ev->pcr == 7)
			sb_event(st, ev, ev->type == EV_EFI_VARIABLE_DRIVER_CONFIG && tcg_event_data_bound(log, ev));
		if (wbcl_closed(closed, ev)) {
			continue; /* after the boot's separator on 12-14: not boot-time configuration */
		} else if (ev->type == EV_EVENT_TAG) {
			st->windows = true;
			if ((rc = sipa_walk(ev->data, ev->data_len, sipa_state, st, err)) != ATTEST_OK) {
				attest_err_where(err, "event log record #%u", ev->seq);
				return rc;
			}
		} else if (ev->pcr >= 12 && ev->pcr <= 14 && tcg_event_bound_content(log, ev, &content, &clen)) {
			/*
			 * Windows boot configuration PCRs: SIPA content under another
			 * type, EV_SEPARATOR included (the type is unauthenticated; a
			 * real separator's 4 bytes are no SIPA record and fail the walk),
			 * read from the bytes that were measured: a tag relabelled as an
			 * EFI variable around them neither hides nor adds a record.
			 */
			struct tcg_boot_state probe = *st;

			if (sipa_walk(content, clen, sipa_state, &probe, NULL) == ATTEST_OK) {
				*st = probe;
				st->windows = true;
			}
		}
		closed |= wbcl_separator(log, ev) ? 1u << ev->pcr : 0;
	}
	/*
	 * The Windows claims read absences ("no BootDebugging record is on"):
	 * they hold only when the boot configuration PCRs (12: boot manager
	 * settings, 13: OS loader settings; WBCL) are quoted and the log
	 * accounts for all of them. A log with their events removed says nothing.
	 */
	if (st->windows && !(tcg_log_pcr_complete(log, 12) && tcg_log_pcr_complete(log, 13)))
		st->windows = false;
	return ATTEST_OK;
}

/* A boolean claim whose name is a string literal: the set borrows it (no copy per attestation). */
static int add_flag(struct claim_set *out, const char *literal, bool value)
{
	return claim_set_add_borrowed(out, literal, CLAIM_ISSUER_SERVICE, json_boolean(value));
}

int tcg_boot_state_claims(const struct tcg_boot_state *st, struct claim_set *out)
{
	int rc = ATTEST_OK;

	if (st->secure_boot >= 0)
		rc |= add_flag(out, "secureBootEnabled", st->secure_boot == 1);
	if (!st->windows)
		return rc;
	rc |= add_flag(out, "bootDebuggingDisabled", !st->boot_debugging);
	rc |= add_flag(out, "osKernelDebuggingDisabled", !st->kernel_debug);
	rc |= add_flag(out, "notSafeMode", !st->safe_mode);
	rc |= add_flag(out, "notWinPE", !st->winpe);
	rc |= add_flag(out, "testSigningDisabled", !st->test_signing);
	if (st->code_integrity >= 0)
		rc |= add_flag(out, "codeIntegrityEnabled", st->code_integrity == 1);
	rc |= add_flag(out, "vbsEnabled", st->vbs);
	rc |= add_flag(out, "iommuEnabled", st->iommu);
	return rc ? ATTEST_E_NOMEM : ATTEST_OK;
}
