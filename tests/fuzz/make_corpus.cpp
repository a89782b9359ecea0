// Writes the seed corpora for the fuzz targets from the shared test vectors:
// every valid and invalid frame, as JSON and (valid ones) as binary.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "parley/protocol/codec.hpp"
#include "support/vectors.hpp"

namespace fs = std::filesystem;
using namespace parley;

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  fs::path root = argv[1];
  for (auto dir : {"json_client", "json_server", "binary_client", "binary_server", "ws_frame", "connection"}) {
    fs::create_directories(root / dir);
  }
  int n = 0;
  auto write = [&](const fs::path& dir, const std::string& bytes) {
    std::ofstream(dir / ("seed" + std::to_string(n++)), std::ios::binary) << bytes;
  };
  for (const auto& v : test::load_valid_vectors()) {
    bool client = v.direction == "c2s";
    write(root / (client ? "json_client" : "json_server"), v.json);
    std::string bin = client ? protocol::encode(protocol::decode_client_frame(v.json, protocol::Codec::json).value(),
                                                protocol::Codec::binary)
                             : protocol::encode(protocol::decode_server_frame(v.json, protocol::Codec::json).value(),
                                                protocol::Codec::binary);
    write(root / (client ? "binary_client" : "binary_server"), bin);
  }
  // Whole conversations for the connection target: hello, then every valid
  // client frame but hello, one per line (framed mode), in JSON and binary;
  // and the raw frames below, before and after a hello.
  std::string json_lines;
  std::string binary_lines;
  for (const auto& v : test::load_valid_vectors()) {
    if (v.direction != "c2s" || v.json.find("\"hello\"") != std::string::npos) continue;
    json_lines += v.json + "\n";
    binary_lines += protocol::encode(protocol::decode_client_frame(v.json, protocol::Codec::json).value(),
                                     protocol::Codec::binary) +
                    "\n";
  }
  write(root / "connection", std::string("\x05") + json_lines);    // hello, framed, JSON
  write(root / "connection", std::string("\x07") + binary_lines);  // hello, framed, binary
  write(root / "connection", std::string("\x0d") + json_lines);    // the same in 1-byte writes
  write(root / "connection", std::string("\x04") + json_lines);    // no hello
  // A few masked client frames: text, fragmented, ping, close.
  write(root / "ws_frame", std::string("\x81\x82\x12\x34\x56\x78", 6) + "\x7a\x5d");
  write(root / "ws_frame", std::string("\x01\x81\x12\x34\x56\x78", 6) + "a" + std::string("\x89\x80\0\0\0\0", 6) +
                               std::string("\x80\x81\0\0\0\0", 6) + "b");
  write(root / "ws_frame", std::string("\x88\x82\0\0\0\0\x03\xe8", 8));
  for (const auto& entry : fs::directory_iterator(root / "ws_frame")) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string frame((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    write(root / "connection", std::string("\x00") + frame);  // raw, no hello
    write(root / "connection", std::string("\x01") + frame);  // raw, after hello
  }
  for (const auto& v : test::load_invalid_vectors()) {
    write(root / (v.direction == "c2s" ? "json_client" : "json_server"), v.text);
  }
  return 0;
}
