#include "protocol/file_list_validator.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ferry::protocol {
namespace {

class FileListValidatorTest : public ::testing::Test {
 protected:
  FileListValidatorTest() : resolver_({{"alice", 1001}, {"root", 0}}, {{"staff", 50}}) {
    options_.hard_links = true;
    options_.del = true;
  }
  static FileEntry Dir(std::string p) { return FileEntry{.path = std::move(p), .kind = FileKind::kDirectory}; }
  static FileEntry File(std::string p) { return FileEntry{.path = std::move(p)}; }
  static FileEntry Link(std::string p) {
    FileEntry e{.path = std::move(p), .kind = FileKind::kSymlink};
    e.symlink_target = "/etc";
    return e;
  }
  std::string Refusal(FileListValidator& v, const FileEntry& e) {
    Result<LocalOwner> r = v.Add(e);
    return r.ok() ? "" : r.status().message();
  }
  SessionOptions options_;
  MapIdResolver resolver_;
};

TEST_F(FileListValidatorTest, OrdinaryTreeIsAccepted) {
  FileListValidator v(options_, &resolver_);
  for (const FileEntry& e : {Dir("."), Dir("a"), File("a/x"), Dir("a/b"), File("a/b/y"),
                             Link("a/l"), File("top")}) {
    EXPECT_TRUE(v.Add(e).ok()) << e.path;
  }
  EXPECT_EQ(v.size(), 7u);
  EXPECT_TRUE(v.Finish(FileListEnd{7}).ok());
  EXPECT_FALSE(v.Finish(FileListEnd{8}).ok());
}

TEST_F(FileListValidatorTest, Cve2024_12087_DuplicateDirectoryEntryIsRefused) {
  FileListValidator v(options_, &resolver_);
  ASSERT_TRUE(v.Add(Dir("a")).ok());
  ASSERT_TRUE(v.Add(File("a/x")).ok());
  EXPECT_EQ(Refusal(v, Dir("a")),
            "file list entry 2 'a': a second entry for a path already sent (as entry 0)");
  EXPECT_NE(Refusal(v, File("a/x")).find("already sent"), std::string::npos);
}

// Many entries (the path table grows several times): every path is found,
// nothing else is, a second entry for any of them is still refused, and a
// parent far back in the list is still found.
TEST_F(FileListValidatorTest, ALargeListFindsEveryPathAndRefusesEveryRepeat) {
  FileListValidator v(options_, &resolver_);
  ASSERT_TRUE(v.Add(Dir(".")).ok());
  std::vector<std::string> paths;
  for (int d = 0; d < 50; ++d) {
    const std::string dir = "d" + std::to_string(d);
    ASSERT_TRUE(v.Add(Dir(dir)).ok()) << dir;
    paths.push_back(dir);
    for (int f = 0; f < 200; ++f) {
      paths.push_back(dir + "/f" + std::to_string(f));
      ASSERT_TRUE(v.Add(File(paths.back())).ok()) << paths.back();
    }
  }
  ASSERT_TRUE(v.Add(File("d0/late")).ok()) << "a parent 10,000 entries back";
  EXPECT_EQ(v.size(), 1u + 50 * 201 + 1);
  for (const std::string& p : paths) EXPECT_TRUE(v.Has(p)) << p;
  EXPECT_TRUE(v.Has("."));
  EXPECT_FALSE(v.Has("d0/f200"));
  EXPECT_FALSE(v.Has("d50"));
  EXPECT_FALSE(v.Has("d0/"));
  for (const std::string& p : {std::string("d7/f13"), std::string("d49"), std::string("d0/late")}) {
    EXPECT_NE(Refusal(v, File(p)).find("a second entry for a path already sent"),
              std::string::npos) << p;
  }
}

TEST_F(FileListValidatorTest, Cve2024_12087_SymlinkThenFileInsideIsRefused) {
  FileListValidator v(options_, &resolver_);
  ASSERT_TRUE(v.Add(Link("evil")).ok());
  EXPECT_EQ(Refusal(v, File("evil/passwd")),
            "file list entry 1 'evil/passwd': its parent 'evil' was sent as a symlink "
            "(entry 0)");
  ASSERT_TRUE(v.Add(File("f")).ok());
  EXPECT_NE(Refusal(v, File("f/x")).find("was sent as a non-directory"), std::string::npos);
  EXPECT_NE(Refusal(v, File("nodir/x")).find("was not sent as a directory before it"),
            std::string::npos);
}

TEST_F(FileListValidatorTest, Cve2024_12087_BadPathsAreRefused) {
  FileListValidator v(options_, &resolver_);
  for (const char* p : {"/abs", "../up", "a/../b", "a//b", "./a"}) {
    EXPECT_FALSE(v.Add(File(p)).ok()) << p;
  }
  EXPECT_FALSE(v.Add(File(std::string("a\0b", 3))).ok());
  EXPECT_FALSE(v.Add(File("a\x1b[2Jb")).ok());
  ASSERT_TRUE(v.Add(File("ok")).ok());
  EXPECT_NE(Refusal(v, Dir(".")).find("root '.' may only be the first entry"),
            std::string::npos);
}

TEST_F(FileListValidatorTest, FileIndexOutOfRangeIsRefused) {
  FileListValidator v(options_, &resolver_);
  ASSERT_TRUE(v.Add(File("a")).ok());
  ASSERT_TRUE(v.Add(Dir("d")).ok());
  EXPECT_TRUE(v.CheckRegular(0, "FileRequest file_index").ok());
  Status s = v.CheckIndex(2, "FileRequest file_index");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            "FileRequest file_index 2 is out of range: the file list has 2 entries");
  EXPECT_FALSE(v.CheckRegular(1, "FileData file_index").ok());
  EXPECT_FALSE(v.CheckIndex(UINT64_MAX, "x").ok());
}

