/*
 * The PCCS read routes' parsers (server/routes_pccs.h) on arbitrary
 * requests and items: the query parsers of every route (fmspc, update /
 * tcbEvaluationDataNumber, ca / encoding, the PCK certificate query, the
 * KDS VCEK path and SPLs), and the check of what a served document names.
 * Input: "<product>/<hwid>" '\n' "<k=v&k=v...>" '\n' <document bytes>.
 */
#include "server/routes_pccs.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 16

struct args {
	size_t n;
	char *key[MAX_ARGS], *val[MAX_ARGS];
};

static const char *get(void *ctx, const char *name)
{
	struct args *a = ctx;

	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->key[i], name) == 0)
			return a->val[i];
	return NULL;
}

/* Splits "k=v&k=v" in place (a key without '=' has the value ""). */
static void split(char *s, struct args *a)
{
	for (char *tok = strtok(s, "&"); tok != NULL && a->n < MAX_ARGS; tok = strtok(NULL, "&")) {
		char *eq = strchr(tok, '=');

		a->key[a->n] = tok;
		a->val[a->n] = eq ? eq + 1 : tok + strlen(tok);
		if (eq)
			*eq = '\0';
		a->n++;
	}
}

static void must(bool cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *query, *doc = NULL, *hwid, why[256];
	struct args a = {0};
	struct pccs_query q = {get, &a};
	struct collateral_select sel;
	struct pccs_pck_params pck;
	enum collateral_pck_ca ca;
	uint8_t fmspc[6], chip_id[64];
	uint64_t tcb;
	bool der;
	int status;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	query = strchr(text, '\n');
	if (query != NULL) {
		*query++ = '\0';
		doc = strchr(query, '\n');
		if (doc != NULL)
			*doc++ = '\0';
		split(query, &a);
	}
	hwid = strchr(text, '/');
	if (hwid != NULL)
		*hwid++ = '\0';
	/* every failure says why, NUL-terminated, with a stable code */
	if (!pccs_parse_fmspc(&q, fmspc, why, sizeof(why)))
		must(strstr(why, "(pccs.") != NULL);
	if (pccs_parse_select(&q, &sel, why, sizeof(why)))
		must(sel.eval_num == 0 || get(&a, "update") == NULL);
	else
		must(strlen(why) < sizeof(why) && strstr(why, "(pccs.") != NULL);
	if (pccs_parse_pckcrl(&q, &ca, &der, why, sizeof(why)))
		must(ca == COLLATERAL_CA_PROCESSOR || ca == COLLATERAL_CA_PLATFORM);
	if (pccs_parse_pckcert(&q, &pck, why, sizeof(why)))
		must(pck.ppid_len == 256 || pck.ppid_len == 384);
	if (!pccs_parse_vcek(text, hwid, &q, chip_id, &tcb, &status, why, sizeof(why)))
		must(status == 400 || status == 404);
	if (doc != NULL) {
		size_t n = size - (size_t)(doc - text);

		(void)pccs_item_matches((const uint8_t *)doc, n, "tcbInfo",
					get(&a, "fmspc") ? get(&a, "fmspc") : "", "SGX");
		(void)pccs_item_matches((const uint8_t *)doc, n, "enclaveIdentity", NULL, "QE");
	}
	free(text);
	return 0;
}
