"""Slack: the crew's personas, the outbox that never drops a message, and Block Kit builders."""
