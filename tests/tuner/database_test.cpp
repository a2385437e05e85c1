// The tuning database: canonical bytes (golden), strict parsing, the merge rule, the search
// path, runtime selection (exact, nearest, default; invalid and foreign entries) and
// `clgauge db show|merge|export`, in process.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "clgauge/error.hpp"
#include "clgauge/hash.hpp"
#include "clgauge/random.hpp"
#include "clgauge/tuning_db.hpp"
#include "cli/cli_test_util.hpp"

namespace clgauge {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
using test::run_cli;

fs::path db_data(const std::string& name) {
  return fs::path(CLGAUGE_TEST_DATA_DIR) / "tuner" / "db" / name;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A fresh temporary folder, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() / ("clgauge_tuningdb_test_" + std::to_string(::getpid()) +
                                         "_" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

// Sets (or unsets, with nullopt) an environment variable for the scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

const TuningDeviceId kDevice{"Portable Computing Language", "cpu-haswell-AMD EPYC 7B13",
                             "5.0+debian"};

GemmConfig regtile(std::int64_t mr, std::int64_t nr, std::int64_t vw, std::int64_t wgm,
                   std::int64_t wgn) {
  return GemmConfig::make("gemm.regtile",
                          {{"MR", mr}, {"NR", nr}, {"VW", vw}, {"WGM", wgm}, {"WGN", wgn}});
}

TuningEntry entry(std::int64_t m, std::int64_t n, std::int64_t k, double gflops,
                  GemmConfig config = regtile(6, 16, 16, 16, 1), std::string families = "all") {
  TuningEntry e;
  e.key.families = std::move(families);
  e.key.m = m;
  e.key.n = n;
  e.key.k = k;
  e.config = std::move(config);
  e.gflops_median = gflops;
  e.baseline_ratios = {{"default", 1.25}, {"clblast", 2.5}, {"openblas", 0.96}};
  e.decision = "promote";
  e.plan_hash = "0123456789abcdef";
  e.date = "2026-11-24T05:00:00Z";
  e.clgauge_version = std::string(version());
  e.env_fingerprint = "fedcba9876543210";
  return e;
}

// The database of golden.json.
TuningDatabase golden_db() {
  TuningDatabase db;
  db.device = kDevice;
  db.merge(entry(1024, 1024, 1024, 181.5));
  auto skinny = entry(4096, 256, 64, 97.25, regtile(8, 32, 16, 1, 8), "gemm.regtile");
  skinny.decision = "iterate";
  skinny.baseline_ratios = {{"default", 1.0625}};
  db.merge(skinny);
  auto col = entry(512, 512, 512, 150, GemmConfig::defaults_for("gemm.localtile"));
  col.key.layout = Layout::col;
  col.key.trans_a = Op::t;
  col.decision = "refine";
  col.baseline_ratios = {};
  db.merge(col);
  for (auto& e : db.entries) e.clgauge_version = "0.1.0";  // bytes independent of the build
  return db;
}

// A device that accepts every shipped config (and the fingerprint of the golden entries).
DeviceInfo fake_device() {
  DeviceInfo d;
  d.platform = kDevice.platform;
  d.name = kDevice.device;
  d.driver_version = kDevice.driver;
  d.type = "cpu";
  d.max_wg_size = 4096;
  d.max_wi_sizes = {4096, 4096, 4096};
  d.local_mem_bytes = 1 << 20;
  d.fingerprint = parse_hex16("fedcba9876543210", "test fingerprint");
  return d;
}

GemmProblem problem(std::int64_t m, std::int64_t n, std::int64_t k) {
  GemmProblem p;
  p.m = m;
  p.n = n;
  p.k = k;
  return p;
}

using Dbs = std::vector<std::pair<fs::path, TuningDatabase>>;

Dbs one_db(const std::vector<TuningEntry>& entries) {
  TuningDatabase db;
  db.device = kDevice;
  for (const auto& e : entries) db.merge(e);
  return {{fs::path("/dbs/one.json"), db}};
}

// Error(bad_input) whose message contains every fragment.
template <typename F>
void expect_bad_input(F&& f, std::initializer_list<std::string> fragments) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ReasonCode::bad_input) << e.what();
    for (const auto& frag : fragments) {
      EXPECT_NE(std::string(e.what()).find(frag), std::string::npos)
          << "'" << frag << "' not in: " << e.what();
    }
  }
}

// ------------------------------------------------------------------ format

// golden.json is a promise: the bytes `clgauge tune` writes. Regenerate (and review the
// diff) with CLGAUGE_UPDATE_GOLDEN=1.
TEST(TuningDbFormat, GoldenBytesRoundTrip) {
  const auto db = golden_db();
  if (const char* update = std::getenv("CLGAUGE_UPDATE_GOLDEN");
      update && std::string(update) == "1") {
    write_file(db_data("golden.json"), db.to_json());
  }
  const auto golden = read_file(db_data("golden.json"));
  EXPECT_EQ(db.to_json(), golden);
  const auto parsed = TuningDatabase::parse(golden, "golden.json");
  EXPECT_EQ(parsed, db);
  EXPECT_EQ(parsed.to_json(), golden);
  EXPECT_EQ(TuningDatabase::load(db_data("golden.json")), db);
}

