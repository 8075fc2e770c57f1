# The installed SDK works for a consumer: install into a prefix, build the installed examples as a
# stand-alone project with find_package(TfPose CONFIG REQUIRED), run one (it loads libtfpose and its
# runtimes from the prefix, not from the build tree).
include(${CMAKE_CURRENT_LIST_DIR}/common.cmake)
file(REMOVE_RECURSE "${OUT}")
run_checked(INSTALL "${CMAKE_COMMAND}" --install "${BUILD}" --config Release --prefix "${OUT}/prefix")
set(platform)
if(GENERATOR_PLATFORM)
  set(platform -A "${GENERATOR_PLATFORM}")
endif()
run_checked(CONFIGURE "${CMAKE_COMMAND}" -S "${OUT}/prefix/share/tfpose/examples" -B "${OUT}/build" -G "${GENERATOR}" ${platform}
  -DCMAKE_BUILD_TYPE=Release "-DCMAKE_PREFIX_PATH=${OUT}/prefix")
run_checked(BUILD "${CMAKE_COMMAND}" --build "${OUT}/build" --config Release)
file(GLOB_RECURSE exe "${OUT}/build/run_graph" "${OUT}/build/run_graph.exe")
if(NOT exe)
  message(FATAL_ERROR "run_graph was not built in ${OUT}/build")
endif()
list(GET exe 0 exe)
run_checked(RUN "${exe}" "${GRAPH}" --shape 1,784 --print 4)
if(NOT RUN_OUTPUT MATCHES "result output dtype 1 shape \\[1,10\\]")
  message(FATAL_ERROR "unexpected output:\n${RUN_OUTPUT}")
endif()
message(STATUS "find_package(TfPose) consumer built and ran against ${OUT}/prefix")
