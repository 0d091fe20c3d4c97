#!/usr/bin/env python3
"""End-to-end comparison: ferry vs rsync (and cp) on generated hosting workloads.

    python3 bench/compare.py --ferry build/release/cli/ferry \
        [--workload maildir|web|db|account[,...]] [--files N] [--size-mib M]
        [--runs 5] [--out bench/results/e2e.md] [--workdir DIR] [--drop-caches]

For each workload: generate the source tree once (gen_workload.py), then
  initial   ferry sync SRC/ DST/  |  rsync -aHAX --numeric-ids SRC/ DST/  |  cp -a SRC/. DST/
            (each run into a new directory, removed after the scenario; --initial-into=reused:
             the previous copy is removed right before each run)
  nochange  ferry sync SRC/ DST/  |  rsync -aHAX --numeric-ids SRC/ DST/   on an identical DST
  delta     mutate_workload.py applies a day of changes to SRC; every run starts
            from a `cp -a` of the pre-change DST (untimed), then
            ferry sync --delete SRC/ DST/  |  rsync -aHAX --numeric-ids --delete SRC/ DST/
Tools run interleaved (the order rotates each run), `--runs` times each; the
report gives median wall time, the ratio to rsync and the median peak RSS
(/usr/bin/time %M: the largest single process; rsync runs 2-3 processes).
`sync` runs after every timed command, untimed, so one run's writeback does
not land in the next one's timing.

Correctness: after every ferry run (and the first run of every other tool)
    rsync -aHAXc --dry-run --itemize-changes --delete --modify-window=-1 SRC/ DST/
must print nothing. (--modify-window=-1 makes rsync compare mtimes to the
nanosecond; without it rsync compares whole seconds only.) A run that exits
non-zero or fails the check is marked FAIL, its time is never used, and the
first 30 lines of rsync's itemize output go into the report.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

VERIFY = ["rsync", "-aHAXc", "--dry-run", "--itemize-changes", "--delete", "--modify-window=-1"]
VERIFY_SECONDS = ["rsync", "-aHAXc", "--dry-run", "--itemize-changes", "--delete"]  # ARCHITECTURE.md's check


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def sh(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kw)


def first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        lines = (out.stdout or out.stderr).strip().splitlines()
        return lines[0] if lines else f"(no output, rc={out.returncode})"
    except Exception as e:  # noqa: BLE001
        return f"(unavailable: {e})"


def rm_rf(p: str) -> None:
    if os.path.lexists(p):
        sh(["rm", "-rf", "--", p])


def flush_writeback() -> None:
    os.sync()


class CacheControl:
    def __init__(self, drop: bool):
        self.drop = drop
        self.error = None
        if drop:
            try:
                with open("/proc/sys/vm/drop_caches", "w") as f:
                    f.write("3\n")
            except OSError as e:
                self.error = f"{e.strerror}"
                self.drop = False

    def before_run(self) -> None:
        flush_writeback()
        if self.drop:
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("3\n")

    def describe(self) -> str:
        if self.drop:
            return ("cold: `sync; echo 3 > /proc/sys/vm/drop_caches` before every timed run "
                    "(source and destination read from disk)")
        s = ("warm: page cache not dropped; the source was read once before timing and stays cached; "
             "`sync` before every timed run")
        if self.error:
            s += f" (--drop-caches was asked for but /proc/sys/vm/drop_caches is not writable: {self.error})"
        return s


def warm_read(root: str) -> None:
    buf = bytearray(1 << 20)
    for dp, dns, fns in os.walk(root):
        for n in fns:
            p = os.path.join(dp, n)
            try:
                if os.path.islink(p):
                    continue
                with open(p, "rb", buffering=0) as f:
                    while f.readinto(buf):
                        pass
            except OSError:
                pass


def tree_counts(root: str) -> dict:
    files = dirs = links = 0
    size = 0
    for dp, dns, fns in os.walk(root):
        dirs += 1
        for n in fns:
            st = os.lstat(os.path.join(dp, n))
            if os.path.islink(os.path.join(dp, n)):
                links += 1
            else:
                files += 1
                size += st.st_size
        for n in dns:
            if os.path.islink(os.path.join(dp, n)):
                links += 1
    return dict(files=files, dirs=dirs, symlinks=links, bytes=size)


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return str(n)


class Run:
    def __init__(self, wall: float, rss_kib: int | None, user: float, sys_: float, rc: int):
        self.wall, self.rss_kib, self.user, self.sys, self.rc = wall, rss_kib, user, sys_, rc
        self.verified: bool | None = None   # None = not checked
        self.fail: str | None = None


def timed(cmd: list[str], logdir: str, tag: str) -> Run:
    tfile = os.path.join(logdir, f"{tag}.time")
    with open(os.path.join(logdir, f"{tag}.out"), "wb") as out, open(os.path.join(logdir, f"{tag}.err"), "wb") as err:
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-o", tfile, "-f", "%M %U %S"] + cmd, stdout=out, stderr=err)
        wall = time.perf_counter() - t0
    rss, user, sys_ = None, 0.0, 0.0
    try:
        with open(tfile) as f:
            last = f.read().strip().splitlines()[-1].split()
        rss, user, sys_ = int(last[0]), float(last[1]), float(last[2])
    except (OSError, IndexError, ValueError):
        pass
    return Run(wall, rss, user, sys_, p.returncode)


def verify(src: str, dst: str) -> tuple[bool, str]:
    out = subprocess.run(VERIFY + [src + "/", dst + "/"], capture_output=True, text=True,
                         errors="replace")
    text = (out.stdout + out.stderr).strip()
    if out.returncode == 0 and not text:
        return True, ""
    lines = text.splitlines()
    msg = f"`{shlex.join(VERIFY)} SRC/ DST/` (rc={out.returncode}, {len(lines)} lines), first 30:\n" + \
        "\n".join(lines[:30])
    sec = subprocess.run(VERIFY_SECONDS + [src + "/", dst + "/"], capture_output=True, text=True, errors="replace")
    st = (sec.stdout + sec.stderr).strip().splitlines()
    if st:
        msg += f"\n\nWithout --modify-window=-1 (whole-second mtimes, ARCHITECTURE.md's check): {len(st)} lines, first 30:\n" + \
            "\n".join(st[:30])
    else:
        msg += "\n\nWithout --modify-window=-1 (ARCHITECTURE.md's check, whole seconds) it prints nothing: " \
               "only sub-second mtimes differ."
    return False, msg


class Tool:
    def __init__(self, name: str, argv_fn, verify_always: bool):
        self.name = name
        self.argv_fn = argv_fn          # (src, dst) -> argv
        self.verify_always = verify_always


def make_tools(args, scenario: str) -> list[Tool]:
    fa = shlex.split(args.ferry_args or "")
    delete = ["--delete"] if scenario == "delta" else []
    tools = []
    if "ferry" in args.tools:
        tools.append(Tool("ferry", lambda s, d: [args.ferry, "sync"] + delete + fa + [s + "/", d + "/"], True))
        if scenario == "delta" and args.no_whole_file_rows:
            tools.append(Tool("ferry --no-W", lambda s, d: [args.ferry, "sync", "--no-whole-file"] + delete + fa
                              + [s + "/", d + "/"], True))
    if "rsync" in args.tools:
        tools.append(Tool("rsync", lambda s, d: ["rsync", "-aHAX", "--numeric-ids"] + delete + [s + "/", d + "/"],
                          args.verify_all))
        if scenario == "delta" and args.no_whole_file_rows:
            tools.append(Tool("rsync --no-W", lambda s, d: ["rsync", "-aHAX", "--numeric-ids", "--no-whole-file"] + delete
                              + [s + "/", d + "/"], args.verify_all))
    if "cp" in args.tools and scenario == "initial":
        tools.append(Tool("cp", lambda s, d: ["cp", "-a", s + "/.", d + "/"], args.verify_all))
    return tools


def run_scenario(name: str, tools: list[Tool], runs: int, src: str, dst, prepare, cache: CacheControl,
                 logdir: str) -> dict[str, list[Run]]:
    """dst: a path, or a function (tool name, run index) -> path for a destination per run."""
    res: dict[str, list[Run]] = {t.name: [] for t in tools}
    dst_fn = dst if callable(dst) else (lambda _t, _r: dst)
    for r in range(runs):
        k = r % len(tools)
        order = tools[k:] + tools[:k]
        for t in order:
            dst = dst_fn(t.name, r)
            prepare(dst)
            cache.before_run()
            tag = f"{name}.{t.name.replace(' ', '_')}.{r}"
            run = timed(t.argv_fn(src, dst), logdir, tag)
            flush_writeback()
            if run.rc != 0:
                with open(os.path.join(logdir, f"{tag}.err"), "rb") as f:
                    err = f.read().decode(errors="replace").strip().splitlines()
                run.fail = f"exit status {run.rc}; stderr (last 30 lines):\n" + "\n".join(err[-30:])
                run.verified = False
            elif t.verify_always or r == 0:
                ok, msg = verify(src, dst)
                run.verified = ok
                if not ok:
                    run.fail = msg
            res[t.name].append(run)
            status = "ok" if run.fail is None else "FAIL"
            log(f"{name} run {r + 1}/{runs} {t.name:12s} {run.wall:8.3f} s  rss {run.rss_kib or 0:>8} KiB  {status}")
            if run.fail:
                log(run.fail.splitlines()[0])
    return res


def fmt_s(x: float) -> str:
    return f"{x:.3f}" if x < 10 else f"{x:.2f}"


def scenario_rows(scn: str, tools: list[Tool], res: dict[str, list[Run]], src: str, dst: str) -> tuple[list[str], list[str]]:
    rows, fails = [], []
    good = {t.name: [r for r in res[t.name] if r.fail is None] for t in tools}
    base = statistics.median([r.wall for r in good["rsync"]]) if good.get("rsync") else None
    for t in tools:
        runs = res[t.name]
        ok = good[t.name]
        nbad = len(runs) - len(ok)
        cmd = shlex.join(t.argv_fn("SRC", "DST"))
        checked = sum(1 for r in runs if r.verified is not None)
        if not ok:
            rows.append(f"| {scn} | {t.name} | `{cmd}` | **FAIL ({nbad}/{len(runs)} runs incorrect)** | — | — | — | — | — |")
        else:
            walls = [r.wall for r in ok]
            med = statistics.median(walls)
            rss = [r.rss_kib for r in ok if r.rss_kib is not None]
            cpu = statistics.median([r.user + r.sys for r in ok])
            if base and t.name != "rsync":
                ratio = med / base
                rtxt = f"{ratio:.2f}× ({base / med:.2f}× faster)" if med < base else f"{ratio:.2f}× ({ratio:.2f}× slower)"
            elif t.name == "rsync":
                rtxt = "1.00×"
            else:
                rtxt = "—"
            warn = f" **({nbad}/{len(runs)} runs FAILED, excluded)**" if nbad else ""
            rows.append(f"| {scn} | {t.name} | `{cmd}` | {fmt_s(med)}{warn} | {fmt_s(min(walls))}–{fmt_s(max(walls))} | "
                        f"{rtxt} | {fmt_s(cpu)} | {statistics.median(rss) / 1024:.1f} | {checked}/{len(runs)} |")
        for i, r in enumerate(runs):
            if r.fail:
                fails.append(f"**{scn} / {t.name} / run {i + 1}**: `{shlex.join(t.argv_fn(src, dst))}`\n\n```\n{r.fail}\n```\n")
    return rows, fails


def machine_info(workdir: str) -> list[str]:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for ln in f:
                if ln.startswith("model name"):
                    cpu = ln.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    fs = subprocess.run(["stat", "-f", "-c", "%T", workdir], capture_output=True, text=True).stdout.strip()
    mnt = subprocess.run(["findmnt", "-n", "-o", "FSTYPE,SOURCE", "-T", workdir], capture_output=True, text=True).stdout.strip()
    return [f"nproc {os.cpu_count()}, {cpu}, {mem} RAM", f"kernel {platform.release()}",
            f"workdir `{workdir}`: `stat -f -c %T` = {fs}" + (f", mounted as {mnt}" if mnt else "")]


def git_rev() -> str:
    try:
        rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return rev + (" (+ uncommitted changes)" if dirty else "")
    except OSError:
        return "?"


def bench_workload(wl: str, args, cache: CacheControl) -> str:
    wd = os.path.join(args.workdir, wl)
    src, dst, base = os.path.join(wd, "src"), os.path.join(wd, "dst"), os.path.join(wd, "dst-base")
    logdir = os.path.join(wd, "logs")
    rm_rf(wd)
    os.makedirs(logdir)
    gen = [sys.executable, os.path.join(HERE, "gen_workload.py"), src, "--kind", wl, "--seed", str(args.seed)]
    if args.files and wl != "db":
        gen += ["--files", str(args.files)]
    if args.size_mib and wl in ("db", "account"):
        gen += ["--size-mib", str(args.size_mib)]
    log(f"{wl}: generating: {shlex.join(gen)}")
    gsum = json.loads(sh(gen, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    counts = tree_counts(src)
    log(f"{wl}: {counts['files']} files, {counts['dirs']} dirs, {human(counts['bytes'])} in {gsum['seconds']} s")
    flush_writeback()
    if not cache.drop:
        warm_read(src)
    load0 = os.getloadavg()
    scenarios = [s for s in ("initial", "nochange", "delta") if s in args.scenarios]
    tables: list[str] = []
    fails: list[str] = []
    raw: list[str] = []
    mut_summary = None

    def record(scn: str, tools: list[Tool], res: dict[str, list[Run]]) -> None:
        rows, f = scenario_rows(scn, tools, res, src, dst)
        tables.extend(rows)
        fails.extend(f)
        for t in tools:
            raw.append(f"| {scn} | {t.name} | " + ", ".join(
                (fmt_s(r.wall) if r.fail is None else "FAIL") for r in res[t.name]) + " | " +
                ", ".join(str(r.rss_kib) for r in res[t.name]) + " |")

    if "initial" in scenarios:
        tools = make_tools(args, "initial")
        if args.initial_into == "fresh":
            # Every run copies into a directory that never existed, and the copies are removed only after
            # the scenario. Removing the previous copy right before the next one measures ext4's handling
            # of 50,000 just-freed inodes more than the tools: without a journal (this machine's
            # file system), ext4_new_inode skips inodes freed in the last 60 s (recently_deleted()) by
            # rescanning the group's bitmap for every new file, which costs every tool the same kernel
            # time (see RESULTS.md). A new server's disk has no just-freed inodes.
            copies: list[str] = []

            def fresh_dst(tool: str, r: int) -> str:
                d = f"{dst}.initial.{tool.replace(' ', '_')}.{r}"
                copies.append(d)
                return d
            res = run_scenario("initial", tools, args.runs, src, fresh_dst, rm_rf, cache, logdir)
            for d in copies:
                rm_rf(d)
        else:
            res = run_scenario("initial", tools, args.runs, src, dst, rm_rf, cache, logdir)
        record("initial copy", tools, res)
    if "nochange" in scenarios or "delta" in scenarios:
        rm_rf(dst)
        sh(["rsync", "-aHAX", "--numeric-ids", src + "/", dst + "/"])
        flush_writeback()
    if "nochange" in scenarios:
        tools = make_tools(args, "nochange")
        res = run_scenario("nochange", tools, args.runs, src, dst, lambda _d: None, cache, logdir)
        record("no-change pass", tools, res)
    if "delta" in scenarios:
        rm_rf(base)
        # the pre-change destination: rsync's copy, verified identical to SRC
        sh(["rsync", "-aHAX", "--numeric-ids", "--delete", src + "/", dst + "/"])
        os.rename(dst, base)
        mut = [sys.executable, os.path.join(HERE, "mutate_workload.py"), src, "--kind", wl, "--seed", str(args.seed + 1)]
        log(f"{wl}: mutating: {shlex.join(mut)}")
        mut_summary = json.loads(sh(mut, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        flush_writeback()
        if not cache.drop:
            warm_read(src)
        itemized = subprocess.run(["rsync", "-aHAX", "--numeric-ids", "--delete", "--dry-run", "--itemize-changes",
                                   "--modify-window=-1", src + "/", base + "/"], capture_output=True, text=True).stdout.splitlines()
        mut_summary["rsync_itemized_changes"] = len(itemized)
        mut_summary["delta_reset"] = args.delta_reset

        def prepare_delta(_d: str) -> None:
            if args.delta_reset == "cp":
                rm_rf(dst)
                sh(["cp", "-a", base, dst])
            else:
                # same end state as a fresh `cp -a`, much less writeback: only what the last run changed
                sh(["rsync", "-aHAX", "--numeric-ids", "--delete", "--modify-window=-1", base + "/", dst + "/"])

        tools = make_tools(args, "delta")
        res = run_scenario("delta", tools, args.runs, src, dst, prepare_delta, cache, logdir)
        record("delta pass", tools, res)
    load1 = os.getloadavg()
    if not args.keep:
        rm_rf(wd)

    L = []
    L.append(f"### Workload `{wl}`\n")
    L.append(f"- tree: {counts['files']} files, {counts['dirs']} directories, {counts['symlinks']} symlinks, "
             f"{gsum.get('hardlinks', 0)} extra hard links, {gsum.get('xattrs', 0)} xattrs, {gsum.get('acls', 0)} ACLs, "
             f"{human(counts['bytes'])}; generated in {gsum['seconds']} s by `{shlex.join(['python3', 'bench/gen_workload.py', 'SRC'] + gen[3:])}`")
    if mut_summary:
        L.append(f"- day of changes (`python3 bench/mutate_workload.py SRC --kind {wl} --seed {args.seed + 1}`): "
                 f"`{json.dumps({k: v for k, v in mut_summary.items() if k != 'seconds'})}`")
    L.append(f"- load average (1 min) before/after: {load0[0]:.2f} / {load1[0]:.2f}")
    L.append("")
    L.append("| scenario | tool | command | median wall s | min–max s | vs rsync (time ratio) | median CPU s (user+sys) | median peak RSS MiB | runs verified |")
    L.append("|---|---|---|---:|---:|---|---:|---:|---:|")
    L.extend(tables)
    L.append("")
    L.append("<details><summary>per-run wall times (s) and peak RSS (KiB), in run order</summary>\n")
    L.append("| scenario | tool | wall s | peak RSS KiB |")
    L.append("|---|---|---|---|")
    L.extend(raw)
    L.append("\n</details>\n")
    if fails:
        L.append("#### Failures\n")
        L.extend(fails)
    return "\n".join(L) + "\n"


def update_results(path: str, wl: str, head: list[str], section: str) -> None:
    """Replaces (or appends) the workload's block in a hand-written results file."""
    begin, end = f"<!-- compare.py:{wl} begin -->", f"<!-- compare.py:{wl} end -->"
    block = begin + "\n" + "\n".join(head) + "\n" + section.rstrip("\n") + "\n" + end
    text = open(path).read() if os.path.exists(path) else ""
    i, j = text.find(begin), text.find(end)
    if i >= 0 and j > i:
        text = text[:i] + block + text[j + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ferry", required=True, help="path to the ferry binary")
    ap.add_argument("--workload", default="maildir", help="maildir|web|db|account, or a comma-separated list")
    ap.add_argument("--files", type=int, default=None, help="passed to gen_workload.py (default: its default)")
    ap.add_argument("--size-mib", type=int, default=None, help="db size, passed to gen_workload.py")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "e2e.md"))
    ap.add_argument("--append", action="store_true", help="append to --out instead of replacing it")
    ap.add_argument("--workdir", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "ferry-bench"))
    ap.add_argument("--drop-caches", action="store_true",
                    help="echo 3 > /proc/sys/vm/drop_caches before each timed run (needs root)")
    ap.add_argument("--scenarios", default="initial,nochange,delta")
    ap.add_argument("--tools", default="ferry,rsync,cp")
    ap.add_argument("--ferry-args", default="", help="extra arguments for every ferry sync, e.g. '--io=posix'")
    ap.add_argument("--no-whole-file-rows", "--rsync-no-whole-file", dest="no_whole_file_rows", action="store_true",
                    help="delta pass: also time ferry and rsync with --no-whole-file (their delta algorithms; "
                         "local syncs default to --whole-file)")
    ap.add_argument("--verify-all", action="store_true", help="verify every run of every tool, not only ferry's")
    ap.add_argument("--delta-reset", choices=["rsync", "cp"], default="rsync",
                    help="how DST is reset to the pre-change copy before each delta run (untimed): "
                         "'rsync' (rsync -aHAX --delete --modify-window=-1 BASE/ DST/, default) or "
                         "'cp' (rm -rf DST; cp -a BASE DST: fresh inodes, ~1 GiB of writeback per run)")
    ap.add_argument("--initial-into", choices=["fresh", "reused"], default="fresh",
                    help="initial copy: 'fresh' (default) copies every run into a new directory and removes the "
                         "copies after the scenario; 'reused' removes the previous copy right before each run "
                         "(on ext4 without a journal this adds the cost of allocating around just-freed inodes)")
    ap.add_argument("--results", default=None,
                    help="also write each workload's table into this markdown file (e.g. bench/RESULTS.md), "
                         "between the markers <!-- compare.py:WORKLOAD begin --> and "
                         "<!-- compare.py:WORKLOAD end --> (appended when missing)")
    ap.add_argument("--ferry-note", default="", help="how the ferry binary was built (commit, flags), for the report")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    args.ferry = os.path.abspath(args.ferry) if os.sep in args.ferry else (shutil.which(args.ferry) or args.ferry)
    args.workdir = os.path.abspath(args.workdir)
    args.tools = [t.strip() for t in args.tools.split(",")]
    args.scenarios = [s.strip() for s in args.scenarios.split(",")]
    if "rsync" not in args.tools:
        sys.exit("--tools must include rsync (the baseline)")
    if not os.access(args.ferry, os.X_OK) and "ferry" in args.tools:
        sys.exit(f"{args.ferry}: not executable")
    os.makedirs(args.workdir, exist_ok=True)
    cache = CacheControl(args.drop_caches)

    cmdline = shlex.join(["python3", os.path.relpath(os.path.abspath(sys.argv[0]), REPO)] + sys.argv[1:])
    head = [
        f"## End-to-end: ferry vs rsync vs cp ({datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')})\n",
        f"Reproduce (from the repository root): `{cmdline}`\n",
        "- machine: " + "; ".join(machine_info(args.workdir)),
        f"- ferry: `{first_line([args.ferry, '--version'])}` (`{args.ferry}`"
        + (f"; {args.ferry_note})" if args.ferry_note else f", repo at {git_rev()})"),
        f"- rsync: `{first_line(['rsync', '--version'])}`; cp: `{first_line(['cp', '--version'])}`",
        f"- cache: {cache.describe()}",
        "- initial copy: " + ("every run copies into a new directory; the copies are removed after the scenario"
                              if args.initial_into == "fresh" else
                              "the previous copy is removed (`rm -rf`, then `sync`) right before each run"),
        f"- {args.runs} runs per tool and scenario, tools interleaved with the order rotating each run; "
        "medians over correct runs only. Wall time excludes the `sync` of dirty pages after each run.",
        "- correctness: after every ferry run and the first run of the other tools, "
        f"`{shlex.join(VERIFY)} SRC/ DST/` must print nothing ('runs verified' counts the checked runs).",
        "- time ratio = tool median / rsync median (below 1 = faster than rsync); "
        "peak RSS is the largest single process of the tool (rsync forks 2-3).",
        "",
    ]
    prev = ""
    if args.append and os.path.exists(args.out):
        with open(args.out) as f:
            prev = f.read().rstrip("\n") + "\n\n"
    body = []
    for wl in [w.strip() for w in args.workload.split(",") if w.strip()]:
        body.append(bench_workload(wl, args, cache))
        if args.results:
            update_results(args.results, wl, head, body[-1])
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            f.write(prev + "\n".join(head) + "\n" + "\n".join(body))
        log(f"wrote {args.out}")
    print(open(args.out).read())


if __name__ == "__main__":
    main()
