"""Password hashing with argon2id (argon2-cffi), rehash on login, and the password policy."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from sync.server.config import Settings
from sync.server.errors import Unprocessable

MAX_PASSWORD_LENGTH = 1024  # longer inputs only cost hashing time


class Passwords:
    """Hashes and verifies passwords with the configured argon2id cost."""

    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            type=Type.ID,
        )
        # Unknown e-mail addresses are checked against this hash, so a login takes as long
        # whether the account exists or not (no account enumeration by timing).
        self._decoy = self._hasher.hash(secrets.token_urlsafe(24))

    def hash(self, password: str) -> str:
        """The PHC string (``$argon2id$v=19$m=…``) of ``password``."""
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        """True when ``password`` matches; a damaged hash counts as a mismatch."""
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def verify_decoy(self, password: str) -> None:
        """Spend the time of one verification (for unknown accounts)."""
        self.verify(self._decoy, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash was made with other parameters than today's."""
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True


def check_password_policy(password: str, *, email: str, min_length: int) -> None:
    """Raise Unprocessable when ``password`` is too short, too long or equals the e-mail address."""
    if len(password) < min_length:
        raise Unprocessable(
            "Das Passwort muss mindestens {count} Zeichen lang sein.", field="password", count=min_length
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Unprocessable(
            "Das Passwort darf höchstens {count} Zeichen lang sein.", field="password", count=MAX_PASSWORD_LENGTH
        )
    if password.strip().lower() == email.strip().lower():
        raise Unprocessable("Das Passwort darf nicht die E-Mail-Adresse sein.", field="password")
