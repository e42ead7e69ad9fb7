-- spans.sql - the database `beyla analyze` writes from a capture.
--
-- Version 8 (PRAGMA user_version).  A reader checks user_version before
-- trusting a column; columns are only added (new version) or documented as
-- deprecated, never changed in meaning.  docs/analysis.md explains how spans
-- are built from the capture; this file says what every column holds.
--
-- Conventions:
--   *_ns columns ending in a time are Unix time in nanoseconds (the capture's
--   monotonic timestamps converted with its clock pair:
--   unix = clock_real_ns + (mono - clock_mono_ns)); *_ns columns holding a
--   length of time are durations in nanoseconds.
--   Ids are stored as numbers, not text: span_id and parent_id are 64-bit
--   INTEGERs (the OpenTelemetry span id's 8 bytes read big-endian as a
--   signed integer, so an id with the top bit set is negative), trace_id is
--   a 16-byte BLOB (the trace id's bytes, compare with x'...' literals).
--   The view spans_hex shows them as the usual lowercase hex digits
--   (printf('%016x', span_id), lower(hex(trace_id))).  Ids are
--   deterministic for a capture: analysing it again gives the same.
--   conn_id is the recorder's capture-unique connection id.
--   NULL means unknown or not applicable.
--
-- This file is embedded in the binary (analyze/schema_sql.c holds the same
-- text; a unit test checks they match).  Statements before the line
-- "-- @after-load" run when the database is created; the ones after it run
-- once all rows are in.  Indexes whose keys arrive nearly in order (ids
-- are handed out in request order, times grow) are created with the tables
-- and kept up to date while loading, which costs little; an index on keys
-- that arrive in random order is cheaper to build at the end, in one sort.

PRAGMA user_version = 8;

-- One row: the capture this database was made from.
CREATE TABLE capture (
  id               INTEGER PRIMARY KEY CHECK (id = 1),
  source           TEXT,     -- path of the capture as given to `beyla analyze`
  format_major     INTEGER,  -- capture format version (record/capture_format.h)
  format_minor     INTEGER,
  beyla_version    TEXT,     -- recorder's version
  analyzer_version TEXT,     -- version of `beyla analyze` that wrote this
  hostname         TEXT,
  kernel           TEXT,     -- uname release of the recording host
  arch             TEXT,
  ncpus            INTEGER,
  boot_id          TEXT,
  target           TEXT,     -- human description of the recorded target set
  snaplen          INTEGER,  -- payload bytes kept per read/write
  redacted         INTEGER,  -- 1 if credential redaction was on while recording
  clock_mono_ns    INTEGER,  -- the clock pair: CLOCK_MONOTONIC ...
  clock_real_ns    INTEGER,  -- ... and CLOCK_REALTIME read together
  start_ns         INTEGER,  -- recording began (Unix ns)
  end_ns           INTEGER,  -- recording ended (END block), else the last event
  complete         INTEGER,  -- 1: the END block was read and nothing was damaged
  truncated        INTEGER,  -- 1: the file ends inside a frame or block
  corrupt          INTEGER,  -- 1: damaged data; everything before it was used
  error            TEXT,     -- the reader's message when truncated or corrupt
  stop_reason      TEXT,     -- why recording stopped (END block): "duration", "signal", ...
  events_recorded  INTEGER,  -- records the recorder wrote (END block)
  events_read      INTEGER,  -- records this analysis read
  drops            INTEGER,  -- records lost in the kernel, all probes (END block)
  user_drops       INTEGER   -- records user space could not store (END block)
);

-- One row per process lifetime seen (a pid may appear again if reused).
CREATE TABLE processes (
  pid                 INTEGER NOT NULL,
  ppid                INTEGER,
  exe                 TEXT,     -- executable path
  comm                TEXT,
  cmdline             TEXT,     -- argv joined by spaces
  service_name        TEXT,     -- OTEL_SERVICE_NAME, else the executable's basename
  resource_attributes TEXT,     -- OTEL_RESOURCE_ATTRIBUTES as found
  flags               INTEGER,  -- record/capture_format.h enum bz_proc_flag
  forked_from         INTEGER,  -- parent pid when it was forked during recording
  first_seen_ns       INTEGER,
  exit_ns             INTEGER,  -- NULL if still running at the end
  exit_code           INTEGER,  -- (status << 8) | signal, NULL if still running
  tls_libraries       TEXT      -- (version 5) the TLS libraries the recorder found when it became
                                -- a target, "; "-separated "NAME PATH" (NAME: OpenSSL, BoringSSL,
                                -- GnuTLS, NSS, wolfSSL, mbedTLS, Go crypto/tls; "(linked in)":
                                -- in the executable), "none found", NULL if the capture does not say
);

-- One row per connection a target used: TCP, or (version 6) a UNIX stream socket.
CREATE TABLE connections (
  conn_id          INTEGER PRIMARY KEY,
  pid              INTEGER,  -- process that accepted/connected/first used it
  role             TEXT,     -- 'accepted' (target is the server), 'connected'
                             -- (client), 'preexisting', 'unknown'
  family           TEXT,     -- 'ipv4' / 'ipv6' / (version 6) 'unix' (addresses and ports NULL)
  local_address    TEXT,
  local_port       INTEGER,
  remote_address   TEXT,
  remote_port      INTEGER,
  fd               INTEGER,
  syscall_start_ns INTEGER,  -- accept()/connect() entered
  established_ns   INTEGER,  -- handshake completed (accepted: began waiting in the accept queue)
  opened_ns        INTEGER,  -- accept()/connect() returned, or first use
  closed_ns        INTEGER,  -- NULL if still open at the end of the capture
  bytes_in         INTEGER,  -- bytes read by the target
  bytes_out        INTEGER,  -- bytes written by the target
  protocol         TEXT,     -- 'http/1' / 'tls' (encrypted, no plaintext recorded) /
                             -- 'non-http' / 'unknown' (nothing recognised)
  http_role        TEXT,     -- 'server' / 'client' as seen in the traffic, NULL if unknown
  requests         INTEGER,  -- requests parsed on it
  responses        INTEGER,  -- final responses parsed on it
  skipped_bytes    INTEGER,  -- bytes skipped while resynchronising (joined mid-stream, lost framing)
  ignored_bytes    INTEGER,  -- bytes not parsed: non-HTTP, or after an upgrade
  guessed_ends     INTEGER,  -- messages whose end was found by a heuristic
  lost_bytes       INTEGER,  -- bytes the kernel saw move that no recorded read/write holds
                             -- (events dropped, ring buffer full): > 0 marks a connection
                             -- whose spans may be wrong; NULL if not closed in the capture
  detected         TEXT,     -- (version 5) when no parser recognised it, what its first bytes
                             -- look like: 'tls', 'http2' (the connection preface), 'binary',
                             -- 'text', 'none' (no payload captured); NULL otherwise
  -- (version 6) UNIX connections only, NULL for TCP:
  unix_path        TEXT,     -- the listener's path (an abstract name as '@name'); NULL if
                             -- neither end is bound (socketpair)
  local_inode      INTEGER,  -- this end's socket inode (what `ss -x` shows); NULL unknown
  peer_inode       INTEGER,  -- the other end's; NULL unknown (a client's peer is not
                             -- accepted yet when connect() returns)
  peer_pid         INTEGER   -- SO_PEERCRED's pid: for an accepted connection the client that
                             -- connected, for a client the process that called listen()
);

