/* otlp_export.c - reads spans and processes from a finished analysis
 * database and exports them over OTLP (see otlp_export.h, docs/otlp.md).
 *
 * The database is read with `SELECT *` and columns are found by name, and
 * ids are accepted as hex TEXT, INTEGER or BLOB, so the export keeps
 * working while the schema gains columns or changes the storage of ids.
 */
#include "otlp_export.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "u64map.h"

const double bz_otlp_bounds[OTLP_NBOUNDS] = { 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
					      0.5,   0.75, 1,     2.5,  5,     7.5, 10 };

const struct otlp_metric_desc bz_otlp_metrics[OTLP_M_COUNT] = {
	{ "http.server.request.duration", "s", "Duration of HTTP server requests." },
	{ "http.client.request.duration", "s", "Duration of HTTP client requests." },
	{ "beyla.server.queue.duration", "s",
	  "Time HTTP server requests waited (accept and receive queues, behind earlier requests) "
	  "before the process worked on them." },
	{ "rpc.server.call.duration", "s", "Duration of incoming gRPC calls." },
	{ "rpc.client.call.duration", "s", "Duration of outgoing gRPC calls." },
	{ "db.client.operation.duration", "s", "Duration of database client operations." },
};

/* ---- protobuf encoding of the batch model ------------------------------------ */

static void pb_attrs(struct bz_pb *b, unsigned field, const struct otlp_attr *a, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		switch (a[i].type) {
		case OTLP_ATTR_STR: bz_otlp_attr_str(b, field, a[i].key, a[i].s, a[i].n); break;
		case OTLP_ATTR_INT: bz_otlp_attr_int(b, field, a[i].key, a[i].i); break;
		case OTLP_ATTR_DOUBLE: bz_otlp_attr_double(b, field, a[i].key, a[i].d); break;
		default: bz_otlp_attr_bool(b, field, a[i].key, (int)a[i].i); break;
		}
	}
}

static void pb_resource_scope_head(struct bz_pb *b, const struct otlp_resource *r)
{
	bz_pb_begin(b, OTLP_RS_RESOURCE);
	if (r)
		pb_attrs(b, OTLP_RESOURCE_ATTRIBUTES, r->attrs, r->nattrs);
	bz_pb_end(b);
	bz_pb_begin(b, OTLP_RS_SCOPE);
	bz_pb_begin(b, OTLP_SS_SCOPE);
	bz_pb_cstring(b, OTLP_SCOPE_NAME, "beyla");
	bz_pb_cstring(b, OTLP_SCOPE_VERSION, BEYLA_VERSION);
	bz_pb_end(b);
}

void bz_otlp_traces_pb(struct bz_pb *b, const struct otlp_span *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		const struct otlp_resource *r = s[i].res;
		bz_pb_begin(b, OTLP_REQ_RESOURCE_SPANS);
		pb_resource_scope_head(b, r);
		for (; i < n && s[i].res == r; i++) {
			const struct otlp_span *x = &s[i];
			bz_pb_begin(b, OTLP_SS_ITEMS);
			bz_pb_bytes(b, OTLP_SPAN_TRACE_ID, x->trace_id, 16);
			bz_pb_bytes(b, OTLP_SPAN_SPAN_ID, x->span_id, 8);
			if (x->has_parent)
				bz_pb_bytes(b, OTLP_SPAN_PARENT_SPAN_ID, x->parent_id, 8);
			bz_pb_cstring(b, OTLP_SPAN_NAME, x->name);
			if (x->kind)
				bz_pb_uint(b, OTLP_SPAN_KIND, (uint64_t)x->kind);
			bz_pb_fixed64(b, OTLP_SPAN_START, x->start_ns);
			bz_pb_fixed64(b, OTLP_SPAN_END, x->end_ns);
			pb_attrs(b, OTLP_SPAN_ATTRIBUTES, x->attrs, x->nattrs);
			bz_pb_begin(b, OTLP_SPAN_STATUS);
			if (x->status)
				bz_pb_uint(b, OTLP_STATUS_CODE, (uint64_t)x->status);
			bz_pb_end(b);
			bz_pb_end(b);
		}
		bz_pb_end(b); /* ScopeSpans */
		bz_pb_end(b); /* ResourceSpans */
	}
}

void bz_otlp_metrics_pb(struct bz_pb *b, const struct otlp_point *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		const struct otlp_resource *r = p[i].res;
		bz_pb_begin(b, OTLP_REQ_RESOURCE_METRICS);
		pb_resource_scope_head(b, r);
		while (i < n && p[i].res == r) {
			int m = p[i].metric;
			bz_pb_begin(b, OTLP_SS_ITEMS);
			bz_pb_cstring(b, OTLP_METRIC_NAME, bz_otlp_metrics[m].name);
			bz_pb_cstring(b, OTLP_METRIC_DESCRIPTION, bz_otlp_metrics[m].description);
			bz_pb_cstring(b, OTLP_METRIC_UNIT, bz_otlp_metrics[m].unit);
			bz_pb_begin(b, OTLP_METRIC_HISTOGRAM);
			for (; i < n && p[i].res == r && p[i].metric == m; i++) {
				const struct otlp_point *x = &p[i];
				bz_pb_begin(b, OTLP_HIST_DATA_POINTS);
				bz_pb_fixed64(b, OTLP_HDP_START, x->start_ns);
				bz_pb_fixed64(b, OTLP_HDP_TIME, x->time_ns);
				bz_pb_fixed64(b, OTLP_HDP_COUNT, x->count);
				bz_pb_double(b, OTLP_HDP_SUM, x->sum);
				bz_pb_packed_fixed64(b, OTLP_HDP_BUCKET_COUNTS, x->buckets, OTLP_NBOUNDS + 1);
				bz_pb_packed_double(b, OTLP_HDP_EXPLICIT_BOUNDS, bz_otlp_bounds, OTLP_NBOUNDS);
				pb_attrs(b, OTLP_HDP_ATTRIBUTES, x->attrs, x->nattrs);
				if (x->count) {
					bz_pb_double(b, OTLP_HDP_MIN, x->min);
					bz_pb_double(b, OTLP_HDP_MAX, x->max);
				}
				bz_pb_end(b);
			}
			bz_pb_uint(b, OTLP_HIST_TEMPORALITY, OTLP_TEMPORALITY_CUMULATIVE);
			bz_pb_end(b); /* Histogram */
			bz_pb_end(b); /* Metric */
		}
		bz_pb_end(b); /* ScopeMetrics */
		bz_pb_end(b); /* ResourceMetrics */
	}
}

/* ---- small helpers ------------------------------------------------------------ */

int64_t bz_otlp_parse_duration(const char *s)
{
	char *end;
	if (!s || !*s)
		return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	double mul;
	if (!*end || !strcmp(end, "s"))
		mul = 1e9;
	else if (!strcmp(end, "ms"))
		mul = 1e6;
	else if (!strcmp(end, "us"))
		mul = 1e3;
	else if (!strcmp(end, "ns"))
		mul = 1;
	else if (!strcmp(end, "m"))
		mul = 60e9;
	else if (!strcmp(end, "h"))
		mul = 3600e9;
	else
		return -1;
	double ns = v * mul;
	if (ns < 1 || ns > 9e18)
		return -1;
	return (int64_t)ns;
}

