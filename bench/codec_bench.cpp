// Encode/decode cost and size of a typical chat message in both codecs.
// Run by `make bench`; figures are per operation, medians over repetitions.
#include <benchmark/benchmark.h>

#include "parley/protocol/codec.hpp"
#include "parley/protocol/schema.hpp"

namespace {

using namespace parley::protocol;

s2c::Frame typical_message() {
  Message m;
  m.id = "m_8f2k1x9c0v7b";
  m.roomId = "lobby";
  m.senderId = "alice";
  m.senderName = "Alice";
  m.clientMsgId = "c7k2m9x1q0z8w3e5r6t4y2u1";
  m.seq = 48213;
  m.type = "text";
  m.content = "Are we still on for the design review at 3? I moved the slides to the shared folder.";
  m.createdAt = 1763776800123;
  return s2c::MessageEvent{m};
}

void Encode(benchmark::State& state, Codec codec) {
  auto frame = typical_message();
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string out = encode(frame, codec);
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}

void Decode(benchmark::State& state, Codec codec) {
  std::string wire = encode(typical_message(), codec);
  for (auto _ : state) {
    auto frame = decode_server_frame(wire, codec);
    benchmark::DoNotOptimize(frame);
  }
  state.counters["bytes"] = static_cast<double>(wire.size());
}

// What parleyd additionally runs on every inbound JSON frame.
void ValidateJsonWithSchema(benchmark::State& state) {
  std::string wire = encode(typical_message(), Codec::json);
  for (auto _ : state) benchmark::DoNotOptimize(validate_json_frame(wire, Direction::server_to_client));
}

BENCHMARK_CAPTURE(Encode, json, Codec::json);
BENCHMARK_CAPTURE(Encode, binary, Codec::binary);
BENCHMARK_CAPTURE(Decode, json, Codec::json);
BENCHMARK_CAPTURE(Decode, binary, Codec::binary);
BENCHMARK(ValidateJsonWithSchema);

}  // namespace

BENCHMARK_MAIN();
