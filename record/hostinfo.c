/* hostinfo.c - privilege checks and the capture HEADER. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>

#include "record/redact.h"
#include <unistd.h>
#include "record/capture_format.h"
#include "record/hostinfo.h"
#include "record/selection.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static int has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return (d[cap / 32].effective >> (cap % 32)) & 1;
}

int hostinfo_check_privileges(void (*say)(const char *fmt, ...))
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) == 0 && !has_cap(d, CAP_SYS_ADMIN) &&
	    !(has_cap(d, CAP_BPF) && has_cap(d, CAP_PERFMON))) {
		say("needs root, or the capabilities CAP_BPF and CAP_PERFMON (try: sudo beyla record ...)");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		say("this kernel exposes no BTF at /sys/kernel/btf/vmlinux (%s); beyla's CO-RE programs "
		    "need a kernel built with CONFIG_DEBUG_INFO_BTF=y", strerror(errno));
		return -ENOENT;
	}
	if (access("/sys/kernel/tracing/events", F_OK) && access("/sys/kernel/debug/tracing/events", F_OK)) {
		/* tracefs holds the tracepoint ids libbpf needs to attach */
		if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) &&
		    access("/sys/kernel/tracing/events", F_OK)) {
			say("tracefs is not mounted and mounting it failed (%s); run: "
			    "mount -t tracefs nodev /sys/kernel/tracing", strerror(errno));
			return -ENOENT;
		}
	}
	return 0;
}

void hostinfo_chown_to_invoker(int fd)
{
	const char *u = getenv("SUDO_UID"), *g = getenv("SUDO_GID");

	if (u && g && geteuid() == 0)
		if (fchown(fd, (uid_t)atoi(u), (gid_t)atoi(g)))
			{ /* best effort: the file stays root's */ }
}

static void boot_id(char *buf, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	buf[0] = '\0';
	if (f) {
		if (fgets(buf, (int)len, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
}

static uint64_t ts_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void hostinfo_encode_header(struct bz_buf *b, const struct record_opts *o, uint64_t start_ns,
			    struct bz_redact *redact)
{
	struct utsname u;
	char host[256] = "", bid[64], target[2048];
	struct bz_buf argvb = { 0 };
	uint64_t m1, real, m2;

	bz_buf_put(b, BZ_MAGIC, 8);
	bz_buf_put_u16(b, BZ_FORMAT_MAJOR);
	bz_buf_put_u16(b, BZ_FORMAT_MINOR);
	bz_buf_put_u32(b, (o->no_redact ? BZ_HDR_FLAG_NO_REDACT : 0) | (o->no_kernel_waits ? 0 : BZ_HDR_FLAG_KWAITS));
	bz_buf_opt_str(b, BZ_HO_BEYLA_VERSION, BEYLA_VERSION);
	bz_buf_put(&argvb, "beyla", 6); /* argv[0] is the subcommand */
	for (int i = 0; i < o->argc; i++)
		bz_buf_put(&argvb, o->argv[i], strlen(o->argv[i]) + (i + 1 < o->argc));
	if (argvb.data)
		bz_redact_argv(redact, (char *)argvb.data, argvb.len);
	bz_buf_opt(b, BZ_HO_ARGV, argvb.data, (uint32_t)argvb.len);
	bz_buf_free(&argvb);
	gethostname(host, sizeof(host) - 1);
	bz_buf_opt_str(b, BZ_HO_HOSTNAME, host);
	if (uname(&u) == 0) {
		bz_buf_opt_str(b, BZ_HO_KERNEL, u.release);
		bz_buf_opt_str(b, BZ_HO_ARCH, u.machine);
	}
	bz_buf_opt_u32(b, BZ_HO_NCPUS, (uint32_t)sysconf(_SC_NPROCESSORS_ONLN));
	boot_id(bid, sizeof(bid));
	bz_buf_opt_str(b, BZ_HO_BOOT_ID, bid);
	/* The clock pair: realtime read between two monotonic reads. */
	m1 = ts_ns(CLOCK_MONOTONIC);
	real = ts_ns(CLOCK_REALTIME);
	m2 = ts_ns(CLOCK_MONOTONIC);
	bz_buf_opt_u64(b, BZ_HO_CLOCK_MONO_NS, m1 + (m2 - m1) / 2);
	bz_buf_opt_u64(b, BZ_HO_CLOCK_REAL_NS, real);
	bz_buf_opt_u32(b, BZ_HO_SNAPLEN, o->snaplen);
	selection_describe(o, target, sizeof(target));
	bz_buf_opt_str(b, BZ_HO_TARGET, target);
	bz_buf_opt_u64(b, BZ_HO_START_MONO_NS, start_ns);
	bz_buf_opt_u32(b, BZ_HO_RING_BYTES, o->ring_bytes);
}
