"""Stand-in of SendApp's (modeled) contact API and its documented WhatsApp send endpoint."""
