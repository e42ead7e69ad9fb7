/* db_queue.c - the database writer thread (db.h: bz_db_start_writer).
 *
 * Inserting the rows costs about as much CPU as reading and parsing the
 * capture, so the two run side by side: the analysis thread copies each
 * row (its struct and the strings it points to) into a batch, and a
 * writer thread runs the statements of full batches in order.  At most
 * QUEUE_DEPTH full batches wait: memory stays bounded and a slow disk
 * slows the analysis down instead of growing a backlog.
 *
 * A record in a batch: struct rec_hdr, the row's struct, then its strings.
 * In the copied struct every string pointer holds the string's offset in
 * the record + 1 (0 for NULL) until the writer turns it back into a
 * pointer.  A record larger than a batch (a process with a huge command
 * line) travels alone in a batch of its size.  Every `const char *` field
 * of the row structs must be listed in string_fields() below.
 *
 * The writer groups consecutive spans BZ_DB_SPAN_BATCH to a statement;
 * rows keep the order they were handed in. */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"

#define BATCH_BYTES (256u << 10)
#define QUEUE_DEPTH 4
#define ALIGN8(n) (((n) + 7u) & ~(size_t)7u)

struct batch {
	size_t len, cap;  /* cap: BATCH_BYTES, or more for one record that needs it */
	struct batch *next;
	unsigned char buf[];
};

struct rec_hdr {
	uint32_t op;   /* enum bz_db_op */
	uint32_t size; /* whole record, header included, a multiple of 8 */
};

struct bz_db_queue {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t changed;      /* a batch was queued or freed, or stop */
	struct batch *cur;           /* being filled by the analysis thread */
	struct batch *head, *tail;   /* full, waiting for the writer */
	struct batch *spare;         /* run, ready to be filled again */
	unsigned queued;
	int stop, discard;
	int err;                     /* the writer's first error */
	double cpu;                  /* the writer thread's CPU, when it ends */
};

#define SPAN_STRINGS 11 /* string fields of struct bz_span before its attributes */

/* Offsets of the string fields of a row struct, and the struct's size. */
static size_t string_fields(enum bz_db_op op, size_t *offs, size_t *size)
{
	size_t n = 0;

#define F(type, field) (offs[n++] = offsetof(type, field))
	switch (op) {
	case OP_SPAN:
		*size = sizeof(struct bz_span);
		F(struct bz_span, name);
		F(struct bz_span, method);
		F(struct bz_span, url_path);
		F(struct bz_span, url_query);
		F(struct bz_span, route);
		F(struct bz_span, stats_route);
		F(struct bz_span, server_address);
		F(struct bz_span, client_address);
		F(struct bz_span, protocol_version);
		F(struct bz_span, user_agent);
		F(struct bz_span, service_name);
		/* n == SPAN_STRINGS here */
		for (size_t a = 0; a < BZ_SPAN_ATTRS_MAX; a++) {
			offs[n++] = offsetof(struct bz_span, attrs) + a * sizeof(struct bz_span_attr) +
				    offsetof(struct bz_span_attr, key);
			offs[n++] = offsetof(struct bz_span, attrs) + a * sizeof(struct bz_span_attr) +
				    offsetof(struct bz_span_attr, value);
		}
		break;
	case OP_PROC:
		*size = sizeof(struct bz_db_process);
		F(struct bz_db_process, exe);
		F(struct bz_db_process, comm);
		F(struct bz_db_process, cmdline);
		F(struct bz_db_process, service_name);
		F(struct bz_db_process, resource_attributes);
		F(struct bz_db_process, tls_libraries);
		break;
	case OP_CONN:
		*size = sizeof(struct bz_db_conn);
		F(struct bz_db_conn, role);
		F(struct bz_db_conn, family);
		F(struct bz_db_conn, local_address);
		F(struct bz_db_conn, remote_address);
		F(struct bz_db_conn, protocol);
		F(struct bz_db_conn, http_role);
		F(struct bz_db_conn, detected);
		F(struct bz_db_conn, unix_path);
		break;
	case OP_CAPTURE:
		*size = sizeof(struct bz_db_capture);
		F(struct bz_db_capture, source);
		F(struct bz_db_capture, beyla_version);
		F(struct bz_db_capture, analyzer_version);
		F(struct bz_db_capture, hostname);
		F(struct bz_db_capture, kernel);
		F(struct bz_db_capture, arch);
		F(struct bz_db_capture, boot_id);
		F(struct bz_db_capture, target);
		F(struct bz_db_capture, error);
		F(struct bz_db_capture, stop_reason);
		break;
	case OP_DROP:
		*size = sizeof(struct bz_db_drop_row);
		F(struct bz_db_drop_row, probe);
		break;
	case OP_STAT:
		*size = sizeof(struct bz_db_stat_row);
		F(struct bz_db_stat_row, name);
		break;
	case OP_PROBE:
		*size = sizeof(struct bz_db_probe);
		F(struct bz_db_probe, name);
		F(struct bz_db_probe, kind);
		F(struct bz_db_probe, category);
		F(struct bz_db_probe, status);
		F(struct bz_db_probe, reason);
		F(struct bz_db_probe, path);
		break;
	case OP_RELINK:
		*size = sizeof(struct bz_db_relink_row);
		break;
	default:
		*size = 0;
	}
#undef F
	return n;
}

