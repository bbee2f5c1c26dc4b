#ifndef ATTEST_COLLATERAL_BUNDLE_H
#define ATTEST_COLLATERAL_BUNDLE_H

/*
 * Collateral bundles (issue 12; docs/receipts-and-bundles.md): one JSON
 * document carrying collateral items from a folder, a store or a receipt
 * to an air-gapped attestd, format 1:
 *
 *   {"format": "attestd-collateral-bundle", "version": 1,
 *    "created": "2026-11-28T07:00:00Z",
 *    "items": [{"kind": "tcb_info", "key": "sgx/tcb/00A067110000",
 *               "sha256": "<hex of the data>", "data": "<base64>",
 *               "issuer_chain": "<base64 of the PEM chain>"}, ...]}
 *
 * An item is keyed by what it covers, with exactly the keys of the caching
 * source (cached.h), so an imported item is the one a lookup finds:
 *
 *   kind            key
 *   pck_crl         pck_crl/processor | pck_crl/platform
 *   root_ca_crl     root_ca_crl
 *   tcb_info        sgx/tcb/<FMSPC, 12 upper hex> | tdx/tcb/<FMSPC>
 *   qe_identity     sgx/qe/identity | tdx/qe/identity | sgx/qve/identity | sgx/qae/identity
 *   pck_cert        sgx/pckcert/<ppid hex>/<cpusvn 32 hex>/<pcesvn 4 hex>/<pceid 4 hex>
 *   amd_vcek        amd/<Milan|Genoa|Turin>/vcek/<CHIP_ID, 128 hex>/<REPORTED_TCB, 16 hex>
 *   amd_cert_chain  amd/<Product>/cert_chain/<vcek|vlek>
 *   amd_crl         amd/<Product>/crl/<vcek|vlek>
 *
 * (hex lower case except the FMSPC, as cached.c writes them). A TCB Info
 * or identity key may end in "/early" or "/eval<N>": a selected set
 * (PCS update=early, a TCB evaluation data number), kept beside the
 * standard one. The key
 * syntax is checked strictly, so a key can name a file under a folder
 * without climbing out of it. This module checks structure and the sha256
 * of each item; it verifies no signature: whoever consumes the bundle
 * (attestd's import endpoint, a verifier reading the items) does.
 *
 * Error names: bundle.json (not JSON / not the format), bundle.version,
 * bundle.item (a malformed item, with its index), bundle.kind,
 * bundle.key (a key that does not fit its kind), bundle.base64,
 * bundle.digest (sha256 does not match the data), bundle.duplicate,
 * bundle.limit (too many or too large items), bundle.io, bundle.nomem.
 */

#include "attest/error.h"
#include "collateral/amd_tcb.h"
#include "collateral/cached.h"
#include "collateral/collateral.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BUNDLE_FORMAT	      "attestd-collateral-bundle"
#define BUNDLE_VERSION	      1
#define BUNDLE_MAX_ITEMS      4096
#define BUNDLE_MAX_ITEM_BYTES (1024u * 1024) /* data or chain of one item */
#define BUNDLE_MAX_DOC	      (64u * 1024 * 1024)

enum bundle_kind {
	BUNDLE_PCK_CRL = 0,
	BUNDLE_ROOT_CA_CRL,
	BUNDLE_TCB_INFO,
	BUNDLE_QE_IDENTITY,
	BUNDLE_PCK_CERT,
	BUNDLE_AMD_VCEK,
	BUNDLE_AMD_CERT_CHAIN,
	BUNDLE_AMD_CRL,
	BUNDLE_KIND_COUNT
};

struct bundle_item {
	enum bundle_kind kind;
	char *key;
	struct collateral_blob blob; /* data, and the issuer chain (PEM) or NULL */
	uint8_t sha256[32];	     /* of blob.data */
};

struct bundle {
	struct bundle_item *items;
	size_t n, cap;
	int64_t created; /* Unix seconds, set by the caller; 0 = unknown (not written) */
};

/* "pck_crl", "tcb_info", ...; NULL for an invalid kind. */
const char *bundle_kind_name(enum bundle_kind kind);
/* The kind of a name; -1 when unknown. */
int bundle_kind_parse(const char *name);
/* How the caching source treats items of the kind (dates, staleness). */
enum cached_kind bundle_cached_kind(enum bundle_kind kind);
/* Whether key is a well-formed key of kind (table above). */
bool bundle_key_ok(enum bundle_kind kind, const char *key);
/* The kind a well-formed key belongs to; -1 when it fits none. */
int bundle_kind_of_key(const char *key);

