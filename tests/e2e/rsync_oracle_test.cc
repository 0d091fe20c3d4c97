// rsync as the judge: after `ferry sync SRC/ DST/`,
//   rsync -aHAXc --dry-run --itemize-changes --delete SRC/ DST/
// must find nothing to do, on a tree holding every kind of entry and
// metadata, and again after SRC was changed and synced with --delete.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"

namespace ferry::e2e {
namespace {

bool MakeSocket(const std::string& path) {
  int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a {};
  a.sun_family = AF_UNIX;
  if (s < 0 || path.size() >= sizeof a.sun_path) return false;
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  bool ok = ::bind(s, reinterpret_cast<struct sockaddr*>(&a), sizeof a) == 0;
  ::close(s);
  return ok;
}

class RsyncOracleTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (IsSkipped()) return;
    if (ferry::testing::Shell("command -v rsync >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "rsync is not installed";
  }

  // What rsync would still change; empty when DST is a faithful copy. rsync
  // compares whole seconds by default; --modify-window=-1 makes it compare
  // the nanoseconds too, which ferry keeps.
  std::string Oracle() {
    std::string out, strict;
    std::string args = "--dry-run --itemize-changes --delete '" + src_ + "/' '" + dst_ + "/' 2>&1";
    ferry::testing::Shell("rsync -aHAXc " + args, &out);
    ferry::testing::Shell("rsync -aHAXc --modify-window=-1 " + args, &strict);
    if (strict != out) out += "--- with --modify-window=-1:\n" + strict;
    return out;
  }

  // Every kind of entry; notes what this machine could not create.
  void BuildTree() {
    // A few hundred small files in nested directories.
    for (int d = 0; d < 8; ++d)
      for (int f = 0; f < 40; ++f)
        WriteFile(S("many/d" + std::to_string(d) + "/f" + std::to_string(f)),
                  Pattern(static_cast<size_t>(f * 53 + d), static_cast<unsigned>(d * 100 + f)));
    WriteFile(S("big/five_mib.bin"), Pattern(5 << 20, 7));
    WriteFile(S("big/odd_size.bin"), Pattern((1 << 20) + 12345, 8));
    WriteFile(S("empty_file"), "");
    MakeDirs(S("empty_dir"));
    WriteFile(S("nested/a/b/c/d/leaf.txt"), "leaf");
    // Symlinks: relative, dangling, absolute, to a directory.
    ASSERT_EQ(::symlink("nested/a/b/c/d/leaf.txt", S("rel_link").c_str()), 0);
    ASSERT_EQ(::symlink("no/such/target", S("dangling").c_str()), 0);
    ASSERT_EQ(::symlink("/etc/hostname", S("absolute").c_str()), 0);
    ASSERT_EQ(::symlink("nested", S("dir_link").c_str()), 0);
    // Hard links across directories.
    WriteFile(S("hard/one/h"), "hard linked");
    MakeDirs(S("hard/two"));
    ASSERT_EQ(::link(S("hard/one/h").c_str(), S("hard/two/h2").c_str()), 0);
    ASSERT_EQ(::link(S("hard/one/h").c_str(), S("nested/a/h3").c_str()), 0);
    // Special files.
    MakeDirs(S("special"));
    ASSERT_EQ(::mkfifo(S("special/fifo").c_str(), 0640), 0);
    ASSERT_TRUE(MakeSocket(S("special/sock")));
    if (AmRoot()) {
      if (::mknod(S("special/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0)
        notes_ += "no char device (mknod: " + std::string(std::strerror(errno)) + "); ";
    }
    // Modes, including set-id and sticky.
    WriteFile(S("modes/suid"), "#!/bin/sh\n", 04755);
    WriteFile(S("modes/sgid"), "#!/bin/sh\n", 02711);
    WriteFile(S("modes/private"), "p", 0600);
    WriteFile(S("modes/sticky_dir/x"), "x");
    ::chmod(S("modes/sticky_dir").c_str(), 01777);
    WriteFile(S("modes/ro_dir/y"), "y");
    ::chmod(S("modes/ro_dir").c_str(), 0555);
    // Owners by number.
    if (AmRoot()) {
      WriteFile(S("owners/file"), "o");
      ::chown(S("owners/file").c_str(), 1234, 5678);
      ::lchown(S("rel_link").c_str(), 2345, 6789);
      ::chown(S("owners").c_str(), 3456, 7890);
      WriteFile(S("owners/suid_owned"), "s");
      ::chown(S("owners/suid_owned").c_str(), 1234, 5678);
      ::chmod(S("owners/suid_owned").c_str(), 04750);
    }
    // Xattrs.
    WriteFile(S("xattr/file"), "x");
    if (::setxattr(S("xattr/file").c_str(), "user.comment", "hello", 5, 0) != 0)
      notes_ += "no user xattrs; ";
    ::setxattr(S("xattr").c_str(), "user.dir", "d", 1, 0);
    if (AmRoot()) ::setxattr(S("xattr/file").c_str(), "trusted.t", "trusted", 7, 0);
    // ACLs.
    MakeDirs(S("acl/dir"));
    WriteFile(S("acl/file"), "a", 0640);
    std::string q = "'" + src_ + "/acl";
    if (ferry::testing::Shell("setfacl -m u:1234:rw,g:5678:r " + q + "/file' 2>/dev/null") != 0 ||
        ferry::testing::Shell("setfacl -m u:1234:rx " + q + "/dir' && setfacl -d -m u:1234:rwx " +
                              q + "/dir'") != 0) {
      notes_ += "no ACLs; ";
    } else {
      WriteFile(S("acl/dir/inherits"), "i");
    }
    // A sparse file.
    {
      int fd = ::open(S("sparse.img").c_str(), O_CREAT | O_WRONLY, 0644);
      ASSERT_GE(fd, 0);
      ASSERT_EQ(::pwrite(fd, "head", 4, 0), 4);
      ASSERT_EQ(::pwrite(fd, "middle", 6, 8 << 20), 6);
      ASSERT_EQ(::ftruncate(fd, 16 << 20), 0);
      ::close(fd);
    }
    // Nanosecond mtimes on a file, a symlink and directories (last).
    SetMtime(S("nested/a/b/c/d/leaf.txt"), 1500000000, 123456789);
    SetMtime(S("dangling"), 1400000000, 987654321);
    SetMtime(S("nested/a/b"), 1300000000, 1);
    SetMtime(S("empty_dir"), 1200000000, 999999999);
  }

  std::string notes_;
};

TEST_P(RsyncOracleTest, FreshSyncThenChangesWithDelete) {
  BuildTree();
  if (!notes_.empty()) std::printf("note: %s\n", notes_.c_str());
  ASSERT_NE(Oracle(), "") << "the oracle finds nothing to do before any sync";
  Proc first = Sync({src_ + "/", dst_ + "/"});
  ASSERT_EQ(first.code, 0) << first.Dump();
  EXPECT_EQ(Oracle(), "") << "rsync still sees differences after the first sync";
  struct stat sp = LStat(D("sparse.img"));
  EXPECT_LT(sp.st_blocks * 512, 4 << 20) << "the sparse file lost its holes";
  EXPECT_EQ(LStat(D("hard/two/h2")).st_ino, LStat(D("hard/one/h")).st_ino);

  // Change SRC in every way: edit, delete, add, chmod, rename a directory,
  // retarget a symlink, new hard link, owner and xattr changes.
  WriteFile(S("many/d0/f1"), "edited, and now a different size");
  WriteFile(S("big/five_mib.bin"), Pattern(5 << 20, 9));  // same size, new data
  ASSERT_EQ(::unlink(S("many/d1/f2").c_str()), 0);
  ASSERT_EQ(::unlink(S("special/fifo").c_str()), 0);
  WriteFile(S("many/d2/added"), "added");
  WriteFile(S("brand/new/dir/file"), "new");
  ::chmod(S("modes/private").c_str(), 0640);
  ::chmod(S("many/d3").c_str(), 0700);
  ASSERT_EQ(::rename(S("nested/a").c_str(), S("nested/renamed").c_str()), 0);
  ASSERT_EQ(::unlink(S("rel_link").c_str()), 0);
  ASSERT_EQ(::symlink("nested/renamed/b/c/d/leaf.txt", S("rel_link").c_str()), 0);
  ASSERT_EQ(::link(S("hard/one/h").c_str(), S("many/d4/h4").c_str()), 0);
  if (AmRoot()) ::chown(S("many/d5/f5").c_str(), 4321, 8765);
  ::removexattr(S("xattr/file").c_str(), "user.comment");
  ::setxattr(S("many/d6/f6").c_str(), "user.new", "v", 1, 0);
  ferry::testing::RemoveTree(S("many/d7"));
  SetMtime(S("many"), 1100000000, 5);

  Proc second = Sync({"--delete", src_ + "/", dst_ + "/"});
  ASSERT_EQ(second.code, 0) << second.Dump();
  EXPECT_EQ(Oracle(), "") << "rsync still sees differences after the --delete sync";
  EXPECT_FALSE(Exists(D("nested/a")));
  EXPECT_FALSE(Exists(D("many/d7")));
}

TEST_P(RsyncOracleTest, SourceWithoutTrailingSlashLandsInsideDestination) {
  WriteFile(S("file"), "f");
  WriteFile(S("sub/inner"), Pattern(1000, 1));
  ASSERT_EQ(::symlink("file", S("link").c_str()), 0);
  MakeDirs(dst_);
  WriteFile(D("sibling"), "not part of the transfer");
  Proc p = Sync({"--delete", src_, dst_});
  ASSERT_EQ(p.code, 0) << p.Dump();
  std::string out;
  ferry::testing::Shell("rsync -aHAXc --dry-run --itemize-changes --delete '" + src_ + "' '" +
                            dst_ + "/' 2>&1",
                        &out);
  EXPECT_EQ(out, "");
  EXPECT_EQ(ReadFile(D("sibling")), "not part of the transfer");
  EXPECT_EQ(ReadFile(D("src/file")), "f");
}

FERRY_E2E_INSTANTIATE(RsyncOracleTest);

}  // namespace
}  // namespace ferry::e2e
