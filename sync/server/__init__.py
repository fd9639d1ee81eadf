"""The hosted API (FastAPI): accounts, locations, devices, tokens; later sync, chat and billing.

Start it with ``carbot server``; build it in tests with ``sync.server.main.create_app(settings)``.
It imports ``app`` only for pure rules and ``sync.protocol`` for wire schemas, never ``ui`` or ``drivers``.
"""
