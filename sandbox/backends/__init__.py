"""The sandbox backends, one module each, chosen by name or by strength."""
