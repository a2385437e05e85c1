#include "scheduler/json_input.hpp"

#include <fstream>
#include <sstream>

#include "clgauge/error.hpp"

namespace clgauge::scheduler_detail {

nlohmann::ordered_json parse_json(std::string_view text, std::string_view source) {
  try {
    return nlohmann::ordered_json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based and points just past the offending character.
    const std::size_t byte = e.byte == 0 ? 0 : e.byte - 1;
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 2: ".
    if (const auto colon = what.find(": "); colon != std::string::npos)
      what = what.substr(colon + 2);
    throw Error(ReasonCode::bad_input, std::string(source) + ": malformed JSON at line " +
                                           std::to_string(line) + ", column " +
                                           std::to_string(column) + " (byte " +
                                           std::to_string(byte) + "): " + what);
  }
}

std::string read_text_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ReasonCode::io_error, file.string() + ": cannot read");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error(ReasonCode::io_error, file.string() + ": cannot read");
  return ss.str();
}

void fail(std::string_view source, std::string_view field, std::string_view what) {
  throw Error(ReasonCode::bad_input,
              std::string(source) + ": " + std::string(field) + ": " + std::string(what));
}

std::string excerpt(const nlohmann::ordered_json& value) {
  std::string s = value.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

}  // namespace clgauge::scheduler_detail
