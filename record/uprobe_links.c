/* uprobe_links.c - see uprobe_links.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "record/uprobe_links.h"

int bz_links_add(struct bz_links *s, struct bpf_link *l)
{
	struct bpf_link **v = realloc(s->v, (size_t)(s->n + 1) * sizeof(*v));

	if (!v) {
		bpf_link__destroy(l);
		return -ENOMEM;
	}
	s->v = v;
	s->v[s->n++] = l;
	return 0;
}

void bz_links_truncate(struct bz_links *s, int n)
{
	while (s->n > n)
		bpf_link__destroy(s->v[--s->n]);
}

void bz_links_free(struct bz_links *s)
{
	bz_links_truncate(s, 0);
	free(s->v);
	s->v = NULL;
}

void bz_probe_opt(struct bz_buf *b, uint16_t code, int status, const char *name, const char *detail)
{
	struct bz_buf v = { 0 };
	uint8_t st[4] = { (uint8_t)status, 0, 0, 0 };

	bz_buf_put(&v, st, 4);
	bz_buf_put(&v, name, strlen(name) + 1);
	bz_buf_put(&v, detail, strlen(detail));
	bz_buf_opt(b, code, v.data, (uint32_t)v.len);
	bz_buf_free(&v);
}
