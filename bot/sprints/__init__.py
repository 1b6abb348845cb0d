"""Sprints: a goal split into dependent tasks, each task a run, started as its dependencies land."""
