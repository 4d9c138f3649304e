#include "server/net/store_writer.h"

namespace ergon::server {

core::Result<std::unique_ptr<StoreWriter>> StoreWriter::start(const std::filesystem::path& data) {
  auto store = MasterStore::open(data);
  if (!store) return core::fail(store.error());
  return std::unique_ptr<StoreWriter>(new StoreWriter(std::move(*store)));
}

StoreWriter::StoreWriter(MasterStore store)
    : store_(std::move(store)), merge_(store_), thread_([this] { loop(); }) {}

StoreWriter::~StoreWriter() { stop(); }

void StoreWriter::submit(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void StoreWriter::loop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and everything queued is done
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

void StoreWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

}  // namespace ergon::server
