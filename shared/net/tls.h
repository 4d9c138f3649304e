#pragma once
// TLS identity of a server: an EC P-256 key and a self-signed certificate kept in the data
// folder, and the fingerprint clients pin: "SHA256:" + base64 of SHA-256 over the DER public
// key (as ssh shows keys). Pure functions over files; thread-safe.

#include <filesystem>
#include <string>

#include <boost/asio/ssl.hpp>

#include "shared/core/result.h"

namespace ergon::net {

inline constexpr std::string_view kKeyFile = "server.key";
inline constexpr std::string_view kCertFile = "server.crt";

/// Writes server.key (mode 0600) and server.crt into `dir`; refuses to overwrite.
core::Status create_server_identity(const std::filesystem::path& dir);

/// The fingerprint of the certificate stored in `dir`.
/// The server's certificate as PEM text (answer bundles carry it).
core::Result<std::string> server_certificate(const std::filesystem::path& dir);
/// The fingerprint of a PEM certificate, as server_fingerprint() gives it.
core::Result<std::string> certificate_fingerprint(std::string_view pem);
/// The server key's signature (ECDSA with SHA-256, DER) of `message`.
core::Result<std::string> sign_as_server(const std::filesystem::path& dir,
                                         std::string_view message);
/// True when `signature` is the signature of `message` by the key of the PEM certificate.
bool verify_by_certificate(std::string_view pem, std::string_view message,
                           std::string_view signature);

core::Result<std::string> server_fingerprint(const std::filesystem::path& dir);

/// kCorrupt unless the private key in `dir` is the key of the certificate beside it.
core::Status check_key_matches_certificate(const std::filesystem::path& dir);

/// The fingerprint of the certificate a TLS peer presented.
core::Result<std::string> peer_fingerprint(SSL* ssl);

/// 32 bytes that both ends of this TLS connection, and nobody else, can compute (RFC 5705
/// keying material exporter): what a client's proof of its device key signs, so a proof is
/// worth nothing on another connection.
std::string session_binding(SSL* ssl);

/// A server context with the identity in `dir` (TLS 1.2+).
core::Result<boost::asio::ssl::context> server_context(const std::filesystem::path& dir);

/// A client context: the certificate is self-signed, so trust comes from pinning the
/// fingerprint after the handshake, not from a CA.
boost::asio::ssl::context client_context();

}  // namespace ergon::net
