"""Block Kit builders: pure functions from use-case results to Slack message and view dicts."""
