"""Tests for vmo.validators: known examples, every error message, and single-substitution properties."""
import random
import string
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from vmo.validators import (
    PLATE_CHARS,
    PLATE_LETTERS,
    PLATE_PROVINCES,
    ResidentId,
    age_on,
    credit_code_check_char,
    normalize_vin,
    random_plate,
    resident_id_check_char,
    validate_credit_code,
    validate_mobile,
    validate_plate,
    validate_plate_prefix,
    validate_resident_id,
    validate_vin,
    vin_check_digit,
)

# No example database: it would write .hypothesis/ into the repository, and these tests are cheap.
fast = settings(max_examples=100, deadline=None, database=None)

TODAY = date(2025, 6, 1)


# --- VIN -----------------------------------------------------------------------------------------

VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"


def vin_value(c: str) -> int:
    """Transliteration written from the rule (A-I = 1-9, J-R = 1-9, S-Z = 2-9), not copied from the module."""
    if c.isdigit():
        return int(c)
    if c < "S":
        return (ord(c) - ord("A")) % 9 + 1
    return ord(c) - ord("S") + 2


def make_vin(body: str) -> str:
    """`body` with its position 9 replaced by the right check digit."""
    return body[:8] + vin_check_digit(body) + body[9:]


def test_vin_public_example():
    # The worked example from the Wikipedia article on VINs; its check digit is X.
    assert validate_vin("1M8GDM9AXKP042788") == "1M8GDM9AXKP042788"


def test_vin_chinese_and_imported():
    chinese = make_vin("LSGPC52U0AF102555")
    assert chinese.startswith("L")
    assert validate_vin(chinese) == chinese
    imported = make_vin("WP0ZZZ99ZTS392124")
    assert imported == "WP0ZZZ998TS392124"
    assert validate_vin(imported) == imported


def test_vin_without_check_digit_rejected():
    # European-style VINs may carry a filler in position 9; GB 16735 requires the check digit.
    with pytest.raises(ValueError, match="^check digit is 8, not Z$"):
        validate_vin("WP0ZZZ99ZTS392124")


def test_vin_is_stripped_and_uppercased():
    assert validate_vin("  1m8gdm9axkp042788\n") == "1M8GDM9AXKP042788"
    assert normalize_vin(" lsgpc52u0af102555 ") == "LSGPC52U0AF102555"


def test_vin_check_digit_ignores_position_9():
    assert vin_check_digit("1M8GDM9A0KP042788") == vin_check_digit("1M8GDM9AXKP042788") == "X"


@pytest.mark.parametrize(
    ("vin", "message"),
    [
        ("1M8GDM9AXKP04278", "must be 17 characters"),
        ("1M8GDM9AXKP0427889", "must be 17 characters"),
        ("", "must be 17 characters"),
        ("1M8GDM9AXKP04278-", "must contain only letters and digits"),
        ("1M8GDM9AX P042788", "must contain only letters and digits"),
        ("１M8GDM9AXKP042788", "must contain only letters and digits"),  # full-width digit
        ("1M8GDM9AXKP0427Ä8", "must contain only letters and digits"),
        ("1M8GDM9AXKPO42788", "must not contain I, O or Q"),
        ("IM8GDM9AXKP042788", "must not contain I, O or Q"),
        ("1M8GDM9AXKP04278Q", "must not contain I, O or Q"),
        ("1M8GDM9A1KP042788", "check digit is X, not 1"),
        ("11111111X11111111", "check digit is 1, not X"),
    ],
)
def test_vin_errors(vin, message):
    with pytest.raises(ValueError) as info:
        validate_vin(vin)
    assert str(info.value) == message


def test_vin_upper_does_not_expand_eszett():
    # str.upper() would make this 16-character string 17 characters long ("SS").
    with pytest.raises(ValueError, match="must be 17 characters"):
        validate_vin("1M8GDM9AXKP0427ß")


def test_vin_cannot_see_same_value_substitutions():
    # A limit of the scheme itself: 1, A and J all count as 1, so swapping them keeps the check digit.
    assert validate_vin("11111111111111111")
    assert validate_vin("A1111111111111111")
    assert validate_vin("J1111111111111111")


@st.composite
def valid_vins(draw) -> str:
    return make_vin("".join(draw(st.lists(st.sampled_from(VIN_CHARS), min_size=17, max_size=17))))


@fast
@given(vin=valid_vins())
def test_vin_check_digit_matches_reference(vin):
    weights = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
    remainder = sum(vin_value(c) * w for c, w in zip(vin, weights)) % 11
    assert vin[8] == ("X" if remainder == 10 else str(remainder))
    assert validate_vin(vin) == vin


