#!/usr/bin/env python3
"""accuracy.py - join the load client's records with beyla's server spans.

  accuracy.py row CLIENT.csv SPANS.db SERVER LOAD COST_MS [http|https] [--proxied] >> results.jsonl
  accuracy.py table results.jsonl [--md]      # text (or markdown) table
  accuracy.py tsv results.jsonl               # server load ok spans lost matched med_err client_errors
                                              # med_abs_us wrong (= wrong_port + wrong_scheme) non_2xx
                                              # nesting (0 but for a proxied server's backend row)
  accuracy.py cpu-tsv results.jsonl           # server load ok lost matched med_err p95_err client_errors
                                              # non_2xx handler_cpu_ms on_cpu_err sched_spans sched_sum_bad
                                              # ("nan" where a value is unknown)

Join: a client connection (loadgen: slot, conn_seq, local port, connect time) is the
accepted connection in the database with that remote port whose established_ns is
nearest to the client's connect time (ports are reused across a run); its requests
are joined by their 0-based index on the connection.  HTTPS is joined the same way:
beyla's spans of OpenSSL plaintext sit on the TCP connection under it, with its
ports and handshake time.  A matched span whose client_port is not the client's
port, or whose url.scheme is not the one the client spoke (the optional last
argument, default http), is counted (wrong_port, wrong_scheme) and misses a target.

Per request:  client time = done - send (request 0 of a connection: done - connect,
because the server span of a first request starts at the handshake), where done is
the kernel's receive timestamp of the response's last segment (SO_TIMESTAMPNS) when
the client has it, else the return of its read (the *_user columns always use the
latter: it adds the client thread's own scheduling delay);
error = |client time - span duration| / client time;
expected queue = client time - handler cost (what the client saw beyond the handler).
The client's spans are the server spans on TCP connections (a proxied server's
backend serves on a UNIX socket).

--proxied (gunicorn-unix: nginx in front of a backend on a UNIX socket, both
recorded) prints a second row, SERVER:backend, for the backend as its client,
nginx, saw it.  The first row is unchanged: the load client against nginx's
server span (whose processing includes the whole upstream call, so its "proc"
and "queue" say where nginx spent the time, not the backend).  Backend join,
for every client request joined to an nginx span: nginx's server span -> its
child client span on a UNIX connection (parent_id; the first by start if
several) -> that client span's child server span in the backend (parent_id).
No such span (or an incomplete one) leaves the request lost: ok = requests
joined in the first row, matched = backend spans reached, lost = ok - matched,
spans = the backend's server spans in the database (unlinked = spans -
matched: spans no client request leads to).
Backend client time = what nginx saw, at its own syscalls: the upstream client
span's end (return of nginx's read of the response's last byte) minus, for
request_index 0 (nginx without upstream keepalive opens a connection per
request), the entry of its connect() (connections.syscall_start_ns of the
client connection, else the client span's start), else minus the client
span's start.  A UNIX connect() queues the backend's end on its listener
inside the call, which is where the backend span of a first request starts,
so that span should lie within [connect(), read return]; one that does not
counts in "nesting" (a miss).  nginx's time is the reference because it is
the backend's only client: as the load client's for nginx, it holds every
wait the backend caused (its accept queue included) and, beyond that, only
nginx's own delays (its wake-up to read the response; a write after
connect() that came after the backend's accept: the backend span then starts
at the request's arrival) -- med_before_us / med_after_us show those two
gaps.  non_2xx is the backend spans' status code, wrong_scheme their
url.scheme (http), wrong_port 0, client_errors upstream calls nginx saw no
complete response to.

Kernel waits and CPU (issue 20; schema version 8 columns, NULL until the
recorder fills them, absent from older databases: then "n/a", never an
error).  Over the matched spans whose column is not NULL: mean_rx_backlog_ms
(rx_backlog_ns: the request's bytes waiting for the kernel's receive path,
part of queue), mean_tx_queue_ms and tx_queue_share = sum(tx_queue_ns) /
sum(duration_ns) (the response after the server's last write, before it
reached the client's socket).  With `beyla record --sched` (on_cpu_ns,
runq_ns, blocked_ns): med_on_cpu_ms, med_runq_ms, med_blocked_ms,
sched_spans (spans with all three), sched_sum_bad (spans where on_cpu +
runq + blocked differs from processing_ns by more than 1 %), and, when the
server reports its handler's CPU time (X-Handler-Cpu-Ns, loadgen's
handler_cpu_ns column: the *-cpu servers), handler_cpu_ms = the median of
it over the matched requests and on_cpu_err = (median on_cpu - median
handler CPU) / median handler CPU.  A row whose requests carry a handler CPU
is "cpu_bound": its handler's wall time is not its cost under load (it waits
for the CPU inside processing), so the proc and queue targets apply to it
only without load, and the on-CPU target (|on_cpu_err| <= 15 %) replaces
them; sched_sum_bad > 0 misses "sched_sum" on any row.
"""
import csv, json, sqlite3, statistics, sys
from collections import defaultdict

