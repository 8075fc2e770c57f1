# Helpers of the CTest driver scripts (cmake -P).

# Runs a command; fails the test with its output unless it exits with 0. Output in <VAR>_OUTPUT, errors in <VAR>_ERROR.
function(run_checked var)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message("${out}")
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " line "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${line}\n${out}\n${err}")
  endif()
  set(${var}_OUTPUT "${out}" PARENT_SCOPE)
  set(${var}_ERROR "${err}" PARENT_SCOPE)
endfunction()

# The C# reference: the built tfpose CLI, or `dotnet run` of its project when it was not built.
function(tfpose_cli)
  if(EXISTS "${CLI_DLL}")
    run_checked(CLI "${DOTNET}" "${CLI_DLL}" ${ARGN})
  else()
    message(STATUS "${CLI_DLL} not built; using dotnet run")
    run_checked(CLI "${DOTNET}" run --project "${REPO}/src/TfPose.Cli/TfPose.Cli.csproj" -c Release -- ${ARGN})
  endif()
  set(CLI_OUTPUT "${CLI_OUTPUT}" PARENT_SCOPE)
  set(CLI_ERROR "${CLI_ERROR}" PARENT_SCOPE)
endfunction()
