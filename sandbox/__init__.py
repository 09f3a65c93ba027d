"""`minesync-bot sandbox`: the real bot behind a local page that plays Slack, no Slack needed."""
