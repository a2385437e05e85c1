#include <string>

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

// Rows and columns of a matrix as stored (before op).
struct Stored {
  std::int64_t rows;
  std::int64_t cols;
};

// The leading dimension is the length of a stored row (row-major) or column (col-major).
std::int64_t min_ld(Stored s, Layout l) {
  return l == Layout::row ? s.cols : s.rows;
}

std::size_t extent(Stored s, Layout l, std::int64_t ld, std::int64_t offset) {
  // Index of the last element plus one.
  const std::int64_t major = l == Layout::row ? s.rows : s.cols;
  const std::int64_t minor = l == Layout::row ? s.cols : s.rows;
  return static_cast<std::size_t>(offset + (major - 1) * ld + minor);
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
