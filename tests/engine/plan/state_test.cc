// The run state survives reopening (a killed runner's successor reads it),
// cut-off passes are found, and manifests show what changed on a tree.
#include "engine/plan/state.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/plan/manifest.h"
#include "tests/testing/temp_tree.h"

namespace ferry::plan {
namespace {

using ferry::testing::MakeDirs;
using ferry::testing::TempDir;
using ferry::testing::WriteFile;

TEST(PlanState, StepsAndPassesSurviveReopen) {
  TempDir tmp;
  int64_t pass_id = 0;
  {
    auto st = StateStore::Open(tmp.path());
    ASSERT_TRUE(st.ok()) << st.status().message();
    ASSERT_TRUE((*st)->SetStep("delta/a/sync.1", "delta", "a", "running", "").ok());
    PassRow p;
    p.step = "delta/a/sync.1";
    p.dst = "/dst/a/";
    p.pass = 1;
    auto id = (*st)->BeginPass(p);
    ASSERT_TRUE(id.ok());
    pass_id = *id;
    // The runner is killed here: the pass stays "running".
  }
  auto st = StateStore::Open(tmp.path());
  ASSERT_TRUE(st.ok());
  auto step = (*st)->GetStep("delta/a/sync.1");
  ASSERT_TRUE(step.has_value());
  EXPECT_EQ(step->status, "running");
  auto cut = (*st)->MarkInterrupted();
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(*cut, 1);
  std::vector<PassRow> passes = (*st)->Passes("delta/a/sync.1");
  ASSERT_EQ(passes.size(), 1u);
  EXPECT_EQ(passes[0].id, pass_id);
  EXPECT_EQ(passes[0].status, "interrupted");
  // A cut-off pass left no manifest behind.
  EXPECT_FALSE((*st)->LastManifest("/dst/a/").has_value());

  PassRow p2 = passes[0];
  p2.pass = 2;
  p2.resumed = true;
  auto id2 = (*st)->BeginPass(p2);
  ASSERT_TRUE(id2.ok());
  p2.id = *id2;
  p2.status = "done";
  p2.files = 7;
  p2.bytes = 700;
  ASSERT_TRUE((*st)->EndPass(p2).ok());
  ASSERT_TRUE((*st)->SaveManifest(p2.id, {{"a", S_IFREG | 0644, 700, 5}}).ok());
  ASSERT_TRUE((*st)->SetStep("delta/a/sync.1", "delta", "a", "done", "").ok());
  auto m = (*st)->LastManifest("/dst/a/");
  ASSERT_TRUE(m.has_value());
  ASSERT_EQ(m->size(), 1u);
  EXPECT_EQ((*m)[0].size, 700u);
  EXPECT_EQ((*st)->GetStep("delta/a/sync.1")->status, "done");
  EXPECT_GE((*st)->GetStep("delta/a/sync.1")->finished, (*st)->GetStep("delta/a/sync.1")->started);
}

TEST(PlanManifest, DiffShowsWhatChangedOnATree) {
  TempDir tmp;
  std::string root = tmp.path() + "/t";
  WriteFile(root + "/keep", "same");
  WriteFile(root + "/edit", "before");
  WriteFile(root + "/gone", "x");
  WriteFile(root + "/cache/junk", "excluded");
  FilterList f;
  ASSERT_TRUE(f.AddRule(RuleType::kExclude, "cache/").ok());
  auto before = ScanManifest(root, &f);
  ASSERT_TRUE(before.ok()) << before.status().message();
  EXPECT_EQ(before->size(), 3u);  // keep, edit, gone; cache/ excluded
  WriteFile(root + "/edit", "after, longer");
  ASSERT_EQ(::unlink((root + "/gone").c_str()), 0);
  WriteFile(root + "/sub/new", "n");
  WriteFile(root + "/.~ferry.half.0123abcd", "a temporary of a killed run");
  WriteFile(root + "/cache/junk2", "excluded");
  auto now = ScanManifest(root, &f);
  ASSERT_TRUE(now.ok());
  std::string got;
  for (const ManifestChange& c : DiffManifests(*before, *now)) got += std::string(1, c.what) + c.path + " ";
  EXPECT_EQ(got, "Medit -gone +sub +sub/new ");
}

}  // namespace
}  // namespace ferry::plan