TEST(TuningDbFormat, AnyOrderAndSpacingReadsToTheCanonicalBytes) {
  const auto golden = read_file(db_data("golden.json"));
  const auto db = TuningDatabase::load(db_data("unsorted.json"));
  EXPECT_EQ(db.to_json(), golden);
  for (std::size_t i = 1; i < db.entries.size(); ++i) {
    EXPECT_LT(db.entries[i - 1].key, db.entries[i].key);
  }
}

TEST(TuningDbFormat, EntriesAddedInAnyOrderGiveTheSameBytes) {
  auto db = golden_db();
  std::reverse(db.entries.begin(), db.entries.end());  // to_json sorts a copy
  EXPECT_EQ(db.to_json(), read_file(db_data("golden.json")));
}

struct BadCase {
  std::string name;
  std::function<void(json&)> mutate;
  std::vector<std::string> fragments;
};

TEST(TuningDbFormat, BadDocumentsNameTheSourceAndField) {
  const auto golden = json::parse(read_file(db_data("golden.json")));
  const std::vector<BadCase> cases = {
      {"schema",
       [](json& d) { d["schema"] = "clgauge-plan-v1"; },
       {"schema", "not a clgauge tuning database"}},
      {"no schema", [](json& d) { d.erase("schema"); }, {"schema: missing"}},
      {"newer", [](json& d) { d["schema_version"] = 2; }, {"schema_version: 2", "newer"}},
      {"version type",
       [](json& d) { d["schema_version"] = "1"; },
       {"schema_version", "not a 64-bit integer"}},
      {"unknown top", [](json& d) { d["extra"] = 1; }, {"extra: unknown field"}},
      {"device", [](json& d) { d["device"].erase("driver"); }, {"device.driver: missing"}},
      {"entries", [](json& d) { d["entries"] = json::object(); }, {"entries", "not an array"}},
      {"m", [](json& d) { d["entries"][0]["key"]["m"] = 0; }, {"entries[0].key.m", "not >= 1"}},
      {"m type",
       [](json& d) { d["entries"][1]["key"]["m"] = 1.5; },
       {"entries[1].key.m", "not a 64-bit integer"}},
      {"layout",
       [](json& d) { d["entries"][0]["key"]["layout"] = "diag"; },
       {"entries[0].key.layout", "'diag'"}},
      {"op", [](json& d) { d["entries"][2]["key"]["trans_b"] = "c"; }, {"entries[2].key.trans_b"}},
      {"param",
       [](json& d) { d["entries"][0]["config"]["params"]["MR"] = "6"; },
       {"entries[0].config.params.MR", "not a 64-bit integer"}},
      {"id",
       [](json& d) { d["entries"][0]["config"]["id"] = "0000000000000000"; },
       {"entries[0].config.id", "does not match"}},
      {"gflops",
       [](json& d) { d["entries"][0]["gflops_median"] = -1; },
       {"entries[0].gflops_median"}},
      {"gflops huge",
       [](json& d) { d["entries"][0]["gflops_median"] = "fast"; },
       {"entries[0].gflops_median", "not a number"}},
      {"ratio",
       [](json& d) { d["entries"][0]["baseline_ratios"]["default"] = nullptr; },
       {"entries[0].baseline_ratios.default"}},
      {"decision",
       [](json& d) { d["entries"][0]["decision"] = "maybe"; },
       {"entries[0].decision", "'maybe'"}},
      {"plan hash",
       [](json& d) { d["entries"][0]["plan_hash"] = "0123"; },
       {"entries[0].plan_hash"}},
      {"fingerprint",
       [](json& d) { d["entries"][0]["env_fingerprint"] = "FEDCBA9876543210"; },
       {"entries[0].env_fingerprint"}},
      {"version",
       [](json& d) { d["entries"][0]["clgauge_version"] = ""; },
       {"entries[0].clgauge_version: empty"}},
      {"unknown entry field",
       [](json& d) { d["entries"][0]["note"] = "x"; },
       {"entries[0].note: unknown field"}},
      {"duplicate",
       [](json& d) { d["entries"].push_back(d["entries"][0]); },
       {"entries[3].key", "duplicate key", "entries[0]"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto doc = golden;
    c.mutate(doc);
    const auto text = doc.dump();
    std::vector<std::string> fragments = {"bad.json: "};
    fragments.insert(fragments.end(), c.fragments.begin(), c.fragments.end());
    try {
      (void)TuningDatabase::parse(text, "bad.json");
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ReasonCode::bad_input);
      const std::string what = e.what();
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
      for (const auto& f : fragments)
        EXPECT_NE(what.find(f), std::string::npos) << f << " / " << what;
    }
  }
}

TEST(TuningDbFormat, MalformedJsonNamesThePosition) {
  expect_bad_input([] { (void)TuningDatabase::parse("{\"schema\": \n  nope}", "x.json"); },
                   {"x.json: malformed JSON at line 2"});
  expect_bad_input([] { (void)TuningDatabase::parse("[]", "x.json"); },
                   {"x.json: top level: expected a JSON object"});
  // 1e999 is not a finite double: refused, never read as inf.
  auto doc = json::parse(read_file(db_data("golden.json")));
  std::string text = doc.dump();
  const auto at = text.find("181.5");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 5, "1e999");
  expect_bad_input([&] { (void)TuningDatabase::parse(text, "x.json"); },
                   {"x.json: malformed JSON: number overflow parsing '1e999'"});
}