# span columns of schema version 8 (issue 20), in kernel_parts' order
KERNEL_COLS = ("rx_backlog_ns", "tx_queue_ns", "on_cpu_ns", "runq_ns", "blocked_ns")


def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, int(round(p / 100 * len(xs) + 0.5)) - 1))  # nearest rank
    return xs[k]


def med(xs):
    return statistics.median(xs) if xs else None


def mean(xs):
    return sum(xs) / len(xs) if xs else None


def kernel_parts(parts):
    """The issue-20 columns of a row and their targets.  parts: one (duration,
    processing, rx_backlog, tx_queue, on_cpu, runq, blocked, handler_cpu) per
    matched request, None where the database (or the client) has no value."""
    rxb = [p[2] for p in parts if p[2] is not None]
    txq = [(p[3], p[0]) for p in parts if p[3] is not None]
    sched = [p for p in parts if None not in (p[4], p[5], p[6])]
    hcpu = [p[7] for p in parts if p[7]]
    on = [p[4] for p in parts if p[4] is not None]
    bad = sum(1 for p in sched if abs(p[4] + p[5] + p[6] - p[1]) > 0.01 * p[1])
    out = {
        "rx_backlog_spans": len(rxb), "mean_rx_backlog_ms": mean([x / 1e6 for x in rxb]),
        "tx_queue_spans": len(txq), "mean_tx_queue_ms": mean([x / 1e6 for x, _ in txq]),
        "tx_queue_share": (sum(x for x, _ in txq) / sum(d for _, d in txq)) if txq and sum(d for _, d in txq) > 0 else None,
        "handler_cpu_ms": med([x / 1e6 for x in hcpu]),
        "med_on_cpu_ms": med([x / 1e6 for x in on]),
        "med_runq_ms": med([p[5] / 1e6 for p in sched]), "med_blocked_ms": med([p[6] / 1e6 for p in sched]),
        "sched_spans": len(sched), "sched_sum_bad": bad if sched else None,
    }
    out["on_cpu_err"] = (med(on) - med(hcpu)) / med(hcpu) if on and hcpu and med(hcpu) > 0 else None
    miss = []
    if out["on_cpu_err"] is not None and abs(out["on_cpu_err"]) > 0.15:
        miss.append("oncpu")
    if bad:
        miss.append("sched_sum")
    return out, miss


