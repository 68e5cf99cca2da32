"""SendOwl REST API (orders v1_3, products v1): client and record models. Buyers exist only on orders."""

from etl_project.platforms.sendowl.client import SendOwlClient
from etl_project.platforms.sendowl.models import CartItem, Order, Product

__all__ = ["CartItem", "Order", "Product", "SendOwlClient"]
