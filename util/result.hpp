// result.hpp: `result<T>`: a value or a vpo::error (util/error.hpp), returned instead of
// out-parameters below the actors. `result<void>` is success or an error.
#pragma once

#include <optional>
#include <utility>

#include "util/error.hpp"

namespace vpo {

template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : value_(std::move(value)) {}   // NOLINT: implicit, like std::optional
  result(vpo::error e) : error_(std::move(e)) {}  // NOLINT
  result(errc kind, std::string message) : error_(kind, std::move(message)) {}

  bool ok() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  /// The value; only when ok().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  /// The error; empty (ok()) when there is a value.
  const vpo::error& error() const noexcept { return error_; }

 private:
  std::optional<T> value_;
  vpo::error error_;
};

template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(vpo::error e) : error_(std::move(e)) {}  // NOLINT
  result(errc kind, std::string message) : error_(kind, std::move(message)) {}

  bool ok() const noexcept { return error_.ok(); }
  explicit operator bool() const noexcept { return ok(); }
  const vpo::error& error() const noexcept { return error_; }

 private:
  vpo::error error_;
};

}  // namespace vpo
