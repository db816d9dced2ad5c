// systemd_notify.hpp: sd_notify messages (READY, STOPPING, STATUS); no-ops without NOTIFY_SOCKET.
#pragma once

#include <string>

namespace vpo::net::systemd {

void ready();
void stopping();
void status(const std::string& text);

}  // namespace vpo::net::systemd
