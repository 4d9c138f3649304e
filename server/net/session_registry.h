#pragma once
// SessionRegistry: the live sessions (http/server's connection_manager), each with the closer
// that ends it, the address it came from and, once admitted, the enrolment it serves, so
// shutdown can end them all, a revoke can end one device's, the accept loop can tell how many
// connections of one address are still logging in, and the sessions of one enrolment share one
// cap of frame memory. Not thread-safe: the io_context's thread.

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "shared/net/memory_budget.h"

namespace ergon::server {

class SessionRegistry {
 public:
  using Id = std::uint64_t;

  Id add(std::function<void()> close, std::string address = {});
  /// Records the enrolment a session serves once it is admitted.
  void set_device(Id id, std::string enrolment);
  void remove(Id id);
  /// Sessions from `address` not yet admitted.
  std::size_t unadmitted_from(const std::string& address) const;
  /// The frame memory share of `enrolment`'s sessions (created with `cap` by the first); it
  /// lives while a session of the enrolment is registered.
  net::MemoryBudget::Share& device_share(const std::string& enrolment, std::size_t cap);
  /// Closes every session serving one of `enrolments`; returns how many.
  std::size_t close_devices(const std::set<std::string>& enrolments);
  void close_all();
  std::size_t size() const { return sessions_.size(); }

 private:
  struct Entry {
    std::function<void()> close;
    std::string address;
    std::string enrolment;
  };
  Id next_ = 1;
  std::map<Id, Entry> sessions_;
  std::map<std::string, std::size_t> unadmitted_;  // by address
  struct DeviceShare {
    net::MemoryBudget::Share share;
    std::size_t sessions = 0;
  };
  std::map<std::string, DeviceShare> shares_;  // by enrolment
};

}  // namespace ergon::server
