// Flow-control credit (PROTOCOL.md section 6). Both ends keep one window:
// the sender spends credit before each FileData/DeltaOps frame and gets it
// back from Credit messages; the receiver spends the same amounts as the
// frames arrive (so a sender overrunning its credit is caught) and refunds
// what it then grants in Credit messages.
//
// Thread safety: thread-compatible.
#pragma once

#include <cstdint>

#include "engine/base/status.h"

namespace ferry::protocol {

class CreditWindow {
 public:
  explicit CreditWindow(uint64_t window) : window_(window), available_(window) {}

  uint64_t available() const { return available_; }
  bool CanSpend(uint64_t n) const { return n <= available_; }

  // Errors (kCorrupt): n exceeds the credit left ("frame of N bytes exceeds
  // the remaining credit M").
  Status Spend(uint64_t n);
  // Errors (kCorrupt): the credit would exceed the window.
  Status Refund(uint64_t n);

 private:
  uint64_t window_;
  uint64_t available_;
};

}  // namespace ferry::protocol
