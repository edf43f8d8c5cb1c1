"""Dashboard widgets, one per screen area."""
