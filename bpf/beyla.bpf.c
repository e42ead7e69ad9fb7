// SPDX-License-Identifier: GPL-2.0
/* beyla.bpf.c - every BPF program of the recorder, one compilation unit.
 * Each hook family lives in its own header: proc (exec/fork/exit), conn
 * (accept/connect/state/data_ready), kwait (the kernel's waits around a
 * socket, from data_ready), data (socket reads and writes), tls
 * (plaintext from a TLS library), go (Go runtime uprobes), ssl (OpenSSL
 * uprobes), sched (--sched: threads on and off CPU).
 * Configuration is load-time rodata (maps.bpf.h); nothing here is chosen
 * by build variants. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "beyla_events.h"
#include "maps.bpf.h"
#include "proc.bpf.h"
#include "kwait.bpf.h"
#include "conn.bpf.h"
#include "h2.bpf.h"
#include "data.bpf.h"
#include "tls.bpf.h"
#include "go.bpf.h"
#include "ssl.bpf.h"
#include "sched.bpf.h"

char LICENSE[] SEC("license") = "GPL";