def summary(m, cost, load, cpu_bound=False):
    """The timing columns of a row and its timing targets.  m: one (client_ns,
    span, user_client_ns) per matched request, span = (duration, queue, accept
    queue, recv queue, processing, incomplete, tid, ...), user_client_ns the
    client time with the client's read-return time (None: the same as client_ns)."""
    errs = [abs(c - s[0]) / c for c, s, _ in m if c > 0]
    uerrs = []  # the same with the client's user-space read-return time
    for c, s, cu in m:
        cu = c if cu is None else cu
        if cu > 0:
            uerrs.append(abs(cu - s[0]) / cu)
    signed = [(s[0] - c) / c for c, s, _ in m if c > 0]
    procs = [s[4] for _, s, _ in m]
    qshare = [s[1] / s[0] for _, s, _ in m if s[0] > 0]
    exp_share = [max(0.0, c - cost) / c for c, _, _ in m if c > 0]
    qdiff = [s[1] - max(0.0, c - cost) for c, s, _ in m]
    out = {
        "med_err": med(errs), "p95_err": pct(errs, 95),
        "med_abs_us": med([abs(c - s[0]) / 1e3 for c, s, _ in m]),
        "med_err_user": med(uerrs), "p95_err_user": pct(uerrs, 95), "med_signed_err": med(signed),
        "med_client_ms": med([c / 1e6 for c, _, _ in m]),
        "med_total_ms": med([s[0] / 1e6 for _, s, _ in m]),
        "med_proc_ms": med([p / 1e6 for p in procs]),
        "proc_err": (med(procs) - cost) / cost if procs and cost > 0 else None,
        "med_queue_ms": med([s[1] / 1e6 for _, s, _ in m]),
        "med_accept_ms": med([s[2] / 1e6 for _, s, _ in m]),
        "med_recv_ms": med([s[3] / 1e6 for _, s, _ in m]),
        "queue_share": med(qshare), "sum_queue_share": (sum(s[1] for _, s, _ in m) / sum(s[0] for _, s, _ in m)) if m else None,
        "expected_share": med(exp_share),
        "med_beyond_ms": med([max(0.0, c - cost) / 1e6 for c, _, _ in m]),
        "med_qdiff_ms": med([d / 1e6 for d in qdiff]),
        "threads": len({s[6] for _, s, _ in m}),
    }
    # Targets (issue 4).  Processing and queue-share targets need a handler cost;
    # a CPU-bound handler under load waits for its CPU inside processing, so
    # there its wall time is not its cost (the on-CPU target, kernel_parts).
    miss = []
    if out["med_err"] is None or out["med_err"] > 0.05:
        miss.append("med")
    if out["p95_err"] is None or out["p95_err"] > 0.10:
        miss.append("p95")
    if out["proc_err"] is not None and abs(out["proc_err"]) > 0.10 and not (cpu_bound and load != "noload"):
        miss.append("proc")
    if load != "noload" and cost > 0 and out["queue_share"] is not None and not cpu_bound and \
            abs(out["queue_share"] - out["expected_share"]) > 0.10:
        miss.append("queue")
    if load == "noload" and cost > 0 and out["queue_share"] is not None and out["queue_share"] > 0.10:
        miss.append("queue")
    return out, miss


