// RunLocalSync keeps every kind of entry and every piece of metadata that
// `rsync -aHAX --numeric-ids` keeps: one test per kind, on each backend.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/engine/transfer/sync_test_util.h"

namespace ferry::sync_test {
namespace {

using MetadataTest = SyncTest;

TEST_P(MetadataTest, RegularFileContent) {
  // Sizes around the engine's small-file limit and batch size, empty and
  // binary content, and more files than one batch holds.
  const std::vector<std::pair<std::string, size_t>> files = {
      {"empty", 0},          {"one", 1},
      {"page", 4096},        {"just_small", 256 * 1024},
      {"just_large", 256 * 1024 + 1}, {"big", 3 * 1024 * 1024 + 17},
  };
  unsigned seed = 1;
  for (const auto& [name, size] : files) WriteFile(S(name), Pattern(size, seed++));
  std::string binary("a\0b\0\xff\xfe\n\r", 8);
  WriteFile(S("binary"), binary);
  for (int i = 0; i < 150; ++i)
    WriteFile(S("many/f" + std::to_string(i)), Pattern(static_cast<size_t>(i * 37), seed++));

  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  for (const auto& [name, size] : files) {
    EXPECT_TRUE(SameContent(ReadFile(D(name)), ReadFile(S(name)))) << name;
    EXPECT_EQ(static_cast<size_t>(LStat(D(name)).st_size), size) << name;
  }
  EXPECT_TRUE(SameContent(ReadFile(D("binary")), binary));
  EXPECT_EQ(TreeDiff(src_, dst_), "");
  EXPECT_EQ(run->stats.transferred_files.load(), files.size() + 1 + 150);
  EXPECT_EQ(Join(Temporaries(dst_)), "");
}

TEST_P(MetadataTest, EmptyDirectory) {
  MakeDirs(S("empty"));
  Chmod(S("empty"), 0750);
  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  struct stat st = LStat(D("empty"));
  ASSERT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(Listing(D("empty")).size(), 1u) << "DST/empty is not empty";
  EXPECT_TRUE(run->events.HasItem("cd+++++++++", "empty/")) << run->Dump();
}

TEST_P(MetadataTest, NestedDirectories) {
  WriteFile(S("a/b/c/d/e/deep.txt"), "deep");
  WriteFile(S("a/b/mid.txt"), "mid");
  MakeDirs(S("a/x/y/z"));
  WriteFile(S("top.txt"), "top");
  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(ReadFile(D("a/b/c/d/e/deep.txt")), "deep");
  EXPECT_TRUE(S_ISDIR(LStat(D("a/x/y/z")).st_mode));
  EXPECT_EQ(TreeDiff(src_, dst_), "");
}

TEST_P(MetadataTest, SymlinksAreCopiedAsLinksNeverFollowed) {
  WriteFile(S("file"), "content");
  MakeDirs(S("sub"));
  WriteFile(S("sub/inner"), "inner");
  WriteFile(tmp_ / "outside/secret", "do not copy me");
  Symlink("file", S("rel"));
  Symlink("does/not/exist", S("dangling"));
  Symlink(tmp_ / "outside/secret", S("absolute"));
  Symlink(tmp_ / "outside", S("absolute_dir"));
  Symlink("sub", S("dir_link"));
  Symlink("../../up/and/away", S("sub/updir"));
  std::string long_target(300, 'x');  // longer than a first readlink buffer
  Symlink(long_target, S("long"));

  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  const std::vector<std::pair<std::string, std::string>> links = {
      {"rel", "file"},
      {"dangling", "does/not/exist"},
      {"absolute", tmp_ / "outside/secret"},
      {"absolute_dir", tmp_ / "outside"},
      {"dir_link", "sub"},
      {"sub/updir", "../../up/and/away"},
      {"long", long_target},
  };
  for (const auto& [rel, target] : links) {
    ASSERT_TRUE(S_ISLNK(LStat(D(rel)).st_mode)) << rel << " is not a symlink";
    char buf[4096];
    ssize_t n = ::readlink(D(rel).c_str(), buf, sizeof buf);
    ASSERT_GT(n, 0) << rel;
    EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), target) << rel;
  }
  // Nothing was copied through a link: only the link itself exists.
  EXPECT_EQ(ReadFile(tmp_ / "outside/secret"), "do not copy me");
  EXPECT_EQ(Listing(tmp_ / "outside").size(), 2u);
  EXPECT_EQ(TreeDiff(src_, dst_), "");
  EXPECT_TRUE(run->events.HasItem("cL+++++++++", "rel -> file")) << run->Dump();
}

