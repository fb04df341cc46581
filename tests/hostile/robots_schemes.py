#!/usr/bin/env python3
"""robots_schemes: one loopback port that speaks plain HTTP/1.1 and HTTPS, for gather's robots.txt
tests: http://127.0.0.1:P and https://127.0.0.1:P are two origins, so two robots.txt files.

Each connection is peeked: a first byte of 0x16 (a TLS handshake record) is served over TLS with
--cert/--key, anything else as plain HTTP. One request per connection (Connection: close).

Routes:
  /robots.txt     the bytes of --http-robots FILE or --https-robots FILE (404 if not given);
                  with --robots-fail-after N, every answer after the first N is a 503
  /pN             200 text/html, a page linking to /p(N+1) (up to /p10) and to /private
  anything else   200 text/html, a page with no links
Every request is appended to --log FILE as "SCHEME PATH" (http or https), flushed at once, so a
test reads what the server saw.

--port 0 --port-file F: bind 127.0.0.1 on a free port and write it to F once listening.
"""
import argparse
import os
import re
import socket
import ssl
import sys
import threading


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    return data.split(b"\r\n", 1)[0].decode("latin-1")


def serve(conn, scheme, args, lock):
    line = read_head(conn)
    if not line:
        return
    parts = line.split(" ")
    path = parts[1] if len(parts) >= 2 else "/"
    with lock:
        with open(args.log, "a") as f:
            f.write(f"{scheme} {path}\n")
    robots = args.https_robots if scheme == "https" else args.http_robots
    if path == "/robots.txt":
        with lock:
            args.robots_served += 1
            fail = args.robots_fail_after is not None and args.robots_served > args.robots_fail_after
        if fail:
            body, status, ctype = b"down\n", "503 Service Unavailable", "text/plain"
        elif robots:
            with open(robots, "rb") as f:
                body, status, ctype = f.read(), "200 OK", "text/plain"
        else:
            body, status, ctype = b"no robots.txt\n", "404 Not Found", "text/plain"
    elif re.fullmatch(r"/p([0-9]+)", path) and int(path[2:]) < 10:
        links = f'<a href="/p{int(path[2:]) + 1}">next</a> <a href="/private">private</a>'
        body, status, ctype = f"<!doctype html><title>p</title>{links}\n".encode(), "200 OK", "text/html"
    else:
        body, status, ctype = b"<!doctype html><title>ok</title><p>ok</p>\n", "200 OK", "text/html"
    head = (f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n").encode()
    conn.sendall(head + (body if parts[0] != "HEAD" else b""))


def handle(raw, ctx, args, lock):
    conn = raw
    try:
        raw.settimeout(10)
        first = raw.recv(1, socket.MSG_PEEK)
        if not first:
            return
        if first[0] == 0x16:
            conn = ctx.wrap_socket(raw, server_side=True)
            serve(conn, "https", args, lock)
        else:
            serve(conn, "http", args, lock)
    except (OSError, ssl.SSLError):
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--http-robots")
    ap.add_argument("--https-robots")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--log", required=True)
    ap.add_argument("--robots-fail-after", type=int)
    args = ap.parse_args()
    args.robots_served = 0

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if args.cert:
        ctx.load_cert_chain(args.cert, args.key)
    lock = threading.Lock()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.port))
    srv.listen(64)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{srv.getsockname()[1]}\n")
    os.rename(tmp, args.port_file)
    while True:
        raw, _ = srv.accept()
        threading.Thread(target=handle, args=(raw, ctx, args, lock), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
