"""Pure account rules: what counts as a usable email, password and display name."""
from __future__ import annotations

import re

from flask_babel import gettext as _

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MAX_PASSWORD_LENGTH = 128
COMMON_PASSWORDS = frozenset(
    {
        "password", "password1", "password12", "password123", "passw0rd", "123456789",
        "1234567890", "12345678910", "qwertyuiop", "qwerty1234", "iloveyou12",
        "letmein123", "welcome123", "football12", "abcdefghij", "0123456789",
        "fixquest123", "changeme12", "administrator",
    }
)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_problems(email: str) -> list[str]:
    if not EMAIL_RE.match(normalise_email(email)) or len(email) > 254:
        return [_("Enter an email address like name@example.org.")]
    return []


def password_problems(password: str, *, min_length: int) -> list[str]:
    """Why a password is too weak; an empty list when it is acceptable."""
    if len(password) < min_length:
        return [_("Use at least %(number)d characters.", number=min_length)]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [_("Use at most %(number)d characters.", number=MAX_PASSWORD_LENGTH)]
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 4:
        return [_("That password is too easy to guess; try a few unrelated words.")]
    return []


def display_name_problems(name: str) -> list[str]:
    name = name.strip()
    if not 2 <= len(name) <= 40:
        return [_("Display names are 2 to 40 characters.")]
    if "@" in name:
        return [_("Display names are public, so they may not contain an email address.")]
    return []


def account_problems(*, email: str, password: str, display_name: str, min_length: int) -> dict[str, list[str]]:
    """Every problem with a new account's fields, by field name."""
    found = {"email": email_problems(email or ""),
             "password": password_problems(password or "", min_length=min_length),
             "display_name": display_name_problems(display_name or "")}
    return {name: problems for name, problems in found.items() if problems}
