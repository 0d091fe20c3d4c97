// Backend conformance: the same cases on PosixBackend and UringBackend (with
// the default tuning, and with the other knobs on a tiny queue that forces
// full-queue rounds), plus FaultBackend's documented injections.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <span>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/io/fault_backend.h"
#include "engine/io/io_backend.h"
#include "engine/io/posix_backend.h"
#include "engine/io/uring_backend.h"
#include "tests/testing/temp_tree.h"

namespace ferry::io {
namespace {

using ferry::testing::Exists;
using ferry::testing::LStat;
using ferry::testing::ReadFile;
using ferry::testing::TempDir;
using ferry::testing::WriteFile;

// Deterministic, file-specific content so a mixed-up buffer shows.
std::string Content(size_t i, size_t len) {
  std::string s(len, '\0');
  for (size_t k = 0; k < len; ++k)
    s[k] = static_cast<char>('a' + (i * 7 + k * 13 + k / 251) % 26);
  return s;
}

bool FdOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    names.push_back(e.path().filename().string());
  return names;
}

struct Param {
  const char* name;
  bool uring;
  UringOptions options;
};

class BackendTest : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    if (GetParam().uring) {
      std::string why;
      if (!ProbeUring(&why)) GTEST_SKIP() << "io_uring unavailable: " << why;
      auto b = UringBackend::Create(GetParam().options);
      ASSERT_TRUE(b.ok()) << b.status().ToString();
      backend_ = std::move(b).value();
    } else {
      backend_ = std::make_unique<PosixBackend>();
    }
    dirfd_ = ::open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(dirfd_, 0) << std::strerror(errno);
  }
  void TearDown() override {
    if (dirfd_ >= 0) ::close(dirfd_);
  }

  // Reads `names` in one batch with buf_len = expected size + 1.
  struct Read {
    std::vector<std::string> bufs;
    std::vector<ReadFileOp> ops;
  };
  Read ReadAll(const std::vector<std::string>& names,
               const std::vector<size_t>& sizes) {
    Read r;
    r.bufs.resize(names.size());
    r.ops.resize(names.size());
    for (size_t i = 0; i < names.size(); ++i) {
      r.bufs[i].assign(sizes[i] + 1, '\xff');
      r.ops[i].dirfd = dirfd_;
      r.ops[i].name = names[i].c_str();
      r.ops[i].buf = reinterpret_cast<std::byte*>(r.bufs[i].data());
      r.ops[i].buf_len = sizes[i] + 1;
    }
    backend_->ReadFiles(r.ops);
    return r;
  }

  std::unique_ptr<IoBackend> backend_;
  TempDir dir_;
  int dirfd_ = -1;
};

TEST_P(BackendTest, NameMatches) {
  EXPECT_STREQ(backend_->Name(), GetParam().uring ? "io_uring" : "posix");
}

// --- ReadFiles ----------------------------------------------------------------

TEST_P(BackendTest, ReadFilesManyMoreThanQueueDepth) {
  constexpr size_t kN = 1000;
  std::vector<std::string> names;
  std::vector<size_t> sizes;
  for (size_t i = 0; i < kN; ++i) {
    names.push_back("f" + std::to_string(i));
    sizes.push_back((i * 37) % 9000);  // includes 0 and > one page
    WriteFile(dir_ / names.back(), Content(i, sizes.back()));
  }
  Read r = ReadAll(names, sizes);
  for (size_t i = 0; i < kN; ++i) {
    const ReadFileOp& op = r.ops[i];
    ASSERT_EQ(op.err, 0) << names[i] << " " << op.failed_op;
    ASSERT_EQ(op.bytes_read, sizes[i]) << names[i];
    ASSERT_EQ(r.bufs[i].substr(0, sizes[i]), Content(i, sizes[i])) << names[i];
    struct stat st = LStat(dir_ / names[i]);
    EXPECT_EQ(op.st_after.st_ino, st.st_ino);
    EXPECT_EQ(op.st_after.st_dev, st.st_dev);
    EXPECT_EQ(static_cast<size_t>(op.st_after.st_size), sizes[i]);
  }
}

TEST_P(BackendTest, ReadFilesEmptyFile) {
  WriteFile(dir_ / "empty", "");
  Read r = ReadAll({"empty"}, {0});
  EXPECT_EQ(r.ops[0].err, 0);
  EXPECT_EQ(r.ops[0].bytes_read, 0u);
  EXPECT_TRUE(S_ISREG(r.ops[0].st_after.st_mode));

  // buf_len 0: nothing to read, but the fstat still happens.
  ReadFileOp op;
  op.dirfd = dirfd_;
  op.name = "empty";
  backend_->ReadFiles({&op, 1});
  EXPECT_EQ(op.err, 0);
  EXPECT_EQ(op.bytes_read, 0u);
  EXPECT_EQ(op.st_after.st_ino, LStat(dir_ / "empty").st_ino);
}

