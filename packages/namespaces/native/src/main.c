// SPDX-License-Identifier: Apache-2.0
/* main.c - the mini-sandbox executor: read a plan, build the sandbox, run the command in it. */
/*
 * Theory of operation
 *
 * The TypeScript runtime starts this program with the plan on one
 * descriptor, a status descriptor for JSON lines, and optionally a block
 * descriptor. Node is multithreaded and the kernel refuses to create a user
 * namespace from a multithreaded process, so this is a separate program,
 * never an addon. The stages, and what each gives up:
 *
 *  1. read + validate   The whole plan is parsed and checked before any
 *                       privileged call; unknown operations are refused by name.
 *  2. close fds         Every inherited descriptor except 0-2 and ours is
 *                       closed: nothing of the caller leaks in.
 *  3. die with parent   PR_SET_PDEATHSIG, then a check that the parent did not
 *                       already die (the fork/prctl race).
 *  4. clone             New user, mount, pid (+ ipc, uts, net, cgroup)
 *                       namespaces. The child is pid 1 of the sandbox. If the
 *                       kernel refuses, we stop: fail closed, never run the
 *                       command with less isolation than planned.
 *  5. identity          uid/gid 0 in our own user namespace, mapped to the
 *                       caller: full capabilities over our namespaces only.
 *  6. mounts            A private mount namespace, a scratch root, the plan's
 *                       mount operations resolved inside the roots, then
 *                       pivot_root and detach the host's root.
 *  7. release           Optionally wait on the block descriptor until the
 *                       runtime has attached the network (pasta, firewall).
 *  8. command           pid 1 forks the command, which enters a nested user
 *                       and mount namespace (mounts become locked), drops
 *                       every capability and the bounding set, sets
 *                       no_new_privs, loads the seccomp filter (seccomp.c:
 *                       no new user namespaces, no TIOCSTI, no keyring,
 *                       no bpf/perf/userfaultfd, native architecture only),
 *                       and execs.
 *  9. supervise         pid 1 forwards signals, reaps, enforces the timeout,
 *                       kills leftovers and exits with the command's status
 *                       (128+n for signal n, 124 on timeout, 125 for our own
 *                       failures, 126/127 when the command cannot be run).
 *
 * Separately, `ms-executor --opaque` (no namespaces, no privileges) tells
 * the change report which overlay directories are opaque: Node cannot read
 * extended attributes.
 */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef MS_VERSION
#define MS_VERSION "0.0.0"
#endif

static pid_t sandbox_pid;

static char *read_plan(int fd, size_t *len);

static void usage(void)
{
	fprintf(stderr, "usage: ms-executor --plan-fd N [--status-fd N] [--block-fd N] [--parent-pid N]\n"
			"       ms-executor --opaque < NUL-separated paths\n"
			"       ms-executor --version\n"
			"Runs a mini-sandbox plan (see @ms/plan). Not meant to be run by hand.\n");
	exit(EXIT_SETUP);
}

static int fd_arg(const char *s)
{
	unsigned long v;

	if (!parse_ulong(s, 1 << 20, &v))
		usage();
	return (int)v;
}

/**
 * list_opaque() - a helper for the change report, outside any sandbox and
 * without privileges: reads NUL-separated directory paths on stdin and
 * writes back (NUL-separated) those an overlay marked opaque (their lower
 * content was deleted, then the directory made again). Node has no xattr
 * API; overlays in a user namespace use "user.overlay.opaque".
 */
static int list_opaque(void)
{
	size_t len;
	char *buf = read_plan(STDIN_FILENO, &len);

	for (size_t start = 0, i = 0; i < len; i++) {
		char value[4];
		ssize_t n;

		if (buf[i])
			continue;
		n = lgetxattr(buf + start, "user.overlay.opaque", value, sizeof(value));
		if (n < 0)
			n = lgetxattr(buf + start, "trusted.overlay.opaque", value, sizeof(value));
		if (n >= 1 && value[0] == 'y')
			fwrite(buf + start, 1, i - start + 1, stdout);
		start = i + 1;
	}
	return fflush(stdout) ? EXIT_SETUP : 0;
}

