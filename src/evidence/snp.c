/*
 * SEV-SNP verification: see snp.h. Order (STYLE.md habit 3): parse and
 * validate the whole report; find the certificates; verify the chain (or
 * take it from the cache, keyed by the exact bytes); bind the leaf to the
 * report (kind, CHIP_ID, REPORTED_TCB); verify the report signature; only
 * then look at the fields the signature covers.
 */
#include "evidence/snp.h"

#include "base/codec.h"
#include "base/cur.h"
#include "collateral/amd_collateral.h"
#include "crypto/crypto.h"
#include "evidence/amd_certs.h"
#include "evidence/snp_cache.h"

#include <stdlib.h>
#include <string.h>

/* Certificate bytes as received, plus what the collateral source lent us. */
struct snp_material {
	struct snp_certs c;
	struct collateral_blob vcek_blob; /* owned when looked up */
	struct collateral_blob crl_blob;
	struct collateral_blob chain_blob;
	enum amd_product hint;	    /* product known before parsing the leaf */
	enum amd_product leaf_hint; /* the leaf's productName, once read (v2 reports) */
	bool leaf_hint_read;
};

static void material_free(struct snp_material *m)
{
	free(m->vcek_blob.data);
	free(m->vcek_blob.chain);
	free(m->crl_blob.data);
	free(m->crl_blob.chain);
	free(m->chain_blob.data);
	free(m->chain_blob.chain);
}

static uint64_t tcb_u64(const uint8_t raw[8])
{
	return ld_u64le(raw);
}

/* No VCEK came with the evidence: ask the collateral source (§5.8). */
static int lookup_vcek(const struct evidence_ctx *ctx, const struct snp_report *r, struct snp_material *m,
		       struct attest_err *err)
{
	enum amd_product first = m->hint, last = m->hint;
	struct attest_err e;

	if (r->signing_key == SNP_KEY_VLEK)
		return attest_err_set(
		    err, ATTEST_E_COLLATERAL, "snp.vcek.missing",
		    "a VLEK-signed report must carry its VLEK (AMD does not publish VLEKs)");
	if (ctx->collateral == NULL || (ctx->flags & EVIDENCE_NO_COLLATERAL))
		return attest_err_set(err, ATTEST_E_COLLATERAL, "snp.vcek.missing",
				      "no VCEK came with the report and no collateral source is configured");
	if (first == AMD_PRODUCT_UNKNOWN) /* v2: no CPUID, try each line */
		first = AMD_PRODUCT_MILAN, last = AMD_PRODUCT_TURIN;
	for (int p = first; p <= (int)last; p++) {
		attest_err_clear(&e);
		if (collateral_get_amd_vcek(ctx->collateral, amd_product_name(p), r->chip_id,
					    tcb_u64(r->reported_tcb), &m->vcek_blob, &e) == ATTEST_OK) {
			/* The product stays the report's (or the leaf's): a flat folder serves any. */
			m->c.leaf = m->vcek_blob.data;
			m->c.leaf_len = m->vcek_blob.len;
			return ATTEST_OK;
		}
		if (e.rc != ATTEST_E_NOT_FOUND) {
			if (err != NULL && err->rc == ATTEST_OK)
				*err = e;
			return e.rc;
		}
	}
	return attest_err_set(err, ATTEST_E_COLLATERAL, "snp.vcek.missing",
			      "no VCEK for this chip and TCB in the report or the collateral source");
}

static bool has_chain(const struct snp_certs *c)
{
	return c->chain != NULL || c->chain_b64 != NULL;
}

/*
 * The PEM chain text of c: c->chain itself, or c->chain_b64 decoded into
 * *tmp (caller frees). Errors: snp.chain.base64.
 */
