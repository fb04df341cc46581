#!/usr/bin/env python3
"""silent: an HTTP/1.1 server that stops sending in the middle of an answer, and never closes.

    silent.py [--host 127.0.0.1] [--port 0] [--port-file FILE]
    silent.py --emit PATH

Routes (N bytes of body(N), see below; every answer keeps the connection alive):
  /headers/<N>           the headers of a 200 with Content-Length: N, then nothing at all
  /half/<N>              the headers and the first N/2 body bytes, then nothing at all
  /trickle/<N>?every=MS  the whole answer, one body byte every MS ms (slow but never silent
                         for long)
  /pause/<N>?ms=MS       the headers and N/2 bytes, a pause of MS ms, then the rest
  /stats                 JSON (then closes): requests by path (as received), and hangups by
                         path: requests whose connection the client closed while the server was
                         holding back (it gave up waiting)
Anything else is a 404. A silent answer holds its connection for at most 120 s. Binds only to
--host (loopback). SIGTERM or SIGINT stops it; it exits 0.
"""
import argparse
import json
import os
import select
import signal
import socket
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

HOLD_MAX = 120.0


def body(n):
    """N deterministic bytes: a counter pattern, so that a cut or a shift shows."""
    return bytes((i * 7 + i // 251) & 0xFF for i in range(n))


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = {}
        self.hangups = {}

    def count(self, table, path):
        with self.lock:
            table[path] = table.get(path, 0) + 1

    def json(self):
        with self.lock:
            return json.dumps({"requests": self.requests, "hangups": self.hangups}).encode()


def hold(sock, seconds):
    """Sends nothing for `seconds` (or until the client closes): True when the client closed."""
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([sock], [], [], min(left, 1.0))
        if r:
            try:
                data = sock.recv(65536)
            except OSError:
                return True
            if not data:
                return True


def head(n):
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Length: %d\r\n\r\n" % n)


def serve(sock, stats):
    buf = b""
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                buf += chunk
                if len(buf) > 16384:
                    return
            req, buf = buf.split(b"\r\n\r\n", 1)
            target = req.split(b"\r\n", 1)[0].decode("latin-1").split()[1]
            if target == "/stats":
                data = stats.json()
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(data) + data)
                return
            stats.count(stats.requests, target)
            url = urlsplit(target)
            parts = url.path.strip("/").split("/")
            q = parse_qs(url.query)
            route = parts[0] if parts else ""
            n = int(parts[1]) if len(parts) == 2 and parts[1].isdigit() else -1
            if n < 0 or route not in ("headers", "half", "trickle", "pause"):
                sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\nnot found\n")
                continue
            data = body(n)
            if route in ("headers", "half"):
                sock.sendall(head(n) + (data[:n // 2] if route == "half" else b""))
                if hold(sock, HOLD_MAX):
                    stats.count(stats.hangups, target)
                return
            if route == "trickle":
                every = float(q.get("every", ["300"])[0]) / 1000.0
                sock.sendall(head(n))
                for i in range(n):
                    time.sleep(every)
                    sock.sendall(data[i:i + 1])
                continue
            ms = float(q.get("ms", ["500"])[0]) / 1000.0
            sock.sendall(head(n) + data[:n // 2])
            if hold(sock, ms):
                stats.count(stats.hangups, target)
                return
            sock.sendall(data[n // 2:])
    except OSError:
        return
    finally:
        sock.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--emit", help="print the body of /<route>/<N> and exit")
    args = ap.parse_args()
    if args.emit:
        sys.stdout.buffer.write(body(int(urlsplit(args.emit).path.rstrip("/").split("/")[-1])))
        return 0
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        print("silent: loopback only", file=sys.stderr)
        return 2
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    ls = socket.socket(family, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((args.host, args.port))
    ls.listen(128)
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
    while True:
        conn, _ = ls.accept()
        threading.Thread(target=serve, args=(conn, stats), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
