// SPDX-License-Identifier: Apache-2.0
/* init.c - pid 1 of the sandbox: start the command with no privileges, forward signals, reap, time out. */
#include "executor.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

extern char **environ;

/* Signals pid 1 passes on to the command. */
static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

/* What the command's child reports back when it cannot exec. */
struct launch_failure {
	int stage; /* enum below */
	int err;
};
enum { FAIL_EXEC, FAIL_CHDIR, FAIL_USERNS, FAIL_RLIMIT, FAIL_CAPS, FAIL_SECCOMP };

static void noop_handler(int sig)
{
	(void)sig;
}

static int rlimit_resource(const char *name)
{
	if (!strcmp(name, "as")) return RLIMIT_AS;
	if (!strcmp(name, "core")) return RLIMIT_CORE;
	if (!strcmp(name, "cpu")) return RLIMIT_CPU;
	if (!strcmp(name, "fsize")) return RLIMIT_FSIZE;
	if (!strcmp(name, "nofile")) return RLIMIT_NOFILE;
	if (!strcmp(name, "nproc")) return RLIMIT_NPROC;
	return RLIMIT_STACK;
}

static rlim_t rlimit_value(const char *s)
{
	return strcmp(s, "inf") ? (rlim_t)strtoull(s, NULL, 10) : RLIM_INFINITY;
}

static _Noreturn void launch_fail(int pipe_fd, int stage, int err)
{
	struct launch_failure f = { stage, err };

	if (write(pipe_fd, &f, sizeof(f)) < 0) {
		/* nothing more we can do; the exit status still says it failed */
	}
	_exit(stage == FAIL_EXEC && (err == ENOENT || err == ENOTDIR) ? EXIT_NOTFOUND
	      : stage == FAIL_EXEC ? EXIT_NOEXEC : EXIT_SETUP);
}

/**
 * drop_privileges() - leave the command with no way to change the sandbox.
 * A nested user namespace with its own mount namespace: every mount we made
 * is now locked (MNT_LOCKED / MNT_LOCK_READONLY, see mount_namespaces(7)),
 * so even uid 0 inside (-R) cannot unmount or remount it read-write. The
 * network namespace stays owned by the outer user namespace, so the firewall
 * is out of reach. Then every capability goes, the bounding set too, so a
 * later execve (even as uid 0) gains none, and no_new_privs stops setuid
 * binaries and file capabilities from adding any back.
 */
static void drop_privileges(const struct plan *plan, int pipe_fd)
{
	char map[64];
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { { 0, 0, 0 }, { 0, 0, 0 } };

	/* pid 1 is not dumpable, and we inherited that: /proc/self would be root's
	 * and our own uid_map unwritable. The command is an ordinary process. */
	prctl(PR_SET_DUMPABLE, 1);
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		launch_fail(pipe_fd, FAIL_USERNS, errno);
	snprintf(map, sizeof(map), "%u 0 1\n", plan->uid);
	if (write_file("/proc/self/setgroups", "deny") < 0 || write_file("/proc/self/uid_map", map) < 0)
		launch_fail(pipe_fd, FAIL_USERNS, errno);
	snprintf(map, sizeof(map), "%u 0 1\n", plan->gid);
	if (write_file("/proc/self/gid_map", map) < 0)
		launch_fail(pipe_fd, FAIL_USERNS, errno);
	for (int cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			launch_fail(pipe_fd, FAIL_CAPS, errno);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		launch_fail(pipe_fd, FAIL_CAPS, errno);
	if (syscall(SYS_capset, &hdr, data) < 0)
		launch_fail(pipe_fd, FAIL_CAPS, errno);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		launch_fail(pipe_fd, FAIL_CAPS, errno);
	/* Last: the filter also forbids the unshare above (see seccomp.c). */
	int err = install_seccomp();
	if (err < 0)
		launch_fail(pipe_fd, FAIL_SECCOMP, -err);
}

/*
 * exec_command() - search PATH (of the sandbox's environment) like a shell.
 * Unlike execvp, a PATH entry we may not search (EACCES) does not turn
 * "not found" (127) into "not executable" (126): 126 only when a file of
 * that name exists but cannot be executed.
 */
static _Noreturn void exec_command(char **argv, int pipe_fd)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];
	int found_err = 0;

	if (strchr(argv[0], '/')) {
		execv(argv[0], argv);
		launch_fail(pipe_fd, FAIL_EXEC, errno);
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		int len = (int)(end - p);
		struct stat st;

		snprintf(buf, sizeof(buf), "%.*s%s%s", len, p, len ? "/" : "", argv[0]);
		execv(buf, argv);
		if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP && stat(buf, &st) == 0 && !S_ISDIR(st.st_mode))
			found_err = found_err ? found_err : errno;
		if (!*end)
			break;
		p = end;
	}
	launch_fail(pipe_fd, FAIL_EXEC, found_err ? found_err : ENOENT);
}

