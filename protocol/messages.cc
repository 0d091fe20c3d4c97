#include "protocol/messages.h"

#include <cstdio>

namespace ferry::protocol {

bool IsKnownType(uint8_t tag) {
  switch (static_cast<MsgType>(tag)) {
    case MsgType::kHello:
    case MsgType::kOptions:
    case MsgType::kOptionsAck:
    case MsgType::kFileEntry:
    case MsgType::kFileListEnd:
    case MsgType::kFileRequest:
    case MsgType::kSignatureHeader:
    case MsgType::kSignatureBlocks:
    case MsgType::kFileData:
    case MsgType::kDeltaOps:
    case MsgType::kFileDone:
    case MsgType::kMetadataUpdate:
    case MsgType::kDeleteRequest:
    case MsgType::kError:
    case MsgType::kEndOfPass:
    case MsgType::kCredit:
    case MsgType::kKeepalive:
    case MsgType::kEndOfSession:
    case MsgType::kVerifyOpen:
    case MsgType::kVerifyListing:
    case MsgType::kVerifyHashes:
    case MsgType::kItemized:
    case MsgType::kReuseProbe:
    case MsgType::kAppendProbe:
    case MsgType::kProbeResult:
    case MsgType::kReceiverReport:
    case MsgType::kFileEntries:
    case MsgType::kPlannedTotals:
      return true;
  }
  return false;
}

std::string TypeName(uint8_t tag) {
  switch (static_cast<MsgType>(tag)) {
    case MsgType::kHello: return "Hello";
    case MsgType::kOptions: return "Options";
    case MsgType::kOptionsAck: return "OptionsAck";
    case MsgType::kFileEntry: return "FileEntry";
    case MsgType::kFileListEnd: return "FileListEnd";
    case MsgType::kFileRequest: return "FileRequest";
    case MsgType::kSignatureHeader: return "SignatureHeader";
    case MsgType::kSignatureBlocks: return "SignatureBlocks";
    case MsgType::kFileData: return "FileData";
    case MsgType::kDeltaOps: return "DeltaOps";
    case MsgType::kFileDone: return "FileDone";
    case MsgType::kMetadataUpdate: return "MetadataUpdate";
    case MsgType::kDeleteRequest: return "DeleteRequest";
    case MsgType::kError: return "Error";
    case MsgType::kEndOfPass: return "EndOfPass";
    case MsgType::kCredit: return "Credit";
    case MsgType::kKeepalive: return "Keepalive";
    case MsgType::kEndOfSession: return "EndOfSession";
    case MsgType::kVerifyOpen: return "VerifyOpen";
    case MsgType::kVerifyListing: return "VerifyListing";
    case MsgType::kVerifyHashes: return "VerifyHashes";
    case MsgType::kItemized: return "Itemized";
    case MsgType::kReuseProbe: return "ReuseProbe";
    case MsgType::kAppendProbe: return "AppendProbe";
    case MsgType::kProbeResult: return "ProbeResult";
    case MsgType::kReceiverReport: return "ReceiverReport";
    case MsgType::kFileEntries: return "FileEntries";
    case MsgType::kPlannedTotals: return "PlannedTotals";
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "tag 0x%02x", tag);
  return buf;
}

MsgType TypeOf(const Message& m) {
  // The variant's alternatives are listed in this order in messages.h.
  static constexpr MsgType kTypes[] = {
      MsgType::kHello,           MsgType::kOptions,        MsgType::kOptionsAck,
      MsgType::kFileEntry,       MsgType::kFileListEnd,    MsgType::kFileRequest,
      MsgType::kSignatureHeader, MsgType::kSignatureBlocks, MsgType::kFileData,
      MsgType::kDeltaOps,        MsgType::kFileDone,       MsgType::kMetadataUpdate,
      MsgType::kDeleteRequest,   MsgType::kError,          MsgType::kEndOfPass,
      MsgType::kCredit,          MsgType::kKeepalive,      MsgType::kEndOfSession,
      MsgType::kVerifyOpen,      MsgType::kVerifyListing,  MsgType::kVerifyHashes,
      MsgType::kItemized,        MsgType::kReuseProbe,     MsgType::kAppendProbe,
      MsgType::kProbeResult,     MsgType::kReceiverReport, MsgType::kFileEntries,
      MsgType::kPlannedTotals};
  static_assert(std::size(kTypes) == std::variant_size_v<Message>);
  return kTypes[m.index()];
}

}  // namespace ferry::protocol
