// The results store: every field survives a round trip bit for bit, identities are
// checked on reopen, files that are not ours are refused, and a process killed with
// SIGKILL while recording loses no evaluation it had seen committed.

#include "clgauge/results_store.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "clgauge/hash.hpp"
#include "clgauge/random.hpp"

namespace clgauge {
namespace {

namespace fs = std::filesystem;

const StoreIdentity kIdentity = {{"env_fingerprint", "0123456789abcdef"},
                                 {"device", "pthread-cpu"},
                                 {"spaces", "regtile_basic"},
                                 {"shapes", "512x512x512,1024x1024x1024"},
                                 {"seed", "42"}};

// The i-th evaluation of a deterministic stream: every field depends on i.
Evaluation sample_evaluation(std::uint32_t i) {
  Evaluation e;
  e.key = {hex16(xxh3_64("cfg" + std::to_string(i))), "512x512x512",
           i % 3 == 0 ? "replay" : "search", i % 3, i % 5};
  e.family = "gemm.regtile";
  e.params = {{"MR", 8}, {"NR", 32}, {"VW", 16}, {"WGM", 1}, {"WGN", std::int64_t{i}}};
  e.reason = i % 4 == 0 ? ReasonCode::build_failed : ReasonCode::ok;
  e.detail = e.reason == ReasonCode::ok ? "" : "error: line " + std::to_string(i);
  for (std::uint32_t r = 0; r < 7; ++r) {
    e.samples_ms.push_back(1.0 + 0.001 * i + 0.1 / (r + 1));
    e.host_ms.push_back(1.2 + 0.001 * i + 0.3 / (r + 3));
  }
  e.build_ms = 100.0 / (i + 3);
  e.first_launch_ms = 3.0 / (i + 7);
  e.gflops_median = 268.4 / (1.0 + 0.001 * i);
  e.env_fingerprint = "0123456789abcdef";
  e.ts_unix_ms = 1'790'000'000'000 + i;
  return e;
}

// == on doubles treats -0.0 and 0.0 alike; the store promises the bits.
void expect_bitwise(const std::vector<double>& a, const std::vector<double>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(std::bit_cast<std::uint64_t>(a[i]), std::bit_cast<std::uint64_t>(b[i]))
        << "element " << i << ": " << a[i] << " vs " << b[i];
  }
}

void expect_same(const Evaluation& a, const Evaluation& b) {
  EXPECT_EQ(a, b);
  expect_bitwise(a.samples_ms, b.samples_ms);
  expect_bitwise(a.host_ms, b.host_ms);
  expect_bitwise({a.build_ms, a.first_launch_ms, a.gflops_median},
                 {b.build_ms, b.first_launch_ms, b.gflops_median});
}

class ResultsStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("clgauge_store_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path file(const std::string& name = "store.db") const { return dir_ / name; }
  void write(const fs::path& p, const std::string& bytes) const {
    std::ofstream(p, std::ios::binary) << bytes;
  }
  // The message of the Error that `f` throws, after checking its reason code.
  template <typename F>
  std::string error_of(F&& f, ReasonCode code) {
    try {
      f();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      return e.what();
    }
    ADD_FAILURE() << "no Error thrown";
    return "";
  }
  fs::path dir_;
};

TEST_F(ResultsStoreTest, RoundTripsEveryFieldBitForBit) {
  Evaluation e;
  e.key = {"0123456789abcdef", "4096x256x64", "replay", 4'294'967'295u, 7};
  e.family = "gemm.regtile";
  // Declared order, not alphabetical: the store must keep it.
  e.params = {{"WGN", 8},
              {"MR", -3},
              {"A_big", std::numeric_limits<std::int64_t>::max()},
              {"A_small", std::numeric_limits<std::int64_t>::min()},
              {"zero", 0}};
  e.reason = ReasonCode::parity_mismatch;
  e.detail =
      "C[3,17]: 0x3f800000 vs 0x3f800001\nsecond line, \"quotes\", 'ticks', | pipes, \xc3\xa9";
  e.samples_ms = {0.1 + 0.2,
                  -0.0,
                  0.0,
                  std::numeric_limits<double>::denorm_min(),
                  std::numeric_limits<double>::min(),
                  std::numeric_limits<double>::max(),
                  std::numeric_limits<double>::lowest(),
                  1e16,
                  2.0,
                  1.0 / 3.0};
  e.host_ms = {std::nextafter(1.0, 2.0), 123456789.123456789};
  e.build_ms = 1e-300;
  e.first_launch_ms = std::numeric_limits<double>::denorm_min();
  e.gflops_median = 190.123456789012345;
  e.env_fingerprint = "fedcba9876543210";
  e.ts_unix_ms = -1;
  {
    auto store = ResultsStore::open(file(), kIdentity);
    store.record(e);
    expect_same(*store.find(e.key), e);
  }
  auto store = ResultsStore::open(file(), kIdentity);
  ASSERT_EQ(store.size(), 1u);
  expect_same(store.all().at(0), e);
  // The one exception, documented: SQLite keeps an integral REAL as an integer on disk, so
  // -0.0 in a REAL column reads back as +0.0 (equal, not the same bits). Arrays keep it.
  auto negative_zero = e;
  negative_zero.key.run = 8;
  negative_zero.build_ms = -0.0;
  store.record(negative_zero);
  const auto back = *store.find(negative_zero.key);
  EXPECT_EQ(back, negative_zero);
  EXPECT_FALSE(std::signbit(back.build_ms));
  expect_same(*store.find(e.key), e);
  EXPECT_EQ(store.identity(), kIdentity);
}

TEST_F(ResultsStoreTest, EmptySamplesAndParamsRoundTrip) {
  Evaluation e;
  e.key = {"clblast", "512x512x512", "baseline", 0, 0};
  e.family = "clblast";
  e.reason = ReasonCode::launch_failed;
  e.detail = "CLBlast status -5";
  auto store = ResultsStore::open(file(), kIdentity);
  store.record(e);
  expect_same(*store.find(e.key), e);
}

TEST_F(ResultsStoreTest, EveryReasonCodeRoundTrips) {
  const ReasonCode codes[] = {ReasonCode::ok,
                              ReasonCode::build_failed,
                              ReasonCode::launch_failed,
                              ReasonCode::timeout,
                              ReasonCode::crashed,
                              ReasonCode::parity_mismatch,
                              ReasonCode::tolerance_exceeded,
                              ReasonCode::abandoned_slow,
                              ReasonCode::invalid_config,
                              ReasonCode::device_unavailable,
                              ReasonCode::bad_input,
                              ReasonCode::io_error,
                              ReasonCode::internal,
                              ReasonCode::out_of_budget};
  {
    auto store = ResultsStore::open(file(), kIdentity);
    std::uint32_t i = 0;
    for (const auto code : codes) {
      auto e = sample_evaluation(i++);
      e.reason = code;
      store.record(e);
    }
  }
  const auto all = ResultsStore::open_read_only(file()).all();
  ASSERT_EQ(all.size(), std::size(codes));
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].reason, codes[i]) << i;
}

