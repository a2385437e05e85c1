#pragma once
// The tuning database: the winners of `clgauge tune`, one JSON file per device, and the
// runtime selection that `gemm()` uses when no config is given. docs/database.md has the
// file format, the lookup order, the nearest-shape rule, the merge rule and the T4 export.
//
// File (<dir>/<tuning_db_file_name(device)>), canonical form = to_json():
//   {"schema": "clgauge-tuning-db", "schema_version": 1,
//    "device": {"platform": "...", "device": "...", "driver": "..."},
//    "entries": [{"key": {"families": "all", "precision": "f32", "layout": "row",
//                         "trans_a": "n", "trans_b": "n", "m": 1024, "n": 1024, "k": 1024},
//                 "config": {"family": "gemm.regtile", "id": "<hex16>", "params": {"MR": 6, ...}},
//                 "gflops_median": 123.4, "baseline_ratios": {"default": 1.2, ...},
//                 "decision": "promote", "plan_hash": "<hex16>", "date": "2026-01-02T03:04:05Z",
//                 "clgauge_version": "0.1.0", "env_fingerprint": "<hex16>"}, ...]}
// Entries are sorted by key, one per key. Every number is finite (no bare inf/nan).

#include <compare>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clgauge/error.hpp"
#include "clgauge/gemm.hpp"
#include "clgauge/runtime.hpp"

namespace clgauge {

inline constexpr std::string_view kTuningDbSchema = "clgauge-tuning-db";
inline constexpr int kTuningDbSchemaVersion = 1;

struct TuningKey {
  std::string families;  // family set the run searched: a family name, or "all"
  std::string precision = "f32";
  Layout layout = Layout::row;
  Op trans_a = Op::n;
  Op trans_b = Op::n;
  std::int64_t m = 0, n = 0, k = 0;

  // "<families> <precision> <layout> <trans_a><trans_b> <m>x<n>x<k>", for messages.
  std::string str() const;
  auto operator<=>(const TuningKey&) const = default;
  bool operator==(const TuningKey&) const = default;
};

struct TuningEntry {
  TuningKey key;
  GemmConfig config;  // the winner (family in config.family)
  double gflops_median = 0;
  // "default", "clblast", "openblas" -> winner / baseline. Only finite ratios: leave out a
  // baseline that failed or was not run.
  std::vector<std::pair<std::string, double>> baseline_ratios;
  std::string decision;         // promote | iterate | refine
  std::string plan_hash;        // 16 hex
  std::string date;             // ISO 8601 UTC
  std::string clgauge_version;  // non-empty
  std::string env_fingerprint;  // 16 hex
  bool operator==(const TuningEntry&) const = default;
};

struct TuningDeviceId {
  std::string platform, device, driver;
  auto operator<=>(const TuningDeviceId&) const = default;
  bool operator==(const TuningDeviceId&) const = default;
};
// {platform, name, driver_version} of the device.
TuningDeviceId tuning_device_id(const DeviceInfo& d);

class TuningDatabase {
 public:
  TuningDeviceId device;
  std::vector<TuningEntry> entries;  // sorted by key, one per key

  // Error(bad_input) "<source>: <field>: <what>", e.g.
  // "db.json: entries[2].config.params.MR: "x" is not an integer". Entries may come in any
  // order; they are sorted; a key given twice is an error.
  static TuningDatabase parse(std::string_view json_text, std::string_view source);
  // Error(io_error) "<file>: cannot read" when unreadable; parse errors name the file.
  static TuningDatabase load(const std::filesystem::path& file);
  // Canonical bytes: the layout above, two-space indentation, a final newline. Throws
  // Error(bad_input) naming the entry and field for an entry parse() would refuse (a
  // non-finite number, a malformed hash, an unknown decision, ...).
  std::string to_json() const;
  // Atomic: a temporary file in the same folder, flushed, then renamed over `file`.
  // Error(io_error) "<file>: cannot write (...)".
  void save(const std::filesystem::path& file) const;
  // Same key: the higher gflops_median wins; equal: the smaller config id; equal again: the
  // entry whose canonical JSON is smaller (so that merging is commutative). Throws
  // Error(bad_input) for an entry to_json() would refuse.
  void merge(const TuningEntry& e);
  // Every entry of `other`; Error(bad_input) when other.device differs.
  void merge(const TuningDatabase& other);