/* Stage 1: read the plan from @fd to EOF. */
static char *read_plan(int fd, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	ssize_t r;

	if (!buf)
		die(-1, NULL, "malloc", NULL, ENOMEM, NULL, "out of memory");
	for (;;) {
		if (n == cap) {
			if (cap >= PLAN_MAX_BYTES)
				die(-1, NULL, "read", NULL, 0, NULL, "plan larger than %u bytes", PLAN_MAX_BYTES);
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				die(-1, NULL, "realloc", NULL, ENOMEM, NULL, "out of memory");
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die(-1, NULL, "read", "plan fd", errno, NULL, "cannot read the plan");
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*len = n;
	return buf;
}

/* Stage 2: close every descriptor above 2 except @keep_a and @keep_b. */
static void close_inherited(int keep_a, int keep_b)
{
	int keep[2] = { keep_a < keep_b ? keep_a : keep_b, keep_a < keep_b ? keep_b : keep_a };
	unsigned from = 3;

	for (int i = 0; i < 2; i++) {
		if (keep[i] < (int)from)
			continue;
		if ((unsigned)keep[i] > from)
			syscall(SYS_close_range, from, (unsigned)keep[i] - 1, 0);
		from = (unsigned)keep[i] + 1;
	}
	syscall(SYS_close_range, from, ~0U, 0);
}

/* Stage 5: map uid/gid 0 of our user namespace to the caller (see user_namespaces(7)). */
static void map_identity(uid_t outer_uid, gid_t outer_gid)
{
	char map[64];
	int err;

	/* setgroups must be denied before an unprivileged process may write gid_map. */
	if ((err = write_file("/proc/self/setgroups", "deny")) < 0)
		die(-1, "identity", "write", "/proc/self/setgroups", -err, NULL, "cannot deny setgroups");
	snprintf(map, sizeof(map), "0 %u 1\n", outer_uid);
	if ((err = write_file("/proc/self/uid_map", map)) < 0)
		die(-1, "identity", "write", "/proc/self/uid_map", -err,
		    "EPERM here usually means a security module (AppArmor on Ubuntu 24.04) restricts unprivileged user namespaces; run 'mini-sandbox doctor'",
		    "cannot map the user id");
	snprintf(map, sizeof(map), "0 %u 1\n", outer_gid);
	if ((err = write_file("/proc/self/gid_map", map)) < 0)
		die(-1, "identity", "write", "/proc/self/gid_map", -err, NULL, "cannot map the group id");
}

static void set_loopback(bool up)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		die(-1, "loopback", "socket", "lo", errno, NULL, "cannot configure the loopback interface");
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		die(-1, "loopback", "ioctl(SIOCGIFFLAGS)", "lo", errno, NULL, "cannot read loopback flags");
	if (up)
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	else
		ifr.ifr_flags &= ~IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		die(-1, "loopback", "ioctl(SIOCSIFFLAGS)", "lo", errno, NULL, "cannot set loopback up");
	close(s);
}

static const char *clone_hint(int err)
{
	switch (err) {
	case EPERM:
		return "user namespaces are blocked here (a seccomp-restricted container, kernel.unprivileged_userns_clone=0, "
		       "or AppArmor's kernel.apparmor_restrict_unprivileged_userns=1); run 'mini-sandbox doctor' for the fix";
	case ENOSPC:
	case EUSERS:
		return "the user namespace limit is reached or zero (user.max_user_namespaces, or a sandbox that disabled "
		       "nested namespaces); run 'mini-sandbox doctor'";
	case EINVAL:
		return "this kernel lacks a namespace type the plan needs";
	default:
		return "run 'mini-sandbox doctor'";
	}
}

/* Stages 5-9, in the new namespaces. Never returns. */
static _Noreturn void sandbox_main(const struct plan *plan, int life_fd, int block_fd, bool fg_tty,
				   uid_t outer_uid, gid_t outer_gid)
{
	struct pollfd pfd = { .fd = life_fd, .events = POLLIN };

	/* Die with the parent; if it already died (we were reparented), stop now. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLIN)))
		_exit(EXIT_SETUP);
	map_identity(outer_uid, outer_gid);
	/*
	 * Not dumpable: the command cannot ptrace pid 1, which keeps its
	 * capabilities. With wait-release this waits until the release (see
	 * run_init): the runtime, same user, must open /proc/PID/ns/{net,user}
	 * to attach pasta and load the firewall, and no untrusted code runs
	 * before the release.
	 */
	if (!plan->wait_release)
		prctl(PR_SET_DUMPABLE, 0);
	if (plan->hostname && sethostname(plan->hostname, strlen(plan->hostname)) < 0)
		die(-1, "hostname", "sethostname", plan->hostname, errno, NULL, "cannot set the hostname");
	if (plan->loopback >= 0)
		set_loopback(plan->loopback == 1);
	mounts_prepare();
	mounts_apply(plan);
	mounts_finish();
	run_init(plan, block_fd, fg_tty);
}

static void forward_signal(int sig)
{
	if (sandbox_pid > 0)
		kill(sandbox_pid, sig);
}

int main(int argc, char **argv)
{
	static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
	int plan_fd = -1, block_fd = -1, life[2], status;
	long parent_pid = -1;
	struct plan plan = { 0 };
	struct sigaction sa = { .sa_handler = forward_signal };
	bool fg_tty;
	char *buf;
	size_t len;
	uid_t uid = getuid();
	gid_t gid = getgid();

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--version")) {
			printf("ms-executor %s\n", MS_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "--opaque") && argc == 2) {
			return list_opaque();
		} else if (!strcmp(argv[i], "--plan-fd") && i + 1 < argc) {
			plan_fd = fd_arg(argv[++i]);
		} else if (!strcmp(argv[i], "--status-fd") && i + 1 < argc) {
			status_fd = fd_arg(argv[++i]);
		} else if (!strcmp(argv[i], "--block-fd") && i + 1 < argc) {
			block_fd = fd_arg(argv[++i]);
		} else if (!strcmp(argv[i], "--parent-pid") && i + 1 < argc) {
			parent_pid = fd_arg(argv[++i]);
		} else {
			usage();
		}
	}
	if (plan_fd < 0)
		usage();
	if (status_fd >= 0)
		fcntl(status_fd, F_SETFD, FD_CLOEXEC);
	if (block_fd >= 0)
		fcntl(block_fd, F_SETFD, FD_CLOEXEC);

	/* Stage 1 */
	buf = read_plan(plan_fd, &len);
	plan_parse(buf, len, &plan);
	if (plan.wait_release && block_fd < 0)
		die(-1, "wait-release", NULL, NULL, 0, NULL, "the plan waits for release but no --block-fd was given");

	/* Stage 2 */
	close_inherited(status_fd, block_fd);

	/* Stage 3 */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (parent_pid > 0 && getppid() != (pid_t)parent_pid)
		_exit(EXIT_SETUP);

	fg_tty = isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
	if (pipe2(life, O_CLOEXEC) < 0)
		die(-1, NULL, "pipe2", NULL, errno, NULL, "cannot create a pipe");

	/* Stage 4: fork-like clone (no new stack), the child is pid 1 of the sandbox. */
	sandbox_pid = (pid_t)syscall(SYS_clone, (unsigned long)plan.clone_flags | SIGCHLD, NULL, NULL, NULL, 0);
	if (sandbox_pid < 0)
		die(-1, "unshare", "clone", NULL, errno, clone_hint(errno), "cannot create the sandbox's namespaces");
	if (sandbox_pid == 0) {
		close(life[1]);
		sandbox_main(&plan, life[0], block_fd, fg_tty, uid, gid);
	}
	close(life[0]);
	if (block_fd >= 0)
		close(block_fd);
	status_event("{\"event\":\"child-pid\",\"pid\":%d}", (int)sandbox_pid);

	for (size_t i = 0; i < sizeof(forwarded) / sizeof(*forwarded); i++)
		sigaction(forwarded[i], &sa, NULL);
	signal(SIGTTOU, SIG_IGN);
	signal(SIGTTIN, SIG_IGN);

	while (waitpid(sandbox_pid, &status, 0) < 0)
		if (errno != EINTR)
			die(-1, NULL, "waitpid", NULL, errno, NULL, "lost the sandbox");
	/* Give the terminal back to our process group, if the command had taken it. */
	if (fg_tty)
		tcsetpgrp(STDIN_FILENO, getpgrp());
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
