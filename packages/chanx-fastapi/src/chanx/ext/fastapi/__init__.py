"""chanx adapter for fastapi."""
