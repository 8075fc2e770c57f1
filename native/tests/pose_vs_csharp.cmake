# pose_image (C, libtfpose) vs `tfpose pose` (C#) on the same images and network size.
include(${CMAKE_CURRENT_LIST_DIR}/common.cmake)
string(REPLACE "|" ";" IMAGES "${IMAGES}")
string(REPLACE "|" ";" EXPECTED_PEOPLE "${EXPECTED_PEOPLE}")
file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}/csharp" "${OUT}/c")

tfpose_cli(pose ${IMAGES} --model "${MODEL}" --size 432x368 --json --render --out "${OUT}/csharp")
run_checked(C_EXAMPLE "${EXAMPLE}" "${MODEL}" ${IMAGES} --size 432x368 --out "${OUT}/c")

foreach(image expected IN ZIP_LISTS IMAGES EXPECTED_PEOPLE)
  get_filename_component(stem "${image}" NAME_WE)
  # The library's JSON export and the example's own JSON built by iterating people and keypoints.
  run_checked(COMPARE_JSON "${COMPARE}" pose "${OUT}/csharp/${stem}_keypoints.json" "${OUT}/c/${stem}_keypoints.json" 0.01)
  run_checked(COMPARE_ITER "${COMPARE}" pose "${OUT}/csharp/${stem}_keypoints.json" "${OUT}/c/${stem}_iterated.json" 0.01)
  if(NOT COMPARE_JSON_OUTPUT MATCHES "OK: ${expected} people")
    message(FATAL_ERROR "${stem}: expected ${expected} people:\n${COMPARE_JSON_OUTPUT}")
  endif()
  # Same pixels in, same drawing calls: the rendered PNGs are byte-identical.
  execute_process(COMMAND "${CMAKE_COMMAND}" -E compare_files "${OUT}/csharp/${stem}_rendered.png" "${OUT}/c/${stem}_rendered.png"
    RESULT_VARIABLE differ)
  if(differ)
    message(FATAL_ERROR "${stem}: the rendered PNG differs from the C# one")
  endif()
  message(STATUS "${stem}: ${expected} people, keypoints and rendering match the C# API")
endforeach()
