/*
 * TPM benchmark (reports, never asserts; run from a Release build):
 *  A. in-process verification of one quote with a 60-event crypto-agile log
 *     (quote parse + RSA-2048 signature + PCR digest + log parse + replay +
 *     event-data binding + boot-state claims), beside the floor measured in
 *     the same run: one RSA-2048 PKCS#1 verification plus exactly the hashing
 *     the log needs (one extend per event in the quoted bank, one H(data) per
 *     event whose type binds its data, the PCR digest), through one reused
 *     digest context; medians of back-to-back pairs, CPU time;
 *  B. the same on the real Windows GCP Shielded VM quote and its 21-event log;
 *  D. the whole protocol request a node verifies (tpm_proto_request: PS256
 *     JWS, sealed context, AIK certificate chain, quote, 60-event log, claims)
 *     for a returning client (its AIK chain and JWK keys in the cache)
 *     beside its floor (the quote's floor, the JWS's RSA-2048 PSS over its
 *     whole signing input, the SHA-256 of the AIK certificate, the AES-GCM
 *     opening of the sealed context), and for a first contact (no cache)
 *     beside that floor plus the certificate's ECDSA P-256 verification;
 *     both as attestd runs them under a policy that does not read the log
 *     (the default: no events texts written), and the returning client once
 *     more with the events texts a policy reading the log gets;
 *  C. process level on that real quote: bench_tpm_verify (our verifier CLI)
 *     with and without the log, beside tpm2_checkquote (signature + PCR
 *     digest; its -e replay cannot handle the FF reset of PCR 17-22), and
 *     fork+exec of /bin/true, in timed loops in the same run;
 *  E. (only with BENCH_TPM_ONLY=context) the sealed service context alone:
 *     tpm_context_seal and tpm_context_open (this node's epoch, another
 *     node's, an epoch nobody has) beside one AES-256-GCM seal/open on a
 *     kept cipher context.
 */
#include "base/buf.h"
#include "base/timeutil.h"
#include "devplat/tpm_ca.h"
#include "devplat/tpm_dev.h"
#include "evidence/tpm_protocol.h"
#include "base/codec.h"
#include "crypto/jose.h"
#include "evidence/tcg_log.h"
#include "evidence/tpm.h"
#include "testutil.h"
#include "bench_time.h"
#include "tpm_floor.h"

#include <fcntl.h>
#include <libgen.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct quote_case {
	const char *name;
	uint8_t *quote, *sig, *log;
	size_t quote_len, sig_len, log_len;
	EVP_PKEY *ak;
	struct tpm_pcr_values pcrs;
	enum tpm_bank bank;
	const uint8_t *nonce;
	size_t nonce_len;
	uint8_t ak_hash[32]; /* the registered AK (a tenant's list, computed once) */
};

static double per_op_us(uint64_t ns, int n) { return (double)ns / 1000.0 / n; }

/*
 * Each iteration times a figure and its floor back to back, and the medians
 * are compared (bench_sgx does the same): on a shared machine both see the
 * same neighbours, and a preemption inflates one sample, not the figure.
 * The means are printed too.
 */
struct samples {
	uint64_t *ns;
	int n;
	uint64_t sum;
};

static void samples_init(struct samples *s, int cap)
{
	s->ns = calloc((size_t)cap, sizeof(*s->ns));
	s->n = 0;
	s->sum = 0;
}

static void samples_add(struct samples *s, uint64_t ns)
{
	if (s->ns != NULL)
		s->ns[s->n++] = ns;
	s->sum += ns;
}

static double samples_median_us(struct samples *s)
{
	if (s->ns == NULL || s->n == 0)
		return 0;
	return bench_median_us(s->ns, (size_t)s->n);
}

static void samples_free(struct samples *s)
{
	free(s->ns);
}

/* The whole verification a node does for one quote and its log. */
static int verify_once(struct quote_case *c)
{
	struct tpm_aik_trust t = {.registered = (const uint8_t(*)[32])c->ak_hash, .n_registered = 1};
	struct tpm_quote_in in = {.attest = c->quote, .attest_len = c->quote_len, .sig = c->sig,
				  .sig_len = c->sig_len, .aik = c->ak, .nonce = c->nonce,
				  .nonce_len = c->nonce_len, .required_pcr_mask = 0xFFFFFF,
				  .required_bank = (int)c->bank, .pcrs = &c->pcrs};
	struct tpm_quote_out out;
	struct tpm_pcr_values quoted = c->pcrs;
	struct tcg_log *log = NULL;
	struct tcg_boot_state st;
	int rc = tpm_quote_verify(&in, &t, &out, NULL);

	/* As the service does: the log replays against the PCRs the quote covers. */
	for (int b = 0; b < TPM_BANK_COUNT; b++)
		quoted.present[b] &= rc == 0 ? out.selected[b] : 0;
	rc = rc || tcg_log_parse(c->log, c->log_len, &log, NULL) || tcg_log_verify(log, &quoted, NULL) ||
	     tcg_boot_state(log, &st, NULL);
	tcg_log_free(log);
	return rc;
}

/* One digest through a reused context (no allocation per hash). */
/*
 * The floor: one RSA verification and the hashing the replay cannot avoid
 * (one extend per event in the quoted bank, one H(data) per event whose
 * data the verifier must hash for its binding, the PCR digest), the
 * cheapest way OpenSSL 3 offers: digests fetched once, one context reused
 * for every hash.
 */
