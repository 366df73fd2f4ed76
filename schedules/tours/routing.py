"""Stop ordering (depot round trip), distances and arrival times for inspection tours."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from numbers import Real

__all__ = [
    "EARTH_RADIUS_KM",
    "MAX_EXACT_LIMIT",
    "METHOD_EXACT",
    "METHOD_HEURISTIC",
    "Route",
    "Timetable",
    "arrival_times",
    "distance_matrix",
    "haversine_km",
    "plan_route",
    "timetable",
]

# IUGG mean Earth radius; the requirement fixes this value so that distances
# agree with whatever the office's other tools report.
EARTH_RADIUS_KM = 6371.0088

# Held-Karp costs O(2^n * n^2) time and O(2^n * n) memory, doubling with
# every extra stop: n = 14 takes ~0.15 s and ~10 MB in CPython, n = 20 would
# take minutes and gigabytes.  A request must not be able to tie up a worker
# like that, so larger limits are rejected with ValueError.
MAX_EXACT_LIMIT = 14

METHOD_EXACT = "held-karp"
METHOD_HEURISTIC = "multistart-2opt-oropt"

# How many stops nearest to / farthest from the depot get their own
# nearest-neighbour start.  Eight starts plus the insertion tours keep a
# 60-stop tour around 0.2 s while giving the local search enough variety to
# escape a poor first tour.
_EXTRA_STARTS_EACH_SIDE = 4

# Or-opt only tries insertion points beside this many nearest neighbours of
# the moved segment's ends; 10 loses nothing measurable on 30-60 stop tours
# against a full scan while being several times faster.
_NEIGHBOURS = 10

# Or-opt moves segments of 1..3 consecutive stops (the classic Or-1/2/3).
_OR_OPT_MAX_SEGMENT = 3

# Double-bridge kicks applied to the best tour after the multistart.  The
# generator is seeded with a constant, so the output stays a pure function of
# the input; the count is fixed (not time-boxed) for the same reason.
_PERTURBATION_ROUNDS = 30
_PERTURBATION_SEED = 20240601


@dataclass(frozen=True)
class Route:
    """An ordered round trip depot -> stops -> depot.

    ``order`` holds indices into the ``stops`` list given to :func:`plan_route`
    (the depot is implicit at both ends).  ``legs_km`` has ``len(order) + 1``
    entries: depot -> first stop, ..., last stop -> depot; it is empty when
    there are no stops.  ``exact`` is True when the order is provably optimal
    for the distances used; ``method`` names the algorithm that produced it.
    """

    order: list[int]
    distance_km: float
    legs_km: list[float]
    exact: bool
    method: str


@dataclass(frozen=True)
class Timetable:
    """Per-stop ``(arrives_at, departs_at)`` pairs in route order plus the
    time the vehicle is back at the depot."""

    stops: list[tuple[datetime, datetime]]
    return_at: datetime


# --------------------------------------------------------------------------
# Distances
# --------------------------------------------------------------------------


def _check_coordinate(point: tuple[float, float], what: str) -> tuple[float, float]:
    try:
        lat, lon = point
        lat = float(lat)
        lon = float(lon)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a (lat, lon) pair of numbers, got {point!r}") from None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise ValueError(f"{what} must have finite coordinates, got {point!r}")
    # Swapped lat/lon is the most common data-entry error; catching it here
    # beats silently routing to the wrong hemisphere.
    if not -90.0 <= lat <= 90.0:
        raise ValueError(f"{what} latitude must be within [-90, 90], got {lat}")
    if not -180.0 <= lon <= 180.0:
        raise ValueError(f"{what} longitude must be within [-180, 180], got {lon}")
    return lat, lon


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in km between two ``(lat, lon)`` points in degrees."""
    lat1, lon1 = _check_coordinate(a, "point a")
    lat2, lon2 = _check_coordinate(b, "point b")
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2.0) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2.0) ** 2
    # Rounding can push h a hair above 1 for antipodal points, and asin would
    # then raise; clamping keeps the function total.
    h = min(1.0, max(0.0, h))
    return 2.0 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def distance_matrix(points: list[tuple[float, float]]) -> list[list[float]]:
    """Symmetric great-circle distance matrix (km) with a zero diagonal."""
    pts = [_check_coordinate(p, f"points[{i}]") for i, p in enumerate(points)]
    size = len(pts)
    matrix = [[0.0] * size for _ in range(size)]
    for i in range(size):
        row = matrix[i]
        for j in range(i + 1, size):
            # Compute each pair once and mirror it, so the matrix is exactly
            # symmetric (no last-bit disagreement between d[i][j] and d[j][i]).
            dist = haversine_km(pts[i], pts[j])
            row[j] = dist
            matrix[j][i] = dist
    return matrix


