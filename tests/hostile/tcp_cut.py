#!/usr/bin/env python3
"""tcp_cut: a TCP proxy to one upstream (e.g. a redis-server) that cuts every connection on demand.

It forwards bytes both ways between each client and a connection of its own to --to HOST:PORT.
On SIGUSR1 it resets every open connection at once (SO_LINGER 0, so both peers get a RST, not a
FIN: the network failing, not the server closing), then refuses every new connection (accepted
and reset) for --refuse-ms milliseconds, as a short partition would. Each cut is logged on stderr
as `cut N` (N connections reset) and counted in the --count-file, if given, which holds the total
number of connections cut so far.

    tcp_cut.py --to HOST:PORT [--host 127.0.0.1] [--port 0] [--port-file FILE]
               [--refuse-ms MS] [--count-file FILE]

Binds only to --host (loopback). Writes the port it listens on to stdout and --port-file (whole,
with a newline, once listening). SIGTERM or SIGINT stops it; it exits 0.
"""
import argparse
import os
import selectors
import signal
import socket
import struct
import sys
import time

CHUNK = 65536


def reset(sock):
    """Close sock with a RST (linger on, timeout 0)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def write_atomically(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--to", required=True)
    ap.add_argument("--refuse-ms", type=int, default=0)
    ap.add_argument("--count-file")
    args = ap.parse_args()
    up_host, up_port = args.to.rsplit(":", 1)
    up_port = int(up_port)

    cut_wanted = False
    stop = False

    def on_usr1(signum, frame):
        nonlocal cut_wanted
        cut_wanted = True

    def on_stop(signum, frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGUSR1, on_usr1)
    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)

    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((args.host, args.port))
    lsock.listen(256)
    lsock.setblocking(False)
    port = lsock.getsockname()[1]
    print(port, flush=True)
    if args.port_file:
        write_atomically(args.port_file, "%d\n" % port)

    sel = selectors.DefaultSelector()
    sel.register(lsock, selectors.EVENT_READ, None)
    peer = {}             # socket -> the socket its bytes go to
    refuse_until = 0.0
    total_cut = 0

    def drop(sock):
        other = peer.pop(sock, None)
        for s in (sock, other):
            if s is None:
                continue
            peer.pop(s, None)
            try:
                sel.unregister(s)
            except (KeyError, ValueError):
                pass
            s.close()

    while not stop:
        if cut_wanted:
            cut_wanted = False
            socks = list(peer)
            for s in socks:
                try:
                    sel.unregister(s)
                except (KeyError, ValueError):
                    pass
                reset(s)
            peer.clear()
            n = len(socks) // 2
            total_cut += n
            refuse_until = time.monotonic() + args.refuse_ms / 1000.0
            print("cut %d" % n, file=sys.stderr, flush=True)
            if args.count_file:
                write_atomically(args.count_file, "%d\n" % total_cut)
        try:
            events = sel.select(timeout=0.05)
        except InterruptedError:
            continue
        for key, _ in events:
            sock = key.fileobj
            if sock is lsock:
                try:
                    client, _ = lsock.accept()
                except (BlockingIOError, InterruptedError):
                    continue
                if time.monotonic() < refuse_until:
                    reset(client)
                    continue
                try:
                    upstream = socket.create_connection((up_host, up_port), timeout=5)
                except OSError:
                    reset(client)
                    continue
                for s in (client, upstream):
                    s.setblocking(False)
                    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                peer[client] = upstream
                peer[upstream] = client
                sel.register(client, selectors.EVENT_READ, None)
                sel.register(upstream, selectors.EVENT_READ, None)
                continue
            if sock not in peer:
                continue
            try:
                data = sock.recv(CHUNK)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                drop(sock)
                continue
            try:
                # small replies and commands: a blocking send of what came in is enough here
                other = peer[sock]
                other.setblocking(True)
                other.sendall(data)
                other.setblocking(False)
            except OSError:
                drop(sock)
    for s in list(peer):
        s.close()
    lsock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
