// Candidate enumeration: constraints compiled once with muParser, checked as soon as
// every parameter they name is bound, walked depth-first in declared order.

#include <muParser.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "clgauge/config_id.hpp"
#include "clgauge/error.hpp"
#include "clgauge/space.hpp"

namespace clgauge {
namespace {

// Integer remainder for muParser's `%`: operands truncated toward zero, result with the
// sign of the dividend (C's %). Exact for integers up to 2^53. x % 0 is NaN, which
// makes the constraint fail rather than abort the enumeration.
double int_remainder(double a, double b) {
  const double d = std::trunc(b);
  if (d == 0.0) return std::numeric_limits<double>::quiet_NaN();
  return std::fmod(std::trunc(a), d);
}

bool holds(double value) {
  return value != 0.0 && !std::isnan(value);
}

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Position of the first whole-word occurrence of `name` in `expr` (0 when absent).
std::size_t find_name(const std::string& expr, const std::string& name) {
  for (std::size_t pos = expr.find(name); pos != std::string::npos;
       pos = expr.find(name, pos + 1)) {
    const bool left_ok = pos == 0 || !name_char(expr[pos - 1]);
    const bool right_ok = pos + name.size() >= expr.size() || !name_char(expr[pos + name.size()]);
    if (left_ok && right_ok) return pos;
  }
  return 0;
}

// muParser treats a lone `=` as assignment to a bound variable; a constraint must not
// change the candidate it checks. Returns the position of such an `=`, or npos.
std::size_t find_assignment(const std::string& expr) {
  for (std::size_t i = 0; i < expr.size(); ++i) {
    if (expr[i] != '=') continue;
    const char prev = i > 0 ? expr[i - 1] : ' ';
    const char next = i + 1 < expr.size() ? expr[i + 1] : ' ';
    if (next == '=') {
      ++i;  // "=="
      continue;
    }
    if (prev == '<' || prev == '>' || prev == '!') continue;
    return i;
  }
  return std::string::npos;
}

}  // namespace

struct CompiledSpace::Impl {
  ParameterSpace space;
  DeviceLimits limits;
  std::vector<std::string> names;  // parameter names, declared order
  std::unique_ptr<double[]> vars;  // parameters, then limits: muParser binds these
  std::vector<std::unique_ptr<mu::Parser>> parsers;  // one per constraint, declared order
  std::vector<int> levels;                         // per constraint: parameter index, -1 for limits
  std::vector<std::vector<mu::Parser*>> at_level;  // per parameter: constraints checked there
  std::vector<std::uint64_t> suffix_product;       // product of value counts of params i..n-1
  std::vector<bool> suffix_free;                   // no constraint checked at params i..n-1
  std::vector<std::int64_t> current;               // the values bound so far
  bool limits_hold = true;
  std::vector<bool> limit_used;  // per device_limit_names() entry
  std::uint64_t work = 0;        // values bound in the current walk
  std::uint64_t work_limit = CompiledSpace::kDefaultWorkLimit;

  void compile(std::size_t i);
  void fail_constraint(std::size_t i, std::size_t pos, const std::string& what) const {
    throw Error(ReasonCode::bad_input, space.source + ": constraints[" + std::to_string(i) +
                                           "], position " + std::to_string(pos) + ": " + what +
                                           " in \"" + space.constraints[i] + "\"");
  }

  bool bind(std::size_t level, std::int64_t value) {
    if (++work > work_limit) {
      throw Error(ReasonCode::bad_input,
                  space.source + ": enumeration stopped after " + std::to_string(work_limit) +
                      " bound values (the work limit): the constraints prune too little of " +
                      std::to_string(space.raw_size()) +
                      " raw combinations; constrain early parameters, or raise the limit "
                      "(clgauge plan --max-work)");
    }
    vars[level] = static_cast<double>(value);
    current[level] = value;
    for (mu::Parser* p : at_level[level]) {
      if (!holds(p->Eval())) return false;
    }
    return true;
  }

