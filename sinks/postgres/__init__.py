"""PostgreSQL writers and schema migration."""
