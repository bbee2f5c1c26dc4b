/*
 * TCB Info v2 / v3 (formats.md §3.2): parse, order the levels (§3.5 step 1),
 * verify the signature over the exact member bytes (§3.3).
 */
#include "evidence/tcb_json.h"

#include "crypto/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const STATUS_NAMES[] = {
    [TCB_UP_TO_DATE] = "UpToDate",
    [TCB_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
    [TCB_CONFIGURATION_NEEDED] = "ConfigurationNeeded",
    [TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED] = "ConfigurationAndSWHardeningNeeded",
    [TCB_OUT_OF_DATE] = "OutOfDate",
    [TCB_OUT_OF_DATE_CONFIGURATION_NEEDED] = "OutOfDateConfigurationNeeded",
    [TCB_REVOKED] = "Revoked",
    [TCB_NOT_SUPPORTED] = "TcbLevelNotSupported",
    [TCB_TD_RELAUNCH_ADVISED] = "TDRelaunchAdvised",
    [TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED] = "TDRelaunchAdvisedConfigurationNeeded",
};

const char *tcb_status_str(enum tcb_status s)
{
	if ((size_t)s >= sizeof(STATUS_NAMES) / sizeof(STATUS_NAMES[0]))
		return "Unknown";
	return STATUS_NAMES[s];
}

int tcb_status_parse(const char *s, enum tcb_status *out)
{
	size_t i;

	for (i = 0; i < sizeof(STATUS_NAMES) / sizeof(STATUS_NAMES[0]); i++)
		if (strcmp(s, STATUS_NAMES[i]) == 0) {
			*out = (enum tcb_status)i;
			return ATTEST_OK;
		}
	return ATTEST_E_PARSE;
}

void tcb_info_free(struct tcb_info *ti)
{
	size_t i, k;

	if (ti == NULL)
		return;
	for (i = 0; i < ti->n_levels; i++)
		free(ti->levels[i].adv.ids);
	for (i = 0; i < ti->n_modules; i++) {
		for (k = 0; k < ti->modules[i].n_levels; k++)
			free(ti->modules[i].levels[k].adv.ids);
		free(ti->modules[i].levels);
	}
	free(ti->levels);
	free(ti->modules);
	free(ti->body);
	json_decref(ti->doc);
	free(ti);
}

/* 16 components: v2 "sgxtcbcompNNsvn" members, v3 arrays of {svn}. */
static int parse_components(const struct tcbj *j, const json_t *tcb, int version, const char *arr_key,
			    uint8_t out[16])
{
	int64_t v;
	int i, rc;

	if (version == 2) {
		for (i = 0; i < 16; i++) {
			char key[32];

			snprintf(key, sizeof(key), "sgxtcbcomp%02dsvn", i + 1);
			if ((rc = tcbj_int(j, tcb, key, 0, 255, &v)) != ATTEST_OK)
				return rc;
			out[i] = (uint8_t)v;
		}
		return ATTEST_OK;
	}
	{
		const json_t *a = json_object_get(tcb, arr_key);

		if (!json_is_array(a) || json_array_size(a) != 16)
			return tcbj_err(j->err, ATTEST_E_PARSE, j->prefix, "tcbinfo.member",
					"TCB Info: \"%s\" must be an array of 16 components", arr_key);
		for (i = 0; i < 16; i++) {
			const json_t *c = json_array_get(a, (size_t)i);

			if (!json_is_object(c) || tcbj_int(j, c, "svn", 0, 255, &v) != ATTEST_OK)
				return tcbj_err(j->err, ATTEST_E_PARSE, j->prefix, "tcbinfo.member",
						"TCB Info: %s[%d] has no svn 0..255", arr_key, i);
			out[i] = (uint8_t)v;
		}
	}
	return ATTEST_OK;
}

