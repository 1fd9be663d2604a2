"""Which gateway a process uses: real Twilio with credentials, the simulator without."""

from __future__ import annotations

from afterglow.clock import Clock
from afterglow.config import Settings
from afterglow.sms.gateway import SmsGateway
from afterglow.sms.simulator import SimulatorGateway
from afterglow.sms.twilio_gateway import TwilioGateway


def uses_simulator(settings: Settings) -> bool:
    """True when neither TWILIO_ACCOUNT_SID nor TWILIO_AUTH_TOKEN is set (the README)."""
    return not settings.twilio_account_sid and not settings.twilio_auth_token


def gateway_for(settings: Settings, clock: Clock | None = None) -> SmsGateway:
    """`TwilioGateway` when Twilio is configured, else `SimulatorGateway`.

    Half a configuration (only one of the SID and the token, or no sender) raises
    ValueError: silently falling back to the simulator would stop texting patients.
    `clock` stamps simulated messages; Twilio keeps its own time.
    """
    if uses_simulator(settings):
        return SimulatorGateway(settings, clock)
    return TwilioGateway(settings)
