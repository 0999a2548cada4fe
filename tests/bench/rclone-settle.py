#!/usr/bin/env python3
"""rclone-settle.py - waits until rclone mount has uploaded what was written
through it, and prints when that happened (seconds since the epoch).

  rclone-settle.py LOG START WRITER_END TIMEOUT

rclone (--vfs-cache-mode writes) acknowledges writes and closes at once and
uploads afterwards, so for the bench a write is done only when its data is
in the store.  rclone's own vfs/stats counters are refreshed only by its
cache cleaner (once a minute), so this follows its log instead (run with
--log-level INFO --log-format date,time,microseconds): every file it queues
for upload after START must be followed by "Copied (...)" for that file.
FUSE delivers the release that queues the upload after close() returns, so
the log must also stay quiet (nothing pending) for a moment after
WRITER_END.  Prints max(WRITER_END, last upload) or exits 1 on TIMEOUT."""
import datetime
import sys
import time

QUIET = 1.5


def stamp(line):
    try:
        return datetime.datetime.strptime(line[:26], "%Y/%m/%d %H:%M:%S.%f").timestamp()
    except ValueError:
        return None


def scan(log, start):
    """Returns (files still pending upload, time of the last upload)."""
    pending, last = set(), None
    with open(log, errors="replace") as f:
        for line in f:
            ts = stamp(line)
            if ts is None or ts < start:
                continue
            rest = line[26:]
            if ": " not in rest:
                continue
            body = rest.split(" : ", 1)[-1]
            name, _, what = body.partition(": ")
            if what.startswith("vfs cache: queuing for upload"):
                pending.add(name)
            elif what.startswith("Copied ("):
                pending.discard(name)
                last = ts if last is None or ts > last else last
    return pending, last


def main():
    log, start, wend, timeout = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    deadline = time.time() + timeout
    quiet_since = None
    while True:
        pending, last = scan(log, start)
        now = time.time()
        if not pending and now - wend >= QUIET:
            if quiet_since is None:
                quiet_since = now
            if now - quiet_since >= QUIET:
                break
        else:
            quiet_since = None
        if now > deadline:
            print("rclone-settle: %d files still uploading" % len(pending), file=sys.stderr)
            return 1
        time.sleep(0.2)
    print("%.6f" % max(wend, last or wend))
    return 0


if __name__ == "__main__":
    sys.exit(main())
