#include "bench_server_process.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

namespace charta::bench {

long procStatusKiB(pid_t pid, const std::string& name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + ":", 0) == 0) return std::atol(line.c_str() + name.size() + 1);
  }
  return -1;
}

double procCpuSeconds(pid_t pid) {
  const auto text = readFile("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return -1;
  const std::size_t close = text->rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(text->substr(close + 2));
  std::vector<std::string> f{std::istream_iterator<std::string>(fields), std::istream_iterator<std::string>()};
  if (f.size() < 13) return -1;  // f[0] is field 3 (state): utime is field 14, stime 15
  const double ticks = std::atof(f[11].c_str()) + std::atof(f[12].c_str());
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string trimmedText(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

}  // namespace charta::bench