def _validated_matrix(matrix: Sequence[Sequence[float]], n_stops: int) -> list[list[float]]:
    """Copy ``matrix`` into plain float lists after checking shape and values."""
    size = n_stops + 1
    if isinstance(matrix, (str, bytes)) or not isinstance(matrix, Sequence):
        raise ValueError("matrix must be a list of rows (lists of km)")
    if len(matrix) != size:
        raise ValueError(
            f"matrix must have {size} rows (depot + {n_stops} stops), got {len(matrix)}"
        )
    result: list[list[float]] = []
    for i, row in enumerate(matrix):
        if isinstance(row, (str, bytes)) or not isinstance(row, Sequence):
            raise ValueError(f"matrix row {i} must be a list of km")
        if len(row) != size:
            raise ValueError(f"matrix row {i} must have {size} columns, got {len(row)}")
        clean: list[float] = []
        for j, value in enumerate(row):
            # bool is an int subclass; True as "1 km" is almost certainly a bug.
            if isinstance(value, bool) or not isinstance(value, Real):
                raise ValueError(f"matrix[{i}][{j}] must be a number of km, got {value!r}")
            fvalue = float(value)
            if not math.isfinite(fvalue) or fvalue < 0.0:
                raise ValueError(
                    f"matrix[{i}][{j}] must be a finite non-negative number of km, got {value!r}"
                )
            clean.append(fvalue)
        result.append(clean)
    return result


# --------------------------------------------------------------------------
# Route planning
# --------------------------------------------------------------------------
#
# Internally a tour is a list of matrix node ids 1..n (the depot, node 0, is
# implicit at both ends) or, inside the local search, a closed path
# [0, v1, ..., vn, 0].  All algorithms take directed distances d[u][v] so a
# one-way road matrix is honoured everywhere.


def _tour_legs(d: list[list[float]], tour: list[int]) -> list[float]:
    if not tour:
        return []
    path = [0, *tour, 0]
    return [d[path[k]][path[k + 1]] for k in range(len(path) - 1)]


def _tour_cost(d: list[list[float]], tour: list[int]) -> float:
    # Summed left to right exactly like _tour_legs so distance_km == sum(legs).
    return sum(_tour_legs(d, tour))


def _held_karp(d: list[list[float]], n: int) -> list[int]:
    """Exact shortest directed tour 0 -> all of 1..n -> 0."""
    if n == 0:
        return []
    full = (1 << n) - 1
    inf = math.inf
    # cost[mask][j]: cheapest path from the depot through exactly the stops in
    # mask, ending at stop j (bit j, node j + 1).  parent[] allows the order
    # to be rebuilt without storing paths.
    cost = [[inf] * n for _ in range(1 << n)]
    parent = [[-1] * n for _ in range(1 << n)]
    for j in range(n):
        cost[1 << j][j] = d[0][j + 1]
    for mask in range(1, full + 1):
        if mask & (mask - 1) == 0:
            continue  # singletons were seeded above
        row = cost[mask]
        prow = parent[mask]
        members = [j for j in range(n) if mask >> j & 1]
        for j in members:
            prev_mask = mask ^ (1 << j)
            prev_row = cost[prev_mask]
            node_j = j + 1
            best = inf
            best_k = -1
            # Ascending k with strict '<' breaks ties towards the lower index,
            # which keeps the result stable across runs and platforms.
            for k in members:
                if k == j:
                    continue
                cand = prev_row[k] + d[k + 1][node_j]
                if cand < best:
                    best = cand
                    best_k = k
            row[j] = best
            prow[j] = best_k
    best = inf
    last = -1
    for j in range(n):
        cand = cost[full][j] + d[j + 1][0]
        if cand < best:
            best = cand
            last = j
    order: list[int] = []
    mask = full
    while last != -1:
        order.append(last + 1)
        prev = parent[mask][last]
        mask ^= 1 << last
        last = prev
    order.reverse()
    return order


