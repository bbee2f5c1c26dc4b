/*
 * Explain mode (POLICY_EVAL_EXPLAIN) pinned byte for byte: every field of
 * the trace (rule, line, column, firings, bindings with their type, issuer
 * and value, the "why" text), the denial record, the one-line reason and
 * the final incoming set, for the reference policies, the default policies,
 * the benchmark's 30-rule policy and policies built to reach every
 * rendering path (escapes, long values cut at 72 bytes, objects, arrays,
 * reals, issuers, valueType, absence, computed right-hand sides, deny and
 * no-permit), compared with test_policy_explain.golden.
 *
 * The golden file was written by the evaluator as it was before explain was
 * made fast (issue 13), so a pass proves the faster code reports the same
 * texts. Also: the short value rendering equals the JSON text jansson writes
 * (cut to 72 bytes) for a large set of generated values.
 *
 * ATTEST_EXPLAIN_GOLDEN_WRITE=1 rewrites the golden file (only when a change
 * of the explain texts is intended); a mismatch writes the actual text to
 * test_policy_explain.actual in the working directory for diffing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>

#include "policy/policy_int.h"
#include "policy30.h"
#include "policy_testutil.h"
#include "reference_policies.h"

#ifndef EXPLAIN_GOLDEN
#error "test_policy_explain.cmake defines EXPLAIN_GOLDEN"
#endif

/* ---- A growable text ------------------------------------------------------- */

struct text {
	char *s;
	size_t n, cap;
};

static void put(struct text *t, const char *p, size_t n)
{
	if (t->n + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;

		while (cap < t->n + n + 1)
			cap *= 2;
		t->s = realloc(t->s, cap);
		assert_non_null(t->s);
		t->cap = cap;
	}
	memcpy(t->s + t->n, p, n);
	t->n += n;
	t->s[t->n] = '\0';
}

static void putf(struct text *t, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(buf));
	put(t, buf, (size_t)n);
}

/* A string as it is, bytes that would hide in a text file as \xNN; NULL as (null). */
static void put_str(struct text *t, const char *s)
{
	if (s == NULL) {
		put(t, "(null)", 6);
		return;
	}
	put(t, "<", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '\\' || *p == '>')
			putf(t, "\\x%02x", *p);
		else
			put(t, (const char *)p, 1);
	put(t, ">", 1);
}

/* A value as jansson's compact JSON, whole. */
static void put_json(struct text *t, const json_t *v)
{
	char *s;

	if (v == NULL) {
		put(t, "(no value)", 10);
		return;
	}
	s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	assert_non_null(s);
	put_str(t, s);
	free(s);
}

static void put_set(struct text *t, const char *name, const struct claim_set *s)
{
	if (s == NULL) {
		putf(t, "%s: (none)\n", name);
		return;
	}
	putf(t, "%s: %zu\n", name, claim_set_count(s));
	for (size_t i = 0; i < claim_set_count(s); i++) {
		const struct claim *c = claim_set_at(s, i);

		put(t, "  ", 2);
		put_str(t, c->type);
		put(t, " ", 1);
		put_str(t, c->issuer);
		put(t, " ", 1);
		put_json(t, c->value);
		put(t, "\n", 1);
	}
}

/* Everything a result reports, one field per line. */
static void put_result(struct text *t, const struct policy_result *r)
{
	char reason[2048];

	putf(t, "verdict: %s\n", policy_verdict_name(r->verdict));
	policy_result_reason(r, reason, sizeof(reason));
	put(t, "reason: ", 8);
	put_str(t, reason);
	put(t, "\n", 1);
	if (r->denial != NULL) {
		const struct policy_denial *d = r->denial;

		putf(t, "denial: %s %s rule %u line %u col %u\n", policy_verdict_name(d->verdict),
		     policy_section_name(d->section), d->rule, d->line, d->col);
		put(t, "  claim_type ", 13);
		put_str(t, d->claim_type);
		put(t, "\n  expected ", 12);
		put_str(t, d->expected);
		put(t, "\n  found ", 9);
		put_str(t, d->found);
		put(t, "\n", 1);
	}
	if (r->explain == NULL) {
		put(t, "explain: (none)\n", 16);
	} else {
		putf(t, "explain: %zu rules\n", r->explain->nrules);
		for (size_t i = 0; i < r->explain->nrules; i++) {
			const struct policy_rule_trace *rt = &r->explain->rules[i];

			putf(t, "  %s rule %u line %u col %u fired %u bindings %zu\n",
			     policy_section_name(rt->section), rt->index, rt->line, rt->col, rt->fired,
			     rt->nbindings);
			for (size_t j = 0; j < rt->nbindings; j++) {
				const struct policy_binding *b = &rt->bindings[j];

				put(t, "    bind ", 9);
				put_str(t, b->ident);
				put(t, " ", 1);
				put_str(t, b->type);
				put(t, " ", 1);
				put_str(t, b->issuer);
				put(t, " ", 1);
				put_json(t, b->value);
				put(t, "\n", 1);
			}
			if (rt->why != NULL) {
				put(t, "    why ", 8);
				put_str(t, rt->why);
				put(t, "\n", 1);
			}
		}
	}
	put_set(t, "outgoing", r->outgoing);
	put_set(t, "properties", r->properties);
	put_set(t, "final_incoming", r->final_incoming);
}

