// SPDX-License-Identifier: Apache-2.0
/* plan.c - split the wire plan into operations and validate all of it, before any privilege. */
#include "executor.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	int nargs; /* -1: variable, a count follows (after fixed ones) */
	int fixed; /* fixed arguments before the count, for variable ops */
} op_table[OP__COUNT] = {
	[OP_UNSHARE] = { "unshare", 1, 0 },
	[OP_UID] = { "uid", 1, 0 },
	[OP_GID] = { "gid", 1, 0 },
	[OP_HOSTNAME] = { "hostname", 1, 0 },
	[OP_LOOPBACK] = { "loopback", 1, 0 },
	[OP_BIND] = { "bind", 3, 0 },
	[OP_TMPFS] = { "tmpfs", 3, 0 },
	[OP_PROC] = { "proc", 1, 0 },
	[OP_DEV] = { "dev", 1, 0 },
	[OP_OVERLAY] = { "overlay", -1, 3 },
	[OP_MKDIR] = { "mkdir", 2, 0 },
	[OP_SYMLINK] = { "symlink", 2, 0 },
	[OP_FILE] = { "file", 3, 0 },
	[OP_REMOUNT_RO] = { "remount-ro", 2, 0 },
	[OP_HIDE] = { "hide", 1, 0 },
	[OP_CHDIR] = { "chdir", 1, 0 },
	[OP_ENV] = { "env", 1, 0 },
	[OP_RLIMIT] = { "rlimit", 3, 0 },
	[OP_TIMEOUT] = { "timeout", 2, 0 },
	[OP_INTERRUPT] = { "interrupt", 1, 0 },
	[OP_GRACE] = { "grace", 1, 0 },
	[OP_WAIT_RELEASE] = { "wait-release", 0, 0 },
	[OP_EXEC] = { "exec", -1, 0 },
};

const char *op_name(enum op_type type)
{
	return op_table[type].name;
}

#define bad(step, fmt, ...) \
	die(step, NULL, NULL, NULL, 0, "the plan is produced by @ms/plan; this is a bug or a version mismatch", \
	    "invalid plan: " fmt, ##__VA_ARGS__)

/* An absolute path without empty, "." or ".." components. */
static bool is_clean_path(const char *p)
{
	const char *c;

	if (p[0] != '/')
		return false;
	if (p[1] == '\0')
		return true;
	for (c = p + 1;;) {
		const char *e = strchrnul(c, '/');
		size_t n = (size_t)(e - c);

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (!*e)
			return true;
		c = e + 1;
	}
}

static void need_path(const struct op *op, int i)
{
	if (!is_clean_path(op->args[i]))
		bad(op->index, "%s: argument %d is not an absolute normalised path", op_name(op->type), i + 1);
}

static unsigned long need_num(const struct op *op, int i, unsigned long max)
{
	unsigned long v;

	if (!parse_ulong(op->args[i], max, &v))
		bad(op->index, "%s: argument %d is not a number up to %lu", op_name(op->type), i + 1, max);
	return v;
}

static unsigned long need_mode(const struct op *op, int i)
{
	char *end;
	unsigned long v = strtoul(op->args[i], &end, 8);

	if (!op->args[i][0] || *end || v > 07777)
		bad(op->index, "%s: argument %d is not an octal mode", op_name(op->type), i + 1);
	return v;
}

static int parse_flags(const struct op *op)
{
	int flags = 0;
	char *list = strdup(op->args[0]), *save = NULL, *tok;

	if (!list)
		bad(op->index, "out of memory");
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "user")) flags |= CLONE_NEWUSER;
		else if (!strcmp(tok, "mount")) flags |= CLONE_NEWNS;
		else if (!strcmp(tok, "pid")) flags |= CLONE_NEWPID;
		else if (!strcmp(tok, "ipc")) flags |= CLONE_NEWIPC;
		else if (!strcmp(tok, "uts")) flags |= CLONE_NEWUTS;
		else if (!strcmp(tok, "net")) flags |= CLONE_NEWNET;
		else if (!strcmp(tok, "cgroup")) flags |= CLONE_NEWCGROUP;
		else bad(op->index, "unshare: unknown namespace '%s'", tok);
	}
	free(list);
	if ((flags & (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID)) != (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID))
		bad(op->index, "unshare: user, mount and pid namespaces are required");
	return flags;
}