def _nearest_neighbour(d: list[list[float]], n: int, first: int | None = None) -> list[int]:
    unvisited = set(range(1, n + 1))
    tour: list[int] = []
    current = 0
    if first is not None:
        tour.append(first)
        unvisited.discard(first)
        current = first
    while unvisited:
        row = d[current]
        # min over (distance, node) so ties go to the lower node id.
        nxt = min(unvisited, key=lambda v: (row[v], v))
        tour.append(nxt)
        unvisited.discard(nxt)
        current = nxt
    return tour


def _insertion_tour(d: list[list[float]], n: int, farthest: bool) -> list[int]:
    """Cheapest insertion (farthest=False) or farthest insertion (True)."""
    path = [0, 0]  # closed path; grows by inserting between path[p] and path[p+1]
    remaining = list(range(1, n + 1))
    # Distance of each outside node to the partial tour, used only to pick the
    # next node for farthest insertion; both directions count on one-way maps.
    near = {v: min(d[0][v], d[v][0]) for v in remaining}
    while remaining:
        if farthest:
            pick = max(remaining, key=lambda v: (near[v], -v))
            candidates = [pick]
        else:
            candidates = remaining
        best = (math.inf, 0, 0)
        for v in candidates:
            for p in range(len(path) - 1):
                a, b = path[p], path[p + 1]
                delta = d[a][v] + d[v][b] - d[a][b]
                if delta < best[0]:
                    best = (delta, v, p)
        _, v, p = best
        path.insert(p + 1, v)
        remaining.remove(v)
        if farthest:
            for u in remaining:
                near[u] = min(near[u], d[v][u], d[u][v])
    return path[1:-1]


def _prefix_costs(d: list[list[float]], p: list[int]) -> tuple[list[float], list[float]]:
    """Forward and backward cumulative edge costs along the closed path ``p``.

    fwd[k] is the cost of p[0] -> ... -> p[k]; bwd[k] the cost of traversing
    the same edges the other way.  A reversed segment p[i..j] then costs
    bwd[j] - bwd[i] instead of fwd[j] - fwd[i], which is what makes 2-opt and
    reversed Or-opt correct on asymmetric (one-way) matrices.  For symmetric
    matrices both sums add identical numbers in identical order, so the
    difference is exactly zero and adds no rounding noise.
    """
    fwd = [0.0] * len(p)
    bwd = [0.0] * len(p)
    f = b = 0.0
    for k in range(1, len(p)):
        u, v = p[k - 1], p[k]
        f += d[u][v]
        b += d[v][u]
        fwd[k] = f
        bwd[k] = b
    return fwd, bwd


@dataclass(frozen=True)
class _Neighbours:
    """Per node, the closest nodes to arrive from (pred) and to go to (succ)."""

    pred: list[list[int]]
    succ: list[list[int]]


def _neighbours(d: list[list[float]], n: int) -> _Neighbours:
    nodes = range(n + 1)
    # Two lists because on a one-way map "close to v" depends on direction.
    # Keys include the node id so ties are broken by index.
    pred = [
        sorted((u for u in nodes if u != v), key=lambda u: (d[u][v], u))[:_NEIGHBOURS]
        for v in nodes
    ]
    succ = [
        sorted((w for w in nodes if w != v), key=lambda w: (d[v][w], w))[:_NEIGHBOURS]
        for v in nodes
    ]
    return _Neighbours(pred=pred, succ=succ)


