"""Replies to follow-up texts, opt-outs and escalations of dissatisfied replies."""
