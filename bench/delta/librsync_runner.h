// librsync's job API driven over memory buffers (rs_job_iter), for side-by-
// side benchmarks against the ferry delta engine on the same bytes.
#pragma once

#include <librsync.h>

#include <cstddef>
#include <span>
#include <vector>

namespace ferry::delta::bench {

// rdiff's defaults: RabinKarp rollsum + BLAKE2 strong sum.
std::vector<char> LibrsyncSignature(std::span<const std::byte> old_data,
                                    size_t block_len, size_t strong_len);

// Loads a signature and builds its hash table (rs_build_hash_table).
// Caller frees with rs_free_sumset.
rs_signature_t* LibrsyncLoadSignature(const std::vector<char>& sig);

// Writes the delta into *out (grown as needed, reusable across calls);
// returns its length.
size_t LibrsyncDelta(rs_signature_t* sig, std::span<const std::byte> new_data,
                     std::vector<char>* out);

}  // namespace ferry::delta::bench
