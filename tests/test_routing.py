"""Tests for schedules.tours.routing: distances, exact and heuristic tours, timetables."""

from __future__ import annotations

import itertools
import math
import os
import random
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schedules.tours.routing import (
    EARTH_RADIUS_KM,
    MAX_EXACT_LIMIT,
    METHOD_EXACT,
    METHOD_HEURISTIC,
    Route,
    Timetable,
    arrival_times,
    distance_matrix,
    haversine_km,
    plan_route,
    timetable,
)

REPO_ROOT = Path(__file__).resolve().parents[1]

# The acceptance bound from the requirement ("within a few percent of the
# best known"), made concrete: the heuristic may be at most 3 % longer than
# the best of 200 random-restart 2-opt runs computed below.
HEURISTIC_TOLERANCE = 0.03
REFERENCE_RESTARTS = 200

# Wuhan-ish depot; townships within roughly +-60 km, like a county tour.
DEPOT = (30.59, 114.30)
BEIJING = (39.9042, 116.4074)
SHANGHAI = (31.2304, 121.4737)
CST = timezone(timedelta(hours=8))


# --------------------------------------------------------------------------
# Helpers (deliberately independent of the module's internals)
# --------------------------------------------------------------------------


def random_stops(seed: int, n: int) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    return [
        (DEPOT[0] + rng.uniform(-0.55, 0.55), DEPOT[1] + rng.uniform(-0.65, 0.65))
        for _ in range(n)
    ]


def road_matrix(seed: int, n: int) -> list[list[float]]:
    """Asymmetric 'road' matrix: great-circle times a random detour per direction."""
    rng = random.Random(seed)
    d = distance_matrix([DEPOT, *random_stops(seed, n)])
    return [
        [0.0 if i == j else d[i][j] * rng.uniform(1.0, 1.7) for j in range(n + 1)]
        for i in range(n + 1)
    ]


