#!/usr/bin/env python3
"""gzip_server: a hostile HTTP/1.1 server for gather's compressed-body tests (loopback only).

Routes (SIZE takes K, M, G suffixes, binary):
  /enc/SIZE[?cut=K&mode=M]      a text body of SIZE bytes, gzip'd (level 6) when the client
                                accepts gzip (mode=negotiate, the default) or always
                                (mode=always: a server that ignores Accept-Encoding; mode=lie:
                                says gzip and sends the text as it is). Strong
                                ETag (one per representation) and Last-Modified; Range and
                                If-Range are honoured over the bytes it sends, i.e. the ENCODED
                                bytes when it gzips. cut=K: a 200 answer stops after K body
                                bytes and the connection is dropped (cuts=N: only the first
                                N answers to this URL are cut). stall=K: the same, but the
                                server then sends nothing more until the client hangs up.
  /ratio/R/SIZE[?mode=M&type=T] SIZE decoded bytes that gzip at about R:1, streamed (the gzip
                                stream is built from one compressed 1 MiB block repeated).
  /bomb/SIZE[?mode=M&type=T]    SIZE zero bytes (spaces for text/html) at the best ratio
                                deflate has (~1030:1): 10G is ~10 MB on the wire.
  /page?n=N&target=PATH         an HTML page with N links <a href="PATH?i=0"> ...
  /stats, /reset                what the server saw (JSON) / forget it
  /robots.txt                   404 (allow all)

--port-file F: bind 127.0.0.1:0 and write the port to F. --emit PATH / --emit-encoded PATH:
print the decoded body / the gzip stream the server sends for PATH to stdout and exit.
"""
import argparse
import http.server
import json
import random
import select
import socket
import socketserver
import sys
import threading
import zlib
from urllib.parse import urlsplit, parse_qs

BLOCK = 1 << 20
LAST_MODIFIED = "Mon, 01 Jan 2024 00:00:00 GMT"
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03"   # deflate, no name, mtime 0, unix
FINAL_BLOCK = b"\x03\x00"                                  # an empty final (fixed) block

lock = threading.Lock()
seen = []                      # one dict per request
cut_count = {}                 # path -> answers cut so far
cache = {}


def parse_size(s):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if s and s[-1].upper() in mult:
        return int(s[:-1]) * mult[s[-1].upper()]
    return int(s)


# ---- bodies ----------------------------------------------------------------------------------

def text_body(size):
    key = ("text", size)
    if key not in cache:
        out = bytearray()
        i = 0
        while len(out) < size:
            out += b"%08d the quick brown fox %d jumps over the lazy dog %x\n" % (i, i * 7919 % 1000, i)
            i += 1
        plain = bytes(out[:size])
        c = zlib.compressobj(6, zlib.DEFLATED, 31)
        cache[key] = (plain, c.compress(plain) + c.flush())
    return cache[key]


