#pragma once
// The clgauge command line: each subcommand registers its flags on the app and
// returns the function that runs it once parsing succeeded.

#include <functional>
#include <optional>
#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

#include "clgauge/runtime.hpp"

namespace clgauge::cli {

struct Streams {
  std::ostream& out;
  std::ostream& err;
};

// Exit status: 0 success, 1 the job ran and failed (parity, device), 2 bad input.
using Runner = std::function<int(Streams)>;

Runner add_bench_command(CLI::App& app);
Runner add_db_command(CLI::App& app);
Runner add_devices_command(CLI::App& app);
Runner add_gemm_command(CLI::App& app);
Runner add_parity_command(CLI::App& app);
Runner add_plan_command(CLI::App& app);
Runner add_propagate_command(CLI::App& app);
Runner add_tune_command(CLI::App& app);

// Runs the command line; never throws.
int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err);
// Parses the command line (with every policy of cli.cpp) and runs nothing: 0 when it
// parses, 2 with the one-line error otherwise. For the CLI fuzz targets.
int check_arguments(int argc, const char* const* argv, std::ostream& out, std::ostream& err);
// A CLI11 check for options that name an input file: it must exist, be a regular file
// (not a directory) and be readable, else a parse error naming the option (exit 2).
// Use: cmd->add_option("--graph", f->graph, "...")->check(input_file_validator());
CLI::Validator input_file_validator();

// Shared flag helpers.
struct DeviceFlags {
  std::string device;  // --device N|SUBSTRING
  bool no_cache = false;
  void add_to(CLI::App& cmd);
  Device open() const;
  ProgramCache cache() const;
};

}  // namespace clgauge::cli
