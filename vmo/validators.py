"""Checks for the identifiers the office handles: VINs, credit codes, resident IDs, mobiles and plates."""
import random
import re
import string
from dataclasses import dataclass
from datetime import date
from typing import Literal

__all__ = [
    "PLATE_CHARS",
    "PLATE_LETTERS",
    "PLATE_PROVINCES",
    "ResidentId",
    "age_on",
    "credit_code_check_char",
    "normalize_vin",
    "random_plate",
    "resident_id_check_char",
    "validate_credit_code",
    "validate_mobile",
    "validate_plate",
    "validate_plate_prefix",
    "validate_resident_id",
    "validate_vin",
    "vin_check_digit",
]

# Only ASCII letters are upper-cased: str.upper() turns "ß" into "SS" and would change the length.
_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
# Explicit sets rather than str.isdigit()/isalnum(), which accept "²", "１" and other non-ASCII digits.
_DIGITS = frozenset(string.digits)


def _clean(value: str) -> str:
    """Strip surrounding whitespace and upper-case ASCII letters."""
    if not isinstance(value, str):
        # A number sent as a JSON integer is a caller bug, not a user typo.
        raise TypeError(f"expected str, got {type(value).__name__}")
    return value.strip().translate(_ASCII_UPPER)


# --- VIN (GB 16735 / ISO 3779) -------------------------------------------------------------------

_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
# Letters count up in runs A-H, J-R, S-Z; I, O and Q are gaps, hence P=7 and R=9.
_VIN_VALUES: dict[str, int] = {
    **{d: int(d) for d in string.digits},
    **dict(zip("ABCDEFGH", range(1, 9))),
    **dict(zip("JKLMN", range(1, 6))),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10))),
}
_VIN_ALNUM = frozenset(string.digits + string.ascii_uppercase)


def normalize_vin(vin: str) -> str:
    """Strip and upper-case `vin`; check its length and characters, not its check digit."""
    value = _clean(vin)
    if len(value) != 17:
        raise ValueError("must be 17 characters")
    if not _VIN_ALNUM.issuperset(value):
        raise ValueError("must contain only letters and digits")
    if any(c in "IOQ" for c in value):
        raise ValueError("must not contain I, O or Q")
    return value


def vin_check_digit(vin: str) -> str:
    """The check digit (position 9) `vin` should carry; its own position 9 is ignored (weight 0)."""
    value = normalize_vin(vin)
    remainder = sum(_VIN_VALUES[c] * w for c, w in zip(value, _VIN_WEIGHTS)) % 11
    return "X" if remainder == 10 else str(remainder)


def validate_vin(vin: str) -> str:
    """Return the normalized VIN, or raise ValueError; imported (non-L) VINs are checked the same way."""
    value = normalize_vin(vin)
    expected = vin_check_digit(value)
    if value[8] != expected:
        raise ValueError(f"check digit is {expected}, not {value[8]}")
    return value


# --- Unified social credit code (GB 32100-2015) --------------------------------------------------

_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUES = {c: i for i, c in enumerate(_CREDIT_ALPHABET)}
# 3**i mod 31: every weight is non-zero mod the prime 31, so any single wrong character is caught.
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_CHARS_MESSAGE = "must contain only digits and the letters A-H, J-N, P-R, T, U, W-Y"


def credit_code_check_char(first17: str) -> str:
    """The 18th character for the first 17 characters of a credit code."""
    value = _clean(first17)
    if len(value) != 17:
        raise ValueError("must be 17 characters")
    if not all(c in _CREDIT_VALUES for c in value):
        raise ValueError(_CREDIT_CHARS_MESSAGE)
    total = sum(_CREDIT_VALUES[c] * w for c, w in zip(value, _CREDIT_WEIGHTS))
    return _CREDIT_ALPHABET[-total % 31]


def validate_credit_code(code: str) -> str:
    """Return the normalized 18-character credit code, or raise ValueError."""
    value = _clean(code)
    if len(value) != 18:
        raise ValueError("must be 18 characters")
    if not all(c in _CREDIT_VALUES for c in value):
        raise ValueError(_CREDIT_CHARS_MESSAGE)
    # Characters 1-2 (authority, entity type) may be letters such as Y or N; only the region is numeric.
    if not _DIGITS.issuperset(value[2:8]):
        raise ValueError("characters 3 to 8 must be digits (the region code)")
    expected = credit_code_check_char(value[:17])
    if value[17] != expected:
        raise ValueError(f"check character is {expected}, not {value[17]}")
    return value


# --- Resident identity card number (GB 11643) ----------------------------------------------------

# Province-level prefixes of GB/T 2260 (71 is Taiwan), plus 81/82/83: residence permits for Hong Kong,
# Macao and Taiwan residents use address codes 810000, 820000 and 830000.
_PROVINCE_PREFIXES = frozenset(
    str(n) for n in (*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47),
                     *range(50, 55), *range(61, 66), 71, 81, 82, 83)
)
# 2**(17-i) mod 11, and "10X98765432" maps sum % 11 to the character that makes the total 1 mod 11.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_EARLIEST_BIRTH = date(1900, 1, 1)


