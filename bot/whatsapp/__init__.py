"""WhatsApp Cloud API as a second channel on the same front desk (issue 16): docs/whatsapp.md."""
