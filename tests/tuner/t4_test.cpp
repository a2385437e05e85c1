// T4 export: from a results store (a fixture store built from SQL text with SQLite, read
// through the store's SQL schema) and from a tuning database; every output is checked
// against the structure of the T4 results schema, and bad stores are refused by name.

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "clgauge/error.hpp"
#include "clgauge/tuning_db.hpp"
#include "cli/cli_test_util.hpp"

namespace clgauge {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;  // T4 consumers do not depend on our key order
using test::run_cli;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path db_data(const std::string& name) {
  return fs::path(CLGAUGE_TEST_DATA_DIR) / "tuner" / "db" / name;
}

class T4Store : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    dir_ = fs::temp_directory_path() /
           ("clgauge_t4_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A store file made by running `sql`; the connection stays open when `keep_open`.
  fs::path make_store(const std::string& name, const std::string& sql, bool keep_open = false) {
    const auto file = dir_ / name;
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    if (keep_open) {
      open_.reset(db);
    } else {
      sqlite3_close(db);
    }
    return file;
  }
  fs::path fixture_store() {
    return make_store("store.sqlite", read_file(db_data("store_fixture.sql")));
  }

  struct Close {
    void operator()(sqlite3* db) const { sqlite3_close(db); }
  };
  fs::path dir_;
  std::unique_ptr<sqlite3, Close> open_;
};

bool is_number_array(const json& a) {
  if (!a.is_array()) return false;
  for (const auto& v : a) {
    if (!v.is_number()) return false;
  }
  return true;
}

// "major.minor.patch", each a run of digits (std::regex trips GCC 12's warnings under ASan).
bool is_semver(const std::string& s) {
  int parts = 1;
  bool digit = false;
  for (const char c : s) {
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c == '.' && digit) {
      ++parts;
      digit = false;
    } else {
      return false;
    }
  }
  return digit && parts == 3;
}

// The structure of the T4 results schema (schema_version 1.0.0), plus "correct" as the
// invalidity of a valid result. Returns the first violation, or "".
std::string t4_violation(const json& doc) {
  if (!doc.is_object()) return "top level is not an object";
  if (!doc.contains("schema_version") || !doc["schema_version"].is_string()) {
    return "schema_version missing or not a string";
  }
  if (!is_semver(doc["schema_version"].get<std::string>())) {
    return "schema_version not major.minor.patch";
  }
  if (!doc.contains("results") || !doc["results"].is_array()) return "results not an array";
  const std::set<std::string> invalidity = {"timeout",     "compile",     "runtime",
                                            "correctness", "constraints", "correct"};
  for (std::size_t i = 0; i < doc["results"].size(); ++i) {
    const auto& r = doc["results"][i];
    const std::string at = "results[" + std::to_string(i) + "]: ";
    if (!r.is_object()) return at + "not an object";
    for (const char* f : {"configuration", "times", "invalidity", "correctness"}) {
      if (!r.contains(f)) return at + "missing required " + f;
    }
    if (!r["timestamp"].is_string()) return at + "timestamp";
    if (!r["configuration"].is_object()) return at + "configuration";
    if (!r["objectives"].is_array()) return at + "objectives";
    const auto& t = r["times"];
    if (!t.is_object()) return at + "times";
    for (const char* f : {"compilation_time", "framework", "search_algorithm", "validation"}) {
      if (!t[f].is_number()) return at + "times." + f;
    }
    if (!is_number_array(t["runtimes"])) return at + "times.runtimes";
    if (!r["invalidity"].is_string() || !invalidity.count(r["invalidity"].get<std::string>())) {
      return at + "invalidity";
    }
    if (!r["correctness"].is_number()) return at + "correctness";
    if (!r["measurements"].is_array()) return at + "measurements";
    for (const auto& m : r["measurements"]) {
      if (!m.is_object() || !m["name"].is_string() || !m["value"].is_number() ||
          !m["unit"].is_string()) {
        return at + "measurement " + m.dump();
      }
    }
  }
  return "";
}

// `text` with the first `from` replaced by `to`.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

double measurement(const json& result, const std::string& name) {
  for (const auto& m : result["measurements"]) {
    if (m["name"] == name) return m["value"].get<double>();
  }
  ADD_FAILURE() << "no measurement " << name << " in " << result.dump();
  return 0;
}

