"""What starts and steers work: GitHub events and Slack requests, routed to handlers that
decide from the payload who asked and what to do, then queue it for the worker."""
