#ifndef ATTEST_EVIDENCE_TPM_PROTOCOL_H
#define ATTEST_EVIDENCE_TPM_PROTOCOL_H

/*
 * Azure Attestation's TPM / VBS protocol below HTTP (maa-interface.md
 * §1.3.5; MicrosoftDocs virtualization-based-security-protocol):
 *
 *   init     {"type":"aikcert"}  ->  {"challenge": b64url, "service_context": b64url}
 *   request  {"request": JWS}    ->  claims for the token (the caller signs it)
 *   report   the token           ->  {"report": JWT}
 *
 * Each message travels as {"data": b64url(UTF-8 JSON)}; a message may be
 * wrapped in {"payload": ...} (the Azure SDKs do) and is answered in the
 * form it was asked.
 *
 * Design note (stateless nodes): the service_context is self-contained.
 * It is the AES-256-GCM sealing of {version, issuing provider, unique id,
 * issue time, expiry, challenge} under an epoch key (tpm_context.c): the service's one
 * stored key is a master key, each process derives from it (HKDF-SHA256)
 * the key of a random epoch it seals under, names the epoch in the
 * context, and moves to a new one after TPM_CONTEXT_SEALS_PER_EPOCH
 * seals, so no GCM key comes near SP 800-38D's random-IV bound. Any node
 * holding the master key can finish a protocol another node started. A
 * context is refused when its tag fails, when another provider issued it,
 * when it expired, when its challenge is not the request's, and when its
 * id was seen before: replay is checked through a caller callback (e.g.
 * a shared store), a bounded in-process seen-set (tpm_seen_set), or one
 * such set per provider (tpm_replay_sets, what attestd uses).
 */

#include "attest/error.h"
#include "base/jsonx.h"
#include "claims/claims.h"
#include "crypto/crypto.h"
#include "evidence/evidence.h"
#include "evidence/tpm.h"

#include <jansson.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TPM_PROTO_KEY_LEN 32       /* the service's master key (HKDF-SHA256 input) */
#define TPM_PROTO_CHALLENGE_LEN 32
#define TPM_PROTO_ID_LEN 16
#define TPM_PROTO_DEFAULT_TTL 300  /* seconds a challenge stays valid */
#define TPM_PROTO_MAX_BODY (8u * 1024 * 1024)

/* ---- replay protection -------------------------------------------------- */

/*
 * Called once per request that verified, as its last check: returns 0
 * when the id is new (and records it until expiry), 1 when it was seen
 * (replay; also the loser of two requests racing with one context),
 * negative on failure (the request is then refused). A request that fails
 * verification records nothing: its context stays usable by the client
 * it was issued to.
 */
typedef int (*tpm_proto_replay_fn)(void *arg, const uint8_t id[TPM_PROTO_ID_LEN], int64_t expiry,
				   int64_t now);
/* Optional look-up without recording: 1 when id was recorded, else 0 (a replay refused before the quote's work). */
typedef int (*tpm_proto_replay_peek_fn)(void *arg, const uint8_t id[TPM_PROTO_ID_LEN], int64_t now);

/*
 * A bounded set of seen context ids, safe for concurrent use
 * (tpm_replay.c). Expired ids are evicted; when the set is full of
 * unexpired ids a new id is refused (fail closed) rather than an old one
 * forgotten. Its table starts at 16 slots and grows with the ids it holds
 * (at most 4 slots per id), up to about 2 * capacity.
 */
struct tpm_seen_set;
struct tpm_seen_set *tpm_seen_set_new(size_t capacity);
void tpm_seen_set_free(struct tpm_seen_set *s);
/* A tpm_proto_replay_fn over a tpm_seen_set (arg). Full, or out of memory: -1. */
int tpm_seen_set_check(void *arg, const uint8_t id[TPM_PROTO_ID_LEN], int64_t expiry, int64_t now);
/* A tpm_proto_replay_peek_fn over a tpm_seen_set (arg). */
int tpm_seen_set_peek(void *arg, const uint8_t id[TPM_PROTO_ID_LEN], int64_t now);
/* The slots of its table now (tests: growth and shrinking). */
size_t tpm_seen_set_slots(struct tpm_seen_set *s);

