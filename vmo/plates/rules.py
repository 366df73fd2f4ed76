"""A plate number, its kind and its format rules, GA 36-2018《中华人民共和国机动车号牌》.

- 5.9 (table 3): the serial uses digits and the letters A-Z except I and O (they read as 1 and 0).
- Table 4: an ordinary (blue) plate has a 5-character serial with at most two letters.
- Tables 5/6: a new-energy (green) plate has a 6-character serial; on a small vehicle it starts with
  the energy letter, then a letter or digit, then four digits; on a large vehicle (buses, heavy trucks)
  it is five digits, then D or F.
- The energy letters of a small new-energy plate: D, A, B, C or E for a battery-electric vehicle and
  F, G, H, J or K for the other new-energy ones (plug-in hybrid, fuel cell), D and F first, the others
  as an office's D or F series runs out. The standard's own text was not at hand: this is as the
  secondary sources that quote GA 36-2018 give it (a 2021 note on the standard lists exactly these
  ten letters; the 2016 announcement and most sources name only D and F). Fairly sure of the two
  families, less of whether large plates may end in the added letters too: they end in D or F here.
The office's own rules (自编自选 within the office's prefix, at most two letters on any plate) are
checked in `composed_plate_problems`. The character-level checks (provinces, letters, a plate read
from a form) are vmo.validators'.
"""
from enum import StrEnum

from vmo import validators


class PlateKind(StrEnum):
    ORDINARY = "ordinary"
    NEW_ENERGY = "new_energy"
    NEW_ENERGY_LARGE = "new_energy_large"


MAX_LETTERS = 2  # GA 36-2018 table 4 for ordinary plates; the office applies it to every plate
# Large vehicles: their new-energy plates put D/F last (yellow-green plates, GA 36-2018 table 6).
LARGE_VEHICLE_TYPES = ("bus", "heavy_truck")
# These get the green new-energy plates (6 characters with D or F).
NEW_ENERGY_FUELS = ("plug_in_hybrid", "electric", "fuel_cell")


def kind_for(fuel_type: str, vehicle_type: str) -> PlateKind:
    """The plate kind a vehicle of this fuel and type gets."""
    if fuel_type not in NEW_ENERGY_FUELS:
        return PlateKind.ORDINARY
    return PlateKind.NEW_ENERGY_LARGE if vehicle_type in LARGE_VEHICLE_TYPES else PlateKind.NEW_ENERGY


# A small new-energy plate's first serial character, per energy family (GA 36-2018, see above): the
# first letter is the one an office's pool uses; a self-composed number may use any of the family.
ENERGY_LETTERS = {"D": "DABCE", "F": "FGHJK"}


def energy_letter(fuel_type: str) -> str:
    """GA 36-2018 tables 5/6: D for battery-electric vehicles, F for the other new-energy ones."""
    return "D" if fuel_type == "electric" else "F"


def reserved_numbers(prefix: str, reserved) -> set[str]:
    """The office's numbers kept back (VMO_PLATE_RESERVED): an entry is a whole plate ("渝G88888") or a
    serial kept back under every prefix ("88888" is 渝G88888 here)."""
    return {normalise(entry) if not entry[:1].isascii() else prefix + normalise(entry) for entry in reserved if entry}


def normalise(plate: str) -> str:
    """Spaces and the plate's dot removed, letters upper-cased: "渝g·a1234" -> "渝GA1234"."""
    return "".join(c for c in plate if not c.isspace() and c not in "\u00b7\u2022\u2027\u30fb\uff65").upper()


def composed_plate_problems(plate: str, prefix: str, kind: str, letter: str) -> list[str]:
    """Every rule a self-composed number breaks (empty when it may be reserved)."""
    problems = []
    if not plate.startswith(prefix):
        problems.append(f"must start with this office's prefix {prefix}")
    serial = plate[len(prefix):] if plate.startswith(prefix) else plate[2:]
    length = 5 if kind == PlateKind.ORDINARY else 6
    if len(serial) != length:
        problems.append(f"a{'n ordinary' if kind == PlateKind.ORDINARY else ' new-energy'} plate has {length} "
                        f"characters after {prefix} (GA 36-2018), not {len(serial)}")
    if any(c in "IO" for c in serial):
        problems.append("I and O are not used on plates: they read as 1 and 0 (GA 36-2018 5.9)")
    if any(c not in validators.PLATE_CHARS and c not in "IO" for c in serial):
        problems.append("only digits and letters may follow the prefix")
    letters = sum(c.isascii() and c.isalpha() for c in serial)
    if letters > MAX_LETTERS:
        problems.append(f"at most {MAX_LETTERS} letters after the prefix, not {letters}")
    family = ENERGY_LETTERS.get(letter, letter)
    if kind == PlateKind.NEW_ENERGY and serial and (serial[0] not in family or not serial[2:].isdigit()):
        problems.append(f"a small new-energy plate is one of {', '.join(family)}, a letter or digit, then 4 digits "
                        f"({'battery electric' if letter == 'D' else 'hybrid or fuel cell'}; GA 36-2018)")
    if kind == PlateKind.NEW_ENERGY_LARGE and serial and (serial[-1] != letter or not serial[:-1].isdigit()):
        problems.append(f"a large new-energy plate is 5 digits, then {letter} (GA 36-2018)")
    return problems
