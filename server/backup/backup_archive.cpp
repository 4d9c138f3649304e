#include "server/backup/backup_archive.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <unistd.h>

#include "shared/core/output_file.h"

namespace ergon::server::backup {

using core::ErrorCode;
using core::fail;

namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::uint8_t kEncrypted = 1;
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;
constexpr std::size_t kDigestBytes = 32;
constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kChunk = 1 << 16;
constexpr std::size_t kMaxName = 255;
// scrypt at N = 2^15, r = 8: 32 MiB and a fraction of a second per derivation.
constexpr std::uint64_t kScryptN = 1 << 15;

struct FileClose {
  void operator()(std::FILE* f) const { (void)std::fclose(f); }
};
struct CipherFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct DigestFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using File = std::unique_ptr<std::FILE, FileClose>;

using Key = std::array<unsigned char, kKeyBytes>;

core::Result<Key> derive_key(const std::string& passphrase, const std::string& salt) {
  Key key{};
  if (EVP_PBE_scrypt(passphrase.data(), passphrase.size(),
                     reinterpret_cast<const unsigned char*>(salt.data()), salt.size(), kScryptN, 8,
                     1, 64 << 20, key.data(), key.size()) != 1)
    return fail(ErrorCode::kInternal, "scrypt failed to derive the backup key");
  return key;
}

// The body's bytes on their way to or from the file: hashed as plain text and, for an
// encrypted archive, sealed or opened with AES-256-GCM.
class Body {
 public:
  static core::Result<Body> make(bool sealing, const std::optional<Key>& key,
                                 const std::string& nonce, const std::string& header) {
    Body b;
    b.sealing_ = sealing;
    b.sha_.reset(EVP_MD_CTX_new());
    if (!b.sha_ || EVP_DigestInit_ex(b.sha_.get(), EVP_sha256(), nullptr) != 1)
      return fail(ErrorCode::kInternal, "cannot start SHA-256");
    if (!key) return b;
    b.cipher_.reset(EVP_CIPHER_CTX_new());
    auto* c = b.cipher_.get();
    const auto* iv = reinterpret_cast<const unsigned char*>(nonce.data());
    int ignored = 0;
    bool ok = c && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), nullptr, key->data(), iv,
                                     sealing ? 1 : 0) == 1;
    ok = ok && EVP_CipherUpdate(c, nullptr, &ignored,
                                reinterpret_cast<const unsigned char*>(header.data()),
                                static_cast<int>(header.size())) == 1;
    if (!ok) return fail(ErrorCode::kInternal, "cannot start AES-256-GCM");
    return b;
  }

  // Plain bytes to file bytes (sealing) or file bytes to plain bytes (opening).
  core::Status pass(std::string_view in, std::string& out) {
    if (!cipher_) {
      out.assign(in);
      return {};
    }
    out.resize(in.size() + kTagBytes);
    int written = 0;
    if (EVP_CipherUpdate(cipher_.get(), reinterpret_cast<unsigned char*>(out.data()), &written,
                         reinterpret_cast<const unsigned char*>(in.data()),
                         static_cast<int>(in.size())) != 1)
      return fail(ErrorCode::kInternal, "AES-256-GCM failed");
    out.resize(static_cast<std::size_t>(written));
    return {};
  }

  void hash(std::string_view plain) { EVP_DigestUpdate(sha_.get(), plain.data(), plain.size()); }

  std::string digest() {
    std::array<unsigned char, kDigestBytes> d{};
    unsigned int size = 0;
    EVP_DigestFinal_ex(sha_.get(), d.data(), &size);
    return {reinterpret_cast<const char*>(d.data()), size};
  }

  // Sealing: the tag to append. Opening: checks `tag`; false when it does not match.
  core::Result<std::string> finish(const std::string& tag = {}) {
    if (!cipher_) return std::string();
    std::array<unsigned char, kTagBytes> t{};
    int written = 0;
    if (!sealing_ && EVP_CIPHER_CTX_ctrl(cipher_.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes,
                                         const_cast<char*>(tag.data())) != 1)
      return fail(ErrorCode::kInternal, "cannot set the GCM tag");
    if (EVP_CipherFinal_ex(cipher_.get(), t.data(), &written) != 1)
      return fail(ErrorCode::kCorrupt, "the authentication tag does not match");
    if (sealing_ &&
        EVP_CIPHER_CTX_ctrl(cipher_.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, t.data()) != 1)
      return fail(ErrorCode::kInternal, "cannot read the GCM tag");
    return std::string(reinterpret_cast<const char*>(t.data()), t.size());
  }

 private:
  bool sealing_ = true;
  std::unique_ptr<EVP_MD_CTX, DigestFree> sha_;
  std::unique_ptr<EVP_CIPHER_CTX, CipherFree> cipher_;
};