@dataclass(frozen=True)
class ResidentId:
    """A checked resident ID number and what it encodes."""

    number: str
    region_code: str
    birth_date: date
    sex: Literal["M", "F"]


def resident_id_check_char(first17: str) -> str:
    """The 18th character (ISO 7064 MOD 11-2) for the first 17 digits of a resident ID."""
    value = _clean(first17)
    if len(value) != 17 or not _DIGITS.issuperset(value):
        raise ValueError("must be 17 digits")
    return _ID_CHECK_CHARS[sum(int(c) * w for c, w in zip(value, _ID_WEIGHTS)) % 11]


def validate_resident_id(number: str, today: date | None = None) -> ResidentId:
    """Parse an 18-character resident ID; `today` should be the office's local date (default: host date)."""
    value = _clean(number)  # also turns a trailing "x" into "X"
    if len(value) != 18:
        raise ValueError("must be 18 characters")
    if not _DIGITS.issuperset(value[:17]) or value[17] not in "0123456789X":
        raise ValueError("must be 17 digits followed by a digit or X")
    # No county list: real codes include abolished and renamed ones (500384 next to 500119), and a
    # bundled list always lags the real one. The province prefix rejects the impossible ones only.
    if value[:2] not in _PROVINCE_PREFIXES:
        raise ValueError(f"region code {value[:6]} is not in a known province")
    birth_date = _birth_date(value[6:14], date.today() if today is None else today)
    expected = resident_id_check_char(value[:17])
    if value[17] != expected:
        raise ValueError(f"check character is {expected}, not {value[17]}")
    sex: Literal["M", "F"] = "M" if int(value[16]) % 2 else "F"
    return ResidentId(number=value, region_code=value[:6], birth_date=birth_date, sex=sex)


def _birth_date(yyyymmdd: str, today: date) -> date:
    shown = f"{yyyymmdd[:4]}-{yyyymmdd[4:6]}-{yyyymmdd[6:]}"
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        raise ValueError(f"birth date {shown} is not a real date") from None
    if born > today:
        raise ValueError(f"birth date {shown} is in the future")
    if born < _EARLIEST_BIRTH:
        raise ValueError(f"birth date {shown} is before 1900")
    return born


def age_on(birth_date: date, day: date) -> int:
    """Full years of age on `day`; a 29 February birthday counts as reached on 1 March in other years."""
    if day < birth_date:
        raise ValueError("day is before the birth date")
    # Comparing (month, day) tuples makes (2, 28) < (2, 29) < (3, 1) hold in every year.
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


# --- Mobile numbers ------------------------------------------------------------------------------

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_PHONE_SEPARATORS = re.compile(r"[\s-]")


def validate_mobile(phone: str) -> str:
    """Return the bare 11-digit mainland mobile number, or raise ValueError."""
    if not isinstance(phone, str):
        raise TypeError(f"expected str, got {type(phone).__name__}")
    value = _PHONE_SEPARATORS.sub("", phone)
    for prefix in ("+86", "0086"):
        if value.startswith(prefix):
            value = value[len(prefix):]
            break
    else:
        # A bare "86" is only a country code when 11 digits follow it.
        if len(value) == 13 and value.startswith("86"):
            value = value[2:]
    if not _MOBILE.fullmatch(value):
        raise ValueError("not a mainland mobile number")
    return value


# --- Number plates (GA 36) -----------------------------------------------------------------------

PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# I and O are never used on plates: they read as 1 and 0.
PLATE_LETTERS = "".join(c for c in string.ascii_uppercase if c not in "IO")
PLATE_CHARS = string.digits + PLATE_LETTERS
_NEW_ENERGY_FIRST = "DF"  # D: battery electric; F: other new-energy (hybrids, fuel cells)
# The plate shows U+00B7; IMEs and fonts produce several look-alike dots.
_PLATE_DOTS = "\u00b7\u2022\u2027\u30fb\uff65"
_PLATE_CHARS_SET = frozenset(PLATE_CHARS)
_PLATE_CHARS_MESSAGE = "must contain only digits and letters other than I and O"


def _compact_plate(plate: str) -> str:
    if not isinstance(plate, str):
        raise TypeError(f"expected str, got {type(plate).__name__}")
    kept = (c for c in plate if not c.isspace() and c not in _PLATE_DOTS)
    return "".join(kept).translate(_ASCII_UPPER)


def validate_plate_prefix(prefix: str) -> str:
    """Return a normalized office prefix such as "渝G" (province character + authority letter)."""
    value = _compact_plate(prefix)
    if len(value) != 2 or value[0] not in PLATE_PROVINCES or value[1] not in PLATE_LETTERS:
        raise ValueError("must be a province character and a letter other than I or O, such as 渝G")
    return value