TEST_P(BackendTest, ReadFilesLargerThanOneRead) {
  const size_t kSize = (8u << 20) + 12345;  // several page-cache reads
  WriteFile(dir_ / "big", Content(3, kSize));
  Read r = ReadAll({"big"}, {kSize});
  ASSERT_EQ(r.ops[0].err, 0);
  EXPECT_EQ(r.ops[0].bytes_read, kSize);
  EXPECT_TRUE(r.bufs[0].compare(0, kSize, Content(3, kSize)) == 0);

  // A buffer smaller than the file: read exactly buf_len, no error.
  std::string small(4096, '\0');
  ReadFileOp op;
  op.dirfd = dirfd_;
  op.name = "big";
  op.buf = reinterpret_cast<std::byte*>(small.data());
  op.buf_len = small.size();
  backend_->ReadFiles({&op, 1});
  EXPECT_EQ(op.err, 0);
  EXPECT_EQ(op.bytes_read, small.size());
  EXPECT_EQ(static_cast<size_t>(op.st_after.st_size), kSize);
}

TEST_P(BackendTest, ReadFilesDetectsGrowth) {
  WriteFile(dir_ / "grows", Content(1, 1000));
  const size_t scanned = 1000;
  WriteFile(dir_ / "grows", Content(1, 1500));  // grew after the scan
  Read r = ReadAll({"grows"}, {scanned});
  ASSERT_EQ(r.ops[0].err, 0);
  EXPECT_EQ(r.ops[0].bytes_read, scanned + 1);  // filled: more than expected
  EXPECT_EQ(r.ops[0].st_after.st_size, 1500);
}

TEST_P(BackendTest, ReadFilesMissingFile) {
  WriteFile(dir_ / "a", "alpha");
  WriteFile(dir_ / "c", "gamma");
  Read r = ReadAll({"a", "missing", "c"}, {5, 5, 5});
  EXPECT_EQ(r.ops[0].err, 0);
  EXPECT_EQ(r.ops[1].err, ENOENT);
  EXPECT_STREQ(r.ops[1].failed_op, "open");
  EXPECT_EQ(r.ops[2].err, 0);
  EXPECT_EQ(r.bufs[2].substr(0, 5), "gamma");
}

TEST_P(BackendTest, ReadFilesRefusesSymlink) {
  WriteFile(dir_ / "target", "secret");
  ASSERT_EQ(::symlink("target", (dir_ / "link").c_str()), 0);
  Read r = ReadAll({"link"}, {6});
  EXPECT_EQ(r.ops[0].err, ELOOP);
  EXPECT_STREQ(r.ops[0].failed_op, "open");
  EXPECT_EQ(r.ops[0].bytes_read, 0u);
  EXPECT_EQ(r.bufs[0][0], '\xff');  // nothing read through the link
}

TEST_P(BackendTest, ReadFilesReadErrorIsReported) {
  ferry::testing::MakeDirs(dir_ / "sub");
  Read r = ReadAll({"sub"}, {10});
  EXPECT_EQ(r.ops[0].err, EISDIR);
  EXPECT_STREQ(r.ops[0].failed_op, "read");
}

// --- CreateFiles --------------------------------------------------------------

TEST_P(BackendTest, CreateFilesManyAndLand) {
  constexpr size_t kN = 1000;
  std::vector<std::string> tmp, fin, data;
  for (size_t i = 0; i < kN; ++i) {
    tmp.push_back(".tmp" + std::to_string(i));
    fin.push_back("final" + std::to_string(i));
    data.push_back(Content(i, (i * 53) % 7000));
  }
  std::vector<WriteFileOp> w(kN);
  for (size_t i = 0; i < kN; ++i) {
    w[i].dirfd = dirfd_;
    w[i].name = tmp[i].c_str();
    w[i].mode = 0640;
    w[i].data = reinterpret_cast<const std::byte*>(data[i].data());
    w[i].len = data[i].size();
  }
  backend_->CreateFiles(w);
  std::vector<LandOp> l(kN);
  for (size_t i = 0; i < kN; ++i) {
    ASSERT_EQ(w[i].err, 0) << tmp[i] << " " << w[i].failed_op;
    ASSERT_GE(w[i].fd, 0);
    ASSERT_TRUE(FdOpen(w[i].fd));
    l[i].fd = w[i].fd;
    l[i].dirfd = dirfd_;
    l[i].tmp_name = tmp[i].c_str();
    l[i].final_name = fin[i].c_str();
    l[i].fsync = (i % 100) == 0;
  }
  backend_->LandFiles(l);
  for (size_t i = 0; i < kN; ++i) {
    ASSERT_EQ(l[i].err, 0) << fin[i] << " " << l[i].failed_op;
    EXPECT_EQ(l[i].fd, -1);
    EXPECT_FALSE(FdOpen(w[i].fd)) << "fd of " << fin[i] << " left open";
    EXPECT_FALSE(Exists(dir_ / tmp[i]));
    ASSERT_EQ(ReadFile(dir_ / fin[i]), data[i]) << fin[i];
    EXPECT_EQ(LStat(dir_ / fin[i]).st_mode & 07777, 0640u);
  }
}