std::string little_endian(std::uint64_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
  return out;
}

std::uint64_t from_little_endian(std::string_view bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = bytes.size(); i-- > 0;)
    value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

bool is_plain_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxName || name.front() == '.') return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
      return false;
  return true;
}

std::string header_of(bool encrypted, const std::string& salt, const std::string& nonce) {
  std::string h(kArchiveMagic);
  h += static_cast<char>(kVersion);
  h += static_cast<char>(encrypted ? kEncrypted : 0);
  return encrypted ? h + salt + nonce : h;
}

core::Status write_all(std::FILE* f, std::string_view bytes, const std::filesystem::path& path) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size())
    return fail(ErrorCode::kStorage, "cannot write " + path.string() + " (is the disk full?)");
  return {};
}

// A file created with mode 0600 that did not exist before.
core::Result<File> create_private(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return fail(ErrorCode::kStorage,
                "cannot create " + path.string() + ": " + std::strerror(errno));
  File f(::fdopen(fd, "wb"));
  if (!f) {
    ::close(fd);
    return fail(ErrorCode::kStorage, "cannot open " + path.string());
  }
  return f;
}

core::Status flush_to_disk(std::FILE* f, const std::filesystem::path& path) {
  if (std::fflush(f) != 0 || ::fsync(::fileno(f)) != 0)
    return fail(ErrorCode::kStorage, "cannot flush " + path.string() + " to disk");
  return {};
}

class Writer {
 public:
  Writer(std::FILE* f, Body& body, const std::filesystem::path& path)
      : f_(f), body_(body), path_(path) {}
  core::Status put(std::string_view plain) {
    body_.hash(plain);
    return put_unhashed(plain);
  }
  core::Status put_unhashed(std::string_view plain) {
    ERGON_TRY(body_.pass(plain, sealed_));
    return write_all(f_, sealed_, path_);
  }
  core::Status put_file(const std::filesystem::path& file) {
    File in(std::fopen(file.c_str(), "rb"));
    if (!in) return fail(ErrorCode::kStorage, "cannot read " + file.string());
    std::string chunk(kChunk, '\0');
    while (auto got = std::fread(chunk.data(), 1, chunk.size(), in.get()))
      ERGON_TRY(put(std::string_view(chunk.data(), got)));
    if (std::ferror(in.get())) return fail(ErrorCode::kStorage, "cannot read " + file.string());
    return {};
  }

 private:
  std::FILE* f_;
  Body& body_;
  const std::filesystem::path& path_;
  std::string sealed_;
};

core::Status write_body(Writer& w, std::span<const ArchiveEntry> entries) {
  for (const auto& e : entries) {
    if (!is_plain_name(e.name))
      return fail(ErrorCode::kInternal, "archive entry name '" + e.name + "' is not plain");
    std::error_code ec;
    auto size = e.file.empty() ? e.content.size() : std::filesystem::file_size(e.file, ec);
    if (ec)
      return fail(ErrorCode::kStorage, "cannot read " + e.file.string() + ": " + ec.message());
    ERGON_TRY(w.put(little_endian(e.name.size(), 4) + e.name + little_endian(size, 8)));
    if (e.file.empty())
      ERGON_TRY(w.put(e.content));
    else
      ERGON_TRY(w.put_file(e.file));
  }
  return w.put(little_endian(0, 4));
}

