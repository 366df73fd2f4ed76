"""`make bench`: run the main() of every bench/bench_*.py module in turn, or only those named.

    python bench/run.py                                  # all of them, default settings
    python bench/run.py http -- --bookings 500           # one, with its own flags after --
"""
import importlib.util
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
# The benchmarks share testkit (live server, bulk factories) with the tests, and use the packages.
sys.path.insert(0, str(HERE.parent))


def _load(path: pathlib.Path):
    spec = importlib.util.spec_from_file_location(f"bench.{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    names, extra = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    # The long ones last: the city (all 38 offices at full scale) and the soak (a minute by default).
    slow = ("bench_city", "bench_soak")
    paths = sorted(HERE.glob("bench_*.py"), key=lambda p: (slow.index(p.stem) if p.stem in slow else -1, p.stem))
    available = {p.stem.removeprefix("bench_"): p for p in paths}
    unknown = [n for n in names if n not in available]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}", file=sys.stderr)
        return 2
    failed = 0
    for name, path in available.items():
        if names and name not in names:
            continue
        print(f"== {name} ==", flush=True)
        status = _load(path).main(extra)
        failed += 1 if status else 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
