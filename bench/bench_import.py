"""`vmo motorcycles import` of a generated register: rows per second, first import and re-import."""
import argparse
import csv
import os
import random
import sys
import tempfile
import time

if not __package__:  # run as a script: the repository root makes `bench` and `testkit` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench import common  # noqa: E402


def _rows(count: int, seed: int = 30000):
    from vmo import validators

    rng = random.Random(seed)
    townships = ["大观镇", "水江镇", "三泉镇", "南平镇", "鸣玉镇", "东城街道", "金山镇", "头渡镇"]
    plates: set[str] = set()
    while len(plates) < count:
        plates.add(validators.random_plate("渝G", False, rng))
    for plate in sorted(plates):
        year = rng.randint(2005, 2024)
        last = f"{rng.randint(year + 1, 2025)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}" if rng.random() < 0.7 else ""
        yield (plate, "", "车主", f"139{rng.randrange(10 ** 8):08d}", rng.choice(townships),
               f"{year}-0{rng.randint(1, 9)}-0{rng.randint(1, 9)}", last)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_import", description=__doc__)
    parser.add_argument("--rows", type=int, default=30000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, common.scratch_database(args.database_url, "import") as url:
        path = os.path.join(tmp, "register.csv")
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(("plate", "vin", "owner_name", "phone", "township", "registered_on", "last_inspected_on"))
            writer.writerows(_rows(args.rows))

        from vmo import settings
        from vmo.offices.services import ensure_office
        from vmo.offices.settings import OfficeSettings

        app = common.make_app(url, FROZEN_NOW="2026-11-25T10:00:00+08:00")
        with app.app_context():
            ensure_office(settings.of(app, OfficeSettings).code, "南川区车管所", "渝G")
        runner = app.test_cli_runner()
        for label in ("first import", "re-import"):
            started = time.perf_counter()
            result = runner.invoke(args=["motorcycles", "import", path])
            elapsed = time.perf_counter() - started
            if result.exit_code != 0:
                print(result.output, file=sys.stderr)
                return 1
            summary = next(line for line in result.output.splitlines() if " rows: " in line)
            print(f"{label}: {args.rows} rows in {elapsed:.2f} s = {args.rows / elapsed:,.0f} rows/s ({summary})")
        common.dispose(app)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
