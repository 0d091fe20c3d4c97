// `ferry rdiff signature|delta|patch`: librsync's rdiff, file formats and
// all, so ferry interoperates with rdiff users (and is tested against Debian's
// rdiff in tests/cli/rdiff_command_test.cc).
//
//   ferry rdiff signature [OLD [SIG]]   (-b BLOCK, -S SUMSIZE, -H blake2|md4,
//                                        -R rabinkarp|rollsum)
//   ferry rdiff delta SIG [NEW [DELTA]]
//   ferry rdiff patch OLD [DELTA [NEW]]
//
// "-" (the default for omitted trailing files) is stdin or stdout. Like
// rdiff, an existing output file is refused unless --force is given, and the
// exit status is librsync's rs_result (0 done, 100 I/O error, 104 bad magic,
// 106 corrupt input, 108 bad parameter, ...). Signatures default to rdiff's:
// RabinKarp rollsum + BLAKE2, librsync's recommended block size for the file,
// full-length strong sums. All four signature formats (MD4 and BLAKE2, each
// with either rollsum) are read by `delta`.
//
// The formats are librsync's, so librsync does the work (its whole-file API);
// ferry's own engine uses its own formats (engine/delta).
#include <librsync.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "cli/commands.h"

namespace ferry::cli {

namespace {

struct RdiffFlags {
  std::string in1 = "-", in2 = "-", out = "-";
  size_t block_size = 0;  // 0: librsync's recommendation for the file size
  long long sum_size = 0;  // 0: maximum, -1: minimum
  std::string hash = "blake2";
  std::string rollsum = "rabinkarp";
  bool force = false;
  bool stats = false;
};

// Owns a FILE*, leaving stdin/stdout open.
struct FileCloser {
  void operator()(FILE* f) const {
    if (f != stdin && f != stdout) std::fclose(f);
  }
};
using File = std::unique_ptr<FILE, FileCloser>;

int Fail(const std::string& what, rs_result r) {
  std::fprintf(stderr, "ferry rdiff: %s: %s\n", what.c_str(), rs_strerror(r));
  return r;
}

File OpenIn(const std::string& path, int* rc) {
  if (path == "-") return File(stdin);
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    std::fprintf(stderr, "ferry rdiff: open %s: %s\n", path.c_str(),
                 std::strerror(errno));
    *rc = RS_IO_ERROR;
  }
  return File(f);
}

File OpenOut(const std::string& path, bool force, int* rc) {
  if (path == "-") return File(stdout);
  struct stat st;
  if (!force && ::stat(path.c_str(), &st) == 0) {
    std::fprintf(stderr,
                 "ferry rdiff: %s exists; refusing to overwrite it (use --force)\n",
                 path.c_str());
    *rc = RS_IO_ERROR;
    return File(nullptr);
  }
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    std::fprintf(stderr, "ferry rdiff: create %s: %s\n", path.c_str(),
                 std::strerror(errno));
    *rc = RS_IO_ERROR;
  }
  return File(f);
}

// Flushes and closes the output; write errors often surface only here.
int CloseOut(File out, const std::string& path) {
  FILE* f = out.release();
  const bool ok = std::fflush(f) == 0 && !std::ferror(f);
  const bool closed = (f == stdout) || std::fclose(f) == 0;
  if (!ok || !closed) {
    std::fprintf(stderr, "ferry rdiff: write %s: %s\n", path.c_str(),
                 std::strerror(errno));
    return RS_IO_ERROR;
  }
  return RS_DONE;
}

void PrintStats(const RdiffFlags& f, const rs_stats_t& stats) {
  if (!f.stats) return;
  char buf[256];
  rs_format_stats(&stats, buf, sizeof buf);
  std::fprintf(stderr, "%s\n", buf);
}

int RunSignature(const RdiffFlags& f) {
  rs_magic_number magic;
  if (f.hash == "blake2") {
    magic = f.rollsum == "rabinkarp" ? RS_RK_BLAKE2_SIG_MAGIC : RS_BLAKE2_SIG_MAGIC;
  } else {
    magic = f.rollsum == "rabinkarp" ? RS_RK_MD4_SIG_MAGIC : RS_MD4_SIG_MAGIC;
  }
  int rc = RS_DONE;
  File in = OpenIn(f.in1, &rc);
  if (!in) return rc;
  File out = OpenOut(f.out, f.force, &rc);
  if (!out) return rc;
  rs_stats_t stats{};
  const rs_result r = rs_sig_file(in.get(), out.get(), f.block_size,
                                  static_cast<size_t>(f.sum_size), magic, &stats);
  if (r != RS_DONE) return Fail("signature of " + f.in1, r);
  PrintStats(f, stats);
  return CloseOut(std::move(out), f.out);
}