TEST_F(T4Store, ExportsSearchAndReplayRowsInInsertionOrder) {
  const auto text = export_t4_from_store(fixture_store());
  const auto doc = json::parse(text);  // strict: no NaN or Infinity
  EXPECT_EQ(t4_violation(doc), "");
  EXPECT_EQ(doc["schema_version"], "1.0.0");
  const auto& results = doc["results"];
  ASSERT_EQ(results.size(), 7u);  // the baseline row is not a configuration of the space

  const std::vector<std::string> invalidity = {"correct", "compile",     "correctness", "timeout",
                                               "correct", "constraints", "correct"};
  const std::vector<int> correctness = {1, 0, 0, 0, 1, 0, 1};
  for (std::size_t i = 0; i < results.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(results[i]["invalidity"], invalidity[i]);
    EXPECT_EQ(results[i]["correctness"], correctness[i]);
    EXPECT_EQ(results[i]["objectives"], json::array({"time"}));
  }
  const auto& first = results[0];
  EXPECT_EQ(first["timestamp"], "2026-11-18T11:06:40.123Z");
  EXPECT_EQ(first["configuration"],
            json::parse(R"({"MR":6,"NR":16,"VW":16,"WGM":16,"WGN":1,"PACK_A":1})"));
  EXPECT_EQ(first["times"]["compilation_time"], 120.5);
  EXPECT_EQ(first["times"]["runtimes"], json::parse("[1.5,1.25,2.0,1.75]"));
  EXPECT_EQ(measurement(first, "time"), 1.625);  // median of four samples
  EXPECT_EQ(measurement(first, "host_time"), 1.875);
  EXPECT_EQ(measurement(first, "gflops"), 20.5);
  EXPECT_EQ(measurement(first, "first_launch_time"), 3.25);
  EXPECT_EQ(first["clgauge"]["config_id"], "1111111111111111");
  EXPECT_EQ(first["clgauge"]["phase"], "search");
  EXPECT_EQ(first["clgauge"]["reason_code"], "ok");

  const auto& failed = results[1];
  EXPECT_TRUE(failed["measurements"].empty());
  EXPECT_TRUE(failed["times"]["runtimes"].empty());
  EXPECT_EQ(failed["clgauge"]["detail"], "register budget exceeded");
  EXPECT_EQ(results[4]["clgauge"]["reason_code"], "abandoned_slow");
  EXPECT_EQ(results[6]["clgauge"]["phase"], "replay");
  EXPECT_EQ(results[6]["clgauge"]["session"], 1);

  // Same store, same bytes.
  EXPECT_EQ(export_t4_from_store(dir_ / "store.sqlite"), text);
}

TEST_F(T4Store, ReadsAStoreThatATunerStillHoldsOpen) {
  const auto file =
      make_store("live.sqlite", read_file(db_data("store_fixture.sql")), /*keep_open=*/true);
  EXPECT_TRUE(fs::exists(dir_ / "live.sqlite-wal"));
  const auto doc = json::parse(export_t4_from_store(file));
  EXPECT_EQ(doc["results"].size(), 7u);
}

TEST_F(T4Store, EveryReasonCodeMapsIntoTheT4Enum) {
  const std::set<std::string> allowed = {"timeout",     "compile",     "runtime",
                                         "correctness", "constraints", "correct"};
  for (int c = 0; c <= static_cast<int>(ReasonCode::out_of_budget); ++c) {
    const auto code = static_cast<ReasonCode>(c);
    SCOPED_TRACE(std::string(to_string(code)));
    EXPECT_TRUE(allowed.count(std::string(t4_invalidity(code))));
  }
  EXPECT_EQ(t4_invalidity(ReasonCode::ok), "correct");
  EXPECT_EQ(t4_invalidity(ReasonCode::build_failed), "compile");
  EXPECT_EQ(t4_invalidity(ReasonCode::launch_failed), "runtime");
  EXPECT_EQ(t4_invalidity(ReasonCode::crashed), "runtime");
  EXPECT_EQ(t4_invalidity(ReasonCode::timeout), "timeout");
  EXPECT_EQ(t4_invalidity(ReasonCode::out_of_budget), "timeout");
  EXPECT_EQ(t4_invalidity(ReasonCode::parity_mismatch), "correctness");
  EXPECT_EQ(t4_invalidity(ReasonCode::tolerance_exceeded), "correctness");
  EXPECT_EQ(t4_invalidity(ReasonCode::invalid_config), "constraints");
  EXPECT_EQ(t4_invalidity(ReasonCode::abandoned_slow), "correct");
}

// Error of the given code whose one-line message contains every fragment.
template <typename F>
void expect_error(ReasonCode code, F&& f, std::initializer_list<std::string> fragments) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.code(), code) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    for (const auto& frag : fragments) {
      EXPECT_NE(what.find(frag), std::string::npos) << "'" << frag << "' not in: " << what;
    }
  }
}

