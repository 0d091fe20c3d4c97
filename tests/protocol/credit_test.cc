#include "protocol/credit.h"

#include <gtest/gtest.h>

namespace ferry::protocol {
namespace {

TEST(CreditWindow, SenderSpendsAndIsRefilledByCredit) {
  CreditWindow w(1000);
  EXPECT_TRUE(w.Spend(600).ok());
  EXPECT_FALSE(w.CanSpend(500));
  EXPECT_TRUE(w.Refund(600).ok());
  EXPECT_EQ(w.available(), 1000u);
}

TEST(CreditWindow, OverrunningTheCreditIsAProtocolError) {
  CreditWindow w(1000);
  ASSERT_TRUE(w.Spend(900).ok());
  Status s = w.Spend(101);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("exceeds the remaining credit 100"), std::string::npos);
  EXPECT_EQ(w.available(), 100u);
}

TEST(CreditWindow, CreditAboveTheWindowIsAProtocolError) {
  CreditWindow w(1000);
  ASSERT_TRUE(w.Spend(10).ok());
  EXPECT_FALSE(w.Refund(11).ok());
  EXPECT_FALSE(w.Refund(UINT64_MAX).ok());
  EXPECT_TRUE(w.Refund(10).ok());
}

}  // namespace
}  // namespace ferry::protocol
