"""The Textual app. The only layer that imports Textual; it presents and dispatches,
while the turn itself runs in core/."""
