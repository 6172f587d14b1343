"""What the model gets to see of the project: attachments (and, later, search hits)."""
