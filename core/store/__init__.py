"""The encrypted workspace store. The only package that imports SQLAlchemy or sqlcipher3."""
