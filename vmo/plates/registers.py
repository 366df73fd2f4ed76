"""The office's registers: which of them hold a plate.

A feature that holds plates (fleet vehicles and the plate pool, the motorcycle register, ...) provides
a register: a name and a function (office_id, plates) -> the subset of `plates` it holds. `holding`
asks them all (or the ones named in `among`) in one query each. This package names no feature: the
features provide their registers when their module is imported, as the app factory does for all.

A plate is one physical plate across the deployment (the plate columns are unique without the
office), so a register may answer for every office: a plate held in another office is not free here.
"""
from collections.abc import Callable, Collection, Iterable

Register = Callable[[int, Collection[str]], set[str]]
_registers: dict[str, Register] = {}


def provide(name: str, register: Register) -> None:
    """Add (or replace, when a module is reloaded) the register called `name`."""
    _registers[name] = register


def names() -> list[str]:
    return sorted(_registers)


def holding(office_id: int, plates: Iterable[str], among: Collection[str] | None = None) -> dict[str, list[str]]:
    """Plate -> the names of the registers holding it, for the plates held somewhere (others are left out).

    `among` limits the question to those registers; a name nobody provides is a programming error.
    """
    wanted = sorted(set(plates))
    asked = names() if among is None else sorted(among)
    missing = [name for name in asked if name not in _registers]
    if missing:
        raise LookupError(f"no plate register called {', '.join(missing)} (known: {', '.join(names())})")
    held: dict[str, list[str]] = {}
    if not wanted:
        return held
    for name in asked:
        for plate in sorted(_registers[name](office_id, wanted)):
            held.setdefault(plate, []).append(name)
    return held


def held_by(office_id: int, plate: str, among: Collection[str] | None = None) -> list[str]:
    """The names of the registers holding `plate` (empty when none does)."""
    return holding(office_id, [plate], among).get(plate, [])
