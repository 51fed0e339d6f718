"""Phone numbers: normalise to E.164 with ``phonenumbers`` (region CN) and mask for display."""

from __future__ import annotations

import phonenumbers


class InvalidPhone(ValueError):
    """The text is not a valid Chinese phone number. ``reason`` says why, for a message in the
    user's language (``hotline.services.tickets.phone_error``): empty, too_long, unparsable,
    foreign, invalid."""

    def __init__(self, message: str, reason: str = "invalid") -> None:
        super().__init__(message)
        self.reason = reason


def normalize_phone(raw: str) -> str:
    """Return the E.164 form of a Chinese mobile or fixed-line number.

    Foreign numbers are refused: the hotline serves the city, and a foreign
    number cannot be called back through the PBX's domestic trunk.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone("phone number is empty", "empty")
    if len(text) > 32:
        raise InvalidPhone("phone number is too long", "too_long")
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"not a phone number: {text!r}", "unparsable") from exc
    if number.country_code != 86:
        raise InvalidPhone(f"only Chinese (+86) numbers are accepted: {text!r}", "foreign")
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"not a valid Chinese phone number: {text!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national_digits(e164: str) -> str:
    """The number as dialled inside China: 13800138000, 073158123456."""
    number = phonenumbers.parse(e164, "CN")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL).replace(" ", "").replace("-", "")


def mask_phone(phone: str) -> str:
    """138****5678: keep the first three and last four national digits."""
    if not phone:
        return ""
    digits = phone[3:] if phone.startswith("+86") else phone
    if len(digits) <= 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"
