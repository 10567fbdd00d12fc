// makeSelfSignedCert: runs `openssl req` with posix_spawnp, its output kept in
// a log file next to the certificate for the error message.

#include "support/tls_cert.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace charta::test {

bool makeSelfSignedCert(const std::string& dir, std::string* certPath, std::string* keyPath, std::string* error) {
  const std::string cert = dir + "/cert.pem";
  const std::string key = dir + "/key.pem";
  const std::string log = dir + "/openssl.log";
  std::vector<std::string> args = {"openssl",
                                   "req",
                                   "-x509",
                                   "-newkey",
                                   "ec",
                                   "-pkeyopt",
                                   "ec_paramgen_curve:prime256v1",
                                   "-nodes",
                                   "-days",
                                   "2",
                                   "-subj",
                                   "/CN=127.0.0.1",
                                   "-addext",
                                   "subjectAltName=IP:127.0.0.1,DNS:localhost",
                                   "-keyout",
                                   key,
                                   "-out",
                                   cert};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, "openssl", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    if (error) *error = std::string("cannot run openssl: ") + std::strerror(spawned);
    return false;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      if (error) *error = std::string("waitpid: ") + std::strerror(errno);
      return false;
    }
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::ifstream in(log);
    std::ostringstream text;
    text << in.rdbuf();
    if (error) *error = "openssl req failed: " + text.str();
    return false;
  }
  if (certPath) *certPath = cert;
  if (keyPath) *keyPath = key;
  return true;
}

}  // namespace charta::test
