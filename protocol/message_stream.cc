#include "protocol/message_stream.h"

#include <string>

namespace ferry::protocol {

bool IsCompressible(uint8_t tag) {
  switch (static_cast<MsgType>(tag)) {
    case MsgType::kFileEntry:
    case MsgType::kFileEntries:
    case MsgType::kFileData:
    case MsgType::kDeltaOps:
    case MsgType::kMetadataUpdate:
    case MsgType::kVerifyListing:
      return true;
    default:
      return false;
  }
}

size_t MaxMessagePayload(uint32_t max_frame, bool compression) {
  if (!compression) return max_frame;
  // ZSTD_compressBound(n) is n + n/256 plus a small constant; keep margin.
  return max_frame - max_frame / 128 - 1024;
}

Status MessageWriter::Append(const Message& m, std::vector<std::byte>* out) {
  payload_.clear();
  RETURN_IF_ERROR(codec_->Encode(m, &payload_));
  const auto tag = static_cast<uint8_t>(TypeOf(m));
  if (payload_.size() > max_payload()) {
    return InvalidArgument(TypeName(tag) + " payload of " + std::to_string(payload_.size()) +
                           " bytes exceeds the message limit " +
                           std::to_string(max_payload()) + "; split it");
  }
  if (compressor_ != nullptr && IsCompressible(tag) &&
      payload_.size() >= kCompressMinPayload) {
    RETURN_IF_ERROR(compressor_->CompressMessage(payload_, &packed_));
    return AppendFrame(tag, kFrameCompressed, packed_, max_frame_, out);
  }
  return AppendFrame(tag, 0, payload_, max_frame_, out);
}

Result<Message> MessageReader::Decode(const Frame& frame) {
  if ((frame.flags & kFrameCompressed) == 0) {
    return codec_->Decode(frame.tag, frame.payload);
  }
  if (decompressor_ == nullptr) {
    return Corrupt(TypeName(frame.tag) +
                   ": compressed frame but compression was not negotiated");
  }
  if (!IsCompressible(frame.tag)) {
    return Corrupt(TypeName(frame.tag) + ": this message type is never compressed");
  }
  RETURN_IF_ERROR(decompressor_->DecompressMessage(frame.payload, &plain_));
  return codec_->Decode(frame.tag, plain_);
}

}  // namespace ferry::protocol
