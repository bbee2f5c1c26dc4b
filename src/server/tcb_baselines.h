#ifndef ATTEST_SERVER_TCB_BASELINES_H
#define ATTEST_SERVER_TCB_BASELINES_H

/*
 * The SGX TCB baselines this service offers (maa-interface.md §1.7, §3.5;
 * docs/tcb-baselines.md): the one table behind GET /tcbbaselines and
 * behind the baseline the attest pipeline enforces, so the two never
 * disagree. No dependencies beyond base: the pipeline and the routes use it.
 */

#include "attest/error.h"

#include <stddef.h>
#include <stdint.h>

struct tcb_baseline {
	const char *id;	     /* tcbIdentifier */
	uint32_t eval_num;   /* Intel's tcbEvaluationDataNumber */
	const char *release; /* tcbReleaseDate, RFC 3339 */
	const char *psw_linux;
	const char *psw_windows;
};

/* The baselines, oldest first; *n gets their count. Static storage. */
const struct tcb_baseline *tcb_baselines(size_t *n);

/* "azuredefault" (the property's default, also for NULL) stands for this identifier. */
#define TCB_BASELINE_AZURE_DEFAULT "10"

/*
 * The baseline a value of x-ms-sgx-tcbidentifier selects. An identifier
 * the table does not list is refused (policy.config.tcbidentifier,
 * ATTEST_E_POLICY): verification never enforces a baseline the endpoint
 * does not show, and never silently enforces none.
 */
int tcb_baseline_lookup(const char *identifier, const struct tcb_baseline **out, struct attest_err *err);

#endif
