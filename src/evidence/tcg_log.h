#ifndef ATTEST_EVIDENCE_TCG_LOG_H
#define ATTEST_EVIDENCE_TCG_LOG_H

/*
 * TCG event logs (TCG PC Client Platform Firmware Profile §9-10,
 * formats.md §7.4-7.7): the legacy SHA-1 format (TCG_PCR_EVENT throughout,
 * e.g. Windows WBCL) and the crypto-agile format (a TCG_EfiSpecIDEvent
 * header, then TCG_PCR_EVENT2 records with one digest per declared bank).
 *
 * Trust comes only from the replay: tcg_log_verify replays every bank the
 * log declares and the caller quoted, compares with the quoted PCRs, and
 * checks that each event whose digest is defined as H(event data) carries
 * that digest. Only events on PCRs that matched are "verified"; claims are
 * decoded from verified events alone.
 *
 * Ownership: a parsed log points into the caller's bytes (event data and
 * digests are not copied); those bytes must outlive it.
 */

#include "attest/error.h"
#include "claims/claims.h"
#include "evidence/tpm.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TCG_LOG_MAX_EVENTS 20000
#define TCG_LOG_MAX_ALGS   8

/* Event types (PC Client PFP §10.4.1). */
#define EV_PREBOOT_CERT			 0x00000000u
#define EV_POST_CODE			 0x00000001u
#define EV_NO_ACTION			 0x00000003u
#define EV_SEPARATOR			 0x00000004u
#define EV_ACTION			 0x00000005u
#define EV_EVENT_TAG			 0x00000006u
#define EV_S_CRTM_CONTENTS		 0x00000007u
#define EV_S_CRTM_VERSION		 0x00000008u
#define EV_CPU_MICROCODE		 0x00000009u
#define EV_PLATFORM_CONFIG_FLAGS	 0x0000000Au
#define EV_TABLE_OF_DEVICES		 0x0000000Bu
#define EV_COMPACT_HASH			 0x0000000Cu
#define EV_IPL				 0x0000000Du
#define EV_IPL_PARTITION_DATA		 0x0000000Eu
#define EV_NONHOST_CODE			 0x0000000Fu
#define EV_NONHOST_CONFIG		 0x00000010u
#define EV_NONHOST_INFO			 0x00000011u
#define EV_OMIT_BOOT_DEVICE_EVENTS	 0x00000012u
#define EV_EFI_EVENT_BASE		 0x80000000u
#define EV_EFI_VARIABLE_DRIVER_CONFIG	 0x80000001u
#define EV_EFI_VARIABLE_BOOT		 0x80000002u
#define EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003u
#define EV_EFI_BOOT_SERVICES_DRIVER	 0x80000004u
#define EV_EFI_RUNTIME_SERVICES_DRIVER	 0x80000005u
#define EV_EFI_GPT_EVENT		 0x80000006u
#define EV_EFI_ACTION			 0x80000007u
#define EV_EFI_PLATFORM_FIRMWARE_BLOB	 0x80000008u
#define EV_EFI_HANDOFF_TABLES		 0x80000009u
#define EV_EFI_PLATFORM_FIRMWARE_BLOB2	 0x8000000Au
#define EV_EFI_HANDOFF_TABLES2		 0x8000000Bu
#define EV_EFI_VARIABLE_BOOT2		 0x8000000Cu
#define EV_EFI_HCRTM_EVENT		 0x80000010u
#define EV_EFI_VARIABLE_AUTHORITY	 0x800000E0u
#define EV_EFI_SPDM_FIRMWARE_BLOB	 0x800000E1u
#define EV_EFI_SPDM_FIRMWARE_CONFIG	 0x800000E2u

/* Name of an event type ("EV_SEPARATOR"), or NULL when unknown. */
const char *tcg_event_type_name(uint32_t type);

