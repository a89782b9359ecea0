#include "vectors.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace parley::test {
namespace {

rapidjson::Document load(const std::string& file) {
  std::ifstream in(std::string(PARLEY_TEST_VECTORS_DIR) + "/" + file);
  if (!in) throw std::runtime_error("cannot open test vectors " + file);
  std::stringstream text;
  text << in.rdbuf();
  rapidjson::Document doc;
  doc.Parse(text.str().c_str());
  if (doc.HasParseError() || !doc.IsArray()) throw std::runtime_error(file + " is not a JSON array");
  return doc;
}

// {"$repeat": "ab", "times": 3} -> "ababab", recursively.
void expand(rapidjson::Value& v, rapidjson::Document::AllocatorType& alloc) {
  if (v.IsObject() && v.HasMember("$repeat")) {
    std::string unit = v["$repeat"].GetString();
    std::string s;
    for (int i = 0; i < v["times"].GetInt(); ++i) s += unit;
    v.SetString(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), alloc);
  } else if (v.IsObject()) {
    for (auto& m : v.GetObject()) expand(m.value, alloc);
  } else if (v.IsArray()) {
    for (auto& item : v.GetArray()) expand(item, alloc);
  }
}

std::string compact(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  v.Accept(w);
  return buffer.GetString();
}

}  // namespace

std::vector<ValidVector> load_valid_vectors() {
  auto doc = load("valid.json");
  std::vector<ValidVector> out;
  for (auto& v : doc.GetArray()) {
    expand(v["frame"], doc.GetAllocator());
    out.push_back({v["name"].GetString(), v["direction"].GetString(), compact(v["frame"])});
  }
  return out;
}

std::vector<InvalidVector> load_invalid_vectors() {
  auto doc = load("invalid.json");
  std::vector<InvalidVector> out;
  for (auto& v : doc.GetArray()) {
    InvalidVector iv;
    iv.name = v["name"].GetString();
    iv.direction = v["direction"].GetString();
    if (v.HasMember("text")) {
      iv.text = v["text"].GetString();
    } else {
      expand(v["frame"], doc.GetAllocator());
      iv.text = compact(v["frame"]);
    }
    iv.code = v["error"]["code"].GetString();
    iv.path = v["error"]["path"].GetString();
    iv.schema = !v.HasMember("schema") || v["schema"].GetBool();
    out.push_back(std::move(iv));
  }
  return out;
}

std::vector<InvalidBinaryVector> load_invalid_binary_vectors() {
  auto doc = load("invalid-binary.json");
  std::vector<InvalidBinaryVector> out;
  for (auto& v : doc.GetArray()) {
    // "hex" is a string, or a list of strings and {"$repeat", "times"} pieces.
    std::string hex;
    if (v["hex"].IsArray()) {
      expand(v["hex"], doc.GetAllocator());
      for (auto& piece : v["hex"].GetArray()) hex += piece.GetString();
    } else {
      hex = v["hex"].GetString();
    }
    out.push_back({v["name"].GetString(), v["direction"].GetString(), from_hex(hex), v["error"]["code"].GetString(),
                   v["error"]["path"].GetString()});
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> load_binary_golden() {
  std::ifstream in(std::string(PARLEY_TEST_VECTORS_DIR) + "/binary.json");
  std::vector<std::pair<std::string, std::string>> out;
  if (!in) return out;
  std::stringstream text;
  text << in.rdbuf();
  rapidjson::Document doc;
  doc.Parse(text.str().c_str());
  if (doc.HasParseError() || !doc.IsObject()) throw std::runtime_error("binary.json is not a JSON object");
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    out.emplace_back(it->name.GetString(), it->value.GetString());
  }
  return out;
}

void save_binary_golden(const std::vector<std::pair<std::string, std::string>>& golden) {
  std::ofstream out(std::string(PARLEY_TEST_VECTORS_DIR) + "/binary.json");
  out << "{\n";
  for (std::size_t i = 0; i < golden.size(); ++i) {
    out << "  \"" << golden[i].first << "\": \"" << golden[i].second << "\"" << (i + 1 < golden.size() ? "," : "")
        << "\n";
  }
  out << "}\n";
}

std::string to_hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    auto b = static_cast<unsigned char>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

std::string from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) throw std::runtime_error("odd number of hex digits: " + std::string(hex));
  auto digit = [&hex](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    throw std::runtime_error("not a lowercase hex digit in " + std::string(hex));
  };
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2)
    out.push_back(static_cast<char>(digit(hex[i]) * 16 + digit(hex[i + 1])));
  return out;
}

bool same_json(const std::string& a, const std::string& b) {
  rapidjson::Document da;
  rapidjson::Document db;
  da.Parse(a.c_str());
  db.Parse(b.c_str());
  return !da.HasParseError() && !db.HasParseError() && da == db;
}

}  // namespace parley::test
