"""Per-repository environments: how a repository is set up, built in the sandbox, cached."""
