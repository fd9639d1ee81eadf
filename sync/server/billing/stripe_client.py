"""The one door to Stripe: a small gateway around ``stripe.StripeClient`` that speaks plain dicts.

Why a gateway: every call that creates or changes something in Stripe must carry an idempotency key
(chat-sync-auth-billing.md §5), so every such method here takes ``idempotency_key`` as a required
argument; Stripe's objects (no longer dicts since stripe-python 16) are turned into plain dicts at this
border, so mapping and tests work on ordinary data; and Stripe's errors become our German API errors
(``503`` unreachable, ``502`` refused) without leaking Stripe's text, which may contain customer data.

The secret key comes from the server environment (``CARBOT_STRIPE_SECRET_KEY``) and is never logged;
``CARBOT_STRIPE_API_BASE`` points the client at localstripe or a test server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar, cast

import stripe

from sync.protocol_billing import PAYMENTS_NOT_CONFIGURED
from sync.server.config import Settings
from sync.server.errors import ApiError, ServiceUnavailable

log = logging.getLogger(__name__)
# stripe-python logs every request URL and Stripe's error messages (which may quote customer data) at
# INFO; the server logs at INFO, so keep the library to warnings and log our own lines without PII.
logging.getLogger("stripe").setLevel(logging.WARNING)

StripeDict = dict[str, Any]
STRIPE_UNREACHABLE = "Die Zahlungsabwicklung ist gerade nicht erreichbar. Bitte in einigen Minuten erneut versuchen."
STRIPE_REFUSED = (
    "Die Zahlungsabwicklung hat die Anfrage abgelehnt. Bitte später erneut versuchen oder den Support kontaktieren."
)
_T = TypeVar("_T")


class PaymentsNotConfigured(ServiceUnavailable):
    """503: this server has no Stripe secret (or no return URL for the hosted pages)."""

    default_code = "billing_not_configured"

    def __init__(self) -> None:
        super().__init__(PAYMENTS_NOT_CONFIGURED)


class StripeUnreachable(ServiceUnavailable):
    """503: Stripe did not answer (network, timeout, 5xx, rate limit); the caller may retry."""

    default_code = "stripe_unavailable"

    def __init__(self) -> None:
        super().__init__(
            "Die Zahlungsabwicklung ist gerade nicht erreichbar. Bitte in einigen Minuten erneut versuchen."
        )


class StripeRefused(ApiError):
    """502: Stripe refused the request (configuration or a bug on our side); details only in the log."""

    status_code: ClassVar[int] = 502
    default_code = "stripe_error"

    def __init__(self) -> None:
        super().__init__(STRIPE_REFUSED)


def _plain(obj: Any) -> StripeDict:
    if isinstance(obj, stripe.StripeObject):
        return obj.to_dict()
    return dict(obj)


class StripeGateway:
    """Stripe calls used by billing; objects are returned as plain dicts."""

    def __init__(
        self,
        api_key: str,
        *,
        api_base: str | None = None,
        max_network_retries: int = 2,
        http_client: stripe.HTTPClient | None = None,
    ) -> None:
        base = {"api": api_base} if api_base else None
        self._client = stripe.StripeClient(
            api_key,
            base_addresses=cast(Any, base),
            max_network_retries=max_network_retries,
            http_client=http_client,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> StripeGateway:
        """The gateway for the server's settings; 503 ``billing_not_configured`` without a secret key."""
        if settings.stripe_secret_key is None or not settings.stripe_secret_key.get_secret_value():
            raise PaymentsNotConfigured()
        return cls(settings.stripe_secret_key.get_secret_value(), api_base=settings.stripe_api_base)

    @property
    def v1(self) -> Any:
        """The raw v1 services (for tests and the catalogue)."""
        return self._client.v1

    def _call(self, what: str, func: Callable[[], _T]) -> _T:
        try:
            return func()
        except stripe.SignatureVerificationError:
            raise
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            log.warning("stripe %s unreachable: %s (request %s)", what, type(exc).__name__, exc.request_id)
            raise StripeUnreachable() from exc
        except stripe.StripeError as exc:
            if exc.http_status is not None and exc.http_status >= 500:
                log.warning("stripe %s failed with %s (request %s)", what, exc.http_status, exc.request_id)
                raise StripeUnreachable() from exc
            # The code only: Stripe's message may quote customer data.
            log.error(
                "stripe %s refused: %s %s code=%s (request %s)",
                what, type(exc).__name__, exc.http_status, exc.code, exc.request_id,
            )  # fmt: skip
            raise StripeRefused() from exc

    @staticmethod
    def _options(idempotency_key: str) -> Any:
        if not idempotency_key:
            raise ValueError("every Stripe write needs an idempotency key")
        return {"idempotency_key": idempotency_key}

    # --- customers, checkout, portal -------------------------------------------------------------

    def create_customer(self, params: StripeDict, *, idempotency_key: str) -> StripeDict:
        """``POST /v1/customers``."""
        opts = self._options(idempotency_key)
        return _plain(self._call("customer", lambda: self.v1.customers.create(params, opts)))

    def create_checkout_session(self, params: StripeDict, *, idempotency_key: str) -> StripeDict:
        """``POST /v1/checkout/sessions``."""
        opts = self._options(idempotency_key)
        return _plain(self._call("checkout", lambda: self.v1.checkout.sessions.create(params, opts)))

    def create_portal_session(self, params: StripeDict, *, idempotency_key: str) -> StripeDict:
        """``POST /v1/billing_portal/sessions``."""
        opts = self._options(idempotency_key)
        return _plain(self._call("portal", lambda: self.v1.billing_portal.sessions.create(params, opts)))

    # --- subscriptions and schedules -------------------------------------------------------------

    def retrieve_subscription(self, subscription_id: str) -> StripeDict:
        """``GET /v1/subscriptions/{id}``: the current state (events may be old or out of order)."""
        return _plain(self._call("subscription", lambda: self.v1.subscriptions.retrieve(subscription_id)))

    def modify_subscription(self, subscription_id: str, params: StripeDict, *, idempotency_key: str) -> StripeDict:
        """``POST /v1/subscriptions/{id}``."""
        opts = self._options(idempotency_key)
        return _plain(self._call("subscription", lambda: self.v1.subscriptions.update(subscription_id, params, opts)))

    def create_schedule(self, params: StripeDict, *, idempotency_key: str) -> StripeDict:
        """``POST /v1/subscription_schedules`` (e.g. ``from_subscription``)."""
        opts = self._options(idempotency_key)
        return _plain(self._call("schedule", lambda: self.v1.subscription_schedules.create(params, opts)))

    def modify_schedule(self, schedule_id: str, params: StripeDict, *, idempotency_key: str) -> StripeDict:
        """``POST /v1/subscription_schedules/{id}``."""
        opts = self._options(idempotency_key)
        return _plain(self._call("schedule", lambda: self.v1.subscription_schedules.update(schedule_id, params, opts)))

    def release_schedule(self, schedule_id: str, *, idempotency_key: str) -> StripeDict:
        """``POST /v1/subscription_schedules/{id}/release``: the subscription continues unscheduled."""
        opts = self._options(idempotency_key)
        return _plain(self._call("schedule", lambda: self.v1.subscription_schedules.release(schedule_id, None, opts)))

    def list_invoices(self, customer_id: str, *, limit: int = 12) -> list[StripeDict]:
        """The customer's newest invoices."""
        page = self._call("invoices", lambda: self.v1.invoices.list({"customer": customer_id, "limit": limit}))
        return [_plain(item) for item in page.data]

    # --- catalogue -------------------------------------------------------------------------------

    def retrieve_product(self, product_id: str) -> StripeDict | None:
        """The product, or None when Stripe does not know the id."""

        def get() -> Any:
            try:
                return self.v1.products.retrieve(product_id)
            except stripe.InvalidRequestError as exc:
                if exc.http_status == 404:
                    return None
                raise

        found = self._call("product", get)
        return None if found is None else _plain(found)

    def create_product(self, params: StripeDict, *, idempotency_key: str) -> StripeDict:
        """``POST /v1/products`` (with our fixed id)."""
        opts = self._options(idempotency_key)
        return _plain(self._call("product", lambda: self.v1.products.create(params, opts)))

    def modify_product(self, product_id: str, params: StripeDict, *, idempotency_key: str) -> StripeDict:
        """``POST /v1/products/{id}``."""
        opts = self._options(idempotency_key)
        return _plain(self._call("product", lambda: self.v1.products.update(product_id, params, opts)))

    def find_price(self, lookup_key: str) -> StripeDict | None:
        """The active Price holding ``lookup_key``, or None."""
        page = self._call(
            "price", lambda: self.v1.prices.list({"lookup_keys": [lookup_key], "active": True, "limit": 1})
        )
        return _plain(page.data[0]) if page.data else None

    def create_price(self, params: StripeDict, *, idempotency_key: str) -> StripeDict:
        """``POST /v1/prices``."""
        opts = self._options(idempotency_key)
        return _plain(self._call("price", lambda: self.v1.prices.create(params, opts)))

    def modify_price(self, price_id: str, params: StripeDict, *, idempotency_key: str) -> StripeDict:
        """``POST /v1/prices/{id}`` (we only ever deactivate)."""
        opts = self._options(idempotency_key)
        return _plain(self._call("price", lambda: self.v1.prices.update(price_id, params, opts)))

    # --- webhooks --------------------------------------------------------------------------------

    def construct_event(self, payload: bytes, signature: str | None, secret: str) -> StripeDict:
        """Verify ``Stripe-Signature`` on the RAW body and parse the event.

        Raises ``stripe.SignatureVerificationError`` (bad or missing signature, old timestamp) or
        ``ValueError`` (not a Stripe event).
        """
        return _plain(self._client.construct_event(payload, signature, secret))