TEST_P(MetadataTest, HardLinksStayLinksAcrossDirectories) {
  WriteFile(S("a/f1"), "group one");
  HardLink(S("a/f1"), S("a/f2"));
  HardLink(S("a/f1"), S("b/f3"));  // b/ does not exist yet
  HardLink(S("a/f1"), S("c/deep/f4"));
  WriteFile(S("g/one"), Pattern(300 * 1024, 5));  // a large file's group
  HardLink(S("g/one"), S("g/two"));
  WriteFile(S("single"), "not linked");
  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();

  struct stat f1 = LStat(D("a/f1"));
  for (const char* rel : {"a/f2", "b/f3", "c/deep/f4"}) {
    struct stat st = LStat(D(rel));
    EXPECT_EQ(st.st_ino, f1.st_ino) << rel << " is not a hard link of a/f1";
    EXPECT_EQ(ReadFile(D(rel)), "group one") << rel;
  }
  EXPECT_EQ(f1.st_nlink, 4u);
  struct stat one = LStat(D("g/one")), two = LStat(D("g/two"));
  EXPECT_EQ(one.st_ino, two.st_ino);
  EXPECT_EQ(one.st_nlink, 2u);
  EXPECT_NE(one.st_ino, f1.st_ino);
  EXPECT_EQ(LStat(D("single")).st_nlink, 1u);
  // DST has its own inodes, not SRC's.
  EXPECT_NE(f1.st_ino, LStat(S("a/f1")).st_ino);
  EXPECT_EQ(TreeDiff(src_, dst_), "");

  // A second run leaves the groups alone.
  auto again = Sync();
  ASSERT_TRUE(again->clean()) << again->Dump();
  EXPECT_EQ(again->stats.transferred_files.load(), 0u) << again->Dump();
  EXPECT_EQ(again->stats.hard_links.load(), 0u) << again->Dump();
  EXPECT_EQ(LStat(D("c/deep/f4")).st_ino, f1.st_ino);
}

TEST_P(MetadataTest, HardLinkGroupRejoinedWhenDestinationCopiesAreSeparate) {
  // DST has the same content as two separate files (e.g. a copy made
  // without -H): the sync must turn them into one inode again.
  WriteFile(S("x/a"), "shared");
  HardLink(S("x/a"), S("y/b"));
  auto first = Sync();
  ASSERT_TRUE(first->clean()) << first->Dump();
  ASSERT_EQ(::unlink(D("y/b").c_str()), 0);
  WriteFile(D("y/b"), "shared");
  struct stat sb = LStat(S("y/b"));
  SetTimes(D("y/b"), sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);
  ASSERT_NE(LStat(D("x/a")).st_ino, LStat(D("y/b")).st_ino);

  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(LStat(D("x/a")).st_ino, LStat(D("y/b")).st_ino) << run->Dump();
}

TEST_P(MetadataTest, DevicesFifosAndSockets) {
  if (!AmRoot()) GTEST_SKIP() << "creating a device file needs root";
  if (::mknod(S("null").c_str(), S_IFCHR | 0640, makedev(1, 3)) != 0)
    GTEST_SKIP() << "mknod refused here: " << std::strerror(errno);
  ASSERT_EQ(::mkfifo(S("fifo").c_str(), 0620), 0) << std::strerror(errno);
  ASSERT_TRUE(MakeSocket(S("sock"))) << std::strerror(errno);
  MakeDirs(S("sub"));
  ASSERT_EQ(::mknod(S("sub/zero").c_str(), S_IFCHR | 0666, makedev(1, 5)), 0);

  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  struct stat st = LStat(D("null"));
  ASSERT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(major(st.st_rdev), 1u);
  EXPECT_EQ(minor(st.st_rdev), 3u);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_TRUE(S_ISFIFO(LStat(D("fifo")).st_mode));
  EXPECT_TRUE(S_ISSOCK(LStat(D("sock")).st_mode));
  EXPECT_EQ(minor(LStat(D("sub/zero")).st_rdev), 5u);
  EXPECT_EQ(TreeDiff(src_, dst_), "");
  EXPECT_TRUE(run->events.HasItem("cD+++++++++", "null")) << run->Dump();
  EXPECT_TRUE(run->events.HasItem("cS+++++++++", "fifo")) << run->Dump();

  // A changed device number is noticed and fixed.
  ASSERT_EQ(::unlink(S("null").c_str()), 0);
  ASSERT_EQ(::mknod(S("null").c_str(), S_IFCHR | 0640, makedev(1, 7)), 0);
  auto again = Sync();
  ASSERT_TRUE(again->clean()) << again->Dump();
  EXPECT_EQ(minor(LStat(D("null")).st_rdev), 7u);
}

