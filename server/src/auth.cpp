#include "auth.hpp"
#include "tenants/tenant_limits.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <rapidjson/document.h>

#include <array>

#include "parley/protocol/codec.hpp"

namespace parley::server {
namespace {

using protocol::Error;
using protocol::ErrorCode;

Error refuse(std::string why) { return Error{ErrorCode::unauthorized, "invalid token: " + std::move(why), "/token"}; }

std::optional<std::string> base64url_decode(std::string_view in) {
  static const auto table = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = i;
    return t;
  }();
  std::string out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = table[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (bits >= 6) return std::nullopt;  // a dangling sextet is not valid base64
  return out;
}

std::string base64url_encode(std::string_view in) {
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    acc = (acc << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(acc >> bits) & 0x3F]);
    }
  }
  if (bits > 0) out.push_back(alphabet[(acc << (6 - bits)) & 0x3F]);
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &length);
  return std::string(reinterpret_cast<const char*>(mac), length);
}

std::optional<std::int64_t> seconds_claim(const rapidjson::Document& claims, const char* name, bool& malformed) {
  auto it = claims.FindMember(name);
  if (it == claims.MemberEnd()) return std::nullopt;
  if (!it->value.IsNumber()) {
    malformed = true;
    return std::nullopt;
  }
  return static_cast<std::int64_t>(it->value.GetDouble());
}

}  // namespace

protocol::Result<Identity> TokenVerifier::verify(std::string_view token, std::int64_t now_ms) const {
  auto dot1 = token.find('.');
  auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return refuse("not a JWT (expected header.payload.signature)");
  }
  auto header_json = base64url_decode(token.substr(0, dot1));
  auto payload_json = base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = base64url_decode(token.substr(dot2 + 1));
  if (!header_json || !payload_json || !signature) return refuse("not base64url");

  rapidjson::Document header;
  header.Parse<rapidjson::kParseIterativeFlag>(header_json->data(), header_json->size());
  if (header.HasParseError() || !header.IsObject()) return refuse("the header is not a JSON object");
  auto alg = header.FindMember("alg");
  if (alg == header.MemberEnd() || !alg->value.IsString() || std::string_view(alg->value.GetString()) != "HS256") {
    return refuse("alg must be HS256");
  }

  std::string expected = hmac_sha256(secret_, token.substr(0, dot2));
  if (signature->size() != expected.size() || CRYPTO_memcmp(signature->data(), expected.data(), expected.size()) != 0) {
    return refuse("bad signature");
  }

  rapidjson::Document claims;
  claims.Parse<rapidjson::kParseIterativeFlag>(payload_json->data(), payload_json->size());
  if (claims.HasParseError() || !claims.IsObject()) return refuse("the payload is not a JSON object");
  bool malformed = false;
  auto exp = seconds_claim(claims, "exp", malformed);
  auto nbf = seconds_claim(claims, "nbf", malformed);
  if (malformed) return refuse("exp and nbf must be numbers");
  if (!exp) return refuse("exp is required");
  if (*exp * 1000 <= now_ms) return refuse("expired");
  if (nbf && *nbf * 1000 > now_ms) return refuse("not valid yet (nbf)");

  Identity id;
  id.expires_at_ms = *exp * 1000;
  auto sub = claims.FindMember("sub");
  if (sub == claims.MemberEnd() || !sub->value.IsString()) return refuse("sub is required");
  id.user_id.assign(sub->value.GetString(), sub->value.GetStringLength());
  if (auto e = protocol::check_user_id(id.user_id)) return refuse("sub: " + e->message);
  auto name = claims.FindMember("name");
  if (name != claims.MemberEnd() && name->value.IsString()) {
    id.name.assign(name->value.GetString(), name->value.GetStringLength());
  } else {
    id.name = id.user_id;
  }
  if (auto e = protocol::check_user_name(id.name)) return refuse("name: " + e->message);
  auto rooms = claims.FindMember("rooms");
  if (rooms != claims.MemberEnd() && rooms->value.IsArray()) {
    for (const auto& r : rooms->value.GetArray()) {
      if (r.IsString()) id.rooms.emplace_back(r.GetString(), r.GetStringLength());
    }
  }
  auto role = claims.FindMember("role");
  if (role != claims.MemberEnd() && role->value.IsString()) id.role = std::string(role->value.GetString());
  if (auto tenant = claims.FindMember("tenant"); tenant != claims.MemberEnd()) {
    if (!tenant->value.IsString()) return refuse("tenant must be a string");
    id.tenant.assign(tenant->value.GetString(), tenant->value.GetStringLength());
    if (auto why = check_tenant_name(id.tenant)) return refuse("tenant: " + *why);
  }
  return id;
}

std::string sign_hs256(std::string_view claims_json, std::string_view secret, std::string_view alg) {
  std::string header = R"({"alg":")" + std::string(alg) + R"(","typ":"JWT"})";
  std::string signing_input = base64url_encode(header) + "." + base64url_encode(claims_json);
  return signing_input + "." + base64url_encode(hmac_sha256(secret, signing_input));
}

}  // namespace parley::server