struct tcg_event {
	uint32_t seq; /* index in the log, the header record being 0 */
	uint32_t pcr;
	uint32_t type;
	uint32_t digests; /* bit per enum tpm_bank: a digest of that bank is present */
	/*
	 * Into the log bytes, tpm_bank_size(bank) long, when the bit is set
	 * (else NULL): the parse copies no digest, so a log's events stay a
	 * few cache lines instead of 300 bytes each.
	 */
	const uint8_t *digest[TPM_BANK_COUNT];
	const uint8_t *data; /* into the log bytes */
	uint32_t data_len;
	size_t offset; /* byte offset of the record in the log */
	bool verified; /* set by tcg_log_verify: its PCR replayed to the quote */
	/*
	 * Set by tcg_log_verify: verified and its type's binding rule held over
	 * its whole data (its data hashes to its digest; tcg_event_binding_ok;
	 * an EV_EFI_VARIABLE_BOOT bound by its VariableData alone is verified,
	 * not bound). Whether the data of any other event hashes to its digest
	 * is tcg_event_data_bound's to say.
	 */
	bool bound;
	uint8_t bound_bank; /* enum tpm_bank of the first verified bank (tcg_event_data_bound) */
};

struct tcg_log {
	bool crypto_agile;
	uint32_t banks; /* bit per enum tpm_bank the log carries */
	size_t n_algs;	/* Spec ID algorithms (crypto-agile only) */
	uint16_t alg_id[TCG_LOG_MAX_ALGS];
	uint16_t alg_size[TCG_LOG_MAX_ALGS];
	uint8_t uintn_size, spec_major, spec_minor, spec_errata;
	uint32_t platform_class;
	bool has_locality;
	uint8_t startup_locality;
	uint32_t extended[TPM_BANK_COUNT]; /* PCRs at least one event extends, per bank */
	uint32_t verified[TPM_BANK_COUNT]; /* PCRs whose replay matched the quote, per bank */
	uint32_t quoted[TPM_BANK_COUNT];   /* PCRs quoted, per bank shared with the log */
	uint32_t unlogged[TPM_BANK_COUNT]; /* quoted, never extended by the log, not at reset (PCR 8-23) */
	size_t n_events;
	struct tcg_event *events;
};

/*
 * Parses a whole log (every record, to the last byte). *out is the
 * caller's (tcg_log_free). Errors: tcg.log.empty, tcg.log.truncated (with
 * the record and offset), tcg.log.specid (malformed Spec ID event),
 * tcg.log.alg (a digest algorithm the Spec ID event did not declare),
 * tcg.log.pcr (PCR index >= 24), tcg.log.too_many.
 */
int tcg_log_parse(const uint8_t *p, size_t n, struct tcg_log **out, struct attest_err *err);
void tcg_log_free(struct tcg_log *log);

/*
 * The PCR values the log produces in one bank (formats.md §7.6): reset
 * values 0…0 (FF…FF for PCR 17-22; PCR 0 ends in the startup locality),
 * EV_NO_ACTION skipped. Errors: tcg.replay.bank (bank not in the log).
 */
int tcg_log_replay(const struct tcg_log *log, enum tpm_bank bank,
		   uint8_t out[TPM_PCR_COUNT][TPM_PCR_MAX_DIGEST], struct attest_err *err);

/*
 * Replays every bank present both in the log and in `quoted`, for every
 * PCR the log extends and the quote carries, and requires equality; then
 * checks the event-data binding of each event on a matched PCR. Marks
 * verified PCRs and events. A quoted PCR the log never extends must be at
 * its reset value: PCR 0-7 otherwise refuse (a cut log), PCR 8-23 are
 * marked unlogged. Errors: tcg.replay.mismatch (names the bank, the PCR
 * and the first event that explains it), tcg.replay.no_common_bank,
 * tcg.replay.incomplete, tcg.event.digest (an event's data does not hash
 * to its digest).
 */
int tcg_log_verify(struct tcg_log *log, const struct tpm_pcr_values *quoted, struct attest_err *err);

