#include "clgauge/results_store.hpp"

#include <sqlite3.h>

#include <array>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>
#include <system_error>

namespace clgauge {
namespace fs = std::filesystem;
using ordered_json = nlohmann::ordered_json;

namespace {

constexpr int kBusyTimeoutMs = 10000;

// The schema of docs/store.md; other parts of clgauge read it with plain SQL.
constexpr const char* kCreateSql = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS evaluations(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  config_id TEXT NOT NULL, shape TEXT NOT NULL, phase TEXT NOT NULL,
  session INTEGER NOT NULL, run INTEGER NOT NULL,
  family TEXT NOT NULL, params TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL,
  samples_ms TEXT NOT NULL, host_ms TEXT NOT NULL,
  build_ms REAL NOT NULL, first_launch_ms REAL NOT NULL, gflops_median REAL NOT NULL,
  env_fingerprint TEXT NOT NULL, ts_unix_ms INTEGER NOT NULL,
  UNIQUE(config_id, shape, phase, session, run));
)sql";

constexpr const char* kColumns =
    "seq, config_id, shape, phase, session, run, family, params, reason, detail, samples_ms, "
    "host_ms, build_ms, first_launch_ms, gflops_median, env_fingerprint, ts_unix_ms";

std::string quoted(const fs::path& p) {
  return p.string();
}

[[noreturn]] void not_ours(const fs::path& p, const std::string& why) {
  throw Error(ReasonCode::bad_input, quoted(p) + ": not a clgauge results store (" + why + ")");
}

// SQLite's answer to an operation that failed: a file that is not a database or is damaged
// is the caller's bad input; anything else is the file system's doing.
[[noreturn]] void sqlite_failed(sqlite3* db, int rc, const fs::path& p, std::string_view doing) {
  const std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const int primary = rc & 0xff;
  if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT) not_ours(p, msg);
  throw Error(ReasonCode::io_error,
              quoted(p) + ": cannot " + std::string(doing) + " (" + msg + ")");
}

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, const char* sql, const fs::path& p) {
    const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
    if (rc != SQLITE_OK) sqlite_failed(db, rc, p, "read");
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(Statement&& o) noexcept : stmt_(std::exchange(o.stmt_, nullptr)) {}
  Statement& operator=(Statement&& o) noexcept {
    std::swap(stmt_, o.stmt_);
    return *this;
  }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// Resets a statement when a use of it ends, however it ends.
struct ResetGuard {
  sqlite3_stmt* s;
  ~ResetGuard() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};

std::string column_text(sqlite3_stmt* s, int i) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return text != nullptr ? std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(s, i)))
                         : std::string();
}

void exec(sqlite3* db, const char* sql, const fs::path& p, std::string_view doing) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) sqlite_failed(db, rc, p, doing);
}

// Runs a query and returns the first column of each row as text.
std::vector<std::string> query_texts(sqlite3* db, const char* sql, const fs::path& p) {
  Statement st(db, sql, p);
  std::vector<std::string> out;
  for (;;) {
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) sqlite_failed(db, rc, p, "read");
    out.push_back(column_text(st.get(), 0));
  }
  return out;
}

void check_identity_keys(const StoreIdentity& identity) {
  std::set<std::string> seen;
  for (std::size_t i = 0; i < identity.size(); ++i) {
    const auto& key = identity[i].first;
    if (key.empty()) {
      throw Error(ReasonCode::bad_input, "store identity: key #" + std::to_string(i) + " is empty");
    }
    if (!seen.insert(key).second) {
      throw Error(ReasonCode::bad_input, "store identity: key '" + key + "' appears twice");
    }
  }
}

std::string identity_json(const StoreIdentity& identity) {
  auto j = ordered_json::array();
  for (const auto& [k, v] : identity) j.push_back(ordered_json::array({k, v}));
  return j.dump();
}

StoreIdentity parse_identity(const std::string& text, const fs::path& p) {
  const auto j = ordered_json::parse(text, nullptr, false);
  if (!j.is_array()) not_ours(p, "meta 'identity' is not a JSON array");
  StoreIdentity identity;
  for (const auto& pair : j) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) {
      not_ours(p, "meta 'identity' holds an entry that is not a [key, value] pair of strings");
    }
    identity.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
  }
  return identity;
}