/*
 * One seen-set per provider (tenant), so that a tenant filling its own
 * set with verified requests gets tpm.context.replay_store for its own
 * requests only. Sets are made on a provider's first record and dropped
 * once their ids all expired. Bounds, whatever tenants do:
 *   per_provider  ids one provider's set holds at most (its requests are
 *                 refused beyond: at TTL 300 s and the grace, 65,536 ids = 182 verified
 *                 requests a second);
 *   floor         ids each set holds without drawing on `shared`;
 *   shared        ids held beyond their sets' floors, all sets together;
 *   providers     sets at once.
 * So at most providers * floor + shared ids are held (each costs at most
 * 4 slots of 32 bytes). When `shared` is used up a set below its floor
 * still records: a tenant's guaranteed share is its floor.
 */
struct tpm_replay_limits {
	size_t per_provider; /* 1 .. 2^24 */
	size_t floor;	     /* <= per_provider */
	size_t shared;	     /* <= 2^28 */
	size_t providers;    /* 1 .. 2^20 */
};
/* Expired ids and empty sets are swept this often (seconds of the callers' clock). */
#define TPM_REPLAY_SWEEP_EVERY 60
/*
 * An id is kept this long past its context's expiry (tpm_replay.c,
 * kept_until): requests check against the clock they started with, and
 * two that began before the expiry must still meet in the set.
 */
#define TPM_REPLAY_GRACE 60

struct tpm_replay_sets;
/* NULL when the limits are out of range or out of memory. */
struct tpm_replay_sets *tpm_replay_sets_new(const struct tpm_replay_limits *lim);
void tpm_replay_sets_free(struct tpm_replay_sets *r);
/*
 * As tpm_proto_replay_fn, into provider's set (NULL = TPM_CONTEXT_NO_PROVIDER):
 * 0 new, 1 seen, -1 refused (the provider's set full of live ids, its
 * share of the pool used up, no set available, or out of memory).
 */
int tpm_replay_sets_check(struct tpm_replay_sets *r, const char *provider, const uint8_t id[TPM_PROTO_ID_LEN],
			  int64_t expiry, int64_t now);
/* As tpm_proto_replay_peek_fn, in provider's set. */
int tpm_replay_sets_peek(struct tpm_replay_sets *r, const char *provider, const uint8_t id[TPM_PROTO_ID_LEN],
			 int64_t now);

/* A request's view: tpm_proto_cfg.replay_arg for the two functions below. */
struct tpm_replay_scope {
	struct tpm_replay_sets *sets;
	const char *provider; /* the provider the request came to (tpm_proto_cfg.provider) */
};
int tpm_replay_scope_check(void *arg, const uint8_t id[TPM_PROTO_ID_LEN], int64_t expiry, int64_t now);
int tpm_replay_scope_peek(void *arg, const uint8_t id[TPM_PROTO_ID_LEN], int64_t now);

/* What the sets hold now (tests, metrics). */
struct tpm_replay_sets_stats {
	size_t providers;   /* sets */
	size_t ids;	    /* ids held, all sets */
	size_t slots;	    /* table slots allocated, all sets */
	size_t shared_used; /* ids held beyond the floors */
};
void tpm_replay_sets_stats(struct tpm_replay_sets *r, struct tpm_replay_sets_stats *out);

/* ---- the keys sealing service contexts (tpm_context.c) ---------------------- */

#define TPM_CONTEXT_EPOCH_LEN 16
/*
 * A context names the provider (tenant) whose init issued it: at most 63
 * bytes, a provider name's limit (a DNS label, server/routes_mgmt.c).
 * Callers outside any provider (offline tools, tests) use
 * TPM_CONTEXT_NO_PROVIDER, the empty name, which no provider has.
 */
