// The codec seam: turns messages (messages.h) into frame payloads and back
// for one protocol version. The version is chosen once, by the handshake
// (MakeCodec); everything after that holds a Codec and never looks at the
// version number (ARCHITECTURE.md rule 6).
//
// Decoding is the boundary with a hostile peer: a decoder range-checks every
// length, count and index before it allocates or uses it, applies the
// session's negotiated limits (DecodeLimits: data the session did not
// negotiate - hard links, xattrs, ACLs, atimes, deletes - is refused), checks
// wire paths (path_check.h), rejects trailing bytes, and returns kCorrupt
// naming the message and field. A decoded message is fully defined.
//
// Encoding trusts its input (it comes from this process's engine); Hello is
// not a codec message (handshake.h encodes it, version-independently).
//
// Thread safety: a Codec is immutable after construction; Encode and Decode
// may run concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "engine/base/status.h"
#include "protocol/messages.h"

namespace ferry::protocol {

// What the session agreed on, as far as decoding is concerned.
struct DecodeLimits {
  bool hard_links = false;
  bool xattrs = false;
  bool acls = false;
  bool atimes = false;
  bool del = false;
  bool itemized = false;  // report_changes: Itemized messages
  // kCapReuse agreed: ReuseProbe, AppendProbe, ProbeResult, ReceiverReport.
  bool reuse = false;
  // kCapEntryBatch agreed: FileEntries.
  bool entry_batches = false;
  // kCapPlanned agreed: PlannedTotals.
  bool planned = false;
};

// The limits implied by agreed options (handshake.h).
DecodeLimits LimitsFor(const SessionOptions& options);

class Codec {
 public:
  virtual ~Codec() = default;
  virtual uint16_t version() const = 0;
  // Appends the payload of `m` to *payload. Errors: kInvalidArgument for a
  // Hello (not a codec message).
  virtual Status Encode(const Message& m, std::vector<std::byte>* payload) const = 0;
  // Decodes the payload of a frame with tag `tag`. Errors: kCorrupt for an
  // unknown tag, a Hello, or any field out of range.
  virtual Result<Message> Decode(uint8_t tag, std::span<const std::byte> payload) const = 0;
};

// Versions this build speaks.
inline constexpr uint16_t kVersionMin = 1;
inline constexpr uint16_t kVersionMax = 1;

// The codec of `version` (kVersionMin..kVersionMax), or nullptr.
std::unique_ptr<Codec> MakeCodec(uint16_t version, const DecodeLimits& limits);

}  // namespace ferry::protocol