// File modes including the set-id and sticky bits, on files and directories
// (a read-only directory with contents included).
void BuildModes(const std::string& src) {
  const std::vector<std::pair<std::string, mode_t>> files = {
      {"suid", 04755}, {"sgid", 02755}, {"both", 06755}, {"sticky_file", 01644},
      {"private", 0600}, {"readonly", 0444}, {"none", 0000}, {"all", 0777},
      {"odd", 0351},
  };
  for (const auto& [n, m] : files) WriteFile(src + "/" + n, "x" + n, m);
  const std::vector<std::pair<std::string, mode_t>> dirs = {
      {"d_sticky", 01777}, {"d_sgid", 02775}, {"d_ro", 0555}, {"d_private", 0700},
  };
  for (const auto& [n, m] : dirs) {
    WriteFile(src + "/" + n + "/inside", "in", 0640);
    Chmod(src + "/" + n, m);
  }
}

TEST_P(MetadataTest, PermissionsIncludingSetIdAndStickyBits) {
  BuildModes(src_);
  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(TreeDiff(src_, dst_), "");
  EXPECT_EQ(LStat(D("suid")).st_mode & 07777, 04755u);
  EXPECT_EQ(LStat(D("d_sticky")).st_mode & 07777, 01777u);
  EXPECT_EQ(LStat(D("d_ro")).st_mode & 07777, 0555u);
}

// The CLI runs the engine with umask 0 (files are created with their final
// mode); the special bits must survive that too, with and without -o.
TEST_P(MetadataTest, PermissionsIncludingSetIdAndStickyBitsUnderZeroUmask) {
  BuildModes(src_);
  for (bool owner : {true, false}) {
    SCOPED_TRACE(owner ? "with --owner" : "with --no-owner");
    SyncOptions o = Options();
    o.owner = owner;
    std::string dst = tmp_ / (owner ? "dst_owner" : "dst_no_owner");
    mode_t old = ::umask(0);
    auto run = DoSync(src_ + "/", dst + "/", o);
    ::umask(old);
    ASSERT_TRUE(run->clean()) << run->Dump();
    EXPECT_EQ(TreeDiff(src_, dst), "");
  }
}

