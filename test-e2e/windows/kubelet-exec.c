/*
 * kubelet-exec: runs a Windows executable the way the kubelet's Go runtime does on Windows
 * (os/exec: CreatePipe for the child's stdin, stdout and stderr, CreateProcess with
 * STARTF_USESTDHANDLES), for the e2e suite's Wine tests. Under Wine, a Linux pipe given to a
 * Windows program as its stdin fails with EBADF; real Windows pipes are what a provider meets on a
 * Windows node anyway.
 *
 *   kubelet-exec RUN_DIR EXE [ARG]...
 *
 * Writes RUN_DIR\stdin's bytes to EXE's stdin and closes it, writes what EXE writes on its stdout
 * and stderr pipes to RUN_DIR\stdout and RUN_DIR\stderr, and exits with EXE's exit code. Files, not
 * the launcher's own stdout and stderr: under Wine those also carry Wine's own messages (such as a
 * "wine client error" from a process's last thread as it exits), which a Windows node never shows.
 * RUN_DIR\status gets a line when EXE started and one with its exit code, so that a run with no
 * output at all tells whether Wine, the launcher or EXE ended it. Usage errors exit 64; a failure
 * to start EXE or to create a file exits 70.
 */
#include <stdio.h>
#include <string.h>
#include <windows.h>

typedef struct {
  HANDLE from, to;
} Copy;

static DWORD WINAPI copy_all(LPVOID arg) {
  Copy *c = (Copy *)arg;
  char buf[65536];
  DWORD n, written;
  while (ReadFile(c->from, buf, sizeof buf, &n, NULL) && n > 0) {
    if (!WriteFile(c->to, buf, n, &written, NULL)) break;
  }
  return 0;
}

/* Appends arg to cmd quoted as CommandLineToArgvW reads it back (Go's syscall.EscapeArg). */
static void status(HANDLE file, const char *format, unsigned long value) {
  char line[128];
  DWORD written;
  int n = snprintf(line, sizeof line, format, value);
  if (file != INVALID_HANDLE_VALUE && n > 0) WriteFile(file, line, (DWORD)n, &written, NULL);
}

/* Opens RUN_DIR\name; says why on stderr when it cannot. */
static HANDLE open_in(const char *dir, const char *name, DWORD access, DWORD disposition) {
  char path[MAX_PATH];
  HANDLE file = INVALID_HANDLE_VALUE;
  if (snprintf(path, sizeof path, "%s\\%s", dir, name) < (int)sizeof path) {
    file = CreateFileA(path, access, FILE_SHARE_READ, NULL, disposition, 0, NULL);
  }
  if (file == INVALID_HANDLE_VALUE) {
    fprintf(stderr, "kubelet-exec: cannot open %s\\%s (error %lu)\n", dir, name, GetLastError());
  }
  return file;
}

static int append_arg(char *cmd, size_t size, const char *arg) {
  char out[8192];
  size_t o = 0;
  int quote = *arg == '\0' || strpbrk(arg, " \t\"") != NULL;
  if (quote) out[o++] = '"';
  for (const char *p = arg;; p++) {
    size_t slashes = 0;
    while (*p == '\\') slashes++, p++;
    if (o + slashes * 2 + 4 >= sizeof out) return 0; /* the most one step writes, and the end */
    if (*p == '\0') {
      for (size_t i = 0; i < (quote ? slashes * 2 : slashes); i++) out[o++] = '\\';
      break;
    }
    if (*p == '"') {
      for (size_t i = 0; i < slashes * 2 + 1; i++) out[o++] = '\\';
      out[o++] = '"';
    } else {
      for (size_t i = 0; i < slashes; i++) out[o++] = '\\';
      out[o++] = *p;
    }
  }
  if (quote) out[o++] = '"';
  out[o] = '\0';
  if (strlen(cmd) + o + 2 >= size) return 0;
  if (*cmd) strcat(cmd, " ");
  strcat(cmd, out);
  return 1;
}

int main(int argc, char **argv) {
  static char request[1 << 20];
  static char cmd[32768];
  if (argc < 3) {
    fprintf(stderr, "usage: kubelet-exec RUN_DIR EXE [ARG]...\n");
    return 64;
  }
  HANDLE file = open_in(argv[1], "stdin", GENERIC_READ, OPEN_EXISTING);
  if (file == INVALID_HANDLE_VALUE) return 64;
  DWORD size = 0;
  if (!ReadFile(file, request, sizeof request, &size, NULL)) size = 0;
  CloseHandle(file);
  HANDLE log = open_in(argv[1], "status", GENERIC_WRITE, CREATE_ALWAYS);
  HANDLE out_file = open_in(argv[1], "stdout", GENERIC_WRITE, CREATE_ALWAYS);
  HANDLE err_file = open_in(argv[1], "stderr", GENERIC_WRITE, CREATE_ALWAYS);
  if (log == INVALID_HANDLE_VALUE || out_file == INVALID_HANDLE_VALUE || err_file == INVALID_HANDLE_VALUE) return 70;
  status(log, "launcher started, request of %lu bytes\n", size);
  for (int i = 2; i < argc; i++) {
    if (!append_arg(cmd, sizeof cmd, argv[i])) {
      fprintf(stderr, "kubelet-exec: the command line is too long\n");
      return 64;
    }
  }

  SECURITY_ATTRIBUTES inherit = {sizeof inherit, NULL, TRUE};
  HANDLE in_r, in_w, out_r, out_w, err_r, err_w;
  if (!CreatePipe(&in_r, &in_w, &inherit, 0) || !CreatePipe(&out_r, &out_w, &inherit, 0) ||
      !CreatePipe(&err_r, &err_w, &inherit, 0)) {
    fprintf(stderr, "kubelet-exec: CreatePipe failed (error %lu)\n", GetLastError());
    return 70;
  }
  /* Only the child's ends are inherited. */
  SetHandleInformation(in_w, HANDLE_FLAG_INHERIT, 0);
  SetHandleInformation(out_r, HANDLE_FLAG_INHERIT, 0);
  SetHandleInformation(err_r, HANDLE_FLAG_INHERIT, 0);

  STARTUPINFOA startup = {sizeof startup};
  startup.dwFlags = STARTF_USESTDHANDLES;
  startup.hStdInput = in_r;
  startup.hStdOutput = out_w;
  startup.hStdError = err_w;
  PROCESS_INFORMATION child;
  if (!CreateProcessA(NULL, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &startup, &child)) {
    fprintf(stderr, "kubelet-exec: cannot start %s (error %lu)\n", argv[2], GetLastError());
    return 70;
  }
  status(log, "child %lu started\n", child.dwProcessId);
  CloseHandle(in_r);
  CloseHandle(out_w);
  CloseHandle(err_w);

  Copy out = {out_r, out_file};
  Copy err = {err_r, err_file};
  HANDLE copies[2] = {CreateThread(NULL, 0, copy_all, &out, 0, NULL),
                      CreateThread(NULL, 0, copy_all, &err, 0, NULL)};
  DWORD written;
  WriteFile(in_w, request, size, &written, NULL);
  CloseHandle(in_w);
  WaitForSingleObject(child.hProcess, INFINITE);
  WaitForMultipleObjects(2, copies, TRUE, INFINITE);
  DWORD code = 1;
  if (!GetExitCodeProcess(child.hProcess, &code)) {
    status(log, "GetExitCodeProcess failed (error %lu)\n", GetLastError());
    return 70;
  }
  status(log, "child exited with %lu\n", code);
  return (int)code;
}