static int floor_once(struct quote_case *c, const struct tcg_log *log, const EVP_MD *sig_md,
		      const EVP_MD *bank_md)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	TPMT_SIGNATURE s;
	size_t bl = tpm_bank_size(c->bank);
	uint8_t out[64];
	int ok;

	tpm_signature_parse(c->sig, c->sig_len, &s, NULL);
	/* RSASSA: PKCS#1 v1.5 is an RSA key's default padding, nothing to set. */
	ok = EVP_DigestVerifyInit(md, &pctx, sig_md, NULL, c->ak) == 1 &&
	     EVP_DigestVerify(md, s.signature.rsassa.sig.buffer, s.signature.rsassa.sig.size, c->quote,
			      c->quote_len) == 1;
	EVP_MD_CTX_reset(md);
	bench_log_hashing(log, c->bank, 0xFFFFFF, md, bank_md); /* the synthetic quote selects every PCR */
	bench_hash_into(md, sig_md, c->pcrs.v[c->bank], 24 * bl, out);
	EVP_MD_CTX_free(md);
	return ok ? 0 : 1;
}

static void run_inprocess(struct quote_case *c, int n, const char *sig_md_name)
{
	struct tcg_log *log = NULL;
	struct samples sv, sf;
	double mv, mf;
	uint64_t t0, t1, t2;
	int bad = 0;
	EVP_MD *sig_md = EVP_MD_fetch(NULL, sig_md_name, NULL);
	EVP_MD *bank_md = EVP_MD_fetch(NULL, EVP_MD_get0_name(tpm_bank_md(c->bank)), NULL);

	tpm_pkey_spki_sha256(c->ak, c->ak_hash);
	if (tcg_log_parse(c->log, c->log_len, &log, NULL) != 0 || tcg_log_verify(log, &c->pcrs, NULL) != 0 ||
	    verify_once(c) != 0) {
		printf("  %s: does not verify; skipped\n", c->name);
		tcg_log_free(log);
		EVP_MD_free(sig_md);
		EVP_MD_free(bank_md);
		return;
	}
	for (int i = 0; i < n / 10; i++) /* warm-up */
		bad |= verify_once(c) | floor_once(c, log, sig_md, bank_md);
	samples_init(&sv, n);
	samples_init(&sf, n);
	for (int i = 0; i < n; i++) {
		t0 = bench_cpu_ns();
		bad |= verify_once(c);
		t1 = bench_cpu_ns();
		bad |= floor_once(c, log, sig_md, bank_md);
		t2 = bench_cpu_ns();
		samples_add(&sv, t1 - t0);
		samples_add(&sf, t2 - t1);
	}
	printf("  %s (%zu events, %zu-byte log, %d runs, median CPU time)%s\n", c->name, log->n_events - 1,
	       c->log_len, n, bad ? " [a run failed!]" : "");
	mv = samples_median_us(&sv);
	mf = samples_median_us(&sf);
	printf("    full verification  %8.1f us/quote\n", mv);
	printf("    floor (RSA-2048 verify + the log's hashing) %8.1f us  -> ratio %.2fx (means %.1f / %.1f "
	       "us: %.2fx)\n",
	       mf, mv / mf, per_op_us(sv.sum, n), per_op_us(sf.sum, n), (double)sv.sum / (double)sf.sum);
	samples_free(&sv);
	samples_free(&sf);
	tcg_log_free(log);
	EVP_MD_free(sig_md);
	EVP_MD_free(bank_md);
}

static int synthetic_case(struct quote_case *c, struct devplat_tcg_log *dl)
{
	static const uint8_t nonce[32] = {1, 2, 3};
	struct devplat_boot boot = {.secure_boot = true, .vbs = true, .extra_events = 40};

	memset(c, 0, sizeof(*c));
	c->name = "synthetic quote, SHA-256 PCRs 0-23, crypto-agile log";
	c->ak = EVP_RSA_gen(2048);
	c->bank = TPM_BANK_SHA256;
	c->nonce = nonce;
	c->nonce_len = sizeof(nonce);
	if (devplat_tcg_log_init(dl) || devplat_tcg_log_boot(dl, &boot))
		return -1;
	devplat_tcg_log_pcrs(dl, &c->pcrs);
	c->log = dl->log.p;
	c->log_len = dl->log.len;
	return devplat_tpm_quote(c->ak, &c->pcrs, TPM_BANK_SHA256, 0xFFFFFF, nonce, sizeof(nonce), &c->quote,
				 &c->quote_len, &c->sig, &c->sig_len, NULL);
}

static int gcp_case(struct quote_case *c, const char *dir)
{
	char path[4096];
	uint8_t *p = NULL;
	size_t n = 0;
	TPMT_PUBLIC pub;
	json_t *arr, *e;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->name = "real GCP Shielded VM quote, SHA-1 PCRs 0-23, Windows WBCL";
	c->bank = TPM_BANK_SHA1;
	c->quote = test_read_vector(dir, "tpm/gcp-windows-shielded-vm-quote/quote.tpms_attest.bin", &c->quote_len);
	c->sig = test_read_vector(dir, "tpm/gcp-windows-shielded-vm-quote/quote.tpmt_signature.bin", &c->sig_len);
	c->log = test_read_vector(dir, "tpm/gcp-windows-shielded-vm-quote/binary_bios_measurements.bin", &c->log_len);
	p = test_read_vector(dir, "tpm/gcp-windows-shielded-vm-quote/ak_public.tpmt_public.bin", &n);
	if (!c->quote || !c->sig || !c->log || !p || tpm_public_parse(p, n, &pub, NULL) ||
	    tpm_public_to_pkey(&pub, &c->ak, NULL)) {
		free(p);
		return -1;
	}
	free(p);
	snprintf(path, sizeof(path), "%s/tpm/gcp-windows-shielded-vm-quote/pcrs.json", dir);
	arr = json_load_file(path, 0, NULL);
	json_array_foreach(arr, i, e) {
		uint8_t d[20];
		const char *h = json_string_value(json_object_get(e, "digest_hex"));

		for (int k = 0; h && k < 20; k++)
			sscanf(h + 2 * k, "%2hhx", &d[k]);
		tpm_pcr_set(&c->pcrs, TPM_BANK_SHA1, (unsigned)json_integer_value(json_object_get(e, "index")), d, 20,
			    NULL);
	}
	json_decref(arr);
	return 0;
}

