"""Promotion: signing keys, signed packages, approvals, trust policies, admission and the registry."""
