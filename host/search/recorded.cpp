// Recorded spaces for simulation: Kernel Tuner cache files (.json, .json.gz) and clgauge
// results stores (SQLite, schema in results_store.hpp / docs/store.md).

#include <sqlite3.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "clgauge/error.hpp"
#include "clgauge/hash.hpp"
#include "clgauge/search.hpp"
#include "runtime/json_io.hpp"

namespace clgauge {
namespace {

using ordered_json = nlohmann::ordered_json;

[[noreturn]] void bad(std::string_view source, const std::string& what) {
  throw Error(ReasonCode::bad_input, std::string(source) + ": " + what);
}

bool is_gzip(std::string_view b) {
  return b.size() >= 2 && static_cast<unsigned char>(b[0]) == 0x1f &&
         static_cast<unsigned char>(b[1]) == 0x8b;
}

std::string gunzip(std::string_view in, std::string_view source) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) bad(source, "gzip: cannot initialise zlib");
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  char buf[1 << 16];
  int rc = Z_OK;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_NEED_DICT || rc == Z_DATA_ERROR || rc == Z_MEM_ERROR || rc == Z_STREAM_ERROR) {
      const std::string msg = zs.msg ? zs.msg : "invalid data";
      const auto at = zs.total_in;
      inflateEnd(&zs);
      bad(source, "gzip: corrupt at compressed byte " + std::to_string(at) + " (" + msg + ")");
    }
    out.append(buf, sizeof buf - zs.avail_out);
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;  // input ended mid-stream
  } while (rc != Z_STREAM_END);
  const auto consumed = zs.total_in;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    bad(source, "gzip: truncated: the stream ends after " + std::to_string(consumed) +
                    " compressed bytes without its end marker");
  }
  return out;
}

std::string value_text(const ordered_json& v) {
  return v.dump();
}

bool same_value(const ordered_json& a, const ordered_json& b) {
  if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
  return a == b;
}

// Builds configs/ids in enumeration (lexicographic index) order from unordered records.
struct Row {
  std::vector<std::uint32_t> idx;
  std::string id;
  std::optional<double> objective;
  std::string outcome;
  std::optional<double> cost_s;
};

void fill(RecordedSpace& rs, std::vector<Row> rows) {
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.idx < b.idx; });
  for (auto& r : rows) {
    rs.space.configs.push_back(std::move(r.idx));
    rs.space.ids.push_back(std::move(r.id));
    rs.objective.push_back(r.objective);
    rs.outcome.push_back(std::move(r.outcome));
    rs.cost_s.push_back(r.cost_s);
  }
}

// ---------------------------------------------------------------- SQLite store
struct Db {
  sqlite3* db = nullptr;
  ~Db() { sqlite3_close(db); }
};
struct Stmt {
  sqlite3_stmt* st = nullptr;
  ~Stmt() { sqlite3_finalize(st); }
};

std::string column_text(sqlite3_stmt* st, int i) {
  const unsigned char* t = sqlite3_column_text(st, i);
  return t ? reinterpret_cast<const char*>(t) : "";
}