TEST(TuningDbFormat, NothingNonFiniteIsEverWritten) {
  for (const double bad :
       {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN(), -1.0}) {
    auto db = golden_db();
    db.entries[0].gflops_median = bad;
    expect_bad_input([&] { (void)db.to_json(); }, {"entries[0]", "gflops_median"});
    expect_bad_input([&] { (void)export_t4_from_db(db); }, {"gflops_median"});
    auto ratio = golden_db();
    ASSERT_FALSE(ratio.entries[2].baseline_ratios.empty());
    ratio.entries[2].baseline_ratios[0].second = bad;
    expect_bad_input([&] { (void)ratio.to_json(); }, {"entries[2]", "baseline_ratios.default"});
    TuningDatabase target;
    target.device = kDevice;
    expect_bad_input([&] { target.merge(db.entries[0]); }, {"merge", "gflops_median"});
  }
}

TEST(TuningDbFormat, LoadAndSaveErrorsNameTheFile) {
  TempDir tmp;
  try {
    (void)TuningDatabase::load(tmp / "absent.json");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ReasonCode::bad_input);
    EXPECT_NE(std::string(e.what()).find("absent.json': no such file"), std::string::npos);
  }
  try {
    golden_db().save(tmp / "no" / "such" / "dir.json");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ReasonCode::io_error);
    EXPECT_NE(std::string(e.what()).find("dir.json: cannot write"), std::string::npos);
  }
}

TEST(TuningDbFormat, SaveReplacesAtomicallyAndLeavesNoTemporaryFile) {
  TempDir tmp;
  const auto file = tmp / "db.json";
  write_file(file, "old");
  golden_db().save(file);
  EXPECT_EQ(read_file(file), read_file(db_data("golden.json")));
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(tmp.path())) names.push_back(e.path().filename());
  EXPECT_EQ(names, std::vector<std::string>{"db.json"});
}

TEST(TuningDbFileName, SlugOfTheDeviceAndHashOfTheId) {
  const std::string bytes = kDevice.platform + std::string(1, '\0') + kDevice.device +
                            std::string(1, '\0') + kDevice.driver;
  EXPECT_EQ(tuning_db_file_name(kDevice),
            "cpu-haswell-amd-epyc-7b13-" + hex16(xxh3_64(bytes)) + ".json");
  auto other = kDevice;
  other.driver = "6.0";
  EXPECT_NE(tuning_db_file_name(other), tuning_db_file_name(kDevice));
  EXPECT_EQ(tuning_db_file_name({"p", "  !! ", "d"}).substr(0, 7), "device-");
  const auto long_name = tuning_db_file_name({"p", std::string(100, 'x') + " GPU", "d"});
  EXPECT_EQ(long_name, std::string(48, 'x') + "-" + long_name.substr(49));
  EXPECT_EQ(long_name.size(), 48u + 1 + 16 + 5);
}

// ------------------------------------------------------------------ merge

TEST(TuningDbMerge, FasterEntryWinsTiesGoToTheSmallerConfigId) {
  TuningDatabase db;
  db.device = kDevice;
  const auto slow = entry(512, 512, 512, 100, regtile(4, 16, 16, 16, 1));
  const auto fast = entry(512, 512, 512, 120, regtile(8, 16, 16, 16, 1));
  db.merge(slow);
  db.merge(fast);
  ASSERT_EQ(db.entries.size(), 1u);
  EXPECT_EQ(db.entries[0], fast);
  db.merge(slow);
  EXPECT_EQ(db.entries[0], fast);

  auto a = entry(512, 512, 512, 120, regtile(2, 16, 16, 16, 1));
  auto b = entry(512, 512, 512, 120, regtile(1, 16, 16, 16, 1));
  const auto& smaller = a.config.id() < b.config.id() ? a : b;
  TuningDatabase x, y;
  x.device = y.device = kDevice;
  x.merge(a);
  x.merge(b);
  y.merge(b);
  y.merge(a);
  EXPECT_EQ(x.entries[0], smaller);
  EXPECT_EQ(y.entries[0], smaller);
  // Same speed and config, different provenance: still one answer whatever the order.
  auto later = a;
  later.date = "2026-12-01T00:00:00Z";
  TuningDatabase p, q;
  p.device = q.device = kDevice;
  p.merge(a);
  p.merge(later);
  q.merge(later);
  q.merge(a);
  EXPECT_EQ(p, q);
}

// Random entries from a Philox stream: keys from a small set so that keys collide, speeds
// from a small set so that ties happen.
std::vector<TuningEntry> random_entries(std::uint64_t seed, std::size_t count) {
  std::uint64_t index = 0;
  const auto pick = [&](std::int64_t n) {
    const float u = random_element(seed, index++, Distribution::uniform);  // [-1, 1)
    return std::min<std::int64_t>(n - 1, static_cast<std::int64_t>((u + 1.0f) * 0.5f * n));
  };
  const std::int64_t sizes[] = {64, 256, 1024};
  std::vector<TuningEntry> out;
  for (std::size_t i = 0; i < count; ++i) {
    auto e = entry(sizes[pick(3)], sizes[pick(3)], 512, 10.0 * static_cast<double>(1 + pick(3)),
                   regtile(1 + pick(4), 16, 16, 1 + pick(2), 1), pick(2) ? "all" : "gemm.regtile");
    e.key.layout = pick(2) ? Layout::row : Layout::col;
    e.date = "2026-11-" + std::to_string(10 + pick(3)) + "T00:00:00Z";
    out.push_back(e);
  }
  return out;
}

