"""Template tags of the grading pages."""
