/*
 * Azure guest attestation (POST /attest/AzureGuest, issue 8): the cost of
 * azure_guest_verify for a synthetic SEV-SNP confidential VM (the request
 * test_azure_guest builds: vTPM quote over PCR 0-7 and 11-14, a 60-event
 * Windows-like TCG log, TPM2_Certify of the ephemeral key, SNP report +
 * VCEK chain binding the HCL runtime data), cold (the VCEK chain verified
 * every time) and warm (a shared chain cache, azure_guest_opts.snp), a
 * Trusted Launch VM with a registered AIK, and the sealing of the answer;
 * beside the signature floor measured in the same run:
 *   cold: 2 RSA-2048 PKCS#1 (quote, certify) + 2 RSA-4096 PSS (ARK->ASK,
 *         ASK->VCEK) + 1 ECDSA P-384 (report);
 *   warm: 2 RSA-2048 + 1 ECDSA P-384;  Trusted Launch: 2 RSA-2048.
 * Medians of interleaved runs, CPU time (the machine is shared) and wall
 * time; each verification interleaved with its own floors only (measure()).
 * Reports, never asserts.
 */
#include "base/codec.h"
#include "crypto/crypto.h"
#include "claims/claims.h"
#include "devplat/azure_guest_dev.h"
#include "devplat/snp_plat.h"
#include "devplat/tpm_ca.h"
#include "devplat/tpm_dev.h"
#include "evidence/azure_cvm.h"
#include "evidence/azure_guest.h"
#include "evidence/snp.h"
#include "bench_time.h"
#include "tpm_floor.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNS 200
#define MASK (((1u << 8) - 1) | 0x7800u) /* PCR 0-7, 11-14 */

enum {
	F_RSA2048,
	F_RSA2048_KEPT,
	F_RSA4096,
	F_P384,
	F_LOG,
	F_SEAL,
	M_COLD,
	M_WARM,
	M_TL,
	M_TL_CERT,
	M_SEAL,
	N_FIG
};

struct vm {
	struct snp_plat *plat;
	struct snp_plat_leaf leaf;
	STACK_OF(X509) * arks;
	struct evidence_anchors anchors;
	struct evidence_ctx ctx;
	EVP_PKEY *ak, *enc;
	struct devplat_tcg_log log;
	struct tpm_pcr_values pcrs;
	/* tlc_text: Trusted Launch with an AikCert from ca (a vTPM root, as Azure's), the AIK not registered.
	 */
	char *snp_text, *tl_text, *tlc_text, *runtime, *proof;
	struct devplat_tpm_ca *ca;
	STACK_OF(X509) * tpm_roots;
	uint8_t *aik_cert;
	int aik_cert_len;
	uint8_t *aik_pub, *quote, *qsig, *enc_pub, *cert, *csig;
	size_t aik_pub_len, quote_len, qsig_len, enc_pub_len, cert_len, csig_len;
	uint8_t aik_hash[32];
};

static double wall_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static char *snp_proof(struct vm *v)
{
	static const uint8_t tcb[8] = {3, 0, 0, 0, 0, 0, 8, 0x73};
	uint8_t chip[64];
	struct devplat_azg_snp spec = {.chip_id = chip, .tcb = tcb};
	char *out;

	memset(chip, 0x5A, sizeof(chip));
	if ((out = devplat_azg_snp_proof(v->plat, &v->leaf, &spec, v->runtime)) == NULL)
		exit(1);
	return out;
}

/* The Trusted Launch request with an AikCert issued by a vTPM CA that the anchors trust. */
static void aik_certified(struct vm *v, struct devplat_azg_request *rq)
{
	X509 *cert = NULL;

	v->tpm_roots = sk_X509_new_null();
	if (devplat_tpm_ca_new("vTPM CA", 1600000000, 2000000000, &v->ca, NULL) != 0 ||
	    devplat_tpm_ca_issue(v->ca, v->ak, "AIK", 1600000000, 2000000000, &cert, NULL) != 0 ||
	    (v->aik_cert_len = i2d_X509(cert, &v->aik_cert)) <= 0 || v->tpm_roots == NULL)
		exit(1);
	X509_free(cert);
	sk_X509_push(v->tpm_roots, v->ca->cert);
	v->anchors.tpm_roots = v->tpm_roots;
	rq->aik_cert.p = v->aik_cert, rq->aik_cert.n = (size_t)v->aik_cert_len;
	if (devplat_azg_request_json(rq, &v->tlc_text, NULL) != 0)
		exit(1);
	rq->aik_cert.p = NULL, rq->aik_cert.n = 0;
}

