// errors.cpp: vpo errors as caf::error and back; the exception and unexpected-message guards.
#include "actors/errors.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>
#include <exception>
#include <string>

#include "actors/guard.hpp"
#include "logging/log.hpp"

namespace vpo::actors {

caf::atom_value error_category() {
  return caf::atom("vpo");
}

caf::error to_caf(const vpo::error& e) {
  if (e.ok()) return {};
  auto code =
      e.code.category() == vpo_category() ? e.code.value() : static_cast<int>(errc::internal);
  return caf::error(static_cast<std::uint8_t>(code), error_category(),
                    caf::make_message(e.message));
}

vpo::error from_caf(const caf::actor_system& sys, const caf::error& e) {
  if (!e) return {};
  if (e.category() == error_category()) {
    std::string message;
    if (e.context().match_elements<std::string>()) message = e.context().get_as<std::string>(0);
    return vpo::error(static_cast<errc>(e.code()), std::move(message));
  }
  if (e == caf::sec::request_timeout) return vpo::error(errc::timeout, sys.render(e));
  if (e == caf::sec::request_receiver_down || e == caf::sec::invalid_argument)
    return vpo::error(errc::unavailable, sys.render(e));
  return vpo::error(errc::internal, sys.render(e));
}

void register_errors(caf::actor_system_config& cfg) {
  cfg.add_error_category(
      error_category(), [](std::uint8_t code, caf::atom_value, const caf::message& context) {
        std::string out = "vpo: " + std::error_code(static_cast<errc>(code)).message();
        if (context.match_elements<std::string>())
          out += " (" + context.get_as<std::string>(0) + ")";
        return out;
      });
}

void install_guards(caf::scheduled_actor* self, const char* actor_name) {
  self->set_default_handler(
      [actor_name](caf::scheduled_actor* s, caf::message_view& x) -> caf::result<caf::message> {
        logging::logger("vpo.actors")
            .warn(std::string("unexpected message dropped by ") + actor_name + ": " +
                      caf::to_string(x.content()),
                  {{"actor", actor_name}});
        return caf::drop(s, x);
      });
  self->set_exception_handler([actor_name](caf::scheduled_actor*, std::exception_ptr& x) {
    std::string what = "an exception that is not a std::exception";
    try {
      std::rethrow_exception(x);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    logging::logger("vpo.actors")
        .error(
            std::string(actor_name) + " failed: " + what + " (a defect in vpo: please report it)",
            {{"actor", actor_name}});
    return to_caf(vpo::error(errc::internal, std::string(actor_name) + ": " + what));
  });
}

}  // namespace vpo::actors
