# ffp8_warnings: the project's warning set, linked by every target (interface only).
add_library(ffp8_warnings INTERFACE)
target_compile_options(ffp8_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
  -Wno-sign-conversion -Werror=return-type)
if(FFP8_NATIVE)
  target_compile_options(ffp8_warnings INTERFACE -march=native)
endif()
if(FFP8_SANITIZE)
  target_compile_options(ffp8_warnings INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer)
  target_link_options(ffp8_warnings INTERFACE -fsanitize=address,undefined)
endif()
