#ifndef ATTEST_TEST_DEVPLAT_FIXTURE_H
#define ATTEST_TEST_DEVPLAT_FIXTURE_H

/*
 * The synthetic Intel platform (devplat/intel.h) over a collateral folder
 * of its own, read through a file source with a cache: what the SGX/TDX
 * tests and benchmarks of TCB evaluation start from. Link it through the
 * program's <prog>.cmake:
 *   target_sources(${ATTEST_PROGRAM} PRIVATE ${CMAKE_SOURCE_DIR}/tests/common/devplat_fixture.c)
 * Functions return ATTEST_OK or an error (no test framework inside: the
 * benchmarks use it too).
 */

#include "collateral/collateral.h"
#include "devplat/intel.h"
#include "evidence/evidence.h"

#include <stddef.h>
#include <stdint.h>

/* The platform's SGX TCB components and PCE SVN unless a test sets others. */
extern const uint8_t DEVPLAT_FIXTURE_COMPS[16];
#define DEVPLAT_FIXTURE_PCESVN 11

struct devplat_fixture {
	struct intel_devplat *p;
	char dir[64]; /* the collateral folder, removed by devplat_fixture_down */
	struct evidence_anchors anchors;
	struct collateral_source *src; /* over dir, with cache */
	struct collateral_cache *cache;
	struct evidence_ctx ctx; /* now, anchors and src; tests add the rest */
};

/* intel_devplat_opts_default at now with DEVPLAT_FIXTURE_COMPS and DEVPLAT_FIXTURE_PCESVN. */
void devplat_fixture_opts(struct intel_devplat_opts *o, int64_t now);

/*
 * The platform of o (NULL: devplat_fixture_opts at now), a new folder
 * /tmp/attest-<tag>-XXXXXX, its roots as the anchors, and a source with a
 * cache of cache_cap entries; ctx verifies at now. On failure what was made
 * is released (f stays safe to pass to devplat_fixture_down).
 */
int devplat_fixture_up(struct devplat_fixture *f, const struct intel_devplat_opts *o, int64_t now,
		       const char *tag, size_t cache_cap);

/* A fresh source and cache over the folder as it is now (what a restarted node would read). */
int devplat_fixture_reopen(struct devplat_fixture *f, size_t cache_cap);

/* Frees everything devplat_fixture_up made and removes the folder with its files. */
void devplat_fixture_down(struct devplat_fixture *f);

/* Removes a collateral folder and the files in it (no subfolders are written there). */
void devplat_fixture_rmdir(const char *dir);

/*
 * Writes the standard set: TCB Info `ti`, the QE identity qi (NULL: the
 * default SGX QE identity), the PCK CRLs (this/next update 0: around now)
 * and the chains, through intel_devplat_write_collateral.
 */
int devplat_fixture_write_standard(const struct devplat_fixture *f, const struct intel_devplat_tcb_info *ti,
				   const struct intel_devplat_qe_identity *qi, int64_t crl_this,
				   int64_t crl_next);

/* The platform's quote (version 3 or 4) of the default enclave; caller frees *quote. */
int devplat_fixture_sgx_quote(const struct intel_devplat *p, int version, uint8_t **quote, size_t *len);

#endif
