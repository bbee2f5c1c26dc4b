/*
 * Enclave Identity v2 (formats.md §3.4) and the QE identity check (§3.6,
 * QVL EnclaveReportVerifier).
 */
#include "evidence/quote.h"
#include "evidence/tcb_json.h"

#include "base/cur.h"
#include "crypto/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const QE_ID_NAMES[] = {"QE", "TD_QE", "QVE", "QAE"};

const char *qe_identity_id_str(enum qe_identity_id id)
{
	return (size_t)id < 4 ? QE_ID_NAMES[id] : "?";
}

void qe_identity_free(struct qe_identity *qi)
{
	size_t i;

	if (qi == NULL)
		return;
	for (i = 0; i < qi->n_levels; i++)
		free(qi->levels[i].adv.ids);
	free(qi->levels);
	free(qi->body);
	json_decref(qi->doc);
	free(qi);
}

static int parse_fields(const struct tcbj *j, const json_t *doc, struct qe_identity *qi)
{
	const char *id;
	uint8_t b4[4];
	int64_t v;
	size_t i;
	int rc;

	if ((rc = tcbj_str(j, doc, "id", &id)) != ATTEST_OK)
		return rc;
	for (i = 0; i < 4 && strcmp(id, QE_ID_NAMES[i]) != 0; i++)
		;
	if (i == 4)
		return tcbj_err(j->err, ATTEST_E_PARSE, j->prefix, "qeid.id",
				"Enclave Identity id \"%s\" is unknown", id);
	qi->id = (enum qe_identity_id)i;
	if ((rc = tcbj_int(j, doc, "version", 0, 100, &v)) != ATTEST_OK)
		return rc;
	if (v != 2)
		return tcbj_err(j->err, ATTEST_E_UNSUPPORTED, j->prefix, "qeid.version",
				"Enclave Identity version %lld is not supported (2)", (long long)v);
	qi->version = 2;
	if ((rc = tcbj_date(j, doc, "issueDate", &qi->issue_date)) != ATTEST_OK ||
	    (rc = tcbj_date(j, doc, "nextUpdate", &qi->next_update)) != ATTEST_OK ||
	    (rc = tcbj_int(j, doc, "tcbEvaluationDataNumber", 0, INT32_MAX, &qi->eval_num)) != ATTEST_OK)
		return rc;
	/* Hex in report byte order; QVL reads miscselect as a LE u32 on both sides. */
	if ((rc = tcbj_hex(j, doc, "miscselect", b4, 4)) != ATTEST_OK)
		return rc;
	qi->miscselect = ld_u32le(b4);
	if ((rc = tcbj_hex(j, doc, "miscselectMask", b4, 4)) != ATTEST_OK)
		return rc;
	qi->miscselect_mask = ld_u32le(b4);
	if ((rc = tcbj_hex(j, doc, "attributes", qi->attributes, 16)) != ATTEST_OK ||
	    (rc = tcbj_hex(j, doc, "attributesMask", qi->attributes_mask, 16)) != ATTEST_OK ||
	    (rc = tcbj_hex(j, doc, "mrsigner", qi->mrsigner, 32)) != ATTEST_OK ||
	    (rc = tcbj_int(j, doc, "isvprodid", 0, 65535, &v)) != ATTEST_OK)
		return rc;
	qi->isvprodid = (uint16_t)v;
	if (qi->issue_date > qi->next_update)
		return tcbj_err(j->err, ATTEST_E_PARSE, j->prefix, "qeid.dates",
				"Enclave Identity issueDate is after its nextUpdate");
	return ATTEST_OK;
}

static int parse_levels(const struct tcbj *j, const json_t *doc, struct qe_identity *qi)
{
	const json_t *levels = json_object_get(doc, "tcbLevels");
	size_t i;
	int rc;

	if (!json_is_array(levels) || json_array_size(levels) == 0)
		return tcbj_err(j->err, ATTEST_E_PARSE, j->prefix, "qeid.levels",
				"Enclave Identity has no tcbLevels");
	if ((qi->levels = calloc(json_array_size(levels), sizeof(*qi->levels))) == NULL)
		return tcbj_err(j->err, ATTEST_E_NOMEM, j->prefix, "qeid.levels", "out of memory");
	for (i = 0; i < json_array_size(levels); i++) {
		const json_t *lv = json_array_get(levels, i), *tcb = json_object_get(lv, "tcb");
		struct qe_tcb_level *l = &qi->levels[qi->n_levels];
		int64_t v;

		if (!json_is_object(tcb) || tcbj_int(j, tcb, "isvsvn", 0, 65535, &v) != ATTEST_OK)
			return tcbj_err(j->err, ATTEST_E_PARSE, j->prefix, "qeid.member",
					"Enclave Identity level %zu has no tcb.isvsvn 0..65535", i);
		l->isvsvn = (uint16_t)v;
		if ((rc = tcbj_date(j, lv, "tcbDate", &l->tcb_date)) != ATTEST_OK ||
		    (rc = tcbj_status(j, lv, &l->status)) != ATTEST_OK ||
		    (rc = tcbj_advisories(j, lv, &l->adv)) != ATTEST_OK)
			return rc;
		qi->n_levels++;
	}
	return ATTEST_OK;
}

