#pragma once
// Config ids: the names of kernel configs in plans, logs and the tuning database.
//
//   canonical string = "family=<f>;P1=<v1>;P2=<v2>;..."   (declared order, values in decimal)
//   config id        = hex16(xxh3_64(canonical string))   (16 lowercase hex digits)
//
// GemmConfig::canonical()/id() produce exactly these bytes; both go through here.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace clgauge {

using ConfigParams = std::vector<std::pair<std::string, std::int64_t>>;

std::string config_canonical(std::string_view family, const ConfigParams& params);
std::string config_id(std::string_view family, const ConfigParams& params);

// The same, with names and values in two parallel spans (names.size() == values.size()),
// so an enumerator can name a candidate without building pairs.
std::string config_canonical(std::string_view family, std::span<const std::string> names,
                             std::span<const std::int64_t> values);
std::string config_id(std::string_view family, std::span<const std::string> names,
                      std::span<const std::int64_t> values);

}  // namespace clgauge