def _positions(p: list[int]) -> list[int]:
    """Index of each stop in the closed path (the depot's entry is unused)."""
    pos = [0] * (len(p) - 1)
    for k in range(1, len(p) - 1):
        pos[p[k]] = k
    return pos


def _two_opt(d: list[list[float]], p: list[int], eps: float) -> bool:
    """Reverse segments of the closed path ``p`` in place until none helps."""
    m = len(p)
    changed = False
    improved = True
    while improved:
        improved = False
        fwd, bwd = _prefix_costs(d, p)
        i = 1
        while i < m - 2:
            a, b = p[i - 1], p[i]
            da = d[a]
            base = d[a][b]
            fi, bi = fwd[i], bwd[i]
            for j in range(i + 1, m - 1):
                c, e = p[j], p[j + 1]
                delta = (
                    da[c] + d[b][e] - base - d[c][e] + (bwd[j] - bi) - (fwd[j] - fi)
                )
                if delta < -eps:
                    p[i : j + 1] = p[i : j + 1][::-1]
                    fwd, bwd = _prefix_costs(d, p)
                    improved = changed = True
                    # Re-scan from the same i: its first edge has changed.
                    break
            else:
                i += 1
    return changed


def _or_opt(d: list[list[float]], near: _Neighbours, p: list[int], eps: float) -> bool:
    """Move segments of 1..3 stops (optionally reversed) elsewhere, in place.

    Only insertion points next to one of the segment ends' nearest neighbours
    are priced (an improving move almost always creates a short edge); this
    cuts the work per pass by roughly n / (2 * _NEIGHBOURS) and is what keeps
    a 60-stop tour well under a second.
    """
    m = len(p)
    last_edge = m - 2  # edge index of "last stop -> depot"
    changed = False
    improved = True
    while improved:
        improved = False
        for length in range(1, _OR_OPT_MAX_SEGMENT + 1):
            fwd, bwd = _prefix_costs(d, p)
            pos = _positions(p)
            i = 1
            while i + length - 1 <= m - 2:
                e = i + length - 1
                prev, nxt = p[i - 1], p[e + 1]
                s, t = p[i], p[e]
                removal_gain = d[prev][s] + d[t][nxt] - d[prev][nxt]
                reverse_extra = (bwd[e] - bwd[i]) - (fwd[e] - fwd[i])
                best_delta = -eps
                best_k = -1
                best_rev = False
                # Edge indices worth pricing: after a close predecessor of
                # the segment's new first stop, or before a close successor of
                # its new last stop.  The depot sits at both ends of the path:
                # as a tail it is edge 0, as a head the last edge.  Lists are
                # in a fixed order and only a strictly better move replaces the
                # incumbent, so ties resolve the same way on every run.
                for rev, first, final in ((False, s, t), (True, t, s)):
                    if rev and length == 1:
                        break  # reversing a single stop is the same move
                    extra = reverse_extra if rev else 0.0
                    dfinal = d[final]
                    edges = [pos[a] if a else 0 for a in near.pred[first]]
                    edges += [pos[b] - 1 if b else last_edge for b in near.succ[final]]
                    for k in edges:
                        if i - 1 <= k <= e:
                            continue  # edges touching the segment: a no-op move
                        a, b = p[k], p[k + 1]
                        delta = d[a][first] + dfinal[b] - d[a][b] + extra - removal_gain
                        if delta < best_delta:
                            best_delta, best_k, best_rev = delta, k, rev
                if best_k < 0:
                    i += 1
                    continue
                segment = p[i : e + 1]
                if best_rev:
                    segment.reverse()
                rest = p[:i] + p[e + 1 :]
                at = best_k if best_k < i else best_k - length
                p[:] = rest[: at + 1] + segment + rest[at + 1 :]
                improved = changed = True
                fwd, bwd = _prefix_costs(d, p)
                pos = _positions(p)
                i += 1
    return changed


