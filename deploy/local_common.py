"""Shared by the local Kafka and PostgreSQL provisioning: paths, errors, locks, process and port checks."""

import contextlib
import errno
import fcntl
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Jars and other downloads stay here whatever BIANMIN_LOCAL_DIR says, so a second copy does not fetch them again.
SHARED_LOCAL = REPO / ".local"
# BIANMIN_LOCAL_DIR moves data, logs, pid files and locks elsewhere: a second Kafka and PostgreSQL
# (e.g. the fault suite's, which it kills) then never touches the first one's files.
LOCAL = Path(os.environ["BIANMIN_LOCAL_DIR"]).resolve() if os.environ.get("BIANMIN_LOCAL_DIR") else SHARED_LOCAL
LOGS = LOCAL / "logs"
RUN = LOCAL / "run"


class InfraError(RuntimeError):
    """Provisioning failed; the message says what to do about it."""


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def port_from_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        port = 0
    if not 0 < port < 65535:
        raise InfraError(f"{name}={raw!r} is not a usable TCP port")
    return port


@contextlib.contextmanager
def lock(name: str):
    # Serialises concurrent callers (Makefile, several pytest processes) per component.
    RUN.mkdir(parents=True, exist_ok=True)
    with open(RUN / f"{name}.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        # Orphans are never reaped when PID 1 is not an init; a zombie is dead.
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return True


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def tail(path: Path, lines: int = 25, start: int = 0) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(start)
            text = fh.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def port_busy(port: int) -> bool:
    # Bind like the servers do (SO_REUSEADDR), so TIME_WAIT leftovers do not count.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def port_owner(port: int) -> str:
    """Best effort 'pid N: cmdline' of whatever listens on the port (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    if not inodes:
        return "unknown process"
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fds = os.listdir(entry / "fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(entry / "fd" / fd) in wanted:
                    cmd = " ".join(cmdline(int(entry.name)))
                    return f"pid {entry.name}: {cmd[:160]}"
            except OSError:
                continue
    return "unknown process"


def require_port_free(port: int, what: str, env_name: str) -> None:
    if port_busy(port):
        raise InfraError(
            f"{what}: port 127.0.0.1:{port} is already in use by {port_owner(port)}. "
            f"Stop that process or choose another port with {env_name}=<port>."
        )


def move_aside(path: Path, why: str) -> None:
    target = path.with_name(f"{path.name}.orphaned-{time.strftime('%Y%m%d-%H%M%S')}")
    path.rename(target)
    say(f"warning: {why}; moved {path} to {target}")


def spawn_detached(cmd: list[str], cwd: Path, out: Path) -> int:
    # Launched through a short-lived intermediate so the daemon is not our child:
    # no zombie and no "subprocess still running" warning in long-lived callers.
    launcher = (
        "import subprocess, sys\n"
        "out = open(sys.argv[1], 'wb')\n"
        "p = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=out,"
        " stderr=subprocess.STDOUT, start_new_session=True)\n"
        "print(p.pid)\n"
    )
    res = subprocess.run(
        [sys.executable, "-I", "-S", "-c", launcher, str(out), *cmd],
        cwd=cwd, capture_output=True, text=True, check=False,
    )
    if res.returncode != 0:
        raise InfraError(f"could not launch {cmd[0]}: {res.stderr.strip()}")
    return int(res.stdout.strip())


def read_props(path: Path) -> dict[str, str]:
    props: dict[str, str] = {}
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return props
    for line in lines:
        line = line.strip()
        if line and not line.startswith(("#", "!")) and "=" in line:
            key, value = line.split("=", 1)
            props[key.strip()] = value.strip()
    return props
