/* ident.c - a target's identity from /proc and from the kernel's report. */
#include <errno.h>
#include <string.h>
#include "record/ident.h"

/* Copies n bytes of a fixed-size event field into a NUL-terminated string. */
static void field_str(char *dst, size_t cap, const char *src, size_t n, size_t field_max)
{
	if (n > field_max)
		n = field_max;
	n = strnlen(src, n);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void ident_from_event(const struct bz_ev_proc_exec *ev, size_t size, struct procinfo *pi)
{
	struct bz_ev_proc_exec e;
	size_t n;

	memset(&e, 0, sizeof(e));
	memcpy(&e, ev, size < sizeof(e) ? size : sizeof(e));
	memset(pi, 0, sizeof(*pi));
	pi->pid = (pid_t)e.h.pid;
	pi->ppid = (pid_t)e.ppid;
	/* the resolved executable, as /proc/PID/exe gives it, when the kernel
	 * reported it; else the path given to execve */
	if (e.exe_len)
		field_str(pi->exe, sizeof(pi->exe), e.exe, e.exe_len, BZ_PATH_MAX);
	else
		field_str(pi->exe, sizeof(pi->exe), e.filename, e.filename_len, BZ_PATH_MAX);
	field_str(pi->comm, sizeof(pi->comm), e.comm, BZ_COMM_LEN, BZ_COMM_LEN);
	n = e.args_len < BZ_ARGS_MAX ? e.args_len : BZ_ARGS_MAX;
	if (n > sizeof(pi->cmdline) - 1)
		n = sizeof(pi->cmdline) - 1;
	memcpy(pi->cmdline, e.args, n);
	while (n && pi->cmdline[n - 1] == '\0') /* as /proc/PID/cmdline, trailing NULs off */
		n--;
	pi->cmdline_len = n;
	field_str(pi->service_name, sizeof(pi->service_name), e.otel_service, e.service_len,
		  BZ_OTEL_SERVICE_MAX);
	field_str(pi->resource_attrs, sizeof(pi->resource_attrs), e.otel_attrs, e.attrs_len,
		  BZ_OTEL_ATTRS_MAX);
}

static void fill_str(char *dst, size_t cap, const char *src)
{
	if (!dst[0] && src[0])
		field_str(dst, cap, src, strlen(src), cap);
}

int ident_read(pid_t pid, const struct procinfo *known, struct procinfo *pi)
{
	int rc = procinfo_read(pid, pi);

	if (rc) {
		if (!known)
			return -ESRCH;
		*pi = *known;
		pi->pid = pid;
		return 1;
	}
	if (!known)
		return 0;
	fill_str(pi->exe, sizeof(pi->exe), known->exe);
	fill_str(pi->comm, sizeof(pi->comm), known->comm);
	if (!pi->cmdline_len && known->cmdline_len) {
		memcpy(pi->cmdline, known->cmdline, known->cmdline_len);
		pi->cmdline_len = known->cmdline_len;
	}
	fill_str(pi->service_name, sizeof(pi->service_name), known->service_name);
	fill_str(pi->resource_attrs, sizeof(pi->resource_attrs), known->resource_attrs);
	if (!pi->ppid)
		pi->ppid = known->ppid;
	return 0;
}
