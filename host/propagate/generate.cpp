// Seeded graph generators. Every random number comes from Philox4x32-10 keyed by a
// stream seed derived as XXH3-64 of "<seed>/propagate/<generator>/<stream>", counter =
// element index, so a graph is a pure function of (kind, nodes, edges, seed, a, b, c).
//   edges:    rmat: word 0 of element i*levels + l picks the quadrant of level l
//             (u = (w >> 8) * 2^-24 against a, a+b, a+b+c); a node id >= nodes folds
//             by modulo. uniform: words 0 and 1 of element i, modulo nodes.
//   weights:  uniform [-1, 1) (random_element), element i.
//   rel_mult: 1 + 0.5 * uniform [-1, 1), element i.
//   rel_code: word 0 of element i, modulo 8.
//   key_rank: word 0 of element u, modulo nodes (ties are broken by node id).
// The CSR keeps edges of one source in generation order.

#include <Random123/philox.h>

#include <cmath>
#include <limits>
#include <string>

#include "clgauge/error.hpp"
#include "clgauge/hash.hpp"
#include "clgauge/propagate.hpp"
#include "clgauge/random.hpp"

namespace clgauge {
namespace {

using Philox = r123::Philox4x32_R<10>;

Philox::ctr_type words(std::uint64_t stream, std::uint64_t index) {
  const Philox::key_type key = {
      {static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32)}};
  const Philox::ctr_type ctr = {
      {static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(index >> 32), 0u, 0u}};
  return Philox()(ctr, key);
}

std::uint64_t stream(std::uint64_t seed, const char* generator, const char* name) {
  return xxh3_64(std::to_string(seed) + "/propagate/" + generator + "/" + name);
}

void check_sizes(std::int32_t nodes, std::int64_t edges) {
  if (nodes < 1)
    throw Error(ReasonCode::bad_input, "nodes: " + std::to_string(nodes) + " must be >= 1");
  if (edges < 0 || edges > std::numeric_limits<std::int32_t>::max()) {
    throw Error(ReasonCode::bad_input, "edges: " + std::to_string(edges) + " outside [0, 2^31)");
  }
}

// Builds the CSR from generated (src, dst) pairs, keeping generation order per source,
// and draws the edge and node attributes.
Graph assemble(std::int32_t nodes, const std::vector<std::int32_t>& src,
               const std::vector<std::int32_t>& dst, std::uint64_t seed, const char* generator) {
  const std::size_t n = static_cast<std::size_t>(nodes), e = src.size();
  Graph g;
  g.indptr.assign(n + 1, 0);
  for (const auto s : src) ++g.indptr[static_cast<std::size_t>(s) + 1];
  for (std::size_t u = 0; u < n; ++u) g.indptr[u + 1] += g.indptr[u];
  std::vector<std::int32_t> cursor(g.indptr.begin(), g.indptr.end() - 1);
  std::vector<std::size_t> slot(e);
  for (std::size_t i = 0; i < e; ++i)
    slot[i] = static_cast<std::size_t>(cursor[static_cast<std::size_t>(src[i])]++);
  g.indices.resize(e);
  g.weights.resize(e);
  g.rel_code.resize(e);
  g.rel_mult.resize(e);
  const auto sw = stream(seed, generator, "weights"), sm = stream(seed, generator, "rel_mult");
  const auto sc = stream(seed, generator, "rel_code"), sk = stream(seed, generator, "key_rank");
  for (std::size_t i = 0; i < e; ++i) {
    const std::size_t j = slot[i];
    g.indices[j] = dst[i];
    g.weights[j] = random_element(sw, i, Distribution::uniform);
    g.rel_mult[j] = 1.0f + 0.5f * random_element(sm, i, Distribution::uniform);
    g.rel_code[j] = static_cast<std::int32_t>(words(sc, i)[0] % 8u);
  }
  g.key_rank.resize(n);
  for (std::size_t u = 0; u < n; ++u) {
    g.key_rank[u] = static_cast<std::int32_t>(words(sk, u)[0] % static_cast<std::uint32_t>(nodes));
  }
  return g;
}

}  // namespace

Graph generate_rmat(std::int32_t nodes, std::int64_t edges, std::uint64_t seed, RmatParams abc) {
  check_sizes(nodes, edges);
  const double a = abc.a, b = abc.b, c = abc.c;
  if (!(a >= 0 && b >= 0 && c >= 0 && a + b + c <= 1.0)) {
    throw Error(ReasonCode::bad_input, "rmat: a, b, c must be >= 0 with a + b + c <= 1");
  }
  int levels = 0;
  while ((std::int64_t{1} << levels) < nodes) ++levels;
  const auto s = stream(seed, "rmat", "edges");
  std::vector<std::int32_t> src(static_cast<std::size_t>(edges)), dst(src.size());
  for (std::size_t i = 0; i < src.size(); ++i) {
    std::int64_t r = 0, t = 0;
    for (int l = 0; l < levels; ++l) {
      const double u = static_cast<double>(words(s, i * static_cast<std::size_t>(levels) +
                                                        static_cast<std::size_t>(l))[0] >>
                                           8) /
                       16777216.0;
      const int src_bit = u >= a + b ? 1 : 0;                               // quadrants c, d
      const int dst_bit = (u >= a && u < a + b) || u >= a + b + c ? 1 : 0;  // quadrants b, d
      r = r * 2 + src_bit;
      t = t * 2 + dst_bit;
    }
    src[i] = static_cast<std::int32_t>(r % nodes);
    dst[i] = static_cast<std::int32_t>(t % nodes);
  }
  return assemble(nodes, src, dst, seed, "rmat");
}

Graph generate_uniform(std::int32_t nodes, std::int64_t edges, std::uint64_t seed) {
  check_sizes(nodes, edges);
  const auto s = stream(seed, "uniform", "edges");
  std::vector<std::int32_t> src(static_cast<std::size_t>(edges)), dst(src.size());
  for (std::size_t i = 0; i < src.size(); ++i) {
    const auto w = words(s, i);
    src[i] = static_cast<std::int32_t>(w[0] % static_cast<std::uint32_t>(nodes));
    dst[i] = static_cast<std::int32_t>(w[1] % static_cast<std::uint32_t>(nodes));
  }
  return assemble(nodes, src, dst, seed, "uniform");
}

}  // namespace clgauge