static int chain_text(const struct snp_certs *c, uint8_t **tmp, const uint8_t **p, size_t *n,
		      struct attest_err *err)
{
	*tmp = NULL;
	*p = c->chain, *n = c->chain_len;
	if (c->chain_b64 == NULL)
		return ATTEST_OK;
	if (c->chain != NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "snp.chain.duplicate",
				      "a chain is given both as text and as base64");
	if (b64_decode(c->chain_b64, c->chain_b64_len, tmp, n) != 0)
		return attest_err_set(err, ATTEST_E_PARSE, "snp.chain.base64",
				      "the certificate chain is not base64");
	*p = *tmp;
	return ATTEST_OK;
}

/* The product named by the leaf, for a v2 report whose chain or CRL must be looked up. */
static enum amd_product leaf_product_read(const struct snp_material *m)
{
	struct amd_cert_ext ext;
	STACK_OF(X509) *sk = NULL;
	struct amd_chain ch;
	X509 *x = NULL;
	enum amd_product p = AMD_PRODUCT_UNKNOWN;

	uint8_t *tmp = NULL;
	const uint8_t *pem;
	size_t pem_len;

	memset(&ch, 0, sizeof(ch));
	if (m->c.leaf != NULL)
		(void)amd_cert_load(m->c.leaf, m->c.leaf_len, &x, "snp.vcek", NULL);
	else if (has_chain(&m->c) && chain_text(&m->c, &tmp, &pem, &pem_len, NULL) == 0 &&
		 x509_stack_from_pem(pem, pem_len, &sk, "snp.chain", NULL) == 0 &&
		 amd_chain_classify(sk, &ch, NULL) == 0 && ch.leaf != NULL && X509_up_ref(ch.leaf))
		x = ch.leaf;
	free(tmp);
	if (x != NULL && amd_cert_ext_parse(x, &ext, NULL) == 0 && ext.has_product_name)
		p = amd_product_from_name(ext.product_name, strlen(ext.product_name));
	X509_free(x);
	sk_X509_pop_free(sk, X509_free);
	return p;
}

static enum amd_product leaf_product(struct snp_material *m)
{
	if (!m->leaf_hint_read) {
		m->leaf_hint = leaf_product_read(m);
		m->leaf_hint_read = true;
	}
	return m->leaf_hint;
}

/* AMD's CRL from the collateral source when none came with the evidence. */
static int lookup_crl(const struct evidence_ctx *ctx, bool vlek, struct snp_material *m,
		      struct attest_err *err)
{
	enum amd_product p = m->hint;
	struct attest_err e;

	if (m->c.crl != NULL || ctx->collateral == NULL ||
	    (ctx->flags & (EVIDENCE_NO_REVOCATION | EVIDENCE_NO_COLLATERAL)))
		return ATTEST_OK;
	if (p == AMD_PRODUCT_UNKNOWN)
		p = leaf_product(m);
	if (p == AMD_PRODUCT_UNKNOWN)
		return ATTEST_OK; /* the chain check will say why */
	attest_err_clear(&e);
	if (collateral_get_amd_crl(ctx->collateral, amd_product_name(p), vlek, &m->crl_blob, &e) ==
	    ATTEST_OK) {
		m->c.crl = m->crl_blob.data;
		m->c.crl_len = m->crl_blob.len;
		return ATTEST_OK;
	}
	if (e.rc == ATTEST_E_NOT_FOUND)
		return ATTEST_OK; /* AMD CRLs are checked when present (issue 6) */
	if (err != NULL && err->rc == ATTEST_OK)
		*err = e;
	return e.rc;
}

/*
 * The ASK/ASVK (and ARK) from the collateral source when the evidence
 * brought none; without one the built-in certificates serve.
 */
static int lookup_chain(const struct evidence_ctx *ctx, bool vlek, struct snp_material *m,
			struct attest_err *err)
{
	enum amd_product p = m->hint;
	struct attest_err e;