RecordedSpace load_store(const std::filesystem::path& file, std::string_view shape_wanted) {
  const std::string source = file.string();
  Db db;
  if (sqlite3_open_v2(source.c_str(), &db.db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    throw Error(ReasonCode::io_error, source + ": cannot open: " + sqlite3_errmsg(db.db));
  }
  {
    Stmt st;
    if (sqlite3_prepare_v2(db.db, "SELECT value FROM meta WHERE key='schema'", -1, &st.st,
                           nullptr) != SQLITE_OK ||
        sqlite3_step(st.st) != SQLITE_ROW || column_text(st.st, 0) != "clgauge-results-store") {
      bad(source, "not a clgauge results store (meta.schema is not 'clgauge-results-store')");
    }
  }
  Stmt st;
  if (sqlite3_prepare_v2(db.db,
                         "SELECT seq, config_id, shape, family, params, reason, samples_ms, "
                         "host_ms, build_ms, first_launch_ms FROM evaluations WHERE "
                         "phase='search' ORDER BY seq",
                         -1, &st.st, nullptr) != SQLITE_OK) {
    bad(source, std::string("evaluations: ") + sqlite3_errmsg(db.db));
  }
  struct StoreRow {
    std::int64_t seq;
    std::string config_id, shape, family;
    ordered_json params;
    std::string reason;
    std::vector<double> samples, host;
    double build_ms, first_ms;
  };
  std::vector<StoreRow> rows;
  int rc;
  while ((rc = sqlite3_step(st.st)) == SQLITE_ROW) {
    StoreRow r;
    r.seq = sqlite3_column_int64(st.st, 0);
    const std::string where = "evaluations seq " + std::to_string(r.seq);
    r.config_id = column_text(st.st, 1);
    r.shape = column_text(st.st, 2);
    r.family = column_text(st.st, 3);
    try {
      r.params = ordered_json::parse(column_text(st.st, 4));
      for (const char* col : {"samples_ms", "host_ms"}) {
        const int i = std::string_view(col) == "samples_ms" ? 6 : 7;
        const auto arr = ordered_json::parse(column_text(st.st, i));
        if (!arr.is_array()) bad(source, where + ": " + col + ": not a JSON array");
        for (const auto& v : arr) {
          if (!v.is_number())
            bad(source, where + ": " + col + ": " + v.dump() + " is not a number");
          (i == 6 ? r.samples : r.host).push_back(v.get<double>());
        }
      }
    } catch (const nlohmann::json::exception& e) {
      bad(source, where + ": malformed JSON: " + e.what());
    }
    if (!r.params.is_object()) bad(source, where + ": params: not a JSON object");
    for (const auto& [k, v] : r.params.items()) {
      if (!v.is_number_integer())
        bad(source, where + ": params." + k + ": " + v.dump() + " is not an integer");
    }
    r.reason = column_text(st.st, 5);
    r.build_ms = sqlite3_column_double(st.st, 8);
    r.first_ms = sqlite3_column_double(st.st, 9);
    rows.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) bad(source, std::string("evaluations: ") + sqlite3_errmsg(db.db));
  if (rows.empty()) bad(source, "evaluations: no 'search' rows to simulate");

  // The shape, then the family, with the most rows (ties: the smaller name).
  auto most = [](const std::map<std::string, std::size_t>& counts) {
    std::string best;
    std::size_t n = 0;
    for (const auto& [k, c] : counts) {
      if (c > n) {
        best = k;
        n = c;
      }
    }
    return best;
  };
  std::map<std::string, std::size_t> shapes;
  for (const auto& r : rows) ++shapes[r.shape];
  const std::string shape = shape_wanted.empty() ? most(shapes) : std::string(shape_wanted);
  if (!shapes.count(shape)) bad(source, "shape: no 'search' rows for shape " + shape);
  std::map<std::string, std::size_t> families;
  for (const auto& r : rows) {
    if (r.shape == shape) ++families[r.family];
  }
  const std::string family = most(families);
  // Latest row per config id, in first-seen order.
  std::map<std::string, std::size_t> latest;
  std::vector<std::string> order;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].shape != shape || rows[i].family != family) continue;
    if (!latest.count(rows[i].config_id)) order.push_back(rows[i].config_id);
    latest[rows[i].config_id] = i;
  }
  RecordedSpace rs;
  rs.source = source;
  rs.format = "clgauge-results-store";
  rs.label = family + " " + shape;
  rs.space.family = family;
  const auto& first = rows[latest[order.front()]];
  for (const auto& [k, v] : first.params.items()) rs.space.names.push_back(k);
  const std::size_t np = rs.space.names.size();
  std::vector<std::vector<std::int64_t>> vals(np);
  for (const auto& id : order) {
    const auto& r = rows[latest[id]];
    std::size_t p = 0;
    for (const auto& [k, v] : r.params.items()) {
      if (p >= np || k != rs.space.names[p]) {
        bad(source, "evaluations seq " + std::to_string(r.seq) +
                        ": params: names differ from seq " + std::to_string(first.seq) + "'s");
      }
      vals[p++].push_back(v.get<std::int64_t>());
    }
    if (p != np)
      bad(source, "evaluations seq " + std::to_string(r.seq) + ": params: " + std::to_string(p) +
                      " parameters, expected " + std::to_string(np));
  }
  for (auto& v : vals) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    std::vector<double> d;
    std::vector<std::string> t;
    for (const auto x : v) {
      d.push_back(static_cast<double>(x));
      t.push_back(std::to_string(x));
    }
    rs.space.values.push_back(std::move(d));
    rs.value_text.push_back(std::move(t));
  }
  std::vector<Row> out;
  for (const auto& id : order) {
    const auto& r = rows[latest[id]];
    Row row;
    std::size_t p = 0;
    for (const auto& [k, v] : r.params.items()) {
      const auto x = v.get<std::int64_t>();
      const auto& pv = vals[p];
      row.idx.push_back(
          static_cast<std::uint32_t>(std::lower_bound(pv.begin(), pv.end(), x) - pv.begin()));
      ++p;
    }
    row.id = r.config_id;
    double cost_ms = r.build_ms + r.first_ms;
    for (const double h : r.host) cost_ms += h;
    row.cost_s = cost_ms / 1000.0;
    if (r.reason == "ok" && !r.samples.empty()) {
      auto s = r.samples;
      std::sort(s.begin(), s.end());
      const std::size_t n = s.size();
      const double med = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
      if (!(med > 0) || !std::isfinite(med)) {
        bad(source, "evaluations seq " + std::to_string(r.seq) + ": samples_ms: median " +
                        std::to_string(med) + " is not a positive time");
      }
      row.objective = med;
      row.outcome = "ok";
    } else {
      row.outcome = r.reason == "ok" ? "no_samples" : r.reason;
    }
    out.push_back(std::move(row));
  }
  fill(rs, std::move(out));
  return rs;
}

}  // namespace

