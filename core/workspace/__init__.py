"""The workspace as a whole: what it is, its health, its backups and its passphrase."""