-- Spans, OpenTelemetry style: read them from the view `spans` (below).
-- (The CHECKs use OR, not IN (...): SQLite builds an ephemeral table for an
-- IN list on every insert, which made bulk loading three times slower.)
--
-- Storage: span_rows holds the server and client spans; the view `spans`
-- adds the two children of kind 'internal' of every server span, "in
-- queue" and "processing", computed from their parent's columns (they
-- hold nothing else: storing them tripled the rows to write and index).
-- They tile the server span with a third child, "in send queue", when
-- the response waited in the kernel after the server's last write
-- (tx_queue_ns > 0): [start_ns, start_ns + queue_ns),
-- [start_ns + queue_ns, end_ns - tx_queue_ns) and [end_ns - tx_queue_ns,
-- end_ns), so queue_ns + processing_ns + tx_queue_ns = duration_ns
-- (tx_queue_ns NULL counts as 0; before version 8 there was no
-- tx_queue_ns: queue_ns + processing_ns = duration_ns).
-- Their span ids are the parent's with the low two bits 01, 10 and 11 (a
-- server or client span's id ends in 00).
CREATE TABLE span_rows (
  span_id            INTEGER PRIMARY KEY, -- 64-bit span id (see Conventions)
  trace_id           BLOB NOT NULL,       -- 16-byte trace id
  parent_id          INTEGER,  -- span_id of the parent, NULL for a root span
  kind               TEXT NOT NULL  -- 'server' or 'client' ('internal' in the view)
                     CHECK (kind = 'server' OR kind = 'client'),
  name               TEXT NOT NULL,  -- "{method} {route}" (children: "in queue" / "processing")
  start_ns           INTEGER NOT NULL,
  end_ns             INTEGER NOT NULL,
  duration_ns        INTEGER NOT NULL, -- end_ns - start_ns
  queue_ns           INTEGER,  -- server: waiting before the process worked on it
  accept_queue_ns    INTEGER,  -- server: part of queue_ns in the accept queue
  recv_queue_ns      INTEGER,  -- server: part of queue_ns with the request in the receive queue
  processing_ns      INTEGER,  -- server: duration_ns - queue_ns - tx_queue_ns
  connect_ns         INTEGER,  -- client: connect() entered -> established, for the
                               -- first request of a connection opened for it
  -- Since version 8: the kernel's own waits (docs/accuracy.md, "Kernel
  -- waits") and, with `beyla record --sched`, where processing went.
  rx_backlog_ns      INTEGER,  -- server: part of queue_ns before the socket was told: the
                               -- request's bytes entered the host (skb timestamp) and
                               -- waited for the kernel's receive path (softirq, socket lock)
  tx_queue_ns        INTEGER,  -- server: after the last write of the response until its
                               -- last byte reached the peer's socket (a peer on this host)
  on_cpu_ns          INTEGER,  -- server, --sched: part of processing_ns its threads ran on a CPU
  runq_ns            INTEGER,  -- server, --sched: ... runnable, waiting for a CPU
  blocked_ns         INTEGER,  -- server, --sched: ... blocked (I/O, locks, sleep, calls);
                               -- on_cpu_ns + runq_ns + blocked_ns = processing_ns
  status             TEXT NOT NULL  -- 'ok', 'error' or 'unset'
                     CHECK (status = 'ok' OR status = 'error' OR status = 'unset'),
  incomplete         INTEGER NOT NULL DEFAULT 0, -- 1: no (complete) response was seen
  http_method        TEXT,     -- http.request.method ("_OTHER" if not a known method)
  url_path           TEXT,     -- url.path
  url_query          TEXT,     -- url.query with every value replaced by REDACTED
  http_route         TEXT,     -- http.route: path with id-like segments as {id}
  http_status_code   INTEGER,  -- http.response.status_code
  server_address     TEXT,     -- server.address (Host header, else the server's IP)
  server_port        INTEGER,  -- server.port
  client_address     TEXT,     -- client.address (the client's IP)
  client_port        INTEGER,  -- client.port
  protocol_version   TEXT,     -- network.protocol.version: '1.0' / '1.1' / '2'
  user_agent         TEXT,     -- user_agent.original
  request_body_size  INTEGER,  -- http.request.body.size: bytes after the head
  response_body_size INTEGER,  -- http.response.body.size
  service_name       TEXT,     -- service.name of the process
  pid                INTEGER,  -- process.pid
  tid                INTEGER,  -- thread.id: read the request (server) / wrote it (client)
  conn_id            INTEGER,  -- connections.conn_id
  request_index      INTEGER,  -- 0-based number of the request on its connection
  -- Attributes nearly every span has, stored here rather than as rows of
  -- span_attribute_rows; the view span_attributes shows them as rows.
  url_scheme            TEXT,  -- url.scheme: 'http' / 'https'
  request_content_type  TEXT,  -- http.request.header.content-type
  response_content_type TEXT,  -- http.response.header.content-type
  error_type            TEXT,  -- error.type: the status code of an error span
  peer_address          TEXT,  -- network.peer.address (client spans)
  peer_port             TEXT,  -- network.peer.port (client spans)
  -- Which (service_name, kind, http_route, http_method) group the span is
  -- in, as a 64-bit hash of the four (FNV-1a): route_stat_rows.route_key.
  route_key             INTEGER NOT NULL
);

-- Every span: server and client spans as stored, then the two internal
-- children of each server span.
CREATE VIEW spans AS
SELECT span_id, trace_id, parent_id, kind, name, start_ns, end_ns, duration_ns,
       queue_ns, accept_queue_ns, recv_queue_ns, processing_ns, connect_ns, status, incomplete,
       http_method, url_path, url_query, http_route, http_status_code, server_address,
       server_port, client_address, client_port, protocol_version, user_agent,
       request_body_size, response_body_size, service_name, pid, tid, conn_id, request_index,
       rx_backlog_ns, tx_queue_ns, on_cpu_ns, runq_ns, blocked_ns
FROM span_rows
UNION ALL
SELECT span_id | 1, trace_id, span_id, 'internal', 'in queue', start_ns, start_ns + queue_ns,
       queue_ns, NULL, NULL, NULL, NULL, NULL,
       CASE WHEN incomplete THEN 'unset' ELSE 'ok' END, incomplete,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       service_name, pid, tid, conn_id, request_index,
       rx_backlog_ns, NULL, NULL, NULL, NULL
FROM span_rows WHERE kind = 'server'
UNION ALL
SELECT span_id | 2, trace_id, span_id, 'internal', 'processing', start_ns + queue_ns,
       end_ns - coalesce(tx_queue_ns, 0),
       processing_ns, NULL, NULL, NULL, NULL, NULL,
       CASE WHEN incomplete THEN 'unset' ELSE 'ok' END, incomplete,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       service_name, pid, tid, conn_id, request_index,
       NULL, NULL, on_cpu_ns, runq_ns, blocked_ns
FROM span_rows WHERE kind = 'server'
UNION ALL
SELECT span_id | 3, trace_id, span_id, 'internal', 'in send queue', end_ns - tx_queue_ns, end_ns,
       tx_queue_ns, NULL, NULL, NULL, NULL, NULL,
       CASE WHEN incomplete THEN 'unset' ELSE 'ok' END, incomplete,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       service_name, pid, tid, conn_id, request_index,
       NULL, tx_queue_ns, NULL, NULL, NULL
FROM span_rows WHERE kind = 'server' AND tx_queue_ns > 0;

-- The rows of the view route_stats, written by the analyzer once every span
-- is in (analyze/route_stats.c; since version 4: route_stats was a window
-- query over span_rows, and the index it needed took a third of an
-- analysis to build).  One row
-- per route_key over complete spans: the columns of route_stats.
CREATE TABLE route_stat_rows (
  route_key    INTEGER PRIMARY KEY, -- span_rows.route_key of the group
  service_name TEXT,
  kind         TEXT,
  http_route   TEXT,               -- (a database call's group: its span name)
  http_method  TEXT,
  requests     INTEGER NOT NULL,   -- complete spans
  errors       INTEGER NOT NULL,   -- of them with status 'error'
  error_rate   REAL,               -- errors / requests, 4 decimals
  p50_ns       INTEGER,            -- nearest-rank percentiles of duration_ns:
  p95_ns       INTEGER,            -- the duration of the first span, in
  p99_ns       INTEGER,            -- ascending order, at rank >= p * requests
  queue_share  REAL,               -- sum(queue_ns) / sum(duration_ns), 4 decimals;
                                   -- NULL if no span has a queue_ns (client spans)
  -- Since version 8: sums over the group's complete spans of the spans'
  -- columns of the same names; NULL if no span of the group has one.
  rx_backlog_ns INTEGER,
  tx_queue_ns   INTEGER,
  on_cpu_ns     INTEGER,
  runq_ns       INTEGER,
  blocked_ns    INTEGER
);

-- The rows of the view service_stats, written with route_stat_rows: one
-- row per service and kind, over complete spans, the same columns.
CREATE TABLE service_stat_rows (
  service_name TEXT,
  kind         TEXT,
  requests     INTEGER NOT NULL,
  errors       INTEGER NOT NULL,
  error_rate   REAL,
  p50_ns       INTEGER,
  p95_ns       INTEGER,
  p99_ns       INTEGER,
  queue_share  REAL,
  rx_backlog_ns INTEGER,           -- since version 8, as in route_stat_rows
  tx_queue_ns   INTEGER,
  on_cpu_ns     INTEGER,
  runq_ns       INTEGER,
  blocked_ns    INTEGER
);

-- Attributes that are not columns of spans, as stored: the rarer ones.
CREATE TABLE span_attribute_rows (
  span_id INTEGER NOT NULL,  -- spans.span_id
  key     TEXT NOT NULL,
  value   TEXT
);

-- Every attribute that is not a column of spans: key is the OpenTelemetry
-- name (or beyla.* for the analyzer's own facts), value is text.
CREATE VIEW span_attributes AS
SELECT span_id, key, value FROM span_attribute_rows
UNION ALL
SELECT span_id, 'url.scheme', url_scheme FROM span_rows WHERE url_scheme IS NOT NULL
UNION ALL
SELECT span_id, 'http.request.header.content-type', request_content_type
FROM span_rows WHERE request_content_type IS NOT NULL
UNION ALL
SELECT span_id, 'http.response.header.content-type', response_content_type
FROM span_rows WHERE response_content_type IS NOT NULL
UNION ALL
SELECT span_id, 'error.type', error_type FROM span_rows WHERE error_type IS NOT NULL
UNION ALL
SELECT span_id, 'network.peer.address', peer_address FROM span_rows WHERE peer_address IS NOT NULL
UNION ALL
SELECT span_id, 'network.peer.port', peer_port FROM span_rows WHERE peer_port IS NOT NULL;

-- Per-probe counters from the last STATS block: what may be missing.
CREATE TABLE drops (
  probe   TEXT PRIMARY KEY,
  emitted INTEGER,  -- events handed to the ring buffer
  lost    INTEGER,  -- events dropped: ring buffer full
  missed  INTEGER   -- bookkeeping lost: a map was full
);

-- (version 7) The capture's probe report: one row per probe the recorder
-- attached or tried to, in capture order (what `beyla info` lists).  From
-- the PROBES block (the kernel's tracepoints; a later PROBES block
-- replaces an earlier one), each GO_BINARY block (the Go probes placed in
-- one Go executable) and each TLS_LIBRARY block (the OpenSSL probes placed
-- in one library file).  A probe that was refused or skipped means what it
-- records is missing: required ones stop `beyla record`, so a capture
-- seldom has one refused.
CREATE TABLE probes (
  id       INTEGER PRIMARY KEY, -- order in the capture, from 1
  name     TEXT NOT NULL,  -- kernel: "raw:sock_recv_length", "sched:sched_process_exit",
                           -- "syscalls:sys_enter_accept"; Go: the function,
                           -- "crypto/tls.(*Conn).Read"; TLS library: "SSL_read"
  kind     TEXT NOT NULL,  -- 'raw_tracepoint', 'tracepoint' or 'uprobe' (Go and TLS
                           -- library probes; some have uretprobes too, see reason)
  category TEXT NOT NULL,  -- 'kernel' (PROBES), 'go' (GO_BINARY), or the TLS library
                           -- (TLS_LIBRARY): 'openssl', 'boringssl'
  required INTEGER NOT NULL, -- 1: recording cannot work without it; 0: optional
  status   TEXT NOT NULL,  -- 'attached', 'refused' (the kernel said no), 'skipped' (not
                           -- tried: not requested, not needed, or its hook is missing),
                           -- 'unknown' (a status this beyla does not know)
  reason   TEXT,           -- the recorder's detail: why it was refused or skipped (the
                           -- error text), or for an attached one what it is for / how
  path     TEXT,           -- uprobes: the executable or library file; NULL for kernel probes
  pid      INTEGER         -- uprobes: the process it was found in (0: a library probed at
                           -- start); NULL for kernel probes or when the capture does not say
);

-- Analyzer counters: name -> value (see docs/analysis.md for the list).
CREATE TABLE parse_stats (
  name  TEXT PRIMARY KEY,
  value INTEGER
);

-- Indexes kept up to date while loading: their keys arrive nearly in order
-- (ids grow with the requests).  span_id, the table's key, needs none.
CREATE INDEX spans_by_trace ON span_rows (trace_id);
CREATE INDEX spans_by_parent ON span_rows (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX processes_by_pid ON processes (pid);

-- @after-load

-- Indexes built once all rows are in (keys in random order, or costlier to
-- keep while loading than to build in one sort: the start-time and
-- connection indexes too, measured; the inserts are the slower half of the
-- load).  Internal spans ("in queue", "processing") are reached through
-- their parent.  No index by route (dropped in version 4: most of its keys
-- share their first column, which made it the slowest to build); a query
-- by route reads span_rows, about half a second per million spans.
CREATE INDEX spans_by_start ON span_rows (start_ns);
CREATE INDEX spans_by_conn ON span_rows (conn_id, request_index);
CREATE INDEX span_attributes_by_span ON span_attribute_rows (span_id, key);

-- Requests per service, kind and route over complete spans: counts, error
-- rate, nearest-rank percentiles of the duration, and the share of the total
-- time spent in queue (server spans; NULL for client spans).  Computed by
-- the analyzer into route_stat_rows: the same numbers the window query of
-- version 3 gave (tests/unit/test_analyze.c checks them against it).
CREATE VIEW route_stats AS
SELECT service_name AS service,
       kind,
       http_route AS route,
       http_method AS method,
       requests,
       errors,
       error_rate,
       p50_ns,
       p95_ns,
       p99_ns,
       queue_share,
       rx_backlog_ns, tx_queue_ns, on_cpu_ns, runq_ns, blocked_ns
FROM route_stat_rows
ORDER BY service, kind, route, method;

-- The same per service and kind, all routes together (from
-- service_stat_rows since version 4, a window query over span_rows before).
CREATE VIEW service_stats AS
SELECT service_name AS service,
       kind,
       requests,
       errors,
       error_rate,
       p50_ns,
       p95_ns,
       p99_ns,
       queue_share,
       rx_backlog_ns, tx_queue_ns, on_cpu_ns, runq_ns, blocked_ns
FROM service_stat_rows
ORDER BY service, kind;

-- Server spans with their queue and processing parts, slowest first (ids
-- as hex text, like spans_hex).
CREATE VIEW server_requests AS
SELECT printf('%016x', span_id) AS span_id, lower(hex(trace_id)) AS trace_id,
       service_name, name, http_status_code, start_ns,
       duration_ns / 1e6 AS total_ms,
       queue_ns / 1e6 AS queue_ms,
       accept_queue_ns / 1e6 AS accept_queue_ms,
       recv_queue_ns / 1e6 AS recv_queue_ms,
       processing_ns / 1e6 AS processing_ms,
       rx_backlog_ns / 1e6 AS rx_backlog_ms,
       tx_queue_ns / 1e6 AS tx_queue_ms,
       on_cpu_ns / 1e6 AS on_cpu_ms,
       runq_ns / 1e6 AS runq_ms,
       blocked_ns / 1e6 AS blocked_ms,
       status, incomplete, pid, tid, conn_id, request_index
FROM span_rows
WHERE kind = 'server'
ORDER BY duration_ns DESC;

-- Every span with its ids as lowercase hex text, as OpenTelemetry tools
-- show them: span_hex, trace_hex, parent_hex (NULL for a root span), then
-- every column of spans.
CREATE VIEW spans_hex AS
SELECT printf('%016x', span_id) AS span_hex,
       lower(hex(trace_id)) AS trace_hex,
       CASE WHEN parent_id IS NOT NULL THEN printf('%016x', parent_id) END AS parent_hex,
       *
FROM spans;