/* ---- The cases ------------------------------------------------------------- */

#define HEX80 "0123456789012345678901234567890123456789012345678901234567890123456789012345678901"

/* Incoming claims of the rendering cases: every kind of value, escapes, cuts at the 72-byte limit. */
static const char EDGE_CLAIMS[] =
    "["
    "{\"type\":\"s-esc\",\"value\":\"q\\\" b\\\\ n\\n t\\t r\\r f\\f b\\b c\\u0001 u\\u001f s/ d\\u007f "
    "\\u00e9 \\u20ac \\ud83d\\ude00 \\u2028\"},"
    "{\"type\":\"s-long\",\"value\":\"" HEX80 "\"},"
    "{\"type\":\"s-69\",\"value\":\"012345678901234567890123456789012345678901234567890123456789012345678\"},"
    "{\"type\":\"s-70\",\"value\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}"
    ","
    "{\"type\":\"s-71\",\"value\":"
    "\"01234567890123456789012345678901234567890123456789012345678901234567890\"},"
    "{\"type\":\"s-cut-escape\",\"value\":"
    "\"0123456789012345678901234567890123456789012345678901234567890123456"
    "\\n\\n\\n\\n\\n\"},"
    "{\"type\":\"s-cut-utf8\",\"value\":\"012345678901234567890123456789012345678901234567890123456789012345"
    "\\u20ac\\u20ac\\u20ac\"},"
    "{\"type\":\"s-nul\",\"value\":\"a\\u0000b\"},"
    "{\"type\":\"s-empty\",\"value\":\"\"},"
    "{\"type\":\"obj\",\"value\":{\"z\":1,\"a\":[1,2,{\"c\":null}],\"m\":\"x\\\"y\",\"e\":{},\"f\":[]}},"
    "{\"type\":\"obj-long\",\"value\":{\"k1\":\"" HEX80 "\",\"k2\":2}},"
    "{\"type\":\"arr\",\"value\":[true,false,null,-5,\"s\",1.25,[],{}]},"
    "{\"type\":\"arr-long\",\"value\":[\"" HEX80 "\"]},"
    "{\"type\":\"real\",\"value\":1.5},"
    "{\"type\":\"real-big\",\"value\":1e300},"
    "{\"type\":\"real-whole\",\"value\":100.0},"
    "{\"type\":\"real-small\",\"value\":-0.000001234},"
    "{\"type\":\"real-third\",\"value\":0.3333333333333333},"
    "{\"type\":\"int-min\",\"value\":-9223372036854775808},"
    "{\"type\":\"int-max\",\"value\":9223372036854775807},"
    "{\"type\":\"int-zero\",\"value\":0},"
    "{\"type\":\"bool\",\"value\":true},"
    "{\"type\":\"null\",\"value\":null},"
    "{\"type\":\"custom\",\"issuer\":\"Some\\\"one\\n\",\"value\":\"v\"},"
    "{\"type\":\"custom\",\"issuer\":\"CustomClaim\",\"value\":7},"
    "{\"type\":\"nested\",\"value\":{\"member\":3,\"deep\":{\"x\":\"" HEX80 "\"}}},"
    "{\"type\":\"json-text\",\"value\":\"{\\\"a\\\":[1,2,3]}\"},"
    "{\"type\":\"multi\",\"value\":1},{\"type\":\"multi\",\"value\":2},{\"type\":\"multi\",\"value\":3}"
    "]";

