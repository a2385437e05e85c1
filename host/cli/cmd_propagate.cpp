// clgauge propagate: run layered propagation on a graph file (device, CPU reference or
// the original heap T1), or generate a seeded graph file.

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include <unistd.h>

#include "clgauge/error.hpp"
#include "clgauge/hash.hpp"
#include "clgauge/propagate.hpp"
#include "cli/command.hpp"

namespace clgauge::cli {
namespace {

struct PropagateFlags {
  std::string graph, seeds_file, seed_nodes, seed_weights;
  PropagateParams params;
  std::string backend = "opencl";
  bool strict_parity = false;
  bool json = false;
  DeviceFlags device;
  // Generator mode.
  std::string generate, out;
  std::int64_t nodes = -1, edges = -1;
  std::uint64_t seed = 42;
  RmatParams rmat;
};

[[noreturn]] void bad(const std::string& message) {
  throw Error(ReasonCode::bad_input, message);
}

// "1,2,3" -> values; names the field and the first bad position.
template <class T>
std::vector<T> parse_list(const std::string& text, const char* field) {
  std::vector<T> out;
  if (text.empty()) return out;
  std::size_t start = 0;
  for (std::size_t i = 0;; ++i) {
    const std::size_t end = text.find(',', start);
    const std::string item =
        text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    T v{};
    const auto r = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || r.ec != std::errc{} || r.ptr != item.data() + item.size()) {
      bad(std::string(field) + "[" + std::to_string(i) + "]: '" + item + "' is not a valid " +
          (std::is_integral_v<T> ? "int32" : "number"));
    }
    out.push_back(v);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

int run_generate(const PropagateFlags& f, Streams s) {
  if (f.out.empty()) bad("--out: required with --generate");
  // Checked before generating: a graph of 10^7 edges must not be built only to be lost.
  const std::filesystem::path out_path(f.out);
  const std::filesystem::path parent =
      out_path.has_parent_path() ? out_path.parent_path() : std::filesystem::path(".");
  if (std::filesystem::is_directory(out_path) || !std::filesystem::is_directory(parent) ||
      ::access(parent.c_str(), W_OK) != 0) {
    bad("--out '" + f.out + "': cannot write there (its folder is missing or not writable)");
  }
  if (f.nodes < 1 || f.nodes > std::numeric_limits<std::int32_t>::max() - 1) {
    bad("--nodes: " + std::to_string(f.nodes) + " must be in [1, 2^31 - 1)");
  }
  if (f.edges < 0) bad("--edges: " + std::to_string(f.edges) + " must be >= 0");
  const auto n = static_cast<std::int32_t>(f.nodes);
  Graph g;
  if (f.generate == "rmat") {
    g = generate_rmat(n, f.edges, f.seed, f.rmat);
  } else if (f.generate == "uniform") {
    g = generate_uniform(n, f.edges, f.seed);
  } else {
    bad("--generate: unknown generator '" + f.generate + "' (want rmat|uniform)");
  }
  const bool json = f.out.size() >= 5 && f.out.substr(f.out.size() - 5) == ".json";
  write_graph_file(f.out, g, !json);
  s.out << "wrote " << f.out << " (" << (json ? "json" : "binary") << ", " << g.nodes()
        << " nodes, " << g.edges() << " edges, seed " << f.seed << ")\n";
  return 0;
}

Seeds read_seeds(const PropagateFlags& f) {
  if (!f.seeds_file.empty()) {
    if (!f.seed_nodes.empty() || !f.seed_weights.empty()) {
      bad("--seeds-file: give either a seeds file or --seed-nodes/--seed-weights, not both");
    }
    return read_seeds_file(f.seeds_file);
  }
  Seeds seeds;
  seeds.nodes = parse_list<std::int32_t>(f.seed_nodes, "seed_nodes");
  seeds.weights = parse_list<float>(f.seed_weights, "seed_weights");
  return seeds;
}

int run_propagate(const PropagateFlags& f, Streams s) {
  if (!f.generate.empty()) return run_generate(f, s);
  if (f.graph.empty()) bad("--graph: required (or --generate to write a graph)");
  if (f.backend != "opencl" && f.backend != "cpu" && f.backend != "heap") {
    bad("--backend: unknown '" + f.backend + "' (want opencl|cpu|heap)");
  }
  if (f.strict_parity && f.backend != "opencl") {
    bad("--strict-parity: compares the device with the CPU reference; needs --backend opencl");
  }
  // Every input is read and checked before any device work starts.
  f.params.validate();
  const Graph graph = read_graph_file(f.graph);
  const Seeds seeds = read_seeds(f);
  seeds.validate(graph.nodes());

  std::optional<Device> device;
  PropagateDispatch run;
  if (f.backend == "heap") {
    run.result.results.push_back(propagate_cpu_heap(graph, seeds, f.params));
    run.backend = "heap";
  } else {
    if (f.backend == "opencl") {
      if (list_devices().empty()) {
        s.err << "clgauge propagate: no OpenCL device found; running the CPU reference\n";
      } else {
        device = f.device.open();
      }
    }
    PropagateDispatcher dispatcher(
        {true, propagate_backend_from_string(f.backend), f.strict_parity},
        device ? &*device : nullptr, f.device.cache());
    run = dispatcher.run(std::span<const Graph>(&graph, 1), std::span<const Seeds>(&seeds, 1),
                         f.params);
    if (run.fallback_reason == "build_failed" || run.fallback_reason == "launch_failed" ||
        run.fallback_reason == "too_large") {
      s.err << "clgauge propagate: device path not used (" << run.fallback_reason
            << "); ran the CPU reference\n";
    }
  }
  const PropagateResult& r = run.result.results.front();
  const std::string fingerprint =
      hex16(environment_fingerprint(device ? &device->info() : nullptr));
  if (f.json) {
    std::string body = to_json(r);
    body.pop_back();
    body += ",\"backend\":\"" + run.backend + "\",\"env_fingerprint\":\"" + fingerprint + "\"";
    if (run.parity_checked)
      body += std::string(",\"strict_parity\":") +
              (run.parity_difference ? "\"mismatch\"" : "\"identical\"");
    s.out << body << "}\n";
  } else {
    char buf[64];
    for (std::size_t i = 0; i < r.d_nodes.size(); ++i) {
      std::snprintf(buf, sizeof buf, "%d %.9g\n", r.d_nodes[i], static_cast<double>(r.d_vals[i]));
      s.out << buf;
    }
    s.out << "# backend " << run.backend << ", env_fingerprint " << fingerprint << "\n"
          << "# metrics " << to_json(r.metrics) << "\n";
    if (run.parity_checked && !run.parity_difference) s.out << "# strict parity: identical bits\n";
  }
  if (run.parity_difference) {
    s.err << "clgauge propagate: strict parity failed: " << run.parity_difference->describe()
          << " (printed the CPU reference)\n";
    return 1;
  }
  return 0;
}

}  // namespace

Runner add_propagate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "propagate",
      "layered graph propagation (T1) on the device or the CPU, or --generate a graph");
  auto f = std::make_shared<PropagateFlags>();
  cmd->add_option("--graph", f->graph, "graph file (binary CSR or JSON)")
      ->check(input_file_validator());
  cmd->add_option("--seeds-file", f->seeds_file,
                  "seeds JSON {\"seed_nodes\": [...], \"seed_weights\": [...]}")
      ->check(input_file_validator());
  cmd->add_option("--seed-nodes", f->seed_nodes, "comma-separated seed node ids");
  cmd->add_option("--seed-weights", f->seed_weights, "comma-separated seed weights");
  cmd->add_option("--rate", f->params.rate, "decay base in (0, 1]")->capture_default_str();
  cmd->add_option("--floor", f->params.floor, "lower bound of the decay table")
      ->capture_default_str();
  cmd->add_option("--radius-cap", f->params.radius_cap, "deepest layer reached")
      ->capture_default_str();
  cmd->add_option("--iter-cap-layers", f->params.iter_cap_layers, "layer cap")
      ->capture_default_str();
  cmd->add_option("--node-budget", f->params.node_budget,
                  "|acc| at which a node stops expanding (default inf)");
  cmd->add_option("--eps", f->params.eps, "drop contributions and outputs below this")
      ->capture_default_str();
  cmd->add_option("--backend", f->backend, "opencl | cpu | heap")->capture_default_str();
  cmd->add_flag("--strict-parity", f->strict_parity,
                "also run the CPU reference and require identical bits");
  cmd->add_flag("--json", f->json, "print one JSON object");
  f->device.add_to(*cmd);
  cmd->add_option("--generate", f->generate, "write a seeded graph: rmat | uniform");
  cmd->add_option("--nodes", f->nodes, "generator: node count");
  cmd->add_option("--edges", f->edges, "generator: edge count");
  cmd->add_option("--seed", f->seed, "generator: seed")->capture_default_str();
  cmd->add_option("--out", f->out, "generator: output file (.json: JSON form, else binary)");
  cmd->add_option("--rmat-a", f->rmat.a, "R-MAT a")->capture_default_str();
  cmd->add_option("--rmat-b", f->rmat.b, "R-MAT b")->capture_default_str();
  cmd->add_option("--rmat-c", f->rmat.c, "R-MAT c (d = 1 - a - b - c)")->capture_default_str();
  return [f](Streams s) { return run_propagate(*f, s); };
}

}  // namespace clgauge::cli
