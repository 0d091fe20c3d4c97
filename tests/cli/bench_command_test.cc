// `ferry bench` as an operator or a script uses it: the JSON has every field
// with positive, finite numbers; --estimate counts a generated tree exactly;
// the table names each measurement and says the transport is not measured;
// bad input gets exit 1 or 11 with the path named; nothing is left behind.
#include <dirent.h>
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/testing/temp_tree.h"

namespace ferry {
namespace {

using ::ferry::testing::MakeDirs;
using ::ferry::testing::Shell;
using ::ferry::testing::TempDir;
using ::ferry::testing::WriteFile;

std::string Q(const std::string& s) { return "'" + s + "'"; }

// Small knobs: the test checks shape and arithmetic, not the machine.
const std::string kQuick = " --size 1M --files 20 --file-size 100";

int Bench(const std::string& args, std::string* out) {
  return Shell(std::string(FERRY_BINARY) + " bench" + args + " 2>&1", out);
}

bool PositiveFinite(const nlohmann::json& v) {
  return v.is_number() && std::isfinite(v.get<double>()) && v.get<double>() > 0;
}

int Entries(const std::string& dir) {
  int n = 0;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return -1;
  while (struct dirent* e = ::readdir(d)) n += std::string(e->d_name) != "." && std::string(e->d_name) != "..";
  ::closedir(d);
  return n;
}

TEST(BenchCommandTest, JsonHasEveryMeasurement) {
  TempDir tmp;
  std::string out;
  ASSERT_EQ(Bench(" --json --path " + Q(tmp.path()) + kQuick, &out), 0) << out;
  auto j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_EQ(j["path"], tmp.path());
  for (const char* k : {"write_bytes_per_s", "read_bytes_per_s"})
    EXPECT_TRUE(PositiveFinite(j["disk"][k])) << k << ": " << out;
  EXPECT_EQ(j["disk"]["bytes"], 1 << 20);
  EXPECT_TRUE(j["disk"]["method"].is_string());
  EXPECT_EQ(j["create"]["files"], 20);
  EXPECT_EQ(j["create"]["file_size"], 100);
  EXPECT_TRUE(PositiveFinite(j["create"]["files_per_s"])) << out;
  for (const char* k : {"hash_bytes_per_s_per_core", "delta_bytes_per_s_per_core",
                        "zstd_compress_bytes_per_s_per_core",
                        "zstd_decompress_bytes_per_s_per_core", "zstd_ratio", "cores"})
    EXPECT_TRUE(PositiveFinite(j["cpu"][k])) << k << ": " << out;
  EXPECT_EQ(j["cpu"]["zstd_level"], 3);
  EXPECT_EQ(j["transport"]["measured"], false);
  EXPECT_FALSE(j.contains("estimate"));
  EXPECT_EQ(Entries(tmp.path()), 0) << "bench left files behind";
}

TEST(BenchCommandTest, EstimateCountsAGeneratedTreeAndPredictsPositiveTimes) {
  TempDir tmp;
  std::string src = tmp / "src";
  uint64_t bytes = 0;
  for (int i = 0; i < 30; ++i) {
    WriteFile(src + "/dir" + std::to_string(i % 3) + "/file" + std::to_string(i),
              std::string(500 + 37 * i, 'a'));
    bytes += 500 + 37 * i;
  }
  std::string out;
  ASSERT_EQ(Bench(" --json --estimate " + Q(src + "/") + kQuick, &out), 0) << out;
  auto j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_EQ(j["path"], tmp.path()) << "without DST the disk is measured beside SRC";
  const auto& e = j["estimate"];
  EXPECT_EQ(e["files"], 30);
  EXPECT_EQ(e["bytes"], bytes);
  EXPECT_EQ(e["dirs"], 3);
  EXPECT_EQ(e["entries"], 33);
  // Everything was written just now: all of it is "recent".
  EXPECT_EQ(e["recent_files"], 30);
  EXPECT_EQ(e["delta_files"], 30);
  EXPECT_EQ(e["delta_bytes"], bytes);
  EXPECT_TRUE(e["dry_run"].is_null());
  EXPECT_TRUE(PositiveFinite(e["stage_one_seconds"])) << out;
  EXPECT_TRUE(PositiveFinite(e["delta_seconds"])) << out;
  EXPECT_NE(e["assumption"].get<std::string>().find("last 24 h"), std::string::npos) << out;
  EXPECT_EQ(Entries(tmp.path()), 1) << "bench left files beside SRC";

  // With a DST that does not exist yet: everything would be sent, and the
  // disk is measured where DST will be created.
  std::string dst = tmp / "dst";
  ASSERT_EQ(Bench(" --json --estimate " + Q(src + "/") + " " + Q(dst + "/") + kQuick, &out), 0) << out;
  j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_EQ(j["path"], tmp.path());
  EXPECT_EQ(j["estimate"]["dry_run"]["files"], 30);
  EXPECT_EQ(j["estimate"]["dry_run"]["bytes"], bytes);

  // With DST: a dry run decides; a complete copy leaves nothing to send.
  ASSERT_EQ(Shell(std::string(FERRY_BINARY) + " sync --no-progress " + Q(src + "/") + " " +
                  Q(dst + "/")),
            0);
  WriteFile(src + "/dir1/file1", "new");
  ASSERT_EQ(Bench(" --json --estimate " + Q(src + "/") + " " + Q(dst + "/") + kQuick, &out), 0) << out;
  j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_EQ(j["path"], dst) << "with DST the disk is measured in DST";
  EXPECT_EQ(j["estimate"]["dry_run"]["files"], 1) << out;
  EXPECT_EQ(j["estimate"]["delta_files"], 1);
  EXPECT_EQ(j["estimate"]["delta_bytes"], 3);
  EXPECT_TRUE(PositiveFinite(j["estimate"]["delta_seconds"])) << out;
  EXPECT_NE(j["estimate"]["assumption"].get<std::string>().find("dry run against DST"),
            std::string::npos);
}

TEST(BenchCommandTest, TableNamesEachRowAndTheMissingTransport) {
  TempDir tmp;
  WriteFile(tmp / "src/a", "abc");
  std::string out;
  ASSERT_EQ(Bench(" --path " + Q(tmp.path()) + " --estimate " + Q(tmp / "src") + kQuick, &out), 0)
      << out;
  for (const char* row : {"sequential write", "sequential read", "small-file create",
                          "hash XXH3-128", "delta sig+match", "zstd -3 compress",
                          "zstd -3 decompress", "stage one", "delta pass", "assumption"})
    EXPECT_NE(out.find(row), std::string::npos) << row << "\n" << out;
  EXPECT_NE(out.find("transport              not measured   give --remote [user@]host[:PATH]"),
            std::string::npos)
      << out;
}

// --remote over the remote-shell stand-in: two real ferry processes, the
// session's framing and flow control, with and without zstd.
TEST(BenchCommandTest, RemoteTransportRowsOverTheStandIn) {
  TempDir tmp;
  const std::string remote = " -e " + Q(FERRY_STANDIN) + " --remote-ferry " + Q(FERRY_BINARY) +
                             " --remote-size 3M --remote testhost:" + Q(tmp.path());
  std::string out;
  ASSERT_EQ(Bench(" --json --path " + Q(tmp.path()) + kQuick + remote, &out), 0) << out;
  auto j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out;
  const auto& t = j["transport"];
  EXPECT_EQ(t["measured"], true) << out;
  EXPECT_EQ(t["remote"], "testhost:" + tmp.path());
  for (const char* mode : {"plain", "zstd"}) {
    EXPECT_EQ(t[mode]["payload_bytes"], 3 << 20) << mode << ": " << out;
    for (const char* k : {"wire_bytes", "seconds", "payload_bytes_per_s", "wire_bytes_per_s"})
      EXPECT_TRUE(PositiveFinite(t[mode][k])) << mode << " " << k << ": " << out;
  }
  EXPECT_EQ(t["plain"]["compress_level"], 0);
  EXPECT_EQ(t["zstd"]["compress_level"], 3);
  // Framing adds bytes; zstd takes text-like data well below its size.
  EXPECT_GE(t["plain"]["wire_bytes"].get<uint64_t>(), uint64_t{3} << 20) << out;
  EXPECT_LT(t["zstd"]["wire_bytes"].get<uint64_t>(), uint64_t{3} << 20) << out;
  EXPECT_EQ(Entries(tmp.path()), 0) << "the transport bench wrote to PATH";

  ASSERT_EQ(Bench(" --path " + Q(tmp.path()) + kQuick + remote, &out), 0) << out;
  EXPECT_NE(out.find("  transport  "), std::string::npos) << out;
  EXPECT_NE(out.find("  transport -z  "), std::string::npos) << out;
  EXPECT_EQ(out.find("not measured"), std::string::npos) << out;

  // A remote shell that fails is the transport's failure (12), before any
  // disk probe.
  EXPECT_EQ(Bench(" --path " + Q(tmp.path()) + kQuick + " -e false --remote testhost", &out), 12)
      << out;
  EXPECT_NE(out.find("transport to testhost"), std::string::npos) << out;
  EXPECT_NE(out.find("remote shell exited with status 1"), std::string::npos) << out;
}

TEST(BenchCommandTest, BadInputExitsWithACodeAndNamesThePath) {
  TempDir tmp;
  std::string out;
  EXPECT_EQ(Bench(" --estimate " + Q(tmp / "missing") + kQuick, &out), 11) << out;
  EXPECT_NE(out.find(tmp / "missing"), std::string::npos) << out;
  EXPECT_EQ(Bench(" --path " + Q(tmp / "nodir") + kQuick, &out), 11) << out;
  EXPECT_NE(out.find(tmp / "nodir"), std::string::npos) << out;
  EXPECT_EQ(Bench(" --path " + Q(tmp.path()) + " --size 0", &out), 1) << out;
  EXPECT_EQ(Bench(" --path " + Q(tmp.path()) + " --files 0", &out), 1) << out;
  EXPECT_EQ(Bench(" --path " + Q(tmp.path()) + " --size lots", &out), 1) << out;
}

}  // namespace
}  // namespace ferry
