// Every message of the ferry wire protocol, in one place (PROTOCOL.md is the
// spec; this header is its C++ form). The structs are version-independent
// values: a codec (codec.h) turns them into frame payloads for one protocol
// version, so engine logic never tests a version.
//
// Every member has a default initializer, so a decoded message is always
// fully defined (no field is left uninitialised for a peer to probe: the
// CVE-2024-12085 class). Tags are never reused: a retired message keeps its
// number forever.
//
// Thread safety: values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/base/hash.h"
#include "engine/delta/delta.h"

namespace ferry::protocol {

// --- limits every side enforces (PROTOCOL.md "Ranges") ----------------------
inline constexpr size_t kPathMax = 4096;  // PATH_MAX: a path is < kPathMax bytes
inline constexpr size_t kNameMax = 255;   // NAME_MAX: one path component
inline constexpr size_t kOwnerNameMax = 255;
inline constexpr size_t kXattrNameMax = 255;     // XATTR_NAME_MAX
inline constexpr size_t kXattrValueMax = 65536;  // XATTR_SIZE_MAX
inline constexpr size_t kXattrsPerEntryMax = 1024;
inline constexpr uint32_t kStrongLenMax = 16;  // XXH3-128: the negotiated sum
inline constexpr uint32_t kBlockSizeMax = uint32_t{1} << 30;
inline constexpr uint64_t kSignatureBlocksMax = uint64_t{1} << 24;
inline constexpr uint32_t kFileIndexMax = 0xFFFFFFFEu;  // list holds <= 2^32-1
inline constexpr size_t kErrorMessageMax = 4096;
inline constexpr uint32_t kStreamsMax = 64;  // --streams N: N <= 64
inline constexpr uint64_t kSplitMinFloor = 65536;  // split_min: 0 or >= this

// Filter rules and owner maps carried in SessionOptions (--exclude and
// friends, --usermap/--groupmap/--chown).
inline constexpr size_t kFilterRulesMax = 65536;  // rules in one session
inline constexpr size_t kFilterRuleMax = 4097;   // "- " + a pattern of <= 4095 bytes
inline constexpr size_t kIdMapTextMax = 4096;    // bytes of --usermap/--groupmap
// Itemized: rsync's "YXcstpoguax" string, always 11 bytes.
inline constexpr size_t kItemLen = 11;

// The one-byte type tag of a frame. Values are permanent (PROTOCOL.md).
enum class MsgType : uint8_t {
  kHello = 0x01,
  kOptions = 0x02,
  kOptionsAck = 0x03,
  kFileEntry = 0x10,
  kFileListEnd = 0x11,
  kFileEntries = 0x12,
  kFileRequest = 0x20,
  kSignatureHeader = 0x21,
  kSignatureBlocks = 0x22,
  kReuseProbe = 0x25,
  kAppendProbe = 0x26,
  kFileData = 0x30,
  kDeltaOps = 0x31,
  kFileDone = 0x32,
  kMetadataUpdate = 0x33,
  kProbeResult = 0x35,
  kDeleteRequest = 0x40,
  kError = 0x50,
  kItemized = 0x52,
  kEndOfPass = 0x60,
  kCredit = 0x61,
  kKeepalive = 0x62,
  kEndOfSession = 0x63,
  kReceiverReport = 0x64,
  kPlannedTotals = 0x65,
  // 0x70-0x73: the TCP daemon's pre-session exchange (daemon_wire.h).
  kVerifyOpen = 0x80,
  kVerifyListing = 0x81,
  kVerifyHashes = 0x82,
};

// Whether a tag names a message of this implementation.
bool IsKnownType(uint8_t tag);
// "FileEntry", "DeltaOps", ...; "tag 0x7f" for an unknown one.
std::string TypeName(uint8_t tag);

// --- handshake --------------------------------------------------------------
enum class Role : uint8_t { kClient = 1, kServer = 2 };

// Capability bits (Hello.capabilities). A feature is usable only when both
// sides set its bit; bits this side does not know are ignored.
inline constexpr uint64_t kCapHardLinks = 1u << 0;
inline constexpr uint64_t kCapXattrs = 1u << 1;
inline constexpr uint64_t kCapAcls = 1u << 2;
inline constexpr uint64_t kCapZstd = 1u << 3;
inline constexpr uint64_t kCapDelete = 1u << 4;
// ReuseProbe, AppendProbe, ProbeResult and ReceiverReport (PROTOCOL.md
// section 4a): rename/copy within DST and append detection.
inline constexpr uint64_t kCapReuse = 1u << 5;
// FileEntries: file-list entries in batches, each packed against the one
// before it (PROTOCOL.md "FileEntries").
inline constexpr uint64_t kCapEntryBatch = 1u << 6;
// PlannedTotals: the receiver tells the sender what the pass will transfer
// once the list is compared (PROTOCOL.md "PlannedTotals").
inline constexpr uint64_t kCapPlanned = 1u << 7;
inline constexpr uint64_t kCapKnownMask = (1u << 8) - 1;

struct Hello {
  uint16_t version_min = 0;
  uint16_t version_max = 0;
  uint64_t capabilities = 0;
  uint32_t max_frame = 0;  // largest frame payload this side accepts
  Role role = Role::kClient;
  bool operator==(const Hello&) const = default;
};

enum class ChecksumMode : uint8_t { kSizeMtime = 0, kXxh3 = 1 };  // -c
enum class Compression : uint8_t { kNone = 0, kZstd = 1 };        // -z
enum class BlockRule : uint8_t { kSqrt = 0, kFixed = 1 };  // block_size.h / fixed
// --mail (engine/mail/maildir.h MailMode): whether Maildir semantics apply.
// kOff is what a peer that does not send the mail bits means.
enum class MailSemantics : uint8_t { kOff = 0, kAuto = 1, kOn = 2 };

// Preserve bits (SessionOptions.preserve): rsync's -p -t -o -g -l -D --specials -U.
inline constexpr uint32_t kPreservePerms = 1u << 0;
inline constexpr uint32_t kPreserveTimes = 1u << 1;
inline constexpr uint32_t kPreserveOwner = 1u << 2;
inline constexpr uint32_t kPreserveGroup = 1u << 3;
inline constexpr uint32_t kPreserveLinks = 1u << 4;
inline constexpr uint32_t kPreserveDevices = 1u << 5;
inline constexpr uint32_t kPreserveSpecials = 1u << 6;
inline constexpr uint32_t kPreserveAtimes = 1u << 7;
inline constexpr uint32_t kPreserveKnownMask = (1u << 8) - 1;

// The options both sides must agree on; the client proposes (kOptions), the
// server checks them against the negotiated capabilities and echoes them
// (kOptionsAck). Limits: handshake.h.
struct SessionOptions {
  uint32_t preserve = 0;
  bool hard_links = false;   // -H
  bool xattrs = false;       // -X
  bool acls = false;         // -A
  bool numeric_ids = false;  // --numeric-ids: user/group names are not sent
  bool del = false;          // --delete
  // --safe-links: the receiver ignores symlinks whose target leaves the
  // transferred tree (engine/tree/safe_link.h), whatever the sender sends.
  bool safe_links = false;
  ChecksumMode checksum = ChecksumMode::kSizeMtime;
  Compression compression = Compression::kNone;
  int32_t compress_level = 0;  // 1..19 with zstd, 0 without
  BlockRule block_rule = BlockRule::kSqrt;
  uint32_t fixed_block_size = 0;  // kFixed only: 1..kBlockSizeMax
  uint32_t max_frame = 0;         // <= both Hello.max_frame
  uint64_t window = 0;            // initial flow-control credit, bytes
  // --streams: this session is stream `stream_index` of `stream_count`
  // parallel sessions sharing one transfer, or with stream_index ==
  // stream_count the final pass after them (PROTOCOL.md section 12); count 0:
  // a plain session. Valid: 2 <= stream_count <= kStreamsMax, index <= count.
  // Regular files of at least `split_min` bytes (0: none) are split across
  // the streams by byte ranges into a temporary named after `run_id`.
  uint32_t stream_index = 0;
  uint32_t stream_count = 0;
  uint64_t split_min = 0;
  uint32_t run_id = 0;
  bool dry_run = false;           // -n: the receiver changes nothing
  bool report_changes = false;    // the receiver sends Itemized messages
  // --mail: the sender lists no tmp/ contents of a Maildir folder, the
  // receiver spares DST's and lands a folder's index files after its
  // messages (protocol/session/mail_rules.h).
  MailSemantics mail = MailSemantics::kOff;
  // Filter rules in order, each "- PATTERN" or "+ PATTERN" (FilterList's
  // syntax): the sender lists nothing they exclude, the receiver deletes
  // nothing they exclude.
  std::vector<std::string> filter_rules;
  // --usermap / --groupmap texts ("FROM:TO,..."; --chown as "*:USER"),
  // applied by the receiver to the sender's ids and names.
  std::string usermap, groupmap;
  bool operator==(const SessionOptions&) const = default;
};

struct OptionsAck {
  SessionOptions options;  // must equal what the client proposed
  bool operator==(const OptionsAck&) const = default;
};

// --- file list ----------------------------------------------------------------
enum class FileKind : uint8_t {
  kRegular = 1,
  kDirectory = 2,
  kSymlink = 3,
  kCharDevice = 4,
  kBlockDevice = 5,
  kFifo = 6,
  kSocket = 7,
};

struct Xattr {
  std::string name;  // e.g. "user.comment", "system.posix_acl_access" (-A)
  std::string value;
  bool operator==(const Xattr&) const = default;
};

// One file-list entry. Its index is its position in the list (0, 1, ...).
struct FileEntry {
  std::string path;  // relative, checked by path_check.h; "." = transfer root
  FileKind kind = FileKind::kRegular;
  uint32_t perms = 0;  // 0..07777
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string user_name;   // empty: not sent (--numeric-ids or no name)
  std::string group_name;  // empty: not sent
  uint64_t size = 0;       // regular files only; 0 for other kinds
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;  // 0..999999999
  bool has_atime = false;   // --atimes
  int64_t atime_sec = 0;
  uint32_t atime_nsec = 0;
  uint64_t rdev = 0;           // devices only
  std::string symlink_target;  // symlinks only; 1..kPathMax-1 bytes, no NUL
  // Hard links (-H): the index of the group's leader, an earlier regular file.
  std::optional<uint32_t> link_leader;
  std::vector<Xattr> xattrs;  // -X; system.posix_acl_* only with -A
  bool operator==(const FileEntry&) const = default;
};

// Several consecutive entries of the list (kCapEntryBatch): the same values
// as that many FileEntry messages, in one frame and packed (a path shares
// its prefix with the previous one; repeated fields are left out).
struct FileEntries {
  std::vector<FileEntry> entries;  // 1.. entries; indexes follow on
  bool operator==(const FileEntries&) const = default;
};

struct FileListEnd {
  uint64_t count = 0;  // number of FileEntry messages sent in this pass
  bool operator==(const FileListEnd&) const = default;
};

// --- per-file transfer ----------------------------------------------------------
// Receiver -> sender: send file `file_index`. With delta, a SignatureHeader
// and its SignatureBlocks for the same index follow (the basis is always the
// receiver's own file at the entry's path; a peer never names a basis).
struct FileRequest {
  uint32_t file_index = 0;
  bool delta = false;
  bool operator==(const FileRequest&) const = default;
};

// The geometry of the receiver's basis file (delta::Signature without sums).
struct SignatureHeader {
  uint32_t file_index = 0;
  uint64_t file_size = 0;
  uint32_t block_size = 0;   // 1..kBlockSizeMax
  uint32_t strong_len = 0;   // 1..kStrongLenMax
  uint64_t block_count = 0;  // == ceil(file_size / block_size)
  bool operator==(const SignatureHeader&) const = default;
};

// Sums of blocks [first_block, first_block + weak.size()).
struct SignatureBlocks {
  uint32_t file_index = 0;
  uint64_t first_block = 0;
  uint32_t strong_len = 0;
  std::vector<uint32_t> weak;
  std::vector<uint8_t> strong;  // weak.size() * strong_len bytes
  bool operator==(const SignatureBlocks&) const = default;
};

// --- reuse of DST data (kCapReuse; PROTOCOL.md section 4a) ----------------------
inline constexpr size_t kReuseCandidatesMax = 8;

// Receiver -> sender, instead of a FileRequest: "send file `file_index`
// whole, unless its XXH3-128 is one of `candidates`" (hashes of DST files
// the receiver holds). 1..kReuseCandidatesMax hashes.
struct ReuseProbe {
  uint32_t file_index = 0;
  std::vector<Hash128> candidates;
  bool operator==(const ReuseProbe&) const = default;
};

// Receiver -> sender, instead of a FileRequest: DST's file at the entry's
// path has `prefix_len` bytes (1..entry size - 1) whose XXH3-128 is
// `prefix_hash`; "send only the tail if your file starts with them".
struct AppendProbe {
  uint32_t file_index = 0;
  uint64_t prefix_len = 0;
  Hash128 prefix_hash;
  bool operator==(const AppendProbe&) const = default;
};

enum class ProbeOutcome : uint8_t {
  kMiss = 0,    // ReuseProbe: the whole file follows; AppendProbe: nothing follows
  kReuse = 1,   // the file's hash is candidates[candidate]; no data follows
  kAppend = 2,  // FileData from offset prefix_len, then FileDone, follow
};
inline constexpr uint8_t kProbeOutcomeMax = 2;

// Sender -> receiver: the answer to a ReuseProbe or AppendProbe.
struct ProbeResult {
  uint32_t file_index = 0;
  ProbeOutcome outcome = ProbeOutcome::kMiss;
  uint32_t candidate = 0;  // kReuse: index into the probe's candidates; else 0
  Hash128 hash;            // kReuse: XXH3-128 of the whole file; else zero
  bool operator==(const ProbeResult&) const = default;
};

// Receiver -> sender, before its last EndOfPass: what it did to DST, so a
// sending client reports it (--stats) as a receiving one would.
struct ReceiverReport {
  uint64_t created = 0;
  uint64_t deleted = 0;
  uint64_t renamed_files = 0;
  uint64_t dst_copied_files = 0;
  uint64_t renamed_bytes = 0;
  uint64_t appended_files = 0;
  uint64_t append_reused_bytes = 0;
  uint64_t meta_updates = 0;
  uint64_t hard_links = 0;
  bool operator==(const ReceiverReport&) const = default;
};

// Receiver -> sender (kCapPlanned), once, when the file list is complete and
// compared with DST: the regular files it will request (or would, in a dry
// run) and their sizes - the pass's totals for a sending client's progress.
struct PlannedTotals {
  uint64_t files = 0;
  uint64_t bytes = 0;
  bool operator==(const PlannedTotals&) const = default;
};

// Sender -> receiver: whole-file data, in order (offset == bytes so far).
struct FileData {
  uint32_t file_index = 0;
  uint64_t offset = 0;
  std::vector<std::byte> data;
  bool operator==(const FileData&) const = default;
};

// Sender -> receiver: the next ops of a delta against the receiver's basis.
// COPY offsets are absolute in the basis; LITERAL bytes are in `literals`.
struct DeltaOps {
  uint32_t file_index = 0;
  std::vector<delta::DeltaOp> ops;
  std::vector<std::byte> literals;
  bool operator==(const DeltaOps&) const = default;
};

// Sender -> receiver: the file's data is complete; XXH3-128 of all of it.
struct FileDone {
  uint32_t file_index = 0;
  uint64_t size = 0;
  Hash128 hash;
  bool operator==(const FileDone&) const = default;
};

// Sender -> receiver: replaces the metadata of entry `file_index` (re-read
// after the data was sent). Path and kind must equal the original entry's.
struct MetadataUpdate {
  uint32_t file_index = 0;
  FileEntry entry;
  bool operator==(const MetadataUpdate&) const = default;
};

// Sender -> receiver (--delete): remove `name` from the directory of entry
// `dir_index` (a directory of this pass); `name` is one path component.
struct DeleteRequest {
  uint32_t dir_index = 0;
  std::string name;
  bool operator==(const DeleteRequest&) const = default;
};

// Wire error codes (stable numbers; not ferry::ErrorCode's).
enum class WireError : uint8_t {
  kOther = 0,
  kProtocol = 1,  // the peer broke the protocol; the session ends
  kNotFound = 2,
  kPermission = 3,
  kNoSpace = 4,
  kIo = 5,
  kChanged = 6,   // source changed while read; retried next pass
  kCorrupt = 7,   // result hash mismatch
  kRefused = 8,   // refused by policy (path, delete, owner)
};
inline constexpr uint8_t kWireErrorMax = 8;

struct Error {
  std::optional<uint32_t> file_index;
  WireError code = WireError::kOther;
  std::string path;  // may be empty
  std::string message;
  bool operator==(const Error&) const = default;
};

// Receiver -> sender, only with report_changes agreed: one change the
// receiver made (or, with dry_run, would make), as -i prints it.
struct Itemized {
  std::string item;    // kItemLen printable ASCII bytes ("YXcstpoguax", "*deleting  ")
  std::string path;    // relative to the transfer root; directories end in '/'
  std::string detail;  // " -> TARGET" (symlink) or " => LEADER" (hard link), or empty
  uint64_t bytes = 0;  // file data landed (or that would be)
  bool operator==(const Itemized&) const = default;
};

struct EndOfPass {
  uint32_t pass = 0;
  uint64_t files = 0;
  uint64_t bytes = 0;
  bool operator==(const EndOfPass&) const = default;
};

// Receiver -> sender: `bytes` more of FileData/DeltaOps payload may be sent.
struct Credit {
  uint64_t bytes = 0;
  bool operator==(const Credit&) const = default;
};

struct Keepalive {
  bool operator==(const Keepalive&) const = default;
};

// Receiver -> sender, the last message of a session: the receiver got the
// sender's final EndOfPass and closes its direction now. The sender ends on
// it instead of waiting for the end of the stream, which a wrapper around
// the remote shell (a ProxyCommand, `cat | ssh`) may hold open.
struct EndOfSession {
  bool operator==(const EndOfSession&) const = default;
};

// --- verify (`ferry verify` with a remote side; PROTOCOL.md section 13) ------
// Client -> server, once, first: which entry of the served PATH is the root
// the server walks and describes.
struct VerifyOpen {
  bool follow = false;  // resolve PATH with stat (a directory's contents), not lstat
  // Non-empty (one path component): the root is PATH/name when PATH is a
  // directory or ends in '/'; else, with single_file, PATH itself.
  std::string name;
  bool single_file = false;
  bool operator==(const VerifyOpen&) const = default;
};

// One entry as verify compares it: the FileEntry fields (path = the entry's
// name) plus its identity for hard links.
struct VerifyItem {
  FileEntry entry;
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint32_t nlink = 0;
  bool operator==(const VerifyItem&) const = default;
};

// Server -> client: entries of directory `dir` ("." the root directory,
// else relative to it); `dir` empty is the root message: the root itself
// (one item named ".") or nothing when the root does not exist. A directory
// may take several messages; the last has `done`.
struct VerifyListing {
  std::string dir;
  bool done = false;
  std::vector<VerifyItem> items;
  bool operator==(const VerifyListing&) const = default;
};

struct VerifyHash {
  std::string name;
  Hash128 hash;
  bool operator==(const VerifyHash&) const = default;
};

// Server -> client: XXH3-128 of regular files of directory `dir` (dir empty:
// the root itself, name ".").
struct VerifyHashes {
  std::string dir;
  std::vector<VerifyHash> hashes;
  bool operator==(const VerifyHashes&) const = default;
};

using Message = std::variant<Hello, SessionOptions, OptionsAck, FileEntry,
                             FileListEnd, FileRequest, SignatureHeader,
                             SignatureBlocks, FileData, DeltaOps, FileDone,
                             MetadataUpdate, DeleteRequest, Error, EndOfPass,
                             Credit, Keepalive, EndOfSession, VerifyOpen, VerifyListing,
                             VerifyHashes, Itemized, ReuseProbe, AppendProbe,
                             ProbeResult, ReceiverReport, FileEntries, PlannedTotals>;

MsgType TypeOf(const Message& m);

}  // namespace ferry::protocol
