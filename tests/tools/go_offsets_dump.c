/* go_offsets_dump.c - prints one row of record/go_offsets_table.c: the
 * struct offsets the Go probes need, read from a Go binary's DWARF by the
 * recorder's own code (bz_goelf_inspect).  scripts/go_offsets.sh runs it on
 * a server built with each Go toolchain.  Not a test by itself.
 *
 *   go_offsets_dump BINARY
 *
 * Fails (exit 1) when the binary has no DWARF: a row must come from DWARF,
 * never from the table it is meant to fill. */
#include <stdio.h>
#include "record/goelf_int.h"

/* The enum's identifiers, for designated initializers in the table. */
static const char *const ids[] = {
	"BZ_GOO_G_GOID", "BZ_GOO_G_PARENT_GOID", "BZ_GOO_REQ_METHOD", "BZ_GOO_REQ_URL",
	"BZ_GOO_REQ_HOST", "BZ_GOO_REQ_REMOTE_ADDR", "BZ_GOO_REQ_REQUEST_URI",
	"BZ_GOO_URL_SCHEME", "BZ_GOO_URL_HOST", "BZ_GOO_URL_PATH", "BZ_GOO_URL_RAW_QUERY",
	"BZ_GOO_RESPONSE_STATUS", "BZ_GOO_HTTP_RESPONSE_STATUS_CODE", "BZ_GOO_TLS_CONN_CONN",
	"BZ_GOO_NET_CONN_FD", "BZ_GOO_NETFD_PFD", "BZ_GOO_POLL_FD_SYSFD", "BZ_GOO_REQ_PROTO_MAJOR",
	"BZ_GOO_H2RW_RWS", "BZ_GOO_H2RWS_STREAM", "BZ_GOO_H2RWS_STATUS", "BZ_GOO_H2STREAM_ID",
	"BZ_GOO_REQ_CONTENT_LENGTH", "BZ_GOO_REQ_TLS", "BZ_GOO_H2RWS_WROTE_BYTES",
	"BZ_GOO_RESPONSE_WRITTEN",
};
_Static_assert(sizeof(ids) / sizeof(ids[0]) == BZ_GOO_MAX, "one identifier per field");

int main(int argc, char **argv)
{
	struct bz_go_binary b;
	char err[256];

	if (argc != 2) {
		fprintf(stderr, "usage: go_offsets_dump BINARY\n");
		return 2;
	}
	if (bz_goelf_inspect(argv[1], &b, err, sizeof(err))) {
		fprintf(stderr, "go_offsets_dump: %s\n", err);
		return 1;
	}
	if (b.offsets_from != BZ_GO_OFFS_DWARF || !b.go_major) {
		fprintf(stderr, "go_offsets_dump: %s: no DWARF offsets or no Go version\n", argv[1]);
		return 1;
	}
	printf("\t{ \"go%d.%d\", { /* %s */\n", b.go_major, b.go_minor, b.go_version);
	for (int i = 0; i < BZ_GOO_MAX; i++)
		printf("\t\t[%s] = %lld, /* %s */\n", ids[i], (long long)b.offsets[i], bz_go_field_name(i));
	printf("\t} },\n");
	return 0;
}
