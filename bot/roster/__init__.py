"""The roster: who is on the crew (crew.toml, a repository's .repocrew.toml), validated and
loaded with errors that name file, line and key; the packaged rosters live in `rosters/`."""
