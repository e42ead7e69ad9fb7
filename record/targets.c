/* targets.c - resolve the target set from /proc, and launch a command. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "record/procinfo.h"
#include "record/selection.h"
#include "record/targets.h"

static pid_t numeric_name(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	return (*s && !*end && v > 0) ? (pid_t)v : 0;
}

int targets_scan_exe(const struct selection *sel, void (*fn)(pid_t, void *), void *ctx)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	struct procinfo *pi;
	int n = 0;

	if (!d)
		return -errno;
	pi = malloc(sizeof(*pi));
	if (!pi) {
		closedir(d);
		return -ENOMEM;
	}
	while ((de = readdir(d))) {
		pid_t pid = numeric_name(de->d_name);
		if (!pid || pid == getpid())
			continue;
		if (procinfo_read(pid, pi) || !pi->exe[0]) /* skip kernel threads */
			continue;
		if (selection_matches(sel, pi)) {
			fn(pid, ctx);
			n++;
		}
	}
	free(pi);
	closedir(d);
	return n;
}

/* Collects inodes of TCP sockets on `port` from one /proc/net/tcp* file. */
static void port_inodes(const char *path, int port, unsigned long *ino, int *nino, int max)
{
	FILE *f = fopen(path, "re");
	char line[512];

	if (!f)
		return;
	if (!fgets(line, sizeof(line), f)) { /* header */
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f) && *nino < max) {
		unsigned lport, rport;
		unsigned long inode;
		char laddr[64], raddr[64];
		/* sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode */
		if (sscanf(line, " %*d: %63[0-9A-Fa-f]:%x %63[0-9A-Fa-f]:%x %*x %*x:%*x %*x:%*x %*x %*u %*u %lu",
			   laddr, &lport, raddr, &rport, &inode) != 5)
			continue;
		if ((int)lport == port || (int)rport == port)
			if (inode)
				ino[(*nino)++] = inode;
	}
	fclose(f);
}

int targets_scan_port(int port, void (*fn)(pid_t, void *), void *ctx)
{
	enum { MAXINO = 4096 };
	unsigned long *ino = calloc(MAXINO, sizeof(*ino));
	int nino = 0, n = 0;
	DIR *d;
	struct dirent *de;

	if (!ino)
		return -ENOMEM;
	port_inodes("/proc/net/tcp", port, ino, &nino, MAXINO);
	port_inodes("/proc/net/tcp6", port, ino, &nino, MAXINO);
	d = nino ? opendir("/proc") : NULL;
	while (d && (de = readdir(d))) {
		pid_t pid = numeric_name(de->d_name);
		char fdpath[64], link[128], target[64];
		DIR *fdd;
		struct dirent *fe;
		int hit = 0;

		if (!pid || pid == getpid())
			continue;
		snprintf(fdpath, sizeof(fdpath), "/proc/%d/fd", (int)pid);
		fdd = opendir(fdpath);
		while (fdd && !hit && (fe = readdir(fdd))) {
			unsigned long inode;
			ssize_t l;
			snprintf(link, sizeof(link), "%s/%.20s", fdpath, fe->d_name);
			l = readlink(link, target, sizeof(target) - 1);
			if (l <= 0)
				continue;
			target[l] = '\0';
			if (sscanf(target, "socket:[%lu]", &inode) != 1)
				continue;
			for (int i = 0; i < nino; i++)
				if (ino[i] == inode)
					hit = 1;
		}
		if (fdd)
			closedir(fdd);
		if (hit) {
			fn(pid, ctx);
			n++;
		}
	}
	if (d)
		closedir(d);
	free(ino);
	return n;
}

int launch_prepare(struct launch *l, char **argv)
{
	int go[2], errp[2];

	if (pipe2(go, O_CLOEXEC))
		return -errno;
	if (pipe2(errp, O_CLOEXEC)) {
		int e = errno;
		close(go[0]);
		close(go[1]);
		return -e;
	}
	l->pid = fork();
	if (l->pid < 0) {
		int e = errno;
		close(go[0]); close(go[1]); close(errp[0]); close(errp[1]);
		return -e;
	}
	if (l->pid == 0) {
		char c;
		int e;
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		close(go[1]);
		close(errp[0]);
		/* Wait until the recorder has made us a target. */
		if (read(go[0], &c, 1) != 1)
			_exit(126);
		execvp(argv[0], argv);
		e = errno;
		if (write(errp[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(errp[1]);
	l->go_fd = go[1];
	l->err_fd = errp[0];
	return 0;
}

int launch_go(struct launch *l)
{
	int e = 0;
	ssize_t n;

	if (write(l->go_fd, "g", 1) != 1) {
		e = errno;
	}
	close(l->go_fd);
	l->go_fd = -1;
	do
		n = read(l->err_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(l->err_fd);
	l->err_fd = -1;
	if (n == (ssize_t)sizeof(e)) {
		waitpid(l->pid, NULL, 0);
		return -e;
	}
	return 0;
}
