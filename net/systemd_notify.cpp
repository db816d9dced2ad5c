// systemd_notify.cpp: thin wrappers over libsystemd's sd_notify.
#include "net/systemd_notify.hpp"

#include <systemd/sd-daemon.h>

namespace vpo::net::systemd {

void ready() {
  sd_notify(0, "READY=1\nSTATUS=serving");
}
void stopping() {
  sd_notify(0, "STOPPING=1\nSTATUS=draining");
}
void status(const std::string& text) {
  sd_notify(0, ("STATUS=" + text).c_str());
}

}  // namespace vpo::net::systemd
