"""Per-repository environments: how a repository is set up (detected or configured), built
in the sandbox with registry-only network, cached, and shown read-only to tests and commands."""
