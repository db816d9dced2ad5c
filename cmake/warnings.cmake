# warnings.cmake: vpo_enable_warnings(target) turns on -Wall -Wextra -Wpedantic (errors with VPO_WERROR).
option(VPO_WERROR "Treat compiler warnings as errors (CI turns this on)" OFF)
function(vpo_enable_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(VPO_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
