/* attestctl verify: evidence verified entirely offline with libattest. */
#include "cli/cli.h"

#include "attest/attest.h"
#include "claims/claims.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * attestctl is a client of libattest's public interface like any relying
 * party: evidence goes through attest_verify_evidence, and the claims come
 * back as the public JSON form.
 */
int cli_verify_evidence(const struct cli *cli, const struct cli_verify_opts *o, struct claim_set **out,
			struct attest_err *err)
{
	struct attest_verifier_opts vo = {
		.collateral_dir = o->collateral_dir, .now = o->at, .extra_roots_pem = o->trust_roots};
	struct attest_verifier *v = NULL;
	unsigned char *ev = NULL, *rt = NULL;
	size_t evlen = 0, rtlen = 0;
	char *claims = NULL;
	int rc;

	(void)cli;
	vo.flags = (o->no_revocation ? ATTEST_VERIFY_NO_REVOCATION : 0) |
		   (o->no_collateral ? ATTEST_VERIFY_NO_COLLATERAL : 0);
	if (cli_read_file(o->evidence_file, &ev, &evlen) != CLI_OK)
		return attest_err_set(err, ATTEST_E_IO, "cli.read", "cannot read evidence file %s", o->evidence_file);
	if (o->runtime_data_file && cli_read_file(o->runtime_data_file, &rt, &rtlen) != CLI_OK) {
		rc = attest_err_set(err, ATTEST_E_IO, "cli.read", "cannot read %s", o->runtime_data_file);
		goto out;
	}
	if ((rc = attest_verifier_new(&vo, &v, err)) != ATTEST_OK)
		goto out;
	rc = attest_verify_evidence(v, o->type, ev, evlen, rt, rtlen, &claims, err);
	if (rc == ATTEST_OK)
		rc = cli_claims_from_json(claims, out, err);
out:
	attest_free(claims);
	attest_verifier_free(v);
	free(ev);
	free(rt);
	return rc;
}

/* The claims that summarise a verdict, printed after the table. */
static void print_summary(const struct cli *cli, const struct claim_set *set)
{
	static const char *const keys[] = {"x-ms-sgx-tcb-status", "attester_tcb_status", "x-ms-attestation-type",
					   "x-ms-sevsnpvm-is-debuggable", "tcb_status"};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const json_t *v = claim_set_get(set, keys[i]);

		if (json_is_string(v))
			cli_status(cli, true, "%s: %s", keys[i], json_string_value(v));
	}
}

static int cmd_verify(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"collateral", required_argument, NULL, 'c'}, {"at", required_argument, NULL, 'a'},
		{"policy", required_argument, NULL, 'p'},     {"no-collateral", no_argument, NULL, 'N'},
		{"no-revocation", no_argument, NULL, 'R'},    {"runtime-data", required_argument, NULL, 'r'},
		{"nonce", required_argument, NULL, 'n'},      {"trust-roots", required_argument, NULL, 't'},
		{"receipt", required_argument, NULL, 'E'},    {"jwks", required_argument, NULL, 'J'},
		{"allow-dev-roots", no_argument, NULL, 'D'},  {"no-signature-check", no_argument, NULL, 'S'},
		{NULL, 0, NULL, 0},
	};
	struct cli_verify_opts o = {0};
	struct claim_set *claims = NULL;
	struct attest_err err;
	const char *policy = NULL;
	struct cli_receipt_opts ro = {0};
	json_t *view;
	int ch;

	optind = 0; /* GNU getopt: 0 also resets its internal state for a new argv */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': o.collateral_dir = optarg; break;
		case 'p': policy = optarg; break;
		case 'N': o.no_collateral = true; break;
		case 'R': o.no_revocation = true; break;
		case 'r': o.runtime_data_file = optarg; break;
		case 'n': o.nonce = optarg; break;
		case 't': o.trust_roots = optarg; break;
		case 'E': ro.path = optarg; break;
		case 'J': ro.jwks_file = optarg; break;
		case 'D': ro.allow_dev_roots = true; break;
		case 'S': ro.no_signature_check = true; break;
		case 'a':
			if (cli_parse_time(optarg, &o.at) != CLI_OK) {
				cli_error(cli, "--at takes Unix seconds or an RFC 3339 time, not '%s'", optarg);
				return CLI_USAGE;
			}
			break;
		default: return CLI_USAGE;
		}
	}
	/* A receipt carries its own evidence, collateral, policy and time: nothing else may be mixed in. */
	if (ro.path != NULL && (argc != optind || o.collateral_dir || policy || o.no_collateral || o.no_revocation ||
				o.runtime_data_file || o.nonce || o.trust_roots || o.at)) {
		cli_error(cli, "verify --receipt FILE takes only --jwks FILE, --no-signature-check and "
			       "--allow-dev-roots (the receipt holds the evidence, collateral, policy and time)");
		return CLI_USAGE;
	}
	if (ro.path == NULL && (ro.jwks_file || ro.allow_dev_roots || ro.no_signature_check)) {
		cli_error(cli, "--jwks, --allow-dev-roots and --no-signature-check go with --receipt FILE");
		return CLI_USAGE;
	}
	if (ro.path != NULL) {
		/* Scripts read the exit code: an unchecked signature is asked for, never a default. */
		if ((ro.jwks_file == NULL) == !ro.no_signature_check) {
			cli_error(cli, "verify --receipt needs --jwks FILE (the issuer's keys you trust) or, "
				       "knowingly, --no-signature-check");
			return CLI_USAGE;
		}
		return cli_receipt_verify(cli, &ro);
	}
	if (argc - optind != 2 || (o.collateral_dir == NULL && !o.no_collateral)) {
		cli_error(cli, "usage: attestctl verify <type> <evidence-file> --collateral DIR [--at TIME] "
			       "(or --no-collateral)");
		return CLI_USAGE;
	}
	o.type = argv[optind];
	o.evidence_file = argv[optind + 1];
	attest_err_clear(&err);
	if (cli_verify_evidence(cli, &o, &claims, &err) != ATTEST_OK) {
		cli_error_record(cli, "refused", &err);
		cli_status(cli, false, "refused: %s", err.name);
		return err.rc == ATTEST_E_INVALID ? CLI_USAGE : err.rc == ATTEST_E_IO ? CLI_LOCAL : CLI_REFUSED;
	}
	view = claim_set_to_json(claims);
	cli_print_json(cli, view);
	json_decref(view);
	print_summary(cli, claims);
	if (o.no_collateral)
		cli_status(cli, true, "signatures and chain verified; TCB status NOT evaluated (--no-collateral)");
	else
		cli_status(cli, true, "verified");
	claim_set_free(claims);
	if (policy) {
		cli_error(cli, "--policy: use `attestctl policy test %s --type %s --evidence %s ...` for the explain trace",
			  policy, o.type, o.evidence_file);
	}
	return CLI_OK;
}

