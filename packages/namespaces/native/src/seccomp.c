// SPDX-License-Identifier: Apache-2.0
/* seccomp.c - the system call filter every sandboxed command runs under. */
#include "executor.h"

#include <errno.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>

/*
 * What the command may not do, even though nothing else in the sandbox
 * would stop it (the escape classes in sandbox-anchors §2):
 * - push input into the terminal it shares with the user (TIOCSTI,
 *   CVE-2017-5226) or a console (TIOCLINUX): compared on the low 32 bits
 *   only, as the kernel does (CVE-2019-10063);
 * - create user namespaces (unshare, clone, clone3): they reach kernel code
 *   otherwise reserved for root (nf_tables, overlayfs, mount); clone3's
 *   flags cannot be inspected, so it gets ENOSYS and libc falls back to clone;
 * - the session keyring, which is not namespaced (keyctl, add_key,
 *   request_key);
 * - perf_event_open, bpf, userfaultfd: large kernel attack surface with a
 *   long CVE history, useless to build and diagnostic tools.
 * Everything else is allowed; system calls of other architectures (i386 or
 * x32 on x86_64) kill the process, so the filter cannot be sidestepped.
 */

static int deny(scmp_filter_ctx ctx, int err, int syscall, unsigned count, const struct scmp_arg_cmp *cmp)
{
	return seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO((unsigned)err), syscall, count, cmp);
}

/**
 * install_seccomp() - load the filter into the calling process.
 * Needs no_new_privs (already set). Return: 0, or a negative errno.
 */
int install_seccomp(void)
{
	struct scmp_arg_cmp tiocsti = SCMP_A1_32(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI);
	struct scmp_arg_cmp tioclinux = SCMP_A1_32(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX);
	struct scmp_arg_cmp newuser = SCMP_A0_64(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER);
	static const int denied[] = {
		SCMP_SYS(keyctl), SCMP_SYS(add_key), SCMP_SYS(request_key), SCMP_SYS(perf_event_open),
		SCMP_SYS(bpf), SCMP_SYS(userfaultfd), SCMP_SYS(setns),
	};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int rc = 0;

	if (!ctx)
		return -ENOMEM;
	/* Only the native architecture: anything else is killed (the default bad-arch action). */
	rc = rc ?: deny(ctx, EPERM, SCMP_SYS(ioctl), 1, &tiocsti);
	rc = rc ?: deny(ctx, EPERM, SCMP_SYS(ioctl), 1, &tioclinux);
	rc = rc ?: deny(ctx, EPERM, SCMP_SYS(unshare), 1, &newuser);
	rc = rc ?: deny(ctx, EPERM, SCMP_SYS(clone), 1, &newuser);
	rc = rc ?: deny(ctx, ENOSYS, SCMP_SYS(clone3), 0, NULL);
	for (size_t i = 0; i < sizeof(denied) / sizeof(*denied); i++)
		rc = rc ?: deny(ctx, EPERM, denied[i], 0, NULL);
	rc = rc ?: seccomp_load(ctx);
	seccomp_release(ctx);
	return rc;
}