def _local_search(
    d: list[list[float]], near: _Neighbours, tour: list[int], eps: float
) -> list[int]:
    p = [0, *tour, 0]
    while True:
        _two_opt(d, p, eps)
        # 2-opt has converged; only if Or-opt changes the tour can 2-opt find
        # something new, so stop as soon as Or-opt is also stuck.
        if not _or_opt(d, near, p, eps):
            return p[1:-1]


def _double_bridge(tour: list[int], rng: random.Random) -> list[int]:
    n = len(tour)
    a, b, c = sorted(rng.sample(range(1, n), 3))
    return tour[:a] + tour[b:c] + tour[a:b] + tour[c:]


def _heuristic(d: list[list[float]], n: int) -> list[int]:
    scale = max((max(row) for row in d), default=0.0)
    # Moves must gain more than float noise, otherwise equal-cost moves could
    # cycle forever; 1e-9 relative is far below anything that matters in km.
    eps = 1e-9 * max(1.0, scale)
    near = _neighbours(d, n)

    starts: list[list[int]] = [
        _nearest_neighbour(d, n),
        _insertion_tour(d, n, farthest=True),
        _insertion_tour(d, n, farthest=False),
    ]
    by_depot_distance = sorted(range(1, n + 1), key=lambda v: (d[0][v], v))
    firsts = (
        by_depot_distance[:_EXTRA_STARTS_EACH_SIDE]
        + by_depot_distance[-_EXTRA_STARTS_EACH_SIDE:]
    )
    for v in dict.fromkeys(firsts):  # de-duplicated, order kept (small n overlap)
        starts.append(_nearest_neighbour(d, n, first=v))

    best_tour: list[int] = []
    best_cost = math.inf
    seen_tours: set[tuple[int, ...]] = set()
    for start in starts:
        key = tuple(start)
        if key in seen_tours:
            continue  # identical starts give identical local optima
        seen_tours.add(key)
        tour = _local_search(d, near, start, eps)
        cost = _tour_cost(d, tour)
        # Strict '<' keeps the earliest start on ties: deterministic.
        if cost < best_cost - eps:
            best_tour, best_cost = tour, cost

    # Iterated local search: kick the incumbent with a double bridge (a move
    # 2-opt and Or-opt cannot undo in one step) and keep improvements.  The
    # caller guarantees n >= 4, enough for the bridge's three cut points.
    rng = random.Random(_PERTURBATION_SEED)
    for _ in range(_PERTURBATION_ROUNDS):
        tour = _local_search(d, near, _double_bridge(best_tour, rng), eps)
        cost = _tour_cost(d, tour)
        if cost < best_cost - eps:
            best_tour, best_cost = tour, cost
    return best_tour


def plan_route(
    depot: tuple[float, float],
    stops: list[tuple[float, float]],
    matrix: list[list[float]] | None = None,
    exact_limit: int = 9,
) -> Route:
    """Order ``stops`` to minimise the round trip from and back to ``depot``.

    Without ``matrix`` great-circle distances are used.  ``matrix`` is an
    (n+1) x (n+1) table of km, index 0 the depot and i+1 the i-th stop; it may
    be asymmetric (one-way roads); its diagonal is validated but not used, and
    the coordinates are then ignored (only ``len(stops)`` matters).  Tours with
    at most ``exact_limit`` stops (and any tour of up to 3) are solved exactly
    with Held-Karp; larger ones by a deterministic multistart 2-opt + Or-opt
    local search followed by a fixed-seed perturbation phase.  Raises
    ValueError for a malformed matrix, bad coordinates or an ``exact_limit``
    outside ``[0, MAX_EXACT_LIMIT]``.
    """
    if isinstance(exact_limit, bool) or not isinstance(exact_limit, int):
        raise ValueError(f"exact_limit must be an int, got {exact_limit!r}")
    if not 0 <= exact_limit <= MAX_EXACT_LIMIT:
        raise ValueError(f"exact_limit must be within [0, {MAX_EXACT_LIMIT}], got {exact_limit}")
    n = len(stops)
    if matrix is None:
        d = distance_matrix([depot, *stops])
    else:
        d = _validated_matrix(matrix, n)

    # Below 4 stops there is nothing for the local search (or a double
    # bridge) to work with, and exact is trivially cheap, so a tiny
    # exact_limit never forces the heuristic onto them.
    if n <= max(exact_limit, 3):
        tour = _held_karp(d, n)
        exact, method = True, METHOD_EXACT
    else:
        tour = _heuristic(d, n)
        exact, method = False, METHOD_HEURISTIC

    legs = _tour_legs(d, tour)
    return Route(
        order=[v - 1 for v in tour],
        distance_km=sum(legs),
        legs_km=legs,
        exact=exact,
        method=method,
    )