def random_matrix(seed: int, n: int, symmetric: bool) -> list[list[float]]:
    """Non-metric matrix, including exact ties and zero-length legs."""
    rng = random.Random(seed)
    m = [[0.0] * (n + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        for j in range(n + 1):
            if i != j and (not symmetric or j > i):
                m[i][j] = float(rng.choice([0, 1, 2, 3, 5, 8, 13, rng.randint(0, 40)]))
                if symmetric:
                    m[j][i] = m[i][j]
    return m


def tour_cost(m: list[list[float]], order: list[int]) -> float:
    path = [0, *(i + 1 for i in order), 0]
    return sum(m[a][b] for a, b in zip(path, path[1:]))


def brute_force(m: list[list[float]]) -> float:
    n = len(m) - 1
    return min(tour_cost(m, list(p)) for p in itertools.permutations(range(n)))


def two_opt_cycle(m: list[list[float]], cycle: list[int]) -> list[int]:
    """Plain first-improvement 2-opt on a closed cycle (symmetric matrices)."""
    size = len(cycle)
    improved = True
    while improved:
        improved = False
        for i in range(size - 1):
            for j in range(i + 2, size if i > 0 else size - 1):
                a, b = cycle[i], cycle[i + 1]
                c, e = cycle[j], cycle[(j + 1) % size]
                if m[a][c] + m[b][e] < m[a][b] + m[c][e] - 1e-10:
                    cycle[i + 1 : j + 1] = cycle[i + 1 : j + 1][::-1]
                    improved = True
    return cycle


def best_random_restart_two_opt(m: list[list[float]], restarts: int, seed: int) -> float:
    rng = random.Random(seed)
    nodes = list(range(len(m)))
    best = math.inf
    for _ in range(restarts):
        cycle = nodes[:]
        rng.shuffle(cycle)
        cycle = two_opt_cycle(m, cycle)
        best = min(best, sum(m[cycle[k - 1]][cycle[k]] for k in range(len(cycle))))
    return best


def assert_two_opt_optimal(route: Route, m: list[list[float]]) -> None:
    """No single segment reversal shortens the tour (symmetric matrices)."""
    cycle = [0, *(i + 1 for i in route.order)]
    size = len(cycle)
    for i in range(size - 1):
        for j in range(i + 2, size if i > 0 else size - 1):
            a, b = cycle[i], cycle[i + 1]
            c, e = cycle[j], cycle[(j + 1) % size]
            gain = m[a][b] + m[c][e] - m[a][c] - m[b][e]
            assert gain <= 1e-9, f"2-opt move ({i}, {j}) would save {gain} km"


def assert_valid_route(route: Route, m: list[list[float]]) -> None:
    n = len(m) - 1
    assert sorted(route.order) == list(range(n)), "order must be a permutation of the stops"
    if n == 0:
        assert route.legs_km == [] and route.distance_km == 0.0
        return
    assert len(route.legs_km) == n + 1
    path = [0, *(i + 1 for i in route.order), 0]
    assert route.legs_km == [m[a][b] for a, b in zip(path, path[1:])]
    assert route.distance_km == pytest.approx(sum(route.legs_km), rel=1e-12, abs=1e-12)


# --------------------------------------------------------------------------
# Distances
# --------------------------------------------------------------------------


def test_haversine_beijing_shanghai() -> None:
    # Published great-circle distance between the city centres: ~1068 km.
    assert haversine_km(BEIJING, SHANGHAI) == pytest.approx(1068, rel=0.01)


def test_haversine_basic_properties() -> None:
    assert haversine_km(BEIJING, BEIJING) == 0.0
    assert haversine_km(BEIJING, SHANGHAI) == haversine_km(SHANGHAI, BEIJING)
    # One degree of latitude along a meridian is R * pi / 180.
    assert haversine_km((0.0, 0.0), (1.0, 0.0)) == pytest.approx(EARTH_RADIUS_KM * math.pi / 180)
    # Antipodes: half the circumference, no math domain error.
    assert haversine_km((0.0, 0.0), (0.0, 180.0)) == pytest.approx(EARTH_RADIUS_KM * math.pi)


@pytest.mark.parametrize(
    "point",
    [
        (91.0, 0.0),
        (-90.5, 0.0),
        (0.0, 180.5),
        (math.nan, 0.0),
        (0.0, math.inf),
        ("x", 1.0),
        (1.0,),
    ],
)
def test_haversine_rejects_bad_coordinates(point: tuple) -> None:
    with pytest.raises(ValueError):
        haversine_km(point, BEIJING)


def test_distance_matrix_is_symmetric_with_zero_diagonal() -> None:
    points = [DEPOT, *random_stops(1, 6)]
    m = distance_matrix(points)
    assert len(m) == 7 and all(len(row) == 7 for row in m)
    for i in range(7):
        assert m[i][i] == 0.0
        for j in range(7):
            assert m[i][j] == m[j][i]
            assert m[i][j] == pytest.approx(haversine_km(points[i], points[j]))
    assert distance_matrix([]) == []


# --------------------------------------------------------------------------
# Exact solver
# --------------------------------------------------------------------------


def _exact_cases() -> list[tuple[int, int, str]]:
    cases = []
    for n in range(9):
        seeds = 6 if n <= 6 else (3 if n == 7 else 2)  # n = 8 brute force is 40320 tours
        for seed in range(seeds):
            for kind in ("geo", "road", "random-sym", "random-asym"):
                cases.append((n, seed, kind))
    return cases


def _case_matrix(n: int, seed: int, kind: str) -> list[list[float]]:
    if kind == "geo":
        return distance_matrix([DEPOT, *random_stops(seed, n)])
    if kind == "road":
        return road_matrix(seed, n)
    return random_matrix(seed * 31 + n, n, symmetric=(kind == "random-sym"))


@pytest.mark.parametrize(("n", "seed", "kind"), _exact_cases())
def test_held_karp_matches_brute_force(n: int, seed: int, kind: str) -> None:
    m = _case_matrix(n, seed, kind)
    route = plan_route(DEPOT, random_stops(seed, n), matrix=m)
    assert route.exact is True
    assert route.method == METHOD_EXACT
    assert_valid_route(route, m)
    assert route.distance_km == pytest.approx(brute_force(m), rel=1e-12, abs=1e-12)


def test_exact_limit_boundary() -> None:
    stops = random_stops(3, 10)
    assert plan_route(DEPOT, stops[:9]).exact is True  # default limit is 9
    big = plan_route(DEPOT, stops)
    assert big.exact is False and big.method == METHOD_HEURISTIC
    assert plan_route(DEPOT, stops, exact_limit=10).exact is True
    # Tiny tours are always solved exactly, whatever the limit.
    assert plan_route(DEPOT, stops[:3], exact_limit=0).exact is True


def test_empty_and_single_stop() -> None:
    assert plan_route(DEPOT, []) == Route(
        order=[], distance_km=0.0, legs_km=[], exact=True, method=METHOD_EXACT
    )
    one = plan_route(DEPOT, [BEIJING])
    assert one.order == [0]
    assert one.legs_km == [haversine_km(DEPOT, BEIJING), haversine_km(BEIJING, DEPOT)]


def test_one_way_direction_is_respected() -> None:
    # A ring where driving "clockwise" costs 1 km per leg and the opposite way
    # 10 km (one-way streets); every other pair costs 20 km.  The only optimal
    # tour is 0 -> 1 -> ... -> n -> 0 with length n + 1.  A solver that
    # priced reversed segments as if the matrix were symmetric would accept
    # reversals and end up far worse.
    for n, limit in ((7, 9), (25, 9)):
        m = [[20.0] * (n + 1) for _ in range(n + 1)]
        for i in range(n + 1):
            m[i][i] = 0.0
            m[i][(i + 1) % (n + 1)] = 1.0
            m[(i + 1) % (n + 1)][i] = 10.0
        route = plan_route(DEPOT, [DEPOT] * n, matrix=m, exact_limit=limit)
        assert route.order == list(range(n))
        assert route.distance_km == n + 1


def test_matrix_equal_to_default_distances_gives_same_route() -> None:
    for n in (6, 20):
        stops = random_stops(11, n)
        m = distance_matrix([DEPOT, *stops])
        assert plan_route(DEPOT, stops) == plan_route(DEPOT, stops, matrix=m)


# --------------------------------------------------------------------------
# Heuristic
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "seed"), [(30, 1), (30, 2), (60, 1), (60, 2)])
def test_heuristic_within_3_percent_of_random_restart_2opt(n: int, seed: int) -> None:
    stops = random_stops(seed, n)
    m = distance_matrix([DEPOT, *stops])
    route = plan_route(DEPOT, stops)
    assert route.exact is False and route.method == METHOD_HEURISTIC
    assert_valid_route(route, m)
    assert_two_opt_optimal(route, m)
    reference = best_random_restart_two_opt(m, REFERENCE_RESTARTS, seed)
    # Bound: distance <= 1.03 x best of 200 random-restart 2-opt tours.
    assert route.distance_km <= (1 + HEURISTIC_TOLERANCE) * reference, (
        f"{route.distance_km:.2f} km vs reference {reference:.2f} km"
    )


