#!/usr/bin/env python3
"""prom_check.py - a strict reader of the Prometheus text format 0.0.4 for
the metrics test: every line must be a HELP/TYPE comment or a sample, every
sample must belong to a family whose TYPE came before it, label sets must
be well-formed and unique, counters non-negative, and each histogram
coherent (le buckets ascending and cumulative, a +Inf bucket equal to
_count, a _sum).  Prints the samples as JSON: {"name{labels}": value}."""
import json
import math
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
SAMPLE = re.compile(r"^(%s)(?:\{((?:%s)(?:,%s)*,?)?\})? (\S+)(?: (-?\d+))?$"
                    % (NAME, LABEL, LABEL))
HELP = re.compile(r"^# HELP (%s) (.*)$" % NAME)
TYPE = re.compile(r"^# TYPE (%s) (counter|gauge|histogram|summary|untyped)$"
                  % NAME)


def fail(msg):
    sys.exit("prom_check: " + msg)


def value(s):
    if s in ("+Inf", "-Inf", "NaN"):
        return float(s.replace("Inf", "inf").replace("NaN", "nan"))
    try:
        return float(s)
    except ValueError:
        fail("bad value %r" % s)


def main():
    text = sys.stdin.read()
    if not text.endswith("\n"):
        fail("exposition does not end with a newline")
    types, helps, samples, seen_families = {}, {}, {}, []
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("#"):
            m = HELP.match(line) or TYPE.match(line)
            if not m:
                if line.startswith("# HELP") or line.startswith("# TYPE"):
                    fail("line %d: malformed comment: %s" % (n, line))
                continue
            name = m.group(1)
            table = helps if line.startswith("# HELP") else types
            if name in table:
                fail("line %d: second %s for %s" % (n, line[2:6], name))
            if name in seen_families and line.startswith("# TYPE"):
                fail("line %d: TYPE after samples of %s" % (n, name))
            table[name] = m.group(2)
            continue
        if not line:
            fail("line %d: empty line" % n)
        m = SAMPLE.match(line)
        if not m:
            fail("line %d: not a sample: %s" % (n, line))
        name, labels, val = m.group(1), m.group(2) or "", m.group(7)
        family = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and name[: -len(suffix)] in types \
                    and types[name[: -len(suffix)]] == "histogram":
                family = name[: -len(suffix)]
        if family not in types:
            fail("line %d: %s has no TYPE before it" % (n, name))
        seen_families.append(family)
        pairs = re.findall(LABEL, labels)
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            fail("line %d: repeated label" % n)
        key = name + "{" + ",".join('%s="%s"' % p for p in sorted(pairs)) + "}"
        if key in samples:
            fail("line %d: duplicate sample %s" % (n, key))
        v = value(val)
        if types[family] == "counter" and (v < 0 or math.isnan(v)):
            fail("line %d: negative counter" % n)
        samples[key] = v
    # Histograms: per label set (without le), buckets cumulative.
    for fam, t in types.items():
        if t != "histogram":
            continue
        series = {}
        for key, v in samples.items():
            if not key.startswith(fam + "_bucket{"):
                continue
            pairs = re.findall(LABEL, key[len(fam) + 7:])
            le = [p[1] for p in pairs if p[0] == "le"]
            if len(le) != 1:
                fail("%s: bucket without le" % key)
            rest = ",".join('%s="%s"' % p for p in pairs if p[0] != "le")
            series.setdefault(rest, []).append((value(le[0]), v))
        for rest, buckets in series.items():
            buckets.sort()
            if buckets[-1][0] != float("inf"):
                fail("%s{%s}: no +Inf bucket" % (fam, rest))
            counts = [c for _, c in buckets]
            if counts != sorted(counts):
                fail("%s{%s}: buckets not cumulative" % (fam, rest))
            count = samples.get("%s_count{%s}" % (fam, rest))
            if count is None or "%s_sum{%s}" % (fam, rest) not in samples:
                fail("%s{%s}: no _count or _sum" % (fam, rest))
            if count != counts[-1]:
                fail("%s{%s}: +Inf bucket %s != count %s"
                     % (fam, rest, counts[-1], count))
    json.dump(samples, sys.stdout, indent=1, sort_keys=True)


main()