/*
 * True when the quote covers the PCR and the verified log accounts for all
 * of it (its events replayed to the quoted value, or it was never extended
 * and is at its reset value). Only then can a claim read an absence there.
 */
bool tcg_log_pcr_complete(const struct tcg_log *log, unsigned pcr);

/*
 * True when the event's digest in `bank` is H(data) for types whose digest
 * the PFP defines over the event data (EV_SEPARATOR, EV_ACTION,
 * EV_EFI_ACTION, EV_EVENT_TAG, EV_EFI_VARIABLE_DRIVER_CONFIG, ...); also
 * true for types whose digest covers something else (a PE image). Sets
 * *checked when the type's rule was applied.
 */
bool tcg_event_binding_ok(const struct tcg_event *ev, enum tpm_bank bank, bool *checked);

/*
 * True when the event is verified and its data hashes to its digest in the
 * first bank whose replay matched (false before tcg_log_verify ran). For
 * types without a binding rule the data is hashed here, on each call: only
 * the few events whose content a claim reads whatever their type need it
 * (tcg_boot_state: PCR 7, PCR 12-14), and hashing every event's data in
 * tcg_log_verify was a third of the log's hashing for nothing.
 */
bool tcg_event_data_bound(const struct tcg_log *log, const struct tcg_event *ev);

/*
 * The bytes of a verified event known to be what was measured: its whole
 * data when bound (tcg_event_data_bound), else the VariableData of an
 * EV_EFI_VARIABLE_BOOT(2) whose digest covers that part alone. False when
 * nothing of it is known to be measured.
 */
bool tcg_event_bound_content(const struct tcg_log *log, const struct tcg_event *ev, const uint8_t **p,
			     size_t *n);

/* ---- claims (tcg_claims.c) ----------------------------------------------- */

/*
 * The `events` claim text (maa-interface.md §2.4):
 * {"Events":[{"EventSeq","PcrIndex","EventTypeString","EventType","Digests",
 * "ProcessedData"}]}; only verified events when only_verified.
 * Caller frees (free()).
 */
char *tcg_events_json(const struct tcg_log *log, bool only_verified);
/* The `pcrs` claim text: {"PCRs":[{"Index":n,"Digests":{"SHA1":hex,...}}]}. */
char *tcg_pcrs_json(const struct tpm_pcr_values *pcrs);

/*
 * Both texts are what json_dumps(JSON_COMPACT | JSON_PRESERVE_ORDER) writes
 * for the same tree; one longer than TCG_JSON_MAX bytes is refused whole
 * (NULL), never returned cut.
 */
#define TCG_JSON_MAX (16u * 1024 * 1024)

/*
 * Lower-case hex of n bytes into out (2n characters, no NUL): the texts'
 * hex writer, through its vector path (SSE2, on x86-64) when `vectors`,
 * else the portable table. Exposed so test_tcg can hold the two to each
 * other on every byte value.
 */
void tcg_text_hex(char *out, const uint8_t *p, size_t n, bool vectors);

/*
 * Boot state derived from verified events (formats.md §7.5-7.7):
 * secureBootEnabled from the PCR 7 SecureBoot variable; from the Windows
 * boot configuration log (SIPA, PCR 12-14): bootDebuggingDisabled,
 * notSafeMode, notWinPE, vbsEnabled, iommuEnabled, codeIntegrityEnabled,
 * testSigningDisabled, osKernelDebuggingDisabled; and the raw facts
 * behind them (hypervisor debugging, flight signing, ELAM, HVCI policy,
 * the PCR 7 Secure Boot variables) for other claim sets (Azure guest,
 * maa-interface.md §2.6). A claim is emitted only when the log says
 * something about it (absent ≠ safe). Every instance of a repeated SIPA
 * boolean must be safe.
 */