TEST_P(BackendTest, CreateFilesEmptyData) {
  WriteFileOp op;
  op.dirfd = dirfd_;
  op.name = "empty";
  op.mode = 0600;
  backend_->CreateFiles({&op, 1});
  ASSERT_EQ(op.err, 0);
  ASSERT_GE(op.fd, 0);
  struct stat st;
  ASSERT_EQ(::fstat(op.fd, &st), 0);
  EXPECT_EQ(st.st_size, 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ::close(op.fd);
}

TEST_P(BackendTest, CreateFilesExclusive) {
  WriteFile(dir_ / "taken", "old");
  ASSERT_EQ(::symlink("nowhere", (dir_ / "dangling").c_str()), 0);
  std::string data = "new data";
  std::vector<WriteFileOp> ops(3);
  const char* names[] = {"taken", "fresh", "dangling"};
  for (size_t i = 0; i < 3; ++i) {
    ops[i].dirfd = dirfd_;
    ops[i].name = names[i];
    ops[i].data = reinterpret_cast<const std::byte*>(data.data());
    ops[i].len = data.size();
  }
  backend_->CreateFiles(ops);
  EXPECT_EQ(ops[0].err, EEXIST);
  EXPECT_STREQ(ops[0].failed_op, "create");
  EXPECT_EQ(ops[0].fd, -1);
  EXPECT_EQ(ReadFile(dir_ / "taken"), "old");
  ASSERT_EQ(ops[1].err, 0);
  ::close(ops[1].fd);
  EXPECT_EQ(ReadFile(dir_ / "fresh"), data);
  // O_EXCL never follows a symlink, dangling or not.
  EXPECT_EQ(ops[2].err, EEXIST);
  EXPECT_FALSE(Exists(dir_ / "nowhere"));
}

// --- LandFiles ----------------------------------------------------------------

TEST_P(BackendTest, LandFilesRenameReplacesTarget) {
  WriteFile(dir_ / "dst", "old");
  int fd = ::openat(dirfd_, ".tmp", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "new!", 4), 4);
  LandOp op;
  op.fd = fd;
  op.dirfd = dirfd_;
  op.tmp_name = ".tmp";
  op.final_name = "dst";
  op.fsync = true;
  backend_->LandFiles({&op, 1});
  EXPECT_EQ(op.err, 0);
  EXPECT_EQ(op.fd, -1);
  EXPECT_FALSE(FdOpen(fd));
  EXPECT_EQ(ReadFile(dir_ / "dst"), "new!");
  EXPECT_FALSE(Exists(dir_ / ".tmp"));
}

TEST_P(BackendTest, LandFilesFsyncFailureClosesAndSkipsRename) {
  // fsync on a pipe fails with EINVAL: the fd is still closed, no rename.
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  WriteFile(dir_ / ".tmp", "data");
  LandOp op;
  op.fd = p[1];
  op.dirfd = dirfd_;
  op.tmp_name = ".tmp";
  op.final_name = "dst";
  op.fsync = true;
  backend_->LandFiles({&op, 1});
  EXPECT_EQ(op.err, EINVAL);
  EXPECT_STREQ(op.failed_op, "fsync");
  EXPECT_EQ(op.fd, -1);
  char c;
  EXPECT_EQ(::read(p[0], &c, 1), 0) << "write end left open";
  ::close(p[0]);
  EXPECT_TRUE(Exists(dir_ / ".tmp"));
  EXPECT_FALSE(Exists(dir_ / "dst"));
}

