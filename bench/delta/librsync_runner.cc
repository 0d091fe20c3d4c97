#include "bench/delta/librsync_runner.h"

#include <cstdio>
#include <cstdlib>

namespace ferry::delta::bench {

namespace {

// Runs a job to completion over one input buffer into *out (grown as
// needed, never shrunk, so a reused buffer costs no new page faults).
// Returns the bytes produced.
size_t Run(rs_job_t* job, std::span<const std::byte> in, std::vector<char>* out_buf) {
  std::vector<char>& out = *out_buf;
  rs_buffers_t buf{};
  buf.next_in = const_cast<char*>(reinterpret_cast<const char*>(in.data()));
  buf.avail_in = in.size();
  buf.eof_in = 1;
  size_t produced = 0;
  for (;;) {
    buf.next_out = out.data() + produced;
    buf.avail_out = out.size() - produced;
    const rs_result r = rs_job_iter(job, &buf);
    produced = out.size() - buf.avail_out;
    if (r == RS_DONE) break;
    if (r != RS_BLOCKED) {
      std::fprintf(stderr, "librsync: %s\n", rs_strerror(r));
      std::abort();
    }
    if (buf.avail_out == 0) out.resize(out.size() * 2 + 4096);
  }
  rs_job_free(job);
  return produced;
}

}  // namespace

std::vector<char> LibrsyncSignature(std::span<const std::byte> old_data,
                                    size_t block_len, size_t strong_len) {
  rs_job_t* job = rs_sig_begin(block_len, strong_len, RS_RK_BLAKE2_SIG_MAGIC);
  const size_t blocks = old_data.size() / block_len + 1;
  std::vector<char> out(12 + blocks * (4 + strong_len));
  out.resize(Run(job, old_data, &out));
  return out;
}

rs_signature_t* LibrsyncLoadSignature(const std::vector<char>& sig) {
  rs_signature_t* sumset = nullptr;
  rs_job_t* job = rs_loadsig_begin(&sumset);
  std::vector<char> none;
  Run(job, std::as_bytes(std::span(sig)), &none);
  if (rs_build_hash_table(sumset) != RS_DONE) std::abort();
  return sumset;
}

size_t LibrsyncDelta(rs_signature_t* sig, std::span<const std::byte> new_data,
                     std::vector<char>* out) {
  if (out->empty()) out->resize(new_data.size() / 16 + 65536);
  return Run(rs_delta_begin(sig), new_data, out);
}

}  // namespace ferry::delta::bench
