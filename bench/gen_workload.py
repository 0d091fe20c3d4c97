#!/usr/bin/env python3
"""Generate a deterministic benchmark tree that looks like a hosting account.

    gen_workload.py OUT_DIR --kind maildir|web|db|account [--files N] [--seed S]

Kinds (see bench/README.md for the full description):
  maildir  OUT_DIR is a Dovecot Maildir++ root: INBOX cur/new/tmp plus
           .Sent, .Drafts, .Trash, .Junk, .Archive.YYYY, .Lists.* folders,
           Dovecot file names, realistic mail sizes, index/uidlist files.
           --files = number of messages (default 50000).
  web      OUT_DIR is a WordPress-like web root: core, plugins, themes,
           uploads/YYYY/MM, cache; symlinks (relative, absolute, dangling),
           hard links, an empty directory, modes 0644/0755/0600/0640, a few
           user xattrs and POSIX ACLs. --files = number of files (default 20000).
  db       OUT_DIR holds a mysqldump-like SQL dump and InnoDB-like files of
           16 KiB pages. --size-mib = total size (default 256).
  account  OUT_DIR/home/<user>/{Maildir,public_html,backups}: all three.
           --files = messages; the web root gets files/3 files;
           --size-mib for the database part (default 128 here).

Everything (names, contents, sizes, modes, mtimes with nanoseconds) depends
only on the arguments. Python 3.11 standard library only. The last line on
stdout is a JSON summary (files, dirs, symlinks, bytes, seconds).
"""
from __future__ import annotations

import argparse
import base64
import email.utils
import json
import math
import os
import random
import shutil
import stat
import struct
import sys
import time

KiB = 1024
MiB = 1024 * 1024
NS = 1_000_000_000

# Fixed "now" of the generated world: 2024-06-01 00:00:00 UTC. mutate_workload.py
# puts its day of changes in the 24 hours after this.
WORLD_END = 1717200000
PAGE = 16 * KiB

# ---------------------------------------------------------------------------
# low-level writing helpers


class Stats:
    def __init__(self) -> None:
        self.files = 0
        self.dirs = 0
        self.symlinks = 0
        self.hardlinks = 0
        self.bytes = 0
        self.xattrs = 0
        self.acls = 0
        self.notes: list[str] = []

    def as_dict(self) -> dict:
        return {
            "files": self.files,
            "dirs": self.dirs,
            "symlinks": self.symlinks,
            "hardlinks": self.hardlinks,
            "bytes": self.bytes,
            "xattrs": self.xattrs,
            "acls": self.acls,
            "notes": self.notes,
        }


class Writer:
    """Creates files/dirs with exact modes, owners and ns timestamps."""

    def __init__(self, owner: tuple[int, int] | None, stats: Stats | None = None):
        self.owner = owner
        self.stats = stats or Stats()
        self.dir_times: dict[str, int] = {}  # path -> mtime_ns, applied at the end

    def mkdir(self, path: str, mode: int = 0o755, mtime_ns: int | None = None,
              owner: tuple[int, int] | None = None) -> None:
        if not os.path.isdir(path):
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            os.mkdir(path, mode)
            self.stats.dirs += 1
        os.chmod(path, mode)
        own = owner or self.owner
        if own:
            os.chown(path, *own)
        if mtime_ns is not None:
            self.dir_times[path] = mtime_ns

    def file(self, path: str, data, mode: int = 0o644, mtime_ns: int = 0,
             owner: tuple[int, int] | None = None, atime_ns: int | None = None) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
        try:
            mv = memoryview(data)
            while mv:
                n = os.write(fd, mv)
                mv = mv[n:]
            own = owner or self.owner
            if own:
                os.fchown(fd, *own)
            os.fchmod(fd, mode)  # umask-proof
            os.utime(fd, ns=(atime_ns if atime_ns is not None else mtime_ns + 3600 * NS, mtime_ns))
        finally:
            os.close(fd)
        self.stats.files += 1
        self.stats.bytes += len(data)

    def symlink(self, target: str, path: str, mtime_ns: int,
                owner: tuple[int, int] | None = None) -> None:
        os.symlink(target, path)
        own = owner or self.owner
        if own:
            os.lchown(path, *own)
        os.utime(path, ns=(mtime_ns, mtime_ns), follow_symlinks=False)
        self.stats.symlinks += 1

    def hardlink(self, existing: str, path: str) -> None:
        os.link(existing, path)
        self.stats.hardlinks += 1

    def xattr(self, path: str, name: str, value: bytes) -> None:
        try:
            os.setxattr(path, name, value, follow_symlinks=False)
            self.stats.xattrs += 1
        except OSError as e:
            self.stats.notes.append(f"xattr {name} not set: {e.strerror}")

    def acl(self, path: str, entries: list[tuple[int, int, int]], default: bool = False) -> None:
        """entries: (tag, perm, id). Encodes the kernel's posix_acl xattr format."""
        blob = struct.pack("<I", 2) + b"".join(
            struct.pack("<HHI", tag, perm, ident) for tag, perm, ident in sorted(entries))
        name = "system.posix_acl_default" if default else "system.posix_acl_access"
        try:
            os.setxattr(path, name, blob)
            self.stats.acls += 1
        except OSError as e:
            self.stats.notes.append(f"ACL not set on {os.path.basename(path)}: {e.strerror}")

    def finish(self) -> None:
        """Apply directory mtimes deepest-first (creating entries bumps them)."""
        for path in sorted(self.dir_times, key=lambda p: p.count(os.sep), reverse=True):
            t = self.dir_times[path]
            os.utime(path, ns=(t, t))
        self.dir_times.clear()


ACL_USER_OBJ, ACL_USER, ACL_GROUP_OBJ, ACL_GROUP, ACL_MASK, ACL_OTHER = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
ACL_UNDEF = 0xFFFFFFFF

# ---------------------------------------------------------------------------
# content pools: built once per run from the seed; files are slices of them
# plus unique headers, so generation is memory-copy speed.

