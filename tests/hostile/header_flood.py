#!/usr/bin/env python3
"""header_flood.py: an HTTP/1.1 server on loopback whose answers never end their headers.

    header_flood.py --port-file FILE --log FILE [--mode lines|line] [--host 127.0.0.1]

It binds to --host (loopback only) on an ephemeral port, writes the port and a newline to
--port-file once it listens, then serves until SIGTERM or SIGINT. For every request it appends
"METHOD TARGET" to --log (one line per request, flushed at once, so a test counts the requests
a client made, retries included), answers "HTTP/1.1 200 OK" and then floods:
  lines  one short header line after another, without end (the blank line never comes);
  line   one header line that never ends (no CRLF).
At most 64 MiB go to one connection, so a client that never gives up cannot keep it forever.
"""
import argparse
import os
import signal
import socket
import sys
import threading

CAP = 64 * 1024 * 1024


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > 65536:
            return None
    line = data.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    return " ".join(parts[:2]) if len(parts) >= 2 else line


def flood(conn, mode):
    sent = 0
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n")
    if mode == "line":
        conn.sendall(b"X-Flood: ")
        block = b"a" * 16384
    else:
        block = b"".join(b"X-Flood-%d: %s\r\n" % (i, b"b" * 40) for i in range(256))
    while sent < CAP:
        conn.sendall(block)
        sent += len(block)


def serve(conn, args, lock):
    try:
        with conn:
            request = read_request(conn)
            if request is None:
                return
            with lock:
                with open(args.log, "a") as log:
                    log.write(request + "\n")
            flood(conn, args.mode)
    except OSError:
        pass                      # the client gave up: that is the point


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--mode", choices=("lines", "line"), default="lines")
    args = p.parse_args()
    if args.host not in ("127.0.0.1", "::1"):
        sys.exit("header_flood.py: loopback only")
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((args.host, 0))
    srv.listen(64)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    open(args.log, "a").close()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(tmp, args.port_file)
    lock = threading.Lock()
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, args, lock), daemon=True).start()


if __name__ == "__main__":
    main()
