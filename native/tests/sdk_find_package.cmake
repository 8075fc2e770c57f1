# The installed SDK works for a consumer: install into a prefix, build the installed examples as a
# stand-alone project with find_package(TfPose CONFIG REQUIRED), run one (it loads libtfpose and its
# runtimes from the prefix, not from the build tree); `cmake --install` of that consumer gives a folder
# whose program runs on its own (tfpose_install_runtime); with a runtime library deleted from it, the
# program's error names the missing file instead of "TypeInitializationException".
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

# Installed consumer: bin/run_graph + lib/ with libtfpose and its runtimes, no LD_LIBRARY_PATH, SDK prefix not needed.
run_checked(APP_INSTALL "${CMAKE_COMMAND}" --install "${OUT}/build" --config Release --prefix "${OUT}/app")
file(REMOVE_RECURSE "${OUT}/prefix")
file(GLOB installed "${OUT}/app/bin/run_graph" "${OUT}/app/bin/run_graph.exe")
if(NOT installed)
  message(FATAL_ERROR "cmake --install put no run_graph in ${OUT}/app/bin")
endif()
run_checked(APP_RUN "${installed}" "${GRAPH}" --shape 1,784 --print 4)
if(NOT APP_RUN_OUTPUT MATCHES "result output dtype 1 shape \\[1,10\\]")
  message(FATAL_ERROR "unexpected output from the installed program:\n${APP_RUN_OUTPUT}")
endif()

# A runtime library missing beside libtfpose: the error names it.
if(WIN32)
  set(runtime_dir "${OUT}/app/bin")
  set(ort onnxruntime.dll)
else()
  set(runtime_dir "${OUT}/app/lib")
  set(ort libonnxruntime.so)
endif()
file(REMOVE "${runtime_dir}/${ort}")
execute_process(COMMAND "${installed}" "${GRAPH}" --shape 1,784 --print 4 RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "native library ${ort} not found in" OR err MATCHES "TypeInitializationException")
  message(FATAL_ERROR "without ${ort} expected an error naming it, got (exit ${rc}):\n${out}\n${err}")
endif()
message(STATUS "without ${ort}: ${err}")
message(STATUS "find_package(TfPose) consumer built, installed and ran against ${OUT}/prefix")
