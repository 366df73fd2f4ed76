"""Failover: the database primary lost during the release minute, on `make ha`'s cluster; how long
writes stop and what the clients are answered meanwhile.

`python bench/run.py failover` starts the cluster (ha/cluster.py: etcd, two PostgreSQL members run by
Patroni with synchronous replication, HAProxy) in a scratch directory, one gunicorn against HAProxy,
and for each fault runs clients booking seats (Idempotency-Key, retried after a 503 or a lost
connection) and tablets syncing records (testkit/failover.py), then injects the fault:

- crash: the primary's Patroni and postmaster killed with SIGKILL (its machine lost); the member is
  started again afterwards and rejoins as the standby;
- postmaster: PostgreSQL alone killed on the primary (Patroni restarts it in place);
- switchover: `patronictl switchover --force`.

Reported per fault: seconds from the fault to the first write answered after the last refused one,
the 503s, connections refused or lost on the client side, 500s, and against the database afterwards:
answered writes lost, doubled, slots whose `booked` differs from their confirmed bookings.
Needs root (PostgreSQL runs as the postgres user) and Debian's patroni, etcd-server, haproxy (`make ha-packages`).
"""
import argparse
import os
import shutil
import sys
import tempfile
from datetime import datetime

if not __package__:  # run as a script: the repository root makes `bench`, `ha` and `testkit` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench import common  # noqa: E402
from ha import cluster as ha_cluster  # noqa: E402

FROZEN_NOW = "2026-11-25T10:00:00+08:00"  # a Wednesday: the sessions are on the Saturday after


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bench_failover", description=__doc__.splitlines()[0])
    parser.add_argument("--faults", default="crash,postmaster,switchover",
                        help="which faults, in order (default crash,postmaster,switchover)")
    parser.add_argument("--bookers", type=int, default=8, help="booking clients (default 8)")
    parser.add_argument("--tablets", type=int, default=2, help="syncing tablets (default 2)")
    parser.add_argument("--candidates", type=int, default=1500, help="candidates per fault (default 1500)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    args = parser.parse_args(argv)
    args.faults = [f.strip() for f in args.faults.split(",") if f.strip()]
    unknown = set(args.faults) - set(FAULTS)
    if unknown:
        parser.error(f"unknown fault(s) {', '.join(sorted(unknown))}; known: {', '.join(FAULTS)}")
    return args


def _crash(cluster):
    lost = cluster.leader()

    def after():
        cluster.wait_primary(exclude=lost)
        cluster.start_member(lost)  # the machine back: it rejoins as the standby
    return lambda: cluster.crash_member(lost), after


def _postmaster(cluster):
    leader = cluster.leader()
    return lambda: cluster.kill_postmaster(leader), lambda: None


def _switchover(cluster):
    return cluster.switchover, lambda: None


FAULTS = {"crash": _crash, "postmaster": _postmaster, "switchover": _switchover}


def main(argv=None) -> int:
    args = parse_args(argv if argv is not None else sys.argv[1:])
    problem = ha_cluster.problem()
    if problem:
        print(f"the database cluster cannot run here: {problem}", file=sys.stderr)
        return 1
    from testkit.failover import Release
    from testkit.server import free_port

    ports = set()
    while len(ports) < 7:
        ports.add(free_port())
    directory = tempfile.mkdtemp(prefix="vmo-ha-bench-")
    cluster = ha_cluster.Cluster(directory, ha_cluster.Ports(*sorted(ports)))
    rows, ok = [], True
    try:
        cluster.up()
        app = common.make_app(cluster.database_url, RATELIMIT_ENABLED=False, FROZEN_NOW=FROZEN_NOW)
        print(f"cluster: {cluster.database_url} (Patroni ttl {ha_cluster.TTL} s, loop_wait {ha_cluster.LOOP_WAIT} s, "
              f"retry_timeout {ha_cluster.RETRY_TIMEOUT} s); gunicorn {args.workers} workers; "
              f"{args.bookers} booking clients, {args.tablets} tablets; {os.cpu_count()} cores", flush=True)
        with common.server(cluster.database_url, workers=args.workers, env={"VMO_FROZEN_NOW": FROZEN_NOW}) as server:
            for name in args.faults:
                cluster.wait_healthy(120)
                release = Release.prepare(app, label=name, now=datetime.fromisoformat(FROZEN_NOW),
                                          candidates=args.candidates)
                fault, after = FAULTS[name](cluster)
                report = release.run(server.url, fault, bookers=args.bookers, tablets=args.tablets)
                after()
                cluster.wait_healthy(120)
                check = release.check(app, report)
                statuses = report.statuses()
                row = {
                    "fault": name, "seconds": report.seconds_without_writes(), "503": statuses.get(503, 0),
                    "client_errors": sum(n for s, n in statuses.items() if isinstance(s, str)),
                    "in_progress": statuses.get(409, 0), "500": report.server_errors(),
                    "writes": sum(n for s, n in statuses.items() if isinstance(s, int) and 200 <= s < 300),
                    "lost": check.lost, "doubled": check.doubled, "overbooked": len(check.overbooked),
                    "unexpected": len(report.unexpected) + report.unanswered}
                rows.append(row)
                print(f"{name}: {row['seconds']:.1f} s without writes; {row['503']} answers 503, "
                      f"{row['client_errors']} connections refused or lost, {row['in_progress']} keys in progress "
                      f"(409, retried), {row['500']} answers 5xx other than 503; {row['writes']} writes answered 2xx; "
                      f"database: {row['lost']} answered writes lost, {row['doubled']} doubled, "
                      f"{row['overbooked']} slots off; {row['unexpected']} unexpected answers", flush=True)
                ok = ok and not (row["500"] or row["lost"] or row["doubled"] or row["overbooked"]
                                 or row["unexpected"]) and row["seconds"] <= 30
        common.dispose(app)
    finally:
        cluster.down()
        shutil.rmtree(directory, ignore_errors=True)
    print("| fault | seconds without writes | 503s | connections refused/lost | 500s | writes answered | "
          "answered writes lost | doubled | slots off |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['fault']} | {row['seconds']:.1f} | {row['503']} | {row['client_errors']} | {row['500']} | "
              f"{row['writes']} | {row['lost']} | {row['doubled']} | {row['overbooked']} |")
    if not ok:
        print("FAILED: a 500, an answered write lost or doubled, a slot off, or more than 30 s without writes",
              file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