static int secret_name(const char *k, size_t n)
{
	static const char *const words[] = { "pass", "pwd", "secret", "token", "key", "auth", "credential",
					     "cookie", "session", "private" };
	char low[64];
	while (n && *k == '-')
		k++, n--;
	if (!n)
		return 0;
	if (n >= sizeof(low))
		n = sizeof(low) - 1;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)k[i]);
	low[n] = 0;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(low, words[i]))
			return 1;
	return 0;
}

/* Flags whose next argument is a secret. */
static int secret_flag(const char *t, size_t n)
{
	if ((n == 2 && !strncmp(t, "-p", 2)) || (n == 2 && !strncmp(t, "-P", 2)))
		return 1;
	return n > 1 && t[0] == '-' && secret_name(t, n);
}

char *bz_otlp_redact_cmdline(const char *cmd)
{
	static const char R[] = "REDACTED";
	size_t n = strlen(cmd);
	char *out = malloc(n * 2 + 16 + sizeof(R) * (n / 2 + 1)), *o = out;
	const char *p = cmd;
	int next_secret = 0;

	if (!out)
		return NULL;
	while (*p) {
		if (*p == ' ') {
			*o++ = *p++;
			continue;
		}
		const char *t = p;
		while (*p && *p != ' ')
			p++;
		size_t tn = (size_t)(p - t);
		const char *eq = memchr(t, '=', tn);
		if (next_secret) {
			memcpy(o, R, sizeof(R) - 1), o += sizeof(R) - 1;
			next_secret = 0;
			continue;
		}
		if (eq && secret_name(t, (size_t)(eq - t))) {
			size_t kn = (size_t)(eq - t) + 1;
			memcpy(o, t, kn), o += kn;
			memcpy(o, R, sizeof(R) - 1), o += sizeof(R) - 1;
			continue;
		}
		/* scheme://user:password@host */
		const char *sch = NULL;
		for (const char *q = t; q + 3 <= p; q++)
			if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
				sch = q + 3;
				break;
			}
		if (sch) {
			const char *at = NULL, *colon = NULL;
			for (const char *q = sch; q < p && *q != '/'; q++) {
				if (*q == '@')
					at = q;
			}
			if (at)
				colon = memchr(sch, ':', (size_t)(at - sch));
			if (colon) {
				size_t kn = (size_t)(colon - t) + 1;
				memcpy(o, t, kn), o += kn;
				memcpy(o, R, sizeof(R) - 1), o += sizeof(R) - 1;
				memcpy(o, at, (size_t)(p - at)), o += p - at;
				continue;
			}
		}
		if (!eq && secret_flag(t, tn))
			next_secret = 1;
		memcpy(o, t, tn), o += tn;
	}
	*o = 0;
	return out;
}

static char *join_url(const char *base, const char *signal)
{
	size_t n = strlen(base);
	while (n && base[n - 1] == '/')
		n--;
	char *u = malloc(n + strlen(signal) + 6);
	if (u)
		sprintf(u, "%.*s/v1/%s", (int)n, base, signal);
	return u;
}

char *bz_otlp_signal_url(const char *base, const char *signal)
{
	char var[64];
	const char *v;
	if (base && *base)
		return join_url(base, signal);
	snprintf(var, sizeof(var), "OTEL_EXPORTER_OTLP_%s_ENDPOINT", !strcmp(signal, "traces") ? "TRACES" : "METRICS");
	v = getenv(var);
	if (v && *v)
		return strdup(v);
	v = getenv("OTEL_EXPORTER_OTLP_ENDPOINT");
	return join_url(v && *v ? v : "http://localhost:4318", signal);
}

/* ---- arena for the strings of a batch ----------------------------------------- */

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	char data[];
};
struct arena {
	struct arena_chunk *head;
	int oom;
};

static void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	if (!a->head || a->head->cap - a->head->used < n) {
		size_t cap = n > 65536 ? n : 65536;
		struct arena_chunk *c = malloc(sizeof(*c) + cap);
		if (!c) {
			a->oom = 1;
			return NULL;
		}
		c->next = a->head;
		c->used = 0;
		c->cap = cap;
		a->head = c;
	}
	void *p = a->head->data + a->head->used;
	a->head->used += n;
	return p;
}

static const char *arena_dup(struct arena *a, const void *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	if (!p)
		return "";
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

static void arena_reset(struct arena *a)
{
	/* keep the newest chunk, free the rest */
	if (!a->head)
		return;
	struct arena_chunk *c = a->head->next;
	a->head->next = NULL;
	a->head->used = 0;
	while (c) {
		struct arena_chunk *n = c->next;
		free(c);
		c = n;
	}
}

static void arena_free(struct arena *a)
{
	arena_reset(a);
	free(a->head);
	a->head = NULL;
}

/* ---- attribute lists ---------------------------------------------------------------- */

struct attr_list {
	struct otlp_attr *a;
	unsigned n, cap;
};

static struct otlp_attr *attr_slot(struct attr_list *l, const char *key)
{
	for (unsigned i = 0; i < l->n; i++)
		if (!strcmp(l->a[i].key, key))
			return &l->a[i];
	if (l->n == l->cap) {
		unsigned cap = l->cap ? l->cap * 2 : 16;
		struct otlp_attr *a = realloc(l->a, cap * sizeof(*a));
		if (!a)
			return NULL;
		l->a = a;
		l->cap = cap;
	}
	memset(&l->a[l->n], 0, sizeof(l->a[0]));
	return &l->a[l->n++];
}

/* Resource strings are owned (strdup) and freed with the resource. */
static void res_set_str(struct attr_list *l, const char *key, const char *v)
{
	if (!v)
		return;
	struct otlp_attr *a = attr_slot(l, key);
	if (!a)
		return;
	if (a->key && a->type == OTLP_ATTR_STR)
		free((char *)a->s);
	if (!a->key)
		a->key = strdup(key);
	a->type = OTLP_ATTR_STR;
	a->s = strdup(v);
	a->n = a->s ? strlen(a->s) : 0;
	if (!a->s)
		a->s = "";
}

static void res_set_int(struct attr_list *l, const char *key, int64_t v)
{
	struct otlp_attr *a = attr_slot(l, key);
	if (!a)
		return;
	if (a->key && a->type == OTLP_ATTR_STR)
		free((char *)a->s);
	if (!a->key)
		a->key = strdup(key);
	a->type = OTLP_ATTR_INT;
	a->s = NULL;
	a->i = v;
}

/* "k=v,k2=v2" (OTEL_RESOURCE_ATTRIBUTES, values percent-encoded). only_new:
 * keep keys already set. */
static void res_set_list(struct attr_list *l, const char *spec, int only_new)
{
	char *copy = spec ? strdup(spec) : NULL, *save = NULL;
	if (!copy)
		return;
	for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq)
			continue;
		*eq = 0;
		char *k = kv, *v = eq + 1;
		while (isspace((unsigned char)*k))
			k++;
		for (char *e = k + strlen(k); e > k && isspace((unsigned char)e[-1]);)
			*--e = 0;
		while (isspace((unsigned char)*v))
			v++;
		for (char *e = v + strlen(v); e > v && isspace((unsigned char)e[-1]);)
			*--e = 0;
		/* percent-decoding in place */
		char *o = v;
		for (char *q = v; *q; q++) {
			if (*q == '%' && isxdigit((unsigned char)q[1]) && isxdigit((unsigned char)q[2])) {
				char hx[3] = { q[1], q[2], 0 };
				*o++ = (char)strtol(hx, NULL, 16);
				q += 2;
			} else {
				*o++ = *q;
			}
		}
		*o = 0;
		if (!*k)
			continue;
		if (only_new) {
			int found = 0;
			for (unsigned i = 0; i < l->n; i++)
				found |= !strcmp(l->a[i].key, k);
			if (found)
				continue;
		}
		res_set_str(l, k, v);
	}
	free(copy);
}

