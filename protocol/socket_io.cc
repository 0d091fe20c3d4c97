#include "protocol/socket_io.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <string>

namespace ferry::protocol {

namespace {

Status TimedOut(const char* what) {
  return Status(ErrorCode::kIo, std::string("timed out waiting for ") + what, ETIMEDOUT);
}

// Waits for `events` on fd. Returns OK when ready; errors on deadline or
// cancellation.
Status Wait(int fd, short events, Deadline deadline, int cancel_fd, const char* what) {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return TimedOut(what);
    pollfd fds[2] = {{fd, events, 0}, {cancel_fd, POLLIN, 0}};
    const int n = poll(fds, cancel_fd >= 0 ? 2 : 1,
                       static_cast<int>(std::min<int64_t>(left.count(), 60'000)));
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError("poll", what, errno);
    }
    if (cancel_fd >= 0 && (fds[1].revents & POLLIN))
      return Status(ErrorCode::kIo, "shutting down", ECANCELED);
    if (fds[0].revents) return Status::Ok();  // ready, or an error recv/send will report
  }
}

}  // namespace

Status ReadExact(int fd, std::span<std::byte> buf, Deadline deadline, int cancel_fd,
                 const char* what) {
  size_t got = 0;
  while (got < buf.size()) {
    RETURN_IF_ERROR(Wait(fd, POLLIN, deadline, cancel_fd, what));
    const ssize_t n = recv(fd, buf.data() + got, buf.size() - got, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return PosixError("recv", what, errno);
    }
    if (n == 0)
      return Status(ErrorCode::kIo, std::string("connection closed by peer while reading ") +
                                        what + " (" + std::to_string(got) + " of " +
                                        std::to_string(buf.size()) + " bytes)");
    got += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status WriteAll(int fd, std::span<const std::byte> buf, Deadline deadline, int cancel_fd) {
  size_t sent = 0;
  while (sent < buf.size()) {
    RETURN_IF_ERROR(Wait(fd, POLLOUT, deadline, cancel_fd, "the peer to read"));
    const ssize_t n = send(fd, buf.data() + sent, buf.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return PosixError("send", "", errno);
    }
    sent += static_cast<size_t>(n);
  }
  return Status::Ok();
}

bool SleepUntil(Deadline deadline, int cancel_fd) {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return true;
    pollfd p{cancel_fd, POLLIN, 0};
    const int n = poll(&p, cancel_fd >= 0 ? 1 : 0, static_cast<int>(left.count()));
    if (n > 0) return false;
  }
}

}  // namespace ferry::protocol
