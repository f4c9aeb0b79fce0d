"""One home for the tests' data builders: a module per domain (people, events, exercises, submissions, notebooks...)."""
