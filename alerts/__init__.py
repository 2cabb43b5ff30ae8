"""Alerts: route findings to the responsible unit and deliver them, verified, by email and bots."""
