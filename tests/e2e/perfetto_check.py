#!/usr/bin/env python3
"""perfetto_check.py - checks a `beyla analyze --perfetto` file against the
Trace Event Format and against the database it was written from (python3
standard library only).

    perfetto_check.py OUT.json DB       prints ok / not ok lines, exit 1 on a failure

What is checked:
  * the file is one well-formed JSON object (no duplicate names, no NaN),
    {"traceEvents": [...], "displayTimeUnit": "ms"};
  * every event has the fields its phase needs, with the right types (pid,
    tid integers, ts and dur numbers, not booleans), ts and dur >= 0;
  * B/E pairs balance and nest per thread (pid, tid); b/e pairs per async
    track (pid, cat, id); X slices on one thread track nest strictly: a
    slice that starts inside another ends inside it (ordered by ts, ties in
    file order, as viewers sort);
  * "in queue" and "processing" are children of their server span's slice,
    a client slice drawn on its server span's track lies inside it;
  * flows: each s has one f with the same cat, name and id, the f has
    "bp": "e", both bind to a slice enclosing their ts on their thread, and
    that slice is (inside) the span the flow names (args.from, args.to);
  * every process and thread with events is named (M process_name,
    thread_name);
  * against the database: slices = the rows of the view `spans` (server
    and client spans, and each server span's "in queue", "processing" and,
    when its response waited after the last write, "in send queue"), each span of the
    view `spans` exactly once with its name, start and duration; flows =
    server spans whose parent is a client span.
"""
import decimal
import json
import sqlite3
import sys
from collections import defaultdict

FAILED = 0


def ok(name):
    print(f"ok - {name}")


def not_ok(name, *why):
    global FAILED
    FAILED += 1
    print(f"not ok - {name}")
    for w in why[:8]:
        print(f"#   {w}")


def check(name, problems):
    """ok when problems (a list of strings) is empty."""
    if problems:
        not_ok(f"{name} ({len(problems)} problems)", *problems)
    else:
        ok(name)


