#include "shared/net/tls.h"

#include <cstdio>
#include <memory>

#include <fcntl.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include "shared/core/output_file.h"
#include "shared/crypto/crypto.h"

namespace ergon::net {
namespace {

using core::ErrorCode;
using core::fail;

template <class T, void (*Free)(T*)>
using Owned = std::unique_ptr<T, decltype([](T* p) { Free(p); })>;

core::Result<std::string> fingerprint_of(X509* cert) {
  EVP_PKEY* key = X509_get0_pubkey(cert);
  if (!key) return fail(ErrorCode::kCorrupt, "the certificate has no public key");
  int n = i2d_PUBKEY(key, nullptr);
  if (n <= 0) return fail(ErrorCode::kCorrupt, "the public key cannot be encoded");
  std::string der(static_cast<std::size_t>(n), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_PUBKEY(key, &p);
  auto digest = crypto::sha256(der);
  std::string b64(4 * ((digest.size() + 2) / 3) + 1, '\0');
  int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), digest.data(),
                            static_cast<int>(digest.size()));
  b64.resize(static_cast<std::size_t>(len));
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return "SHA256:" + b64;
}

core::Status write_private(const std::filesystem::path& path, EVP_PKEY* key) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return fail(ErrorCode::kStorage, "cannot create " + path.string());
  FILE* f = fdopen(fd, "w");
  bool ok = PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  ok = std::fflush(f) == 0 && fsync(fd) == 0 && ok;
  std::fclose(f);
  if (!ok) return fail(ErrorCode::kStorage, "cannot write " + path.string());
  return {};
}

}  // namespace

core::Status create_server_identity(const std::filesystem::path& dir) {
  std::error_code ec;
  if (std::filesystem::exists(dir / kKeyFile, ec))
    return fail(ErrorCode::kAlreadyExists, "a server key exists already in " + dir.string());
  Owned<EVP_PKEY, EVP_PKEY_free> key(EVP_EC_gen("P-256"));
  if (!key) return fail(ErrorCode::kInternal, "OpenSSL could not generate a key");
  Owned<X509, X509_free> cert(X509_new());
  X509_set_version(cert.get(), 2);
  crypto::Digest serial_bytes = crypto::sha256(crypto::random_hex(16));
  Owned<BIGNUM, BN_free> serial(BN_bin2bn(serial_bytes.data(), 16, nullptr));
  BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 60L * 60 * 24 * 365 * 30);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("ergond"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
    return fail(ErrorCode::kInternal, "OpenSSL could not sign the certificate");
  ERGON_TRY(write_private(dir / kKeyFile, key.get()));
  auto out = core::OutputFile::create(dir / kCertFile, core::FileMode::kShared);
  if (!out) return fail(out.error());
  if (PEM_write_X509(out->stream(), cert.get()) != 1)
    return fail(ErrorCode::kStorage, "cannot write " + (dir / kCertFile).string());
  return out->commit();
}

core::Result<std::string> server_fingerprint(const std::filesystem::path& dir) {
  FILE* f = std::fopen((dir / kCertFile).c_str(), "r");
  if (!f)
    return fail(ErrorCode::kNotFound, "no server certificate in " + dir.string() +
                                          "; was it created with 'ergond init'?");
  Owned<X509, X509_free> cert(PEM_read_X509(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  if (!cert) return fail(ErrorCode::kCorrupt, (dir / kCertFile).string() + " is not a certificate");
  return fingerprint_of(cert.get());
}

core::Status check_key_matches_certificate(const std::filesystem::path& dir) {
  auto pem = server_certificate(dir);
  if (!pem) return fail(pem.error());
  Owned<BIO, BIO_free_all> bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  Owned<X509, X509_free> cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)
                                  : nullptr);
  FILE* f = std::fopen((dir / kKeyFile).c_str(), "r");
  if (!f) return fail(ErrorCode::kNotFound, "no server key in " + dir.string());
  Owned<EVP_PKEY, EVP_PKEY_free> key(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  if (!cert || !key || X509_check_private_key(cert.get(), key.get()) != 1)
    return fail(ErrorCode::kCorrupt, "the server key in " + dir.string() +
                                         " is not the key of the certificate beside it");
  return {};
}

core::Result<std::string> server_certificate(const std::filesystem::path& dir) {
  FILE* f = std::fopen((dir / kCertFile).c_str(), "r");
  if (!f) return fail(ErrorCode::kNotFound, "no server certificate in " + dir.string());
  std::string pem;
  char buffer[4096];
  while (auto n = std::fread(buffer, 1, sizeof buffer, f)) pem.append(buffer, n);
  std::fclose(f);
  return pem;
}

namespace {

// The certificate in `pem`, or null; the caller owns it.
X509* parse_certificate(std::string_view pem) {
  Owned<BIO, BIO_free_all> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr;
}

}  // namespace

core::Result<std::string> certificate_fingerprint(std::string_view pem) {
  Owned<X509, X509_free> cert(parse_certificate(pem));
  if (!cert) return fail(ErrorCode::kCorrupt, "not a PEM certificate");
  return fingerprint_of(cert.get());
}

core::Result<std::string> sign_as_server(const std::filesystem::path& dir,
                                         std::string_view message) {
  FILE* f = std::fopen((dir / kKeyFile).c_str(), "r");
  if (!f) return fail(ErrorCode::kNotFound, "no server key in " + dir.string());
  Owned<EVP_PKEY, EVP_PKEY_free> key(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  if (!key) return fail(ErrorCode::kCorrupt, (dir / kKeyFile).string() + " is not a private key");
  Owned<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
  std::size_t size = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &size,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1)
    return fail(ErrorCode::kInternal, "OpenSSL could not sign with the server key");
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1)
    return fail(ErrorCode::kInternal, "OpenSSL could not sign with the server key");
  signature.resize(size);
  return signature;
}

bool verify_by_certificate(std::string_view pem, std::string_view message,
                           std::string_view signature) {
  Owned<X509, X509_free> cert(parse_certificate(pem));
  EVP_PKEY* key = cert ? X509_get0_pubkey(cert.get()) : nullptr;
  Owned<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
  if (!key || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

core::Result<std::string> peer_fingerprint(SSL* ssl) {
  Owned<X509, X509_free> cert(SSL_get1_peer_certificate(ssl));
  if (!cert) return fail(ErrorCode::kCorrupt, "the server presented no certificate");
  return fingerprint_of(cert.get());
}

core::Result<boost::asio::ssl::context> server_context(const std::filesystem::path& dir) {
  namespace ssl = boost::asio::ssl;
  ssl::context ctx(ssl::context::tls_server);
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  ctx.use_certificate_chain_file((dir / kCertFile).string(), ec);
  if (!ec) ctx.use_private_key_file((dir / kKeyFile).string(), ssl::context::pem, ec);
  if (ec)
    return fail(ErrorCode::kNotFound, "cannot load the server's TLS key and certificate from " +
                                          dir.string() + ": " + ec.message());
  return ctx;
}

std::string session_binding(SSL* ssl) {
  static constexpr std::string_view kLabel = "EXPORTER-ergon-device-proof";
  std::string out(32, '\0');
  if (SSL_export_keying_material(ssl, reinterpret_cast<unsigned char*>(out.data()), out.size(),
                                 kLabel.data(), kLabel.size(), nullptr, 0, 0) != 1)
    return {};
  return out;
}

boost::asio::ssl::context client_context() {
  namespace ssl = boost::asio::ssl;
  ssl::context ctx(ssl::context::tls_client);
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ctx.set_verify_mode(ssl::verify_none);
  return ctx;
}

}  // namespace ergon::net