static void case_free(struct quote_case *c)
{
	free(c->quote);
	free(c->sig);
	EVP_PKEY_free(c->ak);
}

/* ---- D: the protocol request ------------------------------------------------ */

static bool warm_only(void)
{
	const char *only = getenv("BENCH_TPM_ONLY");

	return only != NULL && strcmp(only, "protocol-warm") == 0;
}

/* The request's JWS (outside the timed loops): the floor verifies its signature over its real signing input.
 */
static struct jws *request_jws(const char *msg)
{
	struct tpm_proto_msg m;
	struct jws *j = NULL;
	const char *tok;
	size_t n = 0;

	if (tpm_proto_msg_parse(msg, strlen(msg), &m, NULL) != 0)
		return NULL;
	tok = jsonx_str(&m.doc, jsonx_member(&m.doc, m.msg, "request"), &n);
	if (tok == NULL || jws_parse(tok, n, &j, NULL) != 0)
		j = NULL;
	tpm_proto_msg_free(&m);
	return j;
}

/* One RSA-2048 PSS verification of the JWS over its signing input (the hashing it cannot skip). */
static int jws_floor_once(const struct jws *j, EVP_PKEY *key, const EVP_MD *md_alg)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok = EVP_DigestVerifyInit(md, &pctx, md_alg, NULL, key) == 1 &&
		 EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
		 EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) == 1 &&
		 EVP_DigestVerify(md, j->sig, j->sig_len, (const uint8_t *)j->signing_input,
				  j->signing_input_len) == 1;

	EVP_MD_CTX_free(md);
	return ok ? 0 : 1;
}

static int never_seen(void *arg, const uint8_t id[TPM_PROTO_ID_LEN], int64_t expiry, int64_t now)
{
	(void)arg, (void)id, (void)expiry, (void)now;
	return 0; /* the bench replays one request on purpose */
}

static int proto_once(const struct tpm_proto_cfg *cfg, const char *msg)
{
	struct tpm_proto_msg m;
	struct tpm_proto_result res;
	int rc = tpm_proto_msg_parse(msg, strlen(msg), &m, NULL);

	if (rc == 0) {
		rc = tpm_proto_request(cfg, &m, &res, NULL);
		if (rc == 0)
			tpm_proto_result_free(&res);
		tpm_proto_msg_free(&m);
	}
	return rc;
}

/* What the floor of a protocol request is measured over (outside the timed loops). */
struct proto_floor {
	struct quote_case qc; /* the request's own quote */
	struct tcg_log *log;
	struct jws *j;        /* the request's JWS */
	EVP_PKEY *req;        /* its key */
	EVP_MD *s256;
	const unsigned char *der; /* the AIK certificate */
	int dl;
	X509 *cert;
	EVP_PKEY *capub;
	EVP_CIPHER *gcm;    /* AES-256-GCM, fetched once */
	/* The lower bound's contexts, set up once: the two keys' verifications and the keyed cipher. */
	EVP_PKEY_CTX *jws_kept, *quote_kept;
	EVP_CIPHER_CTX *gcm_kept;
	uint8_t key[32];    /* the context's epoch key (tpm_context_epoch_key of the service's master key) */
	uint8_t *sealed;    /* the request's sealed context, decoded (layout: CTX_* below) */
	size_t sealed_len;
};

static void proto_floor_free(struct proto_floor *f)
{
	tcg_log_free(f->log);
	jws_free(f->j);
	EVP_MD_free(f->s256);
	X509_free(f->cert);
	EVP_PKEY_free(f->capub);
	EVP_CIPHER_free(f->gcm);
	EVP_PKEY_CTX_free(f->jws_kept);
	EVP_PKEY_CTX_free(f->quote_kept);
	EVP_CIPHER_CTX_free(f->gcm_kept);
	free(f->sealed);
}

/* Sets up the lower bound's contexts (outside the timed loops); 0 on success. */
static int kept_contexts(struct proto_floor *f)
{
	f->jws_kept = EVP_PKEY_CTX_new_from_pkey(NULL, f->req, NULL);
	f->quote_kept = EVP_PKEY_CTX_new_from_pkey(NULL, f->qc.ak, NULL);
	f->gcm_kept = EVP_CIPHER_CTX_new();
	return f->jws_kept == NULL || f->quote_kept == NULL || f->gcm_kept == NULL ||
	       EVP_PKEY_verify_init(f->jws_kept) != 1 ||
	       EVP_PKEY_CTX_set_rsa_padding(f->jws_kept, RSA_PKCS1_PSS_PADDING) != 1 ||
	       EVP_PKEY_CTX_set_rsa_pss_saltlen(f->jws_kept, RSA_PSS_SALTLEN_DIGEST) != 1 ||
	       EVP_PKEY_CTX_set_signature_md(f->jws_kept, f->s256) != 1 ||
	       EVP_PKEY_verify_init(f->quote_kept) != 1 ||
	       EVP_PKEY_CTX_set_signature_md(f->quote_kept, f->s256) != 1 ||
	       EVP_DecryptInit_ex(f->gcm_kept, f->gcm, NULL, f->key, NULL) != 1;
}

/* A sealed context (tpm_protocol.h): 'TPC2' || epoch id || IV || ciphertext || tag. */
#define CTX_AAD	     (4 + TPM_CONTEXT_EPOCH_LEN) /* magic || epoch id, authenticated */
#define CTX_TEXT     (CTX_AAD + 12)
#define CTX_OVERHEAD (CTX_TEXT + 16)

