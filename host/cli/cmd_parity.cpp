// clgauge parity: CPU-vs-device parity campaigns (include/clgauge/campaign.hpp). This
// file only reads flags, checks every input before any device work, writes the evidence
// log, prints progress (on a terminal) and the summary, and maps the exit status.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "clgauge/campaign.hpp"
#include "clgauge/error.hpp"
#include "clgauge/hash.hpp"
#include "cli/command.hpp"
#include "runtime/json_io.hpp"

namespace clgauge::cli {
namespace {

struct ParityFlags {
  std::string suite = "all";
  std::uint64_t seeds = 3;
  std::uint64_t seed = 42;
  std::string mode = "hardened";
  std::string shapes, families, configs, graphs;
  std::string log, allowlist, artifacts, case_id;
  bool json = false;
  DeviceFlags device;
};

[[noreturn]] void bad(const std::string& message) {
  throw Error(ReasonCode::bad_input, message);
}

std::vector<std::string> split(const std::string& text, const char* field) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  std::size_t start = 0;
  for (std::size_t i = 0;; ++i) {
    const auto end = text.find(',', start);
    std::string item = text.substr(start, end == std::string::npos ? end : end - start);
    if (item.empty()) bad(std::string(field) + "[" + std::to_string(i) + "]: empty item");
    out.push_back(std::move(item));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

// The log is opened (created or truncated) before anything runs, so an unwritable path
// is bad input, not a failure after the work.
std::ofstream open_log(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) bad("--log '" + path + "': is a directory");
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) bad("--log '" + path + "': cannot write");
  return out;
}

void check_artifacts_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir, ec)) {
    bad("--artifacts '" + dir + "': cannot create the directory" +
        (ec ? " (" + ec.message() + ")" : ""));
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) bad("--artifacts '" + dir + "': not writable");
}

std::string outcome_line(const CampaignRecord& r, const std::string& fingerprint) {
  std::string line = r.outcome + " " + r.scenario_id + " " + std::string(to_string(r.reason)) +
                     " output_xxh3 " + (r.output_xxh3.empty() ? "-" : r.output_xxh3) +
                     " env_fingerprint " + fingerprint;
  return line;
}

