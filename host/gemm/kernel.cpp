// Compiles a GEMM config for a device and runs it: pack op(A) and op(B) into panels
// (gemm_pack.cl), then the family's kernel.

#include <string>

#include <boost/compute/exception/opencl_error.hpp>

#include "clgauge/error.hpp"
#include "clgauge/gemm.hpp"
#include "clgauge/kernels.hpp"

namespace bc = boost::compute;

namespace clgauge {
namespace {

std::string define_options(const GemmConfig& c) {
  // OpenCL C 1.2 on every device; no fast-math or mad flags: parity needs exact fma.
  // -w: drivers warn about things that are not ours (PoCL on AVX2 warns that float16
  // changes its internal ABI); build errors still arrive with the full log.
  std::string opts = "-cl-std=CL1.2 -w";
  for (const auto& [name, value] : c.params) opts += " -D" + name + "=" + std::to_string(value);
  return opts;
}

std::size_t ceil_div(std::int64_t a, std::int64_t b) {
  return static_cast<std::size_t>((a + b - 1) / b);
}

// Strides so that X(p, k) = src[off + p * sp + k * sk] for the matrix being packed.
struct Strides {
  std::int64_t off;
  std::int64_t sp;
  std::int64_t sk;
};

// op(A)(i, k): p = i.
Strides a_strides(const GemmProblem& p) {
  const bool row_walk = (p.layout == Layout::row) == (p.trans_a == Op::n);
  return row_walk ? Strides{p.offset_a, p.lda, 1} : Strides{p.offset_a, 1, p.lda};
}

// op(B)(k, j): p = j.
Strides b_strides(const GemmProblem& p) {
  const bool contiguous_j = (p.layout == Layout::row) == (p.trans_b == Op::n);
  return contiguous_j ? Strides{p.offset_b, 1, p.ldb} : Strides{p.offset_b, p.ldb, 1};
}

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
  const auto& family = gemm_family(config_.family);
  if (auto why = gemm_config_invalid_reason(config_, device.info())) {
    throw Error(ReasonCode::invalid_config, *why);
  }
  const bool regtile = family.name == "gemm.regtile";
  const auto main = build_program(device, cache, config_.family + " " + config_.id(),
                                  kernel_source(family.kernel), define_options(config_));
  main_ = main.program.create_kernel(family.kernel);
  build_ms_ += main.build_ms;
  from_cache_ = main.from_cache;

