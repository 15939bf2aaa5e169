// SPDX-License-Identifier: Apache-2.0
/* mounts.c - build the sandbox's root: mount operations, each resolved inside the new root. */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifndef MNT_DETACH
#define MNT_DETACH 2
#endif
#ifndef MS_PRIVATE
#define MS_PRIVATE (1 << 18)
#define MS_REC 16384
#define MS_NOSUID 2
#define MS_NODEV 4
#endif
#include <sys/syscall.h>
#include <unistd.h>

/*
 * Layout while building (after mounts_prepare):
 *   /          a private scratch tmpfs (our own root for now)
 *   /oldroot   the host's root: sources are resolved here
 *   /newroot   the sandbox's root: targets are resolved here
 * Both are resolved with RESOLVE_IN_ROOT, so a symlink (in the host tree or
 * in a writable directory) can never send a mount outside the tree it
 * belongs to. Mounts are made on descriptors (open_tree/fsmount +
 * move_mount), so nothing can swap a path between check and use.
 */

static int oldroot_fd = -1, newroot_fd = -1;
static int file_seq;

static int sys_mount(const char *src, const char *dst, const char *type, unsigned long flags, const void *data)
{
	return (int)syscall(SYS_mount, src, dst, type, flags, data);
}
static int sys_pivot_root(const char *new_root, const char *put_old)
{
	return (int)syscall(SYS_pivot_root, new_root, put_old);
}
static int sys_umount2(const char *target, int flags)
{
	return (int)syscall(SYS_umount2, target, flags);
}
static int sys_open_tree(int dfd, const char *path, unsigned flags)
{
	return (int)syscall(SYS_open_tree, dfd, path, flags);
}
static int sys_move_mount(int from, const char *fp, int to, const char *tp, unsigned flags)
{
	return (int)syscall(SYS_move_mount, from, fp, to, tp, flags);
}
static int sys_mount_setattr(int dfd, const char *path, unsigned flags, struct mount_attr *attr)
{
	return (int)syscall(SYS_mount_setattr, dfd, path, flags, attr, sizeof(*attr));
}
static int sys_fsopen(const char *fs, unsigned flags)
{
	return (int)syscall(SYS_fsopen, fs, flags);
}
static int sys_fsconfig(int fd, unsigned cmd, const char *key, const void *value, int aux)
{
	return (int)syscall(SYS_fsconfig, fd, cmd, key, value, aux);
}
static int sys_fsmount(int fd, unsigned flags, unsigned attrs)
{
	return (int)syscall(SYS_fsmount, fd, flags, attrs);
}
static int sys_openat2(int dfd, const char *path, int flags, unsigned long long resolve)
{
	struct open_how how = { .flags = (unsigned long long)flags | O_CLOEXEC, .resolve = resolve };

	return (int)syscall(SYS_openat2, dfd, path, &how, sizeof(how));
}

/* Hints for errnos that mislead. */
static const char *mount_hint(int err, const char *what)
{
	if (err == ENOSYS)
		return "this kernel lacks the new mount API (open_tree, fsopen, mount_setattr); Linux 5.12 or newer is needed";
	if (err == EINVAL && !strcmp(what, "overlay"))
		return "the kernel refused this overlay: the lower or upper directory may be on a filesystem overlayfs cannot use (NFS, another overlay), or the kernel is older than 5.11 (overlay in user namespaces)";
	if (err == EPERM)
		return "the kernel refused this mount inside a user namespace (a locked mount, or a filesystem that cannot be mounted unprivileged)";
	if (err == ENOENT)
		return "the path does not exist on the host";
	if (err == EROFS)
		return "the mount point does not exist and its parent is read-only; mount something writable (a tmpfs) on the parent first";
	return NULL;
}