TEST_F(T4Store, BadStoresAreRefusedByName) {
  const auto missing = dir_ / "absent.sqlite";
  expect_error(ReasonCode::io_error, [&] { (void)export_t4_from_store(missing); },
               {"absent.sqlite: cannot read"});

  const auto text_file = dir_ / "notes.txt";
  std::ofstream(text_file) << "this is not a database, just some text long enough to matter\n";
  expect_error(ReasonCode::bad_input, [&] { (void)export_t4_from_store(text_file); },
               {"notes.txt: not a clgauge results store"});

  const auto other = make_store("other.sqlite", "CREATE TABLE t(x);");
  expect_error(ReasonCode::bad_input, [&] { (void)export_t4_from_store(other); },
               {"other.sqlite: not a clgauge results store"});

  const auto sql = read_file(db_data("store_fixture.sql"));
  const auto newer = replaced(sql, "('schema_version', '1')", "('schema_version', '2')");
  expect_error(ReasonCode::bad_input,
               [&] { (void)export_t4_from_store(make_store("newer.sqlite", newer)); },
               {"newer.sqlite: meta.schema_version: '2'", "reads version 1"});

  const auto bad_params = replaced(sql, "'{\"MR\":1,", "'{\"MR\":\"1\",");
  expect_error(ReasonCode::bad_input,
               [&] { (void)export_t4_from_store(make_store("params.sqlite", bad_params)); },
               {"params.sqlite: evaluations row seq=4: params: MR = \"1\" is not an integer"});

  const auto bad_reason = replaced(sql, "'timeout'", "'melted'");
  expect_error(ReasonCode::bad_input,
               [&] { (void)export_t4_from_store(make_store("reason.sqlite", bad_reason)); },
               {"evaluations row seq=4: reason: 'melted' is not a reason code"});

  const auto bad_samples = replaced(sql, "'[6.0]'", "'[6.0,'");
  expect_error(ReasonCode::bad_input,
               [&] { (void)export_t4_from_store(make_store("samples.sqlite", bad_samples)); },
               {"evaluations row seq=5: samples_ms: malformed JSON"});

  const auto infinite = replaced(sql, "45.0", "9e999");
  expect_error(ReasonCode::bad_input,
               [&] { (void)export_t4_from_store(make_store("inf.sqlite", infinite)); },
               {"evaluations row seq=2: build_ms: not finite"});
}

TEST(T4Database, OneCorrectResultPerEntry) {
  const auto db = TuningDatabase::load(db_data("golden.json"));
  const auto doc = json::parse(export_t4_from_db(db));
  EXPECT_EQ(t4_violation(doc), "");
  ASSERT_EQ(doc["results"].size(), db.entries.size());
  for (std::size_t i = 0; i < db.entries.size(); ++i) {
    SCOPED_TRACE(i);
    const auto& e = db.entries[i];
    const auto& r = doc["results"][i];
    EXPECT_EQ(r["invalidity"], "correct");
    EXPECT_EQ(r["correctness"], 1);
    EXPECT_EQ(r["timestamp"], e.date);
    EXPECT_EQ(r["configuration"].size(), e.config.params.size());
    for (const auto& [name, value] : e.config.params) EXPECT_EQ(r["configuration"][name], value);
    EXPECT_EQ(measurement(r, "gflops"), e.gflops_median);
    // time = 2mnk / GFLOP/s, in ms
    const double flops = 2.0 * e.key.m * e.key.n * e.key.k;
    EXPECT_DOUBLE_EQ(measurement(r, "time"), flops / (e.gflops_median * 1e6));
    for (const auto& [baseline, ratio] : e.baseline_ratios) {
      EXPECT_EQ(measurement(r, "ratio_to_" + baseline), ratio);
    }
    EXPECT_EQ(r["clgauge"]["config_id"], e.config.id());
    EXPECT_EQ(r["clgauge"]["key"]["m"], e.key.m);
  }
  TuningDatabase empty;
  EXPECT_EQ(json::parse(export_t4_from_db(empty)),
            json::parse(R"({"schema_version":"1.0.0","results":[]})"));
}

TEST_F(T4Store, CliExportsAStore) {
  const auto store = fixture_store();
  const auto r = run_cli({"db", "export", "--format", "t4", "--store", store.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, export_t4_from_store(store));
  const auto out = dir_ / "t4.json";
  const auto w =
      run_cli({"db", "export", "--format", "t4", "--store", store.string(), "--out", out.string()});
  ASSERT_EQ(w.status, 0) << w.err;
  EXPECT_EQ(w.out, "wrote " + out.string() + " (t4, 7 results)\n");
  EXPECT_EQ(read_file(out), r.out);

  const auto bad = run_cli({"db", "export", "--format", "t4", "--store", (dir_ / "x").string()});
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("--store "), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("cannot read"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace clgauge