/* A permit() rule per claim of EDGE_CLAIMS that cannot match: each why renders the claim's value. */
static const char EDGE_VALUES[] =
    "version=1.2;\n"
    "authorizationrules {\n"
    "  [type==\"s-esc\", value==\"x\"] => permit();\n"
    "  [type==\"s-long\", value==\"" HEX80 "-\"] => permit();\n"
    "  [type==\"s-69\", value==1] => permit();\n"
    "  [type==\"s-70\", value==1] => permit();\n"
    "  [type==\"s-71\", value==1] => permit();\n"
    "  [type==\"s-cut-escape\", value==1] => permit();\n"
    "  [type==\"s-cut-utf8\", value==1] => permit();\n"
    "  [type==\"s-nul\", value==1] => permit();\n"
    "  [type==\"s-empty\", value==1] => permit();\n"
    "  [type==\"obj\", value==1] => permit();\n"
    "  [type==\"obj-long\", value==1] => permit();\n"
    "  [type==\"arr\", value==1] => permit();\n"
    "  [type==\"arr-long\", value==1] => permit();\n"
    "  [type==\"real\", value==1] => permit();\n"
    "  [type==\"real-big\", value==1] => permit();\n"
    "  [type==\"real-whole\", value==1] => permit();\n"
    "  [type==\"real-small\", value==1] => permit();\n"
    "  [type==\"real-third\", value==1] => permit();\n"
    "  [type==\"int-min\", value>0] => permit();\n"
    "  [type==\"int-max\", value<0] => permit();\n"
    "  [type==\"int-zero\", value!=0] => permit();\n"
    "  [type==\"bool\", value==false] => permit();\n"
    "  [type==\"null\", value==\"\"] => permit();\n"
    "  [type==\"custom\", issuer==\"AttestationService\"] => permit();\n"
    "  [type==\"custom\", issuer==\"Nobody\"] => permit();\n"
    "  [type==\"custom\", valueType==\"Boolean\"] => permit();\n"
    "  [type==\"nested.member\", value==4] => permit();\n"
    "  [type==\"nested.deep\", value==4] => permit();\n"
    "  [type==\"absent-claim\"] => permit();\n"
    "  [type==\"absent-claim\", value==\"\\\"quoted\\\"\"] => permit();\n"
    "  ![type==\"s-esc\"] => permit();\n"
    "  [type!=\"s-esc\", value==\"nothing has this\"] => permit();\n"
    "  [issuer==\"Nobody\"] => permit();\n"
    "  c:[type==\"multi\"] && [type==\"s-70\", value==c.value] => permit();\n"
    "  c:[type==\"s-69\"] && [type==\"s-empty\", value==AppendString(c.value, \"-x\")] => permit();\n"
    "  c:[type==\"json-text\"] && [type==\"int-zero\", value==JmesPath(c.value, \"a[1]\")] => permit();\n"
    "  c:[type==\"s-long\"] && [type==\"multi\", value>3] && [type==\"s-71\", value==c.value] => permit();\n"
    "};\n"
    "issuancerules { };\n";

/* Deny with several kinds of first conditions; the last rule permits. */
static const char EDGE_DENY[] =
    "version=1.2;\n"
    "authorizationrules {\n"
    "  [type==\"int-zero\", value==1] => deny();\n"
    "  [type==\"s-cut-utf8\"] && [type==\"bool\", value==true] => deny();\n"
    "  ![type==\"absent-claim\"] && [type==\"s-esc\", value!=\"\"] => deny();\n"
    "  c:[type==\"multi\", value>=2] => deny();\n"
    "  => permit();\n"
    "};\n"
    "issuancerules { c:[type==\"multi\"] => issue(type=\"m\", value=c.value); };\n";

