#!/usr/bin/env python3
"""A real Dovecot judges ferry's Maildir sync.

Starts Dovecot (its own config in a temporary directory, a loopback port, no
system config or services), builds a Maildir account over IMAP, changes it the
way mail clients do (flags set and cleared, expunges, moves between folders,
new messages), syncs SRC -> DST with the ferry binary, starts a second Dovecot
on DST and compares every folder over IMAP: UIDVALIDITY, UIDNEXT and, per
message, UID, flags, INTERNALDATE, size and a hash of the body. They must be
identical after stage one and after each of two delta passes, and the delta
passes must make flag changes and moves by renaming on DST, not by sending.

With --remote-shell STANDIN the syncs are pushes through a remote shell
(tests/remote_shell_standin.sh runs the remote ferry on this machine):
SRC -> testhost:DST, --mail negotiated over the wire.

Usage: dovecot_sync_test.py FERRY_BINARY [--remote-shell STANDIN]
Exit status: 0 passed, 1 failed, 77 skipped (no dovecot binary).
"""

import hashlib
import imaplib
import json
import os
import pwd
import grp
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
USER = "alice"
PASSWORD = "secret"


def find_dovecot():
    for d in ("/usr/sbin", "/usr/local/sbin", "/sbin"):
        p = os.path.join(d, "dovecot")
        if os.access(p, os.X_OK):
            return p
    return shutil.which("dovecot")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dovecot:
    """One Dovecot serving USER's Maildir under `home` on a loopback port."""

    def __init__(self, binary, work, home, mail_uid, mail_gid):
        self.binary = binary
        self.work = work
        self.home = home
        self.port = free_port()
        self.proc = None
        os.makedirs(os.path.join(work, "run"), exist_ok=True)
        os.makedirs(os.path.join(work, "state"), exist_ok=True)
        me = pwd.getpwuid(os.getuid()).pw_name
        if os.getuid() == 0:
            login_user, internal_user = "dovenull", "dovecot"
            for u in (login_user, internal_user):
                try:
                    pwd.getpwnam(u)
                except KeyError:
                    login_user = internal_user = "nobody"
        else:
            login_user = internal_user = me
        with open(os.path.join(work, "passwd"), "w") as f:
            f.write("%s:{PLAIN}%s:%d:%d::%s::\n" % (USER, PASSWORD, mail_uid, mail_gid, home))
        self.conf = os.path.join(work, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {work}/run
state_dir = {work}/state
log_path = {work}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:~/Maildir
mail_fsync = never
namespace inbox {{
  inbox = yes
  mailbox Archive {{
    auto = create
  }}
  mailbox Sent {{
    auto = create
  }}
}}
passdb {{
  driver = passwd-file
  args = {work}/passwd
}}
userdb {{
  driver = passwd-file
  args = {work}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
""")

    def start(self):
        self.proc = subprocess.Popen([self.binary, "-c", self.conf, "-F"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("dovecot exited: %s\n%s" % (
                    self.proc.stdout.read().decode(errors="replace"), self.log()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("dovecot did not listen on port %d\n%s" % (self.port, self.log()))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log(self):
        try:
            with open(os.path.join(self.work, "dovecot.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return "(no log)"

    def connect(self):
        c = imaplib.IMAP4("127.0.0.1", self.port)
        c.login(USER, PASSWORD)
        return c


def ok(resp, what):
    typ, data = resp
    if typ != "OK":
        raise RuntimeError("%s: %s %r" % (what, typ, data))
    return data


def folders(c):
    out = []
    for line in ok(c.list(), "LIST"):
        m = re.match(rb'\((.*?)\) (?:"(.*?)"|NIL) (.*)$', line)
        name = m.group(3).decode()
        if name.startswith('"'):
            name = name[1:-1]
        if "\\Noselect" not in m.group(1).decode():
            out.append(name)
    return sorted(out)


def snapshot(server):
    """What a mail client sees: per folder UIDVALIDITY, UIDNEXT and messages."""
    c = server.connect()
    try:
        snap = {}
        for name in folders(c):
            st = ok(c.status('"%s"' % name, "(UIDVALIDITY UIDNEXT MESSAGES)"), "STATUS")[0].decode()
            uidvalidity = int(re.search(r"UIDVALIDITY (\d+)", st).group(1))
            uidnext = int(re.search(r"UIDNEXT (\d+)", st).group(1))
            count = int(re.search(r"MESSAGES (\d+)", st).group(1))
            ok(c.select('"%s"' % name, readonly=True), "EXAMINE " + name)
            msgs = {}
            if count:
                data = ok(c.uid("FETCH", "1:*", "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])"),
                          "FETCH " + name)
                for item in data:
                    if not isinstance(item, tuple):
                        continue
                    head, body = item
                    head = head.decode()
                    uid = int(re.search(r"UID (\d+)", head).group(1))
                    flags = sorted(f for f in re.search(r"FLAGS \((.*?)\)", head).group(1).split()
                                   if f != "\\Recent")  # per session, not stored state
                    msgs[uid] = {
                        "flags": flags,
                        "internaldate": re.search(r'INTERNALDATE "(.*?)"', head).group(1),
                        "size": int(re.search(r"RFC822.SIZE (\d+)", head).group(1)),
                        "body": hashlib.sha256(body).hexdigest(),
                    }
            ok(c.close(), "CLOSE") if count else None
            snap[name] = {"uidvalidity": uidvalidity, "uidnext": uidnext, "messages": msgs}
        return snap
    finally:
        c.logout()


def diff(a, b):
    lines = []
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            lines.append("folder %s only on %s" % (name, "DST" if name not in a else "SRC"))
            continue
        fa, fb = a[name], b[name]
        for k in ("uidvalidity", "uidnext"):
            if fa[k] != fb[k]:
                lines.append("%s: %s SRC %s DST %s" % (name, k, fa[k], fb[k]))
        for uid in sorted(set(fa["messages"]) | set(fb["messages"])):
            ma, mb = fa["messages"].get(uid), fb["messages"].get(uid)
            if ma != mb:
                lines.append("%s UID %d: SRC %s DST %s" % (name, uid, ma, mb))
    return lines


def message(n, size):
    body = ("Line %d of a message body that fills it up.\r\n" % n) * (size // 45 + 1)
    return ("From: sender%d@example.org\r\nTo: alice@example.org\r\nSubject: message %d\r\n"
            "Message-ID: <%d@example.org>\r\n\r\n%s" % (n, n, n, body)).encode()


def append(c, folder, n, flags=""):
    date = imaplib.Time2Internaldate(1600000000 + n * 3607)
    ok(c.append('"%s"' % folder, flags, date, message(n, 1500 + (n * 311) % 9000)), "APPEND")


def uids(c, folder):
    ok(c.select('"%s"' % folder), "SELECT " + folder)
    data = ok(c.uid("SEARCH", None, "ALL"), "SEARCH")
    return [int(x) for x in data[0].split()]


def build(server):
    c = server.connect()
    for n in range(40):
        append(c, "INBOX", n, "(\\Seen)" if n % 3 == 0 else "")
    for n in range(40, 50):
        append(c, "Sent", n, "(\\Seen)")
    for n in range(50, 55):
        append(c, "Archive", n, "(\\Seen \\Answered)")
    # Let Dovecot index every folder (and move new/ to cur/ for INBOX).
    for f in ("INBOX", "Sent", "Archive"):
        uids(c, f)
    c.logout()


def delta_one(server):
    c = server.connect()
    u = uids(c, "INBOX")
    ok(c.uid("STORE", ",".join(map(str, u[0:8])), "+FLAGS", "(\\Seen)"), "STORE")
    ok(c.uid("STORE", ",".join(map(str, u[8:11])), "+FLAGS", "(\\Flagged)"), "STORE")
    ok(c.uid("STORE", str(u[0]), "-FLAGS", "(\\Seen)"), "STORE")
    ok(c.uid("STORE", ",".join(map(str, u[11:14])), "+FLAGS", "(\\Deleted)"), "STORE")
    ok(c.expunge(), "EXPUNGE")
    ok(c.uid("MOVE", ",".join(map(str, u[14:18])), "Archive"), "MOVE")
    for n in range(60, 64):
        append(c, "INBOX", n)
    for f in ("INBOX", "Sent", "Archive"):
        uids(c, f)
    c.logout()


def delta_two(server):
    c = server.connect()
    u = uids(c, "Archive")
    ok(c.uid("STORE", ",".join(map(str, u[:3])), "-FLAGS", "(\\Answered)"), "STORE")
    ok(c.uid("STORE", str(u[-1]), "+FLAGS", "(\\Deleted)"), "STORE")
    ok(c.expunge(), "EXPUNGE")
    u = uids(c, "INBOX")
    ok(c.uid("MOVE", ",".join(map(str, u[-3:])), "Sent"), "MOVE")
    ok(c.uid("STORE", ",".join(map(str, u[:5])), "+FLAGS", "(\\Seen \\Flagged)"), "STORE")
    append(c, "Sent", 70, "(\\Seen)")
    for f in ("INBOX", "Sent", "Archive"):
        uids(c, f)
    c.logout()


def sync(ferry, src, dst, scratch, standin=None):
    cmd = [ferry, "sync", "--delete", "--no-progress", "--json"]
    if standin:
        cmd += ["-e", standin, "--remote-ferry", ferry, src + "/", "testhost:" + dst + "/"]
    else:
        cmd += [src + "/", dst + "/"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("ferry failed (%d):\n%s\n%s" % (p.returncode, p.stdout, p.stderr))
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    return p.stdout, summary


def main():
    args = sys.argv[1:]
    standin = None
    if len(args) == 3 and args[1] == "--remote-shell":
        standin = os.path.abspath(args[2])
        args = args[:1]
    if len(args) != 1:
        print(__doc__)
        return 1
    ferry = os.path.abspath(args[0])
    binary = find_dovecot()
    if not binary:
        print("SKIP: the dovecot binary is not installed (Debian package dovecot-imapd)")
        return SKIP
    root = tempfile.mkdtemp(prefix="ferry-dovecot-")
    os.chmod(root, 0o755)  # the mail user must reach the homes
    if os.getuid() == 0:
        mail_uid, mail_gid = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
    else:
        mail_uid, mail_gid = os.getuid(), os.getgid()
    src_home, dst_home = os.path.join(root, "src"), os.path.join(root, "dst")
    for h in (src_home, dst_home):
        os.makedirs(h)
        os.chown(h, mail_uid, mail_gid)
    src = Dovecot(binary, os.path.join(root, "dovecot-src"), src_home, mail_uid, mail_gid)
    dst = Dovecot(binary, os.path.join(root, "dovecot-dst"), dst_home, mail_uid, mail_gid)
    failures = []
    try:
        src.start()
        stages = [("stage one", build), ("delta pass 1", delta_one), ("delta pass 2", delta_two)]
        for stage, change in stages:
            change(src)
            out, summary = sync(ferry, src_home, dst_home, root, standin)
            dst.start()
            try:
                a, b = snapshot(src), snapshot(dst)
            finally:
                dst.stop()
            d = diff(a, b)
            total = sum(len(f["messages"]) for f in a.values())
            print("%s: %d folders, %d messages; ferry renamed %d files, sent %d bytes" % (
                stage, len(a), total, summary["renamed_files"], summary["literal_bytes"]))
            if total == 0:
                failures.append("%s: SRC shows no messages (the test built nothing)" % stage)
            if d:
                failures.append("%s: SRC and DST differ over IMAP:\n  %s\n--- ferry -i:\n%s" % (
                    stage, "\n  ".join(d[:30]), out))
            if stage != "stage one":
                # Flag changes and moves are renames on DST: their bodies are
                # not sent again.
                events = [json.loads(l) for l in out.splitlines() if l.strip()]
                moved = [e for e in events if e.get("event") == "file" and e.get("action") == "rename"]
                if summary["renamed_files"] < 5 or len(moved) != summary["renamed_files"]:
                    failures.append("%s: expected the flag changes and moves as renames, got %d:\n%s"
                                    % (stage, summary["renamed_files"], out))
                if summary["transferred_files"] and summary["literal_bytes"] > 80000:
                    failures.append("%s: %d bytes sent for a handful of new messages:\n%s"
                                    % (stage, summary["literal_bytes"], out))
        oracle = subprocess.run(
            ["rsync", "-aHAXc", "--dry-run", "--itemize-changes", "--delete", "--modify-window=-1",
             "--exclude=tmp/*", src_home + "/", dst_home + "/"], capture_output=True, text=True)
        if shutil.which("rsync") and (oracle.returncode != 0 or oracle.stdout):
            # The DST Dovecot of the last comparison touched DST's index; sync
            # once more and DST must be a faithful copy again.
            sync(ferry, src_home, dst_home, root, standin)
            oracle = subprocess.run(oracle.args, capture_output=True, text=True)
            if oracle.stdout:
                failures.append("rsync still sees differences:\n" + oracle.stdout)
    except Exception as e:  # report what Dovecot said
        failures.append("%s: %s\n--- SRC dovecot log:\n%s\n--- DST dovecot log:\n%s" % (
            type(e).__name__, e, src.log(), dst.log()))
    finally:
        src.stop()
        dst.stop()
        shutil.rmtree(root, ignore_errors=True)
    if failures:
        print("FAILED\n" + "\n\n".join(failures))
        return 1
    print("PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
