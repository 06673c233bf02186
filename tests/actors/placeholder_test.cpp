#define CAF_SUITE placeholder
#include "caf/test/unit_test.hpp"
CAF_TEST(placeholder) {
  CAF_CHECK_EQUAL(1 + 1, 2);
}
