"""Leaderboards: ranking (the pure core), selectors, the cache, services (board actions), charts, activity."""