TEST_P(MetadataTest, OwnerAndGroupByNumber) {
  if (!AmRoot()) GTEST_SKIP() << "changing owners needs root";
  WriteFile(S("file"), "f");
  ASSERT_EQ(::chown(S("file").c_str(), 1234, 5678), 0);
  WriteFile(S("dir/inner"), "i");
  ASSERT_EQ(::chown(S("dir").c_str(), 2345, 6789), 0);
  Symlink("file", S("link"));
  ASSERT_EQ(::lchown(S("link").c_str(), 3456, 7890), 0);
  ASSERT_EQ(::mkfifo(S("fifo").c_str(), 0644), 0);
  ASSERT_EQ(::chown(S("fifo").c_str(), 4567, 8901), 0);
  // chown clears set-id bits: the mode must still come out right.
  WriteFile(S("suid"), "s", 0755);
  ASSERT_EQ(::chown(S("suid").c_str(), 1234, 5678), 0);
  Chmod(S("suid"), 06755);
  WriteFile(S("big_owned"), Pattern(400 * 1024, 3));
  ASSERT_EQ(::chown(S("big_owned").c_str(), 99999, 88888), 0);
  WriteFile(S("huge_ids"), "h");
  ASSERT_EQ(::chown(S("huge_ids").c_str(), 4000000000u, 4000000001u), 0);

  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  auto owner = [&](const std::string& rel) {
    struct stat st = LStat(D(rel));
    return std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid);
  };
  EXPECT_EQ(owner("file"), "1234:5678");
  EXPECT_EQ(owner("dir"), "2345:6789");
  EXPECT_EQ(owner("link"), "3456:7890");
  EXPECT_EQ(owner("fifo"), "4567:8901");
  EXPECT_EQ(owner("suid"), "1234:5678");
  EXPECT_EQ(owner("big_owned"), "99999:88888");
  EXPECT_EQ(owner("huge_ids"), "4000000000:4000000001");
  EXPECT_EQ(LStat(D("suid")).st_mode & 07777, 06755u);
  EXPECT_EQ(TreeDiff(src_, dst_), "");

  // An owner-only change later is applied in place.
  ASSERT_EQ(::chown(S("file").c_str(), 4321, 8765), 0);
  ino_t ino = LStat(D("file")).st_ino;
  auto again = Sync();
  ASSERT_TRUE(again->clean()) << again->Dump();
  EXPECT_EQ(owner("file"), "4321:8765");
  EXPECT_EQ(LStat(D("file")).st_ino, ino);
  EXPECT_EQ(again->events.ItemFor("file"), ".f....og...") << again->Dump();
}

TEST_P(MetadataTest, MtimesWithNanosecondsOnFilesDirsAndSymlinks) {
  WriteFile(S("file"), "f");
  WriteFile(S("large"), Pattern(600 * 1024, 9));
  WriteFile(S("dir/inner"), "i");
  Symlink("file", S("link"));
  ASSERT_EQ(::mkfifo(S("fifo").c_str(), 0644), 0);
  SetTimes(S("file"), 1500000000, 123456789);
  SetTimes(S("large"), 1500000001, 1);
  SetTimes(S("link"), 1300000000, 999999999);
  SetTimes(S("fifo"), 1200000000, 500);
  SetTimes(S("dir/inner"), 1100000000, 42);
  WriteFile(S("before_1970"), "old");
  SetTimes(S("before_1970"), -86400, 250000000);
  WriteFile(S("year_2100"), "new");
  SetTimes(S("year_2100"), 4102444800, 999);
  SetTimes(S("dir"), 1400000000, 987654321);  // after its contents
  SetTimes(src_, 1000000000, 1);

  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  auto mtime = [&](const std::string& rel) {
    struct stat st = LStat(rel.empty() ? dst_ : D(rel));
    return std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
  };
  EXPECT_EQ(mtime("file"), "1500000000.123456789");
  EXPECT_EQ(mtime("large"), "1500000001.1");
  EXPECT_EQ(mtime("link"), "1300000000.999999999");
  EXPECT_EQ(mtime("fifo"), "1200000000.500");
  EXPECT_EQ(mtime("dir/inner"), "1100000000.42");
  EXPECT_EQ(mtime("before_1970"), "-86400.250000000");
  EXPECT_EQ(mtime("year_2100"), "4102444800.999");
  EXPECT_EQ(mtime("dir"), "1400000000.987654321");
  EXPECT_EQ(mtime(""), "1000000000.1");
  EXPECT_EQ(TreeDiff(src_, dst_), "");
}

TEST_P(MetadataTest, DirectoryMtimesAreRightAfterTheirContentsChanged) {
  WriteFile(S("a/b/c/f1"), "1");
  WriteFile(S("a/b/f2"), "2");
  WriteFile(S("a/f3"), "3");
  auto set_dir_times = [&](int64_t base) {
    SetTimes(S("a/b/c"), base + 3, 333);
    SetTimes(S("a/b"), base + 2, 222);
    SetTimes(S("a"), base + 1, 111);
    SetTimes(src_, base, 1);
  };
  set_dir_times(1600000000);
  auto first = Sync();
  ASSERT_TRUE(first->clean()) << first->Dump();
  EXPECT_EQ(TreeDiff(src_, dst_), "");

  // Every kind of change inside the directories: a new file, a deleted file,
  // a new subdirectory, a new hard link, a changed file, a stale temporary.
  WriteFile(S("a/b/new"), "new");
  ASSERT_EQ(::unlink(S("a/b/c/f1").c_str()), 0);
  MakeDirs(S("a/b/c/newdir"));
  HardLink(S("a/f3"), S("a/b/c/f3link"));
  WriteFile(S("a/f3"), "33");
  WriteFile(D("a/b/.~ferry.f2.0badf00d"), "stale");
  set_dir_times(1650000000);
  SyncOptions o = Options();
  o.del = true;
  auto run = Sync(o);
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(TreeDiff(src_, dst_), "");
}

