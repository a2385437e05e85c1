// Export to T4, the auto-tuning community's results format (docs/database.md, "T4 export"),
// from a results store file (read with the store's SQL schema) or a tuning database.

#include <sqlite3.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "clgauge/error.hpp"
#include "clgauge/stats.hpp"
#include "clgauge/tuning_db.hpp"

namespace clgauge {
namespace {

using json = nlohmann::ordered_json;

constexpr std::string_view kT4SchemaVersion = "1.0.0";
constexpr std::string_view kStoreSchema = "clgauge-results-store";
constexpr std::string_view kStoreSchemaVersion = "1";

[[noreturn]] void bad(const std::filesystem::path& file, const std::string& what) {
  throw Error(ReasonCode::bad_input, file.string() + ": " + what);
}

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct Finalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using DbHandle = std::unique_ptr<sqlite3, CloseDb>;
using StatementHandle = std::unique_ptr<sqlite3_stmt, Finalize>;

DbHandle open_store(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    throw Error(ReasonCode::io_error, file.string() + ": cannot read (no such file)");
  }
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(file.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  DbHandle db(raw);
  if (rc != SQLITE_OK) {
    throw Error(ReasonCode::io_error, file.string() + ": cannot read (" +
                                          (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)) + ")");
  }
  return db;
}

StatementHandle prepare(sqlite3* db, const std::filesystem::path& file, const char* sql,
                        const std::string& what) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) {
    sqlite3_finalize(raw);
    bad(file, what + " (" + sqlite3_errmsg(db) + ")");
  }
  return StatementHandle(raw);
}

std::optional<std::string> meta_value(sqlite3* db, const std::filesystem::path& file,
                                      const char* key) {
  auto st =
      prepare(db, file, "SELECT value FROM meta WHERE key = ?1", "not a clgauge results store");
  sqlite3_bind_text(st.get(), 1, key, -1, SQLITE_STATIC);
  const int rc = sqlite3_step(st.get());
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) bad(file, std::string("meta.") + key + ": " + sqlite3_errmsg(db));
  const auto* text = sqlite3_column_text(st.get(), 0);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text));
}

void check_store(sqlite3* db, const std::filesystem::path& file) {
  const auto schema = meta_value(db, file, "schema");
  if (!schema || *schema != kStoreSchema) {
    bad(file, "not a clgauge results store (meta.schema is " +
                  (schema ? "'" + *schema + "'" : std::string("missing")) + ")");
  }
  const auto version = meta_value(db, file, "schema_version");
  if (!version || *version != kStoreSchemaVersion) {
    bad(file, "meta.schema_version: " + (version ? "'" + *version + "'" : std::string("missing")) +
                  "; this clgauge reads version " + std::string(kStoreSchemaVersion));
  }
}

// One row of `evaluations`, read column by column with errors naming the row.
class Row {
 public:
  Row(sqlite3_stmt* st, const std::filesystem::path& file) : st_(st), file_(file) {
    seq_ = sqlite3_column_int64(st, 0);
  }

  [[noreturn]] void fail(int col, const std::string& what) const {
    bad(file_, "evaluations row seq=" + std::to_string(seq_) + ": " +
                   sqlite3_column_name(st_, col) + ": " + what);
  }

  std::string text(int col) const {
    if (sqlite3_column_type(st_, col) != SQLITE_TEXT) fail(col, "not text");
    return reinterpret_cast<const char*>(sqlite3_column_text(st_, col));
  }
  std::int64_t integer(int col) const {
    if (sqlite3_column_type(st_, col) != SQLITE_INTEGER) fail(col, "not an integer");
    return sqlite3_column_int64(st_, col);
  }
  double real(int col) const {
    const int type = sqlite3_column_type(st_, col);
    if (type != SQLITE_FLOAT && type != SQLITE_INTEGER) fail(col, "not a number");
    const double v = sqlite3_column_double(st_, col);
    if (!std::isfinite(v)) fail(col, "not finite");
    return v;
  }
  json parsed(int col) const {
    const auto t = text(col);
    try {
      return json::parse(t);
    } catch (const json::parse_error& e) {
      fail(col, std::string("malformed JSON: ") + e.what());
    }
  }
  std::vector<double> samples(int col) const {
    const auto j = parsed(col);
    if (!j.is_array()) fail(col, "not a JSON array");
    std::vector<double> out;
    for (const auto& v : j) {
      if (!v.is_number()) fail(col, "holds " + v.dump() + ", not a number");
      out.push_back(v.get<double>());
      if (!std::isfinite(out.back())) fail(col, "holds a number that is not finite");
    }
    return out;
  }

 private:
  sqlite3_stmt* st_;
  const std::filesystem::path& file_;
  std::int64_t seq_ = 0;
};

// "YYYY-MM-DDTHH:MM:SS.mmmZ"
std::string iso8601_utc(std::int64_t unix_ms) {
  std::int64_t secs = unix_ms / 1000, ms = unix_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms));
  return std::string(buf, n) + frac;
}

json measurement(std::string_view name, double value, std::string_view unit) {
  return {{"name", name}, {"value", value}, {"unit", unit}};
}

json times(double compilation_ms, const std::vector<double>& runtimes_ms) {
  // clgauge does not record framework, search-algorithm or validation time per evaluation:
  // written as 0 (docs/database.md).
  return {{"compilation_time", compilation_ms},
          {"runtimes", runtimes_ms},
          {"framework", 0},
          {"search_algorithm", 0},
          {"validation", 0}};
}

bool verified_correct(ReasonCode code) {
  return code == ReasonCode::ok || code == ReasonCode::abandoned_slow;
}

json document(json results) {
  json doc;
  doc["schema_version"] = kT4SchemaVersion;
  doc["results"] = std::move(results);
  return doc;
}

}  // namespace

