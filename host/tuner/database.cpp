// The tuning database: per-device JSON files, their canonical form, the merge rule, the
// search path and the runtime selection of a GEMM config (docs/database.md).

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <system_error>
#include <tuple>

#include <nlohmann/json.hpp>

#include "clgauge/error.hpp"
#include "clgauge/hash.hpp"
#include "clgauge/tuning_db.hpp"
#include "scheduler/json_input.hpp"

namespace clgauge {
namespace {

using json = nlohmann::ordered_json;
using scheduler_detail::excerpt;
using scheduler_detail::fail;

// ---------------------------------------------------------------- entry checks

bool is_hex16(std::string_view s) {
  return s.size() == 16 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string number_text(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

struct Problem {
  std::string field;  // relative to the entry, e.g. "config.params.MR"
  std::string what;
};

// What parse() and to_json() both refuse in an entry, or nullopt. One function, so that
// every entry we write reads back.
std::optional<Problem> entry_problem(const TuningEntry& e) {
  const auto& k = e.key;
  if (k.families.empty()) return Problem{"key.families", "empty"};
  if (k.precision.empty()) return Problem{"key.precision", "empty"};
  if (k.m < 1) return Problem{"key.m", std::to_string(k.m) + " is not >= 1"};
  if (k.n < 1) return Problem{"key.n", std::to_string(k.n) + " is not >= 1"};
  if (k.k < 1) return Problem{"key.k", std::to_string(k.k) + " is not >= 1"};
  if (e.config.family.empty()) return Problem{"config.family", "empty"};
  std::set<std::string> names;
  for (const auto& [name, value] : e.config.params) {
    if (name.empty()) return Problem{"config.params", "a parameter name is empty"};
    if (!names.insert(name).second) {
      return Problem{"config.params." + name, "given twice"};
    }
  }
  if (!std::isfinite(e.gflops_median) || e.gflops_median < 0) {
    return Problem{"gflops_median", number_text(e.gflops_median) + " is not a finite number >= 0"};
  }
  std::set<std::string> baselines;
  for (const auto& [name, ratio] : e.baseline_ratios) {
    if (name.empty()) return Problem{"baseline_ratios", "a baseline name is empty"};
    if (!baselines.insert(name).second) return Problem{"baseline_ratios." + name, "given twice"};
    if (!std::isfinite(ratio) || ratio < 0) {
      return Problem{
          "baseline_ratios." + name,
          number_text(ratio) + " is not a finite number >= 0 (leave out a baseline with no ratio)"};
    }
  }
  if (e.decision != "promote" && e.decision != "iterate" && e.decision != "refine") {
    return Problem{"decision", "'" + e.decision + "' is not promote, iterate or refine"};
  }
  if (!is_hex16(e.plan_hash)) {
    return Problem{"plan_hash", "'" + e.plan_hash + "' is not 16 lowercase hex digits"};
  }
  if (e.date.empty()) return Problem{"date", "empty"};
  if (e.clgauge_version.empty()) return Problem{"clgauge_version", "empty"};
  if (!is_hex16(e.env_fingerprint)) {
    return Problem{"env_fingerprint", "'" + e.env_fingerprint + "' is not 16 lowercase hex digits"};
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- JSON form

json key_json(const TuningKey& k) {
  json j;
  j["families"] = k.families;
  j["precision"] = k.precision;
  j["layout"] = to_string(k.layout);
  j["trans_a"] = to_string(k.trans_a);
  j["trans_b"] = to_string(k.trans_b);
  j["m"] = k.m;
  j["n"] = k.n;
  j["k"] = k.k;
  return j;
}

json entry_json(const TuningEntry& e) {
  json params = json::object();
  for (const auto& [name, value] : e.config.params) params[name] = value;
  json ratios = json::object();
  for (const auto& [name, ratio] : e.baseline_ratios) ratios[name] = ratio;
  json j;
  j["key"] = key_json(e.key);
  j["config"] = {{"family", e.config.family}, {"id", e.config.id()}, {"params", params}};
  j["gflops_median"] = e.gflops_median;
  j["baseline_ratios"] = std::move(ratios);
  j["decision"] = e.decision;
  j["plan_hash"] = e.plan_hash;
  j["date"] = e.date;
  j["clgauge_version"] = e.clgauge_version;
  j["env_fingerprint"] = e.env_fingerprint;
  return j;
}

// Reads one JSON document of the database format, naming source and field in errors.
class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  [[noreturn]] void fail_at(const std::string& field, const std::string& what) const {
    fail(source_, field, what);
  }

  void only_fields(const json& obj, const std::string& field,
                   std::initializer_list<std::string_view> allowed) const {
    for (const auto& [name, value] : obj.items()) {
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        std::string list;
        for (const auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        fail_at(join(field, name), "unknown field (expected " + list + ")");
      }
    }
  }

  const json& member(const json& obj, const std::string& field, const std::string& name) const {
    const auto it = obj.find(name);
    if (it == obj.end()) fail_at(join(field, name), "missing");
    return *it;
  }

  const json& object(const json& obj, const std::string& field, const std::string& name) const {
    const auto& v = member(obj, field, name);
    if (!v.is_object()) fail_at(join(field, name), excerpt(v) + " is not an object");
    return v;
  }

  std::string string(const json& obj, const std::string& field, const std::string& name) const {
    const auto& v = member(obj, field, name);
    if (!v.is_string()) fail_at(join(field, name), excerpt(v) + " is not a string");
    return v.get<std::string>();
  }

  std::int64_t integer(const json& v, const std::string& field) const {
    if (!v.is_number_integer() ||
        (v.is_number_unsigned() &&
         v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))) {
      fail_at(field, excerpt(v) + " is not a 64-bit integer");
    }
    return v.get<std::int64_t>();
  }

  double number(const json& v, const std::string& field) const {
    if (!v.is_number()) fail_at(field, excerpt(v) + " is not a number");
    const double x = v.get<double>();
    if (!std::isfinite(x)) fail_at(field, excerpt(v) + " is not finite");
    return x;
  }

  static std::string join(const std::string& field, const std::string& name) {
    return field.empty() ? name : field + "." + name;
  }

 private:
  std::string_view source_;
};

TuningKey read_key(const Reader& r, const json& entry, const std::string& field) {
  const auto& k = r.object(entry, field, "key");
  const std::string f = field + ".key";
  r.only_fields(k, f, {"families", "precision", "layout", "trans_a", "trans_b", "m", "n", "k"});
  TuningKey key;
  key.families = r.string(k, f, "families");
  key.precision = r.string(k, f, "precision");
  const auto layout = r.string(k, f, "layout");
  if (layout != "row" && layout != "col")
    r.fail_at(f + ".layout", "'" + layout + "' is not row or col");
  key.layout = layout_from_string(layout);
  for (const auto* name : {"trans_a", "trans_b"}) {
    const auto op = r.string(k, f, name);
    if (op != "n" && op != "t") r.fail_at(f + "." + name, "'" + op + "' is not n or t");
    (std::string_view(name) == "trans_a" ? key.trans_a : key.trans_b) = op_from_string(op);
  }
  key.m = r.integer(r.member(k, f, "m"), f + ".m");
  key.n = r.integer(r.member(k, f, "n"), f + ".n");
  key.k = r.integer(r.member(k, f, "k"), f + ".k");
  return key;
}

TuningEntry read_entry(const Reader& r, const json& e, const std::string& field) {
  if (!e.is_object()) r.fail_at(field, excerpt(e) + " is not an object");
  r.only_fields(e, field,
                {"key", "config", "gflops_median", "baseline_ratios", "decision", "plan_hash",
                 "date", "clgauge_version", "env_fingerprint"});
  TuningEntry out;
  out.key = read_key(r, e, field);

  const auto& c = r.object(e, field, "config");
  const std::string cf = field + ".config";
  r.only_fields(c, cf, {"family", "id", "params"});
  out.config.family = r.string(c, cf, "family");
  const auto& params = r.object(c, cf, "params");
  for (const auto& [name, value] : params.items()) {
    out.config.params.emplace_back(name, r.integer(value, cf + ".params." + name));
  }
  const auto id = r.string(c, cf, "id");

  out.gflops_median = r.number(r.member(e, field, "gflops_median"), field + ".gflops_median");
  const auto& ratios = r.object(e, field, "baseline_ratios");
  for (const auto& [name, value] : ratios.items()) {
    out.baseline_ratios.emplace_back(name, r.number(value, field + ".baseline_ratios." + name));
  }
  out.decision = r.string(e, field, "decision");
  out.plan_hash = r.string(e, field, "plan_hash");
  out.date = r.string(e, field, "date");
  out.clgauge_version = r.string(e, field, "clgauge_version");
  out.env_fingerprint = r.string(e, field, "env_fingerprint");

  if (const auto p = entry_problem(out)) r.fail_at(field + "." + p->field, p->what);
  if (id != out.config.id()) {
    r.fail_at(cf + ".id",
              "'" + id + "' does not match the config (its id is " + out.config.id() + ")");
  }
  return out;
}

std::string entry_label(std::size_t i, const TuningEntry& e) {
  return "entries[" + std::to_string(i) + "] (" + e.key.str() + ")";
}

// True when a should replace b for the same key (see TuningDatabase::merge).
bool wins(const TuningEntry& a, const TuningEntry& b) {
  if (a.gflops_median != b.gflops_median) return a.gflops_median > b.gflops_median;
  const auto ia = a.config.id(), ib = b.config.id();
  if (ia != ib) return ia < ib;
  return entry_json(a).dump() < entry_json(b).dump();
}

std::string device_text(const TuningDeviceId& d) {
  return "'" + d.platform + " / " + d.device + " / " + d.driver + "'";
}

// ---------------------------------------------------------------- files

std::string errno_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

const char* env_value(const char* name) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : nullptr;
}

std::optional<std::filesystem::path> user_data_db_dir() {
  if (const char* xdg = env_value("XDG_DATA_HOME"); xdg != nullptr) {
    // The XDG base directory specification: a relative path is to be ignored.
    if (std::filesystem::path(xdg).is_absolute()) {
      return std::filesystem::path(xdg) / "clgauge" / "db";
    }
  }
  if (const char* home = env_value("HOME"); home != nullptr) {
    return std::filesystem::path(home) / ".local" / "share" / "clgauge" / "db";
  }
  return std::nullopt;
}

std::filesystem::path shipped_below(const std::filesystem::path& prefix) {
  return prefix / "share" / "clgauge" / "tuning" / "db";
}

// ---------------------------------------------------------------- selection

std::string fixed(double v, int digits) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(digits);
  s << v;
  return s.str();
}

std::string shape_text(std::int64_t m, std::int64_t n, std::int64_t k) {
  return std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k);
}

std::string config_text(const GemmConfig& c) {
  return c.family + " " + c.id();
}

struct Candidate {
  const TuningEntry* entry = nullptr;
  const std::filesystem::path* file = nullptr;
  std::size_t position = 0;  // index of its database in the search path
};

// Same shape: fastest, then config id, then key, then search-path order.
bool better(const Candidate& a, const Candidate& b) {
  const auto& x = *a.entry;
  const auto& y = *b.entry;
  if (x.gflops_median != y.gflops_median) return x.gflops_median > y.gflops_median;
  const auto ix = x.config.id(), iy = y.config.id();
  if (ix != iy) return ix < iy;
  if (x.key != y.key) return x.key < y.key;
  return a.position < b.position;
}

double log2_distance_squared(const TuningKey& key, const GemmProblem& p) {
  const auto d = [](std::int64_t a, std::int64_t b) {
    return std::log2(static_cast<double>(a)) - std::log2(static_cast<double>(b));
  };
  const double dm = d(key.m, p.m), dn = d(key.n, p.n), dk = d(key.k, p.k);
  return dm * dm + dn * dn + dk * dk;
}

std::string entry_sentence(const Candidate& c) {
  const auto& e = *c.entry;
  return e.key.str() + " from " + c.file->string() + ": config " + config_text(e.config) + ", " +
         fixed(e.gflops_median, 1) + " GFLOP/s when tuned (decision " + e.decision + ")";
}

std::string provenance_note(const TuningEntry& e, const DeviceInfo& device) {
  const std::string here_fp = hex16(device.fingerprint);
  const std::string here_version(version());
  std::vector<std::string> diffs;
  if (e.clgauge_version != here_version) {
    diffs.push_back("clgauge " + e.clgauge_version + " (this is " + here_version + ")");
  }
  if (e.env_fingerprint != here_fp) {
    diffs.push_back("environment fingerprint " + e.env_fingerprint + " (now " + here_fp + ")");
  }
  if (diffs.empty()) return {};
  std::string s = "note: measured under ";
  for (std::size_t i = 0; i < diffs.size(); ++i) s += (i == 0 ? "" : " and ") + diffs[i];
  return s + "; used because its config is valid on this device";
}

}  // namespace

