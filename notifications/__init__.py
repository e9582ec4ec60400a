"""Delivering problem updates to subscribers: in-app and email, each exactly once."""
