/*
 * The Intel DCAP pipeline shared by SGX, Open Enclave and TDX (intel.h):
 * parse → PCK chain with CRLs → QE report signature → QE binding → QE
 * identity → ISV signature → TCB status (formats.md §1.7), with verified
 * collateral cached by hash in ctx->collateral->cache.
 */
#include "evidence/intel.h"

#include "base/buf.h"
#include "base/codec.h"
#include "base/timeutil.h"
#include "claims/claims.h"
#include "collateral/collateral.h"
#include "crypto/crypto.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Cached objects -------------------------------------------------------- */

/* A verified PCK chain: what the quote-dependent checks need from it. */
struct pck_entry {
	struct pck_ext ext;
	enum pck_ca ca;
	EVP_PKEY *key;
	uint8_t pck_crl_hash[32], root_crl_hash[32];
};

/* Verified TCB Info or QE identity with the hashes of what verified it. */
struct doc_entry {
	struct tcb_info *ti;
	struct qe_identity *qi;
	uint8_t body_hash[32], chain_hash[32], crl_hash[32];
};

struct intel_quote_refs {
	struct collateral_ref *pck, *tcb, *qe, *early;
};

/*
 * How long a source's "no such set" (early or numbered) is remembered, so
 * a source without an early set is not asked on every attestation; Intel
 * publishes an early set days ahead of a TCB Recovery.
 */
#define INTEL_ABSENT_TTL 600

static void pck_entry_free(void *p)
{
	struct pck_entry *e = p;

	if (e != NULL)
		EVP_PKEY_free(e->key);
	free(e);
}

static void doc_entry_free(void *p)
{
	struct doc_entry *e = p;

	if (e != NULL) {
		tcb_info_free(e->ti);
		qe_identity_free(e->qi);
	}
	free(e);
}

