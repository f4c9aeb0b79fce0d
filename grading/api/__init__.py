"""The versioned REST API (`/api/v1/`): thin views over grading's and hackathon's services and selectors."""
