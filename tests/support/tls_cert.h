// Throwaway TLS material for the server suites.
#pragma once

#include <string>

namespace charta::test {

// Writes a fresh self-signed P-256 certificate (CN and subjectAltName
// 127.0.0.1, also DNS localhost, valid 2 days) and its unencrypted key as PEM
// files cert.pem and key.pem into the existing directory dir, by running the
// openssl command-line tool. false with *error set when that fails.
bool makeSelfSignedCert(const std::string& dir, std::string* certPath, std::string* keyPath, std::string* error);

}  // namespace charta::test
