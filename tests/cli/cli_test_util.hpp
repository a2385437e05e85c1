#pragma once
// Runs the clgauge command line in-process and captures what it prints.

#include <sstream>
#include <string>
#include <vector>

#include "cli/command.hpp"

namespace clgauge::test {

struct CliResult {
  int status = 0;
  std::string out;
  std::string err;
};

inline CliResult run_cli(std::vector<std::string> args) {
  args.insert(args.begin(), "clgauge");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  const int status = cli::run(static_cast<int>(argv.size()), argv.data(), out, err);
  return {status, out.str(), err.str()};
}

}  // namespace clgauge::test
