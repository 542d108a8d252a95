"""The Zalo settings (Official Account, ZNS and the Zalo Bot platform), apart from the others so that
`bot/config.py` stays readable; `Settings` inherits them. Every base URL is a setting: tests point them at local
fakes, and a province behind a proxy can too."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings


class ZaloSettings(BaseSettings):
    zalo_app_id: str | None = Field(None, description="The Zalo app's id (developers.zalo.me); with the app "
                                    "secret and the OA secret key it turns the Zalo OA channel on.")
    zalo_app_secret: SecretStr | None = Field(None, description="The Zalo app's secret key (for OAuth).")
    zalo_oa_secret: SecretStr | None = Field(None, description="The OA secret key shown on the app's Webhook "
                                             "page; it signs the OA's webhook events (X-ZEvent-Signature).")
    zalo_oa_api_url: str = Field("https://openapi.zalo.me", description="Zalo OA Open API root.")
    zalo_oauth_url: str = Field("https://oauth.zaloapp.com", description="Zalo OAuth root (v4/oa/...).")
    zalo_event_max_age_seconds: int = Field(300, ge=10, le=86_400, description="OA webhook events older than "
                                            "this by their timestamp are refused as replays.")
    zalo_zns_api_url: str = Field("https://business.openapi.zalo.me", description="ZNS (template messages) "
                                  "API root.")
    zalo_zns_template_id: str | None = Field(None, description="ZNS template of the survey invitation sent to a "
                                             "phone (`invite --phone`); none: phone invitations are off.")
    zalo_zns_params: str = Field("centre=ten_trung_tam,service=ten_dich_vu,code=ma_khao_sat,link=link_khao_sat",
                                 description="Our fields → the invitation template's parameter names, "
                                 "field=param,...; fields: centre, service, code, link, expires.")
    zalo_zns_rating_template_id: str | None = Field(None, description="ZNS \"service rating\" template whose "
                                                    "ratings `zalo pull-ratings` fetches.")
    zalo_zns_daily_cap: int = Field(200, ge=0, le=1_000_000, description="ZNS messages (paid) a centre may send "
                                    "a day; 0 turns phone invitations off.")
    zalo_bot_token: SecretStr | None = Field(None, description="Zalo Bot platform token; none: Zalo Bot off.")
    zalo_bot_api_url: str = Field("https://bot-api.zaloplatforms.com", description="Zalo Bot API root; the bot "
                                  "calls {root}/bot{token}/{method}.")
    zalo_bot_webhook_secret: SecretStr | None = Field(
        None, description="Secret the Zalo Bot platform sends with each webhook call (8-256 characters); "
        "required when SIPAS_PUBLIC_URL is set.")
    zalo_bot_poll_timeout: int = Field(30, ge=0, le=50, description="Zalo Bot long-polling timeout in seconds.")

    @property
    def zalo_oa_enabled(self) -> bool:
        """The OA channel runs when the app id, the app secret and the OA secret key are all set."""
        return bool(self.zalo_app_id and self.zalo_app_secret and self.zalo_oa_secret)
