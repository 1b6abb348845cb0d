"""The team run: its state machine, the driver that does one step at a time, and what a run
says on GitHub and in Slack. The steps themselves are in `steps/`."""