static int ierr(struct attest_err *err, int rc, const char *prefix, const char *suffix, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int ierr(struct attest_err *err, int rc, const char *prefix, const char *suffix, const char *fmt, ...)
{
	char name[ATTEST_ERR_NAME_MAX], msg[ATTEST_ERR_MSG_MAX];
	va_list ap;

	snprintf(name, sizeof(name), "%s.%s", prefix, suffix);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	attest_err_set(err, rc, name, "%s", msg);
	return rc;
}

/* Time windows ---------------------------------------------------------------- */

struct window {
	int64_t nb, na;
};

static void window_narrow(struct window *w, int64_t nb, int64_t na)
{
	if (nb > w->nb)
		w->nb = nb;
	if (na < w->na)
		w->na = na;
}

/*
 * Certificates and CRLs hold from their start to one second before their
 * end (x509_der.h: notBefore <= t < notAfter, thisUpdate <= t <
 * nextUpdate), while a cache entry holds through its not_after: the entry
 * ends one second earlier, so a cached verdict never outlives a cold one.
 */
static void window_cert(struct window *w, const struct x509_der_cert *x)
{
	if (x != NULL)
		window_narrow(w, x->not_before, x->not_after - 1);
}

/* Every certificate carried, and the anchor the path ended at (it may be shorter-lived than a carried twin).
 */
static void window_chain(struct window *w, const struct intel_der_chain *chain,
			 const struct x509_der_cert *anchor)
{
	for (size_t i = 0; i < chain->n; i++)
		window_cert(w, chain->cert[i]);
	window_cert(w, anchor);
}

static void window_crl(struct window *w, const struct x509_der_crl *crl)
{
	if (crl != NULL)
		window_narrow(w, crl->this_update, crl->next_update - 1);
}

/* Per-call state ------------------------------------------------------------------ */

struct run {
	const struct evidence_ctx *ctx;
	const char *prefix;
	struct attest_err *err;
	struct collateral_cache *cache;
	STACK_OF(X509) * roots; /* borrowed from ctx or from the cache (roots_ref) */
	struct collateral_ref *roots_ref;
	uint8_t anchors_hash[32];
	/* The roots as DER views: the built-in root's, or from the cache (only on a cold path). */
	const struct intel_der_anchors *anchors;
	struct collateral_ref *anchors_ref;
	bool no_revocation;
	bool no_collateral;
	/* Root CA CRL, fetched at most once per call. */
	bool root_crl_fetched;
	struct x509_der_crl *root_crl;
	uint8_t root_crl_hash[32];
};

static void run_free(struct run *r)
{
	x509_der_crl_free(r->root_crl);
	collateral_ref_release(r->anchors_ref);
	collateral_ref_release(r->roots_ref);
}

/* The built-in root in both forms: X509 for the anchors hash, DER view for the chains. */
struct default_roots {
	STACK_OF(X509) * x509;
	struct intel_der_anchors *der;
};

static void roots_free(void *p)
{
	struct default_roots *d = p;

	if (d != NULL) {
		sk_X509_pop_free(d->x509, X509_free);
		intel_der_anchors_free(d->der);
	}
	free(d);
}

/* The built-in root, parsed once per cache (it never expires from it). */
static int default_roots(struct run *r)
{
	static const uint8_t key[32] = "intel.default_roots";
	struct default_roots *d;
	void *obj;

	if ((r->roots_ref = collateral_cache_get(r->cache, key, 0, &obj)) == NULL) {
		if ((d = calloc(1, sizeof(*d))) == NULL)
			return ierr(r->err, ATTEST_E_NOMEM, r->prefix, "internal", "out of memory");
		if (intel_sgx_default_roots(&d->x509, r->err) != ATTEST_OK ||
		    intel_der_anchors_new(d->x509, &d->der, r->err) != ATTEST_OK) {
			roots_free(d);
			return r->err ? r->err->rc : ATTEST_E_INTERNAL;
		}
		if ((r->roots_ref =
			 collateral_cache_put(r->cache, key, d, roots_free, INT64_MIN, INT64_MAX)) == NULL)
			return ierr(r->err, ATTEST_E_NOMEM, r->prefix, "internal", "out of memory");
	}
	d = collateral_ref_obj(r->roots_ref);
	r->roots = d->x509;
	r->anchors = d->der;
	return ATTEST_OK;
}

static int run_init(struct run *r, const struct evidence_ctx *ctx, const char *prefix, struct attest_err *err)
{
	struct hash_ctx h;
	int i, rc;

	memset(r, 0, sizeof(*r));
	r->ctx = ctx;
	r->prefix = prefix;
	r->err = err;
	r->no_collateral = (ctx->flags & EVIDENCE_NO_COLLATERAL) != 0;
	r->no_revocation = r->no_collateral || (ctx->flags & EVIDENCE_NO_REVOCATION) != 0;
	r->cache = ctx->collateral ? ctx->collateral->cache : NULL;
	if (ctx->anchors != NULL && ctx->anchors->intel_sgx_roots != NULL) {
		r->roots = ctx->anchors->intel_sgx_roots;
	} else if ((rc = default_roots(r)) != ATTEST_OK) {
		return rc;
	}
	/* Cache keys depend on the anchors, so a test root never satisfies a production lookup. */
	memset(&h, 0, sizeof(h));
	if (hash_init(&h, HASH_SHA256) != ATTEST_OK)
		return ierr(err, ATTEST_E_INTERNAL, prefix, "internal", "SHA-256 failed");
	for (i = 0; i < sk_X509_num(r->roots); i++) {
		uint8_t d[32];

		if (x509_sha256(sk_X509_value(r->roots, i), d) != ATTEST_OK ||
		    hash_update(&h, d, 32) != ATTEST_OK) {
			hash_ctx_free(&h);
			return ierr(err, ATTEST_E_INTERNAL, prefix, "internal", "hashing the anchors failed");
		}
	}
	hash_update(&h, &r->no_revocation, sizeof(r->no_revocation));
	if (hash_final(&h, r->anchors_hash) != ATTEST_OK)
		return ierr(err, ATTEST_E_INTERNAL, prefix, "internal", "SHA-256 failed");
	return ATTEST_OK;
}

/* SHA-256 over a tag, the anchors hash and up to two byte strings. */
static void cache_key(const struct run *r, const char *tag, const void *a, size_t alen, const void *b,
		      size_t blen, uint8_t out[32])
{
	struct hash_ctx h;

	memset(&h, 0, sizeof(h));
	memset(out, 0, 32);
	if (hash_init(&h, HASH_SHA256) != ATTEST_OK)
		return;
	hash_update(&h, tag, strlen(tag) + 1);
	hash_update(&h, r->anchors_hash, 32);
	if (alen)
		hash_update(&h, a, alen);
	if (blen)
		hash_update(&h, b, blen);
	hash_final(&h, out);
}

static void anchors_free(void *p)
{
	intel_der_anchors_free(p);
}

/*
 * The anchors as DER views (pck.h): the built-in root's come with it
 * (default_roots); configured roots are viewed once per cache (keyed by
 * their hash) when a cold step needs them.
 */
static int run_anchors(struct run *r)
{
	struct intel_der_anchors *a = NULL;
	uint8_t key[32];
	void *obj;

	if (r->anchors != NULL)
		return ATTEST_OK;
	cache_key(r, "intel.der_anchors", NULL, 0, NULL, 0, key);
	if ((r->anchors_ref = collateral_cache_get(r->cache, key, 0, &obj)) == NULL) {
		if (intel_der_anchors_new(r->roots, &a, r->err) != ATTEST_OK)
			return r->err ? r->err->rc : ATTEST_E_NOMEM;
		if ((r->anchors_ref =
			 collateral_cache_put(r->cache, key, a, anchors_free, INT64_MIN, INT64_MAX)) == NULL)
			return ierr(r->err, ATTEST_E_NOMEM, r->prefix, "internal", "out of memory");
	}
	r->anchors = collateral_ref_obj(r->anchors_ref);
	return ATTEST_OK;
}

static int fetch_failed(struct run *r, const char *item)
{
	char sfx[64];

	snprintf(sfx, sizeof(sfx), "collateral.%s", item);
	if (r->err != NULL && r->err->rc != ATTEST_OK) {
		/* Keep the source's message, give it our name. */
		int rc = r->err->rc;
		char msg[ATTEST_ERR_MSG_MAX];

		snprintf(msg, sizeof(msg), "%s", r->err->msg);
		attest_err_clear(r->err);
		return ierr(r->err, rc == ATTEST_E_NOT_FOUND ? ATTEST_E_COLLATERAL : rc, r->prefix, sfx,
			    "fetching %s: %s", item, msg);
	}
	return ierr(r->err, ATTEST_E_COLLATERAL, r->prefix, sfx, "fetching %s failed", item);
}

static int load_crl(struct run *r, const struct collateral_blob *b, struct x509_der_crl **out,
		    const char *what)
{
	char code[ATTEST_ERR_NAME_MAX];
	size_t len = b->len;

	/*
	 * OE's endorsements carry the Root CA CRL DER followed by a NUL
	 * (formats.md §4.4): cut at the end the outer DER length declares when
	 * only NULs follow it.
	 */
	if (len >= 4 && b->data[0] == 0x30 && b->data[1] == 0x82) {
		size_t total = 4 + ((size_t)b->data[2] << 8 | b->data[3]), i;

		for (i = total; i < len && b->data[i] == 0; i++)
			;
		if (total < len && i == len)
			len = total;
	}
	snprintf(code, sizeof(code), "%s.crl.%s", r->prefix, what);
	return intel_crl_der(b->data, len, out, code, r->err);
}

static int get_root_crl(struct run *r)
{
	struct collateral_blob b;
	int rc;

	if (r->root_crl_fetched)
		return ATTEST_OK;
	if (collateral_get_root_ca_crl(r->ctx->collateral, &b, r->err) != ATTEST_OK)
		return fetch_failed(r, "root_ca_crl");
	sha256(b.data, b.len, r->root_crl_hash);
	rc = load_crl(r, &b, &r->root_crl, "root_ca");
	collateral_blob_free(&b);
	if (rc == ATTEST_OK)
		r->root_crl_fetched = true;
	return rc;
}

/* A verified TCB Signing chain: the signer's key and the window it relied on. */
struct signer_entry {
	EVP_PKEY *key;
	int64_t nb, na;
};

static void signer_entry_free(void *p)
{
	struct signer_entry *e = p;

	if (e != NULL)
		EVP_PKEY_free(e->key);
	free(e);
}

/*
 * Cold check of an issuer chain PEM (signer, root): the signer's name, then
 * intel_der_signer_verify (the check the collateral import makes too): the
 * carried root, the chain at now with the Root CA CRL (verified once per
 * call: the CRL remembers its signature), keyUsage digitalSignature (it
 * signs TCB Info and QE identities: Intel PCK Certificate and CRL Profile).
 */
static int signer_chain_cold(struct run *r, const struct collateral_blob *b, const char *what,
			     struct window *w, EVP_PKEY **key)
{
	char code[ATTEST_ERR_NAME_MAX], cn[128];
	const struct x509_der_cert *anchor = NULL;
	struct intel_der_chain chain;
	int rc;

	snprintf(code, sizeof(code), "%s.%s.chain", r->prefix, what);
	if ((rc = run_anchors(r)) != ATTEST_OK ||
	    (rc = intel_pem_chain_der(b->chain, b->chain_len, r->anchors, &chain, code, r->err)) != ATTEST_OK)
		return rc;
	x509_der_name_cn(chain.cert[0]->subject, cn, sizeof(cn));
	if (strstr(cn, "SGX TCB Signing") == NULL) {
		rc = ierr(r->err, ATTEST_E_VERIFY, r->prefix, "collateral.chain",
			  "%s is signed by \"%s\", not the Intel SGX TCB Signing certificate", what, cn);
		goto out;
	}
	rc = intel_der_signer_verify(&chain, r->anchors, r->root_crl, r->no_revocation, r->ctx->now,
				     X509_DER_KU_DIGITAL_SIGNATURE, &anchor, code, r->err);
	if (rc != ATTEST_OK) {
		attest_err_prefix(r->err, "%s issuer chain: ", what);
		goto out;
	}
	if (!r->no_revocation)
		window_crl(w, r->root_crl);
	window_chain(w, &chain, anchor);
	*key = chain.cert[0]->key;
	EVP_PKEY_up_ref(*key);
out:
	intel_der_chain_free(&chain);
	return rc;
}

/*
 * The TCB Signing key of an issuer chain, verified once per (chain bytes,
 * Root CA CRL) and cached: TCB Info and QE identity share the same chain.
 */
static int verify_signer_chain(struct run *r, const struct collateral_blob *b, const char *what,
			       struct window *w, EVP_PKEY **key)
{
	struct window cw = {INT64_MIN, INT64_MAX};
	struct signer_entry *e;
	struct collateral_ref *ref;
	uint8_t ck[32];
	void *obj;
	int rc;

	if (b->chain == NULL)
		return ierr(r->err, ATTEST_E_COLLATERAL, r->prefix, "collateral.chain",
			    "%s comes without its issuer chain", what);
	if (!r->no_revocation && (rc = get_root_crl(r)) != ATTEST_OK)
		return rc;
	cache_key(r, "intel.signer", b->chain, b->chain_len, r->root_crl_hash, r->no_revocation ? 0 : 32, ck);
	if ((ref = collateral_cache_get(r->cache, ck, r->ctx->now, &obj)) == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL)
			return ierr(r->err, ATTEST_E_NOMEM, r->prefix, "internal", "out of memory");
		if ((rc = signer_chain_cold(r, b, what, &cw, &e->key)) != ATTEST_OK) {
			signer_entry_free(e);
			return rc;
		}
		e->nb = cw.nb, e->na = cw.na;
		if ((ref = collateral_cache_put(r->cache, ck, e, signer_entry_free, cw.nb, cw.na)) == NULL)
			return ierr(r->err, ATTEST_E_NOMEM, r->prefix, "internal", "out of memory");
	}
	e = collateral_ref_obj(ref);
	window_narrow(w, e->nb, e->na);
	*key = e->key;
	EVP_PKEY_up_ref(e->key);
	collateral_ref_release(ref);
	return ATTEST_OK;
}

