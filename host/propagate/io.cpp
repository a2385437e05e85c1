// Graph and seeds files (binary CSR and JSON) and the JSON forms of results.
// Formats are documented in docs/propagate.md and include/clgauge/propagate.hpp.

#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

#include <nlohmann/json.hpp>

#include "clgauge/error.hpp"
#include "clgauge/hash.hpp"
#include "clgauge/propagate.hpp"
#include "runtime/json_io.hpp"

static_assert(std::endian::native == std::endian::little,
              "the binary graph format is little-endian; add byte swapping for this host");

namespace clgauge {
namespace {

constexpr char kMagic[8] = {'C', 'L', 'G', 'P', 'R', 'O', 'P', '1'};
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kHeaderBytes = 32;

[[noreturn]] void bad(const std::string& message) {
  throw Error(ReasonCode::bad_input, message);
}

std::string g9(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
  return buf;
}

template <class T>
void put(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

template <class T>
void put_array(std::string& out, const std::vector<T>& v) {
  if (!v.empty()) out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

template <class T>
std::vector<T> get_array(std::string_view bytes, std::size_t& at, std::uint64_t count) {
  std::vector<T> v(static_cast<std::size_t>(count));
  if (count) std::memcpy(v.data(), bytes.data() + at, v.size() * sizeof(T));
  at += v.size() * sizeof(T);
  return v;
}

std::string int_array(const std::vector<std::int32_t>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(v[i]);
  }
  return s + "]";
}

std::string float_array(const std::vector<float>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += io::json_number(v[i]);  // non-finite values are null: strict JSON
  }
  return s + "]";
}

nlohmann::json parse_json(std::string_view text, const char* what) {
  io::check_json_depth(text, what);  // bounded nesting before any recursion
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e400
    bad(std::string(what) + ": not valid JSON (" + io::excerpt_text(e.what(), 200) + ")");
  }
}

const nlohmann::json& field(const nlohmann::json& j, const char* name, const char* what) {
  if (!j.is_object()) bad(std::string(what) + ": expected a JSON object");
  const auto it = j.find(name);
  if (it == j.end()) bad(std::string(name) + ": missing from the " + what);
  if (!it->is_array()) bad(std::string(name) + ": expected an array");
  return *it;
}

std::vector<std::int32_t> int32s(const nlohmann::json& j, const char* name, const char* what) {
  const auto& a = field(j, name, what);
  std::vector<std::int32_t> v;
  v.reserve(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto& x = a[i];
    if (!x.is_number_integer() ||
        x.get<std::int64_t>() < std::numeric_limits<std::int32_t>::min() ||
        x.get<std::int64_t>() > std::numeric_limits<std::int32_t>::max()) {
      bad(std::string(name) + "[" + std::to_string(i) + "]: not an int32 (" + io::excerpt(x) + ")");
    }
    v.push_back(x.get<std::int32_t>());
  }
  return v;
}

std::vector<float> floats(const nlohmann::json& j, const char* name, const char* what) {
  const auto& a = field(j, name, what);
  std::vector<float> v;
  v.reserve(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_number())
      bad(std::string(name) + "[" + std::to_string(i) + "]: not a number (" + io::excerpt(a[i]) +
          ")");
    v.push_back(static_cast<float>(a[i].get<double>()));
  }
  return v;
}

std::string read_all(const std::string& path, const char* what) {
  return io::read_input_file(path, what);  // missing, a directory, unreadable: bad_input
}

}  // namespace

std::string graph_to_binary(const Graph& g) {
  std::string out(kMagic, sizeof kMagic);
  put(out, kVersion);
  put(out, std::uint32_t{0});
  put(out, static_cast<std::uint64_t>(g.nodes()));
  put(out, static_cast<std::uint64_t>(g.indices.size()));
  put_array(out, g.indptr.empty() ? std::vector<std::int32_t>{0} : g.indptr);
  put_array(out, g.indices);
  put_array(out, g.weights);
  put_array(out, g.rel_code);
  put_array(out, g.rel_mult);
  put_array(out, g.key_rank);
  put(out, xxh3_64(out));
  return out;
}

