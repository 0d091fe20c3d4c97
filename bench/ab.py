#!/usr/bin/env python3
"""A/B of command variants on one generated workload, medians.

    ROOT=DIR [SETTLE=10] bench/ab.py KIND RUNS 'label=command {src} {dst}' ...

DIR holds KIND-src and KIND-baseline (as bench/remote_compare.py leaves them
with --keep, or bench/gen_workload.py + cp -a + bench/mutate_workload.py).
Like remote_compare.py: one copy of the baseline per timed run, all made and
synced before the first run, then SETTLE seconds; variants alternate (each
first in every other round); before each run the disk is synced (untimed)
and SRC and the copy are read into the page cache; nothing is deleted
while timing. With COLD=1 SRC and the copy are dropped from the page cache
before each run instead (a pass on a server whose files were not just
read). Example (two ferry
builds and rsync over the remote-shell stand-in):

    S=$PWD/tests/remote_shell_standin.sh
    ROOT=/tmp/rc bench/ab.py web 9 \
      "old=/tmp/ferry-old sync --delete -e $S --remote-ferry /tmp/ferry-old {src} h:{dst}" \
      "new=build/release/cli/ferry sync --delete -e $S --remote-ferry $PWD/build/release/cli/ferry {src} h:{dst}" \
      "rsync=rsync -aHAX --delete -e $S {src} h:{dst}"
"""
import os, subprocess, sys, time, statistics
kind, runs = sys.argv[1], int(sys.argv[2])
cmds = [a.split('=', 1) for a in sys.argv[3:]]
settle = float(os.environ.get('SETTLE', '10'))
# COLD=1: SRC and the copy are dropped from the page cache before each run
# (POSIX_FADV_DONTNEED per file) instead of read into it: a delta pass as
# it runs on a server whose files were not just read.
cold = os.environ.get('COLD') == '1'
root = os.environ['ROOT']
src, base = f'{root}/{kind}-src', f'{root}/{kind}-baseline'
work = f'{root}/ab-{kind}'
subprocess.run(['rm', '-rf', work]); os.makedirs(work)
plan = []
for r in range(runs):
    order = cmds if r % 2 == 0 else list(reversed(cmds))
    for label, cmd in order:
        dst = f'{work}/{len(plan)}'
        subprocess.run(['cp', '-a', base, dst], check=True)
        plan.append((label, cmd, dst))
subprocess.run(['sync']); time.sleep(settle)
res = {l: [] for l, _ in cmds}
def warm(d):
    if not cold:
        subprocess.run(f"find {d} -type f -print0 | xargs -0 cat > /dev/null", shell=True)
        return
    for dirpath, _, files in os.walk(d):
        for name in files:
            p = os.path.join(dirpath, name)
            if os.path.islink(p): continue
            fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)
for label, cmd, dst in plan:
    # The previous run's writeback (and the discards of what it replaced)
    # finish before this one starts.
    os.sync()
    warm(src); warm(dst)
    c = cmd.format(src=src + '/', dst=dst + '/')
    t = time.monotonic()
    p = subprocess.run(c, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    el = time.monotonic() - t
    if p.returncode != 0:
        print(label, 'rc', p.returncode, p.stderr.decode()[-500:])
    res[label].append(el)
for l, v in res.items():
    print(f'{l:12s} median {statistics.median(v):.3f}  runs ' + ' '.join(f'{x:.3f}' for x in v))
subprocess.run(['rm', '-rf', work])
