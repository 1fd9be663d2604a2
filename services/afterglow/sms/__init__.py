"""Text messaging: the gateway protocol, the Twilio adapter and the built-in simulator."""