/* Every action with bindings, several firings, additions seen by later rules, the dotted view. */
static const char EDGE_ISSUE[] =
    "version=1.2;\n"
    "configurationrules { => issueproperty(type=\"omit_x5c\", value=true); };\n"
    "authorizationrules { c:[type==\"multi\"] && d:[type==\"obj\"] => permit(); };\n"
    "issuancerules {\n"
    "  c:[type==\"multi\"] && d:[type==\"custom\", issuer==\"CustomClaim\"] => issue(type=\"pair\", "
    "value=c.value);\n"
    "  c:[type==\"multi\", value>=2] => add(type=\"big\", value=c.value);\n"
    "  c:[type==\"big\", issuer==\"AttestationPolicy\"] => issue(claim=c);\n"
    "  c:[type==\"nested.member\"] => issue(type=\"member\", value=c.value);\n"
    "  c:[type==\"s-esc\"] => issue(type=AppendString(\"t-\", c.type), value=c.value);\n"
    "  c:[type==\"obj\"] => issueproperty(type=\"seen-obj\", value=true);\n"
    "  c:[type==\"json-text\"] => issue(type=\"parsed\", value=JsonToClaimValue(JmesPath(c.value, \"a\")));\n"
    "  c:[type==\"int-max\"] => issue(type=\"as-string\", valueType=\"String\", value=c.value);\n"
    "  [type==\"absent-claim\"] => issue(type=\"never\", value=1);\n"
    "  ![type==\"absent-claim\"] => issue(type=\"always\", value=1);\n"
    "};\n";

/* No permit: the closest permit rule is named. */
static const char EDGE_NO_PERMIT[] =
    "version=1.2;\n"
    "authorizationrules {\n"
    "  [type==\"s-esc\", value==\"x\"] => permit();\n"
    "  [type==\"bool\", value==true] && [type==\"int-zero\", value==0] && [type==\"s-long\", value==\"y\"] "
    "=> permit();\n"
    "  [type==\"bool\", value==true] && [type==\"obj\", value==1] => permit();\n"
    "  [type==\"s-empty\", value==\"\"] => deny();\n"
    "};\n"
    "issuancerules { };\n";

static const char NO_PERMIT_RULE[] =
    "version=1.0; authorizationrules { [type==\"bool\", value==false] => deny(); }; issuancerules { };";

struct claims_spec {
	const char *json;     /* array of {type, issuer, value}, or NULL: */
	int svn;	      /* the SGX set of policy30.h with this svn, */
	bool debug;	      /* debug flag */
	const char *mrsigner; /* and signer */
};

struct ecase {
	const char *name;
	const char *policy;
	struct claims_spec claims;
};

#define SGX(svn, dbg, signer)                                                                                \
	{                                                                                                    \
		NULL, svn, dbg, signer                                                                       \
	}
#define TPM_CLAIMS                                                                                           \
	"[{\"type\":\"tpmVersion\",\"value\":2},{\"type\":\"aikValidated\",\"value\":true},"                 \
	"{\"type\":\"secureBootEnabled\",\"value\":true},{\"type\":\"bootDebuggingDisabled\",\"value\":"     \
	"true},"                                                                                             \
	"{\"type\":\"notSafeMode\",\"value\":false},{\"type\":\"pcrs\",\"value\":\"{\\\"PCRs\\\":[{"         \
	"\\\"Index\\\":7,"                                                                                   \
	"\\\"Digests\\\":{\\\"SHA256\\\":\\\"" REF_HEX64_PCR7 "\\\"}}]}\"},"                                 \
	"{\"type\":\"events\",\"value\":\"{\\\"Events\\\":[{\\\"EventSeq\\\":1,\\\"PcrIndex\\\":7,"          \
	"\\\"EventTypeString\\\":\\\"EV_EFI_VARIABLE_DRIVER_CONFIG\\\",\\\"ProcessedData\\\":{"              \
	"\\\"UnicodeName\\\":"                                                                               \
	"\\\"SecureBoot\\\",\\\"VariableData\\\":\\\"AQ\\\"}}]}\"}]"
#define VM_CLAIMS                                                                                            \
	"[{\"type\":\"x-ms-attestation-type\",\"value\":\"sevsnpvm\"},"                                      \
	"{\"type\":\"x-ms-compliance-status\",\"value\":\"azure-compliant-uvm\"},"                           \
	"{\"type\":\"x-ms-sevsnpvm-is-debuggable\",\"value\":false},"                                        \
	"{\"type\":\"x-ms-sevsnpvm-hostdata\",\"value\":\"" REF_HEX64_B "\"},"                               \
	"{\"type\":\"x-ms-sevsnpvm-launchmeasurement\",\"value\":\"" REF_HEX96_MRTD "\"},"                   \
	"{\"type\":\"secureboot\",\"value\":true},{\"type\":\"x-ms-azurevm-debuggersdisabled\",\"value\":"   \
	"true},"                                                                                             \
	"{\"type\":\"x-ms-azurevm-signingdisabled\",\"value\":false},{\"type\":\"tdx_td_attributes_debug\"," \
	"\"value\":false},"                                                                                  \
	"{\"type\":\"attester_tcb_status\",\"value\":\"OutOfDate\"},{\"type\":\"vsmReportPresent\","         \
	"\"value\":true},"                                                                                   \
	"{\"type\":\"enclaveAuthorId\",\"value\":\"" REF_B64URL_AUTHOR                                       \
	"\"},{\"type\":\"enclaveSvn\",\"value\":0}]"