std::size_t RecordedSpace::valid() const {
  return static_cast<std::size_t>(std::count_if(objective.begin(), objective.end(),
                                                [](const auto& o) { return o.has_value(); }));
}

std::optional<double> RecordedSpace::optimum() const {
  std::optional<double> best;
  for (const auto& o : objective) {
    if (o && (!best || *o < *best)) best = o;
  }
  return best;
}

RecordedSpace parse_kernel_tuner_cache(std::string_view bytes, std::string_view source) {
  std::string text;
  if (is_gzip(bytes)) {
    text = gunzip(bytes, source);
    bytes = text;
  }
  ordered_json doc;
  io::check_json_depth(bytes, source, io::kMaxJsonDepth);
  try {
    doc = ordered_json::parse(bytes);
  } catch (const nlohmann::json::parse_error& e) {
    bad(source, "neither a Kernel Tuner cache nor a clgauge results store (not JSON: byte " +
                    std::to_string(e.byte) + ")");
  } catch (const nlohmann::json::exception& e) {
    // Valid syntax the reader cannot hold, e.g. a number that overflows a double (fuzzing).
    bad(source, "unreadable JSON value (nlohmann::json error " + std::to_string(e.id) +
                    ", e.g. a number that overflows a double)");
  }
  if (!doc.is_object() || !doc.contains("cache") || !doc.contains("tune_params_keys")) {
    bad(source,
        "neither a Kernel Tuner cache nor a clgauge results store (no \"cache\" and "
        "\"tune_params_keys\")");
  }
  const auto& keys = doc["tune_params_keys"];
  const auto& params = doc.contains("tune_params") ? doc["tune_params"] : ordered_json();
  if (!keys.is_array() || keys.empty()) bad(source, "tune_params_keys: not a non-empty array");
  if (!params.is_object()) bad(source, "tune_params: not an object");
  if (!doc["cache"].is_object()) bad(source, "cache: not an object");
  std::string objective = "time";
  if (doc.contains("objective")) {
    if (!doc["objective"].is_string()) bad(source, "objective: not a string");
    objective = doc["objective"].get<std::string>();
  }
  if (doc.value("objective_higher_is_better", false)) {
    bad(source, "objective_higher_is_better: only lower-is-better objectives can be simulated");
  }
  RecordedSpace rs;
  rs.source = std::string(source);
  rs.format = "kernel-tuner-cache";
  rs.label = doc.value("kernel_name", std::string("kernel")) + " on " +
             doc.value("device_name", std::string("unknown device"));
  rs.space.family = "kt:" + doc.value("kernel_name", std::string("kernel"));
  std::vector<std::vector<ordered_json>> values;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!keys[i].is_string())
      bad(source, "tune_params_keys[" + std::to_string(i) + "]: not a string");
    const std::string name = keys[i].get<std::string>();
    if (std::find(rs.space.names.begin(), rs.space.names.end(), name) != rs.space.names.end()) {
      bad(source, "tune_params_keys[" + std::to_string(i) + "]: \"" + name + "\" appears twice");
    }
    if (!params.contains(name) || !params[name].is_array() || params[name].empty()) {
      bad(source, "tune_params." + name + ": missing or not a non-empty array");
    }
    rs.space.names.push_back(name);
    std::vector<double> d;
    std::vector<std::string> t;
    std::vector<ordered_json> raw;
    for (std::size_t j = 0; j < params[name].size(); ++j) {
      const auto& v = params[name][j];
      d.push_back(v.is_number() ? v.get<double>() : static_cast<double>(j));
      t.push_back(value_text(v));
      raw.push_back(v);
    }
    rs.space.values.push_back(std::move(d));
    rs.value_text.push_back(std::move(t));
    values.push_back(std::move(raw));
  }
  static const char* const kFailures[] = {"CompilationFailedConfig", "RuntimeFailedConfig",
                                          "InvalidConfig"};
  std::vector<Row> rows;
  std::map<std::vector<std::uint32_t>, std::string> seen;
  for (const auto& [key, rec] : doc["cache"].items()) {
    const std::string where = "cache[\"" + key + "\"]";
    if (!rec.is_object()) bad(source, where + ": not an object");
    const auto parts = std::count(key.begin(), key.end(), ',') + 1;
    if (static_cast<std::size_t>(parts) != keys.size()) {
      bad(source, where + ": the key has " + std::to_string(parts) +
                      " values, tune_params_keys has " + std::to_string(keys.size()));
    }
    Row row;
    std::vector<std::string> key_parts;
    for (std::size_t p = 0; p < keys.size(); ++p) {
      const auto& name = rs.space.names[p];
      if (!rec.contains(name)) bad(source, where + ": parameter \"" + name + "\" is missing");
      const auto& v = rec[name];
      const auto it = std::find_if(values[p].begin(), values[p].end(),
                                   [&](const ordered_json& x) { return same_value(x, v); });
      if (it == values[p].end()) {
        bad(source, where + "." + name + ": " + v.dump() + " is not in tune_params." + name);
      }
      row.idx.push_back(static_cast<std::uint32_t>(it - values[p].begin()));
      key_parts.push_back(v.is_string() ? v.get<std::string>() : v.dump());
    }
    // The key must name the record's own values (Kernel Tuner writes str() of each).
    {
      std::vector<std::string> kp;
      std::stringstream ss(key);
      std::string part;
      while (std::getline(ss, part, ',')) kp.push_back(part);
      while (kp.size() < keys.size()) kp.push_back("");
      for (std::size_t p = 0; p < keys.size(); ++p) {
        const auto& v = rec[rs.space.names[p]];
        bool match = kp[p] == key_parts[p];
        if (!match && v.is_number()) {
          try {
            std::size_t used = 0;
            const double d = std::stod(kp[p], &used);
            match = used == kp[p].size() && d == v.get<double>();
          } catch (const std::exception&) {
            match = false;
          }
        }
        if (!match && v.is_boolean()) match = kp[p] == (v.get<bool>() ? "True" : "False");
        if (!match) {
          bad(source, where + ": key value " + std::to_string(p + 1) + " '" + kp[p] +
                          "' disagrees with " + rs.space.names[p] + "=" + v.dump());
        }
      }
    }
    if (auto [it, fresh] = seen.emplace(row.idx, key); !fresh) {
      bad(source, where + ": the same configuration as cache[\"" + it->second + "\"]");
    }
    if (!rec.contains(objective)) bad(source, where + "." + objective + ": missing");
    const auto& obj = rec[objective];
    if (obj.is_number()) {
      const double v = obj.get<double>();
      if (!std::isfinite(v) || v <= 0) {
        bad(source, where + "." + objective + ": " + obj.dump() + " is not a positive number");
      }
      row.objective = v;
      row.outcome = "ok";
    } else if (obj.is_string() && std::find(std::begin(kFailures), std::end(kFailures),
                                            obj.get<std::string>()) != std::end(kFailures)) {
      row.outcome = obj.get<std::string>();
    } else {
      bad(source, where + "." + objective + ": " + obj.dump() +
                      " is neither a number nor a known failure (CompilationFailedConfig, "
                      "RuntimeFailedConfig, InvalidConfig)");
    }
    double ms = 0;
    bool any = false;
    for (const char* f : {"compile_time", "verification_time", "benchmark_time"}) {
      if (rec.contains(f) && rec[f].is_number()) {
        ms += rec[f].get<double>();
        any = true;
      }
    }
    if (any) row.cost_s = ms / 1000.0;
    std::string canonical = "family=" + rs.space.family;
    for (std::size_t p = 0; p < keys.size(); ++p) {
      canonical += ";" + rs.space.names[p] + "=" + rs.value_text[p][row.idx[p]];
    }
    row.id = hex16(xxh3_64(canonical));
    rows.push_back(std::move(row));
  }
  if (rows.empty()) bad(source, "cache: no records");
  fill(rs, std::move(rows));
  return rs;
}

RecordedSpace load_recorded_space(const std::filesystem::path& file, std::string_view shape) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ReasonCode::io_error, file.string() + ": cannot be read");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() >= 16 && bytes.compare(0, 16, std::string("SQLite format 3\0", 16)) == 0) {
    return load_store(file, shape);
  }
  return parse_kernel_tuner_cache(bytes, file.string());
}

}  // namespace clgauge
