"""Payment settings, read from the environment; billing_portal/settings.py imports them.

* ``PAYMENT_GATEWAY``: "sandbox" is the built-in gateway that behaves like a real
  processor (docs/payments.md). Production mode does not fall back on it: the gateway
  is chosen on purpose there.
* The Stripe adapter (``PAYMENT_GATEWAY=stripe``, payments/stripe_gateway.py): its keys,
  webhook secret and addresses. ``STRIPE_API_BASE`` points the adapter at another server
  speaking Stripe's API (localstripe in tests); Stripe.js is then that server's copy
  unless ``STRIPE_JS_URL`` says otherwise. Production mode refuses to start with the
  Stripe gateway but without its keys.
"""

from django.core.exceptions import ImproperlyConfigured

from .env import env_int, env_str

__all__ = [
    "PAYMENT_GATEWAY",
    "STRIPE_API_BASE",
    "STRIPE_JS_URL",
    "STRIPE_PUBLISHABLE_KEY",
    "STRIPE_SECRET_KEY",
    "STRIPE_TIMEOUT_SECONDS",
    "STRIPE_WEBHOOK_SECRET",
]

_PRODUCTION = env_str("PORTAL_MODE", "development") == "production"

PAYMENT_GATEWAY = env_str("PAYMENT_GATEWAY")
if not PAYMENT_GATEWAY:
    if _PRODUCTION:
        raise ImproperlyConfigured(
            "PAYMENT_GATEWAY must be set in production mode (PAYMENT_GATEWAY=sandbox to run the sandbox gateway on purpose)"
        )
    PAYMENT_GATEWAY = "sandbox"

STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "").rstrip("/")
STRIPE_JS_URL = env_str(
    "STRIPE_JS_URL", f"{STRIPE_API_BASE}/js.stripe.com/v3/" if STRIPE_API_BASE else "https://js.stripe.com/v3/"
)
# Seconds to wait for Stripe's answer; no answer is a processor timeout (the payment stays
# pending and the reconciler settles it from Stripe's record).
STRIPE_TIMEOUT_SECONDS = env_int("STRIPE_TIMEOUT_SECONDS", 10)

if _PRODUCTION and PAYMENT_GATEWAY == "stripe":
    _keys = {
        "STRIPE_SECRET_KEY": STRIPE_SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": STRIPE_PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
    }
    _missing = [name for name, value in _keys.items() if not value]
    if _missing:
        raise ImproperlyConfigured(f"PAYMENT_GATEWAY=stripe needs {', '.join(_missing)} in production mode")
