"""Grading's pages, one module per audience: submissions (participants), boards, tutoring."""
