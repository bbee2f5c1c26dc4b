/*
 * What the online collateral clients read from response headers
 * (collateral/pcs_http.h, pcs.h): issuer-chain values (percent-decoding,
 * the PEM check) and Retry-After (seconds or an HTTP-date). Properties:
 * decoding never reads past the value, a decoded chain encodes and
 * decodes back to itself, a wait is always within [0, 86400] seconds.
 */
#include "collateral/pcs.h"
#include "collateral/pcs_http.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *dec, *enc, *again;
	uint8_t *chain = NULL;
	size_t n = 0, m = 0, chain_len = 0;
	int64_t wait;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	dec = pcs_http_url_decode((const char *)data, size, &n);
	if (dec != NULL) {
		if (n > size || (enc = pcs_http_url_encode((const uint8_t *)dec, n)) == NULL)
			abort();
		again = pcs_http_url_decode(enc, strlen(enc), &m);
		if (again == NULL || m != n || memcmp(again, dec, n) != 0)
			abort();
		free(again);
		free(enc);
		free(dec);
	}
	if (pcs_decode_chain_header(text, "TCB-Info-Issuer-Chain", "fuzz.header", &chain, &chain_len, NULL) ==
	    ATTEST_OK) {
		if (chain == NULL || chain[chain_len] != '\0' ||
		    strstr((char *)chain, "-----BEGIN CERTIFICATE-----") == NULL)
			abort();
		free(chain);
	}
	wait = pcs_http_retry_after_seconds(text);
	if (wait < 0 || wait > 86400)
		abort();
	free(text);
	return 0;
}
