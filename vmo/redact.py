"""What staff screens, stored errors and logs must not show in full: phone numbers and booking codes
masked (China's PIPL expects masking of personal data shown to staff), credentials removed from URLs."""
import re

# A mainland mobile number, alone or inside a text ("+86 139 0013 9000" is normalised before storing).
_MOBILE = re.compile(r"(?<![0-9A-Za-z])(1[3-9]\d)(\d{4})(\d{4})(?![0-9A-Za-z])")
# A code that lets its holder cancel or look up a booking, after the words that introduce it in texts.
# ("回复“取消 K7P2QX9M”", "取消码K7P2QX9M", "预约号P1234ABC"; a date after 取消 is written 12月05日, never matched).
_CODE = re.compile(r"(取消码|取消|预约号|验证码|cancel[ _]code|reference)(\s*[:：]?\s*)([A-Za-z0-9]{4,})",
                   re.IGNORECASE)
# Credentials in URLs: userinfo (`https://user:secret@host`) and query values with a secret's name.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s:]+(?::[^/@\s]*)?@")
_SECRET_QUERY = re.compile(
    r"(?i)([?&;](?:[a-z0-9_.-]*(?:key|token|secret|password|passwd|pwd|sig|signature|auth|credential)[a-z0-9_.-]*)=)"
    r"[^&;#\s'\"]*")
MASK = "****"
# A postal address inside a line: the province or city and the district or county stay (enough to
# read a log), the street and number go. The street part must look like one (路, 号, 村, a digit ...),
# so the office's own name (重庆市南川区公安局...) is left alone.
_ADDRESS = re.compile(
    r"((?:[\u4e00-\u9fff]{2,7}?(?:省|自治区)|(?:北京|天津|上海|重庆)市)"
    r"(?:[\u4e00-\u9fff]{1,10}?(?:自治州|地区|盟|市))?"
    r"[\u4e00-\u9fff]{1,12}?(?:自治县|区|县|旗|市))"
    r"([\u4e00-\u9fffA-Za-z0-9\-#（）()]*?[路街巷道弄号村组栋幢室\d][\u4e00-\u9fffA-Za-z0-9\-#（）()]*)")


def mask_phone(phone: str | None) -> str | None:
    """'13900139000' -> '139****9000'; anything too short to keep a part of is masked whole."""
    if not phone:
        return phone
    return phone[:3] + MASK + phone[-4:] if len(phone) >= 8 else MASK


def mask_id_number(id_number: str | None) -> str | None:
    """'500119199001011233' -> '500119********1233': the region code and the last four characters."""
    if not id_number:
        return id_number
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:] if len(id_number) > 10 else MASK


def mask_text(text: str | None) -> str | None:
    """A person-facing text with its booking codes and mobile numbers masked."""
    if not text:
        return text
    text = _CODE.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
    return _MOBILE.sub(lambda m: m.group(1) + MASK + m.group(3), text)


def mask_address(text: str | None) -> str | None:
    """Text with every postal address cut after its district: '重庆市南川区金佛大道38号' -> '重庆市南川区****'."""
    if not text:
        return text
    return _ADDRESS.sub(lambda m: m.group(1) + MASK, text)


def credentials(text: str | None) -> str | None:
    """Text (an error message) with URL passwords and secret-looking query values removed."""
    if not text:
        return text
    text = _USERINFO.sub(lambda m: m.group(1) + "[redacted]@", text)
    return _SECRET_QUERY.sub(lambda m: m.group(1) + "[redacted]", text)