// ---------------------------------------------------------------- public API

std::string TuningKey::str() const {
  return families + " " + precision + " " + std::string(to_string(layout)) + " " +
         std::string(to_string(trans_a)) + std::string(to_string(trans_b)) + " " +
         shape_text(m, n, k);
}

TuningDeviceId tuning_device_id(const DeviceInfo& d) {
  return {d.platform, d.name, d.driver_version};
}

TuningDatabase TuningDatabase::parse(std::string_view json_text, std::string_view source) {
  json doc;
  try {
    doc = scheduler_detail::parse_json(json_text, source);
  } catch (const json::out_of_range& e) {  // a number too large for a double, like 1e999
    std::string what = e.what();  // "[json.exception.out_of_range.406] number overflow ..."
    if (const auto end = what.find("] "); end != std::string::npos) what = what.substr(end + 2);
    fail(source, "malformed JSON", what);
  }
  const Reader r(source);
  if (!doc.is_object()) r.fail_at("top level", "expected a JSON object");
  r.only_fields(doc, "", {"schema", "schema_version", "device", "entries"});
  const auto schema = r.string(doc, "", "schema");
  if (schema != kTuningDbSchema) {
    r.fail_at("schema", "'" + schema + "' is not '" + std::string(kTuningDbSchema) +
                            "' (not a clgauge tuning database)");
  }
  const auto& version_value = r.member(doc, "", "schema_version");
  const auto schema_version = r.integer(version_value, "schema_version");
  if (schema_version != kTuningDbSchemaVersion) {
    r.fail_at("schema_version",
              std::to_string(schema_version) +
                  (schema_version > kTuningDbSchemaVersion ? " (written by a newer clgauge)" : "") +
                  "; this clgauge reads version " + std::to_string(kTuningDbSchemaVersion));
  }
  TuningDatabase db;
  const auto& dev = r.object(doc, "", "device");
  r.only_fields(dev, "device", {"platform", "device", "driver"});
  db.device.platform = r.string(dev, "device", "platform");
  db.device.device = r.string(dev, "device", "device");
  db.device.driver = r.string(dev, "device", "driver");

  const auto& entries = r.member(doc, "", "entries");
  if (!entries.is_array()) r.fail_at("entries", excerpt(entries) + " is not an array");
  std::vector<std::pair<TuningEntry, std::size_t>> read;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    read.emplace_back(read_entry(r, entries[i], "entries[" + std::to_string(i) + "]"), i);
  }
  std::stable_sort(read.begin(), read.end(),
                   [](const auto& a, const auto& b) { return a.first.key < b.first.key; });
  for (std::size_t i = 1; i < read.size(); ++i) {
    if (read[i].first.key == read[i - 1].first.key) {
      r.fail_at("entries[" + std::to_string(read[i].second) + "].key",
                "duplicate key " + read[i].first.key.str() + " (also entries[" +
                    std::to_string(read[i - 1].second) + "])");
    }
  }
  for (auto& [e, i] : read) db.entries.push_back(std::move(e));
  return db;
}

