#ifndef ATTEST_COLLATERAL_COLLATERAL_H
#define ATTEST_COLLATERAL_COLLATERAL_H

/*
 * Collateral: one interface (a source vtable) with several sources (a folder
 * on disk here; PCS/PCCS and AMD KDS clients elsewhere), plus a cache of
 * verified objects keyed by hash (ARCHITECTURE.md, "Evidence verifiers").
 *
 * A source returns raw bytes and, where the vendor serves one, the issuer
 * chain (PEM) that signs them; it verifies nothing. Verifiers verify and put
 * what they verified in the cache, so a repeat platform costs only the
 * signatures that depend on the evidence.
 *
 * A slot a source does not implement is NULL (then ATTEST_E_NOT_FOUND).
 * Sources are safe for concurrent use (the file source is stateless).
 *
 * Error names: collateral.not_found (nothing for that key),
 * collateral.io (read failure), collateral.too_large.
 */

#include "attest/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes and the issuer chain that signs them; both malloc'd, NUL-terminated. */
struct collateral_blob {
	uint8_t *data;
	size_t len;
	uint8_t *chain; /* PEM, signer first then root; NULL when none */
	size_t chain_len;
};
void collateral_blob_free(struct collateral_blob *b);

enum collateral_pck_ca { COLLATERAL_CA_PROCESSOR = 0, COLLATERAL_CA_PLATFORM = 1 };
enum collateral_tee { COLLATERAL_TEE_SGX = 0, COLLATERAL_TEE_TDX = 1 };
/* Enclave identities (PCS .../qe/identity, .../qve/identity, ...). */
enum collateral_qe { COLLATERAL_QE = 0, COLLATERAL_TD_QE, COLLATERAL_QVE, COLLATERAL_QAE };

/* Types 1-3 PCK lookup (PCS GET /sgx/certification/v4/pckcert). */
struct collateral_pck_query {
	const uint8_t *ppid; /* clear (16) or encrypted (256 / 384) */
	size_t ppid_len;
	const uint8_t *cpusvn; /* 16 */
	uint16_t pcesvn;
	const uint8_t *pceid; /* 2 */
};

/*
 * Which TCB Info or enclave identity a source is asked for (Intel PCS v4,
 * formats.md §3.1): the `update=standard|early` selector, or an older
 * collateral set by its `tcbEvaluationDataNumber` (PCS takes one or the
 * other, never both). The early set is what Intel publishes ahead of a
 * TCB Recovery (issue 12, "early TCB warnings"); a numbered set is what a
 * provider's TCB baseline (x-ms-sgx-tcbidentifier) is evaluated against.
 */
enum collateral_update { COLLATERAL_UPDATE_STANDARD = 0, COLLATERAL_UPDATE_EARLY = 1 };

struct collateral_select {
	enum collateral_update update; /* ignored when eval_num > 0 */
	uint32_t eval_num;	       /* > 0: the set of this tcbEvaluationDataNumber */
};

struct collateral_source_ops {
	const char *name; /* "file", "pcs", ... for logs and errors */
	/* PCK CRL (DER or PEM) of a PCK CA, chain = CA then root. */
	int (*pck_crl)(void *self, enum collateral_pck_ca ca, struct collateral_blob *out,
		       struct attest_err *err);
	/* Intel SGX Root CA CRL (DER or PEM), no chain. */
	int (*root_ca_crl)(void *self, struct collateral_blob *out, struct attest_err *err);
	/* TCB Info body by TEE and FMSPC (6 bytes), chain = TCB Signing then root. */
	int (*tcb_info)(void *self, enum collateral_tee tee, const uint8_t fmspc[6],
			struct collateral_blob *out, struct attest_err *err);
	/* Enclave identity body, chain = TCB Signing then root. */
	int (*qe_identity)(void *self, enum collateral_qe kind, struct collateral_blob *out,
			   struct attest_err *err);
	/* PCK certificate (PEM leaf) for an (encrypted) PPID; chain = PCK CA then root. */
	int (*pck_cert)(void *self, const struct collateral_pck_query *q, struct collateral_blob *out,
			struct attest_err *err);
	/*
	 * AMD (snp helper's slots): `product` "Milan", "Genoa", "Turin".
	 * vcek: by chip id (64 bytes) and reported TCB; cert_chain: ASK/ASVK
	 * then ARK (vlek selects ASVK); crl: the product's CRL.
	 */
	int (*amd_vcek)(void *self, const char *product, const uint8_t chip_id[64], uint64_t tcb,
			struct collateral_blob *out, struct attest_err *err);
	int (*amd_cert_chain)(void *self, const char *product, bool vlek, struct collateral_blob *out,
			      struct attest_err *err);
	int (*amd_crl)(void *self, const char *product, bool vlek, struct collateral_blob *out,
		       struct attest_err *err);
	/*
	 * Optional (NULL = the source cannot select): TCB Info / enclave
	 * identity of a selected set (struct collateral_select; never NULL
	 * here). Same bytes and chain as tcb_info / qe_identity. A set the
	 * source does not have is collateral.not_found (ATTEST_E_NOT_FOUND).
	 * A caching source must key what it keeps by the selector too.
	 */
	int (*tcb_info_ex)(void *self, enum collateral_tee tee, const uint8_t fmspc[6],
			   const struct collateral_select *sel, struct collateral_blob *out,
			   struct attest_err *err);
	int (*qe_identity_ex)(void *self, enum collateral_qe kind, const struct collateral_select *sel,
			      struct collateral_blob *out, struct attest_err *err);
	void (*free)(void *self);
};

