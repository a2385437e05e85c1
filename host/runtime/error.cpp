#include "clgauge/error.hpp"

#include <array>
#include <utility>

namespace clgauge {
namespace {

constexpr std::array<std::pair<ReasonCode, std::string_view>, 14> kNames = {{
    {ReasonCode::ok, "ok"},
    {ReasonCode::build_failed, "build_failed"},
    {ReasonCode::launch_failed, "launch_failed"},
    {ReasonCode::timeout, "timeout"},
    {ReasonCode::crashed, "crashed"},
    {ReasonCode::parity_mismatch, "parity_mismatch"},
    {ReasonCode::tolerance_exceeded, "tolerance_exceeded"},
    {ReasonCode::abandoned_slow, "abandoned_slow"},
    {ReasonCode::invalid_config, "invalid_config"},
    {ReasonCode::device_unavailable, "device_unavailable"},
    {ReasonCode::bad_input, "bad_input"},
    {ReasonCode::io_error, "io_error"},
    {ReasonCode::internal, "internal"},
    {ReasonCode::out_of_budget, "out_of_budget"},
}};

}  // namespace

std::string_view to_string(ReasonCode code) {
  for (const auto& [c, name] : kNames) {
    if (c == code) return name;
  }
  return "internal";
}

ReasonCode reason_code_from_string(std::string_view name) {
  for (const auto& [c, n] : kNames) {
    if (n == name) return c;
  }
  throw Error(ReasonCode::bad_input, "unknown reason code '" + std::string(name) + "'");
}

}  // namespace clgauge
