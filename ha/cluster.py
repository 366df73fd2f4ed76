"""A replicated PostgreSQL on one machine: etcd, two PostgreSQL members run by Patroni, HAProxy in front.

    python3 ha/cluster.py up   [--dir /tmp/vmo-ha] [--base-port 5440]   # `make ha`
    python3 ha/cluster.py status [--dir ...]
    python3 ha/cluster.py down [--dir ...]                             # `make ha-down`

Everything lives under one scratch directory (configs, data directories, logs, `cluster.json` with
the ports and process ids), so `down` stops exactly what `up` started and removes it. Patroni (and so
PostgreSQL, which refuses to run as root) runs as the `postgres` user; etcd and HAProxy as the caller.
Failover is Patroni's own (ttl/loop_wait/retry_timeout in ha/patroni.yml.in): nothing here decides
which member is primary. tests/test_failover.py and bench/bench_failover.py drive the same class.

Only the standard library: it runs with the system's python3, before any virtual environment exists.
"""
from __future__ import annotations

import argparse
import json
import os
import pwd
import shutil
import signal
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DIR = "/tmp/vmo-ha"
DEFAULT_BASE_PORT = 5440
PG_BIN = os.environ.get("VMO_HA_PG_BIN", "/usr/lib/postgresql/15/bin")
PATRONI = "/usr/bin/patroni"
PATRONICTL = "/usr/bin/patronictl"
ETCD = "/usr/bin/etcd"
HAPROXY = "/usr/sbin/haproxy"
RUN_AS = "postgres"
DATABASE = "vmo"
MEMBERS = ("pg1", "pg2")
# Patroni's timing (seconds): see ha/patroni.yml.in and docs/scale.md.
TTL, LOOP_WAIT, RETRY_TIMEOUT = 10, 2, 4


class ClusterError(RuntimeError):
    """The cluster did not get where it was asked to go; the message says where it stopped."""


@dataclass
class Ports:
    haproxy: int
    pg1: int
    pg2: int
    rest1: int
    rest2: int
    etcd_client: int
    etcd_peer: int

    @classmethod
    def from_base(cls, base: int) -> Ports:
        return cls(base, base + 1, base + 2, base + 3, base + 4, base + 5, base + 6)

    def postgres(self, member: str) -> int:
        return getattr(self, member)

    def rest(self, member: str) -> int:
        return getattr(self, "rest" + member.removeprefix("pg"))


def problem() -> str | None:
    """None when this machine can run the cluster, else why not (one line)."""
    missing = [p for p in (PATRONI, PATRONICTL, ETCD, HAPROXY, f"{PG_BIN}/postgres", f"{PG_BIN}/pg_rewind")
               if not os.access(p, os.X_OK)]
    if missing:
        return f"missing {', '.join(missing)} (Debian's patroni, etcd-server, haproxy, postgresql-15: make ha installs them)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(RUN_AS)
        except KeyError:
            return f"there is no {RUN_AS} user to run PostgreSQL as"
    return None