# --------------------------------------------------------------------------
# Timetable
# --------------------------------------------------------------------------


def _ceil_minute(moment: datetime) -> datetime:
    floored = moment.replace(second=0, microsecond=0)
    return floored if floored == moment else floored + timedelta(minutes=1)


def timetable(
    depart_at: datetime,
    legs_km: list[float],
    service_minutes: list[int],
    speed_kmh: float,
) -> Timetable:
    """Arrival/departure per stop and the return time at the depot.

    Drive time of a leg is ``km / speed_kmh`` hours.  Every arrival (and the
    return) is rounded *up* to the next whole clock minute, so the published
    times are never earlier than the vehicle can make it at the average speed;
    a stop's departure is its rounded arrival plus its whole service minutes.
    ``legs_km`` is :attr:`Route.legs_km` (n + 1 legs) and ``service_minutes``
    is in route order (n entries); with no stops both are empty and the
    vehicle "returns" at ``depart_at``.
    """
    if isinstance(speed_kmh, bool) or not isinstance(speed_kmh, Real):
        raise ValueError(f"speed_kmh must be a number, got {speed_kmh!r}")
    if not (math.isfinite(speed_kmh) and speed_kmh > 0):
        raise ValueError(f"speed_kmh must be a finite number > 0, got {speed_kmh!r}")
    n = len(service_minutes)
    expected_legs = n + 1 if n else 0
    if len(legs_km) != expected_legs:
        raise ValueError(
            f"legs_km must have {expected_legs} entries for {n} stops, got {len(legs_km)}"
        )
    for k, km in enumerate(legs_km):
        if isinstance(km, bool) or not isinstance(km, Real) or not math.isfinite(km) or km < 0:
            raise ValueError(f"legs_km[{k}] must be a finite non-negative number, got {km!r}")
    for k, minutes in enumerate(service_minutes):
        # Whole minutes only: fractional service times would defeat the
        # whole-minute timetable.
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0:
            raise ValueError(
                f"service_minutes[{k}] must be a non-negative int, got {minutes!r}"
            )

    def drive(km: float) -> timedelta:
        # timedelta rounds to the microsecond, which absorbs float noise such
        # as 20.000000000000004 minutes before _ceil_minute sees it.
        return timedelta(hours=float(km) / float(speed_kmh))

    if n == 0:
        return Timetable(stops=[], return_at=depart_at)
    clock = depart_at
    stops: list[tuple[datetime, datetime]] = []
    for km, minutes in zip(legs_km, service_minutes):
        arrives = _ceil_minute(clock + drive(km))
        departs = arrives + timedelta(minutes=minutes)
        stops.append((arrives, departs))
        clock = departs
    return Timetable(stops=stops, return_at=_ceil_minute(clock + drive(legs_km[-1])))


def arrival_times(
    depart_at: datetime,
    legs_km: list[float],
    service_minutes: list[int],
    speed_kmh: float,
) -> list[tuple[datetime, datetime]]:
    """``(arrives_at, departs_at)`` per stop in route order.

    Same rules as :func:`timetable`; use that function when the return time at
    the depot is also needed.
    """
    return timetable(depart_at, legs_km, service_minutes, speed_kmh).stops