static const struct ecase CASES[] = {
    {"policy30 permit (the benchmark)", POLICY30, SGX(3, false, REF_HEX64_A)},
    {"policy30 deny (debuggable)", POLICY30, SGX(3, true, REF_HEX64_A)},
    {"policy30 deny (signer B)", POLICY30, SGX(3, false, REF_HEX64_B)},
    {"policy30 no permit (svn 2)", POLICY30, SGX(2, false, REF_HEX64_A)},
    {"policy30 on no claims", POLICY30, {"[]", 0, false, NULL}},
    {"default SgxEnclave", NULL, SGX(3, false, REF_HEX64_A)},
    {"default Tpm", NULL, {TPM_CLAIMS, 0, false, NULL}},
    {"sgx_pin (product 1)", REF_SGX_PIN, SGX(3, false, REF_HEX64_A)},
    {"sgx_pin svn 2", REF_SGX_PIN, SGX(2, false, REF_HEX64_A)},
    {"sgx_rotation", REF_SGX_ROTATION, SGX(3, false, REF_HEX64_A)},
    {"sgx_rotation signer B", REF_SGX_ROTATION, SGX(3, false, REF_HEX64_B)},
    {"tpm_11", REF_TPM_11, {TPM_CLAIMS, 0, false, NULL}},
    {"tpm_12", REF_TPM_12, {TPM_CLAIMS, 0, false, NULL}},
    {"vbs", REF_VBS, {VM_CLAIMS, 0, false, NULL}},
    {"snp", REF_SNP, {VM_CLAIMS, 0, false, NULL}},
    {"azureguest", REF_AZUREGUEST, {VM_CLAIMS, 0, false, NULL}},
    {"tdx", REF_TDX, {VM_CLAIMS, 0, false, NULL}},
    {"docs_author", REF_DOCS_AUTHOR, {TPM_CLAIMS, 0, false, NULL}},
    {"edge values", EDGE_VALUES, {EDGE_CLAIMS, 0, false, NULL}},
    {"edge deny", EDGE_DENY, {EDGE_CLAIMS, 0, false, NULL}},
    {"edge issue", EDGE_ISSUE, {EDGE_CLAIMS, 0, false, NULL}},
    {"edge no permit", EDGE_NO_PERMIT, {EDGE_CLAIMS, 0, false, NULL}},
    {"no permit rule at all", NO_PERMIT_RULE, {EDGE_CLAIMS, 0, false, NULL}},
};

static struct claim_set *claims_of(const struct claims_spec *c)
{
	struct claim_set *s = NULL;
	struct attest_err err;
	json_t *doc;

	if (c->json == NULL)
		return policy30_sgx_claims(c->svn ? c->svn : 3, c->debug,
					   c->mrsigner ? c->mrsigner : REF_HEX64_A);
	doc = json_loads(c->json, JSON_ALLOW_NUL, NULL);
	assert_non_null(doc);
	attest_err_clear(&err);
	assert_int_equal(claim_set_from_json(doc, &s, &err), 0);
	json_decref(doc);
	return s;
}

/* The text of every case, with and without explain (the denial and the sets must not depend on it). */
static char *render_all(void)
{
	struct text t = {0};

	for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
		const struct ecase *c = &CASES[i];
		const char *text = c->policy ? c->policy : policy_default_text(strchr(c->name, ' ') + 1);
		struct claim_set *in = claims_of(&c->claims);
		struct policy_plan *p = compile_ok(text);

		assert_non_null(in);
		for (unsigned flags = POLICY_EVAL_EXPLAIN;; flags = 0) {
			struct policy_result *r = eval_ok(p, in, flags);

			putf(&t, "== %s%s ==\n", c->name, flags ? "" : " (explain off)");
			put_result(&t, r);
			policy_result_free(r);
			if (flags == 0)
				break;
		}
		policy_plan_free(p);
		claim_set_free(in);
	}
	return t.s;
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct text t = {0};
	char buf[8192];
	size_t n;

	if (f == NULL)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		put(&t, buf, n);
	fclose(f);
	*len = t.n;
	return t.s ? t.s : strdup("");
}

