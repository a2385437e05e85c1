// clgauge plan, in process: golden outputs and every bad-input path (exit status 2 and
// a one-line message naming the file or flag, the field and the position).

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "clgauge/space.hpp"
#include "cli/command.hpp"
#include "scheduler/golden.hpp"

namespace clgauge {
namespace {

using test::expect_golden;
using test::scheduler_data;

struct Result {
  int status;
  std::string out;
  std::string err;
};

// Runs from tests/data/scheduler so that the file names in the output are relative and
// the golden files do not depend on where the checkout lives.
Result plan(std::vector<std::string> args) {
  const auto previous = std::filesystem::current_path();
  std::filesystem::current_path(scheduler_data(""));
  args.insert(args.begin(), {"clgauge", "plan"});
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  const int status = cli::run(static_cast<int>(argv.size()), argv.data(), out, err);
  std::filesystem::current_path(previous);
  return {status, out.str(), err.str()};
}

// A file in a fresh temporary folder, for the bad-input cases.
class BadFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("clgauge_plan_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }
  // Exit status 2 and exactly one line on stderr; returns the line without the prefix.
  std::string bad(const std::vector<std::string>& args) {
    const auto r = plan(args);
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    std::string line = r.err;
    const std::string prefix = "clgauge plan: ";
    if (line.rfind(prefix, 0) == 0) line = line.substr(prefix.size());
    if (!line.empty() && line.back() == '\n') line.pop_back();
    for (const auto& dirname : {dir_.string() + "/"}) {
      for (auto p = line.find(dirname); p != std::string::npos; p = line.find(dirname)) {
        line.erase(p, dirname.size());
      }
    }
    return line;
  }
  std::filesystem::path dir_;
};

const std::vector<std::string> kLimits = {"--device-limits", "small_limits.json"};

std::vector<std::string> with_limits(std::vector<std::string> args) {
  args.insert(args.end(), kLimits.begin(), kLimits.end());
  return args;
}

TEST(SchedulerCli, TextOutputMatchesGolden) {
  const auto r =
      plan(with_limits({"--space", "small_space.json", "--top-k", "2", "--replay-sessions", "2",
                        "--replay-runs", "2", "--shapes", "64x64x64,7x13x31"}));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.err.empty());
  expect_golden("cli_plan_small.txt", r.out);
  // Byte-identical on every run.
  EXPECT_EQ(plan(with_limits({"--space", "small_space.json", "--top-k", "2", "--replay-sessions",
                              "2", "--replay-runs", "2", "--shapes", "64x64x64,7x13x31"}))
                .out,
            r.out);
}

TEST(SchedulerCli, JsonOutputMatchesGoldenAndCarriesTheSamePlanHash) {
  const std::vector<std::string> args =
      with_limits({"--space", "small_space.json", "--shard", "1/3", "--seed", "7", "--top-k", "3"});
  auto json_args = args;
  json_args.push_back("--json");
  const auto j = plan(json_args);
  ASSERT_EQ(j.status, 0) << j.err;
  expect_golden("cli_plan_small_shard.json", j.out);
  const auto t = plan(args);
  ASSERT_EQ(t.status, 0) << t.err;
  const auto hash_line = t.out.substr(t.out.rfind("plan hash "));
  const auto hash = hash_line.substr(10, 16);
  EXPECT_NE(j.out.find("\"plan_hash\": \"" + hash + "\""), std::string::npos);
}

TEST(SchedulerCli, RandomOrderMatchesGolden) {
  const auto r =
      plan(with_limits({"--space", "small_space.json", "--random-order", "--seed", "5"}));
  ASSERT_EQ(r.status, 0) << r.err;
  expect_golden("cli_plan_small_random.txt", r.out);
}

TEST(SchedulerCli, CountPrintsOneIntegerLine) {
  auto r = plan(with_limits({"--space", "small_space.json", "--count"}));
  ASSERT_EQ(r.status, 0) << r.err;
  const auto listed = plan(with_limits({"--space", "small_space.json"}));
  const auto n = std::count(listed.out.begin(), listed.out.end(), '\n') - 5;  // minus header lines
  EXPECT_EQ(r.out, std::to_string(n) + "\n");
  r = plan(with_limits({"--space", "small_space.json", "--count", "--shard", "2/4"}));
  EXPECT_EQ(r.out, std::to_string((n - 2 + 3) / 4) + "\n");
}

TEST(SchedulerCli, ShippedSpaceByName) {
  const auto r = plan(
      {"--space", "regtile_basic", "--count", "--device-limits",
       (std::filesystem::path(CLGAUGE_SOURCE_DIR) / "tuning/limits/example_gpu.json").string()});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "28\n");
}

