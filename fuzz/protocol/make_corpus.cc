// Writes the seed corpus of the protocol fuzz targets: valid frame streams of each kind plus hand-made hostile ones (make_corpus DIR; the output is committed under fuzz/protocol/corpus/).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/base/hash.h"
#include "protocol/codec.h"
#include "protocol/handshake.h"
#include "protocol/message_stream.h"
#include "protocol/wire_format.h"

namespace {

using namespace ferry::protocol;
using Bytes = std::vector<std::byte>;
namespace fs = std::filesystem;

void Put(const fs::path& path, const Bytes& b) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

Bytes Frames(const std::vector<Message>& msgs) {
  auto codec = MakeCodec(1, DecodeLimits{true, true, true, true, true});
  MessageWriter w(codec.get(), kDefaultMaxFrame, nullptr);
  Bytes out;
  for (const Message& m : msgs) {
    if (!w.Append(m, &out).ok()) std::abort();
  }
  return out;
}

Bytes Payload(const Message& m) {
  auto codec = MakeCodec(1, DecodeLimits{true, true, true, true, true});
  Bytes p;
  if (!codec->Encode(m, &p).ok()) std::abort();
  return p;
}

// The entry fuzzer's input: 2-byte length + payload, repeated.
Bytes Entries(const std::vector<FileEntry>& entries) {
  Bytes out;
  for (const FileEntry& e : entries) {
    Bytes p = Payload(e);
    out.push_back(static_cast<std::byte>(p.size()));
    out.push_back(static_cast<std::byte>(p.size() >> 8));
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

Bytes Text(const std::string& s) {
  auto b = std::as_bytes(std::span(s.data(), s.size()));
  return {b.begin(), b.end()};
}

Bytes Prefixed(std::initializer_list<uint8_t> head, const Bytes& rest) {
  Bytes out;
  for (uint8_t b : head) out.push_back(std::byte{b});
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_corpus DIR\n");
    return 1;
  }
  const fs::path root(argv[1]);
  for (const char* t : {"proto_frame_fuzz", "proto_file_entry_fuzz", "proto_signature_fuzz",
                        "proto_delta_ops_fuzz", "proto_handshake_fuzz"}) {
    fs::create_directories(root / t);
  }

  // Frames.
  const fs::path fr = root / "proto_frame_fuzz";
  Put(fr / "stream", Prefixed({3}, Frames({FileEntry{.path = "a"}, FileListEnd{1},
                                           Keepalive{}, Credit{4096}})));
  Bytes big;
  (void)AppendFrame(0x30, 0, Bytes(5000), 8192, &big);
  big.resize(kFrameHeaderSize + 16);  // the header alone must be refused
  Put(fr / "too_big", Prefixed({1}, big));
  Put(fr / "reserved_flags", Prefixed({2}, Bytes{std::byte{0x62}, std::byte{0x40}, std::byte{0},
                                                 std::byte{0}, std::byte{0}, std::byte{0}}));
  Bytes cut = Frames({FileData{0, 0, Bytes(100)}});
  cut.resize(50);
  Put(fr / "cut", Prefixed({7}, cut));

  // File entries.
  const fs::path fe = root / "proto_file_entry_fuzz";
  FileEntry full{.path = "d/f", .perms = 0644, .uid = 1001, .gid = 50, .user_name = "alice",
                 .group_name = "staff", .size = 1234, .mtime_sec = 1700000000, .mtime_nsec = 42};
  full.has_atime = true;
  full.xattrs = {{"user.k", "v"}, {"system.posix_acl_access", "acl"}};
  FileEntry link{.path = "d/l", .kind = FileKind::kSymlink, .perms = 0777};
  link.symlink_target = "../f";
  FileEntry follower{.path = "d/g", .size = 1234};
  follower.link_leader = 2;
  FileEntry dev{.path = "d/null", .kind = FileKind::kCharDevice};
  dev.rdev = 0x103;
  Put(fe / "tree", Entries({FileEntry{.path = ".", .kind = FileKind::kDirectory},
                            FileEntry{.path = "d", .kind = FileKind::kDirectory}, full, link,
                            follower, dev}));
  FileEntry evil{.path = "d/l/passwd"};
  Put(fe / "symlink_then_inside", Entries({FileEntry{.path = "d", .kind = FileKind::kDirectory},
                                           link, evil}));
  FileEntry mallory{.path = "m", .uid = 0, .user_name = "mallory"};
  Put(fe / "unknown_user_root", Entries({mallory}));
  Put(fe / "dup_dir", Entries({FileEntry{.path = "d", .kind = FileKind::kDirectory},
                               FileEntry{.path = "d", .kind = FileKind::kDirectory}}));

  // Signatures.
  const fs::path sg = root / "proto_signature_fuzz";
  SignatureBlocks b0{0, 0, 8, {1, 2}, std::vector<uint8_t>(16, 3)};
  SignatureBlocks b1{0, 2, 8, {3}, std::vector<uint8_t>(8, 4)};
  Put(sg / "three_blocks", Frames({SignatureHeader{0, 2500, 1000, 8, 3}, b0, b1}));
  Put(sg / "empty_file", Frames({SignatureHeader{0, 0, 1024, 16, 0}}));
  {
    Bytes p;
    Writer w(&p);
    for (uint64_t v : {0, 1000, 100, 64, 10}) w.Varint(v);  // strong_len 64
    Bytes f;
    (void)AppendFrame(static_cast<uint8_t>(MsgType::kSignatureHeader), 0, p, 4096, &f);
    Put(sg / "strong_len_64", f);
  }
  {
    Bytes p;
    Writer w(&p);
    for (uint64_t v : {0, 1000, 0, 16, 5}) w.Varint(v);  // block_size 0
    Bytes f;
    (void)AppendFrame(static_cast<uint8_t>(MsgType::kSignatureHeader), 0, p, 4096, &f);
    Put(sg / "block_size_zero", f);
  }

  // Delta ops (header bytes: basis/64, max/64, mode).
  const fs::path dl = root / "proto_delta_ops_fuzz";
  Bytes basis(640);
  for (size_t i = 0; i < basis.size(); ++i) basis[i] = static_cast<std::byte>(i * 7);
  Bytes expect(basis.begin() + 64, basis.begin() + 192);
  expect.push_back(std::byte{'x'});
  expect.push_back(std::byte{'y'});
  Put(dl / "delta", Prefixed({10, 20, 1},
                             Frames({DeltaOps{0,
                                              {{ferry::delta::OpKind::kCopy, 128, 64},
                                               {ferry::delta::OpKind::kLiteral, 2, 0}},
                                              Text("xy")},
                                     FileDone{0, 130, ferry::HashBytes(expect)}})));
  Put(dl / "whole", Prefixed({0, 1, 0}, Frames({FileData{0, 0, Text("hello")},
                                                FileData{0, 5, Text(" world")},
                                                FileDone{0, 11, ferry::HashBytes(Text("hello world"))}})));
  Put(dl / "copy_outside", Prefixed({1, 20, 1}, Frames({DeltaOps{0, {{ferry::delta::OpKind::kCopy, 64, 32}}, {}}})));
  Put(dl / "bad_hash", Prefixed({0, 1, 0}, Frames({FileData{0, 0, Text("abc")},
                                                   FileDone{0, 3, ferry::Hash128{1, 2}}})));

  // Handshake.
  const fs::path hs = root / "proto_handshake_fuzz";
  SessionOptions o;
  o.preserve = kPreservePerms | kPreserveTimes;
  o.hard_links = true;
  o.compression = Compression::kZstd;
  o.compress_level = 3;
  o.max_frame = kDefaultMaxFrame;
  o.window = 4 * kDefaultMaxFrame;
  Bytes g = EncodeGreeting(LocalHello(Role::kClient, kCapKnownMask));
  Bytes opt = Frames({o});
  g.insert(g.end(), opt.begin(), opt.end());
  Put(hs / "client", g);
  Hello old = LocalHello(Role::kClient, 0);
  old.version_min = old.version_max = 7;
  Put(hs / "future_version", EncodeGreeting(old));
  Put(hs / "banner", Text("Welcome to Debian GNU/Linux\n"));
  o.xattrs = true;
  Bytes gx = EncodeGreeting(LocalHello(Role::kClient, kCapKnownMask));
  Bytes optx = Frames({o});
  gx.insert(gx.end(), optx.begin(), optx.end());
  Put(hs / "xattrs_not_offered", gx);
  o.xattrs = false;
  o.dry_run = true;
  o.filter_rules = {"- *.tmp", "+ keep/", "- /cache/***"};
  o.usermap = "alice:bob,1000-1999:nobody";
  o.groupmap = "*:staff";
  Bytes gr = EncodeGreeting(LocalHello(Role::kClient, kCapKnownMask));
  Bytes optr = Frames({o});
  gr.insert(gr.end(), optr.begin(), optr.end());
  Put(hs / "sync_rules", gr);
  return 0;
}
