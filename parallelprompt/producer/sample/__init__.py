"""The bundled sample dataset (package data) and the script that writes it."""
