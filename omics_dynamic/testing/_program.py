"""Program mode (placeholder, filled in below)."""
