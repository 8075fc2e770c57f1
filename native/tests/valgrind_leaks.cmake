# pose_image under valgrind memcheck, N and 2N estimates in one process each:
#  - no invalid reads or writes anywhere (C example, libtfpose, ONNX Runtime, OpenCV);
#  - "definitely lost" does not grow with the number of calls (a per-call leak would double).
# The network runs at 96x96 to keep memcheck's ~50x slowdown affordable; the code path is the same.
set(N 3)
file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}")
# The .NET GC reserves address space lazily and needs no more than this under valgrind.
set(ENV{DOTNET_GCHeapHardLimit} "0x20000000")

function(memcheck repeat lost_var)
  set(log "${OUT}/memcheck_${repeat}.log")
  execute_process(
    COMMAND "${VALGRIND}" --tool=memcheck --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=none
            --track-origins=no --num-callers=20 --log-file=${log}
            "${EXAMPLE}" "${MODEL}" "${IMAGE}" --size 96x96 --threads 1 --repeat ${repeat} --quiet --out "${OUT}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  file(READ "${log}" text)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pose_image --repeat ${repeat} under valgrind failed (${rc}):\n${out}\n${err}\n${text}")
  endif()
  string(REGEX MATCHALL "Invalid (read|write|free)[^\n]*" invalid "${text}")
  list(LENGTH invalid invalid_count)
  if(invalid_count GREATER 0)
    message(FATAL_ERROR "valgrind found ${invalid_count} invalid accesses with --repeat ${repeat}; see ${log}:\n${invalid}")
  endif()
  set(lost 0)
  if(text MATCHES "definitely lost: ([0-9,]+) bytes")
    string(REPLACE "," "" lost "${CMAKE_MATCH_1}")
  endif()
  message(STATUS "--repeat ${repeat}: 0 invalid reads/writes, definitely lost ${lost} bytes")
  set(${lost_var} ${lost} PARENT_SCOPE)
endfunction()

memcheck(${N} lost_n)
math(EXPR N2 "${N} * 2")
memcheck(${N2} lost_2n)
if(lost_2n GREATER lost_n)
  message(FATAL_ERROR "definitely lost grows with the number of calls: ${lost_n} bytes after ${N} estimates, ${lost_2n} after ${N2}")
endif()
message(STATUS "no invalid accesses; definitely lost ${lost_n} -> ${lost_2n} bytes for ${N} -> ${N2} estimates (no growth)")