/* The command's process: runs between fork and exec, reports failures on @pipe_fd. */
static _Noreturn void start_command(const struct plan *plan, int pipe_fd, bool fg_tty)
{
	sigset_t none;

	for (size_t i = 0; i < sizeof(forwarded) / sizeof(*forwarded); i++)
		signal(forwarded[i], SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* Own process group; the terminal's foreground group if we had the terminal. */
	setpgid(0, 0);
	if (fg_tty) {
		signal(SIGTTOU, SIG_IGN);
		tcsetpgrp(STDIN_FILENO, getpid());
		signal(SIGTTOU, SIG_DFL);
	}
	for (int i = 0; i < plan->nops; i++) {
		const struct op *op = &plan->ops[i];
		struct rlimit rl;

		if (op->type != OP_RLIMIT)
			continue;
		rl.rlim_cur = rlimit_value(op->args[1]);
		rl.rlim_max = rlimit_value(op->args[2]);
		if (setrlimit(rlimit_resource(op->args[0]), &rl) < 0)
			launch_fail(pipe_fd, FAIL_RLIMIT, errno);
	}
	drop_privileges(plan, pipe_fd);
	if (chdir(plan->cwd) < 0)
		launch_fail(pipe_fd, FAIL_CHDIR, errno);
	umask(022);
	environ = plan->env;
	exec_command(plan->argv, pipe_fd);
}

static void arm_timer(long ms)
{
	struct itimerval it = { { 0, 0 }, { ms / 1000, (ms % 1000) * 1000 } };

	setitimer(ITIMER_REAL, &it, NULL);
}

/* Report why the command could not start; Return: the exit status to use. */
static int report_launch_failure(const struct plan *plan, const struct launch_failure *f)
{
	const char *argv0 = plan->argv[0];

	switch (f->stage) {
	case FAIL_EXEC:
		report_error(-1, "exec", "execvp", argv0, f->err,
			     f->err == ENOENT ? "check the command's name and that it exists inside the sandbox (PATH is searched inside)"
					      : "check the file's permissions and that it is a program or a script with a valid #! line",
			     f->err == ENOENT || f->err == ENOTDIR ? "command not found inside the sandbox: %s"
								   : "cannot execute %s", argv0);
		return f->err == ENOENT || f->err == ENOTDIR ? EXIT_NOTFOUND : EXIT_NOEXEC;
	case FAIL_CHDIR:
		report_error(-1, "chdir", "chdir", plan->cwd, f->err, "the working directory must be visible inside the sandbox",
			     "cannot enter the working directory");
		return EXIT_SETUP;
	case FAIL_USERNS:
		report_error(-1, "identity", "unshare", "/proc/self/uid_map", f->err,
			     "the nested user namespace that locks the sandbox's mounts could not be created; "
			     "check user.max_user_namespaces",
			     "cannot drop privileges");
		return EXIT_SETUP;
	case FAIL_RLIMIT:
		report_error(-1, "rlimit", "setrlimit", NULL, f->err, NULL, "cannot set a resource limit");
		return EXIT_SETUP;
	case FAIL_SECCOMP:
		report_error(-1, "seccomp", "seccomp_load", NULL, f->err,
			     "the kernel refused the system call filter (CONFIG_SECCOMP_FILTER is needed)",
			     "cannot install the system call filter");
		return EXIT_SETUP;
	default:
		report_error(-1, "capabilities", "prctl", NULL, f->err, NULL, "cannot drop capabilities");
		return EXIT_SETUP;
	}
}

/**
 * run_init() - be pid 1: start the command, then loop on signals until it exits.
 * The loop forwards signals to the command's process group, reaps every
 * orphan, enforces the timeout (SIGTERM to everything, SIGKILL after the
 * grace delay) and, once the command is gone, kills whatever it left
 * behind: nothing outlives the command.
 */
void run_init(const struct plan *plan, int block_fd, bool fg_tty)
{
	struct launch_failure failure;
	struct sigaction sa = { .sa_handler = noop_handler };
	sigset_t mask;
	int pipefd[2], sfd, code = 0, sig = 0;
	bool timed_out = false, killing = false, done = false;
	pid_t child;
	ssize_t n;

	if (plan->wait_release) {
		char go;

		status_event("{\"event\":\"ready\"}");
		do
			n = read(block_fd, &go, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1)
			die(-1, "wait-release", "read", NULL, n < 0 ? errno : 0,
			    "the runtime stopped before releasing the sandbox", "not released");
		/* Released: from now on the command may run; see sandbox_main(). */
		prctl(PR_SET_DUMPABLE, 0);
	}
	if (block_fd >= 0)
		close(block_fd);

	/* Block the signals we handle and read them from a signalfd. A handler is
	 * installed too: pid 1 of a namespace drops default-action signals. */
	sigemptyset(&mask);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(*forwarded); i++) {
		sigaddset(&mask, forwarded[i]);
		sigaction(forwarded[i], &sa, NULL);
	}
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGALRM);
	sigaction(SIGALRM, &sa, NULL);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0 || pipe2(pipefd, O_CLOEXEC) < 0)
		die(-1, "init", "signalfd", NULL, errno, NULL, "cannot set up pid 1");

	child = fork();
	if (child < 0)
		die(-1, "init", "fork", NULL, errno, NULL, "cannot start the command");
	if (child == 0) {
		close(pipefd[0]);
		close(sfd);
		start_command(plan, pipefd[1], fg_tty);
	}
	close(pipefd[1]);
	do
		n = read(pipefd[0], &failure, sizeof(failure));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	if (n == (ssize_t)sizeof(failure)) {
		int status = report_launch_failure(plan, &failure);

		waitpid(child, NULL, 0);
		status_event("{\"event\":\"exit\",\"code\":%d,\"signal\":0,\"timedOut\":false,\"launched\":false}",
			     status);
		_exit(status);
	}
	status_event("{\"event\":\"started\"}");
	if (plan->timeout_ms > 0)
		arm_timer(plan->timeout_ms);

	while (!done) {
		struct signalfd_siginfo si;
		int status;
		pid_t pid;

		n = read(sfd, &si, sizeof(si));
		if (n != (ssize_t)sizeof(si))
			continue;
		switch (si.ssi_signo) {
		case SIGCHLD:
			while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
				if (pid != child)
					continue; /* an orphan: reaped, nothing else to do */
				if (WIFEXITED(status))
					code = WEXITSTATUS(status);
				else if (WIFSIGNALED(status))
					sig = WTERMSIG(status), code = 128 + sig;
				done = true;
			}
			break;
		case SIGALRM:
			if (killing) {
				kill(-1, SIGKILL);
			} else if (plan->timeout_ms > 0 && !timed_out) {
				timed_out = true;
				status_event("{\"event\":\"timeout\"}");
				killing = true;
				kill(-1, SIGTERM);
				if (plan->timeout_grace_ms > 0)
					arm_timer(plan->timeout_grace_ms);
				else
					kill(-1, SIGKILL);
			}
			break;
		default:
			if (si.ssi_signo == SIGINT && plan->interrupt_terminates) {
				kill(-child, SIGTERM);
			} else {
				kill(-child, (int)si.ssi_signo);
				if (si.ssi_signo != SIGTERM)
					break;
			}
			/* SIGTERM (or SIGINT with -i): SIGKILL after the grace delay. */
			if (!killing) {
				killing = true;
				if (plan->grace_ms > 0)
					arm_timer(plan->grace_ms);
				else
					kill(-1, SIGKILL);
			}
			break;
		}
	}
	/* The command is gone: nothing it started may outlive it. */
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	if (timed_out)
		code = EXIT_TIMEOUT;
	status_event("{\"event\":\"exit\",\"code\":%d,\"signal\":%d,\"timedOut\":%s,\"launched\":true}", code, sig,
		     timed_out ? "true" : "false");
	_exit(code);
}
