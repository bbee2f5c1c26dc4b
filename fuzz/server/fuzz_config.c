/* attestd's config file parser (key = value lines and JSON) on arbitrary text. */
#include "server/config.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct srv_config cfg;
	struct attest_err err = {0};

	srv_config_defaults(&cfg);
	(void)srv_config_load_text(&cfg, (const char *)data, size, "fuzz", &err);
	srv_config_finish(&cfg, 8443);
	return 0;
}
