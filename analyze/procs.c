/* procs.c - the process table (procs.h). */
#include <stdlib.h>
#include <string.h>

#include "procs.h"

static void set_str(char *dst, size_t cap, const char *src, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

static void resolve_service(struct bz_proc *p)
{
	const char *base;

	if (p->env_service[0]) {
		set_str(p->service, sizeof(p->service), p->env_service, strlen(p->env_service));
		return;
	}
	base = strrchr(p->exe, '/');
	base = base ? base + 1 : p->exe;
	if (!*base)
		base = p->comm;
	if (!*base)
		base = "unknown_service";
	set_str(p->service, sizeof(p->service), base, strlen(base));
}

struct bz_proc *bz_procs_find(struct bz_procs *t, uint32_t pid)
{
	return bz_u64map_get(&t->map, pid);
}

struct bz_proc *bz_procs_touch(struct bz_procs *t, uint32_t pid, uint64_t ts)
{
	struct bz_proc *p = bz_u64map_get(&t->map, pid);

	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	if (bz_u64map_put(&t->map, pid, p)) {
		free(p);
		return NULL;
	}
	p->pid = pid;
	p->first_seen_ns = ts;
	resolve_service(p);
	return p;
}

struct bz_proc *bz_procs_meta(struct bz_procs *t, const struct bz_proc_meta *m)
{
	struct bz_proc *p = bz_procs_touch(t, m->pid, m->seen_ns);

	if (!p)
		return NULL;
	p->ppid = m->ppid;
	p->flags |= m->flags;
	if (m->seen_ns && (!p->first_seen_ns || m->seen_ns < p->first_seen_ns))
		p->first_seen_ns = m->seen_ns;
	/* The latest block describes the process: take what it says. */
	if (m->exe[0])
		set_str(p->exe, sizeof(p->exe), m->exe, strlen(m->exe));
	if (m->comm[0])
		set_str(p->comm, sizeof(p->comm), m->comm, strlen(m->comm));
	if (m->cmdline[0])
		set_str(p->cmdline, sizeof(p->cmdline), m->cmdline, strlen(m->cmdline));
	set_str(p->env_service, sizeof(p->env_service), m->service_name, strlen(m->service_name));
	set_str(p->resource_attrs, sizeof(p->resource_attrs), m->resource_attrs,
		strlen(m->resource_attrs));
	p->tls = m->tls;
	resolve_service(p);
	return p;
}

struct bz_proc *bz_procs_exec(struct bz_procs *t, const struct bz_ev_proc_exec *e)
{
	struct bz_proc *p = bz_procs_touch(t, e->h.pid, e->h.ts_ns);
	size_t n;

	if (!p)
		return NULL;
	p->ppid = e->ppid;
	p->flags |= BZ_PF_EXEC;
	set_str(p->exe, sizeof(p->exe), e->filename, strnlen(e->filename, e->filename_len));
	set_str(p->comm, sizeof(p->comm), e->comm, strnlen(e->comm, sizeof(e->comm)));
	n = e->args_len < sizeof(p->cmdline) - 1 ? e->args_len : sizeof(p->cmdline) - 1;
	for (size_t i = 0; i < n; i++)
		p->cmdline[i] = e->args[i] ? e->args[i] : ' ';
	while (n && p->cmdline[n - 1] == ' ')
		n--;
	p->cmdline[n] = 0;
	/* a new program: its libraries are unknown until a PROC block says */
	memset(&p->tls, 0, sizeof(p->tls));
	resolve_service(p);
	return p;
}

struct bz_proc *bz_procs_fork(struct bz_procs *t, const struct bz_ev_proc_fork *e)
{
	struct bz_proc *parent = bz_procs_touch(t, e->h.pid, e->h.ts_ns), *c;

	if (!parent)
		return NULL;
	c = bz_u64map_get(&t->map, e->child_pid);
	if (!c) {
		c = malloc(sizeof(*c));
		if (!c)
			return NULL;
		if (bz_u64map_put(&t->map, e->child_pid, c)) {
			free(c);
			return NULL;
		}
	}
	*c = *parent;
	c->pid = e->child_pid;
	c->ppid = e->h.pid;
	c->forked_from = e->h.pid;
	c->flags = (parent->flags & ~(uint32_t)BZ_PF_AT_START) | BZ_PF_FORKED;
	c->first_seen_ns = e->h.ts_ns;
	c->exit_ns = 0;
	c->exited = 0;
	c->exit_code = 0;
	return c;
}

struct bz_proc *bz_procs_exit(struct bz_procs *t, const struct bz_ev_proc_exit *e)
{
	struct bz_proc *p = bz_u64map_get(&t->map, e->h.pid);

	if (!p)
		return NULL;
	p->exited = 1;
	p->exit_ns = e->h.ts_ns;
	p->exit_code = e->exit_code;
	return p;
}

struct bz_proc *bz_procs_take(struct bz_procs *t, uint32_t pid)
{
	return bz_u64map_del(&t->map, pid);
}

void bz_procs_free(struct bz_procs *t)
{
	size_t pos = 0;
	uint64_t k;
	void *v;

	while (bz_u64map_next(&t->map, &pos, &k, &v))
		free(v);
	bz_u64map_free(&t->map);
}
