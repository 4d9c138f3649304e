#pragma once
// MemoryBudget: a count of bytes that frames in flight may hold, shared by many connections,
// so what hostile peers can make the server allocate is bounded by a number, not by how many
// of them connect. A Reservation returns its bytes when destroyed. A reservation may also count
// against Shares, smaller caps of their own (a session's, an enrolment's): whoever holds many
// connections open still gets no more than its share, and the rest stays for everyone else.
// Not thread-safe: used on the io_context's one thread; the budget and the shares must outlive
// every Reservation taken from them.

#include <array>
#include <cstddef>
#include <utility>

namespace ergon::net {

class MemoryBudget {
 public:
  explicit MemoryBudget(std::size_t capacity) : capacity_(capacity) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;
  MemoryBudget(MemoryBudget&&) = delete;
  MemoryBudget& operator=(MemoryBudget&&) = delete;
  ~MemoryBudget() = default;

  /// A cap within the budget for the reservations that name it.
  struct Share {
    std::size_t cap = 0;
    std::size_t used = 0;
    std::size_t available() const { return cap - used; }
  };

  std::size_t capacity() const { return capacity_; }
  std::size_t used() const { return used_; }
  std::size_t available() const { return capacity_ - used_; }

  /// Bytes held, given back when the reservation is destroyed.
  class Reservation {
   public:
    Reservation() = default;
    explicit Reservation(MemoryBudget& budget, std::array<Share*, 2> shares = {})
        : budget_(&budget), shares_(shares) {}
    Reservation(Reservation&& other) noexcept
        : budget_(std::exchange(other.budget_, nullptr)),
          shares_(std::exchange(other.shares_, {})),
          bytes_(std::exchange(other.bytes_, 0)) {}
    Reservation& operator=(Reservation&& other) noexcept {
      if (this != &other) {
        release();
        budget_ = std::exchange(other.budget_, nullptr);
        shares_ = std::exchange(other.shares_, {});
        bytes_ = std::exchange(other.bytes_, 0);
      }
      return *this;
    }
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;
    ~Reservation() { release(); }

    /// Adds `bytes` to the reservation; false (and nothing taken) when the budget or one of
    /// its shares has less.
    bool grow(std::size_t bytes) {
      if (!budget_ || bytes > budget_->available()) return false;
      for (auto* share : shares_)
        if (share && bytes > share->available()) return false;
      budget_->used_ += bytes;
      for (auto* share : shares_)
        if (share) share->used += bytes;
      bytes_ += bytes;
      return true;
    }
    std::size_t bytes() const { return bytes_; }
    /// What grow() could still take.
    std::size_t available() const {
      if (!budget_) return 0;
      std::size_t room = budget_->available();
      for (auto* share : shares_)
        if (share && share->available() < room) room = share->available();
      return room;
    }

   private:
    void release() {
      if (budget_) budget_->used_ -= bytes_;
      for (auto* share : shares_)
        if (share) share->used -= bytes_;
      bytes_ = 0;
    }
    MemoryBudget* budget_ = nullptr;
    std::array<Share*, 2> shares_{};
    std::size_t bytes_ = 0;
  };

  Reservation reserve(std::array<Share*, 2> shares = {}) { return Reservation(*this, shares); }

 private:
  std::size_t capacity_;
  std::size_t used_ = 0;
};

}  // namespace ergon::net
