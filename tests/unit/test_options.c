/* test_options.c - value parsers and the argument parser of `beyla record`. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <cmocka.h>
#include "record/options.h"

static void test_durations(void **state)
{
	static const struct { const char *in; uint64_t ns; } ok[] = {
		{ "500ms", 500000000ull }, { "30s", 30000000000ull }, { "5m", 300000000000ull },
		{ "1h", 3600000000000ull }, { "2h30m", 9000000000000ull }, { "1.5s", 1500000000ull },
		{ "10", 10000000000ull }, { "1.5", 1500000000ull }, { "250us", 250000ull }, { "1m30s", 90000000000ull },
	};
	static const char *const bad[] = {
		"", "s", "-1s", "5x", "0", "0s", "ms", "+5s", "0x10s", "5 s", "1e3s", "99999999999999h", "30s5",
	};
	uint64_t ns;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(bz_parse_duration(ok[i].in, &ns), 0);
		assert_int_equal(ns, ok[i].ns);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(bz_parse_duration(bad[i], &ns), -EINVAL);
	assert_int_equal(bz_parse_duration(NULL, &ns), -EINVAL);
}

static void test_sizes(void **state)
{
	uint64_t b;

	assert_int_equal(bz_parse_size("4096", &b), 0);
	assert_int_equal(b, 4096);
	assert_int_equal(bz_parse_size("64k", &b), 0);
	assert_int_equal(b, 65536);
	assert_int_equal(bz_parse_size("16M", &b), 0);
	assert_int_equal(b, 16u << 20);
	assert_int_equal(bz_parse_size("1GiB", &b), 0);
	assert_int_equal(b, 1u << 30);
	assert_int_equal(bz_parse_size("0", &b), -EINVAL);
	assert_int_equal(bz_parse_size("12q", &b), -EINVAL);
	assert_int_equal(bz_parse_size("-5", &b), -EINVAL);
	assert_int_equal(bz_parse_size("99999999999999999999", &b), -EINVAL);
	assert_int_equal(bz_parse_size("18446744073709551615G", &b), -EINVAL);
}

static void test_ports_and_pids(void **state)
{
	int port;
	pid_t pid;

	assert_int_equal(bz_parse_port("8080", &port), 0);
	assert_int_equal(port, 8080);
	assert_int_equal(bz_parse_port("65535", &port), 0);
	assert_int_equal(bz_parse_port("0", &port), -EINVAL);
	assert_int_equal(bz_parse_port("65536", &port), -EINVAL);
	assert_int_equal(bz_parse_port("80a", &port), -EINVAL);
	assert_int_equal(bz_parse_port("", &port), -EINVAL);
	assert_int_equal(bz_parse_pid("1234", &pid), 0);
	assert_int_equal(pid, 1234);
	assert_int_equal(bz_parse_pid("0", &pid), -EINVAL);
	assert_int_equal(bz_parse_pid("-3", &pid), -EINVAL);
	assert_int_equal(bz_parse_pid("4294967296", &pid), -EINVAL);
}

static void test_unix_paths(void **state)
{
	char out[BZ_UNIX_NAME_MAX], longp[200];
	int n = -1;

	assert_int_equal(bz_parse_unix_path("/run/app.sock", out, &n), 0);
	assert_int_equal(n, 13);
	assert_memory_equal(out, "/run/app.sock", 13);
	/* an abstract name: a 0 byte, then the name, no NUL after it */
	assert_int_equal(bz_parse_unix_path("@gunicorn", out, &n), 0);
	assert_int_equal(n, 9);
	assert_memory_equal(out, "\0gunicorn", 9);
	assert_int_equal(bz_parse_unix_path("", out, &n), -EINVAL);
	assert_int_equal(bz_parse_unix_path("@", out, &n), -EINVAL);
	assert_int_equal(bz_parse_unix_path(NULL, out, &n), -EINVAL);
	/* sun_path is 108 bytes: a pathname keeps its NUL in them, an abstract name needs none */
	memset(longp, 'a', sizeof(longp));
	longp[107] = 0;
	assert_int_equal(bz_parse_unix_path(longp, out, &n), 0);
	assert_int_equal(n, 107);
	longp[107] = 'a', longp[108] = 0;
	assert_int_equal(bz_parse_unix_path(longp, out, &n), -EINVAL);
	longp[0] = '@';
	assert_int_equal(bz_parse_unix_path(longp, out, &n), 0);
	assert_int_equal(n, 108);
	longp[108] = 'a', longp[109] = 0;
	assert_int_equal(bz_parse_unix_path(longp, out, &n), -EINVAL);
}