const std::string* lookup(const StoreIdentity& identity, const std::string& key) {
  for (const auto& [k, v] : identity) {
    if (k == key) return &v;
  }
  return nullptr;
}

// Compared as key -> value, reporting the first difference in the wanted order (then keys
// only the store has): the order of the pairs carries no meaning of its own.
void check_identity(const fs::path& p, const StoreIdentity& stored, const StoreIdentity& wanted) {
  const auto differs = [&](const std::string& key, const std::string* s, const std::string* w) {
    const std::string absent = "(absent)";
    throw Error(ReasonCode::bad_input, quoted(p) + " was made for " + key + "=" +
                                           (s != nullptr ? *s : absent) + ", this run is for " +
                                           key + "=" + (w != nullptr ? *w : absent));
  };
  for (const auto& [key, value] : wanted) {
    const std::string* s = lookup(stored, key);
    if (s == nullptr || *s != value) differs(key, s, &value);
  }
  for (const auto& [key, value] : stored) {
    if (lookup(wanted, key) == nullptr) differs(key, &value, nullptr);
  }
}

std::uint32_t read_u32_be(const unsigned char* b) {
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
         std::uint32_t{b[3]};
}

// Looks at the bytes before SQLite does: plain text and files cut short are named as such
// (SQLite would treat a truncated file as a smaller database and find it damaged later, or
// not at all when the cut falls on a page boundary).
void sniff(const fs::path& p, std::uintmax_t size) {
  std::array<unsigned char, 100> h{};
  std::ifstream in(p, std::ios::binary);
  if (!in) throw Error(ReasonCode::io_error, quoted(p) + ": cannot read");
  in.read(reinterpret_cast<char*>(h.data()), static_cast<std::streamsize>(h.size()));
  const auto got = static_cast<std::size_t>(in.gcount());
  static constexpr std::string_view kMagic("SQLite format 3\0", 16);
  if (got < kMagic.size() ||
      std::string_view(reinterpret_cast<const char*>(h.data()), 16) != kMagic) {
    not_ours(p, "not an SQLite database");
  }
  if (got < h.size()) not_ours(p, "truncated: " + std::to_string(size) + " bytes");
  // With a non-empty write-ahead log the main file may lag behind; SQLite reconciles the two.
  std::error_code ec;
  const auto wal = fs::path(p.string() + "-wal");
  if (fs::exists(wal, ec) && fs::file_size(wal, ec) > 0 && !ec) return;
  std::uint64_t page_size = (std::uint32_t{h[16]} << 8) | h[17];
  if (page_size == 1) page_size = 65536;
  const std::uint32_t pages = read_u32_be(&h[28]);
  const bool pages_valid = pages != 0 && read_u32_be(&h[24]) == read_u32_be(&h[92]);
  if (pages_valid && size < page_size * pages) {
    not_ours(p, "truncated: " + std::to_string(size) + " bytes, its header says " +
                    std::to_string(page_size * pages));
  }
}

void check_finite(const Evaluation& e, std::string_view field, double x) {
  if (std::isfinite(x)) return;
  const auto& k = e.key;
  throw Error(ReasonCode::bad_input, "evaluation " + k.config_id + " " + k.shape + " " + k.phase +
                                         " s" + std::to_string(k.session) + " r" +
                                         std::to_string(k.run) + ": " + std::string(field) +
                                         " is not finite (" + std::to_string(x) + ")");
}

void check_evaluation(const Evaluation& e) {
  for (std::size_t i = 0; i < e.samples_ms.size(); ++i) {
    check_finite(e, "samples_ms[" + std::to_string(i) + "]", e.samples_ms[i]);
  }
  for (std::size_t i = 0; i < e.host_ms.size(); ++i) {
    check_finite(e, "host_ms[" + std::to_string(i) + "]", e.host_ms[i]);
  }
  check_finite(e, "build_ms", e.build_ms);
  check_finite(e, "first_launch_ms", e.first_launch_ms);
  check_finite(e, "gflops_median", e.gflops_median);
  std::set<std::string> names;
  for (const auto& [name, value] : e.params) {
    if (!names.insert(name).second) {
      throw Error(ReasonCode::bad_input, "evaluation " + e.key.config_id + ": parameter '" + name +
                                             "' appears twice in params");
    }
  }
}