const struct cli_noun cli_noun_verify = {
	"verify", "verify evidence offline (no server) and print its claims", NULL, cmd_verify,
	"Usage: attestctl verify <type> <evidence-file> --collateral DIR [options]\n"
	"       attestctl verify --receipt FILE (--jwks FILE | --no-signature-check) [--allow-dev-roots]\n\n"
	"Verifies evidence entirely offline with libattest: signatures, certificate\n"
	"chains to the vendor roots, CRLs and TCB status from the collateral folder\n"
	"(the layout of shared/vectors/<tee>/<vector>/). Prints the claims, the TCB\n"
	"status and advisories. Types: SgxEnclave, OpenEnclave, TdxVm, SevSnpVm\n"
	"(Azure's envelope), SevSnp (a raw ATTESTATION_REPORT), Tpm (the JSON of one TPM\n"
	"attestation: quote, signature, PCRs, logs, AIK; --runtime-data is the nonce).\n\n"
	"Options:\n"
	"  --collateral DIR    collateral folder (TCB Info, QE identity, CRLs, VCEK ...)\n"
	"  --at TIME           verification time: Unix seconds or RFC 3339 (default now)\n"
	"  --runtime-data FILE runtime data that must be bound to the evidence\n"
	"  --nonce STRING      expected nonce (formats that carry one)\n"
	"  --no-collateral     check signatures and the chain to the vendor root only;\n"
	"                      the TCB status is reported as not evaluated (debugging aid;\n"
	"                      attestd never accepts evidence this way)\n"
	"  --no-revocation     skip CRL checks (for evidence whose vendor published no CRLs)\n"
	"  --trust-roots FILE  DEVELOPMENT ONLY: also trust these Intel roots (e.g. the\n"
	"                      development platform's DIR/roots.pem from `attestctl dev init`)\n"
	"  -o json             print the claims as JSON\n"
	"  --receipt FILE      re-verify a receipt (`attestctl receipt export`) offline at\n"
	"                      its own time with its own collateral, and compare the claims\n"
	"                      reached with the token's (each difference is printed)\n"
	"  --jwks FILE         with --receipt: the issuer's keys (its /certs) you trust; the\n"
	"                      token's signature is checked against them (the receipt's own\n"
	"                      JWKS is never trusted)\n"
	"  --no-signature-check with --receipt and no --jwks: re-verify the claims only (the\n"
	"                      result says the signature was NOT verified)\n"
	"  --allow-dev-roots   with --receipt: use the development anchors the receipt carries\n"
	"                      (refused otherwise)\n\n"
	"Exit 0 only for evidence that verified (a receipt: the same claims); 1 when refused\n"
	"or different (the reason is printed).\n"};
