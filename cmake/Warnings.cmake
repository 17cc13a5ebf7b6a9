# ffp8_warnings: the project's warning set and code-generation options (-march=native, the
# sanitizers), linked privately by every target (interface only), so every library, the CLI, the
# tests and the benchmarks are compiled alike. Optimisation comes from the build type alone.
add_library(ffp8_warnings INTERFACE)
target_compile_options(ffp8_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
  -Wno-sign-conversion -Werror=return-type
  # GCC 12 reports std::string copies inlined at -O3 as overlapping memcpy (GCC bug 105329).
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)
if(FFP8_NATIVE)
  target_compile_options(ffp8_warnings INTERFACE -march=native)
endif()
if(FFP8_SANITIZE)
  target_compile_options(ffp8_warnings INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer)
  target_link_options(ffp8_warnings INTERFACE -fsanitize=address,undefined)
endif()
