#include "protocol/codec_v1.h"

#include <limits>
#include <string>
#include <type_traits>

#include "engine/delta/signature.h"
#include "protocol/frame.h"
#include "protocol/path_check.h"
#include "protocol/wire_format.h"

namespace ferry::protocol {

namespace {

constexpr uint32_t kU32Max = std::numeric_limits<uint32_t>::max();
constexpr uint64_t kMaxWindow = uint64_t{1} << 40;
constexpr int kMaxCompressLevel = 19;

// SessionOptions.flags bits beyond the preserve bits (PROTOCOL.md).
constexpr uint64_t kOptHardLinks = uint64_t{1} << 8;
constexpr uint64_t kOptXattrs = uint64_t{1} << 9;
constexpr uint64_t kOptAcls = uint64_t{1} << 10;
constexpr uint64_t kOptNumericIds = uint64_t{1} << 11;
constexpr uint64_t kOptDelete = uint64_t{1} << 12;
constexpr uint64_t kOptSafeLinks = uint64_t{1} << 13;
constexpr uint64_t kOptDryRun = uint64_t{1} << 14;
constexpr uint64_t kOptReportChanges = uint64_t{1} << 15;
// --streams: stream_index and stream_count follow the window.
constexpr uint64_t kOptStream = uint64_t{1} << 16;
// --mail: bit 17 Maildir semantics (auto), 17 and 18 together: on.
constexpr uint64_t kOptMail = uint64_t{1} << 17;
constexpr uint64_t kOptMailOn = uint64_t{1} << 18;
constexpr uint64_t kOptKnown = kPreserveKnownMask | kOptHardLinks | kOptXattrs |
                               kOptAcls | kOptNumericIds | kOptDelete | kOptSafeLinks |
                               kOptDryRun | kOptReportChanges | kOptStream | kOptMail |
                               kOptMailOn;

// FileEntry.flags bits.
constexpr uint64_t kEntUser = 1u << 0;
constexpr uint64_t kEntGroup = 1u << 1;
constexpr uint64_t kEntAtime = 1u << 2;
constexpr uint64_t kEntLeader = 1u << 3;
constexpr uint64_t kEntXattrs = 1u << 4;
constexpr uint64_t kEntKnown = (1u << 5) - 1;
// FileEntries only (PROTOCOL.md "FileEntries"): a field equal to the
// previous entry's of the same message is not sent.
constexpr uint64_t kEntSamePerms = 1u << 5;
constexpr uint64_t kEntSameUid = 1u << 6;
constexpr uint64_t kEntSameGid = 1u << 7;
constexpr uint64_t kEntSameMtime = 1u << 8;
constexpr uint64_t kEntSameUser = 1u << 9;
constexpr uint64_t kEntSameGroup = 1u << 10;
constexpr uint64_t kEntPackedKnown = (1u << 11) - 1;

size_t SharedPrefix(const std::string& a, const std::string& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

bool IsAclName(const std::string& name) {
  return name.rfind("system.posix_acl_", 0) == 0;
}

bool HasNul(const std::string& s) { return s.find('\0') != std::string::npos; }

// No control byte (< 0x20, 0x7f); with `bytes`, other bytes >= 0x80 (names
// in any encoding) are allowed, without it only ASCII.
bool Printable(const std::string& s, bool bytes) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || (!bytes && u > 0x7f)) return false;
  }
  return true;
}

// --- encoders ------------------------------------------------------------------

void PutOptions(Writer& w, const SessionOptions& o) {
  uint64_t flags = o.preserve & kPreserveKnownMask;
  if (o.hard_links) flags |= kOptHardLinks;
  if (o.xattrs) flags |= kOptXattrs;
  if (o.acls) flags |= kOptAcls;
  if (o.numeric_ids) flags |= kOptNumericIds;
  if (o.del) flags |= kOptDelete;
  if (o.stream_count != 0) flags |= kOptStream;
  if (o.safe_links) flags |= kOptSafeLinks;
  if (o.dry_run) flags |= kOptDryRun;
  if (o.report_changes) flags |= kOptReportChanges;
  if (o.mail != MailSemantics::kOff) flags |= kOptMail;
  if (o.mail == MailSemantics::kOn) flags |= kOptMailOn;
  w.Varint(flags);
  w.U8(static_cast<uint8_t>(o.checksum));
  w.U8(static_cast<uint8_t>(o.compression));
  w.Signed(o.compress_level);
  w.U8(static_cast<uint8_t>(o.block_rule));
  w.Varint(o.fixed_block_size);
  w.Varint(o.max_frame);
  w.Varint(o.window);
  if (o.stream_count != 0) {
    w.Varint(o.stream_index);
    w.Varint(o.stream_count);
    w.Varint(o.split_min);
    w.Varint(o.run_id);
  }
  w.Varint(o.filter_rules.size());
  for (const std::string& rule : o.filter_rules) w.String(rule);
  w.String(o.usermap);
  w.String(o.groupmap);
}

