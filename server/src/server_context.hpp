// What every connection of one parleyd process shares.
#pragma once

#include "auth.hpp"
#include "config.hpp"
#include "hub.hpp"

namespace parley::server {

struct ServerContext {
  explicit ServerContext(Config c) : config(std::move(c)), verifier(config.jwt_secret) {}

  Config config;
  TokenVerifier verifier;
  Hub hub;
};

}  // namespace parley::server
