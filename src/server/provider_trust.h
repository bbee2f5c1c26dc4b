#ifndef ATTEST_SERVER_PROVIDER_TRUST_H
#define ATTEST_SERVER_PROVIDER_TRUST_H

/*
 * What a provider's settings add to evidence verification
 * (evidence.h struct evidence_tenant): AIKs registered with the provider,
 * trusted without a certificate chain (the Tpm type and AzureGuest,
 * maa-interface.md §1.3.5-1.3.6), and the launch measurements Azure
 * publishes for its confidential VM firmware (AzureGuest's
 * x-ms-isolation-tee.x-ms-compliance-status, docs/claims-azure-guest.md).
 *
 * The settings JSON (PUT /management/providers/{name}, "settings"):
 *   "tpm":        {"registeredAiks":  ["<base64 SHA-256 of the AIK's SPKI DER>"
 *                                      | "<PEM public key>", ...]}
 *   "azureGuest": {"cvmMeasurements": ["<96 hex: SNP MEASUREMENT / TDX MRTD>", ...]}
 * Both members are optional; other settings keys are not looked at.
 *
 * Design note: parsed when the settings are written (validation), and at
 * attestation time once per provider and settings revision (the attest
 * route keeps parsed trusts in its own refcounted view cache,
 * pipeline_routes.c); a parsed trust is immutable and may be shared by
 * concurrent readers.
 */

#include "attest/error.h"
#include "evidence/evidence.h"

#include <jansson.h>

/* Bounds on what one provider registers (far above real fleets of images). */
#define PROVIDER_TRUST_MAX_AIKS		4096
#define PROVIDER_TRUST_MAX_MEASUREMENTS 256

struct provider_trust;

/*
 * Parses the settings object (NULL or without the members: nothing
 * registered). *out is the caller's (provider_trust_free). Errors:
 * provider.settings.tpm (not an object / registeredAiks not an array),
 * provider.settings.aik (an entry is neither a base64 SHA-256 nor a PEM
 * public key, naming its index), provider.settings.azure_guest,
 * provider.settings.measurement (not 96 hex digits), provider.settings.count
 * (more than the maxima above), provider.settings.json (text form only).
 */
int provider_trust_from_json(const json_t *settings, struct provider_trust **out, struct attest_err *err);
/* The same from the stored settings text. */
int provider_trust_parse(const char *settings_json, struct provider_trust **out, struct attest_err *err);
void provider_trust_free(struct provider_trust *t);

/* The view verifiers take (evidence_ctx.tenant); NULL when nothing is registered. Borrowed from t. */
const struct evidence_tenant *provider_trust_tenant(const struct provider_trust *t);

#endif