// `prev`: the previous entry of a FileEntries message (a default FileEntry
// for its first); null for FileEntry/MetadataUpdate, whose layout is fixed.
void PutEntry(Writer& w, const FileEntry& e, const FileEntry* prev = nullptr) {
  uint64_t flags = 0;
  if (!e.user_name.empty()) flags |= kEntUser;
  if (!e.group_name.empty()) flags |= kEntGroup;
  if (e.has_atime) flags |= kEntAtime;
  if (e.link_leader) flags |= kEntLeader;
  if (!e.xattrs.empty()) flags |= kEntXattrs;
  if (prev) {
    if (e.perms == prev->perms) flags |= kEntSamePerms;
    if (e.uid == prev->uid) flags |= kEntSameUid;
    if (e.gid == prev->gid) flags |= kEntSameGid;
    if (e.mtime_sec == prev->mtime_sec && e.mtime_nsec == prev->mtime_nsec) flags |= kEntSameMtime;
    if (!e.user_name.empty() && e.user_name == prev->user_name) flags |= kEntSameUser;
    if (!e.group_name.empty() && e.group_name == prev->group_name) flags |= kEntSameGroup;
  }
  w.Varint(flags);
  if (prev) {
    const size_t shared = SharedPrefix(e.path, prev->path);
    w.Varint(shared);
    w.String(std::string_view(e.path).substr(shared));
  } else {
    w.String(e.path);
  }
  w.U8(static_cast<uint8_t>(e.kind));
  if (!(flags & kEntSamePerms)) w.Varint(e.perms);
  if (!(flags & kEntSameUid)) w.Varint(e.uid);
  if (!(flags & kEntSameGid)) w.Varint(e.gid);
  if ((flags & kEntUser) && !(flags & kEntSameUser)) w.String(e.user_name);
  if ((flags & kEntGroup) && !(flags & kEntSameGroup)) w.String(e.group_name);
  if (e.kind == FileKind::kRegular) w.Varint(e.size);
  if (prev && !(flags & kEntSameMtime)) {
    // Seconds as a difference (two's complement, wrapping): neighbours are
    // close in time.
    w.Signed(static_cast<int64_t>(static_cast<uint64_t>(e.mtime_sec) -
                                  static_cast<uint64_t>(prev->mtime_sec)));
    w.Varint(e.mtime_nsec);
  } else if (!prev) {
    w.Signed(e.mtime_sec);
    w.Varint(e.mtime_nsec);
  }
  if (flags & kEntAtime) {
    w.Signed(e.atime_sec);
    w.Varint(e.atime_nsec);
  }
  if (e.kind == FileKind::kCharDevice || e.kind == FileKind::kBlockDevice) w.Varint(e.rdev);
  if (e.kind == FileKind::kSymlink) w.String(e.symlink_target);
  if (flags & kEntLeader) w.Varint(*e.link_leader);
  if (flags & kEntXattrs) {
    w.Varint(e.xattrs.size());
    for (const Xattr& x : e.xattrs) {
      w.String(x.name);
      w.String(x.value);
    }
  }
}

struct EncodeVisitor {
  Writer& w;
  Status operator()(const Hello&) const {
    return InvalidArgument("Hello is encoded by the handshake, not the codec");
  }
  Status operator()(const SessionOptions& o) const {
    PutOptions(w, o);
    return Status::Ok();
  }
  Status operator()(const OptionsAck& a) const {
    PutOptions(w, a.options);
    return Status::Ok();
  }
  Status operator()(const FileEntry& e) const {
    PutEntry(w, e);
    return Status::Ok();
  }
  Status operator()(const FileEntries& m) const {
    w.Varint(m.entries.size());
    const FileEntry first;
    const FileEntry* prev = &first;
    for (const FileEntry& e : m.entries) {
      PutEntry(w, e, prev);
      prev = &e;
    }
    return Status::Ok();
  }
  Status operator()(const FileListEnd& m) const {
    w.Varint(m.count);
    return Status::Ok();
  }
  Status operator()(const FileRequest& m) const {
    w.Varint(m.file_index);
    w.U8(m.delta ? 1 : 0);
    return Status::Ok();
  }
  Status operator()(const SignatureHeader& m) const {
    w.Varint(m.file_index);
    w.Varint(m.file_size);
    w.Varint(m.block_size);
    w.Varint(m.strong_len);
    w.Varint(m.block_count);
    return Status::Ok();
  }
  Status operator()(const SignatureBlocks& m) const {
    if (m.strong.size() != m.weak.size() * m.strong_len) {
      return InvalidArgument("SignatureBlocks: strong sums do not match weak count");
    }
    w.Varint(m.file_index);
    w.Varint(m.first_block);
    w.Varint(m.strong_len);
    w.Varint(m.weak.size());
    for (uint32_t x : m.weak) w.FixedLE(x, 4);
    w.Raw(std::as_bytes(std::span(m.strong)));
    return Status::Ok();
  }
  Status operator()(const FileData& m) const {
    w.Varint(m.file_index);
    w.Varint(m.offset);
    w.Raw(m.data);
    return Status::Ok();
  }
  Status operator()(const DeltaOps& m) const {
    w.Varint(m.file_index);
    w.Varint(m.ops.size());
    for (const delta::DeltaOp& op : m.ops) {
      if (op.length == 0 || op.length >= (uint64_t{1} << 62)) {
        return InvalidArgument("DeltaOps: op length " + std::to_string(op.length) +
                               " cannot be encoded");
      }
      const bool copy = op.kind == delta::OpKind::kCopy;
      w.Varint(op.length << 1 | (copy ? 1 : 0));
      if (copy) w.Varint(op.old_offset);
    }
    w.Raw(m.literals);
    return Status::Ok();
  }
  Status operator()(const FileDone& m) const {
    w.Varint(m.file_index);
    w.Varint(m.size);
    w.FixedLE(m.hash.lo, 8);
    w.FixedLE(m.hash.hi, 8);
    return Status::Ok();
  }
  Status operator()(const MetadataUpdate& m) const {
    w.Varint(m.file_index);
    PutEntry(w, m.entry);
    return Status::Ok();
  }
  Status operator()(const DeleteRequest& m) const {
    w.Varint(m.dir_index);
    w.String(m.name);
    return Status::Ok();
  }
  Status operator()(const Error& m) const {
    w.U8(m.file_index ? 1 : 0);
    if (m.file_index) w.Varint(*m.file_index);
    w.U8(static_cast<uint8_t>(m.code));
    w.String(m.path);
    w.String(m.message);
    return Status::Ok();
  }
  Status operator()(const EndOfPass& m) const {
    w.Varint(m.pass);
    w.Varint(m.files);
    w.Varint(m.bytes);
    return Status::Ok();
  }
  Status operator()(const Credit& m) const {
    w.Varint(m.bytes);
    return Status::Ok();
  }
  Status operator()(const Keepalive&) const { return Status::Ok(); }
  Status operator()(const EndOfSession&) const { return Status::Ok(); }
  Status operator()(const VerifyOpen& m) const {
    w.Varint((m.follow ? 1u : 0u) | (m.single_file ? 2u : 0u));
    w.String(m.name);
    return Status::Ok();
  }
  Status operator()(const VerifyListing& m) const {
    w.String(m.dir);
    w.U8(m.done ? 1 : 0);
    w.Varint(m.items.size());
    for (const VerifyItem& it : m.items) {
      PutEntry(w, it.entry);
      w.Varint(it.dev);
      w.Varint(it.ino);
      w.Varint(it.nlink);
    }
    return Status::Ok();
  }
  Status operator()(const VerifyHashes& m) const {
    w.String(m.dir);
    w.Varint(m.hashes.size());
    for (const VerifyHash& h : m.hashes) {
      w.String(h.name);
      w.FixedLE(h.hash.lo, 8);
      w.FixedLE(h.hash.hi, 8);
    }
    return Status::Ok();
  }
  Status operator()(const Itemized& m) const {
    w.String(m.item);
    w.String(m.path);
    w.String(m.detail);
    w.Varint(m.bytes);
    return Status::Ok();
  }
  Status operator()(const ReuseProbe& m) const {
    w.Varint(m.file_index);
    w.Varint(m.candidates.size());
    for (const Hash128& h : m.candidates) PutHash(h);
    return Status::Ok();
  }
  Status operator()(const AppendProbe& m) const {
    w.Varint(m.file_index);
    w.Varint(m.prefix_len);
    PutHash(m.prefix_hash);
    return Status::Ok();
  }
  Status operator()(const ProbeResult& m) const {
    w.Varint(m.file_index);
    w.U8(static_cast<uint8_t>(m.outcome));
    w.Varint(m.candidate);
    PutHash(m.hash);
    return Status::Ok();
  }
  Status operator()(const ReceiverReport& m) const {
    for (uint64_t v : {m.created, m.deleted, m.renamed_files, m.dst_copied_files,
                       m.renamed_bytes, m.appended_files, m.append_reused_bytes,
                       m.meta_updates, m.hard_links})
      w.Varint(v);
    return Status::Ok();
  }
  Status operator()(const PlannedTotals& m) const {
    w.Varint(m.files);
    w.Varint(m.bytes);
    return Status::Ok();
  }
  void PutHash(const Hash128& h) const {
    w.FixedLE(h.lo, 8);
    w.FixedLE(h.hi, 8);
  }
};