static void write_all(const char *path, const char *s)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(s, 1, strlen(s), f), strlen(s));
	assert_int_equal(fclose(f), 0);
}

static void explain_output_matches_the_golden_file_byte_for_byte(void **state)
{
	char *actual = render_all();
	const char *w = getenv("ATTEST_EXPLAIN_GOLDEN_WRITE");
	char *golden;
	size_t glen = 0, i = 0;

	(void)state;
	if (w != NULL && strcmp(w, "1") == 0) {
		write_all(EXPLAIN_GOLDEN, actual);
		fprintf(stderr, "wrote %s\n", EXPLAIN_GOLDEN);
	}
	golden = read_all(EXPLAIN_GOLDEN, &glen);
	assert_non_null(golden);
	if (glen != strlen(actual) || memcmp(golden, actual, glen) != 0) {
		unsigned line = 1;

		while (i < glen && actual[i] == golden[i])
			line += golden[i++] == '\n';
		write_all("test_policy_explain.actual", actual);
		fprintf(
		    stderr,
		    "explain output differs from %s at line %u (actual text in test_policy_explain.actual)\n",
		    EXPLAIN_GOLDEN, line);
	}
	assert_int_equal(glen, strlen(actual));
	assert_memory_equal(golden, actual, glen);
	free(golden);
	free(actual);
}

/*
 * The trace borrows claim types from the plan and binding values from the
 * final incoming set: a result must read the same after its plan and the
 * incoming claims are gone (ASan catches any dangling reference).
 */
static void explain_result_outlives_its_plan_and_incoming_claims(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
		const struct ecase *c = &CASES[i];
		const char *text = c->policy ? c->policy : policy_default_text(strchr(c->name, ' ') + 1);
		struct claim_set *in = claims_of(&c->claims);
		struct policy_plan *p = compile_ok(text);
		struct policy_result *r = eval_ok(p, in, POLICY_EVAL_EXPLAIN);
		struct text before = {0}, after = {0};

		put_result(&before, r);
		policy_plan_free(p);
		claim_set_free(in);
		put_result(&after, r);
		assert_string_equal(before.s, after.s);
		policy_result_free(r);
		free(before.s);
		free(after.s);
	}
}

/* ---- The plan's cache of constant test texts --------------------------------- */

struct shared_cases {
	struct policy_plan *plans[sizeof(CASES) / sizeof(CASES[0])];
	struct claim_set *ins[sizeof(CASES) / sizeof(CASES[0])];
	char *want[sizeof(CASES) / sizeof(CASES[0])]; /* each case's text from a fresh plan */
	unsigned rounds;
	int bad;
};

static char *render_case(struct policy_plan *p, const struct claim_set *in)
{
	struct policy_result *r = NULL;
	struct attest_err err;
	struct text t = {0};

	attest_err_clear(&err);
	if (policy_eval(p, in, POLICY_EVAL_EXPLAIN, &r, &err) != ATTEST_OK)
		return NULL;
	put_result(&t, r);
	policy_result_free(r);
	return t.s;
}

static void shared_setup(struct shared_cases *sc, unsigned rounds)
{
	memset(sc, 0, sizeof(*sc));
	sc->rounds = rounds;
	for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
		const struct ecase *c = &CASES[i];
		struct policy_plan *fresh;

		sc->plans[i] =
		    compile_ok(c->policy ? c->policy : policy_default_text(strchr(c->name, ' ') + 1));
		sc->ins[i] = claims_of(&c->claims);
		fresh = compile_ok(c->policy ? c->policy : policy_default_text(strchr(c->name, ' ') + 1));
		sc->want[i] = render_case(fresh, sc->ins[i]);
		assert_non_null(sc->want[i]);
		policy_plan_free(fresh);
	}
}

static void shared_teardown(struct shared_cases *sc)
{
	for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
		policy_plan_free(sc->plans[i]);
		claim_set_free(sc->ins[i]);
		free(sc->want[i]);
	}
}

