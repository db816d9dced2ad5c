// skip.hpp: VPO_SKIP(reason): ends a test that cannot run here, visibly. Catch2 2.13 has no skip,
// so the test prints "SKIPPED: <reason>" as a warning and CTest, matching that text
// (SKIP_REGULAR_EXPRESSION in CMakeLists.txt), reports the test as skipped with the reason in its
// output, never as passed. Use it only for a whole test; a part not exercised is a plain WARN.
#pragma once

#include <catch2/catch.hpp>

#define VPO_SKIP(reason)           \
  do {                             \
    WARN("SKIPPED: " << (reason)); \
    return;                        \
  } while (false)
