// Proves: the handshake over arbitrary peer bytes (stream magic, Hello frame, then an Options frame) never crashes; a Hello it accepts negotiates a version this build speaks and only capabilities both sides offered, and options it accepts pass CheckOptions only within the negotiated limits and round-trip through the codec.
#include <cstdlib>
#include <vector>

#include "protocol/codec.h"
#include "protocol/handshake.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ferry;
  using namespace ferry::protocol;
  auto in = std::as_bytes(std::span(data, size));
  if (!CheckStreamMagic(in).ok()) return 0;
  in = in.subspan(kStreamMagic.size());
  FrameDecoder frames(kHandshakeMaxFrame);
  std::vector<Frame> got;
  while (!in.empty() && got.size() < 2) {
    std::optional<Frame> f;
    Result<size_t> used = frames.Feed(in, &f);
    if (!used.ok()) return 0;
    in = in.subspan(*used);
    if (f) got.push_back(std::move(*f));
  }
  if (got.empty()) return 0;
  Result<Hello> peer = DecodeHello(got[0]);
  if (!peer.ok()) return 0;
  const Hello local = LocalHello(Role::kServer, kCapHardLinks | kCapZstd | kCapDelete);
  Result<Negotiated> n = Negotiate(local, *peer);
  if (!n.ok()) return 0;
  if (n->version < kVersionMin || n->version > kVersionMax) std::abort();
  if ((n->capabilities & ~local.capabilities) != 0) std::abort();
  if (n->max_frame > local.max_frame) std::abort();
  if (got.size() < 2) return 0;
  auto codec = MakeCodec(n->version, DecodeLimits{});
  if (!codec) std::abort();
  Result<Message> m = codec->Decode(got[1].tag, got[1].payload);
  if (!m.ok() || !std::holds_alternative<SessionOptions>(*m)) return 0;
  const SessionOptions& o = std::get<SessionOptions>(*m);
  if (CheckOptions(o, *n).ok()) {
    if (o.xattrs || o.acls) std::abort();  // not offered by `local`
    if (o.max_frame > n->max_frame) std::abort();
  }
  std::vector<std::byte> again;
  if (!codec->Encode(o, &again).ok()) std::abort();
  Result<Message> back = codec->Decode(got[1].tag, again);
  if (!back.ok() || std::get<SessionOptions>(*back) != o) std::abort();
  return 0;
}
