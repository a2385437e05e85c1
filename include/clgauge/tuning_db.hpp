#pragma once
// LOCAL STUB (lead): replaced by the helper's real header at merge.
#include <compare>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include "clgauge/config_id.hpp"
#include "clgauge/error.hpp"
#include "clgauge/gemm.hpp"
#include "clgauge/space.hpp"
namespace clgauge {
struct TuningKey {
  std::string families;  // family set the run searched: a family name, or "all"
  std::string precision = "f32";
  Layout layout = Layout::row; Op trans_a = Op::n; Op trans_b = Op::n;
  std::int64_t m = 0, n = 0, k = 0;
  auto operator<=>(const TuningKey&) const = default; bool operator==(const TuningKey&) const = default;
};
struct TuningEntry {
  TuningKey key;
  GemmConfig config;     // the winner (family in config.family)
  double gflops_median = 0;
  std::vector<std::pair<std::string, double>> baseline_ratios;  // "default","clblast","openblas" -> winner/baseline
  std::string decision;  // promote | iterate | refine
  std::string plan_hash; // 16 hex
  std::string date;      // ISO 8601 UTC
  std::string clgauge_version;
  std::string env_fingerprint;  // 16 hex
  bool operator==(const TuningEntry&) const = default;
};
struct TuningDeviceId { std::string platform, device, driver; auto operator<=>(const TuningDeviceId&) const = default; };
TuningDeviceId tuning_device_id(const DeviceInfo& d);

class TuningDatabase {
 public:
  TuningDeviceId device;
  std::vector<TuningEntry> entries;  // sorted by key, one per key
  static TuningDatabase parse(std::string_view json_text, std::string_view source);  // Error(bad_input) naming source+field
  static TuningDatabase load(const std::filesystem::path& file);                     // Error(io_error) when unreadable
  std::string to_json() const;                          // stable bytes
  void save(const std::filesystem::path& file) const;   // atomic (temp + rename)
  void merge(const TuningEntry& e);         // same key: faster gflops wins, ties by smaller config id
  void merge(const TuningDatabase& other);  // other device -> Error(bad_input)
};
// "<slug of device name>-<hex16 of xxh3(platform\0device\0driver)>.json"
std::string tuning_db_file_name(const TuningDeviceId& id);
// CLGAUGE_DB_DIR, $XDG_DATA_HOME/clgauge/db (or ~/.local/share/clgauge/db), shipped tuning/db
// (installed share dir, then the source tree), in that order.
std::vector<std::filesystem::path> tuning_db_search_dirs();
std::filesystem::path user_tuning_db_dir();  // where `clgauge tune` writes by default
std::vector<std::pair<std::filesystem::path, TuningDatabase>> load_tuning_databases(const TuningDeviceId& id);
// Merges entries into <dir>/<tuning_db_file_name> (creating dir and file); returns the path.
std::filesystem::path record_tuning_entries(const std::filesystem::path& dir, const TuningDeviceId& id,
                                            const std::vector<TuningEntry>& entries);
struct ConfigSelection {
  GemmConfig config;
  std::string source;  // "tuned-exact" | "tuned-nearest" | "device-default"
  std::optional<TuningEntry> entry;
  std::filesystem::path file;  // the database the entry came from
  double distance = 0;         // nearest: Euclidean in (log m, log n, log k)
  std::string explanation;     // one or two lines a person reads (`clgauge gemm --explain`)
};
// exact key (any family set; the fastest such entry, ties by config id) -> nearest with the same
// layout/ops (ties: smaller volume, then key) -> default_gemm_config(device). An entry whose config
// is invalid on the device (gemm_config_invalid_reason) is skipped, and the explanation says so;
// one measured under another fingerprint/version is used and the explanation says so.
ConfigSelection select_gemm_config(const DeviceInfo& device, const GemmProblem& problem,
    const std::vector<std::pair<std::filesystem::path, TuningDatabase>>& dbs);
ConfigSelection select_gemm_config(const DeviceInfo& device, const GemmProblem& problem);  // loads
std::string export_t4_from_store(const std::filesystem::path& store_file);
std::string export_t4_from_db(const TuningDatabase& db);
}
