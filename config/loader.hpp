// loader.hpp: builds the effective settings from the CLI, config-file, env and default layers.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/settings.hpp"

namespace vpo::config {

/// Where an effective value came from. Precedence: cli > file > env > default.
enum class origin { default_value, env, file, cli };
const char* to_string(origin o);

/// One configuration problem. `message` is complete: what, where, the value (secrets hidden),
/// the origin and the rule, and how to fix it.
struct problem {
  origin from = origin::default_value;
  std::string key;  ///< dotted key, e.g. `server.port`; empty for file-level problems
  std::string message;
};

/// One effective value as `vpo serve --check` shows it.
struct shown_value {
  std::string key;
  std::string value;  ///< rendered; `****` for secrets, `(unset)` when absent
  origin from = origin::default_value;
};

/// The raw inputs of a load: no global state is read, so tests can drive every layer.
struct load_input {
  /// CLI values by dotted key (`server.port`, `database_path`, ...) plus `config` for --config.
  std::map<std::string, std::string> cli;
  /// Environment lookup; returns nullopt for unset variables.
  std::function<std::optional<std::string>(const std::string&)> getenv;
  /// false for the client commands: they read the layers only to find the daemon and its
  /// token, so the rules about what the daemon may expose (a non-loopback bind needs a token)
  /// do not apply.
  bool serving = true;
};

/// The outcome of a load. `values` is usable only when `errors` is empty; even then
/// `values.logging` holds the best valid logging settings found, so errors can be logged well.
struct loaded_config {
  settings values;
  std::vector<shown_value> shown;  ///< every key in display order, with origins
  std::string config_path;
  origin config_path_origin = origin::default_value;
  bool config_file_loaded = false;
  std::vector<problem> notes;     ///< INFO for the operator, e.g. VPO's logging.file is unused
  std::vector<problem> warnings;  ///< e.g. unknown keys in a section vpo owns
  std::vector<problem> errors;

  /// True when an error comes from a command-line value (a usage error, exit 2).
  bool has_cli_error() const;
};

/// Loads and validates every layer in full (a layer is checked even where a higher one wins).
loaded_config load(const load_input& input);

/// Every key `--check` shows, in its display order (`database_path`, `server.bind`, ...).
std::vector<std::string> keys();

/// A key's value as `--check` renders it (`****` for a set secret, `(unset)` when absent).
std::string render_value(const settings& s, const std::string& key);

/// An env lookup backed by the process environment.
std::optional<std::string> process_getenv(const std::string& name);

}  // namespace vpo::config
