"""Campaigns: collective goals for everyone in a place and time; impact pages; pledges."""