// --- decoders ------------------------------------------------------------------

Status GetBool(Reader& r, const char* field, bool* v) {
  uint8_t b = 0;
  RETURN_IF_ERROR(r.U8(field, &b));
  if (b > 1) return r.Error(std::string(field) + " " + std::to_string(b) + " is not 0 or 1");
  *v = b == 1;
  return Status::Ok();
}

Status GetIndex(Reader& r, const char* field, uint32_t* v) {
  return r.U32(field, kFileIndexMax, v);
}

Status GetHash(Reader& r, const char* field, Hash128* h) {
  RETURN_IF_ERROR(r.FixedLE(field, 8, &h->lo));
  return r.FixedLE(field, 8, &h->hi);
}

Status GetOptions(Reader& r, SessionOptions* o) {
  uint64_t flags = 0;
  RETURN_IF_ERROR(r.Varint("flags", &flags));
  if (flags & ~kOptKnown) {
    return r.Error("flags has unknown bits 0x" + std::to_string(flags & ~kOptKnown));
  }
  o->preserve = static_cast<uint32_t>(flags & kPreserveKnownMask);
  o->hard_links = flags & kOptHardLinks;
  o->xattrs = flags & kOptXattrs;
  o->acls = flags & kOptAcls;
  o->numeric_ids = flags & kOptNumericIds;
  o->del = flags & kOptDelete;
  o->safe_links = flags & kOptSafeLinks;
  o->dry_run = flags & kOptDryRun;
  o->report_changes = flags & kOptReportChanges;
  if ((flags & kOptMailOn) && !(flags & kOptMail)) {
    return r.Error("flags has mail_on (bit 18) without mail (bit 17)");
  }
  o->mail = !(flags & kOptMail)    ? MailSemantics::kOff
            : (flags & kOptMailOn) ? MailSemantics::kOn
                                   : MailSemantics::kAuto;
  uint8_t b = 0;
  RETURN_IF_ERROR(r.U8("checksum", &b));
  if (b > 1) return r.Error("checksum mode " + std::to_string(b) + " is unknown");
  o->checksum = static_cast<ChecksumMode>(b);
  RETURN_IF_ERROR(r.U8("compression", &b));
  if (b > 1) return r.Error("compression " + std::to_string(b) + " is unknown");
  o->compression = static_cast<Compression>(b);
  int64_t level = 0;
  RETURN_IF_ERROR(r.Signed("compress_level", &level));
  if (o->compression == Compression::kZstd ? (level < 1 || level > kMaxCompressLevel)
                                           : level != 0) {
    return r.Error("compress_level " + std::to_string(level) + " is outside " +
                   (o->compression == Compression::kZstd ? "1..19" : "0..0") +
                   " for this compression");
  }
  o->compress_level = static_cast<int32_t>(level);
  RETURN_IF_ERROR(r.U8("block_rule", &b));
  if (b > 1) return r.Error("block_rule " + std::to_string(b) + " is unknown");
  o->block_rule = static_cast<BlockRule>(b);
  RETURN_IF_ERROR(r.U32("fixed_block_size", kBlockSizeMax, &o->fixed_block_size));
  if ((o->block_rule == BlockRule::kFixed) != (o->fixed_block_size != 0)) {
    return r.Error("fixed_block_size " + std::to_string(o->fixed_block_size) +
                   " does not fit block_rule " + std::to_string(b));
  }
  RETURN_IF_ERROR(r.U32("max_frame", kU32Max, &o->max_frame));
  if (o->max_frame < kMinMaxFrame || o->max_frame > kMaxMaxFrame) {
    return r.Error("max_frame " + std::to_string(o->max_frame) + " is outside " +
                   std::to_string(kMinMaxFrame) + ".." + std::to_string(kMaxMaxFrame));
  }
  RETURN_IF_ERROR(r.VarintMax("window", kMaxWindow, &o->window));
  if (o->window < o->max_frame) {
    return r.Error("window " + std::to_string(o->window) +
                   " is smaller than max_frame " + std::to_string(o->max_frame));
  }
  if (flags & kOptStream) {
    RETURN_IF_ERROR(r.U32("stream_index", kStreamsMax, &o->stream_index));
    RETURN_IF_ERROR(r.U32("stream_count", kStreamsMax, &o->stream_count));
    if (o->stream_count < 2 || o->stream_index > o->stream_count) {
      return r.Error("stream " + std::to_string(o->stream_index) + " of " +
                     std::to_string(o->stream_count) + " is outside 0 <= k <= N, 2 <= N <= " +
                     std::to_string(kStreamsMax));
    }
    RETURN_IF_ERROR(r.VarintMax("split_min", uint64_t{1} << 62, &o->split_min));
    if (o->split_min != 0 && o->split_min < kSplitMinFloor) {
      return r.Error("split_min " + std::to_string(o->split_min) + " is below " +
                     std::to_string(kSplitMinFloor));
    }
    RETURN_IF_ERROR(r.U32("run_id", kU32Max, &o->run_id));
  }
  uint64_t rules = 0;
  RETURN_IF_ERROR(r.VarintMax("filter_count", kFilterRulesMax, &rules));
  // Each rule takes at least 4 bytes (length, prefix, one pattern byte), so
  // the count cannot claim more than the payload holds.
  if (rules > r.remaining() / 4) {
    return r.Error("filter_count " + std::to_string(rules) + " exceeds the payload");
  }
  o->filter_rules.resize(static_cast<size_t>(rules));
  for (std::string& rule : o->filter_rules) {
    RETURN_IF_ERROR(r.String("filter_rule", kFilterRuleMax, &rule));
    if (rule.size() < 3 || (rule[0] != '-' && rule[0] != '+') || rule[1] != ' ' ||
        HasNul(rule)) {
      return r.Error("filter_rule is not \"- PATTERN\" or \"+ PATTERN\"");
    }
  }
  RETURN_IF_ERROR(r.String("usermap", kIdMapTextMax, &o->usermap));
  RETURN_IF_ERROR(r.String("groupmap", kIdMapTextMax, &o->groupmap));
  if (HasNul(o->usermap) || HasNul(o->groupmap)) return r.Error("usermap or groupmap holds NUL");
  return Status::Ok();
}

