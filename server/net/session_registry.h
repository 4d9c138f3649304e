#pragma once
// SessionRegistry: the live sessions (http/server's connection_manager), each with the closer
// that ends it and, once admitted, the enrolment it serves, so shutdown can end them all and a
// revoke can end one device's. Not thread-safe: the io_context's thread.

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>

namespace ergon::server {

class SessionRegistry {
 public:
  using Id = std::uint64_t;

  Id add(std::function<void()> close);
  /// Records the enrolment a session serves once it is admitted.
  void set_device(Id id, std::string enrolment);
  void remove(Id id);
  /// Closes every session serving one of `enrolments`; returns how many.
  std::size_t close_devices(const std::set<std::string>& enrolments);
  void close_all();
  std::size_t size() const { return sessions_.size(); }

 private:
  struct Entry {
    std::function<void()> close;
    std::string enrolment;
  };
  Id next_ = 1;
  std::map<Id, Entry> sessions_;
};

}  // namespace ergon::server
