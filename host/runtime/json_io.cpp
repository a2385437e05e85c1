#include "runtime/json_io.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <system_error>

#include "clgauge/error.hpp"

namespace clgauge::io {
namespace {

struct Position {
  std::size_t line = 1;
  std::size_t column = 1;
};

Position position_of(std::string_view text, std::size_t byte) {
  Position p;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

std::string where(std::string_view text, std::size_t byte) {
  const Position p = position_of(text, byte);
  return "line " + std::to_string(p.line) + ", column " + std::to_string(p.column) + " (byte " +
         std::to_string(byte) + ")";
}

template <class Json>
std::string excerpt_of(const Json& value) {
  if (value.is_array() && value.size() > 8) {
    return "an array of " + std::to_string(value.size()) + " elements";
  }
  if (value.is_object() && value.size() > 8) {
    return "an object of " + std::to_string(value.size()) + " fields";
  }
  if (value.is_string()) return excerpt_text("\"" + value.template get<std::string>() + "\"");
  // Depth is bounded at parse time and the size is small here, so dump() is cheap.
  return excerpt_text(value.dump());
}

}  // namespace

void check_json_depth(std::string_view text, std::string_view source, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character cannot end the string
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        throw Error(ReasonCode::bad_input, std::string(source) + ": JSON nested deeper than " +
                                               std::to_string(max_depth) + " levels at " +
                                               where(text, i));
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}

void throw_json_parse_error(std::string_view text, std::string_view source, std::size_t byte,
                            const std::string& what) {
  std::string why = what;
  // Drop "[json.exception.parse_error.101] parse error at line 1, column 2: ".
  if (const auto colon = why.find(": "); colon != std::string::npos) {
    why = why.substr(colon + 2);
  } else if (const auto bracket = why.find("] "); bracket != std::string::npos) {
    why = why.substr(bracket + 2);  // "[json.exception.out_of_range.406] number overflow ..."
  }
  if (byte == 0) {
    throw Error(ReasonCode::bad_input,
                std::string(source) + ": malformed JSON: " + excerpt_text(why, 200));
  }
  // nlohmann's byte is 1-based and points just past the offending character.
  throw Error(ReasonCode::bad_input, std::string(source) + ": malformed JSON at " +
                                         where(text, byte - 1) + ": " + excerpt_text(why, 200));
}

std::string read_input_file(const std::filesystem::path& file, std::string_view what,
                            std::uintmax_t max_bytes) {
  const std::string name = std::string(what) + " '" + file.string() + "'";
  std::error_code ec;
  const auto st = std::filesystem::status(file, ec);
  if (ec || !std::filesystem::exists(st)) {
    throw Error(ReasonCode::bad_input, name + ": no such file");
  }
  if (std::filesystem::is_directory(st)) {
    throw Error(ReasonCode::bad_input, name + ": is a directory, not a file");
  }
  if (!std::filesystem::is_regular_file(st)) {
    throw Error(ReasonCode::bad_input, name + ": not a regular file");
  }
  const auto size = std::filesystem::file_size(file, ec);
  if (!ec && size > max_bytes) {
    throw Error(ReasonCode::bad_input, name + ": " + std::to_string(size) +
                                           " bytes is larger than the limit of " +
                                           std::to_string(max_bytes) + " bytes");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ReasonCode::bad_input, name + ": cannot open (permission denied?)");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error(ReasonCode::io_error, name + ": read failed");
  return ss.str();
}

std::string excerpt(const nlohmann::ordered_json& value) {
  return excerpt_of(value);
}
std::string excerpt(const nlohmann::json& value) {
  return excerpt_of(value);
}

std::string excerpt_text(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  return std::string(text.substr(0, max > 3 ? max - 3 : 0)) + "...";
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string json_number(float v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
  return buf;
}

}  // namespace clgauge::io
