#!/usr/bin/env python3
"""keepalive_drop: an HTTP/1.1 server that drops keep-alive connections the way real ones do.

Every answer is a keep-alive answer (no `Connection: close`), yet the server closes each
connection after a short random idle time, and sometimes right after an answer, without a word.
A client that reuses a connection at that moment sends its request into a socket being closed
and gets a reset: curl's own rule is to retry such a request on a fresh connection. This is the
server nginx is with a short keepalive_timeout, made frequent.

    keepalive_drop.py [--host 127.0.0.1] [--port 0] [--port-file FILE] [--seed N]
                      [--idle-min MS] [--idle-max MS] [--close-after P] [--size N]
    keepalive_drop.py --emit PATH

Routes: GET /f/<i> answers 200 with a deterministic body of --size bytes (see body()), and
GET /stats answers (then closes) with JSON of what the server saw: requests (answers sent, /stats
not counted), connections, idle_closes (closed after the idle time), response_closes (closed
right after an answer), inflight/max_inflight (requests being answered), by_path (answers per
path). Binds only to --host (loopback). SIGTERM or SIGINT stops it; it exits 0.
"""
import argparse
import hashlib
import json
import os
import random
import signal
import socket
import sys
import threading

HEAD_MAX = 16384            # a request head larger than this is refused (and closed)
FIRST_REQUEST_TIMEOUT = 10  # seconds a new connection may take to send its first request


def body(path, size):
    """The body of /f/<i>: sha256("keepalive <path>") in hex, repeated and cut to size."""
    block = hashlib.sha256(("keepalive " + path).encode()).hexdigest().encode() + b"\n"
    return (block * (size // len(block) + 1))[:size]


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.v = {"requests": 0, "connections": 0, "idle_closes": 0, "response_closes": 0,
                  "inflight": 0, "max_inflight": 0}
        self.by_path = {}

    def add(self, key, n=1):
        with self.lock:
            self.v[key] += n
            if key == "inflight" and self.v["inflight"] > self.v["max_inflight"]:
                self.v["max_inflight"] = self.v["inflight"]

    def answered(self, path):
        with self.lock:
            self.v["requests"] += 1
            self.by_path[path] = self.by_path.get(path, 0) + 1

    def json(self):
        with self.lock:
            d = dict(self.v)
            d["by_path"] = dict(self.by_path)
        return json.dumps(d).encode()


def read_head(sock, buf):
    """The next request head and what follows it, or (None, buf) when the peer closed."""
    while b"\r\n\r\n" not in buf:
        if len(buf) > HEAD_MAX:
            return None, b""
        chunk = sock.recv(65536)
        if not chunk:
            return None, buf
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head, rest


def serve(sock, args, stats, rng_seed):
    rng = random.Random(rng_seed)
    buf = b""
    sock.settimeout(FIRST_REQUEST_TIMEOUT)
    try:
        while True:
            try:
                head, buf = read_head(sock, buf)
            except socket.timeout:
                stats.add("idle_closes")
                return
            if head is None:
                return
            line = head.split(b"\r\n", 1)[0].decode("latin-1").split()
            path = line[1] if len(line) >= 2 else "/"
            if path == "/stats":
                data = stats.json()
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(data) + data)
                return
            stats.add("inflight")
            try:
                if len(line) < 2 or line[0] != "GET" or not path.startswith("/f/"):
                    data = b"not found\n"
                    status = b"404 Not Found"
                else:
                    data = body(path, args.size)
                    status = b"200 OK"
                sock.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/octet-stream\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(data) + data)
                stats.answered(path)
            finally:
                stats.add("inflight", -1)
            if rng.random() < args.close_after:
                stats.add("response_closes")
                return
            sock.settimeout(rng.uniform(args.idle_min, args.idle_max) / 1000.0)
    except OSError:
        return
    finally:
        sock.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--idle-min", type=float, default=1.0, help="ms")
    ap.add_argument("--idle-max", type=float, default=10.0, help="ms")
    ap.add_argument("--close-after", type=float, default=0.05,
                    help="probability of closing right after an answer")
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--emit")
    args = ap.parse_args()
    if args.emit:
        sys.stdout.buffer.write(body(args.emit, args.size))
        return 0
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        print("keepalive_drop: loopback only", file=sys.stderr)
        return 2

    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    ls = socket.socket(family, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((args.host, args.port))
    ls.listen(1024)
    port = ls.getsockname()[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)
    print(port, flush=True)

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    stats = Stats()
    seeds = random.Random(args.seed)
    while True:
        conn, _ = ls.accept()
        stats.add("connections")
        threading.Thread(target=serve, args=(conn, args, stats, seeds.random()), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