/*
 * The sealed context's authentication: one AES-256-GCM decryption of its
 * 66-byte ciphertext under its epoch's key, with its magic and epoch id as
 * additional data and the tag checked, with a
 * cipher context made for the call, as every verification in these floors
 * makes its OpenSSL context per call (a context kept per key would be
 * cheaper: docs/PERFORMANCE.md says by how much).
 */
static int context_floor_once(const struct proto_floor *f)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t plain[128];
	size_t n = f->sealed_len - CTX_OVERHEAD;
	int len = 0, ok;

	ok = c != NULL && n <= sizeof(plain) &&
	     EVP_DecryptInit_ex(c, f->gcm, NULL, f->key, f->sealed + CTX_AAD) == 1 &&
	     EVP_DecryptUpdate(c, NULL, &len, f->sealed, CTX_AAD) == 1 &&
	     EVP_DecryptUpdate(c, plain, &len, f->sealed + CTX_TEXT, (int)n) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, f->sealed + f->sealed_len - 16) == 1 &&
	     EVP_DecryptFinal_ex(c, plain + len, &len) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : 1;
}

/*
 * The floor of a returning client (its AIK chain verified before): the
 * quote's floor, the JWS's RSA-2048 PSS verification over its signing
 * input (the whole base64url payload is hashed), the SHA-256 of the AIK
 * certificate that finds its verified chain and the AES-256-GCM opening
 * of the sealed context; a first contact adds the certificate's ECDSA
 * P-256 verification.
 */
static int proto_floor_once(const struct proto_floor *f, bool with_cert)
{
	uint8_t h[32];
	int bad = floor_once((struct quote_case *)&f->qc, f->log, f->s256, f->s256);

	bad |= f->j == NULL || jws_floor_once(f->j, f->req, f->s256);
	bad |= EVP_Digest(f->der, (size_t)f->dl, h, NULL, f->s256, NULL) != 1;
	bad |= context_floor_once(f);
	if (with_cert)
		bad |= X509_verify(f->cert, f->capub) != 1;
	return bad;
}

/*
 * A lower bound of the returning client's floor, below any verifier that
 * sets up its OpenSSL contexts per request: the same cryptography (the two
 * RSA-2048 verifications over SHA-256 digests, the log's hashing, the
 * certificate's SHA-256, the context's AES-256-GCM), with each key's
 * verification context and the cipher's key schedule set up once, outside
 * the loop. The service keeps such contexts too, with each cached key and
 * the service key (verify_pool.c, aead.c), so this is the floor a returning
 * client's request is held to; the floor above, with a context made per
 * check, is what a verifier that keeps none would pay.
 */
static int lower_bound_once(const struct proto_floor *f)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	TPMT_SIGNATURE s;
	size_t bl = tpm_bank_size(f->qc.bank), n = f->sealed_len - CTX_OVERHEAD;
	uint8_t h[64], plain[128];
	int ok, len = 0;

	tpm_signature_parse(f->qc.sig, f->qc.sig_len, &s, NULL);
	bench_hash_into(md, f->s256, f->qc.quote, f->qc.quote_len, h);
	ok = EVP_PKEY_verify(f->quote_kept, s.signature.rsassa.sig.buffer, s.signature.rsassa.sig.size, h,
			     32) == 1;
	bench_log_hashing(f->log, f->qc.bank, 0xFFFFFF, md, f->s256);
	bench_hash_into(md, f->s256, f->qc.pcrs.v[f->qc.bank], 24 * bl, h);
	bench_hash_into(md, f->s256, f->j->signing_input, f->j->signing_input_len, h);
	ok = ok && EVP_PKEY_verify(f->jws_kept, f->j->sig, f->j->sig_len, h, 32) == 1;
	bench_hash_into(md, f->s256, f->der, (size_t)f->dl, h);
	ok =
	    ok && n <= sizeof(plain) &&
	    EVP_DecryptInit_ex(f->gcm_kept, NULL, NULL, NULL, f->sealed + CTX_AAD) == 1 &&
	    EVP_DecryptUpdate(f->gcm_kept, NULL, &len, f->sealed, CTX_AAD) == 1 &&
	    EVP_DecryptUpdate(f->gcm_kept, plain, &len, f->sealed + CTX_TEXT, (int)n) == 1 &&
	    EVP_CIPHER_CTX_ctrl(f->gcm_kept, EVP_CTRL_GCM_SET_TAG, 16, f->sealed + f->sealed_len - 16) == 1 &&
	    EVP_DecryptFinal_ex(f->gcm_kept, plain + len, &len) == 1;
	EVP_MD_CTX_free(md);
	return ok ? 0 : 1;
}

struct pair {
	double req_us, floor_us, mean_ratio, lower_us;
};

/*
 * n requests under cfg, each timed back to back with its floor (one loop
 * per kind of request, so that each runs after its own kind, as on a node
 * serving them); medians of both, and the ratio of the means.
 */
static int run_pairs(const struct tpm_proto_cfg *cfg, const char *msg, const struct proto_floor *f,
		     bool with_cert, int n, struct pair *out)
{
	struct samples sr, sf, sl;
	int bad = 0;

	samples_init(&sr, n);
	samples_init(&sf, n);
	samples_init(&sl, n);
	for (int i = 0; i < n; i++) {
		uint64_t t0 = bench_cpu_ns(), t1, t2, t3;

		bad |= proto_once(cfg, msg);
		t1 = bench_cpu_ns();
		bad |= proto_floor_once(f, with_cert);
		t2 = bench_cpu_ns();
		bad |= lower_bound_once(f);
		t3 = bench_cpu_ns();
		samples_add(&sr, t1 - t0);
		samples_add(&sf, t2 - t1);
		samples_add(&sl, t3 - t2);
	}
	out->req_us = samples_median_us(&sr);
	out->floor_us = samples_median_us(&sf);
	out->lower_us = samples_median_us(&sl);
	out->mean_ratio = (double)sr.sum / (double)sf.sum;
	samples_free(&sr);
	samples_free(&sf);
	samples_free(&sl);
	return bad;
}