#define TPM_CONTEXT_PROVIDER_MAX 63
#define TPM_CONTEXT_NO_PROVIDER	 ""
/*
 * Seals per epoch key. With q random 96-bit IVs under one key the chance
 * of two equal IVs is at most q(q-1)/2 / 2^96 < q^2 / 2^97 (SP 800-38D
 * §8.3 asks that it stay below 2^-32, i.e. q <= 2^32): at q = 2^24 it is
 * below 2^48 / 2^97 = 2^-49 per epoch. Epoch ids are 128-bit random, so two
 * processes share an epoch (and its IV space) with chance E^2 / 2^129 after
 * E epochs in all. An epoch lasts 4.7 hours at 1,000 seals a second; a new
 * one costs one HKDF and one AES key schedule.
 */
#define TPM_CONTEXT_SEALS_PER_EPOCH (UINT64_C(1) << 24)
/*
 * Epoch keys kept for opening (this process's current one included): the
 * live epochs are about one per node (each node's current epoch, and the
 * one before it during a TTL after a rotation or restart). More nodes
 * than that still work: an epoch that fell out costs one derivation again.
 */
#define TPM_CONTEXT_EPOCHS_KEPT 32

/*
 * A service's context keys: the master key, this process's current epoch
 * (its seal count, rotated when it reaches the limit) and a bounded cache
 * of epoch keys for opening (a miss derives the key; it is kept only once
 * a context opened under it: tag, content and expiry good, so neither
 * random epoch ids nor expired contexts of old epochs displace live ones).
 * Safe for concurrent use by any number of threads; the master key is
 * cleansed on free. NULL when OpenSSL cannot derive the first epoch key.
 */
struct tpm_context_keys;
struct tpm_context_keys *tpm_context_keys_new(const uint8_t master[TPM_PROTO_KEY_LEN]);
/*
 * The same with other limits, for tests that want to see a rotation or a
 * full cache: seals_per_epoch >= 1, 2 <= epochs_kept <= 1024.
 */
struct tpm_context_keys *tpm_context_keys_new_bounded(const uint8_t master[TPM_PROTO_KEY_LEN],
						      uint64_t seals_per_epoch, size_t epochs_kept);
void tpm_context_keys_free(struct tpm_context_keys *keys);

/* What a keyring did so far (tests, metrics). */
struct tpm_context_keys_stats {
	uint8_t epoch[TPM_CONTEXT_EPOCH_LEN]; /* the current epoch id */
	uint64_t sealed;		      /* seals under the current epoch */
	uint64_t rotations;		      /* epochs started (the first one included) */
	uint64_t derived;		      /* epoch keys derived (rotations and opening misses) */
	size_t epochs_kept;		      /* epoch keys in the cache */
};
void tpm_context_keys_stats(struct tpm_context_keys *keys, struct tpm_context_keys_stats *out);

/*
 * The epoch key of epoch under master: HKDF-SHA256(IKM = master, no salt,
 * info = "attestd tpm context v2" || epoch id), 32 bytes (tools, tests and
 * benchmarks that open a context with OpenSSL alone). 0, or -1 when
 * OpenSSL fails.
 */
int tpm_context_epoch_key(const uint8_t master[TPM_PROTO_KEY_LEN], const uint8_t epoch[TPM_CONTEXT_EPOCH_LEN],
			  uint8_t out[AEAD_KEY_LEN]);

/* ---- configuration ------------------------------------------------------- */