// Doubles from random bit patterns (every finite one, subnormals included) read back with
// the same bits, for many seeds.
TEST_F(ResultsStoreTest, RandomDoublesSurviveBitForBitOverManySeeds) {
  auto store = ResultsStore::open(file(), kIdentity);
  std::vector<Evaluation> written;
  for (std::uint32_t seed = 0; seed < 40; ++seed) {
    auto e = sample_evaluation(seed);
    e.samples_ms.clear();
    e.host_ms.clear();
    for (std::uint64_t j = 0; j < 64; ++j) {
      auto bits = derive_seed(seed, "store", "samples", "bits", j, 0);
      // Every exponent range gets its share: shift the exponent field on some draws.
      if (j % 4 == 1) bits &= 0x800FFFFFFFFFFFFFull;  // subnormal or zero
      const double x = std::bit_cast<double>(bits);
      if (!std::isfinite(x)) continue;
      (j % 2 == 0 ? e.samples_ms : e.host_ms).push_back(x);
    }
    e.build_ms = std::bit_cast<double>(derive_seed(seed, "store", "build", "", 0, 0) &
                                       0xBFFFFFFFFFFFFFFFull);  // exponent < max: finite
    store.record(e);
    written.push_back(e);
  }
  const auto back = ResultsStore::open_read_only(file()).all();
  ASSERT_EQ(back.size(), written.size());
  for (std::size_t i = 0; i < back.size(); ++i) expect_same(back[i], written[i]);
}

