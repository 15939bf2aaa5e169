/* SPDX-License-Identifier: Apache-2.0 */
/* executor.h - shared declarations of the mini-sandbox native executor. */
#ifndef MS_EXECUTOR_H
#define MS_EXECUTOR_H

#define _GNU_SOURCE
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Exit status for any failure of the sandbox itself (never the command's). */
#define EXIT_SETUP 125
#define EXIT_TIMEOUT 124
#define EXIT_NOEXEC 126
#define EXIT_NOTFOUND 127

#define PLAN_MAGIC "mini-sandbox-plan"
#define PLAN_VERSION "1"
#define PLAN_MAX_BYTES (16u << 20)

/* One enum of operations; each has exactly one handler. */
enum op_type {
	OP_UNSHARE,
	OP_UID,
	OP_GID,
	OP_HOSTNAME,
	OP_LOOPBACK,
	OP_BIND,
	OP_TMPFS,
	OP_PROC,
	OP_DEV,
	OP_OVERLAY,
	OP_MKDIR,
	OP_SYMLINK,
	OP_FILE,
	OP_REMOUNT_RO,
	OP_HIDE,
	OP_CHDIR,
	OP_ENV,
	OP_RLIMIT,
	OP_TIMEOUT,
	OP_INTERRUPT,
	OP_GRACE,
	OP_WAIT_RELEASE,
	OP_EXEC,
	OP__COUNT,
};

struct op {
	enum op_type type;
	int index;       /* position in the plan, for error reports */
	char **args;     /* points into the plan buffer */
	int nargs;
};

/* The validated plan, in the form the stages use. */
struct plan {
	struct op *ops;
	int nops;
	int clone_flags;
	unsigned uid, gid;        /* identity inside */
	const char *hostname;     /* NULL: keep */
	int loopback;             /* -1: no net ns, 0: down, 1: up */
	const char *cwd;
	char **env;               /* NULL-terminated */
	char **argv;              /* NULL-terminated */
	long timeout_ms, timeout_grace_ms;
	long grace_ms;
	bool interrupt_terminates;
	bool wait_release;
};

/* util.c */
extern int status_fd;
void status_event(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void json_string(char *out, size_t size, const char *in);
void report_error(int step, const char *op, const char *syscall, const char *path, int err,
		  const char *hint, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
_Noreturn void die(int step, const char *op, const char *syscall, const char *path, int err,
		   const char *hint, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
const char *errno_name(int err);
bool parse_ulong(const char *s, unsigned long max, unsigned long *out);
int write_file(const char *path, const char *content);

/* plan.c */
void plan_parse(char *buf, size_t len, struct plan *plan);
const char *op_name(enum op_type type);

/* mounts.c */
void mounts_prepare(void);
void mounts_apply(const struct plan *plan);
void mounts_finish(void);

/* seccomp.c */
int install_seccomp(void);

/* init.c */
_Noreturn void run_init(const struct plan *plan, int block_fd, bool fg_tty);

#endif
