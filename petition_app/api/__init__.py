"""The public read API (/api/v1): public campaigns and their counts as JSON, described by an OpenAPI document."""
