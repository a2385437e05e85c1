// --clblast-params: the files CLBlast's own tuners write (real outputs of
// clblast_tuner_xgemm and clblast_tuner_xgemm_direct on PoCL, kept in
// tests/data/benchmark/), and the one-line errors for anything else.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "clgauge/baselines.hpp"
#include "clgauge/error.hpp"

namespace clgauge {
namespace {

namespace fs = std::filesystem;

fs::path data(const std::string& name) {
  return fs::path(CLGAUGE_TEST_DATA_DIR) / "benchmark" / name;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The message of the Error(bad_input) that parsing `text` throws ("" when it parses).
std::string parse_error(const std::string& text) {
  try {
    parse_clblast_params(text, "p.json");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ReasonCode::bad_input) << e.what();
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    return what;
  }
  return "";
}

std::string with(const std::string& field, const nlohmann::json& value) {
  auto j = nlohmann::json::parse(read(data("clblast_xgemm_1_32.json")));
  if (value.is_null()) {
    j.erase(field);
  } else {
    j[field] = value;
  }
  return j.dump();
}

TEST(BenchClblastParams, ReadsTheXgemmTunerOutput) {
  const ClblastParams p = load_clblast_params(data("clblast_xgemm_1_32.json").string());
  EXPECT_EQ(p.kernel, "Xgemm");
  EXPECT_EQ(p.kernel_family, "xgemm_1");
  EXPECT_DOUBLE_EQ(p.best_time_ms, 11.97);
  EXPECT_EQ(p.m, 512);
  EXPECT_EQ(p.n, 512);
  EXPECT_EQ(p.k, 512);
  EXPECT_EQ(p.device, "pthread-skylake-avx512-AMD EPYC");
  // The file's order, PRECISION left out (it names the precision, not a kernel parameter).
  EXPECT_EQ(p.params_text(),
            "GEMMK=0 KREG=1 KWG=32 KWI=2 MDIMA=8 MDIMC=8 MWG=32 NDIMB=8 NDIMC=8 NWG=64 SA=0 SB=0 "
            "STRM=0 STRN=0 VWM=1 VWN=4");
  EXPECT_EQ(p.params.size(), 16u);
}

TEST(BenchClblastParams, ReadsTheDirectTunerOutput) {
  // The direct tuner names the entry point that ran (XgemmDirectTN); the parameters belong to
  // CLBlast's "XgemmDirect" database entry.
  const ClblastParams p = load_clblast_params(data("clblast_xgemm_direct_1_32.json").string());
  EXPECT_EQ(p.kernel, "XgemmDirect");
  EXPECT_EQ(p.kernel_family, "xgemm_direct_1");
  EXPECT_EQ(p.params_text(),
            "KWID=2 MDIMAD=8 MDIMCD=8 NDIMBD=8 NDIMCD=8 PADA=1 PADB=1 VWMD=2 VWND=2 WGD=32");
}

TEST(BenchClblastParams, BadInputNamesTheFileAndField) {
  EXPECT_NE(parse_error("{").find("p.json: malformed JSON"), std::string::npos);
  EXPECT_NE(parse_error("[]").find("want a JSON object"), std::string::npos);
  EXPECT_NE(parse_error(with("best_parameters", nullptr)).find("best_parameters: missing"),
            std::string::npos);
  EXPECT_NE(parse_error(with("best_parameters", 5)).find("best_parameters: want a string"),
            std::string::npos);
  EXPECT_NE(parse_error(with("precision", "64")).find("precision: '64'"), std::string::npos);
  EXPECT_NE(parse_error(with("kernel_family", "xaxpy_1")).find("kernel_family: 'xaxpy_1'"),
            std::string::npos);
  EXPECT_NE(parse_error(with("kernel_family", "xgemm_")).find("kernel_family"), std::string::npos);
  EXPECT_NE(parse_error(with("best_kernel", "XgemmDirectNN")).find("best_kernel"),
            std::string::npos);
  EXPECT_NE(parse_error(with("best_parameters", "MWG=64 MWG=32")).find("given twice"),
            std::string::npos);
  EXPECT_NE(parse_error(with("best_parameters", "MWG=-1")).find("not a non-negative integer"),
            std::string::npos);
  EXPECT_NE(parse_error(with("best_parameters", "MWG=6x")).find("MWG=6x"), std::string::npos);
  EXPECT_NE(parse_error(with("best_parameters", "MWG")).find("want NAME=VALUE"), std::string::npos);
  EXPECT_NE(parse_error(with("best_parameters", "mwg=1")).find("want NAME=VALUE"),
            std::string::npos);
  EXPECT_NE(parse_error(with("best_parameters", "  ")).find("no parameters"), std::string::npos);
  EXPECT_NE(parse_error(with("best_parameters", "PRECISION=64 MWG=1")).find("precision"),
            std::string::npos);
  EXPECT_NE(parse_error(with("best_parameters", "MWG=99999999999999999999999")).find("MWG="),
            std::string::npos);
  EXPECT_NE(parse_error(with("best_time", "fast")).find("best_time"), std::string::npos);
  EXPECT_NE(parse_error(with("arg_m", "0")).find("arg_m"), std::string::npos);
  // Extra spaces between parameters are fine; so is a file without the optional fields.
  EXPECT_EQ(parse_error(with("best_parameters", " MWG=64  NWG=32 ")), "");
  EXPECT_EQ(parse_error(with("device", nullptr)), "");
  // A file that is not there is a user mistake too (exit 2), naming the flag.
  try {
    load_clblast_params("/nonexistent/params.json");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ReasonCode::bad_input);
    EXPECT_NE(std::string(e.what()).find("--clblast-params"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace clgauge
