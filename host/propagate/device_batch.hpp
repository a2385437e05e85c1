#pragma once
// The host side of the device path, kept apart so tests can check the packing alone.

#include <cstdint>
#include <span>
#include <vector>

#include "clgauge/propagate.hpp"

namespace clgauge::propagate_detail {

// A validated batch, concatenated: node ids and edge ids are global over the batch.
struct PackedBatch {
  std::int32_t n = 0, e = 0;
  std::vector<std::int32_t> graph_of;                // n
  std::vector<std::int32_t> o_ptr, o_dst;            // out-CSR
  std::vector<std::int32_t> t_ptr, t_src;            // in-CSR, canonical order per target
  std::vector<float> t_w, t_rm;                      // flushed weight / rel_mult per in-edge
  std::vector<std::uint8_t> front0;                  // F_0 flags
  std::vector<float> c0;                             // layer-0 values (dense)
  std::vector<std::int32_t> node_offset;             // G+1
  std::vector<std::int64_t> frontier0;               // |F_0| per graph
  std::vector<float> max_c0;                         // max |c0| per graph
};

// Params, every graph and every seed set, in batch order; Error(bad_input) names the
// graph (in a batch of more than one), the field and the first bad position.
void validate_batch(std::span<const Graph> graphs, std::span<const Seeds> seeds,
                    const PropagateParams& p);

// Validates everything (Error(bad_input) naming graph, field and position) and packs.
PackedBatch pack_batch(std::span<const Graph> graphs, std::span<const Seeds> seeds,
                       const PropagateParams& p);

}  // namespace clgauge::propagate_detail
