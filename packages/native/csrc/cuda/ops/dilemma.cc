// gpu.dilemmaEmbed / gpu.dilemmaEmbedGrad (src/cuda/addon.ts; op contract docs/ops.md) on buffer
// ids, and gpu.dilemmaCheck. Host buffers run the CPU kernels (dilemma/embed_cpu.h), which check
// every index first and throw naming it (nothing is written then). CUDA buffers run the kernels
// of dilemma/dilemma_cuda.h on the backend's stream (the deterministic backward), which cannot
// throw: they skip offending rows and set a device error word, read by dilemmaCheck().
//
// dilemmaCheck(): waits for the stream, throws naming the op and the problem if a CUDA launch
// since the last check saw a bad index, and resets the word. The TS backend calls it where it
// reads results back (dataSync/data of a tensor downstream of DilemmaEmbed, or at least once per
// training step) and tests call it after each CUDA launch; on host buffers it is a no-op (their
// errors were thrown at the call). The backend keeps host copies of the index tensors, so it may
// also validate them before launching; this word is the backstop.
#include <cstdint>
#include <string>

#include "cuda/ops/ops.h"
#include "cuda/runtime.h"
#include "dilemma/embed_cpu.h"
#if defined(DILEMMA_HAVE_CUDA)
#include "dilemma/dilemma_cuda.h"
#endif

