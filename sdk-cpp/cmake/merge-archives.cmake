# Merges the Rust core's archive (CORE) into the SDK's (SDK), so that users link one static
# library. GNU ar's MRI mode keeps members with the same name apart, which `ar x` would not.
# The LLVM bitcode the Rust standard library embeds for LTO is dropped first (OBJCOPY): the
# machine code is what links, and linkers with an LLVM plugin of another version would warn
# about every such object.
#   cmake -DAR=ar -DRANLIB=ranlib -DOBJCOPY=objcopy -DSDK=libthe0.a -DCORE=libthe0_cpp.a -P merge-archives.cmake

foreach(path IN ITEMS "${SDK}" "${CORE}")
    if(path MATCHES "[ +;*?]")
        message(FATAL_ERROR "the0: cannot merge archives under a path with spaces or MRI special characters: ${path}")
    endif()
endforeach()
set(core "${SDK}.core")
set(merged "${SDK}.merged")
set(script "${SDK}.mri")
if(OBJCOPY)
    execute_process(COMMAND "${OBJCOPY}" --remove-section=.llvmbc --remove-section=.llvmcmd "${CORE}" "${core}"
        RESULT_VARIABLE status ERROR_VARIABLE errors)
    if(NOT status EQUAL 0)
        message(FATAL_ERROR "the0: ${OBJCOPY} could not copy ${CORE}: ${errors}")
    endif()
else()
    execute_process(COMMAND "${CMAKE_COMMAND}" -E copy "${CORE}" "${core}")
endif()
file(WRITE "${script}" "create ${merged}\naddlib ${SDK}\naddlib ${core}\nsave\nend\n")
execute_process(COMMAND "${AR}" -M INPUT_FILE "${script}" RESULT_VARIABLE status ERROR_VARIABLE errors)
file(REMOVE "${script}" "${core}")
if(NOT status EQUAL 0)
    file(REMOVE "${merged}")
    message(FATAL_ERROR "the0: ${AR} -M could not merge ${CORE} into ${SDK}: ${errors}")
endif()
execute_process(COMMAND "${RANLIB}" "${merged}" RESULT_VARIABLE status)
if(NOT status EQUAL 0)
    message(FATAL_ERROR "the0: ${RANLIB} failed on ${merged}")
endif()
file(RENAME "${merged}" "${SDK}")
