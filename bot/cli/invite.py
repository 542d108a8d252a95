"""Placeholder: filled in by the invite work."""