TEST_P(MetadataTest, AtimesOptionKeepsAccessTimes) {
  WriteFile(S("small"), "small");
  WriteFile(S("large"), Pattern(700 * 1024, 4));
  for (const char* n : {"small", "large"})
    SetTimes(S(n), 1500000000, 0, 1200000000, 500000000);

  SyncOptions o = Options();
  o.atimes = true;
  auto run = Sync(o);
  ASSERT_TRUE(run->clean()) << run->Dump();
  for (const char* n : {"small", "large"}) {
    struct stat st = LStat(D(n));  // before anything reads it
    EXPECT_EQ(st.st_atim.tv_sec, 1200000000) << n;
    EXPECT_EQ(st.st_atim.tv_nsec, 500000000) << n;
    EXPECT_EQ(st.st_mtim.tv_sec, 1500000000) << n;
  }

  // Without --atimes, DST gets a fresh access time (as rsync does).
  std::string plain = tmp_ / "plain";
  auto run2 = DoSync(src_ + "/", plain + "/", Options());
  ASSERT_TRUE(run2->clean()) << run2->Dump();
  EXPECT_NE(LStat(plain + "/small").st_atim.tv_sec, 1200000000);
}

TEST_P(MetadataTest, ExtendedAttributes) {
  WriteFile(S("file"), "f");
  WriteFile(S("large"), Pattern(500 * 1024, 2));
  WriteFile(S("dir/inner"), "i");
  if (int e = SetXattr(S("file"), "user.comment", "hello"))
    GTEST_SKIP() << "user xattrs unsupported here: " << std::strerror(e);
  ASSERT_EQ(SetXattr(S("file"), "user.binary", std::string("\0\x01\xff", 3)), 0);
  ASSERT_EQ(SetXattr(S("file"), "user.empty", ""), 0);
  ASSERT_EQ(SetXattr(S("large"), "user.big", Pattern(3000, 7)), 0);
  ASSERT_EQ(SetXattr(S("dir"), "user.dir", "on a dir"), 0);
  ASSERT_EQ(SetXattr(S("dir/inner"), "user.inner", "inner"), 0);

  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(GetXattr(D("file"), "user.comment").value_or("<none>"), "hello");
  EXPECT_EQ(GetXattr(D("file"), "user.binary").value_or("<none>"),
            std::string("\0\x01\xff", 3));
  EXPECT_EQ(GetXattr(D("file"), "user.empty").value_or("<none>"), "");
  EXPECT_EQ(GetXattr(D("large"), "user.big").value_or("<none>"), Pattern(3000, 7));
  EXPECT_EQ(GetXattr(D("dir"), "user.dir").value_or("<none>"), "on a dir");
  EXPECT_EQ(TreeDiff(src_, dst_), "");

  // Changed and removed attributes follow, without rewriting the data.
  ASSERT_EQ(SetXattr(S("file"), "user.comment", "changed"), 0);
  ASSERT_EQ(::removexattr(S("file").c_str(), "user.binary"), 0);
  ASSERT_EQ(::removexattr(S("dir").c_str(), "user.dir"), 0);
  ino_t ino = LStat(D("file")).st_ino;
  auto again = Sync();
  ASSERT_TRUE(again->clean()) << again->Dump();
  EXPECT_EQ(GetXattr(D("file"), "user.comment").value_or("<none>"), "changed");
  EXPECT_FALSE(GetXattr(D("file"), "user.binary").has_value());
  EXPECT_FALSE(GetXattr(D("dir"), "user.dir").has_value());
  EXPECT_EQ(LStat(D("file")).st_ino, ino);
  EXPECT_EQ(again->events.ItemFor("file"), ".f........x") << again->Dump();
  EXPECT_EQ(TreeDiff(src_, dst_), "");
}

