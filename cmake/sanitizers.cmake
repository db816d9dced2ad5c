# sanitizers.cmake: VPO_SANITIZE=ON builds everything with AddressSanitizer and UBSan.
option(VPO_SANITIZE "Build with -fsanitize=address,undefined (make sanitize)" OFF)
if(VPO_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
