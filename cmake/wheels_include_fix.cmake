# Used only when building against the ROS 2 PyPI wheels (tools/setup.sh passes it as
# CMAKE_PROJECT_INCLUDE); a real ROS 2 install needs none of this. Two fixes, applied at the end of
# configure:
# 1. The wheels' exported CMake targets name include directories of the machine that built them,
#    and CMake refuses to generate with non-existent ones: drop those entries.
# 2. The venv lives inside the source tree, so the NumPy headers that rosidl_generator_py adds as a
#    PUBLIC include directory look like source paths in an exported target: keep them for the build
#    only ($<BUILD_INTERFACE:...>); nothing installed needs them.
function(_mmchat_fix_include_dirs)
  get_property(imported DIRECTORY "${CMAKE_SOURCE_DIR}" PROPERTY IMPORTED_TARGETS)
  foreach(target IN LISTS imported)
    get_target_property(dirs ${target} INTERFACE_INCLUDE_DIRECTORIES)
    if(NOT dirs)
      continue()
    endif()
    set(kept "")
    foreach(dir IN LISTS dirs)
      if(dir MATCHES "^\\$<" OR EXISTS "${dir}")
        list(APPEND kept "${dir}")
      endif()
    endforeach()
    set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${kept}")
  endforeach()

  get_property(own DIRECTORY "${CMAKE_SOURCE_DIR}" PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target IN LISTS own)
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "UTILITY")
      continue()
    endif()
    get_target_property(dirs ${target} INTERFACE_INCLUDE_DIRECTORIES)
    if(NOT dirs)
      continue()
    endif()
    set(fixed "")
    foreach(dir IN LISTS dirs)
      if(NOT dir MATCHES "^\\$<" AND dir MATCHES "^${CMAKE_SOURCE_DIR}/")
        set(dir "$<BUILD_INTERFACE:${dir}>")
      endif()
      list(APPEND fixed "${dir}")
    endforeach()
    set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${fixed}")
  endforeach()
endfunction()
cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _mmchat_fix_include_dirs)