Status GetOwnerName(Reader& r, const char* field, std::string* s) {
  RETURN_IF_ERROR(r.String(field, kOwnerNameMax, s));
  if (s->empty()) return r.Error(std::string(field) + " is flagged but empty");
  for (char c : *s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == ':' || c == '/') {
      return r.Error(std::string(field) + " " + QuotePath(*s) +
                     " contains a control character, ':' or '/'");
    }
  }
  return Status::Ok();
}

// `prev` as for PutEntry. Every field is checked as in a FileEntry: the
// path is rebuilt first and then checked whole.
Status GetEntry(Reader& r, const DecodeLimits& limits, FileEntry* e,
                const FileEntry* prev = nullptr) {
  uint64_t flags = 0;
  RETURN_IF_ERROR(r.Varint("flags", &flags));
  if (flags & ~(prev ? kEntPackedKnown : kEntKnown)) return r.Error("flags has unknown bits");
  if (prev) {
    uint64_t shared = 0;
    RETURN_IF_ERROR(r.VarintMax("shared path prefix", prev->path.size(), &shared));
    std::string suffix;
    RETURN_IF_ERROR(r.String("path suffix", kPathMax - 1 - shared, &suffix));
    e->path = prev->path.substr(0, shared) + suffix;
  } else {
    RETURN_IF_ERROR(r.String("path", kPathMax - 1, &e->path));
  }
  if (e->path != ".") RETURN_IF_ERROR(CheckWirePath(e->path, "path"));
  uint8_t kind = 0;
  RETURN_IF_ERROR(r.U8("kind", &kind));
  if (kind < 1 || kind > 7) return r.Error("kind " + std::to_string(kind) + " is unknown");
  e->kind = static_cast<FileKind>(kind);
  if (flags & kEntSamePerms) e->perms = prev->perms;
  else RETURN_IF_ERROR(r.U32("perms", 07777, &e->perms));
  if (flags & kEntSameUid) e->uid = prev->uid;
  else RETURN_IF_ERROR(r.U32("uid", kU32Max, &e->uid));
  if (flags & kEntSameGid) e->gid = prev->gid;
  else RETURN_IF_ERROR(r.U32("gid", kU32Max, &e->gid));
  if ((flags & kEntSameUser) && (!(flags & kEntUser) || prev->user_name.empty())) {
    return r.Error("user_name repeated without a previous one");
  }
  if ((flags & kEntSameGroup) && (!(flags & kEntGroup) || prev->group_name.empty())) {
    return r.Error("group_name repeated without a previous one");
  }
  if (flags & kEntSameUser) e->user_name = prev->user_name;
  else if (flags & kEntUser) RETURN_IF_ERROR(GetOwnerName(r, "user_name", &e->user_name));
  if (flags & kEntSameGroup) e->group_name = prev->group_name;
  else if (flags & kEntGroup) RETURN_IF_ERROR(GetOwnerName(r, "group_name", &e->group_name));
  if (e->kind == FileKind::kRegular) RETURN_IF_ERROR(r.Varint("size", &e->size));
  if (flags & kEntSameMtime) {
    e->mtime_sec = prev->mtime_sec;
    e->mtime_nsec = prev->mtime_nsec;
  } else {
    RETURN_IF_ERROR(r.Signed("mtime_sec", &e->mtime_sec));
    if (prev) {
      e->mtime_sec = static_cast<int64_t>(static_cast<uint64_t>(prev->mtime_sec) +
                                          static_cast<uint64_t>(e->mtime_sec));
    }
    RETURN_IF_ERROR(r.U32("mtime_nsec", 999999999, &e->mtime_nsec));
  }
  if (flags & kEntAtime) {
    if (!limits.atimes) return r.Error("atime sent but --atimes was not negotiated");
    e->has_atime = true;
    RETURN_IF_ERROR(r.Signed("atime_sec", &e->atime_sec));
    RETURN_IF_ERROR(r.U32("atime_nsec", 999999999, &e->atime_nsec));
  }
  if (e->kind == FileKind::kCharDevice || e->kind == FileKind::kBlockDevice) {
    RETURN_IF_ERROR(r.Varint("rdev", &e->rdev));
  }
  if (e->kind == FileKind::kSymlink) {
    RETURN_IF_ERROR(r.String("symlink_target", kPathMax - 1, &e->symlink_target));
    if (e->symlink_target.empty()) return r.Error("symlink_target is empty");
    if (HasNul(e->symlink_target)) {
      return r.Error("symlink_target " + QuotePath(e->symlink_target) +
                     " contains a NUL byte");
    }
  }
  if (flags & kEntLeader) {
    if (!limits.hard_links) {
      return r.Error("hard-link leader sent but hard links (-H) were not negotiated");
    }
    if (e->kind != FileKind::kRegular) {
      return r.Error("hard-link leader sent for a non-regular file");
    }
    uint32_t leader = 0;
    RETURN_IF_ERROR(GetIndex(r, "link_leader", &leader));
    e->link_leader = leader;
  }
  if (flags & kEntXattrs) {
    if (!limits.xattrs && !limits.acls) {
      return r.Error("xattrs sent but neither xattrs (-X) nor ACLs (-A) were negotiated");
    }
    uint64_t count = 0;
    RETURN_IF_ERROR(r.VarintMax("xattr count", kXattrsPerEntryMax, &count));
    // Each xattr takes at least two length bytes.
    if (count == 0 || count > r.remaining() / 2) {
      return r.Error("xattr count " + std::to_string(count) + " does not fit the " +
                     std::to_string(r.remaining()) + " remaining bytes");
    }
    e->xattrs.resize(count);
    for (Xattr& x : e->xattrs) {
      RETURN_IF_ERROR(r.String("xattr name", kXattrNameMax, &x.name));
      RETURN_IF_ERROR(r.String("xattr value", kXattrValueMax, &x.value));
      if (x.name.empty() || HasNul(x.name)) {
        return r.Error("xattr name " + QuotePath(x.name) + " is empty or contains NUL");
      }
      const bool acl = IsAclName(x.name);
      if (acl && !limits.acls) {
        return r.Error("ACL " + QuotePath(x.name) + " sent but ACLs (-A) were not negotiated");
      }
      if (!acl && !limits.xattrs) {
        return r.Error("xattr " + QuotePath(x.name) +
                       " sent but xattrs (-X) were not negotiated");
      }
    }
  }
  return Status::Ok();
}