	if (m->c.ask != NULL || has_chain(&m->c) || ctx->collateral == NULL ||
	    (ctx->flags & EVIDENCE_NO_COLLATERAL))
		return ATTEST_OK;
	if (p == AMD_PRODUCT_UNKNOWN)
		p = leaf_product(m);
	if (p == AMD_PRODUCT_UNKNOWN)
		return ATTEST_OK;
	attest_err_clear(&e);
	if (collateral_get_amd_cert_chain(ctx->collateral, amd_product_name(p), vlek, &m->chain_blob, &e) ==
	    ATTEST_OK) {
		m->c.chain = m->chain_blob.data;
		m->c.chain_len = m->chain_blob.len;
		return ATTEST_OK;
	}
	if (e.rc == ATTEST_E_NOT_FOUND)
		return ATTEST_OK;
	if (err != NULL && err->rc == ATTEST_OK)
		*err = e;
	return e.rc;
}

static int feed(struct hash_ctx *h, const void *p, size_t n)
{
	uint64_t len = n;

	if (hash_update(h, &len, sizeof(len)) != 0 || (n > 0 && hash_update(h, p, n) != 0))
		return -1;
	return 0;
}

/* The cache key: every input of amd_chain_verify except the time. */
static int chain_key(const struct evidence_ctx *ctx, const struct snp_material *m, bool vlek, uint8_t key[32])
{
	STACK_OF(X509) *arks = ctx->anchors ? ctx->anchors->amd_arks : NULL;
	const struct snp_certs *c = &m->c;
	uint8_t hdr[4] = {'S', 'N', (uint8_t)m->hint, vlek};
	struct hash_ctx h;
	bool no_crl = (ctx->flags & EVIDENCE_NO_REVOCATION) != 0;

	if (hash_init(&h, HASH_SHA256) != 0)
		return -1;
	if (feed(&h, hdr, sizeof(hdr)) || feed(&h, c->leaf, c->leaf_len) || feed(&h, c->ask, c->ask_len) ||
	    feed(&h, c->ark, c->ark_len) || feed(&h, c->chain, c->chain_len) ||
	    feed(&h, c->chain_b64, c->chain_b64_len) ||
	    feed(&h, no_crl ? NULL : c->crl, no_crl ? 0 : c->crl_len))
		goto fail;
	for (int i = 0; arks != NULL && i < sk_X509_num(arks); i++) {
		uint8_t fp[32];

		if (x509_sha256(sk_X509_value(arks, i), fp) != 0 || feed(&h, fp, sizeof(fp)))
			goto fail;
	}
	return hash_final(&h, key) == 0 ? 0 : -1;
fail:
	hash_ctx_free(&h);
	return -1;
}

/* Loaded certificates, owned. */
struct snp_loaded {
	STACK_OF(X509) * pem;
	X509 *leaf, *ask, *ark;
	X509_CRL *crl;
	struct amd_chain ch;
};

static void loaded_free(struct snp_loaded *l)
{
	sk_X509_pop_free(l->pem, X509_free);
	X509_free(l->leaf);
	X509_free(l->ask);
	X509_free(l->ark);
	X509_CRL_free(l->crl);
}

static int load_certs(const struct evidence_ctx *ctx, const struct snp_certs *c, struct snp_loaded *l,
		      struct attest_err *err)
{
	int rc;

