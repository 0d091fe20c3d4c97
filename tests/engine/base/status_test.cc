#include "engine/base/status.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace ferry {
namespace {

Result<int> Half(int x) {
  if (x % 2) return InvalidArgument("odd: " + std::to_string(x));
  return x / 2;
}

Status Quarter(int x, int* out) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(*out, Half(h));
  return Status::Ok();
}

TEST(StatusTest, PosixErrorNamesOperationPathAndCause) {
  Status s = PosixError("open", "web/index.html", ENOENT);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.sys_errno(), ENOENT);
  EXPECT_EQ(s.message(), "open web/index.html: No such file or directory");
  EXPECT_EQ(PosixError("write", "x", ENOSPC).code(), ErrorCode::kNoSpace);
  EXPECT_EQ(PosixError("open", "x", EACCES).code(), ErrorCode::kPermission);
}

TEST(StatusTest, MacrosPropagateTheFirstError) {
  int out = 0;
  EXPECT_TRUE(Quarter(8, &out).ok());
  EXPECT_EQ(out, 2);
  Status s = Quarter(6, &out);  // 6/2 = 3 is odd
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "odd: 3");
  EXPECT_EQ(s.WithContext("quarter").message(), "quarter: odd: 3");
}

}  // namespace
}  // namespace ferry