int qe_identity_parse(const uint8_t *body, size_t len, struct qe_identity **out, const char *prefix,
		      struct attest_err *err)
{
	struct tcbj j = {prefix, "qeid", "QE Identity", err};
	struct qe_identity *qi = calloc(1, sizeof(*qi));
	int rc;

	if (qi == NULL)
		return tcbj_err(err, ATTEST_E_NOMEM, prefix, "qeid.parse", "out of memory");
	if ((rc = tcbj_envelope(body, len, "enclaveIdentity", prefix, "qeid", "QE Identity", &qi->body,
				&qi->signed_off, &qi->signed_len, &qi->doc, qi->signature, err)) != ATTEST_OK)
		goto fail;
	qi->body_len = len;
	if (!json_is_object(qi->doc)) {
		rc = tcbj_err(err, ATTEST_E_PARSE, prefix, "qeid.parse", "enclaveIdentity is not an object");
		goto fail;
	}
	if ((rc = parse_fields(&j, qi->doc, qi)) != ATTEST_OK ||
	    (rc = parse_levels(&j, qi->doc, qi)) != ATTEST_OK)
		goto fail;
	*out = qi;
	return ATTEST_OK;
fail:
	qe_identity_free(qi);
	return rc;
}

int qe_identity_verify_signature(const struct qe_identity *qi, EVP_PKEY *signer, const char *prefix,
				 struct attest_err *err)
{
	char code[ATTEST_ERR_NAME_MAX];
	int rc;

	snprintf(code, sizeof(code), "%s.qeid.signature", prefix);
	rc = ecdsa_verify_rs_be(signer, HASH_SHA256, qi->body + qi->signed_off, qi->signed_len, qi->signature,
				64, code, err);
	if (rc != ATTEST_OK)
		attest_err_prefix(err, "QE Identity signature by the TCB Signing key: ");
	return rc;
}

int qe_identity_check_time(const struct qe_identity *qi, int64_t now, const char *prefix,
			   struct attest_err *err)
{
	return tcbj_check_window(qi->issue_date, qi->next_update, now, prefix, "qeid", "QE Identity", err);
}

int qe_identity_check(const struct qe_identity *qi, const struct sgx_report_body *qe, enum tcb_status *status,
		      const struct qe_tcb_level **level, const char *prefix, struct attest_err *err)
{
	size_t i;

	if ((qe->miscselect & qi->miscselect_mask) != qi->miscselect)
		return tcbj_err(
		    err, ATTEST_E_VERIFY, prefix, "qeid.mismatch.miscselect",
		    "QE report MISCSELECT 0x%08x under mask 0x%08x is not the QE identity's 0x%08x",
		    qe->miscselect, qi->miscselect_mask, qi->miscselect);
	for (i = 0; i < 16; i++)
		if ((qe->attributes[i] & qi->attributes_mask[i]) != qi->attributes[i])
			return tcbj_err(
			    err, ATTEST_E_VERIFY, prefix, "qeid.mismatch.attributes",
			    "QE report ATTRIBUTES byte %zu under mask differs from the QE identity", i);
	if (memcmp(qe->mrsigner, qi->mrsigner, 32) != 0)
		return tcbj_err(err, ATTEST_E_VERIFY, prefix, "qeid.mismatch.mrsigner",
				"QE report MRSIGNER is not the %s identity's", qe_identity_id_str(qi->id));
	if (qe->isvprodid != qi->isvprodid)
		return tcbj_err(err, ATTEST_E_VERIFY, prefix, "qeid.mismatch.isvprodid",
				"QE report ISVPRODID %u is not the %s identity's %u", qe->isvprodid,
				qe_identity_id_str(qi->id), qi->isvprodid);
	/* Document order; first level with isvsvn <= the QE's (§3.6). */
	for (i = 0; i < qi->n_levels; i++)
		if (qi->levels[i].isvsvn <= qe->isvsvn)
			break;
	if (level != NULL)
		*level = i < qi->n_levels ? &qi->levels[i] : NULL;
	if (i == qi->n_levels)
		*status = TCB_NOT_SUPPORTED;
	else if (qi->levels[i].status == TCB_UP_TO_DATE)
		*status = TCB_UP_TO_DATE;
	else if (qi->levels[i].status == TCB_REVOKED)
		*status = TCB_REVOKED;
	else
		*status = TCB_OUT_OF_DATE;
	return ATTEST_OK;
}
