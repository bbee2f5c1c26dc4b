#ifndef ATTEST_POLICY_JMESPATH_H
#define ATTEST_POLICY_JMESPATH_H

/*
 * JMESPath (https://jmespath.org/specification.html) over jansson values,
 * as the policy language's JmesPath() function needs it: identifiers, sub-
 * expressions, index and slice, list/object/flatten projections, filters,
 * pipes, multi-select lists and hashes, literals, raw strings, comparisons,
 * &&, ||, !, the built-in functions of the specification, and the
 * equals_ignore_case(a, b) extension used by Microsoft's TPM samples.
 *
 * Error names: jmespath.syntax (where = "query column N"),
 * jmespath.too_deep, jmespath.function (unknown function, wrong arity),
 * jmespath.type (invalid-type at run time), jmespath.too_large.
 */

#include "attest/error.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Bounds: query length and nesting, and the size of results built. */
#define JMES_MAX_QUERY 4096
#define JMES_MAX_DEPTH 64
#define JMES_MAX_RESULT_ITEMS 100000

struct jmes_expr;

/* Compiles a query; *out is owned by the caller (jmes_free). */
int jmes_compile(const char *query, size_t len, struct jmes_expr **out, struct attest_err *err);
void jmes_free(struct jmes_expr *e);

/*
 * Evaluates e on data (not modified). *out is a new reference (JSON null
 * when nothing matched). Safe to call concurrently on the same e.
 */
int jmes_search(const struct jmes_expr *e, json_t *data, json_t **out, struct attest_err *err);

/*
 * Whether v, written out as a tree, has at most max_nodes values. Results
 * share sub-values by reference, so a short query (`[@,@] | [@,@] | ...`)
 * can build a value whose text is exponentially long: check before
 * serialising or deep-comparing one. Cost is bounded by max_nodes.
 */
bool jmes_value_within(const json_t *v, size_t max_nodes);

#endif