/* PCK chain ------------------------------------------------------------------------- */

/* leaf PEM ‖ "\n" ‖ chain PEM into a new buffer (*owned). */
static int join_pem(struct run *r, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
		    uint8_t **owned, const uint8_t **pem, size_t *pem_len)
{
	struct buf all;

	buf_init(&all, 1u << 20);
	if (buf_append(&all, a, alen) != ATTEST_OK || buf_append_str(&all, "\n") != ATTEST_OK ||
	    (b && buf_append(&all, b, blen) != ATTEST_OK)) {
		buf_free(&all);
		return ierr(r->err, ATTEST_E_NOMEM, r->prefix, "internal", "out of memory");
	}
	*owned = buf_steal(&all, pem_len);
	*pem = *owned;
	return ATTEST_OK;
}

/*
 * Type 4 carries only the PCK leaf: its CA (and the root) come with the PCK
 * CRL of that CA from the source (PCS serves the CRL issuer chain: CA, root).
 */
static int pck_leaf_with_ca_chain(struct run *r, const struct quote *q, struct intel_der_chain *chain,
				  uint8_t **owned, const uint8_t **pem, size_t *pem_len)
{
	char code[ATTEST_ERR_NAME_MAX];
	struct intel_der_chain leaf;
	struct collateral_blob b;
	enum pck_ca ca;
	const uint8_t *lp;
	size_t ll;
	int rc;

	snprintf(code, sizeof(code), "%s.pck.chain", r->prefix);
	if ((rc = quote_pck_chain_pem(q, &lp, &ll, r->prefix, r->err)) != ATTEST_OK ||
	    (rc = intel_pem_chain_der(lp, ll, r->anchors, &leaf, code, r->err)) != ATTEST_OK)
		return rc;
	rc = pck_ca_of_der(leaf.cert[0], &ca, r->prefix, r->err);
	intel_der_chain_free(&leaf);
	if (rc != ATTEST_OK)
		return rc;
	if (r->ctx->collateral == NULL)
		return ierr(r->err, ATTEST_E_COLLATERAL, r->prefix, "collateral.missing",
			    "certification data type 4 needs a collateral source for the PCK CA");
	if (collateral_get_pck_crl(r->ctx->collateral, (enum collateral_pck_ca)ca, &b, r->err) != ATTEST_OK)
		return fetch_failed(r, "pck_crl");
	rc = join_pem(r, lp, ll, b.chain, b.chain_len, owned, pem, pem_len);
	collateral_blob_free(&b);
	if (rc == ATTEST_OK)
		rc = intel_pem_chain_der(*pem, *pem_len, r->anchors, chain, code, r->err);
	return rc;
}

