// error.cpp: vpo's error category and the errno mapping.
#include "util/error.hpp"

#include <cerrno>
#include <cstring>

namespace vpo {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "vpo"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::busy:
        return "busy";
      case errc::unavailable:
        return "unavailable";
      case errc::full:
        return "no space left";
      case errc::read_only:
        return "read-only";
      case errc::permission_denied:
        return "permission denied";
      case errc::corrupt:
        return "damaged data";
      case errc::constraint:
        return "constraint violated";
      case errc::not_found:
        return "not found";
      case errc::invalid:
        return "invalid";
      case errc::conflict:
        return "conflict";
      case errc::io:
        return "I/O error";
      case errc::timeout:
        return "timed out";
      case errc::overloaded:
        return "overloaded";
      case errc::cancelled:
        return "cancelled";
      case errc::stale:
        return "stale owner";
      case errc::unauthorized:
        return "unauthorized";
      case errc::rate_limited:
        return "rate limited";
      case errc::internal:
        return "internal error";
    }
    return "unknown vpo error " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& vpo_category() noexcept {
  static const category instance;
  return instance;
}

std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), vpo_category()};
}

errc errc_from_errno(int err) noexcept {
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return errc::full;
    case EROFS:
      return errc::read_only;
    case EACCES:
    case EPERM:
      return errc::permission_denied;
    case ENOENT:
    case ENOTDIR:
      return errc::not_found;
    case EBUSY:
    case EAGAIN:
    case EINTR:
      return errc::busy;
    case ETIMEDOUT:
      return errc::timeout;
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return errc::overloaded;
    case EINVAL:
    case ENAMETOOLONG:
    case ELOOP:
    case EISDIR:
      return errc::invalid;
    case EIO:
      return errc::io;
    default:
      return errc::io;
  }
}

error errno_error(int err, const std::string& what) {
  return error(errc_from_errno(err), what + ": " + std::strerror(err));
}

}  // namespace vpo
