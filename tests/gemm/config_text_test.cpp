// Config strings, ids and shape lists as users type them: one parser and one lookup
// serve `clgauge gemm --config`, `clgauge bench --configs`, `clgauge parity --configs`,
// and the --shapes of tune and bench.

#include <gtest/gtest.h>

#include <set>

#include "bad_input.hpp"
#include "clgauge/error.hpp"
#include "clgauge/gemm.hpp"
#include "clgauge/space.hpp"
#include "clgauge/tuner.hpp"

namespace clgauge {
namespace {

using test::bad_input_of;

TEST(GemmConfigText, CanonicalFormRoundTripsForEveryFamily) {
  for (const auto& f : gemm_families()) {
    const GemmConfig c = GemmConfig::defaults_for(f.name);
    EXPECT_EQ(GemmConfig::parse_canonical(c.canonical(), "--config"), c) << f.name;
  }
}

TEST(GemmConfigText, BadTextNamesTheLabelAndThePart) {
  const std::string good = GemmConfig::defaults_for("gemm.direct").canonical();
  auto err = [](const std::string& text) {
    return bad_input_of([&] { (void)GemmConfig::parse_canonical(text, "--config 'X'"); });
  };
  EXPECT_EQ(err("family=gemm.direct;WGM"), "--config 'X': 'WGM' lacks '='");
  EXPECT_EQ(err("family=gemm.direct;WGM=abc"), "--config 'X': WGM = 'abc' is not an integer");
  EXPECT_EQ(err("family=gemm.direct;WGM=4x"), "--config 'X': WGM = '4x' is not an integer");
  EXPECT_NE(err("family=gemm.nope").find("--config 'X': "), std::string::npos);
  // Missing parameters, another order or another spelling of a value: not canonical.
  const std::string partial = good.substr(0, good.rfind(';'));
  EXPECT_NE(err(partial).find("is not canonical: want '" + good + "'"), std::string::npos);
  EXPECT_NE(err(good + ";").find("lacks '='"), std::string::npos);
}

TEST(GemmConfigText, ShippedLookupFindsEverySpacesCandidatesInEitherCase) {
  DeviceLimits unbounded;
  unbounded.local_mem_bytes = unbounded.max_wg_size = unbounded.compute_units =
      unbounded.global_mem_bytes = std::uint64_t{1} << 52;
  unbounded.max_wi_sizes = {unbounded.max_wg_size, unbounded.max_wg_size, unbounded.max_wg_size};
  unbounded.is_gpu = unbounded.is_cpu = true;
  std::set<std::string> families;
  for (const char* name :
       {"direct_basic", "direct_extended", "localtile_basic", "localtile_extended", "regtile_basic",
        "regtile_extended", "splitk_basic"}) {
    auto space = compile_space(find_space_file(name), unbounded);
    const auto candidates = space.candidates();
    ASSERT_FALSE(candidates.empty()) << name;
    const auto names = space.space().parameter_names();
    // The first and the last candidate of every space, the last one in upper case.
    for (const auto* cand : {&candidates.front(), &candidates.back()}) {
      GemmConfig want{space.space().family, {}};
      for (std::size_t i = 0; i < names.size(); ++i)
        want.params.emplace_back(names[i], cand->values[i]);
      std::string id = cand->id;
      if (cand == &candidates.back()) {
        for (char& c : id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      const auto got = find_shipped_config(id);
      ASSERT_TRUE(got.has_value()) << name << " " << id;
      EXPECT_EQ(*got, want) << name;
      EXPECT_EQ(got->id(), cand->id) << name;
    }
    families.insert(space.space().family);
  }
  EXPECT_EQ(families.size(), gemm_families().size());  // split-K's space included
  EXPECT_FALSE(find_shipped_config("0123456789abcdef").has_value());
}

TEST(GemmShapes, ListsExpandSquaresAndKeepParseShapeListErrors) {
  const auto shapes = parse_gemm_shapes("512,4x5x6,1");
  ASSERT_EQ(shapes.size(), 3u);
  EXPECT_EQ((std::array{shapes[0].m, shapes[0].n, shapes[0].k}),
            (std::array<std::int64_t, 3>{512, 512, 512}));
  EXPECT_EQ((std::array{shapes[1].m, shapes[1].n, shapes[1].k}),
            (std::array<std::int64_t, 3>{4, 5, 6}));
  EXPECT_EQ((std::array{shapes[2].m, shapes[2].n, shapes[2].k}),
            (std::array<std::int64_t, 3>{1, 1, 1}));
  EXPECT_EQ(shapes[1].layout, GemmProblem{}.layout);
  EXPECT_EQ(bad_input_of([] { (void)parse_gemm_shapes("8,8x8x8"); }),
            "--shapes[1]: '8x8x8': shape listed twice");
  EXPECT_EQ(bad_input_of([] { (void)parse_gemm_shapes("8,,9", "--x"); }),
            "--x[1]: '': empty shape");
  EXPECT_NE(bad_input_of([] { (void)parse_gemm_shapes("0"); }).find("without leading zeros"),
            std::string::npos);
  EXPECT_NE(bad_input_of([] { (void)parse_gemm_shapes("4x-5x6"); }).find("not a positive integer"),
            std::string::npos);
}

}  // namespace
}  // namespace clgauge
