/* span_parts.h - the optional parts of a server span's time that schema
 * version 8 added (schema/spans.sql, span_rows): the kernel's own waits
 * before the socket was told of a request and after the last write of its
 * response (docs/accuracy.md, "Kernel waits"), and, from `beyla record
 * --sched`, how processing divides between running, waiting for a CPU and
 * blocked.  One enum so that the database writer, route_stats and the
 * exporters list them in one order under one set of names. */
#ifndef BEYLA_SPAN_PARTS_H
#define BEYLA_SPAN_PARTS_H

enum bz_span_part {
	BZ_PART_RX_BACKLOG = 0, /* part of queue_ns: host arrival -> the socket told */
	BZ_PART_TX_QUEUE,       /* after the last write: -> the peer's socket has it all */
	BZ_PART_ON_CPU,         /* --sched: part of processing_ns on a CPU */
	BZ_PART_RUNQ,           /* --sched: ... runnable, waiting for a CPU */
	BZ_PART_BLOCKED,        /* --sched: ... blocked */
	BZ_PART_MAX
};

/* The column of span_rows, route_stat_rows and service_stat_rows. */
static const char *const bz_span_part_column[BZ_PART_MAX] = {
	"rx_backlog_ns", "tx_queue_ns", "on_cpu_ns", "runq_ns", "blocked_ns",
};

#endif
