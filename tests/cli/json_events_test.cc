// `ferry sync --json` events as programs read them: one parseable object per
// line, the action named, a symlink's target apart from its path, errors with
// their path, and file names that are not UTF-8 not breaking the stream.
#include "cli/json_events.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ferry::cli {
namespace {

TEST(ItemActionTest, NamesEachKindOfChange) {
  EXPECT_EQ(ItemAction(">f+++++++++"), "send");
  EXPECT_EQ(ItemAction(">f.st......"), "send");
  EXPECT_EQ(ItemAction("cd+++++++++"), "create");
  EXPECT_EQ(ItemAction("cL+++++++++"), "create");
  EXPECT_EQ(ItemAction("hf+++++++++"), "link");
  EXPECT_EQ(ItemAction(".f...p....."), "meta");
  EXPECT_EQ(ItemAction("*deleting  "), "delete");
}

class Recorder : public SyncEvents {
 public:
  void OnPathError(std::string_view path, const Status&) override { paths.emplace_back(path); }
  std::vector<std::string> paths;
};

// Collects what JsonEvents writes, one parsed object per line.
std::vector<nlohmann::json> Capture(void (*body)(JsonEvents&, Recorder&), Recorder* rec) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  {
    JsonEvents ev(f, rec);
    body(ev, *rec);
    ev.Flush();
  }
  std::fclose(f);
  std::string text(buf, len);
  std::free(buf);
  std::vector<nlohmann::json> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    EXPECT_NE(nl, std::string::npos) << "unterminated line";
    if (nl == std::string::npos) break;
    auto j = nlohmann::json::parse(text.substr(start, nl - start), nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << text.substr(start, nl - start);
    out.push_back(j);
    start = nl + 1;
  }
  return out;
}

// A remote sync: "start" as the session starts (no totals yet), then
// "planned" with the receiver's totals; the next pass starts over.
TEST(JsonEventsTest, ASecondPlannedOfAPassIsThePlannedEvent) {
  Recorder rec;
  auto lines = Capture(
      [](JsonEvents& ev, Recorder&) {
        SyncStats st;
        ev.SetPass("src/", "host:dst/", false);
        ev.OnPlanned(st);
        st.planned_files = 7;
        st.planned_bytes = 4096;
        ev.OnPlanned(st);
        ev.SetPass("src2/", "host:dst/", false);
        ev.OnPlanned(st);
      },
      &rec);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["event"], "start");
  EXPECT_EQ(lines[0]["planned_files"], 0);
  EXPECT_EQ(lines[1]["event"], "planned");
  EXPECT_EQ(lines[1]["dst"], "host:dst/");
  EXPECT_EQ(lines[1]["planned_files"], 7);
  EXPECT_EQ(lines[1]["planned_bytes"], 4096);
  EXPECT_EQ(lines[2]["event"], "start");
}

TEST(JsonEventsTest, OneObjectPerLineForEachEvent) {
  Recorder rec;
  auto lines = Capture(
      [](JsonEvents& ev, Recorder&) {
        SyncStats st;
        st.files = 3;
        st.planned_files = 2;
        st.planned_bytes = 1234;
        ev.SetPass("src/", "dst/", false);
        ev.OnPlanned(st);
        ev.OnChange({">f+++++++++", "dir/a", "", 1234});
        ev.OnChange({"cL+++++++++", "l", " -> dir/a", 0});
        ev.OnChange({"hf+++++++++", "b", " => dir/a", 0});
        ev.OnPathError("dir/c", Status(ErrorCode::kPermission, "open dir/c: Permission denied"));
        ev.OnVanished("dir/d");
      },
      &rec);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0]["event"], "start");
  EXPECT_EQ(lines[0]["src"], "src/");
  EXPECT_EQ(lines[0]["planned_files"], 2);
  EXPECT_EQ(lines[0]["planned_bytes"], 1234);
  EXPECT_EQ(lines[1]["event"], "file");
  EXPECT_EQ(lines[1]["path"], "dir/a");
  EXPECT_EQ(lines[1]["action"], "send");
  EXPECT_EQ(lines[1]["bytes"], 1234);
  EXPECT_EQ(lines[1]["item"], ">f+++++++++");
  EXPECT_EQ(lines[2]["path"], "l");
  EXPECT_EQ(lines[2]["target"], "dir/a");
  EXPECT_EQ(lines[3]["action"], "link");
  EXPECT_EQ(lines[3]["target"], "dir/a");
  EXPECT_EQ(lines[4]["event"], "error");
  EXPECT_EQ(lines[4]["path"], "dir/c");
  EXPECT_EQ(lines[4]["code"], "permission");
  EXPECT_EQ(lines[4]["cause"], "open dir/c: Permission denied");
  EXPECT_EQ(lines[5]["event"], "vanished");
  EXPECT_EQ(lines[5]["path"], "dir/d");
  EXPECT_EQ(rec.paths, std::vector<std::string>{"dir/c"}) << "errors also reach stderr's text";
}

TEST(JsonEventsTest, NonUtf8FileNameStillGivesAParseableLine) {
  Recorder rec;
  auto lines = Capture(
      [](JsonEvents& ev, Recorder&) {
        ev.OnChange({">f+++++++++", "caf\xe9.txt", "", 5});  // Latin-1, not UTF-8
      },
      &rec);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["bytes"], 5);
  EXPECT_TRUE(lines[0]["path"].get<std::string>().starts_with("caf"));
}

}  // namespace
}  // namespace ferry::cli
