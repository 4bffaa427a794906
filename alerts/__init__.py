"""Alerts: the outbox written with each new hit, the channels that deliver it, and delivery between them.

Data flow: `outbox.enqueue_alerts` (in the hit's transaction) -> `delivery.deliver` (claim, render,
send, record) -> a channel from `channels.CHANNEL_KINDS` (one module each: console, email, slack,
webhook, apprise). Alerts depend on storage and their own message types only; the worker calls in.
"""
