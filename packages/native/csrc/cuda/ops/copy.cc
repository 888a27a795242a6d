// gpu.transpose(x, out, shape, perm) and
// gpu.stridedCopy(src, dst, shape, srcOffset, srcStrides, dstOffset, dstStrides) on 4-byte
// elements, rank <= 8. A transpose is the strided copy whose destination is contiguous and whose
// source strides are the input's strides permuted, so both go through one plan: size-1 axes are
// dropped and adjacent axes contiguous on both sides merged (fewer index digits, and e.g. perm
// [0, 2, 1, 3] becomes a copy of contiguous rows). The host device runs the CPU reference
// (an odometer over the merged index space); copy.cu is checked against it.
#include <napi.h>

#include <cstdint>
#include <string>

#include "cuda/ops/ops.h"
#include "cuda/runtime.h"
#if defined(DILEMMA_HAVE_CUDA)
#include "cuda/ops/copy_cuda.h"
#endif

namespace dilemma::gpu {
namespace {

struct Plan {
  int rank = 0;
  int64_t shape[kMaxDims] = {}, src[kMaxDims] = {}, dst[kMaxDims] = {};
  int64_t size = 1;
};

// Drops size-1 axes and folds axis d into the previous kept one when it continues it on both sides.
Plan Merge(int rank, const int64_t* shape, const int64_t* ss, const int64_t* ds) {
  Plan p;
  for (int d = 0; d < rank; ++d) p.size *= shape[d];
  for (int d = 0; d < rank; ++d) {
    if (shape[d] == 1) continue;
    const int k = p.rank - 1;
    if (k >= 0 && p.src[k] == ss[d] * shape[d] && p.dst[k] == ds[d] * shape[d]) {
      p.shape[k] *= shape[d];
      p.src[k] = ss[d];
      p.dst[k] = ds[d];
    } else {
      p.shape[p.rank] = shape[d];
      p.src[p.rank] = ss[d];
      p.dst[p.rank] = ds[d];
      ++p.rank;
    }
  }
  return p;
}

// Smallest and largest element offset touched (strides may be negative or 0).
void Extent(int rank, const int64_t* shape, const int64_t* strides, int64_t offset, int64_t* lo, int64_t* hi) {
  *lo = *hi = offset;
  for (int d = 0; d < rank; ++d) {
    const int64_t span = (shape[d] - 1) * strides[d];
    if (span < 0) *lo += span;
    else *hi += span;
  }
}

void CopyRef(const uint32_t* src, uint32_t* dst, const Plan& p) {
  int64_t idx[kMaxDims] = {};
  int64_t so = 0, dof = 0;
  for (int64_t e = 0; e < p.size; ++e) {
    dst[dof] = src[so];
    for (int d = p.rank - 1; d >= 0; --d) {  // advance the index like an odometer
      so += p.src[d];
      dof += p.dst[d];
      if (++idx[d] < p.shape[d]) break;
      so -= p.src[d] * p.shape[d];
      dof -= p.dst[d] * p.shape[d];
      idx[d] = 0;
    }
  }
}

// Checks the buffers, then runs the plan on src + srcOff -> dst + dstOff.
Napi::Value Run(const Napi::CallbackInfo& info, const char* what, size_t iSrc, size_t iDst, int rank,
                const int64_t* shape, const int64_t* ss, int64_t srcOff, const int64_t* ds, int64_t dstOff) {
  Napi::Env env = info.Env();
  const std::string name(what);
  int64_t size = 1;
  for (int d = 0; d < rank; ++d) {
    if (shape[d] < 0) return Throw(env, name + ": negative size");
    size *= shape[d];
  }
  for (int d = 0; d < rank; ++d)
    if (shape[d] > 1 && ds[d] == 0) return Throw(env, name + ": a destination stride of 0 would write one element twice");
  int64_t sLo = 0, sHi = -1, dLo = 0, dHi = -1;
  if (size > 0) {
    Extent(rank, shape, ss, srcOff, &sLo, &sHi);
    Extent(rank, shape, ds, dstOff, &dLo, &dHi);
    if (sLo < 0 || dLo < 0) return Throw(env, name + ": offsets and strides reach before the buffer start");
  }
  Buf *src, *dst;
  Where where;
  if (!BufArgs(info, what, {{&src, iSrc, "src", sHi + 1}, {&dst, iDst, "dst", dHi + 1}}, &where))
    return env.Undefined();
  if (size == 0) return env.Undefined();
  const Plan p = Merge(rank, shape, ss, ds);
  const uint32_t* s = static_cast<const uint32_t*>(src->ptr) + srcOff;
  uint32_t* o = static_cast<uint32_t*>(dst->ptr) + dstOff;
  if (where == Where::kHost) {
    CopyRef(s, o, p);
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  CopyDims dims;
  dims.rank = p.rank;
  for (int d = 0; d < p.rank; ++d) {
    dims.shape[d] = p.shape[d];
    dims.src[d] = p.src[d];
    dims.dst[d] = p.dst[d];
  }
  CheckCuda(env, strided_copy_cuda(s, o, dims, Stream()), what);
  return env.Undefined();
#else
  return Throw(env, name + ": the addon was built without CUDA");
#endif
}

// transpose(x, out, shape, perm): out = x transposed, out.shape[d] = shape[perm[d]].
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t shape[kMaxDims], perm[kMaxDims];
  const int rank = DimsArg(info, 2, shape, "gpu.transpose shape");
  if (rank < 0) return env.Undefined();
  const int prank = DimsArg(info, 3, perm, "gpu.transpose perm");
  if (prank < 0) return env.Undefined();
  if (prank != rank) return Throw(env, "gpu.transpose: perm and shape ranks differ");
  bool seen[kMaxDims] = {};
  for (int d = 0; d < rank; ++d) {
    if (perm[d] < 0 || perm[d] >= rank || seen[perm[d]]) return Throw(env, "gpu.transpose: perm is not a permutation");
    seen[perm[d]] = true;
  }
  int64_t inStride[kMaxDims], outShape[kMaxDims], ss[kMaxDims], ds[kMaxDims];
  int64_t s = 1;
  for (int d = rank - 1; d >= 0; --d) {
    inStride[d] = s;
    s *= shape[d];
  }
  for (int d = 0; d < rank; ++d) {
    outShape[d] = shape[perm[d]];
    ss[d] = inStride[perm[d]];
  }
  s = 1;
  for (int d = rank - 1; d >= 0; --d) {
    ds[d] = s;
    s *= outShape[d];
  }
  return Run(info, "gpu.transpose", 0, 1, rank, outShape, ss, 0, ds, 0);
}

// stridedCopy(src, dst, shape, srcOffset, srcStrides, dstOffset, dstStrides)
Napi::Value StridedCopy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t shape[kMaxDims], ss[kMaxDims], ds[kMaxDims];
  const int rank = DimsArg(info, 2, shape, "gpu.stridedCopy shape");
  if (rank < 0) return env.Undefined();
  const int64_t srcOff = IntArg(info, 3);
  if (env.IsExceptionPending()) return env.Undefined();
  const int sr = DimsArg(info, 4, ss, "gpu.stridedCopy srcStrides");
  if (sr < 0) return env.Undefined();
  const int64_t dstOff = IntArg(info, 5);
  if (env.IsExceptionPending()) return env.Undefined();
  const int dr = DimsArg(info, 6, ds, "gpu.stridedCopy dstStrides");
  if (dr < 0) return env.Undefined();
  if (sr != rank || dr != rank) return Throw(env, "gpu.stridedCopy: shape and stride ranks differ");
  if (srcOff < 0 || dstOff < 0) return Throw(env, "gpu.stridedCopy: negative offset");
  return Run(info, "gpu.stridedCopy", 0, 1, rank, shape, ss, srcOff, ds, dstOff);
}

}  // namespace

void RegisterCopy(Napi::Env env, Napi::Object gpu) {
  gpu.Set("transpose", Napi::Function::New(env, Transpose, "transpose"));
  gpu.Set("stridedCopy", Napi::Function::New(env, StridedCopy, "stridedCopy"));
}

}  // namespace dilemma::gpu
