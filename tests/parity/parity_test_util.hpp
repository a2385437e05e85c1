#pragma once
// Shared by the parity campaign tests: a planted-mismatch GEMM family (built only here,
// registered through the test-only hook), the evidence-log schema checker, temp dirs.

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "clgauge/campaign.hpp"
#include "cli/cli_test_util.hpp"
#include "gemm/family.hpp"

namespace clgauge::test {

// A naive one-element-per-work-item GEMM that is canonical except at one element
// (PLANT_ROW, PLANT_COL), where it adds 0.5 before the beta step (large enough to survive
// any beta * C): a deliberately wrong kernel. A problem too small to have that element
// passes.
inline const char* kPlantedSource = R"CL(
#pragma OPENCL FP_CONTRACT OFF
__kernel void gemm_planted(const int M, const int N, const int K, const float alpha,
                           const float beta, __global const float* A, const long offA,
                           const long sai, const long sak, __global const float* B,
                           const long offB, const long sbk, const long sbj, __global float* C,
                           const long offC, const long sci, const long scj) {
  const int j = (int)get_global_id(0);
  const int i = (int)get_global_id(1);
  if (i >= M || j >= N) return;
  float acc = 0.0f;
  for (int k = 0; k < K; ++k) {
    acc = fma(A[offA + i * sai + k * sak], B[offB + k * sbk + j * sbj], acc);
  }
  float t = alpha * acc;
  if (i == PLANT_ROW && j == PLANT_COL) t = t + 0.5f; /* the planted bug */
  const long c = offC + i * sci + j * scj;
  C[c] = (beta == 0.0f) ? t : fma(beta, C[c], t);
}
)CL";

class PlantedFamily final : public gemm_detail::FamilyImpl {
 public:
  PlantedFamily(std::string name, std::string source)
      : info_{std::move(name),
              "gemm_planted",
              true,
              {{"PLANT_ROW", 3, "row of the planted error"},
               {"PLANT_COL", 2, "column of the planted error"}}},
        source_(std::move(source)) {}
  const GemmFamily& info() const override { return info_; }
  std::optional<std::string> invalid_reason(const GemmConfig&, const DeviceLimits&) const override {
    return std::nullopt;
  }
  std::vector<std::string> basic_spaces() const override { return {}; }
  std::string source() const override { return source_; }
  gemm_detail::PackNeeds packing(const GemmConfig&) const override { return {0, 0, 1}; }
  gemm_detail::Geometry bind(boost::compute::kernel& kernel, const GemmConfig&,
                             const gemm_detail::LaunchOperands& ops) const override {
    const auto& p = ops.problem;
    const auto sa = gemm_detail::a_strides(p), sb = gemm_detail::b_strides(p),
               sc = gemm_detail::c_strides(p);
    kernel.set_args(static_cast<cl_int>(p.m), static_cast<cl_int>(p.n), static_cast<cl_int>(p.k),
                    p.alpha, p.beta, ops.a, static_cast<cl_long>(sa.off),
                    static_cast<cl_long>(sa.sp), static_cast<cl_long>(sa.sq), ops.b,
                    static_cast<cl_long>(sb.off), static_cast<cl_long>(sb.sq),
                    static_cast<cl_long>(sb.sp), ops.c, static_cast<cl_long>(sc.off),
                    static_cast<cl_long>(sc.sp), static_cast<cl_long>(sc.sq));
    gemm_detail::Geometry g;
    g.global = {static_cast<std::size_t>(p.n), static_cast<std::size_t>(p.m)};
    g.local = {1, 1};
    return g;
  }

 private:
  GemmFamily info_;
  std::string source_;
};

// Registers a family for the lifetime of the guard.
class RegisteredFamily {
 public:
  explicit RegisteredFamily(const gemm_detail::FamilyImpl& f) : name_(f.info().name) {
    gemm_detail::register_test_family(f);
  }
  ~RegisteredFamily() { gemm_detail::unregister_test_family(name_); }
  RegisteredFamily(const RegisteredFamily&) = delete;
  RegisteredFamily& operator=(const RegisteredFamily&) = delete;

 private:
  std::string name_;
};

