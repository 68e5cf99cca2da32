"""Faithful local stand-ins of the platform APIs, served over real HTTP on loopback.

Reached by the project only through a base URL; nothing in the production code paths imports this package.
"""
