#ifndef ATTEST_POLICY_TESTUTIL_H
#define ATTEST_POLICY_TESTUTIL_H

/* Helpers shared by the policy tests. Include after cmocka. */

#include "claims/claims.h"
#include "policy/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A realistic SGX incoming claim set (names as maa-interface.md §2.3). */
static inline struct claim_set *sgx_claims(int svn, bool debug, const char *mrsigner)
{
	struct claim_set *s = claim_set_new();

	assert_non_null(s);
	assert_int_equal(claim_set_add_bool(s, "x-ms-sgx-is-debuggable", debug), 0);
	assert_int_equal(claim_set_add_str(s, "x-ms-sgx-mrenclave",
					   "b779202618becb636768e5d902f28d524222735fafb539ea9ba07c3fc171a1c2"), 0);
	assert_int_equal(claim_set_add_str(s, "x-ms-sgx-mrsigner", mrsigner), 0);
	assert_int_equal(claim_set_add_int(s, "x-ms-sgx-product-id", 7), 0);
	assert_int_equal(claim_set_add_int(s, "x-ms-sgx-svn", svn), 0);
	assert_int_equal(claim_set_add_str(s, "x-ms-attestation-type", "sgx"), 0);
	assert_int_equal(claim_set_add_str(s, "x-ms-ver", "1.0"), 0);
	assert_int_equal(claim_set_add_str(s, "x-ms-sgx-report-data",
					   "cfd0d2b5ee52b87e9d5bd6a1d5e6dfa9b13c3dd6d5c2ba1dcf2bdd56ca1c2f0b"
					   "00000000000000000000000000000000000000000000000000000000000000000"), 0);
	assert_int_equal(claim_set_add_str(s, "x-ms-sgx-ehd", "eyJrdHkiOiJFQyJ9"), 0);
	assert_int_equal(claim_set_add(s, "x-ms-sgx-collateral",
				       json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "qeidcertshash", "a64d", "qeidcrlhash",
						 "0597", "qeidhash", "7701", "quotehash", "af0e", "tcbinfocertshash",
						 "a64d", "tcbinfocrlhash", "0597", "tcbinfohash", "82d1")), 0);
	assert_int_equal(claim_set_add_int(s, "x-ms-sgx-config-svn", 0), 0);
	assert_int_equal(claim_set_add_str(s, "x-ms-sgx-config-id", "00"), 0);
	assert_int_equal(claim_set_add_str(s, "x-ms-sgx-isv-extended-product-id", "00000000000000000000000000000000"), 0);
	assert_int_equal(claim_set_add_str(s, "x-ms-sgx-isv-family-id", "00000000000000000000000000000000"), 0);
	assert_int_equal(claim_set_add_str(s, "x-ms-sgx-tcb-status", "UpToDate"), 0);
	assert_int_equal(claim_set_add_str(s, "x-ms-policy-hash", "ViVGS4BYl70X8eUrgryHg0TtbEk9WtIc6DtTBEFxaWc"), 0);
	assert_int_equal(claim_set_add_str(s, "iss", "https://sharedwus.wus.attest.azure.net"), 0);
	assert_int_equal(claim_set_add_int(s, "iat", 1643413476), 0);
	assert_int_equal(claim_set_add_int(s, "nbf", 1643413476), 0);
	assert_int_equal(claim_set_add_int(s, "exp", 1643442276), 0);
	assert_int_equal(claim_set_add_str(s, "jti", "b1153d169507f4c2a2b0c4ddb4021a5a5e29ae664b129c7a35361b0196f0f8ab"), 0);
	assert_int_equal(claim_set_add_str(s, "nonce", "1234"), 0);
	assert_int_equal(claim_set_add(s, "x-ms-runtime", json_pack("{s:[{s:s,s:s}]}", "keys", "kty", "EC", "kid", "k1")), 0);
	assert_int_equal(claim_set_add_str(s, "x-ms-sgx-qe-tcb-status", "UpToDate"), 0);
	assert_int_equal(claim_set_add_str(s, "x-ms-sgx-pck-fmspc", "00906ed50000"), 0);
	return s;
}

#define MRSIGNER_A "2c1a44952ae8207135c6c29b75b8c029372ee94b677e15c20bd42340f10d41aa"
#define MRSIGNER_B "0000000000000000000000000000000000000000000000000000000000000000"

static inline struct policy_plan *compile_ok(const char *text)
{
	struct attest_err err;
	struct policy_plan *p = NULL;
	int rc;

	attest_err_clear(&err);
	rc = policy_compile(text, strlen(text), NULL, &p, &err);
	if (rc != 0)
		fprintf(stderr, "unexpected compile error %s: %s at %s\n", err.name, err.msg, err.where);
	assert_int_equal(rc, 0);
	return p;
}

/* Compiling text fails with this error name at this line and column (0 = not checked). */
static inline void compile_fails(const char *text, const char *name, unsigned line, unsigned col)
{
	struct attest_err err;
	struct policy_plan *p = NULL;
	char where[64];

	attest_err_clear(&err);
	assert_int_not_equal(policy_compile(text, strlen(text), NULL, &p, &err), 0);
	assert_null(p);
	if (strcmp(err.name, name) != 0)
		fprintf(stderr, "expected %s, got %s: %s at %s\n", name, err.name, err.msg, err.where);
	assert_string_equal(err.name, name);
	if (line) {
		snprintf(where, sizeof(where), "line %u column %u", line, col);
		if (strcmp(err.where, where) != 0)
			fprintf(stderr, "error %s: %s at %s (expected %s)\n", err.name, err.msg, err.where, where);
		assert_string_equal(err.where, where);
	}
}

static inline struct policy_result *eval_ok(const struct policy_plan *p, const struct claim_set *in, unsigned flags)
{
	struct attest_err err;
	struct policy_result *r = NULL;
	int rc;

	attest_err_clear(&err);
	rc = policy_eval(p, in, flags, &r, &err);
	if (rc != 0)
		fprintf(stderr, "unexpected eval error %s: %s at %s\n", err.name, err.msg, err.where);
	assert_int_equal(rc, 0);
	return r;
}

/* Compiles text, evaluates it on in, frees the plan. */
static inline struct policy_result *run(const char *text, const struct claim_set *in, unsigned flags)
{
	struct policy_plan *p = compile_ok(text);
	struct policy_result *r = eval_ok(p, in, flags);

	policy_plan_free(p);
	return r;
}

static inline char *reason(const struct policy_result *r)
{
	static char buf[512];

	policy_result_reason(r, buf, sizeof(buf));
	return buf;
}

/* The outgoing set as compact JSON text (static buffer). */
static inline const char *set_json(const struct claim_set *s)
{
	static char buf[4096];
	json_t *o = claim_set_to_json(s);
	char *t = json_dumps(o, JSON_COMPACT);

	snprintf(buf, sizeof(buf), "%s", t ? t : "(null)");
	free(t);
	json_decref(o);
	return buf;
}

#endif
