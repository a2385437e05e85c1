#include <clgauge/hash.hpp>
#include <clgauge/runtime.hpp>

#include <iostream>

int main() {
  const auto id = clgauge::hex16(clgauge::xxh3_64("family=gemm.regtile"));
  std::cout << "clgauge " << clgauge::version() << " id " << id << "\n";
  return id.size() == 16 ? 0 : 1;
}
