#pragma once
// The results store of a tuning run: one SQLite file (WAL mode) that receives every
// evaluation as it completes, each committed in its own transaction, so that `kill -9`
// at any moment loses at most the evaluations in flight and a re-run resumes.
//
// The SQL schema is a promise to other readers (docs/store.md):
//   meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)
//     'schema' = 'clgauge-results-store', 'schema_version' = '1',
//     'identity' = JSON array of [key, value] pairs, 'clgauge_version' = who created it
//   evaluations(seq INTEGER PRIMARY KEY AUTOINCREMENT, config_id, shape, phase, session, run,
//     family, params (JSON object, declared order), reason (reason code name), detail,
//     samples_ms, host_ms (JSON arrays), build_ms, first_launch_ms, gflops_median,
//     env_fingerprint, ts_unix_ms, UNIQUE(config_id, shape, phase, session, run))
//
// Not thread-safe: one ResultsStore per thread. Several processes may read a store while
// one writes it (WAL); two writers on one store are serialised by SQLite's lock with a
// busy timeout, but a tuning run should own its store.

#include <compare>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "clgauge/config_id.hpp"
#include "clgauge/error.hpp"

namespace clgauge {

inline constexpr int kResultsStoreSchemaVersion = 1;
inline constexpr const char* kResultsStoreSchemaName = "clgauge-results-store";

// What a store was made for: ordered (key, value) pairs, e.g. {"env_fingerprint", "0123.."},
// {"device", ...}, {"spaces", ...}, {"shapes", "1024x1024x1024,..."}, {"seed", "42"}, ...
// Keys are non-empty and distinct.
using StoreIdentity = std::vector<std::pair<std::string, std::string>>;

struct EvaluationKey {
  std::string config_id;  // 16 hex, or a baseline name ("clblast", "openblas")
  std::string shape;      // "<m>x<n>x<k>"
  std::string phase;      // "search" | "replay" | "baseline"
  std::uint32_t session = 0;
  std::uint32_t run = 0;
  auto operator<=>(const EvaluationKey&) const = default;
};

struct Evaluation {
  EvaluationKey key;
  std::string family;   // "gemm.regtile", ...; baselines: "clblast", "openblas", "default"
  ConfigParams params;  // (config_id.hpp) declared order; empty for clblast/openblas
  ReasonCode reason = ReasonCode::ok;
  std::string detail;              // failure message; "" when ok
  std::vector<double> samples_ms;  // device time of each counted run
  std::vector<double> host_ms;     // host wall time (enqueue to finish) of each counted run
  double build_ms = 0;
  double first_launch_ms = 0;
  double gflops_median = 0;     // from the median of samples_ms; 0 when there are none
  std::string env_fingerprint;  // 16 hex
  std::int64_t ts_unix_ms = 0;
  bool operator==(const Evaluation&) const = default;
};

class ResultsStore {
 public:
  // Creates the file (and its parent folder; writes schema version + identity) or reopens
  // it. Reopening checks: a clgauge store (else Error(bad_input) "<path>: not a clgauge
  // results store (...)"), the schema version, and the identity key by key in the wanted
  // order (else Error(bad_input) "<path> was made for <key>=<stored>, this run is for
  // <key>=<wanted>", a missing key shown as "(absent)"). An empty file or an SQLite
  // database with no tables at all (a creation cut short) becomes a new store.
  // Error(io_error) naming the path when the file cannot be created or opened for writing.
  static ResultsStore open(const std::filesystem::path& file, const StoreIdentity& identity);
  // Existing store, read-only, identity not checked (simulation, export, reports).
  // Error(io_error) when the file is missing or unreadable; Error(bad_input) when not ours.
  static ResultsStore open_read_only(const std::filesystem::path& file);

  ~ResultsStore();
  ResultsStore(ResultsStore&&) noexcept;
  ResultsStore& operator=(ResultsStore&&) noexcept;
  ResultsStore(const ResultsStore&) = delete;
  ResultsStore& operator=(const ResultsStore&) = delete;

  const StoreIdentity& identity() const;
  const std::filesystem::path& path() const;
  bool read_only() const;

  // One evaluation, committed in its own transaction (synchronous=FULL) before returning.
  // A key already present is replaced (INSERT OR REPLACE, the row moves to the end of the
  // insertion order): re-measuring is explicit, never silent. Error(bad_input) naming the
  // field for a non-finite number or a repeated parameter name; Error(internal) on a
  // read-only store; Error(io_error) when SQLite cannot write (disk full, ...).
  void record(const Evaluation& e);
  std::optional<Evaluation> find(const EvaluationKey& key) const;
  std::vector<Evaluation> all() const;  // insertion order
  std::size_t size() const;

 private:
  struct Impl;
  explicit ResultsStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace clgauge