std::string params_json(const ConfigParams& params) {
  auto j = ordered_json::object();
  for (const auto& [name, value] : params) j[name] = value;
  return j.dump();
}

// Shortest text that reads back to the same double (nlohmann's Grisu2), so samples
// survive the store bit for bit.
std::string doubles_json(const std::vector<double>& xs) {
  return ordered_json(xs).dump();
}

}  // namespace

struct ResultsStore::Impl {
  fs::path path;
  StoreIdentity identity;
  bool read_only = false;
  sqlite3* db = nullptr;
  Statement insert, find, all, count;

  ~Impl() {
    insert = Statement();
    find = Statement();
    all = Statement();
    count = Statement();
    sqlite3_close_v2(db);
  }

  [[noreturn]] void bad_row(std::int64_t seq, const std::string& what) const {
    throw Error(ReasonCode::bad_input,
                quoted(path) + ": evaluation seq " + std::to_string(seq) + ": " + what);
  }

  std::vector<double> row_doubles(sqlite3_stmt* s, int col, std::int64_t seq,
                                  const char* name) const {
    const auto j = ordered_json::parse(column_text(s, col), nullptr, false);
    if (!j.is_array()) bad_row(seq, std::string(name) + " is not a JSON array");
    std::vector<double> out;
    for (const auto& x : j) {
      if (!x.is_number()) bad_row(seq, std::string(name) + " holds a non-number");
      out.push_back(x.get<double>());
    }
    return out;
  }

  Evaluation row(sqlite3_stmt* s) const {
    const std::int64_t seq = sqlite3_column_int64(s, 0);
    Evaluation e;
    e.key.config_id = column_text(s, 1);
    e.key.shape = column_text(s, 2);
    e.key.phase = column_text(s, 3);
    e.key.session = static_cast<std::uint32_t>(sqlite3_column_int64(s, 4));
    e.key.run = static_cast<std::uint32_t>(sqlite3_column_int64(s, 5));
    e.family = column_text(s, 6);
    const auto params = ordered_json::parse(column_text(s, 7), nullptr, false);
    if (!params.is_object()) bad_row(seq, "params is not a JSON object");
    for (const auto& [name, value] : params.items()) {
      if (!value.is_number_integer()) bad_row(seq, "params." + name + " is not an integer");
      e.params.emplace_back(name, value.get<std::int64_t>());
    }
    e.reason = reason_code_from_string(column_text(s, 8));
    e.detail = column_text(s, 9);
    e.samples_ms = row_doubles(s, 10, seq, "samples_ms");
    e.host_ms = row_doubles(s, 11, seq, "host_ms");
    e.build_ms = sqlite3_column_double(s, 12);
    e.first_launch_ms = sqlite3_column_double(s, 13);
    e.gflops_median = sqlite3_column_double(s, 14);
    e.env_fingerprint = column_text(s, 15);
    e.ts_unix_ms = sqlite3_column_int64(s, 16);
    return e;
  }

