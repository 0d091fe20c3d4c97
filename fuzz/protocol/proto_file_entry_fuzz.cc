// Proves: the v1 FileEntry decoder on arbitrary payloads never crashes or over-allocates; every entry it accepts has a checked path and in-range fields, re-encodes to an equal entry, and the file-list validator then either refuses it with an error or accepts it without mapping an unknown user or group name to id 0.
#include <cstdlib>
#include <vector>

#include "protocol/codec.h"
#include "protocol/file_list_validator.h"
#include "protocol/path_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ferry;
  using namespace ferry::protocol;
  static const MapIdResolver resolver({{"alice", 1001}, {"root", 0}}, {{"staff", 50}});
  auto codec = MakeCodec(1, DecodeLimits{true, true, true, true, true});
  SessionOptions options;
  options.hard_links = options.xattrs = options.acls = true;
  options.preserve = kPreserveAtimes;
  FileListValidator validator(options, &resolver);
  // Several entries per input, so parent/duplicate/leader rules get exercised:
  // each is a 2-byte little-endian length followed by that many payload bytes.
  std::span<const uint8_t> in(data, size);
  while (in.size() >= 2) {
    const size_t n = std::min<size_t>(in[0] | in[1] << 8, in.size() - 2);
    auto payload = std::as_bytes(in.subspan(2, n));
    in = in.subspan(2 + n);
    Result<Message> m = codec->Decode(static_cast<uint8_t>(MsgType::kFileEntry), payload);
    if (!m.ok()) continue;
    const FileEntry& e = std::get<FileEntry>(*m);
    if (e.path != "." && !CheckWirePath(e.path, "p").ok()) std::abort();
    if (e.perms > 07777 || e.mtime_nsec > 999999999) std::abort();
    std::vector<std::byte> again;
    if (!codec->Encode(e, &again).ok()) std::abort();
    Result<Message> back = codec->Decode(static_cast<uint8_t>(MsgType::kFileEntry), again);
    if (!back.ok() || std::get<FileEntry>(*back) != e) std::abort();
    Result<LocalOwner> owner = validator.Add(e);
    if (!owner.ok()) continue;
    const bool user_unknown = !e.user_name.empty() && !resolver.Uid(e.user_name);
    const bool group_unknown = !e.group_name.empty() && !resolver.Gid(e.group_name);
    if ((user_unknown && owner->uid == 0) || (group_unknown && owner->gid == 0)) std::abort();
  }
  return 0;
}
