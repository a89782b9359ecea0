#include "parley/protocol/drafts.hpp"

#include <algorithm>

#include "parley/protocol/utf8.hpp"
#include "rules.hpp"

namespace parley::protocol {
namespace {

Error refuse(ErrorCode code, std::string_view prefix, std::string_view field, std::string words) {
  std::string path(prefix);
  path += field;
  return Error{code, PARLEY_WORDS("`" + path + "` " + words), path};
}

bool has_control_or_space(std::string_view text) {
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

std::optional<Error> check_attachment(const Draft& draft, std::string_view prefix) {
  if (!draft.metadata) return refuse(ErrorCode::bad_request, prefix, "/metadata", "is required for an attachment");
  const Metadata& m = *draft.metadata;
  if (!m.url) return refuse(ErrorCode::bad_request, prefix, "/metadata/url", "is required for an attachment");
  if (!is_attachment_url(*m.url)) {
    return refuse(ErrorCode::bad_request, prefix, "/metadata/url",
                  "must be an https: URL or a path on the app's origin (/...)");
  }
  if (m.thumbnailUrl && !is_attachment_url(*m.thumbnailUrl)) {
    return refuse(ErrorCode::bad_request, prefix, "/metadata/thumbnailUrl",
                  "must be an https: URL or a path on the app's origin (/...)");
  }
  if (!m.fileName) return refuse(ErrorCode::bad_request, prefix, "/metadata/fileName", "is required");
  for (char ch : *m.fileName) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f || c == '/' || c == '\\') {
      return refuse(ErrorCode::bad_request, prefix, "/metadata/fileName",
                    "must not hold control characters or path separators");
    }
  }
  if (!m.fileSize) return refuse(ErrorCode::bad_request, prefix, "/metadata/fileSize", "is required");
  if (!m.mimeType) return refuse(ErrorCode::bad_request, prefix, "/metadata/mimeType", "is required");
  // type "/" subtype, lower case, no parameters: what an upload route checked.
  std::string_view mime = *m.mimeType;
  auto slash = mime.find('/');
  auto token = [](std::string_view part) {
    if (part.empty()) return false;
    for (char c : part) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '+' || c == '-' || c == '_';
      if (!ok) return false;
    }
    return true;
  };
  if (slash == std::string_view::npos || !token(mime.substr(0, slash)) || !token(mime.substr(slash + 1))) {
    return refuse(ErrorCode::bad_request, prefix, "/metadata/mimeType", "must be a lower-case type/subtype");
  }
  if (draft.type == "image") {
    if (mime.substr(0, slash) != "image") {
      return refuse(ErrorCode::bad_request, prefix, "/metadata/mimeType", "must be image/* for an image");
    }
    if (!m.width) return refuse(ErrorCode::bad_request, prefix, "/metadata/width", "is required for an image");
    if (!m.height) return refuse(ErrorCode::bad_request, prefix, "/metadata/height", "is required for an image");
  } else if (m.width || m.height) {
    return refuse(ErrorCode::bad_request, prefix, m.width ? "/metadata/width" : "/metadata/height",
                  "is for images only");
  }
  return std::nullopt;
}

}  // namespace

bool is_timeline_type(std::string_view type) {
  return type == "text" || type == "image" || type == "file" || type == "system";
}

bool is_change_type(std::string_view type) {
  return type == "edit" || type == "delete" || type == "react" || type == "unreact";
}

bool is_attachment_url(std::string_view url) {
  if (url.empty() || has_control_or_space(url) || url.find('\\') != std::string_view::npos) return false;
  if (url[0] == '/') return url.size() == 1 || url[1] != '/';
  constexpr std::string_view https = "https://";
  if (url.size() <= https.size()) return false;
  for (std::size_t i = 0; i < https.size(); ++i) {
    char c = url[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != https[i]) return false;
  }
  char first = url[https.size()];
  return first != '/' && first != '?' && first != '#' && first != '@';
}

bool is_reaction_emoji(std::string_view text) {
  auto length = utf8_length(text);
  if (!length || *length == 0 || *length > kMaxEmojiLength) return false;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) continue;
    bool keycap = (c >= '0' && c <= '9') || c == '#' || c == '*';
    if (!keycap) return false;
  }
  return true;
}

std::optional<Error> check_draft(const Draft& draft, std::string_view prefix) {
  const bool change = is_change_type(draft.type);
  if (draft.type == "system") {
    std::string path = std::string(prefix) + "/type";
    return Error{ErrorCode::forbidden, PARLEY_WORDS(std::string("`system` messages come from the server only")), path};
  }
  if (change) {
    if (!draft.target) return refuse(ErrorCode::bad_request, prefix, "/target", "is required for " + draft.type);
    if (draft.replyTo) return refuse(ErrorCode::bad_request, prefix, "/replyTo", "is for new messages only");
    if (draft.metadata) return refuse(ErrorCode::bad_request, prefix, "/metadata", "is for new messages only");
  } else if (draft.target) {
    return refuse(ErrorCode::bad_request, prefix, "/target", "is for edit, delete, react and unreact only");
  }
  if (draft.type == "delete" && !draft.content.empty()) {
    return refuse(ErrorCode::bad_request, prefix, "/content", "must be empty for delete");
  }
  if ((draft.type == "react" || draft.type == "unreact") && !is_reaction_emoji(draft.content)) {
    return refuse(ErrorCode::bad_request, prefix, "/content", "must be one emoji");
  }
  if (draft.type == "image" || draft.type == "file") return check_attachment(draft, prefix);
  if (draft.metadata) return refuse(ErrorCode::bad_request, prefix, "/metadata", "is for image and file messages only");
  return std::nullopt;
}

std::string quote_excerpt(const Message& original) {
  std::string_view text = original.content;
  if (text.empty() && original.metadata && original.metadata->fileName) text = *original.metadata->fileName;
  std::size_t points = 0;
  std::size_t end = 0;
  while (end < text.size() && points < kQuoteExcerptLength) {
    auto c = static_cast<unsigned char>(text[end]);
    std::size_t width = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    end += width;
    ++points;
  }
  return std::string(text.substr(0, std::min(end, text.size())));
}

}  // namespace parley::protocol