	memset(l, 0, sizeof(*l));
	if (has_chain(c)) {
		uint8_t *tmp = NULL;
		const uint8_t *pem;
		size_t pem_len;

		if ((rc = chain_text(c, &tmp, &pem, &pem_len, err)) == ATTEST_OK)
			rc = x509_stack_from_pem(pem, pem_len, &l->pem, "snp.chain", err);
		free(tmp);
		if (rc != ATTEST_OK || (rc = amd_chain_classify(l->pem, &l->ch, err)) != ATTEST_OK)
			return rc;
	}
	if ((c->leaf && (rc = amd_cert_load(c->leaf, c->leaf_len, &l->leaf, "snp.vcek", err)) != ATTEST_OK) ||
	    (c->ask && (rc = amd_cert_load(c->ask, c->ask_len, &l->ask, "snp.chain", err)) != ATTEST_OK) ||
	    (c->ark && (rc = amd_cert_load(c->ark, c->ark_len, &l->ark, "snp.chain", err)) != ATTEST_OK))
		return rc;
	if (c->crl && !(ctx->flags & EVIDENCE_NO_REVOCATION) &&
	    (rc = x509_crl_load(c->crl, c->crl_len, &l->crl, "snp.crl", err)) != ATTEST_OK)
		return rc;
	/* Certificates given one by one win over those found in the PEM chain. */
	if ((l->leaf && l->ch.leaf) || (l->ask && l->ch.ask) || (l->ark && l->ch.ark))
		return attest_err_set(err, ATTEST_E_PARSE, "snp.chain.duplicate",
				      "a certificate is given both alone and in the chain");
	if (l->leaf)
		l->ch.leaf = l->leaf;
	if (l->ask)
		l->ch.ask = l->ask;
	if (l->ark)
		l->ch.ark = l->ark;
	l->ch.crl = l->crl;
	return ATTEST_OK;
}

/* Cache objects in the shared collateral cache: a heap copy owning one key reference. */
static void chain_obj_free(void *obj)
{
	struct amd_chain_result *r = obj;

	EVP_PKEY_free(r->leaf_key);
	free(r);
}

static bool shared_get(struct collateral_cache *c, const uint8_t key[32], int64_t now,
		       struct amd_chain_result *out)
{
	void *obj = NULL;
	struct collateral_ref *ref = collateral_cache_get(c, key, now, &obj);
	bool ok = false;

	if (ref != NULL) {
		const struct amd_chain_result *r = obj;

		/* The window is checked here too: the cache may count its end inclusively. */
		if (now >= r->valid_from && now < r->valid_until && EVP_PKEY_up_ref(r->leaf_key)) {
			*out = *r;
			ok = true;
		}
		collateral_ref_release(ref);
	}
	return ok;
}

static void shared_put(struct collateral_cache *c, const uint8_t key[32], const struct amd_chain_result *res)
{
	struct amd_chain_result *copy = malloc(sizeof(*copy));
	struct collateral_ref *ref;

	if (copy == NULL)
		return;
	*copy = *res;
	if (!EVP_PKEY_up_ref(copy->leaf_key)) {
		free(copy);
		return;
	}
	ref = collateral_cache_put(c, key, copy, chain_obj_free, res->valid_from, res->valid_until);
	if (ref != NULL)
		collateral_ref_release(ref);
}

/*
 * The verified chain for m: from a cache, or verified now and cached.
 * opts->cache wins; else the collateral source's shared cache, if any.
 */
static int get_chain(const struct evidence_ctx *ctx, const struct snp_opts *opts,
		     const struct snp_material *m, bool vlek, struct amd_chain_result *out,
		     struct attest_err *err)
{
	struct snp_chain_cache *cache = opts ? opts->cache : NULL;
	struct collateral_cache *shared = cache == NULL && ctx->collateral ? ctx->collateral->cache : NULL;
	struct snp_loaded l;
	uint8_t key[32];
	bool keyed = false;
	int rc;

	if ((cache != NULL || shared != NULL) && chain_key(ctx, m, vlek, key) == 0) {
		keyed = true;
		if (cache != NULL ? snp_chain_cache_get(cache, key, ctx->now, out)
				  : shared_get(shared, key, ctx->now, out))
			return ATTEST_OK;
	}
	if ((rc = load_certs(ctx, &m->c, &l, err)) == ATTEST_OK &&
	    (rc = amd_chain_verify(ctx, m->hint, vlek, &l.ch, out, err)) == ATTEST_OK && keyed) {
		if (cache != NULL)
			snp_chain_cache_put(cache, key, out);
		else
			shared_put(shared, key, out);
	}
	loaded_free(&l);
	return rc;
}

