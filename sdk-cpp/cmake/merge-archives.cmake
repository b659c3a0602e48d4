# Merges the Rust core's archive (CORE) into the SDK's (SDK), so that users link one static
# library. GNU ar's MRI mode keeps members with the same name apart, which `ar x` would not.
#   cmake -DAR=ar -DRANLIB=ranlib -DSDK=libthe0.a -DCORE=libthe0_cpp.a -P merge-archives.cmake

foreach(path IN ITEMS "${SDK}" "${CORE}")
    if(path MATCHES "[ +;*?]")
        message(FATAL_ERROR "the0: cannot merge archives under a path with spaces or MRI special characters: ${path}")
    endif()
endforeach()
set(merged "${SDK}.merged")
set(script "${SDK}.mri")
file(WRITE "${script}" "create ${merged}\naddlib ${SDK}\naddlib ${CORE}\nsave\nend\n")
execute_process(COMMAND "${AR}" -M INPUT_FILE "${script}" RESULT_VARIABLE status ERROR_VARIABLE errors)
file(REMOVE "${script}")
if(NOT status EQUAL 0)
    file(REMOVE "${merged}")
    message(FATAL_ERROR "the0: ${AR} -M could not merge ${CORE} into ${SDK}: ${errors}")
endif()
execute_process(COMMAND "${RANLIB}" "${merged}" RESULT_VARIABLE status)
if(NOT status EQUAL 0)
    message(FATAL_ERROR "the0: ${RANLIB} failed on ${merged}")
endif()
file(RENAME "${merged}" "${SDK}")
