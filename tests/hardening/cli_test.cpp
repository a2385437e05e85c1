// Class 5: the same kind of mistake gets the same answer in every command: exit 2
// and one line "clgauge <command>: ..." naming the flag.

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "hardening/hardening_util.hpp"

namespace clgauge {
namespace {

using test::is_user_error;
using test::run_cli;

const std::string kLimits = std::string(CLGAUGE_SOURCE_DIR) + "/tuning/limits/example_gpu.json";

std::vector<std::string> plan(std::vector<std::string> extra) {
  std::vector<std::string> a = {"plan", "--space", "regtile_basic", "--device-limits", kLimits};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

TEST(HardeningCli, UnknownFlagsAreOneLineWithTheCommandPrefix) {
  for (const std::string cmd : {"devices", "gemm", "plan", "propagate"}) {
    EXPECT_TRUE(is_user_error(run_cli({cmd, "--no-such-flag"}), cmd)) << cmd;
    EXPECT_TRUE(is_user_error(run_cli({cmd, "--json", "--json"}), cmd)) << cmd;
  }
  const auto r = run_cli({"frobnicate"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("clgauge: ", 0), 0u) << r.err;
}

TEST(HardeningCli, NegativeAndOutOfRangeNumbersAreErrors) {
  EXPECT_TRUE(is_user_error(run_cli(plan({"--top-k", "-1"})), "plan", "negative"));
  EXPECT_TRUE(is_user_error(run_cli(plan({"--seed", "-5"})), "plan", "negative"));
  EXPECT_TRUE(
      is_user_error(run_cli(plan({"--seed", "18446744073709551616"})), "plan", "out of range"));
  EXPECT_TRUE(is_user_error(run_cli({"gemm", "--seed", "99999999999999999999999"}), "gemm",
                            "out of range"));
  EXPECT_TRUE(is_user_error(run_cli({"gemm", "--runs", "-1"}), "gemm", "--runs"));
  EXPECT_TRUE(is_user_error(run_cli({"propagate", "--seed", "-1"}), "propagate", "--seed"));
  EXPECT_TRUE(is_user_error(run_cli({"gemm", "--m", "99999999999999999999"}), "gemm", "--m"));
  EXPECT_EQ(run_cli(plan({"--count", "--seed", "18446744073709551615"})).code, 0);
}

TEST(HardeningCli, EmptyValuesAndRepeatedFlagsAreErrors) {
  EXPECT_TRUE(is_user_error(run_cli({"gemm", "--family", ""}), "gemm", "--family"));
  EXPECT_TRUE(is_user_error(run_cli({"gemm", "--config", ""}), "gemm", "--config"));
  EXPECT_TRUE(is_user_error(run_cli({"gemm", "--dump", ""}), "gemm", "--dump"));
  EXPECT_TRUE(is_user_error(run_cli({"plan", "--space", ""}), "plan", "--space"));
  EXPECT_TRUE(
      is_user_error(run_cli(plan({"--shard", "0/2", "--shard", "1/2"})), "plan", "--shard"));
  EXPECT_TRUE(is_user_error(run_cli({"gemm", "--m", "8", "--m", "16"}), "gemm", "--m"));
  EXPECT_TRUE(is_user_error(run_cli({"propagate", "--graph", "a", "--graph", "b"}), "propagate"));
}

TEST(HardeningCli, MissingFilesAndDirectoriesAreUserMistakes) {
  const std::string dir = std::filesystem::temp_directory_path().string();
  EXPECT_TRUE(is_user_error(run_cli({"propagate", "--graph", "/no/such/graph.bin"}), "propagate",
                            "--graph"));
  EXPECT_TRUE(is_user_error(run_cli({"propagate", "--graph", dir}), "propagate", "directory"));
  EXPECT_TRUE(is_user_error(run_cli({"propagate", "--generate", "uniform", "--nodes", "10",
                                     "--edges", "20", "--out", "/no/such/dir/g.bin"}),
                            "propagate", "--out"));
  EXPECT_TRUE(is_user_error(run_cli({"propagate", "--generate", "uniform", "--nodes", "10",
                                     "--edges", "20", "--out", dir}),
                            "propagate", "--out"));
  EXPECT_TRUE(is_user_error(
      run_cli({"propagate", "--graph", kLimits, "--seeds-file", "/no/such/seeds.json"}),
      "propagate", "--seeds-file"));
  EXPECT_TRUE(is_user_error(run_cli({"plan", "--space", "regtile_basic", "--device-limits", dir}),
                            "plan", "--device-limits"));
  EXPECT_TRUE(is_user_error(run_cli({"plan", "--space", dir + "/", "--device-limits", kLimits}),
                            "plan", "--space"));
}

}  // namespace
}  // namespace clgauge