TEST(SchedulerCli, LimitsFromTheSelectedDevice) {
  const auto devices = list_devices();
  if (devices.empty()) GTEST_SKIP() << "no OpenCL device";
  const auto limits = DeviceLimits::from_device(select_device("0", devices));
  const auto expected =
      CompiledSpace(ParameterSpace::load(scheduler_data("small_space.json")), limits).count();
  const auto r = plan({"--space", "small_space.json", "--device", "0", "--count"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, std::to_string(expected) + "\n");
  const auto text = plan({"--space", "small_space.json", "--device", "0"});
  EXPECT_NE(text.out.find("limits device [0] " + devices[0].label() + ":"), std::string::npos)
      << text.out;
}

TEST_F(BadFiles, MalformedJson) {
  const auto f = write(
      "s.json", "{\"family\": \"f\", \"parameters\": [\n  {\"name\": \"A\", \"values\": [1,]}]}");
  EXPECT_EQ(bad(with_limits({"--space", f})),
            "s.json: malformed JSON at line 2, column 30 (byte 61): syntax error while parsing "
            "value - unexpected ']'; expected '[', '{', or a literal");
}

TEST_F(BadFiles, UnknownNameInConstraint) {
  const auto f = write(
      "s.json",
      R"({"family":"f","parameters":[{"name":"A","values":[1]}],"constraints":["A <= max_wg", "A > 0"]})");
  EXPECT_EQ(bad(with_limits({"--space", f})),
            "s.json: constraints[0], position 5: unknown name 'max_wg' (not a parameter or a "
            "device limit) in \"A <= max_wg\"");
}

TEST_F(BadFiles, EmptyValueList) {
  const auto f = write("s.json", R"({"family":"f","parameters":[{"name":"A","values":[]}]})");
  EXPECT_EQ(bad(with_limits({"--space", f})), "s.json: parameters[0].values: empty value list");
}

TEST_F(BadFiles, DuplicateParameter) {
  const auto f =
      write("s.json",
            R"({"family":"f","parameters":[{"name":"A","values":[1]},{"name":"A","values":[2]}]})");
  EXPECT_EQ(
      bad(with_limits({"--space", f})),
      "s.json: parameters[1].name: duplicate parameter 'A' (first declared at parameters[0])");
}

TEST_F(BadFiles, NonIntegerValue) {
  const auto f = write("s.json", R"({"family":"f","parameters":[{"name":"A","values":[1, 2.5]}]})");
  EXPECT_EQ(bad(with_limits({"--space", f})),
            "s.json: parameters[0].values[1]: 2.5 is not an integer");
}

TEST_F(BadFiles, UnparsableConstraint) {
  const auto f =
      write("s.json",
            R"({"family":"f","parameters":[{"name":"A","values":[1]}],"constraints":["A > > 1"]})");
  EXPECT_EQ(bad(with_limits({"--space", f})),
            "s.json: constraints[0], position 4: cannot parse: Unexpected operator \">\" found "
            "at position 4 in \"A > > 1\"");
}

TEST_F(BadFiles, BadLimitsFile) {
  const auto l = write("l.json", R"({"local_mem_bytes": 1, "max_wg_size": "big"})");
  EXPECT_EQ(bad({"--space", "small_space.json", "--device-limits", l}),
            "l.json: max_wg_size: \"big\" is not a non-negative integer");
  EXPECT_EQ(bad({"--space", "small_space.json", "--device-limits", "nope.json"}),
            "--device-limits: 'nope.json': no such file");
}

TEST_F(BadFiles, Flags) {
  EXPECT_EQ(bad(with_limits({"--space", "small_space.json", "--shard", "4/4"})),
            "--shard: '4/4': shard index 4 must be below the shard count 4");
  EXPECT_EQ(bad(with_limits({"--space", "small_space.json", "--shard", "1:4"})),
            "--shard: '1:4': expected i/N");
  EXPECT_EQ(bad(with_limits({"--space", "small_space.json", "--shapes", "8x8"})),
            "--shapes[0]: '8x8': expected <m>x<n>x<k>");
  EXPECT_EQ(bad(with_limits({"--space", "small_space.json", "--top-k", "0"})),
            "--top-k: '0': must be at least 1");
  EXPECT_EQ(bad(with_limits({"--space", "small_space.json", "--top-k", "1", "--replay-runs", "0"})),
            "--replay-runs: '0': must be at least 1");
  EXPECT_EQ(bad(with_limits({"--space", "no_such_space"}))
                .rfind("--space: no space named 'no_such_space'", 0),
            0u);
  EXPECT_EQ(bad(with_limits({"--space", "missing.json"})), "--space: 'missing.json': no such file");
}

TEST(SchedulerCli, FlagConflictsAreUsageErrors) {
  auto r = plan({"--count"});  // --space is required
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--space"), std::string::npos) << r.err;
  r = plan(with_limits({"--space", "small_space.json", "--device", "0"}));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("excludes"), std::string::npos) << r.err;
  r = plan(with_limits({"--space", "small_space.json", "--replay-runs", "2"}));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("requires --top-k"), std::string::npos) << r.err;
}

// With no OpenCL platform at all (the ICD loader pointed at an empty folder), plan
// without --device-limits says so and exits 2; with it, it plans as usual.
TEST(SchedulerCli, NoDeviceRequiresDeviceLimits) {
  const auto empty =
      std::filesystem::temp_directory_path() / ("clgauge_no_icd_" + std::to_string(::getpid()));
  std::filesystem::create_directories(empty);
  const std::string env = "OCL_ICD_VENDORS=" + empty.string() + " OCL_ICD_FILENAMES= ";
  const std::string space = scheduler_data("small_space.json").string();
  const auto run = [&](const std::string& extra) {
    const std::string cmd = env + CLGAUGE_EXE + std::string(" plan --space ") + space + " --count" +
                            extra + " 2>&1; echo \"status $?\"";
    FILE* p = ::popen(cmd.c_str(), "r");
    std::string out;
    char buf[512];
    while (p != nullptr && std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
    if (p != nullptr) ::pclose(p);
    return out;
  };
  const auto no_limits = run("");
  EXPECT_NE(no_limits.find("clgauge plan: --device-limits: no OpenCL device found"),
            std::string::npos)
      << no_limits;
  EXPECT_NE(no_limits.find("status 2"), std::string::npos) << no_limits;
  const auto limits = run(" --device-limits " + scheduler_data("small_limits.json").string());
  EXPECT_NE(limits.find("status 0"), std::string::npos) << limits;
  std::filesystem::remove_all(empty);
}

}  // namespace
}  // namespace clgauge