/* Evaluates every case on its shared plan `rounds` times; counts texts that differ from a fresh plan's. */
static void *shared_worker(void *arg)
{
	struct shared_cases *sc = arg;

	for (unsigned k = 0; k < sc->rounds; k++)
		for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
			char *got = render_case(sc->plans[i], sc->ins[i]);

			if (got == NULL || strcmp(got, sc->want[i]) != 0)
				__atomic_add_fetch(&sc->bad, 1, __ATOMIC_RELAXED);
			free(got);
		}
	return NULL;
}

/* A plan's cached texts (filled by its first explained evaluation) read the same as freshly rendered ones. */
static void explain_from_a_plan_used_before_reads_the_same(void **state)
{
	struct shared_cases sc;

	(void)state;
	shared_setup(&sc, 3);
	shared_worker(&sc);
	assert_int_equal(sc.bad, 0);
	shared_teardown(&sc);
}

/* Evaluations sharing plans fill the cache concurrently: every result still reads as from a fresh plan. */
static void explain_on_shared_plans_from_several_threads_reads_the_same(void **state)
{
	struct shared_cases sc;
	pthread_t th[4];

	(void)state;
	shared_setup(&sc, getenv("ATTEST_SANITIZER_RUN") ? 5 : 20);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, shared_worker, &sc), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_int_equal(sc.bad, 0);
	shared_teardown(&sc);
}

/* The golden text must cover what it claims to: a why per rendering path, a denial of each kind. */
static void golden_cases_reach_every_explain_path(void **state)
{
	char *all = render_all();
	static const char *const NEEDLES[] = {
	    "expected present, found absent>",
	    "expected absent, found ",
	    "(any type) expected ",
	    "found AttestationService>",
	    "expected valueType == \"Boolean\"",
	    "expected issuer == \"Nobody\"",
	    "...",
	    "\\x5cu0000",
	    "denial: deny authorizationrules",
	    "denial: no permit authorizationrules",
	    "denial: no permit authorizationrules rule 0",
	    "bind <d> <custom> <CustomClaim> <7>",
	    "fired 3 bindings 2",
	    "<t-s-esc>",
	    "found 1.5>",
	};

	unsigned missing = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(NEEDLES) / sizeof(NEEDLES[0]); i++)
		if (strstr(all, NEEDLES[i]) == NULL) {
			fprintf(stderr, "no case reaches: %s\n", NEEDLES[i]);
			missing++;
		}
	free(all);
	assert_int_equal(missing, 0);
}

/* ---- The short value rendering ------------------------------------------------- */

/* What pol_value_brief has always meant: jansson's compact JSON text, cut to 69 bytes and "..." past 72. */
static char *brief_reference(const json_t *v)
{
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

	assert_non_null(s);
	if (strlen(s) > 72)
		memcpy(s + 69, "...", 4);
	return s;
}

static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* A random valid UTF-8 string: ASCII, controls, quotes, backslashes, 2-, 3- and 4-byte characters, NUL. */
static json_t *rand_string(uint64_t *x)
{
	static const char *const PIECES[] = {"a",
					     "Z",
					     "0",
					     " ",
					     "\"",
					     "\\",
					     "/",
					     "\n",
					     "\t",
					     "\r",
					     "\b",
					     "\f",
					     "\x01",
					     "\x1f",
					     "\x7f",
					     "\xc3\xa9",
					     "\xe2\x82\xac",
					     "\xf0\x9f\x98\x80",
					     "\xe2\x80\xa8",
					     "abcdefghij",
					     "0123456789abcdef"};
	char buf[256];
	size_t n = 0, want = rng_next(x) % 100;

	while (n < want) {
		size_t k = rng_next(x) % (sizeof(PIECES) / sizeof(PIECES[0]) + 1);

		if (k == sizeof(PIECES) / sizeof(PIECES[0])) {
			buf[n++] = '\0';
			continue;
		}
		if (n + strlen(PIECES[k]) > sizeof(buf))
			break;
		memcpy(buf + n, PIECES[k], strlen(PIECES[k]));
		n += strlen(PIECES[k]);
	}
	return json_stringn(buf, n);
}