TEST_F(FileListValidatorTest, HardLinkLeaderMustBeAnEarlierRegularLeader) {
  FileListValidator v(options_, &resolver_);
  ASSERT_TRUE(v.Add(File("a")).ok());
  FileEntry b = File("b");
  b.link_leader = 0;
  ASSERT_TRUE(v.Add(b).ok());
  FileEntry c = File("c");
  c.link_leader = 7;  // unknown leader
  EXPECT_NE(Refusal(v, c).find("hard-link leader 7 is not an earlier entry"), std::string::npos);
  c.link_leader = 1;  // a follower, not a leader
  EXPECT_NE(Refusal(v, c).find("is not a regular file leading a group"), std::string::npos);
  ASSERT_TRUE(v.Add(Dir("d")).ok());
  c.link_leader = 2;  // a directory
  EXPECT_FALSE(v.Add(c).ok());
}

TEST_F(FileListValidatorTest, HardLinkAndXattrDataNotNegotiatedAreRefused) {
  SessionOptions plain;
  FileListValidator v(plain, &resolver_);
  ASSERT_TRUE(v.Add(File("a")).ok());
  FileEntry b = File("b");
  b.link_leader = 0;
  EXPECT_NE(Refusal(v, b).find("-H was not agreed"), std::string::npos);
  FileEntry x = File("x");
  x.xattrs = {{"user.k", "v"}};
  EXPECT_NE(Refusal(v, x).find("xattr 'user.k' but -X was not agreed"), std::string::npos);
  x.xattrs = {{"system.posix_acl_access", "v"}};
  EXPECT_NE(Refusal(v, x).find("ACL 'system.posix_acl_access' but -A"), std::string::npos);
}

TEST_F(FileListValidatorTest, UnknownUserNameIsNeverMappedToRoot) {
  FileListValidator v(options_, &resolver_);
  FileEntry e = File("a");
  e.user_name = "alice";
  e.uid = 5;
  e.group_name = "staff";
  e.gid = 6;
  Result<LocalOwner> o = v.Add(e);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(*o, (LocalOwner{1001, 50}));  // names win over numbers
  FileEntry u = File("b");
  u.user_name = "mallory";
  u.uid = 0;
  EXPECT_EQ(Refusal(v, u),
            "file list entry 1 'b': user name 'mallory' is unknown here; refusing to map "
            "it to uid 0");
  FileEntry g = File("c");
  g.group_name = "wheel2";
  g.gid = 0;
  EXPECT_NE(Refusal(v, g).find("refusing to map it to gid 0"), std::string::npos);
  FileEntry n = File("d");  // unknown name with a non-zero id keeps the id
  n.user_name = "bob";
  n.uid = 2000;
  o = v.Add(n);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->uid, 2000u);
}

TEST_F(FileListValidatorTest, NamesWithNumericIdsAreRefused) {
  options_.numeric_ids = true;
  FileListValidator v(options_, &resolver_);
  FileEntry e = File("a");
  e.user_name = "root";
  e.uid = 1000;
  EXPECT_NE(Refusal(v, e).find("--numeric-ids"), std::string::npos);
}

TEST_F(FileListValidatorTest, DeletesOutsideTheTransferredTreeAreRefused) {
  FileListValidator v(options_, &resolver_);
  ASSERT_TRUE(v.Add(Dir(".")).ok());
  ASSERT_TRUE(v.Add(Dir("a")).ok());
  ASSERT_TRUE(v.Add(File("a/keep")).ok());
  EXPECT_TRUE(v.CheckDelete(DeleteRequest{1, "stale"}).ok());
  EXPECT_TRUE(v.CheckDelete(DeleteRequest{0, "old-top"}).ok());
  EXPECT_NE(v.CheckDelete(DeleteRequest{2, "x"}).message().find("is not a directory"),
            std::string::npos);
  EXPECT_NE(v.CheckDelete(DeleteRequest{9, "x"}).message().find("out of range"),
            std::string::npos);
  EXPECT_FALSE(v.CheckDelete(DeleteRequest{1, "../../etc"}).ok());
  EXPECT_FALSE(v.CheckDelete(DeleteRequest{1, ".."}).ok());
  EXPECT_NE(v.CheckDelete(DeleteRequest{1, "keep"}).message().find("is an entry of this"),
            std::string::npos);
  SessionOptions no_del;
  FileListValidator nv(no_del, &resolver_);
  ASSERT_TRUE(nv.Add(Dir("a")).ok());
  EXPECT_FALSE(nv.CheckDelete(DeleteRequest{0, "x"}).ok());
}

TEST_F(FileListValidatorTest, MetadataUpdateCannotChangePathOrKind) {
  FileListValidator v(options_, &resolver_);
  ASSERT_TRUE(v.Add(File("a")).ok());
  FileEntry e = File("a");
  e.perms = 0600;
  EXPECT_TRUE(v.CheckMetadataUpdate(MetadataUpdate{0, e}).ok());
  EXPECT_FALSE(v.CheckMetadataUpdate(MetadataUpdate{0, File("b")}).ok());
  EXPECT_FALSE(v.CheckMetadataUpdate(MetadataUpdate{0, Dir("a")}).ok());
  EXPECT_FALSE(v.CheckMetadataUpdate(MetadataUpdate{1, e}).ok());
}

}  // namespace
}  // namespace ferry::protocol
