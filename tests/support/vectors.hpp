// Loads the shared protocol test vectors (shared/test-vectors/).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace parley::test {

struct ValidVector {
  std::string name;
  std::string direction;  // c2s | s2c
  std::string json;       // the frame, compact
};

struct InvalidVector {
  std::string name;
  std::string direction;
  std::string text;  // the raw frame
  std::string code;
  std::string path;
  bool schema = true;  // a schema violation (valijson refuses it too)
};

// invalid-binary.json: binary frames every binary decoder must refuse.
struct InvalidBinaryVector {
  std::string name;
  std::string direction;
  std::string bytes;
  std::string code;
  std::string path;
};

std::vector<ValidVector> load_valid_vectors();
std::vector<InvalidVector> load_invalid_vectors();
std::vector<InvalidBinaryVector> load_invalid_binary_vectors();

// shared/test-vectors/binary.json: vector name -> hex of its binary encoding.
std::vector<std::pair<std::string, std::string>> load_binary_golden();
void save_binary_golden(const std::vector<std::pair<std::string, std::string>>& golden);
std::string to_hex(const std::string& bytes);
std::string from_hex(std::string_view hex);

// True when two JSON texts hold the same value (object key order ignored).
bool same_json(const std::string& a, const std::string& b);

}  // namespace parley::test
