"""The SendOwl stand-in: orders (with their buyers) and products, served as contracts/sendowl.md describes."""