/* Path relative to a root descriptor ("" for the root itself). */
static const char *rel(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

/**
 * open_target() - open @path (inside the new root) as an O_PATH descriptor.
 * @create: 0 to require it, 'd' to create a missing directory, 'f' a missing file.
 * Missing parents are created as directories. Symlinks resolve inside the new root.
 * Return: the descriptor; dies on failure.
 */
static int open_target(const struct op *op, const char *path, int create)
{
	char buf[PATH_MAX];
	int fd;

	fd = sys_openat2(newroot_fd, rel(path), O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	if (fd >= 0 || errno != ENOENT || !create)
		goto out;

	if (strlen(path) >= sizeof(buf))
		die(op->index, op_name(op->type), "openat2", path, ENAMETOOLONG, NULL, "path too long");
	strcpy(buf, path);
	for (char *p = buf + 1;; p++) {
		bool last = (*p == '\0');

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (last && create == 'f') {
			int f = sys_openat2(newroot_fd, rel(buf), O_WRONLY | O_CREAT | O_NOFOLLOW, RESOLVE_IN_ROOT);

			if (f < 0 && errno != EEXIST)
				die(op->index, op_name(op->type), "open", buf, errno, mount_hint(errno, ""),
				    "cannot create the mount point");
			if (f >= 0)
				close(f);
		} else {
			/* mkdirat has no RESOLVE_IN_ROOT: resolve the parent first. */
			char *slash = strrchr(buf, '/');
			int parent;

			*slash = '\0';
			parent = sys_openat2(newroot_fd, rel(buf), O_PATH | O_DIRECTORY, RESOLVE_IN_ROOT);
			*slash = '/';
			if (parent < 0 || (mkdirat(parent, slash + 1, 0755) < 0 && errno != EEXIST))
				die(op->index, op_name(op->type), "mkdir", buf, errno, mount_hint(errno, ""),
				    "cannot create the mount point");
			close(parent);
		}
		if (last)
			break;
		*p = '/';
	}
	fd = sys_openat2(newroot_fd, rel(path), O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
out:
	if (fd < 0)
		die(op->index, op_name(op->type), "openat2", path, errno, mount_hint(errno, ""),
		    "cannot open the target inside the sandbox");
	return fd;
}

/* After mounting over the root itself, the old descriptor points under the new mount. */
static void refresh_newroot(const char *target)
{
	if (strcmp(target, "/"))
		return;
	close(newroot_fd);
	newroot_fd = open("/newroot", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (newroot_fd < 0)
		die(-1, NULL, "open", "/newroot", errno, NULL, "cannot reopen the new root");
}

/* Attach a detached mount @mnt_fd at @target (inside the new root). */
static void attach(const struct op *op, int mnt_fd, const char *target, int create)
{
	int dst = open_target(op, target, create);

	if (sys_move_mount(mnt_fd, "", dst, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		die(op->index, op_name(op->type), "move_mount", target, errno, mount_hint(errno, ""),
		    "cannot attach the mount");
	close(dst);
	close(mnt_fd);
	refresh_newroot(target);
}

static void set_attr(const struct op *op, int fd, const char *path, unsigned long long set, bool recursive)
{
	struct mount_attr attr = { .attr_set = set };

	if (sys_mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr) < 0)
		die(op->index, op_name(op->type), "mount_setattr", path, errno, mount_hint(errno, ""),
		    "cannot make the mount read-only");
}

/* A new filesystem instance, configured by key=value pairs, detached. */
static int new_fs(const struct op *op, const char *fstype, const char *target, const char *const *kv,
		  unsigned attrs)
{
	int fs = sys_fsopen(fstype, FSOPEN_CLOEXEC), mnt;

	if (fs < 0)
		die(op->index, op_name(op->type), "fsopen", fstype, errno, mount_hint(errno, fstype),
		    "cannot create a %s filesystem", fstype);
	for (; kv && kv[0]; kv += 2) {
		int r = kv[1] ? sys_fsconfig(fs, FSCONFIG_SET_STRING, kv[0], kv[1], 0)
			      : sys_fsconfig(fs, FSCONFIG_SET_FLAG, kv[0], NULL, 0);

		if (r < 0)
			die(op->index, op_name(op->type), "fsconfig", target, errno, mount_hint(errno, fstype),
			    "%s: option %s=%s refused", fstype, kv[0], kv[1] ? kv[1] : "");
	}
	if (sys_fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		die(op->index, op_name(op->type), "fsconfig", target, errno, mount_hint(errno, fstype),
		    "cannot create the %s filesystem", fstype);
	mnt = sys_fsmount(fs, FSMOUNT_CLOEXEC, attrs);
	if (mnt < 0)
		die(op->index, op_name(op->type), "fsmount", target, errno, mount_hint(errno, fstype),
		    "cannot mount %s", fstype);
	close(fs);
	return mnt;
}

/* Open a host path (resolved inside the host root) and clone its mount tree. */
static int clone_host_tree(const struct op *op, const char *source, bool *is_dir)
{
	struct stat st;
	int src, tree;

	src = sys_openat2(oldroot_fd, rel(source), O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	if (src < 0)
		die(op->index, op_name(op->type), "openat2", source, errno, mount_hint(errno, ""),
		    "cannot open the host path");
	if (fstat(src, &st) < 0)
		die(op->index, op_name(op->type), "fstat", source, errno, NULL, "cannot stat the host path");
	*is_dir = S_ISDIR(st.st_mode);
	tree = sys_open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
	if (tree < 0)
		die(op->index, op_name(op->type), "open_tree", source, errno, mount_hint(errno, ""),
		    "cannot bind the host path");
	close(src);
	return tree;
}

static void do_bind(const struct op *op, const char *source, const char *target, bool ro)
{
	bool is_dir;
	int tree = clone_host_tree(op, source, &is_dir);

	/* Read-only before it is attached, for every submount: never a writable window. */
	if (ro)
		set_attr(op, tree, source, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, true);
	else
		set_attr(op, tree, source, MOUNT_ATTR_NOSUID, true);
	attach(op, tree, target, is_dir ? 'd' : 'f');
}

static void do_tmpfs(const struct op *op, const char *target, const char *mode, const char *size)
{
	const char *kv[] = { "mode", mode, strcmp(size, "0") ? "size" : NULL, size, NULL };

	attach(op, new_fs(op, "tmpfs", target, kv, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV), target, 'd');
}

static void do_proc(const struct op *op, const char *target)
{
	attach(op, new_fs(op, "proc", target, NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC),
	       target, 'd');
}

static void do_symlink(const struct op *op, const char *link_to, const char *path)
{
	char buf[PATH_MAX];
	char *slash;
	int parent;

	snprintf(buf, sizeof(buf), "%s", path);
	slash = strrchr(buf, '/');
	*slash = '\0';
	parent = open_target(op, buf[0] ? buf : "/", 'd');
	/* O_PATH descriptors cannot be used for symlinkat: reopen the directory. */
	{
		char fdpath[64];
		int dir;

		snprintf(fdpath, sizeof(fdpath), "/oldroot/proc/self/fd/%d", parent);
		dir = open(fdpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dir < 0 || (symlinkat(link_to, dir, slash + 1) < 0 && errno != EEXIST))
			die(op->index, op_name(op->type), "symlinkat", path, errno, mount_hint(errno, ""),
			    "cannot create the symlink");
		close(dir);
	}
	close(parent);
}

/* Minimal /dev: a few host devices, a new devpts, a private shm. */
static void do_dev(const struct op *op, const char *target)
{
	static const char *const devices[] = { "null", "zero", "full", "random", "urandom", "tty" };
	static const char *const links[][2] = {
		{ "/proc/self/fd", "fd" },  { "/proc/self/fd/0", "stdin" },
		{ "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
		{ "pts/ptmx", "ptmx" },
	};
	const char *pts_kv[] = { "newinstance", NULL, "ptmxmode", "0666", "mode", "0620", NULL };
	const char *shm_kv[] = { "mode", "1777", NULL };
	char src[PATH_MAX], dst[PATH_MAX];
	const char *base = strcmp(target, "/") ? target : "";
	const char *tmpfs_kv[] = { "mode", "0755", NULL };

	attach(op, new_fs(op, "tmpfs", target, tmpfs_kv, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC), target, 'd');
	for (size_t i = 0; i < sizeof(devices) / sizeof(*devices); i++) {
		bool is_dir;
		int tree;

		snprintf(src, sizeof(src), "/dev/%s", devices[i]);
		snprintf(dst, sizeof(dst), "%s/%s", base, devices[i]);
		tree = clone_host_tree(op, src, &is_dir);
		set_attr(op, tree, src, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, false);
		attach(op, tree, dst, 'f');
	}
	snprintf(dst, sizeof(dst), "%s/pts", base);
	attach(op, new_fs(op, "devpts", dst, pts_kv, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC), dst, 'd');
	snprintf(dst, sizeof(dst), "%s/shm", base);
	attach(op, new_fs(op, "tmpfs", dst, shm_kv, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV), dst, 'd');
	for (size_t i = 0; i < sizeof(links) / sizeof(*links); i++) {
		snprintf(dst, sizeof(dst), "%s/%s", base, links[i][1]);
		do_symlink(op, links[i][0], dst);
	}
}

/* Escape ',' ':' and '\' for the legacy lowerdir option string. */
static void append_escaped(char *out, size_t size, const char *in)
{
	size_t o = strlen(out);

	for (; *in && o + 2 < size; in++) {
		if (*in == ',' || *in == ':' || *in == '\\')
			out[o++] = '\\';
		out[o++] = *in;
	}
	out[o] = '\0';
}

static void do_overlay(const struct op *op)
{
	const char *target = op->args[0];
	int nlower = op->nargs - 4;
	char upper[PATH_MAX], work[PATH_MAX], lower[8192] = "";
	int fs, mnt;

	/* Host paths, as seen from our scratch root. */
	snprintf(upper, sizeof(upper), "/oldroot%s", op->args[1]);
	snprintf(work, sizeof(work), "/oldroot%s", op->args[2]);
	fs = sys_fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs < 0)
		die(op->index, "overlay", "fsopen", target, errno, mount_hint(errno, "overlay"),
		    "cannot create an overlay filesystem");
	for (int i = 0; i < nlower; i++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "/oldroot%s", op->args[4 + i]);
		if (i && strlen(lower) + 1 < sizeof(lower))
			strcat(lower, ":");
		append_escaped(lower, sizeof(lower), path);
	}
	if (sys_fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir", lower, 0) < 0 ||
	    sys_fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
	    sys_fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 ||
	    sys_fsconfig(fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0 ||
	    sys_fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		die(op->index, "overlay", "fsconfig", target, errno, mount_hint(errno, "overlay"),
		    "cannot create the overlay over %s", op->args[4]);
	mnt = sys_fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (mnt < 0)
		die(op->index, "overlay", "fsmount", target, errno, mount_hint(errno, "overlay"),
		    "cannot mount the overlay");
	close(fs);
	attach(op, mnt, target, 'd');
}

static void do_mkdir(const struct op *op, const char *path, const char *mode)
{
	int fd = open_target(op, path, 'd');
	char fdpath[64];

	snprintf(fdpath, sizeof(fdpath), "/oldroot/proc/self/fd/%d", fd);
	if (chmod(fdpath, (mode_t)strtoul(mode, NULL, 8)) < 0)
		die(op->index, "mkdir", "chmod", path, errno, NULL, "cannot set the mode");
	close(fd);
}

/* A file with given content, kept on the scratch tmpfs, bound read-only at @path. */
static void do_file(const struct op *op, const char *path, const char *mode, const char *content)
{
	char name[64];
	size_t len = strlen(content);
	int fd, tree;
	bool is_dir;

	(void)is_dir;
	snprintf(name, sizeof(name), "/.ms-file-%d", file_seq++);
	fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)strtoul(mode, NULL, 8));
	if (fd < 0 || write(fd, content, len) != (ssize_t)len || fchmod(fd, (mode_t)strtoul(mode, NULL, 8)) < 0)
		die(op->index, "file", "write", path, errno, NULL, "cannot write the file's content");
	close(fd);
	tree = sys_open_tree(AT_FDCWD, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		die(op->index, "file", "open_tree", path, errno, mount_hint(errno, ""), "cannot bind the file");
	set_attr(op, tree, path, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, false);
	attach(op, tree, path, 'f');
}

/*
 * do_remount_ro() - make the mount at @path read-only: with every submount
 * (@mode "recursive"), or that mount alone ("top": seals a skeleton root
 * whose mount points all exist now, leaving the mounts in it as they are).
 */
static void do_remount_ro(const struct op *op, const char *path, const char *mode)
{
	int fd = open_target(op, path, 0);

	set_attr(op, fd, path, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, !strcmp(mode, "recursive"));
	close(fd);
}

/**
 * do_hide() - cover @path with an empty read-only directory (or file).
 * A path that does not exist has nothing to hide and is skipped. The
 * lookup is O_PATH, which never triggers an automount: an autofs point is
 * covered without being mounted or stat'ed by its daemon.
 */
static void do_hide(const struct op *op, const char *path)
{
	const char *kv[] = { "mode", "0555", "nr_inodes", "16", NULL };
	struct stat st;
	int fd, mnt;

	fd = sys_openat2(newroot_fd, rel(path), O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	if (fd < 0 && errno == ENOENT) {
		char esc[PATH_MAX * 2];

		json_string(esc, sizeof(esc), path);
		status_event("{\"event\":\"hide-skipped\",\"step\":%d,\"path\":\"%s\"}", op->index, esc);
		return;
	}
	if (fd < 0)
		die(op->index, "hide", "openat2", path, errno, mount_hint(errno, ""), "cannot open the path to hide");
	if (fstat(fd, &st) < 0)
		die(op->index, "hide", "fstat", path, errno, NULL, "cannot stat the path to hide");
	if (!S_ISDIR(st.st_mode)) {
		close(fd);
		do_file(op, path, "0444", "");
		return;
	}
	mnt = new_fs(op, "tmpfs", path, kv, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (sys_move_mount(mnt, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		die(op->index, "hide", "move_mount", path, errno, mount_hint(errno, ""), "cannot cover the path");
	close(mnt);
	close(fd);
}

/**
 * mounts_prepare() - make our mount namespace private and set up the scratch root.
 * Privileged: runs as uid 0 of our own user namespace (full capabilities there,
 * none on the host). MS_PRIVATE first, so nothing we do propagates to the host
 * and no later host mount propagates in (mount propagation escape class).
 */
void mounts_prepare(void)
{
	const char *base = "/tmp";

	if (sys_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die(-1, NULL, "mount", "/", errno, NULL, "cannot make the mount namespace private");
	/* bubblewrap's approach: a tmpfs on /tmp (private to us) becomes our root. */
	if (sys_mount("tmpfs", base, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
		die(-1, NULL, "mount", base, errno, mount_hint(errno, ""), "cannot mount the scratch tmpfs");
	if (chdir(base) < 0 || mkdir("newroot", 0755) < 0 || mkdir("oldroot", 0755) < 0)
		die(-1, NULL, "mkdir", base, errno, NULL, "cannot prepare the scratch root");
	if (sys_mount("tmpfs", "newroot", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
		die(-1, NULL, "mount", "newroot", errno, NULL, "cannot mount the new root");
	if (sys_pivot_root(".", "oldroot") < 0)
		die(-1, NULL, "pivot_root", base, errno, NULL, "cannot pivot into the scratch root");
	if (chdir("/") < 0)
		die(-1, NULL, "chdir", "/", errno, NULL, "cannot enter the scratch root");
	oldroot_fd = open("/oldroot", O_PATH | O_DIRECTORY | O_CLOEXEC);
	newroot_fd = open("/newroot", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (oldroot_fd < 0 || newroot_fd < 0)
		die(-1, NULL, "open", "/oldroot", errno, NULL, "cannot open the roots");
}

/** mounts_apply() - run every mount operation of the plan, in order. */
void mounts_apply(const struct plan *plan)
{
	for (int i = 0; i < plan->nops; i++) {
		const struct op *op = &plan->ops[i];
		char **a = op->args;

		switch (op->type) {
		case OP_BIND: do_bind(op, a[0], a[1], !strcmp(a[2], "ro")); break;
		case OP_TMPFS: do_tmpfs(op, a[0], a[1], a[2]); break;
		case OP_PROC: do_proc(op, a[0]); break;
		case OP_DEV: do_dev(op, a[0]); break;
		case OP_OVERLAY: do_overlay(op); break;
		case OP_MKDIR: do_mkdir(op, a[0], a[1]); break;
		case OP_SYMLINK: do_symlink(op, a[0], a[1]); break;
		case OP_FILE: do_file(op, a[0], a[1], a[2]); break;
		case OP_REMOUNT_RO: do_remount_ro(op, a[0], a[1]); break;
		case OP_HIDE: do_hide(op, a[0]); break;
		case OP_UNSHARE: case OP_UID: case OP_GID: case OP_HOSTNAME: case OP_LOOPBACK:
		case OP_CHDIR: case OP_ENV: case OP_RLIMIT: case OP_TIMEOUT: case OP_INTERRUPT:
		case OP_GRACE: case OP_WAIT_RELEASE: case OP_EXEC: case OP__COUNT:
			break;
		}
	}
}

/**
 * mounts_finish() - switch to the new root and drop every trace of the host's.
 * After this the host tree is unreachable: the old root is detached
 * (MNT_DETACH), then the second pivot_root stacks the new root over the
 * scratch root, which is unmounted too (bubblewrap's pivot_root(".", ".")).
 */
void mounts_finish(void)
{
	close(oldroot_fd);
	close(newroot_fd);
	if (sys_umount2("/oldroot", MNT_DETACH) < 0)
		die(-1, NULL, "umount2", "/oldroot", errno, NULL, "cannot detach the host root");
	if (chdir("/newroot") < 0)
		die(-1, NULL, "chdir", "/newroot", errno, NULL, "cannot enter the new root");
	if (sys_pivot_root(".", ".") < 0)
		die(-1, NULL, "pivot_root", "/newroot", errno, NULL, "cannot pivot into the new root");
	if (sys_umount2(".", MNT_DETACH) < 0)
		die(-1, NULL, "umount2", "/", errno, NULL, "cannot detach the scratch root");
	if (chdir("/") < 0)
		die(-1, NULL, "chdir", "/", errno, NULL, "cannot enter the new root");
}