TEST_P(BackendTest, LandFilesCloseAndRenameErrors) {
  int fd = ::openat(dirfd_, "present", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  std::vector<LandOp> ops(2);
  ops[0].fd = fd;  // renaming a name that does not exist
  ops[0].dirfd = dirfd_;
  ops[0].tmp_name = "absent";
  ops[0].final_name = "dst";
  ops[1].fd = -1;  // close fails: never renamed
  ops[1].dirfd = dirfd_;
  ops[1].tmp_name = "present";
  ops[1].final_name = "dst2";
  backend_->LandFiles(ops);
  EXPECT_EQ(ops[0].err, ENOENT);
  EXPECT_STREQ(ops[0].failed_op, "rename");
  EXPECT_FALSE(FdOpen(fd));
  EXPECT_EQ(ops[1].err, EBADF);
  EXPECT_STREQ(ops[1].failed_op, "close");
  EXPECT_TRUE(Exists(dir_ / "present"));
  EXPECT_FALSE(Exists(dir_ / "dst2"));
}

// --- unnamed files (O_TMPFILE) ----------------------------------------------------

// Creates unnamed files and links them, through AT_EMPTY_PATH and through
// /proc/self/fd: nothing is visible before the link, the data and mode land.
TEST_P(BackendTest, UnnamedFilesLandByLink) {
  for (bool by_empty_path : {true, false}) {
    SetLinkUnnamedByEmptyPath(by_empty_path);
    constexpr size_t kN = 300;
    std::vector<std::string> fin, data;
    for (size_t i = 0; i < kN; ++i) {
      fin.push_back((by_empty_path ? "e" : "p") + std::to_string(i));
      data.push_back(Content(i, (i * 53) % 5000));
    }
    std::vector<WriteFileOp> w(kN);
    for (size_t i = 0; i < kN; ++i) {
      w[i].dirfd = dirfd_;
      w[i].name = nullptr;
      w[i].final_name = fin[i].c_str();
      w[i].mode = 0640;
      w[i].data = reinterpret_cast<const std::byte*>(data[i].data());
      w[i].len = data[i].size();
    }
    backend_->CreateFiles(w);
    if (w[0].err == EOPNOTSUPP) GTEST_SKIP() << "no O_TMPFILE on this file system";
    // Written but unnamed: the directory is still empty.
    EXPECT_EQ(ListDir(dir_.path()).size(), by_empty_path ? 0u : kN);
    std::vector<LandOp> l(kN);
    for (size_t i = 0; i < kN; ++i) {
      ASSERT_EQ(w[i].err, 0) << fin[i] << " " << w[i].failed_op;
      l[i].fd = w[i].fd;
      l[i].dirfd = dirfd_;
      l[i].tmp_name = nullptr;
      l[i].final_name = fin[i].c_str();
      l[i].fsync = (i % 100) == 0;
    }
    backend_->LandFiles(l);
    for (size_t i = 0; i < kN; ++i) {
      ASSERT_EQ(l[i].err, 0) << fin[i] << " " << l[i].failed_op;
      EXPECT_EQ(l[i].fd, -1);
      EXPECT_FALSE(FdOpen(w[i].fd)) << "fd of " << fin[i] << " left open";
      ASSERT_EQ(ReadFile(dir_ / fin[i]), data[i]) << fin[i];
      EXPECT_EQ(LStat(dir_ / fin[i]).st_mode & 07777, 0640u);
      EXPECT_EQ(LStat(dir_ / fin[i]).st_nlink, 1u);
    }
  }
  SetLinkUnnamedByEmptyPath(true);
  EXPECT_EQ(ListDir(dir_.path()).size(), 600u) << "a temporary was left behind";
}

// A link never replaces: the name made by someone else meanwhile survives,
// the unnamed file's fd is closed and nothing else appears.
TEST_P(BackendTest, UnnamedLinkNeverReplaces) {
  WriteFile(dir_ / "taken", "theirs");
  ASSERT_EQ(::symlink("nowhere", (dir_ / "dangling").c_str()), 0);
  std::string data = "ours";
  std::vector<WriteFileOp> w(2);
  const char* names[] = {"taken", "dangling"};
  for (size_t i = 0; i < 2; ++i) {
    w[i].dirfd = dirfd_;
    w[i].final_name = names[i];
    w[i].data = reinterpret_cast<const std::byte*>(data.data());
    w[i].len = data.size();
  }
  backend_->CreateFiles(w);
  if (w[0].err == EOPNOTSUPP) GTEST_SKIP() << "no O_TMPFILE on this file system";
  std::vector<LandOp> l(2);
  for (size_t i = 0; i < 2; ++i) {
    ASSERT_EQ(w[i].err, 0);
    l[i].fd = w[i].fd;
    l[i].dirfd = dirfd_;
    l[i].final_name = names[i];
  }
  backend_->LandFiles(l);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(l[i].err, EEXIST) << names[i];
    EXPECT_STREQ(l[i].failed_op, "link");
    EXPECT_FALSE(FdOpen(w[i].fd));
  }
  EXPECT_EQ(ReadFile(dir_ / "taken"), "theirs");
  EXPECT_FALSE(Exists(dir_ / "nowhere"));
  EXPECT_EQ(ListDir(dir_.path()).size(), 2u);
}