/* Validate one operation's arguments and fold settings into @plan. */
static void check_op(struct plan *plan, struct op *op, int *nenv)
{
	switch (op->type) {
	case OP_UNSHARE:
		plan->clone_flags = parse_flags(op);
		return;
	case OP_UID:
		plan->uid = (unsigned)need_num(op, 0, 0xfffffffeUL);
		return;
	case OP_GID:
		plan->gid = (unsigned)need_num(op, 0, 0xfffffffeUL);
		return;
	case OP_HOSTNAME:
		if (!op->args[0][0] || strlen(op->args[0]) > 64)
			bad(op->index, "hostname: bad length");
		plan->hostname = op->args[0];
		return;
	case OP_LOOPBACK:
		if (strcmp(op->args[0], "up") && strcmp(op->args[0], "down"))
			bad(op->index, "loopback: expected up or down");
		plan->loopback = !strcmp(op->args[0], "up");
		return;
	case OP_BIND:
		need_path(op, 0);
		need_path(op, 1);
		if (strcmp(op->args[2], "ro") && strcmp(op->args[2], "rw"))
			bad(op->index, "bind: expected ro or rw");
		return;
	case OP_TMPFS:
		need_path(op, 0);
		need_mode(op, 1);
		need_num(op, 2, (unsigned long)-1);
		return;
	case OP_PROC:
	case OP_DEV:
	case OP_HIDE:
		need_path(op, 0);
		return;
	case OP_REMOUNT_RO:
		need_path(op, 0);
		if (strcmp(op->args[1], "recursive") && strcmp(op->args[1], "top"))
			bad(op->index, "remount-ro: expected recursive or top");
		return;
	case OP_OVERLAY:
		for (int i = 0; i < op->nargs; i++)
			if (i != 3)
				need_path(op, i);
		return;
	case OP_MKDIR:
		need_path(op, 0);
		need_mode(op, 1);
		return;
	case OP_SYMLINK:
		if (!op->args[0][0])
			bad(op->index, "symlink: empty link target");
		need_path(op, 1);
		return;
	case OP_FILE:
		need_path(op, 0);
		need_mode(op, 1);
		return;
	case OP_CHDIR:
		need_path(op, 0);
		plan->cwd = op->args[0];
		return;
	case OP_ENV:
		if (!strchr(op->args[0], '=') || op->args[0][0] == '=')
			bad(op->index, "env: expected NAME=VALUE");
		(*nenv)++;
		return;
	case OP_RLIMIT:
		if (strcmp(op->args[0], "as") && strcmp(op->args[0], "core") && strcmp(op->args[0], "cpu") &&
		    strcmp(op->args[0], "fsize") && strcmp(op->args[0], "nofile") &&
		    strcmp(op->args[0], "nproc") && strcmp(op->args[0], "stack"))
			bad(op->index, "rlimit: unknown limit '%s'", op->args[0]);
		for (int i = 1; i < 3; i++)
			if (strcmp(op->args[i], "inf"))
				need_num(op, i, (unsigned long)-2);
		return;
	case OP_TIMEOUT:
		plan->timeout_ms = (long)need_num(op, 0, 0x7fffffffUL);
		plan->timeout_grace_ms = (long)need_num(op, 1, 0x7fffffffUL);
		if (plan->timeout_ms == 0)
			bad(op->index, "timeout: must be positive");
		return;
	case OP_INTERRUPT:
		if (strcmp(op->args[0], "forward") && strcmp(op->args[0], "terminate"))
			bad(op->index, "interrupt: expected forward or terminate");
		plan->interrupt_terminates = !strcmp(op->args[0], "terminate");
		return;
	case OP_GRACE:
		plan->grace_ms = (long)need_num(op, 0, 0x7fffffffUL);
		return;
	case OP_WAIT_RELEASE:
		plan->wait_release = true;
		return;
	case OP_EXEC:
		if (op->nargs < 1 || !op->args[0][0])
			bad(op->index, "exec: no command");
		plan->argv = op->args;
		return;
	case OP__COUNT:
		break;
	}
	bad(op->index, "unknown operation");
}

