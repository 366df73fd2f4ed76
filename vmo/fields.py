"""Marshmallow fields for the identifiers people type (VIN, plate, mobile, resident ID, credit code).

Each field checks and normalises with the one rule in `vmo.validators`, so every schema that takes
such a value answers the same 422 with the same message, and services receive it normalised.
"""
from marshmallow import ValidationError, fields

from vmo import validators


class _Checked(fields.String):
    """A string passed through one of `vmo.validators`' checks; its ValueError becomes a field error."""

    check = staticmethod(lambda text: text)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return self.check(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class VIN(_Checked):
    """A VIN, upper-cased and checked (GB 16735: 17 characters, check digit in position 9)."""
    check = staticmethod(validators.validate_vin)


class Plate(_Checked):
    """A plate, normalised ("渝G·12345" -> "渝G12345") and checked (GA 36)."""
    check = staticmethod(validators.validate_plate)


class Mobile(_Checked):
    """A mainland mobile number, normalised to its 11 digits."""
    check = staticmethod(validators.validate_mobile)


class CreditCode(_Checked):
    """An 18-character unified social credit code (GB 32100), check character verified."""
    check = staticmethod(validators.validate_credit_code)


class ResidentId(_Checked):
    """An 18-character resident ID number (GB 11643), check character verified; the number as text.

    The birth date is checked against the host's date here; services that apply age rules check it
    again against the office's local date.
    """
    check = staticmethod(lambda text: validators.validate_resident_id(text).number)