TuningDatabase TuningDatabase::load(const std::filesystem::path& file) {
  return parse(scheduler_detail::read_text_file(file), file.string());
}

std::string TuningDatabase::to_json() const {
  const std::string source = "tuning database for " + device_text(device);
  std::vector<const TuningEntry*> sorted;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (const auto p = entry_problem(entries[i])) {
      fail(source, entry_label(i, entries[i]) + "." + p->field, p->what);
    }
    sorted.push_back(&entries[i]);
  }
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto* a, const auto* b) { return a->key < b->key; });
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    if (sorted[i]->key == sorted[i - 1]->key) {
      fail(source, "entries", "duplicate key " + sorted[i]->key.str());
    }
  }
  json doc;
  doc["schema"] = kTuningDbSchema;
  doc["schema_version"] = kTuningDbSchemaVersion;
  doc["device"] = {
      {"platform", device.platform}, {"device", device.device}, {"driver", device.driver}};
  json list = json::array();
  for (const auto* e : sorted) list.push_back(entry_json(*e));
  doc["entries"] = std::move(list);
  return doc.dump(2) + "\n";
}

void TuningDatabase::save(const std::filesystem::path& file) const {
  write_file_atomically(file, to_json());
}

void TuningDatabase::merge(const TuningEntry& e) {
  if (const auto p = entry_problem(e)) {
    fail("merge", e.key.str() + ": " + p->field, p->what);
  }
  const auto it =
      std::lower_bound(entries.begin(), entries.end(), e.key,
                       [](const TuningEntry& a, const TuningKey& k) { return a.key < k; });
  if (it != entries.end() && it->key == e.key) {
    if (wins(e, *it)) *it = e;
    return;
  }
  entries.insert(it, e);
}

