"""The base of every settings section: environment variables win over config.yaml.

Sections are built from the file's values (init arguments), and pydantic-settings would let those
win; an operator expects `AVI_HOST=... avibot serve` to override the file, so the order is flipped.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource


class EnvFirstSettings(BaseSettings):
    """A settings section whose environment variables win over the values read from config.yaml."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return env_settings, init_settings, file_secret_settings
