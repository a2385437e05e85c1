// The tuning report: report.md from a fixture report.json (golden file), the files
// write_tune_report leaves (valid PNGs when gnuplot is installed, a warning when it is
// not, nothing else in the folder), and the errors for bad input and unwritable folders.
//
// Regenerate the golden file after an intended change, then review the diff:
//   CLGAUGE_UPDATE_GOLDEN=1 build/release/tests/clgauge_tests --gtest_filter='TuneReport*'

#include "clgauge/tune_report.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "clgauge/error.hpp"

namespace clgauge {
namespace {

namespace fs = std::filesystem;

fs::path report_data(const std::string& name) {
  return fs::path(CLGAUGE_TEST_DATA_DIR) / "report" / name;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string fixture() {
  return read_file(report_data("report.json"));
}

void expect_golden(const std::string& name, const std::string& actual) {
  const auto path = report_data("golden") / name;
  const char* update = std::getenv("CLGAUGE_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(fs::exists(path)) << "missing golden file " << path
                                << " (write it with CLGAUGE_UPDATE_GOLDEN=1 and review it)";
  EXPECT_EQ(actual, read_file(path)) << "output differs from golden file " << path;
}

bool gnuplot_on_path() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (!dir.empty() && ::access((fs::path(dir) / "gnuplot").c_str(), X_OK) == 0) return true;
  }
  return false;
}

template <typename F>
std::string error_of(F&& f, ReasonCode code) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no Error thrown";
  return "";
}

class TuneReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("clgauge_report_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(TuneReportTest, MarkdownMatchesGolden) {
  expect_golden("report.md", tune_report_markdown(fixture()));
}

TEST_F(TuneReportTest, MarkdownTellsTheStory) {
  const auto md = tune_report_markdown(fixture());
  // Winner against every baseline, decision and why.
  EXPECT_NE(md.find("| 512x512x512 | `c3d4e5f607182930` gemm.regtile | 178.4 | 1.94x | 2.38x | "
                    "0.94x | promote |"),
            std::string::npos);
  EXPECT_NE(md.find("**Decision: iterate.** 2930415263748596 is correct and stable but only"),
            std::string::npos);
  EXPECT_NE(md.find("No winner: no candidate passed"), std::string::npos);
  // What failed, counted by reason code, most frequent first, with examples.
  EXPECT_NE(md.find("| build_failed | 2 | `b2c3d4e5f6071829`: <source>:41:3: error: use of "
                    "undeclared identifier 'acc_8' acc_8 = fma(a, b, acc_8); ^; "
                    "`1829304152637485`: ptxas"),
            std::string::npos);
  EXPECT_NE(md.find("| timeout | 2 |"), std::string::npos);
  EXPECT_NE(md.find("(first of 12 \\| 262144 elements)"), std::string::npos);  // escaped pipe
  EXPECT_NE(md.find("| out_of_budget | 1 |"), std::string::npos);
  // Resumed evaluations and the exhausted budget are said.
  EXPECT_NE(md.find("- Resumed: 5 evaluations"), std::string::npos);
  EXPECT_NE(md.find("**The budget ran out**"), std::string::npos);
  // A failed baseline says why.
  EXPECT_NE(md.find("| CLBlast | n/a | n/a | launch_failed: CLBlast returned -54"),
            std::string::npos);
  // A wrong session in the replay is marked.
  EXPECT_NE(md.find("55.0, 54.1 (wrong), 55.9"), std::string::npos);
  EXPECT_NE(md.find("![GFLOP/s of every candidate that ran, ranked](512x512x512-ranked.png)"),
            std::string::npos);
  EXPECT_EQ(md.find("64x64x64-ranked.png"), std::string::npos);  // nothing ran: no plot
  EXPECT_EQ(tune_report_markdown(fixture(), false).find(".png"), std::string::npos);
}

// Markdown depends on the fields, not on their order in the document.
TEST_F(TuneReportTest, KeyOrderDoesNotChangeTheMarkdown) {
  const std::string sorted = nlohmann::json::parse(fixture()).dump();
  EXPECT_EQ(tune_report_markdown(sorted), tune_report_markdown(fixture()));
}

TEST_F(TuneReportTest, MinimalReportIsAccepted) {
  const auto md = tune_report_markdown(R"({"schema": "clgauge-tune-report-v1", "shapes": []})");
  EXPECT_EQ(md.rfind("# Tuning report\n", 0), 0u);
  EXPECT_NE(md.find("- Budget: none"), std::string::npos);
}

TEST_F(TuneReportTest, WritesReportFilesAndValidPlots) {
  if (!gnuplot_on_path()) GTEST_SKIP() << "gnuplot is not installed (Debian gnuplot-nox)";
  const auto out = write_tune_report(fixture(), dir_ / "nested" / "report");
  const auto dir = dir_ / "nested" / "report";
  const std::vector<fs::path> want = {dir / "report.json",
                                      dir / "report.md",
                                      dir / "512x512x512-ranked.png",
                                      dir / "512x512x512-progress.png",
                                      dir / "4096x256x64-ranked.png",
                                      dir / "4096x256x64-progress.png"};
  EXPECT_EQ(out.files, want);
  ASSERT_EQ(out.warnings.size(), 1u);
  EXPECT_EQ(out.warnings[0], "shape 64x64x64: no candidate ran successfully; no plots");
  // Exactly these files: no data or temporary files left behind.
  std::set<fs::path> listed;
  for (const auto& entry : fs::directory_iterator(dir)) listed.insert(entry.path());
  EXPECT_EQ(listed, std::set<fs::path>(want.begin(), want.end()));
  for (std::size_t i = 2; i < want.size(); ++i) {
    const std::string png = read_file(want[i]);
    ASSERT_GT(png.size(), 1000u) << want[i];
    EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << want[i];
  }
  // report.json: the same document, pretty-printed with the fields in their given order.
  const std::string json = read_file(dir / "report.json");
  EXPECT_EQ(nlohmann::ordered_json::parse(json), nlohmann::ordered_json::parse(fixture()));
  EXPECT_EQ(json.rfind("{\n  \"schema\": \"clgauge-tune-report-v1\",\n", 0), 0u);
  EXPECT_EQ(read_file(dir / "report.md"), tune_report_markdown(fixture()));
}

TEST_F(TuneReportTest, MissingGnuplotIsAWarning) {
  const char* old = std::getenv("PATH");
  const std::string saved = old != nullptr ? old : "";
  fs::create_directories(dir_ / "empty-bin");
  ::setenv("PATH", (dir_ / "empty-bin").c_str(), 1);
  ReportFiles out;
  EXPECT_NO_THROW(out = write_tune_report(fixture(), dir_ / "report"));
  ::setenv("PATH", saved.c_str(), 1);
  EXPECT_EQ(out.files, (std::vector<fs::path>{dir_ / "report" / "report.json",
                                              dir_ / "report" / "report.md"}));
  ASSERT_EQ(out.warnings.size(), 2u);
  EXPECT_EQ(out.warnings[1],
            "gnuplot not found on PATH: no plots (install Debian package gnuplot-nox)");
  EXPECT_EQ(read_file(dir_ / "report" / "report.md"), tune_report_markdown(fixture(), false));
}

// A gnuplot that fails half-way: a warning with its message, and no broken image left.
TEST_F(TuneReportTest, FailingGnuplotLeavesNoBrokenPlots) {
  const auto bin = dir_ / "fake-bin";
  fs::create_directories(bin);
  std::ofstream(bin / "gnuplot") << "#!/bin/sh\ncat >/dev/null\n: > 512x512x512-ranked.png\n"
                                    "echo 'line 3: boom' >&2\nexit 1\n";
  fs::permissions(bin / "gnuplot", fs::perms::owner_all);
  const char* old = std::getenv("PATH");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("PATH", (bin.string() + ":" + saved).c_str(), 1);
  ReportFiles out;
  EXPECT_NO_THROW(out = write_tune_report(fixture(), dir_ / "report"));
  ::setenv("PATH", saved.c_str(), 1);
  EXPECT_EQ(out.files, (std::vector<fs::path>{dir_ / "report" / "report.json",
                                              dir_ / "report" / "report.md"}));
  ASSERT_GE(out.warnings.size(), 2u);
  EXPECT_EQ(out.warnings[1], "gnuplot failed: line 3: boom");
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_ / "report")) ++entries;
  EXPECT_EQ(entries, 2u);
  EXPECT_EQ(read_file(dir_ / "report" / "report.md"), tune_report_markdown(fixture(), false));
}