static int parse_level(const struct tcbj *j, const struct tcb_info *ti, const json_t *lv, struct tcb_level *o)
{
	const json_t *tcb = json_object_get(lv, "tcb");
	int64_t v;
	int rc;

	if (!json_is_object(tcb))
		return tcbj_err(j->err, ATTEST_E_PARSE, j->prefix, "tcbinfo.member",
				"TCB Info: a level has no \"tcb\"");
	if ((rc = parse_components(j, tcb, ti->version, "sgxtcbcomponents", o->sgx)) != ATTEST_OK ||
	    (rc = tcbj_int(j, tcb, "pcesvn", 0, 65535, &v)) != ATTEST_OK)
		return rc;
	o->pcesvn = (uint16_t)v;
	if (ti->id == TCB_INFO_ID_TDX) {
		if ((rc = parse_components(j, tcb, 3, "tdxtcbcomponents", o->tdx)) != ATTEST_OK)
			return rc;
		o->has_tdx = true;
	}
	if ((rc = tcbj_date(j, lv, "tcbDate", &o->tcb_date)) != ATTEST_OK ||
	    (rc = tcbj_status(j, lv, &o->status)) != ATTEST_OK)
		return rc;
	return tcbj_advisories(j, lv, &o->adv);
}

/* §3.5 step 1: descending by SGX SVNs, then PCESVN, then (TDX) TDX SVNs. */
static int level_cmp_desc(const void *a, const void *b)
{
	const struct tcb_level *x = a, *y = b;
	int c = memcmp(y->sgx, x->sgx, 16);

	if (c != 0)
		return c;
	if (x->pcesvn != y->pcesvn)
		return x->pcesvn < y->pcesvn ? 1 : -1;
	if (x->has_tdx && y->has_tdx)
		return memcmp(y->tdx, x->tdx, 16);
	return 0;
}

static int module_level_cmp_desc(const void *a, const void *b)
{
	const struct tdx_module_level *x = a, *y = b;

	return (int)y->isvsvn - (int)x->isvsvn;
}

static int parse_module_identity(const struct tcbj *j, const json_t *m, struct tdx_module_identity *o)
{
	const char *id;
	const json_t *levels;
	int rc;
	size_t i;

	if (!json_is_object(m) || tcbj_str(j, m, "id", &id) != ATTEST_OK)
		return tcbj_err(j->err, ATTEST_E_PARSE, j->prefix, "tcbinfo.member",
				"TCB Info: a tdxModuleIdentities entry has no id");
	snprintf(o->id, sizeof(o->id), "%s", id);
	if ((rc = tcbj_hex(j, m, "mrsigner", o->mrsigner, 48)) != ATTEST_OK ||
	    (rc = tcbj_hex(j, m, "attributes", o->attributes, 8)) != ATTEST_OK ||
	    (rc = tcbj_hex(j, m, "attributesMask", o->attributes_mask, 8)) != ATTEST_OK)
		return rc;
	levels = json_object_get(m, "tcbLevels");
	if (!json_is_array(levels) || json_array_size(levels) == 0)
		return tcbj_err(j->err, ATTEST_E_PARSE, j->prefix, "tcbinfo.levels",
				"TCB Info: module identity %s has no tcbLevels", o->id);
	if ((o->levels = calloc(json_array_size(levels), sizeof(*o->levels))) == NULL)
		return tcbj_err(j->err, ATTEST_E_NOMEM, j->prefix, "tcbinfo.levels", "out of memory");
	for (i = 0; i < json_array_size(levels); i++) {
		const json_t *lv = json_array_get(levels, i), *tcb = json_object_get(lv, "tcb");
		struct tdx_module_level *l = &o->levels[o->n_levels];
		int64_t v;

		if (!json_is_object(tcb) || tcbj_int(j, tcb, "isvsvn", 0, 255, &v) != ATTEST_OK)
			return tcbj_err(j->err, ATTEST_E_PARSE, j->prefix, "tcbinfo.member",
					"TCB Info: module %s level %zu has no tcb.isvsvn 0..255", o->id, i);
		l->isvsvn = (uint8_t)v;
		if ((rc = tcbj_date(j, lv, "tcbDate", &l->tcb_date)) != ATTEST_OK ||
		    (rc = tcbj_status(j, lv, &l->status)) != ATTEST_OK ||
		    (rc = tcbj_advisories(j, lv, &l->adv)) != ATTEST_OK)
			return rc;
		o->n_levels++;
	}
	qsort(o->levels, o->n_levels, sizeof(*o->levels), module_level_cmp_desc);
	return ATTEST_OK;
}