/**
 * plan_parse() - split @buf (NUL-terminated tokens) into ops and validate them all.
 * Refuses unknown operations by name, wrong arity, a missing exec, or
 * anything after exec. Exits with EXIT_SETUP on any problem.
 */
void plan_parse(char *buf, size_t len, struct plan *plan)
{
	char **tok;
	size_t ntok = 0, t = 0;
	int nenv = 0, e = 0;

	if (len == 0 || buf[len - 1] != '\0')
		bad(-1, "not NUL-terminated (%zu bytes)", len);
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\0')
			ntok++;
	tok = calloc(ntok + 1, sizeof(*tok));
	plan->ops = calloc(ntok, sizeof(*plan->ops));
	if (!tok || !plan->ops)
		bad(-1, "out of memory");
	for (size_t i = 0, start = 0; i < len; i++)
		if (buf[i] == '\0') {
			tok[t++] = buf + start;
			start = i + 1;
		}
	if (ntok < 2 || strcmp(tok[0], PLAN_MAGIC))
		bad(-1, "missing header");
	if (strcmp(tok[1], PLAN_VERSION))
		bad(-1, "plan version %s, this executor reads version %s", tok[1], PLAN_VERSION);

	plan->loopback = -1;
	for (t = 2; t < ntok;) {
		struct op *op = &plan->ops[plan->nops];
		int type, want;

		for (type = 0; type < OP__COUNT; type++)
			if (!strcmp(tok[t], op_table[type].name))
				break;
		if (type == OP__COUNT)
			bad(plan->nops, "unknown operation '%.64s'", tok[t]);
		op->type = (enum op_type)type;
		op->index = plan->nops;
		t++;
		want = op_table[type].nargs;
		if (want < 0) {
			unsigned long count;
			int fixed = op_table[type].fixed;

			if (t + (size_t)fixed >= ntok || !parse_ulong(tok[t + fixed], 65536, &count))
				bad(op->index, "%s: missing argument count", op_table[type].name);
			if (type == OP_EXEC) {
				t++;
				want = (int)count;
			} else {
				want = fixed + 1 + (int)count;
			}
		}
		if (t + (size_t)want > ntok)
			bad(op->index, "%s: expected %d arguments", op_table[type].name, want);
		op->args = &tok[t];
		op->nargs = want;
		t += (size_t)want;
		plan->nops++;
		if (type == OP_EXEC) {
			/* exec's argv must be NULL-terminated: the token after it. */
			if (t != ntok)
				bad(op->index, "exec must be the last operation");
			tok[t] = NULL;
		}
	}
	if (plan->nops == 0 || plan->ops[plan->nops - 1].type != OP_EXEC)
		bad(-1, "no exec operation");
	plan->grace_ms = 2000;
	for (int i = 0; i < plan->nops; i++)
		check_op(plan, &plan->ops[i], &nenv);
	if (!plan->clone_flags)
		bad(-1, "no unshare operation");
	if (plan->hostname && !(plan->clone_flags & CLONE_NEWUTS))
		bad(-1, "hostname needs the uts namespace");
	if (plan->loopback >= 0 && !(plan->clone_flags & CLONE_NEWNET))
		bad(-1, "loopback needs the net namespace");
	if (!plan->cwd)
		bad(-1, "no chdir operation");
	plan->env = calloc((size_t)nenv + 1, sizeof(char *));
	if (!plan->env)
		bad(-1, "out of memory");
	for (int i = 0; i < plan->nops; i++)
		if (plan->ops[i].type == OP_ENV)
			plan->env[e++] = plan->ops[i].args[0];
}
