// loader.cpp: reads the default, env, file and CLI layers, validates each in full, merges them.
#include "config/loader.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <toml++/toml.h>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <variant>

#include "config/rules.hpp"

namespace vpo::config {
namespace {

enum class kind {
  path,
  bind,
  integer_port,
  number_timeout,
  token,
  boolean,
  level,
  format,
  workers,
  integer  // a whole number from key_spec::min to key_spec::max
};

struct key_spec {
  const char* key;
  const char* env;
  const char* flag;  // nullptr when there is no CLI flag
  kind type;
  bool secret = false;
  long long min = 0, max = 0;  // kind::integer
};

// Display order of `--check` and the single table of every key, its env variable and flag.
constexpr std::array<key_spec, 15> specs{{
    {"database_path", "VPO_DATABASE_PATH", "--db", kind::path},
    {"server.bind", "VPO_SERVER_BIND", "--bind", kind::bind},
    {"server.port", "VPO_SERVER_PORT", "--port", kind::integer_port},
    {"server.shutdown_timeout", "VPO_SERVER_SHUTDOWN_TIMEOUT", "--shutdown-timeout",
     kind::number_timeout},
    {"server.auth_token", "VPO_AUTH_TOKEN", nullptr, kind::token, true},
    {"server.allow_unauthenticated", "VPO_SERVER_ALLOW_UNAUTHENTICATED", nullptr, kind::boolean},
    {"server.rate_limit.enabled", "VPO_SERVER_RATE_LIMIT_ENABLED", nullptr, kind::boolean},
    {"server.rate_limit.get_max_requests", "VPO_SERVER_RATE_LIMIT_GET_MAX_REQUESTS", nullptr,
     kind::integer, false, 1, 1000000},
    {"server.rate_limit.mutate_max_requests", "VPO_SERVER_RATE_LIMIT_MUTATE_MAX_REQUESTS", nullptr,
     kind::integer, false, 1, 1000000},
    {"server.rate_limit.window_seconds", "VPO_SERVER_RATE_LIMIT_WINDOW_SECONDS", nullptr,
     kind::integer, false, 1, 86400},
    {"logging.level", "VPO_LOG_LEVEL", "--log-level", kind::level},
    {"logging.format", "VPO_LOG_FORMAT", "--log-format", kind::format},
    {"jobs.workers", "VPO_JOBS_WORKERS", "--workers", kind::workers},
    {"jobs.retention_days", "VPO_JOBS_RETENTION_DAYS", nullptr, kind::integer, false, 0, 36500},
    {"jobs.auto_purge", "VPO_JOBS_AUTO_PURGE", nullptr, kind::boolean},
}};

// Keys of the sections vpo owns that VPO's own config.toml may hold; they load without warnings.
struct section_keys {
  const char* section;
  std::vector<std::string> known;
};
const std::array<section_keys, 4> owned_sections{{
    {"server",
     {"bind", "port", "shutdown_timeout", "auth_token", "allow_unauthenticated", "rate_limit"}},
    {"server.rate_limit", {"enabled", "get_max_requests", "mutate_max_requests", "window_seconds"}},
    {"logging", {"level", "format", "file", "include_stderr", "max_bytes", "backup_count"}},
    {"jobs",
     {"workers", "retention_days", "auto_purge", "temp_directory", "backup_original",
      "log_compression_days", "log_deletion_days", "min_free_disk_percent", "auto_prune_enabled",
      "auto_prune_interval_hours", "disk_space_ratio_hevc", "disk_space_ratio_other",
      "disk_space_buffer"}},
}};

using raw = std::variant<std::string, long long, double, bool>;

std::string type_rule(const key_spec& spec) {
  if (spec.type == kind::integer)
    return "must be an integer from " + std::to_string(spec.min) + " to " +
           std::to_string(spec.max);
  switch (spec.type) {
    case kind::integer_port:
      return "must be an integer from 1 to 65535";
    case kind::workers:
      return "must be an integer from 1 to 64";
    case kind::number_timeout:
      return "must be a number of seconds greater than 0 and at most 86400";
    case kind::boolean:
      return "must be a boolean (true or false)";
    case kind::level:
      return "must be one of debug, info, warning (or warn), error";
    case kind::format:
      return "must be one of text, json";
    case kind::bind:
      return "must be an IPv4/IPv6 address or a resolvable host name";
    case kind::token:
      return "must be a string of at least 16 characters";
    case kind::path:
      return "must be a non-empty file path";
    case kind::integer:
      break;
  }
  return "";
}

// The rule a well-typed value breaks, or nullopt.
std::optional<std::string> check(const key_spec& spec, const raw& v) {
  switch (spec.type) {
    case kind::path:
      return rules::check_path(std::get<std::string>(v));
    case kind::bind:
      return rules::check_bind(std::get<std::string>(v));
    case kind::integer_port:
      return rules::check_port(std::get<long long>(v));
    case kind::workers:
      return rules::check_workers(std::get<long long>(v));
    case kind::number_timeout:
      return rules::check_shutdown_timeout(std::get<double>(v));
    case kind::token:
      return rules::check_auth_token(std::get<std::string>(v));
    case kind::boolean:
      return std::nullopt;
    case kind::level:
      if (!rules::parse_level(std::get<std::string>(v))) return type_rule(spec);
      return std::nullopt;
    case kind::format:
      if (!rules::parse_format(std::get<std::string>(v))) return type_rule(spec);
      return std::nullopt;
    case kind::integer: {
      auto n = std::get<long long>(v);
      if (n < spec.min || n > spec.max) return type_rule(spec);
      return std::nullopt;
    }
  }
  return std::nullopt;
}

bool is_blank(const std::string& s) {
  return s.find_first_not_of(" \t\r\n") == std::string::npos;
}

bool is_string_kind(kind k) {
  return k == kind::path || k == kind::bind || k == kind::token || k == kind::level ||
         k == kind::format;
}

// Converts env or CLI text to the key's type; nullopt when the text is not of that type.
std::optional<raw> from_text(const key_spec& spec, const std::string& text) {
  switch (spec.type) {
    case kind::integer_port:
    case kind::workers:
    case kind::integer:
      if (auto v = rules::parse_integer(text)) return raw{*v};
      return std::nullopt;
    case kind::number_timeout:
      if (auto v = rules::parse_number(text)) return raw{*v};
      return std::nullopt;
    case kind::boolean:
      if (auto v = rules::parse_bool(text)) return raw{*v};
      return std::nullopt;
    default:
      return raw{text};
  }
}

std::optional<raw> from_toml(const key_spec& spec, const toml::node& node) {
  if (is_string_kind(spec.type)) {
    if (auto s = node.value<std::string>(); s && node.is_string()) return raw{*s};
    return std::nullopt;
  }
  switch (spec.type) {
    case kind::integer_port:
    case kind::workers:
    case kind::integer:
      if (node.is_integer()) return raw{static_cast<long long>(*node.value<std::int64_t>())};
      return std::nullopt;
    case kind::number_timeout:
      if (node.is_integer() || node.is_floating_point()) return raw{*node.value<double>()};
      return std::nullopt;
    case kind::boolean:
      if (node.is_boolean()) return raw{*node.value<bool>()};
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

std::string expand_home(const std::string& path, const std::string& home) {
  if (path == "~") return home;
  if (path.rfind("~/", 0) == 0) return home + path.substr(1);
  return path;
}

void apply(settings& s, const key_spec& spec, const raw& v, const std::string& home) {
  std::string key = spec.key;
  if (key == "database_path")
    s.database_path = expand_home(std::get<std::string>(v), home);
  else if (key == "server.bind")
    s.server.bind = std::get<std::string>(v);
  else if (key == "server.port")
    s.server.port = static_cast<std::uint16_t>(std::get<long long>(v));
  else if (key == "server.shutdown_timeout")
    s.server.shutdown_timeout = std::get<double>(v);
  else if (key == "server.auth_token")
    s.server.auth_token = std::get<std::string>(v);
  else if (key == "server.allow_unauthenticated")
    s.server.allow_unauthenticated = std::get<bool>(v);
  else if (key == "logging.level")
    s.logging.level = *rules::parse_level(std::get<std::string>(v));
  else if (key == "logging.format")
    s.logging.format = *rules::parse_format(std::get<std::string>(v));
  else if (key == "jobs.workers")
    s.jobs.workers = static_cast<int>(std::get<long long>(v));
  else if (key == "jobs.retention_days")
    s.jobs.retention_days = static_cast<int>(std::get<long long>(v));
  else if (key == "jobs.auto_purge")
    s.jobs.auto_purge = std::get<bool>(v);
  else if (key == "server.rate_limit.enabled")
    s.server.rate_limit.enabled = std::get<bool>(v);
  else if (key == "server.rate_limit.get_max_requests")
    s.server.rate_limit.get_max_requests = static_cast<int>(std::get<long long>(v));
  else if (key == "server.rate_limit.mutate_max_requests")
    s.server.rate_limit.mutate_max_requests = static_cast<int>(std::get<long long>(v));
  else if (key == "server.rate_limit.window_seconds")
    s.server.rate_limit.window_seconds = static_cast<int>(std::get<long long>(v));
}

std::string format_number(double d) {
  std::ostringstream os;
  os << d;
  return os.str();
}

std::string render(const settings& s, const key_spec& spec) {
  return render_value(s, spec.key);
}

}  // namespace

std::vector<std::string> keys() {
  std::vector<std::string> out;
  for (const auto& spec : specs) out.emplace_back(spec.key);
  return out;
}

std::string render_value(const settings& s, const std::string& key) {
  if (key == "database_path") return s.database_path;
  if (key == "server.bind") return s.server.bind;
  if (key == "server.port") return std::to_string(s.server.port);
  if (key == "server.shutdown_timeout") return format_number(s.server.shutdown_timeout);
  if (key == "server.auth_token") return s.server.auth_token ? "****" : "(unset)";
  if (key == "server.allow_unauthenticated")
    return s.server.allow_unauthenticated ? "true" : "false";
  if (key == "logging.level") return to_string(s.logging.level);
  if (key == "logging.format") return to_string(s.logging.format);
  if (key == "jobs.workers") return std::to_string(s.jobs.workers);
  if (key == "jobs.retention_days") return std::to_string(s.jobs.retention_days);
  if (key == "jobs.auto_purge") return s.jobs.auto_purge ? "true" : "false";
  const auto& rl = s.server.rate_limit;
  if (key == "server.rate_limit.enabled") return rl.enabled ? "true" : "false";
  if (key == "server.rate_limit.get_max_requests") return std::to_string(rl.get_max_requests);
  if (key == "server.rate_limit.mutate_max_requests") return std::to_string(rl.mutate_max_requests);
  if (key == "server.rate_limit.window_seconds") return std::to_string(rl.window_seconds);
  return "";
}

namespace {

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out += "\\x";
      const char* hex = "0123456789abcdef";
      out += hex[(c >> 4) & 0xf];
      out += hex[c & 0xf];
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string toml_text(const toml::node& node) {
  std::ostringstream os;
  node.visit([&](auto&& n) { os << n; });
  return os.str();
}

class loader {
 public:
  explicit loader(const load_input& in) : in_(in) {}

  loaded_config run() {
    home_ = home_dir();
    std::string data_dir = home_ + "/.vpo";
    if (auto d = env("VPO_DATA_DIR")) {
      if (d->empty())
        error(origin::env, "",
              "environment variable VPO_DATA_DIR is set but empty; set it to a "
              "folder or unset it to use ~/.vpo");
      else
        data_dir = expand_home(*d, home_);
    }
    std::array<origin, specs.size()> origins{};
    out_.values.database_path = data_dir + "/library.db";
    resolve_config_path(data_dir);

    apply_env_layer(origins);
    apply_file_layer(origins);
    apply_cli_layer(origins);
    if (out_.errors.empty() && in_.serving) check_exposure();
    for (std::size_t i = 0; i < specs.size(); ++i)
      out_.shown.push_back({specs[i].key, render(out_.values, specs[i]), origins[i]});
    return std::move(out_);
  }

 private:
  std::optional<std::string> env(const std::string& name) const {
    return in_.getenv ? in_.getenv(name) : std::nullopt;
  }

  // Cross-key rule, the same for `serve` and `--check`: a non-loopback bind needs a token, or
  // the operator's explicit allow_unauthenticated. (The server checks the address it really got
  // again, e.g. a socket systemd passes.) Not a usage error even when the bind is a flag: exit 1.
  void check_exposure() {
    const auto& s = out_.values.server;
    if (s.auth_token || s.allow_unauthenticated || rules::bind_is_loopback(s.bind)) return;
    error(origin::default_value, "server.bind",
          "refusing to listen on " + s.bind + ":" + std::to_string(s.port) +
              " without authentication: it is not a loopback address and server.auth_token is "
              "unset. Set server.auth_token (or VPO_AUTH_TOKEN), bind 127.0.0.1, or set "
              "server.allow_unauthenticated = true to accept the risk.");
  }

  std::string home_dir() const {
    if (auto h = env("HOME"); h && !h->empty()) return *h;
    if (const passwd* pw = getpwuid(getuid()); pw && pw->pw_dir) return pw->pw_dir;
    return "/";
  }

  void error(origin from, std::string key, std::string message) {
    out_.errors.push_back({from, std::move(key), std::move(message)});
  }

  void resolve_config_path(const std::string& data_dir) {
    if (auto it = in_.cli.find("config"); it != in_.cli.end()) {
      out_.config_path = it->second;
      out_.config_path_origin = origin::cli;
      if (it->second.empty()) error(origin::cli, "config", "--config needs a file path");
    } else if (auto e = env("VPO_CONFIG_PATH")) {
      out_.config_path = expand_home(*e, home_);
      out_.config_path_origin = origin::env;
      if (e->empty())
        error(origin::env, "config",
              "environment variable VPO_CONFIG_PATH is set but empty; "
              "set it to a config file or unset it");
    } else {
      out_.config_path = data_dir + "/config.toml";
      out_.config_path_origin = origin::default_value;
    }
  }

  // Takes a typed value through the key's rule; returns true and applies it when valid.
  bool accept(std::size_t i, const raw& v, origin from, std::array<origin, specs.size()>& origins,
              const std::string& where, const std::string& shown_value, const std::string& fix) {
    // A blank token means "no token here" (VPO's template writes `auth_token = ""`): the layer
    // leaves the key as the layers below set it.
    if (specs[i].type == kind::token && is_blank(std::get<std::string>(v))) return true;
    if (auto rule = check(specs[i], v)) {
      error(from, specs[i].key,
            where + " = " + shown_value + " (origin: " + to_string(from) +
                ") is invalid: " + specs[i].key + " " + *rule + ". " + fix);
      return false;
    }
    apply(out_.values, specs[i], v, home_);
    origins[i] = from;
    return true;
  }

  void apply_env_layer(std::array<origin, specs.size()>& origins) {
    for (std::size_t i = 0; i < specs.size(); ++i) {
      auto text = env(specs[i].env);
      if (!text) continue;
      std::string where = std::string("environment variable ") + specs[i].env;
      std::string shown = specs[i].secret ? "(value hidden)" : quoted(*text);
      std::string fix = std::string("Fix or unset ") + specs[i].env + ".";
      if (text->empty() && specs[i].type == kind::token) continue;  // empty: no token
      if (text->empty()) {
        error(origin::env, specs[i].key,
              where + " is set but empty (origin: env): " + specs[i].key + " " +
                  type_rule(specs[i]) + ". " + fix);
        continue;
      }
      auto v = from_text(specs[i], *text);
      if (!v) {
        error(origin::env, specs[i].key,
              where + " = " + shown + " (origin: env) is invalid: " + specs[i].key + " " +
                  type_rule(specs[i]) + ". " + fix);
        continue;
      }
      accept(i, *v, origin::env, origins, where, shown, fix);
    }
  }

  void apply_cli_layer(std::array<origin, specs.size()>& origins) {
    for (std::size_t i = 0; i < specs.size(); ++i) {
      auto it = in_.cli.find(specs[i].key);
      if (it == in_.cli.end()) continue;
      std::string flag = specs[i].flag ? specs[i].flag : specs[i].key;
      std::string where = "command-line option " + flag;
      std::string shown = specs[i].secret ? "(value hidden)" : quoted(it->second);
      std::string fix = "See 'vpo serve --help'.";
      auto v = from_text(specs[i], it->second);
      if (!v) {
        error(origin::cli, specs[i].key,
              where + " = " + shown + " (origin: cli) is invalid: " + specs[i].key + " " +
                  type_rule(specs[i]) + ". " + fix);
        continue;
      }
      accept(i, *v, origin::cli, origins, where, shown, fix);
    }
  }

  // Reads the whole file; on failure records an error unless the default path is simply absent.
  std::optional<std::string> read_config_file() {
    const std::string& path = out_.config_path;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    int err = errno;
    struct stat st {};
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      ::close(fd);
      fd = -1;
      err = EISDIR;
    }
    if (fd < 0) {
      if (err == ENOENT && out_.config_path_origin == origin::default_value) return std::nullopt;
      std::string source = out_.config_path_origin == origin::cli   ? "--config"
                           : out_.config_path_origin == origin::env ? "VPO_CONFIG_PATH"
                                                                    : "the default path";
      // A missing or unreadable file is a startup failure (exit 1), not a usage error.
      error(origin::file, "config",
            "cannot read config file " + path + " (from " + source + "): " + std::strerror(err) +
                ". Check the path and its permissions" +
                (out_.config_path_origin == origin::default_value
                     ? "."
                     : ", or drop " + source + " to use the default."));
      return std::nullopt;
    }
    std::string content;
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        error(origin::file, "config",
              "cannot read config file " + path + ": " + std::strerror(errno) + ".");
        ::close(fd);
        return std::nullopt;
      }
      if (n == 0) break;
      content.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return content;
  }

  std::string position(const toml::node& node) const {
    const auto& b = node.source().begin;
    return out_.config_path + ":" + std::to_string(b.line) + ":" + std::to_string(b.column);
  }

  void apply_file_layer(std::array<origin, specs.size()>& origins) {
    auto content = read_config_file();
    if (!content) return;
    toml::table root;
    try {
      root = toml::parse(std::string_view{*content}, std::string_view{out_.config_path});
    } catch (const toml::parse_error& e) {
      const auto& b = e.source().begin;
      error(origin::file, "",
            out_.config_path + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) +
                ": malformed TOML: " + std::string(e.description()) +
                ". Fix the file or point --config elsewhere.");
      return;
    }
    out_.config_file_loaded = true;
    for (const auto& owned : owned_sections) check_section(root, owned);
    for (std::size_t i = 0; i < specs.size(); ++i) {
      const toml::node* node = root.at_path(specs[i].key).node();
      if (!node) continue;
      std::string where = position(*node) + ": " + specs[i].key;
      std::string shown = specs[i].secret ? "(value hidden)" : toml_text(*node);
      std::string fix = "Fix the value in " + out_.config_path + " or remove the key.";
      auto v = from_toml(specs[i], *node);
      if (!v) {
        error(origin::file, specs[i].key,
              where + " = " + shown + " (origin: file) has the wrong type: " + specs[i].key + " " +
                  type_rule(specs[i]) + ". " + fix);
        continue;
      }
      accept(i, *v, origin::file, origins, where, shown, fix);
    }
  }

