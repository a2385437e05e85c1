// The argument parsing of one command (CLGAUGE_FUZZ_COMMAND): the input is split into
// arguments at NUL and newline bytes; the command line is parsed with every policy of
// host/cli/cli.cpp and nothing runs.
#include <sstream>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "fuzz/fuzz_util.hpp"

void fuzz_one(std::string_view input) {
  std::vector<std::string> args = {"clgauge", CLGAUGE_FUZZ_COMMAND};
  std::string arg;
  for (const char c : input) {
    if (c == '\0' || c == '\n') {
      args.push_back(arg);
      arg.clear();
    } else {
      arg += c;
    }
  }
  if (!arg.empty()) args.push_back(arg);
  if (args.size() > 64) return;
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  const int code =
      clgauge::cli::check_arguments(static_cast<int>(argv.size()), argv.data(), out, err);
  // The contract: 0 (parsed, or help) or 2 with one line.
  if (code != 0 && code != 2) __builtin_trap();
  if (code == 2 && err.str().find('\n') != err.str().size() - 1) __builtin_trap();
}