/* The PCK chain PEM (leaf first) for the quote's certification data type. */
static int pck_chain_of_quote(struct run *r, const struct quote *q, struct intel_der_chain *chain,
			      uint8_t **owned, const uint8_t **pem, size_t *pem_len)
{
	char code[ATTEST_ERR_NAME_MAX];
	struct collateral_blob b;
	int rc;

	*owned = NULL;
	snprintf(code, sizeof(code), "%s.pck.chain", r->prefix);
	if ((rc = run_anchors(r)) != ATTEST_OK)
		return rc;
	if (q->cert_type == QUOTE_CERT_PCK_CHAIN) {
		if ((rc = quote_pck_chain_pem(q, pem, pem_len, r->prefix, r->err)) != ATTEST_OK)
			return rc;
		return intel_pem_chain_der(*pem, *pem_len, r->anchors, chain, code, r->err);
	}
	if (q->cert_type == QUOTE_CERT_PCK_CLEARTEXT)
		return pck_leaf_with_ca_chain(r, q, chain, owned, pem, pem_len);
	/* Types 1-3: the source resolves the PPID into a PCK certificate and its chain. */
	{
		struct collateral_pck_query pq = {q->ppid.ppid, q->ppid.ppid_len, q->ppid.cpusvn,
						  q->ppid.pcesvn, q->ppid.pceid};

		if (r->ctx->collateral == NULL)
			return ierr(
			    r->err, ATTEST_E_COLLATERAL, r->prefix, "collateral.missing",
			    "certification data type %u needs a collateral source for the PCK certificate",
			    q->cert_type);
		if (collateral_get_pck_cert(r->ctx->collateral, &pq, &b, r->err) != ATTEST_OK)
			return fetch_failed(r, "pck_cert");
		rc = join_pem(r, b.data, b.len, b.chain, b.chain_len, owned, pem, pem_len);
		collateral_blob_free(&b);
		if (rc != ATTEST_OK)
			return rc;
		return intel_pem_chain_der(*pem, *pem_len, r->anchors, chain, code, r->err);
	}
}

static int pck_verify_cold(struct run *r, const struct intel_der_chain *chain, struct pck_entry *e,
			   struct window *w)
{
	struct collateral_blob b = {0};
	struct x509_der_crl *pck_crl = NULL;
	const struct x509_der_cert *anchor = NULL;
	int rc;

	if ((rc = pck_ca_of_der(chain->cert[0], &e->ca, r->prefix, r->err)) != ATTEST_OK)
		return rc;
	if (!r->no_revocation) {
		if (collateral_get_pck_crl(r->ctx->collateral, (enum collateral_pck_ca)e->ca, &b, r->err) !=
		    ATTEST_OK)
			return fetch_failed(r, "pck_crl");
		sha256(b.data, b.len, e->pck_crl_hash);
		rc = load_crl(r, &b, &pck_crl, "pck");
		collateral_blob_free(&b);
		if (rc != ATTEST_OK)
			return rc;
		if ((rc = get_root_crl(r)) != ATTEST_OK)
			goto out;
		memcpy(e->root_crl_hash, r->root_crl_hash, 32);
		window_crl(w, pck_crl);
		window_crl(w, r->root_crl);
	}
	rc = pck_der_chain_verify(chain, r->anchors, pck_crl, r->root_crl, r->ctx->now, r->no_revocation,
				  &e->ext, &anchor, r->prefix, r->err);
	if (rc == ATTEST_OK && chain->n > 0 && chain->cert[0] != NULL) {
		window_chain(w, chain, anchor);
		e->key = chain->cert[0]->key;
		EVP_PKEY_up_ref(e->key);
	}
out:
	x509_der_crl_free(pck_crl);
	return rc;
}

/* The verified PCK for this quote: from the cache, or verified now and cached. */
static int pck_step(struct run *r, const struct quote *q, struct intel_quote_result *res)
{
	const uint8_t *pem = NULL;
	size_t pem_len = 0;
	uint8_t *owned = NULL, key[32];
	struct intel_der_chain chain = {0};
	struct pck_entry *e = NULL;
	struct window w = {INT64_MIN, INT64_MAX};
	void *obj;
	int rc;

	if (q->cert_type == QUOTE_CERT_PCK_CHAIN) {
		if ((rc = quote_pck_chain_pem(q, &pem, &pem_len, r->prefix, r->err)) != ATTEST_OK)
			return rc;
		cache_key(r, "intel.pck", pem, pem_len, NULL, 0, key);
		if ((res->refs->pck = collateral_cache_get(r->cache, key, r->ctx->now, &obj)) != NULL)
			goto done;
	}
		if ((rc = pck_chain_of_quote(r, q, &chain, &owned, &pem, &pem_len)) != ATTEST_OK)
		goto out;
	/* Types 1-4: the chain came from the source; it may still be cached (type 5 was looked up above). */
	if (q->cert_type != QUOTE_CERT_PCK_CHAIN) {
		cache_key(r, "intel.pck", pem, pem_len, NULL, 0, key);
		if ((res->refs->pck = collateral_cache_get(r->cache, key, r->ctx->now, &obj)) != NULL)
			goto done;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		rc = ierr(r->err, ATTEST_E_NOMEM, r->prefix, "internal", "out of memory");
		goto out;
	}
	if ((rc = pck_verify_cold(r, &chain, e, &w)) != ATTEST_OK)
		goto out;
	res->refs->pck = collateral_cache_put(r->cache, key, e, pck_entry_free, w.nb, w.na);
	e = NULL; /* transferred (destroyed by put on failure) */
	if (res->refs->pck == NULL) {
		rc = ierr(r->err, ATTEST_E_NOMEM, r->prefix, "internal", "out of memory");
		goto out;
	}
done:
	sha256(pem, pem_len, res->hashes.pck_chain);
	rc = ATTEST_OK;
out:
	pck_entry_free(e);
	intel_der_chain_free(&chain);
	free(owned);
	return rc;
}

/* TCB Info and QE identity -------------------------------------------------------- */

/*
 * A selected set the source does not have stays ATTEST_E_NOT_FOUND (callers
 * fall back or stay silent); judged by the source's return code, not the
 * error record (which keeps the first error it was given).
 */
static int fetch_failed_sel(struct run *r, const char *item, const struct collateral_select *sel, int rc)
{
	char what[48];

	if (collateral_select_is_special(sel) && rc == ATTEST_E_NOT_FOUND)
		return ATTEST_E_NOT_FOUND;
	/* A stable code per kind of set (<p>.collateral.tcb_info_eval); the number goes in the message. */
	snprintf(what, sizeof(what), "%s%s", item,
		 sel != NULL && sel->eval_num > 0    ? "_eval"
		 : collateral_select_is_special(sel) ? "_early"
						     : "");
	rc = fetch_failed(r, what);
	if (sel != NULL && sel->eval_num > 0)
		attest_err_prefix(r->err, "tcbEvaluationDataNumber %u: ", (unsigned)sel->eval_num);
	return rc;
}