  // The entry with this key, or nullptr.
  const TuningEntry* find(const TuningKey& key) const;
  bool operator==(const TuningDatabase&) const = default;
};

// "<slug of device name>-<hex16 of xxh3(platform\0device\0driver)>.json"; the slug keeps
// [a-z0-9] of the lower-cased name, turns every other run of characters into one '-', and
// is at most 48 characters ("device" when nothing is left).
std::string tuning_db_file_name(const TuningDeviceId& id);

// One folder of the lookup order, and where it comes from.
struct TuningDbDir {
  std::filesystem::path dir;
  std::string origin;  // "CLGAUGE_DB_DIR" | "user" | "installed" | "source tree"
};
// CLGAUGE_DB_DIR (when set and not empty); $XDG_DATA_HOME/clgauge/db (when XDG_DATA_HOME is
// an absolute path) or else $HOME/.local/share/clgauge/db; the shipped databases installed
// next to the executable and next to the library (<dir>/../share/clgauge/tuning/db); the
// source tree's tuning/db. In that order, folders that do not exist included, each once.
std::vector<TuningDbDir> tuning_db_search_path();
std::vector<std::filesystem::path> tuning_db_search_dirs();  // the dirs of the above
// Where `clgauge tune` writes by default: CLGAUGE_DB_DIR when set, else the user folder
// above. Error(io_error) when neither CLGAUGE_DB_DIR, XDG_DATA_HOME nor HOME is set.
std::filesystem::path user_tuning_db_dir();
// The device's database in each folder of the search path that has one, in that order.
// A malformed file throws (Error(bad_input) naming it); so does a file whose "device"
// differs from `id` (renamed or copied by hand).
std::vector<std::pair<std::filesystem::path, TuningDatabase>> load_tuning_databases(
    const TuningDeviceId& id);
// Merges entries into <dir>/<tuning_db_file_name(id)> (creating dir and file) under an
// exclusive lock on "<file>.lock", so concurrent tuners on one machine lose nothing;
// returns the path. Error(io_error) naming dir or file when they cannot be written.
std::filesystem::path record_tuning_entries(const std::filesystem::path& dir,
                                            const TuningDeviceId& id,
                                            const std::vector<TuningEntry>& entries);

struct ConfigSelection {
  GemmConfig config;
  std::string source;  // "tuned-exact" | "tuned-nearest" | "device-default"
  std::optional<TuningEntry> entry;
  std::filesystem::path file;  // the database the entry came from
  double distance = 0;         // nearest: Euclidean in (log2 m, log2 n, log2 k)
  std::string explanation;     // lines a person reads (`clgauge gemm --explain`)
};
// Among entries with precision "f32" and the problem's layout and ops, skipping those whose
// config is invalid on the device (the explanation says which and why): the exact shape
// (any family set; the fastest, ties by config id, then key, then search-path order); else
// the shape nearest in (log2 m, log2 n, log2 k), Euclidean, ties by smaller volume m*n*k,
// then key; else default_gemm_config(device). An entry measured under another clgauge
// version or environment fingerprint is used, and the explanation says so.
ConfigSelection select_gemm_config(
    const DeviceInfo& device, const GemmProblem& problem,
    const std::vector<std::pair<std::filesystem::path, TuningDatabase>>& dbs);
// The same over load_tuning_databases(tuning_device_id(device)).
ConfigSelection select_gemm_config(const DeviceInfo& device, const GemmProblem& problem);

// Writes `text` to `file` atomically (temporary file in the same folder, fsync, rename).
// Error(io_error) "<file>: cannot write (<reason>)". Used by save() and `clgauge db export`.
void write_file_atomically(const std::filesystem::path& file, std::string_view text);

// T4, the auto-tuning community's results format (docs/database.md): {"schema_version":
// "1.0.0", "results": [...]}. From a results store file, read with the store's SQL schema
// (rows of phase "search" and "replay", in insertion order); Error(io_error) when the file
// cannot be opened, Error(bad_input) naming the file, row and column when it is not a
// clgauge results store or holds something malformed.
std::string export_t4_from_store(const std::filesystem::path& store_file);
// One result per entry (each a verified winner).
std::string export_t4_from_db(const TuningDatabase& db);
// The T4 invalidity of a reason code: ok, abandoned_slow -> "correct"; build_failed ->
// "compile"; timeout, out_of_budget -> "timeout"; parity_mismatch, tolerance_exceeded ->
// "correctness"; invalid_config, bad_input -> "constraints"; every other -> "runtime".
std::string_view t4_invalidity(ReasonCode code);

}  // namespace clgauge
