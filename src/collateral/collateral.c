/* The collateral interface: dispatchers over a source's vtable (collateral.h). */
#include "collateral/collateral.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void collateral_blob_free(struct collateral_blob *b)
{
	if (b == NULL)
		return;
	free(b->data);
	free(b->chain);
	memset(b, 0, sizeof(*b));
}

void collateral_source_free(struct collateral_source *src)
{
	if (src != NULL && src->ops != NULL && src->ops->free != NULL)
		src->ops->free(src->self);
}

static int missing(const struct collateral_source *src, const char *what, struct attest_err *err)
{
	return attest_err_set(err, ATTEST_E_NOT_FOUND, "collateral.not_found",
			      "collateral source \"%s\" does not serve %s",
			      src && src->ops && src->ops->name ? src->ops->name : "(none)", what);
}

#define HAS(slot) (src != NULL && src->ops != NULL && src->ops->slot != NULL)

int collateral_get_pck_crl(struct collateral_source *src, enum collateral_pck_ca ca,
			   struct collateral_blob *out, struct attest_err *err)
{
	memset(out, 0, sizeof(*out));
	return HAS(pck_crl) ? src->ops->pck_crl(src->self, ca, out, err) : missing(src, "PCK CRLs", err);
}

int collateral_get_root_ca_crl(struct collateral_source *src, struct collateral_blob *out,
			       struct attest_err *err)
{
	memset(out, 0, sizeof(*out));
	return HAS(root_ca_crl) ? src->ops->root_ca_crl(src->self, out, err)
				: missing(src, "the Root CA CRL", err);
}

int collateral_get_tcb_info(struct collateral_source *src, enum collateral_tee tee, const uint8_t fmspc[6],
			    struct collateral_blob *out, struct attest_err *err)
{
	memset(out, 0, sizeof(*out));
	return HAS(tcb_info) ? src->ops->tcb_info(src->self, tee, fmspc, out, err)
			     : missing(src, "TCB Info", err);
}

int collateral_get_qe_identity(struct collateral_source *src, enum collateral_qe kind,
			       struct collateral_blob *out, struct attest_err *err)
{
	memset(out, 0, sizeof(*out));
	return HAS(qe_identity) ? src->ops->qe_identity(src->self, kind, out, err)
				: missing(src, "enclave identities", err);
}

int collateral_get_pck_cert(struct collateral_source *src, const struct collateral_pck_query *q,
			    struct collateral_blob *out, struct attest_err *err)
{
	memset(out, 0, sizeof(*out));
	return HAS(pck_cert) ? src->ops->pck_cert(src->self, q, out, err)
			     : missing(src, "PCK certificates", err);
}

bool collateral_select_is_special(const struct collateral_select *sel)
{
	return sel != NULL && (sel->eval_num > 0 || sel->update != COLLATERAL_UPDATE_STANDARD);
}

void collateral_select_suffix(const struct collateral_select *sel, char sep, char *out, size_t cap)
{
	if (cap == 0)
		return;
	out[0] = '\0';
	if (!collateral_select_is_special(sel))
		return;
	if (sel->eval_num > 0)
		snprintf(out, cap, "%ceval%u", sep, (unsigned)sel->eval_num);
	else
		snprintf(out, cap, "%cearly", sep);
}

bool collateral_select_parse_suffix(const char *s, char sep, struct collateral_select *out)
{
	struct collateral_select sel = {COLLATERAL_UPDATE_STANDARD, 0};
	uint64_t n = 0;
	const char *d;

	if (s == NULL)
		return false;
	if (*s != '\0') {
		if (*s != sep)
			return false;
		if (strcmp(s + 1, "early") == 0) {
			sel.update = COLLATERAL_UPDATE_EARLY;
		} else if (strncmp(s + 1, "eval", 4) == 0 && s[5] >= '1' && s[5] <= '9') {
			/* Canonical decimal of a u32: what the builder writes, nothing else. */
			for (d = s + 5; *d >= '0' && *d <= '9' && n <= UINT32_MAX; d++)
				n = n * 10 + (uint64_t)(*d - '0');
			if (*d != '\0' || n > UINT32_MAX)
				return false;
			sel.eval_num = (uint32_t)n;
		} else {
			return false;
		}
	}
	*out = sel;
	return true;
}

size_t collateral_select_split_key(const char *key, struct collateral_select *out)
{
	const char *slash = strrchr(key, '/');
	struct collateral_select std = {COLLATERAL_UPDATE_STANDARD, 0};

	if (slash != NULL && collateral_select_parse_suffix(slash, '/', out) &&
	    collateral_select_is_special(out))
		return (size_t)(slash - key);
	*out = std;
	return strlen(key);
}

int collateral_get_tcb_info_ex(struct collateral_source *src, enum collateral_tee tee, const uint8_t fmspc[6],
			       const struct collateral_select *sel, struct collateral_blob *out,
			       struct attest_err *err)
{
	if (!collateral_select_is_special(sel))
		return collateral_get_tcb_info(src, tee, fmspc, out, err);
	memset(out, 0, sizeof(*out));
	return HAS(tcb_info_ex)
		   ? src->ops->tcb_info_ex(src->self, tee, fmspc, sel, out, err)
		   : missing(src, sel->eval_num ? "TCB Info by evaluation data number" : "the early TCB Info",
			     err);
}

int collateral_get_qe_identity_ex(struct collateral_source *src, enum collateral_qe kind,
				  const struct collateral_select *sel, struct collateral_blob *out,
				  struct attest_err *err)
{
	if (!collateral_select_is_special(sel))
		return collateral_get_qe_identity(src, kind, out, err);
	memset(out, 0, sizeof(*out));
	return HAS(qe_identity_ex) ? src->ops->qe_identity_ex(src->self, kind, sel, out, err)
				   : missing(src,
					     sel->eval_num ? "enclave identities by evaluation data number"
							   : "early enclave identities",
					     err);
}
