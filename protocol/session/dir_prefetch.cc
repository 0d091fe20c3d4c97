#include "protocol/session/dir_prefetch.h"

#include <fcntl.h>

#include <algorithm>
#include <utility>

#include "engine/base/thread_name.h"
#include "engine/io/posix_backend.h"
#include "engine/tree/scan.h"
#include "protocol/session/common.h"

namespace ferry::protocol {

bool DirPrefetch::DfsLess::operator()(const std::string& a, const std::string& b) const {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (a[i] == b[i]) continue;
    if (a[i] == '/') return true;
    if (b[i] == '/') return false;
    return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]);
  }
  return a.size() < b.size();
}

DirPrefetch::DirPrefetch(int root, const MetaPolicy& policy, bool xattrs, int threads,
                         size_t max_pending, Enter enter)
    : root_(root), policy_(policy), xattrs_(xattrs), threads_(threads < 1 ? 1 : threads),
      max_pending_(max_pending), enter_(std::move(enter)) {}

DirPrefetch::~DirPrefetch() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void DirPrefetch::Queue(const std::string& rel) {
  if (stop_ || slots_.size() >= max_pending_ || slots_.count(rel) != 0) return;
  slots_.emplace(rel, std::make_shared<Slot>());
  queue_.insert(rel);
  if (workers_.size() < static_cast<size_t>(threads_)) workers_.emplace_back([this] {
      SetThreadName("ferry-listdir");
      Work();
    });
}

void DirPrefetch::Request(const std::string& rel) {
  {
    std::lock_guard<std::mutex> l(mu_);
    Queue(rel);
  }
  work_cv_.notify_one();
}

void DirPrefetch::Descend(const std::string& rel, const Listing& l) {
  if (!enter_ || !l.status.ok()) return;
  for (const Entry& e : l.entries) {
    if (!e.is_dir()) continue;
    std::string sub = rel.empty() ? e.name : rel + "/" + e.name;
    if (enter_(sub)) Queue(sub);
  }
}

std::optional<DirPrefetch::Listing> DirPrefetch::Take(const std::string& rel) {
  std::shared_ptr<Slot> slot;
  bool mine = false;
  {
    std::unique_lock<std::mutex> l(mu_);
    // Whatever comes before rel in the walk's order will not be asked for.
    auto it = slots_.lower_bound(rel);
    slots_.erase(slots_.begin(), it);
    queue_.erase(queue_.begin(), queue_.lower_bound(rel));
    if (it == slots_.end() || it->first != rel) return std::nullopt;
    slot = it->second;
    slots_.erase(it);
    if (!slot->started) {
      slot->started = true;
      queue_.erase(rel);
      mine = true;
    } else {
      done_cv_.wait(l, [&] { return slot->done; });
    }
  }
  if (mine) {
    io::PosixBackend io;
    Listing out = List(io, rel);
    {
      std::lock_guard<std::mutex> l(mu_);
      Descend(rel, out);
    }
    work_cv_.notify_all();
    return out;
  }
  return std::move(slot->result);
}

void DirPrefetch::Work() {
  io::PosixBackend io;
  for (;;) {
    std::string rel;
    std::shared_ptr<Slot> slot;
    {
      std::unique_lock<std::mutex> l(mu_);
      work_cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      // The directory the walk reaches first.
      rel = *queue_.begin();
      queue_.erase(queue_.begin());
      auto it = slots_.find(rel);
      if (it == slots_.end() || it->second->started) continue;  // taken already
      slot = it->second;
      slot->started = true;
    }
    Listing result = List(io, rel);
    {
      std::lock_guard<std::mutex> l(mu_);
      Descend(rel, result);
      slot->result = std::move(result);
      slot->done = true;
    }
    done_cv_.notify_all();
    work_cv_.notify_all();
  }
}

DirPrefetch::Listing DirPrefetch::List(io::IoBackend& io, const std::string& rel) const {
  Listing out;
  auto fd = io.OpenBeneath(root_, rel, O_RDONLY | O_DIRECTORY, 0);
  if (!fd.ok()) {
    out.status = fd.status();
    return out;
  }
  auto st = io.FStat(fd->get());
  if (!st.ok()) {
    out.status = st.status();
    return out;
  }
  out.dev = static_cast<uint64_t>(st->st_dev);
  out.ino = static_cast<uint64_t>(st->st_ino);
  auto entries = ListDir(io, fd->get(), rel.empty() ? "." : rel);
  if (!entries.ok()) {
    out.status = entries.status();
    return out;
  }
  out.entries = std::move(*entries);
  if (xattrs_) {
    out.xattrs.resize(out.entries.size());
    out.read_ok.assign(out.entries.size(), 0);
    for (size_t i = 0; i < out.entries.size(); ++i) {
      const Entry& e = out.entries[i];
      if (e.is_reg() && IsTempName(e.name)) continue;
      auto x = ReadKeptXattrs(io, policy_, fd->get(), e.name.c_str());
      if (!x.ok()) continue;  // the loop reads it again and sees the error itself
      out.xattrs[i] = std::move(*x);
      out.read_ok[i] = 1;
    }
  }
  return out;
}

}  // namespace ferry::protocol