std::string_view t4_invalidity(ReasonCode code) {
  switch (code) {
    case ReasonCode::ok:
    case ReasonCode::abandoned_slow:  // verified, then stopped early for being slow
      return "correct";
    case ReasonCode::build_failed:
      return "compile";
    case ReasonCode::timeout:
    case ReasonCode::out_of_budget:
      return "timeout";
    case ReasonCode::parity_mismatch:
    case ReasonCode::tolerance_exceeded:
      return "correctness";
    case ReasonCode::invalid_config:
    case ReasonCode::bad_input:
      return "constraints";
    case ReasonCode::launch_failed:
    case ReasonCode::crashed:
    case ReasonCode::device_unavailable:
    case ReasonCode::io_error:
    case ReasonCode::internal:
      return "runtime";
  }
  return "runtime";
}

std::string export_t4_from_store(const std::filesystem::path& store_file) {
  const auto db = open_store(store_file);
  check_store(db.get(), store_file);
  auto st = prepare(db.get(), store_file,
                    "SELECT seq, config_id, shape, phase, session, run, family, params, reason, "
                    "detail, samples_ms, host_ms, build_ms, first_launch_ms, gflops_median, "
                    "env_fingerprint, ts_unix_ms FROM evaluations "
                    "WHERE phase IN ('search', 'replay') ORDER BY seq",
                    "evaluations: not a clgauge results store table");
  json results = json::array();
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    const Row row(st.get(), store_file);
    const auto params = row.parsed(7);
    if (!params.is_object()) row.fail(7, "not a JSON object");
    json configuration = json::object();
    for (const auto& [name, value] : params.items()) {
      if (!value.is_number_integer())
        row.fail(7, name + " = " + value.dump() + " is not an integer");
      configuration[name] = value;
    }
    const auto reason_name = row.text(8);
    ReasonCode reason{};
    try {
      reason = reason_code_from_string(reason_name);
    } catch (const Error&) {
      row.fail(8, "'" + reason_name + "' is not a reason code");
    }
    const auto samples = row.samples(10);
    const auto host = row.samples(11);
    const double build_ms = row.real(12);
    const double first_launch_ms = row.real(13);
    const double gflops = row.real(14);

    json measurements = json::array();
    if (!samples.empty()) {
      measurements.push_back(measurement("time", summarize(samples).median, "ms"));
      measurements.push_back(measurement("gflops", gflops, "GFLOP/s"));
    }
    if (!host.empty())
      measurements.push_back(measurement("host_time", summarize(host).median, "ms"));
    if (first_launch_ms > 0) {
      measurements.push_back(measurement("first_launch_time", first_launch_ms, "ms"));
    }

    json r;
    r["timestamp"] = iso8601_utc(row.integer(16));
    r["configuration"] = std::move(configuration);
    r["objectives"] = json::array({"time"});
    r["times"] = times(build_ms, samples);
    r["invalidity"] = t4_invalidity(reason);
    r["correctness"] = verified_correct(reason) ? 1 : 0;
    r["measurements"] = std::move(measurements);
    r["clgauge"] = {{"config_id", row.text(1)},       {"family", row.text(6)},
                    {"shape", row.text(2)},           {"phase", row.text(3)},
                    {"session", row.integer(4)},      {"run", row.integer(5)},
                    {"reason_code", reason_name},     {"detail", row.text(9)},
                    {"env_fingerprint", row.text(15)}};
    results.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) bad(store_file, std::string("evaluations: ") + sqlite3_errmsg(db.get()));
  return document(std::move(results)).dump(2) + "\n";
}

std::string export_t4_from_db(const TuningDatabase& db) {
  (void)db.to_json();  // refuses what the database format refuses (a non-finite number, ...)
  json results = json::array();
  for (const auto& e : db.entries) {
    json configuration = json::object();
    for (const auto& [name, value] : e.config.params) configuration[name] = value;
    json measurements = json::array();
    if (e.gflops_median > 0) {
      // The median time, recovered from the median GFLOP/s it was computed from.
      const double flops = 2.0 * static_cast<double>(e.key.m) * static_cast<double>(e.key.n) *
                           static_cast<double>(e.key.k);
      measurements.push_back(measurement("time", flops / (e.gflops_median * 1e6), "ms"));
    }
    measurements.push_back(measurement("gflops", e.gflops_median, "GFLOP/s"));
    for (const auto& [baseline, ratio] : e.baseline_ratios) {
      measurements.push_back(measurement("ratio_to_" + baseline, ratio, "x"));
    }
    json key = {{"families", e.key.families},
                {"precision", e.key.precision},
                {"layout", to_string(e.key.layout)},
                {"trans_a", to_string(e.key.trans_a)},
                {"trans_b", to_string(e.key.trans_b)},
                {"m", e.key.m},
                {"n", e.key.n},
                {"k", e.key.k}};
    json r;
    r["timestamp"] = e.date;
    r["configuration"] = std::move(configuration);
    r["objectives"] = json::array({"time"});
    r["times"] = times(0, {});
    r["invalidity"] = "correct";
    r["correctness"] = 1;
    r["measurements"] = std::move(measurements);
    r["clgauge"] = {{"config_id", e.config.id()},
                    {"family", e.config.family},
                    {"key", std::move(key)},
                    {"decision", e.decision},
                    {"plan_hash", e.plan_hash},
                    {"clgauge_version", e.clgauge_version},
                    {"env_fingerprint", e.env_fingerprint},
                    {"device",
                     {{"platform", db.device.platform},
                      {"device", db.device.device},
                      {"driver", db.device.driver}}}};
    results.push_back(std::move(r));
  }
  return document(std::move(results)).dump(2) + "\n";
}

}  // namespace clgauge