static void run_protocol(struct quote_case *syn, int n)
{
	uint8_t key[TPM_PROTO_KEY_LEN] = {7}, *ch = NULL, *q = NULL, *sg = NULL;
	size_t chl = 0, ql = 0, sgl = 0;
	struct tpm_proto_cfg cfg;
	struct devplat_tpm_ca *ca = NULL;
	X509 *cert = NULL;
	unsigned char *der = NULL;
	int dl;
	STACK_OF(X509) *roots = sk_X509_new_null();
	EVP_PKEY *req = EVP_RSA_gen(2048);
	char *ctx = NULL, *chb = NULL, *msg = NULL;
	uint8_t id[TPM_PROTO_ID_LEN] = {1};
	int bad = 0;
	int64_t now = 1767225600;
	struct tpm_context_keys *sealer = tpm_context_keys_new(key); /* the service's keys, as attestd holds them */

	tpm_proto_cfg_defaults(&cfg);
	cfg.service_key = sealer;
	cfg.now = now;
	cfg.replay = never_seen;
	devplat_tpm_ca_new("AIK CA", now - 86400, now + 86400, &ca, NULL);
	devplat_tpm_ca_issue(ca, syn->ak, "AIK", now - 3600, now + 3600, &cert, NULL);
	dl = i2d_X509(cert, &der);
	sk_X509_push(roots, ca->cert);
	cfg.aik_roots = roots;
	ch = malloc(32);
	memset(ch, 0x5c, 32);
	chl = 32;
	tpm_context_seal(sealer, TPM_CONTEXT_NO_PROVIDER, id, now, now + 300, ch, chl, &ctx, NULL);
	chb = b64url_encode(ch, chl);
	devplat_tpm_quote(syn->ak, &syn->pcrs, TPM_BANK_SHA256, 0xFFFFFF, ch, chl, &q, &ql, &sg, &sgl, NULL);
	{
		struct devplat_tpm_attestation cur = {.quote = q, .quote_len = ql, .sig = sg, .sig_len = sgl,
						      .pcrs = &syn->pcrs, .log = syn->log, .log_len = syn->log_len,
						      .aik = syn->ak, .aik_cert_der = der, .aik_cert_len = (size_t)dl};
		struct devplat_tpm_request rq = {.version = 2, .challenge = chb, .service_context = ctx,
						 .current = &cur, .request_key = req};

		devplat_tpm_request_build(&rq, &msg, NULL);
	}
	if (msg != NULL && getenv("BENCH_TPM_DUMP") != NULL) { /* the request, for profiling by hand */
		FILE *fp = fopen(getenv("BENCH_TPM_DUMP"), "w");

		if (fp != NULL) {
			fputs(msg, fp);
			fclose(fp);
		}
	}
	cfg.aik_cache = tpm_aik_cache_new(16);
	/* As attestd runs it under a policy that reads neither events nor bootEvents (the default). */
	cfg.skip_text_claims = true;
	if (msg == NULL || proto_once(&cfg, msg) != 0) {
		printf("  protocol request: does not verify; skipped\n");
		goto out;
	}
	for (int i = 0; i < n / 10; i++)
		bad |= proto_once(&cfg, msg);
	{
		struct proto_floor fl = {.qc = *syn, .der = der, .dl = dl, .req = req};
		const unsigned char *p = der;
		struct tpm_proto_cfg cold = cfg, texts = cfg;
		struct pair warm_p, cold_p, texts_p;

		fl.qc.quote = q, fl.qc.quote_len = ql, fl.qc.sig = sg, fl.qc.sig_len = sgl;
		fl.s256 = EVP_MD_fetch(NULL, "SHA256", NULL);
		fl.gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
		b64_decode(ctx, strlen(ctx), &fl.sealed, &fl.sealed_len);
		bad |= fl.sealed == NULL || fl.sealed_len < CTX_OVERHEAD ||
		       tpm_context_epoch_key(key, fl.sealed + 4, fl.key) != 0;
		fl.cert = d2i_X509(NULL, &p, dl);
		fl.capub = X509_get_pubkey(ca->cert);
		fl.j = request_jws(msg);
		tcg_log_parse(syn->log, syn->log_len, &fl.log, NULL);
		tcg_log_verify(fl.log, &syn->pcrs, NULL);
		bad |= fl.j == NULL || fl.sealed == NULL || kept_contexts(&fl) != 0;
		cold.aik_cache = NULL;        /* every request verifies the chain */
		texts.skip_text_claims = false; /* a policy that reads events */
		bad |= run_pairs(&cfg, msg, &fl, false, n, &warm_p);
		if (!warm_only()) {
			bad |= run_pairs(&cold, msg, &fl, true, n, &cold_p);
			bad |= run_pairs(&texts, msg, &fl, false, n, &texts_p);
		}
		printf("  protocol request: v2 basic, PS256 JWS, AIK certificate, 60-event log (%d runs, "
		       "median CPU time; each figure paired with its floor)%s\n",
		       n, bad ? " [a run failed!]" : "");
		printf("    tpm_proto_request, returning client (AIK chain and keys cached) %8.1f us/request\n",
		       warm_p.req_us);
		printf("    floor (2x RSA-2048 + JWS input and AIK certificate SHA-256 + the log's hashing + "
		       "the context's"
		       " AES-GCM) %8.1f us"
		       " -> ratio %.2fx (means: %.2fx)\n",
		       warm_p.floor_us, warm_p.req_us / warm_p.floor_us, warm_p.mean_ratio);
		printf(
		    "    lower bound (the same cryptography, each key's context set up once, as the service "
		    "keeps them)"
		    " %8.1f us -> ratio %.2fx\n",
		    warm_p.lower_us, warm_p.req_us / warm_p.lower_us);
		if (!warm_only()) {
			printf("    tpm_proto_request, first contact (no cache) %8.1f us; floor + ECDSA P-256 certificate"
			       " %8.1f us -> ratio %.2fx\n",
			       cold_p.req_us, cold_p.floor_us, cold_p.req_us / cold_p.floor_us);
			printf("    tpm_proto_request, returning client, events texts written (a policy reads the log)"
			       " %8.1f us; floor %8.1f us -> ratio %.2fx\n",
			       texts_p.req_us, texts_p.floor_us, texts_p.req_us / texts_p.floor_us);
		}
		proto_floor_free(&fl);
	}
out:
	free(ch);
	free(q);
	free(sg);
	free(ctx);
	free(chb);
	free(msg);
	OPENSSL_free(der);
	X509_free(cert);
	sk_X509_free(roots);
	tpm_aik_cache_free(cfg.aik_cache);
	tpm_context_keys_free(sealer);
	devplat_tpm_ca_free(ca);
	EVP_PKEY_free(req);
}