TEST_P(MetadataTest, TrustedXattrsAsRoot) {
  if (!AmRoot()) GTEST_SKIP() << "trusted.* xattrs need root";
  WriteFile(S("file"), "f");
  if (int e = SetXattr(S("file"), "trusted.t", "file value"))
    GTEST_SKIP() << "trusted xattrs unsupported here: " << std::strerror(e);
  WriteFile(S("dir/x"), "x");
  ASSERT_EQ(SetXattr(S("dir"), "trusted.d", "dir value"), 0);
  ASSERT_EQ(::mkfifo(S("fifo").c_str(), 0644), 0);
  ASSERT_EQ(SetXattr(S("fifo"), "trusted.f", "fifo value"), 0);

  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(GetXattr(D("file"), "trusted.t").value_or("<none>"), "file value");
  EXPECT_EQ(GetXattr(D("dir"), "trusted.d").value_or("<none>"), "dir value");
  EXPECT_EQ(GetXattr(D("fifo"), "trusted.f").value_or("<none>"), "fifo value");
  EXPECT_EQ(TreeDiff(src_, dst_), "");
}

// rsync -X as root copies the trusted.* xattrs of symlinks too (Linux allows
// them there; only user.* is refused on symlinks).
TEST_P(MetadataTest, TrustedXattrsOnSymlinksAsRoot) {
  if (!AmRoot()) GTEST_SKIP() << "trusted.* xattrs need root";
  Symlink("target", S("link"));
  if (int e = SetXattr(S("link"), "trusted.l", "link value"))
    GTEST_SKIP() << "trusted xattrs on symlinks unsupported here: " << std::strerror(e);
  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(GetXattr(D("link"), "trusted.l").value_or("<none>"), "link value");
  EXPECT_EQ(TreeDiff(src_, dst_), "");
}

// True when setfacl works on files under dir.
bool AclsWork(const std::string& dir, std::string* why) {
  std::string out;
  if (Shell("command -v setfacl >/dev/null 2>&1") != 0) {
    *why = "setfacl is not installed";
    return false;
  }
  WriteFile(dir + "/acl_probe", "");
  if (Shell("setfacl -m u:1234:r '" + dir + "/acl_probe' 2>&1", &out) != 0) {
    *why = "setfacl failed: " + out;
    return false;
  }
  ::unlink((dir + "/acl_probe").c_str());
  return true;
}

TEST_P(MetadataTest, PosixAclsAccessAndDefault) {
  std::string why;
  if (!AclsWork(tmp_.path(), &why)) GTEST_SKIP() << why;
  WriteFile(S("file"), "f", 0640);
  WriteFile(S("large"), Pattern(300 * 1024, 8), 0600);
  MakeDirs(S("dir"));
  std::string q = "'" + src_ + "'";
  ASSERT_EQ(Shell("setfacl -m u:1234:rwx,g:5678:r " + q + "/file"), 0);
  ASSERT_EQ(Shell("setfacl -m u:1234:r " + q + "/large"), 0);
  ASSERT_EQ(Shell("setfacl -m u:1234:rx " + q + "/dir"), 0);
  ASSERT_EQ(Shell("setfacl -d -m u:1234:rwx,g:5678:rx " + q + "/dir"), 0);
  WriteFile(S("dir/inherits"), "i", 0644);  // gets the default ACL
  MakeDirs(S("dir/subdir"));                // gets access and default ACLs
  WriteFile(S("dir/own"), "o", 0644);
  ASSERT_EQ(Shell("setfacl -b " + q + "/dir/own"), 0);  // none at all

  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  for (const char* rel : {"file", "large", "dir", "dir/inherits", "dir/subdir", "dir/own"}) {
    EXPECT_EQ(GetXattr(D(rel), "system.posix_acl_access"),
              GetXattr(S(rel), "system.posix_acl_access"))
        << rel;
  }
  EXPECT_EQ(GetXattr(D("dir"), "system.posix_acl_default"),
            GetXattr(S("dir"), "system.posix_acl_default"));
  EXPECT_TRUE(GetXattr(D("dir"), "system.posix_acl_default").has_value());
  EXPECT_EQ(TreeDiff(src_, dst_), "");

  // Nothing left to do on a second run.
  auto again = Sync();
  ASSERT_TRUE(again->clean()) << again->Dump();
  EXPECT_TRUE(again->events.items.empty()) << again->Dump();

  // A removed ACL is removed, and files created under a DST directory that
  // still has the default ACL SRC just dropped do not keep what they inherit.
  ASSERT_EQ(Shell("setfacl -b " + q + "/file"), 0);
  ASSERT_EQ(Shell("setfacl -k " + q + "/dir"), 0);
  WriteFile(S("dir/after"), "a", 0640);
  MakeDirs(S("dir/after_dir"));
  auto third = Sync();
  ASSERT_TRUE(third->clean()) << third->Dump();
  EXPECT_FALSE(GetXattr(D("file"), "system.posix_acl_access").has_value());
  EXPECT_FALSE(GetXattr(D("dir"), "system.posix_acl_default").has_value());
  EXPECT_EQ(TreeDiff(src_, dst_), "");
}