#define MAX_STRING_FIELDS (SPAN_STRINGS + 2 * BZ_SPAN_ATTRS_MAX)

/* A field added to a row struct must be listed above if it is a string (a
 * pointer the writer would follow after the caller's buffer is gone); these
 * fail the build until the size below is updated, as a reminder. */
#if UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(struct bz_span) == 312 + 16 * BZ_SPAN_ATTRS_MAX, "bz_span changed: see string_fields()");
_Static_assert(sizeof(struct bz_db_process) == 104, "bz_db_process changed: see string_fields()");
_Static_assert(sizeof(struct bz_db_conn) == 224, "bz_db_conn changed: see string_fields()");
_Static_assert(sizeof(struct bz_db_capture) == 208, "bz_db_capture changed: see string_fields()");
_Static_assert(sizeof(struct bz_db_probe) == 72, "bz_db_probe changed: see string_fields()");
#endif

/* Copies the row of the record at rec (op, string fields) into out, its
 * strings pointing into the batch.  Returns the record's size. */
static size_t decode(unsigned char *rec, void *out)
{
	struct rec_hdr h;
	size_t offs[MAX_STRING_FIELDS], size, n;

	memcpy(&h, rec, sizeof(h));
	n = string_fields((enum bz_db_op)h.op, offs, &size);
	memcpy(out, rec + sizeof(h), size);
	for (size_t i = 0; i < n; i++) {
		const char *p;
		uintptr_t v;
		memcpy(&p, (unsigned char *)out + offs[i], sizeof(p));
		v = (uintptr_t)p;
		p = v ? (const char *)rec + (v - 1) : NULL;
		memcpy((unsigned char *)out + offs[i], &p, sizeof(p));
	}
	return h.size;
}

/* Runs the records of one batch in order, spans in groups of
 * BZ_DB_SPAN_BATCH (one statement each); stops at the first error. */
static int run_batch(struct bz_db *db, struct batch *b)
{
	union {
		struct bz_db_process proc;
		struct bz_db_conn conn;
		struct bz_db_capture capture;
		struct bz_db_drop_row drop;
		struct bz_db_stat_row stat;
		struct bz_db_probe probe;
		struct bz_db_relink_row relink;
	} row;
	struct bz_span spans[BZ_DB_SPAN_BATCH];
	unsigned nspans = 0;
	int rc;

	for (size_t at = 0; at < b->len;) {
		struct rec_hdr h;
		memcpy(&h, b->buf + at, sizeof(h));
		if (h.op == OP_SPAN) {
			at += decode(b->buf + at, &spans[nspans++]);
			if (nspans == BZ_DB_SPAN_BATCH) {
				if ((rc = bz_db_run_spans(db, spans, nspans)))
					return rc;
				nspans = 0;
			}
			continue;
		}
		/* the spans handed in before this row go in before it */
		if (nspans && (rc = bz_db_run_spans(db, spans, nspans)))
			return rc;
		nspans = 0;
		at += decode(b->buf + at, &row);
		if ((rc = bz_db_run_op(db, (enum bz_db_op)h.op, &row)))
			return rc;
	}
	return nspans ? bz_db_run_spans(db, spans, nspans) : 0;
}

static void *writer_main(void *arg)
{
	struct bz_db *db = arg;
	struct bz_db_queue *q = db->q;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->head && !q->stop)
			pthread_cond_wait(&q->changed, &q->mu);
		if (!q->head || q->discard)
			break;
		struct batch *b = q->head;
		q->head = b->next;
		if (!q->head)
			q->tail = NULL;
		q->queued--;
		pthread_mutex_unlock(&q->mu);
		int rc = q->err ? 0 : run_batch(db, b); /* after an error: drain, run nothing */
		pthread_mutex_lock(&q->mu);
		if (rc && !q->err)
			q->err = rc;
		if (b->cap > BATCH_BYTES) {
			free(b);
		} else {
			b->next = q->spare;
			q->spare = b;
		}
		pthread_cond_broadcast(&q->changed);
	}
	pthread_mutex_unlock(&q->mu);
	q->cpu = bz_db_clock(1);
	return NULL;
}