static void vm_build(struct vm *v)
{
	static const uint8_t tcb[8] = {3, 0, 0, 0, 0, 0, 8, 0x73};
	struct snp_plat_opts o = {.product = AMD_PRODUCT_MILAN,
				  .not_before = 1600000000,
				  .not_after = 2000000000,
				  .key_dir = getenv("ATTEST_BINARY_DIR")};
	uint8_t chip[64];
	struct snp_plat_leaf_spec spec = {.chip_id = chip, .tcb = tcb};
	struct devplat_boot boot = {.secure_boot = true, .extra_events = 40};
	struct devplat_azg_request rq = {0};
	struct tpm_pcr_values all;

	memset(chip, 0x5A, sizeof(chip));
	if (snp_plat_new(&o, &v->plat, NULL) != 0 || snp_plat_issue(v->plat, &spec, &v->leaf, NULL) != 0)
		exit(1);
	v->arks = sk_X509_new_null();
	sk_X509_push(v->arks, snp_plat_ark(v->plat));
	v->anchors.amd_arks = v->arks;
	v->ctx.now = 1700000000;
	v->ctx.anchors = &v->anchors;
	v->ak = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	v->enc = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	v->runtime = snp_plat_hcl_runtime_json(v->ak);
	v->proof = snp_proof(v);
	devplat_tcg_log_init(&v->log);
	devplat_tcg_log_boot(&v->log, &boot);
	devplat_tcg_log_pcrs(&v->log, &all);
	for (unsigned i = 0; i < TPM_PCR_COUNT; i++)
		if (MASK & (1u << i))
			tpm_pcr_set(&v->pcrs, TPM_BANK_SHA256, i, all.v[TPM_BANK_SHA256][i], 32, NULL);
	if (devplat_azg_tpm_public(v->ak, true, &v->aik_pub, &v->aik_pub_len, NULL) != 0 ||
	    devplat_tpm_quote(v->ak, &v->pcrs, TPM_BANK_SHA256, MASK, NULL, 0, &v->quote, &v->quote_len,
			      &v->qsig, &v->qsig_len, NULL) != 0 ||
	    devplat_azg_tpm_public(v->enc, false, &v->enc_pub, &v->enc_pub_len, NULL) != 0 ||
	    devplat_azg_certify(v->ak, v->enc_pub, v->enc_pub_len, &v->cert, &v->cert_len, &v->csig,
				&v->csig_len, NULL) != 0 ||
	    tpm_pkey_spki_sha256(v->ak, v->aik_hash) != 0)
		exit(1);
	rq.os_type = "Windows";
	rq.log.p = v->log.log.p, rq.log.n = v->log.log.len;
	rq.aik_pub.p = v->aik_pub, rq.aik_pub.n = v->aik_pub_len;
	rq.quote.p = v->quote, rq.quote.n = v->quote_len;
	rq.quote_sig.p = v->qsig, rq.quote_sig.n = v->qsig_len;
	rq.enc_pub.p = v->enc_pub, rq.enc_pub.n = v->enc_pub_len;
	rq.certify.p = v->cert, rq.certify.n = v->cert_len;
	rq.certify_sig.p = v->csig, rq.certify_sig.n = v->csig_len;
	rq.pcr_set = MASK;
	rq.pcrs = &v->pcrs;
	if (devplat_azg_request_json(&rq, &v->tl_text, NULL) != 0)
		exit(1);
	aik_certified(v, &rq);
	rq.isolation_type = "SevSnp";
	rq.proof.p = (const uint8_t *)v->proof, rq.proof.n = strlen(v->proof);
	rq.runtime.p = (const uint8_t *)v->runtime, rq.runtime.n = strlen(v->runtime);
	if (devplat_azg_request_json(&rq, &v->snp_text, NULL) != 0)
		exit(1);
}

