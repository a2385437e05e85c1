// clgauge parity bad input that needs no device: one line, exit 2, nothing run.

#include <gtest/gtest.h>

#include "parity/parity_test_util.hpp"

namespace clgauge {
namespace {

TEST(ParityCliInput, BadInputIsOneLineAndExit2BeforeAnythingRuns) {
  test::TempDir dir("cli-bad");
  const std::string log = (dir.path() / "log.jsonl").string();
  test::expect_one_line_exit_2({"parity", "--suite", "gemmm", "--log", log}, "--suite 'gemmm'");
  test::expect_one_line_exit_2({"parity", "--mode", "lenient", "--log", log}, "--mode 'lenient'");
  test::expect_one_line_exit_2({"parity", "--families", "gemm.none", "--log", log}, "gemm.none");
  test::expect_one_line_exit_2({"parity", "--seeds", "0", "--log", log}, "--seeds 0");
  test::expect_one_line_exit_2({"parity", "--seeds", "-1", "--log", log}, "--seeds");
  test::expect_one_line_exit_2({"parity", "--shapes", "1x1x1,,2x2x2", "--log", log}, "--shapes[1]");
  const auto bad_allow = dir.path() / "allow.json";
  std::ofstream(bad_allow) << R"({"allow": [{"pattern": "gemm/*"}]})";
  test::expect_one_line_exit_2({"parity", "--allowlist", bad_allow.string(), "--log", log},
                               "allow[0].reason: missing");
  std::ofstream(bad_allow, std::ios::trunc) << "{not json";
  test::expect_one_line_exit_2({"parity", "--allowlist", bad_allow.string(), "--log", log},
                               "malformed JSON");
  test::expect_one_line_exit_2({"parity", "--allowlist", (dir.path() / "none.json").string()},
                               "no such file");
  EXPECT_FALSE(std::filesystem::exists(log)) << "nothing ran, no log written";
}

}  // namespace
}  // namespace clgauge