  void check_section(const toml::table& root, const section_keys& owned) {
    const toml::node* node = root.at_path(owned.section).node();
    if (!node) return;
    const toml::table* table = node->as_table();
    if (!table) {
      error(origin::file, owned.section,
            position(*node) + ": " + owned.section + " must be a table ([" + owned.section +
                "]), not a value. Fix " + out_.config_path + ".");
      return;
    }
    for (auto&& [k, v] : *table) {
      std::string name(k.str());
      bool known = false;
      for (const auto& kk : owned.known) known = known || kk == name;
      if (known && std::string(owned.section) == "logging" && name == "file" &&
          !(v.is_string() && is_blank(*v.value<std::string>())))
        out_.notes.push_back(
            {origin::file, "logging.file",
             position(v) + ": logging.file is VPO's log file; vpo serve logs to stderr (journald "
                           "or the service manager keeps it), so the file is not written"});
      if (known) continue;
      std::string message = position(v) + ": unknown key " + owned.section + "." + name +
                            " in config file; it is ignored";
      std::string best = rules::closest(name, owned.known);
      if (!best.empty())
        message += " (did you mean " + std::string(owned.section) + "." + best + "?)";
      out_.warnings.push_back({origin::file, std::string(owned.section) + "." + name, message});
    }
  }

  const load_input& in_;
  loaded_config out_;
  std::string home_;
};

}  // namespace

const char* to_string(origin o) {
  switch (o) {
    case origin::default_value:
      return "default";
    case origin::env:
      return "env";
    case origin::file:
      return "file";
    case origin::cli:
      return "cli";
  }
  return "default";
}

bool loaded_config::has_cli_error() const {
  for (const auto& e : errors)
    if (e.from == origin::cli) return true;
  return false;
}

loaded_config load(const load_input& input) {
  return loader(input).run();
}

std::optional<std::string> process_getenv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

}  // namespace vpo::config
