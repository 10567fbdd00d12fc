// libFuzzer target for the op codec: every input goes through decodeOp and
// decodeBatch, and whatever decodes must round-trip (op_codec_check.h).
// Built only with CHARTA_FUZZ=ON (clang); scripts/fuzz runs it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "op_codec_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const charta::crdt::fuzz::CodecCheck check = charta::crdt::fuzz::checkOpCodec(input);
  if (!check.failure.empty()) {
    std::fprintf(stderr, "op codec property broken: %s\n", check.failure.c_str());
    __builtin_trap();
  }
  return 0;
}
