"""Subscriptions with Stripe (issue 8): catalogue, checkout, plan changes, portal and webhooks.

- ``stripe_client``: ``StripeGateway``, the only module that talks to Stripe (idempotency keys on every
  write, plain dicts out, German API errors);
- ``catalog``: ``carbot server stripe-catalog`` (Products/Prices from ``app.plans``, idempotent);
- ``mapping``: Stripe subscription → our plan, interval and status (pure);
- ``store``: Stripe ids, applying Stripe's state through ``plans_gate.set_subscription``, event ids,
  the ``entitlements`` change that makes desktops pull at once;
- ``checkout``: the owner's actions (checkout, upgrade/downgrade, cancel/resume, portal);
- ``webhooks``: verified events, de-duplicated by id, state re-read from Stripe;
- ``overview``: ``GET /v1/billing/subscription``.

The plan table lives only in ``app.plans``; docs/billing.md describes tax, Stripe setup and dunning.
``stripe`` may be imported only under ``sync/server/`` (import contracts in pyproject.toml).
"""