TEST(TuningDbMerge, ResultIsIndependentOfOrderAndGrouping) {
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE(seed);
    const auto entries = random_entries(seed, 24);
    TuningDatabase forward, backward, halves, left, right;
    forward.device = backward.device = halves.device = left.device = right.device = kDevice;
    for (const auto& e : entries) forward.merge(e);
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) backward.merge(*it);
    for (std::size_t i = 0; i < entries.size(); ++i) (i % 2 ? left : right).merge(entries[i]);
    halves.merge(right);
    halves.merge(left);
    EXPECT_EQ(forward.to_json(), backward.to_json());
    EXPECT_EQ(forward, halves);
    auto self = forward;
    self.merge(self);
    EXPECT_EQ(self, forward);
    // Every surviving entry is at least as fast as every entry of its key.
    for (const auto& e : entries) {
      const auto* kept = forward.find(e.key);
      ASSERT_NE(kept, nullptr);
      EXPECT_GE(kept->gflops_median, e.gflops_median);
    }
    EXPECT_TRUE(std::is_sorted(forward.entries.begin(), forward.entries.end(),
                               [](const auto& a, const auto& b) { return a.key < b.key; }));
  }
}

TEST(TuningDbMerge, DatabasesOfDifferentDevicesAreRefused) {
  auto a = golden_db();
  auto b = golden_db();
  b.device.driver = "6.0";
  expect_bad_input([&] { a.merge(b); }, {"different devices", "5.0+debian", "6.0"});
  EXPECT_EQ(a, golden_db());
}

// ------------------------------------------------------------------ selection

TEST(TuningDbSelect, ExactKeyOfAnyFamilySetFastestFirst) {
  const auto dev = fake_device();
  const auto slow = entry(1024, 1024, 1024, 150, regtile(4, 16, 16, 16, 1), "all");
  const auto fast = entry(1024, 1024, 1024, 160, regtile(8, 16, 16, 16, 1), "gemm.regtile");
  const auto near = entry(1000, 1024, 1024, 500);
  auto dbs = one_db({slow, near});
  TuningDatabase second;
  second.device = kDevice;
  second.merge(fast);
  dbs.emplace_back("/dbs/two.json", second);
  const auto sel = select_gemm_config(dev, problem(1024, 1024, 1024), dbs);
  EXPECT_EQ(sel.source, "tuned-exact");
  EXPECT_EQ(sel.config, fast.config);
  ASSERT_TRUE(sel.entry.has_value());
  EXPECT_EQ(*sel.entry, fast);
  EXPECT_EQ(sel.file, fs::path("/dbs/two.json"));
  EXPECT_EQ(sel.distance, 0);
  EXPECT_NE(sel.explanation.find("tuned-exact"), std::string::npos) << sel.explanation;
  EXPECT_NE(sel.explanation.find("/dbs/two.json"), std::string::npos) << sel.explanation;
  EXPECT_NE(sel.explanation.find(fast.config.id()), std::string::npos) << sel.explanation;
  EXPECT_EQ(sel.explanation.find("note:"), std::string::npos) << sel.explanation;
}

TEST(TuningDbSelect, ExactTieGoesToTheSmallerConfigIdThenSearchOrder) {
  const auto dev = fake_device();
  const auto a = entry(256, 256, 256, 90, regtile(2, 16, 16, 16, 1), "all");
  const auto b = entry(256, 256, 256, 90, regtile(1, 16, 16, 16, 1), "gemm.regtile");
  const auto& smaller = a.config.id() < b.config.id() ? a : b;
  for (const bool swap : {false, true}) {
    const auto sel =
        select_gemm_config(dev, problem(256, 256, 256), swap ? one_db({b, a}) : one_db({a, b}));
    EXPECT_EQ(sel.config, smaller.config);
  }
  // The same entry in two files: the first file of the search path.
  auto dbs = one_db({a});
  dbs.emplace_back("/dbs/later.json", dbs.front().second);
  EXPECT_EQ(select_gemm_config(dev, problem(256, 256, 256), dbs).file, fs::path("/dbs/one.json"));
}