def row(csv_path, db_path, server, load, cost_ms, scheme="http", proxied=False):
    cost = float(cost_ms) * 1e6
    reqs = []
    conns = defaultdict(list)
    with open(csv_path) as f:
        for r in csv.DictReader(f):
            for k in ("slot", "conn_seq", "local_port", "req_index", "status"):
                r[k] = int(r[k])
            for k in ("connect_ns", "send_ns", "done_ns"):
                r[k] = int(r[k])
            r["done_user_ns"] = r["done_ns"]
            r["handler_cpu_ns"] = int(r.get("handler_cpu_ns") or 0)  # older CSVs have no such column
            rx = int(r.get("done_rx_ns") or 0)
            if rx > 0:  # kernel receive time of the response's last segment
                r["done_ns"] = rx
            reqs.append(r)
            conns[(r["slot"], r["conn_seq"])].append(r)
    ok = [r for r in reqs if r["status"] > 0]
    db = sqlite3.connect(db_path)
    spans = {}
    nspans = nincomplete = 0
    # The issue-20 columns (schema version 8), NULL where a database before
    # version 8 has none.
    have = {d[0] for d in db.execute("select * from spans limit 0").description}
    extra = ", ".join(("s." + c) if c in have else "null" for c in KERNEL_COLS)
    # The client's server spans: those on TCP connections (a proxied server's
    # backend serves on a UNIX socket: its spans are the second row's).
    for (cid, idx, dur, q, aq, rq, proc, inc, tid, cport, sch, sid, *kp) in db.execute(
            "select s.conn_id, s.request_index, s.duration_ns, s.queue_ns, s.accept_queue_ns, s.recv_queue_ns, "
            "s.processing_ns, s.incomplete, s.tid, s.client_port, a.value, s.span_id, " + extra + " from spans s "
            "left join span_attributes a on a.span_id = s.span_id and a.key = 'url.scheme' "
            "left join connections c on c.conn_id = s.conn_id "
            "where s.kind = 'server' and c.family is not 'unix'"):
        nspans += 1
        nincomplete += inc
        spans[(cid, idx)] = (dur, q, aq, rq, proc, inc, tid, cport, sch, sid, *kp)
    by_port = defaultdict(list)
    for cid, port, est, opened, closed in db.execute(
            "select conn_id, remote_port, established_ns, opened_ns, closed_ns from connections where role = 'accepted'"):
        by_port[port].append((est or opened or 0, cid, closed))
    drops = db.execute("select coalesce(sum(lost + missed), 0) from drops").fetchone()[0]
    used = set()
    m = []  # matched: (client_ns, span tuple, request)
    why = defaultdict(int)  # answered requests left unmatched, by reason
    wrong_port = wrong_scheme = 0  # matched spans with another client port / url.scheme
    for key, rs in conns.items():
        port, t0 = rs[0]["local_port"], rs[0]["connect_ns"]
        cands = [c for c in by_port.get(port, []) if c[1] not in used]
        # A port is reused as soon as its last connection closed: under load
        # an earlier connection of the same port can be established nearer
        # this one's connect() than its own (a slow handshake).  The server
        # side must still be open when the client sent its last request.
        last_send = max(r["send_ns"] for r in rs)
        alive = [c for c in cands if c[2] is None or c[2] >= last_send]
        cands = alive or cands
        est, cid, _ = min(cands, key=lambda c: abs(c[0] - t0)) if cands else (None, None, None)
        if cid is None or abs(est - t0) > 2e9:
            why["no_connection"] += sum(1 for r in rs if r["status"] > 0)
            continue
        used.add(cid)
        for r in rs:
            if r["status"] <= 0:
                continue
            s = spans.get((cid, r["req_index"]))
            if s is None or s[5]:
                why["no_span" if s is None else "incomplete_span"] += 1
                continue
            wrong_port += s[7] != r["local_port"]
            wrong_scheme += s[8] != scheme
            start = r["connect_ns"] if r["req_index"] == 0 else r["send_ns"]
            m.append((r["done_ns"] - start, s, r))
    out = {
        "server": server, "load": load, "cost_ms": float(cost_ms),
        "sent": len(reqs), "ok": len(ok), "client_errors": len(reqs) - len(ok),
        "non_2xx": sum(1 for r in ok if not 200 <= r["status"] < 300),
        "spans": nspans, "incomplete": nincomplete, "matched": len(m), "unmatched": dict(why),
        "lost": len(ok) - nspans, "drops": drops,
    }
    cpu_bound = any(r["handler_cpu_ns"] > 0 for _, _, r in m)
    timing, miss = summary([(c, s, c + r["done_user_ns"] - r["done_ns"]) for c, s, r in m], cost, load, cpu_bound)
    out.update(timing)
    out["cpu_bound"] = cpu_bound
    kparts, kmiss = kernel_parts([(s[0], s[4], *s[10:15], r["handler_cpu_ns"]) for _, s, r in m])
    out.update(kparts)
    miss += kmiss
    out.update({
        "scheme": scheme, "wrong_port": wrong_port, "wrong_scheme": wrong_scheme,
        "med_tls_ms": med([int(r.get("tls_ns") or 0) / 1e6 for rs in conns.values() for r in rs[:1]
                           if int(r.get("tls_ns") or 0) > 0]),
    })
    if out["lost"] != 0 or out["matched"] != out["ok"]:
        miss.append("lost")
    if out["non_2xx"]:
        miss.append("status")  # the server did not do the work asked (GET /work answers 200)
    if wrong_port:
        miss.append("port")
    if wrong_scheme:
        miss.append("scheme")
    out["misses"] = miss
    print(json.dumps(out))
    if proxied:
        backend_row(db, server + ":backend", load, cost_ms, [s for _, s, _ in m], drops)


