#!/usr/bin/env python3
"""old_redis: a loopback server speaking just enough RESP to pass for an old Redis (loopback only).

INFO answers "redis_version:VERSION" (--version, default 5.0.7), AUTH and SELECT answer +OK, every
other command -ERR. --port-file F: bind 127.0.0.1:PORT (0: any) and write the port to F.
"""
import argparse
import socketserver


def read_command(f):
    """One RESP array of bulk strings, as clients send commands; None at EOF."""
    line = f.readline()
    if not line.startswith(b"*"):
        return None
    args = []
    for _ in range(int(line[1:])):
        n = int(f.readline()[1:])
        args.append(f.read(n + 2)[:-2])
    return args


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        for _ in range(100):
            args = read_command(self.rfile)
            if not args:
                return
            name = args[0].upper()
            if name == b"INFO":
                body = b"# Server\r\nredis_version:" + self.server.version + b"\r\nredis_mode:standalone\r\n"
                self.wfile.write(b"$%d\r\n%s\r\n" % (len(body), body))
            elif name in (b"AUTH", b"SELECT", b"PING"):
                self.wfile.write(b"+OK\r\n")
            else:
                self.wfile.write(b"-ERR unknown command\r\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--version", default="5.0.7")
    a = ap.parse_args()
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    with socketserver.ThreadingTCPServer(("127.0.0.1", a.port), Handler) as srv:
        srv.daemon_threads = True
        srv.version = a.version.encode()
        if a.port_file:
            with open(a.port_file, "w") as f:
                f.write("%d\n" % srv.server_address[1])
        srv.serve_forever()


if __name__ == "__main__":
    main()
