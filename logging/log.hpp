// log.hpp: vpo's logging API: named loggers that write records with structured context fields.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

#include "config/settings.hpp"

namespace vpo::logging {

/// One structured context field (`job_id`, `file_path`, `signal`, ...), typed so JSON keeps types.
struct field {
  using value_type = std::variant<std::string, std::int64_t, double, bool>;
  field(std::string_view k, std::string_view v) : key(k), value(std::string(v)) {}
  field(std::string_view k, const char* v) : key(k), value(std::string(v)) {}
  field(std::string_view k, const std::string& v) : key(k), value(v) {}
  field(std::string_view k, int v) : key(k), value(std::int64_t{v}) {}
  field(std::string_view k, long v) : key(k), value(std::int64_t{v}) {}
  field(std::string_view k, long long v) : key(k), value(std::int64_t{v}) {}
  field(std::string_view k, unsigned v) : key(k), value(std::int64_t{v}) {}
  field(std::string_view k, unsigned long v) : key(k), value(static_cast<std::int64_t>(v)) {}
  field(std::string_view k, double v) : key(k), value(v) {}
  field(std::string_view k, bool v) : key(k), value(v) {}
  std::string key;
  value_type value;
};

using fields = std::initializer_list<field>;

/// A named logger (`vpo.http`, `vpo.config`, ...). Cheap to copy; thread-safe; never throws and
/// never blocks on a slow or broken stderr.
class logger {
 public:
  explicit logger(std::string name) : name_(std::move(name)) {}
  void debug(std::string_view message, fields context = {}) const;
  void info(std::string_view message, fields context = {}) const;
  void warn(std::string_view message, fields context = {}) const;
  void error(std::string_view message, fields context = {}) const;
  void log(config::log_level level, std::string_view message, fields context = {}) const;
  /// True when a record of this level would be written (skip building costly messages).
  bool enabled(config::log_level level) const;
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

}  // namespace vpo::logging
