#include "cuda/cublas_loader.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <vector>

namespace dilemma::cublas {
namespace {

// Resolves every entry point of Api from `lib`; on a missing one returns its name.
std::string Resolve(void* lib, Api* api) {
  struct Entry {
    const char* symbol;
    void** slot;
  };
  const Entry entries[] = {
      {"cublasCreate_v2", reinterpret_cast<void**>(&api->create)},
      {"cublasDestroy_v2", reinterpret_cast<void**>(&api->destroy)},
      {"cublasGetVersion_v2", reinterpret_cast<void**>(&api->getVersion)},
      {"cublasSgemm_v2", reinterpret_cast<void**>(&api->sgemm)},
      {"cublasSetStream_v2", reinterpret_cast<void**>(&api->setStream)},
      {"cublasSetMathMode", reinterpret_cast<void**>(&api->setMathMode)},
      {"cublasGemmEx", reinterpret_cast<void**>(&api->gemmEx)},
      {"cublasGemmStridedBatchedEx", reinterpret_cast<void**>(&api->gemmStridedBatchedEx)},
  };
  std::string missing;
  for (const auto& e : entries) {
    *e.slot = dlsym(lib, e.symbol);
    if (*e.slot == nullptr) missing += (missing.empty() ? "" : ", ") + std::string(e.symbol);
  }
  return missing;
}

LoadResult DoLoad() {
  static Api api{};
  std::vector<std::string> names;
  // (empty counts as unset: dlopen("") would open the process itself)
  if (const char* env = std::getenv("DILEMMA_CUBLAS"); env != nullptr && *env != '\0') names.emplace_back(env);
  // CUDA 13 first (what our kernels are built with), then 12.
  names.insert(names.end(), {"libcublas.so.13", "libcublas.so.12", "libcublas.so"});
  // A toolkit install whose lib64 is not on the loader path (no ldconfig entry, no
  // LD_LIBRARY_PATH) is the common case on fresh machines: try its usual folders too.
  std::vector<std::string> dirs;
  if (const char* home = std::getenv("CUDA_HOME")) dirs.emplace_back(std::string(home) + "/lib64/");
  if (const char* home = std::getenv("CUDA_PATH")) dirs.emplace_back(std::string(home) + "/lib64/");
  dirs.emplace_back("/usr/local/cuda/lib64/");
  for (const auto& dir : dirs)
    for (const char* so : {"libcublas.so.13", "libcublas.so.12"}) names.push_back(dir + so);
  std::string tried, lastError;
  for (const auto& name : names) {
    // By full path, libcublas's own dependency libcublasLt (same folder) may not be findable by
    // soname: load it first, globally, so the dependency is already satisfied.
    const size_t slash = name.rfind('/');
    if (slash != std::string::npos) {
      const std::string lt = name.substr(0, slash + 1) + "libcublasLt" + name.substr(name.find(".so", slash));
      dlopen(lt.c_str(), RTLD_NOW | RTLD_GLOBAL);  // failure is reported by the libcublas dlopen below
    }
    void* lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    tried += (tried.empty() ? "" : ", ") + name;
    if (lib == nullptr) {
      const char* e = dlerror();
      // Keep the most telling error: a file that exists but fails to load beats "not found".
      if (lastError.empty() || lastError.find("No such file") != std::string::npos) lastError = e ? e : "dlopen failed";
      continue;
    }
    Api loaded{};
    const std::string missing = Resolve(lib, &loaded);
    if (!missing.empty()) {
      // An older or foreign library: say which entry points it lacks instead of crashing later.
      dlclose(lib);
      return {nullptr, name,
              name + " lacks " + missing + ": not a cuBLAS library, or one older than CUDA 11. Point DILEMMA_CUBLAS at "
                     "the CUDA 12/13 libcublas.so."};
    }
    api = loaded;
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

std::string StatusName(int status) {
  const char* name = "CUBLAS_STATUS_UNKNOWN";
  switch (status) {
    case kSuccess: name = "CUBLAS_STATUS_SUCCESS"; break;
    case kNotInitialized: name = "CUBLAS_STATUS_NOT_INITIALIZED"; break;
    case kAllocFailed: name = "CUBLAS_STATUS_ALLOC_FAILED"; break;
    case kInvalidValue: name = "CUBLAS_STATUS_INVALID_VALUE"; break;
    case kArchMismatch: name = "CUBLAS_STATUS_ARCH_MISMATCH"; break;
    case kMappingError: name = "CUBLAS_STATUS_MAPPING_ERROR"; break;
    case kExecutionFailed: name = "CUBLAS_STATUS_EXECUTION_FAILED"; break;
    case kInternalError: name = "CUBLAS_STATUS_INTERNAL_ERROR"; break;
    case kNotSupported: name = "CUBLAS_STATUS_NOT_SUPPORTED"; break;
    case kLicenseError: name = "CUBLAS_STATUS_LICENSE_ERROR"; break;
    default: break;
  }
  return std::string(name) + " (" + std::to_string(status) + ")";
}

}  // namespace dilemma::cublas