def segment(block):
    """block deflated on its own and fully flushed: any number of them in a row is a valid
    deflate stream, since none refers to bytes before its start."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)


def ratio_block(ratio, html):
    """A 1 MiB block (zeros, or spaces for HTML) with random bytes sprinkled in until it
    deflates at about ratio:1 (ratio 0: none, the best deflate does)."""
    key = ("block", ratio, html)
    if key in cache:
        return cache[key]
    fill = b" " if html else b"\0"

    def make(k):
        b = bytearray(fill * BLOCK)
        rng = random.Random(ratio * 1000003 + k)
        for _ in range(k):
            b[rng.randrange(BLOCK)] = rng.choice(b"abcdefghijklmnopqrstuvwxyz") if html else rng.randrange(256)
        return bytes(b)

    best = make(0)
    if ratio > 0:
        # Each random byte costs about the same in the compressed block: two measures and a
        # straight line give the count (a search would cost a second of CPU per body).
        base, k = len(segment(best)), 1000
        for _ in range(3):
            per = (len(segment(make(k))) - base) / k
            k = max(1, round((BLOCK / ratio - base) / per))
        best = make(k)
    first = (b"<!doctype html><html><body>\n" + best)[:BLOCK] if html else best
    cache[key] = (first, best, segment(first), segment(best))
    return cache[key]


class Stream:
    """The decoded body of /ratio and /bomb as blocks, and its gzip stream as parts."""

    def __init__(self, ratio, size, html):
        self.size = size
        self.first, self.block, self.sfirst, self.sblock = ratio_block(ratio, html)

    def blocks(self):
        off = 0
        while off < self.size:
            b = self.first if off == 0 else self.block
            n = min(BLOCK, self.size - off)
            yield b if n == BLOCK else b[:n]
            off += n

    def encoded_length(self):
        n, tail = divmod(self.size, BLOCK)
        total = len(GZIP_HEADER) + len(FINAL_BLOCK) + 8
        if n:
            total += len(self.sfirst) + (n - 1) * len(self.sblock)
        if tail:
            total += len(segment((self.first if n == 0 else self.block)[:tail]))
        return total

    def encoded(self):
        crc = 0
        yield GZIP_HEADER
        for i, b in enumerate(self.blocks()):
            crc = zlib.crc32(b, crc)
            if len(b) == BLOCK:
                yield self.sfirst if i == 0 else self.sblock
            else:
                yield segment(b)
        yield FINAL_BLOCK + crc.to_bytes(4, "little") + (self.size & 0xFFFFFFFF).to_bytes(4, "little")


def stream_for(path, q):
    parts = path.strip("/").split("/")
    html = q.get("type", [""])[0].startswith("text/html")
    if parts[0] == "ratio" and len(parts) == 3:
        return Stream(int(parts[1]), parse_size(parts[2]), html)
    if parts[0] == "bomb" and len(parts) == 2:
        return Stream(0, parse_size(parts[1]), html)
    return None


# ---- the server -----------------------------------------------------------------------------

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self, **kw):
        rec = {"path": self.path, "range": self.headers.get("Range"),
               "if_range": self.headers.get("If-Range"),
               "accept_encoding": self.headers.get("Accept-Encoding"), "sent": 0}
        rec.update(kw)
        with lock:
            seen.append(rec)
        return rec

    def send_body(self, rec, parts, limit=None, stall=False):
        """Writes parts; stops after limit bytes, then drops the connection (or, with stall,
        waits up to a minute for the client to hang up first)."""
        try:
            for p in parts:
                if limit is not None and rec["sent"] + len(p) >= limit:
                    p = p[:limit - rec["sent"]]
                    self.wfile.write(p)
                    rec["sent"] += len(p)
                    self.close_connection = True
                    if stall:
                        select.select([self.connection], [], [], 60)
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(p)
                rec["sent"] += len(p)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            rec["broken"] = True

    def wants_gzip(self, q):
        if q.get("mode", ["negotiate"])[0] == "always":
            return True
        ae = (self.headers.get("Accept-Encoding") or "").lower()
        return any(t.split(";")[0].strip() in ("gzip", "x-gzip") and "q=0" not in t.replace(" ", "")
                   for t in ae.split(","))

    def do_GET(self):
        u = urlsplit(self.path)
        q = parse_qs(u.query)
        if u.path == "/stats":
            with lock:
                body = json.dumps({"requests": seen}).encode()
            return self.simple(200, body, "application/json")
        if u.path == "/reset":
            with lock:
                seen.clear()
                cut_count.clear()
            return self.simple(200, b"ok\n", "text/plain")
        if u.path == "/page":
            n = int(q.get("n", ["1"])[0])
            target = q.get("target", ["/"])[0]
            links = "".join('<a href="%s?i=%d">%d</a>\n' % (target, i, i) for i in range(n))
            self.record(status=200)
            return self.simple(200, ("<!doctype html><html><body>\n%s</body></html>\n" % links).encode(),
                               "text/html")
        if u.path.startswith("/enc/"):
            return self.enc(u.path, q)
        s = stream_for(u.path, q)
        if s is None:
            self.record(status=404)
            return self.simple(404, b"not found\n", "text/plain")
        gz = self.wants_gzip(q)
        rec = self.record(status=200, encoded=gz)
        self.send_response(200)
        self.send_header("Content-Type", q.get("type", ["application/octet-stream"])[0])
        self.send_header("ETag", '"%s%s"' % (u.path.replace("/", "-"), "-gz" if gz else ""))
        self.send_header("Last-Modified", LAST_MODIFIED)
        if gz:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(s.encoded_length() if gz else s.size))
        self.end_headers()
        self.send_body(rec, s.encoded() if gz else s.blocks())

    def enc(self, path, q):
        plain, packed = text_body(parse_size(path.split("/")[2]))
        lie = q.get("mode", [""])[0] == "lie"
        gz = lie or self.wants_gzip(q)
        body = packed if gz and not lie else plain
        etag = '"enc-%d%s"' % (len(plain), "-gz" if gz else "")
        start = 0
        rng = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        if rng and (not if_range or if_range in (etag, LAST_MODIFIED)) and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
            if start >= len(body):
                self.record(status=416, encoded=gz)
                return self.simple(416, b"", "text/plain")
        status = 206 if start > 0 else 200
        rec = self.record(status=status, encoded=gz)
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", LAST_MODIFIED)
        self.send_header("Accept-Ranges", "bytes")
        if gz:
            self.send_header("Content-Encoding", "gzip")
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(body) - 1, len(body)))
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        stall = int(q.get("stall", ["0"])[0])
        cut = int(q.get("cut", ["0"])[0]) or stall
        with lock:
            if cut and status == 200 and cut_count.get(self.path, 0) < int(q.get("cuts", ["1000000"])[0]):
                cut_count[self.path] = cut_count.get(self.path, 0) + 1
            else:
                cut = 0
        parts = (body[i:i + 65536] for i in range(start, len(body), 65536))
        self.send_body(rec, parts, cut if cut and status == 200 else None, stall > 0)

    def simple(self, status, body, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass                    # a client that hangs up mid-body is what these tests do


def emit(path, encoded):
    u = urlsplit(path)
    q = parse_qs(u.query)
    out = sys.stdout.buffer
    if u.path.startswith("/enc/"):
        plain, packed = text_body(parse_size(u.path.split("/")[2]))
        out.write(packed if encoded else plain)
        return
    s = stream_for(u.path, q)
    for p in (s.encoded() if encoded else s.blocks()):
        out.write(p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file")
    ap.add_argument("--emit")
    ap.add_argument("--emit-encoded")
    a = ap.parse_args()
    if a.emit or a.emit_encoded:
        emit(a.emit or a.emit_encoded, bool(a.emit_encoded))
        return
    srv = Server(("127.0.0.1", 0), Handler)
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