namespace dilemma::gpu {
namespace {

// B, L, K, D: integers in [0, 2^31) (the CUDA kernels take int).
bool SizeArgs(const Napi::CallbackInfo& info, size_t first, const char* fn, int64_t* B, int64_t* L, int64_t* K,
              int64_t* D) {
  const char* names[4] = {"B", "L", "K", "D"};
  int64_t* outs[4] = {B, L, K, D};
  for (int i = 0; i < 4; ++i) {
    const size_t at = first + i;
    if (at >= info.Length() || !info[at].IsNumber()) {
      Throw(info.Env(), std::string(fn) + ": " + names[i] + " must be a number");
      return false;
    }
    const double v = info[at].As<Napi::Number>().DoubleValue();
    if (!(v >= 0 && v <= 2147483647.0 && static_cast<double>(static_cast<int64_t>(v)) == v)) {
      Throw(info.Env(), std::string(fn) + ": " + names[i] + " must be an integer in [0, 2^31), got " + std::to_string(v));
      return false;
    }
    *outs[i] = static_cast<int64_t>(v);
  }
  // Element counts below 2^61 so that byte sizes (x4) fit int64.
  const int64_t lim = int64_t{1} << 61;
  int64_t t;
  if (__builtin_mul_overflow(*B, *L, &t) || __builtin_mul_overflow(t, *D, &t) || t > lim ||
      __builtin_mul_overflow(*B, *K, &t) || __builtin_mul_overflow(t, *D, &t) || t > lim) {
    Throw(info.Env(), std::string(fn) + ": B*L*D or B*K*D is too large");
    return false;
  }
  return true;
}

#if defined(DILEMMA_HAVE_CUDA)
// Device error words, [0] for DilemmaEmbed, [1] for DilemmaEmbedGrad (codes of dilemma_cuda.h:
// 1 = index out of [0, L), 2 = realPos repeats within a row). Allocated once, on the device that
// init() opened, the first time a CUDA buffer reaches these ops; zeroed on the stream.
int32_t* g_err = nullptr;

int32_t* ErrWords(Napi::Env env) {
  if (g_err != nullptr) return g_err;
  int32_t* p = nullptr;
  if (!CheckCuda(env, cudaMalloc(reinterpret_cast<void**>(&p), 2 * sizeof(int32_t)), "dilemma error word")) return nullptr;
  if (!CheckCuda(env, cudaMemsetAsync(p, 0, 2 * sizeof(int32_t), Stream()), "dilemma error word")) {
    cudaFree(p);
    return nullptr;
  }
  g_err = p;
  return g_err;
}
#endif

// dilemmaEmbed(tokens, pos, realPos, inputPos, B, L, K, D, out)
Napi::Value Embed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "dilemmaEmbed";
  int64_t B, L, K, D;
  if (!SizeArgs(info, 4, fn, &B, &L, &K, &D)) return env.Undefined();
  Buf *tokens, *pos, *realPos, *inputPos, *out;
  Where where;
  if (!BufArgs(info, fn,
               {{&tokens, 0, "tokens [B,L,D]", B * L * D}, {&pos, 1, "pos [L,D]", L * D},
                {&realPos, 2, "realPos [B,K]", B * K}, {&inputPos, 3, "inputPos [B,K]", B * K},
                {&out, 8, "out [B,K,D]", B * K * D}},
               &where))
    return env.Undefined();
  if (where == Where::kHost) {
    const std::string err =
        embed_fwd_cpu(tokens->f(), pos->f(), realPos->i(), inputPos->i(), B, L, K, D, out->f());
    if (!err.empty()) return Throw(env, err);
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  int32_t* err = ErrWords(env);
  if (err == nullptr) return env.Undefined();
  CheckCuda(env,
            embed_fwd_cuda(tokens->f(), pos->f(), realPos->i(), inputPos->i(), static_cast<int>(B),
                           static_cast<int>(L), static_cast<int>(K), static_cast<int>(D), out->f(), err + 0, Stream()),
            "dilemmaEmbed");
  return env.Undefined();
#else
  return Throw(env, "dilemmaEmbed: cuda buffers, but the addon was built without CUDA");
#endif
}

// dilemmaEmbedGrad(dy, realPos, inputPos, B, L, K, D, dTokens, dPos)
Napi::Value EmbedGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "dilemmaEmbedGrad";
  int64_t B, L, K, D;
  if (!SizeArgs(info, 3, fn, &B, &L, &K, &D)) return env.Undefined();
  Buf *dy, *realPos, *inputPos, *dTokens, *dPos;
  Where where;
  if (!BufArgs(info, fn,
               {{&dy, 0, "dy [B,K,D]", B * K * D}, {&realPos, 1, "realPos [B,K]", B * K},
                {&inputPos, 2, "inputPos [B,K]", B * K}, {&dTokens, 7, "dTokens [B,L,D]", B * L * D},
                {&dPos, 8, "dPos [L,D]", L * D}},
               &where))
    return env.Undefined();
  if (where == Where::kHost) {
    const std::string err = embed_bwd_cpu(dy->f(), realPos->i(), inputPos->i(), B, L, K, D, dTokens->f(), dPos->f());
    if (!err.empty()) return Throw(env, err);
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  if (L == 0) {  // no rows to write; a launch would have an empty grid, so report bad indices here
    if (B * K > 0) return Throw(env, "DilemmaEmbedGrad: realPos/inputPos index out of [0, 0) (L = 0)");
    return env.Undefined();
  }
  int32_t* err = ErrWords(env);
  if (err == nullptr) return env.Undefined();
  // The deterministic backward (bitwise equal to embed_bwd_cpu), not the atomic one.
  CheckCuda(env,
            embed_bwd_cuda(dy->f(), realPos->i(), inputPos->i(), static_cast<int>(B), static_cast<int>(L),
                           static_cast<int>(K), static_cast<int>(D), dTokens->f(), dPos->f(), err + 1, Stream()),
            "dilemmaEmbedGrad");
  return env.Undefined();
#else
  return Throw(env, "dilemmaEmbedGrad: cuda buffers, but the addon was built without CUDA");
#endif
}

#if defined(DILEMMA_HAVE_CUDA)
std::string Problem(const char* op, int32_t code) {
  std::string s = std::string(op) + " (cuda): ";
  if (code == 1) return s + "a realPos or inputPos index was out of [0, L); the rows holding it were skipped, so the outputs are invalid";
  if (code == 2)
    return s + "realPos repeats within a batch row; the repeated rows' gradients were dropped from dTokens (the host kernel sums them)";
  return s + "error code " + std::to_string(code);
}
#endif

// dilemmaCheck(): see the file comment.
Napi::Value Check(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
#if defined(DILEMMA_HAVE_CUDA)
  if (g_err == nullptr) return env.Undefined();  // no CUDA launch yet
  int32_t h[2] = {0, 0};
  if (!CheckCuda(env, cudaMemcpyAsync(h, g_err, sizeof(h), cudaMemcpyDeviceToHost, Stream()), "dilemmaCheck") ||
      !CheckCuda(env, cudaStreamSynchronize(Stream()), "dilemmaCheck"))
    return env.Undefined();
  if (h[0] == 0 && h[1] == 0) return env.Undefined();
  if (!CheckCuda(env, cudaMemsetAsync(g_err, 0, sizeof(h), Stream()), "dilemmaCheck reset")) return env.Undefined();
  std::string msg;
  if (h[0] != 0) msg = Problem("DilemmaEmbed", h[0]);
  if (h[1] != 0) msg += (msg.empty() ? "" : "; ") + Problem("DilemmaEmbedGrad", h[1]);
  return Throw(env, msg);
#else
  return env.Undefined();
#endif
}

}  // namespace

void RegisterDilemma(Napi::Env env, Napi::Object gpu) {
  gpu.Set("dilemmaEmbed", Napi::Function::New(env, Embed, "dilemmaEmbed"));
  gpu.Set("dilemmaEmbedGrad", Napi::Function::New(env, EmbedGrad, "dilemmaEmbedGrad"));
  gpu.Set("dilemmaCheck", Napi::Function::New(env, Check, "dilemmaCheck"));
}

}  // namespace dilemma::gpu
