# sanitizers.cmake: VPO_SANITIZE=ON builds everything with AddressSanitizer and UBSan.
option(VPO_SANITIZE "Build with -fsanitize=address,undefined (make sanitize)" OFF)
if(VPO_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
# VPO_TSAN=ON builds everything with ThreadSanitizer; give it a CAF built the same way
# (-DCAF_ROOT=$(scripts/build-caf-tsan.sh)), or CAF's own races drown the report.
option(VPO_TSAN "Build with -fsanitize=thread (make tsan)" OFF)
if(VPO_TSAN)
  # GCC warns that TSan does not model std::atomic_thread_fence (Boost.Asio uses one); a race
  # that only a fence orders would show up as a report, so nothing is hidden by silencing it.
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -Wno-tsan)
  add_link_options(-fsanitize=thread)
endif()
