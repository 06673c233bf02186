// The CAF unit-test runner's main(), compiled once for every test binary.
#include "caf/test/unit_test_impl.hpp"