def test_heuristic_clustered_townships() -> None:
    # Townships come in clusters around market towns; make sure the heuristic
    # does not get stuck jumping between clusters.
    rng = random.Random(7)
    centres = [
        (DEPOT[0] + rng.uniform(-0.6, 0.6), DEPOT[1] + rng.uniform(-0.6, 0.6)) for _ in range(5)
    ]
    stops = [
        (c[0] + rng.gauss(0, 0.04), c[1] + rng.gauss(0, 0.04))
        for c in (rng.choice(centres) for _ in range(45))
    ]
    m = distance_matrix([DEPOT, *stops])
    route = plan_route(DEPOT, stops)
    assert_valid_route(route, m)
    assert_two_opt_optimal(route, m)
    reference = best_random_restart_two_opt(m, REFERENCE_RESTARTS, 7)
    assert route.distance_km <= (1 + HEURISTIC_TOLERANCE) * reference


@pytest.mark.parametrize("kind", ["geo", "road"])
@pytest.mark.parametrize("seed", range(6))
def test_heuristic_near_optimal_on_small_tours(seed: int, kind: str) -> None:
    # Held-Karp (checked against brute force above) is the reference here:
    # the heuristic, forced with exact_limit=0, must be within 3 % of optimal
    # on both symmetric (geo) and one-way (road) matrices.
    n = 12
    if kind == "geo":
        m = distance_matrix([DEPOT, *random_stops(100 + seed, n)])
    else:
        m = road_matrix(100 + seed, n)
    optimal = plan_route(DEPOT, [DEPOT] * n, matrix=m, exact_limit=12)
    assert optimal.exact is True
    heuristic = plan_route(DEPOT, [DEPOT] * n, matrix=m, exact_limit=0)
    assert heuristic.exact is False
    assert_valid_route(heuristic, m)
    assert heuristic.distance_km >= optimal.distance_km - 1e-9
    assert heuristic.distance_km <= (1 + HEURISTIC_TOLERANCE) * optimal.distance_km


