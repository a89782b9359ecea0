// Requests waiting for their answers. A frame that expects one carries a
// ref; the server's answer (ack, error, or the frame the request asked for)
// carries the same ref and is matched here to what was asked. A lost
// connection drops them all: nothing answers on a socket that is gone.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace parley::client {

struct Request {
  enum Kind : std::uint8_t { hello_request, join_request, send_request, history_request, auth_request, other_request };
  explicit Request(Kind k, std::string room = {}, std::string message = {}, bool page = false, std::int64_t from = -1)
      : kind(k), room_id(std::move(room)), client_msg_id(std::move(message)), older(page), gap_from(from) {}
  Kind kind;
  std::string room_id;
  std::string client_msg_id;
  bool older = false;          // history: a page for load_older (else a gap fill)
  std::int64_t gap_from = -1;  // gap fill: the seq after which messages are missing (-1: not one)
};

class Requests {
 public:
  // Keeps `request` until its answer; returns the ref to send it with.
  std::string add(Request request) {
    std::string ref = std::to_string(next_ref_++);
    waiting_.emplace(ref, std::move(request));
    return ref;
  }
  // The request a frame with `ref` answers, no longer waiting; nullopt for
  // an answer to nothing we asked (or asked on an earlier connection).
  std::optional<Request> take(const std::optional<std::string>& ref) {
    auto it = ref ? waiting_.find(*ref) : waiting_.end();
    if (it == waiting_.end()) return std::nullopt;
    Request request = std::move(it->second);
    waiting_.erase(it);
    return request;
  }
  void clear() { waiting_.clear(); }
  std::size_t size() const { return waiting_.size(); }

 private:
  std::uint64_t next_ref_ = 1;
  std::map<std::string, Request> waiting_;  // by ref
};

}  // namespace parley::client
