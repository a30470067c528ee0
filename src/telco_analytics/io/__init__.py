"""Readers and writers: raw xDR files in, tables and database exports out."""
