/* kwaits.h - what the recorder sets up for the kernel-wait records
 * (bpf/kwait.bpf.h): the clock offset skb timestamps need, and the kernel's
 * receive timestamps turned on for the recording's length. */
#ifndef BEYLA_KWAITS_H
#define BEYLA_KWAITS_H

#include <stdint.h>

/* CLOCK_REALTIME - CLOCK_MONOTONIC now, from the closest of a few paired
 * reads (skb timestamps are real time, the events monotonic). */
int64_t kwaits_real_minus_mono(void);

/* A socket that asked for SO_TIMESTAMPNS: while one exists the kernel
 * timestamps every packet it receives (net_enable_timestamp), on loopback
 * at the sender's transmit.  Its descriptor, to close when recording ends,
 * or -errno. */
int kwaits_timestamps_on(void);

/* net.core.netdev_tstamp_prequeue: 1 (the default) timestamps a packet
 * before it waits in a CPU's backlog, 0 after; -1 when unreadable. */
int kwaits_prequeue(void);

/* The shortest receive-path wait an RX_ARRIVAL is written for. */
#define KWAITS_RX_MIN_NS 20000ull

#endif
