// VerifyTrees finds each kind of difference a migration can leave behind,
// one test per kind, on each I/O backend; and it reports nothing on a copy
// made by `ferry sync` (RunLocalSync) or by `rsync -aHAX`.
#include "engine/verify/verify.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <vector>

#include "engine/io/fault_backend.h"
#include "tests/engine/transfer/sync_test_util.h"

namespace ferry::sync_test {
namespace {

class VerifyRecorder : public VerifyEvents {
 public:
  void OnDifference(const Difference& d) override {
    std::lock_guard<std::mutex> l(mu_);
    diffs.push_back(d);
    lines.push_back(d.Itemized() + " " + d.path + d.Suffix());
  }
  void OnError(const Status& e) override {
    std::lock_guard<std::mutex> l(mu_);
    errors.push_back(e);
  }
  void OnWarning(std::string_view m) override {
    std::lock_guard<std::mutex> l(mu_);
    warnings.emplace_back(m);
  }

  std::vector<Difference> diffs;
  std::vector<std::string> lines;  // as `ferry verify` prints them
  std::vector<Status> errors;
  std::vector<std::string> warnings;

 private:
  std::mutex mu_;
};

struct VerifyRun {
  std::optional<Status> failed;
  VerifyOutcome outcome;
  VerifyRecorder events;

  bool Has(const std::string& line) const {
    return std::find(events.lines.begin(), events.lines.end(), line) != events.lines.end();
  }
  std::string Dump() const {
    std::string s = failed ? "  status: " + failed->message() + "\n" : "";
    for (const std::string& l : events.lines) s += "  " + l + "\n";
    for (const Status& e : events.errors) s += "  error " + e.message() + "\n";
    for (const std::string& w : events.warnings) s += "  warning " + w + "\n";
    return s;
  }
};

class VerifyTest : public SyncTest {
 protected:
  VerifyOptions VOptions() const {
    VerifyOptions o;
    o.io = GetParam().kind;
    o.jobs = 4;
    return o;
  }
  std::unique_ptr<VerifyRun> Verify(const VerifyOptions& o, const std::string& src,
                                    const std::string& dst) {
    auto run = std::make_unique<VerifyRun>();
    auto r = VerifyTrees(VerifyRequest{src, dst}, o, run->events);
    if (r.ok()) run->outcome = *r;
    else run->failed = r.status();
    return run;
  }
  // `ferry verify SRC/ DST/` with the default options.
  std::unique_ptr<VerifyRun> Verify() { return Verify(VOptions(), src_ + "/", dst_ + "/"); }

  // A synced copy that verifies clean, ready to be damaged by a test.
  void SyncedCopy() {
    auto s = Sync();
    ASSERT_TRUE(s->clean()) << s->Dump();
    auto v = Verify();
    ASSERT_TRUE(v->outcome.identical() && !v->failed) << "fresh copy differs:\n" << v->Dump();
  }

  // Puts back DST's directory mtimes, which a test's own changes moved.
  void RestoreDirTimes() {
    for (const auto& [rel, d] : Listing(src_)) {
      std::string sp = rel == "." ? src_ : S(rel), dp = rel == "." ? dst_ : D(rel);
      struct stat st = LStat(sp), dt;
      if (S_ISDIR(st.st_mode) && ::lstat(dp.c_str(), &dt) == 0 && S_ISDIR(dt.st_mode))
        SetTimes(dp, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    }
  }

  // Exactly these lines were reported, in any order, and nothing failed.
  void ExpectOnly(const VerifyRun& v, std::vector<std::string> want) {
    std::vector<std::string> got = v.events.lines;
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want) << v.Dump();
    EXPECT_TRUE(v.events.errors.empty()) << v.Dump();
    EXPECT_FALSE(v.failed.has_value()) << v.Dump();
    EXPECT_EQ(v.outcome.differences, want.size());
  }