static int tcb_info_cold(struct run *r, enum collateral_tee tee, const uint8_t fmspc[6],
			 const struct collateral_select *sel, struct doc_entry *e, struct window *w)
{
	struct collateral_blob b;
	EVP_PKEY *key = NULL;
	int rc;

	if ((rc = collateral_get_tcb_info_ex(r->ctx->collateral, tee, fmspc, sel, &b, r->err)) != ATTEST_OK)
		return fetch_failed_sel(r, "tcb_info", sel, rc);
	sha256(b.data, b.len, e->body_hash);
	if (b.chain)
		sha256(b.chain, b.chain_len, e->chain_hash);
	if ((rc = tcb_info_parse(b.data, b.len, &e->ti, r->prefix, r->err)) != ATTEST_OK ||
	    (rc = verify_signer_chain(r, &b, "tcbinfo", w, &key)) != ATTEST_OK ||
	    (rc = tcb_info_verify_signature(e->ti, key, r->prefix, r->err)) != ATTEST_OK ||
	    (rc = tcb_info_check_time(e->ti, r->ctx->now, r->prefix, r->err)) != ATTEST_OK)
		goto out;
	memcpy(e->crl_hash, r->root_crl_hash, 32);
	window_narrow(w, e->ti->issue_date, e->ti->next_update);
out:
	EVP_PKEY_free(key);
	collateral_blob_free(&b);
	return rc;
}

static int qe_identity_cold(struct run *r, enum collateral_qe kind, const struct collateral_select *sel,
			    struct doc_entry *e, struct window *w)
{
	struct collateral_blob b;
	EVP_PKEY *key = NULL;
	int rc;

	if ((rc = collateral_get_qe_identity_ex(r->ctx->collateral, kind, sel, &b, r->err)) != ATTEST_OK)
		return fetch_failed_sel(r, "qe_identity", sel, rc);
	sha256(b.data, b.len, e->body_hash);
	if (b.chain)
		sha256(b.chain, b.chain_len, e->chain_hash);
	if ((rc = qe_identity_parse(b.data, b.len, &e->qi, r->prefix, r->err)) != ATTEST_OK ||
	    (rc = verify_signer_chain(r, &b, "qeid", w, &key)) != ATTEST_OK ||
	    (rc = qe_identity_verify_signature(e->qi, key, r->prefix, r->err)) != ATTEST_OK ||
	    (rc = qe_identity_check_time(e->qi, r->ctx->now, r->prefix, r->err)) != ATTEST_OK)
		goto out;
	memcpy(e->crl_hash, r->root_crl_hash, 32);
	window_narrow(w, e->qi->issue_date, e->qi->next_update);
out:
	EVP_PKEY_free(key);
	collateral_blob_free(&b);
	return rc;
}

/* A cached "the source has no such set" (an entry without a document). */
static int absent(struct run *r, struct collateral_ref **ref)
{
	collateral_ref_release(*ref);
	*ref = NULL;
	return ierr(r->err, ATTEST_E_NOT_FOUND, r->prefix, "collateral.not_found",
		    "the collateral source has no such set (remembered for %d s)", INTEL_ABSENT_TTL);
}

static int remember_absent(struct run *r, const uint8_t key[32])
{
	struct doc_entry *none = calloc(1, sizeof(*none));
	struct collateral_ref *ref;

	if (none != NULL && (ref = collateral_cache_put(r->cache, key, none, doc_entry_free, r->ctx->now,
							r->ctx->now + INTEL_ABSENT_TTL)) != NULL)
		collateral_ref_release(ref);
	return ATTEST_E_NOT_FOUND;
}

/*
 * Cached by what it covers (kind, FMSPC, selected set, anchors), bounded by
 * every window it relied on. sel NULL: the standard set. A selected set the
 * source lacks is ATTEST_E_NOT_FOUND (*ref NULL), remembered for
 * INTEL_ABSENT_TTL.
 */
static int doc_step(struct run *r, bool tcb, enum collateral_tee tee, const uint8_t fmspc[6],
		    enum collateral_qe kind, const struct collateral_select *which,
		    struct collateral_ref **ref)
{
	uint8_t key[32], sel[13];
	const struct doc_entry *found;
	struct doc_entry *e;
	struct window w = {INT64_MIN, INT64_MAX};
	uint32_t num = which ? which->eval_num : 0;
	void *obj;
	int rc;

