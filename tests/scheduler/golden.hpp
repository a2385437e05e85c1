#pragma once
// Golden files of the scheduler tests (tests/data/scheduler/). Compared byte for byte;
// regenerated only when CLGAUGE_UPDATE_GOLDEN=1 is set:
//   CLGAUGE_UPDATE_GOLDEN=1 ctest --preset release -R Scheduler

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace clgauge::test {

inline std::filesystem::path scheduler_data(const std::string& name) {
  return std::filesystem::path(CLGAUGE_TEST_DATA_DIR) / "scheduler" / name;
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void expect_golden(const std::string& name, const std::string& actual) {
  const auto path = scheduler_data("golden") / name;
  const char* update = std::getenv("CLGAUGE_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  if (!std::filesystem::exists(path)) {
    ADD_FAILURE() << "missing golden file " << path
                  << " (write it with CLGAUGE_UPDATE_GOLDEN=1 and review the diff)";
    return;
  }
  EXPECT_EQ(actual, read_file(path)) << "output differs from golden file " << path;
}

}  // namespace clgauge::test
