# pose_image under valgrind memcheck (MODE=run, with REPEAT estimates in one process):
#  - no invalid reads, writes or frees anywhere (C example, libtfpose, ONNX Runtime, OpenCV);
#  - records "definitely lost" so that MODE=compare can check that it does not grow with the number
#    of calls (a per-call leak makes 2N calls lose more than N).
# The network runs at 64x64 to keep memcheck's ~50x slowdown affordable; the code path is the same.
# Other memcheck reports are not failures: ONNX Runtime does a harmless memcpy of a buffer onto itself.
if(MODE STREQUAL "compare")
  file(READ "${OUT}/lost_${N}.txt" lost_n)
  file(READ "${OUT}/lost_${N2}.txt" lost_2n)
  if(lost_2n GREATER lost_n)
    message(FATAL_ERROR "definitely lost grows with the number of calls: ${lost_n} bytes after ${N} estimates, ${lost_2n} after ${N2}")
  endif()
  message(STATUS "definitely lost: ${lost_n} bytes after ${N} estimates, ${lost_2n} bytes after ${N2} (no growth)")
  return()
endif()

set(dir "${OUT}/run_${REPEAT}")
file(REMOVE_RECURSE "${dir}")
file(REMOVE "${OUT}/lost_${REPEAT}.txt")
# valgrind 3.19 gives up on the DWARF 5 of libtfpose.so.dbg (found through the .so's debug link), so
# the libraries are loaded from a copy without it (LD_LIBRARY_PATH is searched before RUNPATH).
file(GLOB libs "${LIBDIR}/*.so")
file(COPY ${libs} DESTINATION "${dir}/lib")
set(ENV{LD_LIBRARY_PATH} "${dir}/lib")
# The .NET GC then reserves a modest address range, which valgrind handles quickly.
set(ENV{DOTNET_GCHeapHardLimit} "0x20000000")

set(log "${dir}/memcheck.log")
execute_process(
  COMMAND "${VALGRIND}" --tool=memcheck --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=none
          --num-callers=30 --log-file=${log}
          --suppressions=${CMAKE_CURRENT_LIST_DIR}/valgrind.supp
          "${EXAMPLE}" "${MODEL}" "${IMAGE}" --size 64x64 --threads 1 --repeat ${REPEAT} --quiet --out "${dir}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
file(READ "${log}" text)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pose_image --repeat ${REPEAT} under valgrind failed (${rc}):\n${out}\n${err}\n${text}")
endif()
string(REGEX MATCHALL "Invalid (read|write|free)[^\n]*" invalid "${text}")
list(LENGTH invalid invalid_count)
if(invalid_count GREATER 0)
  message(FATAL_ERROR "valgrind found ${invalid_count} invalid accesses with --repeat ${REPEAT}; see ${log}:\n${invalid}")
endif()
if(NOT text MATCHES "definitely lost: ([0-9,]+) bytes")
  if(NOT text MATCHES "All heap blocks were freed")
    message(FATAL_ERROR "no leak summary in ${log}")
  endif()
  set(CMAKE_MATCH_1 0)
endif()
string(REPLACE "," "" lost "${CMAKE_MATCH_1}")
file(WRITE "${OUT}/lost_${REPEAT}.txt" "${lost}")
message(STATUS "--repeat ${REPEAT}: no invalid reads/writes/frees; definitely lost ${lost} bytes\n${out}")
