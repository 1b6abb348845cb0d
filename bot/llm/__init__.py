"""The model side of the crew: the API adapter, prices, and the agent loop."""
