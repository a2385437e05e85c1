#pragma once
// Reading and writing JSON and input files the same way everywhere (host-internal).
//
// Every JSON input clgauge reads (space files, limits files, graphs, seeds, stores,
// databases, caches) goes through parse_json(): nesting deeper than kMaxJsonDepth is
// refused before the parser runs, so no later recursion (dump, destruction, error
// messages) can exhaust the stack. Every input file goes through read_input_file(), so
// a missing file, a directory or an unreadable file is the same user mistake (exit 2)
// in every command. Non-finite numbers are written as JSON null (docs/formats.md).

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace clgauge::io {

// Arrays and objects nested deeper than this are refused. clgauge's own formats nest
// at most 6 levels; 64 leaves room for foreign files (Kernel Tuner caches).
inline constexpr std::size_t kMaxJsonDepth = 64;

// Throws Error(bad_input) "<source>: JSON nested deeper than <max> levels at line L,
// column C (byte B)" when `text` nests brackets deeper than max_depth (outside strings).
void check_json_depth(std::string_view text, std::string_view source,
                      std::size_t max_depth = kMaxJsonDepth);

// Error(bad_input) "<source>: malformed JSON at line L, column C (byte B): <why>".
[[noreturn]] void throw_json_parse_error(std::string_view text, std::string_view source,
                                         std::size_t byte, const std::string& what);

// Parses `text` (depth-checked first). Malformed JSON throws Error(bad_input) naming
// the source, line, column and byte.
template <class Json = nlohmann::ordered_json>
Json parse_json(std::string_view text, std::string_view source,
                std::size_t max_depth = kMaxJsonDepth) {
  check_json_depth(text, source, max_depth);
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    throw_json_parse_error(text, source, e.byte, e.what());
  } catch (const nlohmann::json::exception& e) {
    // Not a syntax error but still the input's fault, e.g. a number that overflows a
    // double ("1e400": out_of_range.406). Found by fuzzing.
    throw_json_parse_error(text, source, 0, e.what());
  }
}

// The bytes of a file the user named. A missing path, a directory or any other
// non-regular file, and a file that cannot be opened throw Error(bad_input)
// "<what> '<path>': <why>" (a user mistake); a read that fails midway throws
// Error(io_error). Files larger than max_bytes are refused (bad_input) before reading.
std::string read_input_file(const std::filesystem::path& file, std::string_view what,
                            std::uintmax_t max_bytes = std::uintmax_t{1} << 34);

// A JSON value for an error message: at most 40 characters, never a dump of a large
// array or object (those are described by their size).
std::string excerpt(const nlohmann::ordered_json& value);
std::string excerpt(const nlohmann::json& value);
// Any text for an error message, cut to `max` characters with "..." when longer.
std::string excerpt_text(std::string_view text, std::size_t max = 40);

// Numbers for JSON we write by hand: finite values in the shortest form that reads
// back to the same value (%.17g for double, %.9g for float); NaN and +-inf as null.
std::string json_number(double v);
std::string json_number(float v);

}  // namespace clgauge::io
