// N-API entry of the DILEMMA kernels, called from csrc/binding.cc.
#pragma once
#include <napi.h>

/**
 * Adds dilemmaEmbedForward, dilemmaEmbedBackward and, when compiled with CUDA, cudaDilemmaCheck to `exports` (signatures: src/dilemma/addon-types.ts).
 */
void InitDilemma(Napi::Env env, Napi::Object exports);
