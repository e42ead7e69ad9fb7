/* test_probe_report.c - the probe report's parser (analyze/probe_report.c),
 * which `beyla info` and the analyzer share: well-formed PROBES,
 * GO_BINARY and TLS_LIBRARY blocks, then hostile ones (values too short,
 * a name without its NUL, an option whose length runs past the block, a
 * block cut at every byte), each in a buffer of its exact size so ASan
 * sees any read past it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/probe_report.h"
#include "record/capture_format.h"
#include "record/capture_writer.h"

/* A PROBE value: status, required, name NUL, detail (name_nul 0: no NUL). */
static void put_probe(struct bz_buf *b, uint16_t code, uint8_t status, uint8_t required, const char *name,
		      int name_nul, const char *detail)
{
	struct bz_buf v = { 0 };
	uint8_t st[4] = { status, required, 0, 0 };

	bz_buf_put(&v, st, 4);
	bz_buf_put(&v, name, strlen(name) + (name_nul ? 1 : 0));
	bz_buf_put(&v, detail, strlen(detail));
	bz_buf_opt(b, code, v.data, (uint32_t)v.len);
	bz_buf_free(&v);
}

/* The block's body copied to a heap buffer of exactly its length. */
static struct bz_block block_of(uint32_t type, const void *p, size_t n, uint8_t **mem)
{
	struct bz_block b = { .type = type, .len = (uint32_t)n };

	*mem = malloc(n ? n : 1);
	assert_non_null(*mem);
	if (n)
		memcpy(*mem, p, n);
	b.body = *mem;
	return b;
}

struct seen {
	int probes, bad, options;
	struct bz_probe_row rows[8];
};

/* Iterates b to its end; returns the last result (0 or -1). */
static int walk(const struct bz_block *b, struct seen *s)
{
	struct bz_probe_iter it;
	struct bz_probe_value v;
	uint16_t code;
	int rc;

	memset(s, 0, sizeof(*s));
	assert_int_equal(bz_probe_iter_init(&it, b), 0);
	while ((rc = bz_probe_iter_next(&it, &code, &v)) > 0) {
		if (rc == BZ_PI_BAD) {
			s->bad++;
			continue;
		}
		if (rc == BZ_PI_OPTION) {
			s->options++;
			continue;
		}
		assert_int_equal(rc, BZ_PI_PROBE);
		/* the value lies inside the block */
		assert_true(v.name >= b->body && v.name + v.name_len <= b->body + b->len);
		assert_true(v.detail >= b->body && v.detail + v.detail_len <= b->body + b->len);
		if (s->probes < 8)
			bz_probe_row_fill(&s->rows[s->probes], &it, &v);
		s->probes++;
	}
	assert_int_equal(bz_probe_iter_next(&it, &code, &v), 0); /* stays at the end */
	return rc;
}

static void test_probes_block(void **state)
{
	struct bz_buf b = { 0 };
	struct seen s;
	uint8_t *mem;

	put_probe(&b, BZ_PO_PROBE, BZ_PROBE_ATTACHED, 1, "raw:sock_recv_length", 1, "socket reads");
	put_probe(&b, BZ_PO_PROBE, BZ_PROBE_REFUSED, 0, "sched:sched_process_exec", 1, "attach failed: Permission denied");
	put_probe(&b, BZ_PO_PROBE, BZ_PROBE_SKIPPED, 0, "syscalls:sys_enter_read", 1, "not requested (--syscall-start)");
	bz_buf_opt_str(&b, 99, "a newer option"); /* skipped */
	put_probe(&b, BZ_PO_PROBE, 7, 0, "raw:future", 1, "");
	struct bz_block blk = block_of(BZ_BLK_PROBES, b.data, b.len, &mem);
	assert_int_equal(walk(&blk, &s), 0);
	assert_int_equal(s.probes, 4);
	assert_int_equal(s.options, 1);
	assert_int_equal(s.bad, 0);
	assert_string_equal(s.rows[0].name, "raw:sock_recv_length");
	assert_string_equal(s.rows[0].kind, "raw_tracepoint");
	assert_string_equal(s.rows[0].category, "kernel");
	assert_int_equal(s.rows[0].required, 1);
	assert_int_equal(s.rows[0].first, 0); /* the session sets it */
	assert_string_equal(s.rows[1].kind, "tracepoint");
	assert_int_equal(s.rows[1].status, BZ_PROBE_REFUSED);
	assert_string_equal(bz_probe_status_name(s.rows[1].status), "refused");
	assert_string_equal(s.rows[1].detail, "attach failed: Permission denied");
	assert_string_equal(s.rows[1].path, "");
	assert_int_equal(s.rows[1].has_pid, 0);
	assert_string_equal(bz_probe_status_name(s.rows[2].status), "skipped");
	assert_string_equal(bz_probe_status_name(s.rows[3].status), "unknown");
	assert_string_equal(s.rows[3].detail, "");
	free(mem);
	bz_buf_free(&b);
}

