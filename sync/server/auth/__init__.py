"""Authentication: argon2id passwords, ES256 access tokens with key rotation, rotating refresh tokens,
revocation and login lockout."""
