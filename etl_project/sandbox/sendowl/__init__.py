"""The SendOwl stand-in: orders (with their buyers) and products, served as docs/contracts/sendowl.md describes."""