class Reader {
 public:
  Reader(std::FILE* f, Body& body) : f_(f), body_(body) {}
  // The next `n` plain bytes of the body, hashed unless they are the checksum itself.
  core::Result<std::string> take(std::size_t n, bool hashed = true) {
    raw_.resize(n);
    if (std::fread(raw_.data(), 1, n, f_) != n)
      return fail(ErrorCode::kCorrupt, "the file ends early (truncated)");
    ERGON_TRY(body_.pass(raw_, plain_));
    if (hashed) body_.hash(plain_);
    return plain_;
  }
  core::Result<std::uint64_t> number(int bytes) {
    auto raw = take(static_cast<std::size_t>(bytes));
    if (!raw) return fail(raw.error());
    return from_little_endian(*raw);
  }
  core::Status copy_to(const std::filesystem::path& path, std::uint64_t size) {
    std::error_code ec;
    if (std::filesystem::exists(path, ec))  // the folder was empty: named twice
      return fail(ErrorCode::kCorrupt, "it names " + path.filename().string() + " twice");
    auto out = create_private(path);
    if (!out) return fail(out.error());
    while (size > 0) {
      auto n = static_cast<std::size_t>(std::min<std::uint64_t>(size, kChunk));
      auto chunk = take(n);
      if (!chunk) return fail(chunk.error());
      ERGON_TRY(write_all(out->get(), *chunk, path));
      size -= n;
    }
    return flush_to_disk(out->get(), path);
  }

 private:
  std::FILE* f_;
  Body& body_;
  std::string raw_, plain_;
};

core::Result<std::vector<std::string>> read_body(Reader& r, const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (;;) {
    auto length = r.number(4);
    if (!length) return fail(length.error());
    if (*length == 0) return names;
    if (*length > kMaxName)
      return fail(ErrorCode::kCorrupt, "a file name of " + std::to_string(*length) + " bytes");
    auto name = r.take(static_cast<std::size_t>(*length));
    if (!name) return fail(name.error());
    if (!is_plain_name(*name)) return fail(ErrorCode::kCorrupt, "a file name that is not plain");
    names.push_back(*name);
    auto size = r.number(8);
    if (!size) return fail(size.error());
    ERGON_TRY(r.copy_to(dir / names.back(), *size));
  }
}

core::Result<std::vector<std::string>> read_opened(std::FILE* f, const std::filesystem::path& dir,
                                                   const std::optional<std::string>& passphrase,
                                                   bool encrypted) {
  std::string header(kArchiveMagic.size() + 2 + (encrypted ? kSaltBytes + kNonceBytes : 0), '\0');
  if (std::fread(header.data(), 1, header.size(), f) != header.size())
    return fail(ErrorCode::kCorrupt, "the file ends early (truncated)");
  std::optional<Key> key;
  std::string nonce;
  if (encrypted) {
    auto salt = header.substr(kArchiveMagic.size() + 2, kSaltBytes);
    nonce = header.substr(kArchiveMagic.size() + 2 + kSaltBytes);
    auto derived = derive_key(*passphrase, salt);
    if (!derived) return fail(derived.error());
    key = *derived;
  }
  auto body = Body::make(false, key, nonce, header);
  if (!body) return fail(body.error());
  Reader r(f, *body);
  auto names = read_body(r, dir);
  if (!names) return fail(names.error());
  auto computed = body->digest();
  auto stored = r.take(kDigestBytes, false);
  if (!stored) return fail(stored.error());
  if (*stored != computed) return fail(ErrorCode::kCorrupt, "its checksum does not match");
  std::string tag(encrypted ? kTagBytes : 0, '\0');
  if (std::fread(tag.data(), 1, tag.size(), f) != tag.size())
    return fail(ErrorCode::kCorrupt, "the file ends early (truncated)");
  if (auto checked = body->finish(tag); !checked) return fail(checked.error());
  if (std::fgetc(f) != EOF) return fail(ErrorCode::kCorrupt, "bytes follow its end");
  return names;
}

}  // namespace

