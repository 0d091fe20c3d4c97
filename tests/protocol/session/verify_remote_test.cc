// The client's half of a remote verify (RunVerifySession) against a
// hand-driven verify side on a socketpair: with owner maps and a remote
// SRC, the session asks for owner names (numeric_ids off) and SRC's owners
// are mapped through the names the PEER sent - a name this machine does not
// have still matches its rule - to the DST owner the sync would give; an
// owner no rule matches stays numeric. Without maps, no names are asked for.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "protocol/channel.h"
#include "protocol/session/common.h"
#include "protocol/session/verify_remote.h"
#include "tests/testing/temp_tree.h"

namespace ferry::protocol {
namespace {

using ferry::testing::LStat;
using ferry::testing::MakeDirs;
using ferry::testing::TempDir;
using ferry::testing::WriteFile;

constexpr uint32_t kPeerUid = 4242424;  // no account here
constexpr char kPeerUser[] = "peer_only_user";
constexpr char kPeerGroup[] = "peer_only_group";

class Collect : public VerifyEvents {
 public:
  void OnDifference(const Difference& d) override { lines.push_back(d.Itemized() + " " + d.path); }
  void OnError(const Status& e) override { lines.push_back("error " + e.message()); }
  std::vector<std::string> lines;
};

// A verify side that describes DST's own tree, except that the file `f` is
// owned by kPeerUid/kPeerUser:kPeerGroup, names only the peer knows.
class FakeVerifySide {
 public:
  FakeVerifySide(int fd, std::string dst) : dst_(std::move(dst)) {
    thread_ = std::thread([this, fd] { Serve(fd); });
  }
  ~FakeVerifySide() { thread_.join(); }
  bool numeric_ids() const { return numeric_ids_; }

 private:
  VerifyItem Item(const std::string& path, const std::string& name) {
    struct stat st = LStat(path);
    VerifyItem it;
    it.entry = ToWire(Entry::FromStat(name, st), name, {}, SessionOptions{});
    it.dev = st.st_dev;
    it.ino = st.st_ino;
    it.nlink = static_cast<uint32_t>(st.st_nlink);
    return it;
  }
  void Serve(int fd) {
    ChannelConfig cc;
    cc.role = Role::kServer;
    auto ch = Channel::Accept(fd, fd, cc, [this](const SessionOptions& o) {
      numeric_ids_ = o.numeric_ids;
      return Status::Ok();
    });
    ASSERT_TRUE(ch.ok()) << ch.status().message();
    auto open = (*ch)->Receive();
    ASSERT_TRUE(open.ok() && std::holds_alternative<VerifyOpen>(open->message));
    ASSERT_TRUE((*ch)->Send(VerifyListing{"", true, {Item(dst_, ".")}}).ok());
    VerifyItem f = Item(dst_ + "/f", "f");
    f.entry.uid = f.entry.gid = kPeerUid;
    if (!numeric_ids_) {
      f.entry.user_name = kPeerUser;
      f.entry.group_name = kPeerGroup;
    }
    ASSERT_TRUE((*ch)->Send(VerifyListing{".", true, {f}}).ok());
    ASSERT_TRUE((*ch)->Send(EndOfPass{1, 0, 0}).ok());
    (*ch)->CloseWrite();
    while (true) {
      auto in = (*ch)->Receive();
      if (!in.ok() || in->eof) return;
    }
  }

  std::string dst_;
  bool numeric_ids_ = true;
  std::thread thread_;
};

class VerifyRemoteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::signal(SIGPIPE, SIG_IGN);
    dst_ = tmp_ / "dst";
    MakeDirs(dst_);
    WriteFile(dst_ + "/f", "");  // empty: nothing to hash
  }

  // Verifies "peer:/src/" against DST with these maps, the peer's fake side
  // on a socketpair. Returns the differences; *numeric_ids what was asked.
  std::vector<std::string> Verify(const std::string& usermap, const std::string& groupmap,
                                  bool* numeric_ids) {
    VerifyOptions opt;
    opt.io = io::BackendKind::kPosix;
    auto m = std::make_shared<IdMapping>();
    if (!usermap.empty()) {
      auto u = IdMap::Parse(usermap, IdKind::kUser, "--usermap");
      EXPECT_TRUE(u.ok()) << u.status().message();
      m->users = *u;
    }
    if (!groupmap.empty()) {
      auto g = IdMap::Parse(groupmap, IdKind::kGroup, "--groupmap");
      EXPECT_TRUE(g.ok()) << g.status().message();
      m->groups = *g;
    }
    if (!m->empty()) {
      auto bound = m->Bind();
      EXPECT_TRUE(bound.ok()) << bound.status().message();
      opt.id_map = std::make_shared<IdMapping>(std::move(*bound));
    }
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    Collect events;
    {
      FakeVerifySide side(sv[1], dst_);
      RemoteSpec spec{"", "peer", "/src/"};
      auto connect = [&](const RemoteSpec&, const SessionOptions& so) -> Result<RemoteSession> {
        ChannelConfig cc;
        cc.role = Role::kClient;
        ASSIGN_OR_RETURN(std::unique_ptr<Channel> ch, Channel::Connect(sv[0], sv[0], cc, so));
        RemoteSession s;
        s.channel = std::move(ch);
        return s;
      };
      auto r = RunVerifySession({"peer:/src/", dst_ + "/"}, opt, RemoteOptions{}, true, spec,
                                connect, events);
      EXPECT_TRUE(r.ok()) << r.status().message();
      *numeric_ids = side.numeric_ids();
    }
    return events.lines;
  }

  TempDir tmp_;
  std::string dst_;
};

TEST_F(VerifyRemoteTest, OwnerMapsMatchThePeersNames) {
  const std::string me = std::to_string(::getuid()), my_group = std::to_string(::getgid());
  bool numeric = true;
  // DST's f has this process's owner: what the maps make of the peer's
  // names, so nothing differs.
  std::vector<std::string> d = Verify(std::string(kPeerUser) + ":" + me,
                                      std::string(kPeerGroup) + ":" + my_group, &numeric);
  EXPECT_FALSE(numeric) << "owner maps with a remote SRC must ask for names";
  EXPECT_EQ(d, std::vector<std::string>{});
  // A pattern over the names matches them too.
  d = Verify("peer_only_*:" + me, "peer_only_*:" + my_group, &numeric);
  EXPECT_EQ(d, std::vector<std::string>{});
}

TEST_F(VerifyRemoteTest, AnOwnerNoRuleMatchesStaysNumeric) {
  const std::string me = std::to_string(::getuid());
  bool numeric = true;
  // No rule for the peer's names: SRC's f stays kPeerUid, which DST's is not.
  std::vector<std::string> d = Verify("someone_else:" + me, "", &numeric);
  EXPECT_FALSE(numeric);
  EXPECT_EQ(d, std::vector<std::string>{".f....og... f"});
  // Without maps no names are asked for and ids are compared as they are.
  d = Verify("", "", &numeric);
  EXPECT_TRUE(numeric) << "without owner maps the session stays numeric_ids";
  EXPECT_EQ(d, std::vector<std::string>{".f....og... f"});
}

}  // namespace
}  // namespace ferry::protocol