TEST(TuningDbSelect, NearestInLogSpaceWithTheSameLayoutAndOps) {
  const auto dev = fake_device();
  auto transposed = entry(1000, 1000, 1000, 300, regtile(1, 4, 4, 1, 1));
  transposed.key.trans_b = Op::t;  // nearest in shape, but other ops: never used
  auto column = entry(1000, 1000, 1000, 300, regtile(1, 4, 4, 1, 1));
  column.key.layout = Layout::col;
  const auto far = entry(4096, 4096, 4096, 200, regtile(8, 16, 16, 16, 1));
  const auto near = entry(512, 1024, 1024, 100, regtile(4, 16, 16, 16, 1));
  const auto sel =
      select_gemm_config(dev, problem(1024, 1024, 1024), one_db({transposed, column, far, near}));
  EXPECT_EQ(sel.source, "tuned-nearest");
  EXPECT_EQ(sel.config, near.config);
  EXPECT_NEAR(sel.distance, 1.0, 1e-12);  // one factor of two in m
  EXPECT_NE(sel.explanation.find("nearest is all f32 row nn 512x1024x1024"), std::string::npos)
      << sel.explanation;
  EXPECT_NE(sel.explanation.find("distance 1.000"), std::string::npos) << sel.explanation;

  auto p = problem(1024, 1024, 1024);
  p.trans_b = Op::t;
  EXPECT_EQ(select_gemm_config(dev, p, one_db({transposed, column, far, near})).config,
            transposed.config);
}

TEST(TuningDbSelect, NearestTieGoesToTheSmallerVolumeThenKey) {
  const auto dev = fake_device();
  // 512 and 2048 are equally far from 1024 in log space; 512 is the smaller volume.
  const auto big = entry(2048, 1024, 1024, 999, regtile(8, 16, 16, 16, 1));
  const auto small = entry(512, 1024, 1024, 1, regtile(4, 16, 16, 16, 1));
  for (const auto& dbs : {one_db({big, small}), one_db({small, big})}) {
    const auto sel = select_gemm_config(dev, problem(1024, 1024, 1024), dbs);
    EXPECT_EQ(sel.config, small.config);
  }
  // Same distance and volume (2048x1024 vs 1024x2048): the smaller key, i.e. smaller m.
  const auto tall = entry(2048, 1024, 1024, 5, regtile(8, 16, 16, 16, 1));
  const auto wide = entry(1024, 2048, 1024, 5, regtile(4, 16, 16, 16, 1));
  EXPECT_EQ(select_gemm_config(dev, problem(1024, 1024, 1024), one_db({tall, wide})).config,
            wide.config);
}

TEST(TuningDbSelect, DeviceDefaultSaysWhy) {
  const auto dev = fake_device();
  const auto none = select_gemm_config(dev, problem(64, 64, 64), Dbs{});
  EXPECT_EQ(none.source, "device-default");
  EXPECT_EQ(none.config, default_gemm_config(dev, problem(64, 64, 64)));
  EXPECT_FALSE(none.entry.has_value());
  EXPECT_NE(none.explanation.find("no tuning database for this device"), std::string::npos)
      << none.explanation;
  EXPECT_NE(none.explanation.find(tuning_db_file_name(kDevice)), std::string::npos);

  auto col = entry(64, 64, 64, 10);
  col.key.layout = Layout::col;
  const auto other = select_gemm_config(dev, problem(64, 64, 64), one_db({col}));
  EXPECT_EQ(other.source, "device-default");
  EXPECT_NE(other.explanation.find("no entry for layout row, ops nn, f32 among 1 entries"),
            std::string::npos)
      << other.explanation;
}

TEST(TuningDbSelect, InvalidEntriesAreSkippedAndNamed) {
  auto dev = fake_device();
  dev.max_wg_size = 64;
  const auto too_wide = entry(1024, 1024, 1024, 500, regtile(6, 16, 16, 16, 16));  // 256 items
  const auto ok = entry(2048, 2048, 2048, 100, regtile(4, 16, 16, 8, 8));
  GemmConfig alien{"gemm.future", {{"X", 1}}};
  const auto unknown = entry(1024, 1024, 1024, 900, alien);
  auto dbs = one_db({too_wide, ok});
  TuningDatabase other;
  other.device = kDevice;
  other.merge(unknown);
  dbs.emplace_back("/dbs/future.json", other);

  const auto sel = select_gemm_config(dev, problem(1024, 1024, 1024), dbs);
  EXPECT_EQ(sel.source, "tuned-nearest");
  EXPECT_EQ(sel.config, ok.config);
  EXPECT_NE(sel.explanation.find("skipped 2 entries invalid on this device"), std::string::npos)
      << sel.explanation;
  EXPECT_NE(sel.explanation.find("exceeds max_wg_size 64"), std::string::npos) << sel.explanation;

  const auto all_bad = select_gemm_config(dev, problem(1024, 1024, 1024), one_db({too_wide}));
  EXPECT_EQ(all_bad.source, "device-default");
  EXPECT_NE(all_bad.explanation.find("every matching entry is invalid on this device"),
            std::string::npos)
      << all_bad.explanation;
  EXPECT_NE(all_bad.explanation.find("skipped 1 entry"), std::string::npos);
}

TEST(TuningDbSelect, ToleranceOnlyEntriesAreKeptButNeverSelected) {
  const auto dev = fake_device();
  // What `clgauge tune --family gemm.splitk` records: its own key, beside the "all" entry.
  const auto splitk =
      entry(1024, 1024, 1024, 900, GemmConfig::defaults_for("gemm.splitk"), "gemm.splitk");
  const auto ok = entry(1024, 1024, 1024, 100, regtile(4, 16, 16, 8, 8));
  const auto sel = select_gemm_config(dev, problem(1024, 1024, 1024), one_db({splitk, ok}));
  EXPECT_EQ(sel.source, "tuned-exact");
  EXPECT_EQ(sel.config, ok.config);
  EXPECT_NE(sel.explanation.find("tolerance-only family gemm.splitk"), std::string::npos)
      << sel.explanation;
  const auto only = select_gemm_config(dev, problem(1024, 1024, 1024), one_db({splitk}));
  EXPECT_EQ(only.source, "device-default");
  EXPECT_TRUE(gemm_family(only.config.family).bitwise);
}