class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    path_ = std::filesystem::temp_directory_path() /
            ("clgauge-parity-" + tag + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline bool is_hex16(const nlohmann::json& v) {
  if (!v.is_string()) return false;
  const auto s = v.get<std::string>();
  return s.size() == 16 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

inline bool has_format(const std::string& format, const nlohmann::json& v) {
  if (v.is_null()) return true;
  const auto s = v.get<std::string>();
  if (format == "hex16") return is_hex16(v);
  if (format == "scenario_id") {
    const auto slash = s.find('/'), colon = s.find(':');
    if (slash == std::string::npos || colon == std::string::npos || colon + 1 >= s.size())
      return false;
    const auto suite = s.substr(0, slash), mode = s.substr(slash + 1, colon - slash - 1);
    return (suite == "gemm" || suite == "propagate") && (mode == "strict" || mode == "hardened");
  }
  if (format == "shape") {
    int parts = 1;
    for (char c : s) {
      if (c == 'x') {
        ++parts;
      } else if (c < '0' || c > '9') {
        return false;
      }
    }
    return parts == 2 || parts == 3;
  }
  if (format == "replay_command") {
    return s.rfind("clgauge parity ", 0) == 0 && s.find(" --case ") != std::string::npos;
  }
  return false;
}

inline std::string json_type(const nlohmann::json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_number_integer()) return "integer";
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  return "object";
}

// Checks one log line against tests/data/parity/log_schema.json: every listed field is
// present with an allowed type (and value or format), no other field appears, and the
// metrics object of a scenario has its suite's fields. Returns "" or what is wrong.
inline std::string check_log_line(const std::string& line) {
  static const nlohmann::json schema = nlohmann::json::parse(
      read_text(std::filesystem::path(CLGAUGE_TEST_DATA_DIR) / "parity" / "log_schema.json"));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    return std::string("not JSON: ") + e.what();
  }
  if (!j.is_object() || !j.contains("record") || !j["record"].is_string()) return "no record kind";
  const auto kind = j["record"].get<std::string>();
  if (!schema["records"].contains(kind)) return "unknown record kind " + kind;
  const auto& fields = schema["records"][kind];
  for (const auto& [name, value] : j.items()) {
    if (!fields.contains(name)) return "unexpected field " + name;
  }
  for (const auto& [name, rule] : fields.items()) {
    if (!j.contains(name)) return "missing field " + name;
    const auto& v = j[name];
    const auto type = json_type(v);
    bool type_ok = false;
    for (const auto& t : rule["types"]) type_ok = type_ok || t == type;
    if (!type_ok) return name + ": type " + type + " not allowed";
    if (rule.contains("values")) {
      bool found = false;
      for (const auto& a : rule["values"]) found = found || a == v;
      if (!found) return name + ": value " + v.dump() + " not allowed";
    }
    if (rule.contains("format") && !has_format(rule["format"], v)) {
      return name + ": " + v.dump() + " is not a " + rule["format"].get<std::string>();
    }
    if (rule.contains("items")) {
      for (const auto& item : v) {
        if (rule["items"] == "hex16" ? !is_hex16(item) : !item.is_string()) {
          return name + ": item " + item.dump() + " is not a " + rule["items"].get<std::string>();
        }
      }
    }
  }
  if (kind == "scenario" && j["metrics"].is_object()) {
    const auto& want = schema["metrics"][j["suite"].get<std::string>()];
    if (j["metrics"].size() != want.size()) return "metrics: wrong number of fields";
    for (const auto& m : want) {
      if (!j["metrics"].contains(m.get<std::string>())) return "metrics: missing " + m.dump();
    }
    if (j["suite"] == "gemm" && j["metrics"]["tolerance"].is_object()) {
      for (const auto& m : schema["metrics"]["tolerance"]) {
        if (!j["metrics"]["tolerance"].contains(m.get<std::string>())) {
          return "metrics.tolerance: missing " + m.dump();
        }
      }
    }
    if (j["outcome"] == "pass" && j["reason_code"] != "ok") return "pass with a reason";
    if (j["outcome"] == "fail" && j["reason_code"] == "ok") return "fail without a reason";
  }
  return "";
}

// The line with its time fields (ts_unix_ms, wall_ms) removed, keys sorted.
inline std::string without_time(const std::string& line) {
  auto j = nlohmann::json::parse(line);
  j.erase("ts_unix_ms");
  j.erase("wall_ms");
  return j.dump();
}

// A command line that must fail with exit 2 and one line naming `needle`, printing
// nothing on stdout.
inline void expect_one_line_exit_2(const std::vector<std::string>& args,
                                   const std::string& needle) {
  const auto r = run_cli(args);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
  EXPECT_EQ(r.err.rfind("clgauge parity: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

}  // namespace clgauge::test
