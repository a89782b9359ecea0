# Toolchain-wide settings and the helpers every Parley target uses.

find_program(NODE_EXECUTABLE node REQUIRED)

if(EMSCRIPTEN)
  # No exceptions in the browser build (smaller, faster): Parley's code
  # reports errors as values and its cereal archive never throws, so a throw
  # can only come from a bug, and then aborts (-fno-exceptions makes libc++'s
  # headers abort directly instead of building exception objects; valijson,
  # which needs them, opts back in: see shared/CMakeLists.txt). Size for
  # everything.
  set(CMAKE_CXX_FLAGS_RELEASE "-Oz -DNDEBUG -flto -fno-exceptions")
  # Errors keep their stable code and path but not their words (see
  # shared/src/rules.hpp): the words cost bytes in every page that loads Parley.
  add_compile_definitions(PARLEY_TERSE_ERRORS)
  # em++ must not see /usr/include (glibc would shadow its sysroot): expose
  # only the header-only libraries through a folder of links.
  set(PARLEY_HOST_HEADERS ${CMAKE_BINARY_DIR}/host-headers)
  file(MAKE_DIRECTORY ${PARLEY_HOST_HEADERS})
  foreach(dir cereal rapidjson valijson)
    if(NOT EXISTS ${PARLEY_HOST_HEADERS}/${dir})
      file(CREATE_LINK /usr/include/${dir} ${PARLEY_HOST_HEADERS}/${dir} SYMBOLIC)
    endif()
  endforeach()
endif()

if(PARLEY_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "PARLEY_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++-14")
  endif()
  # pointer-overflow stays recoverable so that tests/fuzz/ubsan.supp can silence
  # rapidjson 1.1's known null-stack arithmetic; halt_on_error still stops on ours.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
                      -fsanitize-recover=pointer-overflow)
  add_link_options(-fsanitize=address,undefined)
endif()

if(PARLEY_SANITIZE)
  add_compile_options(-fsanitize=${PARLEY_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${PARLEY_SANITIZE})
  if(PARLEY_SANITIZE MATCHES "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # Asio's fenced blocks use std::atomic_thread_fence, which TSan does not
    # model (GCC 12 warns); the handlers they guard also pass through the
    # scheduler's mutex-protected queues, which it does.
    add_compile_options(-Wno-tsan)
  endif()
endif()

# Warnings for Parley's own targets (third-party headers come in as SYSTEM).
function(parley_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    # GCC 12 reports std::string concatenation at -O3 as overlapping memcpy (GCC bug 105651).
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    # rapidjson's iterators predate C++20's reversed comparison operators.
    target_compile_options(${target} PRIVATE -Wno-ambiguous-reversed-operator)
  endif()
  if(PARLEY_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# Header-only third-party libraries (cereal, rapidjson, valijson).
function(parley_third_party_headers target scope)
  if(EMSCRIPTEN)
    target_include_directories(${target} SYSTEM ${scope} ${PARLEY_HOST_HEADERS})
  endif()
endfunction()