TEST_F(TuneReportTest, UnwritableFolderIsIoError) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "plain") << "x";
  const auto target = dir_ / "plain" / "report";
  const auto msg = error_of([&] { write_tune_report(fixture(), target); }, ReasonCode::io_error);
  EXPECT_EQ(msg.rfind(target.string() + ": cannot create the report folder", 0), 0u) << msg;
}

TEST_F(TuneReportTest, MalformedReportIsBadInputAndWritesNothing) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"schema\": ", "report json: (document): not valid JSON"},
      {"[1, 2]", "report json: (document): expected an object"},
      {R"({"schema": "other", "shapes": []})",
       "report json: schema: expected \"clgauge-tune-report-v1\", got \"other\""},
      {R"({"schema": "clgauge-tune-report-v1"})", "report json: shapes: expected an array"},
      {R"({"schema": "clgauge-tune-report-v1", "shapes": [{"shape": "8x8x8",
          "candidates": [{"outcome": "ok", "gflops_median": "fast"}]}]})",
       "report json: shapes[0].candidates[0].gflops_median: expected a number, got \"fast\""},
      {R"({"schema": "clgauge-tune-report-v1", "shapes": [{"shape": "8x8x8",
          "candidates": [{"outcome": "maybe"}]}]})",
       "report json: shapes[0].candidates[0].outcome: expected \"ok\" or \"failed\", got "
       "\"maybe\""},
      {R"({"schema": "clgauge-tune-report-v1", "shapes": [{"m": 8}]})",
       "report json: shapes[0].shape: missing"},
      {R"({"schema": "clgauge-tune-report-v1", "budget": {"ran_out": "yes"}, "shapes": []})",
       "report json: budget.ran_out: expected true or false, got \"yes\""},
      {R"({"schema": "clgauge-tune-report-v1", "shapes": [{"shape": "8x8x8",
          "best_so_far": [[1]]}]})",
       "report json: shapes[0].best_so_far: expected [eval_index, gflops] pairs, got [1]"},
  };
  for (const auto& [doc, message] : cases) {
    EXPECT_EQ(error_of([&] { tune_report_markdown(doc); }, ReasonCode::bad_input), message);
    EXPECT_EQ(error_of([&] { write_tune_report(doc, dir_); }, ReasonCode::bad_input), message);
    EXPECT_FALSE(fs::exists(dir_)) << "written for bad input: " << doc;
  }
}

}  // namespace
}  // namespace clgauge