def backend_row(db, server, load, cost_ms, fronts, drops):
    """The backend of a proxied server, as its client (the proxy) saw it: from
    each matched front span (span tuple, span_id last) to its client span on a
    UNIX connection, and from that to the backend's server span."""
    cost = float(cost_ms) * 1e6
    ups = defaultdict(list)  # front span_id -> its upstream client spans
    for row_ in db.execute(
            "select u.span_id, u.parent_id, u.start_ns, u.end_ns, u.request_index, u.incomplete, "
            "coalesce(uc.syscall_start_ns, u.start_ns) from span_rows u "
            "join connections uc on uc.conn_id = u.conn_id "
            "where u.kind = 'client' and uc.family = 'unix' and u.parent_id is not null order by u.start_ns"):
        ups[row_[1]].append(row_)
    backs = {}  # upstream client span_id -> the backend's server span
    nspans = nincomplete = 0
    for (sid, parent, st, en, dur, q, aq, rq, proc, inc, tid, code, sch) in db.execute(
            "select s.span_id, s.parent_id, s.start_ns, s.end_ns, s.duration_ns, s.queue_ns, s.accept_queue_ns, "
            "s.recv_queue_ns, s.processing_ns, s.incomplete, s.tid, s.http_status_code, s.url_scheme "
            "from span_rows s join connections c on c.conn_id = s.conn_id "
            "where s.kind = 'server' and c.family = 'unix'"):
        nspans += 1
        nincomplete += inc
        if parent is not None:
            backs[parent] = (dur, q, aq, rq, proc, inc, tid, st, en, code, sch)
    m = []  # matched: (nginx's time of the upstream call, backend span, None)
    why = defaultdict(int)
    nesting = non_2xx = wrong_scheme = client_errors = extra_calls = 0
    before, after = [], []  # nginx's call start -> backend span start, backend span end -> call end
    for f in fronts:
        us = ups.get(f[9], [])
        if not us:
            why["no_upstream_span"] += 1
            continue
        extra_calls += len(us) - 1
        u = us[0]
        if u[5]:
            why["incomplete_upstream_span"] += 1
            client_errors += 1  # nginx saw no complete response
            continue
        b = backs.get(u[0])
        if b is None or b[5]:
            why["no_backend_span" if b is None else "incomplete_backend_span"] += 1
            continue
        # A first request's call starts at nginx's connect(): the backend's
        # span starts when the connection was queued on its listener, inside
        # that connect().
        start = u[6] if u[4] == 0 else u[2]
        nesting += b[7] < start or b[8] > u[3]
        before.append(b[7] - start)
        after.append(u[3] - b[8])
        non_2xx += not (b[9] is not None and 200 <= b[9] < 300)
        wrong_scheme += b[10] != "http"
        m.append((u[3] - start, b, None))
    out = {
        "server": server, "load": load, "cost_ms": float(cost_ms),
        "sent": len(fronts), "ok": len(fronts), "client_errors": client_errors, "non_2xx": non_2xx,
        "spans": nspans, "incomplete": nincomplete, "matched": len(m), "unmatched": dict(why),
        "lost": len(fronts) - len(m), "drops": drops,
        "unlinked": nspans - len(m), "nesting": nesting, "extra_upstream_calls": extra_calls,
        "med_before_us": med([x / 1e3 for x in before]), "p95_before_us": pct([x / 1e3 for x in before], 95),
        "med_after_us": med([x / 1e3 for x in after]), "p95_after_us": pct([x / 1e3 for x in after], 95),
    }
    timing, miss = summary(m, cost, load)
    out.update(timing)
    out["cpu_bound"] = False
    out.update(kernel_parts([])[0])  # (not read for the backend: n/a)
    out.update({"scheme": "http", "wrong_port": 0, "wrong_scheme": wrong_scheme, "med_tls_ms": None})
    if out["lost"] != 0 or out["matched"] != out["ok"]:
        miss.append("lost")
    if out["unlinked"]:
        miss.append("unlinked")  # backend spans no client request leads to
    if nesting:
        miss.append("nesting")  # a backend span outside the upstream call that caused it
    if non_2xx:
        miss.append("status")
    if wrong_scheme:
        miss.append("scheme")
    out["misses"] = miss
    print(json.dumps(out))


def fmt(v, kind):
    if v is None:
        return "n/a"
    if kind == "pct":
        return "%.1f%%" % (100 * v)
    if kind == "spct":
        return "%+.1f%%" % (100 * v)
    if kind == "ms":
        return "%.2f" % v
    if kind == "ms3":
        return "%.3f" % v
    return str(v)


COLS = [("server", "server", None), ("load", "load", None), ("sent", "sent", None),
        ("matched", "matched", None), ("lost", "lost", None),
        ("med err", "med_err", "pct"), ("p95 err", "p95_err", "pct"),
        ("med err (read ret)", "med_err_user", "pct"), ("p95 err (read ret)", "p95_err_user", "pct"),
        ("client ms", "med_client_ms", "ms"), ("span ms", "med_total_ms", "ms"),
        ("proc ms", "med_proc_ms", "ms"), ("proc vs cost", "proc_err", "spct"),
        ("queue ms", "med_queue_ms", "ms"), ("accept ms", "med_accept_ms", "ms"),
        ("recv ms", "med_recv_ms", "ms"), ("queue share", "queue_share", "pct"),
        ("beyond handler", "expected_share", "pct"), ("targets", "misses", None)]


# Issue 20: the kernel's waits and, with --sched, where processing went; and
# each of issue 20's targets, met or not ("n/a": the capture has no such
# column, or the server reports no handler CPU).
def met(r, name, known=True):
    if not known:
        return "n/a"
    return "MISSED" if name in r["misses"] else "met"


