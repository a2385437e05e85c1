#pragma once
// The host side of the device path, kept apart so tests can check the packing alone.

#include <cstdint>
#include <span>
#include <vector>

#include "clgauge/propagate.hpp"

namespace clgauge::propagate_detail {

// Validated graphs, concatenated: node ids and edge ids are global over the batch.
struct PackedGraphs {
  std::int32_t n = 0, e = 0;
  std::vector<std::int32_t> graph_of;      // n
  std::vector<std::int32_t> o_ptr, o_dst;  // out-CSR
  std::vector<std::int32_t> t_ptr, t_src;  // in-CSR, canonical order per target
  std::vector<float> t_w, t_rm;            // flushed weight / rel_mult per in-edge
  std::vector<std::int32_t> node_offset;   // G+1
};

// Layer 0 of every graph, dense over the batch.
struct PackedSeeds {
  std::vector<std::uint8_t> front0;     // F_0 flags
  std::vector<float> c0;                // layer-0 values
  std::vector<std::int64_t> frontier0;  // |F_0| per graph
  std::vector<float> max_c0;            // max |c0| per graph
};

// Params, every graph and every seed set, in batch order; Error(bad_input) names the
// graph (in a batch of more than one), the field and the first bad position.
void validate_batch(std::span<const Graph> graphs, std::span<const Seeds> seeds,
                    const PropagateParams& p);

// Packs validated graphs; Error(invalid_config) when the batch exceeds int32 indexing.
PackedGraphs pack_graphs(std::span<const Graph> graphs);
// Packs validated seeds, one set per graph.
PackedSeeds pack_seeds(const PackedGraphs& graphs, std::span<const Seeds> seeds);

}  // namespace clgauge::propagate_detail
