#!/usr/bin/env python3
"""Turns io_bench's JSON (--benchmark_out) into the tables of bench/results/io.md.

Google Benchmark reports a threads:T run per thread-iteration, and each thread
of io_bench does 1/T of the tree per iteration, so one whole pass over the
tree costs Time x T (wall) and CPU x T (process CPU, io_uring's kernel worker
threads included). Those per-pass numbers are what the tables show.

usage: summarize.py run.json
"""
import json
import re
import sys


def main(path):
    data = json.load(open(path))
    rows = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        m = re.match(r"(BM_\w+)(?:/(\d+))?.*threads:(\d+)", b["run_name"])
        bench, arg, threads = m.group(1), m.group(2), int(m.group(3))
        label = b.get("label") or (f"depth {arg}" if arg else "")
        rows[(bench, threads, label)] = (b["real_time"] * threads,
                                         b["cpu_time"] * threads)
    base = {
        "BM_StatUringStatx": ("BM_StatFstatat", ""),
        "BM_ReadFiles": ("BM_ReadFiles", "posix"),
        "BM_CreateLand": ("BM_CreateLand", "posix"),
        "BM_CreateLandFsync": ("BM_CreateLandFsync", "posix"),
        "BM_StatFstatat": ("BM_StatFstatat", ""),
    }
    print("| benchmark | threads | variant | wall ms/pass | CPU ms/pass | "
          "wall vs base | CPU vs base |")
    print("|---|---|---|---|---|---|---|")
    for (bench, threads, label), (wall, cpu) in sorted(rows.items()):
        bb, bl = base[bench]
        bw, bc = rows.get((bb, threads, bl), (wall, cpu))
        print(f"| {bench} | {threads} | {label or 'fstatat'} | {wall:.1f} | "
              f"{cpu:.1f} | {bw / wall:.2f}x | {bc / cpu:.2f}x |")


if __name__ == "__main__":
    main(sys.argv[1])
