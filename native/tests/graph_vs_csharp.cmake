# run_graph (C++, tfpose.hpp) vs `tfpose graph run` (C# GraphSession) on the same input tensor.
include(${CMAKE_CURRENT_LIST_DIR}/common.cmake)
string(REPLACE "|" ";" GRAPHS "${GRAPHS}")
string(REPLACE "|" ";" SHAPES "${SHAPES}")
file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}")

foreach(graph shape IN ZIP_LISTS GRAPHS SHAPES)
  get_filename_component(dir "${graph}" DIRECTORY)
  get_filename_component(name "${dir}" NAME)
  run_checked(RUN "${EXAMPLE}" "${graph}" --shape ${shape} --save-input "${OUT}/${name}_in.npy" --save-output "${OUT}/${name}_c.npy")
  # The fed input is the graph's first input; its name is on the "feed" line.
  string(REGEX MATCH "feed   ([^ ]+) float32" _ "${RUN_OUTPUT}")
  set(input "${CMAKE_MATCH_1}")
  tfpose_cli(graph run "${graph}" --input "${input}=${OUT}/${name}_in.npy" --out "${OUT}/${name}_csharp.npy")
  run_checked(COMPARE "${COMPARE}" npy "${OUT}/${name}_csharp.npy" "${OUT}/${name}_c.npy" 1e-5)
  message(STATUS "${name}: output matches the C# session")
endforeach()