/* ---- process level ----------------------------------------------------------- */

static int write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		return -1;
	fwrite(p, 1, n, f);
	return fclose(f);
}

/* tpm2-tools' "serialized" PCR file: native TPML_PCR_SELECTION + u32 n + n TPML_DIGEST (platform-notes gotcha 5). */
static int write_tss_pcrs(const char *path, const struct quote_case *c)
{
	TPML_PCR_SELECTION sel;
	TPML_DIGEST d[3];
	uint32_t n = 3;
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		return -1;
	memset(&sel, 0, sizeof(sel));
	sel.count = 1;
	sel.pcrSelections[0].hash = tpm_bank_alg(c->bank);
	sel.pcrSelections[0].sizeofSelect = 3;
	memset(sel.pcrSelections[0].pcrSelect, 0xff, 3);
	memset(d, 0, sizeof(d));
	for (unsigned i = 0; i < 24; i++) {
		d[i / 8].count = 8;
		d[i / 8].digests[i % 8].size = (UINT16)tpm_bank_size(c->bank);
		memcpy(d[i / 8].digests[i % 8].buffer, c->pcrs.v[c->bank][i], tpm_bank_size(c->bank));
	}
	fwrite(&sel, sizeof(sel), 1, f);
	fwrite(&n, sizeof(n), 1, f);
	fwrite(d, sizeof(d), 1, f);
	return fclose(f);
}

/* Wall ms per run; *cpu_ms: the children's user+system CPU ms per run (wait4 rusage). */
static double time_spawn(char *const argv[], int n, int *failures, double *cpu_ms)
{
	uint64_t t0 = time_mono_ns();
	double cpu = 0;

	*failures = 0;
	for (int i = 0; i < n; i++) {
		pid_t pid;
		int st = 0;
		posix_spawn_file_actions_t fa;

		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
		struct rusage ru;

		memset(&ru, 0, sizeof(ru));
		if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0 || wait4(pid, &st, 0, &ru) < 0 ||
		    !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			(*failures)++;
		cpu += ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 + ru.ru_stime.tv_sec * 1e3 +
		       ru.ru_stime.tv_usec / 1e3;
		posix_spawn_file_actions_destroy(&fa);
	}
	*cpu_ms = cpu / n;
	return (double)(time_mono_ns() - t0) / 1e6 / n;
}

static void run_processes(const struct quote_case *c, const char *self, int n)
{
	char dir[] = "/tmp/bench_tpm_XXXXXX", cli[4096], ak[256], q[256], s[256], raw[256], ser[256], lg[256];
	uint8_t rawpcrs[24 * 20];
	FILE *f;
	int f1, f2, f3, f4;
	double t_true, t_ours, t_ours_log, t_peer, c_true, c_ours, c_ours_log, c_peer;

	if (mkdtemp(dir) == NULL)
		return;
	snprintf(cli, sizeof(cli), "%s/bench_tpm_verify", dirname(strdup(self)));
	snprintf(ak, sizeof(ak), "%s/ak.pem", dir);
	snprintf(q, sizeof(q), "%s/quote.msg", dir);
	snprintf(s, sizeof(s), "%s/quote.sig", dir);
	snprintf(raw, sizeof(raw), "%s/pcrs.bin", dir);
	snprintf(ser, sizeof(ser), "%s/pcrs.tss", dir);
	snprintf(lg, sizeof(lg), "%s/log.bin", dir);
	f = fopen(ak, "w");
	PEM_write_PUBKEY(f, c->ak);
	fclose(f);
	for (unsigned i = 0; i < 24; i++)
		memcpy(rawpcrs + i * 20, c->pcrs.v[TPM_BANK_SHA1][i], 20);
	write_file(q, c->quote, c->quote_len);
	write_file(s, c->sig, c->sig_len);
	write_file(raw, rawpcrs, sizeof(rawpcrs));
	write_file(lg, c->log, c->log_len);
	write_tss_pcrs(ser, c);
	{
		char *a_true[] = {"/bin/true", NULL};
		char *a_ours[] = {cli, "--ak", ak, "--quote", q, "--sig", s, "--pcrs", raw, "--bank", "sha1", NULL};
		char *a_log[] = {cli, "--ak", ak, "--quote", q, "--sig", s, "--pcrs", raw, "--bank", "sha1",
				 "--log", lg, NULL};
		char *a_peer[] = {"tpm2_checkquote", "-u", ak, "-m", q, "-s", s, "-g", "sha1", "-f", ser, NULL};

		t_true = time_spawn(a_true, n, &f1, &c_true);
		t_ours = time_spawn(a_ours, n, &f2, &c_ours);
		t_ours_log = time_spawn(a_log, n, &f3, &c_ours_log);
		t_peer = time_spawn(a_peer, n, &f4, &c_peer);
	}
	printf("  process level, real GCP quote, %d runs each (fork+exec+wait, same run): wall / child CPU\n", n);
	printf("    /bin/true (exec floor)                           %6.2f / %5.2f ms\n", t_true, c_true);
	printf("    bench_tpm_verify: signature + PCR digest          %6.2f / %5.2f ms%s\n", t_ours, c_ours,
	       f2 ? " [failures!]" : "");
	printf("    bench_tpm_verify: + log replay + boot claims      %6.2f / %5.2f ms%s\n", t_ours_log, c_ours_log,
	       f3 ? " [failures!]" : "");
	if (f4 == n)
		printf("    tpm2_checkquote: not runnable here (absent?)\n");
	else
		printf("    tpm2_checkquote -f (signature + PCR digest)       %6.2f / %5.2f ms%s\n", t_peer, c_peer,
		       f4 ? " [failures!]" : "");
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		(void)!system(cmd);
	}
}