TEST(TuningDbSelect, EntryFromAnotherVersionOrFingerprintIsUsedAndSaysSo) {
  const auto dev = fake_device();
  auto e = entry(128, 128, 128, 40);
  e.clgauge_version = "0.0.1";
  e.env_fingerprint = "00000000000000aa";
  const auto sel = select_gemm_config(dev, problem(128, 128, 128), one_db({e}));
  EXPECT_EQ(sel.source, "tuned-exact");
  EXPECT_EQ(sel.config, e.config);
  EXPECT_NE(sel.explanation.find("note: measured under clgauge 0.0.1 (this is " +
                                 std::string(version()) + ")"),
            std::string::npos)
      << sel.explanation;
  EXPECT_NE(sel.explanation.find("environment fingerprint 00000000000000aa (now fedcba9876543210)"),
            std::string::npos)
      << sel.explanation;
}

// ------------------------------------------------------------------ search path

TEST(TuningDbSearchPath, EnvironmentFirstThenUserThenShipped) {
  TempDir tmp;
  ScopedEnv db_dir("CLGAUGE_DB_DIR", (tmp / "env").string());
  ScopedEnv xdg("XDG_DATA_HOME", (tmp / "xdg").string());
  const auto path = tuning_db_search_path();
  ASSERT_GE(path.size(), 3u);
  EXPECT_EQ(path[0].dir, tmp / "env");
  EXPECT_EQ(path[0].origin, "CLGAUGE_DB_DIR");
  EXPECT_EQ(path[1].dir, tmp / "xdg" / "clgauge" / "db");
  EXPECT_EQ(path[1].origin, "user");
  for (std::size_t i = 2; i + 1 < path.size(); ++i) {
    EXPECT_EQ(path[i].origin, "installed");
    EXPECT_TRUE(path[i].dir.string().ends_with("share/clgauge/tuning/db")) << path[i].dir;
  }
  EXPECT_EQ(path.back().origin, "source tree");
  EXPECT_EQ(path.back().dir, (fs::path(CLGAUGE_SOURCE_DIR) / "tuning" / "db").lexically_normal());
  EXPECT_EQ(tuning_db_search_dirs().front(), tmp / "env");
  EXPECT_EQ(user_tuning_db_dir(), tmp / "env");
}

TEST(TuningDbSearchPath, HomeWhenXdgIsUnsetOrRelative) {
  TempDir tmp;
  ScopedEnv db_dir("CLGAUGE_DB_DIR", std::nullopt);
  ScopedEnv home("HOME", tmp.path().string());
  for (const auto& xdg :
       {std::optional<std::string>(), std::optional<std::string>("relative/dir")}) {
    ScopedEnv x("XDG_DATA_HOME", xdg);
    const auto path = tuning_db_search_path();
    EXPECT_EQ(path[0].dir, tmp / ".local" / "share" / "clgauge" / "db");
    EXPECT_EQ(path[0].origin, "user");
    EXPECT_EQ(user_tuning_db_dir(), tmp / ".local" / "share" / "clgauge" / "db");
  }
  ScopedEnv no_home("HOME", std::nullopt);
  ScopedEnv no_xdg("XDG_DATA_HOME", std::nullopt);
  EXPECT_THROW((void)user_tuning_db_dir(), Error);
  // The same folder twice is searched once.
  ScopedEnv same_xdg("XDG_DATA_HOME", (tmp / "d" / ".." / "x").string());
  ScopedEnv same("CLGAUGE_DB_DIR", (tmp / "x" / "clgauge" / "db").string());
  const auto path = tuning_db_search_path();
  EXPECT_EQ(path[0].dir, tmp / "x" / "clgauge" / "db");
  EXPECT_NE(path[1].origin, "user");
}

TEST(TuningDbSearchPath, LoadsEveryFileAlongThePathAndSelectsAcrossThem) {
  TempDir tmp;
  ScopedEnv db_dir("CLGAUGE_DB_DIR", (tmp / "env").string());
  ScopedEnv xdg("XDG_DATA_HOME", (tmp / "xdg").string());
  const auto env_file = record_tuning_entries(tmp / "env", kDevice, {entry(256, 256, 256, 50)});
  const auto user_file = record_tuning_entries(
      tmp / "xdg" / "clgauge" / "db", kDevice,
      {entry(256, 256, 256, 70, regtile(4, 16, 16, 16, 1)), entry(4096, 4096, 4096, 80)});
  EXPECT_EQ(env_file, tmp / "env" / tuning_db_file_name(kDevice));
  const auto loaded = load_tuning_databases(kDevice);
  ASSERT_EQ(loaded.size(), 2u);
  EXPECT_EQ(loaded[0].first, env_file);
  EXPECT_EQ(loaded[1].first, user_file);
  EXPECT_EQ(loaded[1].second.entries.size(), 2u);

  // The user's faster entry wins although the CLGAUGE_DB_DIR file comes first.
  const auto sel = select_gemm_config(fake_device(), problem(256, 256, 256));
  EXPECT_EQ(sel.file, user_file);
  EXPECT_EQ(sel.config, regtile(4, 16, 16, 16, 1));

  // Another device's databases are not this one's.
  auto other = kDevice;
  other.device = "Other";
  EXPECT_TRUE(load_tuning_databases(other).empty());

  // A file whose content is for another device is refused, naming it.
  auto wrong = golden_db();
  wrong.device = other;
  wrong.save(tmp / "env" / tuning_db_file_name(kDevice));
  expect_bad_input([] { (void)load_tuning_databases(kDevice); },
                   {tuning_db_file_name(kDevice), "device", "Other"});
}

