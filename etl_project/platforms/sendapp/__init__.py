"""SendApp (WhatsApp CRM): client and record models over the modeled contact API."""

from etl_project.platforms.sendapp.client import SendAppClient
from etl_project.platforms.sendapp.models import Contact, Note, Task

__all__ = ["Contact", "Note", "SendAppClient", "Task"]