  std::uint64_t count_from(std::size_t level) {
    if (suffix_free[level]) return suffix_product[level];
    std::uint64_t total = 0;
    const bool last = level + 1 == names.size();
    for (const std::int64_t v : space.parameters[level].values) {
      if (bind(level, v)) total += last ? 1 : count_from(level + 1);
    }
    return total;
  }

  // Returns false once the visitor asked to stop.
  bool visit_from(std::size_t level, std::uint64_t& index, const CandidateVisitor& visit) {
    const bool last = level + 1 == names.size();
    for (const std::int64_t v : space.parameters[level].values) {
      if (!bind(level, v)) continue;
      if (last) {
        if (!visit(index++, current)) return false;
      } else if (!visit_from(level + 1, index, visit)) {
        return false;
      }
    }
    return true;
  }
};

void CompiledSpace::Impl::compile(std::size_t i) {
  const std::string& expr = space.constraints[i];
  if (const auto pos = find_assignment(expr); pos != std::string::npos) {
    fail_constraint(i, pos, "assignment '=' is not allowed (compare with '==')");
  }
  auto parser = std::make_unique<mu::Parser>();
  const auto limit_values = limits.named_values();
  try {
    parser->DefineOprt("%", int_remainder, mu::prMUL_DIV, mu::oaLEFT, true);
    for (std::size_t k = 0; k < names.size(); ++k) parser->DefineVar(names[k], &vars[k]);
    for (std::size_t k = 0; k < limit_values.size(); ++k) {
      parser->DefineVar(limit_values[k].first, &vars[names.size() + k]);
    }
  } catch (const mu::Parser::exception_type& e) {
    throw Error(ReasonCode::bad_input,
                space.source + ": parameters: muParser refused a name: " + e.GetMsg());
  }
  int level = -1;
  try {
    parser->SetExpr(expr);
    // GetUsedVar parses with undefined names allowed and lists them with a null address.
    const auto used = parser->GetUsedVar();
    std::size_t first_unknown = std::string::npos;
    std::string unknown;
    for (const auto& [name, address] : used) {
      if (address != nullptr) continue;
      const auto pos = find_name(expr, name);
      if (pos < first_unknown) {
        first_unknown = pos;
        unknown = name;
      }
    }
    if (!unknown.empty()) {
      fail_constraint(i, first_unknown,
                      "unknown name '" + unknown + "' (not a parameter or a device limit)");
    }
    for (std::size_t k = 0; k < names.size(); ++k) {
      if (used.count(names[k]) != 0) level = static_cast<int>(k);
    }
    for (std::size_t k = 0; k < limit_values.size(); ++k) {
      if (used.count(limit_values[k].first) != 0) limit_used[k] = true;
    }
    parser->Eval();  // compiles to bytecode now, so errors surface here and not mid-walk
  } catch (const mu::Parser::exception_type& e) {
    // muParser reports the end of the text as one past it; clamp to the text.
    const auto pos =
        e.GetPos() < 0 ? expr.size() : std::min(expr.size(), static_cast<std::size_t>(e.GetPos()));
    fail_constraint(i, pos, "cannot parse: " + e.GetMsg());
  }
  levels.push_back(level);
  parsers.push_back(std::move(parser));
}

CompiledSpace::CompiledSpace(ParameterSpace space, DeviceLimits limits)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.space = std::move(space);
  m.limits = limits;
  m.names = m.space.parameter_names();
  const std::size_t n = m.names.size();
  if (n == 0) {
    throw Error(ReasonCode::bad_input, m.space.source + ": parameters: empty parameter list");
  }
  const auto limit_values = m.limits.named_values();
  m.vars = std::make_unique<double[]>(n + limit_values.size());
  for (std::size_t k = 0; k < n; ++k)
    m.vars[k] = static_cast<double>(m.space.parameters[k].values[0]);
  for (std::size_t k = 0; k < limit_values.size(); ++k) m.vars[n + k] = limit_values[k].second;
  m.current.assign(n, 0);
  m.limit_used.assign(limit_values.size(), false);