/* The leaf speaks for this report: kind, CHIP_ID, REPORTED_TCB (§5.6 Matching). */
static int bind_leaf(const struct snp_report *r, const struct amd_chain_result *cr, struct snp_tcb *reported,
		     struct attest_err *err)
{
	static const struct {
		enum amd_spl spl;
		const char *name;
	} parts[] = {{AMD_SPL_BL, "blSPL"},
		     {AMD_SPL_TEE, "teeSPL"},
		     {AMD_SPL_SNP, "snpSPL"},
		     {AMD_SPL_UCODE, "ucodeSPL"},
		     {AMD_SPL_FMC, "fmcSPL"}};
	const struct amd_cert_ext *e = &cr->ext;
	int rc;

	if (cr->vlek ? (!e->has_csp_id || e->has_hwid) : (!e->has_hwid || e->has_csp_id))
		return attest_err_set(err, ATTEST_E_VERIFY, "snp.vcek.kind",
				      cr->vlek ? "a VLEK must carry csp_id and no hwID"
					       : "a VCEK must carry hwID and no csp_id");
	if (!cr->vlek) {
		/* Turin: KDS keys the VCEK by CHIP_ID[0:8]; the rest of CHIP_ID is zero (§5.1). */
		static const uint8_t zero[56] = {0};
		bool ok = e->hwid_len == 64
			      ? crypto_memeq(e->hwid, r->chip_id, 64)
			      : cr->product == AMD_PRODUCT_TURIN && crypto_memeq(e->hwid, r->chip_id, 8) &&
				    crypto_memeq(r->chip_id + 8, zero, 56);
		if (!ok)
			return attest_err_set(
			    err, ATTEST_E_VERIFY, "snp.vcek.chip_id",
			    "the VCEK's hwID is not the report's CHIP_ID (a VCEK of another chip)");
	}
	if ((rc = snp_tcb_decode(cr->product, r->reported_tcb, reported, "REPORTED_TCB", err)) != ATTEST_OK)
		return rc;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		int64_t want;
		bool turin = cr->product == AMD_PRODUCT_TURIN;

		switch (parts[i].spl) {
		case AMD_SPL_BL:
			want = reported->bootloader;
			break;
		case AMD_SPL_TEE:
			want = reported->tee;
			break;
		case AMD_SPL_SNP:
			want = reported->snp;
			break;
		case AMD_SPL_UCODE:
			want = reported->microcode;
			break;
		default:
			if (!turin) {
				if (e->has_spl[AMD_SPL_FMC])
					return attest_err_set(err, ATTEST_E_VERIFY, "snp.vcek.tcb",
							      "fmcSPL in a VCEK of a product without FMC");
				continue;
			}
			want = reported->fmc;
		}
		if (!e->has_spl[parts[i].spl])
			return attest_err_set(err, ATTEST_E_VERIFY, "snp.vcek.tcb", "the VCEK/VLEK has no %s",
					      parts[i].name);
		if (e->spl[parts[i].spl] != want)
			return attest_err_set(err, ATTEST_E_VERIFY, "snp.vcek.tcb",
					      "the VCEK/VLEK %s is %lld, the report's REPORTED_TCB says %lld",
					      parts[i].name, (long long)e->spl[parts[i].spl],
					      (long long)want);
	}
	return ATTEST_OK;
}

static int decode_tcbs(const struct snp_report *r, enum amd_product p, struct snp_result *res,
		       struct attest_err *err)
{
	int rc;

	if ((rc = snp_tcb_decode(p, r->current_tcb, &res->current, "CURRENT_TCB", err)) != ATTEST_OK ||
	    (rc = snp_tcb_decode(p, r->committed_tcb, &res->committed, "COMMITTED_TCB", err)) != ATTEST_OK ||
	    (rc = snp_tcb_decode(p, r->launch_tcb, &res->launch, "LAUNCH_TCB", err)) != ATTEST_OK)
		return rc;
	return ATTEST_OK;
}

