"""The reference capstone: one file per requirement, its properties, real Redis, the stub."""
