/* test_procinfo.c - which processes --exe selects. */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "record/procinfo.h"

static void make(struct procinfo *pi, const char *exe, const char *comm, const char *const *argv)
{
	memset(pi, 0, sizeof(*pi));
	snprintf(pi->exe, sizeof(pi->exe), "%s", exe);
	snprintf(pi->comm, sizeof(pi->comm), "%s", comm);
	for (; *argv; argv++) {
		size_t l = strlen(*argv) + 1;
		memcpy(pi->cmdline + pi->cmdline_len, *argv, l);
		pi->cmdline_len += l;
	}
	pi->cmdline_len--; /* as procinfo_read: without the last NUL */
}

static int matches(const char *re, const char *exe, const char *comm, const char *const *argv)
{
	struct procinfo pi;
	regex_t rx;
	int m;

	assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	make(&pi, exe, comm, argv);
	m = procinfo_matches(&pi, &rx);
	regfree(&rx);
	return m;
}

static void test_exe_matching(void **state)
{
	const char *nginx[] = { "nginx: worker process", NULL };
	const char *gunicorn[] = { "/venv/bin/python3", "/venv/bin/gunicorn", "-w", "2", "app:app", NULL };
	const char *script[] = { "bash", "tests/e2e/record_nginx_wrk.sh", NULL };
	const char *vim[] = { "vim", "nginx.conf", NULL };
	const char *node[] = { "node", "server.js", NULL };
	const char *pyopt[] = { "python3", "-m", "gunicorn", NULL };

	assert_true(matches("nginx", "/usr/sbin/nginx", "nginx", nginx));
	assert_true(matches("^nginx$", "/usr/sbin/nginx", "nginx", nginx)); /* basename */
	assert_true(matches("gunicorn", "/usr/bin/python3.11", "gunicorn", gunicorn));
	assert_true(matches("gunicorn", "/usr/bin/python3.11", "python3", gunicorn)); /* script */
	assert_true(matches("server\\.js", "/usr/bin/node", "node", node));
	assert_true(matches("python3", "/usr/bin/python3.11", "python3", pyopt));
	/* a shell's or editor's argument is not the program */
	assert_false(matches("nginx", "/usr/bin/bash", "bash", script));
	assert_false(matches("nginx", "/usr/bin/vim.basic", "vim", vim));
	/* an option is not a script */
	assert_false(matches("^-m$", "/usr/bin/python3.11", "python3", pyopt));
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_exe_matching) };
	return cmocka_run_group_tests_name("procinfo", tests, NULL, NULL);
}