  const auto pack_src = kernel_source("gemm_pack");
  const auto panel_a = config_.get(regtile ? "MR" : "MWG");
  const auto panel_b = config_.get(regtile ? "NR" : "NWG");
  const auto pb = build_program(device, cache, "gemm_pack", pack_src,
                                "-cl-std=CL1.2 -DPANEL=" + std::to_string(panel_b));
  pack_b_ = pb.program.create_kernel("pack_panels");
  build_ms_ += pb.build_ms;
  from_cache_ = from_cache_ && pb.from_cache;
  if (!regtile || config_.get("PACK_A") == 1) {
    const auto pa = build_program(device, cache, "gemm_pack", pack_src,
                                  "-cl-std=CL1.2 -DPANEL=" + std::to_string(panel_a));
    pack_a_ = pa.program.create_kernel("pack_panels");
    build_ms_ += pa.build_ms;
    from_cache_ = from_cache_ && pa.from_cache;
  }
}

GemmTiming GemmKernel::run(const GemmProblem& problem, const bc::buffer& a, const bc::buffer& b,
                           bc::buffer& c) {
  problem.validate();
  const GemmProblem p = problem.resolved();
  require_buffer(a, p.a_elements(), "A");
  require_buffer(b, p.b_elements(), "B");
  require_buffer(c, p.c_elements(), "C");

  const bool regtile = config_.family == "gemm.regtile";
  const bool pack_a = !regtile || config_.get("PACK_A") == 1;
  const std::int64_t pa = config_.get(regtile ? "MR" : "MWG");
  const std::int64_t pb = config_.get(regtile ? "NR" : "NWG");
  const std::int64_t kblock = regtile ? 1 : config_.get("KWG");
  const std::int64_t kp = static_cast<std::int64_t>(ceil_div(p.k, kblock)) * kblock;
  const std::size_t panels_a = ceil_div(p.m, pa);
  const std::size_t panels_b = ceil_div(p.n, pb);
  const auto m = static_cast<cl_int>(p.m), n = static_cast<cl_int>(p.n);
  const auto k = static_cast<cl_int>(p.k), kpi = static_cast<cl_int>(kp);
  const std::int64_t sci = p.layout == Layout::row ? p.ldc : 1;
  const std::int64_t scj = p.layout == Layout::row ? 1 : p.ldc;

  auto& q = device_->queue();
  auto& ctx = device_->context();
  try {
    ensure_size(b_panels_, ctx, panels_b * static_cast<std::size_t>(kp * pb));
    if (pack_a) ensure_size(a_panels_, ctx, panels_a * static_cast<std::size_t>(kp * pa));

    auto enqueue_pack = [&](bc::kernel& kern, cl_int rows, const bc::buffer& src, Strides s,
                            bc::buffer& dst, std::size_t panels) {
      kern.set_args(rows, k, kpi, src, static_cast<cl_long>(s.off), static_cast<cl_long>(s.sp),
                    static_cast<cl_long>(s.sk), dst);
      const std::size_t global[2] = {static_cast<std::size_t>(kp), panels};
      return q.enqueue_nd_range_kernel(kern, 2, nullptr, global, nullptr);
    };

    GemmTiming t;
    bc::event first;
    if (pack_a) {
      first = enqueue_pack(pack_a_, m, a, a_strides(p), a_panels_, panels_a);
    }
    auto ev_b = enqueue_pack(pack_b_, n, b, b_strides(p), b_panels_, panels_b);
    if (!pack_a) first = ev_b;

    bc::event ev_main;
    if (regtile) {
      const auto wgm = static_cast<std::size_t>(config_.get("WGM"));
      const auto wgn = static_cast<std::size_t>(config_.get("WGN"));
      const auto sa = a_strides(p);
      main_.set_args(m, n, k, p.alpha, p.beta, pack_a ? a_panels_ : a, static_cast<cl_long>(sa.off),
                     static_cast<cl_long>(sa.sp), static_cast<cl_long>(sa.sk), b_panels_, c,
                     static_cast<cl_long>(p.offset_c), static_cast<cl_long>(sci),
                     static_cast<cl_long>(scj));
      const std::size_t global[2] = {ceil_div(static_cast<std::int64_t>(panels_b), wgn) * wgn,
                                     ceil_div(static_cast<std::int64_t>(panels_a), wgm) * wgm};
      const std::size_t local[2] = {wgn, wgm};
      ev_main = q.enqueue_nd_range_kernel(main_, 2, nullptr, global, local);
    } else {
      const auto mdimc = static_cast<std::size_t>(config_.get("MDIMC"));
      const auto ndimc = static_cast<std::size_t>(config_.get("NDIMC"));
      main_.set_args(m, n, kpi, p.alpha, p.beta, a_panels_, b_panels_, c,
                     static_cast<cl_long>(p.offset_c), static_cast<cl_long>(sci),
                     static_cast<cl_long>(scj));
      const std::size_t global[2] = {panels_b * ndimc, panels_a * mdimc};
      const std::size_t local[2] = {ndimc, mdimc};
      ev_main = q.enqueue_nd_range_kernel(main_, 2, nullptr, global, local);
    }
    ev_main.wait();
    t.kernel_ms = event_ms(ev_main);
    t.pack_ms = event_ms(ev_b) + (pack_a ? event_ms(first) : 0.0);
    t.total_ms = span_ms(first, ev_main);
    return t;
  } catch (const bc::opencl_error& e) {
    throw Error(ReasonCode::launch_failed,
                config_.family + " " + config_.id() + " on " + p.shape() + ": " + e.what());
  }
}

GemmTiming gemm(Device& device, const GemmProblem& problem, const bc::buffer& a,
                const bc::buffer& b, bc::buffer& c, const std::optional<GemmConfig>& config,
                const ProgramCache& cache) {
  GemmKernel kernel(device, cache, config ? *config : default_gemm_config(device.info()));
  return kernel.run(problem, a, b, c);
}

}  // namespace clgauge
