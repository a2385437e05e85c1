#pragma once
// Reading the scheduler's JSON inputs (space files, limits files) with errors that
// name the file, the field and the position.

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace clgauge::scheduler_detail {

// Parses `text` through io::parse_json (depth-limited); malformed JSON throws Error(bad_input)
// "<source>: malformed JSON at line L, column C (byte B): <parser message>".
nlohmann::ordered_json parse_json(std::string_view text, std::string_view source);

// The file's bytes through io::read_input_file: Error(bad_input) when it is missing,
// a directory or unreadable.
std::string read_text_file(const std::filesystem::path& file);

// Error(bad_input) "<source>: <field>: <what>".
[[noreturn]] void fail(std::string_view source, std::string_view field, std::string_view what);

// A JSON value rendered for an error message, shortened to 40 characters.
std::string excerpt(const nlohmann::ordered_json& value);

}  // namespace clgauge::scheduler_detail
