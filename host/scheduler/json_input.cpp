#include "scheduler/json_input.hpp"

#include "clgauge/error.hpp"
#include "runtime/json_io.hpp"

namespace clgauge::scheduler_detail {

nlohmann::ordered_json parse_json(std::string_view text, std::string_view source) {
  return io::parse_json<nlohmann::ordered_json>(text, source);
}

std::string read_text_file(const std::filesystem::path& file) {
  return io::read_input_file(file, "file");
}

void fail(std::string_view source, std::string_view field, std::string_view what) {
  throw Error(ReasonCode::bad_input,
              std::string(source) + ": " + std::string(field) + ": " + std::string(what));
}

std::string excerpt(const nlohmann::ordered_json& value) {
  return io::excerpt(value);
}

}  // namespace clgauge::scheduler_detail