static void vm_free(struct vm *v)
{
	snp_plat_leaf_free(&v->leaf);
	snp_plat_free(v->plat);
	sk_X509_free(v->arks);
	EVP_PKEY_free(v->ak), EVP_PKEY_free(v->enc);
	devplat_tcg_log_free(&v->log);
	free(v->snp_text), free(v->tl_text), free(v->tlc_text), free(v->runtime), free(v->proof);
	sk_X509_free(v->tpm_roots);
	devplat_tpm_ca_free(v->ca);
	OPENSSL_free(v->aik_cert);
	free(v->aik_pub), free(v->quote), free(v->qsig), free(v->enc_pub), free(v->cert), free(v->csig);
}

/* One signature made once, verified per call (the floor's building block). */
struct sig {
	EVP_PKEY *key;
	const EVP_MD *md;
	int pad;
	uint8_t s[1024];
	size_t n;
};

static const uint8_t MSG[1184] = {1};

static void sig_make(struct sig *g, EVP_PKEY *k, const EVP_MD *md, int pad)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;

	g->key = k, g->md = md, g->pad = pad, g->n = sizeof(g->s);
	if (EVP_DigestSignInit(c, &pc, md, NULL, k) != 1 ||
	    (pad && EVP_PKEY_CTX_set_rsa_padding(pc, pad) != 1) ||
	    EVP_DigestSign(c, g->s, &g->n, MSG, sizeof(MSG)) != 1)
		exit(1);
	EVP_MD_CTX_free(c);
}

static void sig_verify(const struct sig *g)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;

	if (EVP_DigestVerifyInit(c, &pc, g->md, NULL, g->key) != 1 ||
	    (g->pad && EVP_PKEY_CTX_set_rsa_padding(pc, g->pad) != 1) ||
	    EVP_DigestVerify(c, g->s, g->n, MSG, sizeof(MSG)) != 1)
		exit(1);
	EVP_MD_CTX_free(c);
}

/*
 * The same RSA-2048 check through a context made once for the key (kept
 * by the caller), as attestd checks a returning VM's AIK signatures
 * (verify_pool.c): the digest, then the verification of it.
 */
static void sig_verify_kept(const struct sig *g, EVP_PKEY_CTX *kept, EVP_MD_CTX *h)
{
	uint8_t dg[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;

	if (EVP_DigestInit_ex(h, g->md, NULL) != 1 || EVP_DigestUpdate(h, MSG, sizeof(MSG)) != 1 ||
	    EVP_DigestFinal_ex(h, dg, &dl) != 1 || EVP_PKEY_verify(kept, g->s, g->n, dg, dl) != 1)
		exit(1);
}

static void verify_once(const struct evidence_ctx *ctx, const struct azure_guest_opts *o, const char *text)
{
	struct evidence_input in = {0};
	struct claim_set *cs = claim_set_new();
	struct attest_err err;

	in.evidence = (const uint8_t *)text, in.evidence_len = strlen(text);
	if (azure_guest_verify_with(ctx, o, &in, cs, &err) != 0) {
		fprintf(stderr, "bench_azure_guest: refused: %s: %s\n", err.name, err.msg);
		exit(1);
	}
	claim_set_free(cs);
}

static const char SEAL_JWT[] = "eyJhbGciOiJSUzI1NiJ9.eyJ4LW1zLWF0dGVzdGF0aW9uLXR5cGUiOiJhenVyZXZtIn0.c2ln";

/* The sealing of an answer to the VM's EncKeyPub (what stage_seal adds after signing). */
static void seal_once(const struct vm *v)
{
	char *sealed = NULL;

	if (azure_guest_seal(v->enc, SEAL_JWT, &sealed, NULL) != 0)
		exit(1);
	free(sealed);
}

/*
 * The seal's floor: a fresh random key and IV, the RSA-OAEP(SHA-256) wrap
 * of the key to the VM's key (a context made per call: each VM has its own
 * key) and the AES-256-GCM of the same token under it.
 */
static void seal_floor(const struct vm *v)
{
	uint8_t key[AEAD_KEY_LEN], iv[AEAD_IV_LEN], wrapped[512], ct[sizeof(SEAL_JWT)], tag[AEAD_TAG_LEN];
	size_t wl = sizeof(wrapped);
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(v->enc, NULL);

	if (c == NULL || RAND_bytes(key, sizeof(key)) != 1 || RAND_bytes(iv, sizeof(iv)) != 1 ||
	    EVP_PKEY_encrypt_init(c) != 1 || EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(c, EVP_sha256()) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha256()) != 1 ||
	    EVP_PKEY_encrypt(c, wrapped, &wl, key, sizeof(key)) != 1 ||
	    aead_seal(key, iv, (const uint8_t *)AZURE_GUEST_SEAL_AAD, strlen(AZURE_GUEST_SEAL_AAD),
		      (const uint8_t *)SEAL_JWT, sizeof(SEAL_JWT) - 1, ct, tag) != 0)
		exit(1);
	EVP_PKEY_CTX_free(c);
}

