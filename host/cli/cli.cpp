#include <utility>
#include <vector>

#include "clgauge/error.hpp"
#include "cli/command.hpp"

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

int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"clgauge: GEMM autotuning, honest benchmarks and CPU-vs-device parity on OpenCL"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(version()));
  std::vector<std::pair<CLI::App*, Runner>> commands;
  auto add = [&](Runner (*adder)(CLI::App&)) {
    Runner r = adder(app);
    commands.emplace_back(app.get_subcommands({}).back(), std::move(r));
  };
  add(&add_db_command);
  add(&add_devices_command);
  add(&add_gemm_command);
  add(&add_plan_command);
  add(&add_propagate_command);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e, out, err);
    return code == 0 ? 0 : 2;
  }
  for (auto& [sub, runner] : commands) {
    if (!sub->parsed()) continue;
    try {
      return runner(Streams{out, err});
    } catch (const Error& e) {
      err << "clgauge " << sub->get_name() << ": " << e.what() << "\n";
      const auto c = e.code();
      return (c == ReasonCode::bad_input || c == ReasonCode::invalid_config) ? 2 : 1;
    } catch (const std::exception& e) {
      err << "clgauge " << sub->get_name() << ": unexpected error: " << e.what() << "\n";
      return 1;
    }
  }
  return 2;
}

}  // namespace clgauge::cli
