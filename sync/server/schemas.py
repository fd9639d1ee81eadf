"""Wire schemas of the account, token and device endpoints (pydantic, separate from the tables).

Request models forbid unknown fields: a body that tries to name an ``organization_id`` is refused,
because the tenant always comes from the token. The desktop client needs the token and device
schemas too; they move to ``sync/protocol.py`` once that module exists (client and server share
only the protocol).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from sync.server.models import Role

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"
_EMAIL = re.compile(EMAIL_PATTERN)
_BLANKS = " \t\n\r\f\v"  # the characters JSON-Schema's \s and our strip agree on


def _email(value: str) -> str:
    value = value.strip().lower()
    if not _EMAIL.match(value):
        raise ValueError("Bitte eine gültige E-Mail-Adresse angeben.")
    return value


def _text(value: str) -> str:
    value = value.strip(_BLANKS)
    if not value:
        raise ValueError("Darf nicht leer sein.")
    return value


# The patterns also go into /openapi.json, so a request the schema allows is one the server accepts.
Email = Annotated[str, Field(max_length=254, json_schema_extra={"pattern": EMAIL_PATTERN}), AfterValidator(_email)]
Name = Annotated[
    str, Field(min_length=1, max_length=200, json_schema_extra={"pattern": "[^ \t\n\r\f\v]"}), AfterValidator(_text)
]
Password = Annotated[str, Field(min_length=1, max_length=1024)]
# New passwords: at least 12 characters (the configurable policy may demand more, never less).
NewPassword = Annotated[str, Field(min_length=12, max_length=1024)]
Id = Annotated[str, Field(min_length=1, max_length=64)]


class Request(BaseModel):
    """Base of request bodies: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")


class RegisterRequest(Request):
    """A new organisation with its owner and first location."""

    organization_name: Name
    location_name: Name
    email: Email
    password: NewPassword
    name: Annotated[str, Field(max_length=200)] = ""


class LoginRequest(Request):
    """E-mail and password."""

    email: Annotated[str, Field(min_length=1, max_length=254)]
    password: Password


class RefreshRequest(Request):
    """The current refresh token (it is used up by this call)."""

    refresh_token: Annotated[str, Field(min_length=1, max_length=4096)]


class LogoutRequest(RefreshRequest):
    """The refresh token whose session ends; the access token in the header is revoked too."""


class TokenResponse(BaseModel):
    """A new access token and its refresh token (store the refresh token in the OS keyring)."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    refresh_token: str
    refresh_expires_at: dt.datetime


class RegisterResponse(TokenResponse):
    """Tokens plus the ids of what registration created."""

    organization_id: str
    location_id: str
    user_id: str


class DeviceCreate(Request):
    """Register this desktop install for one location of the caller's organisation."""

    location_id: Id
    name: Name


class DeviceCreated(TokenResponse):
    """The device's id and its first tokens (device access tokens carry the location)."""

    device_id: str
    location_id: str
    name: str


class DevicePublic(BaseModel):
    """A registered device."""

    id: str
    location_id: str
    name: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class MePublic(BaseModel):
    """The caller as the token and the database see them."""

    kind: Literal["user", "device"]
    id: str
    organization_id: str
    organization_name: str
    role: str
    location_ids: list[str]
    email: str | None
    name: str


class LocationCreate(Request):
    """A new location of the caller's organisation."""

    name: Name


class LocationPublic(BaseModel):
    """A location."""

    id: str
    name: str
    created_at: dt.datetime


class _NewUser(Request):
    email: Email
    name: Annotated[str, Field(max_length=200)] = ""
    password: NewPassword


class StaffCreate(_NewUser):
    """A counter or mechanic invited by the owner: works at the listed locations (at least one)."""

    role: Literal[Role.COUNTER, Role.MECHANIC]
    location_ids: list[Id] = Field(min_length=1, max_length=500)


class ManagerCreate(_NewUser):
    """A further owner or an auditor: sees every location, so no list."""

    role: Literal[Role.OWNER, Role.AUDITOR]
    location_ids: list[Id] = Field(default_factory=list, max_length=0)


# The role decides which fields are valid; /openapi.json shows this as oneOf with a discriminator.
UserCreate = Annotated[StaffCreate | ManagerCreate, Field(discriminator="role")]


class UserPublic(BaseModel):
    """A user of the caller's organisation (no password hash, ever)."""

    id: str
    email: str
    name: str
    role: Role
    location_ids: list[str]
    created_at: dt.datetime
    locked: bool


class JsonWebKeySet(BaseModel):
    """The public signing keys (RFC 7517)."""

    keys: list[dict[str, Any]]


class Health(BaseModel):
    """Liveness answer."""

    status: Literal["ok"] = "ok"
