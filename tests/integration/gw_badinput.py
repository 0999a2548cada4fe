#!/usr/bin/env python3
"""gw_badinput.py - malformed ONC RPC traffic against flexfs-gatewayd.

Usage: gw_badinput.py PORT GATEWAY-PID

Each case sends something broken on its own connection and checks the
answer the RPC rules call for (an error reply, or a closed connection when
not even the call header can be read).  After every case a well-formed
client on a fresh connection must still be served (MOUNT, GETATTR of the
root) and the gateway process must be alive.  Exits 0 when all pass.
Python standard library only; talks to 127.0.0.1 only.
"""
import os
import random
import socket
import struct
import sys

FLEXFS_PROG = 0x2046580A
FXPROC_NULL, FXPROC_MOUNT, FXPROC_LOOKUP, FXPROC_GETATTR = 0, 1, 4, 5
AUTH_NONE, AUTH_SYS = 0, 1
MSG_ACCEPTED, MSG_DENIED = 0, 1
SUCCESS, PROG_UNAVAIL, PROG_MISMATCH, PROC_UNAVAIL, GARBAGE_ARGS = 0, 1, 2, 3, 4
RPC_MISMATCH, AUTH_ERROR = 0, 1
AUTH_BADCRED = 1
ENAMETOOLONG = 36
MAX_RECORD = (2 << 20) + (64 << 10)
TIMEOUT = 10.0

PORT = 0
PID = 0
xid_counter = [1000]


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def u32(v):
    return struct.pack(">I", v & 0xFFFFFFFF)


def u64(v):
    return struct.pack(">Q", v)


def opaque(b):
    pad = (4 - len(b) % 4) % 4
    return u32(len(b)) + b + b"\0" * pad


def call(prog, vers, proc, args=b"", xid=None, rpcvers=2, cred=None):
    if xid is None:
        xid_counter[0] += 1
        xid = xid_counter[0]
    if cred is None:
        cred = u32(AUTH_NONE) + u32(0)
    return xid, (u32(xid) + u32(0) + u32(rpcvers) + u32(prog) + u32(vers) +
                 u32(proc) + cred + u32(AUTH_NONE) + u32(0) + args)


def record(body, last=True):
    return u32((0x80000000 if last else 0) | len(body)) + body


def connect():
    s = socket.create_connection(("127.0.0.1", PORT), timeout=TIMEOUT)
    s.settimeout(TIMEOUT)
    return s


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    return buf


def read_record(s):
    data = b""
    while True:
        (h,) = struct.unpack(">I", recv_exact(s, 4))
        data += recv_exact(s, h & 0x7FFFFFFF)
        if h & 0x80000000:
            return data


class Reply:
    """A decoded reply header; body is what follows (the results)."""

    def __init__(self, data):
        self.xid, mtype, self.stat = struct.unpack(">III", data[:12])
        check(mtype == 1, "reply is not a REPLY")
        off = 12
        self.accept = self.reject = self.why = None
        self.low = self.high = None
        if self.stat == MSG_ACCEPTED:
            _flavor, vlen = struct.unpack(">II", data[off:off + 8])
            off += 8 + ((vlen + 3) & ~3)
            (self.accept,) = struct.unpack(">I", data[off:off + 4])
            off += 4
            if self.accept == PROG_MISMATCH:
                self.low, self.high = struct.unpack(">II", data[off:off + 8])
                off += 8
        else:
            (self.reject,) = struct.unpack(">I", data[off:off + 4])
            off += 4
            if self.reject == RPC_MISMATCH:
                self.low, self.high = struct.unpack(">II", data[off:off + 8])
                off += 8
            else:
                (self.why,) = struct.unpack(">I", data[off:off + 4])
                off += 4
        self.body = data[off:]


def roundtrip(s, xid, body):
    s.sendall(record(body))
    r = Reply(read_record(s))
    check(r.xid == xid, "reply xid %d for call %d" % (r.xid, xid))
    return r


