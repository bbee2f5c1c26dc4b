/*
 * Which TCB component keeps a platform from the newest UpToDate level of a
 * TCB Info (tcb.h, tcb_behind_compute): what an early TCB Info warning
 * names (issue 12). The comparison is the one of the level match (formats.md
 * §3.5 steps 2-3, QVL checkTcbLevel): component by component, PCESVN, and
 * for TDX the TEE_TCB_SVN with the module's bytes judged by its identity.
 */
#include "evidence/pck.h"
#include "evidence/tdx.h"

#include <jansson.h>
#include <string.h>

const char *tcb_component_kind_str(enum tcb_component_kind k)
{
	switch (k) {
	case TCB_COMPONENT_SGX:
		return "sgx";
	case TCB_COMPONENT_PCE:
		return "pcesvn";
	case TCB_COMPONENT_TDX:
		return "tdx";
	case TCB_COMPONENT_TDX_MODULE:
		return "tdx_module";
	}
	return "unknown";
}

/* The newest UpToDate level (TDX: one with TDX components), else the newest level. */
static const struct tcb_level *target_level(const struct tcb_info *ti, bool tdx)
{
	for (size_t i = 0; i < ti->n_levels; i++)
		if (ti->levels[i].status == TCB_UP_TO_DATE && (!tdx || ti->levels[i].has_tdx))
			return &ti->levels[i];
	return ti->n_levels > 0 ? &ti->levels[0] : NULL;
}

/*
 * Intel describes each component once per level ({"svn", "category",
 * "type"}, TCB Info v3); the description is the same in every level, so
 * the first level that carries one names it. v2 has none.
 */
static void component_names(const struct tcb_info *ti, const char *key, int index, const char **category,
			    const char **type)
{
	const json_t *levels = ti->doc ? json_object_get(ti->doc, "tcbLevels") : NULL;
	size_t i;

	*category = *type = NULL;
	for (i = 0; i < json_array_size(levels) && *category == NULL && *type == NULL; i++) {
		const json_t *comps = json_object_get(json_object_get(json_array_get(levels, i), "tcb"), key);
		const json_t *c = json_array_get(comps, (size_t)index);

		*category = json_string_value(json_object_get(c, "category"));
		*type = json_string_value(json_object_get(c, "type"));
	}
}

static void push(struct tcb_behind *b, const struct tcb_info *ti, enum tcb_component_kind kind, int index,
		 unsigned have, unsigned need)
{
	struct tcb_behind_item *it;

	if (have >= need || b->n >= TCB_BEHIND_MAX)
		return;
	it = &b->items[b->n++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->index = index;
	it->have = have;
	it->need = need;
	if (kind == TCB_COMPONENT_SGX || kind == TCB_COMPONENT_TDX)
		component_names(ti, kind == TCB_COMPONENT_SGX ? "sgxtcbcomponents" : "tdxtcbcomponents",
				index, &it->category, &it->type);
}

/* The isvsvn of the highest UpToDate level of the module identity (levels are sorted highest first). */
static bool module_need(const struct tdx_module_identity *id, unsigned *need)
{
	for (size_t i = 0; id != NULL && i < id->n_levels; i++)
		if (id->levels[i].status == TCB_UP_TO_DATE) {
			*need = id->levels[i].isvsvn;
			return true;
		}
	return false;
}

void tcb_behind_compute(const struct tcb_info *ti, const struct pck_ext *pck, const struct tcb_tdx_input *tdx,
			struct tcb_behind *out)
{
	const struct tcb_level *l;
	int first_tdx = 0, i;
	unsigned need;

	memset(out, 0, sizeof(*out));
	if (ti == NULL || pck == NULL || (l = target_level(ti, tdx != NULL)) == NULL)
		return;
	out->target = l;
	for (i = 0; i < PCK_TCB_COMPONENTS; i++)
		push(out, ti, TCB_COMPONENT_SGX, i, pck->comp_svn[i], l->sgx[i]);
	push(out, ti, TCB_COMPONENT_PCE, -1, pck->pcesvn, l->pcesvn);
	if (tdx == NULL || !l->has_tdx)
		return;
	/* A module major version > 0: bytes 0-1 are the module's, judged by its identity (§3.5 step 4). */
	if (tdx->quote_version > 3 && tdx->tee_tcb_svn[1] > 0) {
		first_tdx = 2;
		if (module_need(tdx_tcb_module_identity(ti, tdx->tee_tcb_svn[1]), &need))
			push(out, ti, TCB_COMPONENT_TDX_MODULE, 0, tdx->tee_tcb_svn[0], need);
	}
	for (i = first_tdx; i < 16; i++)
		push(out, ti, TCB_COMPONENT_TDX, i, tdx->tee_tcb_svn[i], l->tdx[i]);
}