KCOLS = [("server", lambda r: r["server"]), ("load", lambda r: r["load"]),
         ("med err", lambda r: fmt(r.get("med_err"), "pct")), ("med <= 5%", lambda r: met(r, "med")),
         ("p95 err", lambda r: fmt(r.get("p95_err"), "pct")), ("p95 <= 10%", lambda r: met(r, "p95")),
         ("rx backlog ms (mean)", lambda r: fmt(r.get("mean_rx_backlog_ms"), "ms3")),
         ("tx queue ms (mean)", lambda r: fmt(r.get("mean_tx_queue_ms"), "ms3")),
         ("tx queue share", lambda r: fmt(r.get("tx_queue_share"), "pct")),
         ("handler CPU ms", lambda r: fmt(r.get("handler_cpu_ms"), "ms")),
         ("on-CPU ms", lambda r: fmt(r.get("med_on_cpu_ms"), "ms")),
         ("runq ms", lambda r: fmt(r.get("med_runq_ms"), "ms")),
         ("blocked ms", lambda r: fmt(r.get("med_blocked_ms"), "ms")),
         ("on-CPU vs handler CPU", lambda r: fmt(r.get("on_cpu_err"), "spct")),
         ("on-CPU within 15%", lambda r: met(r, "oncpu", r.get("on_cpu_err") is not None)),
         ("parts = proc (1%)", lambda r: "n/a" if r.get("sched_sum_bad") is None else
          "met" if not r["sched_sum_bad"] else "MISSED: %d of %d" % (r["sched_sum_bad"], r["sched_spans"]))]


def print_table(head, lines, md):
    if md:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for c in lines:
            print("| " + " | ".join(c) + " |")
    else:
        w = [max(len(h), *(len(c[i]) for c in lines)) if lines else len(h) for i, h in enumerate(head)]
        print("  ".join(h.ljust(w[i]) for i, h in enumerate(head)))
        for c in lines:
            print("  ".join(x.ljust(w[i]) for i, x in enumerate(c)))


def table(path, md):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    head = [c[0] for c in COLS]
    lines = []
    for r in rows:
        cells = []
        for _, k, kind in COLS:
            if k == "misses":
                cells.append("met" if not r[k] else "MISSED: " + ",".join(r[k]))
            else:
                cells.append(fmt(r.get(k), kind))
        lines.append(cells)
    print_table(head, lines, md)
    print()
    print("Kernel waits and CPU (issue 20; n/a: not in this capture, or no handler CPU reported):")
    print()
    print_table([c[0] for c in KCOLS], [[f(r) for _, f in KCOLS] for r in rows], md)


def tsv(path):
    for l in open(path):
        if not l.strip():
            continue
        r = json.loads(l)
        e = r["med_err"]
        print("\t".join(str(x) for x in (r["server"], r["load"], r["ok"], r["spans"], r["lost"], r["matched"],
                                         "nan" if e is None else "%.4f" % e, r["client_errors"],
                                         "nan" if r.get("med_abs_us") is None else "%d" % round(r["med_abs_us"]),
                                         r.get("wrong_scheme", 0) + r.get("wrong_port", 0), r.get("non_2xx", 0),
                                         r.get("nesting", 0))))


def cpu_tsv(path):
    def num(v, f="%.4f"):
        return "nan" if v is None else f % v
    for l in open(path):
        if not l.strip():
            continue
        r = json.loads(l)
        print("\t".join(str(x) for x in (r["server"], r["load"], r["ok"], r["lost"], r["matched"],
                                         num(r["med_err"]), num(r["p95_err"]), r["client_errors"],
                                         r.get("non_2xx", 0), num(r.get("handler_cpu_ms"), "%.3f"),
                                         num(r.get("on_cpu_err")), r.get("sched_spans", 0),
                                         num(r.get("sched_sum_bad"), "%d"))))


if __name__ == "__main__":
    a = sys.argv[1:]
    proxied = "--proxied" in a
    if proxied:
        a.remove("--proxied")
    if a and a[0] == "row" and len(a) in (6, 7):
        row(*a[1:], proxied=proxied)
    elif a and a[0] == "table" and len(a) in (2, 3):
        table(a[1], len(a) == 3 and a[2] == "--md")
    elif a and a[0] == "tsv" and len(a) == 2:
        tsv(a[1])
    elif a and a[0] == "cpu-tsv" and len(a) == 2:
        cpu_tsv(a[1])
    else:
        sys.exit(__doc__)