def closed_by_server(s):
    """True when the server closes the connection (reading only EOF)."""
    try:
        while True:
            if not s.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def still_serving():
    check(PID == 0 or os.path.exists("/proc/%d" % PID), "gateway process gone")
    with open("/proc/%d/stat" % PID) as f:
        state = f.read().rsplit(")", 1)[1].split()[0]
    check(state != "Z", "gateway process is a zombie")
    s = connect()
    xid, body = call(FLEXFS_PROG, 1, FXPROC_MOUNT, opaque(b"") + opaque(b"badinput"))
    r = roundtrip(s, xid, body)
    check(r.stat == MSG_ACCEPTED and r.accept == SUCCESS, "MOUNT not served")
    status, session, lease, root = struct.unpack(">iQIQ", r.body[:24])
    check(status == 0, "MOUNT status %d" % status)
    xid, body = call(FLEXFS_PROG, 1, FXPROC_GETATTR, u64(root))
    r = roundtrip(s, xid, body)
    (status,) = struct.unpack(">i", r.body[:4])
    check(status == 0, "GETATTR of the root: status %d" % status)
    s.close()


# ---- the cases ----

def case_random_stream():
    rnd = random.Random(1234)
    s = connect()
    try:
        s.sendall(bytes(rnd.getrandbits(8) for _ in range(65536)))
    except (BrokenPipeError, ConnectionResetError):
        pass
    check(closed_by_server(s), "random bytes: connection left open")
    s.close()


def case_random_record():
    rnd = random.Random(99)
    junk = bytearray(rnd.getrandbits(8) for _ in range(4096))
    junk[4:8] = u32(0xDEADBEEF)            # not a CALL
    s = connect()
    s.sendall(record(bytes(junk)))
    check(closed_by_server(s), "random record: connection left open")
    s.close()


def case_truncated_record():
    s = connect()
    _xid, body = call(FLEXFS_PROG, 1, FXPROC_NULL)
    s.sendall(u32(0x80000000 | 1000) + body)     # promises 1000 bytes
    s.close()
    s = connect()
    s.sendall(record(body)[:10])                  # cut inside the header
    s.close()


def case_truncated_header():
    xid, body = call(FLEXFS_PROG, 1, FXPROC_NULL)
    s = connect()
    s.sendall(record(body[:30]))                  # ends inside the credential
    check(closed_by_server(s), "undecodable header: connection left open")
    s.close()


def case_oversized_record():
    s = connect()
    s.sendall(u32(0x80000000 | 0x7FFFFFFF))
    check(closed_by_server(s), "2 GiB record header: connection left open")
    s.close()
    # Fragments that only together exceed the limit.
    s = connect()
    frag = b"\0" * (1 << 20)
    try:
        for _ in range(4):
            s.sendall(record(frag, last=False))
    except (BrokenPipeError, ConnectionResetError):
        pass
    check(closed_by_server(s), "oversized fragments: connection left open")
    s.close()


def case_unknown_program():
    s = connect()
    xid, body = call(0x20000123, 1, 0)
    r = roundtrip(s, xid, body)
    check(r.stat == MSG_ACCEPTED and r.accept == PROG_UNAVAIL,
          "unknown program: stat %s accept %s" % (r.stat, r.accept))
    xid, body = call(FLEXFS_PROG, 9, 0)
    r = roundtrip(s, xid, body)
    check(r.accept == PROG_MISMATCH and r.low == 1 and r.high == 1,
          "unknown version: accept %s low %s high %s" % (r.accept, r.low, r.high))
    s.close()


def case_unknown_procedure():
    s = connect()
    for proc in (500, 999, 0xFFFFFFFF):
        xid, body = call(FLEXFS_PROG, 1, proc)
        r = roundtrip(s, xid, body)
        check(r.stat == MSG_ACCEPTED and r.accept == PROC_UNAVAIL,
              "procedure %d: accept %s" % (proc, r.accept))
    s.close()