void TuningDatabase::merge(const TuningDatabase& other) {
  if (&other == this) return;  // every entry already wins against itself
  if (other.device != device) {
    throw Error(ReasonCode::bad_input,
                "cannot merge databases of different devices: " + device_text(device) + " and " +
                    device_text(other.device));
  }
  for (const auto& e : other.entries) merge(e);
}

const TuningEntry* TuningDatabase::find(const TuningKey& key) const {
  const auto it =
      std::lower_bound(entries.begin(), entries.end(), key,
                       [](const TuningEntry& a, const TuningKey& k) { return a.key < k; });
  return (it != entries.end() && it->key == key) ? &*it : nullptr;
}

std::string tuning_db_file_name(const TuningDeviceId& id) {
  std::string slug;
  for (const char ch : id.device) {
    char c = ch;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (keep) {
      slug += c;
    } else if (!slug.empty() && slug.back() != '-') {
      slug += '-';
    }
  }
  if (slug.size() > 48) slug.resize(48);
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  if (slug.empty()) slug = "device";
  std::string bytes = id.platform;
  bytes += '\0';
  bytes += id.device;
  bytes += '\0';
  bytes += id.driver;
  return slug + "-" + hex16(xxh3_64(bytes)) + ".json";
}

std::vector<TuningDbDir> tuning_db_search_path() {
  std::vector<TuningDbDir> out;
  const auto add = [&out](const std::filesystem::path& dir, const char* origin) {
    const auto normal = dir.lexically_normal();
    for (const auto& d : out) {
      if (d.dir == normal) return;
    }
    out.push_back({normal, origin});
  };
  if (const char* env = env_value("CLGAUGE_DB_DIR"); env != nullptr) add(env, "CLGAUGE_DB_DIR");
  if (const auto user = user_data_db_dir()) add(*user, "user");

  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) add(shipped_below(exe.parent_path() / ".."), "installed");
  // The library's own folder: a program linking an installed libclgauge finds the shipped
  // databases although it lives elsewhere. <prefix>/lib/<multiarch>/ is two levels down.
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(&tuning_db_search_path), &info) != 0 &&
      info.dli_fname != nullptr) {
    const auto lib_dir = std::filesystem::absolute(info.dli_fname, ec).parent_path();
    if (!ec) {
      add(shipped_below(lib_dir / ".."), "installed");
      if (lib_dir.parent_path().filename() == "lib") {
        add(shipped_below(lib_dir / ".." / ".."), "installed");
      }
    }
  }
  // The source tree: this file is host/tuner/database.cpp, seen by its absolute path.
  const std::filesystem::path self(__FILE__);
  if (self.is_absolute()) {
    add(self.parent_path().parent_path().parent_path() / "tuning" / "db", "source tree");
  }
  return out;
}

