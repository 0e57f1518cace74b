"""Named controllers: one entry of the `controllers` list in config.yaml, turned into `AviSettings`.

The file never holds a secret: an entry names the environment variable that does (`password_env` or
`token_env`), and a missing variable is reported by its name only. The single `avi` section (and
`AVI_HOST`/`AVI_USERNAME`/`AVI_PASSWORD`) stays the controller named `default`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from avi.settings import AviSettings, normalize_controller_url

DEFAULT_NAME = "default"
# Words a question uses for "every controller"; a controller may not be called one of them.
RESERVED_NAMES = frozenset({"all", "everywhere", "every", "each", "any", "controller", "controllers"})
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"
ENV_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"


class FileOnlyAviSettings(AviSettings):
    """`AviSettings` from the given values only: a named controller must never pick up `AVI_PASSWORD`
    or `AVI_HOST`, which belong to the controller named `default`."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


class ControllerEntry(BaseModel):
    """One named controller: where it is and the names of the variables holding its credential."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(pattern=NAME_PATTERN, description="lower case, e.g. prod-east; used in chat")
    host: str = Field(description="host, host:port or URL; https:// unless http:// is given")
    username: str = "admin"
    password_env: str | None = Field(None, pattern=ENV_PATTERN, description="variable holding the password")
    token_env: str | None = Field(None, pattern=ENV_PATTERN, description="variable holding an API token")
    version: str | None = None
    tenant: str = "admin"
    verify_ssl: bool = True
    ca_bundle: Path | None = None
    label: str = Field("", max_length=80, description="how people call it (Production, us-east)")
    public_url: str = Field("", description="the controller's UI address, for links")
    timeout: float = Field(30.0, gt=0, le=600)
    cache_seconds: float = Field(5.0, ge=0, le=300)

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in RESERVED_NAMES:
            raise ValueError(f"{value!r} is a word questions use for every controller; choose another name")
        return value

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        return normalize_controller_url(value)

    def avi_settings(self, environ: Mapping[str, str] | None = None) -> AviSettings:
        """The connection settings, with the credential read from its variable; ValueError (naming
        the variable, never a value) when it is not set."""
        env = os.environ if environ is None else environ
        if not self.password_env and not self.token_env:
            raise ValueError(f"controller {self.name}: set password_env or token_env")
        secret: dict[str, Any] = {}
        for field, variable in (("password", self.password_env), ("token", self.token_env)):
            if variable:
                value = env.get(variable, "")
                if not value:
                    raise ValueError(f"controller {self.name}: environment variable {variable} is not set")
                secret[field] = SecretStr(value)
        try:
            return FileOnlyAviSettings(
                host=self.host,
                username=self.username,
                version=self.version,
                tenant=self.tenant,
                verify_ssl=self.verify_ssl,
                ca_bundle=self.ca_bundle,
                timeout=self.timeout,
                cache_seconds=self.cache_seconds,
                **secret,
            )
        except ValidationError as exc:
            first = exc.errors(include_input=False)[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise ValueError(f"controller {self.name}: {where}: {first.get('msg', 'invalid')}") from None