struct collateral_cache;

struct collateral_source {
	const struct collateral_source_ops *ops;
	void *self;
	/* Verified-object cache shared by every verifier using this source; may be NULL. */
	struct collateral_cache *cache;
};

/* Frees the source's state (ops->free), not the cache. NULL allowed. */
void collateral_source_free(struct collateral_source *src);

/* Dispatchers: NULL slot => collateral.not_found. */
int collateral_get_pck_crl(struct collateral_source *src, enum collateral_pck_ca ca,
			   struct collateral_blob *out, struct attest_err *err);
int collateral_get_root_ca_crl(struct collateral_source *src, struct collateral_blob *out,
			       struct attest_err *err);
int collateral_get_tcb_info(struct collateral_source *src, enum collateral_tee tee, const uint8_t fmspc[6],
			    struct collateral_blob *out, struct attest_err *err);
int collateral_get_qe_identity(struct collateral_source *src, enum collateral_qe kind,
			       struct collateral_blob *out, struct attest_err *err);
int collateral_get_pck_cert(struct collateral_source *src, const struct collateral_pck_query *q,
			    struct collateral_blob *out, struct attest_err *err);
/*
 * Selected sets: sel NULL or {STANDARD, 0} is exactly collateral_get_tcb_info
 * / _qe_identity; any other selection needs the _ex slot (NULL slot, or a
 * set the source lacks: collateral.not_found, ATTEST_E_NOT_FOUND).
 */
int collateral_get_tcb_info_ex(struct collateral_source *src, enum collateral_tee tee, const uint8_t fmspc[6],
			       const struct collateral_select *sel, struct collateral_blob *out,
			       struct attest_err *err);
int collateral_get_qe_identity_ex(struct collateral_source *src, enum collateral_qe kind,
				  const struct collateral_select *sel, struct collateral_blob *out,
				  struct attest_err *err);
/* True when sel asks for something other than the standard set. */
bool collateral_select_is_special(const struct collateral_select *sel);

/*
 * A selected set's name after the name of the standard item: "" for the
 * standard set (or NULL), "<sep>early", "<sep>eval<N>" (N decimal, no
 * leading zero). sep is '/' in keys (the caching source, bundles: e.g.
 * "sgx/tcb/00906ED50000/eval17") and '_' in file names (the file source,
 * bundle folders: "tcb_info_eval17.json"). out holds at least
 * COLLATERAL_SELECT_SUFFIX_MAX bytes.
 */
#define COLLATERAL_SELECT_SUFFIX_MAX 16
void collateral_select_suffix(const struct collateral_select *sel, char sep, char *out, size_t cap);
/*
 * The inverse: the set the suffix s (exactly what collateral_select_suffix
 * writes, "" included) names; false for anything else ("/eval0",
 * "/eval017", "/eval4294967296", "/Early", ...).
 */
bool collateral_select_parse_suffix(const char *s, char sep, struct collateral_select *out);
/*
 * A key split at its selected-set suffix: the length of the standard key
 * before it (strlen(key) when the last '/' part names no set) and the set.
 */
