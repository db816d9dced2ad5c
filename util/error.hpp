// error.hpp: vpo's one error model below the actors: `vpo::errc` (what kind of failure, as a
// std::error_code in vpo's own category) and `vpo::error` (that code with one complete sentence
// for a human). SQLite's codes (db/) and errno (os/, jobs/) are mapped into errc where they are
// met, so nothing above a room boundary compares a SQLite code or an errno. docs/errors.md.
#pragma once

#include <string>
#include <system_error>
#include <utility>

namespace vpo {

/// Kinds of failure. The actors and the API decide on the kind (retry, 503, 400, fail the job);
/// the message says the rest. Values are stable (logs and the CAF edge carry them).
enum class errc : int {
  busy = 1,           ///< another writer holds the lock; try again soon
  unavailable,        ///< cannot be reached or opened at all (missing file, closed handle)
  full,               ///< no space left (disk, quota)
  read_only,          ///< the medium or the file refuses writes
  permission_denied,  ///< the OS refuses the operation to this user
  corrupt,            ///< the stored data is damaged (not a database, malformed)
  constraint,         ///< a uniqueness or integrity rule refused the change
  not_found,          ///< no such thing (job, file, folder)
  invalid,            ///< the request or the input is wrong (the caller must change it)
  conflict,           ///< the thing is in a state that does not allow the change
  io,                 ///< the OS failed to read or write
  timeout,            ///< an answer did not come in time
  overloaded,         ///< too much in progress; refused to protect the rest
  cancelled,          ///< stopped on purpose (drain, force, interrupt)
  stale,              ///< a fenced write by someone who no longer owns the thing
  unauthorized,       ///< the caller did not prove who it is (API token)
  rate_limited,       ///< the caller asked too often (API rate limit)
  internal,           ///< a bug or an unclassified failure
};

/// The category of errc ("vpo"); message() gives the kind in words.
const std::error_category& vpo_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

/// The kind of an errno value (ENOSPC -> full, EACCES -> permission_denied, ...).
errc errc_from_errno(int err) noexcept;

/// A failure: its kind and one complete sentence (what failed, where, the reason, and where it
/// helps, the fix). A default-constructed error means success.
struct error {
  std::error_code code;
  std::string message;
  /// How to fix it, for the operator (one sentence); empty when there is nothing to add.
  std::string fix;

  error() = default;
  error(errc kind, std::string text, std::string how_to_fix = {})
      : code(make_error_code(kind)), message(std::move(text)), fix(std::move(how_to_fix)) {}

  bool ok() const noexcept { return !code; }
  explicit operator bool() const noexcept { return static_cast<bool>(code); }
  /// True when this is a failure of this kind.
  bool is(errc kind) const noexcept { return code == make_error_code(kind); }
};

/// `what` followed by ": " and strerror(err), kind from errc_from_errno.
error errno_error(int err, const std::string& what);

}  // namespace vpo

namespace std {
template <>
struct is_error_code_enum<vpo::errc> : true_type {};
}  // namespace std
