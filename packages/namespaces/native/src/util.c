// SPDX-License-Identifier: Apache-2.0
/* util.c - status reporting (JSON lines), errors, small parsers. No privileges here. */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int status_fd = -1;

/**
 * json_string() - escape @in as the body of a JSON string.
 * Control characters (newlines in paths) become \u00XX; other bytes pass.
 */
void json_string(char *out, size_t size, const char *in)
{
	size_t o = 0;

	for (; in && *in && o + 7 < size; in++) {
		unsigned char c = (unsigned char)*in;

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(out + o, size - o, "\\u%04x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

/**
 * status_event() - write one JSON line to the status descriptor.
 * Lines are written with one write(2), so lines of the two executor
 * processes never interleave (pipe writes below PIPE_BUF are atomic).
 */
void status_event(const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	int n;

	if (status_fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	while (write(status_fd, line, (size_t)n) < 0 && errno == EINTR)
		;
}

const char *errno_name(int err)
{
	switch (err) {
	case 0: return "";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EACCES: return "EACCES";
	case EEXIST: return "EEXIST";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case EROFS: return "EROFS";
	case ELOOP: return "ELOOP";
	case ENOSYS: return "ENOSYS";
	case EBUSY: return "EBUSY";
	case EXDEV: return "EXDEV";
	case EUSERS: return "EUSERS";
	case ENOEXEC: return "ENOEXEC";
	case ENODEV: return "ENODEV";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default: return "E?";
	}
}

static void vreport(int step, const char *op, const char *syscall, const char *path, int err,
		    const char *hint, const char *fmt, va_list ap)
{
	char msg[1024], emsg[2048], epath[2048], ehint[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	json_string(emsg, sizeof(emsg), msg);
	json_string(epath, sizeof(epath), path ? path : "");
	json_string(ehint, sizeof(ehint), hint ? hint : "");
	if (status_fd >= 0)
		status_event("{\"event\":\"error\",\"step\":%d,\"op\":\"%s\",\"syscall\":\"%s\","
			     "\"path\":\"%s\",\"errno\":%d,\"code\":\"%s\",\"message\":\"%s\",\"hint\":\"%s\"}",
			     step, op ? op : "", syscall ? syscall : "", epath, err, errno_name(err), emsg,
			     ehint);
	else
		fprintf(stderr, "ms-executor: %s%s%s%s%s%s%s\n", msg, syscall ? ": " : "",
			syscall ? syscall : "", path ? " " : "", path ? path : "", err ? ": " : "",
			err ? strerror(err) : "");
}

/**
 * report_error() - report a structured error without exiting.
 * @step: index of the plan operation, -1 outside the plan
 * @syscall, @path, @err: what failed, on what, and why (errno)
 * @hint: what the user can do, or NULL
 */
void report_error(int step, const char *op, const char *syscall, const char *path, int err,
		  const char *hint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(step, op, syscall, path, err, hint, fmt, ap);
	va_end(ap);
}

/**
 * die() - report a structured error and exit with EXIT_SETUP.
 * Every message names the syscall and the path, never just "failed".
 */
void die(int step, const char *op, const char *syscall, const char *path, int err,
	 const char *hint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(step, op, syscall, path, err, hint, fmt, ap);
	va_end(ap);
	_exit(EXIT_SETUP);
}

/** parse_ulong() - strict decimal parse; Return: true if @s is a number <= @max. */
bool parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

/** write_file() - write @content to an existing file. Return: 0 or -errno. */
int write_file(const char *path, const char *content)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(content);
	ssize_t n;
	int err;

	if (fd < 0)
		return -errno;
	n = write(fd, content, len);
	err = n < 0 ? errno : (size_t)n != len ? EIO : 0;
	close(fd);
	return -err;
}
