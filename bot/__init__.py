"""BoneBot: bone-health answers, DEXA scan reminders and care-team updates for people on aromatase inhibitors."""

__version__ = "0.1.0"