_SYL = ["ka", "lo", "mi", "ne", "ta", "ri", "sa", "po", "ve", "du", "an", "el", "or", "us",
        "ing", "er", "th", "qu", "ст", "mo", "li", "ra", "de", "co", "pe", "tr", "gl", "bu"]
_COMMON = ("the of and to a in is you that it he was for on are as with his they at be this "
           "have from or one had by word but not what all were we when your can said there use "
           "an each which she do how their if will up other about out many then them these so "
           "some her would make like him into time has look two more write go see number no way "
           "could people my than first water been call who oil its now find long down day did "
           "get come made may part invoice meeting please regards thanks order shipping account "
           "server backup domain hosting renewal password update report attached schedule").split()


class Pools:
    def __init__(self, seed: int, text_mib: int = 4, bin_mib: int = 8):
        rng = random.Random(seed * 7919 + 17)
        vocab = list(_COMMON)
        for _ in range(4000):
            w = "".join(rng.choice(_SYL) for _ in range(rng.randint(1, 4)))
            vocab.append(w.replace("ст", "st"))
        self.vocab = vocab
        # prose lines, 30..76 chars, a blank line now and then
        words = rng.choices(vocab, k=text_mib * MiB // 5)
        lines, cur, n = [], [], 0
        limit = rng.randint(30, 76)
        for w in words:
            cur.append(w)
            n += len(w) + 1
            if n >= limit:
                line = " ".join(cur)
                lines.append(line[0].upper() + line[1:] + ("." if rng.random() < 0.3 else ""))
                if rng.random() < 0.08:
                    lines.append("")
                cur, n, limit = [], 0, rng.randint(30, 76)
        self.text = ("\n".join(lines) + "\n").encode()
        # code lines (PHP/JS/CSS-ish)
        code_lines = []
        ids = [w for w in vocab if w.isascii()]
        for _ in range(text_mib * MiB // 40):
            a, b, c = rng.choice(ids), rng.choice(ids), rng.choice(ids)
            k = rng.random()
            ind = "\t" * rng.randint(0, 3)
            if k < 0.15:
                code_lines.append(f"{ind}function {a}_{b}( ${c}, $args = array() ) {{")
            elif k < 0.35:
                code_lines.append(f"{ind}${a} = apply_filters( '{b}_{c}', ${a}, $args );")
            elif k < 0.5:
                code_lines.append(f"{ind}if ( ! empty( ${a}['{b}'] ) ) {{")
            elif k < 0.6:
                code_lines.append(f"{ind}}}")
            elif k < 0.7:
                code_lines.append(f"{ind}return esc_html__( '{a} {b} {c}', '{a}' );")
            elif k < 0.8:
                code_lines.append(f"{ind}.{a}-{b} {{ margin: {rng.randint(0, 40)}px; color: #{rng.randrange(1 << 24):06x}; }}")
            elif k < 0.9:
                code_lines.append(f"{ind}// {a} {b} {c} {rng.choice(ids)}")
            else:
                code_lines.append(f"{ind}var {a} = document.querySelector('.{b}-{c}');")
        self.code = ("\n".join(code_lines) + "\n").encode()
        self.rand = rng.randbytes(bin_mib * MiB)
        raw = self.rand[: (bin_mib * MiB * 3 // 4) // 57 * 57]
        self.b64 = base64.encodebytes(raw)  # 76-char lines + \n (77 bytes each)
        self.rng = rng

    @staticmethod
    def _slice(pool: bytes, rng: random.Random, n: int, align_nl: bool) -> bytes:
        if n <= 0:
            return b""
        out = []
        while n > 0:
            off = rng.randrange(0, len(pool) - 1)
            if align_nl:
                nl = pool.find(b"\n", off)
                off = 0 if nl < 0 or nl + 1 >= len(pool) else nl + 1
            chunk = pool[off: off + n]
            out.append(chunk)
            n -= len(chunk)
        return b"".join(out)

    def prose(self, rng: random.Random, n: int) -> bytes:
        b = self._slice(self.text, rng, n, True)
        return b if b.endswith(b"\n") or not b else b[:-1] + b"\n"

    def code_text(self, rng: random.Random, n: int) -> bytes:
        b = self._slice(self.code, rng, n, True)
        return b if b.endswith(b"\n") or not b else b[:-1] + b"\n"

    def base64_lines(self, rng: random.Random, n: int) -> bytes:
        lines = max(1, n // 77)
        out = []
        while lines > 0:
            total = len(self.b64) // 77
            start = rng.randrange(total)
            take = min(lines, total - start)
            out.append(self.b64[start * 77: (start + take) * 77])
            lines -= take
        return b"".join(out)

    def binary(self, rng: random.Random, n: int) -> bytes:
        return self._slice(self.rand, rng, n, False)


def ns_time(rng: random.Random, t: float | int) -> int:
    """Seconds -> ns with a random sub-second part."""
    return int(t) * NS + rng.randrange(NS)


def loguniform(rng: random.Random, lo: float, hi: float) -> float:
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))

# ---------------------------------------------------------------------------
# maildir


MAIL_USER = "alice"
MAIL_DOMAIN = "example.com"
DOVECOT_HOSTS = ["mail", "mx1.example.com", "mail2"]
KEYWORDS = ["$Forwarded", "$Junk", "$NotJunk", "NonJunk", "$label1", "$MDNSent"]
FIRST_YEAR = 2019

# name, share of messages, (time range in seconds before WORLD_END or a year),
# unread fraction, share of unread that is still in new/
def _year_range(y: int) -> tuple[int, int]:
    import calendar
    return calendar.timegm((y, 1, 1, 0, 0, 0)), calendar.timegm((y + 1, 1, 1, 0, 0, 0)) - 1


def mail_folders() -> list[dict]:
    day = 86400
    f = [
        dict(name="", share=0.30, span=(WORLD_END - 400 * day, WORLD_END), unread=0.10, new=0.35),
        dict(name=".Sent", share=0.12, span=(_year_range(FIRST_YEAR)[0], WORLD_END), unread=0.0, new=0.0),
        dict(name=".Drafts", share=0.003, span=(WORLD_END - 300 * day, WORLD_END), unread=0.0, new=0.0),
        dict(name=".Trash", share=0.02, span=(WORLD_END - 30 * day, WORLD_END), unread=0.05, new=0.0),
        dict(name=".Junk", share=0.03, span=(WORLD_END - 30 * day, WORLD_END), unread=0.6, new=0.2),
        dict(name=".Lists.dev", share=0.07, span=(WORLD_END - 730 * day, WORLD_END), unread=0.3, new=0.05),
        dict(name=".Lists.announce", share=0.037, span=(WORLD_END - 730 * day, WORLD_END), unread=0.4, new=0.05),
        dict(name=".Receipts", share=0.02, span=(_year_range(2021)[0], WORLD_END), unread=0.0, new=0.0),
    ]
    shares = [0.05, 0.06, 0.08, 0.10, 0.11]  # Archive.2019 .. 2023
    for i, y in enumerate(range(FIRST_YEAR, 2024)):
        f.append(dict(name=f".Archive.{y}", share=shares[i], span=_year_range(y), unread=0.0, new=0.0))
    return f


def mail_size(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.002:
        return int(loguniform(rng, 1 * MiB, 6 * MiB))      # a few MiB: photos, PDFs
    if r < 0.072:
        return int(loguniform(rng, 50 * KiB, 500 * KiB))   # attachments
    if r < 0.10:
        return int(loguniform(rng, 20 * KiB, 50 * KiB))    # HTML newsletters
    return int(min(20 * KiB, max(1800, rng.lognormvariate(math.log(6000), 0.6))))


_FIRST = ["John", "Maria", "Wei", "Aisha", "Lars", "Sofia", "Ivan", "Chen", "Fatima", "Paul",
          "Olga", "Ahmed", "Emma", "Noah", "Yuki", "Pedro", "Anna", "Omar", "Lena", "Raj"]
_LAST = ["Smith", "Garcia", "Wang", "Khan", "Berg", "Rossi", "Petrov", "Li", "Haddad", "Martin",
         "Novak", "Ali", "Jones", "Brown", "Sato", "Silva", "Muller", "Hassan", "Weber", "Patel"]
_DOMAINS = ["gmail.com", "outlook.com", "example.org", "lists.example.net", "shop.example",
            "bank.example", "yahoo.com", "company.example", "gmx.de", "mail.ru"]


def make_message(pools: Pools, rng: random.Random, t: int, size: int, folder: str, seq: int) -> bytes:
    v = pools.vocab
    first, last, dom = rng.choice(_FIRST), rng.choice(_LAST), rng.choice(_DOMAINS)
    sender = f"{first.lower()}.{last.lower()}@{dom}"
    me = f"{MAIL_USER}@{MAIL_DOMAIN}"
    if folder in (".Sent", ".Drafts"):
        frm, to = f"Alice Example <{me}>", f"{first} {last} <{sender}>"
    else:
        frm, to = f"{first} {last} <{sender}>", f"Alice Example <{me}>"
    date = email.utils.formatdate(t, localtime=False)
    subj = " ".join(rng.choices(v, k=rng.randint(2, 8))).capitalize()
    msgid = f"<{t:x}.{seq:x}.{rng.getrandbits(40):010x}@{dom}>"
    qid = f"{rng.getrandbits(44):011X}"
    dkim = base64.b64encode(rng.randbytes(128)).decode()
    hdr = (
        f"Return-Path: <{sender}>\n"
        f"Delivered-To: {me}\n"
        f"Received: from mail.{dom} (mail.{dom} [198.51.100.{rng.randint(1, 254)}])\n"
        f"\tby mx1.{MAIL_DOMAIN} (Postfix) with ESMTPS id {qid}\n"
        f"\tfor <{me}>; {date}\n"
        f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={dom}; s=sel1;\n"
        f"\tbh={base64.b64encode(rng.randbytes(32)).decode()};\n"
        f"\tb={dkim[:70]}\n\t {dkim[70:]}\n"
        f"Message-ID: {msgid}\n"
        f"Date: {date}\n"
        f"From: {frm}\n"
        f"To: {to}\n"
        f"Subject: {subj}\n"
        f"MIME-Version: 1.0\n"
    ).encode()
    remain = size - len(hdr)
    if size > 40 * KiB:
        boundary = f"----=_Part_{seq}_{rng.getrandbits(32)}"
        fname = f"{rng.choice(v)}_{rng.choice(v)}.{rng.choice(['pdf', 'jpg', 'png', 'docx', 'zip', 'xlsx'])}"
        text = pools.prose(rng, rng.randint(300, 2500))
        pre = (f"Content-Type: multipart/mixed; boundary=\"{boundary}\"\n\n"
               f"This is a multi-part message in MIME format.\n\n--{boundary}\n"
               f"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n").encode()
        mid = (f"\n--{boundary}\nContent-Type: application/octet-stream; name=\"{fname}\"\n"
               f"Content-Transfer-Encoding: base64\n"
               f"Content-Disposition: attachment; filename=\"{fname}\"\n\n").encode()
        post = f"\n--{boundary}--\n".encode()
        att = pools.base64_lines(rng, remain - len(pre) - len(text) - len(mid) - len(post))
        return b"".join((hdr, pre, text, mid, att, post))
    pre = b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
    return b"".join((hdr, pre, pools.prose(rng, remain - len(pre))))


def dovecot_base(rng: random.Random, t: int, size: int, vsize: int, used: set) -> str:
    while True:
        name = f"{t}.M{rng.randrange(1_000_000)}P{rng.randint(300, 65000)}.{rng.choice(DOVECOT_HOSTS)}"
        if name not in used:
            used.add(name)
            return f"{name},S={size},W={vsize}"


def flags_for(rng: random.Random, folder: str, unread: bool) -> str:
    fl = set()
    if not unread:
        fl.add("S")
    if folder == ".Drafts":
        fl.add("D")
    if folder == ".Trash" and rng.random() < 0.3:
        fl.add("T")
    if folder in ("", ) or folder.startswith(".Archive"):
        if rng.random() < 0.15:
            fl.add("R")
        if rng.random() < 0.03:
            fl.add("F")
        if rng.random() < 0.02:
            fl.add("P")
    kw = ""
    if folder == ".Junk":
        kw = "b"
    elif rng.random() < 0.03:
        kw = "a"  # $Forwarded
    elif rng.random() < 0.01:
        kw = "e"
    return "".join(sorted(fl)) + kw


def write_uidlist(w: Writer, folder_dir: str, uidvalidity: int, entries: list[str],
                  rng: random.Random, mtime_ns: int) -> None:
    head = f"3 V{uidvalidity} N{len(entries) + 1} G{rng.getrandbits(128):032x}\n"
    body = "".join(f"{i + 1} :{base}\n" for i, base in enumerate(entries))
    w.file(os.path.join(folder_dir, "dovecot-uidlist"), (head + body).encode(), 0o600, mtime_ns)


def index_log_record(rng: random.Random, n: int) -> bytes:
    """Append-only Dovecot-transaction-log-like records (binary)."""
    out = []
    for _ in range(n):
        payload = rng.randbytes(rng.choice((16, 24, 40, 72)))
        out.append(struct.pack("<II", len(payload) + 8, rng.getrandbits(32)) + payload)
    return b"".join(out)


def gen_maildir(root: str, n_msgs: int, seed: int, w: Writer, pools: Pools) -> None:
    rng = random.Random(seed)
    used: set[str] = set()
    folders = mail_folders()
    total_share = sum(f["share"] for f in folders)
    counts = [int(round(n_msgs * f["share"] / total_share)) for f in folders]
    counts[0] += n_msgs - sum(counts)
    w.mkdir(root, 0o700)
    seq = 0
    newest_all = 0
    for f, cnt in zip(folders, counts):
        fdir = os.path.join(root, f["name"]) if f["name"] else root
        for sub in ("cur", "new", "tmp"):
            w.mkdir(os.path.join(fdir, sub), 0o700)
        lo, hi = f["span"]
        times = sorted(rng.randint(lo, hi) for _ in range(cnt))
        n_unread = int(cnt * f["unread"])
        entries = []
        newest = lo
        for i, t in enumerate(times):
            seq += 1
            size_target = mail_size(rng)
            data = make_message(pools, rng, t, size_target, f["name"], seq)
            size = len(data)
            vsize = size + data.count(b"\n")
            base = dovecot_base(rng, t, size, vsize, used)
            unread = i >= cnt - n_unread if f["name"] == "" else (rng.random() < f["unread"])
            # the newest unread ones of INBOX/Junk/Lists have not been seen by a client yet
            in_new = unread and rng.random() < f["new"] and i >= cnt - max(1, n_unread)
            if in_new:
                path = os.path.join(fdir, "new", base)
            else:
                path = os.path.join(fdir, "cur", base + ":2," + flags_for(rng, f["name"], unread))
            mt = t * NS + rng.randrange(NS)
            w.file(path, data, 0o600, mt, atime_ns=mt + rng.randrange(3600 * NS))
            entries.append(base)
            newest = max(newest, t)
        newest_all = max(newest_all, newest)
        uv = lo - 86400 * rng.randint(1, 90)
        tstamp = newest * NS + rng.randrange(NS)
        write_uidlist(w, fdir, uv, entries, rng, tstamp)
        w.file(os.path.join(fdir, "dovecot-keywords"),
               "".join(f"{i} {k}\n" for i, k in enumerate(KEYWORDS)).encode(), 0o600, tstamp - 86400 * NS * 40)
        idx_hdr = struct.pack("<BBHIIII", 7, 3, 120, uv, len(entries), len(entries) + 1, 0)
        w.file(os.path.join(fdir, "dovecot.index"), idx_hdr + rng.randbytes(120 + 40 * len(entries)), 0o600, tstamp)
        w.file(os.path.join(fdir, "dovecot.index.cache"),
               b"\x01\x00" + rng.randbytes(min(8 * MiB, 180 * len(entries) + 1024)), 0o600, tstamp)
        w.file(os.path.join(fdir, "dovecot.index.log"),
               struct.pack("<BBHII", 1, 3, 40, uv, 1) + index_log_record(rng, 50 + len(entries) // 4), 0o600, tstamp)
        if f["name"]:
            w.file(os.path.join(fdir, "maildirfolder"), b"", 0o600, lo * NS)
        for sub in ("cur", "new", "tmp"):
            w.dir_times[os.path.join(fdir, sub)] = tstamp
        w.dir_times[fdir] = tstamp
    # root-level Dovecot files
    tnow = newest_all * NS + rng.randrange(NS)
    names = [f["name"][1:] for f in folders if f["name"]]
    w.file(os.path.join(root, "subscriptions"), ("V\t2\n\n" + "".join(n.replace(".", "\t") + "\n" for n in names)).encode(), 0o600,
           tnow - 86400 * 30 * NS)
    uv = rng.getrandbits(31)
    w.file(os.path.join(root, "dovecot-uidvalidity"), f"{uv:x}\n".encode(), 0o600, tnow)
    w.file(os.path.join(root, f"dovecot-uidvalidity.{uv:08x}"), b"", 0o444, tnow - 86400 * 900 * NS)
    w.file(os.path.join(root, "dovecot.list.index"), rng.randbytes(2048 + 64 * len(names)), 0o600, tnow)
    w.file(os.path.join(root, "dovecot.list.index.log"), index_log_record(rng, 300), 0o600, tnow)
    w.file(os.path.join(root, "maildirsize"), f"10737418240S,0C\n{w.stats.bytes} {n_msgs}\n".encode(), 0o600, tnow)
    w.dir_times[root] = tnow

# ---------------------------------------------------------------------------
# web


def web_size(rng: random.Random, ext: str) -> int:
    if ext in ("php", "inc"):
        return int(min(200 * KiB, max(120, rng.lognormvariate(math.log(3000), 1.0))))
    if ext in ("js", "css"):
        if rng.random() < 0.05:
            return int(loguniform(rng, 60 * KiB, 400 * KiB))  # minified bundles
        return int(min(150 * KiB, max(100, rng.lognormvariate(math.log(4000), 1.0))))
    if ext in ("json", "txt", "md", "html", "po", "pot", "xml", "svg"):
        return int(min(120 * KiB, max(80, rng.lognormvariate(math.log(2500), 1.0))))
    if ext in ("png", "gif", "woff2", "mo", "ico"):
        return int(min(300 * KiB, max(200, rng.lognormvariate(math.log(6000), 1.1))))
    return int(rng.lognormvariate(math.log(3000), 1.0)) + 100


_BIN_MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "gif": b"GIF89a", "jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
              "woff2": b"wOF2", "mo": b"\xde\x12\x04\x95", "ico": b"\x00\x00\x01\x00", "webp": b"RIFF"}


def web_content(pools: Pools, rng: random.Random, ext: str, size: int, header: str) -> bytes:
    if ext in _BIN_MAGIC:
        return _BIN_MAGIC[ext] + pools.binary(rng, size - len(_BIN_MAGIC[ext]))
    if ext == "php":
        head = f"<?php\n/**\n * {header}\n *\n * @package {header.split('/')[0]}\n */\n\n".encode()
        return head + pools.code_text(rng, size - len(head))
    head = f"/* {header} */\n".encode()
    if ext in ("txt", "md", "po", "pot", "html", "xml", "svg"):
        return head + pools.prose(rng, size - len(head))
    return head + pools.code_text(rng, size - len(head))


def gen_web(root: str, n_files: int, seed: int, w: Writer, pools: Pools, xattrs: bool) -> None:
    rng = random.Random(seed + 1000)
    www = (33, 33) if w.owner else None
    core_t = (WORLD_END - 40 * 86400) * NS  # core files unzipped: whole seconds
    w.mkdir(root, 0o755)
    budget = {"core": int(n_files * 0.20), "plugins": int(n_files * 0.42), "themes": int(n_files * 0.08),
              "cache": int(n_files * 0.04)}
    budget["uploads"] = max(10, n_files - sum(budget.values()) - 20)
    files: list[str] = []

    def put(rel: str, ext: str, mode: int, t_ns: int, owner=None, size: int | None = None) -> str:
        p = os.path.join(root, rel)
        d = os.path.dirname(p)
        if not os.path.isdir(d):
            missing = []
            x = d
            while not os.path.isdir(x):
                missing.append(x)
                x = os.path.dirname(x)
            for x in reversed(missing):
                w.mkdir(x, 0o755, t_ns, owner=owner)
        sz = size if size is not None else web_size(rng, ext)
        w.file(p, web_content(pools, rng, ext, sz, rel), mode, t_ns, owner=owner)
        files.append(p)
        return p

    # root files
    top = [("index.php", "php", 0o644), ("wp-login.php", "php", 0o644), ("xmlrpc.php", "php", 0o644),
           ("wp-cron.php", "php", 0o644), ("wp-load.php", "php", 0o644), ("wp-settings.php", "php", 0o644),
           ("license.txt", "txt", 0o644), ("readme.html", "html", 0o644), ("robots.txt", "txt", 0o644)]
    for rel, ext, mode in top:
        put(rel, ext, mode, core_t)
    put("wp-config.php", "php", 0o600, (WORLD_END - 900 * 86400) * NS + 123456789)
    put(".htaccess", "txt", 0o644, (WORLD_END - 200 * 86400) * NS + 987654321, size=900)
    put(".user.ini", "txt", 0o640, (WORLD_END - 200 * 86400) * NS + 5, size=120)
    put("cgi-bin/stats.cgi", "sh", 0o755, core_t, size=3000)
    put("cgi-bin/mailer.pl", "sh", 0o755, core_t, size=8000)

    # core: wp-admin + wp-includes
    core_dirs = ["wp-admin", "wp-admin/css", "wp-admin/css/colors/midnight", "wp-admin/js", "wp-admin/images",
                 "wp-admin/includes", "wp-admin/network", "wp-admin/user", "wp-includes", "wp-includes/js",
                 "wp-includes/js/tinymce/plugins/wordpress", "wp-includes/js/tinymce/skins/lightgray",
                 "wp-includes/js/dist/vendor", "wp-includes/css/dist/block-library", "wp-includes/images/media",
                 "wp-includes/rest-api/endpoints", "wp-includes/SimplePie/Parse", "wp-includes/Requests/src/Transport",
                 "wp-includes/sodium_compat/src/Core/Curve25519/Ge", "wp-includes/fonts"]
    core_blocks = [f"wp-includes/blocks/{pools.vocab[i * 7 % len(pools.vocab)]}{i}" for i in range(90)]
    core_exts = ["php"] * 5 + ["js"] * 3 + ["css"] * 2 + ["png", "gif", "svg", "json"]
    for i in range(budget["core"]):
        if i % 4 == 0:
            d = core_blocks[i // 4 % len(core_blocks)]
            ext = ["json", "php", "css", "js"][i // 4 % 4 if i < 360 else rng.randrange(4)]
            name = {"json": "block.json", "php": "render.php", "css": "style.min.css", "js": "view.min.js"}[ext]
            if os.path.exists(os.path.join(root, d, name)):
                name = f"{rng.choice(pools.vocab)}-{i}.{ext}"
        else:
            d = rng.choice(core_dirs)
            ext = rng.choice(core_exts)
            name = f"{rng.choice(pools.vocab)}-{rng.choice(pools.vocab)}-{i}.{ext}"
        put(f"{d}/{name}", ext, 0o644, core_t)

    # plugins: each with its own install time (zip: even seconds, no ns)
    n_plugins = max(3, min(45, budget["plugins"] // 150))
    plugins = [f"{rng.choice(pools.vocab)}-{rng.choice(['seo', 'forms', 'cache', 'security', 'shop', 'backup', 'gallery'])}"
               for _ in range(n_plugins)]
    plugins = sorted(set(plugins))
    weights = [rng.paretovariate(1.2) for _ in plugins]
    sw = sum(weights)
    for pi, pl in enumerate(plugins):
        cnt = max(3, int(budget["plugins"] * weights[pi] / sw))
        t_ns = (WORLD_END - rng.randint(2, 700) * 86400) // 2 * 2 * NS
        put(f"wp-content/plugins/{pl}/{pl}.php", "php", 0o644, t_ns)
        put(f"wp-content/plugins/{pl}/readme.txt", "txt", 0o644, t_ns)
        sub = ["includes", "includes/admin", "assets/js", "assets/css", "assets/images", "languages",
               "vendor/composer", f"vendor/{rng.choice(pools.vocab)}/{rng.choice(pools.vocab)}/src",
               f"vendor/{rng.choice(pools.vocab)}/lib/Http", "templates/emails", "blocks/build"]
        for j in range(cnt - 2):
            d = rng.choice(sub)
            ext = {"assets/js": "js", "assets/css": "css", "assets/images": rng.choice(["png", "svg", "gif"]),
                   "languages": rng.choice(["mo", "po"]), "blocks/build": rng.choice(["js", "json", "css"])}.get(d, "php")
            put(f"wp-content/plugins/{pl}/{d}/{rng.choice(pools.vocab)}-{j}.{ext}", ext, 0o644, t_ns)
        if pi % 7 == 0:
            put(f"wp-content/plugins/{pl}/bin/install.sh", "sh", 0o755, t_ns, size=2500)
    put("wp-content/plugins/index.php", "php", 0o644, core_t, size=28)

    # themes
    themes = ["flavor", "flavor-child", "twentytwentyfour"]
    for ti, th in enumerate(themes):
        t_ns = (WORLD_END - rng.randint(10, 400) * 86400) * NS + (rng.randrange(NS) if ti == 1 else 0)
        put(f"wp-content/themes/{th}/style.css", "css", 0o644, t_ns)
        put(f"wp-content/themes/{th}/functions.php", "php", 0o644, t_ns)
        put(f"wp-content/themes/{th}/screenshot.png", "png", 0o644, t_ns, size=180 * KiB)
        for j in range(budget["themes"] // len(themes)):
            d = rng.choice(["template-parts", "inc", "assets/js", "assets/css", "assets/fonts", "patterns", "parts"])
            ext = {"assets/js": "js", "assets/css": "css", "assets/fonts": "woff2", "patterns": "php",
                   "parts": "html"}.get(d, "php")
            put(f"wp-content/themes/{th}/{d}/{rng.choice(pools.vocab)}-{j}.{ext}", ext, 0o644, t_ns)

    # uploads/YYYY/MM: an original and 2-5 resized copies, uploaded with ns times
    up_files = budget["uploads"]
    months = [(y, m) for y in range(2018, 2025) for m in range(1, 13) if (y, m) <= (2024, 5)]
    made = 0
    first_logo = None
    while made < up_files:
        y, m = months[min(len(months) - 1, int(len(months) * (rng.random() ** 0.7)))]
        import calendar
        t0 = calendar.timegm((y, m, 1, 0, 0, 0)) + rng.randint(0, 27 * 86400)
        t_ns = t0 * NS + rng.randrange(NS)
        base = f"{rng.choice(pools.vocab)}-{rng.choice(pools.vocab)}-{made}"
        ext = rng.choice(["jpg"] * 6 + ["png"] * 2 + ["webp", "pdf"])
        size = int(min(4 * MiB, rng.lognormvariate(math.log(180 * KiB), 0.8)))
        p = put(f"wp-content/uploads/{y:04d}/{m:02d}/{base}.{ext}", ext if ext != "pdf" else "jpg", 0o644, t_ns, size=size)
        if first_logo is None and y == 2023:
            first_logo = p
        if xattrs and made % 97 == 0:
            w.xattr(p, "user.mime_type", b"image/jpeg" if ext == "jpg" else b"application/octet-stream")
        made += 1
        if ext in ("jpg", "png", "webp"):
            for wdt, hgt in rng.sample([(150, 150), (300, 200), (768, 512), (1024, 683), (1536, 1024)], rng.randint(2, 5)):
                if made >= up_files:
                    break
                put(f"wp-content/uploads/{y:04d}/{m:02d}/{base}-{wdt}x{hgt}.{ext}", ext, 0o644,
                    t_ns + rng.randrange(2 * NS), size=int(size * wdt * hgt / (2048 * 1365)) + 900)
                made += 1
    # cache: owned by the web server user, private
    cache_t = (WORLD_END - 3600) * NS
    for i in range(budget["cache"]):
        put(f"wp-content/cache/page_enhanced/{rng.choice(pools.vocab)}/{i}/_index_ssl.html", "html", 0o600,
            cache_t - rng.randrange(86400 * NS), owner=www)
    for d in sorted({os.path.dirname(p) for p in files if "/wp-content/cache/" in p}):
        x = d
        while x.startswith(os.path.join(root, "wp-content/cache")):
            w.mkdir(x, 0o750, cache_t, owner=www)
            x = os.path.dirname(x)

    # special entries
    w.mkdir(os.path.join(root, "wp-content/upgrade"), 0o755, core_t)             # empty directory
    w.mkdir(os.path.join(root, "wp-content/uploads/2024/06"), 0o755, core_t)    # empty month
    w.mkdir(os.path.join(root, "tmp-private"), 0o700, core_t)                   # empty, private
    lt = (WORLD_END - 86400 * 5) * NS + 111
    w.symlink("wp-content/themes/flavor-child", os.path.join(root, "current-theme"), lt)        # relative dir
    w.symlink("2024/05", os.path.join(root, "wp-content/uploads/latest"), lt + 1)                 # relative dir
    w.symlink("/var/log/httpd/example.com", os.path.join(root, "logs"), lt + 2)                  # absolute, dangling
    w.symlink("/home/alice/public_html/wp-config.php", os.path.join(root, "wp-config-abs.php"), lt + 3)  # absolute
    w.symlink("../../disabled/old-plugin", os.path.join(root, "wp-content/plugins/old-plugin"), lt + 4)  # dangling
    w.symlink("screenshot.png", os.path.join(root, "wp-content/themes/flavor/screenshot-link.png"), lt + 5)
    # hard links: one pair and one triple
    logo = first_logo or files[-1]
    w.hardlink(logo, os.path.join(root, "wp-content/themes/flavor/logo.png"))
    blank = put("wp-includes/images/blank.gif", "gif", 0o644, core_t, size=43)
    w.hardlink(blank, os.path.join(root, "wp-admin/images/blank.gif"))
    w.hardlink(blank, os.path.join(root, "wp-includes/js/tinymce/skins/lightgray/blank.gif"))
    if xattrs:
        w.xattr(os.path.join(root, "wp-config.php"), "user.backup_tag", b"nightly-2024-05-31")
        w.xattr(os.path.join(root, ".htaccess"), "user.origin", b"cpanel")
        # uploads dir: web server may write (typical setfacl -m u:33:rwx + default ACL)
        up = os.path.join(root, "wp-content/uploads")
        acl = [(ACL_USER_OBJ, 7, ACL_UNDEF), (ACL_USER, 7, 33), (ACL_GROUP_OBJ, 5, ACL_UNDEF),
               (ACL_MASK, 7, ACL_UNDEF), (ACL_OTHER, 5, ACL_UNDEF)]
        w.acl(up, acl)
        w.acl(up, acl, default=True)
        w.acl(os.path.join(root, "wp-config.php"),
              [(ACL_USER_OBJ, 6, ACL_UNDEF), (ACL_USER, 4, 33), (ACL_GROUP_OBJ, 0, ACL_UNDEF),
               (ACL_MASK, 4, ACL_UNDEF), (ACL_OTHER, 0, ACL_UNDEF)])
    # directory mtimes: every dir created gets the newest mtime of files below (approx.)
    for dirpath, dirnames, _ in os.walk(root):
        if dirpath not in w.dir_times:
            w.dir_times[dirpath] = core_t + 7
    w.dir_times[os.path.join(root, "wp-content/uploads")] = (WORLD_END - 3 * 86400) * NS + 42

# ---------------------------------------------------------------------------
# db

_TABLES = [("wp_options", 0.04), ("wp_users", 0.01), ("wp_posts", 0.40), ("wp_postmeta", 0.30),
           ("wp_comments", 0.15), ("wp_woocommerce_order_items", 0.10)]


def sql_row(pools: Pools, rng: random.Random, rid: int, table: str) -> bytes:
    txt = pools.prose(rng, rng.randint(60, 1500)).replace(b"\n", b"\\n").replace(b"'", b"\\'")
    ts = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(WORLD_END - rng.randrange(5 * 365 * 86400)))
    return (f"({rid},{rng.randint(1, 40)},'{ts}','".encode() + txt +
            f"','{rng.choice(pools.vocab)}','publish',{rng.randint(0, 99)})".encode())


def sql_insert(pools: Pools, rng: random.Random, table: str, first_id: int, max_len: int) -> tuple[bytes, int]:
    parts = [f"INSERT INTO `{table}` VALUES ".encode()]
    n, rid = len(parts[0]), first_id
    while n < max_len:
        r = sql_row(pools, rng, rid, table)
        parts.append(r if rid == first_id else b"," + r)
        n += len(r) + 1
        rid += 1
    parts.append(b";\n")
    return b"".join(parts), rid


def innodb_page(pools: Pools, rng: random.Random, page_no: int, space: int, lsn: int) -> bytes:
    fill = rng.randint(PAGE // 2, PAGE - 200)
    hdr = struct.pack(">IIIIQHQI", 0, page_no, max(0, page_no - 1), page_no + 1, lsn, 17855, 0, space)
    body = pools.binary(rng, fill - len(hdr))
    page = bytearray(hdr + body + bytes(PAGE - fill - 8) + struct.pack(">II", 0, lsn & 0xFFFFFFFF))
    crc = (sum(page[4:64]) * 2654435761 + page_no) & 0xFFFFFFFF
    page[0:4] = struct.pack(">I", crc)
    return bytes(page)


def gen_db(root: str, size_mib: int, seed: int, w: Writer, pools: Pools) -> None:
    rng = random.Random(seed + 2000)
    total = size_mib * MiB
    w.mkdir(root, 0o750)
    mysql = os.path.join(root, "mysql", "alice_wp")
    w.mkdir(os.path.join(root, "mysql"), 0o750)
    w.mkdir(mysql, 0o750)
    dump_t = (WORLD_END - 4 * 3600) * NS + 500_000_001
    # SQL dump, ~40%: mysqldump layout, extended INSERTs of ~64 KiB
    sql_budget = int(total * 0.40)
    parts = [b"-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)\n--\n-- Host: localhost    Database: alice_wp\n"
             b"-- ------------------------------------------------------\n-- Server version\t8.0.36\n\n"
             b"/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n/*!50503 SET NAMES utf8mb4 */;\n\n"]
    n = len(parts[0])
    for table, share in _TABLES:
        head = (f"--\n-- Table structure for table `{table}`\n--\n\nDROP TABLE IF EXISTS `{table}`;\n"
                f"CREATE TABLE `{table}` (\n  `ID` bigint unsigned NOT NULL AUTO_INCREMENT,\n"
                f"  `author` bigint unsigned NOT NULL DEFAULT '0',\n  `date` datetime NOT NULL,\n"
                f"  `content` longtext NOT NULL,\n  `name` varchar(200) NOT NULL DEFAULT '',\n"
                f"  `status` varchar(20) NOT NULL DEFAULT 'publish',\n  `ord` int NOT NULL DEFAULT '0',\n"
                f"  PRIMARY KEY (`ID`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;\n\n"
                f"LOCK TABLES `{table}` WRITE;\n/*!40000 ALTER TABLE `{table}` DISABLE KEYS */;\n").encode()
        parts.append(head)
        n += len(head)
        target = n + int(sql_budget * share)
        rid = 1
        while n < target:
            line, rid = sql_insert(pools, rng, table, rid, rng.randint(16 * KiB, 64 * KiB))
            parts.append(line)
            n += len(line)
        tail = f"/*!40000 ALTER TABLE `{table}` ENABLE KEYS */;\nUNLOCK TABLES;\n\n".encode()
        parts.append(tail)
        n += len(tail)
    parts.append(b"-- Dump completed on 2024-05-31 20:00:01\n")
    w.file(os.path.join(root, "alice_wp.sql"), b"".join(parts), 0o600, dump_t)
    del parts
    # InnoDB-like tablespaces of 16 KiB pages
    files = [("wp_posts.ibd", 0.25), ("wp_postmeta.ibd", 0.15), ("wp_options.ibd", 0.04),
             ("wp_comments.ibd", 0.04)]
    lsn = 987_654_321_000
    space = 10
    for name, share in files:
        pages = max(4, int(total * share) // PAGE)
        buf = bytearray()
        for p in range(pages):
            lsn += rng.randint(100, 5000)
            buf += innodb_page(pools, rng, p, space, lsn)
        w.file(os.path.join(mysql, name), buf, 0o640, (WORLD_END - rng.randint(60, 7200)) * NS + rng.randrange(NS))
        space += 1
    w.file(os.path.join(mysql, "db.opt"), b"default-character-set=utf8mb4\ndefault-collation=utf8mb4_unicode_520_ci\n",
           0o640, (WORLD_END - 800 * 86400) * NS)
    # system tablespace and redo log
    pages = max(4, int(total * 0.04) // PAGE)
    w.file(os.path.join(root, "mysql", "ibdata1"),
           b"".join(innodb_page(pools, rng, p, 0, lsn + p) for p in range(pages)), 0o640, (WORLD_END - 30) * NS + 1)
    redo = max(PAGE, int(total * 0.08) // PAGE * PAGE)
    w.file(os.path.join(root, "mysql", "ib_logfile0"), pools.binary(rng, redo), 0o640, (WORLD_END - 1) * NS + 2)
    w.dir_times[mysql] = (WORLD_END - 60) * NS + 3
    w.dir_times[os.path.join(root, "mysql")] = (WORLD_END - 60) * NS + 4
    w.dir_times[root] = dump_t

# ---------------------------------------------------------------------------


def parse_owner(s: str) -> tuple[int, int] | None:
    if s == "none":
        return None
    if s == "auto":
        return (1000, 1000) if os.geteuid() == 0 else None
    u, _, g = s.partition(":")
    return int(u), int(g or u)


def generate(out: str, kind: str, files: int | None, seed: int, size_mib: int | None,
             owner: tuple[int, int] | None, xattrs: bool) -> dict:
    t0 = time.monotonic()
    stats = Stats()
    w = Writer(owner, stats)
    pools = Pools(seed)
    old_umask = os.umask(0)
    try:
        if kind == "maildir":
            gen_maildir(out, files or 50000, seed, w, pools)
        elif kind == "web":
            gen_web(out, files or 20000, seed, w, pools, xattrs)
        elif kind == "db":
            gen_db(out, size_mib or 256, seed, w, pools)
        elif kind == "account":
            n = files or 50000
            home = os.path.join(out, "home")
            user = os.path.join(home, "alice")
            w.mkdir(out, 0o755)
            w.mkdir(home, 0o711, owner=(0, 0) if owner else None)
            w.mkdir(user, 0o711)
            gen_maildir(os.path.join(user, "Maildir"), n, seed, w, pools)
            gen_web(os.path.join(user, "public_html"), max(100, n // 3), seed, w, pools, xattrs)
            gen_db(os.path.join(user, "backups"), size_mib or 128, seed, w, pools)
            w.file(os.path.join(user, ".bashrc"), b"# .bashrc\nalias ll='ls -l'\n", 0o644, (WORLD_END - 999 * 86400) * NS)
            w.mkdir(os.path.join(user, ".ssh"), 0o700, (WORLD_END - 500 * 86400) * NS)
            w.file(os.path.join(user, ".ssh", "authorized_keys"),
                   b"ssh-ed25519 " + base64.b64encode(pools.rng.randbytes(51)) + b" alice@laptop\n", 0o600,
                   (WORLD_END - 500 * 86400) * NS + 77)
            w.symlink("public_html", os.path.join(user, "www"), (WORLD_END - 999 * 86400) * NS)
            w.dir_times[user] = (WORLD_END - 3600) * NS + 9
            w.dir_times[home] = (WORLD_END - 999 * 86400) * NS
            w.dir_times[out] = (WORLD_END - 999 * 86400) * NS
        else:
            raise SystemExit(f"unknown kind {kind}")
        w.finish()
    finally:
        os.umask(old_umask)
    d = stats.as_dict()
    d.update(kind=kind, seed=seed, seconds=round(time.monotonic() - t0, 2))
    return d


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--kind", required=True, choices=["maildir", "web", "db", "account"])
    ap.add_argument("--files", type=int, default=None, help="messages (maildir/account) or files (web)")
    ap.add_argument("--size-mib", type=int, default=None, help="db size (default 256; 128 in account)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--owner", default="auto",
                    help="UID:GID for files; 'auto' = 1000:1000 when root (www-data 33 for the web cache), "
                         "'none' = leave as the current user")
    ap.add_argument("--no-xattrs", action="store_true", help="do not set user xattrs and POSIX ACLs")
    ap.add_argument("--force", action="store_true", help="remove OUT if it exists")
    a = ap.parse_args()
    if os.path.lexists(a.out):
        if not a.force and (not os.path.isdir(a.out) or os.listdir(a.out)):
            sys.exit(f"{a.out} exists and is not empty (use --force to replace it)")
        if a.force:
            shutil.rmtree(a.out) if os.path.isdir(a.out) and not os.path.islink(a.out) else os.unlink(a.out)
    summary = generate(a.out, a.kind, a.files, a.seed, a.size_mib, parse_owner(a.owner), not a.no_xattrs)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