Graph graph_from_binary(std::string_view bytes) {
  if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    bad("graph file: not a clgauge binary graph (magic is not CLGPROP1)");
  }
  if (bytes.size() < kHeaderBytes) {
    bad("graph file: truncated header (" + std::to_string(bytes.size()) + " of " +
        std::to_string(kHeaderBytes) + " bytes)");
  }
  std::uint32_t version = 0;
  std::uint64_t n = 0, e = 0;
  std::memcpy(&version, bytes.data() + 8, 4);
  std::memcpy(&n, bytes.data() + 16, 8);
  std::memcpy(&e, bytes.data() + 24, 8);
  if (version != kVersion) bad("graph file: unsupported version " + std::to_string(version));
  constexpr std::uint64_t kMax = std::numeric_limits<std::int32_t>::max() - 1;
  if (n > kMax) bad("graph file: n = " + std::to_string(n) + " exceeds the int32 limit");
  if (e > kMax) bad("graph file: E = " + std::to_string(e) + " exceeds the int32 limit");
  const std::uint64_t want = kHeaderBytes + 4 * (n + 1) + 16 * e + 4 * n + 8;
  if (bytes.size() != want) {
    bad("graph file: " + std::string(bytes.size() < want ? "truncated" : "trailing bytes") +
        " (expected " + std::to_string(want) + " bytes for n = " + std::to_string(n) +
        ", E = " + std::to_string(e) + ", got " + std::to_string(bytes.size()) + ")");
  }
  std::uint64_t sum = 0;
  std::memcpy(&sum, bytes.data() + want - 8, 8);
  if (sum != xxh3_64(bytes.substr(0, want - 8)))
    bad("graph file: checksum mismatch (corrupt file)");
  Graph g;
  std::size_t at = kHeaderBytes;
  g.indptr = get_array<std::int32_t>(bytes, at, n + 1);
  g.indices = get_array<std::int32_t>(bytes, at, e);
  g.weights = get_array<float>(bytes, at, e);
  g.rel_code = get_array<std::int32_t>(bytes, at, e);
  g.rel_mult = get_array<float>(bytes, at, e);
  g.key_rank = get_array<std::int32_t>(bytes, at, n);
  return g;
}

std::string graph_to_json(const Graph& g) {
  return "{\"indptr\":" + int_array(g.indptr) + ",\"indices\":" + int_array(g.indices) +
         ",\"weights\":" + float_array(g.weights) + ",\"rel_code\":" + int_array(g.rel_code) +
         ",\"rel_mult\":" + float_array(g.rel_mult) + ",\"key_rank\":" + int_array(g.key_rank) +
         "}";
}

Graph graph_from_json(std::string_view text) {
  const auto j = parse_json(text, "graph");
  const char* what = "graph object";
  Graph g;
  g.indptr = int32s(j, "indptr", what);
  g.indices = int32s(j, "indices", what);
  g.weights = floats(j, "weights", what);
  g.rel_code = int32s(j, "rel_code", what);
  g.rel_mult = floats(j, "rel_mult", what);
  g.key_rank = int32s(j, "key_rank", what);
  return g;
}

Graph read_graph_file(const std::string& path) {
  const std::string bytes = read_all(path, "graph file");
  std::size_t first = 0;
  while (first < bytes.size() && std::isspace(static_cast<unsigned char>(bytes[first]))) ++first;
  const bool json = first < bytes.size() && bytes[first] == '{';
  try {
    Graph g = json ? graph_from_json(bytes) : graph_from_binary(bytes);
    g.validate();
    return g;
  } catch (const Error& e) {
    throw Error(e.code(), std::string(e.what()) + " (in '" + path + "')");
  }
}

void write_graph_file(const std::string& path, const Graph& g, bool binary) {
  const std::string bytes = binary ? graph_to_binary(g) : graph_to_json(g) + "\n";
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw Error(ReasonCode::io_error, "graph file '" + path + "': cannot write");
}

std::string seeds_to_json(const Seeds& s) {
  return "{\"seed_nodes\":" + int_array(s.nodes) + ",\"seed_weights\":" + float_array(s.weights) +
         "}";
}

Seeds seeds_from_json(std::string_view text) {
  const auto j = parse_json(text, "seeds");
  Seeds s;
  s.nodes = int32s(j, "seed_nodes", "seeds object");
  s.weights = floats(j, "seed_weights", "seeds object");
  return s;
}

Seeds read_seeds_file(const std::string& path) {
  try {
    return seeds_from_json(read_all(path, "seeds file"));
  } catch (const Error& e) {
    if (e.code() != ReasonCode::bad_input) throw;
    throw Error(e.code(), std::string(e.what()) + " (in '" + path + "')");
  }
}