static void res_free(struct otlp_resource *r)
{
	for (unsigned i = 0; i < r->nattrs; i++) {
		free((char *)r->attrs[i].key);
		if (r->attrs[i].type == OTLP_ATTR_STR)
			free((char *)r->attrs[i].s);
	}
	free(r->attrs);
	free(r);
}

static const char *language_of(const char *exe)
{
	static const struct {
		const char *prefix, *lang;
	} tab[] = { { "python", "python" }, { "pypy", "python" }, { "gunicorn", "python" }, { "uwsgi", "python" },
		    { "node", "nodejs" },   { "java", "java" },     { "ruby", "ruby" },       { "php", "php" },
		    { "dotnet", "dotnet" }, { "beam", "erlang" },   { "erl", "erlang" } };
	if (!exe)
		return NULL;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (!strncmp(exe, tab[i].prefix, strlen(tab[i].prefix)))
			return tab[i].lang;
	return NULL;
}

/* ---- the export ------------------------------------------------------------------ */

struct series {
	const struct otlp_resource *res;
	int metric;
	struct otlp_attr attrs[6]; /* HTTP: 5; gRPC: 6 (series_for) */
	unsigned nattrs;
	struct slot {
		int64_t k;
		uint64_t count;
		double sum, min, max;
		uint64_t buckets[OTLP_NBOUNDS + 1];
	} *slots;
	size_t nslots, cap;
};