TEST_P(MetadataTest, SparseFileKeepsItsHoles) {
  const uint64_t kSize = 32ull << 20;
  std::string p = S("sparse");
  {
    int fd = ::open(p.c_str(), O_CREAT | O_WRONLY, 0644);
    ASSERT_GE(fd, 0);
    std::string chunk = Pattern(8192, 11);
    for (uint64_t off : {uint64_t{0}, uint64_t{8} << 20, kSize - 8192})
      ASSERT_EQ(::pwrite(fd, chunk.data(), chunk.size(), static_cast<off_t>(off)), 8192);
    ::close(fd);
  }
  // A small file that is all hole but for its last bytes, and one that ends
  // in a hole.
  {
    int fd = ::open(S("hole_first").c_str(), O_CREAT | O_WRONLY, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, "end", 3, 200 * 1024), 3);
    ::close(fd);
    fd = ::open(S("hole_last").c_str(), O_CREAT | O_WRONLY, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "start", 5), 5);
    ASSERT_EQ(::ftruncate(fd, 5 << 20), 0);
    ::close(fd);
  }
  struct stat sst = LStat(p);
  if (static_cast<uint64_t>(sst.st_blocks) * 512 >= kSize / 2)
    GTEST_SKIP() << "this file system does not keep holes";

  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  for (const char* n : {"sparse", "hole_first", "hole_last"}) {
    struct stat d = LStat(D(n)), s = LStat(S(n));
    EXPECT_EQ(d.st_size, s.st_size) << n;
    EXPECT_LE(d.st_blocks, s.st_blocks + 64) << n << ": holes were filled in";
    EXPECT_TRUE(SameContent(ReadFile(D(n)), ReadFile(S(n)))) << n;
  }
  EXPECT_LT(static_cast<uint64_t>(LStat(D("sparse")).st_blocks) * 512, kSize / 8);
  EXPECT_EQ(TreeDiff(src_, dst_), "");
}

TEST_P(MetadataTest, TrailingSlashRule) {
  WriteFile(S("file"), "f");
  WriteFile(S("sub/inner"), "i");
  // "src/": the contents of src go into DST.
  auto contents = DoSync(src_ + "/", dst_, Options());
  ASSERT_TRUE(contents->clean()) << contents->Dump();
  EXPECT_EQ(ReadFile(D("file")), "f");
  EXPECT_FALSE(Exists(D("src")));
  EXPECT_EQ(TreeDiff(src_, dst_), "");

  // "src": src itself goes into DST, as DST/src.
  std::string d2 = tmp_ / "dst2";
  MakeDirs(d2);
  WriteFile(d2 + "/sibling", "keep me");
  SyncOptions o = Options();
  o.del = true;
  auto itself = DoSync(src_, d2, o);
  ASSERT_TRUE(itself->clean()) << itself->Dump();
  EXPECT_EQ(ReadFile(d2 + "/src/file"), "f");
  EXPECT_FALSE(Exists(d2 + "/file"));
  EXPECT_EQ(TreeDiff(src_, d2 + "/src"), "");
  // --delete works inside DST/src, never on DST's other entries.
  EXPECT_EQ(ReadFile(d2 + "/sibling"), "keep me");
  EXPECT_TRUE(itself->events.HasItem("cd+++++++++", "src/")) << itself->Dump();
  EXPECT_TRUE(itself->events.HasItem(">f+++++++++", "src/sub/inner")) << itself->Dump();

  // Same with a trailing slash on DST, into a DST that does not exist yet.
  std::string d3 = tmp_ / "dst3";
  auto fresh = DoSync(src_, d3 + "/", Options());
  ASSERT_TRUE(fresh->clean()) << fresh->Dump();
  EXPECT_EQ(TreeDiff(src_, d3 + "/src"), "");
}