/* The hashes of what the collateral source lent and the chain used (struct snp_result). */
static void collateral_hashes(const struct snp_material *m, const struct amd_chain_result *cr,
			      struct snp_result *res)
{
	if (m->vcek_blob.data != NULL && m->c.leaf == m->vcek_blob.data)
		res->has_vcek_hash = sha256(m->vcek_blob.data, m->vcek_blob.len, res->vcek_hash) == 0;
	if (m->chain_blob.data != NULL && m->c.chain == m->chain_blob.data)
		res->has_chain_hash = sha256(m->chain_blob.data, m->chain_blob.len, res->chain_hash) == 0;
	if (m->crl_blob.data != NULL && m->c.crl == m->crl_blob.data && cr->crl_checked)
		res->has_crl_hash = sha256(m->crl_blob.data, m->crl_blob.len, res->crl_hash) == 0;
}

static int verify_material(const struct evidence_ctx *ctx, const struct snp_opts *opts,
			   const struct snp_report *r, struct snp_material *m, struct snp_result *res,
			   struct attest_err *err)
{
	struct amd_chain_result cr;
	bool vlek = r->signing_key == SNP_KEY_VLEK;
	int rc;

	memset(&cr, 0, sizeof(cr));
	if (m->c.leaf == NULL && !has_chain(&m->c) && (rc = lookup_vcek(ctx, r, m, err)) != ATTEST_OK)
		return rc;
	if ((rc = lookup_chain(ctx, vlek, m, err)) != ATTEST_OK ||
	    (rc = lookup_crl(ctx, vlek, m, err)) != ATTEST_OK ||
	    (rc = get_chain(ctx, opts, m, vlek, &cr, err)) != ATTEST_OK)
		return rc;
	res->product = cr.product;
	res->vlek = cr.vlek;
	res->crl_checked = cr.crl_checked;
	collateral_hashes(m, &cr, res);
	snprintf(res->product_name, sizeof(res->product_name), "%s", cr.ext.product_name);
	if ((rc = bind_leaf(r, &cr, &res->reported, err)) == ATTEST_OK &&
	    (rc = decode_tcbs(r, cr.product, res, err)) == ATTEST_OK)
		rc = ecdsa_verify_rs_le(cr.leaf_key, HASH_SHA384, r->signed_bytes, SNP_SIGNED_SIZE, r->sig_r,
					r->sig_s, SNP_SIG_COMPONENT_SIZE, "snp.signature", err);
	EVP_PKEY_free(cr.leaf_key);
	return rc;
}

int snp_verify_report(const struct evidence_ctx *ctx, const struct snp_opts *opts, const uint8_t *report,
		      size_t report_len, const struct snp_certs *certs, struct snp_result *res,
		      struct attest_err *err)
{
	struct snp_result *out = calloc(1, sizeof(*out));
	struct snp_material m;
	int rc;

	if (out == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "snp.nomem", "out of memory");
	memset(&m, 0, sizeof(m));
	if (certs != NULL)
		m.c = *certs;
	if ((rc = snp_report_parse(report, report_len, &out->report, err)) == ATTEST_OK) {
		m.hint = snp_report_product(&out->report);
		rc = verify_material(ctx, opts, &out->report, &m, out, err);
	}
	if (rc == ATTEST_OK && res != NULL)
		*res = *out;
	material_free(&m);
	free(out);
	return rc;
}