// --- xattrs by name -----------------------------------------------------------

// Set, read back and remove xattrs of dirfd/name, through the *xattrat()
// syscalls and through the /proc/self/fd fallback, on a file and (as root,
// where trusted.* xattrs are allowed on symlinks) on a symlink itself.
TEST_P(BackendTest, XattrsByNameEitherWay) {
  WriteFile(dir_ / "f", "data");
  ASSERT_EQ(::symlink("f", (dir_ / "l").c_str()), 0);
  for (bool xattrat : {true, false}) {
    SetXattrAtForTesting(xattrat);
    std::vector<std::pair<const char*, std::string>> cases = {{"f", "user.ferry"}};
    if (::geteuid() == 0) cases.push_back({"l", "trusted.ferry"});
    for (const auto& [name, attr] : cases) {
      Xattr x{attr, xattrat ? "by xattrat" : "by proc"};
      Status st = backend_->SetXattr(dirfd_, name, x);
      if (st.sys_errno() == ENOTSUP) GTEST_SKIP() << "no xattrs on this file system";
      ASSERT_TRUE(st.ok()) << st.ToString();
      auto got = backend_->ReadXattrs(dirfd_, name);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_EQ(got->size(), 1u) << name;
      EXPECT_EQ((*got)[0].name, attr);
      EXPECT_EQ((*got)[0].value, x.value);
      ASSERT_TRUE(backend_->RemoveXattr(dirfd_, name, attr).ok());
      got = backend_->ReadXattrs(dirfd_, name);
      ASSERT_TRUE(got.ok());
      EXPECT_TRUE(got->empty()) << name;
    }
    // The symlink's target is never touched through the link.
    auto target = backend_->ReadXattrs(dirfd_, "f");
    ASSERT_TRUE(target.ok());
    EXPECT_TRUE(target->empty());
    EXPECT_FALSE(backend_->ReadXattrs(dirfd_, "absent").ok());
  }
  SetXattrAtForTesting(true);
}

// --- OpenBeneath --------------------------------------------------------------