std::string to_json(const PropagateMetrics& m) {
  return "{\"pops\":" + std::to_string(m.pops) + ",\"iters\":" + std::to_string(m.iters) +
         ",\"propagations\":" + std::to_string(m.propagations) +
         ",\"radius_cap_hits\":" + std::to_string(m.radius_cap_hits) +
         ",\"layer_cap_hits\":" + std::to_string(m.layer_cap_hits) +
         ",\"node_budget_hits\":" + std::to_string(m.node_budget_hits) +
         ",\"max_delta_local\":" + io::json_number(m.max_delta_local) + "}";
}

std::string to_json(const PropagateResult& r) {
  return "{\"d_nodes\":" + int_array(r.d_nodes) + ",\"d_vals\":" + float_array(r.d_vals) +
         ",\"metrics\":" + to_json(r.metrics) + "}";
}

std::string to_json(const PropagateParams& p) {
  // node_budget may be +inf (no budget), which JSON cannot spell: written as null.
  const std::string budget = std::isfinite(p.node_budget) ? g9(p.node_budget) : "null";
  return "{\"rate\":" + g9(p.rate) + ",\"floor\":" + g9(p.floor) +
         ",\"radius_cap\":" + std::to_string(p.radius_cap) +
         ",\"iter_cap_layers\":" + std::to_string(p.iter_cap_layers) +
         ",\"node_budget\":" + budget + ",\"eps\":" + g9(p.eps) + "}";
}

std::string PropagateDifference::describe() const {
  return "graph " + std::to_string(graph) + ": " + field + "[" + std::to_string(index) +
         "] expected " + expected + ", got " + actual;
}

std::optional<PropagateDifference> first_difference(const PropagateBatchResult& want,
                                                    const PropagateBatchResult& got) {
  auto diff = [](std::size_t g, std::string f, std::size_t i, std::string a, std::string b) {
    return PropagateDifference{g, std::move(f), i, std::move(a), std::move(b)};
  };
  auto bits = [](float v) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.9g (0x%08x)", static_cast<double>(v),
                  std::bit_cast<std::uint32_t>(v));
    return std::string(buf);
  };
  if (want.results.size() != got.results.size()) {
    return diff(0, "results.size", 0, std::to_string(want.results.size()),
                std::to_string(got.results.size()));
  }
  for (std::size_t g = 0; g < want.results.size(); ++g) {
    const auto& a = want.results[g];
    const auto& b = got.results[g];
    for (std::size_t i = 0; i < std::min(a.d_nodes.size(), b.d_nodes.size()); ++i) {
      if (a.d_nodes[i] != b.d_nodes[i]) {
        return diff(g, "d_nodes", i, std::to_string(a.d_nodes[i]), std::to_string(b.d_nodes[i]));
      }
      if (std::bit_cast<std::uint32_t>(a.d_vals[i]) != std::bit_cast<std::uint32_t>(b.d_vals[i])) {
        return diff(g, "d_vals", i, bits(a.d_vals[i]), bits(b.d_vals[i]));
      }
    }
    if (a.d_nodes.size() != b.d_nodes.size()) {
      return diff(g, "d_nodes.size", 0, std::to_string(a.d_nodes.size()),
                  std::to_string(b.d_nodes.size()));
    }
    const auto& ma = a.metrics;
    const auto& mb = b.metrics;
    const std::pair<const char*, std::pair<std::int64_t, std::int64_t>> counters[] = {
        {"pops", {ma.pops, mb.pops}},
        {"iters", {ma.iters, mb.iters}},
        {"propagations", {ma.propagations, mb.propagations}},
        {"radius_cap_hits", {ma.radius_cap_hits, mb.radius_cap_hits}},
        {"layer_cap_hits", {ma.layer_cap_hits, mb.layer_cap_hits}},
        {"node_budget_hits", {ma.node_budget_hits, mb.node_budget_hits}}};
    for (const auto& [name, v] : counters) {
      if (v.first != v.second) {
        return diff(g, std::string("metrics.") + name, 0, std::to_string(v.first),
                    std::to_string(v.second));
      }
    }
    if (std::bit_cast<std::uint32_t>(ma.max_delta_local) !=
        std::bit_cast<std::uint32_t>(mb.max_delta_local)) {
      return diff(g, "metrics.max_delta_local", 0, bits(ma.max_delta_local),
                  bits(mb.max_delta_local));
    }
  }
  return std::nullopt;
}

}  // namespace clgauge
