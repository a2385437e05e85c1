#pragma once
// Helpers of the hardening tests: run the CLI in-process and classify its answer.

#include <sstream>
#include <string>
#include <vector>

#include "cli/command.hpp"

namespace clgauge::test {

struct CliResult {
  int code = 0;
  std::string out;
  std::string err;
};

inline CliResult run_cli(std::vector<std::string> args) {
  args.insert(args.begin(), "clgauge");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  const int code = cli::run(static_cast<int>(argv.size()), argv.data(), out, err);
  return {code, out.str(), err.str()};
}

// Exit 2 with exactly one line on stderr that starts with "clgauge <command>: ".
inline ::testing::AssertionResult is_user_error(const CliResult& r, const std::string& command,
                                                const std::string& needle = "") {
  const std::string prefix = "clgauge " + command + ": ";
  if (r.code != 2) return ::testing::AssertionFailure() << "exit " << r.code << ", err: " << r.err;
  if (r.err.rfind(prefix, 0) != 0) {
    return ::testing::AssertionFailure() << "no '" << prefix << "' prefix: " << r.err;
  }
  if (r.err.find('\n') != r.err.size() - 1) {
    return ::testing::AssertionFailure() << "not one line: " << r.err;
  }
  if (!needle.empty() && r.err.find(needle) == std::string::npos) {
    return ::testing::AssertionFailure() << "'" << needle << "' not in: " << r.err;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace clgauge::test