@fast
@given(vin=valid_vins(), position=st.integers(0, 16), data=st.data())
def test_vin_single_substitution_rejected(vin, position, data):
    if position == 8:
        choices = [c for c in "0123456789X" if c != vin[8]]
    else:
        # Only characters with a different value can be detected (see the test above).
        choices = [c for c in VIN_CHARS if vin_value(c) != vin_value(vin[position])]
    changed = vin[:position] + data.draw(st.sampled_from(choices)) + vin[position + 1:]
    with pytest.raises(ValueError, match="^check digit is "):
        validate_vin(changed)


# --- Unified social credit code ------------------------------------------------------------------

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def make_credit_code(first17: str) -> str:
    return first17 + credit_code_check_char(first17)


def test_credit_code_public_example():
    # The example in python-stdnum's documentation of stdnum.cn.uscc.
    assert validate_credit_code("91110000600037341L") == "91110000600037341L"


def test_credit_code_made_for_the_office():
    code = make_credit_code("91500119MA5U0Q3K8")
    assert validate_credit_code(code) == code
    assert validate_credit_code(f"  {code.lower()} ") == code


def test_credit_code_authority_may_be_a_letter():
    # Y ("other authorities") and N (agriculture) are registration authority codes in GB 32100.
    for first17 in ("Y1500119MA5U0Q3K8", "N2500384MA5U0Q3K8"):
        assert validate_credit_code(make_credit_code(first17))


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91110000600037341", "must be 18 characters"),
        ("91110000600037341L0", "must be 18 characters"),
        ("91110000600037341I", "must contain only digits and the letters A-H, J-N, P-R, T, U, W-Y"),
        ("9111000060003734SL", "must contain only digits and the letters A-H, J-N, P-R, T, U, W-Y"),
        ("91110000-00037341L", "must contain only digits and the letters A-H, J-N, P-R, T, U, W-Y"),
        ("911A0000600037341L", "characters 3 to 8 must be digits (the region code)"),
        ("91110000600037341M", "check character is L, not M"),
        ("911100006000373410", "check character is L, not 0"),
    ],
)
def test_credit_code_errors(code, message):
    with pytest.raises(ValueError) as info:
        validate_credit_code(code)
    assert str(info.value) == message


def test_credit_code_check_char_input_errors():
    with pytest.raises(ValueError, match="must be 17 characters"):
        credit_code_check_char("9111000060003734")
    with pytest.raises(ValueError, match="must contain only digits"):
        credit_code_check_char("9111000060003734O")


@st.composite
def valid_credit_codes(draw) -> str:
    head = draw(st.text(CREDIT_ALPHABET, min_size=2, max_size=2))
    region = draw(st.text("0123456789", min_size=6, max_size=6))
    org = draw(st.text(CREDIT_ALPHABET, min_size=9, max_size=9))
    return make_credit_code(head + region + org)


@fast
@given(code=valid_credit_codes())
def test_credit_code_check_char_matches_python_stdnum(code):
    assert code[17] == uscc.calc_check_digit(code[:17])
    assert validate_credit_code(code) == code


@fast
@given(code=valid_credit_codes(), position=st.integers(0, 17), data=st.data())
def test_credit_code_single_substitution_rejected(code, position, data):
    replacement = data.draw(st.sampled_from([c for c in CREDIT_ALPHABET if c != code[position]]))
    with pytest.raises(ValueError):
        validate_credit_code(code[:position] + replacement + code[position + 1:])


# --- Resident ID ---------------------------------------------------------------------------------

# Nanchuan today and before 2006, other real counties, and the HK / Macao / Taiwan permit codes.
REAL_REGIONS = ["500119", "500384", "110105", "440305", "650102", "542621", "810000", "820000", "830000"]


def make_id(region: str, born: date, sequence: str = "123") -> str:
    first17 = f"{region}{born.year:04d}{born.month:02d}{born.day:02d}{sequence}"
    return first17 + resident_id_check_char(first17)


def test_resident_id_public_example():
    # The example number printed in GB 11643-1999.
    rid = validate_resident_id("11010519491231002X", today=TODAY)
    assert rid == ResidentId(number="11010519491231002X", region_code="110105",
                             birth_date=date(1949, 12, 31), sex="F")


def test_resident_id_is_frozen():
    rid = validate_resident_id("11010519491231002X", today=TODAY)
    with pytest.raises(AttributeError):
        rid.sex = "M"  # type: ignore[misc]


@pytest.mark.parametrize("region", ["500119", "500384"])
def test_resident_id_nanchuan_accepted(region):
    number = make_id(region, date(1990, 5, 17), "011")
    rid = validate_resident_id(number, today=TODAY)
    assert (rid.region_code, rid.birth_date, rid.sex) == (region, date(1990, 5, 17), "M")


@pytest.mark.parametrize("region", ["810000", "820000", "830000", "710000"])
def test_resident_id_permit_codes_accepted(region):
    assert validate_resident_id(make_id(region, date(1985, 1, 2)), today=TODAY).region_code == region


