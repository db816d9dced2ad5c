// reload.hpp: what a SIGHUP reload changes: which keys apply live and which need a restart.
#pragma once

#include <string>
#include <vector>

#include "config/settings.hpp"

namespace vpo::config {

/// One key whose value differs between the running settings and a fresh load.
struct setting_change {
  std::string key;   ///< dotted key, e.g. `logging.level`
  std::string from;  ///< rendered as `--check` does (secrets: `****`, `(unset)`)
  std::string to;
  bool live = false;  ///< applied without a restart
};

/// The keys a reload applies live: `logging.level`, `logging.format`, `jobs.workers`,
/// `server.auth_token`, `server.allow_unauthenticated`, `server.rate_limit.*`,
/// `jobs.retention_days`, `jobs.auto_purge`. The others (`server.bind`, `server.port`,
/// `server.shutdown_timeout`, `database_path`) need a restart.
bool applies_live(const std::string& key);

/// Every key whose value differs, in `--check` order. A changed secret shows `****` on both
/// sides (or `(unset)`), never its value.
std::vector<setting_change> diff(const settings& running, const settings& loaded);

/// The settings after a reload: the live keys from `loaded`, the others kept from `running`.
settings apply_live(const settings& running, const settings& loaded);

}  // namespace vpo::config