	sel[0] = (uint8_t)(tcb ? tee : kind);
	memcpy(sel + 1, fmspc ? fmspc : (const uint8_t *)"\0\0\0\0\0\0", 6);
	sel[7] = 0;
	/* The selector is part of the key: an early or numbered set never answers for the standard one. */
	sel[8] = collateral_select_is_special(which) ? (uint8_t)(num ? 2 : 1) : 0;
	sel[9] = (uint8_t)(num >> 24), sel[10] = (uint8_t)(num >> 16), sel[11] = (uint8_t)(num >> 8);
	sel[12] = (uint8_t)num;
	cache_key(r, tcb ? "intel.tcbinfo" : "intel.qeid", sel, sizeof(sel), NULL, 0, key);
	if ((*ref = collateral_cache_get(r->cache, key, r->ctx->now, &obj)) != NULL) {
		found = obj;
		return found->ti == NULL && found->qi == NULL ? absent(r, ref) : ATTEST_OK;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return ierr(r->err, ATTEST_E_NOMEM, r->prefix, "internal", "out of memory");
	rc = tcb ? tcb_info_cold(r, tee, fmspc, which, e, &w) : qe_identity_cold(r, kind, which, e, &w);
	if (rc != ATTEST_OK) {
		doc_entry_free(e);
		return rc == ATTEST_E_NOT_FOUND && collateral_select_is_special(which)
			   ? remember_absent(r, key)
			   : rc;
	}
	if ((*ref = collateral_cache_put(r->cache, key, e, doc_entry_free, w.nb, w.na)) == NULL)
		return ierr(r->err, ATTEST_E_NOMEM, r->prefix, "internal", "out of memory");
	return ATTEST_OK;
}

/*
 * The ISV signature (§1.7 step 5). The attestation key is a platform's
 * (stable across its quotes), so its parsed form is cached by the hash of
 * its bytes; the signature itself is verified on every call.
 */
static void pkey_free(void *p)
{
	EVP_PKEY_free(p);
}

static int isv_sig_step(struct run *r, const struct quote *q)
{
	struct collateral_ref *ref;
	EVP_PKEY *key = NULL;
	uint8_t ck[32];
	void *obj;
	int rc;

	cache_key(r, "intel.attkey", q->att_key, QUOTE_ECDSA_KEY_SIZE, NULL, 0, ck);
	if ((ref = collateral_cache_get(r->cache, ck, r->ctx->now, &obj)) == NULL) {
		if ((rc = quote_attestation_key(q, &key, r->prefix, r->err)) != ATTEST_OK)
			return rc;
		if ((ref = collateral_cache_put(r->cache, ck, key, pkey_free, INT64_MIN, INT64_MAX)) == NULL)
			return ierr(r->err, ATTEST_E_NOMEM, r->prefix, "internal", "out of memory");
	}
	rc = quote_verify_isv_sig_with_key(q, collateral_ref_obj(ref), r->prefix, r->err);
	collateral_ref_release(ref);
	return rc;
}

/* The pipeline ------------------------------------------------------------------------ */

void intel_tdx_tcb_input(const struct quote *q, struct tcb_tdx_input *o)
{
	memset(o, 0, sizeof(*o));
	o->quote_version = q->hdr.version;
	o->body_type = q->body_type == QUOTE_BODY_TD15 ? TCB_TD15 : TCB_TD10;
	if (q->body_len < TD10_REPORT_BODY_SIZE)
		return;
	memcpy(o->tee_tcb_svn, q->body + TD_RB_OFF_TEE_TCB_SVN, 16);
	memcpy(o->mrsignerseam, q->body + TD_RB_OFF_MRSIGNERSEAM, 48);
	memcpy(o->seamattributes, q->body + TD_RB_OFF_SEAMATTRIBUTES, 8);
	if (q->body_len >= TD15_REPORT_BODY_SIZE)
		memcpy(o->tee_tcb_svn2, q->body + TD_RB_OFF_TEE_TCB_SVN2, 16);
}

static int tcb_failure(struct run *r, const struct intel_quote_result *res, const struct tcb_info *ti)
{
	char svn[40], fm[13], tee[40] = "";
	const struct pck_ext *p = &res->pck;

	hex_encode_to(p->comp_svn, 16, svn);
	hex_encode_to(p->fmspc, 6, fm);
	if (res->verdict.status == TCB_REVOKED)
		return ierr(
		    r->err, ATTEST_E_VERIFY, r->prefix, "tcb.revoked",
		    "TCB status is Revoked (platform %s, QE %s; FMSPC %s, TCB evaluation data number %lld)",
		    tcb_status_str(res->verdict.platform), tcb_status_str(res->verdict.qe), fm,
		    (long long)ti->eval_num);
	if (res->quote.hdr.tee_type == QUOTE_TEE_TDX && res->quote.body_len >= TD10_REPORT_BODY_SIZE)
		hex_encode_to(res->quote.body + TD_RB_OFF_TEE_TCB_SVN, 16, tee);
	return ierr(
	    r->err, ATTEST_E_VERIFY, r->prefix, "tcb.not_supported",
	    "TCB level not supported: PCK SVNs %s PCESVN %u%s%s (QE status %s) are below every level of the "
	    "TCB Info for FMSPC %s (TCB evaluation data number %lld)",
	    svn, p->pcesvn, tee[0] ? " TEE_TCB_SVN " : "", tee, tcb_status_str(res->verdict.qe), fm,
	    (long long)ti->eval_num);
}

/*
 * The standard set, or with a baseline N the set of evaluation data number
 * N where the source serves it (*by_number), else the standard one. A set
 * that says another number is not set N (a PCCS that ignores the parameter
 * answers with its current set): it is not used, the standard set is, under
 * the standard set's rule (baseline_check).
 */
static int doc_step_baseline(struct run *r, bool tcb, enum collateral_tee tee, const uint8_t fmspc[6],
			     enum collateral_qe kind, uint32_t baseline, struct collateral_ref **ref,
			     bool *by_number)
{
	const struct collateral_select num = {COLLATERAL_UPDATE_STANDARD, baseline};
	const struct doc_entry *e;
	int rc;

	*by_number = false;
	if (baseline == 0 || r->ctx->sgx_tcb_baseline_floor)
		return doc_step(r, tcb, tee, fmspc, kind, NULL, ref);
	rc = doc_step(r, tcb, tee, fmspc, kind, &num, ref);
	if (rc == ATTEST_OK) {
		e = collateral_ref_obj(*ref);
		if ((tcb ? e->ti->eval_num : e->qi->eval_num) == (int64_t)baseline) {
			*by_number = true;
			return ATTEST_OK;
		}
		collateral_ref_release(*ref);
		*ref = NULL;
	} else if (rc != ATTEST_E_NOT_FOUND) {
		return rc;
	}
	attest_err_clear(r->err);
	return doc_step(r, tcb, tee, fmspc, kind, NULL, ref);
}

/*
 * The provider's baseline N (docs/tcb-baselines.md; MAA "custom TCB
 * baseline enforcement"): the verdict must come from collateral at least as
 * new as N, and under set N itself the platform must not be OutOfDate.
 * Revoked and TCB level not supported were refused before.
 */
static int baseline_check(struct run *r, const struct intel_quote_result *res, const struct tcb_info *ti,
			  const struct qe_identity *qi)
{
	uint32_t n = res->tcb_baseline;
	enum tcb_status st = res->verdict.status;

	if (n == 0)
		return ATTEST_OK;
	if (ti->eval_num < (int64_t)n || qi->eval_num < (int64_t)n)
		return ierr(
		    r->err, ATTEST_E_VERIFY, r->prefix, "tcb.baseline_collateral",
		    "the provider's TCB baseline is evaluation data number %u (x-ms-sgx-tcbidentifier) "
		    "but the collateral available is older (TCB Info %lld, QE identity %lld)",
		    (unsigned)n, (long long)ti->eval_num, (long long)qi->eval_num);
	if (ti->eval_num == (int64_t)n &&
	    (st == TCB_OUT_OF_DATE || st == TCB_OUT_OF_DATE_CONFIGURATION_NEEDED))
		return ierr(r->err, ATTEST_E_VERIFY, r->prefix, "tcb.below_baseline",
			    "the platform is below the provider's TCB baseline %u: status %s under that TCB "
			    "evaluation data set (platform %s, QE %s)",
			    (unsigned)n, tcb_status_str(st), tcb_status_str(res->verdict.platform),
			    tcb_status_str(res->verdict.qe));
	return ATTEST_OK;
}

/*
 * The early set (intel.h): verified and evaluated like the standard one,
 * with its own error record so nothing it does can refuse the verdict.
 */
static void early_step(struct run *r, struct intel_quote_result *res, const struct tcb_tdx_input *td,
		       enum tcb_status qstatus, const struct qe_tcb_level *qlevel)
{
	static const struct collateral_select early = {COLLATERAL_UPDATE_EARLY, 0};
	struct attest_err *saved = r->err;
	const struct doc_entry *ee;
	int rc;

