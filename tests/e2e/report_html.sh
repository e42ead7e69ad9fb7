#!/usr/bin/env bash
# report_html.sh - `beyla report` (cmd/report.c, analyze/report_html.c): the
# HTML page of a capture, opened from disk by a real browser (Debian's
# headless Chromium), checked against SQL on the same database.
#   * every capture in samples/ gives a page, from the capture and from its
#     database, with beyla analyze's exit code (0, 4 truncated, 5 corrupt);
#   * for nginx-mix and go-https-call (a Go server calling another): the
#     DOM Chromium renders has the page's script run without an exception
#     (a marker it writes; window.onerror writes another), one route row per
#     row of route_stats with its requests, errors, p50 and p99 (as
#     route_stats), p90 and max (nearest rank, computed here from span_rows)
#     and in-queue share (route_stats' queue_share); the services; one
#     histogram per route; the time-series charts; the waterfalls of the
#     slowest server spans in SQL's order with every span under them (the
#     Go call crosses processes); the connection and drop tables;
#   * no network request: Chromium's net log holds no request made by the
#     page (checked to catch one with a page that makes one), and the file
#     has no src/href/url() pointing anywhere but inside itself;
#   * a database whose strings are hostile (script tags, attribute breakers,
#     NUL and bidi bytes in URLs, service names, host name, attributes)
#     renders them as text: no element or attribute it injected exists, and
#     the page's own script still runs;
#   * light and dark screenshots of both samples are written to
#     build/test-artifacts/report_html/ (kept), and the page's background is
#     light and dark in them (prefers-color-scheme);
#   * a synthetic capture of REPORT_BIG requests (default 100000;
#     tests/tools/gen_capture.c) gives its page in under REPORT_BIG_SECS
#     (default 20 s, a shared 2-CPU machine) and under 5 MiB;
#   * --force, the default output name, and clear errors for a file that is
#     neither a capture nor a database.
# Needs no root and no BPF; chromium, sqlite3, python3 (scripts/setup.sh).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need chromium sqlite3 cc
[ -x "$BEYLA" ] || bail "beyla is built" "$BEYLA missing: run make"
SAMPLES=$E2E_ROOT/samples
ART=$E2E_ROOT/build/test-artifacts/report_html
mkdir -p "$ART"
BIG=${REPORT_BIG:-100000}
BIG_SECS=${REPORT_BIG_SECS:-20}
MAX_BYTES=$((5 * 1024 * 1024))

# chrome ARGS...: headless Chromium on a throwaway profile with its own
# background traffic (updates, sync) turned off, so its net log is the page's.
chrome() {
	timeout -k 5 60 chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$T/profile" --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync --disable-default-apps --disable-extensions "$@" \
		2>>"$T/chromium.log"
}

# --- every sample: from the capture and from its database ------------------------------
mapfile -t names < <(awk '!/^[[:space:]]*(#|$)/ { print $1 }' "$SAMPLES/SAMPLES")
check_num "samples/SAMPLES lists captures" "${#names[@]}" -gt 0
for n in "${names[@]}"; do
	"$BEYLA" analyze -q -o "$T/$n.db" "$SAMPLES/$n.bz.zst" >/dev/null 2>&1
	want=$?
	"$BEYLA" report -q -o "$T/$n.cap.html" "$SAMPLES/$n.bz.zst" >"$T/$n.cap.out" 2>&1
	got=$?
	"$BEYLA" report -q -o "$T/$n.html" "$T/$n.db" >"$T/$n.out" 2>&1
	got_db=$?
	size=$(stat -c %s "$T/$n.html" 2>/dev/null || echo 0)
	if [ "$got" = "$want" ] && [ "$got_db" = 0 ] && [ -s "$T/$n.cap.html" ] && [ "$size" -gt 1000 ] &&
		[ "$size" -lt "$MAX_BYTES" ] && grep -q '</html>' "$T/$n.html"; then
		_ok "$n: report from the capture (exit $got, as analyze) and from its database (exit 0, $size bytes)"
	else
		_not_ok "$n: report from the capture and from its database" \
			"capture: exit $got (analyze: $want); database: exit $got_db; $size bytes" \
			"$(head -c 300 "$T/$n.cap.out" "$T/$n.out")"
	fi
