"""Virtual devices for the demo and the integration tests (not shipped with the daemon)."""