int RunDelta(const RdiffFlags& f) {
  int rc = RS_DONE;
  File sig_file = OpenIn(f.in1, &rc);
  if (!sig_file) return rc;
  rs_signature_t* raw = nullptr;
  rs_stats_t stats{};
  rs_result r = rs_loadsig_file(sig_file.get(), &raw, &stats);
  std::unique_ptr<rs_signature_t, decltype(&rs_free_sumset)> sig(raw, &rs_free_sumset);
  if (r != RS_DONE) return Fail("load signature " + f.in1, r);
  if ((r = rs_build_hash_table(sig.get())) != RS_DONE) {
    return Fail("index signature " + f.in1, r);
  }
  File in = OpenIn(f.in2, &rc);
  if (!in) return rc;
  File out = OpenOut(f.out, f.force, &rc);
  if (!out) return rc;
  r = rs_delta_file(sig.get(), in.get(), out.get(), &stats);
  if (r != RS_DONE) return Fail("delta of " + f.in2, r);
  PrintStats(f, stats);
  return CloseOut(std::move(out), f.out);
}

int RunPatch(const RdiffFlags& f) {
  if (f.in1 == "-") {
    std::fprintf(stderr, "ferry rdiff: patch needs a seekable OLD file, not stdin\n");
    return RS_PARAM_ERROR;
  }
  int rc = RS_DONE;
  File basis = OpenIn(f.in1, &rc);
  if (!basis) return rc;
  File delta = OpenIn(f.in2, &rc);
  if (!delta) return rc;
  File out = OpenOut(f.out, f.force, &rc);
  if (!out) return rc;
  rs_stats_t stats{};
  const rs_result r = rs_patch_file(basis.get(), delta.get(), out.get(), &stats);
  if (r != RS_DONE) return Fail("patch " + f.in1 + " with " + f.in2, r);
  PrintStats(f, stats);
  return CloseOut(std::move(out), f.out);
}

void CommonFlags(CLI::App* cmd, RdiffFlags* f) {
  cmd->add_flag("-f,--force", f->force, "Overwrite an existing output file");
  cmd->add_flag("-s,--statistics", f->stats, "Print librsync statistics to stderr");
}

}  // namespace

void AddRdiffCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<RdiffFlags>();
  CLI::App* rdiff = app.add_subcommand(
      "rdiff", "librsync-compatible signature, delta and patch (rdiff's file formats)");
  rdiff->require_subcommand(1);
  rdiff->footer(
      "Examples:\n"
      "  ferry rdiff signature old.img old.sig\n"
      "  ferry rdiff delta old.sig new.img new.delta\n"
      "  ferry rdiff patch old.img new.delta rebuilt.img\n"
      "Exit codes (as rdiff): 0 done, 1 usage, 100 I/O error, 104 bad magic,\n"
      "106 corrupt input, 108 bad parameter.");

  CLI::App* sig = rdiff->add_subcommand("signature", "Write the signature of OLD to SIG");
  sig->add_option("OLD", flags->in1, "Old (basis) file; - for stdin");
  sig->add_option("SIG", flags->out, "Signature output; - for stdout");
  sig->add_option("-b,--block-size", flags->block_size,
                  "Block size in bytes; 0 for librsync's recommendation");
  sig->add_option("-S,--sum-size", flags->sum_size,
                  "Strong sum bytes; 0 for the maximum, -1 for the minimum");
  sig->add_option("-H,--hash", flags->hash, "Strong hash")
      ->check(CLI::IsMember({"blake2", "md4"}));
  sig->add_option("-R,--rollsum", flags->rollsum, "Rolling checksum")
      ->check(CLI::IsMember({"rabinkarp", "rollsum"}));
  sig->footer("Example:\n  ferry rdiff signature -b 2048 old.img old.sig");
  CommonFlags(sig, flags.get());
  sig->callback([flags, exit_code] { *exit_code = RunSignature(*flags); });

  CLI::App* delta = rdiff->add_subcommand("delta", "Write the delta from SIG to NEW");
  delta->add_option("SIG", flags->in1, "Signature file (any librsync format)")->required();
  delta->add_option("NEW", flags->in2, "New file; - for stdin");
  delta->add_option("DELTA", flags->out, "Delta output; - for stdout");
  delta->footer("Example:\n  ferry rdiff delta old.sig new.img - | gzip > new.delta.gz");
  CommonFlags(delta, flags.get());
  delta->callback([flags, exit_code] { *exit_code = RunDelta(*flags); });

  CLI::App* patch = rdiff->add_subcommand("patch", "Apply DELTA to OLD, writing NEW");
  patch->add_option("OLD", flags->in1, "Old (basis) file; must be seekable")->required();
  patch->add_option("DELTA", flags->in2, "Delta file; - for stdin");
  patch->add_option("NEW", flags->out, "New file output; - for stdout");
  patch->footer("Example:\n  ferry rdiff patch old.img new.delta rebuilt.img");
  CommonFlags(patch, flags.get());
  patch->callback([flags, exit_code] { *exit_code = RunPatch(*flags); });
}

}  // namespace ferry::cli