static void test_format(void **state)
{
	char buf[32];

	assert_string_equal(bz_fmt_duration(120000000ull, buf, sizeof(buf)), "120ms");
	assert_string_equal(bz_fmt_duration(4500000000ull, buf, sizeof(buf)), "4.5s");
	assert_string_equal(bz_fmt_duration(3723000000000ull, buf, sizeof(buf)), "1h02m03s");
	assert_string_equal(bz_fmt_bytes(512, buf, sizeof(buf)), "512 B");
	assert_string_equal(bz_fmt_bytes(3 << 20, buf, sizeof(buf)), "3.0 MiB");
}

static void test_args(void **state)
{
	struct record_opts o;
	char *a1[] = { "record", "-d", "30s", "--port", "8080", "-o", "x.bz.zst", "-p", "12", "-p", "13",
		       "--snaplen", "0", "-q", NULL };
	char *a2[] = { "record", "-d", "5s", "--", "python3", "-m", "http.server", "--bind", "x", NULL };
	char *a3[] = { "record", "--exe", "gunicorn|python3", "--ring-size", "64M", NULL };

	assert_int_equal(record_parse_args(14, a1, &o), 0);
	assert_int_equal(o.duration_ns, 30000000000ull);
	assert_int_equal(o.nports, 1);
	assert_int_equal(o.ports[0], 8080);
	assert_string_equal(o.output, "x.bz.zst");
	assert_int_equal(o.npids, 2);
	assert_int_equal(o.pids[1], 13);
	assert_int_equal(o.snaplen, 0);
	assert_true(o.quiet);
	assert_null(o.cmd);

	/* options of the launched command are never ours */
	assert_int_equal(record_parse_args(9, a2, &o), 0);
	assert_non_null(o.cmd);
	assert_string_equal(o.cmd[0], "python3");
	assert_string_equal(o.cmd[3], "--bind");
	assert_int_equal(o.snaplen, 512);

	assert_int_equal(record_parse_args(5, a3, &o), 0);
	assert_int_equal(o.nexes, 1);
	assert_string_equal(o.exe_res[0], "gunicorn|python3");
	assert_int_equal(o.ring_bytes, 64u << 20);
}

/* Every selection option is repeatable, and they combine: nothing given
 * first is lost to what is given later (issue 15: --port 8080 --port 9090
 * recorded 9090 only). */
static void test_args_selection_union(void **state)
{
	struct record_opts o;
	char *a[] = { "record", "--port", "8080", "--exe", "^curl$", "--port", "9090", "-p", "7",
		      "--exe", "nginx", "--port", "8080", "-p", "9", "--", "python3", "x.py", NULL };

	assert_int_equal(record_parse_args(18, a, &o), 0);
	assert_int_equal(o.nports, 2); /* 8080 given twice counts once */
	assert_int_equal(o.ports[0], 8080);
	assert_int_equal(o.ports[1], 9090);
	assert_int_equal(o.nexes, 2);
	assert_string_equal(o.exe_res[0], "^curl$");
	assert_string_equal(o.exe_res[1], "nginx");
	assert_int_equal(o.npids, 2);
	assert_int_equal(o.pids[0], 7);
	assert_int_equal(o.pids[1], 9);
	assert_non_null(o.cmd);
	assert_string_equal(o.cmd[0], "python3");
}

static void test_args_errors_exit(void **state)
{
	/* argp reports usage errors by exiting: check in a child */
	static char *bad[][6] = {
		{ "record", NULL },                         /* nothing to record */
		{ "record", "--port", "99999", NULL },      /* bad port */
		{ "record", "-p", "abc", NULL },            /* bad pid */
		{ "record", "-d", "soon", "-p", "1", NULL },/* bad duration */
		{ "record", "-p", "1", "./server", NULL },  /* command without -- */
		{ "record", "-p", "1", "--ring-size", "3000", NULL },
		{ "record", "--exe", "", NULL },            /* an empty regex matches everything */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int argc = 0, status;
		pid_t pid;
		while (bad[i][argc])
			argc++;
		pid = fork();
		if (pid == 0) {
			struct record_opts o;
			freopen("/dev/null", "w", stderr);
			_exit(record_parse_args(argc, bad[i], &o) ? 99 : 0);
		}
		assert_true(waitpid(pid, &status, 0) == pid);
		assert_true(WIFEXITED(status));
		assert_int_not_equal(WEXITSTATUS(status), 0);
	}
	{
		struct record_opts o;
		char *a[] = { "record", "-p", "1", "--", NULL };
		assert_int_equal(record_parse_args(4, a, &o), -EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_ports_and_pids),
		cmocka_unit_test(test_unix_paths),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_args_selection_union),
		cmocka_unit_test(test_args_errors_exit),
	};
	return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
