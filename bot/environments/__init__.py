"""A repository's environment: its set-up, run in the sandbox with registry-only network."""
