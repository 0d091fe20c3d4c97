#!/usr/bin/env python3
"""Apply "a day of changes" to a tree made by gen_workload.py, in place.

    mutate_workload.py DIR --kind maildir|web|db|account [--seed S]

maildir  ~10% of messages change flags (new/X -> cur/X:2,S; cur/X:2,RS ->
         cur/X:2,FRS, ...), ~1% move to another folder (renamed with a new
         Dovecot name, same inode/content/mtime, like Dovecot's hardlink-copy
         + expunge), ~1% deleted (mostly Trash/Junk), ~2% new deliveries in
         new/; dovecot-uidlist rewritten with appended lines, dovecot.index.log
         and the list index log appended to, dovecot.index and .cache rewritten,
         maildirsize appended to.
web      a plugin update (all files of one plugin rewritten with a version
         bump, a few added and removed), ~0.3% of other text files edited,
         a few files only touched (mtime) and one chmod'ed, a day of uploads
         (original + resized copies in uploads/2024/06), half the page cache
         replaced, the 'latest' symlink re-pointed.
db       ~1% of the 16 KiB pages of each .ibd/ibdata1 rewritten in place,
         an 8 MiB run of the redo log rewritten, and in the SQL dump a few
         INSERT lines inserted and deleted near the start and a few rows
         edited further in (everything after shifts: a delta-transfer test).
account  all three on home/*/{Maildir,public_html,backups}.

All times lie in the day after the generated world's "now", with
nanoseconds; the result depends only on DIR's content and the seed.
The last line on stdout is a JSON summary of what was changed.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_workload as g  # noqa: E402

NS = g.NS
DAY0 = g.WORLD_END          # the day of changes: [DAY0, DAY0 + 86400)


def day_ns(rng: random.Random, lo_frac: float = 0.0, hi_frac: float = 1.0) -> int:
    return DAY0 * NS + int(rng.uniform(lo_frac, hi_frac) * 86400 * NS)


class Touched:
    """Directories whose entries changed: their mtime is set to a deterministic
    time of day at the end (the kernel would put 'now')."""

    def __init__(self) -> None:
        self.dirs: dict[str, int] = {}

    def add(self, d: str, t_ns: int) -> None:
        self.dirs[d] = max(self.dirs.get(d, 0), t_ns)

    def apply(self) -> None:
        for d in sorted(self.dirs, key=lambda p: p.count(os.sep), reverse=True):
            if os.path.isdir(d):
                os.utime(d, ns=(self.dirs[d], self.dirs[d]))


def owner_of(path: str) -> tuple[int, int] | None:
    st = os.stat(path)
    return (st.st_uid, st.st_gid) if os.geteuid() == 0 else None


def rewrite(path: str, data: bytes, t_ns: int) -> None:
    """Rewrite a file in place (same inode, same mode/owner), set its mtime."""
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        mv = memoryview(data)
        while mv:
            mv = mv[os.write(fd, mv):]
        os.utime(fd, ns=(t_ns, t_ns))
    finally:
        os.close(fd)


def append(path: str, data: bytes, t_ns: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, data)
        os.utime(fd, ns=(t_ns, t_ns))
    finally:
        os.close(fd)

# ---------------------------------------------------------------------------
# maildir

_FLAGS_RE = re.compile(r"^(?P<base>[^:]+)(?::2,(?P<flags>[A-Z]*)(?P<kw>[a-z]*))?$")


def split_name(name: str) -> tuple[str, str | None, str]:
    m = _FLAGS_RE.match(name)
    if not m:
        return name, None, ""
    return m.group("base"), m.group("flags"), m.group("kw") or ""


def maildir_folders(root: str) -> list[str]:
    out = [root]
    for n in sorted(os.listdir(root)):
        p = os.path.join(root, n)
        if n.startswith(".") and os.path.isdir(os.path.join(p, "cur")):
            out.append(p)
    return out


def mutate_maildir(root: str, seed: int, pools: g.Pools, touched: Touched) -> dict:
    rng = random.Random(seed * 31 + 5)
    folders = maildir_folders(root)
    msgs: list[tuple[str, str, str]] = []  # (folder, sub, name)
    used: set[str] = set()
    for f in folders:
        for sub in ("cur", "new"):
            for n in sorted(os.listdir(os.path.join(f, sub))):
                msgs.append((f, sub, n))
                used.add(split_name(n)[0].split(",")[0])
    total = len(msgs)
    own = owner_of(os.path.join(root, "cur"))
    summary = dict(messages_before=total, flag_changes=0, moved=0, deleted=0, delivered=0)
    removed_by_folder: dict[str, set[str]] = {f: set() for f in folders}
    added_by_folder: dict[str, list[str]] = {f: [] for f in folders}
    idx = list(range(total))
    rng.shuffle(idx)
    n_flag = total // 10
    n_move = max(1, total // 100)
    n_del = max(1, total // 100)
    n_new = max(1, total // 50)
    # all of new/ is seen by a client today, plus flag changes up to ~10%
    flag_set = [i for i in range(total) if msgs[i][1] == "new"]
    chosen = set(flag_set)
    for i in idx:
        if len(chosen) >= n_flag:
            break
        chosen.add(i)
    rest = [i for i in idx if i not in chosen]
    moves, dels = rest[:n_move], rest[n_move:n_move + n_del]
    # flag changes
    for i in sorted(chosen):
        f, sub, name = msgs[i]
        base, flags, kw = split_name(name)
        fl = set(flags or "")
        if sub == "new" or "S" not in fl:
            fl.add("S")
        else:
            r = rng.random()
            if r < 0.4:
                fl.add("R")
            elif r < 0.6:
                fl ^= {"F"}
            elif r < 0.75:
                fl.discard("S")   # mark unread again
            elif r < 0.9:
                kw = "".join(sorted(set(kw) | {"a"}))
            else:
                fl.add("T")
        new_name = f"{base}:2,{''.join(sorted(fl))}{kw}"
        src = os.path.join(f, sub, name)
        dst = os.path.join(f, "cur", new_name)
        if src != dst:
            os.rename(src, dst)
            t = day_ns(rng)
            touched.add(os.path.join(f, sub), t)
            touched.add(os.path.join(f, "cur"), t)
            msgs[i] = (f, "cur", new_name)
            summary["flag_changes"] += 1
    # moves: to Archive / Trash / a list folder, with a new Dovecot name
    targets = [f for f in folders if os.path.basename(f) in (".Trash", ".Archive.2023", ".Receipts", ".Lists.dev")] or folders
    for i in moves:
        f, sub, name = msgs[i]
        dest = rng.choice([t for t in targets if t != f] or targets)
        base, flags, kw = split_name(name)
        sizes = base.split(",", 1)[1] if "," in base else ""
        t_sec = DAY0 + rng.randrange(86400)
        while True:
            nb = f"{t_sec}.M{rng.randrange(1_000_000)}P{rng.randint(300, 65000)}.mail"
            if nb not in used:
                used.add(nb)
                break
        new_base = f"{nb},{sizes}" if sizes else nb
        new_name = f"{new_base}:2,{flags or 'S'}{kw}"
        os.rename(os.path.join(f, sub, name), os.path.join(dest, "cur", new_name))
        t = t_sec * NS + rng.randrange(NS)
        touched.add(os.path.join(f, sub), t)
        touched.add(os.path.join(dest, "cur"), t)
        removed_by_folder[f].add(base)
        added_by_folder[dest].append(new_base)
        summary["moved"] += 1
    # deletions (expunge), mostly from Trash and Junk
    moved = set(moves)
    trashy = [i for i in range(total) if os.path.basename(msgs[i][0]) in (".Trash", ".Junk")
              and i not in chosen and i not in moved]
    rng.shuffle(trashy)
    dels = (trashy + dels)[:n_del]
    for i in dels:
        f, sub, name = msgs[i]
        p = os.path.join(f, sub, name)
        if os.path.exists(p):
            os.unlink(p)
            touched.add(os.path.join(f, sub), day_ns(rng))
            removed_by_folder[f].add(split_name(name)[0])
            summary["deleted"] += 1
    # deliveries into new/
    deliver_to = [(root, 0.75)] + [(f, 0.25 / max(1, len(folders) - 1)) for f in folders if os.path.basename(f).startswith((".Lists", ".Junk"))]
    for k in range(n_new):
        f = rng.choices([d for d, _ in deliver_to], [w for _, w in deliver_to])[0]
        t_sec = DAY0 + int(86400 * (k + rng.random()) / n_new)
        data = g.make_message(pools, rng, t_sec, g.mail_size(rng), os.path.basename(f) if f != root else "", 10_000_000 + k)
        size = len(data)
        base = g.dovecot_base(rng, t_sec, size, size + data.count(b"\n"), used)
        mt = t_sec * NS + rng.randrange(NS)
        fd = os.open(os.path.join(f, "new", base), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, data)
            if own:
                os.fchown(fd, *own)
            os.fchmod(fd, 0o600)
            os.utime(fd, ns=(mt, mt))
        finally:
            os.close(fd)
        touched.add(os.path.join(f, "new"), mt)
        added_by_folder[f].append(base)
        summary["delivered"] += 1
    # Dovecot's own files
    for f in folders:
        t = day_ns(rng, 0.9, 1.0)
        ul = os.path.join(f, "dovecot-uidlist")
        if os.path.exists(ul):
            with open(ul, "rb") as fh:
                lines = fh.read().decode().splitlines()
            head, body = lines[0].split(" "), lines[1:]
            if removed_by_folder[f]:
                body = [ln for ln in body if ln.split(" :", 1)[-1] not in removed_by_folder[f]]
            nxt = int(head[2][1:])
            for b in added_by_folder[f]:
                body.append(f"{nxt} :{b}")
                nxt += 1
            head[2] = f"N{nxt}"
            rewrite(ul, ("\n".join([" ".join(head)] + body) + "\n").encode(), t)
        il = os.path.join(f, "dovecot.index.log")
        if os.path.exists(il):
            append(il, g.index_log_record(rng, 20 + len(added_by_folder[f]) * 3 + len(removed_by_folder[f]) * 2), t)
        ix = os.path.join(f, "dovecot.index")
        if os.path.exists(ix):
            sz = os.path.getsize(ix)
            rewrite(ix, rng.randbytes(sz + 40 * (len(added_by_folder[f]) - len(removed_by_folder[f]))), t)
        ic = os.path.join(f, "dovecot.index.cache")
        if os.path.exists(ic) and (added_by_folder[f] or removed_by_folder[f]):
            append(ic, rng.randbytes(180 * len(added_by_folder[f]) + 64), t)
        touched.add(f, t)
    for n in ("dovecot.list.index.log",):
        p = os.path.join(root, n)
        if os.path.exists(p):
            append(p, g.index_log_record(rng, 40), day_ns(rng, 0.95, 1.0))
    ms = os.path.join(root, "maildirsize")
    if os.path.exists(ms):
        append(ms, f"{summary['delivered'] * 30000} {summary['delivered']}\n-{summary['deleted'] * 20000} -{summary['deleted']}\n".encode(),
               day_ns(rng, 0.95, 1.0))
    return summary

# ---------------------------------------------------------------------------
# web


def walk_files(root: str) -> list[str]:
    out = []
    for dp, dns, fns in os.walk(root):
        dns.sort()
        for n in sorted(fns):
            p = os.path.join(dp, n)
            if not os.path.islink(p):
                out.append(p)
    return out


def edit_text(data: bytes, rng: random.Random, pools: g.Pools) -> bytes:
    lines = data.split(b"\n")
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(lines))
        r = rng.random()
        if r < 0.4:
            lines[i] = lines[i] + b" // patched"
        elif r < 0.7:
            lines[i:i] = pools.code_text(rng, rng.randint(40, 600)).rstrip(b"\n").split(b"\n")
        elif len(lines) > 3:
            del lines[i]
    return b"\n".join(lines)


def mutate_web(root: str, seed: int, pools: g.Pools, touched: Touched) -> dict:
    rng = random.Random(seed * 37 + 11)
    files = walk_files(root)
    st_root = os.stat(root)
    own = (st_root.st_uid, st_root.st_gid) if os.geteuid() == 0 else None
    summary = dict(files_before=len(files), plugin_rewritten=0, plugin_added=0, plugin_removed=0,
                   edited=0, touched_only=0, chmod=0, uploads_added=0, cache_removed=0, cache_added=0, symlinks_changed=0)
    # 1. plugin update
    pdir = os.path.join(root, "wp-content", "plugins")
    plugins = sorted(d for d in os.listdir(pdir) if os.path.isdir(os.path.join(pdir, d)) and not os.path.islink(os.path.join(pdir, d)))
    upd_t = day_ns(rng, 0.1, 0.2) // (2 * NS) * 2 * NS   # unzip: even seconds
    if plugins:
        pl = rng.choice(plugins)
        pfiles = [p for p in files if p.startswith(os.path.join(pdir, pl) + os.sep)]
        for p in pfiles:
            with open(p, "rb") as fh:
                data = fh.read()
            if p.endswith((".php", ".js", ".css", ".txt")):
                data = data.replace(b"*/", b"* @version 2.4.1 */", 1) if rng.random() < 0.8 else edit_text(data, rng, pools)
            rewrite(p, data, upd_t)
            summary["plugin_rewritten"] += 1
        for p in pfiles[-3:]:
            if len(pfiles) > 6:
                os.unlink(p)
                touched.add(os.path.dirname(p), upd_t)
                summary["plugin_removed"] += 1
        nd = os.path.join(pdir, pl, "includes", "v2")
        os.makedirs(nd, exist_ok=True)
        os.chmod(nd, 0o755)
        if own:
            os.chown(nd, *own)
        for j in range(5):
            fp = os.path.join(nd, f"{rng.choice(pools.vocab)}-new-{j}.php")
            fd = os.open(fp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, g.web_content(pools, rng, "php", g.web_size(rng, "php"), f"{pl}/includes/v2"))
            if own:
                os.fchown(fd, *own)
            os.fchmod(fd, 0o644)
            os.utime(fd, ns=(upd_t, upd_t))
            os.close(fd)
            summary["plugin_added"] += 1
        touched.add(nd, upd_t)
        touched.add(os.path.join(pdir, pl, "includes"), upd_t)
    # 2. edits elsewhere, touches, chmod
    text = [p for p in files if p.endswith((".php", ".js", ".css")) and "/plugins/" not in p and "/cache/" not in p]
    rng.shuffle(text)
    n_edit = max(2, len(files) * 3 // 1000)
    for p in text[:n_edit]:
        with open(p, "rb") as fh:
            data = fh.read()
        rewrite(p, edit_text(data, rng, pools), day_ns(rng))
        summary["edited"] += 1
    for p in text[n_edit:n_edit + 5]:
        t = day_ns(rng)
        os.utime(p, ns=(t, t))
        summary["touched_only"] += 1
    if len(text) > n_edit + 6:
        os.chmod(text[n_edit + 5], 0o600)
        summary["chmod"] += 1
    # 3. uploads of the day
    up = os.path.join(root, "wp-content", "uploads", "2024", "06")
    if not os.path.isdir(up):
        os.makedirs(up)
    for j in range(max(3, len(files) // 1000)):
        t = day_ns(rng)
        base = f"{rng.choice(pools.vocab)}-upload-{j}"
        size = int(min(4 * g.MiB, rng.lognormvariate(g.math.log(180 * g.KiB), 0.8)))
        for suffix, sz in [("", size), ("-150x150", 9000), ("-300x200", 21000), ("-1024x683", size // 4 + 900)]:
            fp = os.path.join(up, f"{base}{suffix}.jpg")
            fd = os.open(fp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, g.web_content(pools, rng, "jpg", sz, ""))
            if own:
                os.fchown(fd, *own)
            os.fchmod(fd, 0o644)
            os.utime(fd, ns=(t, t))
            os.close(fd)
            summary["uploads_added"] += 1
        touched.add(up, t)
    # 4. page cache churn
    cache = [p for p in files if "/wp-content/cache/" in p]
    rng.shuffle(cache)
    for p in cache[: len(cache) // 2]:
        os.unlink(p)
        touched.add(os.path.dirname(p), day_ns(rng))
        summary["cache_removed"] += 1
    for p in cache[len(cache) // 2: len(cache) // 2 + len(cache) // 4]:
        fp = os.path.join(os.path.dirname(p), "_index_ssl_gzip.html")
        data = g.web_content(pools, rng, "html", rng.randint(4000, 40000), "cache")
        st = os.stat(p)
        fd = os.open(fp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, data)
        if own:
            os.fchown(fd, st.st_uid, st.st_gid)
        os.fchmod(fd, 0o600)
        t = day_ns(rng)
        os.utime(fd, ns=(t, t))
        os.close(fd)
        touched.add(os.path.dirname(p), t)
        summary["cache_added"] += 1
    # 5. symlink re-pointed
    latest = os.path.join(root, "wp-content", "uploads", "latest")
    if os.path.islink(latest):
        os.unlink(latest)
        os.symlink("2024/06", latest)
        if own:
            os.lchown(latest, *own)
        t = day_ns(rng)
        os.utime(latest, ns=(t, t), follow_symlinks=False)
        touched.add(os.path.dirname(latest), t)
        summary["symlinks_changed"] += 1
    return summary

# ---------------------------------------------------------------------------
# db


def mutate_db(root: str, seed: int, pools: g.Pools, touched: Touched) -> dict:
    rng = random.Random(seed * 41 + 13)
    summary = dict(pages_rewritten=0, redo_bytes=0, sql_lines_inserted=0, sql_lines_deleted=0,
                   sql_rows_edited=0, sql_bytes_before=0, sql_bytes_after=0)
    t_db = day_ns(rng, 0.99, 1.0)
    for dp, dns, fns in os.walk(root):
        dns.sort()
        for n in sorted(fns):
            p = os.path.join(dp, n)
            if n.endswith(".ibd") or n == "ibdata1":
                pages = os.path.getsize(p) // g.PAGE
                k = max(1, pages // 100)
                fd = os.open(p, os.O_RDWR)
                try:
                    for pg in sorted(rng.sample(range(pages), min(k, pages))):
                        page = g.innodb_page(pools, rng, pg, 10, 10**12 + rng.randrange(10**9))
                        os.pwrite(fd, page, pg * g.PAGE)
                        summary["pages_rewritten"] += 1
                    # tablespaces grow a little: a few new pages at the end
                    if n.endswith(".ibd") and rng.random() < 0.5:
                        os.pwrite(fd, b"".join(g.innodb_page(pools, rng, pages + j, 10, 10**12 + j) for j in range(4)),
                                  pages * g.PAGE)
                        summary["pages_rewritten"] += 4
                    os.utime(fd, ns=(t_db, t_db))
                finally:
                    os.close(fd)
            elif n == "ib_logfile0":
                size = os.path.getsize(p)
                run = min(size, 8 * g.MiB)
                off = rng.randrange(0, max(1, size - run)) // 512 * 512
                fd = os.open(p, os.O_RDWR)
                try:
                    os.pwrite(fd, pools.binary(rng, run), off)
                    os.utime(fd, ns=(t_db, t_db))
                finally:
                    os.close(fd)
                summary["redo_bytes"] += run
            elif n.endswith(".sql"):
                with open(p, "rb") as fh:
                    data = fh.read()
                summary["sql_bytes_before"] += len(data)
                lines = data.split(b"\n")
                ins = [i for i, ln in enumerate(lines) if ln.startswith(b"INSERT INTO")]
                if len(ins) > 8:
                    # near the start: one INSERT line deleted, two new ones inserted
                    del lines[ins[1]]
                    summary["sql_lines_deleted"] += 1
                    ins = [i for i, ln in enumerate(lines) if ln.startswith(b"INSERT INTO")]
                    for at in (ins[0] + 1, ins[3]):
                        tbl = lines[ins[0]].split(b"`")[1].decode()
                        new, _ = g.sql_insert(pools, rng, tbl, 900_000 + at, rng.randint(8 * g.KiB, 40 * g.KiB))
                        lines.insert(at, new.rstrip(b"\n"))
                        summary["sql_lines_inserted"] += 1
                    # rows edited further in: a short string changes length
                    ins = [i for i, ln in enumerate(lines) if ln.startswith(b"INSERT INTO")]
                    for i in sorted(rng.sample(ins[len(ins) // 4:], min(6, len(ins) // 2))):
                        ln = lines[i]
                        pos = ln.find(b"'publish'", rng.randrange(len(ln) // 2))
                        if pos > 0:
                            lines[i] = ln[:pos] + b"'draft'" + ln[pos + 9:]
                            summary["sql_rows_edited"] += 1
                out = b"\n".join(lines).replace(b"-- Dump completed on 2024-05-31 20:00:01", b"-- Dump completed on 2024-06-01 20:00:02")
                summary["sql_bytes_after"] += len(out)
                rewrite(p, out, day_ns(rng, 0.83, 0.84))
    return summary

# ---------------------------------------------------------------------------


def mutate(d: str, kind: str, seed: int) -> dict:
    t0 = time.monotonic()
    pools = g.Pools(seed + 99)
    touched = Touched()
    old = os.umask(0)
    try:
        if kind == "maildir":
            s = {"maildir": mutate_maildir(d, seed, pools, touched)}
        elif kind == "web":
            s = {"web": mutate_web(d, seed, pools, touched)}
        elif kind == "db":
            s = {"db": mutate_db(d, seed, pools, touched)}
        elif kind == "account":
            s = {}
            for user in sorted(os.listdir(os.path.join(d, "home"))):
                h = os.path.join(d, "home", user)
                if os.path.isdir(os.path.join(h, "Maildir")):
                    s["maildir"] = mutate_maildir(os.path.join(h, "Maildir"), seed, pools, touched)
                if os.path.isdir(os.path.join(h, "public_html")):
                    s["web"] = mutate_web(os.path.join(h, "public_html"), seed, pools, touched)
                if os.path.isdir(os.path.join(h, "backups")):
                    s["db"] = mutate_db(os.path.join(h, "backups"), seed, pools, touched)
        else:
            raise SystemExit(f"unknown kind {kind}")
        touched.apply()
    finally:
        os.umask(old)
    s["seconds"] = round(time.monotonic() - t0, 2)
    return s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--kind", required=True, choices=["maildir", "web", "db", "account"])
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if not os.path.isdir(a.dir):
        sys.exit(f"{a.dir}: not a directory")
    print(json.dumps(mutate(a.dir, a.kind, a.seed)))


if __name__ == "__main__":
    main()
