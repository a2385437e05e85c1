#include "clgauge/config_id.hpp"

#include "clgauge/error.hpp"
#include "clgauge/hash.hpp"

namespace clgauge {
namespace {

void append_param(std::string& s, std::string_view name, std::int64_t value) {
  s += ';';
  s += name;
  s += '=';
  s += std::to_string(value);
}

}  // namespace

std::string config_canonical(std::string_view family, const ConfigParams& params) {
  std::string s = "family=";
  s += family;
  for (const auto& [name, value] : params) append_param(s, name, value);
  return s;
}

std::string config_id(std::string_view family, const ConfigParams& params) {
  return hex16(xxh3_64(config_canonical(family, params)));
}

std::string config_canonical(std::string_view family, std::span<const std::string> names,
                             std::span<const std::int64_t> values) {
  if (names.size() != values.size()) {
    throw Error(ReasonCode::internal, "config_canonical: " + std::to_string(names.size()) +
                                          " names but " + std::to_string(values.size()) +
                                          " values");
  }
  std::string s = "family=";
  s += family;
  for (std::size_t i = 0; i < names.size(); ++i) append_param(s, names[i], values[i]);
  return s;
}

std::string config_id(std::string_view family, std::span<const std::string> names,
                      std::span<const std::int64_t> values) {
  return hex16(xxh3_64(config_canonical(family, names, values)));
}

}  // namespace clgauge
