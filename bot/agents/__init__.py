"""The crew's steps: each module does one step of a team run with one role's agent."""
