"""Discovery: import production data as encrypted snapshots, profile it, schema and drift."""
