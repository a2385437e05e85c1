#pragma once
// Parameter spaces and candidate enumeration: which kernel configs a tuner tries.
//
// Space file (tuning/spaces/*.json):
//   {"family": "gemm.regtile",
//    "description": "optional text",
//    "parameters": [{"name": "MR", "values": [4, 6, 8]}, {"name": "VW", "values": [8, 16]}],
//    "constraints": ["NR % VW == 0", "WGM * WGN <= max_wg_size"]}
// Parameter names are identifiers ([A-Za-z_][A-Za-z0-9_]*), distinct, and not device
// limit names; values are distinct integers with |v| <= 2^53 (exact in a double).
// Constraints are muParser expressions over parameter names and device limits
// (device_limits.hpp); `%` is the integer remainder (operands truncated toward zero,
// sign of the dividend, like C's %; x % 0 is NaN). A constraint holds when its value is
// non-zero and not NaN. `=` (assignment) is refused; compare with `==`.
//
// Enumeration is lexicographic in declared parameter order and declared value order.
// A constraint is checked as soon as every parameter it names is bound (constraints over
// device limits alone are checked once, up front), so an invalid prefix is never expanded
// and the raw product is never materialised.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "clgauge/device_limits.hpp"

namespace clgauge {

struct Parameter {
  std::string name;
  std::vector<std::int64_t> values;  // declared order
  bool operator==(const Parameter&) const = default;
};

struct ParameterSpace {
  std::string family;  // e.g. "gemm.regtile"
  std::string description;
  std::vector<Parameter> parameters;     // declared order
  std::vector<std::string> constraints;  // declared order
  std::string source;                    // the file (or label) errors name

  // Throws Error(bad_input) "<source>: <field>: <what>", e.g.
  // "spaces/x.json: parameters[2].values[1]: 4.5 is not an integer".
  static ParameterSpace parse(std::string_view json_text, std::string_view source);
  // Error(io_error) when the file cannot be read; its path is the source.
  static ParameterSpace load(const std::filesystem::path& file);

  std::vector<std::string> parameter_names() const;
  // Product of the value-list sizes, exact. parse() refuses spaces whose product
  // exceeds 2^64 - 1; for a space built by hand that does, throws Error(bad_input).
  std::uint64_t raw_size() const;
  // Canonical JSON (no spaces; family, description, parameters, constraints).
  std::string to_json() const;

  bool operator==(const ParameterSpace&) const = default;
};

// The folders `find_space_file` searches, in order: $CLGAUGE_SPACES_DIR when set,
// <executable dir>/../share/clgauge/tuning/spaces (installed), and the source tree's
// tuning/spaces (build tree).
std::vector<std::filesystem::path> space_search_dirs();
// `name_or_path` containing '/' or ending in ".json" is a file path; otherwise NAME
// resolves to NAME.json in the first search folder that has it. Throws
// Error(bad_input) naming the folders searched when there is none.
std::filesystem::path find_space_file(std::string_view name_or_path);

// --shard i/N: candidate number c (0-based, enumeration order) belongs to shard c mod N.
struct Shard {
  std::uint64_t index = 0;
  std::uint64_t count = 1;

  // "i/N" with 0 <= i < N; throws Error(bad_input) naming `field` and the text.
  static Shard parse(std::string_view text, std::string_view field = "--shard");
  bool contains(std::uint64_t candidate) const { return candidate % count == index; }
  // How many of candidates 0..total-1 fall in this shard.
  std::uint64_t size_of(std::uint64_t total) const;
  std::string str() const;  // "i/N"
  bool operator==(const Shard&) const = default;
};

struct Candidate {
  std::uint64_t index = 0;           // 0-based, enumeration order over the whole space
  std::string id;                    // config id (config_id.hpp)
  std::vector<std::int64_t> values;  // one per parameter, declared order
  bool operator==(const Candidate&) const = default;
};

// Called for each valid candidate in enumeration order; return false to stop.
using CandidateVisitor =
    std::function<bool(std::uint64_t index, std::span<const std::int64_t> values)>;

// A space with its constraints compiled (muParser bytecode, variables bound by address)
// against one set of device limits. Enumerating evaluates in place, so one instance
// must not be used by two threads at once; the methods are non-const for that reason.
class CompiledSpace {
 public:
  // Throws Error(bad_input) naming the source, "constraints[i]", the position and the
  // unknown name or the parse error.
  CompiledSpace(ParameterSpace space, DeviceLimits limits);
  ~CompiledSpace();
  CompiledSpace(CompiledSpace&&) noexcept;
  CompiledSpace& operator=(CompiledSpace&&) noexcept;

  const ParameterSpace& space() const;
  const DeviceLimits& limits() const;
  // The parameter index at which constraint i is checked (-1: device limits only).
  int check_level(std::size_t constraint) const;
  // The device limits some constraint names, in device_limit_names() order: the only
  // limits the result depends on.
  std::vector<std::pair<std::string, double>> used_limits() const;

  // Enumeration work is bounded: every walk (count, for_each, candidates) stops with
  // Error(bad_input) naming the space and the limit once it has bound more than
  // work_limit() parameter values, instead of running for hours on a huge space.
  static constexpr std::uint64_t kDefaultWorkLimit = 100'000'000;
  void set_work_limit(std::uint64_t bindings);
  std::uint64_t work_limit() const;

  // Number of valid candidates, exact, without listing them (a suffix of parameters
  // that no constraint names is multiplied out, not walked).
  std::uint64_t count();
  std::uint64_t count(const Shard& shard);
  // Visits every valid candidate in enumeration order.
  void for_each(const CandidateVisitor& visit);
  // The valid candidates of one shard, with ids, in enumeration order.
  std::vector<Candidate> candidates(const Shard& shard = {});
  // Every constraint evaluated on a full assignment, no pruning: the brute-force check.
  bool satisfies(std::span<const std::int64_t> values);
  // The candidate for `values` (id computed from the family and parameter names).
  Candidate make_candidate(std::uint64_t index, std::span<const std::int64_t> values) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads, compiles and returns a space in one call.
CompiledSpace compile_space(const std::filesystem::path& file, const DeviceLimits& limits);

// A permutation of 0..n-1 that is the same on every platform and compiler (see
// random_order.cpp for the algorithm). For random search: visit candidates[perm[r]].
std::vector<std::uint64_t> random_order(std::uint64_t n, std::uint64_t seed);
// `candidates` reordered by random_order(candidates.size(), seed); indices unchanged.
std::vector<Candidate> in_random_order(std::vector<Candidate> candidates, std::uint64_t seed);

}  // namespace clgauge
