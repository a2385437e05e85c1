// Compiles a GEMM config for a device and runs it: the packing pass its family asks for
// (gemm_pack.cl), then the family's kernel with the geometry the family gives.

#include <algorithm>
#include <string>
#include <vector>

#include <boost/compute/exception/opencl_error.hpp>

#include "clgauge/error.hpp"
#include "clgauge/gemm.hpp"
#include "clgauge/kernels.hpp"
#include "clgauge/tuning_db.hpp"
#include "gemm/family.hpp"

namespace bc = boost::compute;

namespace clgauge {
namespace {

using gemm_detail::ceil_div;

void ensure_size(bc::buffer& buf, bc::context& ctx, std::size_t floats) {
  const std::size_t bytes = std::max<std::size_t>(floats, 1) * sizeof(float);
  if (buf.get() == nullptr || buf.size() < bytes) buf = bc::buffer(ctx, bytes);
}

void require_buffer(const bc::buffer& b, std::size_t elements, const char* name) {
  if (b.size() < elements * sizeof(float)) {
    throw Error(ReasonCode::bad_input, std::string("buffer ") + name + " holds " +
                                           std::to_string(b.size() / sizeof(float)) +
                                           " floats, the problem needs " +
                                           std::to_string(elements));
  }
}

}  // namespace

GemmKernel::GemmKernel(Device& device, const ProgramCache& cache, GemmConfig config)
    : device_(&device), config_(std::move(config)) {
  const auto& family = gemm_detail::family_impl(config_.family);
  if (auto why = gemm_config_invalid_reason(config_, device.info())) {
    throw Error(ReasonCode::invalid_config, *why);
  }
  const auto main = build_program(device, cache, config_.family + " " + config_.id(),
                                  family.source(), family.build_options(config_));
  main_ = main.program.create_kernel(family.info().kernel);
  if (const auto post = family.post_entry(config_); !post.empty()) {
    post_ = main.program.create_kernel(post);
  }
  build_ms_ += main.build_ms;
  from_cache_ = main.from_cache;

  const auto needs = family.packing(config_);
  auto build_pack = [&](std::int64_t panel, bc::kernel& out) {
    if (panel == 0) return;
    const auto built = build_program(device, cache, "gemm_pack", kernel_source("gemm_pack"),
                                     "-cl-std=CL1.2 -DPANEL=" + std::to_string(panel));
    out = built.program.create_kernel("pack_panels");
    build_ms_ += built.build_ms;
    from_cache_ = from_cache_ && built.from_cache;
  };
  build_pack(needs.panel_b, pack_b_);
  build_pack(needs.panel_a, pack_a_);
}

GemmTiming GemmKernel::run(const GemmProblem& problem, const bc::buffer& a, const bc::buffer& b,
                           bc::buffer& c) {
  problem.validate();
  const GemmProblem p = problem.resolved();
  require_buffer(a, p.a_elements(), "A");
  require_buffer(b, p.b_elements(), "B");
  require_buffer(c, p.c_elements(), "C");

  const auto& family = gemm_detail::family_impl(config_.family);
  const auto needs = family.packing(config_);
  const std::int64_t kp = static_cast<std::int64_t>(ceil_div(p.k, needs.k_block)) * needs.k_block;

  auto& q = device_->queue();
  auto& ctx = device_->context();
  try {
    auto enqueue_pack = [&](bc::kernel& kern, std::int64_t rows, std::int64_t panel,
                            const bc::buffer& src, gemm_detail::Strides s, bc::buffer& dst) {
      const std::size_t panels = ceil_div(rows, panel);
      ensure_size(dst, ctx, panels * static_cast<std::size_t>(kp * panel));
      kern.set_args(static_cast<cl_int>(rows), static_cast<cl_int>(p.k), static_cast<cl_int>(kp),
                    src, static_cast<cl_long>(s.off), static_cast<cl_long>(s.sp),
                    static_cast<cl_long>(s.sq), dst);
      const std::size_t global[2] = {static_cast<std::size_t>(kp), panels};
      return q.enqueue_nd_range_kernel(kern, 2, nullptr, global, nullptr);
    };

    std::vector<bc::event> packs;
    if (needs.panel_a > 0) {
      packs.push_back(
          enqueue_pack(pack_a_, p.m, needs.panel_a, a, gemm_detail::a_strides(p), a_panels_));
    }
    if (needs.panel_b > 0) {
      packs.push_back(
          enqueue_pack(pack_b_, p.n, needs.panel_b, b, gemm_detail::b_strides(p), b_panels_));
    }

    const std::size_t scratch = family.scratch_floats(config_, p);
    if (scratch > 0) ensure_size(scratch_, ctx, scratch);
    const gemm_detail::LaunchOperands ops{p,
                                          a,
                                          b,
                                          c,
                                          needs.panel_a > 0 ? &a_panels_ : nullptr,
                                          needs.panel_b > 0 ? &b_panels_ : nullptr,
                                          kp,
                                          scratch > 0 ? &scratch_ : nullptr};
    const auto g = family.bind(main_, config_, ops);
    bc::event ev_main =
        q.enqueue_nd_range_kernel(main_, 2, nullptr, g.global.data(), g.local.data());
    bc::event ev_last = ev_main;
    if (post_.get() != nullptr) {
      const auto gp = family.bind_post(post_, config_, ops);
      ev_last = q.enqueue_nd_range_kernel(post_, 2, nullptr, gp.global.data(), gp.local.data());
    }
    ev_last.wait();

    GemmTiming t;
    t.kernel_ms = event_ms(ev_main) + (post_.get() != nullptr ? event_ms(ev_last) : 0.0);
    for (const auto& e : packs) t.pack_ms += event_ms(e);
    t.total_ms = span_ms(packs.empty() ? ev_main : packs.front(), ev_last);
    return t;
  } catch (const bc::opencl_error& e) {
    throw Error(ReasonCode::launch_failed,
                config_.family + " " + config_.id() + " on " + p.shape() + ": " + e.what());
  }
}

GemmTiming gemm(Device& device, const GemmProblem& problem, const bc::buffer& a,
                const bc::buffer& b, bc::buffer& c, const std::optional<GemmConfig>& config,
                const ProgramCache& cache) {
  const GemmProblem p = problem.resolved();
  // No config: the tuning database's choice (exact, nearest shape, else the device default).
  GemmKernel kernel(device, cache, config ? *config : select_gemm_config(device.info(), p).config);
  return kernel.run(problem, a, b, c);
}

}  // namespace clgauge
