"""chanx adapter for channels."""
