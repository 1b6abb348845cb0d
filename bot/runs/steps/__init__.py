"""The run's steps: each module does one step (or a pair that share their work) with one role's
agent: plan and research, code and fix, review, test, vote."""