TEST_P(BackendTest, OpenBeneathStaysInside) {
  WriteFile(dir_ / "a/b/file", "x");
  WriteFile(dir_ / "outside", "x");
  ASSERT_EQ(::symlink("b", (dir_ / "a/link").c_str()), 0);
  ASSERT_EQ(::symlink("file", (dir_ / "a/b/flink").c_str()), 0);
  int root = ::open((dir_ / "a").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(root, 0);

  auto ok = backend_->OpenBeneath(root, "b/file", O_RDONLY, 0);
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
  auto self = backend_->OpenBeneath(root, "", O_RDONLY | O_DIRECTORY, 0);
  EXPECT_TRUE(self.ok()) << self.status().ToString();

  auto up = backend_->OpenBeneath(root, "../outside", O_RDONLY, 0);
  ASSERT_FALSE(up.ok());
  EXPECT_EQ(up.status().sys_errno(), EXDEV) << up.status().ToString();

  auto through = backend_->OpenBeneath(root, "link/file", O_RDONLY, 0);
  ASSERT_FALSE(through.ok());
  EXPECT_EQ(through.status().sys_errno(), ELOOP) << through.status().ToString();

  auto final_link = backend_->OpenBeneath(root, "b/flink", O_RDONLY, 0);
  ASSERT_FALSE(final_link.ok());
  EXPECT_EQ(final_link.status().sys_errno(), ELOOP);
  ::close(root);
}

// --- StatFiles ----------------------------------------------------------------

// Every field fstatat fills, compared one by one (a lost nanosecond or a
// wrongly rebuilt dev_t shows as the field's name).
void ExpectSameStat(const struct stat& got, const struct stat& want,
                    const std::string& what) {
  EXPECT_EQ(got.st_dev, want.st_dev) << what;
  EXPECT_EQ(got.st_ino, want.st_ino) << what;
  EXPECT_EQ(got.st_mode, want.st_mode) << what;
  EXPECT_EQ(got.st_nlink, want.st_nlink) << what;
  EXPECT_EQ(got.st_uid, want.st_uid) << what;
  EXPECT_EQ(got.st_gid, want.st_gid) << what;
  EXPECT_EQ(got.st_rdev, want.st_rdev) << what;
  EXPECT_EQ(got.st_size, want.st_size) << what;
  EXPECT_EQ(got.st_blksize, want.st_blksize) << what;
  EXPECT_EQ(got.st_blocks, want.st_blocks) << what;
  EXPECT_EQ(got.st_atim.tv_sec, want.st_atim.tv_sec) << what;
  EXPECT_EQ(got.st_atim.tv_nsec, want.st_atim.tv_nsec) << what;
  EXPECT_EQ(got.st_mtim.tv_sec, want.st_mtim.tv_sec) << what;
  EXPECT_EQ(got.st_mtim.tv_nsec, want.st_mtim.tv_nsec) << what;
  EXPECT_EQ(got.st_ctim.tv_sec, want.st_ctim.tv_sec) << what;
  EXPECT_EQ(got.st_ctim.tv_nsec, want.st_ctim.tv_nsec) << what;
}

TEST_P(BackendTest, StatFilesMatchesFstatatForEveryKind) {
  WriteFile(dir_ / "file", Content(1, 12345), 0640);
  ASSERT_EQ(::linkat(dirfd_, "file", dirfd_, "hardlink", 0), 0);  // nlink 2
  const struct timespec times[2] = {{1000000001, 123456789},
                                    {1500000002, 987654321}};
  ASSERT_EQ(::utimensat(dirfd_, "file", times, 0), 0);
  // Distinct owner ids where we may set them (root in the test VM).
  if (::fchownat(dirfd_, "file", 12345, 23456, 0) != 0) {}
  ASSERT_EQ(::mkdirat(dirfd_, "dir", 0750), 0);
  ASSERT_EQ(::symlinkat("file", dirfd_, "link"), 0);
  ASSERT_EQ(::symlinkat("nowhere", dirfd_, "dangling"), 0);
  // Followed ones apart: following a symlink updates its atime.
  ASSERT_EQ(::symlinkat("file", dirfd_, "flink"), 0);
  ASSERT_EQ(::symlinkat("nowhere", dirfd_, "fdangling"), 0);
  ASSERT_EQ(::mkfifoat(dirfd_, "fifo", 0600), 0);
  WriteFile(dir_ / "empty", "");
  std::vector<std::string> names = {"file", "hardlink", "dir", "link",
                                    "dangling", "fifo", "empty"};
  // A char device with a minor above 255 (split across dev_t's bit fields);
  // mknod needs CAP_MKNOD, so only where we have it.
  if (::mknodat(dirfd_, "chr", S_IFCHR | 0600, makedev(250, 70000)) == 0)
    names.push_back("chr");

  const int devfd = ::open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(devfd, 0);
  struct Case {
    int dirfd;
    std::string name;
    int flags;
  };
  std::vector<Case> cases;
  for (const std::string& n : names) cases.push_back({dirfd_, n, AT_SYMLINK_NOFOLLOW});
  cases.push_back({dirfd_, "flink", 0});  // followed: the file's stat
  cases.push_back({devfd, "null", AT_SYMLINK_NOFOLLOW});
  cases.push_back({dirfd_, "missing", AT_SYMLINK_NOFOLLOW});
  cases.push_back({dirfd_, "fdangling", 0});  // followed into nothing

  std::vector<StatOp> ops(cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    ops[i].dirfd = cases[i].dirfd;
    ops[i].name = cases[i].name.c_str();
    ops[i].flags = cases[i].flags;
    ops[i].err = -1;  // must be overwritten
  }
  // fstatat first: statx does not touch atime, so the order is free.
  std::vector<struct stat> want(cases.size());
  std::vector<int> want_err(cases.size(), 0);
  for (size_t i = 0; i < cases.size(); ++i) {
    if (::fstatat(cases[i].dirfd, ops[i].name, &want[i], cases[i].flags) != 0)
      want_err[i] = errno;
  }
  backend_->StatFiles(ops);
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string what = cases[i].name + " flags=" + std::to_string(cases[i].flags);
    ASSERT_EQ(ops[i].err, want_err[i]) << what;
    if (want_err[i] == 0) ExpectSameStat(ops[i].st, want[i], what);
  }
  EXPECT_EQ(want_err[want_err.size() - 2], ENOENT);  // "missing"
  EXPECT_EQ(want_err.back(), ENOENT);                // dangling, followed
  EXPECT_TRUE(S_ISLNK(ops[3].st.st_mode));           // "link", not followed
  EXPECT_TRUE(S_ISREG(ops[names.size()].st.st_mode));  // "flink", followed
  EXPECT_TRUE(S_ISCHR(ops[names.size() + 1].st.st_mode));  // /dev/null
  ::close(devfd);
}