core::Status write_archive(const std::filesystem::path& out, std::span<const ArchiveEntry> entries,
                           const std::optional<std::string>& passphrase) {
  std::string salt(kSaltBytes, '\0');
  std::string nonce(kNonceBytes, '\0');
  std::optional<Key> key;
  if (passphrase) {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), kSaltBytes) != 1 ||
        RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()), kNonceBytes) != 1)
      return fail(ErrorCode::kInternal, "no random bytes for the backup's key");
    auto derived = derive_key(*passphrase, salt);
    if (!derived) return fail(derived.error());
    key = *derived;
  }
  auto header = header_of(passphrase.has_value(), salt, nonce);
  auto body = Body::make(true, key, nonce, header);
  if (!body) return fail(body.error());
  auto f = core::OutputFile::create(out, core::FileMode::kPrivate);
  if (!f) return fail(f.error());
  const auto& temporary = f->temporary();
  ERGON_TRY(write_all(f->stream(), header, temporary));
  Writer w(f->stream(), *body, temporary);
  ERGON_TRY(write_body(w, entries));
  ERGON_TRY(w.put_unhashed(body->digest()));
  auto tag = body->finish();
  if (!tag) return fail(tag.error());
  ERGON_TRY(write_all(f->stream(), *tag, temporary));
  return f->commit();
}

core::Result<bool> is_encrypted(const std::filesystem::path& in) {
  File f(std::fopen(in.c_str(), "rb"));
  if (!f) return fail(ErrorCode::kNotFound, "cannot open " + in.string());
  std::string head(kArchiveMagic.size() + 2, '\0');
  if (std::fread(head.data(), 1, head.size(), f.get()) != head.size() ||
      std::string_view(head).substr(0, kArchiveMagic.size()) != kArchiveMagic)
    return fail(ErrorCode::kCorrupt,
                in.string() + " is not an Ergon backup (made by 'ergond backup')");
  auto version = static_cast<std::uint8_t>(head[kArchiveMagic.size()]);
  if (version != kVersion)
    return fail(ErrorCode::kVersionMismatch,
                in.string() + " is a backup of format version " + std::to_string(version) +
                    "; this ergond reads version 1: restore it with the ergond that made it");
  // The header of a plain archive is not under its checksum: every flag value but the two
  // known ones is damage.
  auto flags = static_cast<std::uint8_t>(head.back());
  if (flags != 0 && flags != kEncrypted)
    return fail(ErrorCode::kCorrupt, in.string() + " is damaged (unknown flags in its header)");
  return flags == kEncrypted;
}

core::Result<std::vector<std::string>> read_archive(const std::filesystem::path& in,
                                                    const std::filesystem::path& dir,
                                                    const std::optional<std::string>& passphrase) {
  auto encrypted = is_encrypted(in);
  if (!encrypted) return fail(encrypted.error());
  if (*encrypted && !passphrase)
    return fail(ErrorCode::kInvalidArgument,
                in.string() +
                    " is encrypted: give its passphrase with --passphrase-file FILE or "
                    "in ERGON_BACKUP_PASSPHRASE");
  File f(std::fopen(in.c_str(), "rb"));
  if (!f) return fail(ErrorCode::kNotFound, "cannot open " + in.string());
  auto names = read_opened(f.get(), dir, passphrase, *encrypted);
  if (!names && names.error().code == ErrorCode::kCorrupt)
    return fail(ErrorCode::kCorrupt,
                in.string() + " cannot be restored: " +
                    (*encrypted ? "the passphrase is wrong, or the file is damaged ("
                                : "the file is damaged (") +
                    names.error().message + ")");
  return names;
}

}  // namespace ergon::server::backup