// A verify directory: "" (the root message), "." or a wire path.
Status GetVerifyDir(Reader& r, std::string* dir) {
  RETURN_IF_ERROR(r.String("dir", kPathMax - 1, dir));
  if (!dir->empty() && *dir != ".") RETURN_IF_ERROR(CheckWirePath(*dir, "dir"));
  return Status::Ok();
}

// An entry name of a verify directory: one component, or "." in the root
// message (dir "").
Status CheckVerifyName(Reader& r, const std::string& dir, const std::string& name) {
  if (dir.empty()) {
    if (name != ".") return r.Error("root entry " + QuotePath(name) + " is not \".\"");
    return Status::Ok();
  }
  return CheckWireName(name, "name");
}

Result<Message> DecodeVerify(uint8_t tag, Reader& r, const DecodeLimits& limits) {
  switch (static_cast<MsgType>(tag)) {
    case MsgType::kVerifyOpen: {
      VerifyOpen m;
      uint64_t flags = 0;
      RETURN_IF_ERROR(r.VarintMax("flags", 3, &flags));
      m.follow = flags & 1;
      m.single_file = flags & 2;
      RETURN_IF_ERROR(r.String("name", kNameMax, &m.name));
      if (!m.name.empty()) RETURN_IF_ERROR(CheckWireName(m.name, "VerifyOpen: name"));
      return Message(std::move(m));
    }
    case MsgType::kVerifyListing: {
      VerifyListing m;
      RETURN_IF_ERROR(GetVerifyDir(r, &m.dir));
      RETURN_IF_ERROR(GetBool(r, "done", &m.done));
      uint64_t count = 0;
      RETURN_IF_ERROR(r.Varint("count", &count));
      // An item takes at least 12 bytes (flags, name, kind, ids, mtime, identity).
      if (count > r.remaining() / 12 || (m.dir.empty() && count > 1)) {
        return r.Error("count " + std::to_string(count) + " does not fit the " +
                       std::to_string(r.remaining()) + " remaining bytes" +
                       (m.dir.empty() ? " or the root message's 0..1" : ""));
      }
      m.items.resize(count);
      for (VerifyItem& it : m.items) {
        RETURN_IF_ERROR(GetEntry(r, limits, &it.entry));
        RETURN_IF_ERROR(CheckVerifyName(r, m.dir, it.entry.path));
        if (it.entry.link_leader) return r.Error("link_leader is not used by verify");
        RETURN_IF_ERROR(r.Varint("dev", &it.dev));
        RETURN_IF_ERROR(r.Varint("ino", &it.ino));
        RETURN_IF_ERROR(r.U32("nlink", kU32Max, &it.nlink));
      }
      return Message(std::move(m));
    }
    case MsgType::kVerifyHashes: {
      VerifyHashes m;
      RETURN_IF_ERROR(GetVerifyDir(r, &m.dir));
      uint64_t count = 0;
      RETURN_IF_ERROR(r.Varint("count", &count));
      if (count > r.remaining() / 17) {  // name length byte + 16 hash bytes
        return r.Error("count " + std::to_string(count) + " does not fit the " +
                       std::to_string(r.remaining()) + " remaining bytes");
      }
      m.hashes.resize(count);
      for (VerifyHash& h : m.hashes) {
        RETURN_IF_ERROR(r.String("name", kNameMax, &h.name));
        RETURN_IF_ERROR(CheckVerifyName(r, m.dir, h.name));
        RETURN_IF_ERROR(r.FixedLE("hash", 8, &h.hash.lo));
        RETURN_IF_ERROR(r.FixedLE("hash", 8, &h.hash.hi));
      }
      return Message(std::move(m));
    }
    default:
      return Corrupt("frame with unknown type " + TypeName(tag));
  }
}