def test_resident_id_lowercase_x():
    rid = validate_resident_id(" 11010519491231002x ", today=TODAY)
    assert rid.number == "11010519491231002X"


def test_resident_id_leap_day():
    assert validate_resident_id(make_id("500119", date(2000, 2, 29)), today=TODAY).birth_date == date(2000, 2, 29)


def test_resident_id_birth_date_bounds():
    assert validate_resident_id(make_id("500119", TODAY), today=TODAY).birth_date == TODAY
    assert validate_resident_id(make_id("500119", date(1900, 1, 1)), today=TODAY).birth_date == date(1900, 1, 1)


def test_resident_id_default_today_rejects_tomorrow():
    tomorrow = date.today() + timedelta(days=1)
    with pytest.raises(ValueError, match="is in the future"):
        validate_resident_id(make_id("500119", tomorrow))


def with_check(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("11010519491231002", "must be 18 characters"),
        ("11010519491231002X1", "must be 18 characters"),
        ("1101051949123100AX", "must be 17 digits followed by a digit or X"),
        ("11010519491231002Y", "must be 17 digits followed by a digit or X"),
        ("１10105194912310029", "must be 17 digits followed by a digit or X"),  # full-width digit
        (with_check("99010519491231002"), "region code 990105 is not in a known province"),
        (with_check("00000019491231002"), "region code 000000 is not in a known province"),
        (with_check("20010519491231002"), "region code 200105 is not in a known province"),
        (with_check("50011920010229001"), "birth date 2001-02-29 is not a real date"),
        (with_check("50011919000229001"), "birth date 1900-02-29 is not a real date"),
        (with_check("50011919901301001"), "birth date 1990-13-01 is not a real date"),
        (with_check("50011920250602001"), "birth date 2025-06-02 is in the future"),
        (with_check("50011918991231001"), "birth date 1899-12-31 is before 1900"),
        # GB 11643's other example: a correct check character, but born in 1880.
        ("440524188001010014", "birth date 1880-01-01 is before 1900"),
        ("110105194912310029", "check character is X, not 9"),
    ],
)
def test_resident_id_errors(number, message):
    with pytest.raises(ValueError) as info:
        validate_resident_id(number, today=TODAY)
    assert str(info.value) == message


def test_resident_id_check_char_input_errors():
    for bad in ("1101051949123100", "1101051949123100A", "110105194912310021"):
        with pytest.raises(ValueError, match="must be 17 digits"):
            resident_id_check_char(bad)


def test_validators_refuse_non_strings():
    with pytest.raises(TypeError):
        validate_mobile(13800138000)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        validate_resident_id(110105194912310029)  # type: ignore[arg-type]


@st.composite
def valid_ids(draw) -> str:
    region = draw(st.sampled_from(REAL_REGIONS))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    return make_id(region, born, draw(st.text("0123456789", min_size=3, max_size=3)))


@fast
@given(number=valid_ids())
def test_resident_id_check_char_matches_python_stdnum(number):
    assert number[17] == ric.calc_check_digit(number)  # stdnum's takes the full number
    rid = validate_resident_id(number, today=TODAY)
    assert rid.sex == ("M" if int(number[16]) % 2 else "F")


@fast
@given(number=valid_ids(), position=st.integers(0, 17), data=st.data())
def test_resident_id_single_substitution_rejected(number, position, data):
    allowed = "0123456789X" if position == 17 else "0123456789"
    replacement = data.draw(st.sampled_from([c for c in allowed if c != number[position]]))
    with pytest.raises(ValueError):
        validate_resident_id(number[:position] + replacement + number[position + 1:], today=TODAY)


# --- age_on --------------------------------------------------------------------------------------

def test_age_on_ordinary_birthday():
    born = date(1990, 5, 17)
    assert age_on(born, date(2008, 5, 16)) == 17
    assert age_on(born, date(2008, 5, 17)) == 18
    assert age_on(born, born) == 0


def test_age_on_leap_day_birthday():
    born = date(2000, 2, 29)
    assert age_on(born, date(2018, 2, 28)) == 17
    assert age_on(born, date(2018, 3, 1)) == 18
    assert age_on(born, date(2020, 2, 28)) == 19
    assert age_on(born, date(2020, 2, 29)) == 20


def test_age_on_before_birth():
    with pytest.raises(ValueError, match="day is before the birth date"):
        age_on(date(2000, 1, 2), date(2000, 1, 1))


# --- Mobile numbers ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "phone",
    [
        "13800138000",
        " 138 0013 8000 ",
        "138-0013-8000",
        "+86 138 0013 8000",
        "+86-13800138000",
        "+8613800138000",
        "8613800138000",
        "86 138-0013-8000",
        "0086 13800138000",
        "138\u30000013\u30008000",  # ideographic spaces from a Chinese IME
    ],
)
def test_mobile_accepted(phone):
    assert validate_mobile(phone) == "13800138000"


