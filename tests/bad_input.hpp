#pragma once
// What an Error(bad_input) says: the message tests compare against the exact words.

#include <gtest/gtest.h>

#include <string>

#include "clgauge/error.hpp"

namespace clgauge::test {

// The message of the Error(bad_input) that f throws; empty when it throws none.
template <class F>
std::string bad_input_message(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ReasonCode::bad_input) << e.what();
    return e.what();
  }
  return "";
}

// The same, and a failure when f throws nothing.
template <class F>
std::string bad_input_of(F&& f) {
  bool threw = true;
  std::string message = bad_input_message([&] {
    f();
    threw = false;
  });
  if (!threw) ADD_FAILURE() << "no error thrown";
  return message;
}

}  // namespace clgauge::test