struct tpm_proto_cfg {
	/* The keys sealing and opening the contexts (tpm_context_keys_new over
	 * the service's master key), shared by every request; borrowed. */
	struct tpm_context_keys *service_key;
	/* The provider the message came to: init binds the context to it, a
	 * request is refused unless its context names it (NULL =
	 * TPM_CONTEXT_NO_PROVIDER). Borrowed. */
	const char *provider;
	uint32_t ttl;                 /* 0 = TPM_PROTO_DEFAULT_TTL */
	int64_t now;                  /* verification time */
	tpm_proto_replay_fn replay;   /* required for requests */
	tpm_proto_replay_peek_fn replay_peek; /* optional, same arg */
	void *replay_arg;
	/* From the tenant's policy configuration rules (maa-interface.md §3.5). */
	bool require_valid_aik_cert;  /* default true */
	uint32_t required_pcr_mask;   /* default 0xFFFFFF */
	STACK_OF(X509) *aik_roots;    /* AIK certificate issuers */
	const uint8_t (*registered_aiks)[32]; /* SHA-256 of registered AIKs' SPKI */
	size_t n_registered_aiks;
	struct tpm_aik_cache *aik_cache; /* verified AIK chains, shared by requests (may be NULL) */
	/*
	 * The events, bootEvents and pcrs claims are not written (the policy
	 * reads none of them, and tokens never carry them); default false.
	 */
	bool skip_text_claims;
};

/* Sets the documented defaults (require_valid_aik_cert, mask 0xFFFFFF, TTL). */
void tpm_proto_cfg_defaults(struct tpm_proto_cfg *cfg);

/* ---- messages ------------------------------------------------------------ */

enum tpm_proto_kind { TPM_PROTO_INIT, TPM_PROTO_REQUEST };

struct tpm_proto_msg {
	enum tpm_proto_kind kind;
	bool wrapped;   /* the message was {"payload": {...}} */
	bool enveloped; /* the body was {"data": b64url(...)} */
	struct jsonx_doc doc;          /* the message, indexed (owned) */
	uint8_t *text;                 /* the decoded "data" doc indexes when enveloped (owned) */
	const struct jsonx_node *msg;  /* the inner message object, in doc */
};

/*
 * Reads a request body: {"data": b64url(JSON)} or the JSON message itself,
 * either possibly wrapped in "payload". The message may point into body:
 * body must outlive it. Errors: tpm.proto.body, tpm.proto.type (not
 * "aikcert"), tpm.proto.message (neither init nor request).
 */
int tpm_proto_msg_parse(const char *body, size_t len, struct tpm_proto_msg *out, struct attest_err *err);
void tpm_proto_msg_free(struct tpm_proto_msg *m);

/*
 * Answers an init message: a fresh random challenge and its sealed
 * service_context, as a response body in the request's form (caller frees).
 * Errors: tpm.proto.config, tpm.proto.random.
 */
int tpm_proto_init(const struct tpm_proto_cfg *cfg, const struct tpm_proto_msg *m, char **body,
		   struct attest_err *err);

/* The response body {"data": b64url({"report": jwt})} in the request's form. */
int tpm_proto_report_body(const struct tpm_proto_msg *m, const char *jwt, char **body,
			  struct attest_err *err);

/* What a verified request yields. */
struct tpm_proto_result {
	struct claim_set *claims; /* incoming claims (maa-interface.md §2.4), owned */
	json_t *cnf;              /* the request key's public JWK (RFC 7800 cnf.jwk), owned */
	char *rp_data;            /* request rp_data (base64url text) or NULL, owned */
	char *rp_id;              /* request rp_id or NULL, owned */
	int version;              /* 1 or 2 */
	bool vbs;                 /* att_type "vbs" */
};
void tpm_proto_result_free(struct tpm_proto_result *r);

/*
 * Verifies a request message end to end: the JWS signature with the key it
 * names (proof of possession), the service_context (tag, expiry, challenge,
 * replay), the TPM quote(s) with the AIK and the policy inputs of cfg, the
 * TCG logs replayed against the quoted PCRs, the VBS report and its binding
 * when att_type is "vbs"; then produces the claims. `result` is filled
 * only on success. Errors: tpm.proto.* (message shape), tpm.context.*
 * (sealed context), tpm.quote.*, tpm.aik.*, tcg.*, vbs.*, jws.*.
 */
int tpm_proto_request(const struct tpm_proto_cfg *cfg, const struct tpm_proto_msg *m,
		      struct tpm_proto_result *result, struct attest_err *err);