int snp_bind_data(const struct snp_report *r, const struct evidence_input *in, struct attest_err *err)
{
	static const uint8_t zero[32];
	uint8_t h[32];

	if (in->runtime_data != NULL && in->runtime_data_type != EVIDENCE_DATA_NONE) {
		/* maa-interface.md §1.3.1: SHA-256 in REPORT_DATA[0:32], the rest zero. */
		if (sha256(in->runtime_data, in->runtime_data_len, h) != 0)
			return attest_err_set(err, ATTEST_E_INTERNAL, "snp.internal", "SHA-256 failed");
		if (!crypto_memeq(h, r->report_data, 32) || !crypto_memeq(zero, r->report_data + 32, 32))
			return attest_err_set(
			    err, ATTEST_E_VERIFY, "snp.binding.runtime",
			    "SHA-256 of the runtime data is not REPORT_DATA[0:32] (with 32..63 zero)");
	}
	if (in->init_data != NULL && in->init_data_type != EVIDENCE_DATA_NONE) {
		if (sha256(in->init_data, in->init_data_len, h) != 0)
			return attest_err_set(err, ATTEST_E_INTERNAL, "snp.internal", "SHA-256 failed");
		if (!crypto_memeq(h, r->host_data, 32))
			return attest_err_set(err, ATTEST_E_VERIFY, "snp.binding.inittime",
					      "SHA-256 of the init-time data is not HOST_DATA");
	}
	return ATTEST_OK;
}

/* Splits evidence into the report and the optional certificate table. */
static int split_evidence(const struct evidence_input *in, struct snp_certs *certs, struct attest_err *err)
{
	struct snp_cert_table t;
	int rc;

	memset(certs, 0, sizeof(*certs));
	if (in->evidence == NULL || in->evidence_len < SNP_REPORT_SIZE)
		return attest_err_set(err, ATTEST_E_PARSE, "snp.report.truncated",
				      "evidence is %zu bytes, an ATTESTATION_REPORT is %u", in->evidence_len,
				      SNP_REPORT_SIZE);
	if (in->evidence_len == SNP_REPORT_SIZE)
		return ATTEST_OK;
	if ((rc = snp_cert_table_parse(in->evidence + SNP_REPORT_SIZE, in->evidence_len - SNP_REPORT_SIZE, &t,
				       err)) != ATTEST_OK) {
		attest_err_where(err, "evidence+0x%x (certificate table)", SNP_REPORT_SIZE);
		return rc;
	}
	/* The report says which leaf signed it; the table may carry both. */
	if (ld_u32le(in->evidence + SNP_OFF_SIGNER_INFO) >> SNP_SIGNER_SIGNING_KEY_SHIFT & 1) {
		certs->leaf = t.vlek, certs->leaf_len = t.vlek_len;
	} else {
		certs->leaf = t.vcek, certs->leaf_len = t.vcek_len;
	}
	if (certs->leaf == NULL)
		return attest_err_set(err, ATTEST_E_PARSE, "snp.certtable.no_leaf",
				      "the certificate table lacks the %s the report names",
				      t.vcek ? "VLEK" : "VCEK");
	certs->ask = t.ask, certs->ask_len = t.ask_len;
	certs->ark = t.ark, certs->ark_len = t.ark_len;
	return ATTEST_OK;
}

int snp_verify_ex(const struct evidence_ctx *ctx, const struct snp_opts *opts,
		  const struct evidence_input *in, struct claim_set *out, struct attest_err *err)
{
	struct snp_result *res = calloc(1, sizeof(*res));
	struct snp_certs certs;
	int rc;

	if (res == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "snp.nomem", "out of memory");
	if ((rc = split_evidence(in, &certs, err)) == ATTEST_OK &&
	    (rc = snp_verify_report(ctx, opts, in->evidence, SNP_REPORT_SIZE, &certs, res, err)) ==
		ATTEST_OK &&
	    (rc = snp_bind_data(&res->report, in, err)) == ATTEST_OK &&
	    (rc = snp_claims_add_data(in, out, err)) == ATTEST_OK) /* fails before adding anything */
		rc = snp_claims_add(res, out, err);
	free(res);
	return rc;
}

int snp_verify(const struct evidence_ctx *ctx, const struct evidence_input *in, struct claim_set *out,
	       struct attest_err *err)
{
	return snp_verify_ex(ctx, NULL, in, out, err);
}