size_t collateral_select_split_key(const char *key, struct collateral_select *out);

/*
 * The file source: a folder in the layout of shared/vectors/sgx/<vector>/ and
 * tdx/<vector>/:
 *   tcb_info.json + tcb_info_issuer_chain.pem        (any FMSPC; the verifier checks it)
 *   qe_identity.json + qe_identity_issuer_chain.pem  (any kind; the verifier checks the id)
 *   pck_crl.der (or .pem) + pck_crl_issuer_chain.pem (either CA)
 *   root_ca_crl.der (or .pem)
 * More specific names win when present, so one folder can serve several
 * platforms: tcb_info_<sgx|tdx>_<fmspc hex lower>.json (+ _issuer_chain.pem),
 * qe_identity_<qe|td_qe|qve|qae>.json, pck_crl_<processor|platform>.der,
 * pck_<ppid hex lower>.pem (types 1-3; a clear 16-byte PPID), or
 * pck_<SHA-256 of the PPID bytes, hex lower>.pem for an encrypted PPID
 * (256/384 bytes: its hex would be over NAME_MAX), see
 * collateral_file_pck_name. Selected sets (tcb_info_ex /
 * qe_identity_ex) have their own names and never fall back to the standard
 * files: tcb_info_<sgx|tdx>_<fmspc>_early.json, then tcb_info_early.json
 * (early), tcb_info_<sgx|tdx>_<fmspc>_eval<N>.json, then
 * tcb_info_eval<N>.json (tcbEvaluationDataNumber N), each with
 * <same stem>_issuer_chain.pem or else the standard chain file;
 * qe_identity_<kind>_early.json / qe_identity_early.json and
 * qe_identity_<kind>_eval<N>.json / qe_identity_eval<N>.json likewise.
 * A missing file is collateral.not_found.
 * The folder path is copied. *out is freed with collateral_source_free + free.
 */
int collateral_file_source_new(const char *dir, struct collateral_source **out, struct attest_err *err);

#define COLLATERAL_CLEAR_PPID_SIZE 16

/*
 * The file source's name of a PCK certificate for a PPID (above): the
 * importers (attestctl collateral import, devplat) write the same name.
 * cap >= 73. ATTEST_E_INVALID for an empty or over-long (> 384) PPID.
 */
int collateral_file_pck_name(const uint8_t *ppid, size_t ppid_len, char *out, size_t cap);

/* ---- cache --------------------------------------------------------------- */

/*
 * A bounded, thread-safe map from a 32-byte key to an immutable,
 * reference-counted object with a validity window [not_before, not_after]
 * (the intersection of every window the object's verification relied on).
 * No globals: the owner creates it and hands it to the sources/verifiers.
 * max_entries 1..2^20 (LRU_MAX_CAPACITY, base/lru.h; NULL otherwise).
 * When full, the least recently stored or hit entry is evicted; an expired
 * one goes when a lookup finds it. Entries still referenced stay alive
 * until released.
 */
struct collateral_cache *collateral_cache_new(size_t max_entries);
void collateral_cache_free(struct collateral_cache *c);

struct collateral_ref; /* a held reference to a cached object */

/*
 * Looks up key at time now: a live entry whose window holds now gives a new
 * reference (release with collateral_ref_release) and its object; NULL
 * otherwise. Entries outside their window are dropped.
 */
struct collateral_ref *collateral_cache_get(struct collateral_cache *c, const uint8_t key[32], int64_t now,
					    void **obj);
/*
 * Inserts obj under key (taking ownership: destroy(obj) runs when the last
 * reference goes), returning a reference for the caller; an existing entry
 * under the same key is replaced. NULL on allocation failure (obj is then
 * destroyed).
 */
struct collateral_ref *collateral_cache_put(struct collateral_cache *c, const uint8_t key[32], void *obj,
					    void (*destroy)(void *), int64_t not_before, int64_t not_after);
void *collateral_ref_obj(const struct collateral_ref *r);
void collateral_ref_release(struct collateral_ref *r);
size_t collateral_cache_count(struct collateral_cache *c);
/* Hits/misses since creation (for benchmarks and metrics). */
void collateral_cache_stats(struct collateral_cache *c, uint64_t *hits, uint64_t *misses);

#endif
