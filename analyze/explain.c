/* explain.c - why connections gave no spans (explain.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "explain.h"

#define ADVICE_MAX 1024
#define PIDS_SHOWN 3

static int same_libs(const struct bz_tls_libs *a, const struct bz_tls_libs *b)
{
	if (a->scanned != b->scanned || a->n != b->n)
		return 0;
	for (unsigned i = 0; i < a->n; i++)
		if (a->l[i].lib != b->l[i].lib || a->l[i].source != b->l[i].source ||
		    a->l[i].flags != b->l[i].flags || strcmp(a->l[i].path, b->l[i].path))
			return 0;
	return 1;
}

int bz_explain_slot(struct bz_explain *x, uint32_t pid, const char *name, const struct bz_tls_libs *tls)
{
	static const struct bz_tls_libs unknown;
	struct bz_explain_proc *p;

	if (!tls)
		tls = &unknown;
	if (!name)
		name = "";
	for (unsigned i = 0; i < x->nprocs; i++) {
		p = &x->procs[i];
		if (p->pid == pid && !strncmp(p->name, name, sizeof(p->name) - 1) && same_libs(&p->tls, tls))
			return (int)i;
	}
	if (x->nprocs >= BZ_EXPLAIN_PROCS)
		return -1;
	p = &x->procs[x->nprocs];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	snprintf(p->name, sizeof(p->name), "%s", name[0] ? name : "unknown process");
	p->tls = *tls;
	return (int)x->nprocs++;
}

void bz_explain_tls(struct bz_explain *x, int slot, enum bz_tls_verdict verdict)
{
	x->tls_opaque++;
	x->by_verdict[(unsigned)verdict < BZ_TV_MAX ? verdict : BZ_TV_NOT_SCANNED]++;
	if (slot >= 0 && (unsigned)slot < x->nprocs)
		x->procs[slot].conns++;
	else
		x->other_conns++;
}

static const char *conns_word(uint64_t n) { return n == 1 ? "connection" : "connections"; }

/* The reason a capture gave no requests, from what its connections held. */
static void print_why(const struct bz_explain *x, uint64_t conns, FILE *out)
{
	static const char *const what[BZ_DETECT_MAX] = {
		[BZ_DETECT_TLS] = "encrypted (TLS)",
		[BZ_DETECT_HTTP2] = "HTTP/2 with prior knowledge (not parsed yet)",
		[BZ_DETECT_BINARY] = "other binary protocol",
		[BZ_DETECT_TEXT] = "other text protocol",
		[BZ_DETECT_NO_BYTES] = "no payload captured (snaplen 0?)",
	};
	static const int order[] = { BZ_DETECT_TLS, BZ_DETECT_HTTP2, BZ_DETECT_BINARY, BZ_DETECT_TEXT,
				     BZ_DETECT_NO_BYTES };
	uint64_t unrecognised = 0;
	int k = 0;

	for (int i = 0; i < BZ_DETECT_MAX; i++)
		unrecognised += x->detected[i];
	if (!conns) {
		fprintf(out, "why: the targets used no TCP connection while recording (the right -p, --port "
			     "or --exe? did traffic run during the recording?)\n");
		return;
	}
	if (!unrecognised) {
		fprintf(out, "why: none of the %" PRIu64 " %s carried a complete HTTP/1.x request that was "
			     "recorded\n", conns, conns_word(conns));
		return;
	}
	fprintf(out, "why: of %" PRIu64 " %s, %" PRIu64 " carried no HTTP/1.x:", conns, conns_word(conns),
		unrecognised);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (x->detected[order[i]])
			fprintf(out, "%s %" PRIu64 " %s", k++ ? "," : "", x->detected[order[i]], what[order[i]]);
	fputc('\n', out);
}

static int same_group(const struct bz_explain_proc *a, const struct bz_explain_proc *b)
{
	return !strcmp(a->name, b->name) && same_libs(&a->tls, &b->tls);
}

/* The connections of the group of slot first (the processes after it of
 * the same name and libraries), and how many processes it has. */
static uint64_t group_conns(const struct bz_explain *x, unsigned first, unsigned *npids)
{
	uint64_t conns = 0;

	*npids = 0;
	for (unsigned i = first; i < x->nprocs; i++)
		if (x->procs[i].conns && same_group(&x->procs[i], &x->procs[first])) {
			conns += x->procs[i].conns;
			++*npids;
		}
	return conns;
}

/* One group: "NAME (pid P, N connections) ADVICE"; on the headline (one
 * group alone) without the count, which the headline gives. */
static void print_group(const struct bz_explain *x, unsigned first, int headline, FILE *out)
{
	const struct bz_explain_proc *p = &x->procs[first];
	char advice[ADVICE_MAX];
	unsigned npids, shown = 0;
	uint64_t conns = group_conns(x, first, &npids);

	bz_tls_advice(&p->tls, npids > 1, advice, sizeof(advice));
	fprintf(out, "%s%s (pid%s ", headline ? " " : "  ", p->name, npids > 1 ? "s" : "");
	for (unsigned i = first; i < x->nprocs && shown < PIDS_SHOWN; i++) {
		if (!x->procs[i].conns || !same_group(&x->procs[i], p))
			continue;
		/* "1, 2 and 3"; past PIDS_SHOWN, "1, 2, 3 and 4 more" */
		const char *sep = !shown ? "" : shown + 1 == npids ? " and " : ", ";
		fprintf(out, "%s%" PRIu32, sep, x->procs[i].pid);
		shown++;
	}
	if (npids > shown)
		fprintf(out, " and %u more", npids - shown);
	if (headline)
		fprintf(out, ") %s\n", advice);
	else
		fprintf(out, ", %" PRIu64 " %s) %s\n", conns, conns_word(conns), advice);
}

void bz_explain_print(const struct bz_explain *x, uint64_t conns, int no_requests, FILE *out)
{
	unsigned lead[BZ_EXPLAIN_PROCS], nlead = 0;

	if (no_requests)
		print_why(x, conns, out);
	if (!x->tls_opaque)
		return;
	/* a group is led by its first slot */
	for (unsigned i = 0; i < x->nprocs; i++) {
		unsigned j;
		if (!x->procs[i].conns)
			continue;
		for (j = 0; j < i; j++)
			if (x->procs[j].conns && same_group(&x->procs[j], &x->procs[i]))
				break;
		if (j == i)
			lead[nlead++] = i;
	}
	fprintf(out, "%" PRIu64 " %s encrypted (TLS) with no plaintext recorded:", x->tls_opaque,
		conns_word(x->tls_opaque));
	if (nlead == 1 && !x->other_conns) {
		print_group(x, lead[0], 1, out);
		return;
	}
	fputc('\n', out);
	/* most connections first, then by name: the same order whoever counted */
	for (unsigned k = 0; k < nlead; k++) {
		unsigned best = k, nb, nc;
		for (unsigned m = k + 1; m < nlead; m++) {
			uint64_t cb = group_conns(x, lead[best], &nb), cm = group_conns(x, lead[m], &nc);
			int byname = strcmp(x->procs[lead[m]].name, x->procs[lead[best]].name);
			if (cm > cb || (cm == cb && (byname < 0 || (!byname && x->procs[lead[m]].pid <
									    x->procs[lead[best]].pid))))
				best = m;
		}
		unsigned t = lead[k];
		lead[k] = lead[best];
		lead[best] = t;
		print_group(x, lead[k], 0, out);
	}
	if (x->other_conns)
		fprintf(out, "  %" PRIu64 " %s of other processes (more than %d had some)\n", x->other_conns,
			conns_word(x->other_conns), BZ_EXPLAIN_PROCS);
}
