"""The crew: its roster and configuration, its runs and what they publish."""
