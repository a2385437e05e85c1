#include <unistd.h>

#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "clgauge/error.hpp"
#include "clgauge/gemm.hpp"

namespace clgauge {

std::string_view to_string(Layout l) {
  return l == Layout::row ? "row" : "col";
}
std::string_view to_string(Op o) {
  return o == Op::n ? "n" : "t";
}

Layout layout_from_string(std::string_view s) {
  if (s == "row") return Layout::row;
  if (s == "col") return Layout::col;
  throw Error(ReasonCode::bad_input, "layout '" + std::string(s) + "' is not row|col");
}

Op op_from_string(std::string_view s) {
  if (s == "n" || s == "N") return Op::n;
  if (s == "t" || s == "T") return Op::t;
  throw Error(ReasonCode::bad_input, "transpose '" + std::string(s) + "' is not n|t");
}

namespace {

// 128-bit unsigned arithmetic (GCC and Clang); __extension__ keeps -Wpedantic quiet.
__extension__ typedef unsigned __int128 U128;

// Rows and columns of a matrix as stored (before op).
struct Stored {
  std::int64_t rows;
  std::int64_t cols;
};

// The leading dimension is the length of a stored row (row-major) or column (col-major).
std::int64_t min_ld(Stored s, Layout l) {
  return l == Layout::row ? s.cols : s.rows;
}

// Index of the last element plus one, computed in 128 bits so that no leading
// dimension or offset can wrap it; validate() refuses what does not fit in 63 bits.
U128 extent128(Stored s, Layout l, std::int64_t ld, std::int64_t offset) {
  const std::int64_t major = l == Layout::row ? s.rows : s.cols;
  const std::int64_t minor = l == Layout::row ? s.cols : s.rows;
  return static_cast<U128>(offset) + static_cast<U128>(major - 1) * static_cast<U128>(ld) +
         static_cast<U128>(minor);
}

std::size_t extent(Stored s, Layout l, std::int64_t ld, std::int64_t offset) {
  return static_cast<std::size_t>(extent128(s, l, ld, offset));
}

// Bytes of a float buffer of the largest size a validated problem may ask for: its
// byte count fits in a signed 64-bit integer (and so in size_t and cl_long).
constexpr U128 kMaxBufferBytes = std::numeric_limits<std::int64_t>::max();

std::string u128(U128 v) {
  if (v == 0) return "0";
  std::string s;
  while (v != 0) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  return s;
}

std::string human_bytes(std::uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024.0 && u < 6) {
    v /= 1024.0;
    ++u;
  }
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

std::size_t index_of(std::int64_t r, std::int64_t c, Layout l, std::int64_t ld,
                     std::int64_t offset) {
  return static_cast<std::size_t>(l == Layout::row ? offset + r * ld + c : offset + c * ld + r);
}

Stored stored_a(const GemmProblem& p) {
  return p.trans_a == Op::n ? Stored{p.m, p.k} : Stored{p.k, p.m};
}
Stored stored_b(const GemmProblem& p) {
  return p.trans_b == Op::n ? Stored{p.k, p.n} : Stored{p.n, p.k};
}

void require(bool ok, const std::string& field, std::int64_t value, const std::string& why) {
  if (!ok) {
    throw Error(ReasonCode::bad_input, field + " = " + std::to_string(value) + ": " + why);
  }
}

}  // namespace

std::int64_t GemmProblem::min_lda() const {
  return min_ld(stored_a(*this), layout);
}
std::int64_t GemmProblem::min_ldb() const {
  return min_ld(stored_b(*this), layout);
}
std::int64_t GemmProblem::min_ldc() const {
  return min_ld({m, n}, layout);
}

GemmProblem GemmProblem::resolved() const {
  GemmProblem p = *this;
  if (p.lda == 0) p.lda = min_lda();
  if (p.ldb == 0) p.ldb = min_ldb();
  if (p.ldc == 0) p.ldc = min_ldc();
  return p;
}

void GemmProblem::validate() const {
  require(m >= 1, "m", m, "must be >= 1");
  require(n >= 1, "n", n, "must be >= 1");
  require(k >= 1, "k", k, "must be >= 1");
  // Kernels index rows, columns and K with 32-bit ints.
  constexpr std::int64_t kMaxDim = 1LL << 30;
  require(m <= kMaxDim, "m", m, "must be <= 2^30");
  require(n <= kMaxDim, "n", n, "must be <= 2^30");
  require(k <= kMaxDim, "k", k, "must be <= 2^30");
  const auto r = resolved();
  require(r.lda >= min_lda(), "lda", r.lda,
          "smaller than the stored row length " + std::to_string(min_lda()));
  require(r.ldb >= min_ldb(), "ldb", r.ldb,
          "smaller than the stored row length " + std::to_string(min_ldb()));
  require(r.ldc >= min_ldc(), "ldc", r.ldc,
          "smaller than the stored row length " + std::to_string(min_ldc()));
  require(offset_a >= 0, "offset_a", offset_a, "must be >= 0");
  require(offset_b >= 0, "offset_b", offset_b, "must be >= 0");
  require(offset_c >= 0, "offset_c", offset_c, "must be >= 0");
  const auto check = [&](const char* matrix, Stored st, std::int64_t ld, std::int64_t offset,
                         const char* flags) {
    const U128 bytes = extent128(st, layout, ld, offset) * sizeof(float);
    if (bytes > kMaxBufferBytes) {
      throw Error(ReasonCode::bad_input,
                  std::string(matrix) + " (" + flags + "): its buffer would span " + u128(bytes) +
                      " bytes (ld = " + std::to_string(ld) + ", offset = " +
                      std::to_string(offset) + "), beyond the 2^63-byte limit of any buffer");
    }
  };
  check("A", stored_a(r), r.lda, offset_a, "--m, --k, --lda, --offset-a");
  check("B", stored_b(r), r.ldb, offset_b, "--k, --n, --ldb, --offset-b");
  check("C", Stored{m, n}, r.ldc, offset_c, "--m, --n, --ldc, --offset-c");
}

std::uint64_t GemmProblem::a_bytes() const {
  return static_cast<std::uint64_t>(resolved().a_elements()) * sizeof(float);
}
std::uint64_t GemmProblem::b_bytes() const {
  return static_cast<std::uint64_t>(resolved().b_elements()) * sizeof(float);
}
std::uint64_t GemmProblem::c_bytes() const {
  return static_cast<std::uint64_t>(resolved().c_elements()) * sizeof(float);
}

namespace {

struct BufferNeed {
  const char* matrix;
  std::uint64_t bytes;
  const char* flags;
};

std::vector<BufferNeed> buffer_needs(const GemmProblem& p) {
  return {{"A", p.a_bytes(), "--m, --k, --lda, --offset-a"},
          {"B", p.b_bytes(), "--k, --n, --ldb, --offset-b"},
          {"C", p.c_bytes(), "--m, --n, --ldc, --offset-c"}};
}

}  // namespace

void GemmProblem::check_fits(const DeviceInfo& device) const {
  validate();
  std::uint64_t total = 0;
  for (const auto& need : buffer_needs(*this)) {
    if (device.max_alloc_bytes != 0 && need.bytes > device.max_alloc_bytes) {
      throw Error(ReasonCode::bad_input,
                  std::string(need.matrix) + " (" + need.flags + "): needs a buffer of " +
                      std::to_string(need.bytes) + " bytes (" + human_bytes(need.bytes) +
                      "), more than the device's largest allocation of " +
                      std::to_string(device.max_alloc_bytes) + " bytes (" +
                      human_bytes(device.max_alloc_bytes) + ", CL_DEVICE_MAX_MEM_ALLOC_SIZE of " +
                      device.name + ")");
    }
    total += need.bytes;  // each < 2^63 after validate(), so three cannot wrap in practice
  }
  if (device.global_mem_bytes != 0 && total > device.global_mem_bytes) {
    throw Error(ReasonCode::bad_input,
                "A, B and C (--m, --n, --k, --ld*, --offset-*): need " + std::to_string(total) +
                    " bytes (" + human_bytes(total) + ") together, more than the " +
                    std::to_string(device.global_mem_bytes) + " bytes (" +
                    human_bytes(device.global_mem_bytes) + ") of global memory of " + device.name);
  }
}

void GemmProblem::check_fits_host(int c_copies) const {
  validate();
  const auto needs = buffer_needs(*this);
  const U128 total =
      static_cast<U128>(needs[0].bytes) + needs[1].bytes +
      static_cast<U128>(needs[2].bytes) * static_cast<unsigned>(c_copies < 1 ? 1 : c_copies);
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return;  // unknown: let the allocation decide
  const auto physical = static_cast<U128>(pages) * static_cast<unsigned long>(page);
  if (total > physical) {
    throw Error(ReasonCode::bad_input,
                "A, B and C (--m, --n, --k, --ld*, --offset-*): host copies need " + u128(total) +
                    " bytes, more than this machine's " + u128(physical) +
                    " bytes of physical memory");
  }
}

std::size_t GemmProblem::a_elements() const {
  return extent(stored_a(*this), layout, lda, offset_a);
}
std::size_t GemmProblem::b_elements() const {
  return extent(stored_b(*this), layout, ldb, offset_b);
}
std::size_t GemmProblem::c_elements() const {
  return extent({m, n}, layout, ldc, offset_c);
}

std::size_t GemmProblem::a_index(std::int64_t i, std::int64_t p) const {
  return trans_a == Op::n ? index_of(i, p, layout, lda, offset_a)
                          : index_of(p, i, layout, lda, offset_a);
}
std::size_t GemmProblem::b_index(std::int64_t p, std::int64_t j) const {
  return trans_b == Op::n ? index_of(p, j, layout, ldb, offset_b)
                          : index_of(j, p, layout, ldb, offset_b);
}
std::size_t GemmProblem::c_index(std::int64_t i, std::int64_t j) const {
  return index_of(i, j, layout, ldc, offset_c);
}

std::string GemmProblem::shape() const {
  return std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k);
}

}  // namespace clgauge
