/* procinfo.c - read a process's identity from /proc. */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "record/capture_format.h"
#include "record/procinfo.h"

/* Reads a whole small /proc file into buf; returns bytes read or -errno. */
static ssize_t read_small(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t n, total = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((size_t)total < len) {
		n = read(fd, buf + total, len - total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += n;
	}
	close(fd);
	return total;
}

/* Finds NAME=value in a NUL-separated environment block. */
static void env_value(const char *env, size_t len, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);
	const char *p = env, *end = env + len;

	out[0] = '\0';
	while (p < end) {
		size_t l = strnlen(p, end - p);
		if (l > nl && !strncmp(p, name, nl) && p[nl] == '=') {
			size_t vl = l - nl - 1;
			if (vl >= outlen)
				vl = outlen - 1;
			memcpy(out, p + nl + 1, vl);
			out[vl] = '\0';
			return;
		}
		p += l + 1;
	}
}

int procinfo_read(pid_t pid, struct procinfo *pi)
{
	static char env[65536];
	char stat[512], *rp;
	ssize_t n;

	memset(pi, 0, sizeof(*pi));
	pi->pid = pid;
	n = read_small(pid, "stat", stat, sizeof(stat) - 1);
	if (n < 0)
		return n == -ENOENT ? -ESRCH : (int)n;
	stat[n] = '\0';
	/* comm may hold spaces and parens: the state field follows the last ')' */
	rp = strrchr(stat, ')');
	if (rp && sscanf(rp + 1, " %*c %d", &pi->ppid) != 1)
		pi->ppid = 0;
	n = read_small(pid, "comm", pi->comm, sizeof(pi->comm) - 1);
	if (n > 0) {
		pi->comm[n] = '\0';
		pi->comm[strcspn(pi->comm, "\n")] = '\0';
	}
	{
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
		n = readlink(path, pi->exe, sizeof(pi->exe) - 1);
		pi->exe[n > 0 ? n : 0] = '\0';
	}
	n = read_small(pid, "cmdline", pi->cmdline, sizeof(pi->cmdline) - 1);
	pi->cmdline_len = n > 0 ? (size_t)n : 0;
	while (pi->cmdline_len && pi->cmdline[pi->cmdline_len - 1] == '\0')
		pi->cmdline_len--;
	n = read_small(pid, "environ", env, sizeof(env));
	if (n > 0) {
		env_value(env, n, "OTEL_SERVICE_NAME", pi->service_name, sizeof(pi->service_name));
		env_value(env, n, "OTEL_RESOURCE_ATTRIBUTES", pi->resource_attrs, sizeof(pi->resource_attrs));
	}
	return 0;
}

void procinfo_encode(const struct procinfo *pi, uint64_t seen_ns, uint32_t flags, struct bz_buf *b)
{
	bz_buf_put_u32(b, (uint32_t)pi->pid);
	bz_buf_put_u32(b, (uint32_t)pi->ppid);
	bz_buf_put_u64(b, seen_ns);
	bz_buf_put_u32(b, flags);
	bz_buf_put_u32(b, 0);
	if (pi->exe[0])
		bz_buf_opt_str(b, BZ_PR_EXE, pi->exe);
	if (pi->cmdline_len)
		bz_buf_opt(b, BZ_PR_CMDLINE, pi->cmdline, (uint32_t)pi->cmdline_len);
	if (pi->comm[0])
		bz_buf_opt_str(b, BZ_PR_COMM, pi->comm);
	if (pi->service_name[0])
		bz_buf_opt_str(b, BZ_PR_SERVICE_NAME, pi->service_name);
	if (pi->resource_attrs[0])
		bz_buf_opt_str(b, BZ_PR_RESOURCE_ATTRS, pi->resource_attrs);
}

/* Language runtimes whose argv[1] names the program (gunicorn, an app.js).
 * Not shells: `bash run-nginx-tests.sh` is not nginx. */
static int is_interpreter(const char *name)
{
	static const char *const runtimes[] = { "python", "node", "nodejs", "ruby", "perl", "php", "java" };

	for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++)
		if (!strncmp(name, runtimes[i], strlen(runtimes[i])))
			return 1;
	return 0;
}

int procinfo_matches(const struct procinfo *pi, const void *re)
{
	const regex_t *rx = re;
	const char *base = strrchr(pi->exe, '/');

	if (pi->exe[0] && !regexec(rx, pi->exe, 0, NULL, 0))
		return 1;
	if (base && !regexec(rx, base + 1, 0, NULL, 0))
		return 1;
	if (pi->comm[0] && !regexec(rx, pi->comm, 0, NULL, 0))
		return 1;
	/* argv[0] is the first NUL-terminated string of cmdline; argv[1] is
	 * the script when the executable is an interpreter (gunicorn, node app) */
	if (pi->cmdline_len && !regexec(rx, pi->cmdline, 0, NULL, 0))
		return 1;
	if (base && is_interpreter(base + 1)) {
		size_t a0 = strnlen(pi->cmdline, pi->cmdline_len);
		if (a0 + 1 < pi->cmdline_len && pi->cmdline[a0 + 1] != '-' &&
		    !regexec(rx, pi->cmdline + a0 + 1, 0, NULL, 0))
			return 1;
	}
	return 0;
}