static void test_go_and_tls_blocks(void **state)
{
	struct bz_buf b = { 0 };
	struct seen s;
	uint8_t *mem;

	bz_buf_opt_str(&b, BZ_GB_PATH, "/srv/app");
	bz_buf_opt_str(&b, BZ_GB_VERSION, "go1.26.8");
	bz_buf_opt_str(&b, BZ_GB_MODULE, "example.com/app");
	bz_buf_opt_u32(&b, BZ_GB_FLAGS, BZ_GB_FLAG_DWARF);
	bz_buf_opt_u32(&b, BZ_GB_PID, 4242);
	put_probe(&b, BZ_GB_PROBE, BZ_PROBE_ATTACHED, 0, "net/http.serverHandler.ServeHTTP", 1, "entry");
	put_probe(&b, BZ_GB_PROBE, BZ_PROBE_REFUSED, 0, "crypto/tls.(*Conn).Read", 1, "uprobe refused: EPERM");
	struct bz_block blk = block_of(BZ_BLK_GO_BINARY, b.data, b.len, &mem);
	assert_int_equal(walk(&blk, &s), 0);
	assert_int_equal(s.options, 5);
	assert_int_equal(s.probes, 2);
	assert_string_equal(s.rows[1].kind, "uprobe");
	assert_string_equal(s.rows[1].category, "go");
	assert_string_equal(s.rows[1].path, "/srv/app");
	assert_int_equal(s.rows[1].pid, 4242);
	assert_int_equal(s.rows[1].has_pid, 1);
	assert_string_equal(s.rows[1].detail, "uprobe refused: EPERM");
	free(mem);

	bz_buf_reset(&b);
	bz_buf_opt_str(&b, BZ_TL_PATH, "/usr/lib/x86_64-linux-gnu/libssl.so.3");
	bz_buf_opt_u32(&b, BZ_TL_LIB, BZ_TLS_OPENSSL);
	bz_buf_opt_u32(&b, BZ_TL_PID, 0);
	put_probe(&b, BZ_TL_PROBE, BZ_PROBE_SKIPPED, 0, "SSL_read_ex", 1, "not in this library");
	blk = block_of(BZ_BLK_TLS_LIBRARY, b.data, b.len, &mem);
	assert_int_equal(walk(&blk, &s), 0);
	assert_int_equal(s.probes, 1);
	assert_string_equal(s.rows[0].category, "openssl");
	assert_string_equal(s.rows[0].kind, "uprobe");
	assert_int_equal(s.rows[0].pid, 0);
	assert_int_equal(s.rows[0].has_pid, 1);
	assert_string_equal(s.rows[0].path, "/usr/lib/x86_64-linux-gnu/libssl.so.3");
	free(mem);

	/* another block type yields nothing */
	struct bz_probe_iter it;
	struct bz_probe_value v;
	uint16_t code;
	blk = block_of(BZ_BLK_END, b.data, b.len, &mem);
	assert_int_equal(bz_probe_iter_init(&it, &blk), -1);
	assert_int_equal(bz_probe_iter_next(&it, &code, &v), 0);
	free(mem);
	bz_buf_free(&b);
}