std::vector<std::filesystem::path> tuning_db_search_dirs() {
  std::vector<std::filesystem::path> dirs;
  for (const auto& d : tuning_db_search_path()) dirs.push_back(d.dir);
  return dirs;
}

std::filesystem::path user_tuning_db_dir() {
  if (const char* env = env_value("CLGAUGE_DB_DIR"); env != nullptr) return env;
  if (const auto user = user_data_db_dir()) return *user;
  throw Error(ReasonCode::io_error,
              "no folder for the tuning database: set CLGAUGE_DB_DIR, XDG_DATA_HOME or HOME");
}

std::vector<std::pair<std::filesystem::path, TuningDatabase>> load_tuning_databases(
    const TuningDeviceId& id) {
  std::vector<std::pair<std::filesystem::path, TuningDatabase>> out;
  const auto name = tuning_db_file_name(id);
  for (const auto& dir : tuning_db_search_dirs()) {
    const auto file = dir / name;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) continue;
    auto db = TuningDatabase::load(file);
    if (db.device != id) {
      fail(file.string(), "device",
           device_text(db.device) + " but the file name is for " + device_text(id));
    }
    out.emplace_back(file, std::move(db));
  }
  return out;
}

std::filesystem::path record_tuning_entries(const std::filesystem::path& dir,
                                            const TuningDeviceId& id,
                                            const std::vector<TuningEntry>& entries) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw Error(ReasonCode::io_error, dir.string() + ": cannot create (" + ec.message() + ")");
  const auto file = dir / tuning_db_file_name(id);
  const auto lock_path = file.string() + ".lock";
  const FileDescriptor lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (lock.get() < 0) {
    throw Error(ReasonCode::io_error, lock_path + ": cannot open (" + errno_text(errno) + ")");
  }
  while (::flock(lock.get(), LOCK_EX) != 0) {
    if (errno != EINTR) {
      throw Error(ReasonCode::io_error, lock_path + ": cannot lock (" + errno_text(errno) + ")");
    }
  }
  TuningDatabase db;
  db.device = id;
  if (std::filesystem::exists(file, ec)) {
    db = TuningDatabase::load(file);
    if (db.device != id) {
      fail(file.string(), "device",
           device_text(db.device) + " but the entries are for " + device_text(id));
    }
  }
  for (const auto& e : entries) db.merge(e);
  db.save(file);
  return file;  // the lock is released when `lock` closes
}