def no_dup_pairs(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError(f"duplicate name {k!r} in an object")
        d[k] = v
    return d


def bad_constant(c):
    raise ValueError(f"{c} is not JSON")


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return isinstance(v, (int, decimal.Decimal)) and not isinstance(v, bool)


def ns(v):
    """microseconds (int or exact Decimal) -> integer nanoseconds, or None if not whole ns"""
    x = decimal.Decimal(v) * 1000
    return int(x) if x == x.to_integral_value() else None


REQUIRED = {  # phase -> fields beyond ph
    "X": ("name", "pid", "tid", "ts", "dur"),
    "B": ("name", "pid", "tid", "ts"),
    "E": ("pid", "tid", "ts"),
    "b": ("name", "cat", "pid", "ts"),
    "e": ("cat", "pid", "ts"),
    "n": ("name", "cat", "pid", "ts"),
    "s": ("name", "cat", "id", "pid", "tid", "ts"),
    "t": ("name", "cat", "id", "pid", "tid", "ts"),
    "f": ("name", "cat", "id", "pid", "tid", "ts"),
    "M": ("name", "pid", "args"),
}
META_ARG = {"process_name": ("name", str), "thread_name": ("name", str),
            "process_labels": ("labels", str),
            "process_sort_index": ("sort_index", int), "thread_sort_index": ("sort_index", int)}


def field_problems(i, e):
    p = []
    if not isinstance(e, dict):
        return [f"event {i} is not an object"]
    ph = e.get("ph")
    if ph not in REQUIRED:
        return [f"event {i}: unknown ph {ph!r}"]
    for f in REQUIRED[ph]:
        if f not in e:
            p.append(f"event {i} ({ph}): no {f!r}")
    if ph in "bne" and "id" not in e and "id2" not in e:
        p.append(f"event {i} ({ph}): no id or id2")
    for f in ("pid", "tid"):
        if f in e and not is_int(e[f]):
            p.append(f"event {i} ({ph}): {f} {e[f]!r} is not an integer")
    for f in ("ts", "dur"):
        if f in e:
            if not is_num(e[f]):
                p.append(f"event {i} ({ph}): {f} {e[f]!r} is not a number")
            elif e[f] < 0:
                p.append(f"event {i} ({ph}): {f} {e[f]} < 0")
            elif ns(e[f]) is None:
                p.append(f"event {i} ({ph}): {f} {e[f]} has digits below 1 ns")
    for f in ("name", "cat"):
        if f in e and not isinstance(e[f], str):
            p.append(f"event {i} ({ph}): {f} is not a string")
    if "id" in e and not (is_int(e["id"]) or isinstance(e["id"], str)):
        p.append(f"event {i} ({ph}): id is neither an integer nor a string")
    if "args" in e and not isinstance(e["args"], dict):
        p.append(f"event {i} ({ph}): args is not an object")
    if ph == "f" and e.get("bp", "e") != "e":
        p.append(f"event {i}: f with bp {e.get('bp')!r}")
    if ph == "M" and isinstance(e.get("args"), dict):
        want = META_ARG.get(e.get("name"))
        if not want:
            p.append(f"event {i}: unknown metadata {e.get('name')!r}")
        else:
            k, t = want
            v = e["args"].get(k)
            if not isinstance(v, t) or isinstance(v, bool):
                p.append(f"event {i}: {e['name']} args.{k} is {v!r}")
            if e["name"].startswith("thread") and not is_int(e.get("tid")):
                p.append(f"event {i}: {e['name']} without an integer tid")
    return p


class Slice:
    __slots__ = ("i", "track", "ts", "end", "name", "args", "parent", "depth")

    def __init__(self, i, track, ts, end, name, args):
        self.i, self.track, self.ts, self.end, self.name, self.args = i, track, ts, end, name, args
        self.parent, self.depth = None, 0

    def ancestors(self):
        s = self
        while s is not None:
            yield s
            s = s.parent


def nest_x(slices):
    """X slices of one track, in file order: the partial overlaps; sets parent and depth."""
    p = []
    stack = []
    for s in sorted(slices, key=lambda s: s.ts):  # stable: ties stay in file order
        while stack and stack[-1].end <= s.ts:  # ended: a slice may start where another ends
            stack.pop()
        if stack and s.end > stack[-1].end:
            t = stack[-1]
            p.append(f"track {s.track}: {s.name!r} [{s.ts}, {s.end}] overlaps {t.name!r} [{t.ts}, {t.end}] partially")
            continue
        s.parent = stack[-1] if stack else None
        s.depth = len(stack)
        stack.append(s)
    return p


def balance(events, key_of, kind):
    """B/E or b/e: begin/end pairs per track balanced and nested (an end closes the latest begin)."""
    p = []
    stacks = defaultdict(list)
    order = sorted(events, key=lambda ie: ns(ie[1]["ts"]))
    for i, e in order:
        k = key_of(e)
        if e["ph"] in "Bb":
            stacks[k].append((i, e))
        else:
            if not stacks[k]:
                p.append(f"{kind} track {k}: end event {i} without a begin")
                continue
            bi, b = stacks[k].pop()
            if "name" in e and e.get("name") != b.get("name"):
                p.append(f"{kind} track {k}: end {i} ({e.get('name')!r}) closes {b.get('name')!r}: improper nesting")
    for k, st in stacks.items():
        for bi, b in st:
            p.append(f"{kind} track {k}: begin event {bi} ({b.get('name')!r}) never ends")
    return p


def enclosing(slices_by_track, track, ts):
    """the deepest slice of track with ts <= t <= end"""
    best = None
    for s in slices_by_track.get(track, ()):
        if s.ts <= ts <= s.end and (best is None or s.depth > best.depth or
                                    (s.depth == best.depth and s.ts >= best.ts)):
            best = s
    return best


def main():
    if len(sys.argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    path, db_path = sys.argv[1], sys.argv[2]
    try:
        with open(path, "rb") as f:
            raw = f.read()
        doc = json.loads(raw.decode("utf-8"), object_pairs_hook=no_dup_pairs,
                         parse_float=decimal.Decimal, parse_constant=bad_constant)
    except (ValueError, UnicodeDecodeError) as e:
        not_ok("the file is well-formed JSON (UTF-8, unique names, no NaN)", str(e))
        return 1
    ok("the file is well-formed JSON (UTF-8, unique names, no NaN)")
    top = []
    if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
        not_ok("top level is {\"traceEvents\": [...]}")
        return 1
    if doc.get("displayTimeUnit") not in ("ms", "ns"):
        top.append(f"displayTimeUnit is {doc.get('displayTimeUnit')!r}")
    check("top level: traceEvents array and displayTimeUnit", top)
    events = doc["traceEvents"]

    probs = []
    for i, e in enumerate(events):
        probs += field_problems(i, e)
    check(f"every event of {len(events)} has its phase's fields, typed, ts and dur >= 0", probs)
    if probs:
        return 1

    # --- slices and their nesting
    by_ph = defaultdict(list)
    for i, e in enumerate(events):
        by_ph[e["ph"]].append((i, e))
    check("B/E pairs balanced and nested per thread",
          balance(by_ph["B"] + by_ph["E"], lambda e: (e["pid"], e.get("tid", e["pid"])), "thread"))
    check("b/e pairs balanced and nested per async track (pid, cat, id)",
          balance(by_ph["b"] + by_ph["e"], lambda e: (e["pid"], e["cat"], str(e.get("id", e.get("id2")))), "async"))
    tracks = defaultdict(list)
    by_span = {}
    dup = []
    for i, e in by_ph["X"]:
        t0 = ns(e["ts"])
        s = Slice(i, (e["pid"], e["tid"]), t0, t0 + ns(e["dur"]), e["name"], e.get("args", {}))
        tracks[s.track].append(s)
        sid = s.args.get("span_id")
        if sid is not None:
            if sid in by_span:
                dup.append(f"span {sid} has two slices")
            by_span[sid] = s
    probs = []
    for tr, sl in tracks.items():
        probs += nest_x(sl)
    check(f"X slices ({len(by_ph['X'])} on {len(tracks)} thread tracks) nest strictly per track", probs)
    check("a span has one slice", dup)

    # A slice is inside another when it starts before the other ends (a
    # viewer closes a slice at its end before it opens the next one): a
    # zero-length "processing" at its server span's end (a request that never
    # left the queue) is drawn beside it, the one placement the times allow.
    probs, nested, beside = [], 0, 0
    for sid, s in by_span.items():
        par = s.args.get("parent_id")
        p = by_span.get(par) if par else None
        if s.args.get("kind") == "internal":
            if p is not None and s.ts == s.end == p.end and p.track == s.track and s.parent is p.parent:
                beside += 1
            elif p is None or s.parent is not p:
                probs.append(f"{s.name!r} {sid}: not a child of its server span's slice {par}")
        elif p is not None and p.track == s.track and p.ts <= s.ts < p.end:
            if p not in s.ancestors():
                probs.append(f"{s.name!r} {sid}: drawn inside {par}'s time on its track but not inside its slice")
            else:
                nested += 1
    check(f"\"in queue\"/\"processing\" under their server span ({beside} zero-length at its end, beside it),"
          f" nested client calls inside it ({nested} nested)", probs)

    # --- flows
    probs = []
    starts, ends = {}, defaultdict(list)
    for i, e in by_ph["s"]:
        k = (e["cat"], e["name"], str(e["id"]))
        if k in starts:
            probs.append(f"flow {k}: two s events")
        starts[k] = e
    for i, e in by_ph["f"]:
        ends[(e["cat"], e["name"], str(e["id"]))].append(e)
    for k, s in starts.items():
        f = ends.get(k, [])
        if len(f) != 1:
            probs.append(f"flow {k}: {len(f)} f events")
            continue
        f = f[0]
        if f.get("bp") != "e":
            probs.append(f"flow {k}: f without \"bp\": \"e\"")
        for end, e, want in (("s", s, s.get("args", {}).get("from")), ("f", f, f.get("args", {}).get("to"))):
            b = enclosing(tracks, (e["pid"], e["tid"]), ns(e["ts"]))
            if b is None:
                probs.append(f"flow {k}: its {end} at ts {e['ts']} on {(e['pid'], e['tid'])} is in no slice")
            elif want and want not in [a.args.get("span_id") for a in b.ancestors()]:
                probs.append(f"flow {k}: its {end} binds to {b.name!r} ({b.args.get('span_id')}), not inside {want}")
    for k in ends:
        if k not in starts:
            probs.append(f"flow {k}: f without s")
    check(f"flows: {len(starts)} s/f pairs, each end bound to a slice of the span it names", probs)

    # --- names
    pnamed = {e["pid"] for i, e in by_ph["M"] if e["name"] == "process_name"}
    tnamed = {(e["pid"], e["tid"]) for i, e in by_ph["M"] if e["name"] == "thread_name"}
    probs = []
    used_p = {e["pid"] for e in events if e["ph"] != "M"}
    used_t = {(e["pid"], e["tid"]) for e in events if e["ph"] != "M" and "tid" in e}
    probs += [f"process {p} has events and no process_name" for p in sorted(used_p - pnamed)]
    probs += [f"thread {t} has events and no thread_name" for t in sorted(used_t - tnamed)]
    check(f"every process ({len(used_p)}) and thread track ({len(used_t)}) with events is named", probs)

    # --- against the database
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    srv, cli, inner = db.execute("select count(*) filter (where kind = 'server'), count(*) filter (where kind = 'client'),"
                                 " count(*) filter (where kind = 'internal') from spans").fetchone()
    nx = len(by_ph["X"])
    want = srv + cli + inner
    if nx == want:
        ok(f"slices = server + client + internal spans of the view spans ({nx} = {srv} + {cli} + {inner})")
    else:
        not_ok("slices = server + client + internal spans of the view spans",
               f"{nx} slices, database: {srv} server, {cli} client, {inner} internal")
    origin = int(doc.get("otherData", {}).get("ts_origin_unix_ns", "0"))
    probs = []
    seen = set()
    for sid, name, start, end in db.execute("select printf('%016x', span_id), name, start_ns, end_ns from spans"):
        seen.add(sid)
        s = by_span.get(sid)
        if s is None:
            probs.append(f"span {sid} ({name!r}) has no slice")
            continue
        dur = max(0, end - start)
        if s.name != name or s.ts != start - origin or s.end - s.ts != dur:
            probs.append(f"span {sid}: slice {s.name!r} at {s.ts} for {s.end - s.ts} ns, "
                         f"database {name!r} at {start - origin} for {dur} ns")
    probs += [f"slice of span {sid} is not in the database" for sid in sorted(set(by_span) - seen)]
    check(f"each of the {len(seen)} spans of the view spans is one slice with its name, start and duration", probs)
    links = db.execute("select count(*) from span_rows s join span_rows c on c.span_id = s.parent_id"
                       " where s.kind = 'server' and c.kind = 'client'").fetchone()[0]
    if links == len(starts):
        ok(f"flows = server spans whose parent is a client span ({links})")
    else:
        not_ok("flows = server spans whose parent is a client span", f"{len(starts)} flows, database: {links}")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