struct tcg_boot_state {
	int secure_boot;       /* -1 unknown, 0 off, 1 on */
	bool windows;	       /* verified SIPA events were found */
	bool boot_debugging;   /* any BootDebugging != 0 */
	bool kernel_debug;     /* any OsKernelDebug != 0 */
	bool safe_mode;	       /* any SafeMode != 0 */
	bool winpe;	       /* any WinPE != 0 */
	bool test_signing;     /* any TestSigning != 0 */
	int code_integrity;    /* -1 unknown, else all CodeIntegrity != 0 */
	bool vbs;	       /* VSMLaunchType != 0 or VBS VSM required */
	bool iommu;	       /* VBS IOMMU required */
	bool hypervisor_debug; /* any HypervisorDebug != 0 */
	bool flight_signing;   /* any FlightSigning != 0 */
	bool elam;	       /* ELAM records (an early-launch anti-malware driver) were measured */
	bool hvci_seen;	       /* a VbsHVCIPolicy record was measured */
	uint64_t hvci_policy;  /* the bits set in every VbsHVCIPolicy record */
	size_t sipa_records;
	/*
	 * The Secure Boot policy variables the firmware measures into PCR 7 as
	 * EV_EFI_VARIABLE_DRIVER_CONFIG (PFP §3.3.4.8; PK, KEK under
	 * EFI_GLOBAL_VARIABLE, db, dbx under EFI_IMAGE_SECURITY_DATABASE_GUID),
	 * from verified events only. sound: measured, every instance's data
	 * hashes to its digest and is a well-formed, non-empty sequence of
	 * EFI_SIGNATURE_LISTs (UEFI 2.10 §32.4.1); for db also every
	 * EV_EFI_VARIABLE_AUTHORITY entry naming db is one of its signatures.
	 */
	bool pcr7_verified; /* PCR 7 replayed to the quote in some bank */
	struct tcg_sb_var {
		bool measured, sound;
		const uint8_t *data; /* the last instance's variable data (into the log) */
		size_t len;
	} sb_pk, sb_kek, sb_db, sb_dbx;
};

int tcg_boot_state(const struct tcg_log *log, struct tcg_boot_state *st, struct attest_err *err);
/* Adds the derived claims of st to out. */
int tcg_boot_state_claims(const struct tcg_boot_state *st, struct claim_set *out);

/* ---- Windows SIPA (sipa.c) ----------------------------------------------- */

/* Name of a SIPA record type ("BootDebugging"), or NULL. */
const char *sipa_type_name(uint32_t type);

/*
 * Walks the SIPA records of an EV_EVENT_TAG payload, nested containers
 * included (depth-limited), calling fn for every leaf. A record whose size
 * exceeds its container is tcg.sipa.truncated.
 */
typedef int (*sipa_leaf_fn)(void *arg, uint32_t type, const uint8_t *data, uint32_t len);
int sipa_walk(const uint8_t *p, size_t n, sipa_leaf_fn fn, void *arg, struct attest_err *err);

/*
 * A SIPA leaf as JSON ({"Type","Name","Value"}); new reference or NULL.
 * Value: the text of a UTF-16 type (sipa_type_is_utf16, up to its NUL,
 * each unit as sipa_utf8_of_unit gives it), the little-endian integer of
 * a 1-, 4- or 8-byte leaf (an 8-byte one with its top bit set reads
 * negative, as json_int_t), else the hex of the whole leaf. The events
 * text (tcg_claims.c) writes the same leaf without building it, byte for
 * byte what json_dumps(JSON_COMPACT | JSON_PRESERVE_ORDER) writes.
 */
json_t *sipa_leaf_json(uint32_t type, const uint8_t *data, uint32_t len);

/* True for the leaf types whose value is UTF-16LE text (file paths, names). */
bool sipa_type_is_utf16(uint32_t type);

/* The UTF-8 of a UTF-16 code unit (a surrogate becomes '?', BMP only); its length (1-3). */
size_t sipa_utf8_of_unit(unsigned ch, char out[3]);

#endif
