// Space files: parsing with positioned errors, the search path, and shards.

#include <unistd.h>

#include <cstdlib>
#include <limits>
#include <set>

#include "clgauge/error.hpp"
#include "clgauge/space.hpp"
#include "scheduler/json_input.hpp"

namespace clgauge {
namespace {

using scheduler_detail::excerpt;
using scheduler_detail::fail;

constexpr std::int64_t kMaxExact = std::int64_t{1} << 53;

bool is_identifier(std::string_view s) {
  if (s.empty()) return false;
  const auto alpha = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  if (!alpha(s[0])) return false;
  for (char c : s) {
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::int64_t read_value(const nlohmann::ordered_json& v, std::string_view source,
                        const std::string& field) {
  if (v.is_number_integer()) {  // true for signed and unsigned JSON integers
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(kMaxExact)) {
      fail(source, field, excerpt(v) + " is out of range (|value| <= 2^53)");
    }
    const auto x = v.get<std::int64_t>();
    if (x > kMaxExact || x < -kMaxExact) {
      fail(source, field, excerpt(v) + " is out of range (|value| <= 2^53)");
    }
    return x;
  }
  fail(source, field, excerpt(v) + " is not an integer");
}

Parameter read_parameter(const nlohmann::ordered_json& p, std::string_view source,
                         const std::string& field) {
  if (!p.is_object()) fail(source, field, "expected an object {\"name\": ..., \"values\": [...]}");
  for (const auto& [key, value] : p.items()) {
    if (key != "name" && key != "values") {
      fail(source, field + "." + key, "unknown field (a parameter has name and values)");
    }
  }
  Parameter out;
  const auto name = p.find("name");
  if (name == p.end()) fail(source, field + ".name", "missing");
  if (!name->is_string()) fail(source, field + ".name", excerpt(*name) + " is not a string");
  out.name = name->get<std::string>();
  if (!is_identifier(out.name)) {
    fail(source, field + ".name",
         "'" + out.name + "' is not an identifier ([A-Za-z_][A-Za-z0-9_]*)");
  }
  for (const auto& limit : device_limit_names()) {
    if (out.name == limit) {
      fail(source, field + ".name", "'" + out.name + "' is a device limit name");
    }
  }
  const auto values = p.find("values");
  if (values == p.end()) fail(source, field + ".values", "missing");
  if (!values->is_array()) fail(source, field + ".values", excerpt(*values) + " is not an array");
  if (values->empty()) fail(source, field + ".values", "empty value list");
  std::set<std::int64_t> seen;
  for (std::size_t j = 0; j < values->size(); ++j) {
    const std::string vfield = field + ".values[" + std::to_string(j) + "]";
    const auto v = read_value((*values)[j], source, vfield);
    if (!seen.insert(v).second) {
      fail(source, vfield, "duplicate value " + std::to_string(v) + " of " + out.name);
    }
    out.values.push_back(v);
  }
  return out;
}

}  // namespace

ParameterSpace ParameterSpace::parse(std::string_view json_text, std::string_view source) {
  const auto doc = scheduler_detail::parse_json(json_text, source);
  if (!doc.is_object()) fail(source, "top level", "expected a JSON object");
  for (const auto& [key, value] : doc.items()) {
    if (key != "family" && key != "description" && key != "parameters" && key != "constraints") {
      fail(source, key, "unknown field (a space has family, description, parameters, constraints)");
    }
  }
  ParameterSpace s;
  s.source = std::string(source);

  const auto family = doc.find("family");
  if (family == doc.end()) fail(source, "family", "missing");
  if (!family->is_string() || family->get<std::string>().empty()) {
    fail(source, "family", excerpt(*family) + " is not a non-empty string");
  }
  s.family = family->get<std::string>();

  if (const auto d = doc.find("description"); d != doc.end()) {
    if (!d->is_string()) fail(source, "description", excerpt(*d) + " is not a string");
    s.description = d->get<std::string>();
  }

  const auto params = doc.find("parameters");
  if (params == doc.end()) fail(source, "parameters", "missing");
  if (!params->is_array()) fail(source, "parameters", excerpt(*params) + " is not an array");
  if (params->empty()) fail(source, "parameters", "empty parameter list");
  for (std::size_t i = 0; i < params->size(); ++i) {
    const std::string field = "parameters[" + std::to_string(i) + "]";
    auto p = read_parameter((*params)[i], source, field);
    for (std::size_t k = 0; k < s.parameters.size(); ++k) {
      if (s.parameters[k].name == p.name) {
        fail(source, field + ".name",
             "duplicate parameter '" + p.name + "' (first declared at parameters[" +
                 std::to_string(k) + "])");
      }
    }
    s.parameters.push_back(std::move(p));
  }

  // Counts are exact: a space whose raw product of value counts exceeds 2^64 - 1 is
  // refused here, so raw_size() and every count below it never saturate or wrap.
  std::uint64_t raw = 1;
  for (const auto& p : s.parameters) {
    const auto k = static_cast<std::uint64_t>(p.values.size());
    if (raw > std::numeric_limits<std::uint64_t>::max() / k) {
      fail(source, "parameters",
           "the raw product of the value counts exceeds 2^64 - 1 = 18446744073709551615 "
           "combinations, the most clgauge counts exactly; split the space into smaller files");
    }
    raw *= k;
  }

  if (const auto cs = doc.find("constraints"); cs != doc.end()) {
    if (!cs->is_array()) fail(source, "constraints", excerpt(*cs) + " is not an array");
    for (std::size_t i = 0; i < cs->size(); ++i) {
      const auto& c = (*cs)[i];
      const std::string field = "constraints[" + std::to_string(i) + "]";
      if (!c.is_string()) fail(source, field, excerpt(c) + " is not a string");
      if (c.get<std::string>().find_first_not_of(" \t\r\n") == std::string::npos) {
        fail(source, field, "empty constraint");
      }
      s.constraints.push_back(c.get<std::string>());
    }
  }
  return s;
}

ParameterSpace ParameterSpace::load(const std::filesystem::path& file) {
  return parse(scheduler_detail::read_text_file(file), file.string());
}

std::vector<std::string> ParameterSpace::parameter_names() const {
  std::vector<std::string> names;
  names.reserve(parameters.size());
  for (const auto& p : parameters) names.push_back(p.name);
  return names;
}

std::uint64_t ParameterSpace::raw_size() const {
  std::uint64_t n = 1;
  for (const auto& p : parameters) {
    const auto k = static_cast<std::uint64_t>(p.values.size());
    if (k != 0 && n > std::numeric_limits<std::uint64_t>::max() / k) {
      throw Error(ReasonCode::bad_input,
                  source + ": parameters: the raw product of the value counts exceeds 2^64 - 1");
    }
    n *= k;
  }
  return n;
}

std::string ParameterSpace::to_json() const {
  nlohmann::ordered_json j;
  j["family"] = family;
  j["description"] = description;
  auto params = nlohmann::ordered_json::array();
  for (const auto& p : parameters) params.push_back({{"name", p.name}, {"values", p.values}});
  j["parameters"] = params;
  j["constraints"] = constraints;
  return j.dump();
}

std::vector<std::filesystem::path> space_search_dirs() {
  std::vector<std::filesystem::path> dirs;
  if (const char* env = std::getenv("CLGAUGE_SPACES_DIR"); env != nullptr && *env != '\0') {
    dirs.emplace_back(env);
  }
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) dirs.push_back(exe.parent_path() / ".." / "share" / "clgauge" / "tuning" / "spaces");
  // The build tree: this file is host/scheduler/space.cpp in the source tree, and the
  // compiler sees it by its absolute path.
  const std::filesystem::path self(__FILE__);
  if (self.is_absolute()) {
    dirs.push_back(self.parent_path().parent_path().parent_path() / "tuning" / "spaces");
  }
  return dirs;
}

std::filesystem::path find_space_file(std::string_view name_or_path) {
  const std::string name(name_or_path);
  if (name.empty()) throw Error(ReasonCode::bad_input, "--space: empty space name");
  if (name.find('/') != std::string::npos ||
      (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0)) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(name, ec)) {
      throw Error(ReasonCode::bad_input, "--space: '" + name + "': no such file");
    }
    return name;
  }
  std::string searched;
  for (const auto& dir : space_search_dirs()) {
    const auto file = dir / (name + ".json");
    std::error_code ec;
    if (std::filesystem::is_regular_file(file, ec)) return file.lexically_normal();
    searched += (searched.empty() ? "" : ", ") + dir.lexically_normal().string();
  }
  throw Error(ReasonCode::bad_input,
              "--space: no space named '" + name + "' (searched " + searched + ")");
}

Shard Shard::parse(std::string_view text, std::string_view field) {
  const std::string t(text);
  const auto bad = [&](const std::string& why) {
    throw Error(ReasonCode::bad_input, std::string(field) + ": '" + t + "': " + why);
  };
  const auto slash = t.find('/');
  if (slash == std::string::npos) bad("expected i/N");
  const auto number = [&](const std::string& s, const char* what) {
    if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) {
      bad(std::string(what) + " '" + s + "' is not a non-negative integer");
    }
    return static_cast<std::uint64_t>(std::stoull(s));
  };
  Shard s;
  s.index = number(t.substr(0, slash), "shard index");
  s.count = number(t.substr(slash + 1), "shard count");
  if (s.count == 0) bad("shard count must be at least 1");
  if (s.index >= s.count) {
    bad("shard index " + std::to_string(s.index) + " must be below the shard count " +
        std::to_string(s.count));
  }
  return s;
}

std::uint64_t Shard::size_of(std::uint64_t total) const {
  return total > index ? (total - index - 1) / count + 1 : 0;
}

std::string Shard::str() const {
  return std::to_string(index) + "/" + std::to_string(count);
}

}  // namespace clgauge
