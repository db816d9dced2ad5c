// config_fuzz.cpp: the config loader on any TOML text and environment: it never crashes, every
// problem has a message, and a load without errors yields settings within the contract's bounds.
// Input: the TOML text, then optionally a line "---env---" and NAME=value lines.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>

#include "config/loader.hpp"
#include "fuzz/fuzz_check.hpp"

using namespace vpo;

namespace {
const std::string& config_file() {
  static const std::string path = [] {
    char name[] = "/tmp/vpo-config-fuzz-XXXXXX";
    int fd = ::mkstemp(name);
    if (fd >= 0) ::close(fd);
    return std::string(name);
  }();
  return path;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  std::string toml = input;
  std::map<std::string, std::string> env;
  if (auto sep = input.find("\n---env---\n"); sep != std::string::npos) {
    toml = input.substr(0, sep);
    std::string rest = input.substr(sep + 11);
    for (std::size_t at = 0; at < rest.size();) {
      auto end = rest.find('\n', at);
      std::string line = rest.substr(at, end == std::string::npos ? end : end - at);
      if (auto eq = line.find('='); eq != std::string::npos && eq > 0)
        env[line.substr(0, eq)] = line.substr(eq + 1);
      if (end == std::string::npos) break;
      at = end + 1;
    }
  }
  if (std::FILE* f = std::fopen(config_file().c_str(), "wb")) {
    std::fwrite(toml.data(), 1, toml.size(), f);
    std::fclose(f);
  }
  config::load_input in;
  in.cli["config"] = config_file();
  in.getenv = [&](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  auto loaded = config::load(in);
  for (const auto* list : {&loaded.errors, &loaded.warnings})
    for (const auto& p : *list)
      if (p.message.empty()) fuzz::violated("a problem without a message", p.key);
  if (!loaded.errors.empty()) return 0;
  const auto& v = loaded.values;
  if (v.server.port < 1 || v.server.port > 65535)
    fuzz::violated("port out of range", std::to_string(v.server.port));
  if (!(v.server.shutdown_timeout > 0)) fuzz::violated("shutdown_timeout not > 0", toml);
  if (v.jobs.workers < 1 || v.jobs.workers > 64)
    fuzz::violated("workers out of range", std::to_string(v.jobs.workers));
  if (v.database_path.empty()) fuzz::violated("empty database path", toml);
  return 0;
}