def case_garbage_args():
    s = connect()
    cases = [
        (FXPROC_GETATTR, b"\1\2"),                        # short
        (FXPROC_LOOKUP, u64(1) + u32(0xFFFFFFFF)),        # absurd name length
        (FXPROC_LOOKUP, u64(1) + u32(100) + b"abc"),      # name cut short
        (FXPROC_MOUNT, u32(5000) + b"x" * 5000),          # volume over 255
    ]
    for proc, args in cases:
        xid, body = call(FLEXFS_PROG, 1, proc, args)
        r = roundtrip(s, xid, body)
        check(r.stat == MSG_ACCEPTED and r.accept == GARBAGE_ARGS,
              "garbage args to %d: accept %s" % (proc, r.accept))
    s.close()


def case_long_names():
    s = connect()
    xid, body = call(FLEXFS_PROG, 1, FXPROC_MOUNT, opaque(b"") + opaque(b"x"))
    r = roundtrip(s, xid, body)
    root = struct.unpack(">iQIQ", r.body[:24])[3]
    # 5000 bytes: over the wire limit of 4096, so the arguments are garbage.
    xid, body = call(FLEXFS_PROG, 1, FXPROC_LOOKUP, u64(root) + opaque(b"n" * 5000))
    r = roundtrip(s, xid, body)
    check(r.accept == GARBAGE_ARGS, "5000-byte name: accept %s" % r.accept)
    # 300 bytes: decodes, and the core says ENAMETOOLONG.
    xid, body = call(FLEXFS_PROG, 1, FXPROC_LOOKUP, u64(root) + opaque(b"n" * 300))
    r = roundtrip(s, xid, body)
    check(r.accept == SUCCESS, "300-byte name: accept %s" % r.accept)
    (status,) = struct.unpack(">i", r.body[:4])
    check(status == ENAMETOOLONG, "300-byte name: status %d" % status)
    s.close()


def case_rpc_version_and_auth():
    s = connect()
    xid, body = call(FLEXFS_PROG, 1, 0, rpcvers=3)
    r = roundtrip(s, xid, body)
    check(r.stat == MSG_DENIED and r.reject == RPC_MISMATCH and
          r.low == 2 and r.high == 2, "RPC version 3 not refused")
    xid, body = call(FLEXFS_PROG, 1, 0, cred=u32(AUTH_SYS) + opaque(b"\xff" * 8))
    r = roundtrip(s, xid, body)
    check(r.stat == MSG_DENIED and r.reject == AUTH_ERROR and
          r.why == AUTH_BADCRED, "bad AUTH_SYS body not refused")
    xid, body = call(FLEXFS_PROG, 1, 0, cred=u32(AUTH_SYS) + u32(100000))
    r = roundtrip(s, xid, body)
    check(r.reject == AUTH_ERROR and r.why == AUTH_BADCRED,
          "oversized credential not refused")
    s.close()


def case_many_half_open():
    socks = []
    for _ in range(200):
        s = connect()
        s.sendall(u32(0x80000000 | 500) + b"\0" * 20)   # never finished
        socks.append(s)
    still_serving()
    for s in socks:
        s.close()


CASES = [
    case_random_stream, case_random_record, case_truncated_record,
    case_truncated_header, case_oversized_record, case_unknown_program,
    case_unknown_procedure, case_garbage_args, case_long_names,
    case_rpc_version_and_auth, case_many_half_open,
]


def main():
    global PORT, PID
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    PORT, PID = int(sys.argv[1]), int(sys.argv[2])
    still_serving()
    failed = 0
    for case in CASES:
        try:
            case()
            still_serving()
            print("ok   %s" % case.__name__[5:])
        except (Fail, EOFError, OSError) as e:
            print("FAIL %s: %s" % (case.__name__[5:], e))
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