TEST_P(BackendTest, StatFilesManyMoreThanQueueDepthWithMissingNames) {
  constexpr size_t kN = 1000;
  std::vector<std::string> names;
  for (size_t i = 0; i < kN; ++i) {
    names.push_back("s" + std::to_string(i));
    if (i % 7 != 3) WriteFile(dir_ / names.back(), Content(i, i % 300));
  }
  std::vector<StatOp> ops(kN);
  for (size_t i = 0; i < kN; ++i) {
    ops[i].dirfd = dirfd_;
    ops[i].name = names[i].c_str();
    ops[i].flags = AT_SYMLINK_NOFOLLOW;
  }
  backend_->StatFiles(ops);
  for (size_t i = 0; i < kN; ++i) {
    if (i % 7 == 3) {
      EXPECT_EQ(ops[i].err, ENOENT) << names[i];
      continue;
    }
    ASSERT_EQ(ops[i].err, 0) << names[i] << " " << std::strerror(ops[i].err);
    ExpectSameStat(ops[i].st, LStat(dir_ / names[i]), names[i]);
    EXPECT_EQ(static_cast<size_t>(ops[i].st.st_size), i % 300) << names[i];
  }
  // An empty batch is a no-op, and the backend stays usable after batches.
  backend_->StatFiles({});
  backend_->StatFiles(std::span<StatOp>(ops).first(1));
  EXPECT_EQ(ops[0].err, 0);
}

TEST_P(BackendTest, StatFilesBadDirfdFailsEachOpAlone) {
  WriteFile(dir_ / "here", "x");
  std::vector<StatOp> ops(2);
  ops[0].dirfd = -1;  // relative name with a bad dirfd: EBADF
  ops[0].name = "here";
  ops[1].dirfd = dirfd_;
  ops[1].name = "here";
  backend_->StatFiles(ops);
  EXPECT_EQ(ops[0].err, EBADF);
  EXPECT_EQ(ops[1].err, 0);
  EXPECT_EQ(ops[1].st.st_size, 1);
}

// The non-default knobs, on a queue so small that batches run in many
// full-queue rounds.
UringOptions Tiny() {
  UringOptions o;
  o.queue_depth = 4;
  o.eof_from_fstat = false;
  o.sync_create_open = true;
  o.sync_rename = true;
  return o;
}

INSTANTIATE_TEST_SUITE_P(
    Backends, BackendTest,
    ::testing::Values(Param{"posix", false, {}}, Param{"io_uring", true, {}},
                      Param{"io_uring_tiny_other_knobs", true, Tiny()}),
    [](const ::testing::TestParamInfo<Param>& info) {
      return std::string(info.param.name);
    });

// --- probing and the factory --------------------------------------------------

TEST(UringProbeTest, FactoryAgreesWithProbe) {
  std::string why;
  bool avail = ProbeUring(&why);
  auto b = MakeBackend(BackendKind::kUring);
  EXPECT_EQ(b.ok(), avail) << why;
  if (!avail) {
    EXPECT_FALSE(why.empty());
    EXPECT_EQ(b.status().code(), ErrorCode::kUnsupported);
    GTEST_SKIP() << "io_uring unavailable: " << why;
  }
  EXPECT_STREQ((*b)->Name(), "io_uring");
  EXPECT_STREQ(AutoBackendName(), "io_uring");
  auto a = MakeBackend(BackendKind::kAuto);
  ASSERT_TRUE(a.ok());
  EXPECT_STREQ((*a)->Name(), "io_uring");
}

// --- FaultBackend -------------------------------------------------------------

class FaultBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dirfd_ = ::open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(dirfd_, 0);
  }
  void TearDown() override { ::close(dirfd_); }
  TempDir dir_;
  int dirfd_ = -1;
};

TEST_F(FaultBackendTest, ReadRuleFailsOnlyMatchingNames) {
  WriteFile(dir_ / "good", "g");
  WriteFile(dir_ / "bad.dat", "b");
  FaultBackend fb({{"read", "bad", EIO, 0}});
  std::string b1(2, '\0'), b2(2, '\0');
  std::vector<ReadFileOp> ops(2);
  ops[0].dirfd = ops[1].dirfd = dirfd_;
  ops[0].name = "good";
  ops[1].name = "bad.dat";
  ops[0].buf = reinterpret_cast<std::byte*>(b1.data());
  ops[1].buf = reinterpret_cast<std::byte*>(b2.data());
  ops[0].buf_len = ops[1].buf_len = 2;
  fb.ReadFiles(ops);
  EXPECT_EQ(ops[0].err, 0);
  EXPECT_EQ(ops[1].err, EIO);
  EXPECT_STREQ(ops[1].failed_op, "read");
}