static json_t *rand_value(uint64_t *x, int depth)
{
	static const double REALS[] = {0.0,	-0.0, 1.5,     100.0,	      1e300,
				       -1e-300, 0.1,  1.0 / 3, 123456789.125, 5e-324};
	unsigned k = (unsigned)(rng_next(x) % (depth > 3 ? 6 : 8));

	switch (k) {
	case 0:
		return json_true();
	case 1:
		return json_false();
	case 2:
		return json_null();
	case 3: {
		static const json_int_t INTS[] = {0, 1, -1, 9, 10, -10, 4294967296LL, INT64_MAX, INT64_MIN};
		uint64_t r = rng_next(x);

		return json_integer(r % 2 ? INTS[r / 2 % 9] : (json_int_t)(r >> 1) * (r % 4 ? 1 : -1));
	}
	case 4:
		return json_real(REALS[rng_next(x) % 10]);
	case 5:
		return rand_string(x);
	case 6: {
		json_t *a = json_array();
		unsigned n = (unsigned)(rng_next(x) % 5);

		for (unsigned i = 0; i < n; i++)
			json_array_append_new(a, rand_value(x, depth + 1));
		return a;
	}
	default: {
		json_t *o = json_object();
		unsigned n = (unsigned)(rng_next(x) % 5);

		for (unsigned i = 0; i < n; i++) {
			json_t *key = rand_string(x);

			/* keys are NUL-terminated C strings in json_object_set: cut at the first NUL */
			json_object_set_new(o, json_string_value(key), rand_value(x, depth + 1));
			json_decref(key);
		}
		return o;
	}
	}
}

static void value_brief_equals_jansson_text_cut_at_72_bytes(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned n = getenv("ATTEST_SANITIZER_RUN") ? 4000 : 20000;

	(void)state;
	for (unsigned i = 0; i < n; i++) {
		json_t *v = rand_value(&x, 0);
		char *want = brief_reference(v), *got = pol_value_brief(v);

		assert_non_null(got);
		if (strcmp(want, got) != 0)
			fprintf(stderr, "value %u: expected %s, got %s\n", i, want, got);
		assert_string_equal(want, got);
		free(want);
		free(got);
		json_decref(v);
	}
}

/*
 * Strings that are not UTF-8 (only jansson's *_nocheck calls make them):
 * json_dumps refuses them and so does the short rendering, even past its
 * 72 bytes; a container is not looked at past them (brief.c says so).
 */
static void value_brief_refuses_strings_that_are_not_utf8(void **state)
{
	static const char *const BAD[] = {"\xff", "a\xc3",    "\xed\xa0\x80", "\xc0\x80", "\xf4\x90\x80\x80",
					  "\x80", "\xe2\x82", "\xf0\x9f\x98"};
	char tail[120];

	(void)state;
	for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
		json_t *v = json_stringn_nocheck(BAD[i], strlen(BAD[i]));
		char *ref = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

		assert_null(ref);
		assert_null(pol_value_brief(v));
		json_decref(v);
	}
	/* Past the cut of a string: still refused, as json_dumps refuses it. */
	memset(tail, 'a', 100);
	memcpy(tail + 100, "\xff", 2);
	{
		json_t *v = json_stringn_nocheck(tail, 101);
		json_t *arr = json_pack("[s, O]", HEX80, v);

		assert_null(json_dumps(v, JSON_ENCODE_ANY));
		assert_null(pol_value_brief(v));
		/* Inside an array past the 73rd byte it is not looked at: the text is the first 69 bytes and
		 * "...". */
		assert_null(json_dumps(arr, JSON_ENCODE_ANY | JSON_COMPACT));
		{
			char *got = pol_value_brief(arr);

			assert_non_null(got);
			assert_string_equal(
			    got, "[\""
				 "0123456789012345678901234567890123456789012345678901234567890123456...");
			free(got);
		}
		json_decref(arr);
		json_decref(v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(explain_output_matches_the_golden_file_byte_for_byte),
	    cmocka_unit_test(golden_cases_reach_every_explain_path),
	    cmocka_unit_test(explain_result_outlives_its_plan_and_incoming_claims),
	    cmocka_unit_test(explain_from_a_plan_used_before_reads_the_same),
	    cmocka_unit_test(explain_on_shared_plans_from_several_threads_reads_the_same),
	    cmocka_unit_test(value_brief_equals_jansson_text_cut_at_72_bytes),
	    cmocka_unit_test(value_brief_refuses_strings_that_are_not_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
