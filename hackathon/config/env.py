"""Typed readers of environment variables, used once by the settings module."""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """Return the variable's value, or the default when it is unset."""
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    """Read a yes/no variable; anything but a clear yes or no is a configuration error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a yes/no value: use true or false.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """Read a whole number, refusing text and values below the minimum."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum of {minimum}.")
    return value


def env_float(name: str, default: float) -> float:
    """Read a decimal number."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """Read a comma-separated list, ignoring blanks."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_pairs(name: str) -> dict[str, str]:
    """Read comma-separated `key=value` pairs (`nvidia.com/mig.config=all-1g.10gb,pool=gpu`); a bare key maps to ""."""
    pairs = {}
    for item in env_list(name):
        key, _, value = item.partition("=")
        pairs[key.strip()] = value.strip()
    return pairs


def env_networks(name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Read a comma-separated list of addresses and CIDR blocks (`10.0.0.0/8`, `::1`), naming a bad entry."""
    networks = []
    for item in env_list(name):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} has {item!r}, which is neither an address nor a CIDR block; write e.g. "
                "127.0.0.1,10.0.0.0/8,fd00::/8."
            ) from None
    return tuple(networks)


def env_path(name: str, default: Path) -> Path:
    """Read a filesystem path, made absolute."""
    raw = os.environ.get(name)
    return Path(raw).expanduser().resolve() if raw else default


SUPPORTED_DATABASES = ("sqlite", "postgres", "postgresql", "pgsql")


def database_from_url(url: str, *, name: str = "DATABASE_URL") -> dict[str, Any]:
    """Turn a database URL into Django's DATABASES entry, with a clear error for a bad one."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme.split("+", 1)[0] not in SUPPORTED_DATABASES:
        raise ImproperlyConfigured(
            f"{name}={url!r} is not a database URL this platform supports. "
            "Use sqlite:////absolute/path/db.sqlite3 or postgres://user:password@host:5432/name."
        )
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} could not be read: {error}") from None
    if config["ENGINE"].endswith("sqlite3"):
        config.pop("CONN_MAX_AGE", None)
        config["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    elif not config.get("NAME"):
        raise ImproperlyConfigured(f"{name}={url!r} names no database: add /name at the end.")
    return dict(config)


def cache_from_url(url: str, *, name: str = "CACHE_URL") -> dict[str, Any]:
    """Turn a cache URL into Django's CACHES entry: redis://host:port/db shared by every process, or locmem://."""
    if url in ("locmem://", "locmem"):
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if url.startswith(("redis://", "rediss://", "unix://")):
        # Django's Redis cache raises when Redis is down, and the boards then compute from the database
        # (grading.boards.cache.cached_board); sessions stay in the database, so signing in never needs Redis. Redis
        # answers in a millisecond: a quarter second means it hangs, and every polling browser would wait on it.
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "ml-infn",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
    raise ImproperlyConfigured(
        f"{name}={url!r} is not a cache URL this platform supports. Use redis://host:6379/1 or locmem://."
    )


def development_secret(var_dir: Path, name: str) -> str:
    """Return a development secret kept in var/<name>, creating it on first use."""
    path = var_dir / name
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()
