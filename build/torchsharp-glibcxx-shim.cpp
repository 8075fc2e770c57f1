// Supplies std::ios_base_library_init() for libLibTorchSharp.so on systems whose libstdc++ predates
// GLIBCXX_3.4.32 (GCC 13), e.g. Debian 12. GCC 13's <iostream> no longer constructs a static
// ios_base::Init in every translation unit; it references this symbol instead, relying on the new
// libstdc++ to initialise std::cout & co. An older libstdc++ does not, so the shim both defines the
// symbol and constructs the Init object itself. Built and wired in by build/TorchSharpRuntime.targets.
#include <ios>

namespace std
{
    __attribute__((visibility("default"))) void ios_base_library_init() {}
}

namespace
{
    // Reference-counted by libstdc++: harmless if another library already initialised the streams.
    std::ios_base::Init s_streamsInit;
}