/* The log's hashing (tpm_floor.h) for the quoted PCRs, and the quote's PCR digest over their values. */
static void log_floor(const struct tcg_log *log, const struct tpm_pcr_values *pcrs, EVP_MD_CTX *h,
		      const EVP_MD *s256)
{
	uint8_t vals[TPM_PCR_COUNT * 32], out[32];
	size_t n = 0;

	bench_log_hashing(log, TPM_BANK_SHA256, MASK, h, s256);
	for (unsigned i = 0; i < TPM_PCR_COUNT; i++)
		if (MASK & (1u << i))
			memcpy(vals + 32 * n++, pcrs->v[TPM_BANK_SHA256][i], 32);
	bench_hash_into(h, s256, vals, 32 * n, out);
}

/* What one figure's run needs. */
struct bench_env {
	struct vm *v;
	struct sig *rsa2048, *rsa4096, *p384;
	EVP_PKEY_CTX *kept_ctx;
	EVP_MD_CTX *lh;
	const EVP_MD *s256;
	const struct tcg_log *log;
	const struct evidence_ctx *kept;
	const struct azure_guest_opts *cold_o, *warm_o, *tl_o, *tlc_o;
};

static void run_figure(const struct bench_env *e, int f)
{
	switch (f) {
	case F_RSA2048:
		sig_verify(e->rsa2048);
		break;
	case F_RSA2048_KEPT:
		sig_verify_kept(e->rsa2048, e->kept_ctx, e->lh);
		break;
	case F_RSA4096:
		sig_verify(e->rsa4096);
		break;
	case F_P384:
		sig_verify(e->p384);
		break;
	case F_LOG:
		log_floor(e->log, &e->v->pcrs, e->lh, e->s256);
		break;
	case F_SEAL:
		seal_floor(e->v);
		break;
	case M_COLD:
		verify_once(&e->v->ctx, e->cold_o, e->v->snp_text);
		break;
	case M_WARM:
		verify_once(e->kept, e->warm_o, e->v->snp_text);
		break;
	case M_TL:
		verify_once(e->kept, e->tl_o, e->v->tl_text);
		break;
	case M_TL_CERT:
		verify_once(e->kept, e->tlc_o, e->v->tlc_text);
		break;
	default:
		seal_once(e->v);
		break;
	}
}

/*
 * RUNS rounds over one group of figures (a verification and its floors),
 * each timed alone; the medians go to m (CPU) and w (wall). A group runs on
 * its own, as bench_tpm runs each part: the Trusted Launch figure is not
 * timed right after a 2 ms cold SevSnp verification has emptied the caches,
 * which a node verifying a stream of Trusted Launch requests never sees.
 */