	attest_err_clear(&res->early_err);
	r->err = &res->early_err;
	rc = doc_step(r, true, td ? COLLATERAL_TEE_TDX : COLLATERAL_TEE_SGX, res->pck.fmspc, 0, &early,
		      &res->refs->early);
	if (rc == ATTEST_OK) {
		ee = collateral_ref_obj(res->refs->early);
		if (ee->ti->eval_num < res->tcb_eval_num)
			rc = ierr(
			    r->err, ATTEST_E_COLLATERAL, r->prefix, "tcbinfo.early_older",
			    "the early TCB Info (evaluation data number %lld) is older than the standard "
			    "one (%lld)",
			    (long long)ee->ti->eval_num, (long long)res->tcb_eval_num);
		else
			rc = tcb_evaluate(ee->ti, &res->pck, td, qstatus, qlevel, &res->early, r->prefix,
					  r->err);
		if (rc == ATTEST_OK) {
			res->early_eval_num = ee->ti->eval_num;
			tcb_behind_compute(ee->ti, &res->pck, td, &res->early_behind);
			res->early_state =
			    res->early.status == res->verdict.status ? INTEL_EARLY_SAME : INTEL_EARLY_DEMOTES;
		}
	}
	if (rc == ATTEST_E_NOT_FOUND)
		res->early_state = INTEL_EARLY_NONE;
	else if (rc != ATTEST_OK)
		res->early_state = INTEL_EARLY_FAILED;
	if (rc != ATTEST_OK)
		tcb_verdict_free(&res->early);
	if (res->early_state != INTEL_EARLY_FAILED)
		attest_err_clear(&res->early_err);
	r->err = saved;
}

/* The (TD) QE identity of the set asked for, its id, and the QE report's status under it (§3.6). */
static int qe_step(struct run *r, struct intel_quote_result *res, bool tdx, uint32_t baseline,
		   enum tcb_status *qstatus, const struct qe_tcb_level **qlevel, bool *by_number)
{
	const struct doc_entry *qe;
	int rc;

	collateral_ref_release(res->refs->qe);
	res->refs->qe = NULL;
	if ((rc = doc_step_baseline(r, false, 0, NULL, tdx ? COLLATERAL_TD_QE : COLLATERAL_QE, baseline,
				    &res->refs->qe, by_number)) != ATTEST_OK)
		return rc;
	qe = collateral_ref_obj(res->refs->qe);
	if (qe->qi->id != (tdx ? QE_ID_TD_QE : QE_ID_QE))
		return ierr(r->err, ATTEST_E_COLLATERAL, r->prefix, "qeid.id",
			    "enclave identity \"%s\" does not describe the %s QE",
			    qe_identity_id_str(qe->qi->id), tdx ? "TD" : "SGX");
	*qlevel = NULL;
	return qe_identity_check(qe->qi, &res->quote.qe, qstatus, qlevel, r->prefix, r->err);
}

static int collateral_steps(struct run *r, struct intel_quote_result *res)
{
	const struct quote *q = &res->quote;
	bool tdx = q->hdr.tee_type == QUOTE_TEE_TDX, qe_by_number;
	const struct doc_entry *te, *qe;
	const struct qe_tcb_level *qlevel = NULL;
	enum tcb_status qstatus;
	struct tcb_tdx_input td;
	int rc;

	/* The SGX baseline (MAA's x-ms-sgx-tcbidentifier is an SGX feature; TDX is not affected). */
	res->tcb_baseline = tdx ? 0 : r->ctx->sgx_tcb_baseline;
	if ((rc = qe_step(r, res, tdx, res->tcb_baseline, &qstatus, &qlevel, &qe_by_number)) != ATTEST_OK)
		return rc;
	/* §1.7 step 5: the ISV signature after the QE identity. */
	if ((rc = isv_sig_step(r, q)) != ATTEST_OK)
		return rc;
	if ((rc = doc_step_baseline(r, true, tdx ? COLLATERAL_TEE_TDX : COLLATERAL_TEE_SGX, res->pck.fmspc, 0,
				    res->tcb_baseline, &res->refs->tcb, &res->tcb_baseline_by_number)) !=
	    ATTEST_OK)
		return rc;
	/* Set N is used whole or not at all: half of it beside a newer half is neither verdict. */
	if (res->tcb_baseline_by_number != qe_by_number) {
		if (qe_by_number) {
			rc = qe_step(r, res, tdx, 0, &qstatus, &qlevel, &qe_by_number);
		} else {
			collateral_ref_release(res->refs->tcb);
			res->refs->tcb = NULL;
			rc = doc_step(r, true, tdx ? COLLATERAL_TEE_TDX : COLLATERAL_TEE_SGX, res->pck.fmspc,
				      0, NULL, &res->refs->tcb);
		}
		res->tcb_baseline_by_number = false;
		if (rc != ATTEST_OK)
			return rc;
	}
	te = collateral_ref_obj(res->refs->tcb);
	qe = collateral_ref_obj(res->refs->qe);
	if (tdx)
		intel_tdx_tcb_input(q, &td);
	if ((rc = tcb_evaluate(te->ti, &res->pck, tdx ? &td : NULL, qstatus, qlevel, &res->verdict, r->prefix,
			       r->err)) != ATTEST_OK)
		return rc;
	res->tcb_eval_num = te->ti->eval_num;
	res->qe_eval_num = qe->qi->eval_num;
	res->tcb_info_issue_date = te->ti->issue_date;
	res->tcb_info_next_update = te->ti->next_update;
	res->collateral_expiry =
	    te->ti->next_update < qe->qi->next_update ? te->ti->next_update : qe->qi->next_update;
	memcpy(res->hashes.tcb_info, te->body_hash, 32);
	memcpy(res->hashes.tcb_info_certs, te->chain_hash, 32);
	memcpy(res->hashes.tcb_info_crl, te->crl_hash, 32);
	memcpy(res->hashes.qe_identity, qe->body_hash, 32);
	memcpy(res->hashes.qe_identity_certs, qe->chain_hash, 32);
	memcpy(res->hashes.qe_identity_crl, qe->crl_hash, 32);
	res->collateral_evaluated = true;
	if (res->verdict.status == TCB_NOT_SUPPORTED || res->verdict.status == TCB_REVOKED)
		return tcb_failure(r, res, te->ti);
	if ((rc = baseline_check(r, res, te->ti, qe->qi)) != ATTEST_OK)
		return rc;
	early_step(r, res, tdx ? &td : NULL, qstatus, qlevel);
	return ATTEST_OK;
}

int intel_quote_verify(const struct evidence_ctx *ctx, const uint8_t *bytes, size_t len,
		       uint32_t expected_tee, struct intel_quote_result *res, const char *prefix,
		       struct attest_err *err)
{
	const struct pck_entry *pe;
	struct run r;
	int rc;