static void test_hostile_values(void **state)
{
	struct bz_buf b = { 0 };
	struct seen s;
	uint8_t *mem;

	/* values of 0 to 3 bytes: each one too short, skipped; the rest is read */
	for (uint32_t n = 0; n < 4; n++)
		bz_buf_opt(&b, BZ_PO_PROBE, "\x01\x01\x00", n);
	/* exactly the fixed part: an empty name and detail */
	bz_buf_opt(&b, BZ_PO_PROBE, "\x01\x00\x00\x00", 4);
	/* no NUL: the whole rest is the name, the detail is empty */
	put_probe(&b, BZ_PO_PROBE, BZ_PROBE_REFUSED, 0, "raw:no_nul_here", 0, "");
	/* NULs and control bytes in the detail; a status and required out of range */
	bz_buf_opt(&b, BZ_PO_PROBE, "\xff\xfe\x00\x00name\0de\0ta\x1bil\0", 19);
	struct bz_block blk = block_of(BZ_BLK_PROBES, b.data, b.len, &mem);
	assert_int_equal(walk(&blk, &s), 0);
	assert_int_equal(s.bad, 4);
	assert_int_equal(s.probes, 3);
	assert_string_equal(s.rows[0].name, "");
	assert_string_equal(s.rows[0].detail, "");
	assert_string_equal(s.rows[1].name, "raw:no_nul_here");
	assert_string_equal(s.rows[1].detail, "");
	assert_string_equal(s.rows[2].name, "name");
	assert_string_equal(s.rows[2].detail, "de ta\x1bil"); /* NULs as spaces, the trailing one dropped */
	assert_int_equal(s.rows[2].required, 1);
	assert_string_equal(bz_probe_status_name(s.rows[2].status), "unknown");
	free(mem);

	/* a name and a detail longer than their buffers: cut, NUL-terminated */
	char long_name[600], long_detail[900];
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;
	memset(long_detail, 'd', sizeof(long_detail) - 1);
	long_detail[sizeof(long_detail) - 1] = 0;
	bz_buf_reset(&b);
	bz_buf_opt_str(&b, BZ_GB_PATH, long_detail);
	put_probe(&b, BZ_GB_PROBE, 0, 0, long_name, 1, long_detail);
	blk = block_of(BZ_BLK_GO_BINARY, b.data, b.len, &mem);
	assert_int_equal(walk(&blk, &s), 0);
	assert_int_equal(strlen(s.rows[0].name), BZ_PROBE_NAME_MAX - 1);
	assert_int_equal(strlen(s.rows[0].detail), BZ_PROBE_DETAIL_MAX - 1);
	assert_int_equal(strlen(s.rows[0].path), BZ_PROBE_PATH_MAX - 1);
	assert_int_equal(s.rows[0].has_pid, 0); /* no PID option */
	free(mem);

	/* a PID of the wrong size is not a pid */
	bz_buf_reset(&b);
	bz_buf_opt(&b, BZ_TL_PID, "\x01\x02", 2);
	bz_buf_opt_u64(&b, BZ_TL_LIB, BZ_TLS_OPENSSL);
	put_probe(&b, BZ_TL_PROBE, 0, 0, "SSL_read", 1, "entry");
	blk = block_of(BZ_BLK_TLS_LIBRARY, b.data, b.len, &mem);
	assert_int_equal(walk(&blk, &s), 0);
	assert_int_equal(s.rows[0].has_pid, 0);
	assert_string_equal(s.rows[0].category, "unknown");
	free(mem);
	bz_buf_free(&b);
}

/* Lengths past the block: an option's length overruns it, and the block
 * cut at every byte.  The probes before the damage are read, then -1. */
static void test_lengths_past_the_block(void **state)
{
	struct bz_buf b = { 0 };
	struct seen s;
	uint8_t *mem;

	put_probe(&b, BZ_PO_PROBE, 0, 1, "raw:sock_recv_length", 1, "socket reads");
	size_t first = b.len;
	put_probe(&b, BZ_PO_PROBE, 1, 0, "raw:sk_data_ready", 1, "attach failed");
	/* the second option's length says 1 MiB */
	uint8_t *raw = malloc(b.len);
	memcpy(raw, b.data, b.len);
	raw[first + 4] = 0;
	raw[first + 5] = 0;
	raw[first + 6] = 0x10;
	raw[first + 7] = 0;
	struct bz_block blk = block_of(BZ_BLK_PROBES, raw, b.len, &mem);
	assert_int_equal(walk(&blk, &s), -1);
	assert_int_equal(s.probes, 1);
	free(mem);
	/* a length of 0xffffffff: no wrap-around */
	memset(raw + first + 4, 0xff, 4);
	blk = block_of(BZ_BLK_PROBES, raw, b.len, &mem);
	assert_int_equal(walk(&blk, &s), -1);
	assert_int_equal(s.probes, 1);
	free(mem);
	free(raw);

	/* cut at every byte: never a read past the cut, one probe before the
	 * second option, and -1 for any cut inside an option */
	for (size_t cut = 0; cut <= b.len; cut++) {
		blk = block_of(BZ_BLK_PROBES, b.data, cut, &mem);
		int rc = walk(&blk, &s);
		if (cut == 0 || cut == first || cut == b.len)
			assert_int_equal(rc, 0);
		else
			assert_int_equal(rc, -1);
		assert_int_equal(s.probes, cut < first ? 0 : cut < b.len ? 1 : 2);
		free(mem);
	}
	bz_buf_free(&b);

	/* a value parsed on its own: NULL and short ones refused */
	struct bz_probe_value v;
	assert_int_equal(bz_probe_value_parse(NULL, 8, &v), -1);
	assert_int_equal(bz_probe_value_parse((const uint8_t *)"\0\0\0", 3, &v), -1);
	assert_int_equal(bz_probe_value_parse((const uint8_t *)"\0\0\0\0x", 5, &v), 0);
	assert_int_equal(v.name_len, 1);
	assert_int_equal(v.detail_len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probes_block),
		cmocka_unit_test(test_go_and_tls_blocks),
		cmocka_unit_test(test_hostile_values),
		cmocka_unit_test(test_lengths_past_the_block),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