class Cluster:
    """The cluster under `directory` (its ports from `cluster.json` when it exists there)."""

    def __init__(self, directory: str | os.PathLike = DEFAULT_DIR, ports: Ports | None = None):
        self.dir = Path(directory)
        self.state_path = self.dir / "cluster.json"
        self.pids: dict[str, int] = {}
        self._children: dict[int, subprocess.Popen] = {}  # the processes this object started
        state = self._read_state()
        if state is not None and ports is None:
            ports = Ports(**state["ports"])
            self.pids = state.get("pids", {})
        self.ports = ports or Ports.from_base(DEFAULT_BASE_PORT)

    # ---- addresses --------------------------------------------------------------------

    @property
    def database_url(self) -> str:
        """Through HAProxy: always the current primary."""
        return f"postgresql://postgres@127.0.0.1:{self.ports.haproxy}/{DATABASE}"

    def member_url(self, member: str, database: str = DATABASE) -> str:
        """One member directly (for checks: what a given node holds)."""
        return f"postgresql://postgres@127.0.0.1:{self.ports.postgres(member)}/{database}"

    def rest_url(self, member: str) -> str:
        return f"http://127.0.0.1:{self.ports.rest(member)}"

    def config_path(self, member: str) -> Path:
        return self.dir / f"{member}.yml"

    # ---- up and down ------------------------------------------------------------------

    def up(self, timeout: float = 120.0) -> None:
        """Start etcd, both members and HAProxy; return once a primary, a synchronous standby and the
        `vmo` database answer through HAProxy."""
        why = problem()
        if why:
            raise ClusterError(why)
        if self.state_path.exists():
            raise ClusterError(f"a cluster is already set up in {self.dir} (python3 ha/cluster.py down --dir {self.dir})")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o755)  # the postgres user reaches its member's directory
        self._write_state()
        try:
            self._write_configs()
            self._start_etcd()
            self._wait(lambda: self._http_ok(f"http://127.0.0.1:{self.ports.etcd_client}/health"), 30, "etcd to answer")
            for member in MEMBERS:
                self.start_member(member)
                # The first member bootstraps the cluster; the second then copies it.
                self._wait(lambda m=member: self.member_state(m) == "running", timeout, f"{member} to run")
            self._start_haproxy()
            self.wait_healthy(timeout)
            self._create_database()
        except BaseException:
            self.down()
            raise

    def down(self) -> None:
        """Stop every process `up` started (Patroni stops its PostgreSQL) and remove the directory."""
        for member in MEMBERS:
            self.stop_member(member)
        for name in ("haproxy", "etcd"):
            self._stop(name, signal.SIGTERM, 10)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.pids = {}

    # ---- members ----------------------------------------------------------------------

    def start_member(self, member: str) -> None:
        """Start (or start again) a member's Patroni, which starts its PostgreSQL."""
        node_dir = self.dir / member
        node_dir.mkdir(exist_ok=True)
        user = pwd.getpwnam(RUN_AS) if os.geteuid() == 0 else None
        if user is not None:
            os.chown(node_dir, user.pw_uid, user.pw_gid)
        node_dir.chmod(0o700)
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
               "HOME": user.pw_dir if user else os.environ.get("HOME", "/tmp")}
        self.pids[member] = self._spawn(
            [PATRONI, str(self.config_path(member))], self.dir / f"{member}.out", env=env,
            user=user.pw_uid if user else None, group=user.pw_gid if user else None,
            extra_groups=[] if user else None)
        self._write_state()

    def stop_member(self, member: str, timeout: float = 30.0) -> None:
        """Stop a member: Patroni shuts its PostgreSQL down; leftovers are killed."""
        self._stop(member, signal.SIGTERM, timeout)
        postmaster = self.postmaster_pid(member)
        if postmaster is not None:
            _signal(postmaster, signal.SIGKILL)
            self._wait_gone(postmaster, 10)

    def crash_member(self, member: str) -> None:
        """The machine is lost: SIGKILL to the member's Patroni and its postmaster at once."""
        postmaster = self.postmaster_pid(member)
        self._stop(member, signal.SIGKILL, 10)
        if postmaster is not None:
            _signal(postmaster, signal.SIGKILL)
            self._wait_gone(postmaster, 10)

    def kill_postmaster(self, member: str) -> int:
        """PostgreSQL alone crashes (SIGKILL to the postmaster); Patroni stays. Returns the pid killed."""
        postmaster = self.postmaster_pid(member)
        if postmaster is None:
            raise ClusterError(f"{member} has no running postmaster")
        _signal(postmaster, signal.SIGKILL)
        self._wait_gone(postmaster, 10)
        return postmaster

    def switchover(self) -> None:
        """A planned switchover to the synchronous standby (patronictl switchover --force)."""
        leader = self.leader()
        result = subprocess.run([PATRONICTL, "-c", str(self.config_path(leader)), "switchover", "vmo",
                                 "--leader", leader, "--force"],
                                capture_output=True, text=True, timeout=120, env=_clean_env())
        if result.returncode != 0:
            raise ClusterError(f"patronictl switchover failed: {result.stdout}{result.stderr}")

    def postmaster_pid(self, member: str) -> int | None:
        """The member's running postmaster (from its postmaster.pid), or None."""
        try:
            pid = int((self.dir / member / "data" / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None

    # ---- what Patroni says ------------------------------------------------------------

    def members(self) -> list[dict]:
        """Patroni's view of the members (GET /cluster from any member that answers); [] if none does."""
        for member in MEMBERS:
            try:
                with urllib.request.urlopen(self.rest_url(member) + "/cluster", timeout=2) as response:
                    return json.load(response).get("members", [])
            except (OSError, ValueError):
                continue
        return []

    def member_state(self, member: str) -> str | None:
        try:
            with urllib.request.urlopen(self.rest_url(member) + "/patroni", timeout=2) as response:
                return json.load(response).get("state")
        except urllib.error.HTTPError as exc:  # 503 on a replica: the body is the same document
            try:
                return json.load(exc).get("state")
            except ValueError:
                return None
        except (OSError, ValueError):
            return None

    def leader(self) -> str | None:
        for item in self.members():
            if item.get("role") == "leader" and item.get("state") == "running":
                return item["name"]
        return None

    def is_healthy(self) -> bool:
        """A running leader and a streaming synchronous standby, both members up."""
        roles = {item["name"]: (item.get("role"), item.get("state")) for item in self.members()}
        return (sorted(roles) == sorted(MEMBERS)
                and sorted(r for r, _ in roles.values()) == ["leader", "sync_standby"]
                and all(s in ("running", "streaming") for _, s in roles.values()))

    def wait_healthy(self, timeout: float = 120.0) -> None:
        self._wait(self.is_healthy, timeout, "a leader and a synchronous standby")

    def wait_primary(self, timeout: float = 60.0, exclude: str | None = None) -> str:
        """Wait for a running leader (other than `exclude`); its name."""
        def found():
            leader = self.leader()
            return leader if leader and leader != exclude else None
        return self._wait(found, timeout, "a primary" + (f" other than {exclude}" if exclude else ""))

    def status(self) -> str:
        lines = [f"{item['name']}: {item.get('role')} {item.get('state')} (timeline {item.get('timeline')}, "
                 f"lag {item.get('lag', 0)}) postgres 127.0.0.1:{self.ports.postgres(item['name'])}, "
                 f"REST {self.rest_url(item['name'])}" for item in self.members()]
        return "\n".join(lines) or "no member answers"

    # ---- internals --------------------------------------------------------------------

    def _read_state(self) -> dict | None:
        try:
            return json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return None

    def _write_state(self) -> None:
        self.state_path.write_text(json.dumps({"ports": asdict(self.ports), "pids": self.pids}, indent=2))

    def _write_configs(self) -> None:
        template = string.Template((HERE / "patroni.yml.in").read_text())
        for member in MEMBERS:
            self.config_path(member).write_text(template.substitute(
                name=member, rest_port=self.ports.rest(member), pg_port=self.ports.postgres(member),
                etcd_port=self.ports.etcd_client, node_dir=self.dir / member, bin_dir=PG_BIN,
                ttl=TTL, loop_wait=LOOP_WAIT, retry_timeout=RETRY_TIMEOUT, strict="false"))
            self.config_path(member).chmod(0o644)
        servers = "\n".join(f"    server {m} 127.0.0.1:{self.ports.postgres(m)} maxconn 400 check port {self.ports.rest(m)}"
                            for m in MEMBERS)
        (self.dir / "haproxy.cfg").write_text(string.Template((HERE / "haproxy.cfg.in").read_text()).substitute(
            haproxy_port=self.ports.haproxy, servers=servers))

    def _start_etcd(self) -> None:
        client, peer = (f"http://127.0.0.1:{self.ports.etcd_client}", f"http://127.0.0.1:{self.ports.etcd_peer}")
        self.pids["etcd"] = self._spawn(
            [ETCD, "--name", "ha", "--data-dir", str(self.dir / "etcd"),
             "--listen-client-urls", client, "--advertise-client-urls", client,
             "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
             "--initial-cluster", f"ha={peer}", "--initial-cluster-state", "new"],
            self.dir / "etcd.log", env=_clean_env())
        self._write_state()

    def _start_haproxy(self) -> None:
        self.pids["haproxy"] = self._spawn([HAPROXY, "-f", str(self.dir / "haproxy.cfg"), "-db"],
                                           self.dir / "haproxy.log", env=_clean_env())
        self._write_state()

    def _create_database(self) -> None:
        def created():
            result = subprocess.run(
                [f"{PG_BIN}/psql", "-h", "127.0.0.1", "-p", str(self.ports.haproxy), "-U", "postgres", "-d", "postgres",
                 "-XAtqc", f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"],
                capture_output=True, text=True, timeout=10, env=_clean_env())
            if result.returncode == 0 and result.stdout.strip() == "1":
                return True
            if result.returncode == 0:
                subprocess.run([f"{PG_BIN}/psql", "-h", "127.0.0.1", "-p", str(self.ports.haproxy), "-U", "postgres",
                                "-d", "postgres", "-Xqc", f"CREATE DATABASE {DATABASE}"],
                               capture_output=True, timeout=30, env=_clean_env())
            return False
        self._wait(created, 60, f"the {DATABASE} database through HAProxy")

    def _spawn(self, argv: list[str], log: Path, env: dict, **options) -> int:
        """Start a process in a session of its own (it outlives `make ha`), output to `log`."""
        with open(log, "ab") as out:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                       cwd=self.dir, env=env, start_new_session=True, **options)
        if "user" in options and options["user"] is not None:
            os.chown(log, options["user"], options["group"])
        self._children[process.pid] = process
        return process.pid

    def _stop(self, name: str, sig: int, timeout: float) -> None:
        pid = self.pids.pop(name, None)
        if pid is not None and not self._wait_gone(pid, 0):  # (a dead child is reaped, not signalled)
            _signal(pid, sig)
            if not self._wait_gone(pid, timeout):
                _signal(pid, signal.SIGKILL)
                self._wait_gone(pid, 10)
        if self.state_path.exists():
            self._write_state()

    def _wait_gone(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            child = self._children.get(pid)
            if child is not None:  # our own child: gone once reaped
                if child.poll() is not None:
                    del self._children[pid]
                    return True
            elif not _alive(pid):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    @staticmethod
    def _http_ok(url: str) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status == 200
        except (OSError, ValueError):
            return False

    def _wait(self, condition, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = condition()
            if result:
                return result
            time.sleep(0.2)
        raise ClusterError(f"waited {timeout:.0f} s for {what}; members: {self.status()}; logs in {self.dir}")


def _clean_env() -> dict:
    """The caller's environment without its Python settings (Patroni is the system's Python program)."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our own child, not yet reaped) is as good as gone.
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ha/cluster.py", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("up", "down", "status"))
    parser.add_argument("--dir", default=os.environ.get("HA_DIR", DEFAULT_DIR), help=f"scratch directory (default {DEFAULT_DIR})")
    parser.add_argument("--base-port", type=int, default=int(os.environ.get("HA_PORT", DEFAULT_BASE_PORT)),
                        help="HAProxy's port; the members, Patroni's REST APIs and etcd take the next six")
    args = parser.parse_args(argv)
    if args.action == "up":
        cluster = Cluster(args.dir, Ports.from_base(args.base_port))
        try:
            cluster.up()
        except ClusterError as exc:
            print(f"make ha: {exc}", file=sys.stderr)
            return 1
        print(cluster.status())
        print(f"DATABASE_URL={cluster.database_url}")
        print("Patroni REST: " + "  ".join(f"{m} {cluster.rest_url(m)}" for m in MEMBERS))
        print(f"patronictl -c {cluster.config_path('pg1')} list    # stop it all: make ha-down")
        return 0
    cluster = Cluster(args.dir)
    if args.action == "status":
        print(cluster.status())
        return 0
    if not cluster.state_path.exists():
        print(f"no cluster in {args.dir}")
        return 0
    cluster.down()
    print(f"stopped and removed the cluster in {args.dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