struct exporter {
	const struct bz_otlp_opts *o;
	sqlite3 *db;
	char *err;
	size_t errlen;
	/* capture */
	char *hostname;
	int64_t t0, tend;
	int64_t interval;
	/* resources by (pid, service) */
	struct bz_u64map res_map;
	struct otlp_resource **res;
	size_t nres, capres;
	sqlite3_stmt *proc_stmt, *attr_stmt;
	const char *env_service, *env_attrs;
	/* metrics */
	struct bz_u64map series_map;
	struct series **series;
	size_t nseries, capseries;
	/* output */
	struct bz_otlp_http *http;
	char *traces_url, *metrics_url;
	FILE *file;
	int no_traces, no_metrics; /* for http */
	struct bz_pb pb, js;
	struct bz_otlp_stats st;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *u = p;
	for (size_t i = 0; i < n; i++) {
		h ^= u[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}
#define FNV0 0xcbf29ce484222325ULL

static const char *col_text(sqlite3_stmt *s, int i)
{
	if (i < 0 || sqlite3_column_type(s, i) == SQLITE_NULL)
		return NULL;
	return (const char *)sqlite3_column_text(s, i);
}

static int col_null(sqlite3_stmt *s, int i)
{
	return i < 0 || sqlite3_column_type(s, i) == SQLITE_NULL;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* An id column into out[0..n): hex text (right-aligned), INTEGER (big
 * endian, right-aligned) or BLOB.  0 if NULL/empty/all zero. */
static int col_id(sqlite3_stmt *s, int i, uint8_t *out, size_t n)
{
	memset(out, 0, n);
	if (i < 0)
		return 0;
	switch (sqlite3_column_type(s, i)) {
	case SQLITE_INTEGER: {
		uint64_t v = (uint64_t)sqlite3_column_int64(s, i);
		for (size_t k = 0; k < 8 && k < n; k++)
			out[n - 1 - k] = (uint8_t)(v >> (8 * k));
		break;
	}
	case SQLITE_BLOB: {
		const uint8_t *p = sqlite3_column_blob(s, i);
		size_t len = (size_t)sqlite3_column_bytes(s, i);
		if (len > n)
			p += len - n, len = n;
		memcpy(out + n - len, p, len);
		break;
	}
	case SQLITE_TEXT: {
		const char *t = (const char *)sqlite3_column_text(s, i);
		size_t len = (size_t)sqlite3_column_bytes(s, i);
		if (len > 2 * n)
			t += len - 2 * n, len = 2 * n;
		size_t o = n * 2 - len; /* nibble position */
		for (size_t k = 0; k < len; k++, o++) {
			int h = hexval(t[k]);
			if (h < 0)
				h = 0;
			out[o / 2] |= (uint8_t)(o % 2 ? h : h << 4);
		}
		break;
	}
	default:
		return 0;
	}
	for (size_t k = 0; k < n; k++)
		if (out[k])
			return 1;
	return 0;
}

static const struct otlp_resource *resource_for(struct exporter *x, int64_t pid, const char *service)
{
	uint64_t key = fnv(fnv(FNV0, &pid, sizeof(pid)), service ? service : "", service ? strlen(service) + 1 : 0);
	struct otlp_resource *r = bz_u64map_get(&x->res_map, key);
	if (r)
		return r;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->pid = pid;
	struct attr_list l = { 0 };
	const char *exe = NULL, *comm = NULL, *cmd = NULL, *psvc = NULL, *pattrs = NULL;
	char *exe_c = NULL, *comm_c = NULL, *cmd_c = NULL, *psvc_c = NULL, *pattrs_c = NULL;
	if (x->proc_stmt) {
		sqlite3_reset(x->proc_stmt);
		sqlite3_bind_int64(x->proc_stmt, 1, pid);
		if (sqlite3_step(x->proc_stmt) == SQLITE_ROW) {
			sqlite3_stmt *s = x->proc_stmt;
			exe = exe_c = col_text(s, 0) ? strdup(col_text(s, 0)) : NULL;
			comm = comm_c = col_text(s, 1) ? strdup(col_text(s, 1)) : NULL;
			cmd = cmd_c = col_text(s, 2) ? strdup(col_text(s, 2)) : NULL;
			psvc = psvc_c = col_text(s, 3) ? strdup(col_text(s, 3)) : NULL;
			pattrs = pattrs_c = col_text(s, 4) ? strdup(col_text(s, 4)) : NULL;
		}
		sqlite3_reset(x->proc_stmt);
	}
	const char *svc = service && *service ? service : psvc && *psvc ? psvc : "unknown_service";
	char inst[512];
	res_set_str(&l, "service.name", svc);
	snprintf(inst, sizeof(inst), "%s:%" PRId64, x->hostname ? x->hostname : "localhost", pid);
	res_set_str(&l, "service.instance.id", inst);
	res_set_int(&l, "process.pid", pid);
	const char *base = exe ? strrchr(exe, '/') : NULL;
	base = base ? base + 1 : exe ? exe : comm;
	if (base && *base)
		res_set_str(&l, "process.executable.name", base);
	if (exe && *exe)
		res_set_str(&l, "process.executable.path", exe);
	if (cmd && *cmd) {
		char *red = bz_otlp_redact_cmdline(cmd);
		res_set_str(&l, "process.command_line", red);
		free(red);
	}
	if (x->hostname)
		res_set_str(&l, "host.name", x->hostname);
	res_set_str(&l, "os.type", "linux");
	res_set_str(&l, "telemetry.sdk.name", "beyla");
	res_set_str(&l, "telemetry.sdk.version", BEYLA_VERSION);
	const char *lang = language_of(base);
	if (lang)
		res_set_str(&l, "telemetry.sdk.language", lang);
	if (pattrs && *pattrs)
		res_set_list(&l, pattrs, 1);
	if (x->env_attrs && *x->env_attrs)
		res_set_list(&l, x->env_attrs, 0);
	if (x->env_service && *x->env_service)
		res_set_str(&l, "service.name", x->env_service);
	free(exe_c), free(comm_c), free(cmd_c), free(psvc_c), free(pattrs_c);
	r->attrs = l.a;
	r->nattrs = l.n;
	if (x->nres == x->capres) {
		size_t cap = x->capres ? x->capres * 2 : 16;
		struct otlp_resource **a = realloc(x->res, cap * sizeof(*a));
		if (!a) {
			res_free(r);
			return NULL;
		}
		x->res = a;
		x->capres = cap;
	}
	if (bz_u64map_put(&x->res_map, key, r)) {
		res_free(r);
		return NULL;
	}
	x->res[x->nres++] = r;
	return r;
}

/* ---- sending ---------------------------------------------------------------------- */

static int send_request(struct exporter *x, int metrics, const void *items, size_t n)
{
	if (x->http && !(metrics ? x->no_metrics : x->no_traces)) {
		bz_pb_reset(&x->pb);
		if (metrics)
			bz_otlp_metrics_pb(&x->pb, items, n);
		else
			bz_otlp_traces_pb(&x->pb, items, n);
		if (x->pb.oom) {
			snprintf(x->err, x->errlen, "OTLP export: out of memory");
			return -1;
		}
		if (bz_otlp_http_post(x->http, metrics ? x->metrics_url : x->traces_url, x->pb.p, x->pb.len, x->err,
				      x->errlen))
			return -1;
		x->st.bytes += x->pb.len;
	}
	if (x->file) {
		bz_pb_reset(&x->js);
		if (metrics)
			bz_otlp_metrics_json(&x->js, items, n);
		else
			bz_otlp_traces_json(&x->js, items, n);
		bz_pb_raw(&x->js, "\n", 1);
		if (x->js.oom) {
			snprintf(x->err, x->errlen, "OTLP export: out of memory");
			return -1;
		}
		if (fwrite(x->js.p, 1, x->js.len, x->file) != x->js.len) {
			snprintf(x->err, x->errlen, "OTLP export to %s failed: %s", x->o->file, strerror(errno));
			return -1;
		}
		if (!x->http)
			x->st.bytes += x->js.len;
	}
	x->st.requests++;
	return 0;
}

static int cmp_span(const void *a, const void *b)
{
	const struct otlp_span *x = a, *y = b;
	if (x->res != y->res)
		return x->res < y->res ? -1 : 1;
	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	return memcmp(x->span_id, y->span_id, 8);
}

/* ---- metrics aggregation --------------------------------------------------------- */

static void series_str(struct series *s, const char *key, const char *v)
{
	struct otlp_attr *a = &s->attrs[s->nattrs];
	char *c;
	if (!v)
		return;
	c = strdup(v);
	a->key = key;
	a->type = OTLP_ATTR_STR;
	a->s = c ? c : "";
	a->n = c ? strlen(c) : 0;
	a->i = c != NULL; /* owned */
	s->nattrs++;
}

static void series_int(struct series *s, const char *key, int has, int64_t v)
{
	struct otlp_attr *a = &s->attrs[s->nattrs];
	if (!has)
		return;
	a->key = key;
	a->type = OTLP_ATTR_INT;
	a->i = v;
	s->nattrs++;
}

/* What a histogram series is kept apart by: HTTP's attributes, or for
 * gRPC the RPC ones (docs/otlp.md). */
struct series_key {
	int metric;
	const char *method, *route, *addr;
	int has_code, has_port;
	int64_t code, port;
	const char *rpc_service, *rpc_method; /* gRPC (OTLP_M_RPC_*) */
	const char *db_system, *db_op, *db_coll, *db_status; /* OTLP_M_DB_CLIENT_DURATION */
};

static uint64_t fnv_str(uint64_t h, const char *v) { return fnv(h, v ? v : "\1", v ? strlen(v) + 1 : 1); }

static struct series *series_for(struct exporter *x, const struct otlp_resource *res, const struct series_key *k)
{
	uint64_t h = fnv(FNV0, &res, sizeof(res));
	int rpc = k->metric == OTLP_M_RPC_SERVER_DURATION || k->metric == OTLP_M_RPC_CLIENT_DURATION;
	h = fnv(h, &k->metric, sizeof(k->metric));
	h = fnv_str(h, k->method);
	h = fnv(h, &k->has_code, sizeof(k->has_code));
	h = fnv(h, &k->code, sizeof(k->code));
	h = fnv_str(h, k->route);
	h = fnv_str(h, k->addr);
	h = fnv(h, &k->has_port, sizeof(k->has_port));
	h = fnv(h, &k->port, sizeof(k->port));
	h = fnv_str(h, k->rpc_service);
	h = fnv_str(h, k->rpc_method);
	h = fnv_str(h, k->db_system);
	h = fnv_str(h, k->db_op);
	h = fnv_str(h, k->db_coll);
	h = fnv_str(h, k->db_status);
	struct series *s = bz_u64map_get(&x->series_map, h);
	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->res = res;
	s->metric = k->metric;
	if (rpc) {
		series_str(s, "rpc.system", "grpc");
		series_str(s, "rpc.service", k->rpc_service);
		series_str(s, "rpc.method", k->rpc_method);
		series_int(s, "rpc.grpc.status_code", k->has_code, k->code);
	} else if (k->metric == OTLP_M_DB_CLIENT_DURATION) {
		series_str(s, "db.system.name", k->db_system);
		series_str(s, "db.operation.name", k->db_op);
		series_str(s, "db.collection.name", k->db_coll);
		series_str(s, "db.response.status_code", k->db_status);
	} else {
		series_str(s, "http.request.method", k->method);
		series_int(s, "http.response.status_code", k->has_code, k->code);
		series_str(s, "http.route", k->route);
	}
	const char *addr = k->addr;
	int has_port = k->has_port;
	int64_t port = k->port;
	series_str(s, "server.address", addr);
	series_int(s, "server.port", has_port, port);
	if (x->nseries == x->capseries) {
		size_t cap = x->capseries ? x->capseries * 2 : 64;
		struct series **a = realloc(x->series, cap * sizeof(*a));
		if (!a) {
			free(s);
			return NULL;
		}
		x->series = a;
		x->capseries = cap;
	}
	if (bz_u64map_put(&x->series_map, h, s)) {
		free(s);
		return NULL;
	}
	x->series[x->nseries++] = s;
	return s;
}

static void series_free(struct series *s)
{
	for (unsigned i = 0; i < s->nattrs; i++)
		if (s->attrs[i].type == OTLP_ATTR_STR && s->attrs[i].i)
			free((char *)s->attrs[i].s);
	free(s->slots);
	free(s);
}

static int observe(struct exporter *x, struct series *s, int64_t end_ns, int64_t value_ns)
{
	/* unsigned: times from a hostile capture must not overflow */
	int64_t k = end_ns > x->t0 ? (int64_t)(((uint64_t)end_ns - (uint64_t)x->t0) / (uint64_t)x->interval) : 0;
	struct slot *sl = NULL;
	for (size_t i = s->nslots; i-- > 0;) {
		if (s->slots[i].k == k) {
			sl = &s->slots[i];
			break;
		}
		if (s->nslots - i > 8)
			break; /* far back: look through all below */
	}
	if (!sl)
		for (size_t i = 0; i < s->nslots; i++)
			if (s->slots[i].k == k) {
				sl = &s->slots[i];
				break;
			}
	if (!sl) {
		if (s->nslots == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 4;
			struct slot *a = realloc(s->slots, cap * sizeof(*a));
			if (!a)
				return -1;
			s->slots = a;
			s->cap = cap;
		}
		sl = &s->slots[s->nslots++];
		memset(sl, 0, sizeof(*sl));
		sl->k = k;
	}
	double v = (double)value_ns / 1e9;
	int b = 0;
	while (b < OTLP_NBOUNDS && v > bz_otlp_bounds[b])
		b++;
	sl->buckets[b]++;
	if (!sl->count || v < sl->min)
		sl->min = v;
	if (!sl->count || v > sl->max)
		sl->max = v;
	sl->count++;
	sl->sum += v;
	return 0;
}

static int cmp_slot(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;
	return x->k < y->k ? -1 : x->k > y->k;
}

static int res_index(struct exporter *x, const struct otlp_resource *r)
{
	for (size_t i = 0; i < x->nres; i++)
		if (x->res[i] == r)
			return (int)i;
	return -1;
}

static int cmp_series(const void *a, const void *b)
{
	const struct series *x = *(struct series *const *)a, *y = *(struct series *const *)b;
	if (x->res != y->res)
		return x->res < y->res ? -1 : 1;
	return x->metric - y->metric;
}

#define MAX_INTERVALS 1000000

static int send_metrics(struct exporter *x, size_t max_points)
{
	/* unsigned: a hostile capture's times must not overflow */
	uint64_t span = (uint64_t)x->tend - (uint64_t)x->t0;
	int64_t nint = x->tend > x->t0 ? (int64_t)((span - 1) / (uint64_t)x->interval + 1) : 1;
	struct otlp_point *pts = calloc(max_points, sizeof(*pts));
	size_t np = 0;
	int rc = 0;
	if (!pts)
		return -1;
	(void)res_index;
	qsort(x->series, x->nseries, sizeof(x->series[0]), cmp_series);
	for (size_t si = 0; si < x->nseries && !rc; si++) {
		struct series *s = x->series[si];
		qsort(s->slots, s->nslots, sizeof(s->slots[0]), cmp_slot);
		if (!s->nslots)
			continue;
		struct otlp_point acc = { 0 };
		size_t q = 0;
		int64_t last = s->slots[s->nslots - 1].k >= nint ? s->slots[s->nslots - 1].k + 1 : nint;
		/* one point per interval: a capture claiming years of data (only a
		 * damaged or hostile one does) would never finish */
		if (last - s->slots[0].k > MAX_INTERVALS) {
			x->st.series_skipped++;
			continue;
		}
		for (int64_t k = s->slots[0].k; k < last && !rc; k++) {
			if (q < s->nslots && s->slots[q].k == k) {
				struct slot *sl = &s->slots[q++];
				if (!acc.count || sl->min < acc.min)
					acc.min = sl->min;
				if (!acc.count || sl->max > acc.max)
					acc.max = sl->max;
				acc.count += sl->count;
				acc.sum += sl->sum;
				for (int b = 0; b <= OTLP_NBOUNDS; b++)
					acc.buckets[b] += sl->buckets[b];
			}
			struct otlp_point *p = &pts[np++];
			*p = acc;
			p->res = s->res;
			p->metric = s->metric;
			p->attrs = s->attrs;
			p->nattrs = s->nattrs;
			p->start_ns = (uint64_t)x->t0;
			int64_t t = (int64_t)((uint64_t)x->t0 + (uint64_t)(k + 1) * (uint64_t)x->interval);
			p->time_ns = (uint64_t)(t > x->tend && k + 1 >= nint ? x->tend : t);
			if (np == max_points) {
				rc = send_request(x, 1, pts, np);
				x->st.points += np;
				np = 0;
			}
		}
	}
	if (!rc && np) {
		rc = send_request(x, 1, pts, np);
		x->st.points += np;
	}
	free(pts);
	return rc;
}

/* ---- spans ------------------------------------------------------------------------- */

enum {
	C_SPAN_ID, C_TRACE_ID, C_PARENT_ID, C_KIND, C_NAME, C_START, C_END, C_STATUS, C_INCOMPLETE, C_SERVICE,
	C_PID, C_QUEUE, C_DURATION, C_METHOD, C_ROUTE, C_CODE, C_SADDR, C_SPORT, C_NCOLS
};
static const char *const core_cols[C_NCOLS] = { "span_id", "trace_id", "parent_id", "kind", "name", "start_ns",
						"end_ns", "status", "incomplete", "service_name", "pid", "queue_ns",
						"duration_ns", "http_method", "http_route", "http_status_code",
						"server_address", "server_port" };

/* Span columns exported as attributes: column, attribute, type. */
static const struct {
	const char *col, *key;
	int type;
} attr_cols[] = {
	{ "http_method", "http.request.method", OTLP_ATTR_STR },
	{ "url_path", "url.path", OTLP_ATTR_STR },
	{ "url_query", "url.query", OTLP_ATTR_STR },
	{ "http_route", "http.route", OTLP_ATTR_STR },
	{ "http_status_code", "http.response.status_code", OTLP_ATTR_INT },
	{ "server_address", "server.address", OTLP_ATTR_STR },
	{ "server_port", "server.port", OTLP_ATTR_INT },
	{ "client_address", "client.address", OTLP_ATTR_STR },
	{ "client_port", "client.port", OTLP_ATTR_INT },
	{ "protocol_version", "network.protocol.version", OTLP_ATTR_STR },
	{ "user_agent", "user_agent.original", OTLP_ATTR_STR },
	{ "request_body_size", "http.request.body.size", OTLP_ATTR_INT },
	{ "response_body_size", "http.response.body.size", OTLP_ATTR_INT },
	{ "tid", "thread.id", OTLP_ATTR_INT },
	{ "queue_ns", "beyla.queue_ns", OTLP_ATTR_INT },
	{ "accept_queue_ns", "beyla.accept_queue_ns", OTLP_ATTR_INT },
	{ "recv_queue_ns", "beyla.recv_queue_ns", OTLP_ATTR_INT },
	{ "processing_ns", "beyla.processing_ns", OTLP_ATTR_INT },
	{ "connect_ns", "beyla.connect_ns", OTLP_ATTR_INT },
	{ "rx_backlog_ns", "beyla.rx_backlog_ns", OTLP_ATTR_INT },
	{ "tx_queue_ns", "beyla.tx_queue_ns", OTLP_ATTR_INT },
	{ "conn_id", "beyla.conn_id", OTLP_ATTR_INT },
	{ "request_index", "beyla.request_index", OTLP_ATTR_INT },
	/* --sched: processing as on CPU, waiting for a CPU, blocked (the
	 * semantic conventions have no such attributes) */
	{ "on_cpu_ns", "beyla.on_cpu_ns", OTLP_ATTR_INT },
	{ "runq_ns", "beyla.runq_ns", OTLP_ATTR_INT },
	{ "blocked_ns", "beyla.blocked_ns", OTLP_ATTR_INT },
	/* schema 3: the common span_attributes, read from span_rows (SPANS_V3) */
	{ "url_scheme", "url.scheme", OTLP_ATTR_STR },
	{ "request_content_type", "http.request.header.content-type", OTLP_ATTR_STR },
	{ "response_content_type", "http.response.header.content-type", OTLP_ATTR_STR },
	{ "error_type", "error.type", OTLP_ATTR_STR },
	{ "peer_address", "network.peer.address", OTLP_ATTR_STR },
	{ "peer_port", "network.peer.port", OTLP_ATTR_STR },
};

/* Schema 3 keeps the common attributes as columns of span_rows and the rest
 * in span_attribute_rows (the view span_attributes unites them): reading
 * them there costs one rowid lookup per span instead of a query over every
 * part of the view.  Older databases: spans and span_attributes. */
#define SPANS_V3 \
	"SELECT s.*, r.url_scheme, r.request_content_type, r.response_content_type, r.error_type," \
	" r.peer_address, r.peer_port FROM spans s LEFT JOIN span_rows r ON r.span_id = s.span_id"
#define ATTRS_V3 "SELECT key, value FROM span_attribute_rows WHERE span_id = ?1"

/* Attributes of span_attributes (text in the database) that the conventions
 * type as integers. */
static int int_attr(const char *k)
{
	static const char *const keys[] = { "rpc.grpc.status_code", "beyla.grpc.request.messages",
					    "beyla.grpc.response.messages", "beyla.grpc.request.message_bytes",
					    "beyla.grpc.response.message_bytes", "db.operation.batch.size",
					    "db.response.returned_rows", NULL };
	for (int i = 0; keys[i]; i++)
		if (!strcmp(k, keys[i]))
			return 1;
	return 0;
}

static int int_value(const char *v, size_t n, int64_t *out)
{
	int64_t x = 0;

	if (!n || n > 18)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return 0;
		x = x * 10 + (v[i] - '0');
	}
	*out = x;
	return 1;
}

static int has_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt *s;
	int found = 0;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", -1, &s,
			       NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	found = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	return found;
}
#define N_ATTR_COLS (sizeof(attr_cols) / sizeof(attr_cols[0]))

static int kind_of(sqlite3_stmt *s, int i)
{
	if (sqlite3_column_type(s, i) == SQLITE_INTEGER) { /* enum bz_span_kind */
		switch (sqlite3_column_int(s, i)) {
		case 0: return OTLP_KIND_SERVER;
		case 1: return OTLP_KIND_CLIENT;
		default: return OTLP_KIND_INTERNAL;
		}
	}
	const char *t = col_text(s, i);
	if (!t)
		return OTLP_KIND_UNSPECIFIED;
	if (!strcmp(t, "server"))
		return OTLP_KIND_SERVER;
	if (!strcmp(t, "client"))
		return OTLP_KIND_CLIENT;
	return OTLP_KIND_INTERNAL;
}

static int status_of(sqlite3_stmt *s, int i)
{
	if (sqlite3_column_type(s, i) == SQLITE_INTEGER) { /* enum bz_span_status */
		switch (sqlite3_column_int(s, i)) {
		case 1: return OTLP_STATUS_OK;
		case 2: return OTLP_STATUS_ERROR;
		default: return OTLP_STATUS_UNSET;
		}
	}
	const char *t = col_text(s, i);
	if (t && !strcmp(t, "ok"))
		return OTLP_STATUS_OK;
	if (t && !strcmp(t, "error"))
		return OTLP_STATUS_ERROR;
	return OTLP_STATUS_UNSET;
}

static int db_fail(struct exporter *x, const char *what)
{
	snprintf(x->err, x->errlen, "OTLP export: reading the database (%s): %s", what, sqlite3_errmsg(x->db));
	return -1;
}

static int export_spans(struct exporter *x)
{
	sqlite3_stmt *s = NULL;
	int col[C_NCOLS], acol[N_ATTR_COLS], rc = 0, step;
	size_t max = x->o->batch_spans ? x->o->batch_spans : 2048, n = 0;
	struct otlp_span *batch = calloc(max, sizeof(*batch));
	struct arena ar = { 0 };

	if (!batch)
		return -1;
	if (sqlite3_prepare_v2(x->db, has_table(x->db, "span_rows") ? SPANS_V3 : "SELECT * FROM spans", -1, &s,
			       NULL) != SQLITE_OK) {
		free(batch);
		return db_fail(x, "spans");
	}
	for (int c = 0; c < C_NCOLS; c++)
		col[c] = bz_db_column(s, core_cols[c]);
	for (size_t c = 0; c < N_ATTR_COLS; c++)
		acol[c] = bz_db_column(s, attr_cols[c].col);
	if (col[C_SPAN_ID] < 0 || col[C_TRACE_ID] < 0) {
		sqlite3_finalize(s);
		free(batch);
		snprintf(x->err, x->errlen, "OTLP export: the spans table has no span_id/trace_id");
		return -1;
	}
	while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
		struct otlp_span *sp = &batch[n];
		memset(sp, 0, sizeof(*sp));
		int64_t pid = col_null(s, col[C_PID]) ? -1 : sqlite3_column_int64(s, col[C_PID]);
		const char *svc = col_text(s, col[C_SERVICE]);
		sp->res = resource_for(x, pid, svc);
		if (!sp->res) {
			rc = -1;
			snprintf(x->err, x->errlen, "OTLP export: out of memory");
			break;
		}
		col_id(s, col[C_TRACE_ID], sp->trace_id, 16);
		col_id(s, col[C_SPAN_ID], sp->span_id, 8);
		sp->has_parent = col_id(s, col[C_PARENT_ID], sp->parent_id, 8);
		const char *name = col_text(s, col[C_NAME]);
		sp->name = arena_dup(&ar, name ? name : "", name ? strlen(name) : 0);
		sp->kind = col[C_KIND] >= 0 ? kind_of(s, col[C_KIND]) : OTLP_KIND_UNSPECIFIED;
		sp->status = col[C_STATUS] >= 0 ? status_of(s, col[C_STATUS]) : OTLP_STATUS_UNSET;
		int64_t st = col_null(s, col[C_START]) ? 0 : sqlite3_column_int64(s, col[C_START]);
		int64_t en = col_null(s, col[C_END]) ? st : sqlite3_column_int64(s, col[C_END]);
		sp->start_ns = st > 0 ? (uint64_t)st : 0;
		sp->end_ns = en > 0 ? (uint64_t)en : 0;
		if (en > x->tend)
			x->tend = en;
		int incomplete = !col_null(s, col[C_INCOMPLETE]) && sqlite3_column_int(s, col[C_INCOMPLETE]);

		/* attributes: columns, then span_attributes rows */
		unsigned cap = N_ATTR_COLS + 2 + 8;
		struct otlp_attr *a = arena_alloc(&ar, cap * sizeof(*a));
		unsigned na = 0;
		if (!a) {
			rc = -1;
			snprintf(x->err, x->errlen, "OTLP export: out of memory");
			break;
		}
		for (size_t c = 0; c < N_ATTR_COLS; c++) {
			int i = acol[c];
			if (col_null(s, i))
				continue;
			if (attr_cols[c].type == OTLP_ATTR_INT) {
				if (sqlite3_column_type(s, i) != SQLITE_INTEGER)
					continue;
				a[na].key = attr_cols[c].key;
				a[na].type = OTLP_ATTR_INT;
				a[na].i = sqlite3_column_int64(s, i);
				na++;
			} else {
				const char *t = (const char *)sqlite3_column_text(s, i);
				size_t tl = (size_t)sqlite3_column_bytes(s, i);
				if (!t || !tl)
					continue;
				a[na].key = attr_cols[c].key;
				a[na].type = OTLP_ATTR_STR;
				a[na].s = arena_dup(&ar, t, tl);
				a[na].n = tl;
				na++;
			}
		}
		if (incomplete) {
			a[na].key = "beyla.incomplete";
			a[na].type = OTLP_ATTR_BOOL;
			a[na].i = 1;
			na++;
		}
		if (x->attr_stmt) {
			sqlite3_reset(x->attr_stmt);
			sqlite3_bind_value(x->attr_stmt, 1, sqlite3_column_value(s, col[C_SPAN_ID]));
			while (sqlite3_step(x->attr_stmt) == SQLITE_ROW) {
				const char *k = col_text(x->attr_stmt, 0);
				const char *v = (const char *)sqlite3_column_text(x->attr_stmt, 1);
				size_t vl = (size_t)sqlite3_column_bytes(x->attr_stmt, 1);
				if (!k || !*k)
					continue;
				if (na == cap) {
					struct otlp_attr *b2 = arena_alloc(&ar, 2 * cap * sizeof(*a));
					if (!b2)
						break;
					memcpy(b2, a, na * sizeof(*a));
					a = b2;
					cap *= 2;
				}
				a[na].key = arena_dup(&ar, k, strlen(k));
				a[na].type = OTLP_ATTR_STR;
				a[na].s = v ? arena_dup(&ar, v, vl) : "";
				a[na].n = v ? vl : 0;
				if (v && int_attr(k) && int_value(v, vl, &a[na].i))
					a[na].type = OTLP_ATTR_INT; /* (the conventions' type) */
				na++;
			}
			sqlite3_reset(x->attr_stmt);
		}
		sp->attrs = a;
		sp->nattrs = na;
		if (ar.oom) {
			rc = -1;
			snprintf(x->err, x->errlen, "OTLP export: out of memory");
			break;
		}

		/* metrics */
		if (!incomplete && (sp->kind == OTLP_KIND_SERVER || sp->kind == OTLP_KIND_CLIENT)) {
			struct series_key k = { 0 };
			const char *rpc_sys = NULL;
			int has_gcode = 0;
			int64_t dur = col_null(s, col[C_DURATION]) ? en - st : sqlite3_column_int64(s, col[C_DURATION]);
			int server = sp->kind == OTLP_KIND_SERVER;
			struct series *se;
			for (unsigned i = 0; i < na; i++) {
				if (a[i].type != OTLP_ATTR_STR && a[i].type != OTLP_ATTR_INT)
					continue;
				if (!strcmp(a[i].key, "rpc.system"))
					rpc_sys = a[i].s;
				else if (!strcmp(a[i].key, "rpc.service"))
					k.rpc_service = a[i].s;
				else if (!strcmp(a[i].key, "rpc.method"))
					k.rpc_method = a[i].s;
				else if (!strcmp(a[i].key, "db.system.name"))
					k.db_system = a[i].s;
				else if (!strcmp(a[i].key, "db.operation.name"))
					k.db_op = a[i].s;
				else if (!strcmp(a[i].key, "db.collection.name"))
					k.db_coll = a[i].s;
				else if (!strcmp(a[i].key, "db.response.status_code"))
					k.db_status = a[i].s;
				else if (!strcmp(a[i].key, "rpc.grpc.status_code") && a[i].type == OTLP_ATTR_INT) {
					has_gcode = 1;
					k.code = a[i].i;
				}
			}
			k.addr = col_text(s, col[C_SADDR]);
			k.has_port = !col_null(s, col[C_SPORT]);
			k.port = k.has_port ? sqlite3_column_int64(s, col[C_SPORT]) : 0;
			if (k.db_system) {
				/* a database call: its client histogram; a database
				 * server's side has no metric in the conventions */
				k.metric = OTLP_M_DB_CLIENT_DURATION;
			} else if (rpc_sys && !strcmp(rpc_sys, "grpc")) {
				/* a gRPC call: the RPC histograms, not HTTP's */
				k.metric = server ? OTLP_M_RPC_SERVER_DURATION : OTLP_M_RPC_CLIENT_DURATION;
				k.has_code = has_gcode;
			} else {
				k.metric = server ? OTLP_M_SERVER_DURATION : OTLP_M_CLIENT_DURATION;
				k.method = col_text(s, col[C_METHOD]);
				k.route = col_text(s, col[C_ROUTE]);
				k.has_code = !col_null(s, col[C_CODE]);
				k.code = k.has_code ? sqlite3_column_int64(s, col[C_CODE]) : 0;
			}
			if (!(k.db_system && server)) {
				se = series_for(x, sp->res, &k);
				if (!se || observe(x, se, en, dur))
					rc = -1;
			}
			if (!rc && server && !k.db_system && !col_null(s, col[C_QUEUE])) {
				k.metric = OTLP_M_QUEUE_DURATION;
				if (k.rpc_service && rpc_sys) {
					/* (the queue histogram keeps HTTP's attributes) */
					k.rpc_service = k.rpc_method = NULL;
					k.method = col_text(s, col[C_METHOD]);
					k.route = col_text(s, col[C_ROUTE]);
					k.has_code = !col_null(s, col[C_CODE]);
					k.code = k.has_code ? sqlite3_column_int64(s, col[C_CODE]) : 0;
				}
				se = series_for(x, sp->res, &k);
				if (!se || observe(x, se, en, sqlite3_column_int64(s, col[C_QUEUE])))
					rc = -1;
			}
			if (rc) {
				snprintf(x->err, x->errlen, "OTLP export: out of memory");
				break;
			}
		}

		if (++n == max) {
			qsort(batch, n, sizeof(*batch), cmp_span);
			rc = send_request(x, 0, batch, n);
			x->st.spans += n;
			n = 0;
			arena_reset(&ar);
		}
	}
	if (!rc && step != SQLITE_DONE && step != SQLITE_ROW)
		rc = db_fail(x, "spans");
	if (!rc && n) {
		qsort(batch, n, sizeof(*batch), cmp_span);
		rc = send_request(x, 0, batch, n);
		x->st.spans += n;
	}
	sqlite3_finalize(s);
	arena_free(&ar);
	free(batch);
	return rc;
}