/* ---- E. the sealed context alone (BENCH_TPM_ONLY=context) ----------------- */

/* Contexts as attestd issues them: bound to a provider (tpm_protocol.h), here a typical name. */
#define CTX_PROVIDER "contoso"

struct ctx_bench {
	struct tpm_context_keys *keys, *peer; /* this node's keyring, another node's over the same master */
	char *own, *other, *unknown;	      /* contexts: this node's, the other node's, of an epoch nobody has */
	size_t own_len, other_len, unknown_len;
	EVP_CIPHER_CTX *gcm;		      /* the floor: AES-256-GCM keyed once with the epoch key */
	uint8_t *raw;			      /* own, decoded */
	size_t raw_len;
};

static int ctx_seal_op(struct ctx_bench *b)
{
	uint8_t id[TPM_PROTO_ID_LEN] = {3}, ch[TPM_PROTO_CHALLENGE_LEN] = {4};
	char *ctx = NULL;
	int bad = tpm_context_seal(b->keys, CTX_PROVIDER, id, 1767225600, 1767225900, ch, sizeof(ch), &ctx,
				   NULL) != 0;

	free(ctx);
	return bad;
}

static int ctx_open(struct tpm_context_keys *k, const char *ctx, size_t len)
{
	struct tpm_context c;

	return tpm_context_open(k, CTX_PROVIDER, ctx, len, 1767225600, &c, NULL) != 0;
}

static int ctx_open_own(struct ctx_bench *b) { return ctx_open(b->keys, b->own, b->own_len); }
static int ctx_open_other(struct ctx_bench *b) { return ctx_open(b->keys, b->other, b->other_len); }
/* A refusal is what this one must give: made-up epoch, one derivation, tag fails. */
static int ctx_open_unknown(struct ctx_bench *b) { return !ctx_open(b->keys, b->unknown, b->unknown_len); }

