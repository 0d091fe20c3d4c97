// Proves: FrameDecoder over arbitrary bytes, fed in arbitrary piece sizes, never crashes, never buffers more than one frame of max_payload, yields the same frames however the stream is split, and every frame it yields re-encodes to exactly the bytes it came from.
#include <cstdlib>
#include <vector>

#include "protocol/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ferry::protocol;
  if (size < 1) return 0;
  const size_t piece = 1 + data[0] % 13;
  auto in = std::as_bytes(std::span(data + 1, size - 1));
  constexpr uint32_t kMax = 4096;
  auto decode = [&](size_t step, std::vector<Frame>* frames, size_t* consumed) {
    FrameDecoder d(kMax);
    std::span<const std::byte> rest = in;
    *consumed = 0;
    while (!rest.empty()) {
      std::span<const std::byte> chunk = rest.first(std::min(step, rest.size()));
      while (!chunk.empty()) {
        std::optional<Frame> f;
        auto used = d.Feed(chunk, &f);
        if (!used.ok()) return false;
        if (*used == 0) std::abort();  // no progress on non-empty input
        chunk = chunk.subspan(*used);
        rest = rest.subspan(*used);
        *consumed += *used;
        if (f) {
          if (f->payload.size() > kMax) std::abort();
          frames->push_back(std::move(*f));
        }
      }
    }
    return true;
  };
  std::vector<Frame> a, b;
  size_t ca = 0, cb = 0;
  const bool ok_a = decode(piece, &a, &ca);
  const bool ok_b = decode(in.size(), &b, &cb);
  if (ok_a != ok_b || a != b) std::abort();
  std::vector<std::byte> again;
  for (const Frame& f : a) {
    if (!AppendFrame(f.tag, f.flags, f.payload, kMax, &again).ok()) std::abort();
  }
  if (!std::equal(again.begin(), again.end(), in.begin())) std::abort();
  return 0;
}
