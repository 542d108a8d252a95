"""Settings: one object, read once from SIPAS_* environment variables (and an optional .env), passed down.

The embedded default needs no settings at all: SQLite in ./data, a secret key generated there on first use,
HTTP on 127.0.0.1:8080.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from bot.zalo_settings import ZaloSettings


class Settings(ZaloSettings):
    model_config = SettingsConfigDict(env_prefix="SIPAS_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Where the embedded database and the secret key live.")
    database_url: str | None = Field(  # repr=False: a printed Settings must not show the password
        None, repr=False, description="SQLAlchemy async URL; default sqlite+aiosqlite:///{data_dir}/sipas.db. "
                          "PostgreSQL: postgresql+asyncpg://user:password@host/db."
    )
    auto_migrate: bool = Field(True, description="Bring the database schema up to date on start.")
    secret_key: SecretStr | None = Field(
        None, description="Key for hashing tokens, codes and chat ids; generated in data_dir when not set "
                          "(required with PostgreSQL, so every worker shares it)."
    )
    host: str = Field("127.0.0.1", description="Address the HTTP server listens on.")
    port: int = Field(8080, ge=1, le=65535, description="Port the HTTP server listens on.")
    public_url: str | None = Field(None, description="The public base URL of this service (for web links).")
    telegram_bot_username: str | None = Field(None, description="The Telegram bot's username, for t.me links.")
    telegram_token: SecretStr | None = Field(None, description="Bot token from BotFather; no token: Telegram off.")
    telegram_api_url: str = Field("https://api.telegram.org", description="Bot API server root; the bot calls "
                                  "{root}/bot{token}/{method} (a self-hosted server or a test fake can stand in).")
    telegram_webhook_secret: SecretStr | None = Field(
        None, description="Secret Telegram sends with each webhook call; required when SIPAS_PUBLIC_URL is set.")
    telegram_concurrency: int = Field(16, ge=1, le=256, description="Chats whose updates are processed at once.")
    telegram_flood_per_minute: int = Field(40, ge=5, description="Updates a minute from one chat before it is "
                                           "ignored for a minute.")
    outbox_interval_seconds: float = Field(10, gt=0, description="How often undelivered alerts are retried.")
    telegram_poll_timeout: int = Field(30, ge=0, le=50, description="Long-polling timeout in seconds.")
    default_survey: str = Field("sipas-2023", description="Instrument used when none is named.")
    instruments_dir: Path | None = Field(
        None, description="A folder of extra instrument YAML files, loaded beside the shipped ones."
    )
    timezone: str = Field("Asia/Ho_Chi_Minh", description="Time zone of the centres: responses are dated by "
                                                           "their local day.")
    invitation_days: int = Field(30, ge=1, le=366, description="Days an invitation stays valid by default.")
    session_timeout_hours: float = Field(
        48, gt=0, description="Hours after which an unfinished survey is abandoned; its answers are not counted."
    )
    web_survey: bool = Field(True, description="Serve the web survey (/s, /s/TOKEN, /c/CENTRE) on the HTTP port.")
    open_per_address: int = Field(1, ge=1, le=10_000, description="Open surveys one client address may complete "
                                  "at a centre a day (raise it where citizens share the centre's Wi-Fi).")
    trusted_proxies: str = Field("", description="Comma-separated addresses or networks of reverse proxies whose "
                                 "X-Forwarded-For is believed (e.g. 127.0.0.1,10.0.0.0/8); empty: none.")
    admin_language: Literal["vi", "en"] = Field("vi", description="The language of the admin command line.")
    case_due_working_days: int = Field(5, ge=1, le=60, description="Working days (Monday-Friday, the centres' "
                                       "local day) a follow-up case of a low rating has before it is overdue.")
    case_holidays: str = Field("", description="Comma-separated days off (YYYY-MM-DD) that do not count as "
                               "working days for follow-up cases, e.g. 2027-01-01,2027-04-30.")
    case_head_after_days: int = Field(2, ge=1, le=60, description="Working days after an overdue case's first "
                                      "reminder (to its handler) before the centre's head (staff role head) is told.")
    case_admin_after_days: int = Field(5, ge=1, le=120, description="Working days after an overdue case's first "
                                       "reminder before the province admin chat is told.")
    admin_alert_chat: str | None = Field(None, description="The province admin's chat for overdue and sensitive "
                                         "follow-up cases: PLATFORM:CHAT (telegram:-100123, zalo:abc) or a "
                                         "Telegram chat id.")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        from sqlalchemy.engine import make_url  # only when a URL is set: the default needs no parsing
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        try:
            make_url(value).get_dialect()
        except (ArgumentError, NoSuchModuleError, ValueError) as error:
            # The message names no part of the URL: it may hold a password.
            raise ValueError("not a database URL this program can use") from error
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone '{value}' (for example Asia/Ho_Chi_Minh)") from error
        return value

    @field_validator("case_holidays")
    @classmethod
    def _holidays(cls, value: str) -> str:
        import datetime as dt

        for part in filter(None, (p.strip() for p in value.split(","))):
            try:
                dt.date.fromisoformat(part)
            except ValueError:
                raise ValueError(f"'{part}' is not a day YYYY-MM-DD (for example 2027-01-01)") from None
        return value

    @property
    def case_holiday_days(self) -> frozenset:
        """The days off of `case_holidays`, as dates."""
        import datetime as dt

        return frozenset(dt.date.fromisoformat(p.strip()) for p in self.case_holidays.split(",") if p.strip())

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"'{part}' is not an address or a network (for example 127.0.0.1,10.0.0.0/8)") \
                    from None
        return value

    @property
    def trusted_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The reverse proxies whose X-Forwarded-For header is believed."""
        return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in self.trusted_proxies.split(",")
                     if p.strip())

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'sipas.db').as_posix()}"

    @property
    def database_url_shown(self) -> str:
        """The database URL as it may be printed or logged: its password masked."""
        return shown_url(self.resolved_database_url)


def shown_url(url: str) -> str:
    """``url`` with its password masked (``***``); a URL that does not parse is not shown at all."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "***"
