#include "cuda/cublas_loader.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <vector>

namespace dilemma::cublas {
namespace {

LoadResult DoLoad() {
  static Api api{};
  std::vector<std::string> names;
  if (const char* env = std::getenv("DILEMMA_CUBLAS")) names.emplace_back(env);
  // CUDA 13 first (what our kernels are built with), then 12.
  names.insert(names.end(), {"libcublas.so.13", "libcublas.so.12", "libcublas.so"});
  std::string tried, lastError;
  for (const auto& name : names) {
    void* lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    tried += (tried.empty() ? "" : ", ") + name;
    if (lib == nullptr) {
      const char* e = dlerror();
      lastError = e ? e : "dlopen failed";
      continue;
    }
    auto sym = [&](const char* s) { return dlsym(lib, s); };
    api.create = reinterpret_cast<decltype(api.create)>(sym("cublasCreate_v2"));
    api.destroy = reinterpret_cast<decltype(api.destroy)>(sym("cublasDestroy_v2"));
    api.getVersion = reinterpret_cast<decltype(api.getVersion)>(sym("cublasGetVersion_v2"));
    api.sgemm = reinterpret_cast<decltype(api.sgemm)>(sym("cublasSgemm_v2"));
    if (!api.create || !api.destroy || !api.getVersion || !api.sgemm) {
      dlclose(lib);
      return {nullptr, name, name + " lacks cublasCreate_v2/cublasSgemm_v2: not a cuBLAS library"};
    }
    return {&api, name, ""};
  }
  return {nullptr, tried,
          "cuBLAS not found (tried " + tried + "; last error: " + lastError +
              "). Install the CUDA toolkit's libcublas, add its folder to LD_LIBRARY_PATH, or set "
              "DILEMMA_CUBLAS to the library's path."};
}

}  // namespace

const LoadResult& Load() {
  static std::once_flag once;
  static LoadResult result;
  std::call_once(once, [] { result = DoLoad(); });
  return result;
}

}  // namespace dilemma::cublas