/* The floor of a seal: a random IV and one AES-256-GCM encryption (AAD, 66 bytes, tag) on a kept context. */
static int ctx_floor_seal(struct ctx_bench *b)
{
	uint8_t iv[12], out[128], tag[16];
	size_t n = b->raw_len - CTX_OVERHEAD;
	int len = 0;

	return RAND_bytes(iv, sizeof(iv)) != 1 || EVP_EncryptInit_ex(b->gcm, NULL, NULL, NULL, iv) != 1 ||
	       EVP_EncryptUpdate(b->gcm, NULL, &len, b->raw, CTX_AAD) != 1 ||
	       EVP_EncryptUpdate(b->gcm, out, &len, b->raw + CTX_TEXT, (int)n) != 1 ||
	       EVP_EncryptFinal_ex(b->gcm, out + len, &len) != 1 ||
	       EVP_CIPHER_CTX_ctrl(b->gcm, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1;
}

/* The floor of an open: one AES-256-GCM decryption with the tag checked, on a kept context. */
static int ctx_floor_open(struct ctx_bench *b)
{
	uint8_t out[128];
	size_t n = b->raw_len - CTX_OVERHEAD;
	int len = 0;

	return EVP_DecryptInit_ex(b->gcm, NULL, NULL, NULL, b->raw + CTX_AAD) != 1 ||
	       EVP_DecryptUpdate(b->gcm, NULL, &len, b->raw, CTX_AAD) != 1 ||
	       EVP_DecryptUpdate(b->gcm, out, &len, b->raw + CTX_TEXT, (int)n) != 1 ||
	       EVP_CIPHER_CTX_ctrl(b->gcm, EVP_CTRL_GCM_SET_TAG, 16, b->raw + b->raw_len - 16) != 1 ||
	       EVP_DecryptFinal_ex(b->gcm, out + len, &len) != 1;
}

/* Median over samples of the CPU time of per calls of op, per call (sub-microsecond calls are timed in batches). */
static double ctx_median_us(int (*op)(struct ctx_bench *), struct ctx_bench *b, int samples, int per, int *bad)
{
	uint64_t *ns = calloc((size_t)samples, sizeof(*ns));
	double us;

	for (int i = 0; i < samples; i++) {
		uint64_t t0 = bench_cpu_ns();

		for (int j = 0; j < per; j++)
			*bad |= op(b);
		ns[i] = (bench_cpu_ns() - t0) / (uint64_t)per;
	}
	us = bench_median_us(ns, (size_t)samples);
	free(ns);
	return us;
}

static void run_context(int samples)
{
	static const uint8_t master[TPM_PROTO_KEY_LEN] = {7};
	uint8_t id[TPM_PROTO_ID_LEN] = {1}, ch[TPM_PROTO_CHALLENGE_LEN] = {2}, sub[32];
	struct ctx_bench b = {.keys = tpm_context_keys_new(master), .peer = tpm_context_keys_new(master)};
	int bad = b.keys == NULL || b.peer == NULL;
	double seal, own, other, unknown, fseal, fopen;

	bad |= bad ||
	       tpm_context_seal(b.keys, CTX_PROVIDER, id, 1767225600, 1767225900, ch, sizeof(ch), &b.own,
				NULL) != 0 ||
	       tpm_context_seal(b.peer, CTX_PROVIDER, id, 1767225600, 1767225900, ch, sizeof(ch), &b.other,
				NULL) != 0 ||
	       b64_decode(b.own, strlen(b.own), &b.raw, &b.raw_len) != 0 || b.raw_len < CTX_OVERHEAD ||
	       tpm_context_epoch_key(master, b.raw + 4, sub) != 0;
	if (bad) {
		printf("  sealed context: cannot be set up; skipped\n");
		goto out;
	}
	b.own_len = strlen(b.own);
	b.other_len = strlen(b.other);
	b.raw[4] ^= 1; /* another epoch id: no node has it */
	b.unknown = b64url_encode(b.raw, b.raw_len);
	b.unknown_len = strlen(b.unknown);
	b.raw[4] ^= 1;
	b.gcm = EVP_CIPHER_CTX_new();
	bad |= b.unknown == NULL || b.gcm == NULL ||
	       EVP_CipherInit_ex(b.gcm, EVP_aes_256_gcm(), NULL, sub, NULL, 1) != 1;
	seal = ctx_median_us(ctx_seal_op, &b, samples, 200, &bad);
	fseal = ctx_median_us(ctx_floor_seal, &b, samples, 200, &bad);
	own = ctx_median_us(ctx_open_own, &b, samples, 200, &bad);
	other = ctx_median_us(ctx_open_other, &b, samples, 200, &bad);
	fopen = ctx_median_us(ctx_floor_open, &b, samples, 200, &bad);
	unknown = ctx_median_us(ctx_open_unknown, &b, samples, 20, &bad);
	printf("  sealed service context alone ('TPC2', 32-byte challenge; median CPU time of %d batches)%s\n", samples,
	       bad ? " [a run failed!]" : "");
	printf("    tpm_context_seal (epoch count, random IV, AES-GCM, base64url) %8.3f us;"
	       " floor (random IV + AES-GCM, kept context) %8.3f us -> ratio %.2fx\n",
	       seal, fseal, seal / fseal);
	printf("    tpm_context_open, this node's epoch %8.3f us; another node's epoch (kept) %8.3f us;"
	       " floor (AES-GCM open, kept context) %8.3f us -> ratio %.2fx\n",
	       own, other, fopen, own / fopen);
	printf("    tpm_context_open, an epoch nobody has (HKDF + key set-up + refusal, not kept) %8.3f us\n",
	       unknown);
out:
	EVP_CIPHER_CTX_free(b.gcm);
	OPENSSL_cleanse(sub, sizeof(sub));
	free(b.raw);
	free(b.own);
	free(b.other);
	free(b.unknown);
	tpm_context_keys_free(b.keys);
	tpm_context_keys_free(b.peer);
}

/*
 * BENCH_TPM_ONLY=quote|protocol|protocol-warm|gcp|process runs one part
 * (profiling); BENCH_TPM_ONLY=context runs part E only (never part of a
 * full run: its figures are below a request's noise);
 * BENCH_TPM_RUNS=n overrides the run counts (callgrind wants few).
 */
static bool bench_part(const char *name)
{
	const char *only = getenv("BENCH_TPM_ONLY");

	/* "protocol-warm": part D without its first-contact and events-text loops (profiles of the cached path). */
	return only == NULL || strcmp(only, name) == 0 ||
	       (strcmp(name, "protocol") == 0 && strcmp(only, "protocol-warm") == 0);
}

static int runs(int n)
{
	const char *v = getenv("BENCH_TPM_RUNS");

	return v != NULL && atoi(v) > 0 ? atoi(v) : n;
}

int main(int argc, char **argv)
{
	const char *dir = test_vectors_dir();
	struct quote_case syn, gcp;
	struct devplat_tcg_log dl;

	(void)argc;
	setenv("TSS2_LOG", "all+NONE", 1);
	printf("bench_tpm: TPM quote + TCG event log verification\n");
	if (synthetic_case(&syn, &dl) == 0) {
		if (bench_part("quote"))
			run_inprocess(&syn, runs(2000), "SHA256");
		if (bench_part("protocol"))
			run_protocol(&syn, runs(500));
		if (getenv("BENCH_TPM_ONLY") != NULL && strcmp(getenv("BENCH_TPM_ONLY"), "context") == 0)
			run_context(runs(301));
	}
	case_free(&syn);
	devplat_tcg_log_free(&dl);
	if (dir == NULL || gcp_case(&gcp, dir) != 0) {
		printf("  real vectors absent: skipped B and C\n");
		return 0;
	}
	if (bench_part("gcp"))
		run_inprocess(&gcp, runs(2000), "SHA1");
	if (bench_part("process"))
		run_processes(&gcp, argv[0], runs(100));
	free(gcp.log);
	case_free(&gcp);
	return 0;
}