  void bind_key(sqlite3_stmt* s, const EvaluationKey& k) const {
    sqlite3_bind_text(s, 1, k.config_id.data(), static_cast<int>(k.config_id.size()),
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, k.shape.data(), static_cast<int>(k.shape.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, k.phase.data(), static_cast<int>(k.phase.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 4, k.session);
    sqlite3_bind_int64(s, 5, k.run);
  }

  void prepare() {
    const std::string select = std::string("SELECT ") + kColumns + " FROM evaluations";
    find = Statement(db,
                     (select + " WHERE config_id=?1 AND shape=?2 AND phase=?3 AND session=?4 AND "
                               "run=?5")
                         .c_str(),
                     path);
    all = Statement(db, (select + " ORDER BY seq").c_str(), path);
    count = Statement(db, "SELECT count(*) FROM evaluations", path);
    if (!read_only) {
      insert = Statement(db,
                         "INSERT OR REPLACE INTO evaluations(config_id, shape, phase, session, "
                         "run, family, params, reason, detail, samples_ms, host_ms, build_ms, "
                         "first_launch_ms, gflops_median, env_fingerprint, ts_unix_ms) VALUES "
                         "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                         path);
    }
  }
};

namespace {

enum class Contents { empty, ours };

// What the open database holds: nothing at all, or a clgauge store (checked for damage);
// anything else is refused.
Contents inspect(sqlite3* db, const fs::path& p) {
  const auto tables = query_texts(db, "SELECT name FROM sqlite_schema ORDER BY name", p);
  if (tables.empty()) return Contents::empty;
  const std::set<std::string> names(tables.begin(), tables.end());
  if (names.count("meta") == 0 || names.count("evaluations") == 0) {
    not_ours(p, "an SQLite database without clgauge's meta and evaluations tables");
  }
  const auto schema = query_texts(db, "SELECT value FROM meta WHERE key='schema'", p);
  if (schema.size() != 1 || schema[0] != kResultsStoreSchemaName) {
    not_ours(p, "meta 'schema' is not '" + std::string(kResultsStoreSchemaName) + "'");
  }
  const auto check = query_texts(db, "PRAGMA quick_check", p);
  if (check.empty() || check[0] != "ok") {
    not_ours(p, "damaged: " + (check.empty() ? std::string("quick_check gave nothing") : check[0]));
  }
  return Contents::ours;
}

void create_schema(sqlite3* db, const fs::path& p, const StoreIdentity& identity) {
  exec(db, "BEGIN IMMEDIATE", p, "write");
  exec(db, kCreateSql, p, "write");
  // OR IGNORE: a second process that created the same store first keeps its identity, and
  // this one is then checked against it like any reopen.
  Statement st(db, "INSERT OR IGNORE INTO meta(key, value) VALUES (?1, ?2)", p);
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"schema", kResultsStoreSchemaName},
      {"schema_version", std::to_string(kResultsStoreSchemaVersion)},
      {"identity", identity_json(identity)},
      {"clgauge_version", CLGAUGE_VERSION},
  };
  for (const auto& [k, v] : rows) {
    ResetGuard reset{st.get()};
    sqlite3_bind_text(st.get(), 1, k.data(), static_cast<int>(k.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(st.get(), 2, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    const int rc = sqlite3_step(st.get());
    if (rc != SQLITE_DONE) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      sqlite_failed(db, rc, p, "write");
    }
  }
  exec(db, "COMMIT", p, "write");
}

StoreIdentity read_meta(sqlite3* db, const fs::path& p) {
  const auto version = query_texts(db, "SELECT value FROM meta WHERE key='schema_version'", p);
  const std::string want = std::to_string(kResultsStoreSchemaVersion);
  if (version.size() != 1 || version[0] != want) {
    throw Error(ReasonCode::bad_input,
                quoted(p) + ": results store schema version " +
                    (version.empty() ? std::string("(absent)") : version[0]) +
                    ", this clgauge reads version " + want);
  }
  const auto identity = query_texts(db, "SELECT value FROM meta WHERE key='identity'", p);
  if (identity.size() != 1) not_ours(p, "meta 'identity' is absent");
  return parse_identity(identity[0], p);
}

// Checks what can be checked before SQLite opens the file; returns whether it exists.
bool precheck(const fs::path& p) {
  std::error_code ec;
  const auto st = fs::status(p, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    throw Error(ReasonCode::io_error, quoted(p) + ": cannot read (" + ec.message() + ")");
  }
  if (!fs::exists(st)) return false;
  if (fs::is_directory(st)) not_ours(p, "a directory");
  if (!fs::is_regular_file(st)) not_ours(p, "not a regular file");
  const auto size = fs::file_size(p, ec);
  if (ec) throw Error(ReasonCode::io_error, quoted(p) + ": cannot read (" + ec.message() + ")");
  if (size > 0) sniff(p, size);
  return true;
}

sqlite3* open_connection(const fs::path& p, bool read_only) {
  sqlite3* db = nullptr;
  const int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  const int rc = sqlite3_open_v2(p.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    throw Error(ReasonCode::io_error,
                quoted(p) + ": cannot open " + (read_only ? "" : "for writing ") + "(" + msg + ")");
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  return db;
}

}  // namespace

ResultsStore::ResultsStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ResultsStore::~ResultsStore() = default;
ResultsStore::ResultsStore(ResultsStore&&) noexcept = default;
ResultsStore& ResultsStore::operator=(ResultsStore&&) noexcept = default;

ResultsStore ResultsStore::open(const fs::path& file, const StoreIdentity& identity) {
  check_identity_keys(identity);
  if (!precheck(file) && file.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    if (ec) {
      throw Error(ReasonCode::io_error,
                  quoted(file) + ": cannot create its folder (" + ec.message() + ")");
    }
  }
  auto impl = std::make_unique<Impl>();
  impl->path = file;
  impl->db = open_connection(file, false);
  // SQLite silently falls back to read-only for a write-protected file.
  if (sqlite3_db_readonly(impl->db, "main") == 1) {
    throw Error(ReasonCode::io_error, quoted(file) + ": cannot open for writing (read-only file)");
  }
  const auto contents = inspect(impl->db, file);
  // WAL: a commit is one append to the log, readers never block the writer, and a killed
  // process leaves a log that the next open replays. FULL: each commit is fsynced, so
  // a committed evaluation survives power loss too (an evaluation takes far longer).
  const auto mode = query_texts(impl->db, "PRAGMA journal_mode=WAL", file);
  if (mode.size() != 1 || mode[0] != "wal") {
    throw Error(ReasonCode::io_error, quoted(file) + ": cannot switch to WAL journal mode");
  }
  exec(impl->db, "PRAGMA synchronous=FULL", file, "configure");
  if (contents == Contents::empty) create_schema(impl->db, file, identity);
  impl->identity = read_meta(impl->db, file);
  check_identity(file, impl->identity, identity);
  impl->prepare();
  return ResultsStore(std::move(impl));
}

ResultsStore ResultsStore::open_read_only(const fs::path& file) {
  if (!precheck(file))
    throw Error(ReasonCode::io_error, quoted(file) + ": cannot read (no such file)");
  auto impl = std::make_unique<Impl>();
  impl->path = file;
  impl->read_only = true;
  impl->db = open_connection(file, true);
  if (inspect(impl->db, file) == Contents::empty) not_ours(file, "an empty database");
  impl->identity = read_meta(impl->db, file);
  impl->prepare();
  return ResultsStore(std::move(impl));
}

const StoreIdentity& ResultsStore::identity() const {
  return impl_->identity;
}
const fs::path& ResultsStore::path() const {
  return impl_->path;
}
bool ResultsStore::read_only() const {
  return impl_->read_only;
}

void ResultsStore::record(const Evaluation& e) {
  if (impl_->read_only) {
    throw Error(ReasonCode::internal, quoted(impl_->path) + ": results store opened read-only");
  }
  check_evaluation(e);
  sqlite3_stmt* s = impl_->insert.get();
  ResetGuard reset{s};
  impl_->bind_key(s, e.key);
  const std::string params = params_json(e.params);
  const std::string_view reason = to_string(e.reason);
  const std::string samples = doubles_json(e.samples_ms);
  const std::string host = doubles_json(e.host_ms);
  const auto text = [&](int i, std::string_view v) {
    sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  };
  text(6, e.family);
  text(7, params);
  text(8, reason);
  text(9, e.detail);
  text(10, samples);
  text(11, host);
  sqlite3_bind_double(s, 12, e.build_ms);
  sqlite3_bind_double(s, 13, e.first_launch_ms);
  sqlite3_bind_double(s, 14, e.gflops_median);
  text(15, e.env_fingerprint);
  sqlite3_bind_int64(s, 16, e.ts_unix_ms);
  // Autocommit: this one statement is its own transaction, durable when step returns.
  const int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE) sqlite_failed(impl_->db, rc, impl_->path, "record an evaluation");
}

std::optional<Evaluation> ResultsStore::find(const EvaluationKey& key) const {
  sqlite3_stmt* s = impl_->find.get();
  ResetGuard reset{s};
  impl_->bind_key(s, key);
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) sqlite_failed(impl_->db, rc, impl_->path, "read");
  return impl_->row(s);
}

std::vector<Evaluation> ResultsStore::all() const {
  sqlite3_stmt* s = impl_->all.get();
  ResetGuard reset{s};
  std::vector<Evaluation> out;
  for (;;) {
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) sqlite_failed(impl_->db, rc, impl_->path, "read");
    out.push_back(impl_->row(s));
  }
  return out;
}

std::size_t ResultsStore::size() const {
  sqlite3_stmt* s = impl_->count.get();
  ResetGuard reset{s};
  const int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) sqlite_failed(impl_->db, rc, impl_->path, "read");
  return static_cast<std::size_t>(sqlite3_column_int64(s, 0));
}

}  // namespace clgauge