int bz_db_start_writer(struct bz_db *db)
{
	struct bz_db_queue *q;

	if (!db || db->q)
		return -EINVAL;
	if (!(q = calloc(1, sizeof(*q))))
		return -ENOMEM;
	pthread_mutex_init(&q->mu, NULL); /* q->cur: the first put takes a batch */
	pthread_cond_init(&q->changed, NULL);
	db->q = q;
	if (pthread_create(&q->thread, NULL, writer_main, db)) {
		db->q = NULL;
		pthread_cond_destroy(&q->changed);
		pthread_mutex_destroy(&q->mu);
		free(q);
		return -EAGAIN;
	}
	return 0;
}

/* Makes an empty batch of at least `need` bytes current: one the writer
 * is done with, or a new one. */
static int take_batch(struct bz_db_queue *q, size_t need)
{
	struct batch *b = NULL;
	size_t cap = need > BATCH_BYTES ? need : BATCH_BYTES;

	if (cap == BATCH_BYTES) {
		pthread_mutex_lock(&q->mu);
		b = q->spare;
		if (b)
			q->spare = b->next;
		pthread_mutex_unlock(&q->mu);
	}
	if (!b && !(b = malloc(sizeof(*b) + cap)))
		return -ENOMEM;
	b->len = 0;
	b->cap = cap;
	b->next = NULL;
	q->cur = b;
	return 0;
}

/* Queues the current batch for the writer, waiting while QUEUE_DEPTH
 * batches are queued.  Returns the writer's error, if any. */
static int hand_over(struct bz_db_queue *q)
{
	int err;

	pthread_mutex_lock(&q->mu);
	while (q->queued >= QUEUE_DEPTH && !q->err)
		pthread_cond_wait(&q->changed, &q->mu);
	if (q->tail)
		q->tail->next = q->cur;
	else
		q->head = q->cur;
	q->tail = q->cur;
	q->queued++;
	q->cur = NULL;
	err = q->err;
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->mu);
	return err;
}

int bz_db_queue_put(struct bz_db *db, enum bz_db_op op, const void *rec)
{
	struct bz_db_queue *q = db->q;
	size_t offs[MAX_STRING_FIELDS], size, n, need;
	const char *str[MAX_STRING_FIELDS];
	size_t len[MAX_STRING_FIELDS];
	int rc;

	n = string_fields(op, offs, &size);
	if (!size)
		return -EINVAL;
	need = sizeof(struct rec_hdr) + ALIGN8(size);
	/* a span's attributes past nattrs are not its own: copied as NULL */
	size_t used = op == OP_SPAN ? SPAN_STRINGS + 2 * (size_t)((const struct bz_span *)rec)->nattrs : n;
	for (size_t i = 0; i < n; i++) {
		if (i < used)
			memcpy(&str[i], (const unsigned char *)rec + offs[i], sizeof(str[i]));
		else
			str[i] = NULL;
		len[i] = str[i] ? strlen(str[i]) + 1 : 0;
		need += len[i];
	}
	need = ALIGN8(need);
	if (q->cur && q->cur->len + need > q->cur->cap && (rc = hand_over(q)))
		return rc;
	if (!q->cur && (rc = take_batch(q, need)))
		return rc;
	unsigned char *out = q->cur->buf + q->cur->len;
	struct rec_hdr h = { (uint32_t)op, (uint32_t)need };
	size_t at = sizeof(h) + ALIGN8(size);
	memcpy(out, &h, sizeof(h));
	memcpy(out + sizeof(h), rec, size);
	for (size_t i = 0; i < n; i++) {
		const char *enc = NULL;
		if (str[i]) {
			memcpy(out + at, str[i], len[i]);
			enc = (const char *)(uintptr_t)(at + 1);
			at += len[i];
		}
		memcpy(out + sizeof(h) + offs[i], &enc, sizeof(enc));
	}
	q->cur->len += need;
	return 0;
}

int bz_db_queue_stop(struct bz_db *db, int discard)
{
	struct bz_db_queue *q = db->q;
	int rc = 0;

	if (!q)
		return 0;
	if (!discard && q->cur && q->cur->len)
		rc = hand_over(q);
	pthread_mutex_lock(&q->mu);
	q->stop = 1;
	q->discard = discard;
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL);
	db->timings.writer_cpu = q->cpu;
	if (q->err)
		rc = q->err;
	for (struct batch *b = q->head, *next; b; b = next) {
		next = b->next;
		free(b);
	}
	for (struct batch *b = q->spare, *next; b; b = next) {
		next = b->next;
		free(b);
	}
	free(q->cur);
	pthread_cond_destroy(&q->changed);
	pthread_mutex_destroy(&q->mu);
	free(q);
	db->q = NULL;
	return rc;
}