TEST_P(MetadataTest, SingleFileToANewNameAndIntoADirectory) {
  WriteFile(S("f.txt"), "single", 0640);
  SetTimes(S("f.txt"), 1500000000, 777);
  MakeDirs(dst_);

  auto renamed = DoSync(S("f.txt"), D("new.txt"), Options());
  ASSERT_TRUE(renamed->clean()) << renamed->Dump();
  EXPECT_EQ(Describe(D("new.txt")), Describe(S("f.txt")));
  EXPECT_FALSE(Exists(D("f.txt")));

  auto into = DoSync(S("f.txt"), dst_ + "/", Options());
  ASSERT_TRUE(into->clean()) << into->Dump();
  EXPECT_EQ(Describe(D("f.txt")), Describe(S("f.txt")));

  std::string other = tmp_ / "other";
  MakeDirs(other);
  auto into_no_slash = DoSync(S("f.txt"), other, Options());
  ASSERT_TRUE(into_no_slash->clean()) << into_no_slash->Dump();
  EXPECT_EQ(Describe(other + "/f.txt"), Describe(S("f.txt")));

  // An existing file under the new name is replaced.
  WriteFile(D("old.txt"), "previous content that is longer");
  auto replace = DoSync(S("f.txt"), D("old.txt"), Options());
  ASSERT_TRUE(replace->clean()) << replace->Dump();
  EXPECT_EQ(Describe(D("old.txt")), Describe(S("f.txt")));

  // A DST directory that does not exist yet, named with a trailing slash.
  std::string newdir = tmp_ / "newdir";
  auto mk = DoSync(S("f.txt"), newdir + "/", Options());
  ASSERT_TRUE(mk->clean()) << mk->Dump();
  EXPECT_EQ(Describe(newdir + "/f.txt"), Describe(S("f.txt")));
  EXPECT_EQ(Join(Temporaries(tmp_.path())), "");
}

TEST_P(MetadataTest, UnusualNames) {
  const std::vector<std::string> names = {
      "with space", "new\nline", "tab\there", "-leading-dash", "UTF-8 \xc3\xa9\xe2\x82\xac",
      "back\\slash", "star*?[x]", ".hidden", "..dots", std::string(255, 'n'),
      // A user's file that looks like one of ferry's temporaries.
      ".~ferry.a.txt.deadbeef",
  };
  unsigned seed = 0;
  for (const std::string& n : names) {
    WriteFile(S(n), Pattern(10 + seed, seed));
    ++seed;
  }
  MakeDirs(S(std::string(255, 'd')));
  WriteFile(S(std::string(255, 'd') + "/" + std::string(255, 'f')), "deep and long");
  Symlink(std::string(255, 'n'), S("link to long"));
  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(TreeDiff(src_, dst_), "");
  auto again = Sync();
  ASSERT_TRUE(again->clean()) << again->Dump();
  EXPECT_TRUE(SameContent(ReadFile(D(".~ferry.a.txt.deadbeef")), ReadFile(S(".~ferry.a.txt.deadbeef"))));
  EXPECT_TRUE(again->events.items.empty()) << again->Dump();
}

// Temporary names keep a bounded prefix of the final name: two long names
// that share it must still both land.
TEST_P(MetadataTest, LongNamesSharingAPrefix) {
  std::string prefix(230, 'p');
  for (const char* tail : {"_one", "_two", "_three"})
    WriteFile(S(prefix + tail), std::string("content") + tail);
  WriteFile(S(prefix + "_large1"), Pattern(400 * 1024, 1));
  WriteFile(S(prefix + "_large2"), Pattern(400 * 1024, 2));
  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(TreeDiff(src_, dst_), "");
  EXPECT_EQ(Join(Temporaries(dst_)), "");
}

FERRY_INSTANTIATE_BACKENDS(MetadataTest);

}  // namespace
}  // namespace ferry::sync_test
