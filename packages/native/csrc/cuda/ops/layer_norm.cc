// gpu.layerNorm(x, gamma, beta, out, rows, d, eps) and
// gpu.layerNormGrad(dy, x, gamma, dx, dGamma, dBeta, rows, d, eps): LayerNorm over the last axis
// (docs/ops.md), biased variance. With xhat = (x - mean) * rstd and g = dy * gamma:
//   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), dGamma = sum_rows dy * xhat, dBeta = sum_rows dy.
// The host device runs the CPU reference, ref/layer_norm.h (row statistics and sums in double,
// rows in order, as core's kernel does); layer_norm.cu is checked against it.
#include <napi.h>

#include <cstdint>
#include <string>

#include "cuda/ops/ops.h"
#include "cuda/runtime.h"
#include "ref/layer_norm.h"
#if defined(DILEMMA_HAVE_CUDA)
#include "cuda/ops/layer_norm_cuda.h"
#endif

namespace dilemma::gpu {
namespace {

bool Sizes(const Napi::CallbackInfo& info, size_t iRows, const char* what, int64_t* rows, int64_t* d, double* eps) {
  Napi::Env env = info.Env();
  *rows = IntArg(info, iRows);
  *d = IntArg(info, iRows + 1);
  *eps = NumArg(info, iRows + 2);
  if (env.IsExceptionPending()) return false;
  if (*rows < 0 || *d < 0) {
    Throw(env, std::string(what) + ": negative size");
    return false;
  }
  return true;
}

// layerNorm(x, gamma, beta, out, rows, d, eps)
Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t rows, d;
  double eps;
  if (!Sizes(info, 4, "gpu.layerNorm", &rows, &d, &eps)) return env.Undefined();
  const int64_t n = rows * d;
  Buf *x, *gamma, *beta, *out;
  Where where;
  if (!BufArgs(info, "gpu.layerNorm",
               {{&x, 0, "x", n}, {&gamma, 1, "gamma", d}, {&beta, 2, "beta", d}, {&out, 3, "out", n}}, &where))
    return env.Undefined();
  if (rows * d == 0) return env.Undefined();
  if (where == Where::kHost) {
    ref::LayerNorm(x->f(), gamma->f(), beta->f(), out->f(), rows, d, eps);
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  CheckCuda(env,
            layer_norm_fwd_cuda(x->f(), gamma->f(), beta->f(), out->f(), rows, d, static_cast<float>(eps), Stream()),
            "gpu.layerNorm");
  return env.Undefined();
#else
  return Throw(env, "gpu.layerNorm: the addon was built without CUDA");
#endif
}

// layerNormGrad(dy, x, gamma, dx, dGamma, dBeta, rows, d, eps)
Napi::Value LayerNormGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t rows, d;
  double eps;
  if (!Sizes(info, 6, "gpu.layerNormGrad", &rows, &d, &eps)) return env.Undefined();
  const int64_t n = rows * d;
  Buf *dy, *x, *gamma, *dx, *dGamma, *dBeta;
  Where where;
  if (!BufArgs(info, "gpu.layerNormGrad",
               {{&dy, 0, "dy", n}, {&x, 1, "x", n}, {&gamma, 2, "gamma", d}, {&dx, 3, "dx", n},
                {&dGamma, 4, "dGamma", d}, {&dBeta, 5, "dBeta", d}},
               &where))
    return env.Undefined();
  if (d == 0) return env.Undefined();
  if (where == Where::kHost) {
    ref::LayerNormGrad(dy->f(), x->f(), gamma->f(), dx->f(), dGamma->f(), dBeta->f(), rows, d, eps);
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  auto run = [&] {
    return layer_norm_bwd_cuda(dy->f(), x->f(), gamma->f(), dx->f(), dGamma->f(), dBeta->f(), rows, d,
                               static_cast<float>(eps), Stream());
  };
  cudaError_t e = run();
  if (e == cudaErrorMemoryAllocation) {  // scratch growth failed before any launch: free the cache, retry once
    cudaGetLastError();
    ReleaseCachedBlocks();
    e = run();
  }
  CheckCuda(env, e, "gpu.layerNormGrad");
  return env.Undefined();
#else
  return Throw(env, "gpu.layerNormGrad: the addon was built without CUDA");
#endif
}

}  // namespace

void RegisterLayerNorm(Napi::Env env, Napi::Object gpu) {
  gpu.Set("layerNorm", Napi::Function::New(env, LayerNorm, "layerNorm"));
  gpu.Set("layerNormGrad", Napi::Function::New(env, LayerNormGrad, "layerNormGrad"));
}

}  // namespace dilemma::gpu
