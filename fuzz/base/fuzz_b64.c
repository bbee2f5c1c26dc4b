/* libFuzzer target: base64 (both alphabets), hex and RFC 3339 decoders. */
#include "base/codec.h"
#include "base/timeutil.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out = NULL;
	size_t n = 0;
	char *text = malloc(size + 1);
	int64_t t;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	if (b64_decode(text, size, &out, &n) == 0) {
		/* Whatever decodes must re-encode to the same bytes. */
		char *again = b64url_encode(out, n);
		uint8_t *back = NULL;
		size_t m = 0;

		if (again == NULL || b64_decode(again, strlen(again), &back, &m) != 0 || m != n ||
		    memcmp(back, out, n) != 0)
			abort();
		free(back);
		free(again);
		free(out);
	}
	if (hex_decode(text, size, &out, &n) == 0)
		free(out);
	(void)time_parse_rfc3339(text, &t);
	free(text);
	return 0;
}
