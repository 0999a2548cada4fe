#!/usr/bin/env python3
"""report.py - turns the raw results of tests/bench/run.sh into the table it
prints and the JSON file it writes, and checks the targets of issue 6.

  report.py --meta M.json --systems S.tsv --results R.tsv [--times T.tsv]
            --json OUT.json
  report.py --fio-field read.iops FIO.json     (helpers for run.sh)
  report.py --json-field create MDBENCH.json

Every figure is a rate (higher is better), so "x local" is flexfs / local
directory and "x best peer" is the figure over the best comparable peer:
s3fs or rclone for rows reached through a FUSE mount, nfs-ganesha for rows
reached through the NFSv4 client (libnfs)."""
import argparse
import json
import sys

SYSTEMS = ["local", "flexfs", "flexfs-s3", "s3fs", "rclone", "s3max", "ganesha",
           "flexfs-nfs"]
NAMES = {
    "local": "local dir",
    "flexfs": "flexfs (local blocks)",
    "flexfs-s3": "flexfs (S3)",
    "s3fs": "s3fs-fuse",
    "rclone": "rclone mount",
    "s3max": "S3 server alone",
    "ganesha": "nfs-ganesha (libnfs)",
    "flexfs-nfs": "flexfs gw NFSv4 (libnfs)",
}
PEERS = {"fuse": ["s3fs", "rclone"], "nfs": ["ganesha"]}


def access(system):
    return "nfs" if system in ("ganesha", "flexfs-nfs") else "fuse"


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def fmt(v):
    if v is None:
        return "-"
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def read_tsv(path, ncols):
    rows = []
    try:
        with open(path) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                parts += [""] * (ncols - len(parts))
                rows.append(parts[:ncols])
    except FileNotFoundError:
        pass
    return rows


def field(doc, dotted):
    """A value from fio's JSON: jobs[0].<dotted> (group_reporting)."""
    v = doc["jobs"][0]
    for k in dotted.split("."):
        v = v[k]
    return v


def build(args):
    meta = json.load(open(args.meta))
    systems = {}
    for name, state, reason in read_tsv(args.systems, 3):
        systems[name] = {"status": state, "reason": reason}
    times = {r[1]: num(r[2]) for r in read_tsv(args.times, 3)} if args.times else {}

    order, labels, rows = [], {}, {}
    for wid, label, system, value, unit, secs, note in read_tsv(args.results, 7):
        if wid not in labels:
            order.append(wid)
            labels[wid] = ""
        if label and not labels[wid]:
            labels[wid] = label
        rows.setdefault(wid, {})[system] = {
            "value": value, "unit": unit, "seconds": num(secs), "note": note}

    results = []
    for wid in order:
        by = rows[wid]
        local = num(by.get("local", {}).get("value"))
        best = {}
        for kind, peers in PEERS.items():
            cands = [(num(by[p]["value"]), p) for p in peers
                     if p in by and num(by[p]["value"]) is not None]
            best[kind] = max(cands) if cands else (None, None)
        for system in SYSTEMS:
            if system not in systems:
                continue
            r = by.get(system)
            if r is None:
                # Rows only for systems the workload applies to (the NFS
                # systems run only mdbench) that could not run it.
                st = systems[system]
                if st["status"] == "ok" or (access(system) == "nfs") != wid.startswith("md-") \
                        or (system == "s3max" and not wid.startswith("seq-")):
                    continue
                r = {"value": "", "unit": "", "seconds": None,
                     "note": st["reason"] or "not run"}
            v = num(r["value"])
            bv, bp = best[access(system)]
            results.append({
                "id": wid, "label": labels[wid], "system": system,
                "value": v if v is not None else (r["value"] or None),
                "unit": r["unit"] or next((x["unit"] for x in by.values() if x["unit"]), ""),
                "seconds": r["seconds"], "note": r["note"],
                "x_local": v / local if v is not None and local else None,
                "x_best_peer": v / bv if v is not None and bv else None,
                "best_peer": bp,
            })
    return meta, systems, times, order, labels, results


def value_of(results, wid, system):
    for r in results:
        if r["id"] == wid and r["system"] == system:
            return r["value"]
    return None


