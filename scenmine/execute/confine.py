"""OS confinement of a sandbox worker: set up once, before the worker runs any program.

The static check and the restricted namespace (scenmine.execute.sandbox) make escapes hard;
these layers make an escape harmless: even a program that gains arbitrary code execution
inside the worker (e.g. through a memory-unsafe corner of numpy) cannot write a file, start
a process, open a socket, trace or signal another process, or read outside the interpreter,
its libraries and the logs the worker serves. The layers, in the order they are applied:

``rlimits``       address space, CPU seconds, file size (0), open files, processes, no core
``no_new_privs``  PR_SET_NO_NEW_PRIVS: nothing executed later can gain privileges
``landlock``      file system: read-only beneath the interpreter, its packages, system
                  libraries and the served logs; no write, create, remove, link or exec anywhere
``uid``           as root: drop to an unprivileged uid/gid of its own (keeping only
                  CAP_DAC_READ_SEARCH, so root-only folders stay readable where landlock allows)
``seccomp``       no exec, fork or new process, no new socket, no ptrace or reading other
                  processes' memory, no signals to other processes, no terminal injection,
                  no open-by-handle, mount, namespaces, bpf, io_uring or kernel keyrings

Where the kernel (or the machine) lacks a layer, ``confine`` reports it as missing with the
reason; the runner warns once and records it in the run's tags, and ``execute.isolation``
can require layers (the worker then refuses to run programs).
"""
from __future__ import annotations

import ctypes
import errno
import os
import resource
import site
import sys
from collections.abc import Iterable
from dataclasses import dataclass

LAYERS = ("rlimits", "no_new_privs", "landlock", "uid", "seccomp")
ON = "on"

PR_SET_NO_NEW_PRIVS = 38
PR_SET_KEEPCAPS = 8
CAP_DAC_READ_SEARCH = 2
CLONE_THREAD = 0x00010000
TIOCSTI = 0x5412
UID_BASE = 200_000  # each worker gets uid/gid UID_BASE + its pid: workers cannot touch each other
FALLBACK_UID = 65534  # nobody, where the uid namespace has no room for UID_BASE + pid

# system folders read by lazy imports of shared libraries and time zones
SYSTEM_READ = ("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/share/zoneinfo",
               "/etc/localtime", "/etc/ld.so.cache", "/dev/null", "/dev/urandom")
DENIED_SYSCALLS = (
    # processes and programs
    "execve", "execveat", "fork", "vfork", "ptrace", "process_vm_readv", "process_vm_writev",
    "pidfd_open", "pidfd_getfd", "pidfd_send_signal", "tkill", "kcmp",
    # sockets (the channel to the runner is inherited, already connected)
    "socket", "socketpair", "bind", "listen", "connect", "accept", "accept4",
    # escaping the file system rules and privileges
    "open_by_handle_at", "name_to_handle_at", "mount", "umount2", "pivot_root", "chroot",
    "unshare", "setns", "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid",
    "setgroups", "capset", "personality", "mknod", "mknodat",
    # kernel attack surface a program never needs
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "keyctl", "add_key", "request_key", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "memfd_create", "fanotify_init",
    "quotactl", "swapon", "swapoff", "reboot", "syslog", "acct", "settimeofday",
    "clock_settime", "sethostname", "setdomainname", "iopl", "ioperm",
)


class IsolationUnavailable(RuntimeError):
    """A layer that ``execute.isolation`` requires is missing on this machine."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker process (0 or None: no limit of that kind)."""

    memory_mb: int = 4096
    open_files: int = 256
    threads: int = 64  # RLIMIT_NPROC counts threads of the worker's own uid


def required_layers(isolation) -> frozenset[str]:
    """The layers ``execute.isolation`` requires: ``best_effort`` (none), ``required`` (all)
    or a list of layer names."""
    if isolation in (None, "", "best_effort"):
        return frozenset()
    if isolation == "required":
        return frozenset(LAYERS)
    if isinstance(isolation, str):
        isolation = [isolation]
    names = frozenset(str(n) for n in isolation)
    unknown = sorted(names - set(LAYERS))
    if unknown:
        raise ValueError(f"execute.isolation: unknown layer {unknown[0]!r}; use best_effort, "
                         f"required or a list of {', '.join(LAYERS)}")
    return names


def missing_required(report: dict[str, str], isolation) -> list[str]:
    """``layer: reason`` for each required layer that ``report`` does not have on."""
    return [f"{layer}: {report.get(layer, 'not applied')}"
            for layer in sorted(required_layers(isolation)) if report.get(layer) != ON]


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, arg: int) -> None:
    ctypes.set_errno(0)
    if _libc().prctl(option, ctypes.c_ulong(arg), 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def set_rlimits(limits: Limits) -> None:
    """Cap memory, file size (no file may grow), open files, threads and core dumps."""
    def lower(kind: int, value: int) -> None:
        soft, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(kind, (value, value))

    if limits.memory_mb and limits.memory_mb > 0:
        lower(resource.RLIMIT_AS, int(limits.memory_mb) * 1024 * 1024)
    lower(resource.RLIMIT_FSIZE, 0)
    lower(resource.RLIMIT_CORE, 0)
    if limits.open_files:
        lower(resource.RLIMIT_NOFILE, int(limits.open_files))
    if limits.threads:
        lower(resource.RLIMIT_NPROC, int(limits.threads))


def limit_cpu(seconds: float) -> None:
    """Let the worker use ``seconds`` more CPU time (SIGXCPU then kills it); per program."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    limit = int(used.ru_utime + used.ru_stime + max(seconds, 1.0)) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (limit, hard))


def _link_targets(served: list[str]) -> list[str]:
    """Targets of the symbolic links inside served log folders (a download laid out with
    links: landlock checks the file a link resolves to, not the link)."""
    out = []
    for root in served:
        if not os.path.isdir(root):
            continue
        for folder, dirs, files in os.walk(root):
            for name in dirs + files:
                path = os.path.join(folder, name)
                if os.path.islink(path):
                    out.append(os.path.realpath(path))
    return out


def read_paths(served: Iterable[str]) -> list[str]:
    """What a worker may read: the interpreter, its packages (scenmine's own folder too: an
    editable install imports it through a finder, not ``sys.path``), system libraries, the
    logs."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    served = list(served)
    paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path, *site.getsitepackages(),
             package, *SYSTEM_READ, *served, *_link_targets(served)]
    seen, out = set(), []
    for path in paths:
        if not path:
            continue
        real = os.path.realpath(path)
        if real not in seen and os.path.exists(real):
            seen.add(real)
            out.append(real)
    return out