static void read_capture(struct exporter *x)
{
	sqlite3_stmt *s = NULL;
	x->t0 = 0;
	x->tend = 0;
	if (sqlite3_prepare_v2(x->db, "SELECT hostname, start_ns, end_ns FROM capture LIMIT 1", -1, &s, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW) {
			if (col_text(s, 0))
				x->hostname = strdup(col_text(s, 0));
			if (!col_null(s, 1))
				x->t0 = sqlite3_column_int64(s, 1);
			if (!col_null(s, 2))
				x->tend = sqlite3_column_int64(s, 2);
		}
	}
	sqlite3_finalize(s);
	s = NULL;
	/* schema 3: a child starts within its parent, so span_rows (indexed on
	 * start_ns) has the earliest start; the view would be scanned whole */
	if (sqlite3_prepare_v2(x->db,
			       has_table(x->db, "span_rows") ? "SELECT MIN(start_ns) FROM span_rows"
							      : "SELECT MIN(start_ns) FROM spans",
			       -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW && !col_null(s, 0)) {
		int64_t m = sqlite3_column_int64(s, 0);
		if (!x->t0 || m < x->t0)
			x->t0 = m;
	}
	sqlite3_finalize(s);
	if (x->tend < x->t0)
		x->tend = x->t0;
}

int bz_otlp_export(sqlite3 *db, const char *path, const struct bz_otlp_opts *o, struct bz_otlp_stats *stp,
		   char *err, size_t errlen)
{
	struct exporter x;
	struct timespec t0, t1, c0, c1;
	int rc = -1, own = 0;

	memset(&x, 0, sizeof(x));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	x.o = o;
	x.err = err;
	x.errlen = errlen;
	err[0] = 0;
	x.interval = o->interval_ns > 0 ? o->interval_ns : 10000000000LL;
	x.env_service = getenv("OTEL_SERVICE_NAME");
	x.env_attrs = getenv("OTEL_RESOURCE_ATTRIBUTES");
	bz_pb_init(&x.pb);
	bz_pb_init(&x.js);

	if (!db) {
		if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
			snprintf(err, errlen, "OTLP export: cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "no memory");
			sqlite3_close(db);
			return -1;
		}
		own = 1;
	}
	x.db = db;
	read_capture(&x);
	if (sqlite3_prepare_v2(db,
			       "SELECT exe, comm, cmdline, service_name, resource_attributes FROM processes "
			       "WHERE pid = ?1 ORDER BY first_seen_ns LIMIT 1",
			       -1, &x.proc_stmt, NULL) != SQLITE_OK)
		x.proc_stmt = NULL;
	if (sqlite3_prepare_v2(db,
			       has_table(db, "span_attribute_rows") ? ATTRS_V3
								    : "SELECT key, value FROM span_attributes WHERE span_id = ?1",
			       -1, &x.attr_stmt, NULL) != SQLITE_OK)
		x.attr_stmt = NULL;

	if (o->enabled) {
		struct bz_otlp_http_opts ho = { 0 };
		const char *comp = getenv("OTEL_EXPORTER_OTLP_COMPRESSION");
		const char *tmo = getenv("OTEL_EXPORTER_OTLP_TIMEOUT");
		ho.headers = getenv("OTEL_EXPORTER_OTLP_HEADERS");
		ho.gzip = comp && !strcmp(comp, "gzip");
		ho.timeout_ms = tmo && atol(tmo) > 0 ? atol(tmo) : 10000;
		ho.max_attempts = 5;
		ho.backoff_ms = 200;
		x.traces_url = bz_otlp_signal_url(o->url, "traces");
		x.metrics_url = bz_otlp_signal_url(o->url, "metrics");
		if (!x.traces_url || !x.metrics_url || bz_otlp_http_new(&x.http, &ho)) {
			snprintf(err, errlen, "OTLP export: cannot set up the HTTP client");
			goto out;
		}
	}
	if (o->file) {
		x.file = fopen(o->file, "w");
		if (!x.file) {
			snprintf(err, errlen, "OTLP export to %s failed: %s", o->file, strerror(errno));
			goto out;
		}
	}
	/* OTEL_{TRACES,METRICS}_EXPORTER=none turn a signal off for --otlp (the
	 * file always gets both): Jaeger, for one, takes no metrics. */
	const char *te = getenv("OTEL_TRACES_EXPORTER"), *me = getenv("OTEL_METRICS_EXPORTER");
	x.no_traces = te && !strcmp(te, "none");
	x.no_metrics = me && !strcmp(me, "none");
	if (export_spans(&x) || send_metrics(&x, 4096))
		goto out;
	if (x.file) {
		FILE *f = x.file;
		x.file = NULL;
		if (fclose(f)) {
			snprintf(err, errlen, "OTLP export to %s failed: %s", o->file, strerror(errno));
			goto out;
		}
	}
	rc = 0;
out:
	if (x.file)
		fclose(x.file);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	x.st.seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	x.st.cpu_seconds = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
	if (stp)
		*stp = x.st;
	bz_otlp_http_free(&x.http);
	free(x.traces_url);
	free(x.metrics_url);
	bz_pb_free(&x.pb);
	bz_pb_free(&x.js);
	sqlite3_finalize(x.proc_stmt);
	sqlite3_finalize(x.attr_stmt);
	for (size_t i = 0; i < x.nseries; i++)
		series_free(x.series[i]);
	free(x.series);
	bz_u64map_free(&x.series_map);
	for (size_t i = 0; i < x.nres; i++)
		res_free(x.res[i]);
	free(x.res);
	bz_u64map_free(&x.res_map);
	free(x.hostname);
	if (own)
		sqlite3_close(db);
	return rc;
}

int bz_otlp_run(const struct bz_otlp_opts *o, sqlite3 *db, const char *path)
{
	struct bz_otlp_stats st;
	char err[1024];

	if (bz_otlp_export(db, path, o, &st, err, sizeof(err))) {
		fprintf(stderr, "beyla analyze: %s\n", err);
		return -1;
	}
	if (!o->quiet)
		fprintf(stderr, "otlp: exported %" PRIu64 " spans and %" PRIu64 " metric points in %" PRIu64
				" requests (%.2f s, %.2f s CPU)%s%s\n",
			st.spans, st.points, st.requests, st.seconds, st.cpu_seconds, o->file ? " to " : "", o->file ? o->file : "");
	if (st.series_skipped)
		fprintf(stderr, "beyla analyze: warning: %" PRIu64 " metric series left out: the capture's "
				"times span more than %d intervals (damaged capture?)\n",
			st.series_skipped, MAX_INTERVALS);
	return 0;
}
