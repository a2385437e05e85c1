// The command line's shared mechanism: every subcommand registers its flags, then the
// policies below are applied to every option of every subcommand, so a new command
// gets them without doing anything:
//   - an option that takes a value refuses an empty value;
//   - a single-valued option or flag given twice is an error (not "last one wins");
//   - integer options (CLI11 type UINT/INT) accept only decimal integers that fit in 64
//     bits: a negative number for an unsigned option and an out-of-range number are
//     errors, never wrapped or clamped;
//   - parser errors are one line "clgauge <command>: <message>" and exit 2.
// Job errors map by reason code: bad_input / invalid_config exit 2, the rest exit 1.

#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <new>
#include <optional>
#include <utility>
#include <vector>

#include "clgauge/error.hpp"
#include "cli/command.hpp"
#include "runtime/json_io.hpp"

namespace clgauge::cli {

void DeviceFlags::add_to(CLI::App& cmd) {
  cmd.add_option("--device", device,
                 "device: flat index or substring of 'platform / device' (default: "
                 "CLGAUGE_DEVICE, else the first GPU, else the first device)");
  cmd.add_flag("--no-cache", no_cache, "bypass the on-disk program binary cache");
}

Device DeviceFlags::open() const {
  return Device::open(device);
}

ProgramCache DeviceFlags::cache() const {
  return no_cache ? ProgramCache::disabled() : ProgramCache::from_environment();
}

CLI::Validator input_file_validator() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        std::error_code ec;
        const auto st = std::filesystem::status(value, ec);
        if (ec || !std::filesystem::exists(st))
          return "'" + io::excerpt_text(value) + "': no such file";
        if (std::filesystem::is_directory(st)) {
          return "'" + io::excerpt_text(value) + "': is a directory, not a file";
        }
        if (!std::filesystem::is_regular_file(st)) {
          return "'" + io::excerpt_text(value) + "': not a regular file";
        }
        if (::access(value.c_str(), R_OK) != 0) {
          return "'" + io::excerpt_text(value) + "': not readable";
        }
        return {};
      },
      "FILE", "existing readable file");
}

namespace {

std::string non_empty(std::string& value) {
  if (value.empty()) return "empty value (give a value or leave the option out)";
  return {};
}

std::string unsigned_integer(std::string& value) {
  if (!value.empty() && value.front() == '-') {
    return "'" + io::excerpt_text(value) + "' is negative; this option takes an integer >= 0";
  }
  std::uint64_t v = 0;
  const auto r = std::from_chars(value.data(), value.data() + value.size(), v);
  if (r.ec == std::errc::result_out_of_range) {
    return "'" + io::excerpt_text(value) + "' is out of range (at most 18446744073709551615)";
  }
  if (r.ec != std::errc{} || r.ptr != value.data() + value.size()) {
    return "'" + io::excerpt_text(value) + "' is not a non-negative decimal integer";
  }
  return {};
}

std::string signed_integer(std::string& value) {
  std::int64_t v = 0;
  const auto r = std::from_chars(value.data(), value.data() + value.size(), v);
  if (r.ec == std::errc::result_out_of_range) {
    return "'" + io::excerpt_text(value) + "' is out of range (64-bit signed integers)";
  }
  if (r.ec != std::errc{} || r.ptr != value.data() + value.size()) {
    return "'" + io::excerpt_text(value) + "' is not a decimal integer";
  }
  return {};
}

void apply_policies(CLI::App& app) {
  for (CLI::App* sub : app.get_subcommands({})) {
    for (CLI::Option* opt : sub->get_options()) {
      if (opt->get_name() == "--help" || opt->get_name() == "-h") continue;
      const bool takes_value = opt->get_type_size_max() > 0;
      const bool single = opt->get_expected_max() <= 1;
      if (single) opt->multi_option_policy(CLI::MultiOptionPolicy::Throw);
      if (!takes_value) continue;
      opt->check(CLI::Validator(non_empty, "", "non-empty"));
      const std::string type = opt->get_type_name();
      if (type == "UINT") {
        opt->check(CLI::Validator(unsigned_integer, "", "unsigned integer"));
      } else if (type == "INT") {
        opt->check(CLI::Validator(signed_integer, "", "integer"));
      }
    }
  }
}

// The subcommand named on the command line (for error prefixes), or "".
std::string command_name(CLI::App& app, int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.empty() || a[0] == '-') continue;
    for (CLI::App* sub : app.get_subcommands({})) {
      if (sub->get_name() == a) return a;
    }
    return "";
  }
  return "";
}

std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

struct Registered {
  std::vector<std::pair<CLI::App*, Runner>> commands;
};

void register_commands(CLI::App& app, Registered& reg) {
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(version()));
  auto add = [&](Runner (*adder)(CLI::App&)) {
    Runner r = adder(app);
    reg.commands.emplace_back(app.get_subcommands({}).back(), std::move(r));
  };
  add(&add_bench_command);
  add(&add_db_command);
  add(&add_devices_command);
  add(&add_gemm_command);
  add(&add_parity_command);
  add(&add_plan_command);
  add(&add_propagate_command);
  add(&add_tune_command);
  apply_policies(app);
}

// Parses; on a parse error writes the one-line message (or help/version) and returns
// the exit status, else nullopt.
std::optional<int> parse(CLI::App& app, int argc, const char* const* argv, std::ostream& out,
                         std::ostream& err) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
    const std::string cmd = command_name(app, argc, argv);
    err << (cmd.empty() ? "clgauge: " : "clgauge " + cmd + ": ")
        << io::excerpt_text(one_line(e.what()), 400) << "\n";
    return 2;
  }
  return std::nullopt;
}

}  // namespace

int check_arguments(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"clgauge"};
  Registered reg;
  register_commands(app, reg);
  if (const auto code = parse(app, argc, argv, out, err)) return *code;
  return 0;
}

int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"clgauge: GEMM autotuning, honest benchmarks and CPU-vs-device parity on OpenCL"};
  Registered reg;
  register_commands(app, reg);
  if (const auto code = parse(app, argc, argv, out, err)) return *code;
  for (auto& [sub, runner] : reg.commands) {
    if (!sub->parsed()) continue;
    const std::string prefix = "clgauge " + sub->get_name() + ": ";
    try {
      return runner(Streams{out, err});
    } catch (const Error& e) {
      err << prefix << e.what() << "\n";
      const auto c = e.code();
      return (c == ReasonCode::bad_input || c == ReasonCode::invalid_config) ? 2 : 1;
    } catch (const std::bad_alloc&) {
      err << prefix
          << "out of host memory (an allocation the flags imply did not fit; try smaller sizes)\n";
      return 1;
    } catch (const std::exception& e) {
      err << prefix << "unexpected error: " << one_line(e.what()) << "\n";
      return 1;
    }
  }
  return 2;
}

}  // namespace clgauge::cli