/*
 * The key of a VCEK from what the certificate says of itself: its hwID
 * (64 bytes; Turin 8, padded with zeros as CHIP_ID is) and SPLs, laid out
 * as REPORTED_TCB for the product (snp_tcb_encode, amd_tcb.h). false for
 * an unknown product or a hwID over 64 bytes.
 */
bool bundle_key_amd_vcek_of(enum amd_product product, const uint8_t *hwid, size_t hwid_len,
			    const struct snp_tcb *tcb, char out[CACHED_KEY_MAX]);

struct bundle *bundle_new(void);
void bundle_free(struct bundle *b);
/*
 * Adds a copy of blob under key (kind must fit: bundle.key); an item of
 * the same key is replaced. Errors: bundle.key, bundle.limit, bundle.nomem.
 */
int bundle_add(struct bundle *b, enum bundle_kind kind, const char *key, const struct collateral_blob *blob,
	       struct attest_err *err);
/* The item of key, or NULL. */
const struct bundle_item *bundle_find(const struct bundle *b, const char *key);
/* The item whose data has this SHA-256, or NULL. */
const struct bundle_item *bundle_find_sha256(const struct bundle *b, const uint8_t sha256[32]);

/* The JSON object of the format above, items sorted by key; NULL on allocation failure. */
json_t *bundle_to_json(const struct bundle *b);
/* Reads the object (validated entirely before *out is set: kinds, keys, digests, limits). */
int bundle_from_json(const json_t *doc, struct bundle **out, struct attest_err *err);
/* The same from text (at most BUNDLE_MAX_DOC bytes). */
int bundle_parse(const char *text, size_t len, struct bundle **out, struct attest_err *err);

/*
 * Writes the items as a file-source folder (collateral.h and
 * amd_collateral.h layouts: tcb_info_<tee>_<fmspc>.json, qe_identity_<id>.json,
 * pck_crl_<ca>.der, root_ca_crl.der, pck_<ppid>.pem, and the KDS tree
 * vcek/v1/<Product>/... for AMD), each with its _issuer_chain.pem, creating
 * dir when missing. Files are written whole under a temporary name, then
 * renamed. Errors: bundle.io, bundle.duplicate (two PCK certificates of one
 * PPID: the folder names them by PPID alone).
 */
int bundle_write_dir(const struct bundle *b, const char *dir, struct attest_err *err);

/*
 * A collateral source serving the bundle's items by key (the bundle is
 * borrowed and must outlive the source). It records which items were
 * served, so a verification can say which collateral it relied on (see
 * bundle_source_used). Free with collateral_source_free() then free().
 */
int bundle_source_new(const struct bundle *b, struct collateral_source **out, struct attest_err *err);
/* A new bundle of copies of the items src served so far. */
int bundle_source_used(const struct collateral_source *src, struct bundle **out, struct attest_err *err);

/* ---- receipts (docs/receipts-and-bundles.md) ------------------------------------ */

/*
 * A verification receipt, format 1: what one attestation relied on.
 *   {"format": "attestd-receipt", "version": 1, "type", "time" (RFC 3339, the
 *    token's iat), "issuer", "request" (object), "policy" (text or null),
 *    "token", "jwks" (object, optional), "trust_roots" (PEM, optional),
 *    "collateral" (a bundle)}
 * Errors: receipt.json (not JSON / not the format / a member of the wrong
 * type, naming it), receipt.version, and the bundle's.
 */
#define RECEIPT_FORMAT	"attestd-receipt"
#define RECEIPT_VERSION 1

struct receipt {
	char *type;
	char *time;	   /* RFC 3339 or NULL */
	char *issuer;	   /* or NULL */
	json_t *request;   /* the attest request body (object) */
	char *policy;	   /* NULL: the type's default */
	char *token;	   /* compact JWT */
	char *trust_roots; /* development anchors (PEM) or NULL */
	json_t *jwks;	   /* or NULL */
	struct bundle *collateral;
};
void receipt_clear(struct receipt *r);
/* Reads and validates a receipt (the bundle entirely); *out is filled only on success. */
int receipt_from_json(const json_t *doc, struct receipt *out, struct attest_err *err);
/* The same from text (at most BUNDLE_MAX_DOC bytes). */
int receipt_parse(const char *text, size_t len, struct receipt *out, struct attest_err *err);
/* The JSON object of r (time and issuer as given); NULL on allocation failure or missing members. */
json_t *receipt_to_json(const struct receipt *r);

#endif
