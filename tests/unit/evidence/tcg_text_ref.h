#ifndef ATTEST_TESTS_TCG_TEXT_REF_H
#define ATTEST_TESTS_TCG_TEXT_REF_H

/*
 * The `events` and `pcrs` claim texts built the slow, obvious way: a
 * jansson tree dumped with json_dumps(JSON_COMPACT | JSON_PRESERVE_ORDER).
 * tcg_claims.c writes the same texts by hand, fast; test_tcg and
 * fuzz_tcg_log hold its output to this one byte for byte. The decoding
 * rules are restated here from maa-interface.md §2.4 and PFP §10.4 (not
 * shared with the code under test), so a change to either shows up as a
 * difference.
 */

#include "evidence/tcg_log.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline uint64_t tcg_ref_u64le(const uint8_t *p)
{
	uint64_t x = 0;

	for (int i = 0; i < 8; i++)
		x |= (uint64_t)p[i] << (8 * i);
	return x;
}

/* Lower-case hex of at most 512 bytes (longer data is cut; DataLength says how long it was). */
static inline json_t *tcg_ref_hex(const uint8_t *p, size_t n, size_t cap)
{
	char *s;
	json_t *j;

	if (n > cap)
		n = cap;
	s = malloc(2 * n + 1);
	for (size_t i = 0; i < n; i++)
		snprintf(s + 2 * i, 3, "%02x", p[i]);
	s[2 * n] = '\0';
	j = json_string(s);
	free(s);
	return j;
}

/* A u64: a JSON integer when int64 holds it, else "0x" and 16 hex digits. */
static inline json_t *tcg_ref_u64(uint64_t v)
{
	char t[24];

	if (v <= (uint64_t)INT64_MAX)
		return json_integer((json_int_t)v);
	snprintf(t, sizeof(t), "0x%016llx", (unsigned long long)v);
	return json_string(t);
}

/* Printable ASCII (0x20-0x7e) of the bytes, everything else dropped. */
static inline json_t *tcg_ref_ascii(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);
	size_t o = 0;
	json_t *j;

	for (size_t i = 0; i < n; i++)
		if (p[i] >= 0x20 && p[i] < 0x7f)
			s[o++] = (char)p[i];
	s[o] = '\0';
	j = json_string(s);
	free(s);
	return j;
}

