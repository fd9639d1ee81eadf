"""Login throttling: per-IP and per-e-mail rate limits (store) and temporary account lockout (database).

- Rate limits count every attempt in a fixed window (``login_rate_window_seconds``): per client IP
  and per e-mail address (hashed: no addresses in Redis). Registration is limited per IP.
- Lockout: after ``login_max_failures`` wrong passwords in a row the account is locked for
  ``lockout_base_seconds``, doubling with each further failure after a lockout, up to
  ``lockout_max_seconds``. A successful login resets the counter.
- Unknown addresses get the same answers in the same order (401 … then 429), counted in the store,
  so the lockout does not reveal which addresses have an account.
- Fail closed (documented decision): if the store (Redis) errors, login and registration answer 503
  instead of skipping the limit.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy.orm import Session

from sync.server import audit
from sync.server.config import Settings
from sync.server.errors import ServiceUnavailable, TooManyRequests
from sync.server.models import AuditKind, Clock, User
from sync.server.store import KeyValueStore, StoreUnavailable

TOO_MANY = "Zu viele Anmeldeversuche. Bitte in einigen Minuten erneut versuchen."
TOO_MANY_REGISTRATIONS = "Zu viele Registrierungen von dieser Adresse. Bitte später erneut versuchen."
LOGIN_UNAVAILABLE = "Die Anmeldung ist vorübergehend nicht möglich. Bitte gleich erneut versuchen."


def _email_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


class LoginGuard:
    """Rate limits and lockout for login and registration."""

    def __init__(self, store: KeyValueStore, settings: Settings, clock: Clock) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock

    def _count(self, key: str, limit: int, window: int, message: str) -> None:
        try:
            count = self._store.incr(key, window)
            if count > limit:
                raise TooManyRequests(message, retry_after=self._store.ttl(key) or window)
        except StoreUnavailable as exc:
            raise ServiceUnavailable(LOGIN_UNAVAILABLE) from exc

    def check_login_rate(self, *, ip: str, email: str) -> None:
        """Count a login attempt; raise 429 over a limit, 503 when the store is down."""
        s = self._settings
        window = s.login_rate_window_seconds
        self._count(f"rl:login:ip:{ip}", s.login_rate_per_ip, window, TOO_MANY)
        self._count(f"rl:login:email:{_email_key(email)}", s.login_rate_per_email, window, TOO_MANY)

    def check_register_rate(self, *, ip: str) -> None:
        """Count a registration; raise 429 over the limit."""
        s = self._settings
        self._count(f"rl:register:ip:{ip}", s.register_rate_per_ip, s.login_rate_window_seconds, TOO_MANY_REGISTRATIONS)

    def check_locked(self, user: User) -> None:
        """Raise 429 while the account is locked."""
        now = self._clock()
        if user.locked_until is not None and user.locked_until > now:
            raise TooManyRequests(TOO_MANY, retry_after=int((user.locked_until - now).total_seconds()) + 1)

    def unknown_account_failure(self, email: str) -> None:
        """A wrong login for an address without account: 429 once a real account would be locked."""
        s = self._settings
        self._count(f"fail:email:{_email_key(email)}", s.login_max_failures, s.lockout_base_seconds, TOO_MANY)

    def lock_duration(self, failures: int) -> dt.timedelta:
        """How long ``failures`` wrong passwords in a row lock the account (zero below the threshold)."""
        s = self._settings
        if failures < s.login_max_failures:
            return dt.timedelta(0)
        exponent = min(failures - s.login_max_failures, 20)
        return dt.timedelta(seconds=min(s.lockout_base_seconds * 2**exponent, s.lockout_max_seconds))

    def record_failure(self, session: Session, user: User) -> None:
        """Count a wrong password and lock the account once the threshold is reached."""
        now = self._clock()
        user.failed_logins += 1
        audit.record(session, AuditKind.LOGIN_FAILED, at=now, organization_id=user.organization_id, user_id=user.id)
        duration = self.lock_duration(user.failed_logins)
        if duration:
            user.locked_until = now + duration
            audit.record(
                session,
                AuditKind.LOCKOUT,
                at=now,
                organization_id=user.organization_id,
                user_id=user.id,
                detail=f"seconds={int(duration.total_seconds())}",
            )

    @staticmethod
    def record_success(user: User) -> None:
        """Reset the failure counter after a correct password."""
        user.failed_logins = 0
        user.locked_until = None
