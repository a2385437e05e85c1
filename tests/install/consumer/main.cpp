#include <clgauge/gemm.hpp>
#include <clgauge/runtime.hpp>

#include <iostream>

int main() {
  const auto cfg = clgauge::GemmConfig::defaults_for("gemm.regtile");
  std::cout << "clgauge " << clgauge::version() << " config " << cfg.id() << "\n";
  return cfg.id().size() == 16 ? 0 : 1;
}