static int parse_tdx_parts(const struct tcbj *j, const json_t *doc, struct tcb_info *ti)
{
	const json_t *mod = json_object_get(doc, "tdxModule"),
		     *ids = json_object_get(doc, "tdxModuleIdentities");
	size_t i;
	int rc;

	if (mod != NULL) {
		if (!json_is_object(mod))
			return tcbj_err(j->err, ATTEST_E_PARSE, j->prefix, "tcbinfo.member",
					"TCB Info: tdxModule is not an object");
		if ((rc = tcbj_hex(j, mod, "mrsigner", ti->tdx_module_mrsigner, 48)) != ATTEST_OK ||
		    (rc = tcbj_hex(j, mod, "attributes", ti->tdx_module_attributes, 8)) != ATTEST_OK ||
		    (rc = tcbj_hex(j, mod, "attributesMask", ti->tdx_module_attributes_mask, 8)) != ATTEST_OK)
			return rc;
		ti->has_tdx_module = true;
	}
	if (ids == NULL)
		return ATTEST_OK;
	if (!json_is_array(ids))
		return tcbj_err(j->err, ATTEST_E_PARSE, j->prefix, "tcbinfo.member",
				"TCB Info: tdxModuleIdentities is not an array");
	if (json_array_size(ids) == 0)
		return ATTEST_OK;
	if ((ti->modules = calloc(json_array_size(ids), sizeof(*ti->modules))) == NULL)
		return tcbj_err(j->err, ATTEST_E_NOMEM, j->prefix, "tcbinfo.member", "out of memory");
	for (i = 0; i < json_array_size(ids); i++) {
		rc = parse_module_identity(j, json_array_get(ids, i), &ti->modules[i]);
		ti->n_modules++; /* counted even on failure so tcb_info_free releases it */
		if (rc != ATTEST_OK)
			return rc;
	}
	return ATTEST_OK;
}

static int parse_header_fields(const struct tcbj *j, const json_t *doc, struct tcb_info *ti)
{
	const json_t *idv = json_object_get(doc, "id");
	int64_t v;
	int rc;

	if ((rc = tcbj_int(j, doc, "version", 0, 100, &v)) != ATTEST_OK)
		return rc;
	if (v != 2 && v != 3)
		return tcbj_err(j->err, ATTEST_E_UNSUPPORTED, j->prefix, "tcbinfo.version",
				"TCB Info version %lld is not supported (2 or 3)", (long long)v);
	ti->version = (int)v;
	if (ti->version == 3) {
		const char *id = json_string_value(idv);

		if (id != NULL && strcmp(id, "SGX") == 0)
			ti->id = TCB_INFO_ID_SGX;
		else if (id != NULL && strcmp(id, "TDX") == 0)
			ti->id = TCB_INFO_ID_TDX;
		else
			return tcbj_err(j->err, ATTEST_E_PARSE, j->prefix, "tcbinfo.id",
					"TCB Info v3 id must be \"SGX\" or \"TDX\"");
	}
	if ((rc = tcbj_date(j, doc, "issueDate", &ti->issue_date)) != ATTEST_OK ||
	    (rc = tcbj_date(j, doc, "nextUpdate", &ti->next_update)) != ATTEST_OK ||
	    (rc = tcbj_hex(j, doc, "fmspc", ti->fmspc, 6)) != ATTEST_OK ||
	    (rc = tcbj_hex(j, doc, "pceId", ti->pceid, 2)) != ATTEST_OK ||
	    (rc = tcbj_int(j, doc, "tcbType", 0, 0, &ti->tcb_type)) != ATTEST_OK ||
	    (rc = tcbj_int(j, doc, "tcbEvaluationDataNumber", 0, INT32_MAX, &ti->eval_num)) != ATTEST_OK)
		return rc;
	if (ti->issue_date > ti->next_update)
		return tcbj_err(j->err, ATTEST_E_PARSE, j->prefix, "tcbinfo.dates",
				"TCB Info issueDate is after its nextUpdate");
	return ATTEST_OK;
}

