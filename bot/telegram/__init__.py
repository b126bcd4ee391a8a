"""The Telegram front end: python-telegram-bot handlers that translate updates into service calls."""