TEST_F(FaultBackendTest, AfterCountsMatchesThenFiresEveryTime) {
  FaultBackend fb({{"create", "", ENOSPC, 1}});
  std::string data = "0123456789";
  std::vector<std::string> names = {"t0", "t1", "t2"};
  std::vector<WriteFileOp> ops(3);
  for (size_t i = 0; i < 3; ++i) {
    ops[i].dirfd = dirfd_;
    ops[i].name = names[i].c_str();
    ops[i].data = reinterpret_cast<const std::byte*>(data.data());
    ops[i].len = data.size();
  }
  fb.CreateFiles(ops);
  EXPECT_EQ(ops[0].err, 0);  // the 0th match passes (after = 1)
  ASSERT_GE(ops[0].fd, 0);
  ::close(ops[0].fd);
  for (size_t i = 1; i < 3; ++i) {
    EXPECT_EQ(ops[i].err, ENOSPC) << i;
    EXPECT_STREQ(ops[i].failed_op, "write");
    EXPECT_EQ(ops[i].fd, -1);
    // The temporary is left half written, as after a real ENOSPC.
    EXPECT_EQ(LStat(dir_ / names[i]).st_size, 5);
  }
  // Single ops see the same rule: OpenAt with O_CREAT is a "create".
  auto r = fb.OpenAt(dirfd_, "t3", O_CREAT | O_WRONLY, 0600);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().sys_errno(), ENOSPC);
}

TEST_F(FaultBackendTest, WriteRuleWritesHalfThenFails) {
  FaultBackend fb({{"write", "", EIO, 0}});
  int fd = ::openat(dirfd_, "f", O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  std::string data(100, 'x');
  Status s = fb.PWriteAll(fd, {reinterpret_cast<const std::byte*>(data.data()),
                               data.size()}, 0);
  EXPECT_EQ(s.sys_errno(), EIO);
  struct stat st;
  ASSERT_EQ(::fstat(fd, &st), 0);
  EXPECT_EQ(st.st_size, 50);
  ::close(fd);
}

TEST_F(FaultBackendTest, RenameRuleClosesFdAndKeepsTemporary) {
  FaultBackend fb({{"rename", "victim", EIO, 0}, {"mkdir", "d", EACCES, 0}});
  std::vector<std::string> tmps = {".t1", ".t2"};
  std::vector<LandOp> ops(2);
  int fds[2];
  for (int i = 0; i < 2; ++i) {
    fds[i] = ::openat(dirfd_, tmps[i].c_str(), O_CREAT | O_WRONLY | O_CLOEXEC,
                      0600);
    ASSERT_GE(fds[i], 0);
    ops[i].fd = fds[i];
    ops[i].dirfd = dirfd_;
    ops[i].tmp_name = tmps[i].c_str();
  }
  ops[0].final_name = "victim";
  ops[1].final_name = "spared";
  fb.LandFiles(ops);
  EXPECT_EQ(ops[0].err, EIO);
  EXPECT_STREQ(ops[0].failed_op, "rename");
  EXPECT_EQ(ops[0].fd, -1);
  EXPECT_FALSE(FdOpen(fds[0]));
  EXPECT_TRUE(Exists(dir_ / ".t1"));
  EXPECT_EQ(ops[1].err, 0);
  EXPECT_TRUE(Exists(dir_ / "spared"));

  Status m = fb.MkdirAt(dirfd_, "d", 0755);
  EXPECT_EQ(m.sys_errno(), EACCES);
  EXPECT_TRUE(fb.MkdirAt(dirfd_, "e", 0755).ok());
}


TEST_F(FaultBackendTest, StatRuleFailsOnlyMatchingNames) {
  WriteFile(dir_ / "good", "g");
  WriteFile(dir_ / "bad", "b");
  FaultBackend fb({{"stat", "bad", EACCES, 0}});
  std::vector<StatOp> ops(3);
  const char* names[] = {"good", "bad", "missing"};
  for (size_t i = 0; i < 3; ++i) {
    ops[i].dirfd = dirfd_;
    ops[i].name = names[i];
  }
  fb.StatFiles(ops);
  EXPECT_EQ(ops[0].err, 0);
  EXPECT_EQ(ops[0].st.st_size, 1);
  EXPECT_EQ(ops[1].err, EACCES);
  EXPECT_EQ(ops[2].err, ENOENT);  // a real error wins over the rule
}

}  // namespace
}  // namespace ferry::io