  m.at_level.resize(n);
  for (std::size_t i = 0; i < m.space.constraints.size(); ++i) {
    m.compile(i);
    if (m.levels[i] < 0) {
      m.limits_hold = m.limits_hold && holds(m.parsers[i]->Eval());
    } else {
      m.at_level[static_cast<std::size_t>(m.levels[i])].push_back(m.parsers[i].get());
    }
  }

  m.suffix_product.assign(n + 1, 1);
  m.suffix_free.assign(n + 1, true);
  for (std::size_t k = n; k-- > 0;) {
    const auto size = static_cast<std::uint64_t>(m.space.parameters[k].values.size());
    const auto next = m.suffix_product[k + 1];
    m.suffix_product[k] = next > std::numeric_limits<std::uint64_t>::max() / size
                              ? std::numeric_limits<std::uint64_t>::max()
                              : next * size;
    m.suffix_free[k] = m.suffix_free[k + 1] && m.at_level[k].empty();
  }
}

CompiledSpace::~CompiledSpace() = default;
CompiledSpace::CompiledSpace(CompiledSpace&&) noexcept = default;
CompiledSpace& CompiledSpace::operator=(CompiledSpace&&) noexcept = default;

const ParameterSpace& CompiledSpace::space() const {
  return impl_->space;
}
const DeviceLimits& CompiledSpace::limits() const {
  return impl_->limits;
}
int CompiledSpace::check_level(std::size_t constraint) const {
  return impl_->levels.at(constraint);
}

std::vector<std::pair<std::string, double>> CompiledSpace::used_limits() const {
  std::vector<std::pair<std::string, double>> out;
  const auto all = impl_->limits.named_values();
  for (std::size_t k = 0; k < all.size(); ++k) {
    if (impl_->limit_used[k]) out.push_back(all[k]);
  }
  return out;
}

void CompiledSpace::set_work_limit(std::uint64_t bindings) {
  impl_->work_limit = bindings;
}
std::uint64_t CompiledSpace::work_limit() const {
  return impl_->work_limit;
}

std::uint64_t CompiledSpace::count() {
  impl_->work = 0;
  return impl_->limits_hold ? impl_->count_from(0) : 0;
}

std::uint64_t CompiledSpace::count(const Shard& shard) {
  return shard.size_of(count());
}

void CompiledSpace::for_each(const CandidateVisitor& visit) {
  if (!impl_->limits_hold) return;
  impl_->work = 0;
  std::uint64_t index = 0;
  impl_->visit_from(0, index, visit);
}

std::vector<Candidate> CompiledSpace::candidates(const Shard& shard) {
  std::vector<Candidate> out;
  for_each([&](std::uint64_t index, std::span<const std::int64_t> values) {
    if (shard.contains(index)) out.push_back(make_candidate(index, values));
    return true;
  });
  return out;
}

bool CompiledSpace::satisfies(std::span<const std::int64_t> values) {
  Impl& m = *impl_;
  if (values.size() != m.names.size()) {
    throw Error(ReasonCode::bad_input,
                m.space.source + ": satisfies: " + std::to_string(values.size()) + " values for " +
                    std::to_string(m.names.size()) + " parameters");
  }
  for (std::size_t k = 0; k < values.size(); ++k) m.vars[k] = static_cast<double>(values[k]);
  for (const auto& p : m.parsers) {
    if (!holds(p->Eval())) return false;
  }
  return true;
}

Candidate CompiledSpace::make_candidate(std::uint64_t index,
                                        std::span<const std::int64_t> values) const {
  return Candidate{index, config_id(impl_->space.family, impl_->names, values),
                   std::vector<std::int64_t>(values.begin(), values.end())};
}

CompiledSpace compile_space(const std::filesystem::path& file, const DeviceLimits& limits) {
  return CompiledSpace(ParameterSpace::load(file), limits);
}

}  // namespace clgauge
