#include "engine/plan/command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <vector>

#include "engine/base/fd_limit.h"

namespace ferry::plan {
namespace {

constexpr size_t kKeep = 8192;
constexpr int64_t kKillGraceMs = 2000;

}  // namespace

std::string CommandResult::Describe() const {
  if (timed_out) return "timed out after " + std::to_string(seconds).substr(0, 5) + "s";
  if (signal) return "killed by signal " + std::to_string(signal);
  return "exit " + std::to_string(exit_code);
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

Result<CommandResult> RunCommand(const CommandSpec& spec) {
  std::string text = spec.command;
  if (!spec.host.empty())
    text = spec.rsh + " " + ShellQuote((spec.user.empty() ? "" : spec.user + "@") + spec.host) +
           " " + ShellQuote(spec.command);
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return PosixError("pipe", "hook", errno);
  auto start = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    return PosixError("fork", "hook", e);
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(pipefd[1], 1);
    ::dup2(pipefd[1], 2);
    // The runner may block signals in worker threads; the hook gets defaults.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    RestoreDescriptorLimitInChild();
    ::execl("/bin/sh", "sh", "-c", text.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Both sides set the group, so the kill below cannot race the child's setpgid.
  ::setpgid(pid, pid);
  ::close(pipefd[1]);
  CommandResult r;
  std::string out;
  bool eof = false, exited = false, termed = false;
  int status = 0;
  auto elapsed_ms = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now() - start)
        .count();
  };
  int64_t term_at = 0, exit_ms = 0;
  while (!exited || !eof) {
    if (!eof) {
      struct pollfd p = {pipefd[0], POLLIN, 0};
      int n = ::poll(&p, 1, 20);
      if (n > 0) {
        char buf[4096];
        ssize_t got = ::read(pipefd[0], buf, sizeof buf);
        if (got > 0) {
          out.append(buf, static_cast<size_t>(got));
          if (out.size() > 2 * kKeep) out.erase(0, out.size() - kKeep);
        } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
          eof = true;
        }
      }
    } else {
      ::usleep(10'000);
    }
    int64_t ms = elapsed_ms();
    if (!exited) {
      pid_t w = ::waitpid(pid, &status, WNOHANG);
      if (w == pid) {
        exited = true;
        exit_ms = ms;
      }
    }
    if (!exited && !r.timed_out && ms > spec.timeout_ms) {
      r.timed_out = true;
      ::kill(-pid, SIGTERM);
      term_at = ms;
    } else if (!exited && r.timed_out && !termed && ms > term_at + kKillGraceMs) {
      termed = true;
      ::kill(-pid, SIGKILL);
    }
    // A background child still holding the pipe must not keep us waiting.
    if (exited && !eof && ms > exit_ms + 200) break;
  }
  if (r.timed_out) ::kill(-pid, SIGKILL);  // whatever of the group is left
  ::close(pipefd[0]);
  r.seconds = static_cast<double>(elapsed_ms()) / 1000.0;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  if (out.size() > kKeep) out.erase(0, out.size() - kKeep);
  r.output = std::move(out);
  return r;
}

}  // namespace ferry::plan