@settings(
    max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    st.integers(min_value=0, max_value=12).flatmap(
        lambda n: st.lists(
            st.lists(st.integers(min_value=0, max_value=6), min_size=n + 1, max_size=n + 1),
            min_size=n + 1,
            max_size=n + 1,
        )
    )
)
def test_heuristic_invariants_on_arbitrary_matrices(m: list[list[int]]) -> None:
    # Small integer entries give lots of exact ties and zero legs, the cases
    # most likely to make a local search cycle or pick differently per run.
    n = len(m) - 1
    fm = [[float(x) for x in row] for row in m]
    first = plan_route(DEPOT, [DEPOT] * n, matrix=m, exact_limit=0)
    assert_valid_route(first, fm)
    assert plan_route(DEPOT, [DEPOT] * n, matrix=m, exact_limit=0) == first


def test_deterministic_in_process() -> None:
    stops = random_stops(5, 40)
    assert plan_route(DEPOT, stops) == plan_route(DEPOT, stops)
    m = road_matrix(5, 40)
    assert plan_route(DEPOT, stops, matrix=m) == plan_route(DEPOT, stops, matrix=m)


def test_deterministic_across_processes() -> None:
    # Different hash seeds must not change the result (no reliance on set or
    # dict iteration order of hashed objects).
    script = (
        "import random, sys\n"
        "from schedules.tours.routing import plan_route\n"
        "rng = random.Random(9)\n"
        "stops = [(30.59 + rng.uniform(-.5, .5), 114.3 + rng.uniform(-.6, .6))\n"
        "         for _ in range(35)]\n"
        "r = plan_route((30.59, 114.30), stops)\n"
        "print(r.order, repr(r.distance_km))\n"
    )
    outputs = set()
    for hash_seed in ("1", "2", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


def _square(n: int, value: float = 1.0) -> list[list[float]]:
    return [[value] * (n + 1) for _ in range(n + 1)]


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        (_square(2), "must have 4 rows"),
        (_square(3)[:-1] + [[1.0, 1.0]], "row 3 must have 4 columns"),
        (_square(3)[:2] + [[0.0, 1.0, -1.0, 0.0], [1.0] * 4], r"matrix\[2\]\[2\]"),
        ([[0.0, math.nan, 1, 1]] + _square(3)[1:], r"matrix\[0\]\[1\]"),
        ([[0.0, math.inf, 1, 1]] + _square(3)[1:], "finite non-negative"),
        ([[0.0, "5", 1, 1]] + _square(3)[1:], "must be a number"),
        ([[0.0, True, 1, 1]] + _square(3)[1:], "must be a number"),
        ([[0.0, None, 1, 1]] + _square(3)[1:], "must be a number"),
        ("not a matrix", "list of rows"),
        ([1, 2, 3, 4], "row 0 must be a list"),
    ],
)
def test_matrix_validation(matrix: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_route(DEPOT, random_stops(0, 3), matrix=matrix)  # type: ignore[arg-type]


def test_matrix_accepts_ints_and_tuples_and_ignores_diagonal() -> None:
    m = ((99, 1, 5), (5, 99, 1), (1, 5, 99))
    route = plan_route(DEPOT, [DEPOT, DEPOT], matrix=m)  # type: ignore[arg-type]
    assert route.order == [0, 1]
    assert route.legs_km == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("limit", [-1, MAX_EXACT_LIMIT + 1, 2.5, True])
def test_exact_limit_validation(limit: object) -> None:
    with pytest.raises(ValueError, match="exact_limit"):
        plan_route(DEPOT, random_stops(0, 3), exact_limit=limit)  # type: ignore[arg-type]


def test_bad_stop_coordinates_rejected() -> None:
    with pytest.raises(ValueError, match="latitude"):
        plan_route(DEPOT, [(114.3, 30.59)])  # lat/lon swapped


# --------------------------------------------------------------------------
# Timetable
# --------------------------------------------------------------------------


def test_arrival_times_arithmetic() -> None:
    start = datetime(2024, 6, 1, 8, 0, tzinfo=CST)
    legs = [30.0, 10.0, 45.0]  # at 60 km/h: 30, 10 and 45 minutes
    times = arrival_times(start, legs, [15, 20], 60.0)
    assert times == [
        (start.replace(hour=8, minute=30), start.replace(hour=8, minute=45)),
        (start.replace(hour=8, minute=55), start.replace(hour=9, minute=15)),
    ]
    table = timetable(start, legs, [15, 20], 60.0)
    assert table == Timetable(stops=times, return_at=start.replace(hour=10, minute=0))
    assert table.return_at.tzinfo is CST


def test_arrivals_round_up_to_whole_minutes() -> None:
    start = datetime(2024, 6, 1, 8, 0)
    # 1 km at 50 km/h = 1.2 min -> 08:02; 0 km -> no extra minute; the return
    # leg of 0.5 km = 0.6 min -> rounds up to the next minute.
    table = timetable(start, [1.0, 0.0, 0.5], [3, 0], 50.0)
    assert table.stops == [
        (datetime(2024, 6, 1, 8, 2), datetime(2024, 6, 1, 8, 5)),
        (datetime(2024, 6, 1, 8, 5), datetime(2024, 6, 1, 8, 5)),
    ]
    assert table.return_at == datetime(2024, 6, 1, 8, 6)
    # Float noise (10 / 30 * 60 is not exactly 20 in binary) must not add a minute.
    assert arrival_times(start, [10.0, 10.0], [0], 30.0)[0][0] == datetime(2024, 6, 1, 8, 20)
    # A departure with seconds: the first arrival is still a whole minute.
    late = datetime(2024, 6, 1, 8, 0, 30)
    assert arrival_times(late, [30.0, 1.0], [10], 60.0) == [
        (datetime(2024, 6, 1, 8, 31), datetime(2024, 6, 1, 8, 41))
    ]


def test_timetable_without_stops_returns_immediately() -> None:
    start = datetime(2024, 6, 1, 8, 0)
    assert timetable(start, [], [], 40.0) == Timetable(stops=[], return_at=start)
    assert arrival_times(start, [], [], 40.0) == []


def test_timetable_from_planned_route() -> None:
    stops = random_stops(4, 12)
    route = plan_route(DEPOT, stops)
    service = [10 + i for i in range(12)]
    start = datetime(2024, 6, 1, 8, 0, tzinfo=CST)
    table = timetable(start, route.legs_km, [service[i] for i in route.order], 40.0)
    assert len(table.stops) == 12
    previous = start
    for (arrives, departs), stop in zip(table.stops, route.order):
        assert arrives >= previous and arrives.second == 0
        assert departs - arrives == timedelta(minutes=service[stop])
        previous = departs
    total_service = sum(service)
    drive_minutes = route.distance_km / 40.0 * 60
    elapsed = (table.return_at - start).total_seconds() / 60
    # Each of the 13 legs is rounded up by less than a minute.
    assert total_service + drive_minutes <= elapsed < total_service + drive_minutes + 13


@pytest.mark.parametrize(
    ("legs", "service", "speed", "message"),
    [
        ([1.0, 1.0], [5], 0.0, "speed_kmh"),
        ([1.0, 1.0], [5], -30.0, "speed_kmh"),
        ([1.0, 1.0], [5], math.nan, "speed_kmh"),
        ([1.0, 1.0], [5], math.inf, "speed_kmh"),
        ([1.0, 1.0], [5], True, "speed_kmh"),
        ([1.0], [5], 40.0, "legs_km must have 2"),
        ([1.0, 1.0, 1.0], [5], 40.0, "legs_km must have 2"),
        ([1.0], [], 40.0, "legs_km must have 0"),
        ([1.0, -1.0], [5], 40.0, r"legs_km\[1\]"),
        ([1.0, math.nan], [5], 40.0, r"legs_km\[1\]"),
        ([1.0, 1.0], [-5], 40.0, r"service_minutes\[0\]"),
        ([1.0, 1.0], [2.5], 40.0, r"service_minutes\[0\]"),
    ],
)
def test_timetable_validation(legs: list, service: list, speed: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        timetable(datetime(2024, 6, 1, 8, 0), legs, service, speed)
