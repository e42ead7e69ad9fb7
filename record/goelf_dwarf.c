/* goelf_dwarf.c - the byte offsets of the struct fields the Go probes read,
 * from the binary's own DWARF: exact for the Go version and build at hand,
 * so no table can be out of date.
 *
 * Go names struct types by their full package path ("net/http.Request") and
 * puts them at the top level of its compile units, so only the units'
 * direct children are scanned.  Go compresses its DWARF: Go 1.19 and later
 * use SHF_COMPRESSED .debug_* sections, older linkers .zdebug_* ones; libdw
 * decompresses both kinds when it opens the file. */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <string.h>
#include "record/goelf_int.h"

static const struct {
	int id;
	const char *type, *member;
} fields[] = {
	{ BZ_GOO_G_GOID, "runtime.g", "goid" },
	{ BZ_GOO_G_PARENT_GOID, "runtime.g", "parentGoid" },
	{ BZ_GOO_REQ_METHOD, "net/http.Request", "Method" },
	{ BZ_GOO_REQ_URL, "net/http.Request", "URL" },
	{ BZ_GOO_REQ_HOST, "net/http.Request", "Host" },
	{ BZ_GOO_REQ_REMOTE_ADDR, "net/http.Request", "RemoteAddr" },
	{ BZ_GOO_REQ_REQUEST_URI, "net/http.Request", "RequestURI" },
	{ BZ_GOO_URL_SCHEME, "net/url.URL", "Scheme" },
	{ BZ_GOO_URL_HOST, "net/url.URL", "Host" },
	{ BZ_GOO_URL_PATH, "net/url.URL", "Path" },
	{ BZ_GOO_URL_RAW_QUERY, "net/url.URL", "RawQuery" },
	{ BZ_GOO_RESPONSE_STATUS, "net/http.response", "status" },
	{ BZ_GOO_HTTP_RESPONSE_STATUS_CODE, "net/http.Response", "StatusCode" },
	{ BZ_GOO_TLS_CONN_CONN, "crypto/tls.Conn", "conn" },
	{ BZ_GOO_NET_CONN_FD, "net.conn", "fd" },
	{ BZ_GOO_NETFD_PFD, "net.netFD", "pfd" },
	{ BZ_GOO_POLL_FD_SYSFD, "internal/poll.FD", "Sysfd" },
	{ BZ_GOO_REQ_PROTO_MAJOR, "net/http.Request", "ProtoMajor" },
	{ BZ_GOO_H2RW_RWS, "net/http.http2responseWriter", "rws" },
	{ BZ_GOO_H2RWS_STREAM, "net/http.http2responseWriterState", "stream" },
	{ BZ_GOO_H2RWS_STATUS, "net/http.http2responseWriterState", "status" },
	{ BZ_GOO_H2STREAM_ID, "net/http.http2stream", "id" },
	{ BZ_GOO_REQ_CONTENT_LENGTH, "net/http.Request", "ContentLength" },
	{ BZ_GOO_REQ_TLS, "net/http.Request", "TLS" },
	{ BZ_GOO_H2RWS_WROTE_BYTES, "net/http.http2responseWriterState", "wroteBytes" },
	{ BZ_GOO_RESPONSE_WRITTEN, "net/http.response", "written" },
	/* Go 1.27 moved the HTTP/2 server into net/http/internal/http2 */
	{ BZ_GOO_H2RW_RWS, "net/http/internal/http2.responseWriter", "rws" },
	{ BZ_GOO_H2RWS_STREAM, "net/http/internal/http2.responseWriterState", "stream" },
	{ BZ_GOO_H2RWS_STATUS, "net/http/internal/http2.responseWriterState", "status" },
	{ BZ_GOO_H2STREAM_ID, "net/http/internal/http2.stream", "id" },
	{ BZ_GOO_H2RWS_WROTE_BYTES, "net/http/internal/http2.responseWriterState", "wroteBytes" },
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))
_Static_assert(NFIELDS >= BZ_GOO_MAX, "at least one DWARF name per field");

/* Fills the offsets of every wanted member of struct die (named name).
 * Returns how many were found. */
static int struct_members(Dwarf_Die *st, const char *name, int64_t *offsets)
{
	Dwarf_Word size = 0, loc;
	Dwarf_Attribute a;
	Dwarf_Die m;
	int n = 0;

	/* A location past the struct's size would make a probe read a
	 * neighbour's memory: only believe offsets inside the struct. */
	if (!dwarf_attr(st, DW_AT_byte_size, &a) || dwarf_formudata(&a, &size))
		return 0;
	if (dwarf_child(st, &m) != 0)
		return 0;
	do {
		const char *mname;

		if (dwarf_tag(&m) != DW_TAG_member || !(mname = dwarf_diename(&m)))
			continue;
		/* Go writes member locations as constants, never expressions. */
		if (!dwarf_attr(&m, DW_AT_data_member_location, &a) || dwarf_formudata(&a, &loc) ||
		    loc >= size)
			continue;
		for (size_t i = 0; i < NFIELDS; i++)
			if (!strcmp(fields[i].type, name) && !strcmp(fields[i].member, mname) &&
			    offsets[fields[i].id] < 0) {
				offsets[fields[i].id] = (int64_t)loc;
				n++;
			}
	} while (dwarf_siblingof(&m, &m) == 0);
	return n;
}

/* True when name is one of the types in fields[] not yet seen; marks it. */
static bool wanted_type(const char *name, const char **seen, size_t *nseen)
{
	bool want = false;

	for (size_t i = 0; i < NFIELDS; i++)
		if (!strcmp(fields[i].type, name))
			want = true;
	for (size_t i = 0; want && i < *nseen; i++)
		if (!strcmp(seen[i], name))
			return false;
	if (want)
		seen[(*nseen)++] = name;
	return want;
}

int bz_godwarf_offsets(Elf *elf, int64_t offsets[BZ_GOO_MAX])
{
	const char *seen[NFIELDS];
	size_t nseen = 0;
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie, die;
	Dwarf *dw;
	int found = 0;

	for (int i = 0; i < BZ_GOO_MAX; i++)
		offsets[i] = -1;
	dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!dw)
		return -ENOENT;
	while (found < BZ_GOO_MAX && dwarf_get_units(dw, cu, &cu, NULL, NULL, &cudie, NULL) == 0) {
		if (dwarf_child(&cudie, &die) != 0)
			continue;
		do {
			const char *name;

			if (dwarf_tag(&die) != DW_TAG_structure_type || !(name = dwarf_diename(&die)))
				continue;
			if (wanted_type(name, seen, &nseen))
				found += struct_members(&die, name, offsets);
		} while (found < BZ_GOO_MAX && dwarf_siblingof(&die, &die) == 0);
	}
	dwarf_end(dw);
	return found;
}
