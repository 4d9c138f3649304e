#pragma once
// MemoryBudget: a count of bytes that frames in flight may hold, shared by many connections,
// so what hostile peers can make the server allocate is bounded by a number, not by how many
// of them connect. A Reservation returns its bytes when destroyed. Not thread-safe: used on the
// io_context's one thread; the budget must outlive every Reservation taken from it.

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

  std::size_t capacity() const { return capacity_; }
  std::size_t used() const { return used_; }
  std::size_t available() const { return capacity_ - used_; }

  /// Bytes held, given back when the reservation is destroyed.
  class Reservation {
   public:
    Reservation() = default;
    explicit Reservation(MemoryBudget& budget) : budget_(&budget) {}
    Reservation(Reservation&& other) noexcept
        : budget_(std::exchange(other.budget_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
    Reservation& operator=(Reservation&&) = delete;
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;
    ~Reservation() {
      if (budget_) budget_->used_ -= bytes_;
    }

    /// Adds `bytes` to the reservation; false (and nothing taken) when the budget has less.
    bool grow(std::size_t bytes) {
      if (!budget_ || bytes > budget_->available()) return false;
      budget_->used_ += bytes;
      bytes_ += bytes;
      return true;
    }
    std::size_t bytes() const { return bytes_; }

   private:
    MemoryBudget* budget_ = nullptr;
    std::size_t bytes_ = 0;
  };

  Reservation reserve() { return Reservation(*this); }

 private:
  std::size_t capacity_;
  std::size_t used_ = 0;
};

}  // namespace ergon::net
