/* target_set.c - the recorder's verdicts on processes (target_set.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include "bpf/beyla_events.h"
#include "record/target_set.h"

struct target_entry {
	uint8_t state;          /* enum target_state */
	uint64_t let_go_ns;     /* TS_LET_GO: when (CLOCK_MONOTONIC) */
	struct procinfo *ident; /* kept targets: who it is (owned) */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void target_set_init(struct target_set *t, uint64_t *target_bits, uint64_t *tentative_bits,
		     int exec_ts_fd)
{
	memset(t, 0, sizeof(*t));
	t->target_bits = target_bits;
	t->tentative_bits = tentative_bits;
	t->exec_ts_fd = exec_ts_fd;
}

void target_set_free(struct target_set *t)
{
	size_t pos = 0;
	uint64_t k;
	void *v;

	while (bz_u64map_next(&t->pids, &pos, &k, &v)) {
		struct target_entry *e = v;
		free(e->ident);
		free(e);
	}
	bz_u64map_free(&t->pids);
	bz_u64map_free(&t->dropped_conns);
}

static struct target_entry *entry(const struct target_set *t, pid_t pid)
{
	return bz_u64map_get(&t->pids, (uint64_t)(uint32_t)pid);
}

enum target_state target_state(const struct target_set *t, pid_t pid)
{
	const struct target_entry *e = entry(t, pid);
	return e ? (enum target_state)e->state : TS_UNKNOWN;
}

const struct procinfo *target_ident(const struct target_set *t, pid_t pid)
{
	const struct target_entry *e = entry(t, pid);
	return e ? e->ident : NULL;
}

/* The programs change the same words with atomic operations: so do we. */
static uint64_t bit_or(uint64_t *words, uint32_t pid)
{
	return __atomic_fetch_or(&words[pid / 64], 1ull << (pid % 64), __ATOMIC_SEQ_CST);
}

static uint64_t bit_and_not(uint64_t *words, uint32_t pid)
{
	return __atomic_fetch_and(&words[pid / 64], ~(1ull << (pid % 64)), __ATOMIC_SEQ_CST);
}

static struct target_entry *entry_get_or_add(struct target_set *t, pid_t pid)
{
	struct target_entry *e = entry(t, pid);

	if (e)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	if (bz_u64map_put(&t->pids, (uint64_t)(uint32_t)pid, e)) {
		free(e);
		return NULL;
	}
	return e;
}

int target_keep(struct target_set *t, pid_t pid, const struct procinfo *ident)
{
	uint32_t key = (uint32_t)pid;
	struct target_entry *e;

	if (pid <= 0 || key >= BZ_PID_LIMIT)
		return -EINVAL;
	if (t->target_bits)
		bit_or(t->target_bits, key);
	if (t->tentative_bits)
		bit_and_not(t->tentative_bits, key);
	e = entry_get_or_add(t, pid);
	if (!e)
		return -ENOMEM;
	if (e->state != TS_KEPT) {
		e->state = TS_KEPT;
		t->kept++;
		t->nkept++;
	}
	if (ident) {
		if (!e->ident)
			e->ident = malloc(sizeof(*e->ident));
		if (!e->ident)
			return -ENOMEM;
		*e->ident = *ident;
		e->ident->pid = pid;
	}
	return 0;
}

int target_let_go(struct target_set *t, pid_t pid, uint64_t judged_ns)
{
	uint32_t key = (uint32_t)pid;
	struct target_entry *e;
	uint64_t newest = 0, old;
	int have_ts;

	if (pid <= 0 || key >= BZ_PID_LIMIT)
		return 0;
	e = entry_get_or_add(t, pid);
	if (e) {
		if (e->state == TS_KEPT)
			t->nkept--;
		e->state = TS_LET_GO;
		e->let_go_ns = now_ns();
		free(e->ident);
		e->ident = NULL;
	}
	t->let_go++;
	if (!t->target_bits || !t->tentative_bits)
		return 0;
	/* The target bit first: a fork after it makes no child target, and a
	 * hook that sees the process use a --port port from now on adopts it
	 * afresh.  Then the tentative mark: only whoever clears it decides. */
	bit_and_not(t->target_bits, key);
	old = bit_and_not(t->tentative_bits, key);
	have_ts = t->exec_ts_fd >= 0 && bpf_map_lookup_elem(t->exec_ts_fd, &key, &newest) == 0;
	if (!(old & (1ull << (key % 64)))) {
		/* Cleared already: by its exit (which also dropped its exec_ts),
		 * or by a hook that saw it use a --port port while it was
		 * tentative and adopted it: then it stays a target. */
		if (have_ts)
			bit_or(t->target_bits, key);
		return 0;
	}
	/* A newer exec than the one judged runs a program not judged yet (its
	 * own EXEC record follows): it stays tentative until then. */
	if (have_ts && newest > judged_ns) {
		bit_or(t->tentative_bits, key);
		bit_or(t->target_bits, key);
		t->restored++;
		return 0;
	}
	return 1;
}

void target_prune_let_go(struct target_set *t, uint64_t before_ns)
{
	uint64_t *old = NULL, k;
	size_t n = 0, cap = 0, pos = 0;
	void *v;

	/* collect, then delete: the map must not change while iterated */
	while (bz_u64map_next(&t->pids, &pos, &k, &v)) {
		struct target_entry *e = v;
		if (e->state != TS_LET_GO || e->let_go_ns >= before_ns)
			continue;
		if (n == cap) {
			uint64_t *g = realloc(old, (cap ? cap * 2 : 64) * sizeof(*g));
			if (!g)
				break;
			old = g;
			cap = cap ? cap * 2 : 64;
		}
		old[n++] = k;
	}
	for (size_t i = 0; i < n; i++)
		free(bz_u64map_del(&t->pids, old[i]));
	free(old);
}

void target_exit(struct target_set *t, pid_t pid)
{
	struct target_entry *e = bz_u64map_del(&t->pids, (uint64_t)(uint32_t)pid);

	if (!e)
		return;
	if (e->state == TS_KEPT)
		t->nkept--;
	free(e->ident);
	free(e);
}

void target_drop_conn(struct target_set *t, uint64_t conn_id)
{
	(void)bz_u64map_put(&t->dropped_conns, conn_id, (void *)1);
}

int target_conn_dropped(const struct target_set *t, uint64_t conn_id)
{
	return t->dropped_conns.len && bz_u64map_get(&t->dropped_conns, conn_id) != NULL;
}

void target_conn_closed(struct target_set *t, uint64_t conn_id)
{
	if (t->dropped_conns.len)
		bz_u64map_del(&t->dropped_conns, conn_id);
}
