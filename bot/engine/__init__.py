"""The channel-neutral conversation engine: (state, inbound event) -> (new state, messages)."""
