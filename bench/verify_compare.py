#!/usr/bin/env python3
"""Verify throughput: `ferry verify` vs `xxhsum` vs `rsync -c --dry-run` on one tree.

    python3 bench/verify_compare.py --ferry build/release/cli/ferry \
        [--workload account] [--files N] [--size-mib M] [--jobs 1,0]
        [--runs 5] [--out bench/results/verify.md] [--workdir DIR]
        [--remote-standin tests/remote_shell_standin.sh]

Generates SRC once (gen_workload.py), copies it to DST with `ferry sync`, reads
both trees once (warm page cache), then times, interleaved with the order
rotating each run:
  ferry verify -j N   `ferry verify --jobs N SRC/ DST/` for each N of --jobs
                      (0 = ferry's default: all cores); must exit 0
  ferry verify remote `ferry verify -e STANDIN --remote-ferry FERRY SRC/ host:DST/`
                      (with --remote-standin): DST walked and hashed by a second
                      ferry process (`serve --verify-side`) over pipes, as over
                      ssh minus the network; must exit 0
  xxhsum serial       `find SRC DST -type f -print0 | xargs -0 xxhsum -H2`:
                      XXH128 of the same files, one file after another
  rsync -c dry run    `rsync -aHAXc --dry-run --itemize-changes --delete SRC/ DST/`:
                      must print nothing
The report gives the median wall time, min-max, the throughput over the bytes
of both trees' regular files, the ratio to serial xxhsum and to rsync, median
user+sys CPU, and the median peak RSS (/usr/bin/time %M). Reuses compare.py's
helpers (timing, machine description, cache warming).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import compare as cmp  # noqa: E402  (bench/compare.py: shared helpers)


class Tool:
    def __init__(self, name: str, argv: list[str], shown: str, check):
        self.name, self.argv, self.shown, self.check = name, argv, shown, check


def cell(text: str) -> str:
    """Text for a markdown table cell: a '|' would end the cell."""
    return text.replace("|", "\\|")


def ferry_ok(run: cmp.Run, out: str) -> str | None:
    if run.rc != 0:
        return f"exit status {run.rc} (0 means identical)"
    return None


def rsync_ok(run: cmp.Run, out: str) -> str | None:
    if run.rc != 0:
        return f"exit status {run.rc}"
    if out.strip():
        return "printed differences:\n" + "\n".join(out.splitlines()[:20])
    return None


def xxhsum_ok(run: cmp.Run, out: str) -> str | None:
    return None if run.rc == 0 else f"exit status {run.rc}"


def make_tools(args, src: str, dst: str) -> list[Tool]:
    tools = []
    extra = shlex.split(args.ferry_args)
    for j in args.jobs:
        label = f"ferry verify -j {j}" if j else "ferry verify (default jobs)"
        argv = [args.ferry, "verify"] + (["--jobs", str(j)] if j else []) + extra + [src + "/", dst + "/"]
        shown = "ferry verify " + (f"--jobs {j} " if j else "") + (" ".join(extra) + " " if extra else "") + "SRC/ DST/"
        tools.append(Tool(label, argv, shown, ferry_ok))
    if args.remote_standin:
        sa = os.path.abspath(args.remote_standin)
        argv = [args.ferry, "verify", "-e", sa, "--remote-ferry", args.ferry] + extra + \
            [src + "/", "benchhost:" + dst + "/"]
        shown = "ferry verify -e STANDIN " + (" ".join(extra) + " " if extra else "") + "SRC/ host:DST/"
        tools.append(Tool("ferry verify remote DST", argv, shown, ferry_ok))
    xx = f"find {shlex.quote(src)} {shlex.quote(dst)} -type f -print0 | xargs -0 xxhsum -H2"
    tools.append(Tool("xxhsum serial", ["sh", "-c", xx],
                      "find SRC DST -type f -print0 | xargs -0 xxhsum -H2", xxhsum_ok))
    rs = ["rsync", "-aHAXc", "--dry-run", "--itemize-changes", "--delete"]
    tools.append(Tool("rsync -c dry run", rs + [src + "/", dst + "/"], shlex.join(rs) + " SRC/ DST/", rsync_ok))
    return tools


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ferry", required=True, help="path to the ferry binary")
    ap.add_argument("--workload", default="account", help="maildir|web|db|account (gen_workload.py --kind)")
    ap.add_argument("--files", type=int, default=20000, help="gen_workload.py --files")
    ap.add_argument("--size-mib", type=int, default=256, help="gen_workload.py --size-mib (db, account)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", default="1,0", help="comma-separated ferry --jobs values; 0 = default (all cores)")
    ap.add_argument("--ferry-args", default="", help="extra arguments for every ferry verify, e.g. '--io=posix'")
    ap.add_argument("--remote-standin", default="",
                    help="also time verify with DST remote through this ssh stand-in "
                         "(tests/remote_shell_standin.sh)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "verify.md"))
    ap.add_argument("--workdir", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "ferry-verify-bench"))
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    args.ferry = os.path.abspath(args.ferry)
    args.jobs = [int(j) for j in args.jobs.split(",") if j.strip()]
    if not os.access(args.ferry, os.X_OK):
        sys.exit(f"{args.ferry}: not executable")
    wd = os.path.abspath(args.workdir)
    src, dst, logdir = os.path.join(wd, "src"), os.path.join(wd, "dst"), os.path.join(wd, "logs")
    cmp.rm_rf(wd)
    os.makedirs(logdir)

    gen = [sys.executable, os.path.join(HERE, "gen_workload.py"), src, "--kind", args.workload,
           "--seed", str(args.seed)]
    if args.workload != "db":
        gen += ["--files", str(args.files)]
    if args.workload in ("db", "account"):
        gen += ["--size-mib", str(args.size_mib)]
    cmp.log(f"generating: {shlex.join(gen)}")
    gsum = json.loads(cmp.sh(gen, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    cmp.sh([args.ferry, "sync", "--no-progress", src + "/", dst + "/"])
    cmp.flush_writeback()
    counts = cmp.tree_counts(src)
    both_bytes = 2 * counts["bytes"]
    cmp.log(f"{counts['files']} files, {counts['dirs']} dirs, {cmp.human(counts['bytes'])} per tree")
    cmp.warm_read(src)
    cmp.warm_read(dst)

    tools = make_tools(args, src, dst)
    res: dict[str, list[cmp.Run]] = {t.name: [] for t in tools}
    load0 = os.getloadavg()
    for r in range(args.runs):
        k = r % len(tools)
        for t in tools[k:] + tools[:k]:
            tag = f"{t.name.replace(' ', '_').replace('(', '').replace(')', '')}.{r}"
            run = cmp.timed(t.argv, logdir, tag)
            with open(os.path.join(logdir, f"{tag}.out"), errors="replace") as f:
                out = f.read()
            run.fail = t.check(run, out)
            res[t.name].append(run)
            cmp.log(f"run {r + 1}/{args.runs} {t.name:28s} {run.wall:8.3f} s  "
                    f"rss {run.rss_kib or 0:>8} KiB  {'ok' if run.fail is None else 'FAIL: ' + run.fail}")
    load1 = os.getloadavg()

    def med(name: str) -> float | None:
        ok = [x.wall for x in res[name] if x.fail is None]
        return statistics.median(ok) if ok else None

    xx, rs = med("xxhsum serial"), med("rsync -c dry run")
    rows, raw, fails = [], [], []
    for t in tools:
        ok = [x for x in res[t.name] if x.fail is None]
        raw.append(f"| {t.name} | " + ", ".join(cmp.fmt_s(x.wall) if x.fail is None else "FAIL"
                                              for x in res[t.name]) + " |")
        for i, x in enumerate(res[t.name]):
            if x.fail:
                fails.append(f"**{t.name} / run {i + 1}**: `{shlex.join(t.argv)}`\n\n```\n{x.fail}\n```\n")
        if not ok:
            rows.append(f"| {t.name} | `{cell(t.shown)}` | **FAIL** | | | | | | |")
            continue
        walls = [x.wall for x in ok]
        m = statistics.median(walls)
        mib_s = both_bytes / m / (1 << 20)
        vs_xx = f"{xx / m:.2f}×" if xx else "—"
        vs_rs = f"{rs / m:.2f}×" if rs else "—"
        cpu = statistics.median([x.user + x.sys for x in ok])
        rss = statistics.median([x.rss_kib for x in ok if x.rss_kib is not None] or [0]) / 1024
        rows.append(f"| {t.name} | `{cell(t.shown)}` | {cmp.fmt_s(m)} | {cmp.fmt_s(min(walls))}–{cmp.fmt_s(max(walls))} | "
                    f"{mib_s:,.0f} | {vs_xx} | {vs_rs} | {cmp.fmt_s(cpu)} | {rss:.1f} |")

    cmdline = shlex.join(["python3", os.path.relpath(os.path.abspath(sys.argv[0]), REPO)] + sys.argv[1:])
    L = [
        f"## Verify throughput: ferry verify vs xxhsum vs rsync -c "
        f"({datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')})\n",
        f"Reproduce (from the repository root): `{cmdline}`\n",
        "- machine: " + "; ".join(cmp.machine_info(wd)),
        f"- ferry: `{cmp.first_line([args.ferry, '--version'])}` (repo at {cmp.git_rev()}); "
        f"`{cmp.first_line(['xxhsum', '--version'])}`; `{cmp.first_line(['rsync', '--version'])}`",
        f"- tree: {counts['files']} files, {counts['dirs']} directories, {counts['symlinks']} symlinks, "
        f"{cmp.human(counts['bytes'])} per side ({cmp.human(both_bytes)} read by each tool); "
        f"`{shlex.join(['python3', 'bench/gen_workload.py', 'SRC'] + gen[3:])}`, DST made by `ferry sync SRC/ DST/`",
        "- cache: warm (both trees read once before timing; nothing dropped)",
        f"- {args.runs} runs per tool, interleaved with the order rotating each run; medians over correct runs. "
        "Correct: ferry verify exits 0 (identical), rsync prints nothing.",
        f"- load average (1 min) before/after: {load0[0]:.2f} / {load1[0]:.2f}. The machine is shared with other "
        "developers' builds and tests: expect noise, compare medians taken in the same run only.",
        "- throughput = regular-file bytes of both trees / median wall time; ratio = other tool's median / this "
        "tool's median (above 1 = this tool is faster).",
        "",
        "| tool | command | median wall s | min–max s | MiB/s | vs xxhsum serial | vs rsync -c | median CPU s | median peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ] + rows + [
        "",
        "<details><summary>per-run wall times (s), in run order</summary>\n",
        "| tool | wall s |",
        "|---|---|",
    ] + raw + ["\n</details>\n"]
    if fails:
        L += ["#### Failures\n"] + fails
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(L) + "\n")
    cmp.log(f"wrote {args.out}")
    if not args.keep:
        cmp.rm_rf(wd)
    print("\n".join(L))


if __name__ == "__main__":
    main()
