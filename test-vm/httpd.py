#!/usr/bin/env python3
"""Tiny multi-address HTTP server for the mini-sandbox test world.

Runs INSIDE the upstream network namespace. Usage:

    httpd.py --state DIR --git-root DIR ADDR:PORT [ADDR:PORT ...]

ADDR may be IPv4 (203.0.113.10) or bracketed IPv6 ([2001:db8:1::10]).
Each listener logs to DIR/http-<addr>_<port>.log. When every socket is bound,
DIR/http.ready is written (world.sh waits for it).

Routes (all listeners):
  GET /            -> "hello from ADDR:PORT\n"
  GET /whoami      -> "client ADDR PORT\n" (source address as seen by upstream)
  GET /big         -> 256 MiB stream (generated); /big?size=BYTES for another size
  GET /repo.git/*  -> static dumb-HTTP git repository (only on listeners started
                      with --git-addr, default 203.0.113.10 and 2001:db8:1::10)
"""
import argparse
import os
import socket
import sys
import threading
import urllib.parse
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

CHUNK = b"\x00" * (1 << 20)
DEFAULT_BIG = 256 << 20


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, port, family, label, logfile, git):
        self.address_family = family
        self.label = label
        self.logfile = logfile
        self.git = git
        self.loglock = threading.Lock()
        super().__init__((addr, port), Handler)


class Handler(SimpleHTTPRequestHandler):
    server_version = "ms-test-world/1"
    protocol_version = "HTTP/1.1"

    def __init__(self, *a, directory=None, **kw):
        super().__init__(*a, directory=ARGS.git_root, **kw)

    def log_message(self, fmt, *args):
        srv = self.server
        line = "%s %s %s\n" % (self.log_date_time_string(), self.client_address[0], fmt % args)
        with srv.loglock:
            srv.logfile.write(line)
            srv.logfile.flush()

    def _text(self, body, code=200, head=False):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _route(self, head):
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        if path == "/":
            return self._text("hello from %s\n" % self.server.label, head=head)
        if path == "/whoami":
            return self._text("client %s %d\n" % self.client_address[:2], head=head)
        if path == "/big":
            q = urllib.parse.parse_qs(url.query)
            try:
                size = int(q.get("size", [DEFAULT_BIG])[0])
            except ValueError:
                return self._text("bad size\n", 400, head)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if head:
                return None
            left = size
            try:
                while left > 0:
                    n = min(left, len(CHUNK))
                    self.wfile.write(CHUNK if n == len(CHUNK) else CHUNK[:n])
                    left -= n
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
            return None
        if path.startswith("/repo.git/") and self.server.git:
            return super().do_HEAD() if head else super().do_GET()
        return self._text("not found\n", 404, head)

    def do_GET(self):
        self._route(False)

    def do_HEAD(self):
        self._route(True)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--state", required=True)
    p.add_argument("--git-root", required=True)
    p.add_argument("--git-addr", action="append", default=None)
    p.add_argument("listen", nargs="+")
    ARGS = p.parse_args()
    git_addrs = set(ARGS.git_addr or ["203.0.113.10", "2001:db8:1::10"])

    servers = []
    for spec in ARGS.listen:
        host, _, port = spec.rpartition(":")
        port = int(port)
        if host.startswith("["):
            host = host[1:-1]
            fam = socket.AF_INET6
            label = "[%s]:%d" % (host, port)
        else:
            fam = socket.AF_INET
            label = "%s:%d" % (host, port)
        logname = os.path.join(ARGS.state, "http-%s_%d.log" % (host.replace(":", "-"), port))
        logf = open(logname, "a", buffering=1)
        servers.append(Server(host, port, fam, label, logf, host in git_addrs))

    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    ready = os.path.join(ARGS.state, "http.ready")
    with open(ready + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(ready + ".tmp", ready)
    print("listening on " + " ".join(s.label for s in servers), flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
