"""HighLevel (LeadConnector) Contacts API v2: client, auth and record models."""

from etl_project.platforms.highlevel.auth import BearerTokenAuth, OAuthRefreshAuth, OAuthTokens, TokenStore
from etl_project.platforms.highlevel.client import HighLevelClient
from etl_project.platforms.highlevel.models import Appointment, Contact, Note, Task

__all__ = [
    "Appointment",
    "BearerTokenAuth",
    "Contact",
    "HighLevelClient",
    "Note",
    "OAuthRefreshAuth",
    "OAuthTokens",
    "Task",
    "TokenStore",
]
