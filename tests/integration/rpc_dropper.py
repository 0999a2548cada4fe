#!/usr/bin/env python3
"""rpc_dropper.py - a TCP proxy between mount.flexfs and the gateway, for
tests: once the file ARM exists, it drops the reply to the next call of
procedure PROC (the gateway did the work; the client never hears of it)
and then refuses new connections for HOLD seconds.

    rpc_dropper.py --listen-port-file F --gateway PORT --proc N --arm FILE
                   --hold SECS

Only 127.0.0.1.  Writes its port to F once listening."""
import argparse
import os
import socket
import struct
import threading
import time


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        got = s.recv(n - len(buf))
        if not got:
            raise EOFError
        buf += got
    return buf


def read_record(s):
    """One RPC record (all fragments): (raw bytes to forward, body)."""
    raw, body = b"", b""
    while True:
        hdr = recv_exact(s, 4)
        n = struct.unpack(">I", hdr)[0]
        frag = recv_exact(s, n & 0x7FFFFFFF)
        raw += hdr + frag
        body += frag
        if n & 0x80000000:
            return raw, body


class Dropper:
    def __init__(self, args):
        self.args = args
        self.fired = False
        self.refuse_until = 0.0
        self.lock = threading.Lock()

    def close_both(self, a, b):
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def client_to_gateway(self, c, g, watched):
        try:
            while True:
                raw, body = read_record(c)
                xid, mtype = struct.unpack(">II", body[:8])
                if mtype == 0 and struct.unpack(">I", body[20:24])[0] == \
                        self.args.proc:
                    watched.add(xid)
                g.sendall(raw)
        except (EOFError, OSError):
            pass
        self.close_both(c, g)

    def gateway_to_client(self, c, g, watched):
        try:
            while True:
                raw, body = read_record(g)
                xid = struct.unpack(">I", body[:4])[0]
                with self.lock:
                    drop = (xid in watched and not self.fired and
                            os.path.exists(self.args.arm))
                    if drop:
                        self.fired = True
                        self.refuse_until = time.time() + self.args.hold
                if drop:
                    print("dropped the reply to xid %#x" % xid, flush=True)
                    break
                c.sendall(raw)
        except (EOFError, OSError):
            pass
        self.close_both(c, g)

    def serve(self, conn):
        with self.lock:
            refuse = time.time() < self.refuse_until
        if refuse:
            conn.close()
            return
        g = socket.create_connection(("127.0.0.1", self.args.gateway))
        watched = set()
        for f in (self.client_to_gateway, self.gateway_to_client):
            threading.Thread(target=f, args=(conn, g, watched),
                             daemon=True).start()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--listen-port-file", required=True)
    p.add_argument("--gateway", type=int, required=True)
    p.add_argument("--proc", type=int, required=True)
    p.add_argument("--arm", required=True)
    p.add_argument("--hold", type=float, required=True)
    args = p.parse_args()
    d = Dropper(args)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    tmp = args.listen_port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(ls.getsockname()[1]))
    os.rename(tmp, args.listen_port_file)
    while True:
        conn, _ = ls.accept()
        d.serve(conn)


if __name__ == "__main__":
    main()
