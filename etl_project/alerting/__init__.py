"""Alerts for a person: what failed, whether a person is needed, and the post to a Slack-compatible webhook."""
