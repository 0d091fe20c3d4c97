#include "cli/demo_account.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace ferry::cli {

namespace fs = std::filesystem;

namespace {

Status WriteAll(const std::string& path, const std::string& data, mode_t mode,
                int64_t mtime_sec = 0, long mtime_nsec = 0) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return PosixError("create", path, errno);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) {
      int e = errno;
      ::close(fd);
      return PosixError("write", path, e);
    }
    done += static_cast<size_t>(n);
  }
  if (mtime_sec) {
    struct timespec ts[2] = {{mtime_sec, mtime_nsec}, {mtime_sec, mtime_nsec}};
    ::futimens(fd, ts);
  }
  ::close(fd);
  return Status::Ok();
}

Status MkDirs(const std::string& p) {
  std::error_code ec;
  fs::create_directories(p, ec);
  if (ec) return PosixError("mkdir", p, ec.value());
  return Status::Ok();
}

const char* kWords[] = {"migration", "server", "invoice", "meeting", "hello",
                        "backup", "account", "the", "and", "of", "to", "report",
                        "quarter", "password", "welcome", "order", "shipped"};

std::string Text(std::mt19937& rng, size_t bytes) {
  std::string s;
  s.reserve(bytes + 80);
  while (s.size() < bytes) {
    s += kWords[rng() % (sizeof kWords / sizeof *kWords)];
    s += (rng() % 12 == 0) ? "\n" : " ";
  }
  return s;
}

std::string Message(std::mt19937& rng, int i) {
  size_t body = 1500 + rng() % 12000;
  if (rng() % 20 == 0) body += 100000 + rng() % 200000;  // an attachment
  std::string m = "Return-Path: <sender" + std::to_string(i) + "@example.org>\n";
  m += "From: Sender " + std::to_string(i) + " <sender" + std::to_string(i) + "@example.org>\n";
  m += "To: alice@example.com\nSubject: " + Text(rng, 30) + "\n";
  m += "Message-ID: <" + std::to_string(rng()) + "@example.org>\n\n";
  m += Text(rng, body);
  return m;
}

}  // namespace

Status GenerateDemoAccount(const std::string& root, const DemoAccountSize& size,
                           uint32_t seed) {
  std::mt19937 rng(seed);
  const std::string mail = root + "/Maildir";
  const char* folders[] = {"", ".Sent", ".Drafts", ".Trash", ".Archive.2024"};
  int64_t t0 = 1700000000;
  for (const char* f : folders) {
    for (const char* sub : {"/cur", "/new", "/tmp"})
      RETURN_IF_ERROR(MkDirs(mail + "/" + f + sub));
  }
  for (int i = 0; i < size.messages; ++i) {
    const char* f = folders[i % 5 == 0 ? 1 + rng() % 4 : 0];
    std::string m = Message(rng, i);
    int64_t t = t0 + i * 600;
    std::string base = std::to_string(t) + ".M" + std::to_string(rng() % 1000000) + "P" +
                       std::to_string(1000 + i) + ".mail,S=" + std::to_string(m.size());
    bool unread = rng() % 10 == 0;
    std::string path = mail + "/" + f + (unread ? "/new/" + base : "/cur/" + base + ":2,S");
    RETURN_IF_ERROR(WriteAll(path, m, 0600, t, static_cast<long>(rng() % 1000000000)));
  }
  RETURN_IF_ERROR(WriteAll(mail + "/dovecot-uidlist", "3 V1700000000 N" +
                           std::to_string(size.messages + 1) + "\n", 0600));
  RETURN_IF_ERROR(WriteAll(mail + "/subscriptions", "Sent\nDrafts\nTrash\nArchive/2024\n", 0600));

  const std::string web = root + "/public_html";
  for (int i = 0; i < size.web_files; ++i) {
    std::string dir = web + (i % 3 == 0 ? "/wp-content/uploads/2024/0" + std::to_string(1 + i % 9)
                                        : "/wp-includes/js/part" + std::to_string(i % 7));
    RETURN_IF_ERROR(MkDirs(dir));
    RETURN_IF_ERROR(WriteAll(dir + "/file" + std::to_string(i) + (i % 3 ? ".js" : ".jpg"),
                             Text(rng, 200 + rng() % 8000), 0644, t0 - i * 3600, 123456789));
  }
  RETURN_IF_ERROR(MkDirs(web + "/wp-content/cache"));  // an empty directory
  RETURN_IF_ERROR(WriteAll(web + "/index.php", "<?php require 'wp-blog-header.php';\n", 0644));
  RETURN_IF_ERROR(WriteAll(web + "/wp-config.php", "<?php define('DB_NAME','alice');\n", 0600));
  if (::symlink("index.php", (web + "/home.php").c_str()) != 0)
    return PosixError("symlink", web + "/home.php", errno);
  if (::symlink("../Maildir", (web + "/mail-link").c_str()) != 0)
    return PosixError("symlink", web + "/mail-link", errno);
  if (::link((web + "/index.php").c_str(), (web + "/index-hardlink.php").c_str()) != 0)
    return PosixError("link", web + "/index-hardlink.php", errno);

  RETURN_IF_ERROR(MkDirs(root + "/backups"));
  std::string dump = "-- MySQL dump of alice_wp\nCREATE TABLE wp_posts (id INT, body TEXT);\n";
  int row = 0;
  while (dump.size() < size.dump_bytes)
    dump += "INSERT INTO wp_posts VALUES (" + std::to_string(row++) + ", '" + Text(rng, 300) + "');\n";
  return WriteAll(root + "/backups/alice_wp.sql", dump, 0640, t0, 5);
}

