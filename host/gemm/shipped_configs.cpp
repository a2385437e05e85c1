// Config strings and ids as users type them: the canonical "family=...;P=v;..." form,
// and a 16-hex-digit id looked up among the shipped spaces' candidates. One parser and
// one lookup for every command that takes a config.

#include <filesystem>
#include <set>

#include "clgauge/config_id.hpp"
#include "clgauge/error.hpp"
#include "clgauge/gemm.hpp"
#include "clgauge/space.hpp"

namespace clgauge {
namespace {

[[noreturn]] void bad(std::string_view label, const std::string& what) {
  throw Error(ReasonCode::bad_input, std::string(label) + ": " + what);
}

std::string lower_hex(std::string_view id) {
  std::string out(id);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

GemmConfig GemmConfig::parse_canonical(std::string_view text, std::string_view label) {
  std::string family;
  std::vector<std::pair<std::string, std::int64_t>> params;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto end = std::min(text.find(';', pos), text.size());
    const std::string part(text.substr(pos, end - pos));
    const auto eq = part.find('=');
    if (eq == std::string::npos) bad(label, "'" + part + "' lacks '='");
    const std::string name = part.substr(0, eq), value = part.substr(eq + 1);
    if (name == "family") {
      family = value;
    } else {
      std::size_t used = 0;
      std::int64_t v = 0;
      try {
        v = std::stoll(value, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != value.size()) {
        bad(label, name + " = '" + value + "' is not an integer");
      }
      params.emplace_back(name, v);
    }
    pos = end + 1;
  }
  GemmConfig cfg;
  try {
    cfg = make(family, params);
  } catch (const Error& e) {
    throw Error(e.code(), std::string(label) + ": " + e.what());
  }
  if (cfg.canonical() != text) {
    throw Error(ReasonCode::bad_input,
                std::string(label) + " is not canonical: want '" + cfg.canonical() + "'");
  }
  return cfg;
}

std::optional<GemmConfig> find_shipped_config(std::string_view id) {
  const std::string want = lower_hex(id);
  std::set<std::string> families;
  for (const auto& f : gemm_families()) families.insert(f.name);
  DeviceLimits unbounded;
  unbounded.local_mem_bytes = unbounded.max_wg_size = unbounded.compute_units =
      unbounded.global_mem_bytes = std::uint64_t{1} << 52;
  unbounded.max_wi_sizes = {unbounded.max_wg_size, unbounded.max_wg_size, unbounded.max_wg_size};
  unbounded.is_gpu = unbounded.is_cpu = true;
  std::set<std::string> seen;  // a name resolves to its first folder, as find_space_file does
  for (const auto& dir : space_search_dirs()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) continue;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.path().extension() == ".json") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      if (!seen.insert(file.stem().string()).second) continue;
      ParameterSpace space;
      try {
        space = ParameterSpace::load(file);
      } catch (const Error&) {
        continue;  // not a space file this lookup can read
      }
      if (families.count(space.family) == 0) continue;  // e.g. a synthetic benchmark space
      const auto names = space.parameter_names();
      const std::string family = space.family;
      CompiledSpace compiled(std::move(space), unbounded);
      std::optional<GemmConfig> found;
      compiled.for_each([&](std::uint64_t, std::span<const std::int64_t> values) {
        if (config_id(family, names, values) != want) return true;
        GemmConfig c{family, {}};
        for (std::size_t i = 0; i < names.size(); ++i) c.params.emplace_back(names[i], values[i]);
        found = std::move(c);
        return false;
      });
      if (found) return found;
    }
  }
  return std::nullopt;
}

}  // namespace clgauge