done
check_no_grep "no temporary database left in TMPDIR" . <(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'beyla-report-*' -newer "$T" 2>/dev/null)

# --- the rendered DOM against SQL --------------------------------------------------------
# check_dom NAME: $T/NAME.db and the DOM Chromium rendered from $T/NAME.html.
check_dom() {
	local n=$1 out
	chrome --log-net-log="$T/$n.netlog.json" --dump-dom "file://$T/$n.html" >"$T/$n.dom.html"
	check "$n: Chromium renders the page (--dump-dom)" test -s "$T/$n.dom.html"
	out=$("$PYTHON" - "$T/$n.db" "$T/$n.dom.html" "$T/$n.netlog.json" <<'PY'
import html.parser, json, math, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
dom = open(sys.argv[2], encoding="utf-8").read()

class Page(html.parser.HTMLParser):
    """Elements with their attributes, text per element of interest."""
    def __init__(self):
        super().__init__()
        self.stack, self.elems = [], []
    def handle_starttag(self, tag, attrs):
        e = {"tag": tag, "attrs": dict(attrs), "text": "", "parents": [p["tag"] + "." + p["attrs"].get("class", "") + "#" + p["attrs"].get("id", "") for p in self.stack]}
        self.elems.append(e)
        if tag not in ("meta", "br", "input", "img", "link", "hr", "wbr"):  # HTML's void elements
            self.stack.append(e)
    def handle_endtag(self, tag):
        if tag not in [e["tag"] for e in self.stack]:
            return
        while self.stack:
            e = self.stack.pop()
            if e["tag"] == tag:
                break
    def handle_data(self, d):
        for e in self.stack:
            e["text"] += d
p = Page()
p.feed(dom)
E = p.elems
def cls(e): return e["attrs"].get("class", "").split()
def ok(name, cond, detail=""):
    print(("ok - " if cond else "not ok - ") + name + ("" if cond else "\n#   " + detail))

body = [e for e in E if e["tag"] == "body"][0]
ok("the page's script ran to its end without an exception (data-js=ok)", body["attrs"].get("data-js") == "ok", body["attrs"].get("data-js"))
ok("no script error shown", not any(e["attrs"].get("id") == "js-error" for e in E))
ok("one script element (the page's own)", sum(e["tag"] == "script" for e in E) == 1)

rows = [e for e in E if e["tag"] == "tr" and "route" in cls(e)]
def cells(tr):
    i = E.index(tr); out = {}
    for e in E[i + 1:]:
        if e["tag"] == "tr": break
        if e["tag"] == "td":
            for c in cls(e): out[c] = e
    return out
want = db.execute("select service, kind, route, method, requests, errors, p50_ns, p99_ns, queue_share from route_stats").fetchall()
ok("a route row per row of route_stats (%d)" % len(want), len(rows) == len(want), "%d rows" % len(rows))
def pct(d, p): return d[max(1, min(len(d), math.ceil(p * len(d)))) - 1]
bad = []
for (svc, kind, route, method, req, err, p50, p99, qs) in want:
    match = [r for r in rows if r["attrs"].get("data-service") == (svc or "") and r["attrs"].get("data-kind") == (kind or "")
             and r["attrs"].get("data-route") == (route or "") and r["attrs"].get("data-method") == (method or "")]
    if len(match) != 1:
        bad.append("no row for %s %s %s %s" % (svc, kind, method, route)); continue
    c = cells(match[0])
    v = lambda k: float(c[k]["attrs"]["data-v"])
    durs = sorted(d for (d,) in db.execute(
        "select duration_ns from span_rows where incomplete = 0 and route_key = (select route_key from route_stat_rows where service_name is ? and kind is ? and http_route is ? and http_method is ?)",
        (svc, kind, route, method)))
    got = (v("req"), v("n-err"), v("p50"), v("p99"), v("p90"), v("max"))
    exp = (req, err, p50, p99, pct(durs, 0.90), durs[-1])
    if got != tuple(float(x) for x in exp):
        bad.append("%s %s: page %s, SQL %s" % (method, route, got, exp))
    if qs is not None and round(v("queue"), 4) != round(qs, 4):
        bad.append("%s %s: in queue %s, route_stats %s" % (method, route, v("queue"), qs))
    if route and route not in match[0]["text"]:
        bad.append("%s: the route is not shown as text" % route)
ok("every route row's requests, errors, p50, p90, p99, max and in-queue share are SQL's", not bad, "; ".join(bad[:5]))

svc_rows = [e for e in E if e["tag"] == "tr" and "data-kind" in e["attrs"] and "route" not in cls(e)]
sv = db.execute("select service, kind, requests, errors, p50_ns, p99_ns from service_stats where requests > 0").fetchall()
got = sorted((r["attrs"]["data-service"], r["attrs"]["data-kind"], int(cells(r)["req"]["attrs"]["data-v"]),
              int(cells(r)["n-err"]["attrs"]["data-v"]), int(cells(r)["p50"]["attrs"]["data-v"]),
              int(cells(r)["p99"]["attrs"]["data-v"])) for r in svc_rows)
ok("the services table is service_stats (requests, errors, p50, p99)", got == sorted(sv), "page %s, SQL %s" % (got, sorted(sv)))

svgs = [e for e in E if e["tag"] == "svg"]
hists = [e for e in svgs if "hist" in cls(e)]
series = [e for e in svgs if "series" in cls(e)]
wfs = [e for e in svgs if "waterfall" in cls(e)]
nserver = db.execute("select count(*) from span_rows where kind = 'server' and incomplete = 0").fetchone()[0]
ok("a histogram per route (%d SVGs)" % len(hists), len(hists) == min(16, len(want)))
ok("four time series (requests and errors, p99, in-queue share, concurrency): %d SVGs" % len(series), len(series) == 4)
ok("a waterfall per slow server span (%d SVGs, %d server spans)" % (len(wfs), nserver), len(wfs) == min(50, nserver))
ok("the histograms have bars with titles", sum(1 for e in E if e["tag"] == "title" and "hist" in "".join(e["parents"])) > 0)

totals = [int(e["attrs"]["data-v"]) for e in E if e["tag"] == "b" and "total" in cls(e)]
slow = [d for (d,) in db.execute("select duration_ns from span_rows where kind = 'server' and incomplete = 0 order by duration_ns desc, span_id limit 50")]
ok("the waterfalls are the slowest server spans, in order", totals == slow, "page %s, SQL %s" % (totals[:5], slow[:5]))
figs = [e for e in E if e["tag"] == "figure" and "wf" in cls(e)]
bad = []
for k, f in enumerate(figs):
    i = E.index(f)
    nspan = 0
    for e in E[i + 1:]:
        if e["tag"] == "figure": break
        if e["tag"] == "g" and "span" in cls(e): nspan += 1
    sid = db.execute("select span_id from span_rows where kind = 'server' and incomplete = 0 order by duration_ns desc, span_id limit 1 offset ?", (k,)).fetchone()[0]
    under = db.execute("""with recursive t(id) as (values(?) union all select s.span_id from span_rows s join t on s.parent_id = t.id
                          where s.trace_id = (select trace_id from span_rows where span_id = ?)) select count(*) from t""", (sid, sid)).fetchone()[0]
    if nspan != min(under, 60): bad.append("#%d: %d rows, %d spans in its tree" % (k + 1, nspan, under))
ok("each waterfall has a row for the request and every span under it", not bad, "; ".join(bad[:5]))
calls = db.execute("select count(*) from span_rows where parent_id is not null").fetchone()[0]
if calls:
    ok("the waterfalls draw the %d spans that have a parent" % calls, sum(1 for e in E if e["tag"] == "rect" and "c" in cls(e) and "waterfall" in "".join(e["parents"])) > 0)

conns = db.execute("select count(*) from connections").fetchone()[0]
crow = [e for e in E if e["tag"] == "tr" and "tbody" in "".join(e["parents"]) and "conn-table" in "".join(e["parents"])]
ok("a connection row per connection (%d)" % conns, len(crow) == min(conns, 500), "%d rows" % len(crow))
drows = [e for e in E if e["tag"] == "tr" and "drop-table" in "".join(e["parents"]) and "tbody" in "".join(e["parents"])]
ok("a drop row per probe counter", len(drows) == db.execute("select count(*) from drops").fetchone()[0])
def by_id(i):
    m = [e for e in E if e["attrs"].get("id") == i]
    return m[0] if m else None
want = dict(db.execute("select status, count(*) from probes group by status").fetchall())
got = {s: int(by_id("probes-" + s)["attrs"]["data-v"]) if by_id("probes-" + s) else None for s in ("attached", "refused", "skipped")}
ok("the header's probe counts are the table probes' (%s)" % sorted(want.items()),
   all(got[s] == want.get(s, 0) for s in got) and sum(want.values()) > 0, "page %s, SQL %s" % (got, want))
ok("the header shows them as text", all(str(want.get(s, 0)) + " " + s in by_id("probes-" + s)["text"] + " " + s for s in got))
ok("no refused-probe list or warning when none was refused", want.get("refused", 0) > 0 or
   (by_id("probes-refused-list") is None and not any(e["attrs"].get("id", "").startswith("warn-probes") for e in E)))
dur = [e for e in E if e["attrs"].get("id") == "duration"][0]
ok("the header's duration is the capture's", int(dur["attrs"]["data-v"]) == db.execute("select end_ns - start_ns from capture").fetchone()[0])

# No request made by the page: in Chromium's net log the page's requests
# carry its opaque file origin, "null", as their initiator.
log = json.load(open(sys.argv[3]))
page = sorted({e["params"].get("url", "?") for e in log["events"] if e.get("params", {}).get("initiator") == "null"})
ok("the page made no network request (net log)", not page, " ".join(page[:5]))
PY
)
	printf '%s\n' "$out" | while IFS= read -r l; do printf '%s\n' "${l/#ok - /ok - $n: }" | sed "s/^not ok - /not ok - $n: /"; done
	CHECKS_PASSED=$((CHECKS_PASSED + $(grep -c '^ok - ' <<<"$out")))
	CHECKS_FAILED=$((CHECKS_FAILED + $(grep -c '^not ok - ' <<<"$out")))
	[ -n "$out" ] || _not_ok "$n: the DOM checks ran" "python printed nothing"
}
check_dom nginx-mix
check_dom go-https-call