Result<std::string> ChangeDemoAccount(const std::string& root, uint32_t seed) {
  std::mt19937 rng(seed);
  const std::string inbox = root + "/Maildir";
  int renamed = 0, delivered = 0, deleted = 0;
  std::vector<fs::path> news, curs;
  for (auto& e : fs::directory_iterator(inbox + "/new")) news.push_back(e.path());
  for (auto& e : fs::directory_iterator(inbox + "/cur")) curs.push_back(e.path());
  std::sort(news.begin(), news.end());
  std::sort(curs.begin(), curs.end());
  for (const fs::path& p : news) {  // read: new/X -> cur/X:2,S
    std::string to = inbox + "/cur/" + p.filename().string() + ":2,S";
    if (::rename(p.c_str(), to.c_str()) == 0) ++renamed;
  }
  for (size_t i = 0; i < curs.size(); i += 7) {  // flagged: :2,S -> :2,FS
    std::string s = curs[i].string();
    if (s.ends_with(":2,S") && ::rename(s.c_str(), (s.substr(0, s.size() - 1) + "FS").c_str()) == 0)
      ++renamed;
  }
  for (size_t i = 3; i < curs.size(); i += 29) {
    if (::unlink(curs[i].c_str()) == 0) ++deleted;
  }
  for (int i = 0; i < 20; ++i) {
    std::string m = Message(rng, 100000 + i);
    RETURN_IF_ERROR(WriteAll(inbox + "/new/1800000000.M" + std::to_string(i) + "P9.mail,S=" +
                                 std::to_string(m.size()), m, 0600, 1800000000 + i, 0));
    ++delivered;
  }
  RETURN_IF_ERROR(WriteAll(root + "/public_html/index.php",
                           "<?php /* maintenance */ require 'wp-blog-header.php';\n", 0644));
  // Rewrite a few rows in the middle of the dump, in place.
  std::string dump_path = root + "/backups/alice_wp.sql";
  int fd = ::open(dump_path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return PosixError("open", dump_path, errno);
  struct stat st;
  ::fstat(fd, &st);
  for (int i = 0; i < 8; ++i) {
    off_t at = static_cast<off_t>(rng() % static_cast<uint64_t>(st.st_size - 64));
    ::pwrite(fd, "UPDATED-ROW", 11, at);
  }
  ::close(fd);
  return "read/flagged " + std::to_string(renamed) + " messages, delivered " +
         std::to_string(delivered) + ", deleted " + std::to_string(deleted) +
         ", edited 1 page, rewrote 8 rows of the dump";
}

}  // namespace ferry::cli
