// What a draft may be, beyond the shape the schemas check: which fields each
// message type takes, attachment metadata, where attachment URLs may point,
// what a reaction is. One place, used by parleyd before it stores a draft
// (and by anything else that wants to refuse a draft early).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "parley/protocol/errors.hpp"
#include "parley/protocol/messages.hpp"

namespace parley::protocol {

// Distinct emoji on one message; a reaction past it is refused (too_large).
inline constexpr std::size_t kMaxReactionsPerMessage = 20;
// Reactors listed per emoji in `reactions[].userIds` (count is exact).
inline constexpr std::size_t kMaxListedReactors = 100;
// Code points of a reply's `quote.excerpt`.
inline constexpr std::size_t kQuoteExcerptLength = 120;
// Code points of one reaction's emoji (a ZWJ family fits).
inline constexpr std::size_t kMaxEmojiLength = 16;

// Message types that are a place in the timeline (text, image, file, system)
// and those that change the message named by `target` (edit, delete, react,
// unreact).
bool is_timeline_type(std::string_view type);
bool is_change_type(std::string_view type);

// Whether an attachment URL may be sent: https: with a host, or a path on the
// app's own origin ("/uploads/a.png", not "//host/..."); no whitespace or
// control characters anywhere.
bool is_attachment_url(std::string_view url);

// Whether `text` is one reaction: 1 to kMaxEmojiLength code points of valid
// UTF-8 with no letter, space or control character of ASCII (keycaps such as
// "1️⃣" keep their digit).
bool is_reaction_emoji(std::string_view text);

// The first violation in a client's draft, with the JSON pointer of the field
// under `prefix` (a send's draft is at "/message"), or nullopt. Checks fields
// against the type; it does not check that `target` or `replyTo` exist.
std::optional<Error> check_draft(const Draft& draft, std::string_view prefix = "/message");

// The start of a message's content for a reply's quote: its content cut to
// kQuoteExcerptLength code points, or its file name when it has no content.
std::string quote_excerpt(const Message& original);

}  // namespace parley::protocol