  // Every kind of entry and metadata `ferry sync` preserves.
  void BuildRichTree() {
    const std::vector<std::pair<std::string, size_t>> files = {
        {"empty", 0},         {"one", 1},           {"page", 4096},
        {"just_small", 256 * 1024}, {"just_large", 256 * 1024 + 1},
        {"big", 3 * 1024 * 1024 + 17},
    };
    unsigned seed = 1;
    for (const auto& [name, size] : files) WriteFile(S(name), Pattern(size, seed++));
    for (int i = 0; i < 150; ++i)
      WriteFile(S("many/f" + std::to_string(i)), Pattern(static_cast<size_t>(i * 37), seed++));
    WriteFile(S("a/b/c/deep.txt"), "deep", 0600);
    MakeDirs(S("emptydir"));
    Chmod(S("emptydir"), 0750);
    Symlink("one", S("link"));
    Symlink("does/not/exist", S("dangling"));
    Symlink(std::string(300, 'x'), S("a/longlink"));
    HardLink(S("one"), S("a/one_again"));
    HardLink(S("big"), S("a/b/big_again"));
    ASSERT_EQ(::mkfifo(S("fifo").c_str(), 0640), 0);
    if (SetXattr(S("page"), "user.note", "hello") != 0) xattrs_ = false;
    if (xattrs_) (void)SetXattr(S("a"), "user.dir", "d");
    SetTimes(S("one"), 1600000000, 123456789);
    SetTimes(S("a/b/c"), 1500000000, 1);
  }

