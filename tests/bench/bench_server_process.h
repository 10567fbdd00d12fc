// charta-server run as a child process by the benchmarks (charta-bench
// server and sync), and the /proc readings they report about it.
//
// Thread-safety: a ServerProcess has one owner.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_process.h"
#include "charta/crdt/status.h"
#include "support/http_client.h"

namespace charta::bench {

// A "Name:   123 kB" line of /proc/PID/status, in KiB; -1 when unreadable.
long procStatusKiB(pid_t pid, const std::string& name);
// User + system CPU seconds of a process; -1 when unreadable.
double procCpuSeconds(pid_t pid);
// The text without its surrounding white space.
std::string trimmedText(std::string s);

// One charta-server process, started with `serve` on a free loopback port,
// its output in DIR/server.out. stop() (also run by the destructor) ends it:
// SIGTERM, then SIGKILL after 30 s. The child gets SIGTERM when the bench
// dies, however it dies. `interrupted` (optional) cuts the wait for start-up
// short (the bench's own SIGINT/SIGTERM flag).
class ServerProcess {
 public:
  ServerProcess() = default;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() { (void)stop(); }

  // Starts `bin serve` with its data and logs in dir and waits until it listens.
  crdt::Status start(const std::string& bin, const std::string& dir, const std::string& postgres = {},
                     bool demo = true, const std::atomic<bool>* interrupted = nullptr) {
    m_interrupted = interrupted;
    if (crdt::Status s = makeDirectories(dir); !s.isOk()) return s;
    m_outPath = dir + "/server.out";
    crdt::Status last = crdt::Status::ok();
    for (int attempt = 0; attempt < 3; ++attempt) {  // a free port can be taken before the server binds it
      m_port = charta::test::freePort();
      if (m_port == 0) return crdt::Status::ioError("no free TCP port on 127.0.0.1");
      std::vector<std::string> argv = {bin, "serve", "--data", dir + "/data", "--listen",
                                       "127.0.0.1:" + std::to_string(m_port), "--log-file", dir + "/server.log"};
      if (!postgres.empty()) {
        argv.emplace_back("--postgres");
        argv.push_back(postgres);
      }
      if (demo) argv.emplace_back("--demo=true");
      last = spawn(argv);
      if (!last.isOk()) return last;
      last = waitListening();
      if (last.isOk() || isInterrupted()) return last;
      (void)stop();
    }
    return last;
  }

  std::uint16_t port() const { return m_port; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  pid_t pid() const { return m_pid; }

  long peakRssKiB() const { return m_pid > 0 ? procStatusKiB(m_pid, "VmHWM") : -1; }
  double cpuSeconds() const { return m_pid > 0 ? procCpuSeconds(m_pid) : -1; }

  // Resets VmHWM to the current RSS, so the peak covers only what follows.
  bool resetPeakRss() const {
    if (m_pid <= 0) return false;
    std::ofstream out("/proc/" + std::to_string(m_pid) + "/clear_refs");
    out << "5";
    out.flush();
    return static_cast<bool>(out);
  }

  // SIGTERM, then SIGKILL after 30 s. Returns the exit status (128 + signal
  // when killed by one); the last one again when it is not running.
  int stop() {
    if (m_pid <= 0) return m_exit;
    ::kill(m_pid, SIGTERM);
    int status = 0;
    bool reaped = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      const pid_t r = ::waitpid(m_pid, &status, WNOHANG);
      if (r == m_pid) {
        reaped = true;
        break;
      }
      if (r < 0 && errno != EINTR) {  // not our child any more: nothing to wait for
        m_pid = -1;
        return m_exit;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!reaped) {
      ::kill(m_pid, SIGKILL);
      while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
    m_exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    m_pid = -1;
    return m_exit;
  }

 private:
  crdt::Status spawn(const std::vector<std::string>& argv) {
    const int out = ::open(m_outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) return crdt::Status::ioError("cannot create " + m_outPath + ": " + std::strerror(errno));
    // Everything the child needs is made before fork: other threads may hold locks.
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t parent = ::getpid();
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = ::fork();
    if (pid < 0) {
      ::close(out);
      return crdt::Status::ioError(std::string("fork failed: ") + std::strerror(errno));
    }
    if (pid == 0) {
      // The server goes when the bench goes, however the bench ends.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(125);
      ::dup2(out, STDOUT_FILENO);
      ::dup2(out, STDERR_FILENO);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(out);
    m_pid = pid;
    m_exit = -1;
    return crdt::Status::ok();
  }

  crdt::Status waitListening() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline && !isInterrupted()) {
      const auto text = readFile(m_outPath);
      if (text && text->find("charta-server: listening on") != std::string::npos) return crdt::Status::ok();
      int status = 0;
      if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
        m_pid = -1;
        m_exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return crdt::Status::ioError("charta-server exited during start-up (status " + std::to_string(m_exit) +
                               "): " + trimmedText(text.value_or("")));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return crdt::Status::ioError(isInterrupted() ? "interrupted" : "charta-server did not report listening within 60 s");
  }

  bool isInterrupted() const { return m_interrupted && m_interrupted->load(); }

  const std::atomic<bool>* m_interrupted = nullptr;
  pid_t m_pid = -1;
  int m_exit = -1;
  std::uint16_t m_port = 0;
  std::string m_outPath;
};

}  // namespace charta::bench