	memset(res, 0, sizeof(*res));
	if ((res->refs = calloc(1, sizeof(*res->refs))) == NULL)
		return ierr(err, ATTEST_E_NOMEM, prefix, "internal", "out of memory");
	if ((rc = quote_parse(bytes, len, expected_tee, &res->quote, prefix, err)) != ATTEST_OK)
		return rc;
	if ((rc = run_init(&r, ctx, prefix, err)) != ATTEST_OK)
		goto out;
	if (ctx->collateral == NULL && !r.no_collateral) {
		rc = ierr(err, ATTEST_E_COLLATERAL, prefix, "collateral.missing",
			  "no collateral source configured for Intel quotes");
		goto out;
	}
	sha256(bytes, len, res->hashes.quote);
	if ((rc = pck_step(&r, &res->quote, res)) != ATTEST_OK)
		goto out;
	pe = collateral_ref_obj(res->refs->pck);
	res->pck = pe->ext;
	res->pck_ca = pe->ca;
	memcpy(res->hashes.pck_crl, pe->pck_crl_hash, 32);
	res->revocation_checked = !r.no_revocation;
	if ((rc = quote_verify_qe_report_sig(&res->quote, pe->key, prefix, err)) != ATTEST_OK ||
	    (rc = quote_verify_qe_binding(&res->quote, prefix, err)) != ATTEST_OK)
		goto out;
	if (r.no_collateral) {
		rc = isv_sig_step(&r, &res->quote);
		goto out;
	}
	rc = collateral_steps(&r, res);
out:
	run_free(&r);
	return rc;
}

void intel_quote_result_free(struct intel_quote_result *res)
{
	if (res == NULL)
		return;
	tcb_verdict_free(&res->verdict);
	tcb_verdict_free(&res->early);
	if (res->refs != NULL) {
		collateral_ref_release(res->refs->pck);
		collateral_ref_release(res->refs->tcb);
		collateral_ref_release(res->refs->qe);
		collateral_ref_release(res->refs->early);
		free(res->refs);
	}
	memset(res, 0, sizeof(*res));
}

int intel_add_collateral_claim(struct claim_set *out, const char *type,
			       const struct intel_collateral_hashes *h)
{
	char hex[65];
	json_t *o = json_object();

	if (o == NULL)
		return ATTEST_E_NOMEM;
#define PUT(name, field)                                                                                     \
	hex_encode_to(h->field, 32, hex);                                                                    \
	json_object_set_new(o, name, json_string(hex))
	PUT("qeidcertshash", qe_identity_certs);
	PUT("qeidcrlhash", qe_identity_crl);
	PUT("qeidhash", qe_identity);
	PUT("quotehash", quote);
	PUT("tcbinfocertshash", tcb_info_certs);
	PUT("tcbinfocrlhash", tcb_info_crl);
	PUT("tcbinfohash", tcb_info);
#undef PUT
	return claim_set_add(out, type, o);
}

/* One entry of x-attestd-early-tcb-behind. */
static json_t *behind_item_json(const struct tcb_behind_item *it)
{
	json_t *o = json_pack("{s:s, s:i, s:i}", "component", tcb_component_kind_str(it->kind), "svn",
			      (json_int_t)it->have, "required", (json_int_t)it->need);

	if (o == NULL)
		return NULL;
	if (it->kind != TCB_COMPONENT_PCE)
		json_object_set_new(o, "index", json_integer(it->index));
	if (it->category != NULL)
		json_object_set_new(o, "category", json_string(it->category));
	if (it->type != NULL)
		json_object_set_new(o, "type", json_string(it->type));
	return o;
}

static int add_early_demotion(struct claim_set *out, const struct intel_quote_result *res)
{
	json_t *behind = json_array(), *adv = json_array();
	int rc = 0;

	if (behind == NULL || adv == NULL) {
		json_decref(behind);
		json_decref(adv);
		return ATTEST_E_NOMEM;
	}
	for (size_t i = 0; i < res->early_behind.n; i++)
		rc |= json_array_append_new(behind, behind_item_json(&res->early_behind.items[i]));
	for (size_t i = 0; i < res->early.adv.n; i++)
		rc |= json_array_append_new(adv, json_string(res->early.adv.ids[i]));
	rc |= claim_set_add_str(out, "x-attestd-early-tcb-status", tcb_status_str(res->early.status));
	rc |= claim_set_add_int(out, "x-attestd-early-tcb-evaluationdatanumber", res->early_eval_num);
	rc |= claim_set_add(out, "x-attestd-early-tcb-behind", behind);
	rc |= claim_set_add(out, "x-attestd-early-tcb-advisory-ids", adv);
	return rc ? ATTEST_E_NOMEM : ATTEST_OK;
}

int intel_add_early_claims(struct claim_set *out, const struct intel_quote_result *res)
{
	int rc = ATTEST_OK;

	if (res->early_state == INTEL_EARLY_DEMOTES)
		rc |= add_early_demotion(out, res);
	/*
	 * Only the stable error code goes into the token: the message can name
	 * the upstream (a PCS URL, curl's text) that relying parties need not see.
	 */
	if (res->early_state == INTEL_EARLY_FAILED)
		rc |= claim_set_add_str(out, "x-attestd-early-tcb-warning", res->early_err.name);
	return rc ? ATTEST_E_NOMEM : ATTEST_OK;
}
