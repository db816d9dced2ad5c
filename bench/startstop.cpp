// startstop.cpp: measures `vpo serve` start -> first /health 200 and SIGTERM -> exit (idle).
// Prints medians and maxima over N runs. A benchmark, not a test: it asserts nothing.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "tests/support/daemon.hpp"
#include "tests/support/http_client.hpp"

using namespace std::chrono;
using namespace vpo::test;

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 20;
  std::vector<double> start_ms, stop_ms;
  for (int i = 0; i < runs; ++i) {
    daemon_process d;
    auto t0 = steady_clock::now();
    d.start();
    bool up = false;
    while (steady_clock::now() - t0 < seconds(10)) {
      auto r = http_get(d.port(), "/health");
      if (r && r->status == 200) {
        up = true;
        break;
      }
      std::this_thread::sleep_for(microseconds(200));
    }
    if (!up) {
      std::fprintf(stderr, "run %d: no 200 within 10 s\n%s", i, d.proc().err().c_str());
      return 1;
    }
    start_ms.push_back(duration<double, std::milli>(steady_clock::now() - t0).count());
    auto t1 = steady_clock::now();
    auto code = d.stop(SIGTERM);
    stop_ms.push_back(duration<double, std::milli>(steady_clock::now() - t1).count());
    if (code != 0) {
      std::fprintf(stderr, "run %d: exit %d\n", i, code.value_or(-1));
      return 1;
    }
  }
  auto report = [](const char* what, std::vector<double> v) {
    std::sort(v.begin(), v.end());
    std::printf("%-28s median %7.1f ms   max %7.1f ms   (n=%zu)\n", what, v[v.size() / 2], v.back(),
                v.size());
  };
  report("start -> first 200", start_ms);
  report("SIGTERM -> exit (idle)", stop_ms);
  return 0;
}
