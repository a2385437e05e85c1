// clgauge parity on the command line: bad input is one line and exit 2 before anything
// runs; the log is written; a logged replay command, run as its own process, prints the
// same outcome, output hash and fingerprint.

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <cstdio>

#include "cli/cli_test_util.hpp"
#include "device_fixture.hpp"
#include "parity/parity_test_util.hpp"

namespace clgauge {
namespace {

using json = nlohmann::json;

TEST(ParityCli, UnknownCaseAndUnwritablePathsAreExit2BeforeAnythingRuns) {
  CLGAUGE_REQUIRE_DEVICE();
  test::TempDir dir("cli-paths");
  const std::string log = (dir.path() / "log.jsonl").string();
  test::expect_one_line_exit_2(
      {"parity", "--suite", "propagate", "--case", "rmat-1x1/none/batch9", "--log", log},
      "--case 'rmat-1x1/none/batch9'");
  EXPECT_FALSE(std::filesystem::exists(log));
  test::expect_one_line_exit_2(
      {"parity", "--suite", "propagate", "--log", (dir.path() / "missing" / "log.jsonl").string()},
      "cannot write");
  test::expect_one_line_exit_2({"parity", "--suite", "propagate", "--log", dir.path().string()},
                               "is a directory");
  const auto file = dir.path() / "file";
  std::ofstream(file) << "x";
  test::expect_one_line_exit_2(
      {"parity", "--suite", "propagate", "--log", log, "--artifacts", (file / "sub").string()},
      "--artifacts");
}

struct Process {
  int status = -1;
  std::string out;
};

// Runs a logged replay command as its own process (the built clgauge in place of the
// leading "clgauge"), through the shell, as a user would paste it.
Process run_replay(const std::string& command) {
  EXPECT_EQ(command.rfind("clgauge ", 0), 0u);
  const std::string line = std::string(CLGAUGE_EXE) + command.substr(7) + " 2>/dev/null";
  Process p;
  FILE* pipe = ::popen(line.c_str(), "r");
  if (pipe == nullptr) return p;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) p.out.append(buf, n);
  const int st = ::pclose(pipe);
  p.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return p;
}

std::vector<json> read_log(const std::filesystem::path& file) {
  std::vector<json> lines;
  std::istringstream in(test::read_text(file));
  std::string line;
  while (std::getline(in, line)) {
    EXPECT_EQ(test::check_log_line(line), "") << line;
    lines.push_back(json::parse(line));
  }
  return lines;
}

std::string expected_outcome_line(const json& j) {
  return j["outcome"].get<std::string>() + " " + j["scenario_id"].get<std::string>() + " " +
         j["reason_code"].get<std::string>() + " output_xxh3 " +
         j["output_xxh3"].get<std::string>() + " env_fingerprint " +
         j["env_fingerprint"].get<std::string>();
}

TEST(ParityCli, LoggedReplayCommandsReproduceTheirScenariosInANewProcess) {
  CLGAUGE_REQUIRE_DEVICE();
  test::TempDir dir("cli-replay");
  const auto log = dir.path() / "gemm.jsonl";
  auto r = test::run_cli({"parity", "--suite", "gemm", "--families", "gemm.direct,gemm.splitk",
                          "--configs", "default", "--shapes", "13x7x31", "--seeds", "2", "--log",
                          log.string()});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("48 scenarios, 48 pass, 0 fail"), std::string::npos) << r.out;
  auto lines = read_log(log);
  ASSERT_EQ(lines.size(), 49u);
  EXPECT_EQ(lines.back()["record"], "summary");
  const auto plog = dir.path() / "prop.jsonl";
  r = test::run_cli({"parity", "--suite", "propagate", "--graphs", "rmat:40x160", "--seeds", "2",
                     "--mode", "strict", "--log", plog.string()});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  const auto plines = read_log(plog);
  ASSERT_EQ(plines.size(), 5u);
  // One line of each family and one propagation line, each replayed in its own process.
  for (const json* j : std::vector<const json*>{&lines[5], &lines[24 + 7], &plines[3]}) {
    const auto p = run_replay((*j)["replay_command"].get<std::string>());
    EXPECT_EQ(p.status, 0) << (*j)["replay_command"];
    EXPECT_NE(p.out.find(expected_outcome_line(*j)), std::string::npos)
        << p.out << "\nwant: " << expected_outcome_line(*j);
  }
}

TEST(ParityCli, PlantedFailureReplaysThroughTheCommandLineInProcess) {
  CLGAUGE_REQUIRE_DEVICE();
  test::PlantedFamily planted("gemm.planted", test::kPlantedSource);
  test::RegisteredFamily guard(planted);
  test::TempDir dir("cli-planted");
  const auto log = dir.path() / "log.jsonl";
  const auto artifacts = dir.path() / "artifacts";
  auto r = test::run_cli({"parity", "--suite", "gemm", "--families", "gemm.planted", "--configs",
                          "default", "--shapes", "13x7x31", "--seeds", "1", "--mode", "strict",
                          "--log", log.string(), "--artifacts", artifacts.string()});
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("strict: failed closed at gemm/strict:gemm.planted@"), std::string::npos)
      << r.out;
  const auto lines = read_log(log);
  ASSERT_EQ(lines.size(), 2u);
  const auto& fail = lines[0];
  EXPECT_EQ(fail["reason_code"], "parity_mismatch");
  EXPECT_FALSE(fail["artifact_refs"].empty());
  EXPECT_NE(r.out.find("  replay: " + fail["replay_command"].get<std::string>()),
            std::string::npos);
  // The replay command's arguments, run in this process (where the family is registered).
  std::vector<std::string> args;
  std::istringstream words(fail["replay_command"].get<std::string>());
  std::string w;
  words >> w;  // "clgauge"
  while (words >> w) args.push_back(w);
  const auto again = test::run_cli(args);
  EXPECT_EQ(again.status, 1);
  EXPECT_NE(again.out.find(expected_outcome_line(fail)), std::string::npos) << again.out;
  // --json: the same record as JSON Lines.
  args.push_back("--json");
  const auto as_json = test::run_cli(args);
  std::istringstream out(as_json.out);
  std::string first;
  std::getline(out, first);
  // (The replay writes no artifacts: --artifacts is not part of a replay command.)
  auto replayed = json::parse(first);
  auto logged = fail;
  replayed.erase("artifact_refs");
  logged.erase("artifact_refs");
  EXPECT_EQ(test::without_time(replayed.dump()), test::without_time(logged.dump()));
}

}  // namespace
}  // namespace clgauge