/* UTF-16LE code units up to the first 0, printable ASCII kept, any other unit '?'. */
static inline json_t *tcg_ref_utf16(const uint8_t *p, size_t n)
{
	char *s = malloc(n / 2 + 1);
	size_t o = 0;
	json_t *j;

	for (size_t i = 0; i + 1 < n; i += 2) {
		unsigned ch = p[i] | (unsigned)p[i + 1] << 8;

		if (ch == 0)
			break;
		s[o++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	s[o] = '\0';
	j = json_string(s);
	free(s);
	return j;
}

/* UEFI_VARIABLE_DATA (PFP §10.4.7) as the events text shows it, or NULL when it does not parse. */
static inline json_t *tcg_ref_uefi_var(const uint8_t *p, size_t n)
{
	uint64_t nl, dl;
	const uint8_t *g = p;
	char guid[40];
	json_t *o;

	if (n < 32)
		return NULL;
	nl = tcg_ref_u64le(p + 16);
	dl = tcg_ref_u64le(p + 24);
	if (nl > 4096 || 2 * nl > n - 32 || dl > n - 32 - 2 * nl)
		return NULL;
	snprintf(guid, sizeof(guid), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13],
		 g[14], g[15]);
	o = json_object();
	json_object_set_new(o, "VariableName", json_string(guid));
	json_object_set_new(o, "UnicodeName", tcg_ref_utf16(p + 32, (size_t)(2 * nl)));
	json_object_set_new(o, "VariableDataLength", tcg_ref_u64(dl));
	if (dl == 1)
		json_object_set_new(o, "VariableData", json_integer(p[32 + 2 * nl]));
	else
		json_object_set_new(o, "VariableData", tcg_ref_hex(p + 32 + 2 * nl, (size_t)dl, 512));
	return o;
}

static inline int tcg_ref_sipa_leaf(void *arg, uint32_t type, const uint8_t *data, uint32_t len)
{
	json_array_append_new((json_t *)arg, sipa_leaf_json(type, data, len));
	return ATTEST_OK;
}

static inline json_t *tcg_ref_processed(const struct tcg_event *ev)
{
	json_t *o = NULL;

	switch (ev->type) {
	case EV_EFI_VARIABLE_DRIVER_CONFIG:
	case EV_EFI_VARIABLE_BOOT:
	case EV_EFI_VARIABLE_BOOT2:
	case EV_EFI_VARIABLE_AUTHORITY:
		o = tcg_ref_uefi_var(ev->data, ev->data_len);
		break;
	case EV_EFI_ACTION:
	case EV_ACTION:
	case EV_IPL:
		o = json_object();
		json_object_set_new(o, "String", tcg_ref_ascii(ev->data, ev->data_len));
		break;
	case EV_S_CRTM_VERSION:
		o = json_object();
		json_object_set_new(o, "Version", tcg_ref_utf16(ev->data, ev->data_len));
		break;
	case EV_EVENT_TAG: {
		json_t *a = json_array();

		if (sipa_walk(ev->data, ev->data_len, tcg_ref_sipa_leaf, a, NULL) == ATTEST_OK) {
			o = json_object();
			json_object_set_new(o, "SipaEvents", a);
		} else {
			json_decref(a);
		}
		break;
	}
	case EV_EFI_BOOT_SERVICES_APPLICATION:
	case EV_EFI_BOOT_SERVICES_DRIVER:
	case EV_EFI_RUNTIME_SERVICES_DRIVER:
		if (ev->data_len >= 32) { /* UEFI_IMAGE_LOAD_EVENT (PFP §10.4.4): its four fixed fields */
			o = json_object();
			json_object_set_new(o, "ImageLocationInMemory", tcg_ref_u64(tcg_ref_u64le(ev->data)));
			json_object_set_new(o, "ImageLengthInMemory",
					    tcg_ref_u64(tcg_ref_u64le(ev->data + 8)));
			json_object_set_new(o, "ImageLinkTimeAddress",
					    tcg_ref_u64(tcg_ref_u64le(ev->data + 16)));
			json_object_set_new(o, "LengthOfDevicePath",
					    tcg_ref_u64(tcg_ref_u64le(ev->data + 24)));
		}
		break;
	default:
		break;
	}
	if (o == NULL) {
		o = json_object();
		json_object_set_new(o, "DataLength", json_integer(ev->data_len));
		json_object_set_new(o, "Data", tcg_ref_hex(ev->data, ev->data_len, 512));
	}
	return o;
}

static inline json_t *tcg_ref_digests(uint32_t banks, const uint8_t *const *d)
{
	json_t *o = json_object();

	for (int bk = 0; bk < TPM_BANK_COUNT; bk++)
		if (banks & (1u << bk))
			json_object_set_new(o, tpm_bank_name((enum tpm_bank)bk),
					    tcg_ref_hex(d[bk], tpm_bank_size((enum tpm_bank)bk), 64));
	return o;
}

/* The events text (caller frees) as json_dumps writes it. */
static inline char *tcg_ref_events_text(const struct tcg_log *log, bool only_verified)
{
	json_t *root = json_object(), *arr = json_array();
	char *s;

	for (size_t i = 0; i < log->n_events; i++) {
		const struct tcg_event *ev = &log->events[i];
		const char *tn = tcg_event_type_name(ev->type);
		json_t *o;

		if (only_verified && !ev->verified)
			continue;
		o = json_object();
		json_object_set_new(o, "EventSeq", json_integer(ev->seq));
		json_object_set_new(o, "PcrIndex", json_integer(ev->pcr));
		json_object_set_new(o, "EventType", json_integer(ev->type));
		if (tn != NULL) {
			json_object_set_new(o, "EventTypeString", json_string(tn));
		} else {
			char t[16];

			snprintf(t, sizeof(t), "0x%08x", ev->type);
			json_object_set_new(o, "EventTypeString", json_string(t));
		}
		json_object_set_new(o, "Digests", tcg_ref_digests(ev->digests, ev->digest));
		json_object_set_new(o, "ProcessedData", tcg_ref_processed(ev));
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "Events", arr);
	s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	return s;
}

/* The pcrs text (caller frees) as json_dumps writes it. */
static inline char *tcg_ref_pcrs_text(const struct tpm_pcr_values *pcrs)
{
	json_t *root = json_object(), *arr = json_array();
	char *s;

	for (unsigned i = 0; i < TPM_PCR_COUNT; i++) {
		uint32_t banks = 0;
		const uint8_t *d[TPM_BANK_COUNT];
		json_t *o;

		for (int bk = 0; bk < TPM_BANK_COUNT; bk++) {
			banks |= pcrs->present[bk] & (1u << i) ? 1u << bk : 0;
			d[bk] = pcrs->v[bk][i];
		}
		if (banks == 0)
			continue;
		o = json_object();
		json_object_set_new(o, "Index", json_integer(i));
		json_object_set_new(o, "Digests", tcg_ref_digests(banks, d));
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "PCRs", arr);
	s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	return s;
}

#endif
