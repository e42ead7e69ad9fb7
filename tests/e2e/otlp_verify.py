#!/usr/bin/env python3
"""otlp_verify.py - checks beyla's OTLP export against the analysis database,
decoding with the official OpenTelemetry protobuf definitions (the
opentelemetry-proto package; run with the test venv's python).

  otlp_verify.py serve DIR [--fail N] [--status CODE]
        a local OTLP/HTTP receiver on a free loopback port (written to DIR/port):
        every POST body (gunzipped if Content-Encoding: gzip) is parsed with
        ExportTraceServiceRequest / ExportMetricsServiceRequest, checked to
        re-serialize to the same bytes (the encoder is canonical), and saved
        as DIR/NNNN-traces.pb / -metrics.pb; the first N POSTs get CODE (503).
  otlp_verify.py check DB (--jsonl FILE | --pbdir DIR) [--traces-only]
        decode the export strictly (json_format.Parse: unknown fields are
        errors; OTLP/JSON hex ids are turned into protobuf-JSON base64 first)
        and compare spans, resources and metrics with DB.
  otlp_verify.py jaeger DB URL
        compare Jaeger's query API (services, operations, traces) with DB.
Prints TAP-style "ok - ..." / "not ok - ..." lines; exit 1 if any failed.
"""
import base64
import glob
import gzip
import http.server
import json
import os
import sqlite3
import sys
import urllib.parse
import urllib.request

BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
FAILED = 0


def report(ok, what):
    global FAILED
    print(("ok - " if ok else "not ok - ") + what, flush=True)
    if not ok:
        FAILED += 1


def classes():
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as ts
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as ms
    return ts.ExportTraceServiceRequest, ms.ExportMetricsServiceRequest