static void measure(const struct bench_env *e, const int *figs, size_t n, double m[N_FIG], double w[N_FIG])
{
	static double cpu[N_FIG][RUNS], wall[N_FIG][RUNS];

	for (int r = 0; r < RUNS; r++)
		for (size_t i = 0; i < n; i++) {
			double c0 = (double)bench_cpu_ns() / 1e3, w0 = wall_us();

			run_figure(e, figs[i]);
			cpu[figs[i]][r] = (double)bench_cpu_ns() / 1e3 - c0;
			wall[figs[i]][r] = wall_us() - w0;
		}
	for (size_t i = 0; i < n; i++)
		m[figs[i]] = bench_median(cpu[figs[i]], RUNS), w[figs[i]] = bench_median(wall[figs[i]], RUNS);
}

int main(void)
{
	static const int SNP_FIGS[] = {F_RSA2048, F_RSA4096, F_P384, F_LOG, M_COLD, M_WARM};
	static const int TL_FIGS[] = {F_RSA2048, F_RSA2048_KEPT, F_LOG, M_TL, M_TL_CERT};
	static const int SEAL_FIGS[] = {F_SEAL, M_SEAL};
	struct vm v;
	struct sig rsa2048, rsa4096, p384;
	struct snp_opts warm = {.cache = snp_chain_cache_new(16)};
	struct azure_guest_opts cold_o = {0}, warm_o = {.snp = &warm}, tl_o = {0}, tlc_o = {0};
	/* As attestd runs them: a returning VM's keys and chain kept (warm, Trusted Launch), or nothing
	 * (cold). */
	struct evidence_ctx kept;
	struct tcg_log *log = NULL;
	EVP_MD_CTX *lh = EVP_MD_CTX_new();
	EVP_MD *s256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	EVP_PKEY_CTX *kept_ctx;
	struct bench_env e;
	/* m, w: the SevSnp group's and the seal's medians; mt, wt: the Trusted Launch group's. */
	double m[N_FIG] = {0}, w[N_FIG] = {0}, mt[N_FIG] = {0}, wt[N_FIG] = {0};
	double floor_cold, floor_warm, floor_tl, lower_tl;
	/* BENCH_AG_ONLY=tl: the Trusted Launch figure and its floor only (for profiling by hand). */
	bool only_tl = getenv("BENCH_AG_ONLY") != NULL && strcmp(getenv("BENCH_AG_ONLY"), "tl") == 0;

	memset(&v, 0, sizeof(v));
	vm_build(&v);
	tl_o.registered_aiks = (const uint8_t(*)[32])v.aik_hash;
	tl_o.n_registered_aiks = 1;
	sig_make(&rsa2048, EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048), EVP_sha256(),
		 RSA_PKCS1_PADDING);
	sig_make(&rsa4096, EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096), EVP_sha384(),
		 RSA_PKCS1_PSS_PADDING);
	sig_make(&p384, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"), EVP_sha384(), 0);
	kept_ctx = EVP_PKEY_CTX_new_from_pkey(NULL, rsa2048.key, NULL);
	if (kept_ctx == NULL || EVP_PKEY_verify_init(kept_ctx) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(kept_ctx, rsa2048.md) != 1)
		exit(1);
	kept = v.ctx;
	kept.tpm_keys = tpm_aik_cache_new(16);
	if (tcg_log_parse(v.log.log.p, v.log.log.len, &log, NULL) != 0 || lh == NULL || s256 == NULL)
		exit(1);
	verify_once(&kept, &warm_o, v.snp_text); /* fills the chain and key caches */
	verify_once(&kept, &tl_o, v.tl_text);
	verify_once(&kept, &tlc_o, v.tlc_text); /* the AIK certificate's chain verdict kept */
	/* BENCH_AG_LOOP=n: n Trusted Launch verifications and nothing else (for perf record by hand). */
	for (long i = getenv("BENCH_AG_LOOP") != NULL ? atol(getenv("BENCH_AG_LOOP")) : 0; i > 0; i--)
		verify_once(&kept, &tl_o, v.tl_text);
	e = (struct bench_env){.v = &v,
			       .rsa2048 = &rsa2048,
			       .rsa4096 = &rsa4096,
			       .p384 = &p384,
			       .kept_ctx = kept_ctx,
			       .lh = lh,
			       .s256 = s256,
			       .log = log,
			       .kept = &kept,
			       .cold_o = &cold_o,
			       .warm_o = &warm_o,
			       .tl_o = &tl_o};
	if (!only_tl)
		measure(&e, SNP_FIGS, sizeof(SNP_FIGS) / sizeof(SNP_FIGS[0]), m, w);
	measure(&e, TL_FIGS, sizeof(TL_FIGS) / sizeof(TL_FIGS[0]), mt, wt);
	if (!only_tl)
		measure(&e, SEAL_FIGS, sizeof(SEAL_FIGS) / sizeof(SEAL_FIGS[0]), m, w);
	floor_cold = 2 * m[F_RSA2048] + 2 * m[F_RSA4096] + m[F_P384] + m[F_LOG];
	floor_warm = 2 * m[F_RSA2048] + m[F_P384] + m[F_LOG];
	floor_tl = 2 * mt[F_RSA2048] + mt[F_LOG];
	lower_tl = 2 * mt[F_RSA2048_KEPT] + mt[F_LOG];
	printf("bench_azure_guest (synthetic SevSnp CVM, %zu-byte request, %zu-event log; median of %d "
	       "interleaved "
	       "runs; CPU time, wall time)\n",
	       strlen(v.snp_text), v.log.n, RUNS);
	printf("  floor cold: 2 RSA-2048 + 2 RSA-4096-PSS + ECDSA-P384 + the log's hashing %9.1f us\n",
	       floor_cold);
	printf("  azure_guest_verify SevSnp, cold          %9.1f us  (%5.2fx)  wall %9.1f us\n", m[M_COLD],
	       m[M_COLD] / floor_cold, w[M_COLD]);
	printf("  floor warm: 2 RSA-2048 + ECDSA-P384 + the log's hashing %9.1f us\n", floor_warm);
	printf("  azure_guest_verify SevSnp, warm chain    %9.1f us  (%5.2fx)  wall %9.1f us\n", m[M_WARM],
	       m[M_WARM] / floor_warm, w[M_WARM]);
	printf("  floor TrustedLaunch: 2 RSA-2048 + the log's hashing %9.1f us\n", floor_tl);
	printf("  azure_guest_verify TrustedLaunch (reg.)  %9.1f us  (%5.2fx)  wall %9.1f us\n", mt[M_TL],
	       mt[M_TL] / floor_tl, wt[M_TL]);
	printf("  lower bound TrustedLaunch: the same, each key's context set up once, as attestd keeps the "
	       "AIK's "
	       "%9.1f us  (%5.2fx)\n",
	       lower_tl, mt[M_TL] / lower_tl);
	/* Azure's own case: the AIK certified by a vTPM root, the chain's verdict kept per certificate. */
	printf("  azure_guest_verify TrustedLaunch (cert.) %9.1f us  (%5.2fx)  wall %9.1f us\n",
	       mt[M_TL_CERT], mt[M_TL_CERT] / floor_tl, wt[M_TL_CERT]);
	printf("  lower bound TrustedLaunch (cert.): the same lower bound %9.1f us  (%5.2fx)\n", lower_tl,
	       mt[M_TL_CERT] / lower_tl);
	printf("  floor seal: fresh key and IV + RSA-OAEP-2048 encrypt + AES-256-GCM of the same bytes %9.1f "
	       "us\n",
	       m[F_SEAL]);
	printf("  seal (RSA-OAEP-2048 wrap + AES-256-GCM)  %9.1f us  (%5.2fx)  wall %9.1f us\n", m[M_SEAL],
	       m[M_SEAL] / m[F_SEAL], w[M_SEAL]);
	EVP_PKEY_free(rsa2048.key), EVP_PKEY_free(rsa4096.key), EVP_PKEY_free(p384.key);
	snp_chain_cache_free(warm.cache);
	tpm_aik_cache_free(kept.tpm_keys);
	EVP_PKEY_CTX_free(kept_ctx);
	tcg_log_free(log);
	EVP_MD_CTX_free(lh);
	EVP_MD_free(s256);
	vm_free(&v);
	return 0;
}