# The net-log check catches a page that does make a request.
printf '<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png"></body></html>' >"$T/fetching.html"
chrome --log-net-log="$T/fetching.netlog.json" --dump-dom "file://$T/fetching.html" >/dev/null
check "the net-log check sees a request a page makes (negative control)" "$PYTHON" -c '
import json, sys
log = json.load(open(sys.argv[1]))
sys.exit(0 if any(e.get("params", {}).get("initiator") == "null" and "127.0.0.1:9" in e["params"].get("url", "") for e in log["events"]) else 1)' "$T/fetching.netlog.json"

for n in nginx-mix go-https-call; do
	check_no_grep "$n: nothing in the file points outside it (src, href, url(), @import)" \
		'(src|href|action|xlink:href)="[^#]|url\(|@import|<link|<iframe|<object|<embed' "$T/$n.html"
	check_grep "$n: the page forbids loading anything (CSP default-src 'none')" "default-src 'none'" "$T/$n.html"
done

# --- screenshots, light and dark --------------------------------------------------------
# pixel PNG X Y: "R G B" of a pixel of an RGB(A) PNG (no imaging library needed).
pixel() {
	"$PYTHON" - "$@" <<'PY'
import struct, sys, zlib
d = open(sys.argv[1], "rb").read(); x, y = int(sys.argv[2]), int(sys.argv[3])
i, idat = 8, b""
while i < len(d):
    n, t = struct.unpack(">I4s", d[i:i + 8]); c = d[i + 8:i + 8 + n]
    if t == b"IHDR": w, h, bd, ct = struct.unpack(">IIBB", c[:10])
    if t == b"IDAT": idat += c
    i += 12 + n
raw = zlib.decompress(idat); bpp = {2: 3, 6: 4}[ct]; stride = w * bpp; prev = bytearray(stride); pos = 0
for row in range(y + 1):
    f = raw[pos]; line = bytearray(raw[pos + 1:pos + 1 + stride]); pos += 1 + stride
    for k in range(stride):
        a = line[k - bpp] if k >= bpp else 0; b = prev[k]; c = prev[k - bpp] if k >= bpp else 0
        if f == 1: line[k] = (line[k] + a) & 255
        elif f == 2: line[k] = (line[k] + b) & 255
        elif f == 3: line[k] = (line[k] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[k] = (line[k] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    prev = line
print(*prev[x * bpp:x * bpp + 3])
PY
}
for n in nginx-mix go-https-call; do
	for scheme in light dark; do
		png=$ART/$n-$scheme.png
		rm -f "$png"
		pref=1
		[ $scheme = dark ] && pref=0
		chrome --window-size=1280,3600 --blink-settings=preferredColorScheme=$pref --screenshot="$png" \
			"file://$T/$n.html" >/dev/null
		check_num "$n: $scheme screenshot written (${png#"$E2E_ROOT"/})" "$(stat -c %s "$png" 2>/dev/null || echo 0)" -gt 20000
		read -r r g b <<<"$(pixel "$png" 3 3 2>/dev/null)"
		lum=$(( (${r:-0} + ${g:-0} + ${b:-0}) / 3 ))
		if [ $scheme = light ]; then
			check_num "$n: the light page's background is light" "$lum" -gt 200
		else
			check_num "$n: the dark page's background is dark (prefers-color-scheme)" "$lum" -lt 60
		fi
	done
done

# --- hostile strings ----------------------------------------------------------------------
cp "$T/nginx-mix.db" "$T/evil.db"
sqlite3 "$T/evil.db" <<'SQL' >"$T/evil.sql.log" 2>&1
UPDATE span_rows SET url_path = '/<script>document.title="pwned"</script>',
  url_query = 'a="><img src=x onerror="document.body.setAttribute(''data-pwned'',1)">',
  user_agent = char(0) || 'ua' || char(8238) || 'fdp.exe' || char(27) || '[31m',
  service_name = '"><svg onload="document.body.setAttribute(''data-pwned'',2)">'
  WHERE rowid IN (SELECT rowid FROM span_rows ORDER BY duration_ns DESC LIMIT 3);
UPDATE route_stat_rows SET http_route = '/<img src=x onerror="document.body.setAttribute(''data-pwned'',3)">',
  service_name = '</td></tr></table><script>document.body.setAttribute("data-pwned",4)</script>';
UPDATE capture SET hostname = '<b onmouseover=alert(1)>host</b>', target = '&lt;not an entity&gt;',
  source = '/tmp/<script>x</script>.bz.zst', error = '<iframe src=javascript:alert(5)>';
UPDATE processes SET service_name = '''><script>document.body.setAttribute("data-pwned",6)</script>';
INSERT INTO span_attribute_rows VALUES ((SELECT span_id FROM span_rows ORDER BY duration_ns DESC LIMIT 1),
  'db.query.text<x>', 'SELECT ''</title><script>document.body.setAttribute("data-pwned",7)</script>''');
SQL
check "the hostile database is made" test ! -s "$T/evil.sql.log"
"$BEYLA" report -q -o "$T/evil.html" "$T/evil.db" >"$T/evil.out" 2>&1
check_num "beyla report of the hostile database exits 0" $? -eq 0
chrome --dump-dom "file://$T/evil.html" >"$T/evil.dom.html"
out=$("$PYTHON" - "$T/evil.dom.html" "$T/evil.html" <<'PY'
import html.parser, sys
dom = open(sys.argv[1], encoding="utf-8").read()
src = open(sys.argv[2], "rb").read()
tags, attrs, text = [], [], []
class P(html.parser.HTMLParser):
    def handle_starttag(self, t, a):
        tags.append(t); attrs.extend((t, k, v) for k, v in a)
    def handle_data(self, d): text.append(d)
P().feed(dom)
T = "".join(text)
def ok(name, cond, detail=""):
    print(("ok - " if cond else "not ok - ") + name + ("" if cond else "\n#   " + detail))
ok("hostile strings: the page's script still ran (data-js=ok)", ("body", "data-js", "ok") in attrs)
ok("hostile strings: no injected attribute ran (no data-pwned)", not any(k == "data-pwned" for _, k, _ in attrs))
ok("hostile strings: one script element, the page's", tags.count("script") == 1, str(tags.count("script")))
ok("hostile strings: no img, iframe or extra svg onload element", "img" not in tags and "iframe" not in tags)
ok("hostile strings: no event-handler attribute anywhere", not [a for a in attrs if a[1].startswith("on")], str([a for a in attrs if a[1].startswith("on")][:3]))
ok("hostile strings: the URL path shows as text", '/<script>document.title="pwned"</script>' in T)
ok("hostile strings: the route shows as text", '/<img src=x onerror=' in T)
ok("hostile strings: an entity in the data shows as typed", "&lt;not an entity&gt;" in T)
ok("hostile strings: NUL, ESC and the RTL override never reach the file", b"\x00" not in src and b"\x1b" not in src and "\u202e".encode() not in src)
PY
)
printf '%s\n' "$out"
CHECKS_PASSED=$((CHECKS_PASSED + $(grep -c '^ok - ' <<<"$out")))
CHECKS_FAILED=$((CHECKS_FAILED + $(grep -c '^not ok - ' <<<"$out")))

# --- refused probes ----------------------------------------------------------------------
# go-https-call's database with probes made refused: a required kernel one, a
# Go one, an OpenSSL one (added, with a hostile name); the header counts and
# lists them, each kind gets its warning, and the name renders as text.
cp "$T/go-https-call.db" "$T/refused.db"
sqlite3 "$T/refused.db" <<'SQL' >"$T/refused.sql.log" 2>&1
UPDATE probes SET status = 'refused', reason = 'attach failed: Operation not permitted'
  WHERE id = (SELECT min(id) FROM probes WHERE required = 1)
     OR id = (SELECT min(id) FROM probes WHERE category = 'go');
INSERT INTO probes (id, name, kind, category, required, status, reason, path, pid)
  VALUES ((SELECT max(id) + 1 FROM probes), 'SSL_read<img src=x onerror="document.body.setAttribute(''data-pwned'',9)">',
          'uprobe', 'openssl', 0, 'refused', 'uprobe refused: Permission denied', '/usr/lib/libssl.so.3', 0);
SQL
check "the database with refused probes is made" test ! -s "$T/refused.sql.log"
"$BEYLA" report -q -o "$T/refused.html" "$T/refused.db" >"$T/refused.out" 2>&1
check_num "beyla report of it exits 0" $? -eq 0
for s in attached refused skipped; do
	n=$(sqlite3 "$T/refused.db" "SELECT count(*) FROM probes WHERE status = '$s'")
	check_grep "the header says $n $s (as SELECT count(*) FROM probes)" "id=\"probes-$s\" data-v=\"$n\">$n</span> $s" "$T/refused.html"
done
check_num "... 3 of them refused" "$(sqlite3 "$T/refused.db" "SELECT count(*) FROM probes WHERE status = 'refused'")" -eq 3
check_grep "the refused probes are listed with their reason" 'id="probes-refused-list".*attach failed: Operation not permitted' "$T/refused.html"
check_grep "... with the file an OpenSSL probe was placed in" '\(optional, in /usr/lib/libssl\.so\.3\): uprobe refused' "$T/refused.html"
check_grep "a warning for the required probe" 'id="warn-probes-required"><b>1 required probes were refused' "$T/refused.html"
check_grep "a warning for the Go probe" 'id="warn-probes-go"><b>1 Go probes were refused' "$T/refused.html"
check_grep "a warning for the OpenSSL probe" 'id="warn-probes-openssl"><b>1 OpenSSL probes were refused' "$T/refused.html"
check_grep "the hostile probe name is escaped" 'SSL_read&lt;img src=x onerror=' "$T/refused.html"
check_no_grep "... and never markup" '<img src=x' "$T/refused.html"
check_no_grep "the header no longer sends the reader to beyla info" 'is not in the database' "$T/refused.html"
check_no_grep "go-https-call (nothing refused) has no probe warning" 'id="warn-probes' "$T/go-https-call.html"
# A database of schema version 6 has no table probes: the header says so.
cp "$T/nginx-mix.db" "$T/v6.db"
sqlite3 "$T/v6.db" 'DROP TABLE probes; PRAGMA user_version = 6'
"$BEYLA" report -q -o "$T/v6.html" "$T/v6.db" >"$T/v6.out" 2>&1
check_num "beyla report of a version 6 database exits 0" $? -eq 0
check_grep "... and its header says the probes are not in it" 'from an older beyla \(schema version 6 or less\)' "$T/v6.html"

# --- a large capture ------------------------------------------------------------------------
gen=$T/gen_capture
cc -O2 -std=c11 -D_GNU_SOURCE -I"$E2E_ROOT" -I"$E2E_ROOT/build" -o "$gen" "$E2E_ROOT/tests/tools/gen_capture.c" \
	"$E2E_ROOT/build/libbeyla.a" -lzstd -lz 2>"$T/gen.err"
check "tests/tools/gen_capture.c builds" test -x "$gen"
"$gen" -n "$BIG" -o "$T/big.bz.zst" >"$T/gen.out" 2>&1
check_grep "a synthetic capture of $BIG requests" "requests=$BIG " "$T/gen.out"
"$BEYLA" analyze -q -o "$T/big.db" "$T/big.bz.zst" >/dev/null 2>&1
check_num "beyla analyze of it exits 0" $? -eq 0
t0=$(date +%s.%N)
"$BEYLA" report -q -o "$T/big.html" "$T/big.db" >"$T/big.out" 2>&1
rc=$?
ms=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%d", (b - a) * 1000 }')
check_num "beyla report of $BIG requests exits 0" "$rc" -eq 0
check_num "... in under $BIG_SECS s (ms)" "$ms" -lt $((BIG_SECS * 1000))
size=$(stat -c %s "$T/big.html" 2>/dev/null || echo 0)
check_num "... and the page is under 5 MiB (bytes)" "$size" -lt "$MAX_BYTES"
log "large capture: $BIG requests, report in $ms ms, $size bytes"
check_grep "... it says how many connections it left out" 'id="conns-left-out"' "$T/big.html"
check_num "... it has the 50 slowest waterfalls" "$(grep -o 'class="wf"' "$T/big.html" | wc -l)" -eq 50

# --- the command line ------------------------------------------------------------------------
cp "$T/nginx-mix.db" "$T/cli.db"
(cd "$T" && "$BEYLA" report -q cli.db)
check_num "default output: FILE.db -> FILE.html, exit 0" $? -eq 0
check "... cli.html written next to the input" test -s "$T/cli.html"
"$BEYLA" report -q "$T/cli.db" 2>"$T/exists.err"
check_num "an existing page is not replaced without --force (exit 1)" $? -eq 1
check_grep "... and the error says to use --force" 'exists \(use --force' "$T/exists.err"
"$BEYLA" report -q --force "$T/cli.db"
check_num "--force replaces it" $? -eq 0
echo "not a capture" >"$T/junk.txt"
"$BEYLA" report -q "$T/junk.txt" 2>"$T/junk.err"
check_num "a file that is neither capture nor database: exit 2" $? -eq 2
check_grep "... with an error that says so" 'neither a beyla capture' "$T/junk.err"
sqlite3 "$T/other.db" 'create table t(x)'
"$BEYLA" report -q "$T/other.db" 2>"$T/other.err"
check_num "an SQLite database beyla did not write: exit 2" $? -eq 2
check_grep "... with an error that says so" 'not one `beyla analyze` wrote' "$T/other.err"
"$BEYLA" report -q -n 0 "$T/cli.db" 2>/dev/null
check_num "--slowest 0 is refused (exit 1)" $? -eq 1
"$BEYLA" report -q -f -n 3 "$T/cli.db"
check_num "--slowest 3 draws three waterfalls" "$(grep -o 'class="wf"' "$T/cli.html" | wc -l)" -eq 3
check_no_grep "no temporary page left next to the output" . <(find "$T" -maxdepth 1 -name '.beyla-report.*')
finish
