#include "server/net/session_registry.h"

#include <vector>

namespace ergon::server {

SessionRegistry::Id SessionRegistry::add(std::function<void()> close, std::string address) {
  ++unadmitted_[address];
  sessions_.emplace(next_, Entry{std::move(close), std::move(address), {}});
  return next_++;
}

void SessionRegistry::set_device(Id id, std::string enrolment) {
  auto it = sessions_.find(id);
  if (it == sessions_.end() || !it->second.enrolment.empty()) return;
  if (auto count = unadmitted_.find(it->second.address);
      count != unadmitted_.end() && --count->second == 0)
    unadmitted_.erase(count);
  ++shares_[enrolment].sessions;
  it->second.enrolment = std::move(enrolment);
}

void SessionRegistry::remove(Id id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  if (it->second.enrolment.empty()) {
    if (auto count = unadmitted_.find(it->second.address);
        count != unadmitted_.end() && --count->second == 0)
      unadmitted_.erase(count);
  } else if (auto share = shares_.find(it->second.enrolment);
             share != shares_.end() && --share->second.sessions == 0) {
    shares_.erase(share);
  }
  sessions_.erase(it);
}

std::size_t SessionRegistry::unadmitted_from(const std::string& address) const {
  auto it = unadmitted_.find(address);
  return it == unadmitted_.end() ? 0 : it->second;
}

net::MemoryBudget::Share& SessionRegistry::device_share(const std::string& enrolment,
                                                        std::size_t cap) {
  auto& entry = shares_[enrolment];
  if (entry.share.cap == 0) entry.share.cap = cap;
  return entry.share;
}

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