def apply_landlock(paths: Iterable[str]) -> None:
    """Handle every file-system right; grant only reading beneath ``paths``."""
    import landlock

    threads = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 1
    if threads > 1:  # landlock binds the calling thread (and the threads it starts) only
        raise RuntimeError(f"{threads} threads already running")
    handled = landlock.FSAccess.all()
    ruleset = landlock.Ruleset(restrict_rules=handled)
    read_dir = landlock.FSAccess.READ_FILE | landlock.FSAccess.READ_DIR
    for path in paths:
        rights = read_dir if os.path.isdir(path) else landlock.FSAccess.READ_FILE
        ctypes.set_errno(0)  # the package reads errno after each call
        ruleset.allow(path, rules=rights)
    ctypes.set_errno(0)
    ruleset.apply()


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _capset(caps: int) -> None:
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)(_CapData(caps, caps, 0), _CapData(0, 0, 0))
    ctypes.set_errno(0)
    if _libc().capset(ctypes.byref(header), data) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"capset: {os.strerror(err)}")


def drop_root(keep_read_search: bool) -> str:
    """As root: become an unprivileged uid/gid of this worker's own; the uid taken.

    ``keep_read_search`` keeps CAP_DAC_READ_SEARCH (read any file by permission bits) so that
    folders only root may enter (pytest's temp folders, /root's interpreter) stay readable;
    landlock still limits what is read, and seccomp blocks open_by_handle_at.
    """
    if os.getuid() != 0 and os.geteuid() != 0:
        return f"uid {os.getuid()} (not root)"
    _prctl(PR_SET_KEEPCAPS, 1)
    os.setgroups([])
    for uid in (UID_BASE + os.getpid(), FALLBACK_UID):
        try:
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            break
        except OSError as exc:
            if uid == FALLBACK_UID or exc.errno != errno.EINVAL:
                raise
    _capset((1 << CAP_DAC_READ_SEARCH) if keep_read_search else 0)
    _prctl(PR_SET_KEEPCAPS, 0)
    return f"uid {os.getuid()}"


def apply_seccomp() -> None:
    """Install the syscall filter (irrevocable; inherited by every thread started later)."""
    import pyseccomp as sc

    deny = sc.ERRNO(errno.EPERM)
    flt = sc.SyscallFilter(defaction=sc.ALLOW)
    flt.set_attr(sc.Attr.CTL_TSYNC, 1)  # every thread of the process, not only this one
    for name in DENIED_SYSCALLS:
        try:
            flt.add_rule(deny, name)
        except (ValueError, OSError):  # a syscall this architecture does not have
            pass
    flt.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))  # threads only
    flt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")  # glibc then falls back to clone
    pid = os.getpid()
    flt.add_rule(deny, "kill", sc.Arg(0, sc.NE, pid))  # signals to itself only
    flt.add_rule(deny, "tgkill", sc.Arg(0, sc.NE, pid))
    flt.add_rule(deny, "ioctl", sc.Arg(1, sc.MASKED_EQ, 0xFFFFFFFF, TIOCSTI))
    flt.load()


def _seccomp_available() -> str | None:
    try:
        import pyseccomp  # noqa: F401 - loads libseccomp
    except (ImportError, RuntimeError, OSError) as exc:
        return f"libseccomp unavailable ({exc})"
    return None


def _silence_std_fds() -> None:
    """Point fds 0-2 at /dev/null: code that escapes the Python-level capture cannot write
    to the user's terminal (or inject into it) and cannot block on an unread pipe."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def confine(served: Iterable[str], limits: Limits) -> dict[str, str]:
    """Apply every layer this machine has; ``{layer: "on" or "missing: reason"}``.

    Never raises for a missing layer: the caller decides (``missing_required``).
    """
    report: dict[str, str] = {}

    def attempt(layer: str, apply) -> None:
        try:
            note = apply()
            report[layer] = ON
            if note:
                report[f"{layer}.detail"] = str(note)
        except Exception as exc:  # a kernel or machine without the feature
            report[layer] = f"missing: {type(exc).__name__}: {exc}".splitlines()[0][:300]

    seccomp_missing = _seccomp_available()  # import (finds libseccomp) before landlock
    _silence_std_fds()
    attempt("rlimits", lambda: set_rlimits(limits))
    attempt("no_new_privs", lambda: _prctl(PR_SET_NO_NEW_PRIVS, 1))
    attempt("landlock", lambda: apply_landlock(read_paths(served)))
    attempt("uid", lambda: drop_root(keep_read_search=seccomp_missing is None))
    if seccomp_missing:
        report["seccomp"] = f"missing: {seccomp_missing}"
    else:
        attempt("seccomp", apply_seccomp)
    if report["seccomp"] != ON and report["uid"] == ON and os.getuid() != 0:
        _capset(0)  # without the filter, open_by_handle_at would bypass landlock
    return report
