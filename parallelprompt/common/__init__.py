"""The leaf every other package may import, and that imports none of ours: the application's
error root, the option-declaration helper of the settings sections, the small HTTP serving
helper, provenance constants (who answered) and the text sanitisers for output."""
