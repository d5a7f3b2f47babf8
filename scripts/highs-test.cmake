# CMake toolchain file for the test build only (scripts/test.sh): HiGHS at -O1 instead of its
# Release -O3. Compiling HiGHS is the longest step of a build from nothing (12 of 23 minutes on
# 2 cores); -O1 compiles a third faster and still solves the test models in seconds. Release builds
# (`cargo build --release`) do not read this file and keep -O3. The flags are set as cache entries
# because CMake appends its own -O3 to the *_INIT variables.
set(CMAKE_C_FLAGS_RELEASE "-O1 -DNDEBUG" CACHE STRING "C flags of Release builds (takt tests)")
set(CMAKE_CXX_FLAGS_RELEASE "-O1 -DNDEBUG" CACHE STRING "C++ flags of Release builds (takt tests)")