Result<Message> DecodeBody(uint8_t tag, Reader& r, const DecodeLimits& limits) {
  switch (static_cast<MsgType>(tag)) {
    case MsgType::kHello:
      return r.Error("Hello is only valid as the first frame");
    case MsgType::kOptions: {
      SessionOptions o;
      RETURN_IF_ERROR(GetOptions(r, &o));
      return Message(o);
    }
    case MsgType::kOptionsAck: {
      OptionsAck a;
      RETURN_IF_ERROR(GetOptions(r, &a.options));
      return Message(a);
    }
    case MsgType::kFileEntry: {
      FileEntry e;
      RETURN_IF_ERROR(GetEntry(r, limits, &e));
      return Message(std::move(e));
    }
    case MsgType::kFileEntries: {
      if (!limits.entry_batches) return r.Error("FileEntries was not negotiated");
      FileEntries m;
      uint64_t count = 0;
      // Each entry takes at least 4 bytes (flags, prefix, suffix, kind).
      RETURN_IF_ERROR(r.Varint("count", &count));
      if (count == 0 || count > r.remaining() / 4) {
        return r.Error("count " + std::to_string(count) + " does not fit the " +
                       std::to_string(r.remaining()) + " remaining bytes");
      }
      m.entries.resize(count);
      const FileEntry first;
      const FileEntry* prev = &first;
      for (FileEntry& e : m.entries) {
        RETURN_IF_ERROR(GetEntry(r, limits, &e, prev));
        prev = &e;
      }
      return Message(std::move(m));
    }
    case MsgType::kFileListEnd: {
      FileListEnd m;
      RETURN_IF_ERROR(r.VarintMax("count", uint64_t{kFileIndexMax} + 1, &m.count));
      return Message(m);
    }
    case MsgType::kFileRequest: {
      FileRequest m;
      RETURN_IF_ERROR(GetIndex(r, "file_index", &m.file_index));
      RETURN_IF_ERROR(GetBool(r, "delta", &m.delta));
      return Message(m);
    }
    case MsgType::kSignatureHeader: {
      SignatureHeader m;
      RETURN_IF_ERROR(GetIndex(r, "file_index", &m.file_index));
      RETURN_IF_ERROR(r.Varint("file_size", &m.file_size));
      RETURN_IF_ERROR(r.U32("block_size", kBlockSizeMax, &m.block_size));
      RETURN_IF_ERROR(r.U32("strong_len", kU32Max, &m.strong_len));
      RETURN_IF_ERROR(r.Varint("block_count", &m.block_count));
      if (m.block_size == 0) {
        return r.Error("block_size is 0 (with block_count " +
                       std::to_string(m.block_count) + ")");
      }
      if (m.strong_len == 0 || m.strong_len > kStrongLenMax) {
        return r.Error("strong_len " + std::to_string(m.strong_len) +
                       " is outside 1.." + std::to_string(kStrongLenMax) +
                       " (the negotiated XXH3-128 sum)");
      }
      if (m.block_count > kSignatureBlocksMax) {
        return r.Error("block_count " + std::to_string(m.block_count) + " exceeds " +
                       std::to_string(kSignatureBlocksMax));
      }
      const uint64_t implied = delta::BlockCount(m.file_size, m.block_size);
      if (implied != m.block_count) {
        return r.Error("block_count " + std::to_string(m.block_count) +
                       " does not match file_size " + std::to_string(m.file_size) +
                       " / block_size " + std::to_string(m.block_size) + " (" +
                       std::to_string(implied) + " blocks)");
      }
      return Message(m);
    }
    case MsgType::kSignatureBlocks: {
      SignatureBlocks m;
      RETURN_IF_ERROR(GetIndex(r, "file_index", &m.file_index));
      RETURN_IF_ERROR(r.VarintMax("first_block", kSignatureBlocksMax, &m.first_block));
      RETURN_IF_ERROR(r.U32("strong_len", kU32Max, &m.strong_len));
      if (m.strong_len == 0 || m.strong_len > kStrongLenMax) {
        return r.Error("strong_len " + std::to_string(m.strong_len) +
                       " is outside 1.." + std::to_string(kStrongLenMax) +
                       " (the negotiated XXH3-128 sum)");
      }
      uint64_t count = 0;
      RETURN_IF_ERROR(r.Varint("count", &count));
      const uint64_t per_block = 4 + m.strong_len;
      // Division first: count * per_block cannot overflow past this check.
      if (count > r.remaining() / per_block || count * per_block != r.remaining()) {
        return r.Error("count " + std::to_string(count) + " blocks of " +
                       std::to_string(per_block) + " bytes do not match the " +
                       std::to_string(r.remaining()) + " remaining bytes");
      }
      if (count > kSignatureBlocksMax - m.first_block) {
        return r.Error("blocks end past " + std::to_string(kSignatureBlocksMax));
      }
      m.weak.resize(count);
      for (uint32_t& x : m.weak) {
        uint64_t v = 0;
        RETURN_IF_ERROR(r.FixedLE("weak sum", 4, &v));
        x = static_cast<uint32_t>(v);
      }
      std::span<const std::byte> strong;
      RETURN_IF_ERROR(r.Raw("strong sums", count * m.strong_len, &strong));
      const auto* s = reinterpret_cast<const uint8_t*>(strong.data());
      m.strong.assign(s, s + strong.size());
      return Message(std::move(m));
    }
    case MsgType::kFileData: {
      FileData m;
      RETURN_IF_ERROR(GetIndex(r, "file_index", &m.file_index));
      RETURN_IF_ERROR(r.Varint("offset", &m.offset));
      std::span<const std::byte> data;
      RETURN_IF_ERROR(r.Raw("data", r.remaining(), &data));
      if (data.size() > std::numeric_limits<uint64_t>::max() - m.offset) {
        return r.Error("offset " + std::to_string(m.offset) + " + data overflows");
      }
      m.data.assign(data.begin(), data.end());
      return Message(std::move(m));
    }
    case MsgType::kDeltaOps: {
      DeltaOps m;
      RETURN_IF_ERROR(GetIndex(r, "file_index", &m.file_index));
      uint64_t count = 0;
      RETURN_IF_ERROR(r.Varint("op_count", &count));
      if (count > r.remaining()) {  // every op takes at least one byte
        return r.Error("op_count " + std::to_string(count) + " exceeds the " +
                       std::to_string(r.remaining()) + " remaining bytes");
      }
      m.ops.reserve(count);
      uint64_t literal_total = 0;
      for (uint64_t i = 0; i < count; ++i) {
        uint64_t tagged = 0;
        RETURN_IF_ERROR(r.Varint("op length", &tagged));
        delta::DeltaOp op;
        op.length = tagged >> 1;
        if (op.length == 0) return r.Error("op " + std::to_string(i) + " has length 0");
        if (tagged & 1) {
          op.kind = delta::OpKind::kCopy;
          RETURN_IF_ERROR(r.Varint("copy offset", &op.old_offset));
          if (op.old_offset > std::numeric_limits<uint64_t>::max() - op.length) {
            return r.Error("op " + std::to_string(i) + " copy offset " +
                           std::to_string(op.old_offset) + " + length overflows");
          }
        } else {
          op.kind = delta::OpKind::kLiteral;
          if (op.length > r.remaining() || literal_total > r.remaining() - op.length) {
            return r.Error("op " + std::to_string(i) + " literal length " +
                           std::to_string(op.length) + " exceeds the remaining bytes");
          }
          literal_total += op.length;
        }
        m.ops.push_back(op);
      }
      if (literal_total != r.remaining()) {
        return r.Error("literal ops total " + std::to_string(literal_total) +
                       " bytes but " + std::to_string(r.remaining()) + " follow");
      }
      std::span<const std::byte> lit;
      RETURN_IF_ERROR(r.Raw("literals", r.remaining(), &lit));
      m.literals.assign(lit.begin(), lit.end());
      return Message(std::move(m));
    }
    case MsgType::kFileDone: {
      FileDone m;
      RETURN_IF_ERROR(GetIndex(r, "file_index", &m.file_index));
      RETURN_IF_ERROR(r.Varint("size", &m.size));
      RETURN_IF_ERROR(r.FixedLE("hash", 8, &m.hash.lo));
      RETURN_IF_ERROR(r.FixedLE("hash", 8, &m.hash.hi));
      return Message(m);
    }
    case MsgType::kMetadataUpdate: {
      MetadataUpdate m;
      RETURN_IF_ERROR(GetIndex(r, "file_index", &m.file_index));
      RETURN_IF_ERROR(GetEntry(r, limits, &m.entry));
      return Message(std::move(m));
    }
    case MsgType::kDeleteRequest: {
      if (!limits.del) return r.Error("delete requested but --delete was not negotiated");
      DeleteRequest m;
      RETURN_IF_ERROR(GetIndex(r, "dir_index", &m.dir_index));
      RETURN_IF_ERROR(r.String("name", kNameMax, &m.name));
      RETURN_IF_ERROR(CheckWireName(m.name, "DeleteRequest: name"));
      return Message(std::move(m));
    }
    case MsgType::kError: {
      Error m;
      bool has_index = false;
      RETURN_IF_ERROR(GetBool(r, "has_file_index", &has_index));
      if (has_index) {
        uint32_t index = 0;
        RETURN_IF_ERROR(GetIndex(r, "file_index", &index));
        m.file_index = index;
      }
      uint8_t code = 0;
      RETURN_IF_ERROR(r.U8("code", &code));
      // An unknown code from a newer peer is still an error: kOther.
      m.code = code > kWireErrorMax ? WireError::kOther : static_cast<WireError>(code);
      RETURN_IF_ERROR(r.String("path", kPathMax - 1, &m.path));
      RETURN_IF_ERROR(r.String("message", kErrorMessageMax, &m.message));
      return Message(std::move(m));
    }
    case MsgType::kEndOfPass: {
      EndOfPass m;
      RETURN_IF_ERROR(r.U32("pass", kU32Max, &m.pass));
      RETURN_IF_ERROR(r.Varint("files", &m.files));
      RETURN_IF_ERROR(r.Varint("bytes", &m.bytes));
      return Message(m);
    }
    case MsgType::kCredit: {
      Credit m;
      RETURN_IF_ERROR(r.VarintMax("bytes", kMaxWindow, &m.bytes));
      if (m.bytes == 0) return r.Error("bytes is 0");
      return Message(m);
    }
    case MsgType::kKeepalive:
      return Message(Keepalive{});
    case MsgType::kEndOfSession:
      return Message(EndOfSession{});
    case MsgType::kVerifyOpen:
    case MsgType::kVerifyListing:
    case MsgType::kVerifyHashes:
      return DecodeVerify(tag, r, limits);
    case MsgType::kItemized: {
      if (!limits.itemized) return r.Error("Itemized but report_changes was not negotiated");
      Itemized m;
      RETURN_IF_ERROR(r.String("item", kItemLen, &m.item));
      if (m.item.size() != kItemLen || !Printable(m.item, false)) {
        return r.Error("item is not " + std::to_string(kItemLen) + " printable characters");
      }
      RETURN_IF_ERROR(r.String("path", kPathMax - 1, &m.path));
      if (m.path.empty() || !Printable(m.path, true)) {
        return r.Error("path is empty or holds a control character");
      }
      RETURN_IF_ERROR(r.String("detail", kPathMax + 4, &m.detail));
      if (!Printable(m.detail, true)) return r.Error("detail holds a control character");
      RETURN_IF_ERROR(r.Varint("bytes", &m.bytes));
      return Message(std::move(m));
    }
    case MsgType::kReuseProbe: {
      if (!limits.reuse) return r.Error("reuse of DST data was not negotiated");
      ReuseProbe m;
      RETURN_IF_ERROR(GetIndex(r, "file_index", &m.file_index));
      uint64_t count = 0;
      RETURN_IF_ERROR(r.VarintMax("count", kReuseCandidatesMax, &count));
      if (count == 0) return r.Error("count is 0");
      m.candidates.resize(count);
      for (Hash128& h : m.candidates) RETURN_IF_ERROR(GetHash(r, "candidate hash", &h));
      return Message(std::move(m));
    }
    case MsgType::kAppendProbe: {
      if (!limits.reuse) return r.Error("reuse of DST data was not negotiated");
      AppendProbe m;
      RETURN_IF_ERROR(GetIndex(r, "file_index", &m.file_index));
      RETURN_IF_ERROR(r.Varint("prefix_len", &m.prefix_len));
      if (m.prefix_len == 0) return r.Error("prefix_len is 0");
      RETURN_IF_ERROR(GetHash(r, "prefix_hash", &m.prefix_hash));
      return Message(m);
    }
    case MsgType::kProbeResult: {
      if (!limits.reuse) return r.Error("reuse of DST data was not negotiated");
      ProbeResult m;
      RETURN_IF_ERROR(GetIndex(r, "file_index", &m.file_index));
      uint8_t outcome = 0;
      RETURN_IF_ERROR(r.U8("outcome", &outcome));
      if (outcome > kProbeOutcomeMax) {
        return r.Error("outcome " + std::to_string(outcome) + " is not 0, 1 or 2");
      }
      m.outcome = static_cast<ProbeOutcome>(outcome);
      RETURN_IF_ERROR(r.U32("candidate", kReuseCandidatesMax - 1, &m.candidate));
      RETURN_IF_ERROR(GetHash(r, "hash", &m.hash));
      return Message(m);
    }
    case MsgType::kReceiverReport: {
      if (!limits.reuse) return r.Error("ReceiverReport was not negotiated");
      ReceiverReport m;
      RETURN_IF_ERROR(r.Varint("created", &m.created));
      RETURN_IF_ERROR(r.Varint("deleted", &m.deleted));
      RETURN_IF_ERROR(r.Varint("renamed_files", &m.renamed_files));
      RETURN_IF_ERROR(r.Varint("dst_copied_files", &m.dst_copied_files));
      RETURN_IF_ERROR(r.Varint("renamed_bytes", &m.renamed_bytes));
      RETURN_IF_ERROR(r.Varint("appended_files", &m.appended_files));
      RETURN_IF_ERROR(r.Varint("append_reused_bytes", &m.append_reused_bytes));
      RETURN_IF_ERROR(r.Varint("meta_updates", &m.meta_updates));
      RETURN_IF_ERROR(r.Varint("hard_links", &m.hard_links));
      return Message(m);
    }
    case MsgType::kPlannedTotals: {
      if (!limits.planned) return r.Error("PlannedTotals was not negotiated");
      PlannedTotals m;
      // No more files than a list holds (FileListEnd's count).
      RETURN_IF_ERROR(r.VarintMax("files", uint64_t{kFileIndexMax} + 1, &m.files));
      RETURN_IF_ERROR(r.Varint("bytes", &m.bytes));
      return Message(m);
    }
  }
  return Corrupt("frame with unknown type " + TypeName(tag));
}

}  // namespace

DecodeLimits LimitsFor(const SessionOptions& o) {
  DecodeLimits l;
  l.hard_links = o.hard_links;
  l.xattrs = o.xattrs;
  l.acls = o.acls;
  l.atimes = (o.preserve & kPreserveAtimes) != 0;
  l.del = o.del;
  l.itemized = o.report_changes;
  return l;
}

std::unique_ptr<Codec> MakeCodec(uint16_t version, const DecodeLimits& limits) {
  if (version == 1) return std::make_unique<CodecV1>(limits);
  return nullptr;
}

Status CodecV1::Encode(const Message& m, std::vector<std::byte>* payload) const {
  Writer w(payload);
  return std::visit(EncodeVisitor{w}, m);
}

Result<Message> CodecV1::Decode(uint8_t tag, std::span<const std::byte> payload) const {
  if (!IsKnownType(tag)) return Corrupt("frame with unknown type " + TypeName(tag));
  Reader r(payload, TypeName(tag));
  ASSIGN_OR_RETURN(Message m, DecodeBody(tag, r, limits_));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

}  // namespace ferry::protocol
