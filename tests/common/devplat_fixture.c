/* The synthetic Intel platform over its own collateral folder: see devplat_fixture.h. */
#include "devplat_fixture.h"

#include "evidence/sgx.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const uint8_t DEVPLAT_FIXTURE_COMPS[16] = {5, 5, 2, 4, 1, 128, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0};

void devplat_fixture_opts(struct intel_devplat_opts *o, int64_t now)
{
	intel_devplat_opts_default(o, now);
	memcpy(o->comp_svn, DEVPLAT_FIXTURE_COMPS, sizeof(DEVPLAT_FIXTURE_COMPS));
	o->pcesvn = DEVPLAT_FIXTURE_PCESVN;
}

static void source_close(struct devplat_fixture *f)
{
	if (f->src != NULL) {
		collateral_source_free(f->src);
		free(f->src);
		f->src = NULL;
	}
	collateral_cache_free(f->cache);
	f->cache = NULL;
}

int devplat_fixture_reopen(struct devplat_fixture *f, size_t cache_cap)
{
	int rc;

	source_close(f);
	if ((rc = collateral_file_source_new(f->dir, &f->src, NULL)) != ATTEST_OK)
		return rc;
	if ((f->cache = collateral_cache_new(cache_cap)) == NULL)
		return ATTEST_E_NOMEM;
	f->src->cache = f->cache;
	f->ctx.collateral = f->src;
	return ATTEST_OK;
}

int devplat_fixture_up(struct devplat_fixture *f, const struct intel_devplat_opts *o, int64_t now,
		       const char *tag, size_t cache_cap)
{
	struct intel_devplat_opts def;
	int rc;

	memset(f, 0, sizeof(*f));
	if (o == NULL) {
		devplat_fixture_opts(&def, now);
		o = &def;
	}
	if ((rc = intel_devplat_new(o, &f->p, NULL)) != ATTEST_OK)
		return rc;
	snprintf(f->dir, sizeof(f->dir), "/tmp/attest-%.32s-XXXXXX", tag);
	if (mkdtemp(f->dir) == NULL) {
		f->dir[0] = '\0';
		return ATTEST_E_IO;
	}
	if ((f->anchors.intel_sgx_roots = intel_devplat_roots(f->p)) == NULL)
		return ATTEST_E_NOMEM;
	f->ctx.now = now;
	f->ctx.anchors = &f->anchors;
	return devplat_fixture_reopen(f, cache_cap);
}

void devplat_fixture_rmdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	while (d && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

void devplat_fixture_down(struct devplat_fixture *f)
{
	if (f->dir[0] != '\0')
		devplat_fixture_rmdir(f->dir);
	source_close(f);
	sk_X509_pop_free(f->anchors.intel_sgx_roots, X509_free);
	intel_devplat_free(f->p);
	memset(f, 0, sizeof(*f));
}

int devplat_fixture_write_standard(const struct devplat_fixture *f, const struct intel_devplat_tcb_info *ti,
				   const struct intel_devplat_qe_identity *qi, int64_t crl_this,
				   int64_t crl_next)
{
	struct intel_devplat_qe_identity def;
	char *tb = NULL, *qb = NULL;
	size_t tl = 0, ql = 0;
	int rc;

	if (qi == NULL) {
		intel_devplat_qe_identity_default(&def);
		qi = &def;
	}
	rc = intel_devplat_tcb_info(f->p, ti, &tb, &tl, NULL);
	if (rc == ATTEST_OK)
		rc = intel_devplat_qe_identity(f->p, qi, &qb, &ql, NULL);
	if (rc == ATTEST_OK)
		rc = intel_devplat_write_collateral(f->p, f->dir, tb, tl, qb, ql, crl_this, crl_next, NULL);
	free(tb);
	free(qb);
	return rc;
}

int devplat_fixture_sgx_quote(const struct intel_devplat *p, int version, uint8_t **quote, size_t *len)
{
	struct intel_devplat_enclave e;
	struct intel_devplat_quote s;
	uint8_t body[SGX_REPORT_BODY_SIZE];

	intel_devplat_enclave_default(&e);
	intel_devplat_report_body(&e, body);
	intel_devplat_quote_default(&s);
	s.version = version;
	s.body = body;
	s.body_len = sizeof(body);
	return intel_devplat_make_quote(p, &s, quote, len, NULL);
}