/*
 * Offline verification of one TPM attestation, in the evidence.h shape
 * (attestctl verify): in->evidence is the JSON of a v2 `current_attestation`
 * ({quote, signature, pcrs, logs, aik_pub JWK or aik_public = base64url
 * TPM2B/TPMT_PUBLIC, aik_cert?}); in->runtime_data is the expected
 * extraData (NULL: it must be empty). The AIK must chain to
 * ctx->anchors->tpm_roots, except with EVIDENCE_NO_COLLATERAL, where the
 * AIK is taken as given (aikValidated false). required_pcr_mask 0xFFFFFF.
 * Adds the TPM claims (aikValidated, aikPubHash, boot state, events, pcrs).
 */
int tpm_verify(const struct evidence_ctx *ctx, const struct evidence_input *in, struct claim_set *out,
	       struct attest_err *err);

/* ---- pieces, exposed for tests and tools --------------------------------- */

/*
 * Seals a context issued by provider (a name of at most
 * TPM_CONTEXT_PROVIDER_MAX bytes, TPM_CONTEXT_NO_PROVIDER outside any)
 * under keys' current epoch (format version 2, 'TPC2': magic || epoch id
 * || IV || ciphertext || tag, magic and epoch id as GCM additional data;
 * the provider is in the ciphertext); *ctx_b64 (base64url) is the
 * caller's. Errors: tpm.context.seal.
 */
int tpm_context_seal(struct tpm_context_keys *keys, const char *provider, const uint8_t id[TPM_PROTO_ID_LEN],
		     int64_t issued, int64_t expiry, const uint8_t *challenge, size_t challenge_len,
		     char **ctx_b64, struct attest_err *err);

struct tpm_context {
	uint8_t id[TPM_PROTO_ID_LEN];
	int64_t issued, expiry;
	uint8_t challenge[TPM_PROTO_CHALLENGE_LEN];
	size_t challenge_len;
};

/*
 * Opens and authenticates a context under its epoch's key; checks expiry
 * at now. Version 1 contexts ('TPC1', sealed under the master key itself
 * before the epochs) are refused: they live one TTL, and the master key
 * is not to act as a GCM key again. Errors: tpm.context.encoding (not
 * base64url, not a context of this service's format), tpm.context.version
 * (a version 1 context, or an unknown inner version), tpm.context.auth
 * (the tag fails under the epoch's key: altered, or another service's),
 * tpm.context.derive (internal: the epoch key could not be derived),
 * tpm.context.provider (authentic, but issued by another provider than
 * provider, the one it is redeemed at), tpm.context.expired.
 */
int tpm_context_open(struct tpm_context_keys *keys, const char *provider, const char *ctx_b64, size_t ctx_len,
		     int64_t now, struct tpm_context *out, struct attest_err *err);

/*
 * PCP_PLATFORM_ATTESTATION_BLOB (Windows NCryptCreateClaim platform claim,
 * v1 `current_claim`/`boot_claim`): header {Magic 'PADS'/'PAD2', Platform,
 * HeaderSize, cbPcrValues, cbQuote, cbSignature, cbLog[, PcrAlgorithmId]}
 * then the parts. Pointers go into p. Errors: tpm.pcp.*.
 */
struct tpm_pcp_blob {
	uint32_t platform;
	uint16_t pcr_alg;
	const uint8_t *pcrs, *quote, *sig, *log;
	size_t pcrs_len, quote_len, sig_len, log_len;
};
int tpm_pcp_blob_parse(const uint8_t *p, size_t n, struct tpm_pcp_blob *out, struct attest_err *err);

/*
 * The v2 "pcrs" member: [{"algorithm": TPM_ALG_ID, "values": [{"index", "digest"
 * (base64url)}]}] of every present value, what tpm_verify and the protocol read.
 * NULL when out of memory.
 */
json_t *tpm_pcrs_to_json(const struct tpm_pcr_values *pcrs);

#endif