def test_mobile_prefixes_range():
    for second in "3456789":
        assert validate_mobile(f"1{second}912345678") == f"1{second}912345678"


@pytest.mark.parametrize(
    "phone",
    [
        "",
        "12800138000",      # second digit 2
        "10086",
        "1380013800",       # 10 digits
        "138001380001",     # 12 digits
        "86138001380",      # "86" followed by only 9 digits
        "+85213800138000",  # Hong Kong country code
        "+868613800138000",
        "023-67891234",     # Chongqing landline
        "1380013800O",
        "１３８００１３８０００",  # full-width digits
        "(+86)13800138000",
    ],
)
def test_mobile_rejected(phone):
    with pytest.raises(ValueError) as info:
        validate_mobile(phone)
    assert str(info.value) == "not a mainland mobile number"


# --- Plates --------------------------------------------------------------------------------------

def test_plate_alphabets():
    assert len(PLATE_LETTERS) == 24 and "I" not in PLATE_LETTERS and "O" not in PLATE_LETTERS
    assert PLATE_CHARS == string.digits + PLATE_LETTERS
    assert len(PLATE_PROVINCES) == len(set(PLATE_PROVINCES)) == 31


@pytest.mark.parametrize(
    ("plate", "expected"),
    [
        ("渝G12345", "渝G12345"),
        ("渝G·12345", "渝G12345"),
        (" 渝 g·1234a ", "渝G1234A"),
        ("京AB12C3", "京AB12C3"),
        ("渝G・AB123", "渝GAB123"),
        ("渝GD12345", "渝GD12345"),   # new-energy, battery electric
        ("粤BFA1234", "粤BFA1234"),   # new-energy, other
        ("沪A·D 1 2345", "沪AD12345"),
        ("渝G12345D", "渝G12345D"),   # large new-energy (bus, heavy truck): D/F last
        ("渝G·12345F", "渝G12345F"),
    ],
)
def test_plate_accepted(plate, expected):
    assert validate_plate(plate) == expected


@pytest.mark.parametrize(
    ("plate", "message"),
    [
        ("", "must start with a province character such as 渝"),
        ("G12345", "must start with a province character such as 渝"),
        ("港A12345", "must start with a province character such as 渝"),
        ("渝", "second character must be a letter other than I or O"),
        ("渝I12345", "second character must be a letter other than I or O"),
        ("渝112345", "second character must be a letter other than I or O"),
        ("渝G1234", "must have 5 or 6 characters after the first two"),
        ("渝GD123456", "must have 5 or 6 characters after the first two"),
        ("渝G1234O", "must contain only digits and letters other than I and O"),
        ("渝G12-45", "must contain only digits and letters other than I and O"),
        ("渝G12警45", "must contain only digits and letters other than I and O"),
        ("渝GAB1C2", "must have at most 2 letters after the first two characters"),
        ("渝GA12345", "a new-energy plate must have D or F as its third character "
                      "(or, on a large vehicle, 5 digits and then D or F)"),
        ("渝G1234AD", "a new-energy plate must have D or F as its third character "
                      "(or, on a large vehicle, 5 digits and then D or F)"),
        ("渝GD1234A", "a new-energy plate must end with 4 digits"),
    ],
)
def test_plate_errors(plate, message):
    with pytest.raises(ValueError) as info:
        validate_plate(plate)
    assert str(info.value) == message


def test_plate_prefix():
    assert validate_plate_prefix(" 渝g ") == "渝G"
    for bad in ("渝I", "渝O", "XG", "渝", "渝GG", "港A", ""):
        with pytest.raises(ValueError, match="^must be a province character and a letter other than I or O"):
            validate_plate_prefix(bad)


def test_random_plate_rejects_bad_prefix():
    with pytest.raises(ValueError):
        random_plate("渝I", False, random.Random(1))


def test_random_plate_is_reproducible():
    assert random_plate("渝G", False, random.Random(7)) == random_plate("渝G", False, random.Random(7))


@fast
@given(
    province=st.sampled_from(PLATE_PROVINCES),
    letter=st.sampled_from(PLATE_LETTERS),
    new_energy=st.booleans(),
    large=st.booleans(),
    seed=st.integers(0, 2**32),
)
def test_random_plate_always_valid(province, letter, new_energy, large, seed):
    plate = random_plate(province + letter, new_energy, random.Random(seed), large=large)
    assert validate_plate(plate) == plate
    assert "I" not in plate and "O" not in plate
    assert plate.startswith(province + letter)
    assert len(plate) == (8 if new_energy else 7)
    if new_energy:
        assert (plate[-1] if large else plate[2]) in "DF"
        assert plate[2:7].isdigit() if large else plate[4:].isdigit()