TEST_F(ResultsStoreTest, InsertionOrderAndExplicitReplace) {
  auto store = ResultsStore::open(file(), kIdentity);
  for (std::uint32_t i = 0; i < 5; ++i) store.record(sample_evaluation(i));
  auto again = sample_evaluation(1);
  again.samples_ms = {9.0};
  again.gflops_median = 1.5;
  store.record(again);
  const auto all = store.all();
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(store.size(), 5u);
  // The re-measured key moves to the end; the others keep their order.
  const std::vector<EvaluationKey> keys = {sample_evaluation(0).key, sample_evaluation(2).key,
                                           sample_evaluation(3).key, sample_evaluation(4).key,
                                           again.key};
  for (std::size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(all[i].key, keys[i]) << i;
  expect_same(*store.find(again.key), again);
  auto missing = again.key;
  missing.run += 100;
  EXPECT_FALSE(store.find(missing).has_value());
}

TEST_F(ResultsStoreTest, SqlSchemaIsWhatOtherReadersRelyOn) {
  {
    auto store = ResultsStore::open(file(), kIdentity);
    auto e = sample_evaluation(4);
    e.params = {{"WGN", 8}, {"MR", 4}};
    e.samples_ms = {1.5, 2.25};
    store.record(e);
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(file().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  const auto text = [&](const char* sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    std::string out;
    if (sqlite3_step(s) == SQLITE_ROW)
      out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return out;
  };
  EXPECT_EQ(text("SELECT value FROM meta WHERE key='schema'"), "clgauge-results-store");
  EXPECT_EQ(text("SELECT value FROM meta WHERE key='schema_version'"), "1");
  EXPECT_EQ(text("SELECT value FROM meta WHERE key='identity'"),
            R"([["env_fingerprint","0123456789abcdef"],["device","pthread-cpu"],)"
            R"(["spaces","regtile_basic"],["shapes","512x512x512,1024x1024x1024"],["seed","42"]])");
  EXPECT_EQ(text("SELECT params FROM evaluations"), R"({"WGN":8,"MR":4})");
  EXPECT_EQ(text("SELECT reason FROM evaluations"), "build_failed");
  EXPECT_EQ(text("SELECT samples_ms FROM evaluations"), "[1.5,2.25]");
  EXPECT_EQ(text("SELECT phase || '/' || session || '/' || run FROM evaluations"), "search/1/4");
  EXPECT_EQ(text("PRAGMA journal_mode"), "wal");
  sqlite3_close_v2(db);
}

TEST_F(ResultsStoreTest, IdentityMismatchNamesTheFirstDifferingKey) {
  { ResultsStore::open(file(), kIdentity); }
  const std::string p = file().string();
  auto other_seed = kIdentity;
  other_seed[4].second = "43";
  other_seed[1].second = "gpu";  // earlier in order: this one is named
  EXPECT_EQ(error_of([&] { ResultsStore::open(file(), other_seed); }, ReasonCode::bad_input),
            p + " was made for device=pthread-cpu, this run is for device=gpu");
  auto shapes = kIdentity;
  shapes[3].second = "1024x1024x1024";
  EXPECT_EQ(error_of([&] { ResultsStore::open(file(), shapes); }, ReasonCode::bad_input),
            p + " was made for shapes=512x512x512,1024x1024x1024, this run is for "
                "shapes=1024x1024x1024");
  auto extra = kIdentity;
  extra.emplace_back("shard", "1/4");
  EXPECT_EQ(error_of([&] { ResultsStore::open(file(), extra); }, ReasonCode::bad_input),
            p + " was made for shard=(absent), this run is for shard=1/4");
  auto fewer = kIdentity;
  fewer.erase(fewer.begin() + 2);
  EXPECT_EQ(error_of([&] { ResultsStore::open(file(), fewer); }, ReasonCode::bad_input),
            p + " was made for spaces=regtile_basic, this run is for spaces=(absent)");
  // The same pairs in another order are the same identity.
  auto reordered = kIdentity;
  std::swap(reordered[0], reordered[4]);
  EXPECT_NO_THROW(ResultsStore::open(file(), reordered));
  EXPECT_EQ(ResultsStore::open(file(), kIdentity).identity(), kIdentity);
}

TEST_F(ResultsStoreTest, MalformedIdentityIsRefusedBeforeAnythingIsWritten) {
  EXPECT_NE(error_of(
                [&] {
                  ResultsStore::open(file(), {{"a", "1"}, {"a", "2"}});
                },
                ReasonCode::bad_input)
                .find("'a' appears twice"),
            std::string::npos);
  EXPECT_NE(error_of(
                [&] {
                  ResultsStore::open(file(), {{"", "1"}});
                },
                ReasonCode::bad_input)
                .find("key #0 is empty"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(file()));
}

TEST_F(ResultsStoreTest, ReadOnlyOpenReadsAndRefusesToRecord) {
  {
    auto store = ResultsStore::open(file(), kIdentity);
    for (std::uint32_t i = 0; i < 3; ++i) store.record(sample_evaluation(i));
  }
  auto ro = ResultsStore::open_read_only(file());
  EXPECT_TRUE(ro.read_only());
  EXPECT_EQ(ro.identity(), kIdentity);
  ASSERT_EQ(ro.size(), 3u);
  expect_same(ro.all()[2], sample_evaluation(2));
  error_of([&] { ro.record(sample_evaluation(9)); }, ReasonCode::internal);
  EXPECT_EQ(ro.size(), 3u);
  EXPECT_EQ(
      error_of([&] { ResultsStore::open_read_only(file("absent.db")); }, ReasonCode::io_error),
      file("absent.db").string() + ": cannot read (no such file)");
}

// A reader sees each evaluation as soon as record() returns, while the writer stays open.
TEST_F(ResultsStoreTest, ReaderSeesCommittedEvaluationsWhileWriterIsOpen) {
  auto writer = ResultsStore::open(file(), kIdentity);
  writer.record(sample_evaluation(0));
  auto reader = ResultsStore::open_read_only(file());
  EXPECT_EQ(reader.size(), 1u);
  writer.record(sample_evaluation(1));
  EXPECT_EQ(reader.size(), 2u);
  expect_same(*reader.find(sample_evaluation(1).key), sample_evaluation(1));
}

TEST_F(ResultsStoreTest, RefusesFilesThatAreNotOurs) {
  const auto refused = [&](const fs::path& p) {
    const std::string open_msg =
        error_of([&] { ResultsStore::open(p, kIdentity); }, ReasonCode::bad_input);
    const std::string ro_msg =
        error_of([&] { ResultsStore::open_read_only(p); }, ReasonCode::bad_input);
    EXPECT_EQ(open_msg.rfind(p.string() + ": not a clgauge results store (", 0), 0u) << open_msg;
    EXPECT_EQ(ro_msg.rfind(p.string() + ": not a clgauge results store (", 0), 0u) << ro_msg;
    return open_msg;
  };
  write(file("text.db"), "config_id,shape\n0123,512x512x512\n");
  EXPECT_NE(refused(file("text.db")).find("not an SQLite database"), std::string::npos);
  write(file("tiny.db"), "SQL");
  refused(file("tiny.db"));
  fs::create_directories(file("dir.db"));
  EXPECT_NE(refused(file("dir.db")).find("a directory"), std::string::npos);

  // Another program's SQLite database, left exactly as it was.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file("other.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE songs(title TEXT); INSERT INTO songs VALUES ('x');",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const auto before = fs::file_size(file("other.db"));
  EXPECT_NE(refused(file("other.db")).find("without clgauge's meta"), std::string::npos);
  EXPECT_EQ(fs::file_size(file("other.db")), before);
  EXPECT_FALSE(fs::exists(file("other.db-wal")));

  // Stores cut short at several points, page boundaries included.
  {
    auto store = ResultsStore::open(file(), kIdentity);
    for (std::uint32_t i = 0; i < 40; ++i) store.record(sample_evaluation(i));
  }
  std::ifstream in(file(), std::ios::binary);
  const std::string whole((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(whole.size(), 3 * 4096u);
  for (const std::size_t cut : {std::size_t{50}, std::size_t{100}, std::size_t{4096},
                                std::size_t{4096 + 1000}, whole.size() - 4096, whole.size() - 1}) {
    write(file("cut.db"), whole.substr(0, cut));
    EXPECT_NE(refused(file("cut.db")).find("truncated"), std::string::npos) << cut;
  }
}

TEST_F(ResultsStoreTest, DamagedPageIsRefused) {
  {
    auto store = ResultsStore::open(file(), kIdentity);
    for (std::uint32_t i = 0; i < 40; ++i) store.record(sample_evaluation(i));
  }
  std::fstream f(file(), std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(2 * 4096);
  const std::string garbage(4096, '\x5a');
  f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  f.close();
  const auto msg = error_of([&] { ResultsStore::open(file(), kIdentity); }, ReasonCode::bad_input);
  EXPECT_EQ(msg.rfind(file().string() + ": not a clgauge results store (", 0), 0u) << msg;
}

TEST_F(ResultsStoreTest, EmptyFileOrTablelessDatabaseBecomesAStore) {
  write(file(), "");
  auto store = ResultsStore::open(file(), kIdentity);
  store.record(sample_evaluation(0));
  EXPECT_EQ(store.size(), 1u);
  // A creation cut short after SQLite wrote its header but before the tables: no tables.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file("half.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  ASSERT_GT(fs::file_size(file("half.db")), 0u);
  ResultsStore::open(file("half.db"), kIdentity).record(sample_evaluation(1));
  EXPECT_EQ(ResultsStore::open(file("half.db"), kIdentity).size(), 1u);
  // A read-only open has nothing to make of an empty file.
  write(file("empty.db"), "");
  error_of([&] { ResultsStore::open_read_only(file("empty.db")); }, ReasonCode::bad_input);
}

TEST_F(ResultsStoreTest, OtherSchemaVersionIsRefused) {
  { ResultsStore::open(file(), kIdentity); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE meta SET value='2' WHERE key='schema_version'", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(error_of([&] { ResultsStore::open(file(), kIdentity); }, ReasonCode::bad_input),
            file().string() + ": results store schema version 2, this clgauge reads version 1");
}

TEST_F(ResultsStoreTest, UnwritableLocationIsIoError) {
  // A folder that cannot exist (its parent is a file): refused even for root.
  write(file("plain"), "x");
  const auto p = file("plain") / "sub" / "store.db";
  const auto msg = error_of([&] { ResultsStore::open(p, kIdentity); }, ReasonCode::io_error);
  EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
}

TEST_F(ResultsStoreTest, CreatesMissingParentFolders) {
  const auto p = file("a") / "b" / "store.db";
  ResultsStore::open(p, kIdentity).record(sample_evaluation(0));
  EXPECT_EQ(ResultsStore::open_read_only(p).size(), 1u);
}

TEST_F(ResultsStoreTest, NonFiniteNumbersAndRepeatedParamsAreRefused) {
  auto store = ResultsStore::open(file(), kIdentity);
  auto e = sample_evaluation(0);
  e.samples_ms[3] = std::nan("");
  EXPECT_NE(
      error_of([&] { store.record(e); }, ReasonCode::bad_input).find("samples_ms[3] is not finite"),
      std::string::npos);
  e = sample_evaluation(0);
  e.gflops_median = std::numeric_limits<double>::infinity();
  EXPECT_NE(error_of([&] { store.record(e); }, ReasonCode::bad_input).find("gflops_median"),
            std::string::npos);
  e = sample_evaluation(0);
  e.params.emplace_back("MR", 4);
  EXPECT_NE(error_of([&] { store.record(e); }, ReasonCode::bad_input).find("'MR' appears twice"),
            std::string::npos);
  EXPECT_EQ(store.size(), 0u);
}

// A child records evaluations in a loop and reports each one through a pipe once record()
// has returned; it is killed with SIGKILL mid-loop. Every reported evaluation must be in
// the reopened store, intact, and at most the one in flight may be there unreported.
TEST_F(ResultsStoreTest, SigkillLosesNoCommittedEvaluation) {
  for (int round = 0; round < 3; ++round) {
    const auto path = file("crash" + std::to_string(round) + ".db");
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      try {
        auto store = ResultsStore::open(path, kIdentity);
        for (std::uint32_t i = 0;; ++i) {
          store.record(sample_evaluation(i));
          if (::write(fds[1], &i, sizeof i) != sizeof i) ::_exit(3);
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "child: %s\n", e.what());
        ::_exit(2);
      }
    }
    ::close(fds[1]);
    // Kill at a different point each round, without waiting for the child to pause.
    const std::uint32_t kill_after = 20 + 17 * static_cast<std::uint32_t>(round);
    std::vector<std::uint32_t> reported;
    std::uint32_t i = 0;
    while (::read(fds[0], &i, sizeof i) == sizeof i) {
      reported.push_back(i);
      if (reported.size() == kill_after) ::kill(pid, SIGKILL);
    }
    ::close(fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
    ASSERT_GE(reported.size(), kill_after);
    for (std::uint32_t j = 0; j < reported.size(); ++j) ASSERT_EQ(reported[j], j);

    auto store = ResultsStore::open(path, kIdentity);
    const auto all = store.all();
    ASSERT_GE(all.size(), reported.size());
    EXPECT_LE(all.size(), reported.size() + 1) << "only the evaluation in flight may be unreported";
    for (std::uint32_t j = 0; j < all.size(); ++j) expect_same(all[j], sample_evaluation(j));
    // The reopened store takes new evaluations after recovery.
    store.record(sample_evaluation(1000));
    EXPECT_EQ(store.size(), all.size() + 1);
  }
}

}  // namespace
}  // namespace clgauge