int run_parity(const ParityFlags& f, Streams s) {
  // Every input is read and checked before any device work.
  CampaignRequest req;
  req.suite = campaign_suite_from_string(f.suite);
  req.mode = campaign_mode_from_string(f.mode);
  if (f.seeds == 0) bad("--seeds 0: at least one seed per scenario");
  req.seeds = f.seeds;
  req.seed = f.seed;
  req.shapes = split(f.shapes, "--shapes");
  req.families = split(f.families, "--families");
  req.configs = split(f.configs, "--configs");
  req.graphs = f.graphs;
  if (!f.allowlist.empty()) {
    req.allowlist = load_allowlist(f.allowlist);
    req.allowlist_file = f.allowlist;
  }
  req.case_id = f.case_id;
  req.device_spec = f.device.device;
  for (const auto& fam : req.families) gemm_family(fam);  // names an unknown family

  const auto devices = list_devices();
  const DeviceInfo info = select_device(f.device.device, devices);
  std::vector<GemmConfig> tuned;
  if (req.suite != CampaignSuite::propagate) tuned = tuned_gemm_configs(info);
  const CampaignPlan plan = plan_campaign(req, info, tuned);

  const std::string log_path = !f.log.empty()      ? f.log
                               : f.case_id.empty() ? "clgauge-parity.jsonl"
                                                   : "";
  std::ofstream log;
  if (!log_path.empty()) log = open_log(log_path);
  if (!f.artifacts.empty()) {
    check_artifacts_dir(f.artifacts);
    req.artifacts_dir = f.artifacts;
  }

  Device device = Device::open(info);
  const std::string fingerprint = hex16(info.fingerprint);
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  auto write_log = [&](const std::string& line) {
    if (!log.is_open()) return;
    log << line << "\n";
    log.flush();
    if (!log) throw Error(ReasonCode::io_error, "--log '" + log_path + "': write failed");
  };
  const auto progress = [&](const CampaignProgress& p) {
    write_log(p.record->line);
    if (f.json) s.out << p.record->line << "\n";
    if (tty) {
      s.err << "\r\033[K[" << p.done << "/" << p.total << "] "
            << io::excerpt_text(p.record->scenario_id, 100) << std::flush;
    }
  };
  const CampaignResult result = run_campaign(device, req, plan, f.device.cache(), progress);
  if (tty) s.err << "\r\033[K" << std::flush;
  write_log(result.summary.line);
  const CampaignSummary& sum = result.summary;
  if (f.json) {
    s.out << sum.line << "\n";
  } else {
    for (const auto& r : result.records) {
      if (r.outcome == "pass" && f.case_id.empty()) continue;
      if (r.outcome == "skip" && f.case_id.empty()) continue;
      s.out << outcome_line(r, fingerprint) << "\n";
      if (r.outcome == "allowlisted") continue;
      if (r.outcome != "pass") s.out << "  replay: " << r.replay_command << "\n";
    }
    s.out << "parity " << to_string(req.suite) << " (" << to_string(req.mode) << ", " << req.seeds
          << " seeds, master seed " << req.seed << "): " << sum.scenarios << " scenarios, "
          << sum.pass << " pass, " << sum.fail << " fail, " << sum.skip << " skip, "
          << sum.allowlisted << " allowlisted";
    if (!sum.by_reason.empty()) {
      s.out << "; by reason:";
      for (const auto& [code, n] : sum.by_reason) s.out << " " << code << " " << n;
    }
    s.out << "\n";
    if (sum.failed_jobs > 0) s.out << "failed builds: " << sum.failed_jobs << "\n";
    if (sum.carried_on) s.out << "hardened: carried on past failures, dependants skipped\n";
    if (!sum.stopped_at.empty()) {
      s.out << "strict: failed closed at " << sum.stopped_at << "\n";
      if (!sum.stopped_replay.empty()) s.out << "  replay: " << sum.stopped_replay << "\n";
    }
    for (const auto& note : result.plan.notes) s.out << "note: " << note << "\n";
    s.out << "env_fingerprint " << fingerprint << ", wall " << sum.wall_ms / 1000.0 << " s"
          << (log_path.empty() ? "" : ", log " + log_path) << "\n";
  }
  return sum.failed() ? 1 : 0;
}

}  // namespace

Runner add_parity_command(CLI::App& app) {
  auto f = std::make_shared<ParityFlags>();
  auto* cmd = app.add_subcommand(
      "parity", "CPU-vs-device parity campaigns over many seeds, with an evidence log and replay");
  cmd->add_option("--suite", f->suite, "gemm | propagate | all")->capture_default_str();
  cmd->add_option("--seeds", f->seeds, "derived seeds per scenario (>= 1)")->capture_default_str();
  cmd->add_option("--seed", f->seed, "master seed")->capture_default_str();
  cmd->add_option("--mode", f->mode, "strict | hardened | both")->capture_default_str();
  cmd->add_option("--shapes", f->shapes, "GEMM shapes MxNxK,... (default: docs/parity.md)");
  cmd->add_option("--families", f->families, "GEMM families, comma-separated (default: all)");
  cmd->add_option("--configs", f->configs,
                  "default | tuned | canonical configs or ids, comma-separated "
                  "(default: default,tuned)");
  cmd->add_option("--graphs", f->graphs, "propagation graphs <rmat|uniform>:<nodes>x<edges>,...");
  cmd->add_option("--log", f->log,
                  "evidence log, JSON Lines (default: clgauge-parity.jsonl; none with --case)");
  cmd->add_option("--allowlist", f->allowlist,
                  "JSON {\"allow\": [{\"pattern\": GLOB, \"reason\": TEXT}]}")
      ->check(input_file_validator());
  cmd->add_option("--artifacts", f->artifacts, "on a failure, write inputs and outputs here");
  cmd->add_option("--case", f->case_id, "run only this case id (or scenario id) from a log");
  cmd->add_flag("--json", f->json, "print the log lines and the summary as JSON Lines");
  f->device.add_to(*cmd);
  return [f](Streams s) { return run_parity(*f, s); };
}

}  // namespace clgauge::cli