def targets(results, order):
    out = []

    def check(name, a, b, factor, what):
        va, vb = num(value_of(results, *a)), num(value_of(results, *b))
        if isinstance(b[1], list):
            vals = [num(value_of(results, b[0], s)) for s in b[1]]
            vals = [v for v in vals if v is not None]
            vb = max(vals) if vals else None
        if va is None or vb is None or vb == 0:
            out.append({"target": name, "check": what, "ratio": None,
                        "threshold": factor, "status": "n/a"})
            return
        ratio = va / vb
        out.append({"target": name, "check": what, "ratio": ratio, "threshold": factor,
                    "status": "met" if ratio >= factor else "not met"})

    seq = [w for w in ("seq-write-1j", "seq-read-1j", "seq-write-4j", "seq-read-4j") if w in order]
    for w in seq:
        check("flexfs local blocks >= 0.8x local dir", (w, "flexfs"), (w, "local"), 0.8,
              "%s: flexfs / local dir" % w)
    for w in seq:
        check("flexfs on S3 >= 2x best of s3fs, rclone", (w, "flexfs-s3"),
              (w, ["s3fs", "rclone"]), 2.0, "%s: flexfs-s3 / best(s3fs, rclone)" % w)
    for w in seq:
        # How close each S3 client comes to what the server alone delivers.
        top = num(value_of(results, w, "s3max"))
        if top:
            parts = []
            for sysname in ("flexfs-s3", "s3fs", "rclone"):
                v = num(value_of(results, w, sysname))
                if v is not None:
                    parts.append("%s %.2f" % (sysname, v / top))
            out.append({"target": "share of the S3 server alone (storetool, 8 streams)",
                        "check": "%s: %s" % (w, ", ".join(parts)), "ratio": None,
                        "threshold": None, "status": "info"})
    if "rand-write" in order:
        v = num(value_of(results, "rand-write", "flexfs-s3"))
        ok = value_of(results, "rand-verify", "flexfs-s3")
        out.append({"target": "flexfs on S3: random 4k writes work", "check":
                    "rand-write flexfs-s3 = %s IOPS, verify after remount: %s" % (fmt(v), ok),
                    "ratio": None, "threshold": None,
                    "status": "met" if v and ok == "ok" else ("n/a" if v is None else "not met")})
    for w in order:
        if w.startswith("md-") and w.rsplit("-", 1)[1] in ("create", "stat", "readdir"):
            check("NFSv4 metadata (libnfs) >= nfs-ganesha", (w, "flexfs-nfs"), (w, "ganesha"),
                  1.0, "%s: flexfs gw / ganesha" % w)
    for w in ("small-cp", "small-cppar"):
        if w in order:
            check("small-file copy-in >= 5x s3fs", (w, "flexfs-s3"), (w, "s3fs"), 5.0,
                  "%s: flexfs-s3 / s3fs" % w)
            check("small-file copy-in >= 5x s3fs (info: local blocks)", (w, "flexfs"),
                  (w, "s3fs"), 5.0, "%s: flexfs (local blocks) / s3fs" % w)
    return out


def table(meta, systems, times, order, labels, results, tg):
    lines = []
    mem = meta.get("mem_kib", 0) / (1 << 20)
    lines.append("flexfs benchmark  %s  %s cores, %.0f GiB, kernel %s, %s" % (
        meta.get("date", ""), meta.get("host_cores", "?"), mem, meta.get("kernel", ""),
        meta.get("flexfs_version", "")))
    o = meta.get("options", {})
    lines.append("sizes: seq %s, random %s (cap %ss), metadata %s files (%s dirs, threads %s), "
                 "small files %s, big dir %s, S3 server processes %s" % (
                     o.get("seq_size"), o.get("rand_size"), o.get("rand_runtime"),
                     o.get("md_files"), o.get("md_dirs"), o.get("md_threads"),
                     o.get("small_files"), o.get("big_files"), o.get("s3_workers", 1)))
    if meta.get("load_start"):
        lines.append("load average at start %s, at end %s (other work on the machine skews figures)" % (
            meta["load_start"], meta.get("load_end", "?")))
    down = ["%s: %s" % (NAMES[s], systems[s]["reason"]) for s in SYSTEMS
            if s in systems and systems[s]["status"] != "ok"]
    if down:
        lines.append("systems not measured: " + "; ".join(down))
    lines.append("")
    w1, w2 = 26, 16
    head = "%-*s %*s  %8s  %11s  %s" % (w1, "system", w2, "result", "x local", "x best peer", "note")
    lines.append(head)
    lines.append("-" * 100)
    for wid in order:
        lines.append(labels[wid] or wid)
        for r in results:
            if r["id"] != wid:
                continue
            v = r["value"]
            if isinstance(v, float):
                res = "%s %s" % (fmt(v), r["unit"])
            elif v:
                res = str(v)
            else:
                res = "n/a"
            note = r["note"] or ""
            if r["x_best_peer"] is not None and r["system"] not in PEERS[access(r["system"])]:
                note = ("vs %s" % r["best_peer"]) + ("; " + note if note else "")
            lines.append("  %-*s %*s  %8s  %11s  %s" % (
                w1 - 2, NAMES[r["system"]], w2, res,
                fmt(r["x_local"]) if r["x_local"] is not None else "-",
                fmt(r["x_best_peer"]) if r["x_best_peer"] is not None else "-",
                note[:120]))
    lines.append("")
    lines.append("targets of issue 6")
    for t in tg:
        mark = {"met": "MET    ", "not met": "NOT MET", "n/a": "n/a    ",
                "info": "info   "}[t["status"]]
        extra = ""
        if t["ratio"] is not None:
            extra = " = %.2f (need >= %s)" % (t["ratio"], t["threshold"])
        lines.append("  [%s] %s: %s%s" % (mark, t["target"], t["check"], extra))
    if times:
        lines.append("")
        lines.append("time per workload: " + ", ".join(
            "%s %.0f s" % (k, v) for k, v in times.items() if v is not None) +
            "; total %.0f s" % meta.get("total_seconds", 0))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fio-field", nargs=2, metavar=("FIELD", "FILE"))
    ap.add_argument("--json-field", nargs=2, metavar=("FIELD", "FILE"))
    ap.add_argument("--meta")
    ap.add_argument("--systems")
    ap.add_argument("--results")
    ap.add_argument("--times")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.fio_field:
        text = open(args.fio_field[1]).read()
        # fio may print warnings before its JSON.
        doc = json.loads(text[text.index("{"):])
        print(field(doc, args.fio_field[0]))
        return 0
    if args.json_field:
        print(json.load(open(args.json_field[1]))[args.json_field[0]])
        return 0
    if not (args.meta and args.systems and args.results and args.json):
        ap.error("--meta, --systems, --results and --json are needed")
    meta, systems, times, order, labels, results = build(args)
    tg = targets(results, order)
    print(table(meta, systems, times, order, labels, results, tg))
    with open(args.json, "w") as f:
        json.dump({"meta": meta, "systems": systems, "workload_seconds": times,
                   "results": results, "targets": tg}, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
