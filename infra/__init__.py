"""The local stack: embedded Kafka (librdkafka mock cluster) and PostgreSQL (pgserver)."""
