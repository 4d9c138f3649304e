#include "server/net/session_registry.h"

#include <vector>

namespace ergon::server {

SessionRegistry::Id SessionRegistry::add(std::function<void()> close) {
  sessions_.emplace(next_, Entry{std::move(close), {}});
  return next_++;
}

void SessionRegistry::set_device(Id id, std::string enrolment) {
  if (auto it = sessions_.find(id); it != sessions_.end())
    it->second.enrolment = std::move(enrolment);
}

void SessionRegistry::remove(Id id) { sessions_.erase(id); }

std::size_t SessionRegistry::close_devices(const std::set<std::string>& enrolments) {
  // Closing only cancels the socket: each session's coroutine unregisters itself as it ends,
  // so collect first and never erase while iterating.
  std::vector<std::function<void()>> closers;
  for (auto& [id, entry] : sessions_)
    if (!entry.enrolment.empty() && enrolments.contains(entry.enrolment))
      closers.push_back(entry.close);
  for (auto& close : closers) close();
  return closers.size();
}

void SessionRegistry::close_all() {
  std::vector<std::function<void()>> closers;
  for (auto& [id, entry] : sessions_) closers.push_back(entry.close);
  for (auto& close : closers) close();
}

}  // namespace ergon::server
