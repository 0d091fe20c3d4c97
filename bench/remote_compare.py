#!/usr/bin/env python3
"""ferry vs rsync over a remote shell: a delta pass after changes.

    remote_compare.py WORKDIR --ferry BUILD/cli/ferry [--kinds web,db,maildir]
                      [--runs 3] [--files N] [--size-mib N] [--streams N]
                      [--out bench/results/remote.md] [--title TEXT]

Issue 5's mail benchmark (bench/results/mail_remote.md) is the maildir kind:
a generated Maildir account after a day of IMAP-like changes (flag renames,
moves between folders, expunges, deliveries), where ferry renames what rsync
sends again.

For each workload kind: generate SRC (bench/gen_workload.py), copy it to a
baseline DST, change SRC (bench/mutate_workload.py), then make one copy of the
baseline per timed run (all before the first run of that workload: see
Phase 2 below for why), and, RUNS times each and alternating (each tool first in
every other round; before each run the disk is synced, so that no run
pays for the previous run's writeback, and SRC and the copy are read into
the page cache), push SRC/ into a copy over the
remote-shell stand-in (tests/remote_shell_standin.sh runs the remote command
on this machine, so both tools pay for two processes and pipes):

    ferry sync --delete --stats -e STANDIN --remote-ferry FERRY SRC/ host:DST/
    rsync -aHAX --delete --stats -e STANDIN SRC/ host:DST/

With --streams N (> 1), `ferry sync --streams N` runs as well, in its own
row ("KIND --streams N") against the same rsync runs.

Reports median wall time and bytes on the wire: ferry's own count (its
--stats "Total bytes sent" + "received") against rsync's --stats "Total bytes
sent" + "Total bytes received". Both destinations are checked afterwards with
`rsync -aHAXc --dry-run --itemize-changes --delete` (must print nothing).

Disk: every run has its own copy, so a workload needs (2 x RUNS) copies of
its baseline (the account workload: about 2 GiB each). When all workloads'
copies do not fit in WORKDIR's free space, each workload's copies are
checked and deleted after its runs; when one workload's do not fit, the
script stops before copying and says how much it needs.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "..", "tests", "remote_shell_standin.sh")


def run(cmd: list[str]) -> tuple[float, str]:
    t = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.monotonic() - t
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stdout}\n{p.stderr}")
    return dt, p.stdout


def number(text: str, name: str) -> int:
    m = re.search(re.escape(name) + r":\s*([\d,]+)", text)
    if not m:
        sys.exit(f"no '{name}' in:\n{text}")
    return int(m.group(1).replace(",", ""))


def restore(baseline: str, dst: str) -> None:
    if os.path.exists(dst):
        shutil.rmtree(dst)
    subprocess.run(["cp", "-a", baseline, dst], check=True)


def warm(*trees: str) -> None:
    """Reads every file of the trees (and so their inodes): each timed run
    starts with SRC and its DST copy in the page cache. Without this, the
    copies made for the later runs pushed parts of SRC out of the cache and
    the first run after them (ferry's, in this order) read it back from disk
    (5-10 s instead of 1 s, low CPU); the next tool then found it warm."""
    for t in trees:
        for d, _, files in os.walk(t):
            for f in files:
                path = os.path.join(d, f)
                if os.path.islink(path):
                    continue
                try:
                    with open(path, "rb") as fh:
                        while fh.read(1 << 20):
                            pass
                except OSError:
                    pass


def disk_usage(tree: str) -> int:
    """Bytes the tree occupies on disk (hard links counted once)."""
    seen, total = set(), 0
    for d, dirs, files in os.walk(tree):
        for name in dirs + files:
            st = os.lstat(os.path.join(d, name))
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512
    return total


def free_bytes(path: str) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def oracle(src: str, dst: str) -> str:
    p = subprocess.run(["rsync", "-aHAXc", "--dry-run", "--itemize-changes", "--delete",
                        src + "/", dst + "/"], capture_output=True, text=True)
    return p.stdout + p.stderr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workdir")
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--kinds", default="web,db,maildir")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--files", type=int, default=None)
    ap.add_argument("--size-mib", type=int, default=None)
    ap.add_argument("--streams", type=int, default=1)
    ap.add_argument("--out", default=None)
    ap.add_argument("--settle", type=int, default=0,
                    help="seconds to wait after making a workload's copies, before its first run")
    ap.add_argument("--keep", action="store_true", help="keep the destinations")
    ap.add_argument("--title", default="Remote delta pass: ferry vs rsync over a remote-shell stand-in")
    a = ap.parse_args()
    ferry = os.path.abspath(a.ferry)
    standin = os.path.abspath(STANDIN)
    os.makedirs(a.workdir, exist_ok=True)
    rows = []
    kinds = a.kinds.split(",")
    tools = ("ferry", "rsync") + (("ferry-streams",) if a.streams > 1 else ())
    # Phase 1: the workloads (SRC after the changes, the baseline before).
    prepared = {}
    for kind in kinds:
        base = os.path.join(a.workdir, kind)
        src, baseline = base + "-src", base + "-baseline"
        gen = [sys.executable, os.path.join(HERE, "gen_workload.py"), src, "--kind", kind,
               "--force"]
        if a.files:
            gen += ["--files", str(a.files)]
        if a.size_mib:
            gen += ["--size-mib", str(a.size_mib)]
        subprocess.run(gen, check=True, capture_output=True)
        if os.path.exists(baseline):
            shutil.rmtree(baseline)
        subprocess.run(["cp", "-a", src, baseline], check=True)
        subprocess.run([sys.executable, os.path.join(HERE, "mutate_workload.py"), src,
                        "--kind", kind], check=True, capture_output=True)
        prepared[kind] = (src, {})
    # Every timed run gets its own copy of a baseline. When all workloads'
    # copies do not fit on the disk at once, each workload's copies are
    # checked and deleted right after its runs (the next workload's copies
    # and --settle then follow that deletion); when one workload's copies
    # alone do not fit, say so before making any.
    need = {kind: disk_usage(os.path.join(a.workdir, kind) + "-baseline") * len(tools) * a.runs
            for kind in kinds}
    free = free_bytes(a.workdir)
    margin = 2 << 30
    if max(need.values()) + margin > free:
        kind = max(need, key=need.get)
        sys.exit(f"{a.workdir}: {kind}'s {len(tools) * a.runs} copies need "
                 f"{need[kind] / 2**30:.1f} GiB and 2 GiB to spare; "
                 f"{free / 2**30:.1f} GiB are free (use fewer --runs or another WORKDIR)")
    one_at_a_time = sum(need.values()) + margin > free
    if one_at_a_time and a.keep:
        sys.exit(f"{a.workdir}: with --keep, the copies of all workloads need "
                 f"{sum(need.values()) / 2**30:.1f} GiB and 2 GiB to spare; "
                 f"{free / 2**30:.1f} GiB are free")
    if one_at_a_time:
        print(f"the copies of all workloads need {sum(need.values()) / 2**30:.1f} GiB, "
              f"{free / 2**30:.1f} GiB are free: each workload's copies are deleted "
              "after its runs", flush=True)

    def check_and_delete(kind: str) -> None:
        src, dsts = prepared[kind]
        for (tool, i), dst in dsts.items():
            diff = oracle(src, dst)
            if diff:
                sys.exit(f"{tool} left differences on {kind} (run {i}):\n{diff[:2000]}")
            if not a.keep:
                shutil.rmtree(dst)
        dsts.clear()

    # Phase 2, per workload: one copy of the baseline per timed run, made
    # (and written back) before the first of them, then the timed runs,
    # alternating tools, each into its own copy. Nothing is deleted until
    # every run is done: on a journal-less ext4 (this machine's),
    # ext4_new_inode skips inodes freed in the last 60-300 s
    # (recently_deleted()), rescanning inode tables for each file it
    # creates, so restoring DST with `rm -rf; cp -a` right before a run made
    # both tools pay for the deletion of 50,000 files, in amounts that
    # depended on how many files each created. The copies of one workload
    # are made right before its runs, so they are in the page cache as a
    # tree the previous pass just wrote is.
    for kind in kinds:
        src, dsts = prepared[kind]
        base = os.path.join(a.workdir, kind)
        for i in range(a.runs):
            for tool in tools:
                dst = f"{base}-dst-{tool}-{i}"
                restore(os.path.join(a.workdir, kind) + "-baseline", dst)
                dsts[(tool, i)] = dst
        os.sync()
        if a.settle:
            print(f"settling {a.settle} s", flush=True)
            time.sleep(a.settle)
        times = {t: [] for t in tools}
        wire = {}
        for i in range(a.runs):
            # Alternating, and each tool goes first in every other round.
            for tool in (tools if i % 2 == 0 else tools[::-1]):
                dst = dsts[(tool, i)]
                # The previous run's dirty pages (and the discards of what it
                # replaced) go to the disk before this run, untimed.
                os.sync()
                warm(src, dst)
                if tool.startswith("ferry"):
                    cmd = [ferry, "sync", "--no-progress", "--delete", "--stats", "-e", standin,
                           "--remote-ferry", ferry, src + "/", "bench:" + dst + "/"]
                    if tool == "ferry-streams":
                        cmd[2:2] = ["--streams", str(a.streams)]
                else:
                    cmd = ["rsync", "-aHAX", "--delete", "--stats", "-e", standin,
                           src + "/", "bench:" + dst + "/"]
                dt, out = run(cmd)
                times[tool].append(dt)
                wire[tool] = number(out, "Total bytes sent") + number(out, "Total bytes received")
        f, r = statistics.median(times["ferry"]), statistics.median(times["rsync"])
        rows.append((kind, f, r, wire["ferry"], wire["rsync"]))
        print(f"{kind}: ferry {f:.2f}s rsync {r:.2f}s ({r / f:.2f}x); "
              f"wire ferry {wire['ferry']:,} rsync {wire['rsync']:,}; "
              f"ferry runs {' '.join(f'{x:.2f}' for x in times['ferry'])}; "
              f"rsync runs {' '.join(f'{x:.2f}' for x in times['rsync'])}", flush=True)
        if a.streams > 1:
            s = statistics.median(times["ferry-streams"])
            rows.append((f"{kind} --streams {a.streams}", s, r, wire["ferry-streams"],
                         wire["rsync"]))
            print(f"{kind} --streams {a.streams}: ferry {s:.2f}s ({r / s:.2f}x rsync); "
                  f"wire {wire['ferry-streams']:,}", flush=True)
        if one_at_a_time:
            check_and_delete(kind)
    # Phase 3: every destination must equal SRC, then the copies go.
    for kind in kinds:
        check_and_delete(kind)
    lines = [
        "# " + a.title,
        "",
        "Command: `bench/remote_compare.py " + " ".join(sys.argv[1:]) + "`",
        "",
        f"Median of {a.runs} runs each, alternating (each tool first in every other round); each run into its own copy of the baseline, all made (and synced) before the first run of the workload; SRC and the copy read into the page cache right before each run; nothing deleted while timing.",
        "",
        "| workload | ferry s | rsync s | speed-up | ferry wire bytes | rsync wire bytes | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, f, r, fw, rw in rows:
        lines.append(f"| {kind} | {f:.2f} | {r:.2f} | {r / f:.2f}x | {fw:,} | {rw:,} | "
                     f"{fw / rw:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