TEST(TuningDbRecord, CreatesTheFolderMergesAndRefusesAnotherDevicesFile) {
  TempDir tmp;
  const auto dir = tmp / "a" / "b";
  const auto file = record_tuning_entries(dir, kDevice, {entry(64, 64, 64, 5)});
  record_tuning_entries(dir, kDevice,
                        {entry(64, 64, 64, 4, regtile(1, 4, 4, 1, 1)), entry(128, 64, 64, 6)});
  const auto db = TuningDatabase::load(file);
  ASSERT_EQ(db.entries.size(), 2u);
  EXPECT_EQ(db.entries[0].gflops_median, 5);
  EXPECT_EQ(db.device, kDevice);

  auto other = golden_db();
  other.device.device = "Something else";
  other.save(file);
  expect_bad_input([&] { record_tuning_entries(dir, kDevice, {entry(64, 64, 64, 5)}); },
                   {file.string(), "device"});
  write_file(tmp / "blocker", "x");
  try {
    record_tuning_entries(tmp / "blocker" / "sub", kDevice, {});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ReasonCode::io_error);
    EXPECT_NE(std::string(e.what()).find("blocker"), std::string::npos);
  }
}

// ------------------------------------------------------------------ CLI

// Exit status 2, nothing on stdout, one line on stderr containing every fragment.
void expect_cli_bad(const std::vector<std::string>& args,
                    std::initializer_list<std::string> fragments) {
  const auto r = run_cli(args);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  for (const auto& f : fragments)
    EXPECT_NE(r.err.find(f), std::string::npos) << f << " / " << r.err;
}

TEST(TuningDbCli, ShowFileListsEveryEntry) {
  const auto file = db_data("golden.json").string();
  const auto r = run_cli({"db", "show", "--file", file});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("device: Portable Computing Language / cpu-haswell-AMD EPYC 7B13 (driver "
                       "5.0+debian)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("[1] " + file + " (file): 3 entries"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("all f32 row nn 1024x1024x1024  gemm.regtile " +
                       regtile(6, 16, 16, 16, 1).id() + "  181.5 GFLOP/s  promote"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("MR=8 NR=32 VW=16 WGM=1 WGN=8 PACK_A=1  1.06x default"), std::string::npos)
      << r.out;

  const auto j = run_cli({"db", "show", "--file", file, "--json"});
  ASSERT_EQ(j.status, 0) << j.err;
  const auto doc = json::parse(j.out);
  EXPECT_EQ(doc["schema"], "clgauge-db-show-v1");
  ASSERT_EQ(doc["databases"].size(), 1u);
  EXPECT_EQ(doc["databases"][0]["file"], file);
  EXPECT_EQ(doc["databases"][0]["entries"], json::parse(read_file(file))["entries"]);
}

