"""Settings: one object, read once from SIPAS_* environment variables (and an optional .env), passed down.

The embedded default needs no settings at all: data in ./data, HTTP on 127.0.0.1:8080.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIPAS_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Where the embedded database and the secret key live.")
    host: str = Field("127.0.0.1", description="Address the HTTP server listens on.")
    port: int = Field(8080, ge=1, le=65535, description="Port the HTTP server listens on.")
    default_survey: str = Field("sipas-2023", description="Instrument used when none is named.")
    instruments_dir: Path | None = Field(
        None, description="A folder of extra instrument YAML files, loaded beside the shipped ones."
    )