ConfigSelection select_gemm_config(
    const DeviceInfo& device, const GemmProblem& problem,
    const std::vector<std::pair<std::filesystem::path, TuningDatabase>>& dbs) {
  std::size_t total = 0;
  std::vector<std::string> skipped;  // invalid on this device
  // Per shape (m, n, k), the best valid entry.
  std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, Candidate> best;
  for (std::size_t d = 0; d < dbs.size(); ++d) {
    for (const auto& e : dbs[d].second.entries) {
      ++total;
      const auto& k = e.key;
      if (k.precision != "f32" || k.layout != problem.layout || k.trans_a != problem.trans_a ||
          k.trans_b != problem.trans_b) {
        continue;
      }
      std::optional<std::string> invalid;
      try {
        invalid = gemm_config_invalid_reason(e.config, device);
      } catch (const Error& err) {  // a family this clgauge does not know
        invalid = err.what();
      }
      // gemm() promises the canonical bits: a tolerance-only family's entry is kept in the
      // database (and shown by `clgauge db show`) but never selected.
      if (!invalid && !gemm_family(e.config.family).bitwise) {
        invalid = "tolerance-only family " + e.config.family + " (not the canonical bits)";
      }
      if (invalid) {
        skipped.push_back(k.str() + " in " + dbs[d].first.string() + ": " + *invalid);
        continue;
      }
      const Candidate c{&e, &dbs[d].first, d};
      const auto shape = std::make_tuple(k.m, k.n, k.k);
      const auto it = best.find(shape);
      if (it == best.end()) {
        best.emplace(shape, c);
      } else if (better(c, it->second)) {
        it->second = c;
      }
    }
  }

  ConfigSelection sel;
  const std::string wanted = shape_text(problem.m, problem.n, problem.k) + " (" +
                             std::string(to_string(problem.layout)) + ", ops " +
                             std::string(to_string(problem.trans_a)) +
                             std::string(to_string(problem.trans_b)) + ")";
  std::vector<std::string> lines;
  const Candidate* chosen = nullptr;
  if (const auto it = best.find({problem.m, problem.n, problem.k}); it != best.end()) {
    chosen = &it->second;
    sel.source = "tuned-exact";
    lines.push_back("tuned-exact: entry " + entry_sentence(*chosen));
  } else {
    // Nearest in log2 space. Squared distances are compared rounded to 1e-9 so that
    // shapes equally far in exact arithmetic tie (and go to the smaller volume) even when
    // the logarithms round differently.
    std::optional<std::tuple<long long, long double, TuningKey>> best_rank;
    for (const auto& [shape, c] : best) {
      const auto& k = c.entry->key;
      const double d2 = log2_distance_squared(k, problem);
      const auto rank =
          std::make_tuple(std::llround(d2 * 1e9), static_cast<long double>(k.m) * k.n * k.k, k);
      if (!best_rank || rank < *best_rank) {
        best_rank = rank;
        chosen = &c;
        sel.distance = std::sqrt(d2);
      }
    }
    if (chosen != nullptr) {
      sel.source = "tuned-nearest";
      lines.push_back("tuned-nearest: no entry for " + wanted + "; nearest is " +
                      entry_sentence(*chosen) + ", at distance " + fixed(sel.distance, 3) +
                      " in (log2 m, log2 n, log2 k)");
    }
  }

  if (chosen != nullptr) {
    sel.config = chosen->entry->config;
    sel.entry = *chosen->entry;
    sel.file = *chosen->file;
    if (auto note = provenance_note(*chosen->entry, device); !note.empty()) lines.push_back(note);
  } else {
    sel.config = default_gemm_config(device, problem);
    sel.source = "device-default";
    std::string why;
    if (dbs.empty()) {
      why = "no tuning database for this device (no " +
            tuning_db_file_name(tuning_device_id(device)) + " in the search folders)";
    } else if (skipped.empty()) {
      why = "no entry for layout " + std::string(to_string(problem.layout)) + ", ops " +
            std::string(to_string(problem.trans_a)) + std::string(to_string(problem.trans_b)) +
            ", f32 among " + std::to_string(total) + " entries in " + std::to_string(dbs.size()) +
            " database(s)";
    } else {
      why = "every matching entry is invalid on this device";
    }
    lines.push_back("device-default: config " + config_text(sel.config) + " for " + wanted + ": " +
                    why);
  }
  if (!skipped.empty()) {
    lines.push_back("skipped " + std::to_string(skipped.size()) + " entr" +
                    (skipped.size() == 1 ? "y" : "ies") +
                    " invalid on this device; first: " + skipped.front());
  }
  for (std::size_t i = 0; i < lines.size(); ++i) sel.explanation += (i ? "\n" : "") + lines[i];
  return sel;
}

