/* redact_mysql.c - MySQL's wire protocol masked (redact_wire.h).
 * (Placeholder until the masker lands: claims nothing.) */
#include "record/redact_wire.h"

static int my_detect(const uint8_t *p, size_t n, unsigned dir, int joined, unsigned *client_dir) { return RD_WIRE_NO; }
static void my_init(void *st, unsigned client_dir, int joined) {}
static size_t my_data(void *st, unsigned dir, uint8_t *p, size_t caplen, uint64_t ret) { return 0; }

const struct rd_wire_ops rd_wire_mysql = { "mysql", my_detect, 1, my_init, my_data };