  bool xattrs_ = true;
};

TEST_P(VerifyTest, CopyMadeByFerrySyncIsIdentical) {
  BuildRichTree();
  auto s = Sync();
  ASSERT_TRUE(s->clean()) << s->Dump();
  auto v = Verify();
  ExpectOnly(*v, {});
  EXPECT_TRUE(v->outcome.identical());
  // Every regular file was hashed on both sides: 6 + 150 + deep.txt + the
  // two hard links (each path is compared), the empty one excluded.
  uint64_t files = 0, bytes = 0;
  for (const auto& [p, d] : Listing(src_)) {
    struct stat st = LStat(p == "." ? src_ : S(p));
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
      ++files;
      bytes += static_cast<uint64_t>(st.st_size);
    }
  }
  EXPECT_EQ(v->outcome.files_hashed, 2 * files);
  EXPECT_EQ(v->outcome.bytes_hashed, 2 * bytes);
  EXPECT_EQ(v->outcome.entries, Listing(src_).size());
}

TEST_P(VerifyTest, CopyMadeByRsyncIsIdentical) {
  BuildRichTree();
  // rsync compares mtimes to the second: an entry it creates in the second
  // its source was made keeps its own nanoseconds. Sources of a migration
  // are older than that; make these so too (children before parents).
  auto all = Listing(src_);
  int64_t sec = 1600000000;
  for (auto it = all.rbegin(); it != all.rend(); ++it)
    SetTimes(it->first == "." ? src_ : S(it->first), sec++, 123456789);
  std::string out;
  int rc = Shell("rsync -aHAX --numeric-ids '" + src_ + "/' '" + dst_ + "/' 2>&1", &out);
  if (rc == 127 * 256 || out.find("not found") != std::string::npos)
    GTEST_SKIP() << "rsync is not installed: " << out;
  ASSERT_EQ(rc, 0) << out;
  auto v = Verify();
  ExpectOnly(*v, {});
}

TEST_P(VerifyTest, OneByteOfContentWithSameSizeAndMtime) {
  WriteFile(S("small"), Pattern(1000, 1));
  WriteFile(S("large"), Pattern(3 * 1024 * 1024 + 5, 2));
  WriteFile(S("same"), Pattern(2000, 3));
  SyncedCopy();
  for (const auto& [name, at] : {std::pair<std::string, size_t>{"small", 999}, {"large", 2 * 1024 * 1024}}) {
    struct stat before = LStat(D(name));
    std::string c = ReadFile(D(name));
    c[at] = static_cast<char>(c[at] ^ 1);
    WriteFile(D(name), c);
    SetTimes(D(name), before.st_mtim.tv_sec, before.st_mtim.tv_nsec);
  }
  auto v = Verify();
  ExpectOnly(*v, {">fc........ small", ">fc........ large"});
  for (const Difference& d : v->events.diffs) {
    ASSERT_TRUE(d.src_hash && d.dst_hash) << d.path;
    EXPECT_NE(d.src_hash->Hex(), d.dst_hash->Hex());
  }
}

TEST_P(VerifyTest, SizeDiffersIsContentAndSize) {
  WriteFile(S("file"), "short");
  SyncedCopy();
  struct stat before = LStat(D("file"));
  WriteFile(D("file"), "longer content");
  SetTimes(D("file"), before.st_mtim.tv_sec, before.st_mtim.tv_nsec);
  ExpectOnly(*Verify(), {">fcs....... file"});
}

TEST_P(VerifyTest, MtimeOffByOneNanosecond) {
  WriteFile(S("file"), "f");
  MakeDirs(S("dir"));
  SetTimes(S("file"), 1700000000, 500);
  SetTimes(S("dir"), 1700000000, 999999999);
  SyncedCopy();
  SetTimes(D("file"), 1700000000, 501);
  SetTimes(D("dir"), 1700000000, 999999998);
  ExpectOnly(*Verify(), {".f..t...... file", ".d..t...... dir/"});
}

TEST_P(VerifyTest, PermissionBits) {
  WriteFile(S("file"), "f", 0640);
  SyncedCopy();
  Chmod(D("file"), 0644);
  ExpectOnly(*Verify(), {".f...p..... file"});
}

TEST_P(VerifyTest, OwnerAndGroup) {
  if (!AmRoot()) GTEST_SKIP() << "changing a file's owner needs root";
  WriteFile(S("owner"), "o");
  WriteFile(S("group"), "g");
  SyncedCopy();
  ASSERT_EQ(::lchown(D("owner").c_str(), 65534, static_cast<gid_t>(-1)), 0);
  ASSERT_EQ(::lchown(D("group").c_str(), static_cast<uid_t>(-1), 65534), 0);
  ExpectOnly(*Verify(), {".f....o.... owner", ".f.....g... group"});
}

TEST_P(VerifyTest, MissingXattrAndChangedAcl) {
  WriteFile(S("x"), "x");
  WriteFile(S("acl"), "a");
  if (SetXattr(S("x"), "user.tag", "v") != 0) GTEST_SKIP() << "no user xattrs here";
  std::string out;
  bool acls = Shell("setfacl -m u:65534:r '" + S("acl") + "' 2>&1", &out) == 0;
  SyncedCopy();
  ASSERT_EQ(::lremovexattr(D("x").c_str(), "user.tag"), 0);
  std::vector<std::string> want = {".f........x x"};
  if (acls) {
    ASSERT_EQ(Shell("setfacl -m u:65534:rw '" + D("acl") + "' 2>&1", &out), 0) << out;
    want.push_back(".f...p...a. acl");  // the ACL mask is the group bits
  }
  ExpectOnly(*Verify(), want);
  if (!acls) GTEST_SKIP() << "xattr checked; no setfacl for the ACL part: " << out;
}

TEST_P(VerifyTest, HardLinkBrokenAndJoined) {
  WriteFile(S("a"), "linked");
  HardLink(S("a"), S("sub/b"));
  WriteFile(S("c"), "same");
  WriteFile(S("d"), "same");
  // Same mtime too, so joining them on DST changes nothing but the link
  // structure (written apart, they may differ by a clock tick).
  SetTimes(S("c"), 1700000000, 123456789);
  SetTimes(S("d"), 1700000000, 123456789);
  SyncedCopy();
  // DST: b becomes its own file; c and d become one file.
  std::string b = ReadFile(D("sub/b"));
  struct stat st = LStat(D("sub/b"));
  ASSERT_EQ(::unlink(D("sub/b").c_str()), 0);
  WriteFile(D("sub/b"), b);
  SetTimes(D("sub/b"), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  ASSERT_EQ(::unlink(D("d").c_str()), 0);
  HardLink(D("c"), D("d"));
  RestoreDirTimes();
  auto v = Verify();
  ExpectOnly(*v, {"hf          sub/b => a", ".f          d (hard link to c only in DST)"});
  VerifyOptions o = VOptions();
  o.hard_links = false;
  ExpectOnly(*Verify(o, src_ + "/", dst_ + "/"), {});
}

TEST_P(VerifyTest, ExtraAndMissingEntries) {
  WriteFile(S("kept"), "k");
  WriteFile(S("gone"), "g");
  WriteFile(S("gonedir/inner"), "i");
  Symlink("kept", S("gonelink"));
  SyncedCopy();
  WriteFile(D("extra"), "e");
  WriteFile(D("extradir/x"), "x");
  ASSERT_EQ(::unlink(D("gone").c_str()), 0);
  ASSERT_EQ(::unlink(D("gonelink").c_str()), 0);
  RemoveTree(D("gonedir"));
  RestoreDirTimes();
  auto v = Verify();
  ExpectOnly(*v, {"*deleting   extra", "*deleting   extradir/", "*deleting   extradir/x",
                  ">f+++++++++ gone", "cd+++++++++ gonedir/", ">f+++++++++ gonedir/inner",
                  "cL+++++++++ gonelink -> kept"});
}

TEST_P(VerifyTest, SymlinkTarget) {
  Symlink("old/target", S("link"));
  SyncedCopy();
  struct stat st = LStat(D("link"));
  ASSERT_EQ(::unlink(D("link").c_str()), 0);
  Symlink("new/target", D("link"));
  SetTimes(D("link"), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  RestoreDirTimes();
  auto v = Verify();
  ExpectOnly(*v, {"cLc........ link -> old/target"});
  ASSERT_EQ(v->events.diffs.size(), 1u);
  EXPECT_EQ(v->events.diffs[0].dst_target, "new/target");
}

TEST_P(VerifyTest, TypeChangedIsExtraAndMissing) {
  WriteFile(S("was_file"), "f");
  SyncedCopy();
  ASSERT_EQ(::unlink(D("was_file").c_str()), 0);
  WriteFile(D("was_file/inside"), "now a directory");
  RestoreDirTimes();
  ExpectOnly(*Verify(), {"*deleting   was_file/", "*deleting   was_file/inside",
                         ">f+++++++++ was_file"});
}

TEST_P(VerifyTest, DeviceNumber) {
  if (!AmRoot()) GTEST_SKIP() << "creating device nodes needs root";
  if (::mknod(S("dev").c_str(), S_IFCHR | 0600, makedev(1, 3)) != 0)
    GTEST_SKIP() << "mknod refused here: " << std::strerror(errno);
  SyncedCopy();
  struct stat st = LStat(D("dev"));
  ASSERT_EQ(::unlink(D("dev").c_str()), 0);
  ASSERT_EQ(::mknod(D("dev").c_str(), S_IFCHR | 0600, makedev(1, 5)), 0);
  SetTimes(D("dev"), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  RestoreDirTimes();
  ExpectOnly(*Verify(), {"cDc........ dev"});
}

TEST_P(VerifyTest, FiltersApplyToBothSides) {
  WriteFile(S("keep"), "k");
  WriteFile(S("cache/a"), "a");
  WriteFile(S("x.tmp"), "t");
  SyncedCopy();
  WriteFile(D("cache/a"), "changed");  // excluded directory
  WriteFile(D("cache/new"), "new");
  WriteFile(D("y.tmp"), "extra but excluded");
  WriteFile(D("x.tmp"), "different but excluded");
  WriteFile(D("keep"), "K");
  auto filter = std::make_shared<FilterList>();
  ASSERT_TRUE(filter->AddRule(RuleType::kExclude, "cache/").ok());
  ASSERT_TRUE(filter->AddRule(RuleType::kExclude, "*.tmp").ok());
  VerifyOptions o = VOptions();
  o.filter = filter;
  o.times = false;  // the rewrites moved mtimes; content is the point here
  ExpectOnly(*Verify(o, src_ + "/", dst_ + "/"), {">fc........ keep"});
}

TEST_P(VerifyTest, TrailingSlashRule) {
  WriteFile(S("file"), "f");
  WriteFile(S("sub/g"), "g");
  // `sync SRC DST/` lands SRC as DST/src: `verify SRC DST/` compares those.
  auto s = DoSync(src_, dst_ + "/", Options());
  ASSERT_TRUE(s->clean()) << s->Dump();
  ExpectOnly(*Verify(VOptions(), src_, dst_ + "/"), {});
  WriteFile(dst_ + "/src/sub/g", "G");
  SetTimes(dst_ + "/src/sub/g", LStat(S("sub/g")).st_mtim.tv_sec, LStat(S("sub/g")).st_mtim.tv_nsec);
  ExpectOnly(*Verify(VOptions(), src_, dst_), {">fc........ src/sub/g"});
  // One file against a copy under another name.
  WriteFile(tmp_ / "copy", "f");
  SetTimes(tmp_ / "copy", LStat(S("file")).st_mtim.tv_sec, LStat(S("file")).st_mtim.tv_nsec);
  ExpectOnly(*Verify(VOptions(), S("file"), tmp_ / "copy"), {});
  // A missing DST: everything is missing.
  ExpectOnly(*Verify(VOptions(), src_ + "/", tmp_ / "nowhere/"),
             {"cd+++++++++ ./", ">f+++++++++ file", "cd+++++++++ sub/", ">f+++++++++ sub/g"});
}

TEST_P(VerifyTest, LargeDirectoryIsComparedInChunks) {
  // More than one stat chunk (1024) and one compare chunk (512).
  for (int i = 0; i < 2100; ++i) WriteFile(S("big/m" + std::to_string(i)), std::to_string(i));
  SyncedCopy();
  WriteFile(D("big/m1500"), "9999");
  SetTimes(D("big/m1500"), LStat(S("big/m1500")).st_mtim.tv_sec,
           LStat(S("big/m1500")).st_mtim.tv_nsec);
  auto v = Verify();
  ExpectOnly(*v, {">fc........ big/m1500"});
  EXPECT_EQ(v->outcome.entries, 2101u + 1);
}

TEST_P(VerifyTest, MissingSourceIsAnError) {
  auto v = Verify(VOptions(), tmp_ / "no_such_dir/", dst_ + "/");
  ASSERT_TRUE(v->failed.has_value());
  EXPECT_NE(v->failed->message().find("no_such_dir"), std::string::npos) << v->failed->message();
}

FERRY_INSTANTIATE_BACKENDS(VerifyTest);

// Paths that cannot be read are errors naming the path and the cause, never
// differences; everything else is still compared.
TEST(VerifyFaultTest, UnreadableFilesAreErrorsAndTheRestIsCompared) {
  TempDir tmp;
  std::string src = tmp / "src", dst = tmp / "dst";
  WriteFile(src + "/secret_small", "s");
  WriteFile(src + "/secret_large", std::string(300 * 1024, 'L'));
  WriteFile(src + "/other", "o");
  SyncOptions so;
  auto s = DoSync(src + "/", dst + "/", so);
  ASSERT_TRUE(s->clean()) << s->Dump();
  Chmod(dst + "/other", 0600);

  VerifyOptions o;
  o.jobs = 2;
  o.backend_factory = [] {
    return std::make_unique<io::FaultBackend>(std::vector<io::FaultRule>{
        {"read", "secret_small", EIO, 0}, {"open", "secret_large", EACCES, 0}});
  };
  VerifyRecorder ev;
  auto r = VerifyTrees(VerifyRequest{src + "/", dst + "/"}, o, ev);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->errors, 2u);
  EXPECT_EQ(r->differences, 1u);
  ASSERT_EQ(ev.lines.size(), 1u);
  EXPECT_EQ(ev.lines[0], ".f...p..... other");
  std::string all;
  for (const Status& e : ev.errors) all += e.message() + "\n";
  EXPECT_NE(all.find("secret_small: SRC: read secret_small: Input/output error"), std::string::npos) << all;
  EXPECT_NE(all.find("secret_large: SRC: open secret_large: Permission denied"), std::string::npos) << all;
}

}  // namespace
}  // namespace ferry::sync_test
