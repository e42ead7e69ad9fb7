/* probe_report.c - the probe report's parser (probe_report.h). */
#include <string.h>

#include "probe_report.h"
#include "tls_libs.h"

int bz_probe_value_parse(const uint8_t *v, uint32_t n, struct bz_probe_value *p)
{
	const uint8_t *nul;

	memset(p, 0, sizeof(*p));
	if (!v || n < 4)
		return -1;
	p->status = v[0];
	p->required = v[1];
	p->name = v + 4;
	nul = memchr(p->name, 0, n - 4);
	p->name_len = nul ? (uint32_t)(nul - p->name) : n - 4;
	p->detail = nul ? nul + 1 : v + n;
	p->detail_len = (uint32_t)(v + n - p->detail);
	return 0;
}

int bz_probe_iter_init(struct bz_probe_iter *it, const struct bz_block *b)
{
	memset(it, 0, sizeof(*it));
	switch (b ? b->type : 0) {
	case BZ_BLK_PROBES: it->probe_code = BZ_PO_PROBE; break;
	case BZ_BLK_GO_BINARY: it->probe_code = BZ_GB_PROBE; break;
	case BZ_BLK_TLS_LIBRARY: it->probe_code = BZ_TL_PROBE; break;
	default:
		bz_tlv_init(&it->tlv, NULL, 0);
		return -1;
	}
	it->place.block = b->type;
	bz_tlv_init(&it->tlv, b->body, b->len);
	return 0;
}

static int opt_u32(const uint8_t *v, uint32_t n, uint32_t *out)
{
	if (n != 4)
		return 0;
	*out = bz_le32(v);
	return 1;
}

/* A GO_BINARY or TLS_LIBRARY option that says where the probes are. */
static void place_opt(struct bz_probe_place *pl, uint16_t code, const uint8_t *v, uint32_t n)
{
	if (pl->block == BZ_BLK_GO_BINARY) {
		switch (code) {
		case BZ_GB_PATH: bz_tlv_text(pl->path, sizeof(pl->path), v, n); break;
		case BZ_GB_VERSION: bz_tlv_text(pl->version, sizeof(pl->version), v, n); break;
		case BZ_GB_MODULE: bz_tlv_text(pl->module, sizeof(pl->module), v, n); break;
		case BZ_GB_FLAGS: opt_u32(v, n, &pl->flags); break;
		case BZ_GB_PID: pl->has_pid |= opt_u32(v, n, &pl->pid); break;
		default: break;
		}
	} else if (pl->block == BZ_BLK_TLS_LIBRARY) {
		switch (code) {
		case BZ_TL_PATH: bz_tlv_text(pl->path, sizeof(pl->path), v, n); break;
		case BZ_TL_LIB: opt_u32(v, n, &pl->lib); break;
		case BZ_TL_PID: pl->has_pid |= opt_u32(v, n, &pl->pid); break;
		default: break;
		}
	}
}

int bz_probe_iter_next(struct bz_probe_iter *it, uint16_t *code, struct bz_probe_value *p)
{
	const uint8_t *v;
	uint32_t n;
	int rc = bz_tlv_next(&it->tlv, code, &v, &n);

	memset(p, 0, sizeof(*p));
	if (rc != 1)
		return rc < 0 ? -1 : 0;
	if (*code == it->probe_code)
		return bz_probe_value_parse(v, n, p) ? BZ_PI_BAD : BZ_PI_PROBE;
	place_opt(&it->place, *code, v, n);
	return BZ_PI_OPTION;
}

const char *bz_probe_status_name(unsigned status)
{
	switch (status) {
	case BZ_PROBE_ATTACHED: return "attached";
	case BZ_PROBE_REFUSED: return "refused";
	case BZ_PROBE_SKIPPED: return "skipped";
	default: return "unknown";
	}
}

const char *bz_probe_kind(uint32_t block, const struct bz_probe_value *p)
{
	if (block != BZ_BLK_PROBES)
		return "uprobe";
	return p->name_len >= 4 && !memcmp(p->name, "raw:", 4) ? "raw_tracepoint" : "tracepoint";
}

const char *bz_probe_category(const struct bz_probe_place *place)
{
	switch (place->block) {
	case BZ_BLK_GO_BINARY: return "go";
	case BZ_BLK_TLS_LIBRARY: return place->lib ? bz_tls_lib_key(place->lib) : "unknown";
	default: return "kernel";
	}
}

void bz_probe_row_fill(struct bz_probe_row *r, const struct bz_probe_iter *it, const struct bz_probe_value *p)
{
	memset(r, 0, sizeof(*r));
	r->block = it->place.block;
	r->status = p->status;
	r->required = p->required ? 1 : 0;
	r->kind = bz_probe_kind(it->place.block, p);
	r->category = bz_probe_category(&it->place);
	bz_tlv_text(r->name, sizeof(r->name), p->name, p->name_len);
	bz_tlv_text(r->detail, sizeof(r->detail), p->detail, p->detail_len);
	memcpy(r->path, it->place.path, sizeof(r->path));
	r->pid = it->place.pid;
	r->has_pid = it->place.has_pid;
}
