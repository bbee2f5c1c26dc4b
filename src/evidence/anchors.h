#ifndef ATTEST_EVIDENCE_ANCHORS_H
#define ATTEST_EVIDENCE_ANCHORS_H

/*
 * Filling struct evidence_anchors (evidence.h): the vendors' built-in roots,
 * and extra roots from a PEM file placed beside them (never instead), each
 * in its vendor's slot by its subject's common name:
 *   CN "Intel SGX Root CA"                -> intel_sgx_roots
 *   CN "ARK-Milan", "ARK-Genoa", "ARK-Turin" -> amd_arks
 *   anything else                          -> tpm_roots (AIK / EK issuers)
 * Used by attestd (--trust-roots) and libattest (extra_roots_pem) alike,
 * so a development platform's roots are trusted the same way by both.
 */

#include "attest/error.h"
#include "evidence/evidence.h"

#include <stddef.h>
#include <stdint.h>

/* The Intel SGX Root CA and AMD's ARK of every product line, parsed once. */
int evidence_anchors_builtin(struct evidence_anchors *a, struct attest_err *err);

/* Adds every certificate of pem (a reference each) to its slot. Errors: <code>.parse, anchors.nomem. */
int evidence_anchors_add_pem(struct evidence_anchors *a, const uint8_t *pem, size_t len, const char *code,
			     struct attest_err *err);

/* Frees the three stacks and sets them to NULL. */
void evidence_anchors_clear(struct evidence_anchors *a);

#endif
