// reload.cpp: the live/restart split of a reload, as plain functions over settings.
#include "config/reload.hpp"

#include "config/loader.hpp"

namespace vpo::config {

bool applies_live(const std::string& key) {
  return key == "logging.level" || key == "logging.format" || key == "jobs.workers" ||
         key == "server.auth_token" || key == "server.allow_unauthenticated" ||
         key.rfind("server.rate_limit.", 0) == 0 || key == "jobs.retention_days" ||
         key == "jobs.auto_purge";
}

std::vector<setting_change> diff(const settings& running, const settings& loaded) {
  std::vector<setting_change> out;
  for (const auto& key : keys()) {
    std::string from = render_value(running, key);
    std::string to = render_value(loaded, key);
    // A secret renders the same (`****`) whatever its value: compare the values themselves.
    bool changed = key == "server.auth_token"
                       ? running.server.auth_token != loaded.server.auth_token
                       : from != to;
    if (changed) out.push_back({key, from, to, applies_live(key)});
  }
  return out;
}

settings apply_live(const settings& running, const settings& loaded) {
  settings out = running;
  out.logging = loaded.logging;
  out.jobs.workers = loaded.jobs.workers;
  out.server.auth_token = loaded.server.auth_token;
  out.server.allow_unauthenticated = loaded.server.allow_unauthenticated;
  out.server.rate_limit = loaded.server.rate_limit;
  out.jobs.retention_days = loaded.jobs.retention_days;
  out.jobs.auto_purge = loaded.jobs.auto_purge;
  return out;
}

}  // namespace vpo::config
