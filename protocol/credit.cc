#include "protocol/credit.h"

#include <string>

namespace ferry::protocol {

Status CreditWindow::Spend(uint64_t n) {
  if (n > available_) {
    return Corrupt("flow control: frame of " + std::to_string(n) +
                   " bytes exceeds the remaining credit " + std::to_string(available_));
  }
  available_ -= n;
  return Status::Ok();
}

Status CreditWindow::Refund(uint64_t n) {
  if (n > window_ - available_) {
    return Corrupt("flow control: Credit of " + std::to_string(n) +
                   " bytes would raise the credit above the window " +
                   std::to_string(window_));
  }
  available_ += n;
  return Status::Ok();
}

}  // namespace ferry::protocol
