# All dependencies come from Debian packages (scripts/setup installs them).
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(fmt REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS program_options)
# MPI (OpenMPI from Debian): only the CLI links it (cluster sweeps, tools/ffp8/mpi_*.cpp).
find_package(MPI REQUIRED COMPONENTS CXX)
find_package(Threads REQUIRED)

# HDF5's FindHDF5 gives hdf5::hdf5 on CMake >= 3.19; keep one name for the project.
if(NOT TARGET hdf5::hdf5)
  add_library(hdf5::hdf5 INTERFACE IMPORTED)
  target_include_directories(hdf5::hdf5 INTERFACE ${HDF5_INCLUDE_DIRS})
  target_link_libraries(hdf5::hdf5 INTERFACE ${HDF5_LIBRARIES})
  target_compile_definitions(hdf5::hdf5 INTERFACE ${HDF5_DEFINITIONS})
endif()