static int parse_levels(const struct tcbj *j, const json_t *doc, struct tcb_info *ti)
{
	const json_t *levels = json_object_get(doc, "tcbLevels");
	size_t i;
	int rc;

	if (!json_is_array(levels) || json_array_size(levels) == 0)
		return tcbj_err(j->err, ATTEST_E_PARSE, j->prefix, "tcbinfo.levels",
				"TCB Info has no tcbLevels array");
	if ((ti->levels = calloc(json_array_size(levels), sizeof(*ti->levels))) == NULL)
		return tcbj_err(j->err, ATTEST_E_NOMEM, j->prefix, "tcbinfo.levels", "out of memory");
	for (i = 0; i < json_array_size(levels); i++) {
		rc = parse_level(j, ti, json_array_get(levels, i), &ti->levels[i]);
		ti->n_levels++;
		if (rc != ATTEST_OK)
			return rc;
	}
	qsort(ti->levels, ti->n_levels, sizeof(*ti->levels), level_cmp_desc);
	/* QVL keeps levels in a std::set: two equal levels are refused. */
	for (i = 1; i < ti->n_levels; i++)
		if (level_cmp_desc(&ti->levels[i - 1], &ti->levels[i]) == 0)
			return tcbj_err(j->err, ATTEST_E_PARSE, j->prefix, "tcbinfo.duplicate_level",
					"TCB Info lists the same TCB level twice");
	return ATTEST_OK;
}

int tcb_info_parse(const uint8_t *body, size_t len, struct tcb_info **out, const char *prefix,
		   struct attest_err *err)
{
	struct tcbj j = {prefix, "tcbinfo", "TCB Info", err};
	struct tcb_info *ti = calloc(1, sizeof(*ti));
	int rc;

	if (ti == NULL)
		return tcbj_err(err, ATTEST_E_NOMEM, prefix, "tcbinfo.parse", "out of memory");
	if ((rc = tcbj_envelope(body, len, "tcbInfo", prefix, "tcbinfo", "TCB Info", &ti->body,
				&ti->signed_off, &ti->signed_len, &ti->doc, ti->signature, err)) != ATTEST_OK)
		goto fail;
	ti->body_len = len;
	if (!json_is_object(ti->doc)) {
		rc = tcbj_err(err, ATTEST_E_PARSE, prefix, "tcbinfo.parse", "tcbInfo is not an object");
		goto fail;
	}
	if ((rc = parse_header_fields(&j, ti->doc, ti)) != ATTEST_OK ||
	    (ti->id == TCB_INFO_ID_TDX && (rc = parse_tdx_parts(&j, ti->doc, ti)) != ATTEST_OK) ||
	    (rc = parse_levels(&j, ti->doc, ti)) != ATTEST_OK)
		goto fail;
	*out = ti;
	return ATTEST_OK;
fail:
	tcb_info_free(ti);
	return rc;
}

int tcb_info_verify_signature(const struct tcb_info *ti, EVP_PKEY *signer, const char *prefix,
			      struct attest_err *err)
{
	char code[ATTEST_ERR_NAME_MAX];
	int rc;

	snprintf(code, sizeof(code), "%s.tcbinfo.signature", prefix);
	rc = ecdsa_verify_rs_be(signer, HASH_SHA256, ti->body + ti->signed_off, ti->signed_len, ti->signature,
				64, code, err);
	if (rc != ATTEST_OK)
		attest_err_prefix(err, "TCB Info signature by the TCB Signing key: ");
	return rc;
}

int tcb_info_check_time(const struct tcb_info *ti, int64_t now, const char *prefix, struct attest_err *err)
{
	return tcbj_check_window(ti->issue_date, ti->next_update, now, prefix, "tcbinfo", "TCB Info", err);
}
