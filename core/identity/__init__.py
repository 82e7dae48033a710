"""Users and roles: who may do what in a workspace."""
