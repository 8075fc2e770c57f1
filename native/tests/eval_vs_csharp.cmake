# eval_test (tfpose_evaluate_coco, C) against `tfpose pose eval` (PoseEvaluation through the CLI, C#): a multi-person
# model on whole images, and a single-person model on ground-truth boxes with one image missing from its folder.
include(${CMAKE_CURRENT_LIST_DIR}/common.cmake)
file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}/partial")

# The boxes run reads a copy of the images without the first one, so both sides skip and count it.
file(GLOB images "${IMAGES}/*.jpg")
list(SORT images)
list(POP_FRONT images left_out)
file(COPY ${images} DESTINATION "${OUT}/partial")

# "v0,...,v9,scored,skipped" from the CLI's table, its per-image lines and its skip warnings.
function(cli_stats var)
  tfpose_cli(pose eval ${ARGN} --coco-annotations "${ANNOTATIONS}")
  set(values)
  foreach(metric AP AP50 AP75 APm APl AR AR50 AR75 ARm ARl)
    if(NOT CLI_OUTPUT MATCHES "[^A-Za-z0-9]${metric} [^0-9-]*(-?[0-9]+\\.[0-9]+)")
      message(FATAL_ERROR "no ${metric} in the output of tfpose pose eval ${ARGN}:\n${CLI_OUTPUT}")
    endif()
    list(APPEND values "${CMAKE_MATCH_1}")
  endforeach()
  string(REGEX MATCHALL "[0-9]+\\.jpg: [0-9]+ (person|people)" scored "${CLI_OUTPUT}")
  string(REGEX MATCHALL "warning: skipping" skipped "${CLI_ERROR}")
  list(LENGTH scored scored)
  list(LENGTH skipped skipped)
  list(APPEND values ${scored} ${skipped})
  string(REPLACE ";" "," values "${values}")
  message(STATUS "tfpose pose eval ${ARGN}: ${values}")
  set(${var} "${values}" PARENT_SCOPE)
endfunction()

cli_stats(whole --model "${WHOLE_MODEL}" --images "${IMAGES}")
cli_stats(boxes --model "${BOXES_MODEL}" --gt-boxes --images "${OUT}/partial")
if(NOT boxes MATCHES ",1$")
  message(FATAL_ERROR "the CLI did not skip ${left_out}: ${boxes}")
endif()

run_checked(C_TEST "${TEST}" "${ANNOTATIONS}" "${OUT}" "${WHOLE_MODEL}" "${IMAGES}" "${whole}" "${BOXES_MODEL}" "${OUT}/partial" "${boxes}")