# --- receiver -----------------------------------------------------------------
def serve(d, fail, status):
    Traces, Metrics = classes()
    state = {"n": 0, "fail": fail}

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if state["fail"] > 0:
                state["fail"] -= 1
                with open(os.path.join(d, "rejected"), "a") as f:
                    f.write("%d\n" % status)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            kind = "traces" if self.path.endswith("/v1/traces") else "metrics"
            cls = Traces if kind == "traces" else Metrics
            err = None
            try:
                m = cls()
                m.ParseFromString(body)
                if m.SerializeToString(deterministic=True) != body:
                    err = "not canonical: re-serialized bytes differ"
            except Exception as e:  # noqa: BLE001
                err = "parse: %r" % e
            state["n"] += 1
            with open(os.path.join(d, "%04d-%s.pb" % (state["n"], kind)), "wb") as f:
                f.write(body)
            with open(os.path.join(d, "headers"), "a") as f:
                f.write("%s %s %s\n" % (self.path, self.headers.get("Content-Type"),
                                        self.headers.get("Content-Encoding")))
                for k in self.headers.keys():
                    if k.lower().startswith("x-"):
                        f.write("%s: %s\n" % (k, self.headers[k]))
            if err:
                with open(os.path.join(d, "errors"), "a") as f:
                    f.write("%s %s\n" % (self.path, err))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    with open(os.path.join(d, "port.tmp"), "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
    srv.serve_forever()


# --- decoding -----------------------------------------------------------------
def hex_to_b64(obj):
    """OTLP/JSON ids are hex; protobuf's JSON mapping wants base64 for bytes."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("traceId", "spanId", "parentSpanId") and isinstance(v, str):
                want = 32 if k == "traceId" else 16
                if len(v) != want or any(c not in "0123456789abcdef" for c in v):
                    raise ValueError("%s %r is not %d lowercase hex digits" % (k, v, want))
                obj[k] = base64.b64encode(bytes.fromhex(v)).decode()
            else:
                hex_to_b64(v)
    elif isinstance(obj, list):
        for v in obj:
            hex_to_b64(v)


def load_requests(jsonl=None, pbdir=None):
    from google.protobuf import json_format
    Traces, Metrics = classes()
    traces, metrics = [], []
    if jsonl:
        with open(jsonl) as f:
            lines = f.read().split("\n")
        report(lines[-1] == "", "the file ends with a newline")
        bad = 0
        for i, line in enumerate(lines[:-1]):
            obj = json.loads(line)
            if "resourceSpans" in obj:
                cls, out = Traces, traces
            elif "resourceMetrics" in obj:
                cls, out = Metrics, metrics
            else:
                report(False, "line %d is neither a trace nor a metrics request" % (i + 1))
                continue
            hex_to_b64(obj)
            try:
                out.append(json_format.Parse(json.dumps(obj), cls()))  # strict: unknown fields fail
            except json_format.ParseError as e:
                bad += 1
                if bad < 3:
                    print("# line %d: %s" % (i + 1, e))
        report(bad == 0, "every line parses strictly as an OTLP request (%d lines, %d bad)"
               % (len(lines) - 1, bad))
    else:
        errs = os.path.join(pbdir, "errors")
        report(not os.path.exists(errs), "every POST body parses and is canonical protobuf"
               + ("" if not os.path.exists(errs) else ": " + open(errs).read()[:500]))
        for p in sorted(glob.glob(os.path.join(pbdir, "*.pb"))):
            with open(p, "rb") as f:
                body = f.read()
            if p.endswith("-traces.pb"):
                m = Traces()
                m.ParseFromString(body)
                traces.append(m)
            else:
                m = Metrics()
                m.ParseFromString(body)
                metrics.append(m)
    return traces, metrics


def anyvalue(v):
    w = v.WhichOneof("value")
    return getattr(v, w) if w else None


# --- the database ---------------------------------------------------------------
ATTR_COLS = [("http_method", "http.request.method"), ("url_path", "url.path"),
             ("url_query", "url.query"), ("http_route", "http.route"),
             ("http_status_code", "http.response.status_code"), ("server_address", "server.address"),
             ("server_port", "server.port"), ("client_address", "client.address"),
             ("client_port", "client.port"), ("protocol_version", "network.protocol.version"),
             ("user_agent", "user_agent.original"), ("request_body_size", "http.request.body.size"),
             ("response_body_size", "http.response.body.size"), ("tid", "thread.id"),
             ("queue_ns", "beyla.queue_ns"), ("accept_queue_ns", "beyla.accept_queue_ns"),
             ("recv_queue_ns", "beyla.recv_queue_ns"), ("processing_ns", "beyla.processing_ns"),
             ("connect_ns", "beyla.connect_ns"), ("rx_backlog_ns", "beyla.rx_backlog_ns"),
             ("tx_queue_ns", "beyla.tx_queue_ns"), ("conn_id", "beyla.conn_id"),
             ("request_index", "beyla.request_index")]
# span_attributes rows the export sends as int (analyze/otlp_export.c, int_keys)
INT_KEYS = {"rpc.grpc.status_code", "beyla.grpc.request.messages", "beyla.grpc.request.message_bytes",
            "beyla.grpc.response.messages", "beyla.grpc.response.message_bytes",
            "db.operation.batch.size", "db.response.returned_rows"}
KINDS = {"server": 2, "client": 3, "internal": 1, 0: 2, 1: 3, 2: 1}
STATUS = {"unset": 0, "ok": 1, "error": 2, 0: 0, 1: 1, 2: 2}


def hexid(v, nbytes):
    """An id as the schema stores it (hex TEXT, INTEGER or BLOB) -> hex."""
    if v is None:
        return None
    if isinstance(v, int):
        s = "%x" % (v & 0xFFFFFFFFFFFFFFFF)
    elif isinstance(v, bytes):
        s = v.hex()
    else:
        s = v.lower()
    s = s[-2 * nbytes:].rjust(2 * nbytes, "0")
    return None if int(s, 16) == 0 else s


def db_spans(db):
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    attrs = {}
    for r in con.execute("SELECT span_id, key, value FROM span_attributes"):
        v = r["value"]
        if r["key"] in INT_KEYS:
            try:
                v = int(v)
            except (TypeError, ValueError):
                pass
        attrs.setdefault(hexid(r["span_id"], 8), {})[r["key"]] = v
    spans = {}
    for r in con.execute("SELECT * FROM spans"):
        keys = r.keys()
        sid = hexid(r["span_id"], 8)
        a = {}
        for col, key in ATTR_COLS:
            if col in keys and r[col] is not None and r[col] != "":
                a[key] = r[col]
        if r["incomplete"]:
            a["beyla.incomplete"] = True
        a.update(attrs.get(sid, {}))
        spans[sid] = {
            "trace": hexid(r["trace_id"], 16), "parent": hexid(r["parent_id"], 8),
            "name": r["name"], "kind": KINDS[r["kind"]], "status": STATUS[r["status"]],
            "start": r["start_ns"], "end": r["end_ns"], "attrs": a,
            "service": r["service_name"], "pid": r["pid"], "incomplete": r["incomplete"],
            "duration": r["duration_ns"], "queue": r["queue_ns"],
            "method": r["http_method"], "code": r["http_status_code"], "route": r["http_route"],
            "saddr": r["server_address"], "sport": r["server_port"],
        }
    cap = con.execute("SELECT start_ns, end_ns FROM capture").fetchone()
    return spans, cap


def check(db, jsonl, pbdir, traces_only=False):
    traces, metrics = load_requests(jsonl, pbdir)
    spans, cap = db_spans(db)
    got = {}
    resources_ok = True
    for req in traces:
        for rs in req.resource_spans:
            ra = {kv.key: anyvalue(kv.value) for kv in rs.resource.attributes}
            for need in ("service.name", "service.instance.id", "process.pid", "host.name", "os.type",
                         "telemetry.sdk.name", "telemetry.sdk.version"):
                if need not in ra:
                    resources_ok = False
            for ss in rs.scope_spans:
                for s in ss.spans:
                    got[s.span_id.hex()] = (s, ra)
    report(resources_ok, "every resource has service.name, service.instance.id, process.pid, host.name, "
           "os.type, telemetry.sdk.*")
    report(len(got) == len(spans) and sum(len(list(ss.spans)) for r in traces for rs in r.resource_spans
                                          for ss in rs.scope_spans) == len(spans),
           "same number of spans as the database (%d exported, %d in DB)" % (len(got), len(spans)))
    mism = []
    for sid, d in spans.items():
        if sid not in got:
            mism.append("%s missing" % sid)
            continue
        s, ra = got[sid]
        attrs = {kv.key: anyvalue(kv.value) for kv in s.attributes}
        exp = {
            "trace": d["trace"], "parent": d["parent"], "name": d["name"], "kind": d["kind"],
            "status": d["status"], "start": d["start"], "end": d["end"], "attrs": d["attrs"],
            "service": d["service"], "pid": d["pid"],
        }
        have = {
            "trace": s.trace_id.hex(), "parent": s.parent_span_id.hex() or None, "name": s.name,
            "kind": s.kind, "status": s.status.code, "start": s.start_time_unix_nano,
            "end": s.end_time_unix_nano, "attrs": attrs,
            "service": ra.get("service.name"), "pid": ra.get("process.pid"),
        }
        if os.environ.get("OTEL_SERVICE_NAME"):
            exp["service"] = os.environ["OTEL_SERVICE_NAME"]
        for k in exp:
            if exp[k] != have[k]:
                mism.append("%s %s: db %r export %r" % (sid, k, exp[k], have[k]))
    for m in mism[:5]:
        print("# " + m)
    report(not mism, "every span matches the database: ids, parent, name, kind, status, times, "
           "attributes, resource (%d differences)" % len(mism))

    if traces_only:
        return
    # metrics: the last cumulative point of each series = the DB's totals
    last, npoints, temporality_ok = {}, 0, True
    for req in metrics:
        for rm in req.resource_metrics:
            ra = {kv.key: anyvalue(kv.value) for kv in rm.resource.attributes}
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    if m.histogram.aggregation_temporality != 2 or m.unit != "s":
                        temporality_ok = False
                    for p in m.histogram.data_points:
                        npoints += 1
                        if list(p.explicit_bounds) != BOUNDS or p.start_time_unix_nano != cap[0]:
                            temporality_ok = False
                        key = (ra.get("process.pid"), m.name,
                               tuple(sorted((kv.key, anyvalue(kv.value)) for kv in p.attributes)))
                        prev = last.get(key)
                        if prev and (prev.time_unix_nano >= p.time_unix_nano or prev.count > p.count):
                            temporality_ok = False
                        last[key] = p
    report(temporality_ok, "histograms: cumulative, unit s, semconv bounds, start = capture start, "
           "times increasing, counts not decreasing (%d points)" % npoints)
    exp = {}
    for d in spans.values():
        if d["incomplete"] or d["kind"] == 1:
            continue
        a = []
        for k, v in (("http.request.method", d["method"]), ("http.response.status_code", d["code"]),
                     ("http.route", d["route"]), ("server.address", d["saddr"]),
                     ("server.port", d["sport"])):
            if v is not None:
                a.append((k, v))
        a = tuple(sorted(a))
        vals = [("http.server.request.duration" if d["kind"] == 2 else "http.client.request.duration",
                 d["duration"], a)]
        if d["attrs"].get("rpc.system") == "grpc":
            # a gRPC call: the RPC histogram in place of HTTP's, with the RPC attributes
            r = [("rpc.system", "grpc")]
            for k in ("rpc.service", "rpc.method", "rpc.grpc.status_code"):
                v = d["attrs"].get(k)
                if v is not None and (k != "rpc.grpc.status_code" or isinstance(v, int)):
                    r.append((k, v))
            for k, v in (("server.address", d["saddr"]), ("server.port", d["sport"])):
                if v is not None:
                    r.append((k, v))
            vals = [("rpc.server.call.duration" if d["kind"] == 2 else "rpc.client.call.duration",
                     d["duration"], tuple(sorted(r)))]
        if d["attrs"].get("db.system.name") is not None:
            # a database call: its client histogram (database conventions
            # v1.37), with the database attributes; a database server's
            # own spans feed no histogram
            if d["kind"] == 2:
                continue
            r = []
            for k in ("db.system.name", "db.operation.name", "db.collection.name", "db.response.status_code"):
                v = d["attrs"].get(k)
                if v is not None:
                    r.append((k, v))
            for k, v in (("server.address", d["saddr"]), ("server.port", d["sport"])):
                if v is not None:
                    r.append((k, v))
            vals = [("db.client.operation.duration", d["duration"], tuple(sorted(r)))]
        if d["kind"] == 2 and d["queue"] is not None:
            vals.append(("beyla.server.queue.duration", d["queue"], a))
        for name, ns, a in vals:
            e = exp.setdefault((d["pid"], name, a), [0, 0.0, [0] * 15])
            v = ns / 1e9
            e[0] += 1
            e[1] += v
            e[2][next((i for i, b in enumerate(BOUNDS) if v <= b), 14)] += 1
    bad = []
    for key, (n, sm, buckets) in exp.items():
        p = last.get(key)
        if not p or p.count != n or list(p.bucket_counts) != buckets or abs(p.sum - sm) > 1e-6 * max(1, sm):
            bad.append("%r: db %r export %r" % (key, (n, sm, buckets),
                                                  p and (p.count, p.sum, list(p.bucket_counts))))
    if set(last) != set(exp):
        bad.append("series differ: %r" % (set(last) ^ set(exp)))
    for b in bad[:5]:
        print("# " + b)
    report(not bad and len(exp) > 0, "%d metric series; final cumulative count, sum and buckets match "
           "the database" % len(exp))


# --- jaeger --------------------------------------------------------------------------
def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def jaeger(db, base):
    spans, _ = db_spans(db)
    services = sorted({d["service"] for d in spans.values()})
    got_services = sorted(s for s in (get(base + "/api/services")["data"] or []) if s != "jaeger")
    report(got_services == services, "services: jaeger %r, db %r" % (got_services, services))
    t0 = min(d["start"] for d in spans.values()) // 1000 - 1
    t1 = max(d["end"] for d in spans.values()) // 1000 + 1
    seen = {}
    for svc in services:
        q = urllib.parse.quote(svc, safe="")
        ops = sorted(get(base + "/api/services/%s/operations" % q)["data"] or [])
        want = sorted({d["name"] for d in spans.values() if d["service"] == svc})
        report(ops == want, "operations of %s: %d, db %d" % (svc, len(ops), len(want)))
        data = get(base + "/api/traces?service=%s&start=%d&end=%d&limit=100000" % (q, t0, t1))["data"]
        for t in data:
            for s in t["spans"]:
                seen[int(s["spanID"], 16)] = (s, t["processes"][s["processID"]])
    report(len(seen) == len(spans), "span count: jaeger %d, db %d" % (len(seen), len(spans)))
    mism = []
    ntraces = set()
    for sid, d in spans.items():
        j = seen.get(int(sid, 16))
        if not j:
            mism.append("%s missing" % sid)
            continue
        s, proc = j
        ntraces.add(int(s["traceID"], 16))
        tags = {t["key"]: t["value"] for t in s.get("tags", [])}
        parents = [int(r["spanID"], 16) for r in s.get("references", []) if r["refType"] == "CHILD_OF"]
        exp_parent = [int(d["parent"], 16)] if d["parent"] else []
        checks = [
            ("trace", int(s["traceID"], 16), int(d["trace"], 16)),
            ("parent", parents, exp_parent),
            ("name", s["operationName"], d["name"]),
            ("service", proc["serviceName"], d["service"]),
            ("start_us", s["startTime"], d["start"] // 1000),
            ("kind", tags.get("span.kind"), {1: "internal", 2: "server", 3: "client"}[d["kind"]]),
        ]
        for k in ("http.request.method", "http.route", "http.response.status_code", "server.port",
                  "url.path", "beyla.conn_id"):
            if k in d["attrs"]:
                checks.append((k, tags.get(k), d["attrs"][k]))
        if d["status"] == 2:
            checks.append(("error", tags.get("error"), True))
        if abs(s["duration"] - (d["end"] - d["start"]) / 1000) > 1:
            mism.append("%s duration %r vs %r" % (sid, s["duration"], d["end"] - d["start"]))
        for k, a, b in checks:
            if a != b:
                mism.append("%s %s: jaeger %r db %r" % (sid, k, a, b))
    for m in mism[:5]:
        print("# " + m)
    report(not mism, "every span in jaeger matches the database: trace, parent/child, name, service, "
           "start, duration, kind, key attributes (%d differences)" % len(mism))
    db_traces = {int(d["trace"], 16) for d in spans.values()}
    report(ntraces == db_traces, "traces: jaeger %d, db %d" % (len(ntraces), len(db_traces)))


def main():
    a = sys.argv[1:]
    if a and a[0] == "serve":
        fail, status = 0, 503
        if "--fail" in a:
            fail = int(a[a.index("--fail") + 1])
        if "--status" in a:
            status = int(a[a.index("--status") + 1])
        serve(a[1], fail, status)
    elif a and a[0] == "check":
        check(a[1], a[a.index("--jsonl") + 1] if "--jsonl" in a else None,
              a[a.index("--pbdir") + 1] if "--pbdir" in a else None, "--traces-only" in a)
    elif a and a[0] == "jaeger":
        jaeger(a[1], a[2].rstrip("/"))
    else:
        print(__doc__)
        sys.exit(2)
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