ConfigSelection select_gemm_config(const DeviceInfo& device, const GemmProblem& problem) {
  return select_gemm_config(device, problem, load_tuning_databases(tuning_device_id(device)));
}

void write_file_atomically(const std::filesystem::path& file, std::string_view text) {
  static std::atomic<unsigned> counter{0};
  const auto fail_write = [&file](const std::string& why) {
    throw Error(ReasonCode::io_error, file.string() + ": cannot write (" + why + ")");
  };
  auto dir = file.parent_path();
  if (dir.empty()) dir = ".";
  if (file.filename().empty()) fail_write("not a file name");
  const auto tmp = dir / ("." + file.filename().string() + ".tmp-" + std::to_string(::getpid()) +
                          "-" + std::to_string(counter++));
  FileDescriptor fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) fail_write(errno_text(errno));
  const auto discard = [&tmp, &fd](const std::string& why) {
    const int err = errno;
    ::close(fd.release());
    ::unlink(tmp.c_str());
    return why + errno_text(err);
  };
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_write(discard(""));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) fail_write(discard(""));
  if (::close(fd.release()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail_write(errno_text(err));
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail_write(errno_text(err));
  }
  // The rename itself survives a crash once the folder is synced; failing that is harmless.
  const FileDescriptor d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.get() >= 0) ::fsync(d.get());
}

}  // namespace clgauge