def validate_plate(plate: str) -> str:
    """Return the plate without spaces or dots ("渝G·12345" -> "渝G12345"), or raise ValueError."""
    value = _compact_plate(plate)
    if not value or value[0] not in PLATE_PROVINCES:
        raise ValueError("must start with a province character such as 渝")
    if len(value) < 2 or value[1] not in PLATE_LETTERS:
        raise ValueError("second character must be a letter other than I or O")
    serial = value[2:]
    if len(serial) not in (5, 6):
        raise ValueError("must have 5 or 6 characters after the first two")
    if not _PLATE_CHARS_SET.issuperset(serial):
        raise ValueError(_PLATE_CHARS_MESSAGE)
    if len(serial) == 5:
        if sum(c in PLATE_LETTERS for c in serial) > 2:
            raise ValueError("must have at most 2 letters after the first two characters")
    elif serial[-1] in _NEW_ENERGY_FIRST and _DIGITS.issuperset(serial[:5]):
        pass  # a large new-energy vehicle's plate (buses, heavy trucks): 5 digits, then D or F
    else:
        if serial[0] not in _NEW_ENERGY_FIRST:
            raise ValueError("a new-energy plate must have D or F as its third character "
                             "(or, on a large vehicle, 5 digits and then D or F)")
        if not _DIGITS.issuperset(serial[2:]):
            raise ValueError("a new-energy plate must end with 4 digits")
    return value


def random_plate(prefix: str, new_energy: bool, rng: random.Random, large: bool = False) -> str:
    """A random valid plate under `prefix`; new-energy ones have 6 characters after the prefix.

    GA 36-2018: a small new-energy vehicle's serial starts with D/F; a large one's ends with it.
    """
    head = validate_plate_prefix(prefix)
    if new_energy and large:
        return head + "".join(rng.choice(string.digits) for _ in range(5)) + rng.choice(_NEW_ENERGY_FIRST)
    if new_energy:
        serial = rng.choice(_NEW_ENERGY_FIRST) + rng.choice(PLATE_CHARS)
        return head + serial + "".join(rng.choice(string.digits) for _ in range(4))
    # Redraw until at most 2 letters: uniform over all valid serials, about 6.5 draws on average.
    while True:
        serial = "".join(rng.choice(PLATE_CHARS) for _ in range(5))
        if sum(c in PLATE_LETTERS for c in serial) <= 2:
            return head + serial


# ---- postal addresses ----------------------------------------------------------------------------
# A mainland address as a courier needs it: province (省, 自治区, a 直辖市 such as 重庆市), city (市,
# 自治州, 地区, 盟; a 直辖市 is its own city), district or county (区, 县, 旗, a county-level 市), then
# the street and number (路, 街, 号, 村, ...). Only the shape is checked: the names are not looked up.
_MUNICIPALITIES = ("北京", "天津", "上海", "重庆")
_PROVINCE = re.compile(r"^(?:(?:北京|天津|上海|重庆)市?|[\u4e00-\u9fff]{2,7}?(?:省|自治区|特别行政区))")
_CITY = re.compile(r"^[\u4e00-\u9fff]{1,10}?(?:自治州|地区|盟|市)")
_DISTRICT = re.compile(r"^[\u4e00-\u9fff]{1,12}?(?:自治县|区|县|旗|市)")
_STREET = re.compile(r"[路街巷道弄号村组镇乡栋幢室楼\d]")
ADDRESS_MAX = 200


def address_problems(text: str) -> list[str]:
    """What a postal address is missing, in order (province, city, district, street); [] when complete."""
    rest = re.sub(r"\s+", "", text or "")
    if not rest:
        return ["the address is empty"]
    if len(rest) > ADDRESS_MAX:
        return [f"the address is longer than {ADDRESS_MAX} characters"]
    problems = []
    province = _PROVINCE.match(rest)
    if province is None:
        problems.append("the province is missing (省, 自治区, or a city such as 重庆市)")
    else:
        rest = rest[province.end():]
    if province is None or not province.group(0).startswith(_MUNICIPALITIES):
        city = _CITY.match(rest)
        if city is None:
            problems.append("the city is missing (市, 自治州, 地区 or 盟)")
        else:
            rest = rest[city.end():]
    district = _DISTRICT.match(rest)
    if district is None:
        problems.append("the district or county is missing (区, 县 or 旗)")
    else:
        rest = rest[district.end():]
    if len(rest) < 2 or not _STREET.search(rest):
        problems.append("the street and number are missing (e.g. 某某路12号, 某某镇某某村3组)")
    return problems


def validate_address(text: str) -> str:
    """A postal address with its spaces removed; ValueError naming every part that is missing."""
    problems = address_problems(text)
    if problems:
        raise ValueError("; ".join(problems))
    return re.sub(r"\s+", "", text)