TEST(TuningDbCli, ShowDeviceWalksTheSearchPath) {
  const auto devices = list_devices();
  if (devices.empty()) GTEST_SKIP() << "no OpenCL device on this machine";
  TempDir tmp;
  ScopedEnv db_dir("CLGAUGE_DB_DIR", (tmp / "env").string());
  ScopedEnv xdg("XDG_DATA_HOME", (tmp / "xdg").string());
  const auto id = tuning_device_id(select_device("0", devices));
  const auto file = record_tuning_entries(tmp / "env", id, {entry(256, 256, 256, 50)});
  const auto r = run_cli({"db", "show", "--device", "0"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("[1] " + file.string() + " (CLGAUGE_DB_DIR): 1 entry"), std::string::npos)
      << r.out;
  EXPECT_NE(
      r.out.find("[2] " + (tmp / "xdg" / "clgauge" / "db" / tuning_db_file_name(id)).string() +
                 " (user): absent"),
      std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("(source tree): "), std::string::npos) << r.out;

  const auto j = run_cli({"db", "show", "--device", "0", "--json"});
  ASSERT_EQ(j.status, 0) << j.err;
  const auto doc = json::parse(j.out);
  EXPECT_EQ(doc["file_name"], tuning_db_file_name(id));
  EXPECT_EQ(doc["databases"][0]["present"], true);
  EXPECT_EQ(doc["databases"][1]["present"], false);

  // export --device: the databases along the path, merged.
  record_tuning_entries(tmp / "xdg" / "clgauge" / "db", id, {entry(512, 512, 512, 9)});
  const auto e = run_cli({"db", "export", "--device", "0"});
  ASSERT_EQ(e.status, 0) << e.err;
  // Both recorded entries; the shipped database of this device, when there is one, adds its own.
  const auto merged = TuningDatabase::parse(e.out, "stdout");
  EXPECT_GE(merged.entries.size(), 2u);
  for (std::int64_t n : {256, 512}) {
    EXPECT_TRUE(std::any_of(merged.entries.begin(), merged.entries.end(), [&](const auto& x) {
      return x.key.m == n && x.key.n == n && x.key.k == n && x.key.families == "all";
    })) << n;
  }
}

TEST(TuningDbCli, MergeIsDeterministicWhateverTheOrder) {
  TempDir tmp;
  TuningDatabase a, b;
  a.device = b.device = kDevice;
  for (const auto& e : random_entries(7, 12)) a.merge(e);
  for (const auto& e : random_entries(8, 12)) b.merge(e);
  a.save(tmp / "a.json");
  b.save(tmp / "b.json");
  const auto ab = run_cli({"db", "merge", "--out", (tmp / "ab.json").string(),
                           (tmp / "a.json").string(), (tmp / "b.json").string()});
  ASSERT_EQ(ab.status, 0) << ab.err;
  EXPECT_NE(ab.out.find("merged 2 databases"), std::string::npos) << ab.out;
  const auto ba = run_cli({"db", "merge", "--out", (tmp / "ba.json").string(),
                           (tmp / "b.json").string(), (tmp / "a.json").string()});
  ASSERT_EQ(ba.status, 0) << ba.err;
  EXPECT_EQ(read_file(tmp / "ab.json"), read_file(tmp / "ba.json"));
  auto expected = a;
  expected.merge(b);
  EXPECT_EQ(read_file(tmp / "ab.json"), expected.to_json());
}

TEST(TuningDbCli, MergeRefusesDifferentDevicesAndBadFiles) {
  TempDir tmp;
  auto a = golden_db();
  auto b = golden_db();
  b.device.device = "Another GPU";
  a.save(tmp / "a.json");
  b.save(tmp / "b.json");
  const auto out = (tmp / "out.json").string();
  expect_cli_bad(
      {"db", "merge", "--out", out, (tmp / "a.json").string(), (tmp / "b.json").string()},
      {"clgauge db: ", "b.json: device", "Another GPU", "one device"});
  EXPECT_FALSE(fs::exists(out));
  write_file(tmp / "bad.json", "{\"schema\": \"clgauge-tuning-db\", \"schema_version\": 9}");
  expect_cli_bad({"db", "merge", "--out", out, (tmp / "bad.json").string()},
                 {"bad.json: schema_version: 9"});
  expect_cli_bad({"db", "merge", "--out", out, (tmp / "absent.json").string()},
                 {"absent.json': no such file"});
  expect_cli_bad(
      {"db", "merge", "--out", (tmp / "no" / "dir" / "o.json").string(), (tmp / "a.json").string()},
      {"--out ", "o.json: cannot write"});
  EXPECT_EQ(run_cli({"db", "merge", (tmp / "a.json").string()}).status, 2);  // no --out
}

TEST(TuningDbCli, ExportJsonAndT4FromAFile) {
  TempDir tmp;
  const auto file = db_data("golden.json").string();
  const auto j = run_cli({"db", "export", "--file", file});
  ASSERT_EQ(j.status, 0) << j.err;
  EXPECT_EQ(j.out, read_file(file));
  const auto t = run_cli({"db", "export", "--format", "t4", "--file", file});
  ASSERT_EQ(t.status, 0) << t.err;
  const auto doc = json::parse(t.out);
  EXPECT_EQ(doc["schema_version"], "1.0.0");
  EXPECT_EQ(doc["results"].size(), 3u);
  const auto out = tmp / "t4.json";
  const auto w = run_cli({"db", "export", "--format", "t4", "--file", file, "--out", out.string()});
  ASSERT_EQ(w.status, 0) << w.err;
  EXPECT_EQ(w.out, "wrote " + out.string() + " (t4, 3 results)\n");
  EXPECT_EQ(read_file(out), t.out);
}

TEST(TuningDbCli, ExportBadInputs) {
  TempDir tmp;
  const auto file = db_data("golden.json").string();
  expect_cli_bad({"db", "export"}, {"exactly one of --file DB, --store STORE or --device D"});
  expect_cli_bad({"db", "export", "--file", file, "--store", file}, {"exactly one", "got 2"});
  expect_cli_bad({"db", "export", "--store", file}, {"--format json", "t4"});
  expect_cli_bad({"db", "export", "--file", file, "--out", (tmp / "x" / "y.json").string()},
                 {"--out ", "y.json: cannot write"});
  write_file(tmp / "bad.json", "{\"schema\": \"clgauge-tuning-db\"");
  expect_cli_bad({"db", "export", "--file", (tmp / "bad.json").string()},
                 {"bad.json: malformed JSON at line 1"});
  const auto fmt = run_cli({"db", "export", "--format", "csv", "--file", file});
  EXPECT_EQ(fmt.status, 2);
  EXPECT_EQ(run_cli({"db"}).status, 2);
  expect_cli_bad({"db", "show", "--file", (tmp / "absent.json").string()},
                 {"absent.json': no such file"});
}

}  // namespace
}  // namespace clgauge
